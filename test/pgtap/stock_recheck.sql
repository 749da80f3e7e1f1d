-- pgTAP: the re-check after a wait.  A session that waited for a slot
-- another session held (step 2 of the stock engine) changes it with a
-- statement that checks the slot's counter again (src/stock.c,
-- stock_update_slot): another session may have taken the units meanwhile,
-- and then the statement must change nothing and the engine go on to lock
-- every slot in order.  A wait cannot be had in one session, so this test
-- puts slots into the state the waiting session finds, then runs the very
-- statement through icos._stock_slot_apply.  Without the re-check it would
-- take units the slot no longer has (23514 from the table's rules, or a
-- sale from units reserved for someone else).
BEGIN;
SELECT plan(22);

INSERT INTO icos.store (store_id, name, kind) VALUES (9851, 'Recheck store', 'store');
INSERT INTO icos.product (upc, name, price) VALUES ('400000000145', 'Recheck kettle', 20.00);
SET LOCAL icos.stock_slots = 2;
SELECT icos.receive_stock(9851, '400000000145', 6, 'delivery');
RESET icos.stock_slots;

CREATE FUNCTION pg_temp.slots() RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(format('%s:%s/%s', slot, on_hand, reserved), ' ' ORDER BY slot) FROM icos.stock_slot
	WHERE store_id = 9851
$$;
CREATE FUNCTION pg_temp.moves() RETURNS int LANGUAGE sql AS $$
	SELECT count(*)::int FROM icos.stock_movement WHERE store_id = 9851
$$;
SELECT is(pg_temp.slots(), '0:3/0 1:3/0', 'two slots of 3');

-- Another session reserved all of slot 0 while this one waited for it.
SELECT ok(icos._stock_slot_apply(9851, '400000000145', 0, 'reserve', 0, 3, 'the other session'),
	'the other session takes slot 0''s 3');
SELECT is(pg_temp.moves(), 2, 'with its ledger row');
SELECT ok(NOT icos._stock_slot_apply(9851, '400000000145', 0, 'reserve', 0, 1, 'after the wait'),
	'reserving 1 from slot 0 now: refused by the re-check');
SELECT ok(NOT icos._stock_slot_apply(9851, '400000000145', 0, 'sale', -1, 0, 'after the wait'),
	'selling 1 unreserved from slot 0: refused');
SELECT ok(NOT icos._stock_slot_apply(9851, '400000000145', 0, 'adjustment', -1, 0, 'after the wait'),
	'removing 1 from slot 0: refused');
SELECT ok(NOT icos._stock_slot_apply(9851, '400000000145', 1, 'release', 0, -1, 'after the wait'),
	'releasing 1 from slot 1, which has none reserved: refused');
SELECT ok(NOT icos._stock_slot_apply(9851, '400000000145', 0, 'sale', -4, -4, 'after the wait'),
	'selling 4 reserved from slot 0, which has 3: refused');
SELECT ok(NOT icos._stock_slot_apply(9851, '400000000145', 1, 'reserve', 0, 4, 'after the wait'),
	'reserving 4 from slot 1, which has 3: refused');
SELECT is(pg_temp.slots(), '0:3/3 1:3/0', 'the refusals changed no slot');
SELECT is(pg_temp.moves(), 2, 'and wrote no ledger row');

-- What still fits is taken.
SELECT ok(icos._stock_slot_apply(9851, '400000000145', 1, 'reserve', 0, 3, 'fits'), 'reserving 3 from slot 1');
SELECT ok(icos._stock_slot_apply(9851, '400000000145', 0, 'sale', -3, -3, 'fits'), 'selling slot 0''s 3 reserved');
SELECT ok(icos._stock_slot_apply(9851, '400000000145', 1, 'release', 0, -1, 'fits'), 'releasing 1 of slot 1');
SELECT ok(icos._stock_slot_apply(9851, '400000000145', 0, 'receipt', 2, 0, 'fits'), 'a receipt into slot 0 always fits');
SELECT is(pg_temp.slots(), '0:2/0 1:3/2', 'the slots after what fitted');
SELECT is_empty($$SELECT * FROM icos.verify_stock() WHERE store_id = 9851$$, 'the counters agree with the ledger');

-- The engine after such a refusal: no single slot has 3 available (2 and
-- 1), so the reservation takes from both, in slot order.
SELECT lives_ok($$SELECT icos._reserve(9851, '400000000145', 3, 'R-1', NULL)$$, 'reserving 3 over both slots');
SELECT is(pg_temp.slots(), '0:2/2 1:3/3', 'every unit reserved');
SELECT throws_ok($$SELECT icos._reserve(9851, '400000000145', 1, 'R-2', NULL)$$, 'IC001', NULL, 'then IC001');

SELECT throws_ok($$SELECT icos._stock_slot_apply(9851, '400000000145', 0, 'hold', 0, 1, 'x')$$, '22023', NULL,
	'holds are not changed slot by slot');
SELECT is_empty($$SELECT * FROM icos.verify_stock() WHERE store_id = 9851$$, 'the counters still agree');

SELECT * FROM finish();
ROLLBACK;
