-- icos.also_bought: products most often in the same orders, kept like the
-- sales rollup: pending orders (icos.basket_delta) plus folded pairs
-- (icos.rollup_baskets), exact before and after a fold, and no order line
-- read once everything is folded.
BEGIN;
SELECT plan(24);
\ir orders_fixture.psql
SELECT icos.receive_stock(9101, '036000291452', 20, 'test');
SELECT icos.receive_stock(9101, '5012345678900', 20, 'test');
SELECT icos.create_employee(9531, 'Lee Leeds', 9101, 'agent', pg_temp.verifier('1'));
SELECT icos.create_employee(9535, 'Rae Reporter', 9101, 'reporter', pg_temp.verifier('5'));

CREATE FUNCTION pg_temp.sale(p_upcs text[]) RETURNS text LANGUAGE sql AS $$
	SELECT icos.place_order(jsonb_build_object('store', 9101, 'channel', 'store',
		'customer', '{"name": "Bea Basket", "email": "bea@example.com"}'::jsonb,
		'lines', (SELECT jsonb_agg(jsonb_build_object('upc', u, 'qty', 1)) FROM unnest(p_upcs) u),
		'delivery', '{"method": "collect"}'::jsonb))::text
$$;
-- table = 036000291452, lamp = 4006381333931, bookcase = 5012345678900
CREATE FUNCTION pg_temp.with_table() RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(upc::text || '=' || together, ' ' ORDER BY together DESC, upc) FROM icos.also_bought('036000291452')
$$;

SET SESSION AUTHORIZATION emp_9531;
SELECT set_config('t.o1', pg_temp.sale(ARRAY['036000291452', '4006381333931']), false);
SELECT set_config('t.o2', pg_temp.sale(ARRAY['036000291452', '4006381333931', '5012345678900']), false);
SELECT set_config('t.o3', pg_temp.sale(ARRAY['4006381333931', '5012345678900']), false);
SELECT set_config('t.o4', pg_temp.sale(ARRAY['036000291452', '4006381333931', '4006381333931']), false);
SELECT is(pg_temp.with_table(), '4006381333931=3 5012345678900=1',
	'before any fold: the lamp was in 3 orders with the table (twice in one order counts once), the bookcase in 1');
SELECT is((SELECT name FROM icos.also_bought('036000291452', 1)), 'Desk lamp', 'k = 1 gives the first, with its name');
SELECT throws_ok($$SELECT * FROM icos.also_bought('036000291452', 0)$$, '22023', NULL, 'k = 0 is refused');
SELECT throws_ok($$SELECT * FROM icos.also_bought('036000291452', 101)$$, '22023', NULL, 'k = 101 is refused');
SELECT throws_ok($$SELECT * FROM icos.also_bought('5901234123457')$$, 'IC004', NULL, 'an unknown product is IC004');
SELECT throws_ok($$SELECT icos.rollup_baskets()$$, '42501', NULL, 'an agent does not fold');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(DISTINCT code)::int FROM icos.basket_delta), 4, 'placing the orders made them pending');

SELECT is(icos.rollup_baskets(), '{"orders": 4, "pairs": 6}'::jsonb, 'the fold takes the 4 orders, 3 pairs both ways');
SELECT is((SELECT count(*)::int FROM icos.basket_delta), 0, 'and empties the pending list');
SELECT is(pg_temp.with_table(), '4006381333931=3 5012345678900=1', 'the folded answer is the same');
SELECT is((SELECT string_agg(upc::text || '=' || together, ' ' ORDER BY upc) FROM icos.also_bought('5012345678900')),
	'036000291452=1 4006381333931=2', 'and from the bookcase''s side');

-- Once folded, an answer reads the pairs, not the order lines.
SELECT set_config('t.scans', (SELECT (seq_scan + coalesce(idx_scan, 0))::text FROM pg_stat_xact_user_tables
							  WHERE relid = 'icos.order_line'::regclass), false);
SELECT is(pg_temp.with_table(), '4006381333931=3 5012345678900=1', 'asked again');
SELECT is((SELECT (seq_scan + coalesce(idx_scan, 0))::text FROM pg_stat_xact_user_tables WHERE relid = 'icos.order_line'::regclass),
	current_setting('t.scans'), 'without reading icos.order_line at all');

-- Changes are pending until the next fold, and counted at once.
SET SESSION AUTHORIZATION emp_9531;
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.o2')::icos.order_code, '{"cancel_lines": [2]}')$$,
	'the lamp of the second order is cancelled');
SELECT lives_ok($$SELECT icos.cancel_order(current_setting('t.o4')::icos.order_code, 'changed her mind')$$,
	'the fourth order is cancelled');
SELECT is(pg_temp.with_table(), '4006381333931=1 5012345678900=1', 'the answer counts the pending changes at once');
RESET SESSION AUTHORIZATION;
SELECT is(icos.rollup_baskets() ->> 'orders', '2', 'the next fold takes the two changed orders');
SET SESSION AUTHORIZATION emp_9535;
SELECT is(pg_temp.with_table(), '4006381333931=1 5012345678900=1', 'folded, the same (asked by a reporter)');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM icos.basket_pair p
		   WHERE p.together <> (SELECT count(*) FROM icos.orders o
								WHERE EXISTS (SELECT 1 FROM icos.order_line l WHERE l.code = o.code AND l.upc = p.upc AND l.status <> 'cancelled')
								  AND EXISTS (SELECT 1 FROM icos.order_line l WHERE l.code = o.code AND l.upc = p.other AND l.status <> 'cancelled'))),
	0, 'every folded pair equals a count from the order lines');

-- The trigger (C, src/also_bought.c): one pending row per order a line
-- change touches; written directly while icos.basket_delta is bare, through
-- an INSERT once it is not (here an index and a default), the same rows.
SELECT icos.rollup_baskets();
SET SESSION AUTHORIZATION emp_9531;
SELECT set_config('t.o5', pg_temp.sale(ARRAY['036000291452', '4006381333931', '5012345678900']), false);
RESET SESSION AUTHORIZATION;
SELECT is((SELECT array_agg(code::text) FROM icos.basket_delta), ARRAY_FILL(current_setting('t.o5'), ARRAY[3]),
	'a new order of three lines: three rows, all of that order (one per line inserted)');
UPDATE icos.order_line SET status = 'cancelled' WHERE code = current_setting('t.o5')::icos.order_code AND line = 1;
SELECT is((SELECT count(*)::int FROM icos.basket_delta), 4, 'a line cancelled: its order once more');
DELETE FROM icos.basket_delta;
CREATE INDEX basket_delta_test_idx ON icos.basket_delta (code);
ALTER TABLE icos.basket_delta ADD COLUMN noted timestamptz DEFAULT now();
UPDATE icos.order_line SET status = 'reserved' WHERE code = current_setting('t.o5')::icos.order_code AND line = 1;
SELECT is((SELECT array_agg(code::text || '/' || store_id || '/' || (noted IS NOT NULL)) FROM icos.basket_delta),
	ARRAY[current_setting('t.o5') || '/9101/true'], 'not bare: the INSERT writes the row, with what the table adds');
SELECT is(pg_temp.with_table(), '4006381333931=2 5012345678900=2', 'the pending new order counts at once');
SELECT is(icos.rollup_baskets() ->> 'orders', '1', 'and folds');
SELECT * FROM finish();
ROLLBACK;
