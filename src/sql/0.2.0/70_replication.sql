-- icos 0.2.0: replication between head office and the stores.
--
-- Every replicated row has exactly one writer node (docs/replication.md):
--   head office (kind hq)   category, product, store, employee, promotion,
--                           stock_availability, its own heartbeat
--                           -> publication icos_hq, to every store
--   store node N            its stores' orders, lines, payments, events,
--                           stock rows and ledger, customers it registered,
--                           its requests and responses, its heartbeat
--                           -> publications icos_store_N (+ _log), to HQ
--   head office, per store  requests and responses addressed to node N
--                           -> publication icos_hq_route_N, to store N
-- PostgreSQL 15 has no origin = none: head office republishes what it
-- received, so every routed table has a row filter that sends a row only
-- towards its destination and never back to its writer.  Filters use plain
-- int columns of the replica identity (store_id, node ids) and built-in
-- operators only.  Publications are made by the functions below;
-- subscriptions by the client (`icos node ...`), since CREATE SUBSCRIPTION
-- cannot run in a transaction block.
--
-- The apply worker runs with session_replication_role = replica, so the
-- ordinary triggers below (the ownership guards) do not fire for replicated
-- rows; the few triggers that must fire there are enabled ALWAYS by
-- icos.setup_replication() and are trivial and schema-qualified.

-- Cross-store reservations ---------------------------------------------------

CREATE SEQUENCE icos.stock_request_seq;
COMMENT ON SEQUENCE icos.stock_request_seq IS 'node-local part of icos.stock_request.request_id';

CREATE TABLE icos.stock_request (
	request_id	bigint PRIMARY KEY DEFAULT icos._stock_next_id('icos.stock_request_seq'),
	from_node	int NOT NULL,
	to_node		int NOT NULL,
	code		icos.order_code NOT NULL,
	store_id	int NOT NULL,
	line		int NOT NULL,
	fulfil_from	int NOT NULL,
	upc			icos.upc NOT NULL,
	qty			int NOT NULL CHECK (qty > 0),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	expires_at	timestamptz NOT NULL,
	kind		text NOT NULL DEFAULT 'reserve' CHECK (kind IN ('reserve', 'release', 'consume')),
	CHECK (from_node <> to_node)
);
COMMENT ON TABLE icos.stock_request IS
	'Requests to reserve stock at a store of another node, one per order line fulfilled there.  Written (insert only) by the asking node from icos._apply_stock; routed asking node -> HQ -> stock''s node by publication row filters; answered there by icos.process_requests with a row of icos.stock_response.';
COMMENT ON COLUMN icos.stock_request.request_id IS 'unique across nodes: (asking node << 40) | local sequence';
COMMENT ON COLUMN icos.stock_request.from_node IS 'the asking node, owner of the row and of the order';
COMMENT ON COLUMN icos.stock_request.to_node IS 'the node owning the stock (node of fulfil_from); the row is routed there';
COMMENT ON COLUMN icos.stock_request.code IS 'the order';
COMMENT ON COLUMN icos.stock_request.store_id IS 'the order''s selling store';
COMMENT ON COLUMN icos.stock_request.line IS 'the order line';
COMMENT ON COLUMN icos.stock_request.fulfil_from IS 'the store whose stock is asked for';
COMMENT ON COLUMN icos.stock_request.upc IS 'the product';
COMMENT ON COLUMN icos.stock_request.qty IS 'units asked for';
COMMENT ON COLUMN icos.stock_request.created_at IS 'when the order line asked';
COMMENT ON COLUMN icos.stock_request.kind IS 'reserve (the line asks for stock), release (a granted line was cancelled) or consume (a granted line''s goods left: dispatched or collected)';
COMMENT ON COLUMN icos.stock_request.expires_at IS 'after this the stock''s node refuses it and the asking node gives up waiting (setting icos.request_ttl, default 10 minutes)';
CREATE INDEX stock_request_to_idx ON icos.stock_request (to_node, request_id);
COMMENT ON INDEX icos.stock_request_to_idx IS 'requests addressed to one node (icos.process_requests)';

