-- icos 0.2.0: stock, the movement ledger and holds.
--
-- Model (docs/stock.md has the whole story):
--   icos.stock_item     one row per (store, product) stocked or displayed
--   icos.stock_slot     the counters, split into N slot rows per item so that
--                       concurrent reservations of one hot product take
--                       different row locks
--   icos.stock_movement the append-only ledger: every counter change, with
--                       who, why and for which order or hold
--   icos.stock_hold     short-lived holds (a customer thinking it over)
--   icos.stock          view: the slots summed, expired holds not counted
-- The counters change only through the C engine in src/stock.c, which writes
-- one ledger row per change in the same transaction; icos.verify_stock()
-- proves that the counters equal the ledger.  store_id is in every row: a
-- store node owns its stock rows and replication routes on store_id.

-- Ids that are unique across nodes without coordination: the node id in the
-- top bits, a node-local sequence below (sequences are not replicated).
CREATE FUNCTION icos._stock_next_id(seq regclass) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
	SELECT (icos.current_node()::pg_catalog.int8 OPERATOR(pg_catalog.<<) 40)
		OPERATOR(pg_catalog.|) pg_catalog.nextval($1)
$$;
COMMENT ON FUNCTION icos._stock_next_id(regclass) IS
'internal: a new id unique across nodes, (node id << 40) | nextval(seq); 2^40 ids per node';

CREATE TABLE icos.stock_item (
	store_id	int NOT NULL REFERENCES icos.store,
	upc			icos.upc NOT NULL REFERENCES icos.product,
	slots		int NOT NULL CHECK (slots BETWEEN 1 AND 64),
	on_display	boolean NOT NULL DEFAULT false,
	display_changed_at timestamptz,
	PRIMARY KEY (store_id, upc)
);
COMMENT ON TABLE icos.stock_item IS
'One row per product a store stocks or displays: whether it is on display and into how many slot rows (icos.stock_slot) its counters are split.  Created on first receipt, return or display change.';
COMMENT ON COLUMN icos.stock_item.store_id IS 'the store holding the stock (owner of the row for replication)';
COMMENT ON COLUMN icos.stock_item.upc IS 'the product';
COMMENT ON COLUMN icos.stock_item.slots IS 'number of slot rows, numbered 0 to slots - 1; taken from the setting icos.stock_slots (default 8) when the item is created';
COMMENT ON COLUMN icos.stock_item.on_display IS 'true when a unit is on the shop floor for customers to see';
COMMENT ON COLUMN icos.stock_item.display_changed_at IS 'when on_display last changed';
CREATE INDEX stock_item_upc_idx ON icos.stock_item (upc, store_id);
COMMENT ON INDEX icos.stock_item_upc_idx IS 'every store''s row for one product (availability, best store)';

-- The counters and slot numbers of icos.stock_slot are never negative: a
-- domain rather than table CHECK constraints, because the server keeps a
-- domain's check ready per session but rebuilds a table's CHECK constraints
-- from their stored form at every statement that writes the table (every
-- reservation and sale).  The stock engine refuses to take a counter below
-- zero before it writes (IC001); the domain is the last line of defence.
CREATE DOMAIN icos.stock_count AS int
	CONSTRAINT stock_count_check CHECK (VALUE >= 0);
COMMENT ON DOMAIN icos.stock_count IS
'A stock counter (units on hand or reserved) or slot number: 0 or more';

-- The rule over two columns, reserved <= on_hand, is a C function
-- (src/row_rules.c says why) taking the columns' own domain type, so that
-- its stored form holds no cast.
CREATE FUNCTION icos._stock_slot_fits(p_on_hand icos.stock_count, p_reserved icos.stock_count)
RETURNS boolean AS 'MODULE_PATHNAME', 'stock_slot_fits'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._stock_slot_fits(icos.stock_count, icos.stock_count) IS
'internal: the check stock_slot_reserved_within_on_hand of icos.stock_slot, reserved <= on_hand: a slot never promises more units than it has; false when either is null';

CREATE TABLE icos.stock_slot (
	store_id	int NOT NULL,
	upc			icos.upc NOT NULL,
	slot		icos.stock_count NOT NULL,
	on_hand		icos.stock_count NOT NULL DEFAULT 0,
	reserved	icos.stock_count NOT NULL DEFAULT 0,
	-- reserved <= on_hand
	CONSTRAINT stock_slot_reserved_within_on_hand CHECK (icos._stock_slot_fits(on_hand, reserved)),
	PRIMARY KEY (store_id, upc, slot),
	FOREIGN KEY (store_id, upc) REFERENCES icos.stock_item ON DELETE CASCADE
) WITH (fillfactor = 50);
COMMENT ON TABLE icos.stock_slot IS
'The stock counters of one item, split into slot rows that are reserved from independently: a reservation locks one slot (the one its backend prefers, skipping slots other sessions hold), so sessions buying the same product do not queue on one row lock.  The item''s totals are the sums over its slots (view icos.stock).  Written only by the stock engine; fillfactor 50 keeps the frequent updates HOT.';
COMMENT ON COLUMN icos.stock_slot.store_id IS 'the store holding the stock';
COMMENT ON COLUMN icos.stock_slot.upc IS 'the product';
COMMENT ON COLUMN icos.stock_slot.slot IS 'slot number, 0 to stock_item.slots - 1';
COMMENT ON COLUMN icos.stock_slot.on_hand IS 'units physically in the store counted in this slot';
COMMENT ON COLUMN icos.stock_slot.reserved IS 'of on_hand, units promised to orders or holds; never more than on_hand';
CREATE INDEX stock_slot_upc_idx ON icos.stock_slot (upc, store_id);
COMMENT ON INDEX icos.stock_slot_upc_idx IS 'every store''s slots of one product (best store)';

