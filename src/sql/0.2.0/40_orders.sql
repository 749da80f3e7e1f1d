-- icos 0.2.0: orders.  Orders, their lines, payments and the append-only
-- event log; the table of what may change in which status; and the order
-- API (place, find, receipt, edit, cancel, notes, fulfilment, returns).
-- Prices come from icos.price_basket (50_promotions.sql).
--
-- Money is integer pence in every table (bigint) and numeric(12,2) pounds at
-- the JSON surface.  Every child table carries store_id, the selling store
-- (the node that owns the order), as part of its key: replication routes on it.

-- Domains ------------------------------------------------------------------
--
-- The lists of allowed values, and the single-column ranges, of the order
-- tables are domains rather than table CHECK constraints: the server keeps a
-- domain's checks ready per session, where it rebuilds a table's CHECK
-- constraints from their stored form at every INSERT or UPDATE statement
-- (for place_order's one statement writing five tables, the IN lists were the
-- costliest part of that).  Each list lives in one place; a bad value is
-- still refused with SQLSTATE 23514, naming the domain and the constraint.

CREATE DOMAIN icos.order_channel AS text
	CONSTRAINT order_channel_check CHECK (VALUE IN ('store', 'phone', 'web', 'pos'));
COMMENT ON DOMAIN icos.order_channel IS
	'Channel an order came through: store (counter), phone (call centre), web or pos (till)';

CREATE DOMAIN icos.order_status AS text
	CONSTRAINT order_status_check CHECK (VALUE IN ('awaiting_payment', 'placed', 'in_progress',
												  'dispatched', 'ready_for_collection', 'completed',
												  'cancelled'));
COMMENT ON DOMAIN icos.order_status IS
	'Status of an order: awaiting_payment, placed, in_progress, dispatched, ready_for_collection, completed or cancelled';

CREATE DOMAIN icos.delivery_method AS text
	CONSTRAINT delivery_method_check CHECK (VALUE IN ('home', 'collect', 'carry'));
COMMENT ON DOMAIN icos.delivery_method IS
	'How the goods reach the customer: home (delivered), collect (picked up at a store) or carry (taken away at the till)';

CREATE DOMAIN icos.order_line_status AS text
	CONSTRAINT order_line_status_check CHECK (VALUE IN ('reserved', 'backorder', 'made_to_order',
													   'fulfilled', 'cancelled', 'returned'));
COMMENT ON DOMAIN icos.order_line_status IS
	'Status of an order line: reserved, backorder, made_to_order, fulfilled, cancelled or returned';

CREATE DOMAIN icos.payment_kind AS text
	CONSTRAINT payment_kind_check CHECK (VALUE IN ('payment', 'refund'));
COMMENT ON DOMAIN icos.payment_kind IS 'Money taken (payment) or given back (refund)';

CREATE DOMAIN icos.payment_method AS text
	CONSTRAINT payment_method_check CHECK (VALUE IN ('cash', 'visa', 'credit_card', 'debit_card',
													'cheque', 'gift_card'));
COMMENT ON DOMAIN icos.payment_method IS
	'How a payment or refund was made: cash, visa, credit_card, debit_card, cheque or gift_card';

CREATE DOMAIN icos.payment_reference AS text
	CONSTRAINT payment_reference_length CHECK (pg_catalog.length(VALUE) <= 100);
COMMENT ON DOMAIN icos.payment_reference IS
	'Reference of a payment (authorisation code, cheque number, gift card id): at most 100 characters';

CREATE DOMAIN icos.order_event_kind AS text
	CONSTRAINT order_event_kind_check CHECK (VALUE IN ('placed', 'edited', 'payment', 'refund',
													  'cancelled', 'note', 'status', 'returned'));
COMMENT ON DOMAIN icos.order_event_kind IS
	'Kind of order event: placed, edited, payment, refund, cancelled, note, status or returned';

CREATE DOMAIN icos.note_topic AS text
	CONSTRAINT note_topic_check CHECK (VALUE IN ('manufacturing', 'dispatch', 'service'));
COMMENT ON DOMAIN icos.note_topic IS 'Topic of a note on an order: manufacturing, dispatch or service';

CREATE DOMAIN icos.positive_count AS int
	CONSTRAINT positive_count_check CHECK (VALUE > 0);
COMMENT ON DOMAIN icos.positive_count IS
	'A count or number from 1 up: line and payment numbers, units ordered';

CREATE DOMAIN icos.unit_count AS int
	CONSTRAINT unit_count_check CHECK (VALUE >= 0);
COMMENT ON DOMAIN icos.unit_count IS 'A number of units, 0 or more';

CREATE DOMAIN icos.positive_pence AS bigint
	CONSTRAINT positive_pence_check CHECK (VALUE > 0);
COMMENT ON DOMAIN icos.positive_pence IS 'An amount of money in pence, more than zero';

-- Rules over several columns ----------------------------------------------
--
-- Each table's rules over several columns are one CHECK constraint calling a
-- small C function (src/row_rules.c) with the bare columns; the rule in SQL
-- is beside each CREATE TABLE and in the function's comment.  C rather than
-- the SQL expression because the server rebuilds a table's CHECK constraints
-- from their stored form at every statement that writes the table, at a cost
-- that grows with the length of that form: the SQL rules of these four
-- tables were seven constraints of 470 to 1040 stored characters each (a
-- comparison of a domain-typed column stores a cast), 5,455 in all; as four
-- calls with the columns' own domain types (no cast stored) they are 2,143.
-- The functions are not STRICT: a NULL where the rule needs a value is
-- refused, not passed.

CREATE FUNCTION icos._orders_delivery_fits(p_method icos.delivery_method, p_address jsonb,
										   p_collect_store int)
RETURNS boolean AS 'MODULE_PATHNAME', 'orders_delivery_fits'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._orders_delivery_fits(icos.delivery_method, jsonb, int) IS
	'internal: the check orders_delivery_check of icos.orders, (method = ''home'') = (address IS NOT NULL) AND (method = ''collect'') = (collect_store IS NOT NULL): an address for home delivery and only then, a collection store for collection and only then; false when method is null';

CREATE FUNCTION icos._order_line_units_fit(p_qty icos.positive_count, p_reserved icos.unit_count,
										   p_consumed icos.unit_count, p_returned icos.unit_count)
RETURNS boolean AS 'MODULE_PATHNAME', 'order_line_units_fit'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._order_line_units_fit(icos.positive_count, icos.unit_count, icos.unit_count, icos.unit_count) IS
	'internal: the check order_line_units_check of icos.order_line, reserved + consumed <= qty AND returned <= consumed (sum in 64 bits): units reserved and handed over stay within the units ordered, units returned within those handed over; false when any is null';

CREATE FUNCTION icos._order_payment_fits(p_kind icos.payment_kind, p_amount icos.positive_pence,
										 p_tendered bigint)
RETURNS boolean AS 'MODULE_PATHNAME', 'order_payment_fits'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._order_payment_fits(icos.payment_kind, icos.positive_pence, bigint) IS
	'internal: the check order_payment_tendered_check of icos.order_payment, tendered >= amount AND (kind = ''payment'' OR tendered = amount): what is handed over covers the amount, and a refund hands over exactly its amount; false when any is null';

CREATE FUNCTION icos._order_event_fits(p_kind icos.order_event_kind, p_topic icos.note_topic)
RETURNS boolean AS 'MODULE_PATHNAME', 'order_event_fits'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._order_event_fits(icos.order_event_kind, icos.note_topic) IS
	'internal: the check order_event_check of icos.order_event, (kind = ''note'') = (topic IS NOT NULL): a note has a topic and no other event has one; false when kind is null';

-- Tables -------------------------------------------------------------------

CREATE TABLE icos.orders (
	code            icos.order_code PRIMARY KEY,
	store_id        int NOT NULL,
	channel         icos.order_channel NOT NULL,
	customer_id     bigint REFERENCES icos.customer,
	employee_id     int,
	status          icos.order_status NOT NULL,
	placed_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
	delivery_method icos.delivery_method NOT NULL,
	delivery_address jsonb,
	collect_store   int,
	delivery_date   date,
	promised_date   date NOT NULL,
	gross_pence     bigint NOT NULL DEFAULT 0,
	discount_pence  bigint NOT NULL DEFAULT 0,
	total_pence     bigint NOT NULL DEFAULT 0,
	coupons         text[] NOT NULL DEFAULT '{}',
	pricing         jsonb,
	cancel_reason   text,
	updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
	UNIQUE (store_id, code),
	-- (delivery_method = 'home') = (delivery_address IS NOT NULL)
	-- AND (delivery_method = 'collect') = (collect_store IS NOT NULL)
	CONSTRAINT orders_delivery_check
		CHECK (icos._orders_delivery_fits(delivery_method, delivery_address, collect_store))
);
COMMENT ON TABLE icos.orders IS
	'Customer orders of every channel (an in-store sale is an order too).  Written only by the order API';
COMMENT ON COLUMN icos.orders.code IS 'The order code printed on the receipt; unique across nodes by construction';
COMMENT ON COLUMN icos.orders.store_id IS 'The selling location, whose node owns the order';
COMMENT ON COLUMN icos.orders.employee_id IS 'Employee who took the order (null: not an employee session, e.g. the website service)';
COMMENT ON COLUMN icos.orders.delivery_date IS 'Delivery or collection date the customer asked for, if any';
COMMENT ON COLUMN icos.orders.promised_date IS 'Date promised to the customer: the asked date, else the earliest date stock and lead times allow';
COMMENT ON COLUMN icos.orders.total_pence IS 'Total to pay in pence: gross less discounts over lines not cancelled';
COMMENT ON COLUMN icos.orders.coupons IS 'Coupon codes the customer presented (passed to icos.price_basket)';
COMMENT ON COLUMN icos.orders.pricing IS 'The last icos.price_basket result when it involved a promotion (one applied, or one not applied with its reason); null when none was (see icos._pricing_kept)';
CREATE INDEX orders_customer_idx ON icos.orders (customer_id, placed_at) WHERE customer_id IS NOT NULL;
COMMENT ON INDEX icos.orders_customer_idx IS
	'icos.customer_orders and row-level security of customers; till sales without a customer are left out';

CREATE TABLE icos.order_line (
	store_id       int NOT NULL,
	code           icos.order_code NOT NULL,
	line           icos.positive_count NOT NULL,
	upc            icos.upc NOT NULL,
	qty            icos.positive_count NOT NULL,
	fulfil_from    int NOT NULL,
	status         icos.order_line_status NOT NULL,
	reserved_qty   icos.unit_count NOT NULL DEFAULT 0,
	consumed_qty   icos.unit_count NOT NULL DEFAULT 0,
	returned_qty   icos.unit_count NOT NULL DEFAULT 0,
	unit_price_pence bigint NOT NULL DEFAULT 0,
	discount_pence bigint NOT NULL DEFAULT 0,
	net_pence      bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (code, store_id, line),
	-- reserved_qty + consumed_qty <= qty AND returned_qty <= consumed_qty
	CONSTRAINT order_line_units_check
		CHECK (icos._order_line_units_fit(qty, reserved_qty, consumed_qty, returned_qty))
);
COMMENT ON TABLE icos.order_line IS 'Order lines; store_id is the order''s selling store';
COMMENT ON COLUMN icos.order_line.fulfil_from IS 'Store whose stock serves the line (recorded when the server chose it)';
COMMENT ON COLUMN icos.order_line.status IS
	'reserved (stock held), backorder or made_to_order (promised by lead time), fulfilled (goods left), cancelled, returned';
COMMENT ON COLUMN icos.order_line.reserved_qty IS 'Units currently reserved at fulfil_from for this line';
COMMENT ON COLUMN icos.order_line.consumed_qty IS 'Units that have left the store (carried, dispatched, collected)';
COMMENT ON COLUMN icos.order_line.returned_qty IS 'Units the customer brought back';
COMMENT ON COLUMN icos.order_line.net_pence IS 'Price of qty - returned_qty units after discounts (0 when cancelled)';

CREATE TABLE icos.order_payment (
	store_id      int NOT NULL,
	code          icos.order_code NOT NULL,
	payment_no    icos.positive_count NOT NULL,
	kind          icos.payment_kind NOT NULL,
	method        icos.payment_method NOT NULL,
	amount_pence  icos.positive_pence NOT NULL,
	tendered_pence bigint NOT NULL,
	reference     icos.payment_reference,
	at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
	employee_id   int,
	PRIMARY KEY (code, store_id, payment_no),
	-- tendered_pence >= amount_pence AND (kind = 'payment' OR tendered_pence = amount_pence)
	CONSTRAINT order_payment_tendered_check
		CHECK (icos._order_payment_fits(kind, amount_pence, tendered_pence))
);
COMMENT ON TABLE icos.order_payment IS
	'Payments and refunds of an order.  Card numbers are never stored (place_order refuses them)';
COMMENT ON COLUMN icos.order_payment.amount_pence IS 'Amount applied to the order';
COMMENT ON COLUMN icos.order_payment.tendered_pence IS 'Amount handed over; above amount_pence only for cash, the difference is the change given';

CREATE SEQUENCE icos.order_event_seq;
COMMENT ON SEQUENCE icos.order_event_seq IS 'Orders events within a node (keys include store and order code)';

CREATE TABLE icos.order_event (
	store_id    int NOT NULL,
	code        icos.order_code NOT NULL,
	event_id    bigint NOT NULL DEFAULT pg_catalog.nextval('icos.order_event_seq'),
	at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	kind        icos.order_event_kind NOT NULL,
	topic       icos.note_topic,
	note        text,
	detail      jsonb,
	employee_id int,
	role_name   text NOT NULL DEFAULT session_user,
	at_store    int NOT NULL,
	PRIMARY KEY (code, store_id, event_id),
	-- (kind = 'note') = (topic IS NOT NULL)
	CONSTRAINT order_event_check CHECK (icos._order_event_fits(kind, topic))
);
COMMENT ON TABLE icos.order_event IS
	'Append-only log of every change to an order: who (employee, login role), where (at_store), when, what';
COMMENT ON COLUMN icos.order_event.topic IS 'For notes: manufacturing, dispatch or service';
COMMENT ON COLUMN icos.order_event.at_store IS 'Store the change was made from (the employee''s store, else the order''s)';
COMMENT ON COLUMN icos.order_event.role_name IS 'Login role of the session that made the change';

CREATE FUNCTION icos._order_event_immutable() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42501',
		MESSAGE = 'the order event log cannot be changed',
		DETAIL = pg_catalog.format('%s on icos.order_event is refused: the log is append-only.', TG_OP),
		HINT = 'Record a correction as a new event through the order API (for example icos.add_note).';
END
$$;
COMMENT ON FUNCTION icos._order_event_immutable() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of the order event log';
CREATE TRIGGER order_event_append_only BEFORE UPDATE OR DELETE ON icos.order_event
	FOR EACH ROW EXECUTE FUNCTION icos._order_event_immutable();
CREATE TRIGGER order_event_no_truncate BEFORE TRUNCATE ON icos.order_event
	FOR EACH STATEMENT EXECUTE FUNCTION icos._order_event_immutable();
COMMENT ON TRIGGER order_event_append_only ON icos.order_event IS 'The event log is append-only';
COMMENT ON TRIGGER order_event_no_truncate ON icos.order_event IS 'The event log is append-only';

