-- place_order for every channel, order(), receipt(), and bad input that
-- must change nothing.
BEGIN;
SELECT plan(78);
\ir orders_fixture.psql

-- Store channel: an item not on display, delivered to the home; new customer.
SELECT lives_ok($$
	SELECT set_config('t.c1', icos.place_order('{
		"store": 9101, "channel": "store",
		"customer": {"name": "Ann Smith", "email": "Ann@Example.com", "phone": "07700 900123",
					 "address": {"line1": "2 High St", "town": "Leeds", "postcode": "ls2 1aa"}},
		"lines": [{"upc": "036000291452", "qty": 1}, {"upc": "4006381333931", "qty": 2}],
		"delivery": {"method": "home"},
		"payments": [{"method": "visa", "amount": 100, "reference": "auth 0042"}]}')::text, true)$$,
	'store channel: home delivery order placed');
SELECT is(icos.order(current_setting('t.c1')::icos.order_code) ->> 'status', 'awaiting_payment',
	'part-paid order awaits payment');
SELECT is((icos.order(current_setting('t.c1')::icos.order_code) ->> 'total')::numeric, 248.99,
	'total at list price: 199.99 + 2 x 24.50');
SELECT is((icos.order(current_setting('t.c1')::icos.order_code) ->> 'balance')::numeric, 148.99,
	'balance is what the customer still owes');
SELECT is(icos.order(current_setting('t.c1')::icos.order_code) -> 'delivery' -> 'address',
	'{"line1": "2 High St", "town": "Leeds", "postcode": "LS2 1AA", "country": "GB"}'::jsonb,
	'home delivery uses the customer''s address');
SELECT is(pg_temp.avail(9101, '036000291452'), 1, 'one oak table reserved in Leeds');
SELECT is(pg_temp.avail(9101, '4006381333931'), 8, 'two lamps reserved in Leeds');
SELECT is((icos.order(current_setting('t.c1')::icos.order_code) ->> 'promised_date')::date, current_date + 1,
	'stock delivered to the home is promised for tomorrow');
SELECT set_eq($$SELECT jsonb_object_keys(icos.order(current_setting('t.c1')::icos.order_code))$$,
	ARRAY['code', 'status', 'channel', 'store', 'placed_at', 'customer', 'delivery', 'promised_date',
		  'lines', 'payments', 'total', 'paid', 'balance', 'cancellable', 'events',
		  'store_name', 'employee', 'gross', 'discount', 'promotions', 'cancel_reason', 'external_ref',
		  'currency', 'vat', 'metadata', 'updated_at'],
	'order document has the API keys (and a few more)');
SELECT set_eq($$SELECT jsonb_object_keys(icos.order(current_setting('t.c1')::icos.order_code) -> 'lines' -> 0)$$,
	ARRAY['line', 'upc', 'name', 'qty', 'unit_price', 'discount', 'net', 'status', 'fulfil_from', 'returned',
		  'vat_rate', 'vat'],
	'order lines have the API keys');
SELECT is(jsonb_path_query_array(icos.order(current_setting('t.c1')::icos.order_code), '$.events[*].kind'),
	'["placed", "payment"]'::jsonb, 'placing and paying are logged');

-- Phone channel: the call centre holds no stock; the server picks York.
SELECT lives_ok($$
	SELECT set_config('t.c2', icos.place_order('{
		"store": 9104, "channel": "phone", "customer": {"email": "ann@example.com"},
		"lines": [{"upc": "036000291452", "qty": 3}],
		"delivery": {"method": "home", "address": {"line1": "9 Low Rd", "town": "York", "postcode": "YO1 1AA"}},
		"payments": [{"method": "credit_card", "amount": "599.97", "reference": "auth 77"}]}')::text, true)$$,
	'phone channel: order placed');
SELECT is((icos.order(current_setting('t.c2')::icos.order_code) -> 'lines' -> 0 ->> 'fulfil_from')::int, 9102,
	'the store with the most stock (York) was chosen and recorded');
SELECT is(icos.order(current_setting('t.c2')::icos.order_code) ->> 'status', 'placed', 'fully paid order is placed');
SELECT is((icos.order(current_setting('t.c2')::icos.order_code) -> 'customer' ->> 'id')::bigint,
	(icos.order(current_setting('t.c1')::icos.order_code) -> 'customer' ->> 'id')::bigint,
	'the customer was found again by e-mail (case-insensitive)');
SELECT is((SELECT count(*)::int FROM icos.customer_address a
		   WHERE a.customer_id = (icos.order(current_setting('t.c1')::icos.order_code) -> 'customer' ->> 'id')::bigint),
	1, 'a delivery address given on the order is not added to the customer''s addresses');
SELECT is(pg_temp.avail(9102, '036000291452'), 2, 'three oak tables reserved in York');

-- Web channel, collected in store; fulfilled from the warehouse.
SELECT lives_ok($$
	SELECT set_config('t.c3', icos.place_order('{
		"store": 9103, "channel": "web", "customer": {"name": "Bob Jones", "phone": "+447700900999"},
		"lines": [{"upc": "4006381333931", "qty": 3}],
		"delivery": {"method": "collect", "collect_store": 9102},
		"payments": [{"method": "debit_card", "amount": 73.50}]}')::text, true)$$,
	'web channel: collect order placed');
SELECT is((icos.order(current_setting('t.c3')::icos.order_code) -> 'lines' -> 0 ->> 'fulfil_from')::int, 9105,
	'web order fulfilled from the warehouse, which has the most lamps');
SELECT is(icos.order(current_setting('t.c3')::icos.order_code) -> 'delivery' ->> 'collect_store', '9102',
	'collect store recorded');

-- POS: carried out now, anonymous, paid in cash with change.
SELECT lives_ok($$
	SELECT set_config('t.c4', icos.place_order('{
		"store": 9101, "channel": "pos",
		"lines": [{"upc": "4006381333931", "qty": 1}],
		"payments": [{"method": "cash", "amount": 30}]}')::text, true)$$,
	'pos channel: sale carried out');
SELECT is(icos.order(current_setting('t.c4')::icos.order_code) ->> 'status', 'completed',
	'a fully paid carried-out sale is completed');
SELECT is(icos.order(current_setting('t.c4')::icos.order_code) -> 'payments' -> 0 ->> 'change', '5.50',
	'cash change computed: 30.00 - 24.50');
SELECT is(icos.order(current_setting('t.c4')::icos.order_code) -> 'lines' -> 0 ->> 'status', 'fulfilled',
	'the lamp left the store');
SELECT is(pg_temp.avail(9101, '4006381333931'), 7, 'stock consumed: 10 - 2 reserved - 1 sold');
SELECT is((SELECT on_hand FROM icos.availability('4006381333931', 9101)), 9, 'on hand dropped by the sale');
SELECT matches(icos.receipt(current_setting('t.c4')::icos.order_code),
	'Change given +5\.50', 'receipt shows the change given');
SELECT matches(icos.receipt(current_setting('t.c4')::icos.order_code),
	current_setting('t.c4'), 'receipt shows the order code');
SELECT matches(icos.receipt(current_setting('t.c4')::icos.order_code), 'LEEDS BRIGGATE', 'receipt shows the store');
SELECT matches(icos.receipt(current_setting('t.c4')::icos.order_code), 'Paid cash +30\.00', 'receipt shows payments by method');
SELECT doesnt_match(icos.receipt(current_setting('t.c4')::icos.order_code), 'REPRINT', 'first print is not marked');
SELECT matches(icos.receipt(current_setting('t.c4')::icos.order_code, true), '^\*+ REPRINT \*+', 'reprint is marked REPRINT');

-- Back-order and made-to-order lines are promised by lead time.
SELECT lives_ok($$
	SELECT set_config('t.c5', icos.place_order('{
		"store": 9101, "channel": "store", "customer": {"email": "ann@example.com"},
		"lines": [{"upc": "5012345678900", "qty": 2, "backorder": true}, {"upc": "96385074", "qty": 1}],
		"delivery": {"method": "collect"}}')::text, true)$$,
	'back-order and made-to-order lines accepted');
SELECT is(jsonb_path_query_array(icos.order(current_setting('t.c5')::icos.order_code), '$.lines[*].status'),
	'["backorder", "made_to_order"]'::jsonb, 'lines promised by lead time, not reserved');
SELECT is((icos.order(current_setting('t.c5')::icos.order_code) ->> 'promised_date')::date, current_date + 28,
	'promised by the longest lead time (28 days)');
SELECT is(pg_temp.avail(9101, '5012345678900'), 1, 'the one bookcase was not reserved by the back-order');

-- Holds are converted.
SELECT lives_ok($$SELECT set_config('t.h', icos.hold_stock(9102, '036000291452', 1)::text, true)$$, 'hold taken');
SELECT lives_ok($$
	SELECT set_config('t.c6', icos.place_order(jsonb_build_object(
		'store', 9102, 'channel', 'store', 'customer', '{"email": "ann@example.com"}'::jsonb,
		'lines', '[{"upc": "036000291452", "qty": 1}]'::jsonb, 'delivery', '{"method": "collect"}'::jsonb,
		'holds', jsonb_build_array(current_setting('t.h')::bigint)))::text, true)$$,
	'order converts the hold');
SELECT is(pg_temp.avail(9102, '036000291452'), 1, 'the held unit became the reservation (not reserved twice)');
SELECT throws_ok($$
	SELECT icos.place_order(jsonb_build_object(
		'store', 9102, 'channel', 'store', 'customer', '{"email": "ann@example.com"}'::jsonb,
		'lines', '[{"upc": "036000291452", "qty": 1}]'::jsonb, 'delivery', '{"method": "collect"}'::jsonb,
		'holds', jsonb_build_array(current_setting('t.h')::bigint)))$$,
	'IC004', NULL, 'a used hold cannot be converted again');

-- Refusals: each changes nothing.
SELECT set_config('t.snap', pg_temp.snapshot(), true);
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "036000291452", "qty": 2}]}')$$,
	'IC001', NULL, 'not enough stock: IC001');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}, {"upc": "036000291452", "qty": 5}]}')$$,
	'IC001', NULL, 'second line short: IC001 and the first line is not reserved');
