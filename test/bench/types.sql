-- Benchmark: the two C types of icos 0.1.0.
--   1. parse and print 1M UPC-A strings: icos.upc versus contrib isn's upc.
--   2. 1M icos.next_order_code() versus nextval() alone and gen_random_uuid().
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS isn;

-- 1M distinct valid UPC-A strings (11 digits + GS1 check digit), the same
-- strings for both types.
DROP TABLE IF EXISTS bench.upc_strings;
CREATE TABLE bench.upc_strings AS
SELECT d || ((10 - (
		 3 * (substr(d,1,1)::int + substr(d,3,1)::int + substr(d,5,1)::int +
			  substr(d,7,1)::int + substr(d,9,1)::int + substr(d,11,1)::int) +
		 substr(d,2,1)::int + substr(d,4,1)::int + substr(d,6,1)::int +
		 substr(d,8,1)::int + substr(d,10,1)::int) % 10) % 10)::text AS s
FROM (SELECT lpad((5000000000 + g * 7919)::text, 11, '0') AS d
	  FROM generate_series(1, 1000000) g) x;
ANALYZE bench.upc_strings;

DROP SEQUENCE IF EXISTS bench.plain_seq;
CREATE SEQUENCE bench.plain_seq;

\echo 'upc: parse + print 1M UPC-A strings (5 interleaved rounds)'
CREATE TEMP TABLE upc_result AS
SELECT * FROM bench.compare('{
  "icos.upc": "SELECT count(s::icos.upc::text) FROM bench.upc_strings",
  "isn.upc":  "SELECT count(s::upc::text) FROM bench.upc_strings"
}');

\echo 'order codes: 1M generated (5 interleaved rounds)'
CREATE TEMP TABLE oc_result AS
SELECT * FROM bench.compare('{
  "nextval()":              "SELECT count(nextval(''bench.plain_seq'')) FROM generate_series(1, 1000000)",
  "icos.next_order_code()": "SELECT count(icos.next_order_code()) FROM generate_series(1, 1000000)",
  "gen_random_uuid()":      "SELECT count(gen_random_uuid()) FROM generate_series(1, 1000000)"
}');

\pset footer off
\echo
\echo '| benchmark | case | median ms | min | max | ratio | target |'
\echo '|---|---|---:|---:|---:|---:|---|'
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' | '
SELECT '| upc parse+print 1M', name, median_ms, min_ms, max_ms,
	   round(median_ms / (SELECT median_ms FROM upc_result WHERE name = 'isn.upc'), 2) || 'x isn',
	   CASE WHEN name = 'icos.upc' THEN
			CASE WHEN median_ms <= (SELECT median_ms FROM upc_result WHERE name = 'isn.upc')
				 THEN 'no slower than isn: met |' ELSE 'no slower than isn: MISSED |' END
			ELSE 'reference |' END
FROM upc_result ORDER BY name;
SELECT '| order codes 1M', name, median_ms, min_ms, max_ms,
	   round(median_ms / (SELECT median_ms FROM oc_result WHERE name = 'nextval()'), 2) || 'x nextval',
	   CASE name
		 WHEN 'icos.next_order_code()' THEN
			CASE WHEN median_ms <= 1.5 * (SELECT median_ms FROM oc_result WHERE name = 'nextval()')
				  AND median_ms < (SELECT median_ms FROM oc_result WHERE name = 'gen_random_uuid()')
				 THEN '<= 1.5x nextval and < uuid: met |' ELSE '<= 1.5x nextval and < uuid: MISSED |' END
		 ELSE 'reference |' END
FROM oc_result ORDER BY name;
