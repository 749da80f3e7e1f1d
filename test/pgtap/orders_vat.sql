-- VAT, currency, metadata, country and updated_at in the order document;
-- VAT on receipts, in sales_report and in icos.order_summary
-- (docs/orders.md "VAT", API.md additions of 0.3.0).
BEGIN;
SELECT plan(47);
\ir orders_fixture.psql

-- Rates and classes -----------------------------------------------------------
SELECT is((SELECT vat_class::text FROM icos.product WHERE upc = '5012345678900'), 'standard',
	'a product is standard-rated unless head office says otherwise');
SELECT results_eq($$SELECT vat_class::text, rate FROM icos.vat_rates ORDER BY rate DESC$$,
	$$VALUES ('standard', 20.00), ('reduced', 5.00), ('zero', 0.00)$$,
	'with no row in icos.vat_rate the classes have the UK rates');
UPDATE icos.product SET vat_class = 'zero' WHERE upc = '4006381333931';
UPDATE icos.product SET vat_class = 'reduced' WHERE upc = '5012345678900';
SELECT throws_ok($$UPDATE icos.product SET vat_class = 'luxury' WHERE upc = '036000291452'$$, '22P02',
	NULL, 'an unknown VAT class is refused');
SELECT throws_ok($$INSERT INTO icos.vat_rate VALUES ('standard', 100)$$, '23514',
	NULL, 'a rate of 100 per cent or more is refused');

-- The rounding rule: amount x rate / (100 + rate), to the nearest penny, halves up.
SELECT results_eq($$SELECT icos._vat_pence(p, r) FROM (VALUES (19999::bigint, 20.0), (6, 20), (3, 20), (9, 20),
	(8900, 5), (1, 5), (4900, 0), (0, 20), (21, 5)) v(p, r)$$,
	$$VALUES (3333::bigint), (1), (1), (2), (424), (0), (0), (0), (1)$$,
	'VAT in an amount: 199.99 at 20% is 33.33; 0.03 at 20% is 0.005, rounded up; 0.21 at 5% is 0.01');

-- An order of three classes -------------------------------------------------------
SELECT snapshot AS before FROM pg_temp.snapshot() \gset
SELECT set_config('t.a', icos.place_order('{
	"store": 9101, "channel": "store",
	"customer": {"name": "Val Added", "email": "val@example.com",
				 "address": {"line1": "3 Park Row", "town": "Leeds", "postcode": "ls1 5hd"}},
	"lines": [{"upc": "036000291452", "qty": 1}, {"upc": "4006381333931", "qty": 2},
			  {"upc": "5012345678900", "qty": 1}],
	"delivery": {"method": "home"},
	"metadata": {"cart": "c-1041", "utm": {"source": "mail"}, "gift": true}}')::text, true);
SELECT results_eq($$SELECT l ->> 'vat_rate', l ->> 'vat'
	FROM jsonb_array_elements(icos.order(current_setting('t.a')::icos.order_code) -> 'lines') l ORDER BY (l ->> 'line')::int$$,
	$$VALUES ('20', '33.33'), ('0', '0.00'), ('5', '4.24')$$,
	'each line shows its rate and the VAT in its net: 199.99 at 20%, 49.00 at 0%, 89.00 at 5%');
SELECT is((icos.order(current_setting('t.a')::icos.order_code) ->> 'vat')::numeric, 37.57,
	'the order''s vat is the sum of its lines'' VAT');
SELECT is(icos.order(current_setting('t.a')::icos.order_code) ->> 'currency', 'GBP', 'the currency is GBP by default');
SELECT is(icos.order(current_setting('t.a')::icos.order_code) -> 'metadata',
	'{"cart": "c-1041", "utm": {"source": "mail"}, "gift": true}'::jsonb, 'metadata comes back as given');
SELECT is(icos.order(current_setting('t.a')::icos.order_code) #>> '{delivery,address,country}', 'GB',
	'an address without a country is in GB');
SELECT ok((icos.order(current_setting('t.a')::icos.order_code) ->> 'updated_at')::timestamptz
	>= (icos.order(current_setting('t.a')::icos.order_code) ->> 'placed_at')::timestamptz,
	'a new order was last updated when it was placed');
SELECT set_config('t.updated', icos.order(current_setting('t.a')::icos.order_code) ->> 'updated_at', true);
SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'service', 'customer asked for a VAT invoice');
SELECT ok((icos.order(current_setting('t.a')::icos.order_code) ->> 'updated_at')::timestamptz
	> current_setting('t.updated')::timestamptz, 'a change moves updated_at on');