SELECT throws_ok($$SELECT icos.place_order('{"channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'22023', 'order needs "store", the selling location', 'missing store');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9999, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'IC004', 'unknown store 9999', 'unknown store');
SELECT throws_ok($$SELECT icos.place_order('{"store": "9101", "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'22023', NULL, 'store as a string is the wrong type');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "fax", "lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'22023', 'unknown channel "fax"', 'unknown channel');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos"}')$$,
	'22023', 'order has no lines', 'missing lines');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": {"upc": "4006381333931"}}')$$,
	'22023', NULL, 'lines not an array');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 0}]}')$$,
	'22023', NULL, 'zero quantity');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": -1}]}')$$,
	'22023', NULL, 'negative quantity');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1.5}]}')$$,
	'22023', NULL, 'fractional quantity');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": "2"}]}')$$,
	'22023', NULL, 'quantity as a string is the wrong type');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"qty": 1}]}')$$,
	'22023', NULL, 'line without upc');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333932", "qty": 1}]}')$$,
	'22P02', NULL, 'malformed upc (wrong check digit): 22P02');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "00000000000017", "qty": 1}]}')$$,
	'IC004', NULL, 'unknown product: IC004');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1, "colour": "red"}]}')$$,
	'22023', 'unknown key "colour" in line 1', 'unknown key in a line');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "phone", "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"}}')$$,
	'22023', 'a phone order needs a customer', 'customer required outside pos');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "store", "customer": {"id": 424242}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"}}')$$,
	'IC004', 'unknown customer 424242', 'unknown customer id: IC004');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "store", "customer": {"name": "Nobody"}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"}}')$$,
	'22023', 'customer needs an e-mail address or a phone number', 'new customer without contact details');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "store", "customer": {"name": "Cy", "email": "cy@example.com"}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "home"}}')$$,
	'22023', 'home delivery needs an address', 'home delivery without any address');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "store", "customer": {"email": "ann@example.com"}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "drone"}}')$$,
	'22023', 'unknown delivery method "drone"', 'unknown delivery method');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9103, "channel": "web", "customer": {"email": "ann@example.com"}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "carry"}}')$$,
	'22023', NULL, 'the website cannot hand goods over');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "96385074", "qty": 1}]}')$$,
	'22023', NULL, 'a made-to-order product cannot be carried out');
