-- icos 0.3.0: changing an order after placement (docs/changes.md).
--
-- What this version adds to the edit, cancel, note, fulfilment and return
-- functions of 0.2.0 (40_orders.sql), which are re-created here whole:
--   - edit_order's request_id: an edit retried with the same key is applied
--     once; the keys applied live in icos.order_request, a store-owned table
--     that replicates to head office with the order;
--   - edit_order refuses a line named twice (22023), or both cancelled and
--     re-quantified (IC002), before it changes anything; a quantity or line
--     number that is not a plain whole number is 22023, never a raw 22P02;
--   - every free text these functions store (notes, reasons, payment and
--     refund references, request ids) passes icos._check_text: 22001 over its
--     limit, IC003 when it holds a payment card number, and nothing stored.

-- Request ids applied to an order -------------------------------------------

CREATE TABLE icos.order_request (
	store_id    int NOT NULL,
	code        icos.order_code NOT NULL,
	request_id  text NOT NULL,
	applied_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
	employee_id int,
	PRIMARY KEY (code, store_id, request_id),
	-- Declarative: the row is written by edit_order, which holds the order's
	-- row lock already, so the key check's lock on it costs nothing more.
	CONSTRAINT order_request_store_id_code_fkey FOREIGN KEY (store_id, code)
		REFERENCES icos.orders (store_id, code)
);
COMMENT ON TABLE icos.order_request IS
	'The request_id of every edit_order call applied to an order: a call repeating one changes nothing and returns the order document.  Written only by icos.edit_order; no role reads it directly';
COMMENT ON COLUMN icos.order_request.store_id IS 'The order''s selling store (the owning node''s key)';
COMMENT ON COLUMN icos.order_request.code IS 'The order';
COMMENT ON COLUMN icos.order_request.request_id IS 'The caller''s key of the edit (1 to 100 characters, checked by icos._check_text)';
COMMENT ON COLUMN icos.order_request.applied_at IS 'When the edit was applied';
COMMENT ON COLUMN icos.order_request.employee_id IS 'Employee who made the edit (null outside an employee session)';
SELECT pg_catalog.pg_extension_config_dump('icos.order_request', '');



-- Checks of the edit side --------------------------------------------------

CREATE FUNCTION icos._given_text(p_value text, p_field text, p_what text DEFAULT NULL) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT icos._check_text(nullif(pg_catalog.btrim(p_value, E' \t\n\r\f\v'), ''), p_field, p_what)
$$;
COMMENT ON FUNCTION icos._given_text(text, text, text) IS
	'internal: free text as given to the order API (a note, a reason, a request id) without surrounding white space (spaces, tabs, line breaks); null when blank; checked by icos._check_text for a field of kind p_field (22001, IC003)';

CREATE FUNCTION icos._edit_request(p_order icos.orders, p_request jsonb) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	v_id text;
BEGIN
	IF p_request IS NULL OR pg_catalog.jsonb_typeof(p_request) = 'null' THEN
		RETURN true;
	END IF;
	IF pg_catalog.jsonb_typeof(p_request) = 'string' THEN
		v_id := icos._given_text(p_request #>> '{}', 'request_id');
	END IF;
	IF v_id IS NULL THEN
		-- The value is not repeated: it may be anything, a card number too.
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'changes "request_id" must be text of 1 to 100 characters',
			DETAIL = pg_catalog.format('Got %s.', CASE pg_catalog.jsonb_typeof(p_request)
				WHEN 'string' THEN 'blank text' ELSE 'a JSON ' || pg_catalog.jsonb_typeof(p_request) END),
			HINT = 'Give the edit a key of your own, such as a UUID, and send the same key when you retry it.';
	END IF;
	-- The order is locked: a concurrent call with the same key waits for this
	-- one and then finds its row here (or, in repeatable read, fails with a
	-- serialization error rather than applying the edit twice).
	INSERT INTO icos.order_request (store_id, code, request_id, employee_id)
	VALUES (p_order.store_id, p_order.code, v_id, icos._current_employee())
	ON CONFLICT DO NOTHING;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION icos._edit_request(icos.orders, jsonb) IS
	'internal: records the request_id of an edit of a locked order; false when that order already applied it (the edit is then a retry and changes nothing); 22023 when it is not text, 22001 or IC003 from icos._check_text';

-- Payments -----------------------------------------------------------------


CREATE OR REPLACE FUNCTION icos._refund(p_order icos.orders, p_method text, p_amount bigint, p_reference text, p_why text)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
	v_no  int;
	v_why text := icos._check_text(p_why, 'reason', 'the refund''s reason');
BEGIN
	PERFORM icos._check_change(p_order, 'refund', pg_catalog.jsonb_build_object('amount', p_amount));
	SELECT coalesce(max(payment_no), 0) + 1 INTO v_no FROM icos.order_payment WHERE code = p_order.code;
	INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,
									tendered_pence, reference, employee_id)
	VALUES (p_order.store_id, p_order.code, v_no, 'refund', p_method, p_amount, p_amount, p_reference,
			icos._current_employee());
	PERFORM icos._log(p_order, 'refund',
		pg_catalog.format('%s %s%s', pg_catalog.replace(p_method, '_', ' '), icos._pounds(p_amount),
						  coalesce(': ' || v_why, '')),
		pg_catalog.jsonb_build_object('payment', v_no));