CREATE TABLE icos.stock_response (
	request_id	bigint PRIMARY KEY,
	from_node	int NOT NULL,
	to_node		int NOT NULL,
	status		text NOT NULL CHECK (status IN ('granted', 'refused', 'expired')),
	detail		text,
	answered_at	timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE icos.stock_response IS
	'Answers to icos.stock_request, written (insert only) by the node owning the stock in the transaction that reserved it; routed back to the asking node through HQ.  At most one per request: a redelivered or repeated request is answered once.';
COMMENT ON COLUMN icos.stock_response.request_id IS 'the request answered';
COMMENT ON COLUMN icos.stock_response.from_node IS 'the answering node (owner of the stock and of this row)';
COMMENT ON COLUMN icos.stock_response.to_node IS 'the asking node; the row is routed there';
COMMENT ON COLUMN icos.stock_response.status IS 'granted (stock reserved for the order), refused (not enough stock) or expired (answered too late)';
COMMENT ON COLUMN icos.stock_response.detail IS 'why it was refused, in words for the shop floor';
COMMENT ON COLUMN icos.stock_response.answered_at IS 'when the stock''s node answered';
CREATE INDEX stock_response_to_idx ON icos.stock_response (to_node, request_id);
COMMENT ON INDEX icos.stock_response_to_idx IS 'answers addressed to one node (icos.process_requests)';

CREATE DOMAIN icos.remote_status AS text
	CONSTRAINT remote_status_check CHECK (VALUE IN ('pending', 'granted', 'refused'));
COMMENT ON DOMAIN icos.remote_status IS
	'Answer for a line fulfilled from another node''s store: pending (request sent), granted or refused';

ALTER TABLE icos.order_line
	ADD COLUMN remote_status icos.remote_status,
	ADD COLUMN request_id bigint;
COMMENT ON COLUMN icos.order_line.remote_status IS
	'For a line fulfilled from a store of another node: pending (request sent), granted (reserved there) or refused (back-ordered by lead time); null for local stock';
COMMENT ON COLUMN icos.order_line.request_id IS 'The icos.stock_request of a line fulfilled from another node''s store';
CREATE INDEX order_line_request_idx ON icos.order_line (request_id) WHERE request_id IS NOT NULL;
COMMENT ON INDEX icos.order_line_request_idx IS 'the line a stock response answers';

-- Orders route on their selling store, which must be in the replica identity
-- (the child tables have it in their primary keys).
ALTER TABLE icos.orders REPLICA IDENTITY USING INDEX orders_store_id_code_key;

CREATE FUNCTION icos._store_node(p_store int) RETURNS int
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT s.node_id FROM icos.store s WHERE s.store_id = p_store
$$;
COMMENT ON FUNCTION icos._store_node(int) IS 'internal: the node owning a store''s stock and orders (null for an unknown store)';

CREATE FUNCTION icos._lines_all_local(p_sell icos.store, p_lines jsonb) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	-- Single-node deployments (no store of another node): always local.
	SELECT NOT EXISTS (SELECT 1 FROM icos.store s WHERE s.node_id <> icos.current_node())
		OR (p_sell.kind IN ('store', 'warehouse')
			AND NOT EXISTS (
				SELECT 1 FROM pg_catalog.jsonb_array_elements(p_lines) l
				  JOIN icos.store s ON l ? 'fulfil_from'
					   AND pg_catalog.jsonb_typeof(l -> 'fulfil_from') = 'number'
					   AND s.store_id::text = (l ->> 'fulfil_from')
				 WHERE s.node_id <> icos.current_node()))
$$;
COMMENT ON FUNCTION icos._lines_all_local(icos.store, jsonb) IS
	'internal: true when every line of an order will be served from this node''s stock (the place_order fast path condition); false when a line may be fulfilled from another node''s store, which only the general path turns into a reservation request';

CREATE FUNCTION icos._request_stock(p_order icos.orders, p_store int, p_upc icos.upc, p_line int, p_qty int,
									 p_kind text DEFAULT 'reserve')
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_id bigint;
	v_ttl interval := coalesce(NULLIF(pg_catalog.current_setting('icos.request_ttl', true), ''),
							   '10 minutes')::interval;
BEGIN
	INSERT INTO icos.stock_request (from_node, to_node, code, store_id, line, fulfil_from, upc, qty, kind, expires_at)
	VALUES (icos.current_node(), icos._store_node(p_store), p_order.code, p_order.store_id, p_line,
			p_store, p_upc, p_qty, p_kind,
			CASE p_kind WHEN 'reserve' THEN pg_catalog.clock_timestamp() + v_ttl ELSE 'infinity' END)
	RETURNING request_id INTO v_id;
	IF p_kind = 'reserve' THEN
		UPDATE icos.order_line l
		   SET status = 'backorder', remote_status = 'pending', request_id = v_id
		 WHERE l.code = p_order.code AND l.store_id = p_order.store_id AND l.line = p_line;
	ELSIF p_kind = 'release' THEN
		UPDATE icos.order_line l SET reserved_qty = l.reserved_qty - p_qty
		 WHERE l.code = p_order.code AND l.store_id = p_order.store_id AND l.line = p_line;
	ELSE
		UPDATE icos.order_line l SET reserved_qty = 0, consumed_qty = l.qty, status = 'fulfilled'
		 WHERE l.code = p_order.code AND l.store_id = p_order.store_id AND l.line = p_line;
	END IF;
END
$$;
COMMENT ON FUNCTION icos._request_stock(icos.orders, int, icos.upc, int, int, text) IS
	'internal: an order line fulfilled from a store of another node sends that node a request and updates the line: reserve (line pending, promised by lead time until the answer), release (a granted line cancelled: reserved_qty drops) or consume (a granted line handed over: fulfilled)';

CREATE FUNCTION icos._remote_line_ready(p_order icos.orders, p_line int) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	l icos.order_line;
BEGIN
	SELECT * INTO l FROM icos.order_line x
	 WHERE x.code = p_order.code AND x.store_id = p_order.store_id AND x.line = p_line;
	IF l.remote_status IS DISTINCT FROM 'granted' OR l.reserved_qty < l.qty THEN
		RAISE EXCEPTION USING ERRCODE = 'IC001',
			MESSAGE = pg_catalog.format('line %s is not reserved at store %s yet', p_line, l.fulfil_from),
			DETAIL = CASE l.remote_status
					 WHEN 'pending' THEN 'That store belongs to another node and has not answered the reservation request yet.'
					 WHEN 'refused' THEN 'That store belongs to another node and refused the reservation (see the order''s events).'
					 ELSE 'That store belongs to another node; its stock is reserved there by request only.' END,
			HINT = 'Wait for the answer, or cancel the line and order it from a store that has it.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._remote_line_ready(icos.orders, int) IS
	'internal: IC001 unless a line served by another node''s store has been granted in full (before its goods are handed over or the order is made ready for collection)';

CREATE FUNCTION icos.process_requests() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me		int := icos.current_node();
	r		record;
	o		icos.orders;
	v_status text;
	v_detail text;
	n_answered int := 0;
	n_granted int := 0;
	n_applied int := 0;
	n_expired int := 0;
	v_grace interval := coalesce(NULLIF(pg_catalog.current_setting('icos.request_grace', true), ''),
								 '1 minute')::interval;
BEGIN
	-- One runner at a time per node: answers are written once.
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('icos.process_requests'));

	-- 1. Requests for this node's stock, in the engine's lock order.
	FOR r IN SELECT q.* FROM icos.stock_request q
			 WHERE q.to_node = me
			   AND NOT EXISTS (SELECT 1 FROM icos.stock_response s WHERE s.request_id = q.request_id)
			 ORDER BY q.fulfil_from, q.upc, q.request_id
	LOOP
		v_detail := NULL;
		IF r.kind <> 'reserve' THEN
			BEGIN
				IF r.kind = 'release' THEN
					PERFORM icos._release(r.fulfil_from, r.upc, r.qty, r.code::text,
										  pg_catalog.format('order %s line %s cancelled (node %s request %s)',
															r.code, r.line, r.from_node, r.request_id));
				ELSE
					PERFORM icos._consume(r.fulfil_from, r.upc, r.qty, r.code::text,
										  pg_catalog.format('order %s line %s handed over (node %s request %s)',
															r.code, r.line, r.from_node, r.request_id));
				END IF;
				v_status := 'granted';
			EXCEPTION WHEN SQLSTATE 'IC001' OR SQLSTATE 'IC004' THEN
				v_status := 'refused';
				v_detail := SQLERRM;
			END;
		ELSIF r.expires_at <= pg_catalog.clock_timestamp() THEN
			v_status := 'expired';
			v_detail := pg_catalog.format('The request reached store %s after it expired at %s.', r.fulfil_from, r.expires_at);
		ELSE
			BEGIN
				PERFORM icos._reserve(r.fulfil_from, r.upc, r.qty, r.code::text,
									  pg_catalog.format('order %s line %s (node %s request %s)',
														r.code, r.line, r.from_node, r.request_id));
				v_status := 'granted';
				n_granted := n_granted + 1;
			EXCEPTION WHEN SQLSTATE 'IC001' OR SQLSTATE 'IC004' THEN
				v_status := 'refused';
				v_detail := SQLERRM;
			END;
		END IF;
		INSERT INTO icos.stock_response (request_id, from_node, to_node, status, detail)
		VALUES (r.request_id, me, r.from_node, v_status, v_detail);
		n_answered := n_answered + 1;
	END LOOP;

	-- 2. Answers to this node's pending lines (a line is updated once: it
	-- stops being pending).
	FOR r IN SELECT s.*, l.code, l.store_id, l.line, l.fulfil_from, l.upc, l.qty, l.status AS line_status
			 FROM icos.stock_response s
			 JOIN icos.order_line l ON l.request_id = s.request_id AND l.remote_status = 'pending'
			 WHERE s.to_node = me
			 ORDER BY l.code, l.line
	LOOP
		SELECT * INTO o FROM icos.orders x WHERE x.code = r.code FOR UPDATE;
		IF r.status = 'granted' AND r.line_status = 'backorder' THEN
			UPDATE icos.order_line l SET remote_status = 'granted', status = 'reserved', reserved_qty = l.qty
			 WHERE l.code = r.code AND l.store_id = r.store_id AND l.line = r.line;
		ELSIF r.status = 'granted' THEN
			-- cancelled while the request travelled: give the stock back
			UPDATE icos.order_line l SET remote_status = 'granted', reserved_qty = l.qty
			 WHERE l.code = r.code AND l.store_id = r.store_id AND l.line = r.line;
			PERFORM icos._request_stock(o, r.fulfil_from, r.upc, r.line, r.qty, 'release');
		ELSE
			UPDATE icos.order_line l SET remote_status = 'refused'
			 WHERE l.code = r.code AND l.store_id = r.store_id AND l.line = r.line;
			PERFORM icos._log(o, 'note', pg_catalog.format('line %s: store %s %s the stock; the line stays back-ordered by lead time',
														  r.line, r.fulfil_from,
														  CASE r.status WHEN 'expired' THEN 'answered too late for' ELSE 'could not reserve' END),
							  pg_catalog.jsonb_build_object('line', r.line, 'request', r.request_id,
															'status', r.status, 'detail', r.detail), 'service');
		END IF;
		n_applied := n_applied + 1;
	END LOOP;

	-- 3. This node's requests left unanswered past expiry and grace.
	FOR r IN SELECT l.code, l.store_id, l.line, l.fulfil_from, q.request_id
			 FROM icos.order_line l JOIN icos.stock_request q ON q.request_id = l.request_id
			 WHERE l.remote_status = 'pending' AND q.from_node = me
			   AND q.expires_at + v_grace < pg_catalog.clock_timestamp()
			 ORDER BY l.code, l.line
	LOOP
		SELECT * INTO o FROM icos.orders x WHERE x.code = r.code FOR UPDATE;
		UPDATE icos.order_line l SET remote_status = 'refused'
		 WHERE l.code = r.code AND l.store_id = r.store_id AND l.line = r.line;
		PERFORM icos._log(o, 'note', pg_catalog.format('line %s: store %s did not answer in time; the line stays back-ordered by lead time',
													  r.line, r.fulfil_from),
						  pg_catalog.jsonb_build_object('line', r.line, 'request', r.request_id,
														'status', 'expired'), 'service');
		n_expired := n_expired + 1;
	END LOOP;

	RETURN pg_catalog.jsonb_build_object('answered', n_answered, 'granted', n_granted,
										 'applied', n_applied, 'expired', n_expired);