CREATE SEQUENCE icos.stock_movement_seq;
COMMENT ON SEQUENCE icos.stock_movement_seq IS 'node-local part of icos.stock_movement.movement_id';

CREATE FUNCTION icos._stock_movement_fits(p_kind text, p_d_on_hand int, p_d_reserved int,
										  p_has_hold boolean)
RETURNS boolean AS 'MODULE_PATHNAME', 'stock_movement_fits'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._stock_movement_fits(text, int, int, boolean) IS
'internal: the check of icos.stock_movement, whether the deltas fit the kind: receipt and return d_on_hand > 0 and d_reserved = 0; sale d_on_hand < 0 and d_reserved equal to it or 0; reserve d_on_hand = 0 and d_reserved > 0; release d_on_hand = 0 and d_reserved < 0; hold and hold_release as reserve and release with a hold; any other kind d_on_hand <> 0 and d_reserved = 0';

-- The kinds of movement: a domain rather than a table CHECK constraint, so
-- that the server keeps the list ready per session instead of rebuilding it
-- from its stored form for every INSERT statement into the ledger.
CREATE DOMAIN icos.stock_movement_kind AS text
	CONSTRAINT stock_movement_kind_check CHECK (VALUE IN ('receipt', 'sale', 'reserve', 'release', 'hold',
														 'hold_release', 'transfer', 'return', 'adjustment'));
COMMENT ON DOMAIN icos.stock_movement_kind IS
'kind of stock movement: receipt, sale, reserve, release, hold, hold_release, transfer, return or adjustment';

CREATE TABLE icos.stock_movement (
	movement_id bigint PRIMARY KEY DEFAULT icos._stock_next_id('icos.stock_movement_seq'),
	at			timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	store_id	int NOT NULL,
	upc			icos.upc NOT NULL,
	kind		icos.stock_movement_kind NOT NULL,
	d_on_hand	int NOT NULL DEFAULT 0,
	d_reserved	int NOT NULL DEFAULT 0,
	order_code	text,
	hold_id		bigint,
	actor		text NOT NULL DEFAULT session_user,
	reason		text,
	-- The deltas fit the kind (icos._stock_movement_fits).  A C function
	-- rather than the CASE expression it implements: the server rebuilds a
	-- CHECK expression from its stored form for every INSERT statement, and
	-- that eight-branch CASE was the costliest part of writing the ledger.
	CONSTRAINT stock_movement_check
		CHECK (icos._stock_movement_fits(kind, d_on_hand, d_reserved, hold_id IS NOT NULL))
);
COMMENT ON TABLE icos.stock_movement IS
'Append-only ledger of every stock counter change: for each (store, product) the sums of d_on_hand and d_reserved equal the counters (icos.verify_stock checks it).  Rows are never updated or deleted (a trigger refuses it).  No foreign keys on purpose: the API validates, history outlives catalogue rows, and inserts on a hot product take no key-share locks.';
COMMENT ON COLUMN icos.stock_movement.movement_id IS 'unique across nodes: (node id << 40) | local sequence; increasing within a node';
COMMENT ON COLUMN icos.stock_movement.at IS 'when the change was made';
COMMENT ON COLUMN icos.stock_movement.store_id IS 'the store whose counters changed (owner of the row for replication)';
COMMENT ON COLUMN icos.stock_movement.upc IS 'the product';
COMMENT ON COLUMN icos.stock_movement.kind IS 'receipt, sale, reserve, release, hold, hold_release, transfer, return or adjustment';
COMMENT ON COLUMN icos.stock_movement.d_on_hand IS 'change of on_hand (units)';
COMMENT ON COLUMN icos.stock_movement.d_reserved IS 'change of reserved (units)';
COMMENT ON COLUMN icos.stock_movement.order_code IS 'the order the change was made for, if any (text form of icos.order_code)';
COMMENT ON COLUMN icos.stock_movement.hold_id IS 'the hold placed or released, for kinds hold and hold_release';
COMMENT ON COLUMN icos.stock_movement.actor IS 'the session user (the employee''s login role) who made the change';
COMMENT ON COLUMN icos.stock_movement.reason IS 'why: the reason given by the employee or the engine''s note';
CREATE INDEX stock_movement_item_idx ON icos.stock_movement (store_id, upc, movement_id);
COMMENT ON INDEX icos.stock_movement_item_idx IS 'history of one item; the ledger sums of verify_stock';
-- No index on order_code: nothing in icos looks the ledger up by order, and
-- an index on a random key costs every order a leaf page of its own (a full
-- page image after each checkpoint).  An order's movements are found through
-- its lines' items:  SELECT m.* FROM icos.order_line l JOIN
-- icos.stock_movement m ON (m.store_id, m.upc) = (l.fulfil_from, l.upc)
-- WHERE l.code = $1 AND m.order_code = $1::text  (stock_movement_item_idx).
CREATE INDEX stock_movement_hold_idx ON icos.stock_movement (hold_id) WHERE hold_id IS NOT NULL;
COMMENT ON INDEX icos.stock_movement_hold_idx IS 'the movements of one hold';

CREATE FUNCTION icos._stock_movement_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42501',
		MESSAGE = pg_catalog.format('the stock movement ledger cannot be changed (%s refused)', TG_OP),
		DETAIL = 'Stock movements are a permanent record: rows may only be added.',
		HINT = 'Correct a wrong count with icos.adjust_stock, which records the correction as a new movement.';