END
$$;
COMMENT ON FUNCTION icos._refund(icos.orders, text, bigint, text, text) IS
	'Records one refund after the change rules allow it (never more than was paid: IC003); its reason, if any, is checked by icos._check_text';

-- The after-placement API ----------------------------------------------------

CREATE OR REPLACE FUNCTION icos.edit_order(code icos.order_code, changes jsonb) RETURNS jsonb
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
	v_cancel   int[] := '{}';
	v_set      int[] := '{}';
	v_setq     int[] := '{}';
	i          int;
	v_ops      jsonb := '[]';
	v_lines    boolean := false;
	v_date     date;
	v_earliest date;
	v_what     text[] := '{}';
	f          record;
BEGIN
	o := icos._lock_order(p_code);
	PERFORM icos._check_keys(p_changes, ARRAY['add_lines', 'cancel_lines', 'set_qty', 'address',
											  'delivery_date', 'payments', 'refunds', 'request_id'], 'changes');
	IF p_changes - 'request_id' = '{}'::jsonb THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'nothing to change',
			HINT = 'Give add_lines, cancel_lines, set_qty, address, delivery_date, payments or refunds.';
	END IF;
	IF NOT icos._edit_request(o, p_changes -> 'request_id') THEN
		-- A retry of an edit this order has already applied.
		RETURN icos._doc(o.code);
	END IF;

	-- The lines named, each at most once, before anything changes.
	FOR x IN SELECT pg_catalog.jsonb_array_elements(icos._json_array(p_changes, 'cancel_lines', 'changes')) LOOP
		IF NOT icos._is_count(x) THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'cancel_lines must be line numbers',
				DETAIL = pg_catalog.format('Got %s.', pg_catalog.left(x::text, 120)),
				HINT = 'Line numbers are whole numbers from 1, written without a decimal point.';
		END IF;
		n := x::text::int;
		IF n = ANY (v_cancel) THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('line %s appears twice in cancel_lines', n),
				HINT = 'Name each line once.';
		END IF;
		v_cancel := v_cancel || n;
	END LOOP;
	FOR x IN SELECT pg_catalog.jsonb_array_elements(icos._json_array(p_changes, 'set_qty', 'changes')) LOOP
		PERFORM icos._check_keys(x, ARRAY['line', 'qty'], 'set_qty entry');
		IF NOT (icos._is_count(x -> 'line') AND icos._is_count(x -> 'qty')) THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'set_qty needs a line and a quantity of at least 1',
				DETAIL = pg_catalog.format('Got %s.', pg_catalog.left(x::text, 120)),
				HINT = 'Line numbers and quantities are whole numbers written without a decimal point; cancel a line with cancel_lines rather than setting its quantity to 0.';
		END IF;
		n := (x ->> 'line')::int;
		IF n = ANY (v_set) THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('line %s appears twice in set_qty', n),
				HINT = 'Give each line once, with its new quantity.';
		END IF;
		IF n = ANY (v_cancel) THEN
			RAISE EXCEPTION USING ERRCODE = 'IC002',
				MESSAGE = pg_catalog.format('cannot change quantities: line %s of order %s is cancelled by the same edit',
											n, o.code),
				DETAIL = 'A line is either cancelled or given a new quantity, not both.',
				HINT = 'Leave the line out of set_qty, or out of cancel_lines.';
		END IF;
		v_set := v_set || n;
		v_setq := v_setq || (x ->> 'qty')::int;
	END LOOP;

	-- Lines: collect the stock deltas, then apply them in (store, upc) order.
	FOREACH n IN ARRAY v_cancel LOOP
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
	FOR i IN 1 .. coalesce(pg_catalog.array_length(v_set, 1), 0) LOOP
		n := v_set[i];
		v_qty := v_setq[i];
		PERFORM icos._check_change(o, 'set_qty', pg_catalog.jsonb_build_object('line', n));
		SELECT * INTO v_line FROM icos.order_line l WHERE l.code = o.code AND l.line = n;
		IF v_line.status = 'reserved' AND v_qty <> v_line.qty THEN
			-- Only the difference is reserved or released.
			v_ops := v_ops || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
				'store', v_line.fulfil_from, 'upc', v_line.upc::text, 'line', n,
				'qty', v_qty::bigint - v_line.qty, 'set_qty', v_qty));
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
	FOR x, n IN SELECT e.value, e.ordinality
				FROM pg_catalog.jsonb_array_elements(icos._json_array(p_changes, 'refunds', 'changes')) WITH ORDINALITY e LOOP
		-- A refund is a payment object with an optional "reason".
		f := icos._payment_fields(CASE WHEN pg_catalog.jsonb_typeof(x) = 'object' THEN x - 'reason' ELSE x END,
								  pg_catalog.format('refund %s', n));
		SELECT * INTO o FROM icos.orders WHERE code = o.code;
		PERFORM icos._refund(o, f.method, f.amount, f.reference,
							 icos._json_text(x, 'reason', pg_catalog.format('refund %s', n)));
	END LOOP;
	PERFORM icos._settle(o);
	RETURN icos._doc(o.code);