END
$$;
COMMENT ON FUNCTION icos.process_requests() IS
	'Processes cross-store reservations on this node in one local transaction: answers requests for this node''s stock with the stock engine (granted or refused; expired after expires_at), applies answers to this node''s pending order lines (granted: reserved; refused: stays back-ordered by lead time with an order event), and gives up on requests unanswered past expiry plus icos.request_grace.  Idempotent: a request is answered once, a line updated once.  Returns counts {answered, granted, applied, expired}.  Called by icos.heartbeat().';

-- Availability of every store, for every store -------------------------------

CREATE TABLE icos.stock_availability (
	store_id	int NOT NULL,
	upc			icos.upc NOT NULL,
	on_hand		int NOT NULL,
	reserved	int NOT NULL,
	available	int NOT NULL,
	changed_at	timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	PRIMARY KEY (store_id, upc)
);
COMMENT ON TABLE icos.stock_availability IS
	'Stock of every store as last seen by head office, derived there from the stock rows the stores replicate (trigger on icos.stock_slot, enabled at HQ by icos.setup_replication) and republished to every store, so a store answers availability of the others while offline.  Owned by HQ.';
COMMENT ON COLUMN icos.stock_availability.store_id IS 'the store holding the stock';
COMMENT ON COLUMN icos.stock_availability.upc IS 'the product';
COMMENT ON COLUMN icos.stock_availability.on_hand IS 'units in the store';
COMMENT ON COLUMN icos.stock_availability.reserved IS 'units reserved (holds included until swept)';
COMMENT ON COLUMN icos.stock_availability.available IS 'on_hand - reserved';
COMMENT ON COLUMN icos.stock_availability.changed_at IS 'when head office saw the change';

CREATE FUNCTION icos._availability_derive() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_store int := CASE WHEN TG_OP = 'DELETE' THEN OLD.store_id ELSE NEW.store_id END;
	v_upc icos.upc := CASE WHEN TG_OP = 'DELETE' THEN OLD.upc ELSE NEW.upc END;
BEGIN
	INSERT INTO icos.stock_availability AS a (store_id, upc, on_hand, reserved, available)
	SELECT v_store, v_upc, coalesce(sum(s.on_hand), 0), coalesce(sum(s.reserved), 0),
		   coalesce(sum(s.on_hand) - sum(s.reserved), 0)
	  FROM icos.stock_slot s
	 WHERE s.store_id = v_store AND s.upc OPERATOR(pg_catalog.=) v_upc
	ON CONFLICT (store_id, upc) DO UPDATE
	   SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, available = EXCLUDED.available,
		   changed_at = EXCLUDED.changed_at
	 WHERE (a.on_hand, a.reserved) IS DISTINCT FROM (EXCLUDED.on_hand, EXCLUDED.reserved);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._availability_derive() IS
	'internal: trigger at HQ (fires also in the apply worker): refreshes the icos.stock_availability row of the changed store and product from its slots';
CREATE TRIGGER stock_slot_availability AFTER INSERT OR UPDATE OR DELETE ON icos.stock_slot
	FOR EACH ROW EXECUTE FUNCTION icos._availability_derive();
ALTER TABLE icos.stock_slot DISABLE TRIGGER stock_slot_availability;
COMMENT ON TRIGGER stock_slot_availability ON icos.stock_slot IS
	'icos: at HQ only (enabled ALWAYS by icos.setup_replication): keeps icos.stock_availability in step with the stores'' stock';