END
$$;
COMMENT ON FUNCTION icos._stock_movement_append_only() IS 'trigger function: refuses UPDATE, DELETE and TRUNCATE of icos.stock_movement';
CREATE TRIGGER stock_movement_append_only BEFORE UPDATE OR DELETE ON icos.stock_movement
	FOR EACH ROW EXECUTE FUNCTION icos._stock_movement_append_only();
COMMENT ON TRIGGER stock_movement_append_only ON icos.stock_movement IS 'the ledger is append-only: no UPDATE or DELETE';
CREATE TRIGGER stock_movement_no_truncate BEFORE TRUNCATE ON icos.stock_movement
	FOR EACH STATEMENT EXECUTE FUNCTION icos._stock_movement_append_only();
COMMENT ON TRIGGER stock_movement_no_truncate ON icos.stock_movement IS 'the ledger is append-only: no TRUNCATE';

CREATE SEQUENCE icos.stock_hold_seq;
COMMENT ON SEQUENCE icos.stock_hold_seq IS 'node-local part of icos.stock_hold.hold_id';

CREATE TABLE icos.stock_hold (
	hold_id		bigint PRIMARY KEY DEFAULT icos._stock_next_id('icos.stock_hold_seq'),
	store_id	int NOT NULL REFERENCES icos.store,
	upc			icos.upc NOT NULL REFERENCES icos.product,
	qty			int NOT NULL CHECK (qty > 0),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	expires_at	timestamptz NOT NULL,
	status		text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'taken', 'released', 'expired')),
	order_code	text,
	actor		text NOT NULL DEFAULT session_user,
	closed_at	timestamptz,
	closed_by	text,
	CHECK ((status = 'active') = (closed_at IS NULL))
);
COMMENT ON TABLE icos.stock_hold IS
'Stock set aside for a while (icos.hold_stock): counted in reserved until taken into an order (icos._take_hold), released (icos.release_hold) or expired.  An expired hold never blocks a sale: the engine releases expired holds of an item when it runs short, icos.expire_holds() sweeps them all, and availability never counts them.';
COMMENT ON COLUMN icos.stock_hold.hold_id IS 'hold id, unique across nodes ((node id << 40) | local sequence)';
COMMENT ON COLUMN icos.stock_hold.store_id IS 'the store whose stock is held';
COMMENT ON COLUMN icos.stock_hold.upc IS 'the product held';
COMMENT ON COLUMN icos.stock_hold.qty IS 'units held';
COMMENT ON COLUMN icos.stock_hold.created_at IS 'when the hold was placed';
COMMENT ON COLUMN icos.stock_hold.expires_at IS 'when the hold lapses; from then on the units count as available again';
COMMENT ON COLUMN icos.stock_hold.status IS 'active, taken (into an order), released or expired';
COMMENT ON COLUMN icos.stock_hold.order_code IS 'the order that took the hold (status taken)';
COMMENT ON COLUMN icos.stock_hold.actor IS 'the session user who placed the hold';
COMMENT ON COLUMN icos.stock_hold.closed_at IS 'when the hold was taken, released or expired';
COMMENT ON COLUMN icos.stock_hold.closed_by IS 'the session user who took, released or expired the hold';
CREATE INDEX stock_hold_active_idx ON icos.stock_hold (store_id, upc, expires_at) WHERE status = 'active';
COMMENT ON INDEX icos.stock_hold_active_idx IS 'active holds of an item, by expiry (sweeping expired holds)';

CREATE VIEW icos.stock AS
SELECT i.store_id,
	   i.upc,
	   s.on_hand::int AS on_hand,
	   (s.reserved - coalesce(h.expired, 0))::int AS reserved,
	   (s.on_hand - s.reserved + coalesce(h.expired, 0))::int AS available,
	   i.on_display,
	   coalesce(h.expired, 0)::int AS expired_held,
	   i.slots
  FROM icos.stock_item i
 CROSS JOIN LATERAL (
	   SELECT coalesce(sum(ss.on_hand), 0) AS on_hand, coalesce(sum(ss.reserved), 0) AS reserved
		 FROM icos.stock_slot ss
		WHERE ss.store_id = i.store_id AND ss.upc OPERATOR(pg_catalog.=) i.upc) s
 CROSS JOIN LATERAL (
	   SELECT sum(hh.qty) AS expired
		 FROM icos.stock_hold hh
		WHERE hh.store_id = i.store_id AND hh.upc OPERATOR(pg_catalog.=) i.upc
		  AND hh.status = 'active' AND hh.expires_at <= pg_catalog.clock_timestamp()) h;
COMMENT ON VIEW icos.stock IS
'Stock per store and product: the slot counters summed.  reserved and available leave out holds that have expired but not yet been swept (expired_held), so available is what can be sold now.';
COMMENT ON COLUMN icos.stock.store_id IS 'the store';
COMMENT ON COLUMN icos.stock.upc IS 'the product';
COMMENT ON COLUMN icos.stock.on_hand IS 'units in the store';
COMMENT ON COLUMN icos.stock.reserved IS 'units promised to orders and unexpired holds';
COMMENT ON COLUMN icos.stock.available IS 'units that can be reserved now: on_hand - reserved';
COMMENT ON COLUMN icos.stock.on_display IS 'a unit is on the shop floor';
COMMENT ON COLUMN icos.stock.expired_held IS 'units of expired holds still counted in the raw slot counters until swept';
COMMENT ON COLUMN icos.stock.slots IS 'number of slot rows the counters are split into';

