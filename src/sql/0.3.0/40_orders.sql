-- icos 0.3.0: one order engine in C for every placement (src/order_*.c,
-- docs/orders.md): icos.place_order reads the document, resolves its
-- references, reserves the stock, prices and writes the order in one
-- statement, whatever the channel, customer, delivery, holds, coupons,
-- back-orders, made-to-order lines or lines of another node's stock.  The
-- PL/pgSQL placement (icos._place_order_general, icos._place_simple) and
-- the former fast path's SQL entry (icos._place_fast) are gone; the JSON
-- reading rules the editing functions share with it are its C functions.

-- Idempotent placement (API.md, additions of 0.3.0): the caller's key of
-- an order, unique per selling store.  Orders flow from their store's node
-- to head office and a store belongs to one node, so the key is unique at
-- head office too.
ALTER TABLE icos.orders ADD COLUMN external_ref text, ADD COLUMN external_ref_digest bytea;
COMMENT ON COLUMN icos.orders.external_ref IS
	'The caller''s key of the order (place_order "external_ref", 1 to 100 characters): a placement repeating it at the same store returns this order';
COMMENT ON COLUMN icos.orders.external_ref_digest IS
	'SHA-256 of the document that placed the order with an external_ref: the same document again returns the order, another is refused (IC006)';
CREATE UNIQUE INDEX orders_external_ref_key ON icos.orders (store_id, external_ref) WHERE external_ref IS NOT NULL;
COMMENT ON INDEX icos.orders_external_ref_key IS 'One order per external_ref per selling store';

DROP FUNCTION icos._place_order_general(jsonb);
DROP FUNCTION icos._place_simple(jsonb, icos.store, text, bigint, text, jsonb, int, date, jsonb, text[], int, int);
DROP FUNCTION icos._place_fast(jsonb);
DROP FUNCTION icos._lines_all_local(icos.store, jsonb);

CREATE OR REPLACE FUNCTION icos.place_order("order" jsonb) RETURNS icos.order_code
AS 'MODULE_PATHNAME', 'place_order'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos.place_order(jsonb) IS
	'Places an order for any channel (store, phone, web, pos): customer, lines reserved in (store, upc) order, delivery, payments, holds, coupons, external_ref; returns its code (the order engine, src/order_place.c)';

-- The JSON reading rules (src/order_json.c), the same for placements and
-- edits.

CREATE OR REPLACE FUNCTION icos._money(p_val jsonb, p_what text, p_errcode text) RETURNS bigint
AS 'MODULE_PATHNAME', 'json_money'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._money(jsonb, text, text) IS
	'A positive amount in pounds (JSON number or string, at most 2 decimals, below 10,000,000,000) as pence; raises the given SQLSTATE otherwise (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._json_int(p_obj jsonb, p_key text, p_what text) RETURNS int
AS 'MODULE_PATHNAME', 'json_int'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._json_int(jsonb, text, text) IS
	'The integer value of a key (null when absent); 22023 when it is not a whole JSON number written as digits (2.0 is not one) within int (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._is_count(p_val jsonb) RETURNS boolean
AS 'MODULE_PATHNAME', 'json_is_count'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._is_count(jsonb) IS
	'True when the value is a JSON whole number from 1 to 2147483647 written without sign, fraction or exponent; never raises (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._json_array(p_obj jsonb, p_key text, p_what text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'json_array'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._json_array(jsonb, text, text) IS
	'The array value of a key ([] when absent); 22023 when it is not a JSON array (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._check_keys(p_obj jsonb, p_allowed text[], p_what text) RETURNS void
AS 'MODULE_PATHNAME', 'json_check_keys'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._check_keys(jsonb, text[], text) IS
	'22023 unless the value is an object whose keys are all in the list (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._json_upc(p_obj jsonb, p_what text) RETURNS icos.upc
AS 'MODULE_PATHNAME', 'json_upc'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._json_upc(jsonb, text) IS
	'The "upc" key of an object as icos.upc (22023 when missing or not text, 22P02 when malformed) (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._json_date(p_obj jsonb, p_key text, p_what text) RETURNS date
AS 'MODULE_PATHNAME', 'json_date'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._json_date(jsonb, text, text) IS
	'A YYYY-MM-DD date from a key (null when absent), at most 365 days from today; 22023 otherwise (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._payment_fields(p_pay jsonb, p_what text, OUT method text, OUT amount bigint,
												OUT reference text)
AS 'MODULE_PATHNAME', 'json_payment_fields'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._payment_fields(jsonb, text) IS
	'Validates a payment or refund object: known method (IC003), amount (IC003), reference checked as stored text (22001 over 100 characters, IC003 a card number) (src/order_json.c)';

-- The lines an edit adds, and the earliest date of an edited order, are
-- the engine's own phases (src/order_edit.c): icos._add_lines and
-- icos._earliest are dropped with the other helpers of the PL/pgSQL edits
-- (45_order_changes.sql).
DROP FUNCTION icos._resolve_line(jsonb, bigint, icos.store, boolean, int, jsonb);

-- The order document shows the caller's key, and what a web shop maps
-- (API.md, additions of 0.3.0): currency, VAT per line and in total
-- (icos._vat_pence, 42_vat.sql), metadata, updated_at (the latest of the
-- order's own time stamp and its events: every change through the API
-- records an event), and a country in the address (an address stored
-- before 0.3.0 has none: it is in GB, the default of src/order_json.c).
CREATE OR REPLACE FUNCTION icos._doc(p_code icos.order_code) RETURNS jsonb
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
		'external_ref', o.external_ref,
		'currency', icos._setting_value('currency'),
		'metadata', coalesce(o.metadata, '{}'::jsonb),
		'updated_at', greatest(o.updated_at, (SELECT max(e.at) FROM icos.order_event e WHERE e.code = o.code)),
		'customer', icos._order_customer(o.customer_id),
		'delivery', pg_catalog.jsonb_build_object('method', o.delivery_method, 'address',
												  CASE WHEN NOT o.delivery_address ? 'postcode' OR o.delivery_address ? 'country'
													   THEN o.delivery_address
													   ELSE o.delivery_address || '{"country": "GB"}'::jsonb END,
												  'collect_store', o.collect_store, 'date', o.delivery_date),
		'promised_date', o.promised_date,
		'lines', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'line', l.line, 'upc', l.upc::text, 'name', p.name, 'qty', l.qty,
				'unit_price', icos._pounds(l.unit_price_pence), 'discount', icos._pounds(l.discount_pence),
				'net', icos._pounds(l.net_pence), 'status', l.status, 'fulfil_from', l.fulfil_from,
				'returned', l.returned_qty, 'vat_rate', pg_catalog.trim_scale(l.vat_rate),
				'vat', icos._pounds(icos._vat_pence(l.net_pence, l.vat_rate)))
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
		'vat', icos._pounds((SELECT coalesce(sum(icos._vat_pence(l.net_pence, l.vat_rate)), 0)::bigint
							 FROM icos.order_line l WHERE l.code = o.code)),
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
COMMENT ON FUNCTION icos._doc(icos.order_code) IS
	'The order document returned by icos.order and the editing functions (with the caller''s external_ref, null when none, currency, VAT, metadata and updated_at)';