CREATE FUNCTION icos.remote_availability(code icos.upc)
RETURNS TABLE(store_id int, store_name text, node_id int, on_hand int, reserved int, available int,
			  changed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT st.store_id, st.name, st.node_id, coalesce(a.on_hand, 0), coalesce(a.reserved, 0),
		   coalesce(a.available, 0), a.changed_at
	  FROM icos.store st
	  LEFT JOIN icos.stock_availability a ON a.store_id = st.store_id AND a.upc OPERATOR(pg_catalog.=) $1
	 WHERE st.kind IN ('store', 'warehouse') AND st.active AND st.node_id <> icos.current_node()
	 ORDER BY st.store_id
$$;
COMMENT ON FUNCTION icos.remote_availability(icos.upc) IS
	'Stock of a product in the stores of other nodes, as head office last republished it (icos.stock_availability; works while the link is down), with when it changed.  Local stores are in icos.availability.';

-- Heartbeats -----------------------------------------------------------------

CREATE TABLE icos.node_heartbeat (
	node_id		int PRIMARY KEY,
	beat_at		timestamptz NOT NULL,
	received_at	timestamptz,
	wal_lsn		pg_lsn,
	apply_errors bigint NOT NULL DEFAULT 0,
	sync_errors bigint NOT NULL DEFAULT 0,
	outbound_lag_bytes bigint,
	retained_wal_bytes bigint,
	pending_requests int NOT NULL DEFAULT 0
);
COMMENT ON TABLE icos.node_heartbeat IS
	'One row per node, updated by that node''s icos.heartbeat() every few seconds and replicated (a store''s row to HQ, HQ''s to every store): how fresh each link is and what the node sees of its own subscription and slot';
COMMENT ON COLUMN icos.node_heartbeat.node_id IS 'the node (owner of the row)';
COMMENT ON COLUMN icos.node_heartbeat.beat_at IS 'when the node wrote the row (its clock)';
COMMENT ON COLUMN icos.node_heartbeat.received_at IS 'when the row arrived here by replication (set by an apply-time trigger; null for the own row)';
COMMENT ON COLUMN icos.node_heartbeat.wal_lsn IS 'the node''s WAL position at the beat';
COMMENT ON COLUMN icos.node_heartbeat.apply_errors IS 'apply errors of the node''s icos subscriptions so far (pg_stat_subscription_stats)';
COMMENT ON COLUMN icos.node_heartbeat.sync_errors IS 'initial-sync errors of the node''s icos subscriptions so far';
COMMENT ON COLUMN icos.node_heartbeat.outbound_lag_bytes IS 'WAL the node has written that its icos slots have not yet confirmed (bytes)';
COMMENT ON COLUMN icos.node_heartbeat.retained_wal_bytes IS 'WAL kept on the node for its icos slots (bytes)';
COMMENT ON COLUMN icos.node_heartbeat.pending_requests IS 'the node''s order lines waiting for an answer from another node';

CREATE FUNCTION icos._heartbeat_received() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	NEW.received_at := pg_catalog.clock_timestamp();
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION icos._heartbeat_received() IS
	'internal: apply-time trigger (enabled REPLICA by icos.setup_replication): stamps a replicated heartbeat with its arrival time';
CREATE TRIGGER node_heartbeat_received BEFORE INSERT OR UPDATE ON icos.node_heartbeat
	FOR EACH ROW EXECUTE FUNCTION icos._heartbeat_received();
ALTER TABLE icos.node_heartbeat DISABLE TRIGGER node_heartbeat_received;
COMMENT ON TRIGGER node_heartbeat_received ON icos.node_heartbeat IS
	'icos: fires only for replicated rows once icos.setup_replication has run: records when a heartbeat arrived';

CREATE FUNCTION icos.heartbeat() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me int := icos.current_node();
	v_req jsonb;
	v_at timestamptz;
BEGIN
	v_req := icos.process_requests();
	v_at := pg_catalog.clock_timestamp();
	INSERT INTO icos.node_heartbeat AS h (node_id, beat_at, wal_lsn, apply_errors, sync_errors,
										  outbound_lag_bytes, retained_wal_bytes, pending_requests)
	SELECT me, v_at, pg_catalog.pg_current_wal_lsn(),
		   coalesce((SELECT sum(st.apply_error_count) FROM pg_catalog.pg_stat_subscription_stats st
					  WHERE st.subname LIKE 'icos\_%'), 0),
		   coalesce((SELECT sum(st.sync_error_count) FROM pg_catalog.pg_stat_subscription_stats st
					  WHERE st.subname LIKE 'icos\_%'), 0),
		   (SELECT max(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.confirmed_flush_lsn))::bigint
			  FROM pg_catalog.pg_replication_slots sl WHERE sl.slot_name LIKE 'icos\_%'),
		   (SELECT max(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.restart_lsn))::bigint
			  FROM pg_catalog.pg_replication_slots sl WHERE sl.slot_name LIKE 'icos\_%'),
		   (SELECT count(*) FROM icos.order_line l WHERE l.remote_status = 'pending')
	ON CONFLICT (node_id) DO UPDATE
	   SET beat_at = EXCLUDED.beat_at, wal_lsn = EXCLUDED.wal_lsn, apply_errors = EXCLUDED.apply_errors,
		   sync_errors = EXCLUDED.sync_errors, outbound_lag_bytes = EXCLUDED.outbound_lag_bytes,
		   retained_wal_bytes = EXCLUDED.retained_wal_bytes, pending_requests = EXCLUDED.pending_requests;
	RETURN v_req || pg_catalog.jsonb_build_object('node', me, 'at', v_at);
END
$$;
COMMENT ON FUNCTION icos.heartbeat() IS
	'Call every few seconds on every node (icos node heartbeat, cron or a scheduler): processes cross-store requests (icos.process_requests) and writes this node''s icos.node_heartbeat row, which replication carries to the other side; returns the request counts with the node and the heartbeat''s beat_at as "at" (for icos.wait_for_heartbeat)';

-- Ownership guards -------------------------------------------------------------

CREATE FUNCTION icos._guard_hq_owned() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '42501',
		MESSAGE = pg_catalog.format('%s belongs to head office and cannot be changed at a store (%s refused)',
									TG_TABLE_NAME, TG_OP),
		DETAIL = 'Head office owns this table; stores receive it by replication, and a local change would be overwritten or break replication.',
		HINT = 'Make the change in the head office database.';
END
$$;
COMMENT ON FUNCTION icos._guard_hq_owned() IS
	'internal: statement trigger on head-office tables at a store node: refuses local writes (the apply worker does not fire it)';

CREATE FUNCTION icos._guard_store_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_store int := CASE WHEN TG_OP = 'DELETE' THEN OLD.store_id ELSE NEW.store_id END;
	v_node int := icos._store_node(v_store);
