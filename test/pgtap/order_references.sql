-- The foreign keys of the order tables, kept by icos._ref_check and
-- icos._ref_guard (src/refcheck.c) instead of declarative foreign keys:
-- every reference refuses a missing parent with 23503 and the constraint's
-- name, a parent still referred to cannot be deleted, re-keyed or
-- truncated, a parent nothing refers to can, and a null key refers to
-- nothing.  A key a transaction's probe found is not probed again in that
-- transaction; the checks at the end show that a parent it removed, or wrote
-- in a subtransaction that rolled back, is missed again.  Written as the
-- table owner, as only the owner can (and as a superuser, for the replica
-- session).
BEGIN;
SELECT plan(42);
\ir orders_fixture.psql

SELECT set_config('t.sale', icos.place_order('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 24.50}]}')::text, true);
SELECT set_config('t.cust', icos.upsert_customer('{"name": "Ref Test", "email": "ref@example.com"}')::text, true);
SELECT set_config('t.collect', icos.place_order(jsonb_build_object('store', 9103, 'channel', 'web',
	'customer', jsonb_build_object('id', current_setting('t.cust')::bigint),
	'lines', jsonb_build_array(jsonb_build_object('upc', '036000291452', 'qty', 1, 'fulfil_from', 9102)),
	'delivery', jsonb_build_object('method', 'collect', 'collect_store', 9102)))::text, true);
-- Well-formed codes of orders that do not exist (yet).
SELECT set_config('t.none', icos.next_order_code()::text, true);
SELECT set_config('t.new', icos.next_order_code()::text, true);
SELECT set_config('t.bare', icos.next_order_code()::text, true);
-- Two products with no stock (stock rows keep their own foreign keys): one
-- on a line of the sale, one on none.
INSERT INTO icos.product (upc, name, price) VALUES ('5000000000012', 'Gift wrap', 2.00),
	('5000000000029', 'Ribbon', 1.00);
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 2, '5000000000012', 1, 9101, 'fulfilled');

-- Every trigger pair is in place, on both sides.
SELECT is((SELECT sum(t.tgnargs / 4)::int FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		   WHERE p.proname = '_ref_check' AND NOT t.tgisinternal), 7, 'seven references are checked');
SELECT is((SELECT string_agg(t.tgrelid::regclass::text, ' ' ORDER BY t.tgrelid::regclass::text)
		   FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		   WHERE p.proname = '_ref_check' AND NOT t.tgisinternal),
	'icos.order_event icos.order_line icos.order_payment icos.orders',
	'by one trigger on each referring table');
SELECT is((SELECT count(*)::int FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		   WHERE p.proname = '_ref_guard' AND NOT t.tgisinternal), 14, 'each has a delete/update and a truncate guard');
SELECT is((SELECT count(*)::int FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		   WHERE p.proname = '_ref_forget' AND t.tgenabled = 'A'), 7,
	'each parent forgets the probes, in replica sessions too');

-- The referring side: a missing parent is refused and nothing is written.
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 9, '5901234123457', 1, 9101, 'reserved')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_upc_fkey"',
	'a line of an unknown product is refused');
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 9, '036000291452', 1, 9199, 'reserved')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_fulfil_from_fkey"',
	'a line served by an unknown store is refused');
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9102, current_setting('t.sale')::icos.order_code, 9, '036000291452', 1, 9101, 'reserved')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_store_id_code_fkey"',
	'a line of an order of another store (no such order) is refused');
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 9, '5901234123457', 1, 9199, 'reserved')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_fulfil_from_fkey"',
	'a line breaking two references names the first constraint by name, as separate triggers would');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
	VALUES (9101, current_setting('t.none')::icos.order_code, 1, 'payment', 'cash', 100, 100)$$,
	'23503', 'insert or update on table "order_payment" violates foreign key constraint "order_payment_store_id_code_fkey"',
	'a payment of no order is refused');
SELECT throws_ok($$INSERT INTO icos.order_event (store_id, code, kind, at_store) VALUES (9101, current_setting('t.none')::icos.order_code, 'edited', 9101)$$,
	'23503', 'insert or update on table "order_event" violates foreign key constraint "order_event_store_id_code_fkey"',
	'an event of no order is refused');
SELECT throws_ok($$INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date)
	VALUES (current_setting('t.none')::icos.order_code, 9199, 'pos', 'placed', 'carry', current_date)$$,
	'23503', 'insert or update on table "orders" violates foreign key constraint "orders_store_id_fkey"',
	'an order of an unknown store is refused');
SELECT throws_ok($$UPDATE icos.orders SET collect_store = 9199 WHERE code = current_setting('t.collect')::icos.order_code$$,
	'23503', 'insert or update on table "orders" violates foreign key constraint "orders_collect_store_fkey"',
	'collection from an unknown store is refused');
