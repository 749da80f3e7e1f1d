-- Security, proven as the roles themselves: employees created here log in
-- as emp_<id> (SET SESSION AUTHORIZATION), and everything rolls back.
BEGIN;
SELECT plan(58);
\ir orders_fixture.psql

-- Employees ------------------------------------------------------------------
SELECT throws_ok($$SELECT icos.create_employee(9201, 'Alice Agent', 9101, 'agent', 'secret123')$$,
	'22023', 'password must be a SCRAM-SHA-256 verifier, not a plain password', 'a plain password is refused');
SELECT throws_ok($$SELECT icos.create_employee(9201, 'Alice Agent', 9101, 'agent', 'SCRAM-SHA-256$4096:c2FsdA==$YQ==:Yg==')$$,
	'22023', 'password is not a valid SCRAM-SHA-256 verifier', 'a verifier PostgreSQL cannot read is refused');
SELECT throws_ok($$SELECT icos.create_employee(9201, 'Alice Agent', 9101, 'cashier', pg_temp.verifier('a'))$$,
	'22023', NULL, 'unknown position');
SELECT throws_ok($$SELECT icos.create_employee(9201, 'Alice Agent', 9999, 'agent', pg_temp.verifier('a'))$$,
	'IC004', NULL, 'unknown store');
SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname = 'emp_9201'), 0, 'refusals created no role');
SELECT lives_ok($$SELECT icos.create_employee(9201, 'Alice Agent', 9101, 'agent', pg_temp.verifier('a'))$$,
	'agent at Leeds');
SELECT lives_ok($$SELECT icos.create_employee(9202, 'Yusuf Agent', 9102, 'agent', pg_temp.verifier('b'))$$,
	'agent at York');
SELECT lives_ok($$SELECT icos.create_employee(9203, 'Hana Admin', 9101, 'admin', pg_temp.verifier('c'))$$,
	'admin at head office');
SELECT lives_ok($$SELECT icos.create_employee(9204, 'Ravi Reporter', 9101, 'reporter', pg_temp.verifier('d'))$$,
	'reporter');
SELECT throws_ok($$SELECT icos.create_employee(9201, 'Alice Again', 9101, 'agent', pg_temp.verifier('a'))$$,
	'23505', NULL, 'an employee id is used once');
SELECT is((SELECT rolpassword FROM pg_authid WHERE rolname = 'emp_9201'), pg_temp.verifier('a'),
	'the role stores exactly the verifier');
SELECT ok((SELECT rolcanlogin AND NOT rolsuper AND NOT rolcreaterole FROM pg_roles WHERE rolname = 'emp_9201'),
	'the employee role can log in and nothing more');
SELECT ok(pg_has_role('emp_9201', 'icos_agent', 'member') AND NOT pg_has_role('emp_9201', 'icos_admin', 'member'),
	'the agent is in icos_agent only');
SELECT ok(pg_has_role('emp_9203', 'icos_agent', 'member'), 'an admin can do what an agent can');

-- Every SECURITY DEFINER function pins its search_path.
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'icos'::regnamespace AND p.prosecdef
	  AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
	'every SECURITY DEFINER function has search_path = pg_catalog, pg_temp');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'icos'::regnamespace AND (p.prosecdef OR p.proname LIKE '\_%')
	  AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
	'PUBLIC may execute no SECURITY DEFINER or internal function');

-- A schema the agent owns, for the search_path hijack below.
CREATE SCHEMA evil AUTHORIZATION emp_9201;