BEGIN
	IF v_node IS DISTINCT FROM icos.current_node()
		OR (TG_OP = 'UPDATE' AND OLD.store_id <> NEW.store_id) THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('%s of store %s belong to node %s and cannot be changed on node %s',
										TG_TABLE_NAME, v_store, coalesce(v_node::text, '(unknown)'), icos.current_node()),
			DETAIL = 'Every row has one writer: a store''s stock and orders are written only by the node that owns the store.',
			HINT = 'Make the change on that store''s node; cross-store stock goes through a reservation request.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._guard_store_row() IS
	'internal: row trigger on store-owned tables of a replicated node: refuses local writes to rows of stores owned by another node (the apply worker does not fire it)';

CREATE FUNCTION icos._guard_node_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_row jsonb := pg_catalog.to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
	v_node int := (v_row ->> TG_ARGV[0])::int;
BEGIN
	IF v_node IS DISTINCT FROM icos.current_node() THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('%s rows of node %s cannot be written on node %s',
										TG_TABLE_NAME, coalesce(v_node::text, '(none)'), icos.current_node()),
			DETAIL = 'Every row has one writer: the node named in the row.',
			HINT = 'Let replication bring that node''s rows.';
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._guard_node_row() IS
	'internal: row trigger on per-node tables (requests, responses, heartbeats): refuses local writes of rows owned by another node; TG_ARGV[0] names the owner column';

CREATE TRIGGER stock_request_guard AFTER INSERT OR UPDATE OR DELETE ON icos.stock_request
	FOR EACH ROW EXECUTE FUNCTION icos._guard_node_row('from_node');
COMMENT ON TRIGGER stock_request_guard ON icos.stock_request IS 'icos: only the asking node writes its requests';
CREATE TRIGGER stock_response_guard AFTER INSERT OR UPDATE OR DELETE ON icos.stock_response
	FOR EACH ROW EXECUTE FUNCTION icos._guard_node_row('from_node');
COMMENT ON TRIGGER stock_response_guard ON icos.stock_response IS 'icos: only the answering node writes its answers';
CREATE TRIGGER node_heartbeat_guard AFTER INSERT OR UPDATE OR DELETE ON icos.node_heartbeat
	FOR EACH ROW EXECUTE FUNCTION icos._guard_node_row('node_id');
COMMENT ON TRIGGER node_heartbeat_guard ON icos.node_heartbeat IS 'icos: a node writes only its own heartbeat';

-- Which table flows where: the single description the publications and
-- their check are built from.  owner 'hq' tables go to every store
-- (publication icos_hq); owner 'store' tables go from each store node to
-- HQ, filtered on the column given; 'route' tables go from HQ to one store.
CREATE FUNCTION icos.replicated_tables()
RETURNS TABLE(table_name text, owner text, publication text, filter_column text, filter_kind text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT * FROM (VALUES
		('icos.category', 'hq', 'icos_hq', NULL, NULL),
		('icos.product', 'hq', 'icos_hq', NULL, NULL),
		('icos.store', 'hq', 'icos_hq', NULL, NULL),
		('icos.employee', 'hq', 'icos_hq', NULL, NULL),
		('icos.promotion', 'hq', 'icos_hq', NULL, NULL),
		('icos.stock_availability', 'hq', 'icos_hq', NULL, NULL),
		('icos.node_heartbeat', 'hq', 'icos_hq', 'node_id', 'node'),
		('icos.orders', 'store', 'icos_store_%s', 'store_id', 'stores'),
		('icos.order_line', 'store', 'icos_store_%s', 'store_id', 'stores'),
		('icos.order_payment', 'store', 'icos_store_%s', 'store_id', 'stores'),
		('icos.stock_item', 'store', 'icos_store_%s', 'store_id', 'stores'),
		('icos.stock_slot', 'store', 'icos_store_%s', 'store_id', 'stores'),
		('icos.customer', 'store', 'icos_store_%s', 'customer_id', 'id_node'),
		('icos.customer_address', 'store', 'icos_store_%s', 'customer_id', 'id_node'),
		('icos.node_heartbeat', 'store', 'icos_store_%s', 'node_id', 'node'),
		('icos.order_event', 'store', 'icos_store_%s_log', 'store_id', 'stores'),
		('icos.stock_movement', 'store', 'icos_store_%s_log', 'store_id', 'stores'),
		('icos.stock_request', 'store', 'icos_store_%s_log', 'from_node', 'node'),
		('icos.stock_response', 'store', 'icos_store_%s_log', 'from_node', 'node'),
		('icos.stock_request', 'route', 'icos_hq_route_%s', 'to_node', 'node'),
		('icos.stock_response', 'route', 'icos_hq_route_%s', 'to_node', 'node')
	) t(table_name, owner, publication, filter_column, filter_kind)
	WHERE pg_catalog.to_regclass(t.table_name) IS NOT NULL
$$;
COMMENT ON FUNCTION icos.replicated_tables() IS
	'What flows where: per table its owner (hq: head office to every store; store: each store node to HQ; route: HQ to the one store node a row is addressed to), the publication (%s is the store node id), and the owner column its row filter uses (stores: the node''s store ids; node: the node id; id_node: the node bits of a node-prefixed id).  Tables not installed (icos.promotion before the promotions release) are left out.';

CREATE FUNCTION icos._publication_filter(p_kind text, p_column text, p_node int) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_stores text;
BEGIN
	IF p_kind IS NULL THEN
		RETURN NULL;
	ELSIF p_kind = 'node' THEN
		RETURN pg_catalog.format('(%I = %s)', p_column, p_node);
	ELSIF p_kind = 'id_node' THEN
		RETURN pg_catalog.format('((%I >> 40) = %s)', p_column, p_node);
	END IF;
	SELECT pg_catalog.string_agg(s.store_id::text, ', ' ORDER BY s.store_id) INTO v_stores
	  FROM icos.store s WHERE s.node_id = p_node;
	IF v_stores IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('node %s owns no store', p_node),
			DETAIL = 'A store node publishes the orders and stock of the stores whose node_id is its node id, and icos.store has none.',
			HINT = pg_catalog.format('At head office, set node_id = %s on the stores this node serves (UPDATE icos.store SET node_id = ...) and let the change reach the store.', p_node);
	END IF;
	RETURN pg_catalog.format('(%I IN (%s))', p_column, v_stores);
END
$$;
COMMENT ON FUNCTION icos._publication_filter(text, text, int) IS
	'internal: the row filter of a replicated table for node p_node (see icos.replicated_tables); IC004 when a store node owns no store';

CREATE FUNCTION icos._publication_sql(p_owner text, p_node int, p_name_as text DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
	v_tables text;
	v_publish text;
BEGIN
	FOR r IN SELECT pg_catalog.format(t.publication, p_node) AS pub, pg_catalog.bool_or(t.publication LIKE '%\_log') AS is_log,
					pg_catalog.string_agg(t.table_name || coalesce(' WHERE ' || icos._publication_filter(t.filter_kind, t.filter_column,
										  CASE WHEN p_owner = 'hq' THEN icos.current_node() ELSE p_node END), ''),
										  ', ' ORDER BY t.table_name) AS tables
			   FROM icos.replicated_tables() t
			  WHERE t.owner = p_owner
			  GROUP BY 1 ORDER BY 1
	LOOP
		v_publish := CASE WHEN r.is_log OR p_owner = 'route' THEN 'insert' ELSE 'insert, update, delete' END;
		RETURN NEXT pg_catalog.format('CREATE PUBLICATION %I FOR TABLE %s WITH (publish = %L)',
									  coalesce(p_name_as || r.pub, r.pub), r.tables, v_publish);
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos._publication_sql(text, int, text) IS
	'internal: the CREATE PUBLICATION statements for one owner class (hq, store, route) and node, optionally under a name prefix (the publication check builds reference copies that way); TRUNCATE is never published (it ignores row filters)';

CREATE FUNCTION icos._require_admin() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT (EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = session_user AND rolsuper)) THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = 'permission denied to set up replication',
			DETAIL = 'Publications and replication settings are changed by a superuser.',
			HINT = 'Run icos node ... as the database superuser.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._require_admin() IS 'internal: refuses replication set-up to anyone but a superuser (42501)';

CREATE FUNCTION icos.create_publications(store_node int) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	s text;
	v_owner text;
BEGIN
	PERFORM icos._require_admin();
	SELECT * INTO me FROM icos.node;
	IF store_node IS NULL OR store_node = me.node_id AND me.kind = 'hq' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a store node id is required',
			HINT = 'Give the node id of the store database (not head office''s own).';
	END IF;
	IF me.kind = 'store' AND store_node <> me.node_id THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('this database is node %s, not node %s', me.node_id, store_node),
			HINT = 'Run it on the store''s own database, or fix its node id with icos.init_node.';
	END IF;
	FOR v_owner IN SELECT unnest(CASE me.kind WHEN 'hq' THEN ARRAY['hq', 'route'] ELSE ARRAY['store'] END) LOOP
		FOR s IN SELECT * FROM icos._publication_sql(v_owner, store_node) LOOP
			IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication p
							WHERE p.pubname = (pg_catalog.regexp_match(s, '^CREATE PUBLICATION "?([a-z0-9_]+)"?'))[1]) THEN
				EXECUTE s;
				RETURN NEXT (pg_catalog.regexp_match(s, '^CREATE PUBLICATION "?([a-z0-9_]+)"?'))[1];
			END IF;
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos.create_publications(int) IS
	'Creates the publications of this node for the link with store node store_node, those missing only: at HQ icos_hq (catalogue to every store) and icos_hq_route_N (requests and answers for node N); at store node N icos_store_N and icos_store_N_log (its stores'' rows to HQ).  Returns the names created.  Superuser only.';

