-- Customer care as each role (docs/security.md, "Customers"): who may change
-- a customer, record her consent and export what is held about her; every
-- change logged.  Employees log in as emp_<id>; everything rolls back.
BEGIN;
SELECT plan(55);
\ir orders_fixture.psql

SELECT icos.create_employee(9501, 'Lee Leeds', 9101, 'agent', pg_temp.verifier('1'));
SELECT icos.create_employee(9502, 'Yas York', 9102, 'agent', pg_temp.verifier('2'));
SELECT icos.create_employee(9503, 'Cal Centre', 9104, 'agent', pg_temp.verifier('3'));
SELECT icos.create_employee(9504, 'Mo Manager', 9102, 'manager', pg_temp.verifier('4'));
SELECT icos.create_employee(9505, 'Rae Reporter', 9101, 'reporter', pg_temp.verifier('5'));
SELECT icos.create_employee(9506, 'Lou Leeds Manager', 9101, 'manager', pg_temp.verifier('6'));

-- Yvonne registers in York.
SET SESSION AUTHORIZATION emp_9502;
SELECT set_config('t.c', icos.upsert_customer('{"name": "Yvonne York", "email": "yvonne@example.com",
	"phone": "07700 900123", "address": {"line1": "3 Coney Street", "town": "York", "postcode": "YO1 9QL"}}')::text, false);
SELECT set_config('t.other', icos.upsert_customer('{"name": "Olga Other", "email": "olga@example.com"}')::text, false);
RESET SESSION AUTHORIZATION;
CREATE FUNCTION pg_temp.c() RETURNS bigint LANGUAGE sql AS $$ SELECT current_setting('t.c')::bigint $$;
CREATE FUNCTION pg_temp.details() RETURNS text LANGUAGE sql AS $$
	SELECT concat_ws('|', name, email, phone, icos._customer_address(customer_id)) FROM icos.customer WHERE customer_id = pg_temp.c()
$$;
SELECT set_config('t.before', pg_temp.details(), false);

-- An agent of her store ------------------------------------------------------
SET SESSION AUTHORIZATION emp_9502;
SELECT is(icos.update_customer(pg_temp.c(), '{"phone": "+44 7700 900456"}') ->> 'phone', '+447700900456',
	'the agent of her store changes her phone (stored normalised)');
SELECT is((SELECT array_agg(d ->> 'email') FROM icos.find_customers('YVONNE@example.com') d), ARRAY['yvonne@example.com'],
	'and finds her by e-mail, whatever the case');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"email": "not-an-address"}')$$, '22023', NULL,
	'a malformed e-mail address is refused');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"email": "olga@example.com"}')$$, '22023',
	'the e-mail address olga@example.com belongs to another customer', 'another customer''s e-mail address is refused');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"email": null, "phone": null}')$$, '22023',
	'a customer keeps an e-mail address or a phone number', 'removing both ways to identify her is refused');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{}')$$, '22023', 'changes is empty', 'nothing to change is refused');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"store": 9101}')$$, '22023', NULL, 'an unknown key is refused');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), jsonb_build_object('name', repeat('x', 201)))$$, '22001', NULL,
	'a name longer than its limit is refused (22001)');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"name": "Card 4111 1111 1111 1111"}')$$, 'IC003', NULL,
	'a card number in a name is refused (IC003)');
SELECT throws_ok($$SELECT icos.update_customer(-1, '{"name": "Nobody"}')$$, 'IC004', NULL, 'an unknown customer is IC004');
SELECT lives_ok($$SELECT icos.update_customer(pg_temp.c(), '{"name": "Yvonne York"}')$$, 'a change to the same value');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM icos.customer_event WHERE customer_id = pg_temp.c()), 1,
	'one event: refused calls and a change to the same value log nothing');
SELECT is((SELECT row(kind, fields, changes, employee_id, role_name, at_store)::text FROM icos.customer_event WHERE customer_id = pg_temp.c()),
	row('changed', ARRAY['phone'], '{"phone": {"new": "+447700900456", "old": "07700900123"}}'::jsonb, 9502, 'emp_9502', 9102)::text,
	'the event says who, from which store, which field, old and new value');

