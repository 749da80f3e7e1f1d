-- pgTAP: the catalogue and stock API functions, their shapes, security
-- settings and every documented SQLSTATE.
BEGIN;
SELECT plan(63);
-- so that format_type shows icos.upc as upc in function_returns
SET LOCAL search_path = public, icos;

-- Shapes of the API.
SELECT has_table('icos', 'store', 'table icos.store');
SELECT has_table('icos', 'category', 'table icos.category');
SELECT has_table('icos', 'product', 'table icos.product');
SELECT has_table('icos', 'stock_slot', 'table icos.stock_slot');
SELECT has_table('icos', 'stock_movement', 'table icos.stock_movement');
SELECT has_table('icos', 'stock_hold', 'table icos.stock_hold');
SELECT has_view('icos', 'stock', 'view icos.stock');
SELECT col_is_pk('icos', 'product', 'upc', 'product is keyed by its upc');
SELECT col_type_is('icos', 'product', 'price', 'numeric(12,2)', 'price is numeric(12,2)');
SELECT has_function('icos', 'receive_stock', ARRAY['integer', 'icos.upc', 'integer', 'text']);
SELECT has_function('icos', 'set_display', ARRAY['integer', 'icos.upc', 'boolean']);
SELECT has_function('icos', 'hold_stock', ARRAY['integer', 'icos.upc', 'integer', 'interval']);
SELECT has_function('icos', 'release_hold', ARRAY['bigint']);
SELECT has_function('icos', 'availability', ARRAY['icos.upc', 'integer']);
SELECT has_function('icos', 'verify_stock', ARRAY[]::text[]);
SELECT has_function('icos', 'product_info', ARRAY['icos.upc']);
SELECT function_returns('icos', 'hold_stock', ARRAY['integer', 'upc', 'integer', 'interval'], 'bigint');
SELECT function_returns('icos', 'product_info', ARRAY['upc'], 'jsonb');
SELECT has_function('icos', '_reserve', ARRAY['integer', 'icos.upc', 'integer', 'text', 'text']);
SELECT has_function('icos', '_take_hold', ARRAY['bigint', 'integer', 'icos.upc', 'integer', 'text']);
SELECT function_returns('icos', '_best_store', ARRAY['upc', 'integer'], 'integer');