SELECT pg_catalog.pg_extension_config_dump('icos.orders', '');
SELECT pg_catalog.pg_extension_config_dump('icos.order_line', '');
SELECT pg_catalog.pg_extension_config_dump('icos.order_payment', '');
SELECT pg_catalog.pg_extension_config_dump('icos.order_event', '');
SELECT pg_catalog.pg_extension_config_dump('icos.order_event_seq', '');

-- What may change: one table, consulted by icos._change_refusal -----------

CREATE TABLE icos.change_kind (
	change_kind text PRIMARY KEY,
	action      text NOT NULL
);
COMMENT ON TABLE icos.change_kind IS 'Kinds of change to an order, with the words used in refusals';
COMMENT ON COLUMN icos.change_kind.action IS 'What the employee tried, as in "cannot <action>"';

INSERT INTO icos.change_kind VALUES
	('add_lines', 'add items'),
	('cancel_lines', 'cancel items'),
	('set_qty', 'change quantities'),
	('address', 'change the delivery address'),
	('delivery_date', 'change the delivery date'),
	('payment', 'take a payment'),
	('refund', 'give a refund'),
	('cancel', 'cancel the order'),
	('note_manufacturing', 'add a manufacturing note'),
	('note_dispatch', 'add a dispatch note'),
	('note_service', 'add a service note'),
	('to_in_progress', 'mark the order in progress'),
	('to_dispatched', 'mark the order dispatched'),
	('to_ready_for_collection', 'mark the order ready for collection'),
	('to_completed', 'mark the order completed'),
	('return', 'take items back');

CREATE TABLE icos.change_rule (
	status      icos.order_status NOT NULL,
	change_kind text NOT NULL REFERENCES icos.change_kind,
	allowed     boolean NOT NULL,
	reason      text,
	PRIMARY KEY (status, change_kind),
	CHECK (allowed OR reason IS NOT NULL)
);
COMMENT ON TABLE icos.change_rule IS
	'What may change in which order status.  A missing row means refused.  Head office may edit the rows';
COMMENT ON COLUMN icos.change_rule.reason IS 'Why it is refused, in words a shop-floor employee understands (the error detail)';

INSERT INTO icos.change_rule (status, change_kind, allowed, reason)
SELECT s.status, k.change_kind, r.reason IS NULL, r.reason
FROM (VALUES ('awaiting_payment'), ('placed'), ('in_progress'), ('dispatched'),
			 ('ready_for_collection'), ('completed'), ('cancelled')) s(status)
CROSS JOIN icos.change_kind k
LEFT JOIN (VALUES
	-- Not yet paid: nothing may leave the store.
	('awaiting_payment', 'to_dispatched', 'The customer has not paid in full yet. Take the payment before the goods leave.'),
	('awaiting_payment', 'to_ready_for_collection', 'The customer has not paid in full yet. Take the payment before the order is handed over.'),
	('awaiting_payment', 'to_completed', 'The customer has not paid in full yet.'),
	('awaiting_payment', 'return', 'Nothing has been handed over yet: cancel the items instead.'),
	('placed', 'to_completed', 'The order has not been dispatched or made ready for collection yet.'),
	('placed', 'return', 'Nothing has been handed over yet: cancel the items instead.'),
	('in_progress', 'to_completed', 'The order has not been dispatched or made ready for collection yet.'),
	('in_progress', 'to_in_progress', 'The order is already in progress.'),
	('in_progress', 'return', 'Nothing has been handed over yet: cancel the items instead.'),
	-- Dispatched: the goods are on their way.
	('dispatched', 'add_lines', 'The order has already been dispatched. Place a new order for more items.'),
	('dispatched', 'cancel_lines', 'The order has already been dispatched, so its items can no longer be cancelled. Once delivered, the customer can return them.'),
	('dispatched', 'set_qty', 'The order has already been dispatched, so quantities can no longer change.'),
	('dispatched', 'address', 'The order has already been dispatched, so the delivery address can no longer be changed.'),
	('dispatched', 'delivery_date', 'The order has already been dispatched, so the delivery date can no longer be changed.'),
	('dispatched', 'cancel', 'The order has already been dispatched and can no longer be cancelled. Once delivered, the customer can return the items.'),
	('dispatched', 'note_manufacturing', 'The order has already been dispatched: manufacturing is over.'),
	('dispatched', 'to_in_progress', 'The order has already been dispatched.'),
	('dispatched', 'to_dispatched', 'The order has already been dispatched.'),
	('dispatched', 'to_ready_for_collection', 'The order has been dispatched for home delivery, not for collection.'),
	-- Ready for collection: packed at the store.
	('ready_for_collection', 'add_lines', 'The order is packed and waiting for collection. Place a new order for more items.'),
	('ready_for_collection', 'set_qty', 'The order is packed and waiting for collection, so quantities can no longer change.'),
	('ready_for_collection', 'address', 'The order is collected in store: it has no delivery address.'),
	('ready_for_collection', 'delivery_date', 'The order is already waiting for collection.'),
	('ready_for_collection', 'note_manufacturing', 'The order is already made and waiting for collection.'),
	('ready_for_collection', 'to_in_progress', 'The order is already waiting for collection.'),
	('ready_for_collection', 'to_dispatched', 'The order is collected in store, not dispatched.'),
	('ready_for_collection', 'to_ready_for_collection', 'The order is already waiting for collection.'),
	('ready_for_collection', 'return', 'Nothing has been handed over yet: cancel the items instead.'),
	-- Completed: the customer has the goods.
	('completed', 'add_lines', 'The order is complete. Place a new order for more items.'),
	('completed', 'cancel_lines', 'The order is complete, so its items can no longer be cancelled. The customer can return them instead.'),
	('completed', 'set_qty', 'The order is complete, so quantities can no longer change.'),
	('completed', 'address', 'The order is complete, so the delivery address can no longer be changed.'),
	('completed', 'delivery_date', 'The order is complete, so the delivery date can no longer be changed.'),
	('completed', 'cancel', 'The order is complete and can no longer be cancelled. The customer can return the items instead.'),
	('completed', 'note_manufacturing', 'The order is complete: manufacturing is over.'),
	('completed', 'note_dispatch', 'The order is complete: there is nothing left to dispatch.'),
	('completed', 'to_in_progress', 'The order is already complete.'),
	('completed', 'to_dispatched', 'The order is already complete.'),
	('completed', 'to_ready_for_collection', 'The order is already complete.'),
	('completed', 'to_completed', 'The order is already complete.'),
	-- Cancelled: only a refund of what was paid, and service notes.
	('cancelled', 'add_lines', 'The order was cancelled. Place a new order instead.'),
	('cancelled', 'cancel_lines', 'The order was cancelled.'),
	('cancelled', 'set_qty', 'The order was cancelled.'),
	('cancelled', 'address', 'The order was cancelled.'),
	('cancelled', 'delivery_date', 'The order was cancelled.'),
	('cancelled', 'payment', 'The order was cancelled: there is nothing to pay.'),
	('cancelled', 'cancel', 'The order was already cancelled.'),
	('cancelled', 'note_manufacturing', 'The order was cancelled: there is nothing to manufacture.'),
	('cancelled', 'note_dispatch', 'The order was cancelled: there is nothing to dispatch.'),
	('cancelled', 'to_in_progress', 'The order was cancelled.'),
	('cancelled', 'to_dispatched', 'The order was cancelled.'),
	('cancelled', 'to_ready_for_collection', 'The order was cancelled.'),
	('cancelled', 'to_completed', 'The order was cancelled.'),
	('cancelled', 'return', 'The order was cancelled: nothing was handed over.')
) r(status, change_kind, reason) ON r.status = s.status AND r.change_kind = k.change_kind;

-- Column comments ------------------------------------------------------------

COMMENT ON COLUMN icos.orders.channel IS 'store, phone, web or pos';
COMMENT ON COLUMN icos.orders.customer_id IS 'The customer (null for an anonymous till sale)';
COMMENT ON COLUMN icos.orders.status IS 'awaiting_payment, placed, in_progress, dispatched, ready_for_collection, completed or cancelled';
COMMENT ON COLUMN icos.orders.placed_at IS 'When the order was placed';
COMMENT ON COLUMN icos.orders.delivery_method IS 'home, collect or carry (taken away at the till)';
COMMENT ON COLUMN icos.orders.delivery_address IS 'Address for home delivery (line1, line2, town, postcode)';
COMMENT ON COLUMN icos.orders.collect_store IS 'Store where a collect order is picked up';
COMMENT ON COLUMN icos.orders.gross_pence IS 'Lines at list price, in pence';
COMMENT ON COLUMN icos.orders.discount_pence IS 'Discounts from price_basket, in pence';
COMMENT ON COLUMN icos.orders.cancel_reason IS 'Why the order was cancelled';
COMMENT ON COLUMN icos.orders.updated_at IS 'Last change through the API';
COMMENT ON COLUMN icos.order_line.store_id IS 'The order''s selling store (the owning node''s key)';
COMMENT ON COLUMN icos.order_line.code IS 'The order';
COMMENT ON COLUMN icos.order_line.line IS 'Line number within the order, from 1';
COMMENT ON COLUMN icos.order_line.upc IS 'The product';
COMMENT ON COLUMN icos.order_line.qty IS 'Units ordered';
COMMENT ON COLUMN icos.order_line.unit_price_pence IS 'List price per unit from price_basket, in pence';
COMMENT ON COLUMN icos.order_line.discount_pence IS 'Discount on the line from price_basket, in pence';
COMMENT ON COLUMN icos.order_payment.store_id IS 'The order''s selling store (the owning node''s key)';
COMMENT ON COLUMN icos.order_payment.code IS 'The order';
COMMENT ON COLUMN icos.order_payment.payment_no IS 'Number within the order, from 1 (payments and refunds share the numbering)';
COMMENT ON COLUMN icos.order_payment.kind IS 'payment or refund';
COMMENT ON COLUMN icos.order_payment.method IS 'cash, visa, credit_card, debit_card, cheque or gift_card';
COMMENT ON COLUMN icos.order_payment.reference IS 'Authorisation code, cheque number, gift card id; never a card number';
COMMENT ON COLUMN icos.order_payment.at IS 'When it was taken';
COMMENT ON COLUMN icos.order_payment.employee_id IS 'Employee who took it (null outside an employee session)';
COMMENT ON COLUMN icos.order_event.store_id IS 'The order''s selling store (the owning node''s key)';
COMMENT ON COLUMN icos.order_event.code IS 'The order';
COMMENT ON COLUMN icos.order_event.event_id IS 'Order of events (node-local sequence)';
COMMENT ON COLUMN icos.order_event.at IS 'When it happened';
COMMENT ON COLUMN icos.order_event.kind IS 'placed, edited, payment, refund, cancelled, note, status or returned';
COMMENT ON COLUMN icos.order_event.note IS 'What happened, in words';
COMMENT ON COLUMN icos.order_event.detail IS 'The change as data (e.g. the edit''s JSON)';
COMMENT ON COLUMN icos.order_event.employee_id IS 'Employee who made the change (null outside an employee session)';
COMMENT ON COLUMN icos.change_rule.status IS 'Order status the rule applies to';
COMMENT ON COLUMN icos.change_rule.change_kind IS 'The change (see icos.change_kind)';
COMMENT ON COLUMN icos.change_rule.allowed IS 'Whether the change may be made in that status';
COMMENT ON COLUMN icos.change_kind.change_kind IS 'Name of the change, as used by icos._check_change';

-- Small helpers ------------------------------------------------------------