-- The stock engine (src/stock.c).  Internal: called inside the SECURITY
-- DEFINER API functions, never granted to employees directly.

CREATE FUNCTION icos._reserve(p_store int, p_upc icos.upc, p_qty int, p_order text, p_note text)
RETURNS void AS 'MODULE_PATHNAME', 'stock_reserve'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._reserve(int, icos.upc, int, text, text) IS
'internal: reserve p_qty units at a store for order p_order in one atomic step, or raise IC001 naming the product, the store and how many are available; releases expired holds of the item first when short.  Callers reserve the lines of an order sorted by (store, upc).';

CREATE FUNCTION icos._release(p_store int, p_upc icos.upc, p_qty int, p_order text, p_note text)
RETURNS void AS 'MODULE_PATHNAME', 'stock_release'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._release(int, icos.upc, int, text, text) IS
'internal: give back p_qty reserved units (order or line cancelled, quantity lowered); IC001 if fewer are reserved';

CREATE FUNCTION icos._consume(p_store int, p_upc icos.upc, p_qty int, p_order text, p_note text)
RETURNS void AS 'MODULE_PATHNAME', 'stock_consume'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._consume(int, icos.upc, int, text, text) IS
'internal: reserved units leave the store (carried out, dispatched, collected): on_hand and reserved both drop by p_qty; ledger kind sale; IC001 if fewer are reserved';

CREATE FUNCTION icos._return_stock(p_store int, p_upc icos.upc, p_qty int, p_order text, p_note text)
RETURNS void AS 'MODULE_PATHNAME', 'stock_return'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._return_stock(int, icos.upc, int, text, text) IS
'internal: returned goods go back into on_hand at the store; ledger kind return';

CREATE FUNCTION icos._take_hold(p_hold bigint, p_store int, p_upc icos.upc, p_qty int, p_order text)
RETURNS void AS 'MODULE_PATHNAME', 'stock_take_hold'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._take_hold(bigint, int, icos.upc, int, text) IS
'internal: turn an unexpired active hold into order p_order''s reservation of p_qty without a moment in which the units are free; a smaller p_qty gives the rest back, a larger one reserves the difference (IC001 if short).  IC004 for an unknown, expired or used hold or one for another store or product.';

CREATE FUNCTION icos._stock_lines(p_kind text, p_stores int[], p_upcs icos.upc[], p_qtys int[],
								  p_order text, p_notes text[])
RETURNS void AS 'MODULE_PATHNAME', 'stock_lines'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._stock_lines(text, int[], icos.upc[], int[], text, text[]) IS
'internal: the stock of all lines of one order in one call; the arrays are parallel (one element per line), in any order: the engine changes and logs the lines sorted by (store, upc), the fixed lock order.  p_kind reserve reserves each line as icos._reserve does; p_kind sale sells unreserved units at once (goods carried out at the till): on_hand drops in one atomic step and the ledger gets one row of kind sale with d_reserved 0.  IC001 for the first line that cannot be served, IC004 unknown store or product.';

CREATE FUNCTION icos._available(p_store int, p_upc icos.upc)
RETURNS int AS 'MODULE_PATHNAME', 'stock_available'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._available(int, icos.upc) IS
'internal: units of the product that can be reserved at the store now (expired holds count as available); 0 when the store has no stock row';

CREATE FUNCTION icos._best_store(p_upc icos.upc, p_qty int)
RETURNS int AS 'MODULE_PATHNAME', 'stock_best_store'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._best_store(icos.upc, int) IS
'internal: the active store or warehouse with the most available units of the product, at least p_qty, ties to the lowest store_id; null when none has p_qty';

CREATE FUNCTION icos._stock_apply(p_store int, p_upc icos.upc, p_kind text, p_d_on_hand int,
								  p_d_reserved int, p_order text, p_hold bigint, p_reason text)
RETURNS void AS 'MODULE_PATHNAME', 'stock_apply'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._stock_apply(int, icos.upc, text, int, int, text, bigint, text) IS
'internal: the one write path of the stock counters: applies a change (on hand and/or reserved deltas) to the item''s slots and records it in the ledger with the given kind; IC001 when a counter would go below what is there';

-- Validation shared by the API functions.
CREATE FUNCTION icos._stock_check(p_store int, p_upc icos.upc, p_qty int, p_needs_stock boolean)
RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_kind text;
BEGIN
	IF p_store IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a store number is required',
			HINT = 'Give the number of the store whose stock this is.';
	END IF;
	IF p_upc IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a product code is required',
			HINT = 'Scan or type the product''s barcode number.';
	END IF;
	SELECT s.kind INTO v_kind FROM icos.store s WHERE s.store_id = p_store;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('store %s does not exist', p_store),
			HINT = 'Check the store number; the table icos.store lists every store.';
	END IF;
	IF p_needs_stock AND v_kind NOT IN ('store', 'warehouse') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('store %s is a %s location and holds no stock', p_store, v_kind),
			HINT = 'Use the number of the store or warehouse where the goods are.';
	END IF;
	PERFORM FROM icos.product p WHERE p.upc OPERATOR(pg_catalog.=) p_upc;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('product %s is not in the catalogue', p_upc::text),
			HINT = 'Check the code on the label; head office may not have added this product yet.';
	END IF;
	IF p_qty IS NOT NULL AND p_qty <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'quantity must be a positive whole number',
			DETAIL = pg_catalog.format('The quantity given was %s.', p_qty),
			HINT = 'Enter how many units, 1 or more.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._stock_check(int, icos.upc, int, boolean) IS
