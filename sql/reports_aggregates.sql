-- The C aggregates icos.sales_summary and icos.top_sellers: small exact
-- cases, NULL and empty input, bad arguments, and a forced parallel plan
-- (Partial Aggregate under a Gather) giving the same answer as the serial
-- plan.
SET client_min_messages = warning;

CREATE TABLE rep_agg (code icos.order_code, upc icos.upc, qty int, gross numeric, discount numeric,
					  net numeric, returns numeric);
CREATE TABLE rep_codes AS SELECT n, icos.next_order_code() AS code FROM generate_series(1, 3) n;
INSERT INTO rep_agg
SELECT c.code, v.upc::icos.upc, v.qty, v.gross, v.discount, v.net, v.returns
FROM (VALUES (1, '5000000000012', 1, 999.00, 100.00, 899.00, 0.00),
			 (1, '5000000000050', 2, 10.00, 0.00, 10.00, 0.00),
			 (2, '5000000000029', 2, 798.00, 0.00, 798.00, 0.00),
			 (3, '5000000000012', 1, 999.00, 0.00, 0.00, 999.00),
			 (3, '5000000000043', 4, 198.00, 0.00, 198.00, 0.00)) v(n, upc, qty, gross, discount, net, returns)
JOIN rep_codes c ON c.n = v.n;

-- 3 orders, 5 lines, 10 units; average basket = 1905.00 / 3 = 635.00.
SELECT (s).* FROM (SELECT icos.sales_summary(code, qty, gross, discount, net, returns) AS s FROM rep_agg) x;
-- The average basket is rounded half away from zero to the penny:
-- 1000.00 / 3 = 333.33, 2000.00 / 3 = 666.67, 0.01 / 2 = 0.01.
SELECT v, (icos.sales_summary(c.code, 1, v, 0, CASE c.n WHEN 1 THEN v ELSE 0 END, 0)).avg_basket
FROM rep_codes c, (VALUES (1000.00), (2000.00)) t(v) GROUP BY v ORDER BY v;
SELECT (icos.sales_summary(c.code, 1, 0.01, 0, CASE c.n WHEN 1 THEN 0.01 ELSE 0 END, 0)).avg_basket
FROM rep_codes c WHERE c.n <= 2;
-- Empty input: zeros and no average basket.  Rows with a NULL are skipped.
SELECT (icos.sales_summary(code, qty, gross, discount, net, returns)).* FROM rep_agg WHERE false;
SELECT (icos.sales_summary(code, qty, gross, discount, net, returns)).*
FROM (SELECT code, qty, gross, discount, net, returns FROM rep_agg
	  UNION ALL SELECT NULL, 1, 1, 0, 1, 0
	  UNION ALL SELECT code, 1, NULL, 0, 1, 0 FROM rep_codes WHERE n = 1) x;
-- Per group, as a report would use it.
SELECT c.n, (icos.sales_summary(a.code, a.qty, a.gross, a.discount, a.net, a.returns)).*
FROM rep_agg a JOIN rep_codes c ON c.code = a.code GROUP BY c.n ORDER BY c.n;
-- Money is exact: a third of a penny is refused, so is NaN.
SELECT icos.sales_summary(code, 1, 0.001, 0, 0, 0) FROM rep_codes;
SELECT icos.sales_summary(code, 1, 'NaN', 0, 0, 0) FROM rep_codes;

-- top_sellers: by quantity, ties by code; [] without rows; NULL rows skipped.
SELECT icos.top_sellers(upc, qty, 2) FROM rep_agg;
SELECT icos.top_sellers(upc, qty, 10) FROM rep_agg;
SELECT icos.top_sellers(upc, qty, 3) FROM rep_agg WHERE false;
SELECT icos.top_sellers(upc, qty, 1) FROM (SELECT upc, qty FROM rep_agg UNION ALL SELECT NULL, 100
										   UNION ALL SELECT '5000000000029', NULL) x;
SELECT icos.top_sellers(upc, qty, 0) FROM rep_agg;
SELECT icos.top_sellers(upc, qty, NULL) FROM rep_agg;
SELECT icos.top_sellers(upc, qty, n) FROM rep_agg a JOIN rep_codes c ON c.code = a.code;

-- Parallel plan: a table big enough for two workers, cheap parallelism.
CREATE TABLE rep_big AS
SELECT c.code, g
FROM generate_series(1, 200000) g
JOIN (SELECT n, icos.next_order_code() AS code FROM generate_series(0, 999) n) c ON c.n = g % 1000;
ALTER TABLE rep_big ADD COLUMN upc icos.upc;
UPDATE rep_big SET upc = (ARRAY['5000000000012', '5000000000029', '5000000000036', '5000000000043',
								'5000000000050'])[g % 5 + 1]::icos.upc;
ALTER TABLE rep_big SET (parallel_workers = 2);
ANALYZE rep_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT icos.sales_summary(code, g % 3, (g % 1000) / 100.0, 0, (g % 1000) / 100.0, 0),
	   icos.top_sellers(upc, g % 7, 3)
FROM rep_big;
CREATE TABLE rep_par AS
SELECT icos.sales_summary(code, g % 3, (g % 1000) / 100.0, 0, (g % 1000) / 100.0, 0) AS s,
	   icos.top_sellers(upc, g % 7, 3) AS t
FROM rep_big;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF)
SELECT icos.sales_summary(code, g % 3, (g % 1000) / 100.0, 0, (g % 1000) / 100.0, 0) FROM rep_big;
CREATE TABLE rep_ser AS
SELECT icos.sales_summary(code, g % 3, (g % 1000) / 100.0, 0, (g % 1000) / 100.0, 0) AS s,
	   icos.top_sellers(upc, g % 7, 3) AS t
FROM rep_big;
-- Same answer both ways, and the answer is right (checked with plain SQL).
SELECT (p.s) = (s.s) AS same_summary, p.t = s.t AS same_top, (p.s).*, p.t FROM rep_par p, rep_ser s;
SELECT count(DISTINCT code) AS orders, count(*) AS lines, sum(g % 3) AS units, sum((g % 1000) / 100.0) AS net
FROM rep_big;
SELECT upc, sum(g % 7) AS qty FROM rep_big GROUP BY upc ORDER BY qty DESC, upc LIMIT 3;
RESET ALL;

DROP TABLE rep_agg, rep_codes, rep_big, rep_par, rep_ser;