CREATE FUNCTION icos._pounds(p_pence bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT (p_pence::pg_catalog.numeric OPERATOR(pg_catalog./) 100)::pg_catalog.numeric(12,2)
$$;
COMMENT ON FUNCTION icos._pounds(bigint) IS 'Pence to numeric(12,2) pounds (the SQL/JSON surface)';

-- What an order keeps of its pricing: the whole icos.price_basket result
-- when a promotion was involved, else nothing (its lines' prices are in the
-- order lines).  A till sale without offers so writes 0.7 KB less.  The
-- placement fast path (src/place.c) applies the same rule.
CREATE FUNCTION icos._pricing_kept(p_pricing jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN pg_catalog.jsonb_typeof(p_pricing -> 'applied') = 'array'
					 AND pg_catalog.jsonb_array_length(p_pricing -> 'applied') = 0
					 AND pg_catalog.jsonb_typeof(p_pricing -> 'not_applied') = 'array'
					 AND pg_catalog.jsonb_array_length(p_pricing -> 'not_applied') = 0
					 AND p_pricing -> 'approximate' = 'false'::jsonb
				THEN NULL ELSE p_pricing END
$$;
COMMENT ON FUNCTION icos._pricing_kept(jsonb) IS
	'The pricing an order keeps: null when no promotion was applied or reported not applied (and the search was exact), else the price_basket result';

CREATE FUNCTION icos._money(p_val jsonb, p_what text, p_errcode text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
	v numeric;
BEGIN
	IF p_val IS NULL OR pg_catalog.jsonb_typeof(p_val) NOT IN ('number', 'string') THEN
		RAISE EXCEPTION USING ERRCODE = p_errcode,
			MESSAGE = pg_catalog.format('%s is missing or not an amount', p_what),
			HINT = 'Give an amount in pounds such as 12.50 or "12.50".';
	END IF;
	-- A JSON number, or a string spelled as one, converts without error: no
	-- exception block (a subtransaction) is needed for those.
	IF pg_catalog.jsonb_typeof(p_val) = 'number'
		OR (p_val #>> '{}') ~ '^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*$' THEN
		v := (p_val #>> '{}')::numeric;
	ELSE
		BEGIN
			v := (p_val #>> '{}')::numeric;
		EXCEPTION WHEN invalid_text_representation THEN
			RAISE EXCEPTION USING ERRCODE = p_errcode,
				MESSAGE = pg_catalog.format('%s "%s" is not an amount', p_what, p_val #>> '{}'),
				HINT = 'Give an amount in pounds such as 12.50 or "12.50".';
		END;
	END IF;
	IF v <= 0 OR v >= 10000000000 OR v <> pg_catalog.round(v, 2) OR v = 'NaN'::numeric THEN
		RAISE EXCEPTION USING ERRCODE = p_errcode,
			MESSAGE = pg_catalog.format('%s %s is not a valid amount', p_what, p_val #>> '{}'),
			DETAIL = 'An amount is more than zero, in pounds with at most two decimals.';
	END IF;
	RETURN (v * 100)::bigint;
END
$$;
COMMENT ON FUNCTION icos._money(jsonb, text, text) IS
	'A positive amount in pounds (JSON number or string, at most 2 decimals) as pence; raises the given SQLSTATE otherwise';

CREATE FUNCTION icos._json_int(p_obj jsonb, p_key text, p_what text) RETURNS int
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
	v jsonb := p_obj -> p_key;
BEGIN
	IF v IS NULL OR pg_catalog.jsonb_typeof(v) = 'null' THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric <> pg_catalog.trunc((v #>> '{}')::numeric)
		OR abs((v #>> '{}')::numeric) > 2147483647 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s "%s" must be a whole number', p_what, p_key),
			DETAIL = pg_catalog.format('Got %s.', v);
	END IF;
	RETURN (v #>> '{}')::int;
END
$$;
COMMENT ON FUNCTION icos._json_int(jsonb, text, text) IS
	'The integer value of a key (null when absent); 22023 when it is not a whole JSON number';

CREATE FUNCTION icos._is_count(p_val jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN pg_catalog.jsonb_typeof(p_val) OPERATOR(pg_catalog.=) 'number'
					 AND (p_val OPERATOR(pg_catalog.#>>) '{}') OPERATOR(pg_catalog.~) '^[0-9]{1,10}$'
				THEN (p_val OPERATOR(pg_catalog.#>>) '{}')::pg_catalog.int8 OPERATOR(pg_catalog.>=) 1
					 AND (p_val OPERATOR(pg_catalog.#>>) '{}')::pg_catalog.int8 OPERATOR(pg_catalog.<=) 2147483647
				ELSE false END
$$;
COMMENT ON FUNCTION icos._is_count(jsonb) IS
	'True when the value is a JSON whole number from 1 to 2147483647 written without sign, fraction or exponent (the fast paths'' test of a quantity, line or store number; never raises)';

CREATE FUNCTION icos._json_array(p_obj jsonb, p_key text, p_what text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	IF p_obj IS NULL OR NOT p_obj ? p_key OR pg_catalog.jsonb_typeof(p_obj -> p_key) = 'null' THEN
		RETURN '[]'::jsonb;
	END IF;
	IF pg_catalog.jsonb_typeof(p_obj -> p_key) <> 'array' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s "%s" must be an array', p_what, p_key),
			DETAIL = pg_catalog.format('Got %s.', p_obj -> p_key);
	END IF;
	RETURN p_obj -> p_key;
END
$$;
COMMENT ON FUNCTION icos._json_array(jsonb, text, text) IS
	'The array value of a key ([] when absent); 22023 when it is not a JSON array';

CREATE FUNCTION icos._check_keys(p_obj jsonb, p_allowed text[], p_what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
	k text;
BEGIN
	-- The common case without a query: removing the allowed keys leaves {}.
	IF pg_catalog.jsonb_typeof(p_obj) = 'object' AND p_obj OPERATOR(pg_catalog.-) p_allowed = '{}'::jsonb THEN
		RETURN;
	END IF;
	IF p_obj IS NULL OR pg_catalog.jsonb_typeof(p_obj) <> 'object' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s must be a JSON object', p_what),
			DETAIL = pg_catalog.format('Got %s.', coalesce(p_obj::text, 'null'));
	END IF;
	FOR k IN SELECT pg_catalog.jsonb_object_keys(p_obj) LOOP
		IF NOT k = ANY (p_allowed) THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('unknown key "%s" in %s', k, p_what),
				HINT = pg_catalog.format('The keys are %s.', pg_catalog.array_to_string(p_allowed, ', '));
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos._check_keys(jsonb, text[], text) IS '22023 unless the value is an object whose keys are all in the list';

CREATE FUNCTION icos._json_upc(p_obj jsonb, p_what text) RETURNS icos.upc
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	IF p_obj IS NULL OR NOT p_obj ? 'upc' OR pg_catalog.jsonb_typeof(p_obj -> 'upc') <> 'string' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s needs "upc" as text', p_what),
			DETAIL = pg_catalog.format('Got %s.', coalesce((p_obj -> 'upc')::text, 'nothing')),
			HINT = 'Give the product code as a string, for example "036000291452", so leading zeros survive.';
	END IF;
	RETURN (p_obj ->> 'upc')::icos.upc;
END
$$;
COMMENT ON FUNCTION icos._json_upc(jsonb, text) IS 'The "upc" key of an object as icos.upc (22023 when missing, 22P02 when malformed)';

CREATE FUNCTION icos._looks_like_card_number(p_ref text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
	d   text := pg_catalog.regexp_replace(p_ref, '[[:space:]-]', '', 'g');
	sum int := 0;
	n   int;
	i   int;
BEGIN
	IF d !~ '^[0-9]{13,19}$' THEN
		RETURN false;
	END IF;
	-- Luhn: double every second digit from the right.
	FOR i IN 1 .. length(d) LOOP
		n := pg_catalog.substr(d, length(d) - i + 1, 1)::int;
		IF i % 2 = 0 THEN
			n := n * 2;
			IF n > 9 THEN
				n := n - 9;
			END IF;
		END IF;
		sum := sum + n;
	END LOOP;
	RETURN sum % 10 = 0;
END
$$;
COMMENT ON FUNCTION icos._looks_like_card_number(text) IS
	'True when the text is 13 to 19 digits (spaces and hyphens ignored) passing the Luhn check: a full card number';

CREATE FUNCTION icos._store(p_store int, p_what text) RETURNS icos.store
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	s icos.store;
BEGIN
	SELECT * INTO s FROM icos.store WHERE store_id = p_store;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown store %s', coalesce(p_store::text, 'null')),
			DETAIL = pg_catalog.format('The %s is not a store icos knows.', p_what);
	END IF;
	RETURN s;
END
$$;
COMMENT ON FUNCTION icos._store(int, text) IS 'The store row, or IC004 naming what the store was for';

CREATE FUNCTION icos._lock_order(p_code icos.order_code) RETURNS icos.orders
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	o icos.orders;
BEGIN
	SELECT * INTO o FROM icos.orders WHERE code = p_code FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown order %s', coalesce(p_code::text, '(no code given)')),
			DETAIL = 'No order has this code.',
			HINT = 'Check the code on the receipt; orders placed at another node appear here once replicated.';
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION icos._lock_order(icos.order_code) IS
	'Locks an order for a change (every change starts here, so changes to one order are serialised); IC004 when unknown';

CREATE FUNCTION icos._paid(p_code icos.order_code) RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	-- PL/pgSQL rather than SQL: its plan is kept for the session.
	RETURN (SELECT coalesce(sum(CASE p.kind WHEN 'payment' THEN p.amount_pence ELSE -p.amount_pence END), 0)::bigint
			FROM icos.order_payment p WHERE p.code = p_code);
END
$$;
COMMENT ON FUNCTION icos._paid(icos.order_code) IS 'Pence paid less refunded for an order';

CREATE FUNCTION icos._log(p_order icos.orders, p_kind text, p_note text,
						  p_detail jsonb DEFAULT NULL, p_topic text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
	INSERT INTO icos.order_event (store_id, code, kind, topic, note, detail, employee_id, at_store)
	VALUES (p_order.store_id, p_order.code, p_kind, p_topic, p_note, p_detail,
			icos._current_employee(), coalesce(icos._current_store(), p_order.store_id));
END
$$;
COMMENT ON FUNCTION icos._log(icos.orders, text, text, jsonb, text) IS
	'Appends an event to the order''s log with the acting employee and store';

-- Pricing: icos.price_basket (C, with promotions) is in 50_promotions.sql.

-- The change rules, consulted in one place --------------------------------

CREATE FUNCTION icos._change_refusal(p_order icos.orders, p_kind text, p_arg jsonb DEFAULT NULL,
									 OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
	r        icos.change_rule;
	v_action text;
	v_due    bigint;
	v_line   icos.order_line;
BEGIN
	SELECT k.action INTO v_action FROM icos.change_kind k WHERE k.change_kind = p_kind;
	IF v_action IS NULL THEN
		RAISE EXCEPTION 'unknown change kind %', p_kind;	-- cannot happen: callers pass constants
	END IF;
	message := pg_catalog.format('cannot %s: order %s is %s', v_action, p_order.code,
								 pg_catalog.replace(p_order.status, '_', ' '));

	-- 1. The status table.
	SELECT * INTO r FROM icos.change_rule cr WHERE cr.status = p_order.status AND cr.change_kind = p_kind;
	IF NOT FOUND OR NOT r.allowed THEN
		state := 'IC002';
		detail := coalesce(r.reason, 'This change is not allowed in this status.');
		RETURN;
	END IF;

	-- 2. Rules that depend on the order's content rather than its status.
	v_due := p_order.total_pence - icos._paid(p_order.code);
	message := pg_catalog.format('cannot %s on order %s', v_action, p_order.code);
	IF p_kind = 'refund' AND (p_arg ->> 'amount')::bigint > icos._paid(p_order.code) THEN
		state := 'IC003';
		message := pg_catalog.format('refund of %s is more than the %s paid on order %s',
									 icos._pounds((p_arg ->> 'amount')::bigint),
									 icos._pounds(icos._paid(p_order.code)), p_order.code);
		detail := 'A refund cannot exceed what the customer has paid.';
	ELSIF p_kind = 'delivery_date' AND (p_arg ->> 'date')::date < (p_arg ->> 'earliest')::date THEN
		state := 'IC002';
		detail := pg_catalog.format('The earliest date the stock and lead times allow is %s.', p_arg ->> 'earliest');
	ELSIF p_kind = 'address' AND p_order.delivery_method <> 'home' THEN
		state := 'IC002';
		detail := pg_catalog.format('The order is not delivered to the home (it is %s).',
									CASE p_order.delivery_method WHEN 'carry' THEN 'taken away' ELSE 'collected in store' END);
	ELSIF p_kind = 'delivery_date' AND p_order.delivery_method = 'carry' THEN
		state := 'IC002';
		detail := 'The goods were taken away at the till: there is no delivery date.';
	ELSIF p_kind = 'cancel' AND EXISTS (SELECT 1 FROM icos.order_line l
										WHERE l.code = p_order.code AND l.consumed_qty > 0) THEN
		state := 'IC002';
		detail := 'Some goods have already been handed over. Take them back with a return instead.';
	ELSIF p_kind IN ('cancel_lines', 'set_qty') AND p_arg ? 'line' THEN
		SELECT * INTO v_line FROM icos.order_line l
		WHERE l.code = p_order.code AND l.line = (p_arg ->> 'line')::int;
		IF NOT FOUND THEN
			state := 'IC004';
			message := pg_catalog.format('order %s has no line %s', p_order.code, p_arg ->> 'line');
			detail := 'Line numbers are those of the order document.';
		ELSIF v_line.status NOT IN ('reserved', 'backorder', 'made_to_order') THEN
			state := 'IC002';
			message := pg_catalog.format('cannot %s: line %s of order %s is %s', v_action, v_line.line,
										 p_order.code, v_line.status);
			detail := CASE v_line.status
				WHEN 'cancelled' THEN 'The line was already cancelled.'
				ELSE 'The goods of this line have already been handed over. Take them back with a return instead.' END;
		END IF;
	ELSIF p_kind = 'note_manufacturing' AND NOT EXISTS (
			SELECT 1 FROM icos.order_line l
			WHERE l.code = p_order.code AND l.status = 'made_to_order') THEN
		state := 'IC002';
		detail := 'The order has no made-to-order items waiting to be made, so there is nothing to manufacture.';
	ELSIF p_kind = 'to_dispatched' AND p_order.delivery_method <> 'home' THEN
		state := 'IC002';
		detail := 'Only home deliveries are dispatched. Mark a collect order ready for collection instead.';
	ELSIF p_kind = 'to_ready_for_collection' AND p_order.delivery_method <> 'collect' THEN
		state := 'IC002';
		detail := 'Only orders collected in store are made ready for collection.';
	ELSIF p_kind IN ('to_dispatched', 'to_ready_for_collection', 'to_completed') AND v_due > 0 THEN
		state := 'IC002';
		detail := pg_catalog.format('The customer still owes %s. Take the payment before the goods are handed over.',
									icos._pounds(v_due));
	ELSIF p_kind = 'return' AND p_arg ? 'line' THEN
		SELECT * INTO v_line FROM icos.order_line l
		WHERE l.code = p_order.code AND l.line = (p_arg ->> 'line')::int;
		IF NOT FOUND THEN
			state := 'IC004';
			message := pg_catalog.format('order %s has no line %s', p_order.code, p_arg ->> 'line');
			detail := 'Line numbers are those of the order document.';
		ELSIF v_line.consumed_qty - v_line.returned_qty < (p_arg ->> 'qty')::int THEN
			state := 'IC002';
			message := pg_catalog.format('cannot take back %s of line %s on order %s', p_arg ->> 'qty',
										 v_line.line, p_order.code);
			detail := pg_catalog.format('Only %s of this line were handed over and not yet returned.',
										v_line.consumed_qty - v_line.returned_qty);
		END IF;
	END IF;
	IF state IS NULL THEN
		message := NULL;
	END IF;
END
$$;
COMMENT ON FUNCTION icos._change_refusal(icos.orders, text, jsonb) IS
	'Why a change may not be made (SQLSTATE, message, detail), or nulls when it may: icos.change_rule, then the rules on the order''s content';

CREATE FUNCTION icos._check_change(p_order icos.orders, p_kind text, p_arg jsonb DEFAULT NULL) RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	r record;
BEGIN
	r := icos._change_refusal(p_order, p_kind, p_arg);
	IF r.state IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = r.state, MESSAGE = r.message, DETAIL = r.detail;
	END IF;
END
$$;
COMMENT ON FUNCTION icos._check_change(icos.orders, text, jsonb) IS
	'Raises the refusal of icos._change_refusal (IC002, IC003 or IC004) when the change may not be made';

-- Lines and their stock ------------------------------------------------------

-- One requested line: checks its keys and values, finds the product, and
-- chooses where it is fulfilled from (the line's fulfil_from, else a hold's
-- store, else the selling store when it holds stock, else the store with the
-- most available, else for made-to-order or back-ordered goods the collection
-- store or a warehouse).  Raises the documented errors; writes nothing.
CREATE FUNCTION icos._resolve_line(l jsonb, n bigint, p_sell icos.store, p_carry boolean,
								   p_collect int, p_holds jsonb,
								   OUT v_upc icos.upc, OUT v_qty int, OUT v_ff int, OUT v_back boolean,
								   OUT v_prod icos.product)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
	v_what  text;
	v_ffs   icos.store;
BEGIN
	v_what := pg_catalog.format('line %s', n);
	PERFORM icos._check_keys(l, ARRAY['upc', 'qty', 'fulfil_from', 'backorder'], v_what);
	v_upc := icos._json_upc(l, v_what);
	v_qty := icos._json_int(l, 'qty', v_what);
	IF v_qty IS NULL OR v_qty <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s needs a quantity of at least 1', v_what),
			DETAIL = pg_catalog.format('Got %s.', coalesce((l -> 'qty')::text, 'no "qty"'));
	END IF;
	v_back := false;
	IF l ? 'backorder' THEN
		IF pg_catalog.jsonb_typeof(l -> 'backorder') <> 'boolean' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('%s "backorder" must be true or false', v_what);
		END IF;
		v_back := (l ->> 'backorder')::boolean;
	END IF;
	SELECT * INTO v_prod FROM icos.product p WHERE p.upc = v_upc;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown product %s', v_upc),
			DETAIL = pg_catalog.format('Line %s names a product code that is not in the catalogue.', n);
	ELSIF NOT v_prod.active THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('product %s (%s) is no longer sold', v_upc, v_prod.name);
	END IF;
	IF p_carry AND (v_back OR v_prod.made_to_order) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s (%s) cannot be taken away now', v_what, v_prod.name),
			DETAIL = CASE WHEN v_prod.made_to_order THEN 'The product is made to order.'
					 ELSE 'A back-ordered line has no stock to hand over.' END,
			HINT = 'Deliver the order to the home or have it collected instead.';
	END IF;

	-- Where the stock comes from.
	v_ff := icos._json_int(l, 'fulfil_from', v_what);
	IF v_ff IS NULL THEN
		SELECT (h ->> 'store_id')::int INTO v_ff
		FROM pg_catalog.jsonb_array_elements(p_holds) h
		WHERE (h ->> 'upc')::icos.upc = v_upc LIMIT 1;
	END IF;
	IF v_ff IS NULL AND p_sell.kind IN ('store', 'warehouse') THEN
		v_ff := p_sell.store_id;
	END IF;
	IF v_ff IS NULL AND NOT v_prod.made_to_order THEN
		v_ff := icos._best_store(v_upc, v_qty);
	END IF;
	IF v_ff IS NULL THEN
		IF NOT (v_back OR v_prod.made_to_order) THEN
			RAISE EXCEPTION USING ERRCODE = 'IC001',
				MESSAGE = pg_catalog.format('not enough stock of %s (%s): no store has %s available',
											v_prod.name, v_upc, v_qty),
				HINT = 'Order it with "backorder": true to promise it by the lead time.';
		END IF;
		-- Made to order or back-ordered with no stock anywhere: served
		-- where it is collected, else from the first warehouse or store.
		SELECT s.store_id INTO v_ff FROM icos.store s
		WHERE s.kind IN ('store', 'warehouse')
		ORDER BY s.store_id = p_collect DESC, s.kind = 'warehouse' DESC, s.store_id
		LIMIT 1;
		IF v_ff IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'IC004', MESSAGE = 'no store or warehouse can serve this order',
				DETAIL = 'icos knows no store of kind store or warehouse.';
		END IF;
	END IF;
	v_ffs := icos._store(v_ff, pg_catalog.format('fulfil_from store of line %s', n));
	IF v_ffs.kind NOT IN ('store', 'warehouse') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s cannot be fulfilled from %s (%s)', v_what, v_ffs.name, v_ffs.kind),
			DETAIL = 'Only stores and warehouses hold stock.';
	END IF;
	IF p_carry AND v_ff <> p_sell.store_id THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s cannot be taken away now: its stock is at %s', v_what, v_ffs.name),
			HINT = 'Deliver it to the home or have it collected instead.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._resolve_line(jsonb, bigint, icos.store, boolean, int, jsonb) IS
	'Validates one requested order line and chooses the store it is fulfilled from (shared by icos._add_lines and icos._place_simple)';

CREATE FUNCTION icos._add_lines(p_order icos.orders, p_lines jsonb, p_holds jsonb, p_carry boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	l       jsonb;
	n       bigint;
	v_next  int;
	v_upc   icos.upc;
	v_qty   int;
	v_ff    int;
	v_back  boolean;
	v_prod  icos.product;
	v_sell  icos.store := icos._store(p_order.store_id, 'selling store');
	v_ops   jsonb := '[]';
	v_line  record;
BEGIN
	SELECT coalesce(max(ol.line), 0) + 1 INTO v_next FROM icos.order_line ol WHERE ol.code = p_order.code;
	FOR l, n IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(p_lines) WITH ORDINALITY e LOOP
		SELECT * INTO v_line FROM icos._resolve_line(l, n, v_sell, p_carry, p_order.collect_store, p_holds);
		v_upc := v_line.v_upc;
		v_qty := v_line.v_qty;
		v_ff := v_line.v_ff;
		v_back := v_line.v_back;
		v_prod := v_line.v_prod;

		INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status)
		VALUES (p_order.store_id, p_order.code, v_next, v_upc, v_qty, v_ff,
				CASE WHEN v_prod.made_to_order THEN 'made_to_order' ELSE 'reserved' END);
		IF NOT v_prod.made_to_order THEN
			v_ops := v_ops || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
				'store', v_ff, 'upc', v_upc::text, 'line', v_next, 'qty', v_qty, 'backorder', v_back));
		END IF;
		v_next := v_next + 1;
	END LOOP;
	RETURN v_ops;
END
$$;
COMMENT ON FUNCTION icos._add_lines(icos.orders, jsonb, jsonb, boolean) IS
	'Validates and inserts order lines, choosing where each is fulfilled from; returns the reservations to make (see icos._apply_stock)';

CREATE FUNCTION icos._apply_stock(p_order icos.orders, p_ops jsonb, p_holds jsonb DEFAULT '[]')
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	op      record;
	h       record;
	v_code  text := p_order.code::text;
	v_left  int;
	v_back  boolean;
	v_used  bigint[] := '{}';
BEGIN
	-- One fixed order, (store, upc), for every order: two orders sharing
	-- products lock their stock rows in the same order and cannot deadlock.
	FOR op IN SELECT x.store, x.upc::icos.upc AS upc, x.line, x.qty, coalesce(x.backorder, false) AS backorder,
					 x.set_qty
			  FROM pg_catalog.jsonb_to_recordset(p_ops)
				   AS x(store int, upc text, line int, qty int, backorder boolean, set_qty int)
			  ORDER BY x.store, x.upc::icos.upc, x.line
	LOOP
		-- (replication, 70_replication.sql) Stock of a store another node
		-- owns: the line becomes a reservation request answered there.
		IF icos._store_node(op.store) IS DISTINCT FROM icos.current_node() THEN
			IF op.qty < 0 AND op.set_qty IS NULL THEN
				-- line cancelled: that node releases what it granted
				PERFORM icos._request_stock(p_order, op.store, op.upc, op.line, -op.qty, 'release');
				CONTINUE;
			END IF;
			IF op.qty < 0 OR op.set_qty IS NOT NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'IC002',
					MESSAGE = pg_catalog.format('line %s is served by store %s of another node and cannot be changed here', op.line, op.store),
					DETAIL = 'Its stock is reserved by that store''s node through a reservation request.',
					HINT = 'Cancel the line and order the new quantity on a new line.';
			END IF;
			PERFORM icos._request_stock(p_order, op.store, op.upc, op.line, op.qty);
			CONTINUE;
		END IF;
		IF op.qty < 0 THEN
			PERFORM icos._release(op.store, op.upc, -op.qty, v_code,
								  pg_catalog.format('order %s line %s', v_code, op.line));
			UPDATE icos.order_line l
			SET reserved_qty = l.reserved_qty + op.qty, qty = coalesce(op.set_qty, l.qty)
			WHERE l.code = p_order.code AND l.line = op.line;
			CONTINUE;
		END IF;
		v_left := op.qty;
		-- Holds taken for this product at this store become the reservation.
		FOR h IN SELECT (x ->> 'hold_id')::bigint AS hold_id, (x ->> 'qty')::int AS qty
				 FROM pg_catalog.jsonb_array_elements(p_holds) x
				 WHERE (x ->> 'store_id')::int = op.store AND (x ->> 'upc')::icos.upc = op.upc
				 ORDER BY 1
		LOOP
			CONTINUE WHEN h.hold_id = ANY (v_used) OR h.qty > v_left;
			PERFORM icos._take_hold(h.hold_id, op.store, op.upc, h.qty, v_code);
			v_used := v_used || h.hold_id;
			v_left := v_left - h.qty;
		END LOOP;
		v_back := false;
		IF v_left > 0 THEN
			IF op.backorder THEN
				-- Back-order allowed: reserve when the stock is there, else
				-- promise the whole line by lead time.
				IF icos._available(op.store, op.upc) < v_left THEN
					v_back := true;
				ELSE
					BEGIN
						PERFORM icos._reserve(op.store, op.upc, v_left, v_code,
											  pg_catalog.format('order %s line %s', v_code, op.line));
					EXCEPTION WHEN SQLSTATE 'IC001' THEN
						v_back := true;
					END;
				END IF;
			ELSE
				PERFORM icos._reserve(op.store, op.upc, v_left, v_code,
									  pg_catalog.format('order %s line %s', v_code, op.line));
			END IF;
		END IF;
		IF v_back THEN
			IF v_left < op.qty THEN
				RAISE EXCEPTION USING ERRCODE = 'IC001',
					MESSAGE = pg_catalog.format('not enough stock of %s at store %s to complete line %s', op.upc, op.store, op.line),
					DETAIL = 'A held quantity cannot be combined with a back-order on the same line.',
					HINT = 'Order the rest on a separate line.';
			END IF;
			UPDATE icos.order_line l SET status = 'backorder', qty = coalesce(op.set_qty, l.qty)
			WHERE l.code = p_order.code AND l.line = op.line;
		ELSE
			UPDATE icos.order_line l
			SET reserved_qty = l.reserved_qty + op.qty, qty = coalesce(op.set_qty, l.qty)
			WHERE l.code = p_order.code AND l.line = op.line;
		END IF;
	END LOOP;
	-- Every hold given must have found its line.
	SELECT (x ->> 'hold_id')::bigint AS hold_id INTO h
	FROM pg_catalog.jsonb_array_elements(p_holds) x
	WHERE NOT (x ->> 'hold_id')::bigint = ANY (v_used) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('hold %s does not match any line of the order', h.hold_id),
			DETAIL = 'A hold is converted by a line for the same product, fulfilled from the hold''s store, with at least the held quantity.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._apply_stock(icos.orders, jsonb, jsonb) IS
	'Reserves (positive qty) or releases (negative qty) stock for order lines in (store, upc) order, converting holds first';

CREATE FUNCTION icos._hand_over(p_order icos.orders, p_note text) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	l record;
BEGIN
	-- Goods leave the store: every open line is consumed, reserving first
	-- what was back-ordered or made to order (IC001 if it has not arrived).
	FOR l IN SELECT * FROM icos.order_line ol
			 WHERE ol.code = p_order.code AND ol.status IN ('reserved', 'backorder', 'made_to_order')
			 ORDER BY ol.fulfil_from, ol.upc, ol.line
	LOOP
		-- (replication) another node's stock: that node consumes what it granted
		IF icos._store_node(l.fulfil_from) IS DISTINCT FROM icos.current_node() THEN
			PERFORM icos._remote_line_ready(p_order, l.line);
			PERFORM icos._request_stock(p_order, l.fulfil_from, l.upc, l.line, l.qty, 'consume');
			CONTINUE;
		END IF;
		IF l.reserved_qty < l.qty THEN
			PERFORM icos._reserve(l.fulfil_from, l.upc, l.qty - l.reserved_qty, p_order.code::text,
								  pg_catalog.format('order %s line %s', p_order.code, l.line));
		END IF;
		PERFORM icos._consume(l.fulfil_from, l.upc, l.qty, p_order.code::text, p_note);
		UPDATE icos.order_line ol SET reserved_qty = 0, consumed_qty = ol.qty, status = 'fulfilled'
		WHERE ol.code = p_order.code AND ol.line = l.line;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos._hand_over(icos.orders, text) IS
	'Consumes the stock of every open line of an order (carried out, dispatched or collected)';

CREATE FUNCTION icos._reserve_open_lines(p_order icos.orders) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	l record;
BEGIN
	FOR l IN SELECT * FROM icos.order_line ol
			 WHERE ol.code = p_order.code AND ol.status IN ('backorder', 'made_to_order')
			 ORDER BY ol.fulfil_from, ol.upc, ol.line
	LOOP
		-- (replication) another node's stock is reserved there, by request
		IF icos._store_node(l.fulfil_from) IS DISTINCT FROM icos.current_node() THEN
			PERFORM icos._remote_line_ready(p_order, l.line);
		END IF;
		PERFORM icos._reserve(l.fulfil_from, l.upc, l.qty, p_order.code::text,
							  pg_catalog.format('order %s line %s', p_order.code, l.line));
		UPDATE icos.order_line ol SET reserved_qty = ol.qty, status = 'reserved'
		WHERE ol.code = p_order.code AND ol.line = l.line;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos._reserve_open_lines(icos.orders) IS
	'Reserves the stock of back-ordered and made-to-order lines (when an order is made ready for collection)';

CREATE FUNCTION icos._earliest(p_order icos.orders) RETURNS date
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	-- A day to move goods unless they are handed over where they are, plus
	-- the lead time of anything not in stock.
	RETURN (SELECT CURRENT_DATE + coalesce(max(
		CASE WHEN p_order.delivery_method = 'carry' THEN 0
			 WHEN p_order.delivery_method = 'collect' AND l.fulfil_from = p_order.collect_store THEN 0
			 ELSE 1 END
		+ CASE WHEN l.status IN ('backorder', 'made_to_order') THEN greatest(p.lead_time_days, 1) ELSE 0 END), 0)
	FROM icos.order_line l JOIN icos.product p ON p.upc = l.upc
	WHERE l.code = p_order.code AND l.status IN ('reserved', 'backorder', 'made_to_order'));
END
$$;
COMMENT ON FUNCTION icos._earliest(icos.orders) IS
	'Earliest delivery or collection date the order''s stock and lead times allow, counted from today';

CREATE FUNCTION icos._reprice(p_order icos.orders) RETURNS icos.orders
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	v_price jsonb;
	o       icos.orders;
BEGIN
	v_price := icos.price_basket(pg_catalog.jsonb_build_object(
		'lines', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
								'line', l.line, 'upc', l.upc::text, 'qty', l.qty - l.returned_qty) ORDER BY l.line)
						   FROM icos.order_line l
						   WHERE l.code = p_order.code AND l.status <> 'cancelled' AND l.qty > l.returned_qty),
						  '[]'::jsonb),
		'store', p_order.store_id, 'channel', p_order.channel, 'at', p_order.placed_at,
		'customer', p_order.customer_id, 'coupons', pg_catalog.to_jsonb(p_order.coupons)));
	UPDATE icos.order_line l
	SET unit_price_pence = coalesce((x.unit_price * 100)::bigint, l.unit_price_pence),
		discount_pence = coalesce((x.discount * 100)::bigint, 0),
		net_pence = coalesce((x.net * 100)::bigint, 0)
	FROM icos.order_line l2
	LEFT JOIN pg_catalog.jsonb_to_recordset(v_price -> 'lines')
		AS x(line int, unit_price numeric, discount numeric, net numeric) ON x.line = l2.line
	WHERE l.code = p_order.code AND l2.code = l.code AND l2.line = l.line;
	UPDATE icos.orders o2
	SET gross_pence = ((v_price ->> 'gross')::numeric * 100)::bigint,
		discount_pence = ((v_price ->> 'discount')::numeric * 100)::bigint,
		total_pence = ((v_price ->> 'total')::numeric * 100)::bigint,
		pricing = icos._pricing_kept(v_price), updated_at = pg_catalog.now()
	WHERE o2.code = p_order.code
	RETURNING * INTO o;
	RETURN o;
END
$$;
COMMENT ON FUNCTION icos._reprice(icos.orders) IS
	'Prices the order''s current lines with icos.price_basket and stores line and order totals';

-- Payments -----------------------------------------------------------------

CREATE FUNCTION icos._payment_fields(p_pay jsonb, p_what text, OUT method text, OUT amount bigint, OUT reference text)
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
	IF p_pay IS NULL OR pg_catalog.jsonb_typeof(p_pay) <> 'object' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('%s must be a JSON object', p_what),
			HINT = 'A payment is {"method": ..., "amount": ..., "reference": ...}.';
	END IF;
	PERFORM icos._check_keys(p_pay, ARRAY['method', 'amount', 'reference'], p_what);
	-- A plain string needs no call of icos._json_text (same result).
	method := CASE WHEN pg_catalog.jsonb_typeof(p_pay -> 'method') = 'string'
				   THEN nullif(pg_catalog.btrim(p_pay ->> 'method'), '')
				   ELSE icos._json_text(p_pay, 'method', p_what) END;
	IF method IS NULL OR method NOT IN ('cash', 'visa', 'credit_card', 'debit_card', 'cheque', 'gift_card') THEN
		RAISE EXCEPTION USING ERRCODE = 'IC003',
			MESSAGE = pg_catalog.format('unknown payment method "%s"', coalesce(method, '')),
			HINT = 'The methods are cash, visa, credit_card, debit_card, cheque and gift_card.';
	END IF;
	amount := icos._money(p_pay -> 'amount', p_what || ' amount', 'IC003');
	reference := CASE WHEN pg_catalog.jsonb_typeof(p_pay -> 'reference') = 'string'
					  THEN nullif(pg_catalog.btrim(p_pay ->> 'reference'), '')
					  ELSE icos._json_text(p_pay, 'reference', p_what) END;
	IF reference IS NOT NULL AND icos._looks_like_card_number(reference) THEN
		RAISE EXCEPTION USING ERRCODE = 'IC003',
			MESSAGE = pg_catalog.format('%s reference looks like a card number', p_what),
			DETAIL = 'Card numbers are never stored by icos.',
			HINT = 'Record the terminal''s authorisation code or the last four digits of the card instead.';
	END IF;
	IF length(reference) > 100 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('the %s reference is longer than 100 characters', p_what);
	END IF;
END
$$;
COMMENT ON FUNCTION icos._payment_fields(jsonb, text) IS
	'Validates a payment or refund object: known method (IC003), amount (IC003), reference that is not a card number (IC003)';

CREATE FUNCTION icos._take_payments(p_order icos.orders, p_payments jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	p       jsonb;
	n       bigint;
	f       record;
	v_due   bigint;
	v_apply bigint;
	v_no    int;
	o       icos.orders;
BEGIN
	FOR p, n IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(p_payments) WITH ORDINALITY e LOOP
		f := icos._payment_fields(p, pg_catalog.format('payment %s', n));
		SELECT * INTO o FROM icos.orders WHERE code = p_order.code;
		PERFORM icos._check_change(o, 'payment');
		v_due := o.total_pence - icos._paid(o.code);
		IF v_due <= 0 THEN
			RAISE EXCEPTION USING ERRCODE = 'IC003',
				MESSAGE = pg_catalog.format('nothing is owed on order %s', o.code),
				DETAIL = pg_catalog.format('Payment %s of %s was not taken.', n, icos._pounds(f.amount));
		END IF;
		IF f.amount > v_due AND f.method <> 'cash' THEN
			RAISE EXCEPTION USING ERRCODE = 'IC003',
				MESSAGE = pg_catalog.format('payment of %s is more than the %s owed on order %s',
											icos._pounds(f.amount), icos._pounds(v_due), o.code),
				DETAIL = 'Only cash can be tendered above the amount due (change is given).';
		END IF;
		v_apply := least(f.amount, v_due);
		SELECT coalesce(max(payment_no), 0) + 1 INTO v_no FROM icos.order_payment WHERE code = o.code;
		INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,
										tendered_pence, reference, employee_id)
		VALUES (o.store_id, o.code, v_no, 'payment', f.method, v_apply, f.amount, f.reference,
				icos._current_employee());
		PERFORM icos._log(o, 'payment',
			pg_catalog.format('%s %s%s', pg_catalog.replace(f.method, '_', ' '), icos._pounds(v_apply),
							  CASE WHEN f.amount > v_apply
								   THEN pg_catalog.format(' (tendered %s, change %s)', icos._pounds(f.amount),
														  icos._pounds(f.amount - v_apply))
								   ELSE '' END),
			pg_catalog.jsonb_build_object('payment', v_no));
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos._take_payments(icos.orders, jsonb) IS
	'Records payments against what is owed; cash may exceed it (change is computed), other methods may not (IC003)';

CREATE FUNCTION icos._refund(p_order icos.orders, p_method text, p_amount bigint, p_reference text, p_why text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	v_no int;
BEGIN
	PERFORM icos._check_change(p_order, 'refund', pg_catalog.jsonb_build_object('amount', p_amount));
	SELECT coalesce(max(payment_no), 0) + 1 INTO v_no FROM icos.order_payment WHERE code = p_order.code;
	INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,
									tendered_pence, reference, employee_id)
	VALUES (p_order.store_id, p_order.code, v_no, 'refund', p_method, p_amount, p_amount, p_reference,
			icos._current_employee());
	PERFORM icos._log(p_order, 'refund',
		pg_catalog.format('%s %s%s', pg_catalog.replace(p_method, '_', ' '), icos._pounds(p_amount),
						  coalesce(': ' || p_why, '')),
		pg_catalog.jsonb_build_object('payment', v_no));
END
$$;
COMMENT ON FUNCTION icos._refund(icos.orders, text, bigint, text, text) IS
	'Records one refund after the change rules allow it (never more than was paid: IC003)';

CREATE FUNCTION icos._settle(p_order icos.orders) RETURNS icos.orders
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	o      icos.orders;
	v_due  bigint;
	v_new  text;
	v_old  text;
BEGIN
	SELECT * INTO o FROM icos.orders WHERE code = p_order.code;
	v_old := o.status;
	IF o.status NOT IN ('awaiting_payment', 'placed') THEN
		RETURN o;
	END IF;
	v_due := o.total_pence - icos._paid(o.code);
	v_new := CASE
		WHEN v_due > 0 THEN 'awaiting_payment'
		WHEN o.delivery_method = 'carry' AND NOT EXISTS (
			SELECT 1 FROM icos.order_line l
			WHERE l.code = o.code AND l.status IN ('reserved', 'backorder', 'made_to_order')) THEN 'completed'
		ELSE 'placed' END;
	IF v_new <> o.status THEN
		UPDATE icos.orders SET status = v_new, updated_at = pg_catalog.now() WHERE code = o.code
		RETURNING * INTO o;
		PERFORM icos._log(o, 'status', pg_catalog.format('%s -> %s', v_old, v_new),
						  pg_catalog.jsonb_build_object('from', v_old, 'to', v_new));
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION icos._settle(icos.orders) IS
	'Sets awaiting_payment / placed from the balance (a fully paid carried-out sale is completed) and logs the change';

CREATE FUNCTION icos._json_date(p_obj jsonb, p_key text, p_what text) RETURNS date
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	v text := icos._json_text(p_obj, p_key, p_what);
BEGIN
	IF v IS NULL THEN
		RETURN NULL;
	END IF;
	IF v !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s "%s" must be a date written YYYY-MM-DD', p_what, p_key),
			DETAIL = pg_catalog.format('Got "%s".', v);
	END IF;
	BEGIN
		RETURN v::date;
	EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s "%s" is not a real date', p_what, p_key),
			DETAIL = pg_catalog.format('Got "%s".', v);
	END;
END
$$;
COMMENT ON FUNCTION icos._json_date(jsonb, text, text) IS 'A YYYY-MM-DD date from a key (null when absent); 22023 otherwise';

-- The order API ------------------------------------------------------------

CREATE FUNCTION icos._place_simple(p jsonb, p_store icos.store, p_channel text, p_customer bigint,
								   p_method text, p_addr jsonb, p_collect int, p_date date, p_lines jsonb,
								   p_coupons text[], p_emp int, p_emp_store int)
RETURNS icos.order_code
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	v_carry    boolean := p_method = 'carry';
	v_code     icos.order_code := icos.next_order_code();
	l          jsonb;
	n          bigint;
	v_upc      icos.upc;
	v_qty      int;
	v_ff       int;
	v_prod     icos.product;
	a_upc      icos.upc[] := '{}';
	a_qty      int[] := '{}';
	a_ff       int[] := '{}';
	a_mto      boolean[] := '{}';
	a_lead     int[] := '{}';
	s_ff       int[];
	s_upc      icos.upc[];
	s_qty      int[];
	s_note     text[];
	v_price    jsonb;
	v_basket   jsonb;
	v_logged   jsonb;
	v_earliest date;
	o          icos.orders;
	f          record;
	v_paid     bigint := 0;
	v_due      bigint;
	v_apply    bigint;
	y_method   text[] := '{}';
	y_amount   bigint[] := '{}';
	y_tender   bigint[] := '{}';
	y_ref      text[] := '{}';
	e_kind     text[] := '{}';
	e_note     text[] := '{}';
	e_detail   jsonb[] := '{}';
	v_status   text;
	v_ok       boolean;
	v_line     record;
BEGIN
	-- Lines, the usual case in two queries: every line well formed (checked
	-- without raising), then products, fulfilment stores and their checks
	-- for all lines at once.  When anything is unusual the loop below does
	-- it line by line with icos._resolve_line, as icos._add_lines does, so
	-- the errors are the same.
	SELECT coalesce(bool_and(coalesce(
			   CASE WHEN pg_catalog.jsonb_typeof(e.value) = 'object'
						 AND e.value OPERATOR(pg_catalog.-) ARRAY['upc', 'qty', 'fulfil_from', 'backorder'] = '{}'::jsonb
						 AND pg_catalog.jsonb_typeof(e.value -> 'upc') = 'string'
						 AND icos._is_count(e.value -> 'qty')
						 AND coalesce(pg_catalog.jsonb_typeof(e.value -> 'backorder'), 'boolean') = 'boolean'
						 AND (pg_catalog.jsonb_typeof(e.value -> 'fulfil_from') IS NULL
							  OR pg_catalog.jsonb_typeof(e.value -> 'fulfil_from') = 'null'
							  OR icos._is_count(e.value -> 'fulfil_from'))
					THEN icos.upc_is_valid(e.value ->> 'upc') END, false)),
			   false)
	INTO v_ok
	FROM pg_catalog.jsonb_array_elements(p_lines) e;
	IF v_ok THEN
		-- The aggregates take the rows in line order from the sorted subquery
		-- (one sort instead of one per aggregate).
		SELECT pg_catalog.array_agg(z.upc), pg_catalog.array_agg(z.qty), pg_catalog.array_agg(z.ff),
			   pg_catalog.array_agg(z.made_to_order), pg_catalog.array_agg(z.lead_time_days),
			   bool_and(z.ok)
		INTO a_upc, a_qty, a_ff, a_mto, a_lead, v_ok
		FROM (SELECT y.n, y.upc, y.qty, y.ff, y.made_to_order, y.lead_time_days,
					 coalesce(y.active AND fs.kind IN ('store', 'warehouse')
							  AND NOT (v_carry AND (y.made_to_order OR y.ff <> p_store.store_id)), false) AS ok
			  FROM (SELECT x.n, x.upc, x.qty, pr.made_to_order, pr.lead_time_days, pr.active,
						   coalesce(x.ff, CASE WHEN p_store.kind IN ('store', 'warehouse') THEN p_store.store_id END,
									CASE WHEN NOT pr.made_to_order THEN icos._best_store(x.upc, x.qty) END) AS ff
					FROM (SELECT e.ordinality AS n, (e.value ->> 'upc')::icos.upc AS upc,
								 (e.value ->> 'qty')::int AS qty, (e.value ->> 'fulfil_from')::int AS ff
						  FROM pg_catalog.jsonb_array_elements(p_lines) WITH ORDINALITY e) x
					LEFT JOIN icos.product pr ON pr.upc = x.upc) y
			  LEFT JOIN icos.store fs ON fs.store_id = y.ff
			  ORDER BY y.n) z;
	END IF;
	IF v_ok IS NOT TRUE THEN
		a_upc := '{}';
		a_qty := '{}';
		a_ff := '{}';
		a_mto := '{}';
		a_lead := '{}';
	FOR l, n IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(p_lines) WITH ORDINALITY e LOOP
		SELECT * INTO v_line FROM icos._resolve_line(l, n, p_store, v_carry, p_collect, '[]'::jsonb);
		a_upc := a_upc || v_line.v_upc;
		a_qty := a_qty || v_line.v_qty;
		a_ff := a_ff || v_line.v_ff;
		a_mto := a_mto || (v_line.v_prod).made_to_order;
		a_lead := a_lead || (v_line.v_prod).lead_time_days;
	END LOOP;
	END IF;

	-- From the lines, in one query: the stock changes (the engine sorts them
	-- by (store, upc), the fixed lock order), the basket to price, the lines
	-- for the event log, and the earliest date as icos._earliest computes it
	-- (a day to move goods unless handed over where they are, plus the lead
	-- time of what is made to order; carried goods are already gone).
	SELECT pg_catalog.array_agg(x.ff) FILTER (WHERE NOT x.mto),
		   pg_catalog.array_agg(x.upc) FILTER (WHERE NOT x.mto),
		   pg_catalog.array_agg(x.qty) FILTER (WHERE NOT x.mto),
		   pg_catalog.array_agg(CASE WHEN v_carry THEN 'order ' || v_code || ' line ' || x.i || ' carried out'
									 ELSE 'order ' || v_code || ' line ' || x.i END) FILTER (WHERE NOT x.mto),
		   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('line', x.i, 'upc', x.upc::text, 'qty', x.qty)
								ORDER BY x.i),
		   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'line', x.i, 'upc', x.upc::text, 'qty', x.qty, 'fulfil_from', x.ff,
				'status', CASE WHEN x.mto THEN 'made_to_order' WHEN v_carry THEN 'fulfilled' ELSE 'reserved' END)
								ORDER BY x.i),
		   CURRENT_DATE + coalesce(max(CASE WHEN p_method = 'collect' AND x.ff = p_collect THEN 0 ELSE 1 END
									   + CASE WHEN x.mto THEN greatest(x.lead, 1) ELSE 0 END)
								   FILTER (WHERE NOT v_carry), 0)
	INTO s_ff, s_upc, s_qty, s_note, v_basket, v_logged, v_earliest
	FROM ROWS FROM (pg_catalog.unnest(a_ff), pg_catalog.unnest(a_upc), pg_catalog.unnest(a_qty),
					pg_catalog.unnest(a_mto), pg_catalog.unnest(a_lead)) WITH ORDINALITY AS x(ff, upc, qty, mto, lead, i);

	-- Stock: every line in one call of the engine.  Goods carried out are
	-- sold at once (no reservation to consume).
	IF s_ff IS NOT NULL THEN
		PERFORM icos._stock_lines(CASE WHEN v_carry THEN 'sale' ELSE 'reserve' END,
								  s_ff, s_upc, s_qty, v_code::text, s_note);
	END IF;

	-- Prices: the one pricing function.
	v_price := icos.price_basket(pg_catalog.jsonb_build_object(
		'lines', v_basket, 'store', p_store.store_id, 'channel', p_channel, 'at', pg_catalog.now(),
		'customer', p_customer, 'coupons', pg_catalog.to_jsonb(p_coupons)));

	o.code := v_code;
	o.store_id := p_store.store_id;
	o.channel := p_channel;
	o.status := 'awaiting_payment';
	o.delivery_method := p_method;
	o.collect_store := p_collect;
	o.gross_pence := ((v_price ->> 'gross')::numeric * 100)::bigint;
	o.discount_pence := ((v_price ->> 'discount')::numeric * 100)::bigint;
	o.total_pence := ((v_price ->> 'total')::numeric * 100)::bigint;
	IF p_date IS NOT NULL THEN
		PERFORM icos._check_change(o, 'delivery_date',
								   pg_catalog.jsonb_build_object('date', p_date, 'earliest', v_earliest));
	END IF;

	-- Payments, as icos._take_payments: each against what is still owed.
	e_kind := e_kind || 'placed'::text;
	e_note := e_note || pg_catalog.format('%s order at %s: %s line(s), total %s', p_channel, p_store.name,
										  pg_catalog.jsonb_array_length(p_lines), icos._pounds(o.total_pence));
	e_detail := e_detail || pg_catalog.jsonb_build_object('lines', v_logged);
	FOR l, n IN SELECT e.value, e.ordinality
				FROM pg_catalog.jsonb_array_elements(icos._json_array(p, 'payments', 'order')) WITH ORDINALITY e LOOP
		f := icos._payment_fields(l, pg_catalog.format('payment %s', n));
		IF NOT EXISTS (SELECT 1 FROM icos.change_rule cr
					   WHERE cr.status = 'awaiting_payment' AND cr.change_kind = 'payment' AND cr.allowed) THEN
			PERFORM icos._check_change(o, 'payment');
		END IF;
		v_due := o.total_pence - v_paid;
		IF v_due <= 0 THEN
			RAISE EXCEPTION USING ERRCODE = 'IC003',
				MESSAGE = pg_catalog.format('nothing is owed on order %s', o.code),
				DETAIL = pg_catalog.format('Payment %s of %s was not taken.', n, icos._pounds(f.amount));
		END IF;
		IF f.amount > v_due AND f.method <> 'cash' THEN
			RAISE EXCEPTION USING ERRCODE = 'IC003',
				MESSAGE = pg_catalog.format('payment of %s is more than the %s owed on order %s',
											icos._pounds(f.amount), icos._pounds(v_due), o.code),
				DETAIL = 'Only cash can be tendered above the amount due (change is given).';
		END IF;
		v_apply := least(f.amount, v_due);
		v_paid := v_paid + v_apply;
		y_method := y_method || f.method;
		y_amount := y_amount || v_apply;
		y_tender := y_tender || f.amount;
		y_ref := y_ref || f.reference;
		e_kind := e_kind || 'payment'::text;
		e_note := e_note || pg_catalog.format('%s %s%s', pg_catalog.replace(f.method, '_', ' '), icos._pounds(v_apply),
			CASE WHEN f.amount > v_apply
				 THEN pg_catalog.format(' (tendered %s, change %s)', icos._pounds(f.amount),
										icos._pounds(f.amount - v_apply))
				 ELSE '' END);
		e_detail := e_detail || pg_catalog.jsonb_build_object('payment', n);
	END LOOP;

	-- Status, as icos._settle: paid in full and carried out is completed.
	v_status := CASE WHEN o.total_pence - v_paid > 0 THEN 'awaiting_payment'
					 WHEN v_carry THEN 'completed' ELSE 'placed' END;
	IF v_status <> 'awaiting_payment' THEN
		e_kind := e_kind || 'status'::text;
		e_note := e_note || pg_catalog.format('%s -> %s', 'awaiting_payment', v_status);
		e_detail := e_detail || pg_catalog.jsonb_build_object('from', 'awaiting_payment', 'to', v_status);
	END IF;

	-- Write the order, its lines, payments and events in one statement (the
	-- foreign keys are checked at its end, when every row is there).
	WITH o AS (
		INSERT INTO icos.orders (code, store_id, channel, customer_id, employee_id, status, delivery_method,
								 delivery_address, collect_store, delivery_date, promised_date, gross_pence,
								 discount_pence, total_pence, coupons, pricing)
		VALUES (v_code, p_store.store_id, p_channel, p_customer, p_emp, v_status, p_method,
				p_addr, p_collect, p_date, coalesce(p_date, v_earliest), o.gross_pence,
				o.discount_pence, o.total_pence, p_coupons, icos._pricing_kept(v_price))),
	ol AS (
		INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, reserved_qty,
									 consumed_qty, unit_price_pence, discount_pence, net_pence)
		SELECT p_store.store_id, v_code, x.i, x.upc, x.qty, x.ff,
			   CASE WHEN x.mto THEN 'made_to_order' WHEN v_carry THEN 'fulfilled' ELSE 'reserved' END,
			   CASE WHEN x.mto OR v_carry THEN 0 ELSE x.qty END,
			   CASE WHEN v_carry THEN x.qty ELSE 0 END,
			   coalesce((pr.unit_price * 100)::bigint, 0), coalesce((pr.discount * 100)::bigint, 0),
			   coalesce((pr.net * 100)::bigint, 0)
		FROM ROWS FROM (pg_catalog.unnest(a_upc), pg_catalog.unnest(a_qty), pg_catalog.unnest(a_ff),
						pg_catalog.unnest(a_mto)) WITH ORDINALITY AS x(upc, qty, ff, mto, i)
		LEFT JOIN pg_catalog.jsonb_to_recordset(v_price -> 'lines')
			AS pr(line int, unit_price numeric, discount numeric, net numeric) ON pr.line = x.i),
	op AS (
		INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,
										tendered_pence, reference, employee_id)
		SELECT p_store.store_id, v_code, x.i, 'payment', x.m, x.a, x.t, x.r, p_emp
		FROM ROWS FROM (pg_catalog.unnest(y_method), pg_catalog.unnest(y_amount), pg_catalog.unnest(y_tender),
						pg_catalog.unnest(y_ref)) WITH ORDINALITY AS x(m, a, t, r, i))
	INSERT INTO icos.order_event (store_id, code, kind, note, detail, employee_id, at_store)
	SELECT p_store.store_id, v_code, x.k, x.t, x.d, p_emp, coalesce(p_emp_store, p_store.store_id)
	FROM ROWS FROM (pg_catalog.unnest(e_kind), pg_catalog.unnest(e_note), pg_catalog.unnest(e_detail)) AS x(k, t, d);
	RETURN v_code;
END
$$;
COMMENT ON FUNCTION icos._place_simple(jsonb, icos.store, text, bigint, text, jsonb, int, date, jsonb, text[], int, int) IS
	'The body of icos.place_order for orders without holds or back-order lines: validates the lines as icos._add_lines does, changes the stock of all lines in one engine call (carried goods are sold at once), prices, takes the payments and settles the status in memory, then writes the order, its lines, payments and events with one statement each';

CREATE FUNCTION icos._place_fast(p jsonb) RETURNS text
AS 'MODULE_PATHNAME', 'place_fast'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION icos._place_fast(jsonb) IS
	'internal (src/place.c): places a plain order (no holds, coupons, back-orders, made-to-order lines, dates, addresses or payment references; carry or collect; every line from stock of this node) with cached look-ups (src/lookup.c), the stock engine, the C core of icos.price_basket and one write statement, and returns its code; returns null, having done nothing, for any other order, which icos.place_order then places by icos._place_order_general.  icos.place_order runs the same code in C; this function lets tests see which orders it takes';

CREATE FUNCTION icos._place_order_general("order" jsonb) RETURNS icos.order_code
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p          jsonb := $1;
	v_store    icos.store;
	v_channel  text;
	v_customer bigint;
	c          jsonb;
	d          jsonb;
	v_method   text;
	v_addr     jsonb;
	v_collect  int;
	v_date     date;
	v_lines    jsonb;
	v_holds    jsonb := '[]';
	v_coupons  text[] := '{}';
	h          jsonb;
	v_hold     icos.stock_hold;
	v_ops      jsonb;
	v_earliest date;
	o          icos.orders;
	v_emp      int;
	v_emp_store int;
	v_n        int;
BEGIN
	PERFORM icos._check_keys(p, ARRAY['store', 'channel', 'customer', 'lines', 'delivery', 'payments',
									  'holds', 'coupons'], 'order');
	v_n := icos._json_int(p, 'store', 'order');
	IF v_n IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'order needs "store", the selling location';
	END IF;
	v_store := icos._store(v_n, 'selling store');
	-- The acting employee and their store (icos._current_employee and
	-- icos._current_store in one look-up).
	SELECT e.employee_id, e.store_id INTO v_emp, v_emp_store
	FROM icos.employee e WHERE e.role_name = pg_catalog.session_user();
	IF v_emp_store IS DISTINCT FROM v_store.store_id AND v_emp_store IS NOT NULL
		AND NOT icos._sees_all_stores() THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('you cannot take orders for %s', v_store.name),
			DETAIL = pg_catalog.format('Your employee record is at store %s.', v_emp_store),
			HINT = 'Orders are placed for the store you work for; it may fulfil them from any store.';
	END IF;
	-- A plain string needs no call of icos._json_text (same result).
	v_channel := CASE WHEN pg_catalog.jsonb_typeof(p -> 'channel') = 'string'
					  THEN nullif(pg_catalog.btrim(p ->> 'channel'), '')
					  ELSE icos._json_text(p, 'channel', 'order') END;
	IF v_channel IS NULL OR v_channel NOT IN ('store', 'phone', 'web', 'pos') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown channel "%s"', coalesce(v_channel, '')),
			HINT = 'The channel is one of store, phone, web or pos.';
	END IF;

	-- Customer: known by id, or found/created from its details.
	c := p -> 'customer';
	IF c IS NOT NULL AND pg_catalog.jsonb_typeof(c) <> 'null' THEN
		IF pg_catalog.jsonb_typeof(c) = 'object' AND c ? 'id' THEN
			PERFORM icos._check_keys(c, ARRAY['id'], 'customer');
			IF pg_catalog.jsonb_typeof(c -> 'id') <> 'number' OR (c ->> 'id') !~ '^[0-9]{1,18}$' THEN
				RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'customer "id" must be a whole number',
					DETAIL = pg_catalog.format('Got %s.', c -> 'id');
			END IF;
			SELECT cu.customer_id INTO v_customer FROM icos.customer cu WHERE cu.customer_id = (c ->> 'id')::bigint;
			IF NOT FOUND THEN
				RAISE EXCEPTION USING ERRCODE = 'IC004',
					MESSAGE = pg_catalog.format('unknown customer %s', c ->> 'id'),
					HINT = 'Give the customer''s details instead of an id to find or register them.';
			END IF;
		ELSE
			v_customer := icos._upsert_customer(c, v_store.store_id);
		END IF;
	ELSIF v_channel <> 'pos' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('a %s order needs a customer', v_channel),
			HINT = 'Give "customer": {"id": n} or the customer''s name, e-mail, phone and address. Only a till (pos) sale may be anonymous.';
	END IF;

	-- Delivery.
	d := p -> 'delivery';
	IF d IS NULL OR pg_catalog.jsonb_typeof(d) = 'null' THEN
		IF v_channel <> 'pos' THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'order needs "delivery"',
				HINT = 'Give {"method": "home", "address": {...}}, {"method": "collect", "collect_store": n} or {"method": "carry"}.';
		END IF;
		d := '{"method": "carry"}';
	END IF;
	PERFORM icos._check_keys(d, ARRAY['method', 'address', 'collect_store', 'date'], 'delivery');
	v_method := CASE WHEN pg_catalog.jsonb_typeof(d -> 'method') = 'string'
					 THEN nullif(pg_catalog.btrim(d ->> 'method'), '')
					 ELSE icos._json_text(d, 'method', 'delivery') END;
	IF v_method IS NULL OR v_method NOT IN ('home', 'collect', 'carry') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown delivery method "%s"', coalesce(v_method, '')),
			HINT = 'The method is home, collect or carry.';
	END IF;
	v_date := CASE WHEN d ? 'date' THEN icos._json_date(d, 'date', 'delivery') END;
	IF v_method = 'home' THEN
		IF d ? 'address' AND pg_catalog.jsonb_typeof(d -> 'address') <> 'null' THEN
			v_addr := icos._address(d -> 'address', 'delivery address');
		ELSE
			v_addr := icos._customer_address(v_customer);
		END IF;
		IF v_addr IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'home delivery needs an address',
				HINT = 'Give "delivery": {"method": "home", "address": {...}} or a customer with an address.';
		END IF;
	ELSIF v_method = 'collect' THEN
		v_collect := coalesce(icos._json_int(d, 'collect_store', 'delivery'),
							  CASE WHEN v_store.kind = 'store' THEN v_store.store_id END);
		IF v_collect IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'collection needs "collect_store"',
				HINT = 'Name the store where the customer will collect the order.';
		END IF;
		IF (icos._store(v_collect, 'collect store')).kind <> 'store' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('store %s does not serve customers in person', v_collect),
				HINT = 'Choose a store of kind store for collection.';
		END IF;
	ELSIF v_store.kind <> 'store' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('goods cannot be taken away at %s (%s)', v_store.name, v_store.kind),
			HINT = 'Use home delivery or collection in store.';
	ELSIF v_date IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a carried-out sale has no delivery date';
	END IF;

	-- Lines, holds and coupons.
	v_lines := icos._json_array(p, 'lines', 'order');
	IF pg_catalog.jsonb_array_length(v_lines) = 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'order has no lines',
			HINT = 'Give "lines": [{"upc": "...", "qty": n}, ...].';
	END IF;
	-- (The loops run only when the key is there: no query otherwise.)
	IF p ? 'holds' THEN
	FOR h IN SELECT pg_catalog.jsonb_array_elements(icos._json_array(p, 'holds', 'order')) LOOP
		IF pg_catalog.jsonb_typeof(h) <> 'number' OR h::text !~ '^[0-9]{1,18}$' THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'holds must be hold ids (whole numbers)',
				DETAIL = pg_catalog.format('Got %s.', h);
		END IF;
		SELECT * INTO v_hold FROM icos.stock_hold hh WHERE hh.hold_id = h::text::bigint;
		IF NOT FOUND THEN
			RAISE EXCEPTION USING ERRCODE = 'IC004', MESSAGE = pg_catalog.format('unknown hold %s', h);
		END IF;
		PERFORM icos._check_hold_access(v_hold, 'use');
		v_holds := v_holds || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
			'hold_id', v_hold.hold_id, 'store_id', v_hold.store_id, 'upc', v_hold.upc::text, 'qty', v_hold.qty));
	END LOOP;
	END IF;
	IF p ? 'coupons' THEN
	FOR h IN SELECT pg_catalog.jsonb_array_elements(icos._json_array(p, 'coupons', 'order')) LOOP
		IF pg_catalog.jsonb_typeof(h) <> 'string' THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'coupons must be coupon codes (text)',
				DETAIL = pg_catalog.format('Got %s.', h);
		END IF;
		v_coupons := v_coupons || (h #>> '{}');
	END LOOP;
	END IF;

	-- Orders without holds or back-order lines (nearly all of them) take
	-- the single-pass path: everything is computed first and each table is
	-- written once.  Holds and back-orders take the general path below.
	IF v_holds = '[]'::jsonb
		AND NOT pg_catalog.jsonb_path_exists(v_lines, 'strict $[*] ? (@.backorder == true)')
		AND icos._lines_all_local(v_store, v_lines) THEN  -- (replication) remote stock: general path
		RETURN icos._place_simple(p, v_store, v_channel, v_customer, v_method, v_addr, v_collect, v_date,
								  v_lines, v_coupons, v_emp, v_emp_store);
	END IF;

	INSERT INTO icos.orders (code, store_id, channel, customer_id, employee_id, status, delivery_method,
							 delivery_address, collect_store, delivery_date, promised_date, coupons)
	VALUES (icos.next_order_code(), v_store.store_id, v_channel, v_customer, icos._current_employee(),
			'awaiting_payment', v_method, v_addr, v_collect, v_date, CURRENT_DATE, v_coupons)
	RETURNING * INTO o;

	v_ops := icos._add_lines(o, v_lines, v_holds, v_method = 'carry');
	PERFORM icos._apply_stock(o, v_ops, v_holds);
	IF v_method = 'carry' THEN
		PERFORM icos._hand_over(o, pg_catalog.format('order %s carried out', o.code));
	END IF;
	o := icos._reprice(o);

	v_earliest := icos._earliest(o);
	IF v_date IS NOT NULL THEN
		PERFORM icos._check_change(o, 'delivery_date',
								   pg_catalog.jsonb_build_object('date', v_date, 'earliest', v_earliest));
	END IF;
	UPDATE icos.orders SET promised_date = coalesce(v_date, v_earliest) WHERE code = o.code
	RETURNING * INTO o;

	PERFORM icos._log(o, 'placed',
		pg_catalog.format('%s order at %s: %s line(s), total %s', v_channel, v_store.name,
						  pg_catalog.jsonb_array_length(v_lines), icos._pounds(o.total_pence)),
		pg_catalog.jsonb_build_object('lines', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
			'line', l.line, 'upc', l.upc::text, 'qty', l.qty, 'fulfil_from', l.fulfil_from, 'status', l.status)
			ORDER BY l.line) FROM icos.order_line l WHERE l.code = o.code)));
	PERFORM icos._take_payments(o, icos._json_array(p, 'payments', 'order'));
	PERFORM icos._settle(o);
	RETURN o.code;
END
$$;
COMMENT ON FUNCTION icos._place_order_general(jsonb) IS
	'internal: the general code of icos.place_order, for the orders its C fast path (icos._place_fast) does not place; every error of the API comes from here';

-- The entry point is C (place_order in src/place.c): plain orders, nearly
-- all of them, are placed by the fast path without a PL/pgSQL call; any
-- other goes on to icos._place_order_general.
CREATE FUNCTION icos.place_order("order" jsonb) RETURNS icos.order_code
AS 'MODULE_PATHNAME', 'place_order'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos.place_order(jsonb) IS
	'Places an order for any channel (store, phone, web, pos): customer, lines reserved in (store, upc) order, delivery, payments; returns its code';

CREATE FUNCTION icos._doc(p_code icos.order_code) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
	RETURN (SELECT pg_catalog.jsonb_build_object(
		'code', o.code::text,
		'status', o.status,
		'channel', o.channel,
		'store', o.store_id,
		'store_name', s.name,
		'placed_at', o.placed_at,
		'employee', o.employee_id,
		'customer', (SELECT pg_catalog.jsonb_build_object('id', c.customer_id, 'name', c.name,
														  'email', c.email, 'phone', c.phone)
					 FROM icos.customer c WHERE c.customer_id = o.customer_id),
		'delivery', pg_catalog.jsonb_build_object('method', o.delivery_method, 'address', o.delivery_address,
												  'collect_store', o.collect_store, 'date', o.delivery_date),
		'promised_date', o.promised_date,
		'lines', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'line', l.line, 'upc', l.upc::text, 'name', p.name, 'qty', l.qty,
				'unit_price', icos._pounds(l.unit_price_pence), 'discount', icos._pounds(l.discount_pence),
				'net', icos._pounds(l.net_pence), 'status', l.status, 'fulfil_from', l.fulfil_from,
				'returned', l.returned_qty)
				-- (replication) lines served by another node's store say how its answer stands
				|| CASE WHEN l.remote_status IS NULL THEN '{}'::jsonb
						ELSE pg_catalog.jsonb_build_object('remote', l.remote_status) END ORDER BY l.line)
			FROM icos.order_line l JOIN icos.product p ON p.upc = l.upc WHERE l.code = o.code), '[]'::jsonb),
		'payments', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'payment', y.payment_no, 'kind', y.kind, 'method', y.method,
				'amount', icos._pounds(y.amount_pence), 'change', icos._pounds(y.tendered_pence - y.amount_pence),
				-- The reference (authorisation code, cheque number, gift card
				-- id) only for a session that may read it directly: reporters
				-- read orders through here but hold no grant on the column.
				'reference', CASE WHEN pg_catalog.has_column_privilege(pg_catalog.session_user(),
						'icos.order_payment'::pg_catalog.regclass, 'reference', 'SELECT') THEN y.reference END,
				'at', y.at, 'employee', y.employee_id) ORDER BY y.payment_no)
			FROM icos.order_payment y WHERE y.code = o.code), '[]'::jsonb),
		'gross', icos._pounds(o.gross_pence),
		'discount', icos._pounds(o.discount_pence),
		'total', icos._pounds(o.total_pence),
		'paid', icos._pounds(icos._paid(o.code)),
		'balance', icos._pounds(o.total_pence - icos._paid(o.code)),
		'promotions', coalesce(o.pricing -> 'applied', '[]'::jsonb),
		'cancellable', (icos._change_refusal(o, 'cancel')).state IS NULL,
		'cancel_reason', o.cancel_reason,
		'events', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'at', e.at, 'kind', e.kind, 'topic', e.topic, 'note', e.note, 'employee', e.employee_id,
				'store', e.at_store) ORDER BY e.event_id)
			FROM icos.order_event e WHERE e.code = o.code), '[]'::jsonb))
	FROM icos.orders o JOIN icos.store s ON s.store_id = o.store_id
	WHERE o.code = p_code);
