-- pgTAP: icos.sales_report equals an independent plain-SQL GROUP BY over the
-- raw tables, for random orders and random periods, before any rollup, after
-- rollup_sales(), with cancellations, quantity changes and returns after the
-- rollup (pending deltas), and after folding those too.  Plus shapes and the
-- report's access rules.
BEGIN;
SELECT plan(92);
SELECT setseed(0.4242);
SET LOCAL client_min_messages = warning;

-- Shapes.
SELECT has_function('icos', 'sales_report', ARRAY['timestamp with time zone', 'timestamp with time zone', 'text', 'integer', 'text']);
SELECT has_function('icos', 'rollup_sales', '{}'::text[]);
SELECT has_view('icos', 'sales_lines', 'view icos.sales_lines');
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'icos.sales_summary(icos.order_code, bigint, numeric, numeric, numeric, numeric)'::regprocedure),
		  's', 'sales_summary is parallel safe');
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'icos.top_sellers(icos.upc, bigint, int)'::regprocedure),
		  's', 'top_sellers is parallel safe');
SELECT is((SELECT count(*)::int FROM pg_aggregate WHERE aggfnoid IN ('icos.sales_summary'::regproc, 'icos.top_sellers'::regproc)
		   AND aggcombinefn <> 0 AND aggserialfn <> 0 AND aggdeserialfn <> 0), 2,
		  'both aggregates have combine, serial and deserial functions');

-- Random data: 3 stores, a category tree of 3 levels, 12 products (one
-- without category), 400 orders over 12 days around the spring DST change.
INSERT INTO icos.store (store_id, name, kind) VALUES
	(9701, 'Tap A', 'store'), (9702, 'Tap B', 'store'), (9703, 'Tap Web', 'web');
INSERT INTO icos.category (category_id, parent_id, name) VALUES
	(9701, NULL, 'Home'), (9702, 9701, 'Kitchen'), (9703, 9702, 'Pans'), (9704, 9702, 'Knives'),
	(9705, 9701, 'Garden'), (9706, NULL, 'Toys');
INSERT INTO icos.product (upc, name, category_id, price)
SELECT (d || (10 - (SELECT sum(substr(d, i, 1)::int * CASE WHEN i % 2 = 0 THEN 3 ELSE 1 END)
					FROM generate_series(1, 12) i) % 10) % 10)::icos.upc,
	   'Tap product ' || n, CASE WHEN n = 12 THEN NULL ELSE 9701 + (n % 6) END, (n * 7 % 50) + 0.99
FROM (SELECT n, '5097000000' || lpad(n::text, 2, '0') AS d FROM generate_series(1, 12) n) x;
INSERT INTO icos.employee (employee_id, full_name, store_id, position, role_name) VALUES
	(9701, 'Tap Agent', 9701, 'agent', 'emp_9701_tap'), (9702, 'Tap Manager', 9702, 'manager', 'emp_9702_tap');

CREATE TEMP TABLE tap_orders AS
SELECT n, icos.next_order_code() AS code,
	   (ARRAY[9701, 9702, 9703])[1 + floor(random() * 3)::int] AS store_id,
	   timestamptz '2024-03-25 00:00+00' + random() * interval '12 days' AS placed_at,
	   floor(random() * 4)::int AS r_channel, floor(random() * 3)::int AS r_emp
FROM generate_series(1, 400) n;
INSERT INTO icos.orders (code, store_id, channel, employee_id, status, placed_at, delivery_method, promised_date)
SELECT code, store_id, CASE WHEN store_id = 9703 THEN 'web' ELSE (ARRAY['store', 'pos', 'phone'])[1 + r_channel % 3] END,
	   CASE r_emp WHEN 0 THEN NULL WHEN 1 THEN 9701 ELSE 9702 END, 'completed', placed_at, 'carry', placed_at::date
FROM tap_orders;
CREATE TEMP TABLE tap_lines AS
SELECT o.code, o.store_id, ln AS line, p.upc, (p.price * 100)::bigint AS price, 1 + floor(random() * 4)::int AS qty,
	   random() < 0.1 AS cancelled, floor(random() * 3)::int AS disc
