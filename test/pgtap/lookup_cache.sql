-- The order engine decides from per-backend caches of stores, the
-- session's employee, products and the payment change rule (src/lookup.c).
-- In one session: once a value is cached, a change made by this
-- transaction decides the very next placement (NULL: refused), and a
-- change rolled back to a savepoint is forgotten.  (Another session's
-- committed change: test/isolation/specs/placement_lookups.spec.)
BEGIN;
SELECT plan(44);
\ir orders_fixture.psql

SELECT icos.receive_stock(9101, '4006381333931', 100, 'look-up test');
SELECT set_config('t.cust', icos.upsert_customer('{"name": "Look Up", "email": "lookup@example.com"}')::text, true);

-- An order placed: its code, or NULL when refused.
CREATE FUNCTION pg_temp.placed(p jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN icos.place_order(p)::text;
EXCEPTION WHEN OTHERS THEN
	RETURN NULL;
END
$$;
-- A till sale of one desk lamp at store s.
CREATE FUNCTION pg_temp.till(s int) RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.placed(jsonb_build_object('store', s, 'channel', 'pos',
		'lines', '[{"upc": "4006381333931", "qty": 1}]'::jsonb,
		'payments', '[{"method": "cash", "amount": 30}]'::jsonb))
$$;
-- A phone order collected at c, its line from the stock of f.
CREATE FUNCTION pg_temp.phone(c int, f int) RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.placed(jsonb_build_object('store', 9101, 'channel', 'phone',
		'customer', jsonb_build_object('id', current_setting('t.cust')::bigint),
		'lines', jsonb_build_array(jsonb_build_object('upc', '4006381333931', 'qty', 1, 'fulfil_from', f)),
		'delivery', jsonb_build_object('method', 'collect', 'collect_store', c)))
$$;

-- Products.
SELECT isnt(pg_temp.till(9101), NULL, 'a till sale is placed (the store, product and rule are cached)');
UPDATE icos.product SET made_to_order = true WHERE upc = '4006381333931';
SELECT is(pg_temp.till(9101), NULL, 'the product made to order: the next sale is refused');
UPDATE icos.product SET made_to_order = false WHERE upc = '4006381333931';
SELECT isnt(pg_temp.till(9101), NULL, 'made from stock again: placed');
UPDATE icos.product SET active = false WHERE upc = '4006381333931';
SELECT is(pg_temp.till(9101), NULL, 'the product withdrawn: refused');
UPDATE icos.product SET active = true WHERE upc = '4006381333931';
SELECT isnt(pg_temp.till(9101), NULL, 'active again: placed');
SELECT is(pg_temp.placed('{"store": 9101, "channel": "pos", "lines": [{"upc": "20900168", "qty": 1}]}'),
	NULL, 'an unknown product is refused');
INSERT INTO icos.product (upc, name, category_id, price) VALUES ('20900168', 'New mug', 9100, 3.00);
SELECT icos.receive_stock(9101, '20900168', 5, 'look-up test');
SELECT isnt(pg_temp.placed('{"store": 9101, "channel": "pos", "lines": [{"upc": "20900168", "qty": 1}]}'),
	NULL, 'once in the catalogue it is placed');

-- The selling store.
UPDATE icos.store SET kind = 'warehouse' WHERE store_id = 9101;
SELECT is(pg_temp.till(9101), NULL, 'the selling store became a warehouse: a sale carried out there is refused');
UPDATE icos.store SET kind = 'store' WHERE store_id = 9101;
SELECT isnt(pg_temp.till(9101), NULL, 'a store again: placed');
UPDATE icos.store SET node_id = 7 WHERE store_id = 9101;
SELECT is(pg_temp.till(9101), NULL, 'the selling store moved to another node: refused');
UPDATE icos.store SET node_id = 0 WHERE store_id = 9101;
SELECT isnt(pg_temp.till(9101), NULL, 'back on this node: placed');
UPDATE icos.store SET name = 'Leeds Trinity' WHERE store_id = 9101;
SELECT set_config('t.code', pg_temp.till(9101), true);
SELECT is((SELECT e.note FROM icos.order_event e
		   WHERE e.code = current_setting('t.code')::icos.order_code AND e.kind = 'placed'),
	'pos order at Leeds Trinity: 1 line(s), total 24.50', 'a renamed store: the order''s event has the new name');

-- A store created in this transaction, after its number was looked up.
SELECT is(pg_temp.till(9107), NULL, 'an unknown store is refused');
INSERT INTO icos.store (store_id, name, kind) VALUES (9107, 'Harrogate', 'store');
SELECT icos.receive_stock(9107, '4006381333931', 5, 'look-up test');
SELECT set_config('t.code', pg_temp.till(9107), true);
SELECT isnt(current_setting('t.code'), '', 'the store just created: placed');
SELECT is((SELECT o.store_id FROM icos.orders o
		   WHERE o.code = current_setting('t.code')::icos.order_code), 9107, 'and sold by it');

-- The collect store and the fulfilment store.
SELECT isnt(pg_temp.phone(9102, 9105), NULL, 'collected in York, from the warehouse: placed');
UPDATE icos.store SET kind = 'warehouse' WHERE store_id = 9102;
SELECT is(pg_temp.phone(9102, 9105), NULL, 'the collect store became a warehouse: refused');
UPDATE icos.store SET kind = 'store' WHERE store_id = 9102;
SELECT isnt(pg_temp.phone(9102, 9105), NULL, 'a store again: placed');
UPDATE icos.store SET node_id = 7 WHERE store_id = 9105;
SELECT set_config('t.code', pg_temp.phone(9102, 9105), true);
SELECT is((SELECT l.status || '/' || l.remote_status FROM icos.order_line l
		   WHERE l.code = current_setting('t.code')::icos.order_code),
	'backorder/pending', 'the warehouse moved to another node: its line asks that node for the stock');
UPDATE icos.store SET node_id = 0 WHERE store_id = 9105;
UPDATE icos.store SET kind = 'web' WHERE store_id = 9105;
SELECT is(pg_temp.phone(9102, 9105), NULL, 'the warehouse became a web store (no stock): refused');
UPDATE icos.store SET kind = 'warehouse' WHERE store_id = 9105;
SELECT isnt(pg_temp.phone(9102, 9105), NULL, 'a warehouse of this node again: placed');
INSERT INTO icos.store (store_id, name, kind) VALUES (9109, 'Selby', 'store');
SELECT is(pg_temp.placed(jsonb_build_object('store', 9101, 'channel', 'phone',
	'customer', jsonb_build_object('id', current_setting('t.cust')::bigint),
	'lines', '[{"upc": "00000000000017", "qty": 1}]'::jsonb,
	'delivery', '{"method": "collect", "collect_store": 9109}'::jsonb)),
	NULL, 'an unknown product collected at a new store: refused (after the store was looked up)');
DELETE FROM icos.store WHERE store_id = 9109;
SELECT is(pg_temp.phone(9109, 9105), NULL, 'collection at a store deleted since: refused');

-- The session's employee.
INSERT INTO icos.employee (employee_id, full_name, store_id, position, role_name)
	VALUES (9901, 'Till Tester', 9101, 'agent', session_user);
SELECT set_config('t.code', pg_temp.till(9101), true);
SELECT is((SELECT o.employee_id FROM icos.orders o WHERE o.code = current_setting('t.code')::icos.order_code),
	9901, 'the session''s employee, just created, sells the order');
UPDATE icos.employee SET store_id = 9102 WHERE employee_id = 9901;
SELECT set_config('t.code', pg_temp.till(9101), true);
SELECT is((SELECT e.at_store FROM icos.order_event e
		   WHERE e.code = current_setting('t.code')::icos.order_code AND e.kind = 'placed'),
	9102, 'the employee moved to York: her sale in Leeds (a superuser may) is made from York');
SELECT icos.receive_stock(9102, '4006381333931', 5, 'look-up test');
SELECT isnt(pg_temp.till(9102), NULL, 'a sale in York is placed');
DELETE FROM icos.employee WHERE employee_id = 9901;
SELECT set_config('t.code', pg_temp.till(9101), true);
SELECT is((SELECT o.employee_id FROM icos.orders o WHERE o.code = current_setting('t.code')::icos.order_code),
	NULL, 'no longer an employee: a sale in Leeds is placed again, with no employee');

-- The change rule.
UPDATE icos.change_rule SET allowed = false, reason = 'look-up test'
	WHERE status = 'awaiting_payment' AND change_kind = 'payment';
SELECT is(pg_temp.till(9101), NULL, 'payments refused while awaiting payment: a paid sale is refused');
SELECT isnt(pg_temp.placed('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}'),
	NULL, 'an unpaid one is');
UPDATE icos.change_rule SET allowed = true, reason = NULL
	WHERE status = 'awaiting_payment' AND change_kind = 'payment';
SELECT isnt(pg_temp.till(9101), NULL, 'allowed again: a paid sale is placed');

-- Savepoints: what was cached from a change rolled back is forgotten.
SAVEPOINT a;
UPDATE icos.store SET kind = 'web' WHERE store_id = 9101;
SELECT is(pg_temp.till(9101), NULL, 'in a savepoint, the store became a web store: refused');
ROLLBACK TO SAVEPOINT a;
SELECT isnt(pg_temp.till(9101), NULL, 'rolled back: a store again, placed');
SAVEPOINT b;
UPDATE icos.product SET made_to_order = true WHERE upc = '4006381333931';
SELECT is(pg_temp.till(9101), NULL, 'in a savepoint, the product made to order: refused');
ROLLBACK TO SAVEPOINT b;
SELECT isnt(pg_temp.till(9101), NULL, 'rolled back: placed');
SAVEPOINT c;
INSERT INTO icos.store (store_id, name, kind) VALUES (9108, 'Ripon', 'store');
SELECT icos.receive_stock(9108, '4006381333931', 5, 'look-up test');
SELECT isnt(pg_temp.till(9108), NULL, 'in a savepoint, a new store sells');
ROLLBACK TO SAVEPOINT c;
SELECT is(pg_temp.till(9108), NULL, 'rolled back: the store is unknown again');

-- A failed statement after the change: the error rolls the change back.
CREATE FUNCTION pg_temp.change_then_fail() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		UPDATE icos.store SET kind = 'callcentre' WHERE store_id = 9101;
		IF pg_temp.till(9101) IS NOT NULL THEN
			RETURN false;
		END IF;
		RAISE EXCEPTION 'undo';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
	RETURN pg_temp.till(9101) IS NOT NULL;
END
$$;
SELECT ok(pg_temp.change_then_fail(), 'a change inside a block decides at once and is forgotten when the block fails');

-- The replication apply worker fires row triggers only (a replica
-- session): with the statement triggers disabled, the row triggers alone
-- must empty the caches.
ALTER TABLE icos.store DISABLE TRIGGER lookup_changed;
ALTER TABLE icos.employee DISABLE TRIGGER lookup_changed;
ALTER TABLE icos.change_rule DISABLE TRIGGER lookup_changed;
INSERT INTO icos.employee (employee_id, full_name, store_id, position, role_name)
	VALUES (9902, 'Replica Tester', 9101, 'agent', session_user);
SELECT isnt(pg_temp.till(9101), NULL, 'a sale by the session''s employee is placed (store, employee, rule cached)');
SET LOCAL session_replication_role = replica;
UPDATE icos.store SET kind = 'web' WHERE store_id = 9101;
RESET session_replication_role;
SELECT is(pg_temp.till(9101), NULL, 'a store changed in a replica session: refused');
SET LOCAL session_replication_role = replica;
UPDATE icos.store SET kind = 'store' WHERE store_id = 9101;
RESET session_replication_role;
SELECT isnt(pg_temp.till(9101), NULL, 'and back, in a replica session: placed');
SET LOCAL session_replication_role = replica;
UPDATE icos.employee SET store_id = 9102 WHERE employee_id = 9902;
RESET session_replication_role;
SELECT set_config('t.code', pg_temp.till(9101), true);
SELECT is((SELECT e.at_store FROM icos.order_event e
		   WHERE e.code = current_setting('t.code')::icos.order_code AND e.kind = 'placed'),
	9102, 'an employee moved in a replica session: her next sale is made from York');
SET LOCAL session_replication_role = replica;
UPDATE icos.employee SET store_id = 9101 WHERE employee_id = 9902;
RESET session_replication_role;
SELECT isnt(pg_temp.till(9101), NULL, 'and back, in a replica session: placed');
SET LOCAL session_replication_role = replica;
UPDATE icos.change_rule SET allowed = false, reason = 'look-up test'
	WHERE status = 'awaiting_payment' AND change_kind = 'payment';
RESET session_replication_role;
SELECT is(pg_temp.till(9101), NULL, 'a change rule changed in a replica session: refused');
ALTER TABLE icos.store ENABLE ALWAYS TRIGGER lookup_changed;
ALTER TABLE icos.employee ENABLE ALWAYS TRIGGER lookup_changed;
ALTER TABLE icos.change_rule ENABLE ALWAYS TRIGGER lookup_changed;

-- Everything placed kept the stock right.
SELECT is((SELECT count(*)::int FROM icos.verify_stock()), 0, 'the stock counters agree with the ledger');

SELECT * FROM finish();
ROLLBACK;
