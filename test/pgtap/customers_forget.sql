-- icos.forget_customer on one node: managers and admins only; afterwards no
-- text or jsonb column of any icos table holds her name, e-mail, phone or
-- address (old values included), her orders keep their amounts and the
-- sales report is unchanged; the erasure is logged without her details.
BEGIN;
SELECT plan(28);
\ir orders_fixture.psql

SELECT icos.create_employee(9541, 'Lee Leeds', 9101, 'agent', pg_temp.verifier('1'));
SELECT icos.create_employee(9542, 'Yas York', 9102, 'agent', pg_temp.verifier('2'));
SELECT icos.create_employee(9544, 'Mo York Manager', 9102, 'manager', pg_temp.verifier('4'));
SELECT icos.create_employee(9545, 'Rae Reporter', 9101, 'reporter', pg_temp.verifier('5'));
SELECT icos.create_employee(9546, 'Lou Leeds Manager', 9101, 'manager', pg_temp.verifier('6'));

-- Her history: registered in York, details changed, consents, a delivered
-- order with notes and feedback, a cancelled order at Leeds.
SET SESSION AUTHORIZATION emp_9542;
SELECT set_config('t.c', icos.upsert_customer('{"name": "Yvonne Quill", "email": "yvonne.quill@example.com",
	"phone": "07700 900123", "address": {"line1": "3 Coney Street", "town": "York", "postcode": "YO1 9QL"}}')::text, false);
SELECT icos.update_customer(current_setting('t.c')::bigint, '{"phone": "07700900456", "address": {"line1": "9 Stonegate", "town": "York", "postcode": "YO1 8AB"}}');
SELECT icos.set_consent(current_setting('t.c')::bigint, 'email', true);
SELECT set_config('t.o1', icos.place_order(format('{"store": 9102, "channel": "store", "customer": {"id": %s},
	"lines": [{"upc": "036000291452", "qty": 1}],
	"delivery": {"method": "home", "address": {"line1": "9 Stonegate", "line2": "Flat Quill", "town": "York", "postcode": "YO1 8AB"}},
	"payments": [{"method": "visa", "amount": 199.99, "reference": "AUTH-5566"}]}', current_setting('t.c'))::jsonb)::text, false);
SELECT icos.edit_order(current_setting('t.o1')::icos.order_code,
	'{"address": {"line1": "3 Coney Street", "town": "York", "postcode": "YO1 9QL"}}');
SELECT icos.add_note(current_setting('t.o1')::icos.order_code, 'dispatch', 'Ring Yvonne on 07700900456 before delivery');
SELECT icos.advance_order(current_setting('t.o1')::icos.order_code, 'dispatched', 'Left with Yvonne Quill at 3 Coney Street');
SELECT icos.record_feedback(current_setting('t.o1')::icos.order_code, 5, 'Yvonne Quill says thank you');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9541;
SELECT set_config('t.o2', icos.place_order(format('{"store": 9101, "channel": "store", "customer": {"id": %s},
	"lines": [{"upc": "4006381333931", "qty": 2}], "delivery": {"method": "collect"}}', current_setting('t.c'))::jsonb)::text, false);
SELECT icos.cancel_order(current_setting('t.o2')::icos.order_code, 'Yvonne Quill phoned to cancel');
RESET SESSION AUTHORIZATION;
CREATE FUNCTION pg_temp.c() RETURNS bigint LANGUAGE sql AS $$ SELECT current_setting('t.c')::bigint $$;

-- Every value of every column of every icos table, searched for her details.
CREATE FUNCTION pg_temp.traces() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	r record;
	n bigint;
	needles text[] := ARRAY['yvonne', 'quill', '07700900123', '07700900456', '7700 900', '3 coney street', 'stonegate', 'yo1 9ql', 'yo1 8ab', 'yo19ql', 'yo18ab'];
BEGIN
	FOR r IN SELECT c.oid::regclass AS t, a.attname
			 FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
			 WHERE c.relnamespace = 'icos'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
	LOOP
		EXECUTE format('SELECT count(*) FROM %s t WHERE EXISTS (SELECT 1 FROM unnest($1) x WHERE strpos(lower(t.%I::text), x) > 0)',
					   r.t, r.attname) USING needles INTO n;
		IF n > 0 THEN
			RETURN NEXT format('%s.%s: %s row(s)', r.t, r.attname, n);
		END IF;
	END LOOP;
END
$$;
SELECT isnt_empty($$SELECT * FROM pg_temp.traces()$$, 'before: her details are in many tables (the search finds them)');
SELECT icos.rollup_sales();
SELECT set_config('t.report', (SELECT string_agg(r::text, ';' ORDER BY r.key) FROM icos.sales_report(now() - interval '1 day', now() + interval '1 day', 'store') r), false);
SELECT set_config('t.money', (SELECT string_agg(concat_ws(':', code, total_pence, gross_pence, discount_pence), ';' ORDER BY code::text) FROM icos.orders)
	|| (SELECT string_agg(concat_ws(':', code, payment_no, amount_pence, reference), ';' ORDER BY code::text, payment_no) FROM icos.order_payment), false);

-- Who may --------------------------------------------------------------------
SET SESSION AUTHORIZATION emp_9542;
SELECT throws_ok($$SELECT icos.forget_customer(pg_temp.c(), 'erasure request')$$, '42501', NULL, 'an agent of her store may not erase her');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9545;
SELECT throws_ok($$SELECT icos.forget_customer(pg_temp.c(), 'erasure request')$$, '42501', NULL, 'nor a reporter');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9546;
SELECT throws_ok($$SELECT icos.forget_customer(pg_temp.c(), 'erasure request')$$, '42501', NULL,
	'nor a manager of another store (even one she ordered at)');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9544;
SELECT throws_ok($$SELECT icos.forget_customer(pg_temp.c(), '  ')$$, '22023', 'a reason is needed to forget a customer',
	'a manager of her store must give a reason');
SELECT throws_ok($$SELECT icos.forget_customer(pg_temp.c(), 'Yvonne Quill wrote to us')$$, '22023',
	'the reason holds the customer''s personal details', 'a reason with her name is refused');
SELECT throws_ok($$SELECT icos.forget_customer(pg_temp.c(), 'letter from yo1 8ab')$$, '22023', NULL, '... with her postcode too');
SELECT throws_ok($$SELECT icos.forget_customer(-5, 'erasure request')$$, 'IC004', NULL, 'an unknown customer is IC004');
SELECT is(icos.forget_customer(pg_temp.c(), 'erasure request received by letter on 3 May') - 'forgotten_at',
	jsonb_build_object('customer', pg_temp.c(), 'orders_erased', 2, 'orders_elsewhere', 0),
	'a manager of her store erases her: two orders on this node');
SELECT throws_ok($$SELECT icos.forget_customer(pg_temp.c(), 'again')$$, 'IC002', NULL, 'she cannot be forgotten twice');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"name": "Yvonne Quill"}')$$, 'IC002', NULL,
	'nor her record filled in again');
SELECT set_config('t.export', icos.customer_export(pg_temp.c())::text, false);
RESET SESSION AUTHORIZATION;

-- Nothing of her is left -----------------------------------------------------
SELECT is_empty($$SELECT * FROM pg_temp.traces()$$,
	'after: no column of any icos table holds her name, e-mail, phones or addresses');
SELECT is((SELECT string_agg(r::text, ';' ORDER BY r.key) FROM icos.sales_report(now() - interval '1 day', now() + interval '1 day', 'store') r),
	current_setting('t.report'), 'sales_report totals are unchanged');
SELECT is((SELECT string_agg(concat_ws(':', code, total_pence, gross_pence, discount_pence), ';' ORDER BY code::text) FROM icos.orders)
	|| (SELECT string_agg(concat_ws(':', code, payment_no, amount_pence, reference), ';' ORDER BY code::text, payment_no) FROM icos.order_payment),
	current_setting('t.money'), 'orders and payments keep their amounts (and payment references)');
SELECT is(icos.rollup_sales() ->> 'deltas', '0', 'erasure changed no order line (no sales delta)');
SELECT is((SELECT row(name, email, phone)::text FROM icos.customer WHERE customer_id = pg_temp.c()),
	row('forgotten customer', NULL::text, NULL::text)::text, 'her record keeps only its id');
SELECT is((SELECT count(*)::int FROM icos.customer_address WHERE customer_id = pg_temp.c()), 0, 'her addresses are gone');
SELECT is(icos.order(current_setting('t.o1')::icos.order_code) #> '{delivery,address}', '{"erased": true}'::jsonb,
	'her order shows the delivery address erased');
SELECT is((SELECT count(*)::int FROM icos.order_event WHERE code = current_setting('t.o1')::icos.order_code), 6,
	'her order keeps every event (notes blanked, not deleted)');
SELECT doesnt_match(icos.receipt(current_setting('t.o1')::icos.order_code, true), '(?i)yvonne|quill|stonegate|3 coney street', 'a reprinted receipt names nobody');
SELECT is((SELECT row(kind, fields, changes)::text FROM icos.customer_event WHERE customer_id = pg_temp.c() ORDER BY event_id DESC LIMIT 1),
	row('forgotten', ARRAY['name', 'email', 'phone', 'address', 'orders'], NULL::jsonb)::text,
	'the change log records the erasure, without values');
SELECT is((SELECT count(*)::int FROM icos.customer_event WHERE customer_id = pg_temp.c() AND changes IS NOT NULL), 0,
	'and no longer holds her old values');
SELECT is((SELECT row(reason, employee_id, at_store, orders_erased)::text FROM icos.customer_erasure WHERE customer_id = pg_temp.c()),
	row('erasure request received by letter on 3 May', 9544, 9102, 2)::text, 'the erasure is logged: who, where, why');
SELECT is(current_setting('t.export')::jsonb #>> '{customer,forgotten}', 'true', 'her export says she was forgotten');
SELECT is(jsonb_array_length(current_setting('t.export')::jsonb -> 'orders'), 2, 'and still lists her orders');
SELECT is((SELECT rating FROM icos.order_feedback WHERE code = current_setting('t.o1')::icos.order_code), 5,
	'her rating counts on, without its comment');
-- The logs are still append-only outside an erasure.
SELECT throws_ok($$UPDATE icos.order_event SET note = NULL WHERE code = current_setting('t.o2')::icos.order_code$$, '42501', NULL,
	'outside an erasure even the owner cannot blank an order note');
SELECT throws_ok($$SELECT set_config('icos.erasing', 'on', true); UPDATE icos.order_event SET note = 'rewritten'
	WHERE code = current_setting('t.o2')::icos.order_code$$, '42501', NULL,
	'and an erasure may only remove, never write');
SELECT * FROM finish();
ROLLBACK;
