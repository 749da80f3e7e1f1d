-- Promotions through the order API: place_order and edit_order store the
-- per-line discounts and promotion ids, icos.order and icos.receipt show
-- them, cancelling one of two "buy one get 25% off another" items takes the
-- discount back; privileges of the promotion table; a change committed by
-- another session is seen (relcache invalidation, here within one
-- transaction).
BEGIN;
SELECT plan(39);
\ir orders_fixture.psql

INSERT INTO icos.category (category_id, parent_id, name) VALUES (9190, NULL, 'Televisions');
INSERT INTO icos.product (upc, name, category_id, price) VALUES
	('20900137', 'Television 55', 9190, 400.00),
	('20900144', 'Television 65', 9190, 600.00);
SELECT icos.receive_stock(9101, '20900137', 5, 'fixture');
SELECT icos.receive_stock(9101, '20900144', 5, 'fixture');
INSERT INTO icos.promotion (promotion_id, name, kind, rule) VALUES
	(9901, 'TV: 2nd at 25% off', 'buy_get', '{"buy": {"category": [9190]}, "buy_qty": 1, "get_qty": 1, "percent": 25}'),
	(9902, 'Lamp 10% off', 'percent_off', '{"target": {"upc": ["4006381333931"]}, "percent": 10}');

CREATE FUNCTION pg_temp.doc(p text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT icos.order(current_setting(p)::icos.order_code)
$$;

-- Two televisions at 400.00 on two lines, a deposit of 350.00.
SELECT isnt(set_config('t.tv', icos.place_order('{
	"store": 9101, "channel": "store",
	"customer": {"name": "Tom Vale", "email": "tom@example.com"},
	"lines": [{"upc": "20900137", "qty": 1}, {"upc": "20900137", "qty": 1}, {"upc": "4006381333931", "qty": 1}],
	"delivery": {"method": "collect"},
	"payments": [{"method": "visa", "amount": 350}]}')::text, true), NULL, 'place an order of two televisions and a lamp');

SELECT is((pg_temp.doc('t.tv') ->> 'total')::numeric, 722.05, 'total: 800.00 less 100.00 on a TV, 24.50 less 2.45 on the lamp');
SELECT is((pg_temp.doc('t.tv') -> 'discount')::numeric, 102.45, 'order discount');
SELECT is((SELECT sum((l ->> 'discount')::numeric) FROM jsonb_array_elements(pg_temp.doc('t.tv') -> 'lines') l),
	102.45, 'line discounts add up to the order''s');
SELECT is((SELECT array_agg((l ->> 'discount')::numeric ORDER BY (l ->> 'line')::int)
		   FROM jsonb_array_elements(pg_temp.doc('t.tv') -> 'lines') l),
	'{0.00,100.00,2.45}'::numeric[], 'the 25% is on one television (of equal units, the get unit comes from the later line), the 10% on the lamp');
SELECT is((SELECT array_agg((l ->> 'net')::numeric ORDER BY (l ->> 'line')::int)
		   FROM jsonb_array_elements(pg_temp.doc('t.tv') -> 'lines') l),
	'{400.00,300.00,22.05}'::numeric[], 'lines'' net');
SELECT is((SELECT array_agg(discount_pence ORDER BY line) FROM icos.order_line
		   WHERE code = current_setting('t.tv')::icos.order_code),
	'{0,10000,245}'::bigint[], 'per-line discounts are stored in pence');
SELECT is((SELECT jsonb_path_query_array(pricing, '$.lines[*].promotions[*].id') FROM icos.orders
		   WHERE code = current_setting('t.tv')::icos.order_code),
	'[9901, 9902]'::jsonb, 'the promotion ids of each line are stored in the order''s pricing');
SELECT is(jsonb_path_query_array(pg_temp.doc('t.tv'), '$.promotions[*].name'),
	'["TV: 2nd at 25% off", "Lamp 10% off"]'::jsonb, 'icos.order lists the promotions applied');
SELECT is((pg_temp.doc('t.tv') ->> 'balance')::numeric, 372.05, 'balance after the deposit');

-- The receipt names each promotion under the item it discounted.
SELECT matches(icos.receipt(current_setting('t.tv')::icos.order_code),
	E'Television 55\n  1 x 400.00  20900137 +400.00\n  TV: 2nd at 25% off +-100.00\nDesk lamp\n',
	'receipt: the saving under the discounted television, named');
SELECT matches(icos.receipt(current_setting('t.tv')::icos.order_code),
	E'Desk lamp\n.*\n  Lamp 10% off +-2.45\n', 'receipt: the lamp''s saving, named');
SELECT matches(icos.receipt(current_setting('t.tv')::icos.order_code),
	E'Discounts +-102.45\nTOTAL +722.05\n', 'receipt: discounts and total');

-- Cancel the television that paid full price: the other loses its 25% off.
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.tv')::icos.order_code, '{"cancel_lines": [1]}')$$,
	'cancel one of the two televisions');
SELECT is((pg_temp.doc('t.tv') ->> 'total')::numeric, 422.05, 'total: one television at full price and the lamp');
SELECT is((SELECT array_agg((l ->> 'discount')::numeric ORDER BY (l ->> 'line')::int)
		   FROM jsonb_array_elements(pg_temp.doc('t.tv') -> 'lines') l),
	'{0.00,0.00,2.45}'::numeric[], 'the 25% off is taken back');
SELECT is((pg_temp.doc('t.tv') -> 'lines' -> 0 ->> 'status'), 'cancelled', 'line 1 is cancelled');
SELECT is((pg_temp.doc('t.tv') ->> 'balance')::numeric, 72.05,
	'the balance shows what is still owed (422.05 less the 350.00 deposit)');
SELECT is(jsonb_path_query_array(pg_temp.doc('t.tv'), '$.promotions[*].id'), '[9902]'::jsonb,
	'only the lamp''s promotion still applies');
SELECT is((SELECT jsonb_path_query_array(pricing, '$.not_applied[*] ? (@.id == 9901).reason') FROM icos.orders
		   WHERE code = current_setting('t.tv')::icos.order_code),
	'["qty_short"]'::jsonb, 'and the pricing says why the TV offer no longer applies');
SELECT unalike(icos.receipt(current_setting('t.tv')::icos.order_code), '%25\% off%',
	'the receipt no longer shows the TV saving');

-- Adding a dearer television back: the cheaper one is now the discounted one.
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.tv')::icos.order_code,
	'{"add_lines": [{"upc": "20900144", "qty": 1}]}')$$, 'add a 65-inch television');