FROM tap_orders o
CROSS JOIN LATERAL generate_series(1, 1 + (o.n % 3)) ln
CROSS JOIN LATERAL (SELECT upc, price FROM icos.product WHERE name LIKE 'Tap product %'
					ORDER BY random() + ln * 0 + o.n * 0 LIMIT 1) p;
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, consumed_qty,
							 unit_price_pence, discount_pence, net_pence)
SELECT store_id, code, line, upc, qty, store_id, CASE WHEN cancelled THEN 'cancelled' ELSE 'fulfilled' END,
	   CASE WHEN cancelled THEN 0 ELSE qty END, price, CASE WHEN cancelled THEN 0 ELSE disc * 100 END,
	   CASE WHEN cancelled THEN 0 ELSE qty * price - disc * 100 END
FROM tap_lines;
-- Promotions recorded on some lines (as price_basket will): the discount of
-- line 1 of every fifth order is split between promotions 1 and 2.
UPDATE icos.orders o SET pricing = jsonb_build_object('lines', jsonb_build_array(
	jsonb_build_object('line', 1, 'promotions',
		CASE WHEN l.discount_pence = 0 THEN '[]'::jsonb
			 ELSE jsonb_build_array(jsonb_build_object('id', 1, 'amount', (l.discount_pence / 2) / 100.0),
									jsonb_build_object('id', 2, 'amount', (l.discount_pence - l.discount_pence / 2) / 100.0)) END)))
FROM tap_orders t, icos.order_line l
WHERE t.n % 5 = 0 AND o.code = t.code AND l.code = t.code AND l.line = 1;

-- The independent answer: plain SQL over the raw tables (closure of the
-- tree by a recursive query written upwards, money from the line columns).
CREATE FUNCTION pg_temp.ref(p_from timestamptz, p_to timestamptz, p_by text, p_store int, p_channel text)
RETURNS TABLE(key text, orders bigint, units bigint, gross numeric, discount numeric, net numeric, returns numeric)
LANGUAGE sql AS $$
	WITH RECURSIVE up(cat, anc) AS (
		SELECT category_id, category_id FROM icos.category
		UNION
		SELECT up.cat, c.parent_id FROM up JOIN icos.category c ON c.category_id = up.anc WHERE c.parent_id IS NOT NULL
	), l AS (
		SELECT o.code, o.store_id, o.channel, o.employee_id, o.placed_at, o.pricing, ol.line, ol.upc, ol.qty,
			   ol.unit_price_pence AS up, ol.discount_pence AS d, ol.net_pence AS n, ol.returned_qty AS r, p.category_id
		FROM icos.orders o
		JOIN icos.order_line ol ON ol.code = o.code AND ol.store_id = o.store_id
		JOIN icos.product p ON p.upc = ol.upc
		WHERE ol.status <> 'cancelled' AND o.placed_at >= p_from AND o.placed_at < p_to
		  AND o.store_id IN (9701, 9702, 9703)
		  AND (p_store IS NULL OR o.store_id = p_store) AND (p_channel IS NULL OR o.channel = p_channel)
	), k AS (
		SELECT coalesce(up.anc::text, 'none') AS key, l.code, l.qty, l.up, l.d, l.n, l.r
		FROM l LEFT JOIN up ON up.cat = l.category_id WHERE p_by = 'category'
		UNION ALL
		SELECT CASE p_by WHEN 'product' THEN l.upc::text WHEN 'store' THEN l.store_id::text
						 WHEN 'channel' THEN l.channel
						 WHEN 'day' THEN to_char(l.placed_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD')
						 WHEN 'hour' THEN to_char(l.placed_at AT TIME ZONE 'Europe/London', 'HH24')
						 WHEN 'employee' THEN coalesce(l.employee_id::text, 'none') END,
			   l.code, l.qty, l.up, l.d, l.n, l.r
		FROM l WHERE p_by NOT IN ('category', 'promotion')
		UNION ALL
		SELECT coalesce(pr ->> 'id', 'none'), l.code, l.qty, l.up,
			   coalesce(((pr ->> 'amount')::numeric * 100)::bigint, l.d), l.n, l.r
		FROM l
		LEFT JOIN LATERAL jsonb_array_elements(
			coalesce((SELECT x -> 'promotions' FROM jsonb_array_elements(l.pricing -> 'lines') x
					  WHERE (x ->> 'line')::int = l.line), '[]')) pr ON true
		WHERE p_by = 'promotion'
	)
	SELECT key, count(DISTINCT code), sum(qty), round(sum(qty * up) / 100.0, 2), round(sum(d) / 100.0, 2),
		   round(sum(n) / 100.0, 2), round(sum(r * up) / 100.0, 2)
	FROM k GROUP BY key
$$;
-- Rows in one answer and not the other (0 when they agree).
CREATE FUNCTION pg_temp.diff(p_from timestamptz, p_to timestamptz, p_by text, p_store int, p_channel text)
RETURNS bigint LANGUAGE sql AS $$
	WITH a AS (SELECT key, orders, units, gross, discount, net, returns
			   FROM icos.sales_report(p_from, p_to, p_by, p_store, p_channel)
			   WHERE p_store IS NOT NULL OR key NOT IN (SELECT store_id::text FROM icos.store WHERE store_id NOT IN (9701, 9702, 9703)) OR p_by <> 'store'),
		 b AS (SELECT * FROM pg_temp.ref(p_from, p_to, p_by, p_store, p_channel))
	SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b) x)
		 + (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM a) y)
