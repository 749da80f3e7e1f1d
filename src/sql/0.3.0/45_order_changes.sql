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
--     limit, IC003 when it holds a payment card number, and nothing stored;
--   - edit_order, cancel_order and return_lines are the order engine's
--     (src/order_edit.c, src/order_cancel.c over src/order_change.c), the
--     phases and struct of placements: the PL/pgSQL helpers they used
--     (_apply_stock, _add_lines, _reprice, _take_payments, _refund, _settle,
--     _earliest) are gone; the change rules stay in icos._check_change;
--   - icos._hand_over (src/order_hand_over.c) sells each line in one step.

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

-- The helpers the engine replaced ---------------------------------------------

DROP FUNCTION icos._refund(icos.orders, text, bigint, text, text);
DROP FUNCTION icos._take_payments(icos.orders, jsonb);
DROP FUNCTION icos._settle(icos.orders);
DROP FUNCTION icos._reprice(icos.orders);
DROP FUNCTION icos._apply_stock(icos.orders, jsonb, jsonb);
DROP FUNCTION icos._add_lines(icos.orders, jsonb, jsonb, boolean);
DROP FUNCTION icos._earliest(icos.orders);

-- The after-placement API ----------------------------------------------------

CREATE OR REPLACE FUNCTION icos.edit_order(code icos.order_code, changes jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'edit_order'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos.edit_order(icos.order_code, jsonb) IS
	'Changes an order atomically (add_lines, cancel_lines, set_qty, address, delivery_date, payments, refunds) as the change rules allow; re-prices; returns the order document.  An edit whose request_id the order already applied changes nothing (the order engine, src/order_edit.c)';

CREATE OR REPLACE FUNCTION icos.cancel_order(code icos.order_code, reason text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'cancel_order'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos.cancel_order(icos.order_code, text) IS
	'Cancels an order that has not left the store, releasing its reservations; the balance then shows the refund due.  The reason is checked by icos._check_text (the order engine, src/order_cancel.c)';

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
AS 'MODULE_PATHNAME', 'return_lines'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos.return_lines(icos.order_code, jsonb, text) IS
	'Takes back handed-over goods ([{"line", "qty"}]): stock back into the store, refund to the methods paid with.  The reason is checked by icos._check_text (the order engine, src/order_cancel.c)';

-- Goods leave the store: each open line sold in one step (a line that
-- reserved nothing sells available units at once, not reserved first).
CREATE OR REPLACE FUNCTION icos._hand_over(p_order icos.orders, p_note text) RETURNS void
AS 'MODULE_PATHNAME', 'hand_over'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION icos._hand_over(icos.orders, text) IS
	'Sells the stock of every open line of an order, one step per line, in (store, upc) order (dispatched or collected; src/order_hand_over.c); IC001 when a back-ordered or made-to-order line''s goods have not arrived';