SELECT is((SELECT array_agg((l ->> 'discount')::numeric ORDER BY (l ->> 'line')::int)
		   FROM jsonb_array_elements(pg_temp.doc('t.tv') -> 'lines') l),
	'{0.00,100.00,2.45,0.00}'::numeric[], '25% off the cheaper television again');
SELECT is((pg_temp.doc('t.tv') ->> 'total')::numeric, 922.05, 'total 400 + 600 - 100 + 22.05');

-- The promotions report groups by promotion.
SELECT is((SELECT discount FROM icos.sales_report(now() - interval '1 hour', now() + interval '1 hour', 'promotion', 9101)
		   WHERE key = '9901'),
	100.00, 'sales by promotion: the TV offer''s discount');

-- Privileges: agents and reporters read promotions and price baskets;
-- only admins write promotions.
SET LOCAL ROLE icos_agent;
SELECT is((icos.price_basket('{"lines": [{"upc": "4006381333931", "qty": 1}]}') ->> 'total')::numeric, 22.05,
	'an agent prices a basket with promotions');
SELECT is((SELECT count(*) FROM icos.promotion WHERE promotion_id IN (9901, 9902)), 2::bigint, 'an agent reads promotions');
SELECT throws_ok($$UPDATE icos.promotion SET priority = 9 WHERE promotion_id = 9902$$, '42501', NULL,
	'an agent cannot change a promotion');
SELECT ok(EXISTS (SELECT 1 FROM icos.offers(current_date) WHERE promotion_id = 9901), 'an agent reads the offers diary');
RESET ROLE;
SET LOCAL ROLE icos_admin;
SELECT lives_ok($$UPDATE icos.promotion SET rule = '{"target": {"upc": ["4006381333931"]}, "percent": 20}'
	WHERE promotion_id = 9902$$, 'an admin changes a promotion with plain SQL');
SELECT throws_ok($$UPDATE icos.promotion SET rule = '{"target": {"upc": ["4006381333931"]}, "percent": "lots"}'
	WHERE promotion_id = 9902$$, 'IC005', NULL, 'an invalid rule is refused for admins too');
RESET ROLE;
SELECT is((icos.price_basket('{"lines": [{"upc": "4006381333931", "qty": 1}]}') ->> 'total')::numeric, 19.60,
	'the admin''s change applies to the next basket');

-- PUBLIC may not price baskets (price_basket runs as its caller, it is not
-- SECURITY DEFINER, so it is revoked explicitly).
SELECT ok(NOT has_function_privilege('public', 'icos.price_basket(jsonb)', 'EXECUTE'),
	'PUBLIC may not execute price_basket');
-- The caller's search_path cannot redirect price_basket's own queries.
CREATE SCHEMA evil_promo;
CREATE TABLE evil_promo.product (upc icos.upc, price numeric, category_id int);
INSERT INTO evil_promo.product VALUES ('4006381333931', 0.01, NULL);
CREATE TABLE evil_promo.promotion (LIKE icos.promotion);
SET LOCAL search_path = evil_promo, pg_temp, icos, public;
-- The promotion index and the product cache are both rebuilt under this path.
UPDATE icos.product SET price = 25.00 WHERE upc = '4006381333931';
UPDATE icos.promotion SET priority = 1 WHERE promotion_id = 9902;
SELECT is((icos.price_basket('{"lines": [{"upc": "4006381333931", "qty": 1}]}') ->> 'total')::numeric, 20.00,
	'a hostile search_path changes nothing: 25.00 less 20%');
RESET search_path;
SELECT is(icos.price_basket('{"lines": [{"upc": "4006381333931", "qty": 1}]}') -> 'lines' -> 0 -> 'promotions',
	'[{"id": 9902, "amount": 5.00}]'::jsonb, 'the line names the promotion and its amount');

-- SQLSTATEs of price_basket (API.md).
SELECT throws_ok($$SELECT icos.price_basket('{"lines": [{"upc": "12345670", "qty": 1}]}')$$, 'IC004', NULL,
	'unknown product: IC004');
SELECT throws_ok($$SELECT icos.price_basket('{"lines": [{"upc": "4006381333932", "qty": 1}]}')$$, '22P02', NULL,
	'malformed code: 22P02');
SELECT throws_ok($$SELECT icos.price_basket('{"lines": [], "voucher": "X"}')$$, '22023', NULL,
	'unknown key: 22023');
SELECT throws_ok($$INSERT INTO icos.promotion (promotion_id, name, kind, rule)
	VALUES (9903, 'bad', 'bundle', '{"items": [{"all": true}], "price": 1}')$$, 'IC005', NULL,
	'invalid rule: IC005');

SELECT * FROM finish();
ROLLBACK;