$$;
-- Every grouping over random periods (whole days and ragged edges), with a
-- random store (always one of the test's: other tests' data may be present).
CREATE FUNCTION pg_temp.check_all(p_phase text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	g text;
	f timestamptz;
	t timestamptz;
	s int;
	c text;
	i int;
BEGIN
	FOREACH g IN ARRAY ARRAY['category', 'product', 'store', 'channel', 'day', 'hour', 'employee', 'promotion'] LOOP
		FOR i IN 1..2 LOOP
			IF i = 1 THEN	-- whole London days
				f := (date '2024-03-25' + floor(random() * 5)::int)::timestamp AT TIME ZONE 'Europe/London';
				t := f + (1 + floor(random() * 7)::int) * interval '1 day';
			ELSE			-- ragged
				f := timestamptz '2024-03-24 00:00+00' + random() * interval '6 days';
				t := f + random() * interval '8 days';
			END IF;
			s := (ARRAY[9701, 9702, 9703])[1 + floor(random() * 3)::int];
			c := CASE WHEN random() < 0.3 THEN (ARRAY['store', 'pos', 'phone', 'web'])[1 + floor(random() * 4)::int] END;
			RETURN NEXT is(pg_temp.diff(f, t, g, s, c), 0::bigint,
				format('%s: by %s, store %s, channel %s, %s .. %s', p_phase, g, s, coalesce(c, 'any'),
					   f AT TIME ZONE 'UTC', t AT TIME ZONE 'UTC'));
		END LOOP;
	END LOOP;
	-- All stores at once: only the test's stores have sales in these days.
	RETURN NEXT is(pg_temp.diff('2024-03-20', '2024-04-10', 'category', NULL, NULL), 0::bigint,
				   format('%s: by category, every store, three weeks', p_phase));
	-- Whole months inside the period: month rows of the rollup.
	RETURN NEXT is(pg_temp.diff('2024-02-20', '2024-05-10', 'category', NULL, NULL), 0::bigint,
				   format('%s: by category, every store, whole March and April', p_phase));
	RETURN NEXT is(pg_temp.diff('2024-02-29 13:00+00', '2024-05-01 00:00 Europe/London', 'product', 9702, NULL), 0::bigint,
				   format('%s: by product, store 9702, whole March and April', p_phase));
END
$$;

SELECT * FROM pg_temp.check_all('no rollup yet');
SELECT is(icos.rollup_sales() ->> 'rebuilt', 'false', 'rollup_sales folds without a rebuild');
SELECT is((SELECT count(*) FROM icos.sales_delta WHERE store_id IN (9701, 9702, 9703)), 0::bigint, 'no deltas of ours left');
SELECT * FROM pg_temp.check_all('after rollup');

-- After the rollup: cancel 10% of the lines, change quantities of others,
-- return units of a few.
UPDATE icos.order_line SET status = 'cancelled', consumed_qty = 0, discount_pence = 0, net_pence = 0
WHERE store_id IN (9701, 9702, 9703) AND status <> 'cancelled' AND random() < 0.1;
UPDATE icos.order_line SET qty = qty + 1, consumed_qty = qty + 1, net_pence = net_pence + unit_price_pence
WHERE store_id IN (9701, 9702, 9703) AND status <> 'cancelled' AND random() < 0.1;
UPDATE icos.order_line SET returned_qty = 1, status = 'returned', net_pence = net_pence - unit_price_pence
WHERE store_id IN (9701, 9702, 9703) AND status = 'fulfilled' AND random() < 0.05;
SELECT * FROM pg_temp.check_all('changes pending after the rollup');
SELECT is(icos.rollup_sales() ->> 'rebuilt', 'false', 'second fold');
SELECT * FROM pg_temp.check_all('changes folded');

-- Access: a store's manager reports on that store only.
CREATE ROLE emp_9702_tap IN ROLE icos_manager;
SET SESSION AUTHORIZATION emp_9702_tap;
SELECT is((SELECT string_agg(DISTINCT key, ',') FROM icos.sales_report('2024-03-20', '2024-04-10', 'store')),
		  '9702', 'a manager''s report covers only the manager''s store');
SELECT throws_ok($$SELECT * FROM icos.sales_report('2024-03-20', '2024-04-10', 'store', 9701)$$,
				 '42501', 'you may not report on store 9701', 'a manager cannot report on another store');
SELECT throws_ok($$SELECT icos.rollup_sales()$$, '42501', NULL, 'a manager cannot run the rollup');
RESET SESSION AUTHORIZATION;
SELECT ok(has_table_privilege('icos_reporter', 'icos.sales_lines', 'SELECT'), 'reporters read icos.sales_lines');
SELECT ok(NOT has_table_privilege('icos_reporter', 'icos.sales_rollup', 'INSERT')
		  AND NOT has_table_privilege('icos_reporter', 'icos.sales_delta', 'SELECT'), 'reporters change nothing of the rollup');

-- The delta trigger writes rows directly only while icos.sales_delta is a bare
-- log; with an index on it (or a trigger, a default...) it uses an INSERT,
-- so the index has the new delta.
CREATE INDEX tap_delta_code ON icos.sales_delta (code);
SELECT set_config('t.code', (SELECT code::text FROM tap_orders ORDER BY n LIMIT 1), true);
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, unit_price_pence, net_pence)
SELECT o.store_id, o.code, 99, '5097000000012', 7, o.store_id, 'reserved', 100, 700
FROM icos.orders o WHERE o.code = current_setting('t.code')::icos.order_code;
SET LOCAL enable_seqscan = off;
SELECT is((SELECT count(*)::int FROM icos.sales_delta WHERE code = current_setting('t.code')::icos.order_code AND d_units = 7),
		  1, 'with an index on the delta log, the new delta is in the index');
RESET enable_seqscan;
DROP INDEX icos.tap_delta_code;
UPDATE icos.order_line SET qty = 8, net_pence = 800
WHERE code = current_setting('t.code')::icos.order_code AND line = 99;
SELECT is((SELECT sum(d_units)::int FROM icos.sales_delta WHERE code = current_setting('t.code')::icos.order_code AND upc = '5097000000012'),
		  8, 'without it, deltas are written directly and add up');

SELECT * FROM finish();
ROLLBACK;