-- Every user-facing function is SECURITY DEFINER with a pinned search_path.
SELECT is(
	(SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
	  WHERE p.pronamespace = 'icos'::regnamespace
		AND p.proname IN ('receive_stock', 'set_display', 'hold_stock', 'release_hold', 'availability',
						  'verify_stock', 'product_info', 'adjust_stock', 'transfer_stock', 'expire_holds')
		AND p.prosecdef
		AND p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp']),
	ARRAY['adjust_stock', 'availability', 'expire_holds', 'hold_stock', 'product_info', 'receive_stock',
		  'release_hold', 'set_display', 'transfer_stock', 'verify_stock'],
	'API functions are SECURITY DEFINER with search_path pg_catalog, pg_temp');
SELECT is(
	(SELECT count(*)::int FROM pg_proc p
	  WHERE p.pronamespace = 'icos'::regnamespace AND p.proname ~ '^_(reserve|release|consume|return_stock|take_hold|available|best_store|stock_apply)$'
		AND NOT p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp']),
	0, 'engine functions pin their search_path too');
SELECT is(
	(SELECT count(*)::int FROM pg_class c
	  WHERE c.relnamespace = 'icos'::regnamespace
		AND c.relname IN ('store', 'category', 'product', 'stock_item', 'stock_slot', 'stock_movement', 'stock_hold', 'stock')
		AND obj_description(c.oid, 'pg_class') IS NOT NULL),
	8, 'every catalogue and stock relation has a comment');

-- Data for the behaviour tests.
INSERT INTO icos.store (store_id, name, kind) VALUES
	(9501, 'Tap Leeds', 'store'), (9502, 'Tap Hull', 'store'), (9503, 'Tap Web', 'web');
INSERT INTO icos.category VALUES (9500, NULL, 'Tap Home'), (9501, 9500, 'Tap Lamps');
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days, made_to_order) VALUES
	('012345000065', 'Tap Lamp', 9501, 19.99, 3, false),
	('50123452', 'Tap Shade', NULL, 5.00, 0, false);

SELECT lives_ok($$SELECT icos.receive_stock(9501, '012345000065', 5, 'delivery')$$, 'receive_stock');
SELECT is((SELECT on_hand FROM icos.stock WHERE store_id = 9501), 5, 'on hand after the receipt');
SELECT lives_ok($$SELECT icos.set_display(9502, '012345000065', true)$$, 'set_display on a store without stock');
SELECT is((SELECT on_display FROM icos.availability('012345000065', 9502)), true, 'availability shows the display');
SELECT is((SELECT count(*)::int FROM icos.availability('012345000065') WHERE store_id BETWEEN 9500 AND 9599),
		  2, 'availability lists the stores, not the web location');
SELECT is((SELECT lead_time_days FROM icos.availability('012345000065', 9502)), 3,
		  'no stock: the lead time is the product''s');
SELECT is(icos.product_info('012345000065')->'category_path', '["Tap Home", "Tap Lamps"]'::jsonb,
		  'product_info category path from the root');
SELECT is(icos.product_info('012345000065')->'price', '19.99'::jsonb, 'product_info price in pounds');
SELECT is(icos.product_info('012345000065')->'offers', '[]'::jsonb, 'product_info offers empty before promotions');

-- Holds.
SELECT icos.hold_stock(9501, '012345000065', 2) AS hold_id \gset
SELECT is(icos._available(9501, '012345000065'), 3, 'a hold reduces what is available');
SELECT lives_ok(format('SELECT icos.release_hold(%s)', :hold_id), 'release_hold');
SELECT is(icos._available(9501, '012345000065'), 5, 'released units are available again');
SELECT icos.hold_stock(9501, '012345000065', 5, '0 seconds') AS expired_hold \gset
SELECT is(icos._available(9501, '012345000065'), 5, 'an expired hold does not count');
SELECT lives_ok($$SELECT icos._reserve(9501, '012345000065', 5, 'ORDER-T', NULL)$$,
				'an expired hold does not block a reservation');
SELECT is((SELECT status FROM icos.stock_hold WHERE hold_id = :expired_hold), 'expired',
		  'the reservation released the expired hold');
SELECT throws_ok(format('SELECT icos._take_hold(%s, 9501, %L, 5, %L)', :expired_hold, '012345000065', 'ORDER-T'),
				 'IC004', NULL, 'an expired hold cannot be taken into an order');

-- IC001: not enough stock, with the product, store and what is available.
SELECT throws_ok($$SELECT icos._reserve(9501, '012345000065', 1, 'ORDER-T', NULL)$$, 'IC001',
				 'not enough stock of "Tap Lamp" (012345000065) at store 9501 (Tap Leeds)',
				 '_reserve beyond stock: IC001 naming product and store');
SELECT throws_ok($$SELECT icos.hold_stock(9502, '012345000065', 1)$$, 'IC001', NULL, 'hold_stock beyond stock: IC001');
SELECT throws_ok($$SELECT icos._release(9502, '012345000065', 1, NULL, NULL)$$, 'IC001', NULL,
				 '_release of what is not reserved: IC001');
SELECT throws_ok($$SELECT icos._consume(9502, '012345000065', 1, NULL, NULL)$$, 'IC001', NULL,
				 '_consume of what is not reserved: IC001');
SELECT throws_ok($$SELECT icos.adjust_stock(9501, '012345000065', -1, 'count')$$, 'IC001', NULL,
				 'removing reserved units: IC001');

-- IC004: unknown store, product or hold.
SELECT throws_ok($$SELECT icos.receive_stock(9599, '012345000065', 1, NULL)$$, 'IC004', 'store 9599 does not exist', 'receive_stock unknown store');
SELECT throws_ok($$SELECT icos.receive_stock(9501, '5012345678900', 1, NULL)$$, 'IC004',
				 'product 5012345678900 is not in the catalogue', 'receive_stock unknown product');
SELECT throws_ok($$SELECT icos._reserve(9599, '012345000065', 1, NULL, NULL)$$, 'IC004', NULL, '_reserve unknown store');
SELECT throws_ok($$SELECT icos._reserve(9501, '5012345678900', 1, NULL, NULL)$$, 'IC004', NULL, '_reserve unknown product');
SELECT throws_ok($$SELECT icos.release_hold(-42)$$, 'IC004', 'hold -42 does not exist', 'release_hold unknown hold');
SELECT throws_ok($$SELECT * FROM icos.availability('5012345678900')$$, 'IC004', NULL, 'availability unknown product');
SELECT throws_ok($$SELECT icos.product_info('5012345678900')$$, 'IC004', NULL, 'product_info unknown product');
SELECT throws_ok($$SELECT icos.set_display(9599, '012345000065', true)$$, 'IC004', NULL, 'set_display unknown store');

-- 22023: quantities must be positive.
SELECT throws_ok($$SELECT icos.receive_stock(9501, '012345000065', 0, NULL)$$, '22023', NULL, 'receive_stock qty 0');
SELECT throws_ok($$SELECT icos.hold_stock(9501, '012345000065', -1)$$, '22023', NULL, 'hold_stock qty -1');
SELECT throws_ok($$SELECT icos._reserve(9501, '012345000065', 0, NULL, NULL)$$, '22023', NULL, '_reserve qty 0');
SELECT throws_ok($$SELECT icos.hold_stock(9501, '012345000065', 1, '-5 minutes')$$, '22023', NULL, 'hold_stock negative time');
SELECT throws_ok($$SELECT icos.receive_stock(9503, '012345000065', 1, NULL)$$, '22023', NULL, 'no stock at a web location');

-- 22P02: a malformed code is refused before anything runs.
SELECT throws_ok($$SELECT icos.receive_stock(9501, '012345000066', 1, NULL)$$, '22P02', NULL, 'bad check digit');

-- The ledger is append-only; the counters agree with it.
SELECT throws_ok($$UPDATE icos.stock_movement SET reason = 'x' WHERE store_id = 9501$$, '42501', NULL, 'ledger UPDATE refused');
SELECT throws_ok($$DELETE FROM icos.stock_movement WHERE store_id = 9501$$, '42501', NULL, 'ledger DELETE refused');
SELECT is_empty($$SELECT * FROM icos.verify_stock()$$, 'verify_stock is clean');
UPDATE icos.stock_slot SET on_hand = on_hand + 1 WHERE store_id = 9501 AND slot = 0;
SELECT results_eq($$SELECT store_id, problem FROM icos.verify_stock()$$,
				  $$VALUES (9501, 'on_hand is 6 but the ledger says 5')$$, 'verify_stock reports a corrupted counter');

SELECT * FROM finish();
ROLLBACK;