SELECT throws_ok($$UPDATE icos.order_line SET upc = '5901234123457' WHERE code = current_setting('t.sale')::icos.order_code$$,
	'23503', NULL, 'changing a line to an unknown product is refused');

-- The message names the key, as a foreign key's does.
CREATE FUNCTION pg_temp.detail(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN foreign_key_violation THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RETURN d;
END $$;
SELECT is(pg_temp.detail($$INSERT INTO icos.order_event (store_id, code, kind, at_store) VALUES (9101, current_setting('t.none')::icos.order_code, 'edited', 9101)$$),
	format('Key (store_id, code)=(9101, %s) is not present in table "orders".', current_setting('t.none')),
	'the detail names a two-column key');
SELECT is(pg_temp.detail($$DELETE FROM icos.product WHERE upc = '5000000000012'$$),
	'Key (upc)=(5000000000012) is still referenced from table "order_line".', 'the guard''s detail names the key');

-- Present parents pass; a null key refers to nothing; unchanged keys are not re-checked.
SELECT lives_ok($$INSERT INTO icos.order_event (store_id, code, kind, at_store)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 'edited', 9101)$$, 'an event of an existing order is written');
SELECT lives_ok($$UPDATE icos.orders SET collect_store = NULL, delivery_method = 'carry'
	WHERE code = current_setting('t.collect')::icos.order_code$$, 'a null collection store refers to nothing');
SELECT lives_ok($$UPDATE icos.order_line SET qty = qty WHERE code = current_setting('t.sale')::icos.order_code$$,
	'an update that leaves the keys alone passes');
-- One statement may write an order and the rows that refer to it (the fast path does).
SELECT lives_ok($$WITH o AS (INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date)
		VALUES (current_setting('t.new')::icos.order_code, 9101, 'pos', 'placed', 'carry', current_date) RETURNING store_id, code)
	INSERT INTO icos.order_event (store_id, code, kind, at_store) SELECT store_id, code, 'edited', 9101 FROM o$$,
	'an order and its event in one statement');

-- The referred-to side: deletions and key changes of parents still referred to are refused.
SELECT throws_ok($$DELETE FROM icos.product WHERE upc = '5000000000012'$$,
	'23503', 'update or delete on table "product" violates foreign key constraint "order_line_upc_fkey" on table "order_line"',
	'a product on an order line is not deleted');
SELECT throws_ok($$UPDATE icos.product SET upc = '5901234123457' WHERE upc = '5000000000012'$$,
	'23503', NULL, 'a product on an order line is not re-coded');
SELECT throws_ok($$UPDATE icos.store SET store_id = 9198 WHERE store_id = 9102$$,
	'23503', NULL, 'a store serving a line is not re-numbered');
SELECT throws_ok($$DELETE FROM icos.orders WHERE code = current_setting('t.sale')::icos.order_code$$,
	'23503', NULL, 'an order with lines is not deleted');
SELECT throws_ok($$DELETE FROM icos.order_line WHERE code = current_setting('t.sale')::icos.order_code;
	DELETE FROM icos.orders WHERE code = current_setting('t.sale')::icos.order_code$$,
	'23503', NULL, 'nor one with payments and events once its lines are gone');
SELECT throws_ok($$TRUNCATE icos.product CASCADE$$, '0A000', NULL, 'the catalogue is not emptied while lines refer to it');
SELECT throws_ok($$TRUNCATE icos.orders CASCADE$$, '0A000', NULL, 'nor the orders while lines refer to them');
SELECT is((SELECT count(*)::int FROM icos.order_line WHERE code = current_setting('t.sale')::icos.order_code), 2,
	'every refused change changed nothing');

-- Parents nothing refers to can go, and renaming a key that is not referred to is fine.
SELECT lives_ok($$DELETE FROM icos.product WHERE upc = '5000000000029'$$, 'a product on no line is deleted');
INSERT INTO icos.store (store_id, name, kind) VALUES (9197, 'Pop-up', 'store');
SELECT lives_ok($$UPDATE icos.store SET store_id = 9196 WHERE store_id = 9197$$, 'a store with no orders is re-numbered');
SELECT lives_ok($$DELETE FROM icos.store WHERE store_id = 9196$$, 'and deleted');
SELECT lives_ok($$UPDATE icos.product SET price = 25.00 WHERE upc = '4006381333931'$$,
	'a price change of a product on order lines is not a key change');
-- An order nothing refers to can be deleted.
INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date)
	VALUES (current_setting('t.bare')::icos.order_code, 9101, 'pos', 'placed', 'carry', current_date);
SELECT lives_ok($$DELETE FROM icos.orders WHERE code = current_setting('t.bare')::icos.order_code$$,
	'an order nothing refers to is deleted');

SELECT throws_ok($$TRUNCATE icos.store CASCADE$$, '0A000', NULL, 'nor the stores while orders refer to them');

-- Writing through the API as an agent is unaffected (the checks need no grant).
SELECT isnt(icos.place_order('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 25.00}]}'), NULL, 'the API still places orders');

