-- pgTAP: the allowed values of the order tables and the stock ledger are
-- domains (cached per session) rather than table CHECK constraints (rebuilt
-- for every statement).  Every rule still holds: a bad value is refused with
-- SQLSTATE 23514 and a message naming the domain and its constraint; the
-- rules over several columns are still table constraints; nullable columns
-- stay nullable.
BEGIN;
SELECT plan(43);

INSERT INTO icos.store (store_id, name, kind) VALUES (9801, 'Domains store', 'store');
INSERT INTO icos.category (category_id, name) VALUES (9801, 'Domains');
INSERT INTO icos.product (upc, name, category_id, price) VALUES ('036000291452', 'Oak table', 9801, 10.00)
	ON CONFLICT (upc) DO NOTHING;
CREATE TEMP TABLE t AS SELECT icos.next_order_code() AS code;
INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date)
SELECT code, 9801, 'pos', 'placed', 'carry', current_date FROM t;
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, consumed_qty)
SELECT 9801, code, 1, '036000291452', 2, 9801, 'fulfilled', 2 FROM t;

-- Shape: each column has its domain; one list, one place.
SELECT results_eq(
	$$SELECT a.attrelid::regclass::text, a.attname::text COLLATE "default", format_type(a.atttypid, a.atttypmod)
	  FROM pg_attribute a
	  WHERE a.attrelid IN ('icos.orders'::regclass, 'icos.order_line'::regclass, 'icos.order_payment'::regclass,
						   'icos.order_event'::regclass, 'icos.stock_movement'::regclass, 'icos.change_rule'::regclass)
		AND a.attnum > 0 AND NOT a.attisdropped
		AND (SELECT t.typtype FROM pg_type t WHERE t.oid = a.atttypid) = 'd'
	  ORDER BY 1, 2$$,
	$$VALUES ('icos.change_rule', 'status', 'icos.order_status'),
			 ('icos.order_event', 'kind', 'icos.order_event_kind'),
			 ('icos.order_event', 'topic', 'icos.note_topic'),
			 ('icos.order_line', 'consumed_qty', 'icos.unit_count'),
			 ('icos.order_line', 'line', 'icos.positive_count'),
			 ('icos.order_line', 'qty', 'icos.positive_count'),
			 ('icos.order_line', 'remote_status', 'icos.remote_status'),
			 ('icos.order_line', 'reserved_qty', 'icos.unit_count'),
			 ('icos.order_line', 'returned_qty', 'icos.unit_count'),
			 ('icos.order_line', 'status', 'icos.order_line_status'),
			 ('icos.order_payment', 'amount_pence', 'icos.positive_pence'),
			 ('icos.order_payment', 'kind', 'icos.payment_kind'),
			 ('icos.order_payment', 'method', 'icos.payment_method'),
			 ('icos.order_payment', 'payment_no', 'icos.positive_count'),
			 ('icos.order_payment', 'reference', 'icos.payment_reference'),
			 ('icos.orders', 'channel', 'icos.order_channel'),
			 ('icos.orders', 'delivery_method', 'icos.delivery_method'),
			 ('icos.orders', 'status', 'icos.order_status'),
			 ('icos.stock_movement', 'kind', 'icos.stock_movement_kind')$$,
	'the enumerations and single-column ranges of the order tables and the ledger are domains');
SELECT is((SELECT count(*)::int FROM pg_constraint
		   WHERE contype = 'c' AND conbin::text LIKE '%SCALARARRAYOPEXPR%'
			 AND conrelid IN ('icos.orders'::regclass, 'icos.order_line'::regclass, 'icos.order_payment'::regclass,
							  'icos.order_event'::regclass, 'icos.stock_movement'::regclass)),
		  0, 'no table CHECK constraint of the five tables place_order writes holds an IN list');
SELECT is((SELECT count(*)::int FROM pg_type t
		   WHERE t.typnamespace = 'icos'::regnamespace AND t.typtype = 'd'
			 AND obj_description(t.oid, 'pg_type') IS NULL),
		  0, 'every domain has a comment');
SELECT col_type_is('icos', 'order_event', 'role_name', 'text', 'order_event.role_name is text, not name');
SELECT col_default_is('icos', 'order_event', 'role_name', 'SESSION_USER',
					  'order_event.role_name defaults to the session user');

-- Each domain refuses a bad value: 23514, the domain and its constraint named.
SELECT throws_ok($$UPDATE icos.orders SET status = 'shipped' WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.order_status violates check constraint "order_status_check"',
				 'orders.status: an unknown status is refused');