-- An agent of another store ----------------------------------------------------
SELECT set_config('t.before', pg_temp.details(), false);
SET SESSION AUTHORIZATION emp_9501;
SELECT is_empty($$SELECT * FROM icos.find_customers('yvonne@example.com')$$,
	'an agent of another store does not find her by e-mail');
SELECT is_empty($$SELECT * FROM icos.find_customers('07700900456')$$, '... nor by phone');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"email": "attacker@example.com"}')$$, '42501', NULL,
	'an agent of another store cannot change her e-mail address');
SELECT throws_ok($$SELECT icos.set_consent(pg_temp.c(), 'email', true)$$, '42501', NULL, '... nor her consent');
SELECT throws_ok($$SELECT icos.customer_export(pg_temp.c())$$, '42501', NULL, '... nor export her (agents never may)');
-- A till order for her id, the trick that used to open her record.
SELECT lives_ok($$SELECT icos.place_order(format('{"store": 9101, "channel": "pos", "customer": {"id": %s},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 24.50}]}', pg_temp.c())::jsonb)$$,
	'the agent of another store takes an order for her by id');
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"phone": "07700900999"}')$$, '42501', NULL,
	'and still cannot change her details afterwards');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.details(), current_setting('t.before'), 'her details are unchanged');

-- The call centre ----------------------------------------------------------------
SET SESSION AUTHORIZATION emp_9503;
SELECT is((SELECT count(*)::int FROM icos.find_customers('+44 7700 900456')), 1, 'the call centre finds any customer by phone');
SELECT is((SELECT d ->> 'name' FROM icos.find_customers('YO1 9QL york') d), 'Yvonne York',
	'... and by postcode and part of the name');
SELECT is((SELECT d ->> 'name' FROM icos.find_customers('yvonne yo19ql') d), 'Yvonne York',
	'... the postcode written without its space, before or after the name');
SELECT throws_ok($$SELECT * FROM icos.find_customers('York')$$, '22023', NULL, 'a name alone is not a query');
SELECT throws_ok($$SELECT * FROM icos.find_customers('  ')$$, '22023', NULL, 'nor is nothing');
SELECT is(icos.update_customer(pg_temp.c(), '{"address": {"line1": "9 Stonegate", "town": "York", "postcode": "yo1 8ab"}}') -> 'address',
	'{"line1": "9 Stonegate", "town": "York", "postcode": "YO1 8AB"}'::jsonb, 'the call centre changes her address (a new current one)');
SELECT is(icos.set_consent(pg_temp.c(), 'sms', true), '{"sms": true}'::jsonb, 'and records her consent to text messages');
SELECT throws_ok($$SELECT icos.customer_export(pg_temp.c())$$, '42501', NULL, 'a call-centre agent does not export');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT row(fields, employee_id, at_store)::text FROM icos.customer_event WHERE customer_id = pg_temp.c() ORDER BY event_id DESC LIMIT 1),
	row(ARRAY['address'], 9503, 9104)::text, 'the address change is logged from the call centre');
SELECT is((SELECT count(*)::int FROM icos.customer_address WHERE customer_id = pg_temp.c()), 2, 'the old address is kept');

-- Consent ----------------------------------------------------------------------------
SET SESSION AUTHORIZATION emp_9502;
SELECT is(icos.set_consent(pg_temp.c(), 'email', true), '{"sms": true, "email": true}'::jsonb, 'her store records e-mail consent');
SELECT is(icos.set_consent(pg_temp.c(), 'email', false), '{"sms": true, "email": false}'::jsonb, 'and its withdrawal');
SELECT throws_ok($$SELECT icos.set_consent(pg_temp.c(), 'carrier pigeon', true)$$, '22023', NULL, 'an unknown purpose is refused');
SELECT throws_ok($$SELECT icos.set_consent(pg_temp.c(), 'post', NULL)$$, '22023', NULL, 'consent must be true or false');
SELECT is((SELECT d -> 'consents' FROM icos.find_customers('yvonne@example.com') d), '{"sms": true, "email": false}'::jsonb,
	'her document shows her current consents');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT array_agg(purpose || '=' || granted ORDER BY consent_id) FROM icos.customer_consent WHERE customer_id = pg_temp.c()),
	ARRAY['sms=true', 'email=true', 'email=false'], 'the history is kept');

