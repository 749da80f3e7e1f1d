-- Reports: icos.sales_report with every grouping over a small hand-checked
-- dataset, before and after the rollup, with a cancellation after the
-- rollup, partial days, filters, errors; icos.sales_lines.
-- Orders are written directly into the tables (as superuser) so that their
-- placed_at times are fixed.  Report days are in Europe/London, which is
-- UTC in early March 2024.
SET client_min_messages = warning;
\set SHOW_CONTEXT never

INSERT INTO icos.store (store_id, name, kind) VALUES
	(9601, 'Reports High Street', 'store'), (9602, 'Reports Website', 'web');
INSERT INTO icos.category (category_id, parent_id, name) VALUES
	(9601, NULL, 'Electronics'), (9602, 9601, 'Televisions'), (9603, 9602, 'OLED'),
	(9604, 9602, 'LED'), (9605, 9601, 'Audio'), (9606, NULL, 'Furniture');
INSERT INTO icos.product (upc, name, category_id, price) VALUES
	('5000000000012', 'OLED TV 55', 9603, 999.00),
	('5000000000029', 'LED TV 43', 9604, 399.00),
	('5000000000036', 'Soundbar', 9605, 199.00),
	('5000000000043', 'Oak chair', 9606, 49.50),
	('5000000000050', 'HDMI cable', NULL, 5.00);
INSERT INTO icos.employee (employee_id, full_name, store_id, position, role_name) VALUES
	(9601, 'Ann Till', 9601, 'agent', 'emp_9601_reports'),
	(9602, 'Bob Floor', 9601, 'agent', 'emp_9602_reports');

-- mk(order no, store, channel, employee, placed_at, lines): lines are
-- [upc, qty, status, returned_qty, discount pence]; the money columns are
-- filled as the order API would (net = price of the units kept - discount).
CREATE TABLE rep_codes (n int PRIMARY KEY, code icos.order_code NOT NULL);
CREATE FUNCTION pg_temp.mk(p_n int, p_store int, p_channel text, p_emp int, p_at timestamptz, p_lines jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	c icos.order_code := icos.next_order_code();
	l jsonb;
	i int := 0;
	price bigint;
BEGIN
	INSERT INTO rep_codes VALUES (p_n, c);
	INSERT INTO icos.orders (code, store_id, channel, employee_id, status, placed_at, delivery_method, promised_date)
	VALUES (c, p_store, p_channel, p_emp, 'completed', p_at, 'carry', p_at::date);
	FOR l IN SELECT * FROM jsonb_array_elements(p_lines) LOOP
		i := i + 1;
		SELECT (p.price * 100)::bigint INTO price FROM icos.product p WHERE p.upc = (l ->> 0)::icos.upc;
		INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, consumed_qty, returned_qty,
									 unit_price_pence, discount_pence, net_pence)
		VALUES (p_store, c, i, (l ->> 0)::icos.upc, (l ->> 1)::int, p_store, l ->> 2,
				CASE WHEN l ->> 2 = 'cancelled' THEN 0 ELSE (l ->> 1)::int END, (l ->> 3)::int,
				price, (l ->> 4)::bigint,
				CASE WHEN l ->> 2 = 'cancelled' THEN 0
					 ELSE ((l ->> 1)::int - (l ->> 3)::int) * price - (l ->> 4)::bigint END);
	END LOOP;
END
$$;
SELECT pg_temp.mk(1, 9601, 'store', 9601, '2024-03-04 09:15+00',
	'[["5000000000012", 1, "fulfilled", 0, 10000], ["5000000000050", 2, "fulfilled", 0, 0]]');
SELECT pg_temp.mk(2, 9601, 'pos', 9601, '2024-03-04 17:40+00',
	'[["5000000000029", 2, "fulfilled", 0, 0], ["5000000000036", 1, "cancelled", 0, 0]]');
SELECT pg_temp.mk(3, 9602, 'web', NULL, '2024-03-05 10:05+00',
	'[["5000000000012", 1, "returned", 1, 0], ["5000000000043", 4, "fulfilled", 0, 0]]');
SELECT pg_temp.mk(4, 9602, 'phone', NULL, '2024-03-05 23:30+00',
	'[["5000000000029", 1, "fulfilled", 0, 3990], ["5000000000036", 1, "fulfilled", 0, 0]]');
SELECT pg_temp.mk(5, 9601, 'store', 9602, '2024-03-06 12:00+00',
	'[["5000000000012", 1, "cancelled", 0, 0]]');
UPDATE icos.orders o SET status = 'cancelled' FROM rep_codes r WHERE r.n = 5 AND o.code = r.code;

-- Every change so far waits as deltas; nothing is folded yet.
SELECT count(*) > 0 AS has_deltas, (SELECT count(*) FROM icos.sales_rollup) AS rollup_rows FROM icos.sales_delta;