'internal: validates a store, a product and a quantity for the stock API (IC004 unknown store or product, 22023 bad quantity or a location without stock, 22004 missing value)';

-- Attack tests (test/pgtap/attack_manager.sql): a manager could receive,
-- write off or move any store's stock.  As place_order does for sales, an
-- employee changes only the stock of the store on its employee record;
-- head office (admins, reporters, superusers) and sessions that are not
-- employees (maintenance, the extension owner) change any store's.
CREATE FUNCTION icos._own_stock(p_store int, p_what text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_mine int := icos._current_store();
BEGIN
	IF v_mine IS NOT NULL AND v_mine IS DISTINCT FROM p_store AND NOT icos._sees_all_stores() THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('you cannot %s at store %s', p_what, p_store),
			DETAIL = pg_catalog.format('Your employee record is at store %s.', v_mine),
			HINT = 'A store''s stock is changed by its own managers or by head office.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._own_stock(int, text) IS
'internal: 42501 when the session is an employee of another store (head office may change any store''s stock)';

-- Attack tests (test/t/060_bad_input.pl): the counters are spread over
-- slots, so repeated huge receipts could push an item's total past the int
-- range of icos.stock and icos.availability, which then failed with 22003
-- for that product at every till.  Refuse the receipt instead.
CREATE FUNCTION icos._stock_room(p_store int, p_upc icos.upc, p_add int)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_on_hand bigint;
BEGIN
	SELECT coalesce(sum(s.on_hand), 0) INTO v_on_hand FROM icos.stock_slot s
	WHERE s.store_id = p_store AND s.upc OPERATOR(pg_catalog.=) p_upc;
	IF v_on_hand + p_add > 2147483647 THEN
		RAISE EXCEPTION USING ERRCODE = '22003',
			MESSAGE = pg_catalog.format('store %s cannot hold %s more units of %s', p_store, p_add, p_upc::text),
			DETAIL = pg_catalog.format('It has %s on hand; a store''s count of one product stays below 2147483648.', v_on_hand),
			HINT = 'Check the quantity entered: it is probably a mistake.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._stock_room(int, icos.upc, int) IS
'internal: 22003 when adding units would take an item''s on-hand total past the int range of icos.stock and icos.availability';

CREATE FUNCTION icos.receive_stock(store_id int, code icos.upc, qty int, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF qty IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a quantity is required',
			HINT = 'Enter how many units were received.';
	END IF;
	PERFORM icos._stock_check(receive_stock.store_id, code, qty, true);
	PERFORM icos._own_stock(receive_stock.store_id, 'receive stock');
	PERFORM icos._stock_room(receive_stock.store_id, code, qty);
	PERFORM icos._stock_apply(receive_stock.store_id, code, 'receipt', qty, 0, NULL, NULL,
							  coalesce(reason, 'goods received'));
END
$$;
COMMENT ON FUNCTION icos.receive_stock(int, icos.upc, int, text) IS
'Record qty units of a product received into a store''s stock (delivery, stock count gain); spread evenly over the item''s slots; ledger kind receipt.  IC004 unknown store or product, 22023 qty <= 0 or a location that holds no stock.';

CREATE FUNCTION icos.set_display(store_id int, code icos.upc, on_display boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_store int := set_display.store_id;
	v_show boolean := set_display.on_display;
BEGIN
	IF v_show IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'on_display must be true or false',
			HINT = 'Say true when a unit is on the shop floor, false when it is not.';
	END IF;
	PERFORM icos._stock_check(v_store, code, NULL, true);
	PERFORM icos._own_stock(v_store, 'change the display');
	INSERT INTO icos.stock_item AS i (store_id, upc, slots, on_display, display_changed_at)
	VALUES (v_store, code, icos._stock_slots_setting(), v_show, pg_catalog.clock_timestamp())
	ON CONFLICT ON CONSTRAINT stock_item_pkey DO UPDATE
		SET on_display = EXCLUDED.on_display, display_changed_at = EXCLUDED.display_changed_at
		WHERE i.on_display IS DISTINCT FROM EXCLUDED.on_display;
	INSERT INTO icos.stock_slot (store_id, upc, slot)
	SELECT v_store, code, g
	  FROM icos.stock_item i, pg_catalog.generate_series(0, i.slots - 1) g
	 WHERE i.store_id = v_store AND i.upc OPERATOR(pg_catalog.=) code
	ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION icos.set_display(int, icos.upc, boolean) IS
'Record whether a unit of the product is on display in the store (creates the store''s stock row, with zero stock, if there was none).  IC004 unknown store or product.';

CREATE FUNCTION icos._stock_slots_setting() RETURNS int
AS 'MODULE_PATHNAME', 'stock_slots_setting' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._stock_slots_setting() IS
'internal: the number of slot rows for a new stock item: the setting icos.stock_slots (1 to 64; e.g. ALTER DATABASE ... SET icos.stock_slots = 16), default 8';
CREATE FUNCTION icos.adjust_stock(store_id int, code icos.upc, delta int, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF delta IS NULL OR delta = 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an adjustment must change the stock',
			DETAIL = 'The change given was zero or missing.',
			HINT = 'Give the number of units found (positive) or missing (negative).';
	END IF;
	IF reason IS NULL OR pg_catalog.btrim(reason) = '' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a stock adjustment needs a reason',
			HINT = 'Say why the count changed, for example "stock count" or "damaged".';
	END IF;
	PERFORM icos._stock_check(adjust_stock.store_id, code, NULL, true);
	PERFORM icos._own_stock(adjust_stock.store_id, 'adjust stock');
	IF delta > 0 THEN
		PERFORM icos._stock_room(adjust_stock.store_id, code, delta);
	END IF;
	PERFORM icos._stock_apply(adjust_stock.store_id, code, 'adjustment', delta, 0, NULL, NULL, reason);
END
$$;
COMMENT ON FUNCTION icos.adjust_stock(int, icos.upc, int, text) IS
'Correct a store''s on-hand count by delta units (stock count, damage, theft) with a mandatory reason; ledger kind adjustment.  A negative delta may only remove unreserved units (IC001).';

CREATE FUNCTION icos.transfer_stock(from_store int, to_store int, code icos.upc, qty int, reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_why text := coalesce(reason, pg_catalog.format('transfer from store %s to store %s', from_store, to_store));
BEGIN
	IF qty IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a quantity is required',
			HINT = 'Enter how many units move.';
	END IF;
	PERFORM icos._stock_check(from_store, code, qty, true);
	PERFORM icos._own_stock(from_store, 'send stock');
	PERFORM icos._stock_check(to_store, code, qty, true);
	PERFORM icos._stock_room(to_store, code, qty);
	IF from_store = to_store THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a transfer needs two different stores',
			HINT = 'Give the store the goods leave and the store they go to.';
	END IF;
	-- Items are locked in store order, like every other multi-item change.
	IF from_store < to_store THEN
		PERFORM icos._stock_apply(from_store, code, 'transfer', -qty, 0, NULL, NULL, v_why);
		PERFORM icos._stock_apply(to_store, code, 'transfer', qty, 0, NULL, NULL, v_why);
	ELSE
		PERFORM icos._stock_apply(to_store, code, 'transfer', qty, 0, NULL, NULL, v_why);
		PERFORM icos._stock_apply(from_store, code, 'transfer', -qty, 0, NULL, NULL, v_why);
	END IF;
END
$$;
COMMENT ON FUNCTION icos.transfer_stock(int, int, icos.upc, int, text) IS
'Move qty unreserved units of a product from one store to another on the same node (two ledger rows of kind transfer).  IC001 when the source has fewer available.';

CREATE FUNCTION icos.hold_stock(store_id int, code icos.upc, qty int, hold_for interval DEFAULT '15 minutes')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_store int := hold_stock.store_id;
	v_id bigint;
BEGIN
	IF qty IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a quantity is required',
			HINT = 'Enter how many units to hold.';
	END IF;
	IF hold_for IS NULL OR hold_for < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a hold must last zero or more minutes',
			DETAIL = pg_catalog.format('The time given was %s.', coalesce(hold_for::text, 'missing')),
			HINT = 'Give how long to hold the goods, for example ''15 minutes''.';
	END IF;
	PERFORM icos._stock_check(v_store, code, qty, true);
	v_id := icos._stock_next_id('icos.stock_hold_seq');
	PERFORM icos._stock_apply(v_store, code, 'hold', 0, qty, NULL, v_id, 'hold placed');
	INSERT INTO icos.stock_hold (hold_id, store_id, upc, qty, expires_at)
	VALUES (v_id, v_store, code, qty, pg_catalog.clock_timestamp() + hold_for);
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION icos.hold_stock(int, icos.upc, int, interval) IS
'Set qty units aside at a store for hold_for (default 15 minutes) and return the hold id, which place_order accepts under "holds".  IC001 when fewer are available (the message says how many), IC004 unknown store or product, 22023 qty <= 0 or a negative time.';

CREATE FUNCTION icos._check_hold_access(h icos.stock_hold, p_what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_mine int := icos._current_store();
BEGIN
	-- Hold ids are sequential, so any agent could otherwise release, or take
	-- into an order, every hold of the chain (found by the attack tests).  A
	-- hold is used by whoever placed it, the staff of the store it holds
	-- stock at or of the placer's store, or head office.
	IF v_mine IS NOT NULL AND h.actor IS DISTINCT FROM session_user AND v_mine IS DISTINCT FROM h.store_id
		AND NOT EXISTS (SELECT 1 FROM icos.employee e WHERE e.role_name = h.actor AND e.store_id = v_mine)
		AND NOT icos._sees_all_stores() THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('you cannot %s hold %s', p_what, h.hold_id),
			DETAIL = pg_catalog.format('It holds stock at store %s for %s; your employee record is at store %s.',
									   h.store_id, h.actor, v_mine),
			HINT = 'Ask the store that holds the stock, or whoever placed the hold, to release it or take it into an order.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._check_hold_access(icos.stock_hold, text) IS
	'internal: 42501 unless the session may use the hold (its placer, staff of its store or of the placer''s store, head office); p_what names the use in the message (release, use)';

CREATE FUNCTION icos.release_hold(hold_id bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h icos.stock_hold;
BEGIN
	SELECT * INTO h FROM icos.stock_hold x WHERE x.hold_id = release_hold.hold_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('hold %s does not exist', coalesce(release_hold.hold_id::text, 'null')),
			HINT = 'Check the hold number given when the goods were held.';
	END IF;
	PERFORM icos._check_hold_access(h, 'release');
	IF h.status = 'taken' THEN
		RAISE EXCEPTION USING ERRCODE = 'IC002',
			MESSAGE = pg_catalog.format('hold %s already belongs to order %s', h.hold_id, h.order_code),
			DETAIL = 'The held goods were taken into that order.',
			HINT = 'Cancel the order line instead to give the stock back.';
	END IF;
	IF h.status <> 'active' THEN
		RETURN;					-- released or expired already: nothing is held
	END IF;
	PERFORM icos._stock_apply(h.store_id, h.upc, 'hold_release', 0, -h.qty, NULL, h.hold_id,
							  'hold released');
	UPDATE icos.stock_hold x SET status = 'released', closed_at = pg_catalog.clock_timestamp(),
		   closed_by = session_user
	 WHERE x.hold_id = h.hold_id;
END
$$;
COMMENT ON FUNCTION icos.release_hold(bigint) IS
'Give held units back before the hold expires.  Releasing a hold that was already released or has expired does nothing; IC004 unknown hold, IC002 a hold already taken into an order.';

CREATE FUNCTION icos.expire_holds()
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h record;
	n int := 0;
BEGIN
	-- Items in (store, upc) order like every multi-item change; holds being
	-- handled by another session right now are skipped.
	FOR h IN
		SELECT x.hold_id, x.store_id, x.upc, x.qty FROM icos.stock_hold x
		 WHERE x.status = 'active' AND x.expires_at <= pg_catalog.clock_timestamp()
		 ORDER BY x.store_id, x.upc, x.hold_id
		   FOR UPDATE SKIP LOCKED
	LOOP
		PERFORM icos._stock_apply(h.store_id, h.upc, 'hold_release', 0, -h.qty, NULL, h.hold_id,
								  'hold expired');
		UPDATE icos.stock_hold x SET status = 'expired', closed_at = pg_catalog.clock_timestamp(),
			   closed_by = session_user
		 WHERE x.hold_id = h.hold_id;
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION icos.expire_holds() IS
'Release every hold whose time is up and return how many; for a periodic job.  Not needed for correctness: expired holds never block a sale.';

CREATE FUNCTION icos._availability(p_code icos.upc, p_store int)
RETURNS TABLE(store_id int, store_name text, on_hand int, reserved int, available int,
			  on_display boolean, lead_time_days int)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lead int;
BEGIN
	IF p_code IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a product code is required',
			HINT = 'Scan or type the product''s barcode number.';
	END IF;
	SELECT p.lead_time_days INTO v_lead FROM icos.product p WHERE p.upc OPERATOR(pg_catalog.=) p_code;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('product %s is not in the catalogue', p_code::text),
			HINT = 'Check the code on the label; head office may not have added this product yet.';
	END IF;
	IF p_store IS NOT NULL THEN
		PERFORM FROM icos.store s WHERE s.store_id = p_store;
		IF NOT FOUND THEN
			RAISE EXCEPTION USING ERRCODE = 'IC004',
				MESSAGE = pg_catalog.format('store %s does not exist', p_store),
				HINT = 'Check the store number; the table icos.store lists every store.';
		END IF;
	END IF;
	RETURN QUERY
	SELECT st.store_id, st.name,
		   coalesce(k.on_hand, a.on_hand, 0), coalesce(k.reserved, a.reserved, 0),
		   coalesce(k.available, a.available, 0),
		   coalesce(k.on_display, false),
		   CASE WHEN coalesce(k.available, a.available, 0) > 0 THEN 0 ELSE v_lead END
	  FROM icos.store st
	  LEFT JOIN icos.stock k ON k.store_id = st.store_id AND k.upc OPERATOR(pg_catalog.=) p_code
	  -- (replication) stores of other nodes: head office's republished figures
	  LEFT JOIN icos.stock_availability a ON k.store_id IS NULL AND a.store_id = st.store_id
			AND a.upc OPERATOR(pg_catalog.=) p_code
	 WHERE CASE WHEN p_store IS NULL THEN st.kind IN ('store', 'warehouse') AND st.active
				ELSE st.store_id = p_store END
	 ORDER BY st.store_id;
END
$$;
COMMENT ON FUNCTION icos._availability(icos.upc, int) IS 'internal: the body of icos.availability; stores whose stock rows this node does not hold (other nodes'' stores, at a store node) are shown from icos.stock_availability, head office''s republished figures';

CREATE FUNCTION icos.availability(code icos.upc, store_id int DEFAULT NULL)
RETURNS TABLE(store_id int, store_name text, on_hand int, reserved int, available int,
			  on_display boolean, lead_time_days int)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM icos._availability($1, $2)
$$;
COMMENT ON FUNCTION icos.availability(icos.upc, int) IS
'Stock of a product in every active store and warehouse (zeros where it has none), or in the one store given: on hand, reserved, available now (expired holds count as available), on display, and lead_time_days: 0 where some is available, else the product''s lead time.  IC004 unknown product or store.';

CREATE FUNCTION icos.product_info(code icos.upc)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	p icos.product;
	v_path text[];
BEGIN
	IF code IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a product code is required',
			HINT = 'Scan or type the product''s barcode number.';
	END IF;
	SELECT * INTO p FROM icos.product x WHERE x.upc OPERATOR(pg_catalog.=) code;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('product %s is not in the catalogue', code::text),
			HINT = 'Check the code on the label; head office may not have added this product yet.';
	END IF;
	v_path := icos.category_path(p.category_id);
	RETURN pg_catalog.jsonb_build_object(
		'upc', p.upc::text,
		'name', p.name,
		'category_id', p.category_id,
		'category', v_path[pg_catalog.cardinality(v_path)],
		'category_path', pg_catalog.to_jsonb(v_path),
		'price', p.price,
		'lead_time_days', p.lead_time_days,
		'made_to_order', p.made_to_order,
		'active', p.active,
		'description', p.description,
		'offers', icos._product_offers(p.upc, p.category_id, pg_catalog.now()),
		'availability', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(a) ORDER BY a.store_id), '[]')
						   FROM icos._availability(code, NULL) a));
END
$$;
COMMENT ON FUNCTION icos.product_info(icos.upc) IS
'Everything an employee needs about a product as JSON: upc, name, category_id, category (leaf name), category_path (names from the root), price (pounds), lead_time_days, made_to_order, active, description, offers (the promotions in force now that cover the product: id, name, description, starts_at, ends_at, stores, channels, coupon) and availability (one object per store, as icos.availability).  IC004 unknown product.';

CREATE FUNCTION icos.verify_stock()
RETURNS TABLE(store_id int, upc icos.upc, problem text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	WITH slot_sum AS (
		SELECT s.store_id, s.upc, count(*) AS n, sum(s.on_hand) AS on_hand,
			   sum(s.reserved) AS reserved, max(s.slot) AS max_slot
		  FROM icos.stock_slot s GROUP BY s.store_id, s.upc),
	ledger AS (
		SELECT m.store_id, m.upc, sum(m.d_on_hand) AS on_hand, sum(m.d_reserved) AS reserved
		  FROM icos.stock_movement m GROUP BY m.store_id, m.upc),
	keys AS (
		SELECT i.store_id, i.upc FROM icos.stock_item i
		UNION SELECT s.store_id, s.upc FROM slot_sum s
		UNION SELECT l.store_id, l.upc FROM ledger l),
	held AS (
		SELECT h.store_id, h.upc, sum(h.qty) AS qty
		  FROM icos.stock_hold h WHERE h.status = 'active' GROUP BY h.store_id, h.upc),
	hold_ledger AS (
		SELECT h.hold_id, h.store_id, h.upc, h.qty, h.status,
			   coalesce((SELECT sum(m.d_reserved) FROM icos.stock_movement m
						  WHERE m.hold_id = h.hold_id), 0) AS net
		  FROM icos.stock_hold h),
	problems AS (
		SELECT k.store_id, k.upc,
			   format('on_hand is %s but the ledger says %s', coalesce(s.on_hand, 0), coalesce(l.on_hand, 0)) AS problem
		  FROM keys k
		  LEFT JOIN slot_sum s ON s.store_id = k.store_id AND s.upc OPERATOR(pg_catalog.=) k.upc
		  LEFT JOIN ledger l ON l.store_id = k.store_id AND l.upc OPERATOR(pg_catalog.=) k.upc
		 WHERE coalesce(s.on_hand, 0) <> coalesce(l.on_hand, 0)
		UNION ALL
		SELECT k.store_id, k.upc,
			   format('reserved is %s but the ledger says %s', coalesce(s.reserved, 0), coalesce(l.reserved, 0))
		  FROM keys k
		  LEFT JOIN slot_sum s ON s.store_id = k.store_id AND s.upc OPERATOR(pg_catalog.=) k.upc
		  LEFT JOIN ledger l ON l.store_id = k.store_id AND l.upc OPERATOR(pg_catalog.=) k.upc
		 WHERE coalesce(s.reserved, 0) <> coalesce(l.reserved, 0)
		UNION ALL
		SELECT s.store_id, s.upc,
			   format('slot %s has a negative counter (on_hand %s, reserved %s)', s.slot, s.on_hand, s.reserved)
		  FROM icos.stock_slot s WHERE s.on_hand < 0 OR s.reserved < 0
		UNION ALL
		SELECT s.store_id, s.upc,
			   format('slot %s has more reserved (%s) than on hand (%s)', s.slot, s.reserved, s.on_hand)
		  FROM icos.stock_slot s WHERE s.reserved > s.on_hand
		UNION ALL
		SELECT i.store_id, i.upc,
			   format('the item should have %s slot rows numbered 0 to %s but has %s rows numbered up to %s',
					  i.slots, i.slots - 1, coalesce(s.n, 0), coalesce(s.max_slot::text, 'none'))
		  FROM icos.stock_item i
		  LEFT JOIN slot_sum s ON s.store_id = i.store_id AND s.upc OPERATOR(pg_catalog.=) i.upc
		 WHERE coalesce(s.n, 0) <> i.slots OR coalesce(s.max_slot, -1) <> i.slots - 1
		UNION ALL
		SELECT s.store_id, s.upc, 'slot rows exist without a stock_item row'
		  FROM slot_sum s
		 WHERE NOT EXISTS (SELECT FROM icos.stock_item i
							WHERE i.store_id = s.store_id AND i.upc OPERATOR(pg_catalog.=) s.upc)
		UNION ALL
		SELECT h.store_id, h.upc,
			   format('active holds total %s but only %s is reserved', h.qty, coalesce(s.reserved, 0))
		  FROM held h
		  LEFT JOIN slot_sum s ON s.store_id = h.store_id AND s.upc OPERATOR(pg_catalog.=) h.upc
		 WHERE h.qty > coalesce(s.reserved, 0)
		UNION ALL
		SELECT hl.store_id, hl.upc,
			   format('hold %s is %s for %s but its ledger rows hold %s', hl.hold_id, hl.status, hl.qty, hl.net)
		  FROM hold_ledger hl
		 WHERE hl.net <> CASE WHEN hl.status = 'active' THEN hl.qty ELSE 0 END)
	SELECT p.store_id, p.upc, p.problem FROM problems p ORDER BY p.store_id, p.upc, p.problem
$$;
COMMENT ON FUNCTION icos.verify_stock() IS
'Empty when the stock is consistent; otherwise one row per problem: a slot total (on_hand, reserved) that differs from the sum of the ledger, a negative counter, more reserved than on hand, slot rows missing or misnumbered, active holds larger than what is reserved, or a hold whose ledger rows do not match its status.';
