-- pgTAP: the rules over several columns of the tables every order writes
-- (icos.orders, order_line, order_payment, order_event, stock_slot) are one
-- CHECK constraint per table calling a C function of src/row_rules.c, and
-- stock_slot's non-negative counters are the domain icos.stock_count.  Each
-- rule is proven here as the table owner writing past the API: a violating
-- row is refused with 23514 and changes nothing, the rows at the boundary
-- pass, and a NULL never slips through.
BEGIN;
SELECT plan(71);

INSERT INTO icos.store (store_id, name, kind) VALUES (9821, 'Rules store', 'store'), (9822, 'Rules depot', 'store');
INSERT INTO icos.category (category_id, name) VALUES (9821, 'Rules');
INSERT INTO icos.product (upc, name, category_id, price) VALUES ('012345000065', 'Pine shelf', 9821, 10.00)
	ON CONFLICT (upc) DO NOTHING;
CREATE TEMP TABLE t AS SELECT icos.next_order_code() AS code, icos.next_order_code() AS code2;
INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date)
SELECT code, 9821, 'pos', 'placed', 'carry', current_date FROM t;
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, reserved_qty, consumed_qty)
SELECT 9821, code, 1, '012345000065', 5, 9821, 'reserved', 2, 2 FROM t;

-- Shape: one CHECK per table, each a call of its function; the functions are
-- IMMUTABLE, PARALLEL SAFE, not STRICT, commented.
SELECT results_eq(
	$$SELECT c.conrelid::regclass::text, c.conname::text COLLATE "default", pg_get_constraintdef(c.oid)
	  FROM pg_constraint c
	  WHERE c.contype = 'c'
		AND c.conrelid IN ('icos.orders'::regclass, 'icos.order_line'::regclass, 'icos.order_payment'::regclass,
						   'icos.order_event'::regclass, 'icos.stock_slot'::regclass)
	  ORDER BY 1, 2$$,
	$$VALUES ('icos.order_event', 'order_event_check', 'CHECK (icos._order_event_fits(kind, topic))'),
			 ('icos.order_line', 'order_line_units_check',
			  'CHECK (icos._order_line_units_fit(qty, reserved_qty, consumed_qty, returned_qty))'),
			 ('icos.order_payment', 'order_payment_tendered_check',
			  'CHECK (icos._order_payment_fits(kind, amount_pence, tendered_pence))'),
			 ('icos.orders', 'orders_delivery_check',
			  'CHECK (icos._orders_delivery_fits(delivery_method, delivery_address, collect_store))'),
			 ('icos.stock_slot', 'stock_slot_reserved_within_on_hand',
			  'CHECK (icos._stock_slot_fits(on_hand, reserved))')$$,
	'one CHECK per table, calling its rule function');
SELECT is((SELECT count(*)::int FROM pg_constraint
		   WHERE contype = 'c' AND conbin::text LIKE '%RELABELTYPE%'
			 AND conrelid IN ('icos.orders'::regclass, 'icos.order_line'::regclass, 'icos.order_payment'::regclass,
							  'icos.order_event'::regclass, 'icos.stock_slot'::regclass)),
		  0, 'no stored CHECK of these tables casts a column (the functions take the domain types)');
SELECT results_eq(
	$$SELECT p.proname::text COLLATE "default", p.provolatile::text, p.proparallel::text, p.proisstrict,
			 obj_description(p.oid, 'pg_proc') IS NOT NULL
	  FROM pg_proc p
	  WHERE p.pronamespace = 'icos'::regnamespace
		AND p.proname IN ('_orders_delivery_fits', '_order_line_units_fit', '_order_payment_fits',
						  '_order_event_fits', '_stock_slot_fits')
	  ORDER BY 1$$,
	$$VALUES ('_order_event_fits', 'i', 's', false, true),
			 ('_order_line_units_fit', 'i', 's', false, true),
			 ('_order_payment_fits', 'i', 's', false, true),
			 ('_orders_delivery_fits', 'i', 's', false, true),
			 ('_stock_slot_fits', 'i', 's', false, true)$$,
	'the rule functions are immutable, parallel safe, not strict and commented');
