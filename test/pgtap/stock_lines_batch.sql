-- pgTAP: step 1 of the stock engine for every line of an order in one
-- statement (src/stock.c, stock_fast_lines).  It must change exactly the
-- slots the line-by-line step 1 would (the slot this backend prefers, else
-- the next one walking round), and leave nothing behind when a line cannot
-- be taken so and the lines are taken one by one instead.  Whether a call
-- ran the batched statement shows in the transaction ids it took: the
-- batch's subtransaction takes one; the line-by-line path one per item
-- taken by step 1 or 2 (each in a subtransaction of its own, see
-- stock_attempt), none for an item taken by step 3 (in slot order, in the
-- transaction itself).
BEGIN;
SELECT plan(35);

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

INSERT INTO icos.store (store_id, name, kind) VALUES (9802, 'Batch B', 'store'), (9803, 'Batch C', 'store');
SELECT icos.receive_stock(9802, '400000000077', 200, 'test');
SELECT icos.receive_stock(9802, '400000000084', 200, 'test');
SELECT icos.receive_stock(9803, '400000000084', 10, 'test');

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

-- How many transaction ids were given out after this transaction's own, up
-- to the first one not given out yet (nothing else runs while tests run).
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
-- Run a statement; the transaction ids it took: 1 batched, 1 per item line
-- by line (steps 1 and 2), 0 for an item of step 3.
CREATE FUNCTION pg_temp.batched(p_sql text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	before int := pg_temp.later_xids();
BEGIN
	EXECUTE p_sql;
	RETURN pg_temp.later_xids() - before;
END $$;

-- No contention: each line is taken from the slot this backend prefers, as
-- the line-by-line step 1 does; the ledger rows come in (store, upc) order.
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000084,400000000077}', '{3,2}',
														'T-B1', '{"cups","bowls"}')$$),
	1, 'two lines reserved in one call, batched');
SELECT is(pg_temp.held('400000000077'), format('%s:2', pg_temp.pref(4)), 'bowls: the preferred slot alone');
SELECT is(pg_temp.held('400000000084'), format('%s:3', pg_temp.pref(4)), 'cups: the preferred slot alone');
SELECT is(pg_temp.ledger('T-B1'),
	'reserve 400000000077 0/2 bowls; reserve 400000000084 0/3 cups',
	'one ledger row per line, (store, upc) order, each with its note');

-- The walk from the preferred slot wraps round to slot 0: empty the jug
-- slots from the preferred one to the last (one unit each, slot by slot, so
-- that the transaction keeps no subtransaction per sale).
SELECT icos._stock_slot_apply(9801, '400000000091', s, 'sale', -1, 0, 'T-DRAIN')
FROM generate_series(pg_temp.pref(64), CASE WHEN pg_temp.pref(64) = 0 THEN -1 ELSE 63 END) s;
SELECT is((SELECT count(*)::int FROM icos.stock_slot
		   WHERE store_id = 9801 AND upc = '400000000091' AND on_hand = 1 AND slot < greatest(pg_temp.pref(64), 1)),
	greatest(pg_temp.pref(64), 1), 'jug: slot 0 up to the preferred one still full');
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000091,400000000077}', '{1,1}',
														'T-B2', NULL)$$),
	1, 'jug and bowl in one call, batched');
SELECT is(pg_temp.held('400000000091'), '0:1', 'jug: the walk went round to slot 0');
SELECT is(pg_temp.held('400000000077'), format('%s:3', pg_temp.pref(4)), 'bowl: the preferred slot again');

-- A line no single slot covers: the batch cannot take it, keeps nothing,
-- and the lines are taken one by one (the cups from several slots).
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000084,400000000077}', '{15,1}',
														'T-B3', NULL)$$),
	2, '15 cups (more than a slot has) and a bowl: the batch was tried (one id), then the bowl alone (one), the cups in slot order (none)');
SELECT is((SELECT sum(reserved)::int FROM icos.stock_slot WHERE store_id = 9801 AND upc = '400000000084'),
	18, 'cups: 3 + 15 reserved, no more');
SELECT is((SELECT format('%s/%s', min(on_hand - reserved), max(on_hand - reserved)) FROM icos.stock_slot
		   WHERE store_id = 9801 AND upc = '400000000084'),
	'5/6', 'cups: taken from several slots, fullest first (22 left over 4 slots, as even as can be)');
SELECT is(pg_temp.held('400000000077'), format('%s:4', pg_temp.pref(4)),
	'bowl: reserved once, though the batch had taken it before rolling back');
SELECT is(pg_temp.ledger('T-B3'), 'reserve 400000000077 0/1 ; reserve 400000000084 0/15 ',
	'the ledger as the line-by-line path writes it');

-- The same product twice in one call: its lines are taken as one (a second
-- take of an item could wait out of slot order), so the order is batched.
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9801,9801,9801}',
														'{400000000077,400000000084,400000000077}', '{1,1,2}', 'T-B4', NULL)$$),
	1, 'bowl, cup, bowl: two items, batched');