END
$$;
COMMENT ON FUNCTION icos.edit_order(icos.order_code, jsonb) IS
	'Changes an order atomically (add_lines, cancel_lines, set_qty, address, delivery_date, payments, refunds) as the change rules allow; re-prices; returns the order document.  An edit whose request_id the order already applied changes nothing';

CREATE OR REPLACE FUNCTION icos.cancel_order(code icos.order_code, reason text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_reason text := icos._given_text($2, 'reason', 'the reason for the cancellation');
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
	'Cancels an order that has not left the store, releasing its reservations; the balance then shows the refund due.  The reason is checked by icos._check_text';

CREATE OR REPLACE FUNCTION icos.add_note(code icos.order_code, kind text, note text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_kind text := $2;
	p_note text := icos._given_text($3, 'note');
	o      icos.orders;
BEGIN
	o := icos._lock_order($1);
	IF p_kind IS NULL OR p_kind NOT IN ('manufacturing', 'dispatch', 'service') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown note kind "%s"', pg_catalog.left(coalesce(p_kind, ''), 40)),
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
	'Adds a manufacturing (made-to-order items only), dispatch or service note to the order''s log; the note is checked by icos._check_text';

CREATE OR REPLACE FUNCTION icos.advance_order(code icos.order_code, status text, note text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_status text := $2;
	p_note   text := icos._given_text($3, 'note');
	o        icos.orders;
	v_old    text;
BEGIN
	o := icos._lock_order($1);
	IF p_status IS NULL OR p_status NOT IN ('in_progress', 'dispatched', 'ready_for_collection', 'completed') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('"%s" is not a fulfilment step', pg_catalog.left(coalesce(p_status, ''), 40)),
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
	PERFORM icos._log(o, 'status', coalesce(p_note, pg_catalog.format('%s -> %s', v_old, p_status)),
					  pg_catalog.jsonb_build_object('from', v_old, 'to', p_status));
END
$$;
COMMENT ON FUNCTION icos.advance_order(icos.order_code, text, text) IS
	'Moves an order through fulfilment (in_progress, dispatched, ready_for_collection, completed); stock is consumed when goods leave.  The note is checked by icos._check_text';

CREATE OR REPLACE FUNCTION icos.return_lines(code icos.order_code, lines jsonb, reason text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_lines  jsonb := $2;
	p_reason text := icos._given_text($3, 'reason', 'the reason for the return');
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
		IF NOT (icos._is_count(x -> 'line') AND icos._is_count(x -> 'qty')) THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a returned line needs a line number and a quantity of at least 1',
				DETAIL = pg_catalog.format('Got %s.', pg_catalog.left(x::text, 120)),
				HINT = 'Line numbers and quantities are whole numbers written without a decimal point.';
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
	'Takes back handed-over goods ([{"line", "qty"}]): stock back into the store, refund to the methods paid with.  The reason is checked by icos._check_text';

-- Stock of an edit: the lines it adds for one product are taken in one step
-- (the rule of placements, src/stock.c stock_order_lines), so an edit adding
-- a product twice cannot deadlock with another at a sell-out
-- (test/isolation/specs/edit_same_item_twice.spec).
CREATE OR REPLACE FUNCTION icos._apply_stock(p_order icos.orders, p_ops jsonb, p_holds jsonb DEFAULT '[]')
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
	v_done  int[] := '{}';
BEGIN
	-- One fixed order, (store, upc), for every order: two orders sharing
	-- products lock their stock rows in the same order and cannot deadlock.
	-- Each op also carries the lines and quantities of its (store, upc) and
	-- whether all of them add stock without a back-order.
	FOR op IN SELECT x.store, x.upc::icos.upc AS upc, x.line, x.qty, coalesce(x.backorder, false) AS backorder,
					 x.set_qty, pg_catalog.array_agg(x.line) OVER w AS g_lines,
					 pg_catalog.array_agg(x.qty) OVER w AS g_qtys,
					 pg_catalog.bool_and(x.qty > 0 AND NOT coalesce(x.backorder, false)) OVER w AS g_plain
			  FROM pg_catalog.jsonb_to_recordset(p_ops)
				   AS x(store int, upc text, line int, qty int, backorder boolean, set_qty int)
			  WINDOW w AS (PARTITION BY x.store, x.upc::icos.upc ORDER BY x.line
						   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
			  ORDER BY x.store, x.upc::icos.upc, x.line
	LOOP
		CONTINUE WHEN op.line = ANY (v_done);
		-- Lines adding one product of this node's stock, with no hold or
		-- back-order among them: one take for all of them (the stock engine
		-- adds them up), as a placement does.  Taken line by line, the
		-- second could wait for a slot while the first one's stayed locked.
		IF op.g_plain AND pg_catalog.cardinality(op.g_lines) > 1
			AND icos._store_node(op.store) IS NOT DISTINCT FROM icos.current_node()
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(p_holds) x
							WHERE (x ->> 'store_id')::int = op.store AND (x ->> 'upc')::icos.upc = op.upc) THEN
			PERFORM icos._stock_lines('reserve', pg_catalog.array_fill(op.store, ARRAY[pg_catalog.cardinality(op.g_lines)]),
									  pg_catalog.array_fill(op.upc, ARRAY[pg_catalog.cardinality(op.g_lines)]), op.g_qtys,
									  v_code, (SELECT pg_catalog.array_agg(pg_catalog.format('order %s line %s', v_code, n) ORDER BY n)
											   FROM pg_catalog.unnest(op.g_lines) n));
			UPDATE icos.order_line l
			SET reserved_qty = l.reserved_qty + x.qty, qty = coalesce(x.set_qty, l.qty)
			FROM pg_catalog.jsonb_to_recordset(p_ops) AS x(store int, upc text, line int, qty int, set_qty int)
			WHERE x.store = op.store AND x.upc::icos.upc = op.upc
			  AND l.code = p_order.code AND l.line = x.line;
			v_done := v_done || op.g_lines;
			CONTINUE;
		END IF;
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
	'Reserves (positive qty) or releases (negative qty) stock for order lines in (store, upc) order, converting holds first; the lines adding one product (no hold or back-order among them) are taken in one step by icos._stock_lines';