SELECT results_eq(
	$$SELECT a.attname::text COLLATE "default", format_type(a.atttypid, a.atttypmod), a.attnotnull
	  FROM pg_attribute a
	  WHERE a.attrelid = 'icos.stock_slot'::regclass AND a.attname IN ('slot', 'on_hand', 'reserved')
	  ORDER BY 1$$,
	$$VALUES ('on_hand', 'icos.stock_count', true), ('reserved', 'icos.stock_count', true),
			 ('slot', 'icos.stock_count', true)$$,
	'stock_slot: slot, on_hand and reserved are the non-negative domain icos.stock_count, NOT NULL');

-- A NULL where a rule needs a value is refused, never passed (a NULL result
-- would let a CHECK pass).
SELECT is(icos._orders_delivery_fits(NULL, NULL, NULL), false, '_orders_delivery_fits: no method is false, not null');
SELECT is(icos._order_line_units_fit(NULL, 0, 0, 0), false, '_order_line_units_fit: null qty is false');
SELECT is(icos._order_line_units_fit(1, NULL, 0, 0), false, '_order_line_units_fit: null reserved is false');
SELECT is(icos._order_line_units_fit(1, 0, NULL, 0), false, '_order_line_units_fit: null consumed is false');
SELECT is(icos._order_line_units_fit(1, 0, 0, NULL), false, '_order_line_units_fit: null returned is false');
SELECT is(icos._order_payment_fits(NULL, 100, 100), false, '_order_payment_fits: null kind is false');
SELECT is(icos._order_payment_fits('payment', NULL, 100), false, '_order_payment_fits: null amount is false');
SELECT is(icos._order_payment_fits('payment', 100, NULL), false, '_order_payment_fits: null tendered is false');
SELECT is(icos._order_event_fits(NULL, NULL), false, '_order_event_fits: null kind is false');
SELECT is(icos._stock_slot_fits(NULL, 0), false, '_stock_slot_fits: null on_hand is false');
SELECT is(icos._stock_slot_fits(0, NULL), false, '_stock_slot_fits: null reserved is false');

-- orders: (delivery_method = 'home') = (delivery_address IS NOT NULL)
--     AND (delivery_method = 'collect') = (collect_store IS NOT NULL)
PREPARE ins_order(text, jsonb, int) AS
	INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, delivery_address, collect_store,
							 promised_date)
	SELECT code2, 9821, 'phone', 'placed', $1, $2, $3, current_date FROM t;