CREATE FUNCTION icos.check_publications(store_node int)
RETURNS TABLE(publication text, table_name text, problem text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	s text;
	v_owner text;
	v_found jsonb := '[]';
BEGIN
	PERFORM icos._require_admin();
	SELECT * INTO me FROM icos.node;
	-- Build reference copies (prefix icos_check_) of what the publications
	-- should be, compare the catalogue rows, then roll the copies back.
	BEGIN
		FOR v_owner IN SELECT unnest(CASE me.kind WHEN 'hq' THEN ARRAY['hq', 'route'] ELSE ARRAY['store'] END) LOOP
			FOR s IN SELECT * FROM icos._publication_sql(v_owner, store_node, 'icos_check_') LOOP
				EXECUTE pg_catalog.replace(s, 'icos_check_icos_', 'icos_check_');
			END LOOP;
		END LOOP;
		SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(x.pub, x.tab, x.problem)), '[]') INTO v_found
		FROM (
			SELECT coalesce(a.pubname, 'icos_' || pg_catalog.substr(e.pubname, 12)) AS pub,
				   coalesce(a.schemaname || '.' || a.tablename, e.schemaname || '.' || e.tablename) AS tab,
				   CASE WHEN a.pubname IS NULL THEN 'missing from the publication'
						WHEN e.pubname IS NULL THEN 'published but should not be'
						ELSE pg_catalog.format('row filter is %s, should be %s',
											   coalesce(a.rowfilter, 'none'), coalesce(e.rowfilter, 'none')) END AS problem
			  FROM (SELECT * FROM pg_catalog.pg_publication_tables WHERE pubname LIKE 'icos\_check\_%') e
			  FULL JOIN (SELECT * FROM pg_catalog.pg_publication_tables
						  WHERE pubname IN (SELECT 'icos_' || pg_catalog.substr(p.pubname, 12) FROM pg_catalog.pg_publication p
											 WHERE p.pubname LIKE 'icos\_check\_%')) a
				ON a.pubname = 'icos_' || pg_catalog.substr(e.pubname, 12)
			   AND a.schemaname = e.schemaname AND a.tablename = e.tablename
			 WHERE a.pubname IS NULL OR e.pubname IS NULL OR a.rowfilter IS DISTINCT FROM e.rowfilter
			UNION ALL
			SELECT 'icos_' || pg_catalog.substr(e.pubname, 12), NULL, 'publication does not exist'
			  FROM pg_catalog.pg_publication e
			 WHERE e.pubname LIKE 'icos\_check\_%'
			   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication a WHERE a.pubname = 'icos_' || pg_catalog.substr(e.pubname, 12))
			UNION ALL
			SELECT 'icos_' || pg_catalog.substr(e.pubname, 12), NULL, 'publishes truncate, which ignores row filters'
			  FROM pg_catalog.pg_publication e JOIN pg_catalog.pg_publication a ON a.pubname = 'icos_' || pg_catalog.substr(e.pubname, 12)
			 WHERE e.pubname LIKE 'icos\_check\_%' AND a.pubtruncate
		) x;
		RAISE EXCEPTION USING ERRCODE = 'IC0RB', MESSAGE = 'icos_check_rollback';
	EXCEPTION WHEN SQLSTATE 'IC0RB' THEN
		NULL;
	END;
	RETURN QUERY SELECT x ->> 0, x ->> 1, x ->> 2 FROM pg_catalog.jsonb_array_elements(v_found) x
				 WHERE x ->> 1 IS NOT NULL OR x ->> 2 = 'publication does not exist'
					OR x ->> 2 LIKE 'publishes%' ORDER BY 1, 2;
END
$$;
COMMENT ON FUNCTION icos.check_publications(int) IS
	'Compares this node''s publications for the link with store node store_node with what icos.replicated_tables() says they must be (tables, row filters, no truncate); one row per problem, none when they are right.  icos node add-store runs it on both sides before subscribing: a wrong filter would send rows to the wrong node or back to their writer.  Superuser only.';