END
$$;
COMMENT ON FUNCTION icos._doc(icos.order_code) IS 'The order document returned by icos.order and the editing functions';

CREATE FUNCTION icos."order"(code icos.order_code) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb := icos._doc($1);
BEGIN
	IF v IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown order %s', coalesce($1::text, '(no code given)')),
			DETAIL = 'No order has this code.',
			HINT = 'Check the code on the receipt; orders placed at another node appear here once replicated.';
	END IF;
	RETURN v;
END
$$;
COMMENT ON FUNCTION icos."order"(icos.order_code) IS
	'The order document (lines, payments, balance, events) found by its full code, from any store';

CREATE FUNCTION icos._receipt_row(p_label text, p_amount text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT pg_catalog.rpad(pg_catalog.left(p_label, 39 - length(p_amount)), 40 - length(p_amount)) || p_amount
$$;
COMMENT ON FUNCTION icos._receipt_row(text, text) IS 'A 40-column receipt row: label left, amount right';

CREATE FUNCTION icos._receipt_rows(p_label text, p_amount text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_indent text := pg_catalog.substring(p_label, '^ *');
	v_rows text[] := '{}';
	v_line text := '';
	w text;
BEGIN
	-- A label too long for the amount's row is wrapped at spaces onto rows
	-- of its own (continuations indented two more), the amount on the last.
	IF pg_catalog.length(p_label) + pg_catalog.length(p_amount) < 40 THEN
		RETURN ARRAY[icos._receipt_row(p_label, p_amount)];
	END IF;
	FOR w IN SELECT x FROM pg_catalog.regexp_split_to_table(pg_catalog.btrim(p_label), ' +') x LOOP
		IF v_line <> '' AND pg_catalog.length(v_line) + 1 + pg_catalog.length(w) > 40 THEN
			v_rows := v_rows || v_line;
			v_line := v_indent || '  ' || w;
		ELSE
			v_line := CASE WHEN v_line = '' THEN v_indent || w ELSE v_line || ' ' || w END;
		END IF;
	END LOOP;
	IF pg_catalog.length(v_line) + pg_catalog.length(p_amount) < 40 THEN
		RETURN v_rows || icos._receipt_row(v_line, p_amount);
	END IF;
	RETURN v_rows || pg_catalog.left(v_line, 40) || icos._receipt_row('', p_amount);
END
$$;
COMMENT ON FUNCTION icos._receipt_rows(text, text) IS
	'Receipt rows for a label and an amount: one 40-column row when they fit, else the label wrapped at spaces with the amount on its last row';

CREATE FUNCTION icos.receipt(code icos.order_code, reprint boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_code    icos.order_code := $1;
	p_reprint boolean := coalesce($2, false);
	o         icos.orders;
	s         icos.store;
	v_emp     text;
	r         text[] := '{}';
	l         record;
	v_rule    text := pg_catalog.repeat('-', 40);
	v_paid    bigint;
	v_change  bigint;
	pr        record;
	v_named   bigint;
	v_rows    text[];
BEGIN
	SELECT * INTO o FROM icos.orders WHERE code = p_code;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004', MESSAGE = pg_catalog.format('unknown order %s', coalesce(p_code::text, '(no code given)')),
			DETAIL = 'No order has this code.';
	END IF;
	SELECT * INTO s FROM icos.store WHERE store_id = o.store_id;
	SELECT e.full_name INTO v_emp FROM icos.employee e WHERE e.employee_id = o.employee_id;

	IF p_reprint THEN
		r := r || '*************** REPRINT ***************'::text;
	END IF;
	r := r || pg_catalog.upper(s.name);
	IF s.address IS NOT NULL THEN
		r := r || pg_catalog.concat_ws(', ', s.address ->> 'line1', s.address ->> 'town', s.address ->> 'postcode');
	END IF;
	r := r || v_rule
		   || ('Order: ' || o.code::text)
		   || ('Date:  ' || pg_catalog.to_char(o.placed_at, 'YYYY-MM-DD HH24:MI'))
		   || ('Served by: ' || coalesce(v_emp || ' (' || o.employee_id || ')', 'online'))
		   || ('Channel: ' || o.channel || '   Delivery: ' || CASE o.delivery_method
				WHEN 'carry' THEN 'taken now' WHEN 'home' THEN 'home' ELSE 'collect' END)
		   || v_rule;
	FOR l IN SELECT ol.*, p.name FROM icos.order_line ol JOIN icos.product p ON p.upc = ol.upc
			 WHERE ol.code = o.code ORDER BY ol.line LOOP
		r := r || pg_catalog.left(l.name, 40);
		r := r || icos._receipt_row(pg_catalog.format('  %s x %s  %s', l.qty - l.returned_qty,
									icos._pounds(l.unit_price_pence), l.upc),
									CASE WHEN l.status = 'cancelled' THEN 'CANCELLED'
										 ELSE icos._pounds(l.unit_price_pence * (l.qty - l.returned_qty))::text END);
		IF l.discount_pence > 0 THEN
			-- One row per promotion that discounted the line, named (the
			-- order's last pricing); one plain row when that does not add up.
			v_named := 0;
			v_rows := '{}';
			FOR pr IN SELECT (x ->> 'id') AS id, (x ->> 'amount')::numeric AS amount,
							 (SELECT a ->> 'name'
							  FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(o.pricing -> 'applied') = 'array'
																		THEN o.pricing -> 'applied' ELSE '[]' END) a
							  WHERE a ->> 'id' = x ->> 'id') AS name
					  FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(o.pricing -> 'lines') = 'array'
																THEN o.pricing -> 'lines' ELSE '[]' END) pl,
						   pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(pl -> 'promotions') = 'array'
																THEN pl -> 'promotions' ELSE '[]' END) x
					  WHERE pl ->> 'line' = l.line::text
					  ORDER BY (x ->> 'id')::int LOOP
				v_rows := v_rows || icos._receipt_rows('  ' || coalesce(pr.name, 'Promotion ' || pr.id), '-' || pr.amount::text);
				v_named := v_named + (pr.amount * 100)::bigint;
			END LOOP;
			r := r || CASE WHEN v_named = l.discount_pence THEN v_rows
						   ELSE ARRAY[icos._receipt_row('  Discount', '-' || icos._pounds(l.discount_pence))] END;
		END IF;
		IF l.returned_qty > 0 THEN
			r := r || pg_catalog.format('  (%s returned)', l.returned_qty);
		END IF;
		IF l.status IN ('backorder', 'made_to_order') THEN
			r := r || CASE l.status WHEN 'backorder' THEN '  On order' ELSE '  Made to order' END;
		END IF;
	END LOOP;
	r := r || v_rule || icos._receipt_row('Subtotal', icos._pounds(o.gross_pence)::text);
	IF o.discount_pence > 0 THEN
		r := r || icos._receipt_row('Discounts', '-' || icos._pounds(o.discount_pence));
	END IF;
	r := r || icos._receipt_row('TOTAL', icos._pounds(o.total_pence)::text);
	FOR l IN SELECT y.kind, y.method, sum(y.tendered_pence)::bigint AS tendered
			 FROM icos.order_payment y WHERE y.code = o.code
			 GROUP BY y.kind, y.method ORDER BY y.kind, min(y.payment_no) LOOP
		r := r || icos._receipt_row(
			CASE l.kind WHEN 'refund' THEN 'Refund ' ELSE 'Paid ' END
				|| pg_catalog.replace(CASE l.method WHEN 'visa' THEN 'Visa' ELSE l.method END, '_', ' '),
			CASE l.kind WHEN 'refund' THEN '-' ELSE '' END || icos._pounds(l.tendered));
	END LOOP;
	SELECT coalesce(sum(y.tendered_pence - y.amount_pence), 0) INTO v_change
	FROM icos.order_payment y WHERE y.code = o.code;
	IF v_change > 0 THEN
		r := r || icos._receipt_row('Change given', icos._pounds(v_change)::text);
	END IF;
	v_paid := icos._paid(o.code);
	r := r || CASE WHEN o.total_pence - v_paid >= 0
				   THEN icos._receipt_row('Balance due', icos._pounds(o.total_pence - v_paid)::text)
				   ELSE icos._receipt_row('Refund due', icos._pounds(v_paid - o.total_pence)::text) END;
	IF o.status = 'cancelled' THEN
		r := r || 'ORDER CANCELLED'::text;
	END IF;
	IF o.delivery_method <> 'carry' AND o.status <> 'cancelled' THEN
		r := r || ((CASE o.delivery_method WHEN 'home' THEN 'Delivery by ' ELSE 'Ready to collect by ' END)
				   || pg_catalog.to_char(o.promised_date, 'YYYY-MM-DD'));
	END IF;
	r := r || v_rule || 'Keep this receipt. Your order code:'::text || o.code::text;
	IF p_reprint THEN
		r := r || '*************** REPRINT ***************'::text;
	END IF;
	RETURN pg_catalog.array_to_string(r, E'\n') || E'\n';
END
$$;
COMMENT ON FUNCTION icos.receipt(icos.order_code, boolean) IS
	'A 40-column plain-text receipt for a till printer, each discounted item followed by the promotions that discounted it and their saving; reprint marks it REPRINT';

CREATE FUNCTION icos.edit_order(code icos.order_code, changes jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_code     icos.order_code := $1;
	p_changes  jsonb := $2;
	o          icos.orders;
	x          jsonb;
	n          int;
	v_qty      int;
	v_line     icos.order_line;
	v_ops      jsonb := '[]';
	v_lines    boolean := false;
	v_date     date;
	v_earliest date;
	v_what     text[] := '{}';
	f          record;
BEGIN
	o := icos._lock_order(p_code);
	PERFORM icos._check_keys(p_changes, ARRAY['add_lines', 'cancel_lines', 'set_qty', 'address',
											  'delivery_date', 'payments', 'refunds'], 'changes');
	IF p_changes = '{}'::jsonb THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'nothing to change',
			HINT = 'Give add_lines, cancel_lines, set_qty, address, delivery_date, payments or refunds.';
	END IF;

	-- Lines: collect the stock deltas, then apply them in (store, upc) order.
	FOR x IN SELECT pg_catalog.jsonb_array_elements(icos._json_array(p_changes, 'cancel_lines', 'changes')) LOOP
		IF pg_catalog.jsonb_typeof(x) <> 'number' OR x::text !~ '^[0-9]{1,9}$' THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'cancel_lines must be line numbers',
				DETAIL = pg_catalog.format('Got %s.', x);
		END IF;
		n := x::text::int;
		PERFORM icos._check_change(o, 'cancel_lines', pg_catalog.jsonb_build_object('line', n));
		SELECT * INTO v_line FROM icos.order_line l WHERE l.code = o.code AND l.line = n;
		IF v_line.reserved_qty > 0 THEN
			v_ops := v_ops || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
				'store', v_line.fulfil_from, 'upc', v_line.upc::text, 'line', n, 'qty', -v_line.reserved_qty));
		END IF;
		UPDATE icos.order_line l SET status = 'cancelled' WHERE l.code = o.code AND l.line = n;
		v_what := v_what || pg_catalog.format('cancelled line %s', n);
		v_lines := true;
	END LOOP;
	FOR x IN SELECT pg_catalog.jsonb_array_elements(icos._json_array(p_changes, 'set_qty', 'changes')) LOOP
		PERFORM icos._check_keys(x, ARRAY['line', 'qty'], 'set_qty entry');
		n := icos._json_int(x, 'line', 'set_qty entry');
		v_qty := icos._json_int(x, 'qty', 'set_qty entry');
		IF n IS NULL OR v_qty IS NULL OR v_qty <= 0 THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'set_qty needs a line and a quantity of at least 1',
				DETAIL = pg_catalog.format('Got %s.', x),
				HINT = 'Cancel a line with cancel_lines rather than setting its quantity to 0.';
		END IF;
		PERFORM icos._check_change(o, 'set_qty', pg_catalog.jsonb_build_object('line', n));
		SELECT * INTO v_line FROM icos.order_line l WHERE l.code = o.code AND l.line = n;
		IF v_line.status = 'reserved' AND v_qty <> v_line.qty THEN
			-- Only the difference is reserved or released.
			v_ops := v_ops || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
				'store', v_line.fulfil_from, 'upc', v_line.upc::text, 'line', n,
				'qty', v_qty - v_line.qty, 'set_qty', v_qty));
		ELSE
			UPDATE icos.order_line l SET qty = v_qty WHERE l.code = o.code AND l.line = n;
		END IF;
		v_what := v_what || pg_catalog.format('line %s quantity %s -> %s', n, v_line.qty, v_qty);
		v_lines := true;
	END LOOP;
	IF p_changes ? 'add_lines' THEN
		PERFORM icos._check_change(o, 'add_lines');
		IF pg_catalog.jsonb_array_length(icos._json_array(p_changes, 'add_lines', 'changes')) = 0 THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'add_lines is empty';
		END IF;
		v_ops := v_ops || icos._add_lines(o, p_changes -> 'add_lines', '[]', o.delivery_method = 'carry');
		v_what := v_what || pg_catalog.format('added %s line(s)', pg_catalog.jsonb_array_length(p_changes -> 'add_lines'));
		v_lines := true;
	END IF;
	PERFORM icos._apply_stock(o, v_ops);
	IF v_lines THEN
		IF NOT EXISTS (SELECT 1 FROM icos.order_line l WHERE l.code = o.code AND l.status <> 'cancelled') THEN
			RAISE EXCEPTION USING ERRCODE = 'IC002',
				MESSAGE = pg_catalog.format('cannot cancel every item of order %s this way', o.code),
				DETAIL = 'An order needs at least one item.',
				HINT = 'Cancel the whole order with icos.cancel_order.';
		END IF;
		o := icos._reprice(o);
	END IF;

	IF p_changes ? 'address' THEN
		PERFORM icos._check_change(o, 'address');
		UPDATE icos.orders SET delivery_address = icos._address(p_changes -> 'address', 'address')
		WHERE code = o.code RETURNING * INTO o;
		v_what := v_what || 'new delivery address'::text;
	END IF;

	v_earliest := icos._earliest(o);
	IF p_changes ? 'delivery_date' THEN
		v_date := icos._json_date(p_changes, 'delivery_date', 'changes');
		IF v_date IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'delivery_date must be a date written YYYY-MM-DD';
		END IF;
		PERFORM icos._check_change(o, 'delivery_date',
								   pg_catalog.jsonb_build_object('date', v_date, 'earliest', v_earliest));
		UPDATE icos.orders SET delivery_date = v_date, promised_date = v_date WHERE code = o.code
		RETURNING * INTO o;
		v_what := v_what || pg_catalog.format('delivery date %s', v_date);
	ELSIF v_lines AND o.delivery_method <> 'carry' THEN
		IF o.delivery_date IS NOT NULL THEN
			-- New lines must still arrive by the date the customer asked for.
			PERFORM icos._check_change(o, 'delivery_date',
									   pg_catalog.jsonb_build_object('date', o.delivery_date, 'earliest', v_earliest));
		END IF;
		UPDATE icos.orders SET promised_date = coalesce(delivery_date, greatest(promised_date, v_earliest))
		WHERE code = o.code RETURNING * INTO o;
	END IF;

	IF pg_catalog.array_length(v_what, 1) > 0 THEN
		PERFORM icos._log(o, 'edited', pg_catalog.array_to_string(v_what, '; '), p_changes - 'payments' - 'refunds');
	END IF;
	PERFORM icos._take_payments(o, icos._json_array(p_changes, 'payments', 'changes'));
	FOR x IN SELECT pg_catalog.jsonb_array_elements(icos._json_array(p_changes, 'refunds', 'changes')) LOOP
		f := icos._payment_fields(x, 'refund');
		SELECT * INTO o FROM icos.orders WHERE code = o.code;
		PERFORM icos._refund(o, f.method, f.amount, f.reference, NULL);
	END LOOP;
	PERFORM icos._settle(o);
	RETURN icos._doc(o.code);