SELECT throws_ok($$UPDATE icos.change_rule SET status = 'shipped' WHERE status = 'placed' AND change_kind = 'cancel'$$,
				 '23514', 'value for domain icos.order_status violates check constraint "order_status_check"',
				 'change_rule.status: the same list as orders.status');
SELECT throws_ok($$UPDATE icos.orders SET channel = 'fax' WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.order_channel violates check constraint "order_channel_check"',
				 'orders.channel: an unknown channel is refused');
SELECT throws_ok($$UPDATE icos.orders SET delivery_method = 'drone' WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.delivery_method violates check constraint "delivery_method_check"',
				 'orders.delivery_method: an unknown method is refused');
SELECT throws_ok($$UPDATE icos.order_line SET status = 'lost' WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.order_line_status violates check constraint "order_line_status_check"',
				 'order_line.status: an unknown status is refused');
SELECT throws_ok($$UPDATE icos.order_line SET remote_status = 'maybe' WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.remote_status violates check constraint "remote_status_check"',
				 'order_line.remote_status: an unknown answer is refused');
SELECT throws_ok($$INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
				   SELECT 9801, code, 0, '036000291452', 1, 9801, 'reserved' FROM t$$, '23514',
				 'value for domain icos.positive_count violates check constraint "positive_count_check"',
				 'order_line.line: line 0 is refused');
SELECT throws_ok($$UPDATE icos.order_line SET qty = 0 WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.positive_count violates check constraint "positive_count_check"',
				 'order_line.qty: zero units are refused');
SELECT throws_ok($$UPDATE icos.order_line SET reserved_qty = -1 WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.unit_count violates check constraint "unit_count_check"',
				 'order_line.reserved_qty: a negative count is refused');
SELECT throws_ok($$UPDATE icos.order_line SET consumed_qty = -1 WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.unit_count violates check constraint "unit_count_check"',
				 'order_line.consumed_qty: a negative count is refused');
SELECT throws_ok($$UPDATE icos.order_line SET returned_qty = -1 WHERE code = (SELECT code FROM t)$$, '23514',
				 'value for domain icos.unit_count violates check constraint "unit_count_check"',
				 'order_line.returned_qty: a negative count is refused');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
				   SELECT 9801, code, 1, 'payment', 'bitcoin', 100, 100 FROM t$$, '23514',
				 'value for domain icos.payment_method violates check constraint "payment_method_check"',
				 'order_payment.method: an unknown method is refused');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
				   SELECT 9801, code, 1, 'gift', 'cash', 100, 100 FROM t$$, '23514',
				 'value for domain icos.payment_kind violates check constraint "payment_kind_check"',
				 'order_payment.kind: neither payment nor refund is refused');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
				   SELECT 9801, code, 0, 'payment', 'cash', 100, 100 FROM t$$, '23514',
				 'value for domain icos.positive_count violates check constraint "positive_count_check"',
				 'order_payment.payment_no: number 0 is refused');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
				   SELECT 9801, code, 1, 'payment', 'cash', 0, 0 FROM t$$, '23514',
				 'value for domain icos.positive_pence violates check constraint "positive_pence_check"',
				 'order_payment.amount_pence: a zero amount is refused');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence,
												   reference)
				   SELECT 9801, code, 1, 'payment', 'cheque', 100, 100, repeat('x', 101) FROM t$$, '23514',
				 'value for domain icos.payment_reference violates check constraint "payment_reference_length"',
				 'order_payment.reference: 101 characters are refused');
SELECT throws_ok($$INSERT INTO icos.order_event (store_id, code, kind, at_store) SELECT 9801, code, 'deleted', 9801 FROM t$$,
				 '23514', 'value for domain icos.order_event_kind violates check constraint "order_event_kind_check"',
				 'order_event.kind: an unknown kind is refused');
SELECT throws_ok($$INSERT INTO icos.order_event (store_id, code, kind, topic, at_store)
				   SELECT 9801, code, 'note', 'gossip', 9801 FROM t$$, '23514',
				 'value for domain icos.note_topic violates check constraint "note_topic_check"',
				 'order_event.topic: an unknown topic is refused');
SELECT throws_ok($$INSERT INTO icos.stock_movement (store_id, upc, kind, d_on_hand) VALUES (9801, '036000291452', 'theft', -1)$$,
				 '23514', 'value for domain icos.stock_movement_kind violates check constraint "stock_movement_kind_check"',
				 'stock_movement.kind: an unknown kind is refused');