SELECT is(pg_temp.held('400000000077'), format('%s:7', pg_temp.pref(4)), 'bowls: both lines, 1 + 2, from one slot');
SELECT is(pg_temp.ledger('T-B4'),
	'reserve 400000000077 0/1 ; reserve 400000000077 0/2 ; reserve 400000000084 0/1 ',
	'three ledger rows, same-product lines in the order given');

-- Lines of one product are added up before anything is taken: more than
-- there is in total is IC001 for the sum, however the lines split it, and
-- a sum past the int range is a bad request.
SELECT throws_like($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000084,400000000084}', '{20,20}', 'T-E', NULL)$$,
	'not enough stock of "Batch cup"%', 'two lines of 20 cups, 22 left: IC001 for the product');
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000084,400000000084}', '{2147483647,1}', 'T-E', NULL)$$,
	'22023', 'the lines of one product at store 9801 ask for more than 2147483647 units',
	'lines adding up past the int range: 22023');

-- Errors as before: unknown product (IC004), never stocked here (IC001),
-- short (IC001); none keeps anything.
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,00000000000017}', '{1,1}', 'T-E', NULL)$$,
	'IC004', NULL, 'an unknown product among two lines: IC004');
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,96385074}', '{1,1}', 'T-E', NULL)$$,
	'IC001', NULL, 'a product never stocked here among two lines: IC001');
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,400000000084}', '{1,23}', 'T-E', NULL)$$,
	'IC001', 'not enough stock of "Batch cup" (400000000084) at store 9801 (Batch A)', 'a short line: IC001');

-- An error inside the batched statement itself (here: a read-only
-- transaction) rolls the batch back; the lines one by one raise it as
-- before, and the caller's own exception block still rolls back all it did
-- (its subtransaction, not the engine's, which is gone by then).
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
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9801,9801}', '{400000000077,400000000084}', '{1,1}',
														'T-B5', NULL)$$),
	1, 'the transaction goes on, batched');

-- Triggers of the slots.  Head office's availability trigger writes other
-- rows (it could wait while the batch holds every line's slot): no batch.
ALTER TABLE icos.stock_slot ENABLE TRIGGER stock_slot_availability;
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9802,9802}', '{400000000077,400000000084}', '{1,1}',
														'T-T1', NULL)$$),
	2, 'availability trigger enabled: line by line, one subtransaction per item');
SELECT is((SELECT reserved FROM icos.stock_availability WHERE store_id = 9802 AND upc = '400000000084'), 1,
	'and the trigger did its work');
ALTER TABLE icos.stock_slot DISABLE TRIGGER stock_slot_availability;

-- The owner guard of a replicated node only reads: the batch stays.  Here a
-- stand-in refuses rows of store 9803.  A refusal inside the batch rolls it
-- back; the lines one by one give the error they gave before: the first
-- line that fails, in (store, upc) order.
CREATE FUNCTION pg_temp.guard_9803() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.store_id = 9803 THEN
		RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'stock of store 9803 belongs to another node';
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER icos_owner_guard AFTER UPDATE ON icos.stock_slot
	FOR EACH ROW EXECUTE FUNCTION pg_temp.guard_9803();
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9802,9802}', '{400000000077,400000000084}', '{1,1}',
														'T-T2', NULL)$$),
	1, 'owner guard: still batched');
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9803,9802}', '{400000000084,400000000077}', '{1,1}', 'T-T3', NULL)$$,
	'42501', 'stock of store 9803 belongs to another node', 'a line the guard refuses: its error');
SELECT throws_ok($$SELECT icos._stock_lines('reserve', '{9803,9802}', '{400000000084,400000000077}', '{1,1000}', 'T-T3', NULL)$$,
	'IC001', 'not enough stock of "Batch bowl" (400000000077) at store 9802 (Batch B)',
	'a short line before the refused one: IC001 for it, as line by line (not the refusal the batch met)');
DROP TRIGGER icos_owner_guard ON icos.stock_slot;

-- Each batch that takes every line keeps its subtransaction id in the cache
-- of running subtransaction ids until the transaction ends: once the
-- transaction has 32, further orders go line by line.
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9802,9802}', '{400000000077,400000000084}', '{1,1}',
														'T-MANY', NULL)$$),
	1, 'a few subtransactions so far: batched');
SELECT is((SELECT count(icos._stock_lines('reserve', '{9802,9802}', '{400000000077,400000000084}', '{1,1}', 'T-MANY', NULL))::int
		   FROM generate_series(1, 40)), 40, '40 more orders of two lines in the same transaction');
SELECT is(pg_temp.batched($$SELECT icos._stock_lines('reserve', '{9802,9802}', '{400000000077,400000000084}', '{1,1}',
														'T-MANY', NULL)$$),
	0, 'with 32 subtransaction ids held: line by line');
SELECT is((SELECT string_agg(reserved::text, ',' ORDER BY upc) FROM icos.stock WHERE store_id = 9802), '44,44',
	'every line reserved either way');
SELECT is_empty($$SELECT * FROM icos.verify_stock() WHERE store_id IN (9801, 9802, 9803)$$,
	'the counters still agree with the ledger');

SELECT * FROM finish();
ROLLBACK;