CREATE FUNCTION icos.drop_publications(store_node int) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	p text;
BEGIN
	PERFORM icos._require_admin();
	SELECT * INTO me FROM icos.node;
	FOR p IN SELECT pubname FROM pg_catalog.pg_publication
			 WHERE pubname IN (pg_catalog.format('icos_hq_route_%s', store_node),
							   pg_catalog.format('icos_store_%s', store_node),
							   pg_catalog.format('icos_store_%s_log', store_node))
	LOOP
		EXECUTE pg_catalog.format('DROP PUBLICATION %I', p);
		RETURN NEXT p;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos.drop_publications(int) IS
	'Drops this node''s publications for store node store_node (icos node remove-store); icos_hq, shared by every store, stays.  Returns the names dropped.  Superuser only.';

CREATE FUNCTION icos.setup_replication() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	t text;
BEGIN
	PERFORM icos._require_admin();
	SELECT * INTO me FROM icos.node;
	ALTER TABLE icos.node_heartbeat ENABLE REPLICA TRIGGER node_heartbeat_received;
	FOR t IN SELECT DISTINCT r.table_name FROM icos.replicated_tables() r
			 WHERE r.owner = 'store' AND r.filter_kind = 'stores' LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
						WHERE g.tgrelid = t::regclass AND g.tgname = 'icos_owner_guard') THEN
			EXECUTE pg_catalog.format('CREATE TRIGGER icos_owner_guard AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION icos._guard_store_row()', t);
			EXECUTE pg_catalog.format('COMMENT ON TRIGGER icos_owner_guard ON %s IS %L', t,
									  'icos: refuses local writes to rows of stores another node owns (icos.setup_replication)');
		END IF;
	END LOOP;
	IF me.kind = 'hq' THEN
		-- Availability and the sales roll-up follow what the stores replicate.
		ALTER TABLE icos.stock_slot ENABLE ALWAYS TRIGGER stock_slot_availability;
		ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER sales_delta_ins;
		ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER sales_delta_upd;
		INSERT INTO icos.stock_availability (store_id, upc, on_hand, reserved, available)
		SELECT s.store_id, s.upc, sum(s.on_hand), sum(s.reserved), sum(s.on_hand) - sum(s.reserved)
		  FROM icos.stock_slot s GROUP BY s.store_id, s.upc
		ON CONFLICT (store_id, upc) DO UPDATE
		   SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, available = EXCLUDED.available;
	ELSE
		FOR t IN SELECT DISTINCT r.table_name FROM icos.replicated_tables() r WHERE r.owner = 'hq'
				 AND r.table_name <> 'icos.node_heartbeat' LOOP
			IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
							WHERE g.tgrelid = t::regclass AND g.tgname = 'icos_hq_guard') THEN
				EXECUTE pg_catalog.format('CREATE TRIGGER icos_hq_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION icos._guard_hq_owned()', t);
				EXECUTE pg_catalog.format('COMMENT ON TRIGGER icos_hq_guard ON %s IS %L', t,
										  'icos: at a store, head office''s tables are read-only (icos.setup_replication)');
			END IF;
		END LOOP;
	END IF;
END
$$;
COMMENT ON FUNCTION icos.setup_replication() IS
	'Prepares this database for replication according to its node kind (run by icos node init-hq / add-store; idempotent): replica identity of orders, ownership guard triggers (a store''s rows are written only by its node; at a store, head office''s tables are read-only), and at HQ the apply-time triggers deriving icos.stock_availability and the sales roll-up from what the stores send.  Superuser only.';

CREATE FUNCTION icos.reseed_prepare(store_node int) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	r record;
	n bigint;
	v_done jsonb := '{}';
BEGIN
	PERFORM icos._require_admin();
	SELECT * INTO me FROM icos.node;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s
				WHERE s.subname IN (pg_catalog.format('icos_hq_to_%s', store_node),
									pg_catalog.format('icos_store_%s_to_hq', store_node))) THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = pg_catalog.format('node %s is still subscribed', store_node),
			HINT = 'Run icos node remove-store first (icos node reseed does both).';
	END IF;
	-- Copies of the other side's rows go; the initial copy of the new
	-- subscription brings them back.  Replica mode: the guards and the
	-- append-only triggers are for live changes, not for dropping a copy.
	PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
	IF me.kind = 'hq' THEN
		FOR r IN SELECT t.table_name, icos._publication_filter(t.filter_kind, t.filter_column, store_node) AS f
				 FROM icos.replicated_tables() t WHERE t.owner = 'store'
				 ORDER BY t.table_name DESC
		LOOP
			EXECUTE pg_catalog.format('DELETE FROM %s WHERE %s', r.table_name, r.f);
			GET DIAGNOSTICS n = ROW_COUNT;
			v_done := v_done || pg_catalog.jsonb_build_object(r.table_name, n);
		END LOOP;
	ELSE
		FOR r IN SELECT DISTINCT t.table_name,
						CASE WHEN t.table_name = 'icos.node_heartbeat' THEN 'node_id <> icos.current_node()'
							 WHEN t.owner = 'route' THEN 'from_node <> icos.current_node()'
							 ELSE 'true' END AS f
				 FROM icos.replicated_tables() t WHERE t.owner IN ('hq', 'route')
				 ORDER BY t.table_name DESC
		LOOP
			EXECUTE pg_catalog.format('DELETE FROM %s WHERE %s', r.table_name, r.f);
			GET DIAGNOSTICS n = ROW_COUNT;
			v_done := v_done || pg_catalog.jsonb_build_object(r.table_name, n);
		END LOOP;
	END IF;
	PERFORM pg_catalog.set_config('session_replication_role', 'origin', true);
	RETURN v_done;
END
$$;
COMMENT ON FUNCTION icos.reseed_prepare(int) IS
	'Before re-seeding store node store_node (icos node reseed; its subscriptions must be gone): at HQ deletes the copies of that node''s rows, at the store the copies of head office''s rows, and returns the rows deleted per table; the new subscriptions copy them again.  Superuser only.';

-- Link status at head office -------------------------------------------------