END
$$;
COMMENT ON FUNCTION icos.edit_order(icos.order_code, jsonb) IS
	'Changes an order atomically (add_lines, cancel_lines, set_qty, address, delivery_date, payments, refunds) as the change rules allow; re-prices; returns the order document';

CREATE FUNCTION icos.cancel_order(code icos.order_code, reason text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_reason text := nullif(pg_catalog.btrim($2), '');
	o        icos.orders;
	v_ops    jsonb;
BEGIN
	o := icos._lock_order($1);
	IF p_reason IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a cancellation needs a reason',
			HINT = 'Say why the order is cancelled, for example "customer changed their mind".';
	END IF;
	PERFORM icos._check_change(o, 'cancel');
	SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
			'store', l.fulfil_from, 'upc', l.upc::text, 'line', l.line, 'qty', -l.reserved_qty)), '[]')
	INTO v_ops
	FROM icos.order_line l WHERE l.code = o.code AND l.reserved_qty > 0;
	PERFORM icos._apply_stock(o, v_ops);
	UPDATE icos.order_line l SET status = 'cancelled'
	WHERE l.code = o.code AND l.status IN ('reserved', 'backorder', 'made_to_order');
	o := icos._reprice(o);
	UPDATE icos.orders SET status = 'cancelled', cancel_reason = p_reason, updated_at = pg_catalog.now()
	WHERE code = o.code RETURNING * INTO o;
	PERFORM icos._log(o, 'cancelled', p_reason,
					  pg_catalog.jsonb_build_object('refund_due', icos._pounds(icos._paid(o.code))));
	RETURN icos._doc(o.code);