-- A later rate change leaves sold lines alone; new lines take the new rate.
INSERT INTO icos.vat_rate VALUES ('standard', 17.5);
SELECT is((SELECT rate FROM icos.vat_rates WHERE vat_class = 'standard'), 17.50, 'head office''s row sets the rate');
SELECT is(icos.order(current_setting('t.a')::icos.order_code) #>> '{lines,0,vat}', '33.33',
	'a line sold at 20% keeps its VAT after the rate changes');
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code,
	'{"add_lines": [{"upc": "036000291452", "qty": 1, "fulfil_from": 9102}]}')$$, 'a line is added by an edit');
SELECT results_eq($$SELECT l ->> 'vat_rate', l ->> 'vat'
	FROM jsonb_array_elements(icos.order(current_setting('t.a')::icos.order_code) -> 'lines') l
	WHERE (l ->> 'line')::int IN (1, 4) ORDER BY (l ->> 'line')::int$$,
	$$VALUES ('20', '33.33'), ('17.5', '29.79')$$,
	'the line an edit adds takes the rate of when it is written (199.99 at 17.5% is 29.79), the old line keeps 20%');
SELECT is((icos.order(current_setting('t.a')::icos.order_code) ->> 'vat')::numeric, 37.57 + 29.79,
	'the order''s vat follows');
SELECT set_config('t.b', icos.place_order('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "036000291452", "qty": 1}], "payments": [{"method": "cash", "amount": 200}]}')::text, true);
SELECT is(icos.order(current_setting('t.b')::icos.order_code) #>> '{lines,0,vat_rate}', '17.5',
	'a new order takes the new rate');
DELETE FROM icos.vat_rate;

-- Cancelled lines carry no VAT.
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"cancel_lines": [4]}')$$,
	'the added line is cancelled');
SELECT is((icos.order(current_setting('t.a')::icos.order_code) ->> 'vat')::numeric, 37.57,
	'a cancelled line''s VAT is gone from the order');

-- Receipts -------------------------------------------------------------------------
SELECT matches(icos.receipt(current_setting('t.a')::icos.order_code),
	E'VAT included\n  VAT 20% on 199\\.99 +33\\.33\n  VAT 5% on 89\\.00 +4\\.24\n  VAT 0% on 49\\.00 +0\\.00\n  Total VAT +37\\.57\n',
	'the receipt shows the VAT included per rate, highest first, and its total');
SELECT is((SELECT max(length(x)) FROM regexp_split_to_table(icos.receipt(current_setting('t.a')::icos.order_code), E'\n') x),
	40, 'the receipt stays 40 columns wide');
SELECT matches(icos.receipt(current_setting('t.b')::icos.order_code), E'  VAT 17\\.5% on 199\\.99 +29\\.79\n',
	'a rate with a fraction prints as it is');

-- Currency -------------------------------------------------------------------------
INSERT INTO icos.setting VALUES ('currency', 'EUR');
SELECT is(icos.order(current_setting('t.a')::icos.order_code) ->> 'currency', 'EUR', 'the currency is the deployment''s setting');
SELECT throws_ok($$UPDATE icos.setting SET value = 'euro' WHERE name = 'currency'$$, '23514', NULL,
	'a currency is three capital letters');
DELETE FROM icos.setting WHERE name = 'currency';

-- Reports --------------------------------------------------------------------------
-- by product: whole days from the rollup (VAT from the lines); by hour: raw lines.
SELECT results_eq($$SELECT key, vat FROM icos.sales_report(current_date - 1, current_date + 1, 'product') ORDER BY key$$,
	$$VALUES ('036000291452', 63.12), ('4006381333931', 0.00), ('5012345678900', 4.24)$$,
	'sales_report shows the VAT of each product (pending deltas)');
SELECT is((SELECT sum(vat) FROM icos.sales_report(current_date - 1, current_date + 1, 'hour')), 67.36,
	'the same VAT grouped by hour, from the raw lines');
SELECT icos.rollup_sales() IS NOT NULL AS rolled;
SELECT results_eq($$SELECT key, vat FROM icos.sales_report(current_date - 1, current_date + 1, 'product') ORDER BY key$$,
	$$VALUES ('036000291452', 63.12), ('4006381333931', 0.00), ('5012345678900', 4.24)$$,
	'and the same once folded into the rollup');
SELECT is((SELECT sum(vat) FROM icos.sales_report(now() - interval '1 hour', now() + interval '1 hour', 'channel')), 67.36,
	'and over a part of a day');
SELECT results_eq($$SELECT key, orders, units, net FROM icos.sales_report(current_date - 1, current_date + 1, 'channel') ORDER BY key$$,
	$$VALUES ('pos', 1::bigint, 1::bigint, 199.99), ('store', 1, 4, 337.99)$$,
	'the other columns are as before');

