-- What an order shows of its customer, as each role (docs/security.md,
-- "Customers"): the agent of her store, the call centre, managers of her
-- store, head office and reporters see her details; an agent (or manager)
-- of another store who has the order's code, or who sold it, sees her
-- masked, reads no row of hers, and cannot make her stored address appear
-- in an order.  Employees log in as emp_<id>; everything rolls back.
BEGIN;
SELECT plan(23);
\ir orders_fixture.psql

SELECT icos.create_employee(9601, 'Lee Leeds', 9101, 'agent', pg_temp.verifier('1'));
SELECT icos.create_employee(9602, 'Yas York', 9102, 'agent', pg_temp.verifier('2'));
SELECT icos.create_employee(9603, 'Cal Centre', 9104, 'agent', pg_temp.verifier('3'));
SELECT icos.create_employee(9604, 'Mo York Manager', 9102, 'manager', pg_temp.verifier('4'));
SELECT icos.create_employee(9605, 'Rae Reporter', 9101, 'reporter', pg_temp.verifier('5'));
SELECT icos.create_employee(9606, 'Lou Leeds Manager', 9101, 'manager', pg_temp.verifier('6'));

-- Yvonne registers in York and orders there; then she buys a lamp in Leeds,
-- the Leeds agent taking the order by her id.
SET SESSION AUTHORIZATION emp_9602;
SELECT set_config('t.c', icos.upsert_customer('{"name": "Yvonne Yardley", "email": "yvonne@example.com",
	"phone": "07700 900123", "address": {"line1": "3 Coney Street", "town": "York", "postcode": "YO1 9QL"}}')::text, false);
SELECT set_config('t.york', icos.place_order(format('{"store": 9102, "channel": "store", "customer": {"id": %s},
	"lines": [{"upc": "036000291452", "qty": 1}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 199.99}]}', current_setting('t.c'))::jsonb)::text, false);
RESET SESSION AUTHORIZATION;
CREATE FUNCTION pg_temp.c() RETURNS bigint LANGUAGE sql AS $$ SELECT current_setting('t.c')::bigint $$;
CREATE FUNCTION pg_temp.shown(p_code text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT icos."order"(p_code::icos.order_code) -> 'customer'
$$;
SELECT set_config('t.full', jsonb_build_object('id', pg_temp.c(), 'name', 'Yvonne Yardley', 'email', 'yvonne@example.com',
	'phone', '07700900123')::text, false);
SELECT set_config('t.masked', jsonb_build_object('id', pg_temp.c(), 'name', 'Yvonne Y.', 'email', 'y***@example.com',
	'phone', '***123', 'masked', true)::text, false);

-- An agent of another store -------------------------------------------------------
SET SESSION AUTHORIZATION emp_9601;
SELECT throws_ok($$SELECT icos.place_order(format('{"store": 9101, "channel": "store", "customer": {"id": %s},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "home"},
	"payments": [{"method": "cash", "amount": 24.50}]}', pg_temp.c())::jsonb)$$, '22023', NULL,
	'an agent of another store cannot have her stored address put into a home delivery');
SELECT set_config('t.leeds', icos.place_order(format('{"store": 9101, "channel": "store", "customer": {"id": %s},
	"lines": [{"upc": "4006381333931", "qty": 1}],
	"delivery": {"method": "home", "address": {"line1": "3 Coney Street", "town": "York", "postcode": "YO1 9QL"}},
	"payments": [{"method": "cash", "amount": 24.50}]}', pg_temp.c())::jsonb)::text, false);
SELECT is(pg_temp.shown(current_setting('t.leeds')), current_setting('t.masked')::jsonb,
	'the agent who sold to her sees her masked in the order');
SELECT is(icos."order"(current_setting('t.leeds')::icos.order_code) #>> '{delivery,address,line1}', '3 Coney Street',
	'and the delivery address she gave for this order');
SELECT is(pg_temp.shown(current_setting('t.york')), current_setting('t.masked')::jsonb,
	'an order of her own store read by its code shows her masked');
SELECT is_empty($$SELECT * FROM icos.customer WHERE customer_id = pg_temp.c()$$,
	'her row stays hidden from the store that sold to her');
SELECT is_empty($$SELECT * FROM icos.customer_address WHERE customer_id = pg_temp.c()$$, '... and her addresses');
SELECT is((SELECT c ->> 'name' FROM icos.customer_orders(pg_temp.c()) o, LATERAL (SELECT o -> 'customer') x(c) LIMIT 1),
	'Yvonne Y.', 'her orders at this store list her masked');
RESET SESSION AUTHORIZATION;

-- A manager of another store: as its agents -------------------------------------------
SET SESSION AUTHORIZATION emp_9606;
SELECT is(pg_temp.shown(current_setting('t.leeds')), current_setting('t.masked')::jsonb,
	'a manager of another store sees her masked too');
RESET SESSION AUTHORIZATION;

-- The agent of her store -------------------------------------------------------------
SET SESSION AUTHORIZATION emp_9602;
SELECT is(pg_temp.shown(current_setting('t.york')), current_setting('t.full')::jsonb, 'the agent of her store sees her details');
SELECT is(pg_temp.shown(current_setting('t.leeds')), current_setting('t.full')::jsonb,
	'... also in an order another store took for her');
SELECT isnt_empty($$SELECT * FROM icos.customer WHERE customer_id = pg_temp.c()$$, '... and reads her row');
SELECT lives_ok($$SELECT icos.place_order(format('{"store": 9102, "channel": "store", "customer": {"id": %s},
	"lines": [{"upc": "036000291452", "qty": 1}], "delivery": {"method": "home"},
	"payments": [{"method": "cash", "amount": 199.99}]}', pg_temp.c())::jsonb)$$,
	'... and delivers to her stored address');
RESET SESSION AUTHORIZATION;

-- The call centre --------------------------------------------------------------------
SET SESSION AUTHORIZATION emp_9603;
SELECT is(pg_temp.shown(current_setting('t.leeds')), current_setting('t.full')::jsonb, 'the call centre sees her details');
SELECT set_config('t.cc', icos.place_order(format('{"store": 9104, "channel": "phone", "customer": {"id": %s},
	"lines": [{"upc": "4006381333931", "qty": 1, "fulfil_from": 9105}], "delivery": {"method": "home"},
	"payments": [{"method": "visa", "amount": 24.50, "reference": "auth 1"}]}', pg_temp.c())::jsonb)::text, false);
SELECT is(icos."order"(current_setting('t.cc')::icos.order_code) #>> '{delivery,address,postcode}', 'YO1 9QL',
	'and takes a home delivery to her stored address');
SELECT isnt_empty($$SELECT * FROM icos.customer_address WHERE customer_id = pg_temp.c()$$, 'and reads her addresses');
RESET SESSION AUTHORIZATION;

-- A manager of her store, head office, a reporter -------------------------------------
SET SESSION AUTHORIZATION emp_9604;
SELECT is(pg_temp.shown(current_setting('t.leeds')), current_setting('t.full')::jsonb, 'a manager of her store sees her details');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.shown(current_setting('t.leeds')), current_setting('t.full')::jsonb, 'head office (a superuser) too');
SET SESSION AUTHORIZATION emp_9605;
SELECT is(pg_temp.shown(current_setting('t.leeds')), current_setting('t.full')::jsonb,
	'a reporter, who reads every table, sees what the table holds');
SELECT isnt_empty($$SELECT * FROM icos.customer WHERE customer_id = pg_temp.c()$$, '... as it does directly');
RESET SESSION AUTHORIZATION;

-- Forgotten: nobody sees her, and no order can be placed for her ----------------------------
SET SESSION AUTHORIZATION emp_9604;
SELECT lives_ok($$SELECT icos.forget_customer(pg_temp.c(), 'erasure request, ticket 77')$$, 'a manager of her store forgets her');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.shown(current_setting('t.leeds')), jsonb_build_object('id', pg_temp.c(), 'name', 'forgotten customer',
	'email', NULL, 'phone', NULL), 'her orders show a forgotten customer');
SET SESSION AUTHORIZATION emp_9603;
SELECT throws_ok($$SELECT icos.place_order(format('{"store": 9104, "channel": "phone", "customer": {"id": %s},
	"lines": [{"upc": "4006381333931", "qty": 1, "fulfil_from": 9105}], "delivery": {"method": "carry"},
	"payments": [{"method": "visa", "amount": 24.50}]}', pg_temp.c())::jsonb)$$, 'IC002',
	format('customer %s has been forgotten', pg_temp.c()), 'place_order refuses the id of a forgotten customer (IC002)');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9104, "channel": "phone", "customer": {"id": 999999},
	"lines": [{"upc": "4006381333931", "qty": 1, "fulfil_from": 9105}], "delivery": {"method": "carry"},
	"payments": [{"method": "visa", "amount": 24.50}]}')$$, 'IC004', 'unknown customer 999999', 'an unknown id stays IC004');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