-- A manager of her store exports; one of another store does not ---------------------
SET SESSION AUTHORIZATION emp_9504;
SELECT set_config('t.export', icos.customer_export(pg_temp.c())::text, false);
RESET SESSION AUTHORIZATION;
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(current_setting('t.export')::jsonb) k),
	ARRAY['addresses', 'consents', 'customer', 'erasure', 'events', 'exported_at', 'feedback', 'orders'],
	'the export has her details, addresses, consents, events, orders and feedback');
SELECT is(jsonb_array_length(current_setting('t.export')::jsonb -> 'addresses'), 2, 'every address she used');
SELECT is(jsonb_array_length(current_setting('t.export')::jsonb -> 'consents'), 3, 'the whole consent history');
SELECT is(current_setting('t.export')::jsonb #> '{customer,consents}', '{"sms": true, "email": false}'::jsonb, 'her current consents');
SELECT is(jsonb_array_length(current_setting('t.export')::jsonb -> 'events'), 2, 'every change to her details');
SELECT is(jsonb_array_length(current_setting('t.export')::jsonb -> 'orders'), 1, 'her orders, at every store');
SET SESSION AUTHORIZATION emp_9506;
SELECT throws_ok($$SELECT icos.customer_export(pg_temp.c())$$, '42501', NULL, 'a manager of another store cannot export her');
RESET SESSION AUTHORIZATION;

-- A reporter reads the logs, changes nothing ---------------------------------------------
SET SESSION AUTHORIZATION emp_9505;
SELECT throws_ok($$SELECT icos.update_customer(pg_temp.c(), '{"phone": "07700900999"}')$$, '42501', NULL,
	'a reporter cannot change a customer');
SELECT throws_ok($$SELECT * FROM icos.find_customers('yvonne@example.com')$$, '42501', NULL, 'nor search customers');
SELECT is((SELECT count(*)::int FROM icos.customer_event WHERE customer_id = pg_temp.c()), 2, 'but reads the change log');
RESET SESSION AUTHORIZATION;

-- A customer no store registered (the website service, head office) -----------------------
SELECT set_config('t.web', icos.upsert_customer('{"name": "Wes Web", "email": "wes@example.com"}')::text, false);
SET SESSION AUTHORIZATION emp_9501;
SELECT throws_ok($$SELECT icos.update_customer(current_setting('t.web')::bigint, '{"phone": "07700900777"}')$$, '42501', NULL,
	'no store''s agent changes a customer no store registered');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9503;
SELECT is(icos.update_customer(current_setting('t.web')::bigint, '{"phone": "07700900777"}') ->> 'phone', '07700900777',
	'the call centre does');
RESET SESSION AUTHORIZATION;
SELECT is(icos.update_customer(current_setting('t.web')::bigint, '{"phone": "07700900778"}') ->> 'phone', '07700900778',
	'and so does a superuser (head office)');

-- The logs are append-only --------------------------------------------------------------
SET SESSION AUTHORIZATION emp_9502;
SELECT throws_ok($$UPDATE icos.customer_consent SET granted = true$$, '42501', NULL, 'an agent cannot rewrite consents');
SELECT throws_ok($$INSERT INTO icos.customer_event (customer_id, kind, fields) VALUES (pg_temp.c(), 'changed', '{}')$$,
	'42501', NULL, 'nor write the change log');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$UPDATE icos.customer_event SET changes = NULL$$, '42501', NULL,
	'the owner cannot blank the change log outside an erasure');
SELECT throws_ok($$DELETE FROM icos.customer_consent$$, '42501', NULL, 'nor delete consents');
SELECT throws_ok($$TRUNCATE icos.customer_event$$, '42501', NULL, 'nor truncate the change log');
SELECT * FROM finish();
ROLLBACK;