END
$$;
COMMENT ON FUNCTION icos.cancel_order(icos.order_code, text) IS
	'Cancels an order that has not left the store, releasing its reservations; the balance then shows the refund due';

CREATE FUNCTION icos.add_note(code icos.order_code, kind text, note text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_kind text := $2;
	p_note text := nullif(pg_catalog.btrim($3), '');
	o      icos.orders;
BEGIN
	o := icos._lock_order($1);
	IF p_kind IS NULL OR p_kind NOT IN ('manufacturing', 'dispatch', 'service') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown note kind "%s"', coalesce(p_kind, '')),
			HINT = 'A note is about manufacturing, dispatch or service.';
	END IF;
	IF p_note IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the note is empty';
	END IF;
	PERFORM icos._check_change(o, 'note_' || p_kind);
	PERFORM icos._log(o, 'note', p_note, NULL, p_kind);
END
$$;
COMMENT ON FUNCTION icos.add_note(icos.order_code, text, text) IS
	'Adds a manufacturing (made-to-order items only), dispatch or service note to the order''s log';

CREATE FUNCTION icos.advance_order(code icos.order_code, status text, note text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_status text := $2;
	o        icos.orders;
	v_old    text;
BEGIN
	o := icos._lock_order($1);
	IF p_status IS NULL OR p_status NOT IN ('in_progress', 'dispatched', 'ready_for_collection', 'completed') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('"%s" is not a fulfilment step', coalesce(p_status, '')),
			HINT = 'The steps are in_progress, dispatched, ready_for_collection and completed.';
	END IF;
	PERFORM icos._check_change(o, 'to_' || p_status);
	v_old := o.status;
	IF p_status = 'dispatched' THEN
		PERFORM icos._hand_over(o, pg_catalog.format('order %s dispatched', o.code));
	ELSIF p_status = 'ready_for_collection' THEN
		PERFORM icos._reserve_open_lines(o);
	ELSIF p_status = 'completed' AND o.status = 'ready_for_collection' THEN
		PERFORM icos._hand_over(o, pg_catalog.format('order %s collected', o.code));
	END IF;
	UPDATE icos.orders SET status = p_status, updated_at = pg_catalog.now() WHERE code = o.code
	RETURNING * INTO o;
	PERFORM icos._log(o, 'status', coalesce(nullif(pg_catalog.btrim($3), ''),
											pg_catalog.format('%s -> %s', v_old, p_status)),
					  pg_catalog.jsonb_build_object('from', v_old, 'to', p_status));
END
$$;
COMMENT ON FUNCTION icos.advance_order(icos.order_code, text, text) IS
	'Moves an order through fulfilment (in_progress, dispatched, ready_for_collection, completed); stock is consumed when goods leave';

CREATE FUNCTION icos.return_lines(code icos.order_code, lines jsonb, reason text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_lines  jsonb := $2;
	p_reason text := nullif(pg_catalog.btrim($3), '');
	o        icos.orders;
	x        jsonb;
	r        record;
	v_due    bigint;
	v_amt    bigint;
	v_items  jsonb := '[]';
BEGIN
	o := icos._lock_order($1);
	IF p_reason IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a return needs a reason',
			HINT = 'Say why the goods came back, for example "faulty".';
	END IF;
	IF p_lines IS NULL OR pg_catalog.jsonb_typeof(p_lines) <> 'array' OR pg_catalog.jsonb_array_length(p_lines) = 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'lines must be a non-empty array',
			HINT = 'Give [{"line": n, "qty": m}, ...].';
	END IF;
	FOR x IN SELECT pg_catalog.jsonb_array_elements(p_lines) LOOP
		PERFORM icos._check_keys(x, ARRAY['line', 'qty'], 'returned line');
		IF icos._json_int(x, 'line', 'returned line') IS NULL
			OR coalesce(icos._json_int(x, 'qty', 'returned line'), 0) <= 0 THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a returned line needs a line number and a quantity of at least 1',
				DETAIL = pg_catalog.format('Got %s.', x);
		END IF;
		PERFORM icos._check_change(o, 'return', x);
		v_items := v_items || pg_catalog.jsonb_build_array(x);
	END LOOP;
	IF (SELECT count(DISTINCT e ->> 'line') FROM pg_catalog.jsonb_array_elements(v_items) e)
		<> pg_catalog.jsonb_array_length(v_items) THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a line appears twice in the return';
	END IF;
	FOR r IN SELECT l.line, l.upc, l.fulfil_from, (e ->> 'qty')::int AS qty
			 FROM pg_catalog.jsonb_array_elements(v_items) e
			 JOIN icos.order_line l ON l.code = o.code AND l.line = (e ->> 'line')::int
			 ORDER BY l.fulfil_from, l.upc, l.line LOOP
		PERFORM icos._return_stock(r.fulfil_from, r.upc, r.qty, o.code::text, p_reason);
		UPDATE icos.order_line l
		SET returned_qty = l.returned_qty + r.qty,
			status = CASE WHEN l.returned_qty + r.qty = l.qty THEN 'returned' ELSE l.status END
		WHERE l.code = o.code AND l.line = r.line;
	END LOOP;
	o := icos._reprice(o);
	PERFORM icos._log(o, 'returned', p_reason, pg_catalog.jsonb_build_object('lines', v_items));

	-- Refund what is now overpaid to the methods used, latest payment first.
	v_due := icos._paid(o.code) - o.total_pence;
	FOR r IN SELECT y.method,
					sum(CASE y.kind WHEN 'payment' THEN y.amount_pence ELSE -y.amount_pence END) AS net
			 FROM icos.order_payment y WHERE y.code = o.code
			 GROUP BY y.method
			 HAVING sum(CASE y.kind WHEN 'payment' THEN y.amount_pence ELSE -y.amount_pence END) > 0
			 ORDER BY max(y.payment_no) DESC LOOP
		EXIT WHEN v_due <= 0;
		v_amt := least(v_due, r.net);
		PERFORM icos._refund(o, r.method, v_amt, NULL, 'return');
		v_due := v_due - v_amt;
	END LOOP;
	RETURN icos._doc(o.code);
END
$$;
COMMENT ON FUNCTION icos.return_lines(icos.order_code, jsonb, text) IS
	'Takes back handed-over goods ([{"line", "qty"}]): stock back into the store, refund to the methods paid with';

CREATE FUNCTION icos.customer_orders(customer_id bigint) RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	IF NOT EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = $1) THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004', MESSAGE = pg_catalog.format('unknown customer %s', $1);
	END IF;
	-- An agent lists only the orders of its own store; any order is still
	-- found by its full code with icos.order.
	RETURN QUERY
		SELECT icos._doc(o.code) FROM icos.orders o
		WHERE o.customer_id = $1 AND icos._store_visible(o.store_id)
		ORDER BY o.placed_at DESC, o.code;
END
$$;
COMMENT ON FUNCTION icos.customer_orders(bigint) IS
	'A customer''s orders, newest first, as order documents (an agent sees those of its own store)';