SELECT throws_ok($$SELECT icos.place_order(format('{"store": 9101, "channel": "store", "customer": {"email": "ann@example.com"}, "lines": [{"upc": "96385074", "qty": 1}], "delivery": {"method": "collect", "date": "%s"}}', current_date + 3)::jsonb)$$,
	'IC002', NULL, 'delivery date earlier than the lead time: IC002');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "store", "customer": {"email": "ann@example.com"}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect", "date": "2026-02-30"}}')$$,
	'22023', NULL, 'impossible date');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "bitcoin", "amount": 24.50}]}')$$,
	'IC003', 'unknown payment method "bitcoin"', 'unknown payment method: IC003');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "visa", "amount": -5}]}')$$,
	'IC003', NULL, 'negative payment: IC003');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "visa", "amount": 10.005}]}')$$,
	'IC003', NULL, 'amount with fractions of a penny: IC003');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "visa", "amount": 30}]}')$$,
	'IC003', NULL, 'card payment above what is owed: IC003');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "visa", "amount": 24.50, "reference": "4111 1111 1111 1111"}]}')$$,
	'IC003', 'payment 1 reference holds what looks like a payment card number', 'a full card number is refused: IC003');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "visa", "amount": 24.50, "reference": "5555-5555-5555-4444"}]}')$$,
	'IC003', NULL, 'a card number with hyphens is refused too');
SELECT throws_ok($$SELECT icos.place_order('[1, 2]')$$, '22023', 'order must be a JSON object', 'not an object');
SELECT is(pg_temp.snapshot(), current_setting('t.snap'), 'none of the refused orders changed anything');

-- A long number that is not Luhn-valid is an ordinary reference.
SELECT ok(NOT icos._looks_like_card_number('4111 1111 1111 1112'), 'Luhn-invalid number is not a card number');
SELECT ok(icos._looks_like_card_number('378282246310005'), '15-digit Amex test number is a card number');
SELECT ok(NOT icos._looks_like_card_number('auth 12345'), 'an authorisation code is not a card number');

-- order() and receipt() of an unknown code.
SELECT throws_ok($$SELECT icos.order(icos.next_order_code())$$, 'IC004', NULL, 'unknown order code: IC004');
SELECT throws_ok($$SELECT icos.receipt(icos.next_order_code())$$, 'IC004', NULL, 'receipt of an unknown order: IC004');

SELECT * FROM finish();
ROLLBACK;