SELECT throws_ok($$EXECUTE ins_order('home', NULL, NULL)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: home delivery with no address is refused');
SELECT throws_ok($$EXECUTE ins_order('home', '{"line1": "1 High St"}', 9822)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: home delivery with a collection store is refused');
SELECT throws_ok($$EXECUTE ins_order('collect', NULL, NULL)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: collection with no collection store is refused');
SELECT throws_ok($$EXECUTE ins_order('collect', '{"line1": "1 High St"}', 9822)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: collection with a delivery address is refused');
SELECT throws_ok($$EXECUTE ins_order('carry', NULL, 9822)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: a carried-out sale with a collection store is refused');
SELECT throws_ok($$EXECUTE ins_order('carry', '{"line1": "1 High St"}', NULL)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: a carried-out sale with a delivery address is refused');
SELECT throws_ok($$EXECUTE ins_order(NULL, NULL, NULL)$$, '23502', NULL,
				 'orders: no delivery method at all is refused (NOT NULL)');
SELECT is((SELECT count(*)::int FROM icos.orders WHERE code = (SELECT code2 FROM t)), 0,
		  'orders: none of the refused rows was written');
SELECT throws_ok($$UPDATE icos.orders SET delivery_method = 'collect' WHERE code = (SELECT code FROM t)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: turning a carried-out sale into a collection without a store is refused');
SELECT is((SELECT delivery_method::text FROM icos.orders WHERE code = (SELECT code FROM t)), 'carry',
		  'orders: the refused update changed nothing');
SELECT lives_ok($$EXECUTE ins_order('home', '{"line1": "1 High St"}', NULL)$$,
				'orders: home delivery with an address and no collection store is accepted');
DELETE FROM icos.orders WHERE code = (SELECT code2 FROM t);
SELECT lives_ok($$EXECUTE ins_order('collect', NULL, 9822)$$,
				'orders: collection with a store and no address is accepted');
DELETE FROM icos.orders WHERE code = (SELECT code2 FROM t);
SELECT lives_ok($$EXECUTE ins_order('carry', NULL, NULL)$$,
				'orders: a carried-out sale with neither is accepted');
DELETE FROM icos.orders WHERE code = (SELECT code2 FROM t);
SELECT lives_ok($$UPDATE icos.orders SET delivery_method = 'collect', collect_store = 9822
				  WHERE code = (SELECT code FROM t)$$,
				'orders: method and store changed together are accepted');
UPDATE icos.orders SET delivery_method = 'carry', collect_store = NULL WHERE code = (SELECT code FROM t);

-- order_line: reserved_qty + consumed_qty <= qty AND returned_qty <= consumed_qty
-- (the line is qty 5, reserved 2, consumed 2, returned 0)
PREPARE set_units(int, int, int, int) AS
	UPDATE icos.order_line SET qty = $1, reserved_qty = $2, consumed_qty = $3, returned_qty = $4
	 WHERE code = (SELECT code FROM t) AND line = 1;
SELECT throws_ok($$EXECUTE set_units(5, 3, 3, 0)$$, '23514',
				 'new row for relation "order_line" violates check constraint "order_line_units_check"',
				 'order_line: reserved and handed over one more than ordered is refused');
SELECT throws_ok($$EXECUTE set_units(3, 2, 2, 0)$$, '23514',
				 'new row for relation "order_line" violates check constraint "order_line_units_check"',
				 'order_line: lowering qty below reserved and handed over is refused');
SELECT throws_ok($$EXECUTE set_units(5, 0, 2, 3)$$, '23514',
				 'new row for relation "order_line" violates check constraint "order_line_units_check"',
				 'order_line: one more unit returned than handed over is refused');
SELECT throws_ok($$EXECUTE set_units(2147483647, 2147483647, 2147483647, 0)$$, '23514',
				 'new row for relation "order_line" violates check constraint "order_line_units_check"',
				 'order_line: counts whose sum overflows a 32-bit integer are refused, not wrapped');
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, reserved_qty)
				   SELECT 9821, code, 2, '012345000065', 1, 9821, 'reserved', 2 FROM t$$, '23514',
				 'new row for relation "order_line" violates check constraint "order_line_units_check"',
				 'order_line: a new line reserving more than its qty is refused');
SELECT results_eq($$SELECT qty::int, reserved_qty::int, consumed_qty::int, returned_qty::int
					FROM icos.order_line WHERE code = (SELECT code FROM t) ORDER BY line$$,
				  $$VALUES (5, 2, 2, 0)$$, 'order_line: the refused writes changed nothing');
SELECT lives_ok($$EXECUTE set_units(5, 3, 2, 0)$$, 'order_line: reserved plus handed over equal to qty is accepted');
SELECT lives_ok($$EXECUTE set_units(5, 0, 5, 5)$$, 'order_line: every unit handed over and returned is accepted');
SELECT lives_ok($$EXECUTE set_units(2147483647, 0, 2147483647, 2147483647)$$,
				'order_line: the largest counts are accepted when they fit');
SELECT lives_ok($$EXECUTE set_units(1, 0, 0, 0)$$, 'order_line: nothing reserved or handed over is accepted');

-- order_payment: tendered_pence >= amount_pence
--            AND (kind = 'payment' OR tendered_pence = amount_pence)
PREPARE ins_payment(int, text, bigint, bigint) AS
	INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
	SELECT 9821, code, $1, $2, 'cash', $3, $4 FROM t;
SELECT throws_ok($$EXECUTE ins_payment(1, 'payment', 500, 499)$$, '23514',
				 'new row for relation "order_payment" violates check constraint "order_payment_tendered_check"',
				 'order_payment: a payment tendering a penny less than its amount is refused');
SELECT throws_ok($$EXECUTE ins_payment(1, 'refund', 500, 501)$$, '23514',
				 'new row for relation "order_payment" violates check constraint "order_payment_tendered_check"',
				 'order_payment: a refund handing over more than its amount is refused');
SELECT throws_ok($$EXECUTE ins_payment(1, 'refund', 500, 499)$$, '23514',
				 'new row for relation "order_payment" violates check constraint "order_payment_tendered_check"',
				 'order_payment: a refund handing over less than its amount is refused');
SELECT throws_ok($$EXECUTE ins_payment(1, NULL, 500, 500)$$, '23502', NULL,
				 'order_payment: no kind at all is refused (NOT NULL)');
SELECT is((SELECT count(*)::int FROM icos.order_payment WHERE code = (SELECT code FROM t)), 0,
		  'order_payment: none of the refused rows was written');
SELECT lives_ok($$EXECUTE ins_payment(1, 'payment', 500, 500)$$, 'order_payment: a payment of the exact amount is accepted');
SELECT lives_ok($$EXECUTE ins_payment(2, 'payment', 500, 2000)$$, 'order_payment: a cash payment with change is accepted');
SELECT lives_ok($$EXECUTE ins_payment(3, 'refund', 500, 500)$$, 'order_payment: a refund of the exact amount is accepted');
SELECT throws_ok($$UPDATE icos.order_payment SET kind = 'refund' WHERE code = (SELECT code FROM t) AND payment_no = 2$$,
				 '23514',
				 'new row for relation "order_payment" violates check constraint "order_payment_tendered_check"',
				 'order_payment: turning a payment with change into a refund is refused');
SELECT is((SELECT kind::text FROM icos.order_payment WHERE code = (SELECT code FROM t) AND payment_no = 2), 'payment',
		  'order_payment: the refused update changed nothing');

-- order_event: (kind = 'note') = (topic IS NOT NULL)
PREPARE ins_event(text, text) AS
	INSERT INTO icos.order_event (store_id, code, kind, topic, note, at_store)
	SELECT 9821, code, $1, $2, 'rules', 9821 FROM t;
SELECT throws_ok($$EXECUTE ins_event('note', NULL)$$, '23514',
				 'new row for relation "order_event" violates check constraint "order_event_check"',
				 'order_event: a note without a topic is refused');
SELECT throws_ok($$EXECUTE ins_event('edited', 'service')$$, '23514',
				 'new row for relation "order_event" violates check constraint "order_event_check"',
				 'order_event: an event other than a note with a topic is refused');
SELECT throws_ok($$EXECUTE ins_event(NULL, NULL)$$, '23502', NULL,
				 'order_event: no kind at all is refused (NOT NULL)');
SELECT is((SELECT count(*)::int FROM icos.order_event WHERE code = (SELECT code FROM t)), 0,
		  'order_event: none of the refused rows was written');
SELECT lives_ok($$EXECUTE ins_event('note', 'dispatch')$$, 'order_event: a note with a topic is accepted');
SELECT lives_ok($$EXECUTE ins_event('edited', NULL)$$, 'order_event: another event without a topic is accepted');
SELECT is((SELECT count(*)::int FROM icos.order_event WHERE code = (SELECT code FROM t)), 2,
		  'order_event: both accepted events were written');

-- stock_slot: slot, on_hand, reserved >= 0 (domain) and reserved <= on_hand.
SELECT icos.receive_stock(9821, '012345000065', 4, 'delivery');
CREATE TEMP TABLE slot0 AS
	SELECT s.slot, s.on_hand, s.reserved FROM icos.stock_slot s
	 WHERE s.store_id = 9821 AND s.upc = '012345000065' AND s.on_hand > 0 ORDER BY s.slot LIMIT 1;
SELECT results_eq($$SELECT on_hand::int <= 4, reserved::int FROM slot0$$, $$VALUES (true, 0)$$,
				  'stock_slot: the receipt counted in a slot, nothing reserved');
PREPARE set_slot(int, int) AS
	UPDATE icos.stock_slot s SET on_hand = $1, reserved = $2
	 WHERE s.store_id = 9821 AND s.upc = '012345000065' AND s.slot = (SELECT slot FROM slot0);
SELECT throws_ok($$EXECUTE set_slot(4, 5)$$, '23514',
				 'new row for relation "stock_slot" violates check constraint "stock_slot_reserved_within_on_hand"',
				 'stock_slot: one more unit reserved than on hand is refused');
SELECT throws_ok($$EXECUTE set_slot(-1, 0)$$, '23514',
				 'value for domain icos.stock_count violates check constraint "stock_count_check"',
				 'stock_slot: a negative on_hand is refused by the domain');
SELECT throws_ok($$EXECUTE set_slot(4, -1)$$, '23514',
				 'value for domain icos.stock_count violates check constraint "stock_count_check"',
				 'stock_slot: a negative reserved is refused by the domain');
SELECT throws_ok($$UPDATE icos.stock_slot s SET on_hand = s.on_hand - 5
				   WHERE s.store_id = 9821 AND s.upc = '012345000065' AND s.slot = (SELECT slot FROM slot0)$$, '23514',
				 'value for domain icos.stock_count violates check constraint "stock_count_check"',
				 'stock_slot: taking a counter below zero by arithmetic is refused');
SELECT throws_ok($$INSERT INTO icos.stock_slot (store_id, upc, slot) VALUES (9821, '012345000065', -1)$$, '23514',
				 'value for domain icos.stock_count violates check constraint "stock_count_check"',
				 'stock_slot: a negative slot number is refused by the domain');
SELECT results_eq($$SELECT s.on_hand::int, s.reserved::int FROM icos.stock_slot s
					WHERE s.store_id = 9821 AND s.upc = '012345000065' AND s.slot = (SELECT slot FROM slot0)$$,
				  $$SELECT on_hand::int, reserved::int FROM slot0$$, 'stock_slot: the refused writes changed nothing');
SELECT lives_ok($$EXECUTE set_slot(4, 4)$$, 'stock_slot: every unit on hand reserved is accepted');
SELECT lives_ok($$EXECUTE set_slot(0, 0)$$, 'stock_slot: an empty slot is accepted');
SELECT lives_ok($$UPDATE icos.stock_slot s SET on_hand = (SELECT on_hand FROM slot0), reserved = 0
				  WHERE s.store_id = 9821 AND s.upc = '012345000065' AND s.slot = (SELECT slot FROM slot0)$$,
				'stock_slot: back to the receipt''s counters');

-- The stock engine refuses before the last line of defence would fire: the
-- employee sees IC001, not a constraint violation.
SELECT throws_ok($$SELECT icos.hold_stock(9821, '012345000065', 5)$$, 'IC001', NULL,
				 'hold_stock of more than on hand: IC001');
SELECT throws_ok($$SELECT icos.adjust_stock(9821, '012345000065', -5, 'count')$$, 'IC001', NULL,
				 'adjust_stock below zero: IC001');
SELECT isnt(icos.hold_stock(9821, '012345000065', 4), NULL, 'hold_stock of every unit on hand is accepted');
SELECT throws_ok($$SELECT icos.adjust_stock(9821, '012345000065', -1, 'count')$$, 'IC001', NULL,
				 'adjust_stock taking a held unit: IC001');
SELECT is_empty($$SELECT * FROM icos.verify_stock() WHERE store_id = 9821$$,
				'the counters still agree with the ledger');

SELECT * FROM finish();
ROLLBACK;
