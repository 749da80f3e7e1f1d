-- Customers found or created by the order engine (src/order_customer.c),
-- idempotent placement (external_ref), and the lines an edit adds, which go
-- through the engine's own reading and resolving (icos._add_lines).
BEGIN;
SELECT plan(30);
\ir orders_fixture.psql

-- A placement at store 9101 collected there, for a customer given as c.
CREATE FUNCTION pg_temp.order_for(c jsonb, d jsonb DEFAULT '{"method": "collect"}') RETURNS text LANGUAGE sql AS $$
	SELECT icos.place_order(jsonb_build_object('store', 9101, 'channel', 'store', 'customer', c,
		'lines', '[{"upc": "4006381333931", "qty": 1}]'::jsonb, 'delivery', d))::text
$$;
CREATE FUNCTION pg_temp.customer_of(code text) RETURNS bigint LANGUAGE sql AS $$
	SELECT o.customer_id FROM icos.orders o WHERE o.code = $1::icos.order_code
$$;

-- By e-mail.
SELECT set_config('t.a', pg_temp.order_for('{"name": "Cara Doe", "email": "Cara@Example.com", "phone": "0113 496 0100",
	"address": {"line1": "3 Park Sq", "town": "Leeds", "postcode": "ls1 2nd"}}'), true);
SELECT is((SELECT c.name || ' ' || c.email || ' ' || c.phone || ' ' || c.phone_only FROM icos.customer c
		   WHERE c.customer_id = pg_temp.customer_of(current_setting('t.a'))),
	'Cara Doe cara@example.com 01134960100 false', 'a new customer is registered with her details');
SELECT is((SELECT count(*)::int FROM icos.customer_address a WHERE a.customer_id = pg_temp.customer_of(current_setting('t.a'))),
	1, 'and her address as her first');
SELECT set_config('t.b', pg_temp.order_for('{"name": "C. Doe-Smith", "email": "cara@example.com", "phone": "07700 900999",
	"address": {"line1": "9 New Rd", "town": "York", "postcode": "YO1 9AA"}}', '{"method": "home"}'), true);
SELECT is(pg_temp.customer_of(current_setting('t.b')), pg_temp.customer_of(current_setting('t.a')),
	'the same e-mail finds her again');
SELECT is((SELECT c.name || ' ' || c.phone FROM icos.customer c WHERE c.customer_id = pg_temp.customer_of(current_setting('t.a'))),
	'Cara Doe 01134960100', 'her name and phone are not overwritten by an order');
SELECT is((SELECT count(*)::int FROM icos.customer_address a WHERE a.customer_id = pg_temp.customer_of(current_setting('t.a'))),
	1, 'nor her addresses');
SELECT is(icos.order(current_setting('t.b')::icos.order_code) -> 'delivery' -> 'address',
	'{"line1": "9 New Rd", "town": "York", "postcode": "YO1 9AA", "country": "GB"}'::jsonb,
	'the address given with her is the order''s delivery address');
SELECT is(icos.upsert_customer('{"name": "Somebody Else", "email": "CARA@example.com"}'),
	pg_temp.customer_of(current_setting('t.a')), 'upsert_customer finds her by e-mail');
SELECT is((SELECT c.name FROM icos.customer c WHERE c.customer_id = pg_temp.customer_of(current_setting('t.a'))),
	'Cara Doe', 'and does not rename her');
SELECT is(pg_temp.customer_of(pg_temp.order_for('{"phone": "(0113) 496-0100"}')),
	pg_temp.customer_of(current_setting('t.a')), 'her phone alone, written otherwise, finds her too');

-- By phone only.
SELECT set_config('t.p', pg_temp.order_for('{"name": "Pat Phone", "phone": "+44 7700 900555"}'), true);
SELECT is((SELECT c.phone_only FROM icos.customer c WHERE c.customer_id = pg_temp.customer_of(current_setting('t.p'))),
	true, 'a customer known only by phone is marked so (customer_phone_key)');
SELECT is(pg_temp.customer_of(pg_temp.order_for('{"name": "P. Phone", "phone": "+447700900555"}')),
	pg_temp.customer_of(current_setting('t.p')), 'her number finds her again');
SELECT is((SELECT count(*)::int FROM icos.customer c WHERE c.phone = '+447700900555'), 1, 'one customer with that number');
SELECT throws_ok($$SELECT pg_temp.order_for('{"email": "nobody@example.com"}')$$,
	'22023', 'a new customer needs a name', 'a new customer without a name is refused');
SELECT throws_ok($$SELECT pg_temp.order_for('{"name": "Ann", "email": "ann b@example.com"}')$$,
	'22023', '"ann b@example.com" is not an e-mail address', 'an e-mail with a space is refused');

-- external_ref: the same document again is the same order.
SELECT set_config('t.snap', pg_temp.snapshot(), true);
SELECT set_config('t.x', icos.place_order('{"store": 9101, "channel": "pos", "external_ref": "till 1/77",
	"lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}]}')::text, true);
SELECT set_config('t.snap', pg_temp.snapshot(), true);
SELECT is(icos.place_order('{"external_ref": "till 1/77", "payments": [{"amount": 30, "method": "cash"}],
	"lines": [{"qty": 1, "upc": "4006381333931"}], "channel": "pos", "store": 9101}')::text,
	current_setting('t.x'), 'the same document (keys in another order) gives the same order');
SELECT is(pg_temp.snapshot(), current_setting('t.snap'), 'and changes nothing');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "external_ref": "till 1/77",
	"lines": [{"upc": "4006381333931", "qty": 2}], "payments": [{"method": "cash", "amount": 60}]}')$$,
	'IC006', format('external_ref "till 1/77" was already used at store 9101 for order %s', current_setting('t.x')),
	'another document with the same external_ref: IC006 naming the order');
SELECT is(pg_temp.snapshot(), current_setting('t.snap'), 'which changes nothing');
SELECT isnt(icos.place_order('{"store": 9102, "channel": "pos", "external_ref": "till 1/77",
	"lines": [{"upc": "036000291452", "qty": 1}]}')::text, current_setting('t.x'),
	'another store may use the same external_ref');
SELECT is(icos.order(current_setting('t.x')::icos.order_code) ->> 'external_ref', 'till 1/77',
	'icos.order shows external_ref');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "external_ref": "",
	"lines": [{"upc": "4006381333931", "qty": 1}]}')$$, '22023', NULL, 'an empty external_ref is refused');

-- Lines added by an edit follow the placement's rules.
SELECT set_config('t.e', pg_temp.order_for('{"email": "cara@example.com"}'), true);
SELECT throws_ok(format($$SELECT icos.edit_order(%L, '{"add_lines": [{"upc": "4006381333931", "qty": 2.0}]}')$$,
	current_setting('t.e')), '22023', 'line 1 "qty" must be a whole number', 'an added line of qty 2.0 is refused');
SELECT throws_ok(format($$SELECT icos.edit_order(%L, '{"add_lines": [{"upc": "00000000000017", "qty": 1}]}')$$,
	current_setting('t.e')), 'IC004', 'unknown product 00000017', 'an unknown product is refused');
SELECT throws_ok(format($$SELECT icos.edit_order(%L, '{"add_lines": [{"upc": "4006381333931", "qty": 1, "fulfil_from": 9103}]}')$$,
	current_setting('t.e')), '22023', 'line 1 cannot be fulfilled from Website (web)', 'nor from a store without stock');
SELECT lives_ok(format($$SELECT icos.edit_order(%L, '{"add_lines": [{"upc": "96385074", "qty": 1}, {"upc": "036000291452", "qty": 1}]}')$$,
	current_setting('t.e')), 'lines added');
SELECT is(jsonb_path_query_array(icos.order(current_setting('t.e')::icos.order_code), '$.lines[*].status'),
	'["reserved", "made_to_order", "reserved"]'::jsonb, 'numbered after the last, made to order or reserved');
SELECT is(jsonb_path_query_array(icos.order(current_setting('t.e')::icos.order_code), '$.lines[*].line'),
	'[1, 2, 3]'::jsonb, 'their numbers follow the order''s');

-- The JSON helpers the editing functions share are the reader's.
SELECT throws_ok($$SELECT icos._json_int('{"qty": 2.0}', 'qty', 'line 1')$$, '22023',
	'line 1 "qty" must be a whole number', '_json_int: 2.0 is not a whole number written as digits');
SELECT throws_ok(format($$SELECT icos._json_date('{"d": "%s"}', 'd', 'changes')$$, current_date + 366), '22023',
	'changes "d" is more than 365 days ahead', '_json_date: at most 365 days ahead');
SELECT is(icos._money('"12.50"', 'amount', '22023'), 1250::bigint, '_money reads a string amount');

SELECT * FROM finish();
ROLLBACK;
