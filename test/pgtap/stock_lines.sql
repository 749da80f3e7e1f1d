-- pgTAP: icos._stock_lines, the one-call stock change of an order's lines
-- (reserve, or sell straight off the shelf for goods carried out), and the
-- ledger that place_order leaves for a till sale.
BEGIN;
SELECT plan(27);

INSERT INTO icos.store (store_id, name, kind) VALUES
	(9701, 'Lines A', 'store'), (9702, 'Lines B', 'store'), (9703, 'Lines web', 'web');
INSERT INTO icos.category (category_id, name) VALUES (9701, 'Lines') ON CONFLICT DO NOTHING;
INSERT INTO icos.product (upc, name, category_id, price) VALUES
	('036000291452', 'Oak table', 9701, 10.00), ('4006381333931', 'Lamp', 9701, 2.50),
	('96385074', 'Rug', 9701, 4.00)
	ON CONFLICT (upc) DO NOTHING;
SELECT icos.receive_stock(9701, '036000291452', 5, 'test');
SELECT icos.receive_stock(9701, '4006381333931', 5, 'test');
SELECT icos.receive_stock(9702, '036000291452', 5, 'test');

CREATE FUNCTION pg_temp.level(p_store int, p_upc text) RETURNS text LANGUAGE sql AS $$
	SELECT format('%s/%s/%s', on_hand, reserved, available) FROM icos.stock
	WHERE store_id = p_store AND upc = p_upc::icos.upc
$$;
CREATE FUNCTION pg_temp.ledger(p_order text) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(format('%s %s %s %s/%s', kind, store_id, upc, d_on_hand, d_reserved), '; '
					  ORDER BY movement_id)
	FROM icos.stock_movement WHERE order_code = p_order
$$;

-- Shape and security.
SELECT has_function('icos', '_stock_lines', ARRAY['text', 'integer[]', 'icos.upc[]', 'integer[]', 'text', 'text[]']);
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'icos._stock_lines(text,int[],icos.upc[],int[],text,text[])'::regprocedure),
	ARRAY['search_path=pg_catalog, pg_temp'], 'the engine function pins its search_path');
SELECT ok(NOT has_function_privilege('public', 'icos._stock_lines(text,int[],icos.upc[],int[],text,text[])', 'execute'),
	'PUBLIC may not execute it');

-- A sale takes unreserved units off the shelf in one step.
SELECT lives_ok($$SELECT icos._stock_lines('sale', '{9701,9701}', '{4006381333931,036000291452}', '{2,1}',
											'T-SALE', '{"lamp out","table out"}')$$, 'two lines sold');
SELECT is(pg_temp.level(9701, '036000291452'), '4/0/4', 'table: on hand drops, nothing reserved');
SELECT is(pg_temp.level(9701, '4006381333931'), '3/0/3', 'lamp: on hand drops by 2');
SELECT is(pg_temp.ledger('T-SALE'),
	'sale 9701 036000291452 -1/0; sale 9701 4006381333931 -2/0',
	'one ledger row of kind sale per line, d_reserved 0, in (store, upc) order whatever the order given');
SELECT is((SELECT string_agg(reason, ', ' ORDER BY movement_id) FROM icos.stock_movement WHERE order_code = 'T-SALE'),
	'table out, lamp out', 'each line keeps its own note');
SELECT is((SELECT DISTINCT actor FROM icos.stock_movement WHERE order_code = 'T-SALE'), session_user::text,
	'the ledger records the session user');

-- A reservation across two stores.
SELECT lives_ok($$SELECT icos._stock_lines('reserve', '{9702,9701}', '{036000291452,036000291452}', '{2,3}',
											'T-RES', NULL)$$, 'reserved at two stores, notes null');
SELECT is(pg_temp.level(9701, '036000291452'), '4/3/1', 'store A: 3 reserved');
SELECT is(pg_temp.level(9702, '036000291452'), '5/2/3', 'store B: 2 reserved');
SELECT is(pg_temp.ledger('T-RES'), 'reserve 9701 036000291452 0/3; reserve 9702 036000291452 0/2',
	'reserve rows, store order');

-- A sale never takes reserved units: only 1 table is free at store A.
SELECT throws_ok($$SELECT icos._stock_lines('sale', '{9701}', '{036000291452}', '{2}', 'T-OVER', NULL)$$,
	'IC001', NULL, 'selling more than is available: IC001');
SELECT throws_ok($$SELECT icos._stock_lines('sale', '{9701,9701}', '{4006381333931,036000291452}', '{1,2}', 'T-OVER', NULL)$$,
	'IC001', NULL, 'second line short: IC001');
SELECT is(pg_temp.level(9701, '4006381333931'), '3/0/3', 'and the first line was not kept');
SELECT is(pg_temp.ledger('T-OVER'), NULL, 'no ledger rows for a refused change');
-- Two lines of the same product are taken one after the other.
SELECT lives_ok($$SELECT icos._stock_lines('sale', '{9701,9701}', '{4006381333931,4006381333931}', '{1,2}', 'T-TWICE', NULL)$$,
	'the same product on two lines');
SELECT is(pg_temp.level(9701, '4006381333931'), '0/0/0', 'both lines taken');

-- Bad input: clear errors.
SELECT throws_ok($$SELECT icos._stock_lines('sale', '{9701}', '{96385074}', '{1}', NULL, NULL)$$,
	'IC001', NULL, 'a product the store has never stocked: IC001 (none available)');
SELECT throws_ok($$SELECT icos._stock_lines('sale', '{9701}', '{00000000000017}', '{1}', NULL, NULL)$$,
	'IC004', NULL, 'unknown product: IC004');
SELECT throws_ok($$SELECT icos._stock_lines('sell', '{9701}', '{036000291452}', '{1}', NULL, NULL)$$,
	'22023', 'unknown stock change "sell" for order lines', 'unknown kind');
SELECT throws_ok($$SELECT icos._stock_lines('sale', '{9701,9701}', '{036000291452}', '{1,1}', NULL, NULL)$$,
	'2202E', NULL, 'arrays of different lengths');
SELECT throws_ok($$SELECT icos._stock_lines('sale', '{9701}', '{036000291452}', '{0}', NULL, NULL)$$,
	'22023', 'quantity must be a positive whole number', 'zero quantity');

-- place_order: a till sale leaves one sale row per line, nothing reserved.
SELECT set_config('t.code', icos.place_order('{"store": 9702, "channel": "pos",
	"lines": [{"upc": "036000291452", "qty": 2}], "payments": [{"method": "cash", "amount": 20}]}')::text, true);
SELECT is(pg_temp.ledger(current_setting('t.code')), 'sale 9702 036000291452 -2/0',
	'a carried-out line is one sale movement (no reserve, no consume)');
SELECT is(pg_temp.level(9702, '036000291452'), '3/2/1', 'two tables left the store; the other order''s reservation stands');
SELECT is_empty($$SELECT * FROM icos.verify_stock() WHERE store_id IN (9701, 9702)$$,
	'the counters still agree with the ledger');

SELECT * FROM finish();
ROLLBACK;
