-- pgTAP: step 1 of the stock engine for every line of an order in one
-- statement (src/stock.c, stock_fast_lines).  It must change exactly the
-- slots the line-by-line step 1 would (the slot this backend prefers, else
-- the next one walking round), and leave nothing behind when a line cannot
-- be taken so and the lines are taken one by one instead.
BEGIN;
SELECT plan(28);

INSERT INTO icos.store (store_id, name, kind) VALUES (9801, 'Batch A', 'store');
INSERT INTO icos.category (category_id, name) VALUES (9801, 'Batch') ON CONFLICT DO NOTHING;
INSERT INTO icos.product (upc, name, category_id, price) VALUES
	('400000000077', 'Batch bowl', 9801, 3.00), ('400000000084', 'Batch cup', 9801, 2.00),
	('400000000091', 'Batch jug', 9801, 5.00), ('96385074', 'Batch rug', 9801, 4.00)
	ON CONFLICT (upc) DO NOTHING;
-- bowl, cup: 4 slots of 10; jug: 64 slots of 1
SET LOCAL icos.stock_slots = 4;
SELECT icos.receive_stock(9801, '400000000077', 40, 'test');
SELECT icos.receive_stock(9801, '400000000084', 40, 'test');
SET LOCAL icos.stock_slots = 64;
SELECT icos.receive_stock(9801, '400000000091', 64, 'test');
RESET icos.stock_slots;

-- Each batch that takes every line keeps its subtransaction (and its id in
-- the cache of running subtransaction ids) until the transaction ends: a
-- transaction with 32 of them takes further orders line by line.  The ids
-- assigned after this transaction's own are counted up to the first one not
-- yet given out (nothing else runs while the tests run); the one pgTAP's
-- plan() took (its exception block created tables) counts among the 32.
INSERT INTO icos.store (store_id, name, kind) VALUES (9802, 'Batch B', 'store');
SELECT icos.receive_stock(9802, '400000000077', 100, 'test');
SELECT icos.receive_stock(9802, '400000000084', 100, 'test');
CREATE FUNCTION pg_temp.later_xids() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	top bigint := pg_catalog.pg_current_xact_id()::text::bigint;
	k int := 0;
BEGIN
	LOOP
		BEGIN
			PERFORM pg_catalog.pg_xact_status((top + k + 1)::text::xid8);
		EXCEPTION WHEN invalid_parameter_value THEN
			RETURN k;	-- "transaction ID ... is in the future"
		END;
		k := k + 1;
	END LOOP;
END $$;
SELECT cmp_ok(pg_temp.later_xids(), '<', 8, 'before: few subtransaction ids');
SELECT is((SELECT count(icos._stock_lines('reserve', '{9802,9802}', '{400000000077,400000000084}', '{1,1}', 'T-MANY', NULL))::int
		   FROM generate_series(1, 40)), 40, '40 orders of two lines in one transaction');
SELECT is(pg_temp.later_xids(), 32, 'batched (one subtransaction id each) up to 32 ids, the other orders line by line');
SELECT is((SELECT string_agg(reserved::text, ',' ORDER BY upc) FROM icos.stock WHERE store_id = 9802), '40,40',
	'every line reserved either way');

-- The slots of an item holding reservations, as slot:reserved.
CREATE FUNCTION pg_temp.held(p_upc text) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(format('%s:%s', slot, reserved), ' ' ORDER BY slot) FROM icos.stock_slot
	WHERE store_id = 9801 AND upc = p_upc::icos.upc AND reserved > 0
$$;
CREATE FUNCTION pg_temp.ledger(p_order text) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(format('%s %s %s/%s %s', kind, upc, d_on_hand, d_reserved, reason), '; '
					  ORDER BY movement_id)
	FROM icos.stock_movement WHERE order_code = p_order
$$;
-- The slot this backend prefers among n: its process id modulo n.
CREATE FUNCTION pg_temp.pref(n int) RETURNS int LANGUAGE sql AS $$
	SELECT pg_backend_pid() % n
$$;

-- No contention: each line is taken from the slot this backend prefers, as
-- the line-by-line step 1 does; the ledger rows come in (store, upc) order.
SELECT lives_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000084,400000000077}', '{3,2}',
											'T-B1', '{"cups","bowls"}')$$, 'two lines reserved in one call');
SELECT is(pg_temp.held('400000000077'), format('%s:2', pg_temp.pref(4)), 'bowls: the preferred slot alone');
SELECT is(pg_temp.held('400000000084'), format('%s:3', pg_temp.pref(4)), 'cups: the preferred slot alone');
SELECT is(pg_temp.ledger('T-B1'),
	'reserve 400000000077 0/2 bowls; reserve 400000000084 0/3 cups',
	'one ledger row per line, (store, upc) order, each with its note');