-- A key this transaction's probes found is not probed again; whatever could
-- make it wrong makes the next row probe again.  The codes are taken first:
-- a savepoint's rollback would undo set_config.
SELECT set_config('t.sp1', icos.next_order_code()::text, true);
SELECT set_config('t.sp2', icos.next_order_code()::text, true);
-- A store written in a savepoint that rolls back is gone for the next order,
-- though an order of the savepoint found it.
SAVEPOINT ref_sp;
INSERT INTO icos.store (store_id, name, kind) VALUES (9190, 'Pop-up for a day', 'store');
INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date)
	VALUES (current_setting('t.sp1')::icos.order_code, 9190, 'pos', 'placed', 'carry', current_date);
ROLLBACK TO SAVEPOINT ref_sp;
SELECT throws_ok($$INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date)
	VALUES (current_setting('t.sp2')::icos.order_code, 9190, 'pos', 'placed', 'carry', current_date)$$,
	'23503', 'insert or update on table "orders" violates foreign key constraint "orders_store_id_fkey"',
	'a store written in a rolled-back savepoint is missing for a later order');
-- The same within one statement: an exception block rolls back a store and
-- a line served by it, then the statement writes another line served by it.
-- (Stores, because writing a product also invalidates caches, which would
-- hide a cache that outlived its subtransaction.)
CREATE FUNCTION pg_temp.line_after_undo() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		INSERT INTO icos.store (store_id, name, kind) VALUES (9191, 'Stand for an hour', 'store');
		INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
			VALUES (9101, current_setting('t.sale')::icos.order_code, 20, '4006381333931', 1, 9191, 'fulfilled');
		RAISE EXCEPTION 'undo';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
	INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
		VALUES (9101, current_setting('t.sale')::icos.order_code, 21, '4006381333931', 1, 9191, 'fulfilled');
END $$;
SELECT throws_ok($$SELECT pg_temp.line_after_undo()$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_fulfil_from_fkey"',
	'a store undone by an exception block is missing for the next line of the same statement');
-- A store this transaction deleted, once nothing referred to it, is missing
-- for a later line, though an earlier line's probe found it.
INSERT INTO icos.store (store_id, name, kind) VALUES (9192, 'Closing down', 'store');
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 22, '4006381333931', 1, 9192, 'fulfilled');
DELETE FROM icos.order_line WHERE code = current_setting('t.sale')::icos.order_code AND line = 22;
SELECT lives_ok($$DELETE FROM icos.store WHERE store_id = 9192$$,
	'a store whose only line was deleted is deleted');
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 23, '4006381333931', 1, 9192, 'fulfilled')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_fulfil_from_fkey"',
	'a store deleted earlier in the transaction is missing for a later line');
-- And a store it re-numbered.
INSERT INTO icos.store (store_id, name, kind) VALUES (9194, 'Renumbered', 'store');
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 28, '4006381333931', 1, 9194, 'fulfilled');
DELETE FROM icos.order_line WHERE code = current_setting('t.sale')::icos.order_code AND line = 28;
UPDATE icos.store SET store_id = 9195 WHERE store_id = 9194;
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 29, '4006381333931', 1, 9194, 'fulfilled')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_fulfil_from_fkey"',
	'a store number this transaction changed is missing for a later line');
-- The same when the deletion ran as a replica session, where the guard does
-- not fire.
INSERT INTO icos.store (store_id, name, kind) VALUES (9193, 'Closing soon', 'store');
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 24, '4006381333931', 1, 9193, 'fulfilled');
SET LOCAL session_replication_role = replica;
DELETE FROM icos.order_line WHERE code = current_setting('t.sale')::icos.order_code AND line = 24;
DELETE FROM icos.store WHERE store_id = 9193;
SET LOCAL session_replication_role = origin;
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 25, '4006381333931', 1, 9193, 'fulfilled')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_fulfil_from_fkey"',
	'a store deleted by a replica session of the transaction is missing for a later line');
-- A found key lets only itself through: in one statement, a line of a
-- product found before and one of an unknown product.
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 26, '4006381333931', 1, 9101, 'fulfilled'),
		(9101, current_setting('t.sale')::icos.order_code, 27, '5901234123457', 1, 9101, 'fulfilled')$$,
	'23503', 'insert or update on table "order_line" violates foreign key constraint "order_line_upc_fkey"',
	'a known product does not let an unknown one through');
SELECT throws_ok($$INSERT INTO icos.order_event (store_id, code, kind, at_store)
	VALUES (9101, current_setting('t.sale')::icos.order_code, 'edited', 9101),
		(9101, current_setting('t.none')::icos.order_code, 'edited', 9101)$$,
	'23503', 'insert or update on table "order_event" violates foreign key constraint "order_event_store_id_code_fkey"',
	'a known order does not let another code of the same store through');

SELECT * FROM finish();
ROLLBACK;