CREATE VIEW icos.node_status AS
WITH nodes AS (
	SELECT s.node_id FROM icos.store s WHERE s.node_id <> icos.current_node()
	UNION
	SELECT h.node_id FROM icos.node_heartbeat h WHERE h.node_id <> icos.current_node()
	UNION
	SELECT (pg_catalog.regexp_match(sub.subname, '^icos_store_([0-9]+)_to_hq$'))[1]::int
	  FROM pg_catalog.pg_subscription sub WHERE sub.subname ~ '^icos_store_[0-9]+_to_hq$'
)
SELECT n.node_id,
	   (SELECT pg_catalog.string_agg(s.store_id::text, ',' ORDER BY s.store_id) FROM icos.store s
		 WHERE s.node_id = n.node_id) AS stores,
	   CASE WHEN sub.oid IS NULL THEN 'not provisioned'
			WHEN NOT sub.subenabled THEN 'disabled'
			WHEN ss.pid IS NOT NULL AND sl.active THEN 'up'
			WHEN ss.pid IS NOT NULL THEN 'store not reading'
			WHEN sl.active THEN 'not receiving from store'
			ELSE 'down' END AS link_state,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.confirmed_flush_lsn)::bigint AS to_store_lag_bytes,
	   round(extract(epoch FROM sr.replay_lag)::numeric, 3) AS to_store_lag_s,
	   h.outbound_lag_bytes AS from_store_lag_bytes,
	   round(extract(epoch FROM (h.received_at - h.beat_at))::numeric, 3) AS from_store_lag_s,
	   h.beat_at AS last_heartbeat,
	   round(extract(epoch FROM (pg_catalog.clock_timestamp() - h.beat_at))::numeric, 1) AS heartbeat_age_s,
	   coalesce(st.apply_error_count, 0) + coalesce(st.sync_error_count, 0) AS hq_apply_errors,
	   h.apply_errors + h.sync_errors AS store_apply_errors,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.restart_lsn)::bigint AS hq_retained_wal_bytes,
	   h.retained_wal_bytes AS store_retained_wal_bytes,
	   sl.wal_status,
	   h.pending_requests
  FROM nodes n
  LEFT JOIN pg_catalog.pg_subscription sub
		 ON sub.subname = pg_catalog.format('icos_store_%s_to_hq', n.node_id) AND sub.subdbid =
			(SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
  LEFT JOIN pg_catalog.pg_stat_subscription ss ON ss.subid = sub.oid AND ss.relid IS NULL
  LEFT JOIN pg_catalog.pg_stat_subscription_stats st ON st.subid = sub.oid
  LEFT JOIN pg_catalog.pg_replication_slots sl ON sl.slot_name = pg_catalog.format('icos_hq_to_%s', n.node_id)
  LEFT JOIN pg_catalog.pg_stat_replication sr ON sr.pid = sl.active_pid
  LEFT JOIN icos.node_heartbeat h ON h.node_id = n.node_id
 ORDER BY n.node_id;
COMMENT ON VIEW icos.node_status IS
	'At head office, one row per store node: link state (up, down, disabled, not provisioned, or which direction is stalled), lag towards the store (bytes not yet confirmed by its slot, seconds of replay lag) and from it (bytes its slot had not confirmed at its last heartbeat, seconds its last heartbeat took to arrive), last heartbeat and its age, apply errors on either side, WAL retained for the link on either side, wal_status of HQ''s slot (lost: the store must be re-seeded) and order lines waiting for an answer there.  icos node status prints it.';
COMMENT ON COLUMN icos.node_status.node_id IS 'the store node';
COMMENT ON COLUMN icos.node_status.stores IS 'the stores (store ids) the node owns';
COMMENT ON COLUMN icos.node_status.link_state IS 'up, down, disabled, not provisioned, store not reading (HQ receives, the store does not read HQ''s slot), not receiving from store';
COMMENT ON COLUMN icos.node_status.to_store_lag_bytes IS 'WAL written at HQ that the store''s subscription has not confirmed';
COMMENT ON COLUMN icos.node_status.to_store_lag_s IS 'replay lag of the store''s subscription (seconds), null when idle or disconnected';
COMMENT ON COLUMN icos.node_status.from_store_lag_bytes IS 'WAL written at the store that HQ had not confirmed, as of the store''s last heartbeat';
COMMENT ON COLUMN icos.node_status.from_store_lag_s IS 'seconds between the store writing its last heartbeat and HQ receiving it';
COMMENT ON COLUMN icos.node_status.last_heartbeat IS 'when the store wrote its last heartbeat that reached HQ';
COMMENT ON COLUMN icos.node_status.heartbeat_age_s IS 'seconds since that heartbeat (grows while the store or the link is down)';
COMMENT ON COLUMN icos.node_status.hq_apply_errors IS 'errors applying the store''s changes at HQ so far';
COMMENT ON COLUMN icos.node_status.store_apply_errors IS 'errors applying HQ''s changes at the store so far (as of its last heartbeat)';
COMMENT ON COLUMN icos.node_status.hq_retained_wal_bytes IS 'WAL HQ keeps for the store''s slot';
COMMENT ON COLUMN icos.node_status.store_retained_wal_bytes IS 'WAL the store keeps for HQ''s slot (as of its last heartbeat)';
COMMENT ON COLUMN icos.node_status.wal_status IS 'wal_status of HQ''s slot for the store: reserved, extended, unreserved or lost (re-seed)';
COMMENT ON COLUMN icos.node_status.pending_requests IS 'order lines at the store waiting for an answer from another node';

-- Waiting for another node -----------------------------------------------------

CREATE FUNCTION icos.wait_for_heartbeat(node_id int, since timestamptz,
										timeout interval DEFAULT '30 seconds')
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_until timestamptz := pg_catalog.clock_timestamp() + $3;
BEGIN
	-- Replication applies a node's transactions in commit order: once its
	-- heartbeat of time "since" or later is here, so is everything that
	-- node committed before that heartbeat.  Each statement of this loop
	-- reads a fresh snapshot (read committed).
	LOOP
		IF EXISTS (SELECT 1 FROM icos.node_heartbeat h WHERE h.node_id = $1 AND h.beat_at >= $2) THEN
			RETURN true;
		END IF;
		IF pg_catalog.clock_timestamp() >= v_until THEN
			RETURN false;
		END IF;
		PERFORM pg_catalog.pg_sleep(0.05);
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos.wait_for_heartbeat(int, timestamptz, interval) IS
	'Waits (up to timeout) until node node_id''s heartbeat written at or after since has arrived on this node, so everything that node committed before it is here too; true when it arrived.  Read committed only.  For scripts, tests and the demo: call icos.heartbeat() on the other node, then this with the "at" it returned';

REVOKE ALL ON icos.stock_request, icos.stock_response, icos.stock_availability, icos.node_heartbeat FROM PUBLIC;
REVOKE ALL ON FUNCTION icos.process_requests(), icos.heartbeat(), icos.create_publications(int),
	icos.check_publications(int), icos.drop_publications(int), icos.reseed_prepare(int), icos.setup_replication(),
	icos.replicated_tables(), icos._publication_filter(text, text, int), icos._publication_sql(text, int, text),
	icos._request_stock(icos.orders, int, icos.upc, int, int, text), icos._remote_line_ready(icos.orders, int), icos._guard_hq_owned(), icos._guard_store_row(),
	icos._guard_node_row(), icos._availability_derive(), icos._heartbeat_received(), icos._require_admin(),
	icos.wait_for_heartbeat(int, timestamptz, interval)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION icos.process_requests(), icos.heartbeat(),
	icos.wait_for_heartbeat(int, timestamptz, interval) TO icos_admin;
GRANT SELECT ON icos.node_status, icos.node_heartbeat, icos.stock_availability TO icos_admin;