-- The walk from the preferred slot wraps round to slot 0: empty the jug
-- slots from the preferred one to the last (one unit each, line by line).
SELECT icos._stock_lines('sale', '{9801}', '{400000000091}', '{1}', 'T-DRAIN', NULL)
FROM generate_series(1, CASE WHEN pg_temp.pref(64) = 0 THEN 0 ELSE 64 - pg_temp.pref(64) END);
SELECT is((SELECT count(*)::int FROM icos.stock_slot
		   WHERE store_id = 9801 AND upc = '400000000091' AND on_hand = 1 AND slot < greatest(pg_temp.pref(64), 1)),
	greatest(pg_temp.pref(64), 1), 'jug: slot 0 up to the preferred one still full');
SELECT lives_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000091,400000000077}', '{1,1}',
											'T-B2', NULL)$$, 'jug and bowl in one call');
SELECT is(pg_temp.held('400000000091'), '0:1', 'jug: the walk went round to slot 0');
SELECT is(pg_temp.held('400000000077'), format('%s:3', pg_temp.pref(4)), 'bowl: the preferred slot again');

-- A line no single slot covers: the batch cannot take it, keeps nothing,
-- and the lines are taken one by one (the cups from several slots).
SELECT lives_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000084,400000000077}', '{15,1}',
											'T-B3', NULL)$$, '15 cups (more than a slot has) and a bowl');
SELECT is((SELECT sum(reserved)::int FROM icos.stock_slot WHERE store_id = 9801 AND upc = '400000000084'),
	18, 'cups: 3 + 15 reserved, no more');
SELECT is((SELECT format('%s/%s', min(on_hand - reserved), max(on_hand - reserved)) FROM icos.stock_slot
		   WHERE store_id = 9801 AND upc = '400000000084'),
	'5/6', 'cups: taken from several slots, fullest first (22 left over 4 slots, as even as can be)');
SELECT is(pg_temp.held('400000000077'), format('%s:4', pg_temp.pref(4)),
	'bowl: reserved once, though the batch had taken it before rolling back');
SELECT is(pg_temp.ledger('T-B3'), 'reserve 400000000077 0/1 ; reserve 400000000084 0/15 ',
	'the ledger as the line-by-line path writes it');

-- The same product twice in one call: not batched (a statement changes a
-- row once), each line taken on its own.
SELECT lives_ok($$SELECT icos._stock_lines('reserve', '{9801,9801,9801}', '{400000000077,400000000084,400000000077}',
											'{1,1,2}', 'T-B4', NULL)$$, 'bowl, cup, bowl');
SELECT is(pg_temp.held('400000000077'), format('%s:7', pg_temp.pref(4)), 'bowls: both lines, 1 + 2');
SELECT is(pg_temp.ledger('T-B4'),
	'reserve 400000000077 0/1 ; reserve 400000000077 0/2 ; reserve 400000000084 0/1 ',
	'three ledger rows, same-product lines in the order given');

-- Errors as before: unknown product (IC004), never stocked here (IC001),
-- short (IC001); none keeps anything.
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,00000000000017}', '{1,1}', 'T-E', NULL)$$,
	'IC004', NULL, 'an unknown product among two lines: IC004');
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,96385074}', '{1,1}', 'T-E', NULL)$$,
	'IC001', NULL, 'a product never stocked here among two lines: IC001');
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,400000000084}', '{1,23}', 'T-E', NULL)$$,
	'IC001', 'not enough stock of "Batch cup" (400000000084) at store 9801 (Batch A)', 'a short line: IC001');

-- An error inside the batched statement itself (here: a read-only
-- transaction) is raised as it was, and the caller's own exception block
-- still rolls back all it did (its subtransaction, not the engine's, which
-- is gone by then).
CREATE TEMP TABLE marks (m text);
CREATE FUNCTION pg_temp.try_read_only() RETURNS text LANGUAGE plpgsql
SET transaction_read_only = on AS $$
BEGIN
	INSERT INTO pg_temp.marks VALUES ('in the block');
	PERFORM icos._stock_lines('reserve', '{9801,9801}', '{400000000077,400000000084}', '{1,1}', 'T-RO', NULL);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
SELECT is(pg_temp.try_read_only(), '25006', 'read-only transaction: 25006, caught by the caller');
SELECT is(pg_temp.held('400000000077'), format('%s:7', pg_temp.pref(4)), 'nothing reserved by it');
SELECT is_empty($$SELECT * FROM pg_temp.marks$$, 'the caller''s block was rolled back whole');
SELECT lives_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,400000000084}', '{1,1}', 'T-B5', NULL)$$,
	'the transaction goes on, batched');
SELECT is_empty($$SELECT * FROM icos.verify_stock() WHERE store_id = 9801$$,
	'the counters still agree with the ledger');

SELECT * FROM finish();
ROLLBACK;
