-- icos.record_feedback (one rating per order, a second replaces it) and
-- icos.feedback_report (ratings by store and week) as the roles.
BEGIN;
SELECT plan(19);
\ir orders_fixture.psql

SELECT icos.create_employee(9521, 'Lee Leeds', 9101, 'agent', pg_temp.verifier('1'));
SELECT icos.create_employee(9522, 'Yas York', 9102, 'agent', pg_temp.verifier('2'));
SELECT icos.create_employee(9524, 'Lou Leeds Manager', 9101, 'manager', pg_temp.verifier('4'));
SELECT icos.create_employee(9525, 'Rae Reporter', 9101, 'reporter', pg_temp.verifier('5'));

CREATE FUNCTION pg_temp.sale(p_store int, p_upc text, p_price numeric) RETURNS text LANGUAGE sql AS $$
	SELECT icos.place_order(jsonb_build_object('store', p_store, 'channel', 'pos',
		'customer', jsonb_build_object('name', 'Fay Feedback', 'email', 'fay' || p_store || '@example.com'),
		'lines', jsonb_build_array(jsonb_build_object('upc', p_upc, 'qty', 1)), 'delivery', '{"method": "carry"}'::jsonb,
		'payments', jsonb_build_array(jsonb_build_object('method', 'cash', 'amount', p_price))))::text
$$;
SET SESSION AUTHORIZATION emp_9521;
SELECT set_config('t.l1', pg_temp.sale(9101, '4006381333931', 24.50), false);
SELECT set_config('t.l2', pg_temp.sale(9101, '4006381333931', 24.50), false);
SELECT set_config('t.l3', pg_temp.sale(9101, '4006381333931', 24.50), false);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9522;
SELECT set_config('t.y1', pg_temp.sale(9102, '036000291452', 199.99), false);
RESET SESSION AUTHORIZATION;
CREATE FUNCTION pg_temp.code(p text) RETURNS icos.order_code LANGUAGE sql AS $$ SELECT current_setting('t.' || p)::icos.order_code $$;

SET SESSION AUTHORIZATION emp_9521;
SELECT is(icos.record_feedback(pg_temp.code('l1'), 4, 'Quick and friendly') - 'at',
	jsonb_build_object('code', current_setting('t.l1'), 'store', 9101, 'rating', 4, 'comment', 'Quick and friendly'),
	'an agent records a rating with a comment');
SELECT is(icos.record_feedback(pg_temp.code('l1'), 2) ->> 'rating', '2', 'a second rating of the order replaces the first');
SELECT throws_ok($$SELECT icos.record_feedback(pg_temp.code('l2'), 0)$$, '22023', 'a rating is 1 to 5, not 0', 'a rating of 0 is refused');
SELECT throws_ok($$SELECT icos.record_feedback(pg_temp.code('l2'), 6)$$, '22023', NULL, 'a rating of 6 is refused');
SELECT throws_ok($$SELECT icos.record_feedback(pg_temp.code('l2'), NULL)$$, '22023', NULL, 'no rating is refused');
SELECT throws_ok($$SELECT icos.record_feedback(icos.next_order_code(), 3)$$, 'IC004', NULL, 'an unknown order is IC004');
SELECT throws_ok($$SELECT icos.record_feedback(pg_temp.code('l2'), 3, repeat('x', 2001))$$, '22001', NULL,
	'a comment longer than a note (2000 characters) is refused (22001)');
SELECT throws_ok($$SELECT icos.record_feedback(pg_temp.code('l2'), 3, 'paid with 4111-1111-1111-1111')$$, 'IC003', NULL,
	'a comment holding a card number is refused (IC003)');
SELECT lives_ok($$SELECT icos.record_feedback(pg_temp.code('l2'), 5)$$, 'a rating without a comment');
SELECT lives_ok($$SELECT icos.record_feedback(pg_temp.code('y1'), 1, 'Table arrived scratched')$$,
	'an agent records feedback on another store''s order by its code (as with notes)');
SELECT throws_ok($$SELECT * FROM icos.feedback_report(now() - interval '1 day', now() + interval '1 day')$$, '42501', NULL,
	'an agent does not run the feedback report');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT array_agg(code::text || ':' || rating || ':' || coalesce(comment, '-') ORDER BY code::text)
		   FROM icos.order_feedback),
	(SELECT array_agg(x ORDER BY x) FROM unnest(ARRAY[current_setting('t.l1') || ':2:-', current_setting('t.l2') || ':5:-',
													  current_setting('t.y1') || ':1:Table arrived scratched']) x),
	'one row per order; refused calls stored nothing');
SELECT throws_ok($$INSERT INTO icos.order_feedback (store_id, code, rating) VALUES (9101, icos.next_order_code(), 3)$$,
	'23503', NULL, 'feedback needs an existing order');

-- Ratings spread over two weeks (the report week is that of the rating).
UPDATE icos.order_feedback SET at = '2026-03-04 12:00+00' WHERE code = pg_temp.code('l1');   -- Wednesday
UPDATE icos.order_feedback SET at = '2026-03-08 22:30+00' WHERE code = pg_temp.code('l2');   -- Sunday
UPDATE icos.order_feedback SET at = '2026-03-10 09:00+00' WHERE code = pg_temp.code('y1');   -- next Tuesday
INSERT INTO icos.order_feedback (store_id, code, rating, at) VALUES (9101, pg_temp.code('l3'), 4, '2026-03-09 00:30+00');

SET SESSION AUTHORIZATION emp_9525;
SELECT results_eq($$SELECT store_id, week, ratings, average, one, two, three, four, five
	FROM icos.feedback_report('2026-03-01', '2026-04-01')$$,
	$$VALUES (9101, '2026-03-02'::date, 2::bigint, 3.50, 0::bigint, 1::bigint, 0::bigint, 0::bigint, 1::bigint),
			 (9101, '2026-03-09'::date, 1::bigint, 4.00, 0::bigint, 0::bigint, 0::bigint, 1::bigint, 0::bigint),
			 (9102, '2026-03-09'::date, 1::bigint, 1.00, 1::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint)$$,
	'a reporter sees ratings by store and week (Monday, London time), averages and counts of each rating');
SELECT results_eq($$SELECT store_id, ratings FROM icos.feedback_report('2026-03-01', '2026-04-01', 9102)$$,
	$$VALUES (9102, 1::bigint)$$, 'one store on request');
SELECT is_empty($$SELECT * FROM icos.feedback_report('2026-04-01', '2026-05-01')$$, 'nothing outside the period');
SELECT throws_ok($$SELECT icos.record_feedback(pg_temp.code('l3'), 3)$$, '42501', NULL, 'a reporter records nothing');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9524;
SELECT results_eq($$SELECT store_id, store_name, week, ratings FROM icos.feedback_report('2026-03-01', '2026-04-01')$$,
	$$VALUES (9101, 'Leeds Briggate', '2026-03-02'::date, 2::bigint), (9101, 'Leeds Briggate', '2026-03-09'::date, 1::bigint)$$,
	'a Leeds manager sees Leeds only (row-level security)');
SELECT is_empty($$SELECT * FROM icos.feedback_report('2026-03-01', '2026-04-01', 9102)$$,
	'and nothing of York even when asking for it');
RESET SESSION AUTHORIZATION;
SELECT * FROM finish();
ROLLBACK;