-- The domains keep NOT NULL on the columns that had it; nullable ones stay nullable.
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
				   SELECT 9801, code, 1, 'payment', NULL, 100, 100 FROM t$$, '23502', NULL,
				 'order_payment.method is still NOT NULL');
SELECT col_not_null('icos', 'orders', 'status', 'orders.status is NOT NULL');
SELECT col_not_null('icos', 'order_line', 'qty', 'order_line.qty is NOT NULL');
SELECT col_is_null('icos', 'order_event', 'topic', 'order_event.topic may be null (events other than notes)');
SELECT col_is_null('icos', 'order_line', 'remote_status', 'order_line.remote_status may be null (local stock)');
SELECT col_is_null('icos', 'order_payment', 'reference', 'order_payment.reference may be null');
SELECT lives_ok($$INSERT INTO icos.order_event (store_id, code, kind, topic, note, at_store)
				  SELECT 9801, code, 'note', 'service', 'Rang the customer', 9801 FROM t$$,
				'a note with a known topic is accepted');
SELECT lives_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence,
												  reference)
				  SELECT 9801, code, 1, 'payment', 'cheque', 2000, 2000, repeat('x', 100) FROM t$$,
				'a payment with a 100-character reference is accepted');
SELECT is((SELECT role_name FROM icos.order_event WHERE code = (SELECT code FROM t) AND kind = 'note'),
		  session_user::text, 'the event records the session user as its role_name');

-- The rules over several columns are still table constraints (one per table,
-- calling a C function of src/row_rules.c; test/pgtap/row_rules.sql has them all).
SELECT throws_ok($$UPDATE icos.order_line SET returned_qty = 3 WHERE code = (SELECT code FROM t)$$, '23514',
				 'new row for relation "order_line" violates check constraint "order_line_units_check"',
				 'order_line: no more units returned than handed over');
SELECT throws_ok($$UPDATE icos.order_line SET reserved_qty = 1 WHERE code = (SELECT code FROM t)$$, '23514',
				 'new row for relation "order_line" violates check constraint "order_line_units_check"',
				 'order_line: reserved and handed-over units stay within qty');
SELECT throws_ok($$INSERT INTO icos.order_event (store_id, code, kind, at_store) SELECT 9801, code, 'note', 9801 FROM t$$,
				 '23514', 'new row for relation "order_event" violates check constraint "order_event_check"',
				 'order_event: a note needs a topic');
SELECT throws_ok($$INSERT INTO icos.order_event (store_id, code, kind, topic, at_store)
				   SELECT 9801, code, 'placed', 'service', 9801 FROM t$$, '23514',
				 'new row for relation "order_event" violates check constraint "order_event_check"',
				 'order_event: only a note has a topic');
SELECT throws_ok($$UPDATE icos.orders SET delivery_method = 'home' WHERE code = (SELECT code FROM t)$$, '23514',
				 'new row for relation "orders" violates check constraint "orders_delivery_check"',
				 'orders: home delivery needs an address');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
				   SELECT 9801, code, 2, 'payment', 'cash', 500, 400 FROM t$$, '23514',
				 'new row for relation "order_payment" violates check constraint "order_payment_tendered_check"',
				 'order_payment: the amount tendered covers the amount');
SELECT throws_ok($$INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence, tendered_pence)
				   SELECT 9801, code, 2, 'refund', 'cash', 500, 600 FROM t$$, '23514',
				 'new row for relation "order_payment" violates check constraint "order_payment_tendered_check"',
				 'order_payment: a refund tenders exactly its amount');
SELECT throws_ok($$INSERT INTO icos.stock_movement (store_id, upc, kind, d_on_hand) VALUES (9801, '036000291452', 'receipt', -1)$$,
				 '23514', 'new row for relation "stock_movement" violates check constraint "stock_movement_check"',
				 'stock_movement: the deltas still have to fit the kind');

-- Values reach the domain columns as text from the code, and compare with text.
SELECT is((SELECT count(*)::int FROM icos.orders o WHERE o.code = (SELECT code FROM t)
		   AND o.status = 'placed'::text AND o.channel IN ('pos', 'store') AND o.delivery_method <> 'home'),
		  1, 'domain columns compare with text and literals');
SELECT is((SELECT pg_catalog.jsonb_build_object('status', o.status, 'channel', o.channel)
		   FROM icos.orders o WHERE o.code = (SELECT code FROM t)),
		  '{"status": "placed", "channel": "pos"}'::jsonb, 'and turn into JSON strings as text does');

SELECT * FROM finish();
ROLLBACK;