-- York takes an order from a York customer (as its agent).
SET SESSION AUTHORIZATION emp_9202;
SELECT lives_ok($$SELECT set_config('t.york', icos.place_order('{
	"store": 9102, "channel": "store",
	"customer": {"name": "Yvonne York", "email": "yvonne@example.com"},
	"lines": [{"upc": "036000291452", "qty": 1}], "delivery": {"method": "collect"}}')::text, true)$$,
	'York agent takes an order');
RESET SESSION AUTHORIZATION;

-- The Leeds agent -----------------------------------------------------------
SET SESSION AUTHORIZATION emp_9201;
SELECT lives_ok($$SELECT set_config('t.leeds', icos.place_order('{
	"store": 9101, "channel": "store",
	"customer": {"name": "Liam Leeds", "email": "liam@example.com"},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"}}')::text, true)$$,
	'Leeds agent takes an order');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9102, "channel": "pos", "lines": [{"upc": "036000291452", "qty": 1}]}')$$,
	'42501', NULL, 'an agent cannot sell for another store');

-- No direct writes.
SELECT throws_ok($$UPDATE icos.orders SET status = 'completed'$$, '42501', NULL, 'agent cannot update orders');
SELECT throws_ok($$INSERT INTO icos.order_event (store_id, code, kind, at_store) SELECT store_id, code, 'placed', 9101 FROM icos.orders$$,
	'42501', NULL, 'agent cannot write the event log');
SELECT throws_ok($$UPDATE icos.order_event SET note = 'nothing happened'$$, '42501', NULL, 'agent cannot alter the event log');
SELECT throws_ok($$DELETE FROM icos.order_event$$, '42501', NULL, 'agent cannot delete from the event log');
SELECT throws_ok($$UPDATE icos.product SET price = 0.01$$, '42501', NULL, 'agent cannot change prices');
SELECT throws_ok($$DELETE FROM icos.customer$$, '42501', NULL, 'agent cannot delete customers');
SELECT throws_ok($$UPDATE icos.change_rule SET allowed = true$$, '42501', NULL, 'agent cannot change the rules');
SELECT throws_ok($$INSERT INTO icos.employee VALUES (1, 'x', 9101, 'admin', 'emp_1')$$, '42501', NULL,
	'agent cannot make itself an employee record');

-- Reads limited to the agent's store.
SELECT is((SELECT array_agg(name ORDER BY name) FROM icos.customer), ARRAY['Liam Leeds'],
	'agent lists only its own store''s customers');
SELECT is((SELECT count(*)::int FROM icos.orders WHERE store_id = 9102), 0, 'agent cannot list another store''s orders');
SELECT is((SELECT count(*)::int FROM icos.order_line WHERE store_id = 9102), 0, '... nor their lines');
SELECT is((SELECT count(*)::int FROM icos.employee WHERE store_id = 9102), 0, '... nor their employees');
SELECT is(icos.order(current_setting('t.york')::icos.order_code) ->> 'store', '9102',
	'but an order is found by its full code from any store');
SELECT is((SELECT count(*)::int FROM icos.customer_orders(
	(icos.order(current_setting('t.york')::icos.order_code) -> 'customer' ->> 'id')::bigint)), 0,
	'customer_orders lists no other store''s orders');

-- Admin and internal functions.
SELECT throws_ok($$SELECT icos.create_employee(9299, 'Mallory', 9101, 'admin', 'SCRAM-SHA-256$4096:c2FsdA==$YQ==:Yg==')$$,
	'42501', NULL, 'agent cannot create employees');
SELECT throws_ok($$SELECT * FROM icos.verify_stock()$$, '42501', NULL, 'agent cannot run admin stock checks');
SELECT throws_ok($$SELECT icos._reserve(9101, '036000291452', 1, NULL, 'x')$$, '42501', NULL,
	'agent cannot call the stock engine directly');
SELECT throws_ok($$SELECT icos._log(o, 'note', 'x') FROM icos.orders o$$, '42501', NULL,
	'agent cannot call internal helpers');
SELECT throws_ok($$SELECT icos.receive_stock(9101, '036000291452', 100, 'free tables')$$, '42501', NULL,
	'agent cannot receive stock (managers do)');

-- search_path hijack: same-named functions in a schema of its own and in
-- pg_temp, first on the path.  The API must not call them.
CREATE FUNCTION evil.price_basket(jsonb) RETURNS jsonb LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked price_basket'; END$$;
CREATE FUNCTION evil._reserve(int, icos.upc, int, text, text) RETURNS void LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked _reserve'; END$$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
	$$BEGIN RAISE EXCEPTION 'hijacked jsonb_typeof'; END$$;
CREATE FUNCTION evil.next_order_code() RETURNS icos.order_code LANGUAGE sql AS $$SELECT '0000-0000-0000'::icos.order_code$$;
CREATE FUNCTION pg_temp._current_employee() RETURNS int LANGUAGE sql AS $$SELECT 9203$$;
CREATE FUNCTION pg_temp.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT '2000-01-01'::timestamptz$$;
CREATE TABLE evil.orders (code text);
SET search_path = evil, pg_temp, icos, public;
SELECT lives_ok($$SELECT set_config('t.hijack', icos.place_order('{
	"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "cash", "amount": 24.50}]}')::text, true)$$,
	'the API ignores same-named functions in the caller''s schemas');
SELECT isnt(current_setting('t.hijack'), '0000-0000-0000', 'the order code came from icos');
SELECT is(icos.order(current_setting('t.hijack')::icos.order_code) -> 'events' -> 0 ->> 'employee', '9201',
	'the event log records the real employee');
SELECT ok((icos.order(current_setting('t.hijack')::icos.order_code) ->> 'placed_at')::timestamptz > '2020-01-01',
	'and the real time');
SELECT is((SELECT count(*)::int FROM evil.orders), 0, 'nothing was written to the caller''s tables');
RESET search_path;
RESET SESSION AUTHORIZATION;

SELECT is((SELECT employee_id FROM icos.order_event WHERE code = current_setting('t.leeds')::icos.order_code
		   AND kind = 'placed'), 9201, 'events record the employee');
SELECT is((SELECT at_store FROM icos.order_event WHERE code = current_setting('t.leeds')::icos.order_code
		   AND kind = 'placed'), 9101, 'and the store');
SELECT is((SELECT role_name::text FROM icos.order_event WHERE code = current_setting('t.leeds')::icos.order_code
		   AND kind = 'placed'), 'emp_9201', 'and the login role');

-- The York agent does not see Leeds customers.
SET SESSION AUTHORIZATION emp_9202;
SELECT is((SELECT array_agg(name ORDER BY name) FROM icos.customer), ARRAY['Yvonne York'],
	'York agent lists only York customers');
SELECT is((SELECT count(*)::int FROM icos.order_event WHERE store_id = 9101), 0, 'nor Leeds events');
RESET SESSION AUTHORIZATION;

-- The reporter reads every store, changes nothing.
SET SESSION AUTHORIZATION emp_9204;
SELECT is((SELECT count(*)::int FROM icos.orders WHERE store_id IN (9101, 9102)), 3, 'reporter reads every store''s orders');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'42501', NULL, 'reporter cannot take orders');
SELECT throws_ok($$UPDATE icos.customer SET name = 'x'$$, '42501', NULL, 'reporter cannot write');
SELECT lives_ok($$SELECT sum(amount_pence), count(method) FROM icos.order_payment$$,
	'reporter reads payment amounts and methods');
SELECT throws_ok($$SELECT reference FROM icos.order_payment$$, '42501', NULL,
	'reporter cannot read payment references');
RESET SESSION AUTHORIZATION;

-- The admin creates employees and maintains the catalogue.
SET SESSION AUTHORIZATION emp_9203;
SELECT lives_ok($$SELECT icos.create_employee(9205, 'Mo Manager', 9102, 'manager', pg_temp.verifier('e'))$$,
	'admin creates an employee');
SELECT lives_ok($$UPDATE icos.product SET price = 25.00 WHERE upc = '4006381333931'$$,
	'admin changes a price with plain SQL');
SELECT throws_ok($$DELETE FROM icos.order_event$$, '42501', NULL, 'not even an admin alters the event log');
RESET SESSION AUTHORIZATION;
SELECT ok(pg_has_role('emp_9205', 'icos_manager', 'member'), 'the new manager is in icos_manager');

-- An employee with no other grants: the manager receives stock.
SET SESSION AUTHORIZATION emp_9205;
SELECT lives_ok($$SELECT icos.receive_stock(9102, '036000291452', 1, 'delivery')$$, 'manager receives stock');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
