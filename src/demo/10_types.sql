-- Product codes and order codes
\pset footer off
\echo 'Any GS1 spelling of a product code is the same value; output is canonical:'
SELECT code AS typed, code::icos.upc AS stored, icos.upc_class(code::icos.upc) AS class
FROM (VALUES ('0 36000 29145 2'), ('0036000291452'), ('00036000291452'),
			 ('9780306406157'), ('96385074'), ('20123451')) v(code);
\echo 'A misscanned code is refused with the check digit it should have had:'
\set ON_ERROR_STOP 0
SELECT '036000291453'::icos.upc;
\set ON_ERROR_STOP 1
\echo 'Order codes are unique across every node, need no central lock, and catch typos:'
SELECT icos.next_order_code() AS new_order_code FROM generate_series(1, 3);