-- Category: each category with its sub-categories; 'none' = no category.
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00');
-- Same after folding the deltas into the rollup.
SELECT (icos.rollup_sales() ->> 'deltas')::int > 0 AS folded;
SELECT count(*) AS deltas_left FROM icos.sales_delta;
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00');
-- A cancellation after the rollup: LED line of order 2 (pending delta).
UPDATE icos.order_line l SET status = 'cancelled', consumed_qty = 0, net_pence = 0
FROM rep_codes r WHERE r.n = 2 AND l.code = r.code AND l.line = 1;
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00') WHERE label LIKE 'Electronics > Televisions%';
SELECT icos.rollup_sales() ->> 'deltas' AS folded_deltas;
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00') WHERE label LIKE 'Electronics > Televisions%';
-- and back, so that the groupings below see the original data
UPDATE icos.order_line l SET status = 'fulfilled', consumed_qty = 2, net_pence = 79800
FROM rep_codes r WHERE r.n = 2 AND l.code = r.code AND l.line = 1;

-- Every other grouping.
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'product');
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'store');
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'channel');
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'day');
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'hour');
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'employee');
-- No promotions yet: every line is under 'none' (discount as on the line).
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'promotion');
-- Per-line promotion data, as price_basket will record it: order 4's LED
-- line was discounted by promotion 7.
UPDATE icos.orders o SET pricing = '{"lines": [{"line": 1, "promotions": [{"id": 7, "amount": "39.90"}]},
										  {"line": 2, "promotions": []}]}'
FROM rep_codes r WHERE r.n = 4 AND o.code = r.code;
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'promotion');

-- Filters.
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'category', 9602);
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'product', NULL, 'pos');
-- Partial days: 10:00 on the 4th to 10:30 on the 5th (raw edges + no whole day).
SELECT * FROM icos.sales_report('2024-03-04 10:00+00', '2024-03-05 10:30+00', 'day');
-- Whole day 5th plus an edge of the 4th evening.
SELECT * FROM icos.sales_report('2024-03-04 12:00+00', '2024-03-06 00:00+00', 'channel');
-- Empty period, and an empty day.
SELECT count(*) FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-04 00:00+00');
SELECT count(*) FROM icos.sales_report('2024-03-10 00:00+00', '2024-03-11 00:00+00', 'store');

-- Errors: bad grouping, channel, store, period.
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'week');
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'store', NULL, 'fax');
SELECT * FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00', 'store', 999999);
SELECT * FROM icos.sales_report('2024-03-07 00:00+00', '2024-03-04 00:00+00');
SELECT * FROM icos.sales_report(NULL, '2024-03-04 00:00+00');

-- A product moving category invalidates the category rows of the rollup:
-- the report stays exact (raw lines) and the next fold rebuilds.
UPDATE icos.product SET category_id = 9606 WHERE upc = '5000000000050';
SELECT category_current FROM icos.sales_rollup_state;
SELECT key, label, orders, units, gross FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00') WHERE label LIKE 'Furniture%' OR key = 'none';
SELECT icos.rollup_sales() ->> 'rebuilt' AS rebuilt;
SELECT category_current FROM icos.sales_rollup_state;
SELECT key, label, orders, units, gross FROM icos.sales_report('2024-03-04 00:00+00', '2024-03-07 00:00+00') WHERE label LIKE 'Furniture%' OR key = 'none';

-- The BI view: one row per line, cancelled ones flagged.
SELECT r.n, s.line, s.day, s.hour, s.store_name, s.channel, s.employee_name, s.upc, s.category_path,
	   s.promotion_ids, s.qty, s.gross, s.discount, s.net, s.status, s.returned_qty, s.returns, s.counted
FROM icos.sales_lines s JOIN rep_codes r ON r.code = s.code
ORDER BY r.n, s.line;
-- The view and sales_report agree (category 'Electronics').
SELECT sum(qty) AS units, sum(gross) AS gross, sum(net) AS net
FROM icos.sales_lines WHERE counted AND category_path LIKE 'Electronics%'
  AND placed_at >= '2024-03-04 00:00+00' AND placed_at < '2024-03-07 00:00+00';

DELETE FROM icos.order_line l USING rep_codes r WHERE l.code = r.code;
DELETE FROM icos.orders o USING rep_codes r WHERE o.code = r.code;
DROP TABLE rep_codes;
DELETE FROM icos.employee WHERE employee_id IN (9601, 9602);
DELETE FROM icos.product WHERE upc IN ('5000000000012', '5000000000029', '5000000000036', '5000000000043', '5000000000050');
DELETE FROM icos.category WHERE category_id BETWEEN 9601 AND 9606;
DELETE FROM icos.store WHERE store_id IN (9601, 9602);
-- Lines deleted behind the API's back: rebuild (leaves the rollup as other tests expect).
SELECT icos.rebuild_sales_rollup() >= 0 AS rebuilt;
SELECT category_current, built_time_zone = time_zone AS rollup_valid FROM icos.sales_rollup_state;