-- The BI view, as a reporter and as an agent --------------------------------------
SELECT icos.create_employee(9321, 'Rita Reporter', 9101, 'reporter', pg_temp.verifier('rita'));
SELECT icos.create_employee(9322, 'Alan Agent', 9101, 'agent', pg_temp.verifier('alan'));
SET SESSION AUTHORIZATION emp_9321;
SELECT results_eq($$SELECT channel, store, status, total, vat, paid, balance FROM icos.order_summary
	WHERE code = current_setting('t.a')::icos.order_code$$,
	$$VALUES ('store'::icos.order_channel, 9101, 'awaiting_payment'::icos.order_status, 337.99, 37.57, 0.00, 337.99)$$,
	'icos.order_summary: one row per order with its total, VAT, paid and balance');
SELECT is((SELECT count(*)::int FROM icos.order_summary WHERE code IN (current_setting('t.a')::icos.order_code,
	current_setting('t.b')::icos.order_code)), 2, 'the reporter sees every order');
SELECT is((SELECT vat FROM icos.order_summary WHERE code = current_setting('t.b')::icos.order_code), 29.79,
	'a till sale''s VAT');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9322;
SELECT throws_ok($$SELECT count(*) FROM icos.order_summary$$, '42501', NULL, 'an agent does not read the BI view');
SELECT is((SELECT rate FROM icos.vat_rates WHERE vat_class = 'reduced'), 5.00, 'staff read the VAT rates');
SELECT throws_ok($$INSERT INTO icos.vat_rate VALUES ('zero', 1)$$, '42501', NULL, 'only admins set VAT rates');
RESET SESSION AUTHORIZATION;

-- Metadata and country: bad input changes nothing ------------------------------------
SELECT snapshot AS before FROM pg_temp.snapshot() \gset
CREATE FUNCTION pg_temp.till(p_extra jsonb) RETURNS icos.order_code LANGUAGE sql AS $$
	SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
		"payments": [{"method": "cash", "amount": 30}]}'::jsonb || p_extra)
$$;
SELECT throws_ok($$SELECT pg_temp.till('{"metadata": ["a"]}')$$, '22023', 'order "metadata" must be a JSON object',
	'metadata that is not an object is 22023');
SELECT throws_ok($$SELECT pg_temp.till('{"metadata": "x"}')$$, '22023', NULL, 'metadata that is text is 22023');
SELECT throws_ok(format($$SELECT pg_temp.till('{"metadata": {"k": "%s"}}')$$, repeat('a', 4088)), '22001',
	'the order''s metadata is too long', 'metadata over 4096 characters is 22001');
SELECT throws_ok($$SELECT pg_temp.till('{"metadata": {"note": "card 4111 1111 1111 1111"}}')$$, 'IC003', NULL,
	'a card number in metadata is refused');
CREATE FUNCTION pg_temp.home(p_address jsonb) RETURNS icos.order_code LANGUAGE sql AS $$
	SELECT icos.place_order(jsonb_build_object('store', 9101, 'channel', 'phone',
		'customer', jsonb_build_object('name', 'Ivy', 'email', 'ivy@example.com'),
		'lines', '[{"upc": "4006381333931", "qty": 1}]'::jsonb,
		'delivery', jsonb_build_object('method', 'home', 'address', p_address)))
$$;
SELECT throws_ok($$SELECT pg_temp.home('{"line1": "1 Quay", "town": "Dublin", "postcode": "D01", "country": "UK"}')$$,
	'22023', 'delivery address country "UK" is not a country code', 'UK is not a country code (GB is)');
SELECT throws_ok($$SELECT pg_temp.home('{"line1": "1 Quay", "town": "Dublin", "postcode": "D01", "country": "XX"}')$$,
	'22023', NULL, 'an unassigned code is refused');
SELECT throws_ok($$SELECT pg_temp.home('{"line1": "1 Quay", "town": "Dublin", "postcode": "D01", "country": 353}')$$,
	'22023', NULL, 'a country that is not text is refused');
SELECT is(pg_temp.snapshot(), :'before', 'refused orders changed nothing');
SELECT pg_temp.till(format('{"metadata": {"k": "%s"}}', repeat('a', 4087))::jsonb) AS m4096,
	   pg_temp.home('{"line1": "1 Quay", "town": "Dublin", "postcode": "d01 f5p2", "country": " ie "}') AS dublin,
	   pg_temp.till('{}') AS plain \gset
SELECT is(icos.order(:'m4096') #>> '{metadata,k}', repeat('a', 4087), 'metadata of exactly 4096 characters is kept');
SELECT is(icos.order(:'dublin') -> 'delivery' -> 'address',
	'{"line1": "1 Quay", "town": "Dublin", "postcode": "D01 F5P2", "country": "IE"}'::jsonb,
	'a country is kept in capitals');
SELECT is(icos.order(:'plain') -> 'metadata', '{}'::jsonb, 'an order without metadata shows {}');

SELECT * FROM finish();
ROLLBACK;
