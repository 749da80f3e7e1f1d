-- pgTAP: icos.product_info, the product look-up's document, written by the
-- engine (src/product_info.c), against the PL/pgSQL body of 0.2.0 that it
-- replaced: the same document, key for key and byte for byte as text, for
-- a product with offers, one without a category, description or stock, and
-- stores of every kind (stock, holds live and expired, display, another
-- node's republished figures, an inactive store, a web store).
BEGIN;
SELECT plan(16);

\ir product_info_020.psql

INSERT INTO icos.store (store_id, name, kind) VALUES
	(9601, 'Info Leeds', 'store'), (9602, 'Info Depot', 'warehouse'), (9603, 'Info Web', 'web'),
	(9604, 'Info Closed', 'store'), (9605, 'Info Ely "East"', 'store');
UPDATE icos.store SET active = false WHERE store_id = 9604;
INSERT INTO icos.category VALUES (9600, NULL, 'Info Home'), (9601, 9600, 'Info Lamps'),
	(9602, 9601, 'Info Desk Lamps');
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days, made_to_order, description) VALUES
	('4006381333931', 'Info Lamp', 9602, 1234.5, 3, false,
	 E'Brass, 40 cm: the "Anglepoise" look \u2014 tab\tand line\nbreak'),
	('96385074', 'Info Sofa', NULL, 0, 42, true, NULL);
INSERT INTO icos.product (upc, name, price, lead_time_days, active) VALUES
	('50123452', 'Info Old Shade', 5.00, 0, false);

DO $$
BEGIN
	PERFORM icos.receive_stock(9601, '4006381333931', 10, 'delivery');
	PERFORM icos.hold_stock(9601, '4006381333931', 3);
	PERFORM icos.hold_stock(9601, '4006381333931', 2, '0 seconds');
	PERFORM icos.set_display(9602, '4006381333931', true);
END
$$;
-- another node's store, as head office republished it
INSERT INTO icos.stock_availability (store_id, upc, on_hand, reserved, available)
VALUES (9605, '4006381333931', 4, 1, 3);

INSERT INTO icos.promotion (promotion_id, name, kind, rule, starts_at, ends_at, stores, channels, coupon) VALUES
	(9601, 'Info lamp 10% off', 'percent_off', '{"target": {"upc": ["4006381333931"]}, "percent": 10}',
	 now() - interval '1 day', now() + interval '1 day', ARRAY[9601], NULL, NULL),
	(9602, 'Info lamps: 2nd at half price', 'buy_get',
	 '{"buy": {"category": [9601]}, "buy_qty": 1, "get_qty": 1, "percent": 50}',
	 NULL, NULL, NULL, ARRAY['web'], 'LAMPS'),
	(9603, 'Info lamps last week', 'percent_off', '{"target": {"category": [9600]}, "percent": 5}',
	 now() - interval '8 days', now() - interval '1 day', NULL, NULL, NULL);

SELECT is(icos.product_info('4006381333931')::text, pg_temp.product_info_020('4006381333931')::text,
		  'a product with offers, stock, holds and a display: the 0.2.0 document, as text');
SELECT is(icos.product_info('96385074')::text, pg_temp.product_info_020('96385074')::text,
		  'a product without category, description or stock: the 0.2.0 document, as text');
SELECT is(icos.product_info('50123452')::text, pg_temp.product_info_020('50123452')::text,
		  'an inactive product: the 0.2.0 document, as text');
SELECT ok(icos.product_info('4006381333931') @> pg_temp.product_info_020('4006381333931')
		  AND pg_temp.product_info_020('4006381333931') @> icos.product_info('4006381333931'),
		  'containment both ways (jsonb''s binary search of every object''s keys)');
SELECT is(icos.product_info('4006381333931'), icos.product_info('4006381333931')::text::jsonb,
		  'the document equals its text parsed back');

-- What the document says.
SELECT is(icos.product_info('4006381333931')->>'category', 'Info Desk Lamps', 'category: the leaf');
SELECT is(icos.product_info('4006381333931')->'category_path',
		  '["Info Home", "Info Lamps", "Info Desk Lamps"]'::jsonb, 'category_path from the root');
SELECT is(icos.product_info('4006381333931')->'price', '1234.5'::jsonb, 'the price as stored');
SELECT is(jsonb_path_query_array(icos.product_info('4006381333931')->'offers', '$[*].id'),
		  '[9601, 9602]'::jsonb, 'the offers in force now, by id; not last week''s');
SELECT is(icos.product_info('4006381333931')->'offers'->1->>'coupon', 'LAMPS', 'an offer''s coupon');
SELECT is((SELECT a FROM jsonb_array_elements(icos.product_info('4006381333931')->'availability') a
		   WHERE a->>'store_id' = '9601'),
		  '{"store_id": 9601, "store_name": "Info Leeds", "on_hand": 10, "reserved": 3,
			"available": 7, "on_display": false, "lead_time_days": 0}'::jsonb,
		  'a store with stock: the live hold reserves, the expired one does not');
SELECT is((SELECT a FROM jsonb_array_elements(icos.product_info('4006381333931')->'availability') a
		   WHERE a->>'store_id' = '9602'),
		  '{"store_id": 9602, "store_name": "Info Depot", "on_hand": 0, "reserved": 0,
			"available": 0, "on_display": true, "lead_time_days": 3}'::jsonb,
		  'a warehouse with the product on display and none in stock: the lead time');
SELECT is((SELECT a FROM jsonb_array_elements(icos.product_info('4006381333931')->'availability') a
		   WHERE a->>'store_id' = '9605'),
		  '{"store_id": 9605, "store_name": "Info Ely \"East\"", "on_hand": 4, "reserved": 1,
			"available": 3, "on_display": false, "lead_time_days": 0}'::jsonb,
		  'another node''s store: head office''s republished figures');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(icos.product_info('4006381333931')->'availability') a
		   WHERE a->>'store_id' IN ('9603', '9604')),
		  0, 'neither a web store nor an inactive store is listed');
SELECT is(icos.product_info('96385074')->'description', 'null'::jsonb, 'no description: null');
SELECT is(jsonb_typeof(icos.product_info('96385074')->'category_path'), 'array',
		  'no category: an empty path');

SELECT * FROM finish();
ROLLBACK;
