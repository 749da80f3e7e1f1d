-- icos 0.3.0: customer care.  Changing a customer's details (logged),
-- consent, the subject access export, erasure, finding a customer, order
-- feedback and "also bought" suggestions.  docs/customers.md describes the
-- model, docs/security.md who may do what.
--
-- Who acts for a customer (one rule, icos._may_act_for): the store that
-- registered her, the call centre (any customer) and head office (admins).
-- A customer's row has one writer, the node that registered her (the top
-- bits of customer_id); her details, consents, events and erasure are
-- written there and replicate to head office with her row.

-- Who is who -----------------------------------------------------------------

CREATE FUNCTION icos._at_call_centre() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT s.kind = 'callcentre' FROM icos.store s WHERE s.store_id = icos._current_store()), false)
$$;
COMMENT ON FUNCTION icos._at_call_centre() IS
	'internal: true when the session''s employee works for a store of kind callcentre (the call centre acts for every customer)';

CREATE FUNCTION icos._may_act_for(p_store int) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	-- Superusers are members of every role, icos_admin included.
	SELECT pg_catalog.pg_has_role(pg_catalog.session_user(), 'icos_admin', 'member')
		OR (NOT pg_catalog.pg_has_role(pg_catalog.session_user(), 'icos_reporter', 'member')
			AND (icos._at_call_centre() OR coalesce(p_store = icos._current_store(), false)))
$$;
COMMENT ON FUNCTION icos._may_act_for(int) IS
	'internal: may the session change, export or erase a customer registered at this store?  Head office (admins, superusers), the call centre, and the employees of that store; reporters never';

-- The call centre finds any customer (row-level security of 0.2.0 lets a
-- store see the customers it registered or sold to; this policy adds the
-- call centre; addresses follow their customer).
CREATE POLICY customer_call_centre ON icos.customer FOR SELECT USING (icos._at_call_centre());
COMMENT ON POLICY customer_call_centre ON icos.customer IS
	'The call centre reads every customer (it takes orders for all of them)';

-- Indexes of icos.find_customers: plain columns compared with leakproof
-- operators, so that they serve queries under row-level security.
-- E-mail addresses are stored in lower case by every writer.
CREATE INDEX customer_email_idx ON icos.customer (email) WHERE email IS NOT NULL;
COMMENT ON INDEX icos.customer_email_idx IS
	'icos.find_customers by e-mail (customer_email_key is on lower(email), which row-level security cannot use)';
CREATE INDEX customer_address_postcode_idx ON icos.customer_address (postcode);
COMMENT ON INDEX icos.customer_address_postcode_idx IS 'icos.find_customers by postcode and name';

-- The audit of changes to a customer ---------------------------------------

CREATE SEQUENCE icos.customer_event_seq;
COMMENT ON SEQUENCE icos.customer_event_seq IS
	'Node-local numbers of customer events and consent records (keys include the customer, whose node writes them)';

CREATE TABLE icos.customer_event (
	customer_id bigint NOT NULL REFERENCES icos.customer,
	event_id    bigint NOT NULL DEFAULT pg_catalog.nextval('icos.customer_event_seq'),
	at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	kind        text NOT NULL CHECK (kind IN ('changed', 'forgotten')),
	fields      text[] NOT NULL,
	changes     jsonb,
	employee_id int,
	role_name   text NOT NULL DEFAULT session_user,
	at_store    int,
	PRIMARY KEY (customer_id, event_id)
);
COMMENT ON TABLE icos.customer_event IS
	'Append-only log of every change to a customer''s details (icos.update_customer) and of her erasure: who, when, which fields, from which store';
COMMENT ON COLUMN icos.customer_event.customer_id IS 'The customer';
COMMENT ON COLUMN icos.customer_event.event_id IS 'Number within the node that wrote it';
COMMENT ON COLUMN icos.customer_event.at IS 'When the change was made';
COMMENT ON COLUMN icos.customer_event.kind IS 'changed (icos.update_customer) or forgotten (icos.forget_customer)';
COMMENT ON COLUMN icos.customer_event.fields IS 'The fields changed: name, email, phone, address (or, when forgotten, every field erased)';
COMMENT ON COLUMN icos.customer_event.changes IS
	'Old and new values per field ({"email": {"old": ..., "new": ...}}); set to null, the only change the log allows, when the customer is forgotten';
COMMENT ON COLUMN icos.customer_event.employee_id IS 'Employee who made the change (null: not an employee session)';
COMMENT ON COLUMN icos.customer_event.role_name IS 'Login role of the session that made the change';
COMMENT ON COLUMN icos.customer_event.at_store IS 'Store the change was made from (the employee''s store)';

CREATE TABLE icos.customer_consent (
	customer_id bigint NOT NULL REFERENCES icos.customer,
	consent_id  bigint NOT NULL DEFAULT pg_catalog.nextval('icos.customer_event_seq'),
	purpose     text NOT NULL CHECK (purpose IN ('email', 'sms', 'post')),
	granted     boolean NOT NULL,
	at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	employee_id int,
	role_name   text NOT NULL DEFAULT session_user,
	at_store    int,
	PRIMARY KEY (customer_id, consent_id)
);
COMMENT ON TABLE icos.customer_consent IS
	'Append-only history of a customer''s marketing consents (icos.set_consent); the latest row per purpose is the current consent';
COMMENT ON COLUMN icos.customer_consent.customer_id IS 'The customer';
COMMENT ON COLUMN icos.customer_consent.consent_id IS 'Number within the node that wrote it (later rows have higher numbers)';
COMMENT ON COLUMN icos.customer_consent.purpose IS 'email, sms or post: the channel the customer may be contacted through';
COMMENT ON COLUMN icos.customer_consent.granted IS 'True: consent given; false: refused or withdrawn';
COMMENT ON COLUMN icos.customer_consent.at IS 'When it was recorded';
COMMENT ON COLUMN icos.customer_consent.employee_id IS 'Employee who recorded it (null: not an employee session)';
COMMENT ON COLUMN icos.customer_consent.role_name IS 'Login role of the session that recorded it';
COMMENT ON COLUMN icos.customer_consent.at_store IS 'Store it was recorded at (the employee''s store)';

CREATE TABLE icos.customer_erasure (
	customer_id bigint PRIMARY KEY REFERENCES icos.customer,
	at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	reason      text NOT NULL,
	employee_id int,
	role_name   text NOT NULL DEFAULT session_user,
	at_store    int,
	orders_erased int NOT NULL,
	orders_elsewhere int NOT NULL
);
COMMENT ON TABLE icos.customer_erasure IS
	'One row per forgotten customer (icos.forget_customer): who erased her, when, why; no personal data';
COMMENT ON COLUMN icos.customer_erasure.customer_id IS 'The customer, whose record no longer identifies her';
COMMENT ON COLUMN icos.customer_erasure.at IS 'When she was forgotten';
COMMENT ON COLUMN icos.customer_erasure.reason IS 'Why (refused when it holds her name, e-mail, phone or address)';
COMMENT ON COLUMN icos.customer_erasure.employee_id IS 'Manager or admin who erased her';
COMMENT ON COLUMN icos.customer_erasure.role_name IS 'Login role of that session';
COMMENT ON COLUMN icos.customer_erasure.at_store IS 'Store it was done from';
COMMENT ON COLUMN icos.customer_erasure.orders_erased IS 'Her orders on this node whose personal details were removed';
COMMENT ON COLUMN icos.customer_erasure.orders_elsewhere IS 'Her orders owned by other nodes (erased there)';

SELECT pg_catalog.pg_extension_config_dump('icos.customer_event', '');
SELECT pg_catalog.pg_extension_config_dump('icos.customer_consent', '');
SELECT pg_catalog.pg_extension_config_dump('icos.customer_erasure', '');
SELECT pg_catalog.pg_extension_config_dump('icos.customer_event_seq', '');

-- Head office asks a customer's node to forget her: one row, written at head
-- office and routed to her node (icos.replicated_tables: like a stock
-- request), where a trigger erases her; her erasure then replicates back.
CREATE TABLE icos.customer_erasure_request (
	customer_id bigint PRIMARY KEY REFERENCES icos.customer,
	from_node   int NOT NULL,
	to_node     int NOT NULL,
	at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	reason      text NOT NULL,
	employee_id int,
	role_name   text NOT NULL DEFAULT session_user,
	at_store    int,
	CHECK (to_node = (customer_id >> 40) AND from_node <> to_node)
);
COMMENT ON TABLE icos.customer_erasure_request IS
	'Erasures asked at head office of customers another node registered (icos.forget_customer): routed to her node, which forgets her on arrival (trigger icos._erasure_requested) and replicates the erasure back; no personal data';
COMMENT ON COLUMN icos.customer_erasure_request.customer_id IS 'The customer to forget';
COMMENT ON COLUMN icos.customer_erasure_request.from_node IS 'The node that asked (head office)';
COMMENT ON COLUMN icos.customer_erasure_request.to_node IS 'Her node, which erases her (the node bits of customer_id)';
COMMENT ON COLUMN icos.customer_erasure_request.at IS 'When it was asked';
COMMENT ON COLUMN icos.customer_erasure_request.reason IS 'Why (checked like the reason of icos.customer_erasure; copied there by her node)';
COMMENT ON COLUMN icos.customer_erasure_request.employee_id IS 'Manager or admin who asked';
COMMENT ON COLUMN icos.customer_erasure_request.role_name IS 'Login role of that session';
COMMENT ON COLUMN icos.customer_erasure_request.at_store IS 'Store it was asked from';
SELECT pg_catalog.pg_extension_config_dump('icos.customer_erasure_request', '');

CREATE FUNCTION icos._customer_forgotten(p_customer bigint) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM icos.customer_erasure x WHERE x.customer_id = p_customer)
		OR EXISTS (SELECT 1 FROM icos.customer_erasure_request r WHERE r.customer_id = p_customer)
$$;
COMMENT ON FUNCTION icos._customer_forgotten(bigint) IS
	'internal: true once a customer is forgotten on this node, or head office has asked her node to forget her';

-- The logs are append-only for everybody, the owner included.  The one
-- exception is erasure: inside icos.forget_customer (the transaction-local
-- setting icos.erasing) an UPDATE may only remove information, never write
-- any: the values of a customer event, a note of an order event, part of an
-- order event's detail.  Every other column stays as it was.
CREATE FUNCTION icos._erasure_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_old jsonb;
	v_new jsonb;
BEGIN
	IF TG_OP = 'UPDATE' AND pg_catalog.current_setting('icos.erasing', true) = 'on' THEN
		v_old := pg_catalog.to_jsonb(OLD);
		v_new := pg_catalog.to_jsonb(NEW);
		IF TG_TABLE_NAME = 'customer_event' AND v_new ->> 'changes' IS NULL
			AND v_old - 'changes' = v_new - 'changes' THEN
			RETURN NEW;
		END IF;
		IF TG_TABLE_NAME = 'order_event'
			AND v_old - 'note' - 'detail' = v_new - 'note' - 'detail'
			AND (v_new ->> 'note' IS NULL OR v_new -> 'note' = v_old -> 'note')
			AND (pg_catalog.jsonb_typeof(v_new -> 'detail') = 'null' OR (v_old -> 'detail') @> (v_new -> 'detail')) THEN
			RETURN NEW;
		END IF;
	END IF;
	RAISE EXCEPTION USING ERRCODE = '42501',
		MESSAGE = CASE TG_TABLE_NAME WHEN 'order_event' THEN 'the order event log cannot be changed'
				  WHEN 'customer_event' THEN 'the customer change log cannot be changed'
				  ELSE 'the consent history cannot be changed' END,
		DETAIL = pg_catalog.format('%s on icos.%s is refused: the log is append-only; only icos.forget_customer removes personal data from it.',
								   TG_OP, TG_TABLE_NAME),
		HINT = 'Record a correction as a new event through the API.';
END
$$;
COMMENT ON FUNCTION icos._erasure_only() IS
	'Trigger of the append-only logs (customer events and consents; order events): refuses UPDATE, DELETE and TRUNCATE, except, inside icos.forget_customer, an UPDATE that only removes personal data';

CREATE TRIGGER customer_event_append_only BEFORE UPDATE OR DELETE ON icos.customer_event
	FOR EACH ROW EXECUTE FUNCTION icos._erasure_only();
CREATE TRIGGER customer_event_no_truncate BEFORE TRUNCATE ON icos.customer_event
	FOR EACH STATEMENT EXECUTE FUNCTION icos._erasure_only();
CREATE TRIGGER customer_consent_append_only BEFORE UPDATE OR DELETE ON icos.customer_consent
	FOR EACH ROW EXECUTE FUNCTION icos._erasure_only();
CREATE TRIGGER customer_consent_no_truncate BEFORE TRUNCATE ON icos.customer_consent
	FOR EACH STATEMENT EXECUTE FUNCTION icos._erasure_only();
COMMENT ON TRIGGER customer_event_append_only ON icos.customer_event IS
	'The customer log is append-only (erasure may only blank its values)';
COMMENT ON TRIGGER customer_event_no_truncate ON icos.customer_event IS 'The customer log is append-only';
COMMENT ON TRIGGER customer_consent_append_only ON icos.customer_consent IS 'Consent history is append-only';
COMMENT ON TRIGGER customer_consent_no_truncate ON icos.customer_consent IS 'Consent history is append-only';

-- The order event log of 0.2.0 keeps its triggers; they now allow erasure.
DROP TRIGGER order_event_append_only ON icos.order_event;
CREATE TRIGGER order_event_append_only BEFORE UPDATE OR DELETE ON icos.order_event
	FOR EACH ROW EXECUTE FUNCTION icos._erasure_only();
COMMENT ON TRIGGER order_event_append_only ON icos.order_event IS
	'The event log is append-only (erasure of a customer may only remove notes and parts of details)';

-- Feedback -------------------------------------------------------------------

CREATE TABLE icos.order_feedback (
	store_id    int NOT NULL,
	code        icos.order_code NOT NULL,
	rating      int NOT NULL CHECK (rating BETWEEN 1 AND 5),
	comment     text,
	at          timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	employee_id int,
	role_name   text NOT NULL DEFAULT session_user,
	PRIMARY KEY (code, store_id),
	FOREIGN KEY (store_id, code) REFERENCES icos.orders (store_id, code)
);
COMMENT ON TABLE icos.order_feedback IS
	'The customer''s rating of an order, one per order (icos.record_feedback; a second rating replaces the first)';
COMMENT ON COLUMN icos.order_feedback.store_id IS 'The order''s selling store, whose node owns the row';
COMMENT ON COLUMN icos.order_feedback.code IS 'The order';
COMMENT ON COLUMN icos.order_feedback.rating IS '1 (very poor) to 5 (excellent)';
COMMENT ON COLUMN icos.order_feedback.comment IS 'What the customer said, if anything (removed when she is forgotten)';
COMMENT ON COLUMN icos.order_feedback.at IS 'When it was recorded (the report week)';
COMMENT ON COLUMN icos.order_feedback.employee_id IS 'Employee who recorded it (null: not an employee session)';
COMMENT ON COLUMN icos.order_feedback.role_name IS 'Login role of the session that recorded it';
CREATE INDEX order_feedback_at_idx ON icos.order_feedback (at);
COMMENT ON INDEX icos.order_feedback_at_idx IS 'icos.feedback_report over a period';
SELECT pg_catalog.pg_extension_config_dump('icos.order_feedback', '');

-- Row-level security of the new tables: a customer's records follow her
-- (icos.customer's policies), feedback follows its order's store.
ALTER TABLE icos.customer_event ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.customer_consent ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.customer_erasure ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.order_feedback ENABLE ROW LEVEL SECURITY;
CREATE POLICY customer_event_by_customer ON icos.customer_event FOR SELECT
	USING (EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = customer_event.customer_id));
COMMENT ON POLICY customer_event_by_customer ON icos.customer_event IS 'Events of the customers the reader may see';
CREATE POLICY customer_consent_by_customer ON icos.customer_consent FOR SELECT
	USING (EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = customer_consent.customer_id));
COMMENT ON POLICY customer_consent_by_customer ON icos.customer_consent IS 'Consents of the customers the reader may see';
CREATE POLICY customer_erasure_by_customer ON icos.customer_erasure FOR SELECT
	USING (EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = customer_erasure.customer_id));
COMMENT ON POLICY customer_erasure_by_customer ON icos.customer_erasure IS 'Erasures of the customers the reader may see';
ALTER TABLE icos.customer_erasure_request ENABLE ROW LEVEL SECURITY;
CREATE POLICY customer_erasure_request_by_customer ON icos.customer_erasure_request FOR SELECT
	USING (EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = customer_erasure_request.customer_id));
COMMENT ON POLICY customer_erasure_request_by_customer ON icos.customer_erasure_request IS
	'Erasure requests of the customers the reader may see';
CREATE POLICY order_feedback_by_store ON icos.order_feedback FOR SELECT USING (icos._store_visible(store_id));
COMMENT ON POLICY order_feedback_by_store ON icos.order_feedback IS 'Feedback on the orders the reader may see';

-- A customer, as the care functions show her ---------------------------------

CREATE FUNCTION icos._customer_consents(p_customer bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(pg_catalog.jsonb_object_agg(x.purpose, x.granted), '{}'::jsonb)
	FROM (SELECT DISTINCT ON (k.purpose) k.purpose, k.granted
		  FROM icos.customer_consent k WHERE k.customer_id = p_customer
		  ORDER BY k.purpose, k.consent_id DESC) x
$$;
COMMENT ON FUNCTION icos._customer_consents(bigint) IS
	'internal: the customer''s current consents, {"email": true, "sms": false, ...}; a purpose never asked is absent (no consent)';

CREATE FUNCTION icos._customer_doc(p_customer bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_build_object(
		'id', c.customer_id, 'name', c.name, 'email', c.email, 'phone', c.phone, 'store', c.store_id,
		'address', icos._customer_address(c.customer_id), 'consents', icos._customer_consents(c.customer_id),
		'created_at', c.created_at, 'updated_at', c.updated_at,
		'forgotten', EXISTS (SELECT 1 FROM icos.customer_erasure x WHERE x.customer_id = c.customer_id))
	FROM icos.customer c WHERE c.customer_id = p_customer
$$;
COMMENT ON FUNCTION icos._customer_doc(bigint) IS
	'internal: the customer''s document (id, name, email, phone, store, current address, current consents, created_at, updated_at, forgotten), read with the caller''s rights';

-- The customer about to be changed, locked; refusals in one place.
CREATE FUNCTION icos._customer_for_change(p_customer bigint, p_action text) RETURNS icos.customer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c icos.customer;
BEGIN
	SELECT * INTO c FROM icos.customer x WHERE x.customer_id = p_customer FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown customer %s', coalesce(p_customer::text, 'null')),
			HINT = 'Find the customer with icos.find_customers; customers registered at another node appear here once replicated.';
	END IF;
	IF NOT icos._may_act_for(c.store_id) THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('you may not %s customer %s', p_action, p_customer),
			DETAIL = 'Only the store that registered a customer, the call centre and head office may act on her details.',
			HINT = 'Ask her store or the call centre.  To take an order for her, give {"id": n} in the order.';
	END IF;
	IF icos._customer_forgotten(p_customer) THEN
		RAISE EXCEPTION USING ERRCODE = 'IC002',
			MESSAGE = pg_catalog.format('customer %s has been forgotten', p_customer),
			DETAIL = 'Her personal details were erased at her request (or head office asked her node to erase them); the record only keeps her orders'' amounts.',
			HINT = 'If she comes back, register her as a new customer.';
	END IF;
	-- Head office may ask her node to forget her (icos.forget_customer).
	IF (p_customer >> 40) <> icos.current_node()
		AND NOT (p_action = 'forget' AND (SELECT n.kind FROM icos.node n) = 'hq') THEN
		RAISE EXCEPTION USING ERRCODE = 'IC002',
			MESSAGE = pg_catalog.format('customer %s is kept by node %s', p_customer, p_customer >> 40),
			DETAIL = 'A customer''s record has one writer, the node that registered her; replication brings its changes here.',
			HINT = pg_catalog.format('Make the change on node %s.', p_customer >> 40);
	END IF;
	RETURN c;
END
$$;
COMMENT ON FUNCTION icos._customer_for_change(bigint, text) IS
	'internal: locks and returns a customer the session may act on (p_action names the act in the refusal): IC004 unknown, 42501 not the session''s (icos._may_act_for), IC002 forgotten (or her erasure requested) or kept by another node (head office may forget a customer of another node)';

-- What an order document shows of its customer (docs/security.md,
-- "Customers"): her details to those who may act for her or read every
-- table (her store, the call centre, head office, reporters); to anyone
-- else with the order's code, enough to hand the order over and no more.
CREATE FUNCTION icos._order_customer(p_customer bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN icos._may_act_for(c.store_id)
					 OR pg_catalog.pg_has_role(pg_catalog.session_user(), 'icos_reporter', 'member')
				THEN pg_catalog.jsonb_build_object('id', c.customer_id, 'name', c.name, 'email', c.email, 'phone', c.phone)
				ELSE pg_catalog.jsonb_build_object(
					'id', c.customer_id,
					-- first name and the initial of the last: "Ann H."
					'name', pg_catalog.regexp_replace(c.name, '^(\S+).*\s(\S)\S*$', '\1 \2.'),
					'email', pg_catalog.regexp_replace(c.email, '^(.).*@', '\1***@'),
					'phone', CASE WHEN c.phone IS NOT NULL THEN '***' || pg_catalog.right(c.phone, 3) END,
					'masked', true) END
	FROM icos.customer c WHERE c.customer_id = p_customer
$$;
COMMENT ON FUNCTION icos._order_customer(bigint) IS
	'internal: the customer of an order document: id, name, email, phone for a session that may act for her (icos._may_act_for) or reads every table (reporters); otherwise her first name and last initial, the first letter and domain of her e-mail, the last three digits of her phone, and "masked": true';

-- Row-level security of 0.2.0 let a store read every customer who ordered
-- there: a till order for her id opened her record.  Now an agent reads the
-- customers its store registered (the call centre every one, policy
-- customer_call_centre; head office all); an order's document shows the
-- rest masked (icos._order_customer).
DROP POLICY customer_by_store ON icos.customer;
CREATE POLICY customer_by_store ON icos.customer FOR SELECT USING (icos._store_visible(store_id));
COMMENT ON POLICY customer_by_store ON icos.customer IS
	'Customers registered at the reader''s store (head office reads all)';
-- Her addresses follow her, one look-up by key per address row: a plain
-- EXISTS over the simpler policy would let the planner hash every visible
-- customer (a full scan) for a search by postcode.
CREATE FUNCTION icos._customer_readable(p_customer bigint) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = p_customer)
$$;
COMMENT ON FUNCTION icos._customer_readable(bigint) IS
	'internal: may the caller read this customer''s row (her row-level security, run with the caller''s rights)?';
DROP POLICY customer_address_by_store ON icos.customer_address;
CREATE POLICY customer_address_by_store ON icos.customer_address FOR SELECT
	USING (icos._customer_readable(customer_id));
COMMENT ON POLICY customer_address_by_store ON icos.customer_address IS
	'Addresses of the customers the reader may see';

-- 1. Changing a customer -----------------------------------------------------

CREATE FUNCTION icos.update_customer(customer_id bigint, changes jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p_id    bigint := $1;
	p_chg   jsonb := $2;
	c       icos.customer;
	v_name  text;
	v_email text;
	v_phone text;
	v_addr  jsonb;
	v_cur   jsonb;
	v_diff  jsonb := '{}';
BEGIN
	c := icos._customer_for_change(p_id, 'change');
	PERFORM icos._check_keys(p_chg, ARRAY['name', 'email', 'phone', 'address'], 'changes');
	IF p_chg = '{}'::jsonb THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'changes is empty',
			HINT = 'Give one or more of name, email, phone and address.';
	END IF;
	v_name := c.name;
	v_email := c.email;
	v_phone := c.phone;
	IF p_chg ? 'name' THEN
		v_name := icos._check_text(icos._json_text(p_chg, 'name', 'changes'), 'name');
		IF v_name IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a customer''s name cannot be removed',
				HINT = 'Give the name as the customer wants it written.';
		END IF;
	END IF;
	IF p_chg ? 'email' THEN
		v_email := icos._email(icos._json_text(p_chg, 'email', 'changes'));
	END IF;
	IF p_chg ? 'phone' THEN
		v_phone := icos._phone(icos._json_text(p_chg, 'phone', 'changes'));
	END IF;
	IF v_email IS NULL AND v_phone IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'a customer keeps an e-mail address or a phone number',
			HINT = 'They identify her when she comes back; to remove every detail, a manager uses icos.forget_customer.';
	END IF;
	IF v_email IS DISTINCT FROM c.email AND v_email IS NOT NULL AND EXISTS (
			SELECT 1 FROM icos.customer x
			WHERE pg_catalog.lower(x.email) = v_email AND (x.customer_id >> 40) = (p_id >> 40)
			  AND x.customer_id <> p_id) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('the e-mail address %s belongs to another customer', v_email),
			DETAIL = 'One customer record per e-mail address: two people cannot share one, and one person should have one record.',
			HINT = 'Check the address with the customer.';
	END IF;
	IF p_chg ? 'address' THEN
		v_addr := icos._address(p_chg -> 'address', 'address');
		PERFORM icos._check_text(v_addr ->> 'line1', 'address_line', 'address line1'),
				icos._check_text(v_addr ->> 'line2', 'address_line', 'address line2'),
				icos._check_text(v_addr ->> 'town', 'town'),
				icos._check_text(v_addr ->> 'postcode', 'postcode');
	END IF;

	IF v_name IS DISTINCT FROM c.name THEN
		v_diff := v_diff || pg_catalog.jsonb_build_object('name', pg_catalog.jsonb_build_object('old', c.name, 'new', v_name));
	END IF;
	IF v_email IS DISTINCT FROM c.email THEN
		v_diff := v_diff || pg_catalog.jsonb_build_object('email', pg_catalog.jsonb_build_object('old', c.email, 'new', v_email));
	END IF;
	IF v_phone IS DISTINCT FROM c.phone THEN
		v_diff := v_diff || pg_catalog.jsonb_build_object('phone', pg_catalog.jsonb_build_object('old', c.phone, 'new', v_phone));
	END IF;
	IF v_diff <> '{}'::jsonb THEN
		BEGIN
			UPDATE icos.customer x SET name = v_name, email = v_email, phone = v_phone, updated_at = pg_catalog.now()
			WHERE x.customer_id = p_id;
		EXCEPTION WHEN unique_violation THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('the e-mail address %s belongs to another customer', v_email),
				DETAIL = 'One customer record per e-mail address: two people cannot share one, and one person should have one record.',
				HINT = 'Check the address with the customer.';
		END;
	END IF;
	IF v_addr IS NOT NULL THEN
		v_cur := icos._customer_address(p_id);
		IF v_cur IS DISTINCT FROM v_addr THEN
			INSERT INTO icos.customer_address (customer_id, address_no, line1, line2, town, postcode)
			SELECT p_id, coalesce(max(a.address_no), 0) + 1, v_addr ->> 'line1', v_addr ->> 'line2',
				   v_addr ->> 'town', v_addr ->> 'postcode'
			FROM icos.customer_address a WHERE a.customer_id = p_id;
			v_diff := v_diff || pg_catalog.jsonb_build_object('address', pg_catalog.jsonb_build_object('old', v_cur, 'new', v_addr));
			UPDATE icos.customer x SET updated_at = pg_catalog.now() WHERE x.customer_id = p_id;
		END IF;
	END IF;
	IF v_diff <> '{}'::jsonb THEN
		INSERT INTO icos.customer_event (customer_id, kind, fields, changes, employee_id, at_store)
		VALUES (p_id, 'changed', ARRAY(SELECT pg_catalog.jsonb_object_keys(v_diff) ORDER BY 1), v_diff,
				icos._current_employee(), icos._current_store());
	END IF;
	RETURN icos._customer_doc(p_id);
END
$$;
COMMENT ON FUNCTION icos.update_customer(bigint, jsonb) IS
	'The one way to change an existing customer''s name, e-mail, phone or address (keys name, email, phone, address: a new current address); each change is logged in icos.customer_event; returns the customer''s document';

-- 2. Consent -----------------------------------------------------------------

CREATE FUNCTION icos.set_consent(customer_id bigint, purpose text, granted boolean) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM icos._customer_for_change($1, 'record the consent of');
	IF $2 IS NULL OR $2 NOT IN ('email', 'sms', 'post') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown consent purpose "%s"', coalesce($2, 'null')),
			HINT = 'The purpose is email, sms or post.';
	END IF;
	IF $3 IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'say whether consent is granted (true) or not (false)';
	END IF;
	INSERT INTO icos.customer_consent (customer_id, purpose, granted, employee_id, at_store)
	VALUES ($1, $2, $3, icos._current_employee(), icos._current_store());
	RETURN icos._customer_consents($1);
END
$$;
COMMENT ON FUNCTION icos.set_consent(bigint, text, boolean) IS
	'Records a customer''s consent (true) or refusal (false) to be contacted by email, sms or post, keeping the history; returns her current consents';

-- 3. Everything held about her -----------------------------------------------

CREATE FUNCTION icos.customer_export(customer_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c icos.customer;
BEGIN
	SELECT * INTO c FROM icos.customer x WHERE x.customer_id = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004', MESSAGE = pg_catalog.format('unknown customer %s', coalesce($1::text, 'null')),
			HINT = 'Customers registered at another node appear here once replicated.';
	END IF;
	IF NOT icos._may_act_for(c.store_id) THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('you may not export customer %s', $1),
			DETAIL = 'Only the store that registered a customer, the call centre and head office may act on her details.',
			HINT = 'Ask her store or head office.';
	END IF;
	RETURN pg_catalog.jsonb_build_object(
		'exported_at', pg_catalog.now(),
		'customer', icos._customer_doc(c.customer_id),
		'addresses', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
				'address_no', a.address_no, 'line1', a.line1, 'line2', a.line2, 'town', a.town,
				'postcode', a.postcode, 'since', a.created_at)) ORDER BY a.address_no)
			FROM icos.customer_address a WHERE a.customer_id = c.customer_id), '[]'::jsonb),
		'consents', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'purpose', k.purpose, 'granted', k.granted, 'at', k.at, 'employee', k.employee_id,
				'store', k.at_store) ORDER BY k.consent_id)
			FROM icos.customer_consent k WHERE k.customer_id = c.customer_id), '[]'::jsonb),
		'events', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'at', e.at, 'kind', e.kind, 'fields', e.fields, 'changes', e.changes,
				'employee', e.employee_id, 'store', e.at_store) ORDER BY e.event_id)
			FROM icos.customer_event e WHERE e.customer_id = c.customer_id), '[]'::jsonb),
		'orders', coalesce((SELECT pg_catalog.jsonb_agg(icos._doc(o.code) ORDER BY o.placed_at, o.code)
			FROM icos.orders o WHERE o.customer_id = c.customer_id), '[]'::jsonb),
		'feedback', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'code', f.code::text, 'rating', f.rating, 'comment', f.comment, 'at', f.at) ORDER BY f.at)
			FROM icos.order_feedback f JOIN icos.orders o ON o.code = f.code AND o.store_id = f.store_id
			WHERE o.customer_id = c.customer_id), '[]'::jsonb),
		'erasure', (SELECT pg_catalog.jsonb_build_object('at', x.at, 'reason', x.reason, 'employee', x.employee_id)
					FROM icos.customer_erasure x WHERE x.customer_id = c.customer_id));
END
$$;
COMMENT ON FUNCTION icos.customer_export(bigint) IS
	'Subject access: everything icos holds about a customer as one document (details with current consents, every address, consent history, change log, orders on this node, feedback, erasure); for her store''s managers, the call centre and head office';

-- 4. Feedback ----------------------------------------------------------------

CREATE FUNCTION icos.record_feedback(code icos.order_code, rating int, comment text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	o icos.orders;
	f icos.order_feedback;
	v_comment text;
BEGIN
	SELECT * INTO o FROM icos.orders x WHERE x.code = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown order %s', coalesce($1::text, '(no code given)')),
			HINT = 'Check the code on the receipt.';
	END IF;
	IF $2 IS NULL OR $2 NOT BETWEEN 1 AND 5 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('a rating is 1 to 5, not %s', coalesce($2::text, 'null')),
			HINT = '1 is very poor, 5 excellent.';
	END IF;
	v_comment := icos._check_text(nullif(pg_catalog.btrim($3), ''), 'note', 'the comment');
	INSERT INTO icos.order_feedback AS x (store_id, code, rating, comment, employee_id)
	VALUES (o.store_id, o.code, $2, v_comment, icos._current_employee())
	ON CONFLICT ON CONSTRAINT order_feedback_pkey DO UPDATE
	SET rating = excluded.rating, comment = excluded.comment, at = excluded.at,
		employee_id = excluded.employee_id, role_name = excluded.role_name
	RETURNING * INTO f;
	RETURN pg_catalog.jsonb_build_object('code', f.code::text, 'store', f.store_id, 'rating', f.rating,
										 'comment', f.comment, 'at', f.at);
END
$$;
COMMENT ON FUNCTION icos.record_feedback(icos.order_code, int, text) IS
	'Records the customer''s rating (1-5) of an order and an optional comment (a note: at most 2000 characters, no card number); a second call replaces the first';

CREATE FUNCTION icos.feedback_report(from_ts timestamptz, to_ts timestamptz, store_id int DEFAULT NULL)
RETURNS TABLE(store_id int, store_name text, week date, ratings bigint, average numeric,
			  one bigint, two bigint, three bigint, four bigint, five bigint)
LANGUAGE sql STABLE
AS $$
	SELECT f.store_id, s.name,
		   pg_catalog.date_trunc('week', f.at AT TIME ZONE st.time_zone)::date,
		   count(*), round(avg(f.rating), 2),
		   count(*) FILTER (WHERE f.rating = 1), count(*) FILTER (WHERE f.rating = 2),
		   count(*) FILTER (WHERE f.rating = 3), count(*) FILTER (WHERE f.rating = 4),
		   count(*) FILTER (WHERE f.rating = 5)
	FROM icos.order_feedback f
	JOIN icos.store s ON s.store_id = f.store_id
	CROSS JOIN icos.sales_rollup_state st
	WHERE f.at >= $1 AND f.at < $2 AND ($3 IS NULL OR f.store_id = $3)
	GROUP BY 1, 2, 3
	ORDER BY 1, 3
$$;
COMMENT ON FUNCTION icos.feedback_report(timestamptz, timestamptz, int) IS
	'Ratings by store and week (Monday, in the reporting time zone) recorded in [from_ts, to_ts): how many, the average and how many of each; runs as its caller, so a store''s managers see their store (row-level security) and head office every store';

-- 5. Finding a customer ------------------------------------------------------

-- What a query asks for: an e-mail address, a phone number, or a postcode
-- (written with or without its space) and a part of the name.
CREATE FUNCTION icos._customer_query(p_query text, OUT email text, OUT phone text,
									 OUT postcodes text[], OUT name text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	q text := pg_catalog.btrim(icos._check_text(p_query, 'address_line', 'the query'));
	m text[];
BEGIN
	IF q IS NULL OR q = '' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the query is empty',
			HINT = 'Give an e-mail address, a phone number, or a postcode and a name.';
	END IF;
	IF pg_catalog.strpos(q, '@') > 0 THEN
		email := pg_catalog.lower(q);
		RETURN;
	END IF;
	IF icos._norm_phone(q) ~ '^\+?[0-9]{6,15}$' THEN
		phone := icos._norm_phone(q);
		RETURN;
	END IF;
	m := pg_catalog.regexp_match(pg_catalog.upper(q), '(^|\s)([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})(\s|$)');
	IF m IS NOT NULL THEN
		name := pg_catalog.btrim(pg_catalog.regexp_replace(q, '(^|\s)[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2}(\s|$)', ' '));
	END IF;
	IF m IS NULL OR name = '' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('cannot search customers by "%s"', q),
			HINT = 'Give an e-mail address, a phone number, or a postcode and a name (for example "LS1 6HD Walker").';
	END IF;
	postcodes := ARRAY[m[2] || ' ' || m[3], m[2] || m[3]];
	name := pg_catalog.lower(name);
END
$$;
COMMENT ON FUNCTION icos._customer_query(text) IS
	'internal: parses a icos.find_customers query into an e-mail address (it has @), a phone number (6 to 15 digits), or a UK postcode (both spellings) and a lower-case part of the name; 22023 otherwise';

-- Plain SQL, run as the caller: row-level security decides whom an agent
-- finds, and the planner inlines it, so EXPLAIN shows the index it uses.
CREATE FUNCTION icos.find_customers(query text) RETURNS SETOF jsonb
LANGUAGE sql STABLE ROWS 5
AS $$
	SELECT icos._customer_doc(f.customer_id)
	FROM (SELECT c.customer_id, c.name
		  FROM icos._customer_query($1) q JOIN icos.customer c ON c.email = q.email
		  UNION
		  SELECT c.customer_id, c.name
		  FROM icos._customer_query($1) q JOIN icos.customer c ON c.phone = q.phone
		  UNION
		  SELECT c.customer_id, c.name
		  FROM icos._customer_query($1) q
		  JOIN icos.customer_address a ON a.postcode = ANY (q.postcodes)
		  JOIN icos.customer c ON c.customer_id = a.customer_id
		  WHERE pg_catalog.strpos(pg_catalog.lower(c.name), q.name) > 0) f
	ORDER BY f.name, f.customer_id
	LIMIT 50
$$;
COMMENT ON FUNCTION icos.find_customers(text) IS
	'Customers matching an e-mail address, a phone number, or a postcode and part of the name, as customer documents (at most 50, by name); runs under row-level security: an agent finds the customers of its store, the call centre and head office everyone';

-- 6. Also bought -------------------------------------------------------------
--
-- Kept like the sales rollup (60_reports.sql): a change to which products an
-- order holds appends the order to the insert-only icos.basket_delta (a row
-- trigger, no shared row, so tills never wait for each other);
-- icos.rollup_baskets() folds the pending orders into icos.basket_pair in
-- one statement, comparing each order's products now with those it counted
-- for before (icos.basket_seen); icos.also_bought reads the folded pairs of
-- one product plus what the pending orders change, so its answer is exact
-- and current and never scans every line.

CREATE TABLE icos.basket_delta (
	code     icos.order_code NOT NULL,
	store_id int NOT NULL
);
COMMENT ON TABLE icos.basket_delta IS
	'Insert-only list of orders whose set of products changed since icos.rollup_baskets last ran (a trigger on icos.order_line writes it)';
COMMENT ON COLUMN icos.basket_delta.code IS 'The order';
COMMENT ON COLUMN icos.basket_delta.store_id IS 'The order''s selling store';

CREATE TABLE icos.basket_seen (
	code     icos.order_code NOT NULL,
	store_id int NOT NULL,
	upcs     icos.upc[] NOT NULL,
	PRIMARY KEY (code, store_id)
);
COMMENT ON TABLE icos.basket_seen IS
	'The distinct products (not cancelled) each order counted for in icos.basket_pair at the last fold';
COMMENT ON COLUMN icos.basket_seen.code IS 'The order';
COMMENT ON COLUMN icos.basket_seen.store_id IS 'The order''s selling store';
COMMENT ON COLUMN icos.basket_seen.upcs IS 'Its products, sorted, each once';

CREATE TABLE icos.basket_pair (
	upc      icos.upc NOT NULL,
	other    icos.upc NOT NULL,
	together bigint NOT NULL,
	PRIMARY KEY (upc, other)
);
COMMENT ON TABLE icos.basket_pair IS
	'Folded counts of orders holding both products (each pair in both directions), written only by icos.rollup_baskets';
COMMENT ON COLUMN icos.basket_pair.upc IS 'A product';
COMMENT ON COLUMN icos.basket_pair.other IS 'Another product';
COMMENT ON COLUMN icos.basket_pair.together IS 'Orders (lines not cancelled) holding both, as of the last fold';
-- None of the three is dumped: restoring icos.order_line fires the trigger
-- for every line, so every order is pending again and the next fold
-- rebuilds the pairs.

CREATE FUNCTION icos._basket_changed() RETURNS trigger
AS 'MODULE_PATHNAME', 'basket_delta_trigger'
LANGUAGE C;
COMMENT ON FUNCTION icos._basket_changed() IS
	'Trigger on icos.order_line (C, src/also_bought.c): the order''s set of products may have changed, so it is pending for icos.rollup_baskets; appends the order (once per order touched) to icos.basket_delta, depending on no search_path';
CREATE TRIGGER basket_delta_ins AFTER INSERT OR DELETE ON icos.order_line
	FOR EACH ROW EXECUTE FUNCTION icos._basket_changed();
CREATE TRIGGER basket_delta_upd AFTER UPDATE ON icos.order_line
	FOR EACH ROW
	WHEN ((OLD.status = 'cancelled') IS DISTINCT FROM (NEW.status = 'cancelled')
		  OR OLD.upc <> NEW.upc OR OLD.code <> NEW.code OR OLD.store_id <> NEW.store_id)
	EXECUTE FUNCTION icos._basket_changed();
-- Also on a node that receives the lines by logical replication (head office).
ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER basket_delta_ins;
ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER basket_delta_upd;
COMMENT ON TRIGGER basket_delta_ins ON icos.order_line IS
	'Also bought: a new or deleted line makes its order pending (fires under replication too)';
COMMENT ON TRIGGER basket_delta_upd ON icos.order_line IS
	'Also bought: a line cancelled, restored or re-keyed makes its order pending';
-- Orders placed before this version count once folded.
INSERT INTO icos.basket_delta (code, store_id) SELECT DISTINCT l.code, l.store_id FROM icos.order_line l;

-- Per pending order: its products now and those it counted for before;
-- given a product, only the orders that hold it or held it at the last
-- fold, found by one probe each of their lines' and their fold's keys
-- before any order's products are listed (icos.also_bought).
CREATE FUNCTION icos._basket_pending(p_upc icos.upc DEFAULT NULL)
RETURNS TABLE(code icos.order_code, store_id int, now_upcs icos.upc[], was_upcs icos.upc[])
LANGUAGE sql STABLE
AS $$
	SELECT d.code, d.store_id,
		   ARRAY(SELECT DISTINCT l.upc FROM icos.order_line l
				 WHERE l.code OPERATOR(pg_catalog.=) d.code AND l.store_id = d.store_id
				   AND l.status <> 'cancelled' ORDER BY 1),
		   -- one probe of the key per pending order: a join may hash every
		   -- order ever folded to find the few pending
		   coalesce((SELECT s.upcs FROM icos.basket_seen s
					 WHERE s.code OPERATOR(pg_catalog.=) d.code AND s.store_id = d.store_id), '{}')
	FROM (SELECT DISTINCT x.code, x.store_id FROM icos.basket_delta x) d
	WHERE p_upc IS NULL
	   OR EXISTS (SELECT 1 FROM icos.order_line l
				  WHERE l.code OPERATOR(pg_catalog.=) d.code AND l.store_id = d.store_id
					AND l.upc OPERATOR(pg_catalog.=) p_upc AND l.status <> 'cancelled')
	   OR EXISTS (SELECT 1 FROM icos.basket_seen s
				  WHERE s.code OPERATOR(pg_catalog.=) d.code AND s.store_id = d.store_id
					AND p_upc OPERATOR(pg_catalog.=) ANY (s.upcs))
$$;
COMMENT ON FUNCTION icos._basket_pending(icos.upc) IS
	'internal: each order pending in icos.basket_delta (holding or having held the product, when one is given) with its distinct products now and at the last fold (plain SQL: runs in its caller''s snapshot)';

CREATE FUNCTION icos.rollup_baskets() RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n_orders bigint;
	n_pairs  bigint;
BEGIN
	-- One fold at a time; order placement never takes this lock.
	PERFORM pg_catalog.pg_advisory_xact_lock(1768124275, 2);
	-- One statement, one snapshot: the pending orders it sees are folded and
	-- their deltas deleted; later deltas wait for the next fold.
	WITH p AS MATERIALIZED (
		SELECT * FROM icos._basket_pending()
	), d AS (
		SELECT a.u AS upc, b.u AS other, 1 AS n
		FROM p, pg_catalog.unnest(p.now_upcs) a(u), pg_catalog.unnest(p.now_upcs) b(u)
		WHERE a.u OPERATOR(pg_catalog.<>) b.u
		UNION ALL
		SELECT a.u, b.u, -1
		FROM p, pg_catalog.unnest(p.was_upcs) a(u), pg_catalog.unnest(p.was_upcs) b(u)
		WHERE a.u OPERATOR(pg_catalog.<>) b.u
	), up AS (
		INSERT INTO icos.basket_pair AS r (upc, other, together)
		SELECT d.upc, d.other, sum(d.n) FROM d GROUP BY d.upc, d.other HAVING sum(d.n) <> 0
		ON CONFLICT (upc, other) DO UPDATE SET together = r.together + excluded.together
		RETURNING 1
	), seen AS (
		INSERT INTO icos.basket_seen AS s (code, store_id, upcs)
		SELECT p.code, p.store_id, p.now_upcs FROM p
		ON CONFLICT (code, store_id) DO UPDATE SET upcs = excluded.upcs
		RETURNING 1
	), del AS (
		DELETE FROM icos.basket_delta RETURNING 1
	)
	SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM up) + 0 * (SELECT count(*) FROM seen)
		   + 0 * (SELECT count(*) FROM del)
	INTO n_orders, n_pairs;
	RETURN pg_catalog.jsonb_build_object('orders', n_orders, 'pairs', n_pairs);
END
$$;
COMMENT ON FUNCTION icos.rollup_baskets() IS
	'Folds the orders pending in icos.basket_delta into icos.basket_pair (run every few minutes with icos.rollup_sales); never blocks order placement; returns the orders folded and the pairs changed';

CREATE FUNCTION icos.also_bought(code icos.upc, k int DEFAULT 5)
RETURNS TABLE(upc icos.upc, name text, together bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM icos.product p WHERE p.upc OPERATOR(pg_catalog.=) $1) THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown product %s', coalesce($1::text, 'null'));
	END IF;
	IF $2 IS NULL OR $2 NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('k must be 1 to 100, not %s', coalesce($2::text, 'null'));
	END IF;
	RETURN QUERY
	WITH p AS MATERIALIZED (
		SELECT * FROM icos._basket_pending($1)
	), t AS (
		SELECT b.other AS u, b.together AS n FROM icos.basket_pair b WHERE b.upc OPERATOR(pg_catalog.=) $1
		UNION ALL
		SELECT o.u, 1 FROM p, pg_catalog.unnest(p.now_upcs) o(u)
		WHERE $1 OPERATOR(pg_catalog.=) ANY (p.now_upcs) AND o.u OPERATOR(pg_catalog.<>) $1
		UNION ALL
		SELECT o.u, -1 FROM p, pg_catalog.unnest(p.was_upcs) o(u)
		WHERE $1 OPERATOR(pg_catalog.=) ANY (p.was_upcs) AND o.u OPERATOR(pg_catalog.<>) $1
	)
	SELECT t.u, pr.name, sum(t.n)::bigint
	FROM t JOIN icos.product pr ON pr.upc OPERATOR(pg_catalog.=) t.u
	GROUP BY t.u, pr.name
	HAVING sum(t.n) > 0
	ORDER BY 3 DESC, 1
	LIMIT $2;
END
$$;
COMMENT ON FUNCTION icos.also_bought(icos.upc, int) IS
	'The k (1-100) products most often in the same orders as this one (lines not cancelled, every store of this node and, at head office, of every store), most first: the folded pairs plus the orders still pending';

-- 7. Erasure -----------------------------------------------------------------
--
-- Every node erases what it holds of her (docs/customers.md, "Erasure on
-- every node").  Her node (the one writer of her record) forgets her: her
-- record, addresses and change log, and the orders of its stores.  Those
-- changes replicate to head office (and through a hub) like any change of
-- hers; what replication does not carry (head office's copies of the order
-- event log, which replicates insert-only, and the orders of head office's
-- own stores) is erased where it is, by a trigger that fires when her
-- erasure row arrives.  Head office, asked to forget a customer of another
-- node, erases its own orders of hers and routes a request to her node.

-- Her orders' personal data on this node.  Orders, feedback and follow-ups
-- of this node's stores always; the order events of other nodes' stores
-- (copies received insert-only) only when p_copies, which the apply-time
-- trigger passes (the ownership guards do not fire there).
CREATE FUNCTION icos._erase_orders(p_id bigint, p_copies boolean, OUT orders_erased int, OUT orders_elsewhere int)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_catalog.set_config('icos.erasing', 'on', true);
	SELECT count(*) FILTER (WHERE s.node_id = icos.current_node()),
		   count(*) FILTER (WHERE s.node_id <> icos.current_node())
	INTO orders_erased, orders_elsewhere
	FROM icos.orders o JOIN icos.store s ON s.store_id = o.store_id
	WHERE o.customer_id = p_id;
	UPDATE icos.orders o
	SET delivery_address = CASE WHEN o.delivery_address IS NULL THEN NULL ELSE '{"erased": true}'::jsonb END,
		cancel_reason = CASE WHEN o.cancel_reason IS NULL THEN NULL ELSE 'erased' END
	FROM icos.store s
	WHERE o.customer_id = p_id AND s.store_id = o.store_id AND s.node_id = icos.current_node()
	  AND ((o.delivery_address IS NOT NULL AND o.delivery_address <> '{"erased": true}'::jsonb)
		   OR (o.cancel_reason IS NOT NULL AND o.cancel_reason <> 'erased'));
	UPDATE icos.order_event e
	SET note = CASE WHEN e.kind IN ('note', 'cancelled', 'returned', 'refund', 'status') THEN NULL ELSE e.note END,
		detail = e.detail - 'address' - 'customer'
	FROM icos.orders o JOIN icos.store s ON s.store_id = o.store_id
	WHERE o.customer_id = p_id AND (p_copies OR s.node_id = icos.current_node())
	  AND e.code OPERATOR(pg_catalog.=) o.code AND e.store_id = o.store_id
	  AND ((e.kind IN ('note', 'cancelled', 'returned', 'refund', 'status') AND e.note IS NOT NULL)
		   OR e.detail ? 'address' OR e.detail ? 'customer');
	UPDATE icos.order_feedback b SET comment = NULL
	FROM icos.orders o JOIN icos.store s ON s.store_id = o.store_id
	WHERE o.customer_id = p_id AND s.node_id = icos.current_node()
	  AND b.code OPERATOR(pg_catalog.=) o.code AND b.store_id = o.store_id AND b.comment IS NOT NULL;
	-- Her follow-ups, sent or not (icos.customer_message).
	DELETE FROM icos.customer_message m WHERE m.customer_id = p_id;
	PERFORM pg_catalog.set_config('icos.erasing', '', true);
END
$$;
COMMENT ON FUNCTION icos._erase_orders(bigint, boolean) IS
	'internal: removes the personal data of a customer''s orders held on this node (delivery address, cancellation reason, typed texts of events, feedback comments, follow-ups) of this node''s stores, and with p_copies also the event copies of other nodes'' orders; counts her orders of this node''s stores and of others';

-- Her node forgets her: the one writer of her record.
CREATE FUNCTION icos._forget_here(p_id bigint, p_reason text, p_employee int, p_store int, p_role text, p_copies boolean)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_at timestamptz := pg_catalog.clock_timestamp();
	v    record;
BEGIN
	PERFORM pg_catalog.set_config('icos.erasing', 'on', true);
	UPDATE icos.customer x SET name = 'forgotten customer', email = NULL, phone = NULL, updated_at = v_at
	WHERE x.customer_id = p_id;
	DELETE FROM icos.customer_address a WHERE a.customer_id = p_id;
	UPDATE icos.customer_event e SET changes = NULL WHERE e.customer_id = p_id AND e.changes IS NOT NULL;
	v := icos._erase_orders(p_id, p_copies);
	INSERT INTO icos.customer_erasure (customer_id, at, reason, employee_id, role_name, at_store,
									   orders_erased, orders_elsewhere)
	VALUES (p_id, v_at, p_reason, p_employee, p_role, p_store, v.orders_erased, v.orders_elsewhere);
	INSERT INTO icos.customer_event (customer_id, at, kind, fields, employee_id, role_name, at_store)
	VALUES (p_id, v_at, 'forgotten', ARRAY['name', 'email', 'phone', 'address', 'orders'], p_employee, p_role, p_store);
	PERFORM pg_catalog.set_config('icos.erasing', '', true);
	RETURN pg_catalog.jsonb_build_object('customer', p_id, 'forgotten_at', v_at,
										 'orders_erased', v.orders_erased, 'orders_elsewhere', v.orders_elsewhere);
END
$$;
COMMENT ON FUNCTION icos._forget_here(bigint, text, int, int, text, boolean) IS
	'internal: on her node, erases a customer (name, e-mail, phone, addresses, change-log values, her orders'' personal data) and logs it in icos.customer_erasure and icos.customer_event for the given employee, store and login role; both replicate to head office';

CREATE FUNCTION icos.forget_customer(customer_id bigint, reason text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p_id      bigint := $1;
	c         icos.customer;
	v_reason  text := icos._check_text(nullif(pg_catalog.btrim($2), ''), 'reason', 'the reason');
	v_done    record;
	v_at      timestamptz := pg_catalog.clock_timestamp();
BEGIN
	-- Managers and admins only: EXECUTE is granted to icos_manager alone.
	c := icos._customer_for_change(p_id, 'forget');
	IF v_reason IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a reason is needed to forget a customer',
			HINT = 'Say why, for example "erasure request received by letter on 3 May"; leave out her name and contact details.';
	END IF;
	-- The log of the erasure must not itself hold what it erased.
	IF EXISTS (SELECT 1 FROM pg_catalog.unnest(ARRAY[c.name, c.email, c.phone]
						|| ARRAY(SELECT x FROM icos.customer_address a,
									 LATERAL pg_catalog.unnest(ARRAY[a.line1, a.line2, a.postcode]) x
								 WHERE a.customer_id = p_id)) v(s)
			   WHERE pg_catalog.length(v.s) >= 3
				 AND pg_catalog.strpos(pg_catalog.lower(v_reason), pg_catalog.lower(v.s)) > 0) THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the reason holds the customer''s personal details',
			DETAIL = 'The reason is kept after the erasure, so it must not contain her name, e-mail, phone or address.',
			HINT = 'Say why without them, for example "erasure request received by letter on 3 May".';
	END IF;

	IF (p_id >> 40) = icos.current_node() THEN
		RETURN icos._forget_here(p_id, v_reason, icos._current_employee(), icos._current_store(),
								 pg_catalog.session_user()::text, false);
	END IF;
	-- Head office, for a customer of another node: its own orders of hers
	-- now, the rest by her node on the request's arrival.
	v_done := icos._erase_orders(p_id, false);
	INSERT INTO icos.customer_erasure_request (customer_id, from_node, to_node, at, reason, employee_id, at_store)
	VALUES (p_id, icos.current_node(), (p_id >> 40)::int, v_at, v_reason, icos._current_employee(), icos._current_store());
	RETURN pg_catalog.jsonb_build_object('customer', p_id, 'requested_at', v_at, 'node', p_id >> 40,
										 'orders_erased', v_done.orders_erased, 'orders_elsewhere', v_done.orders_elsewhere);
END
$$;
COMMENT ON FUNCTION icos.forget_customer(bigint, text) IS
	'Erasure (managers and admins) on every node: her node removes the customer''s name, e-mail, phone and addresses, the delivery address of her orders and every text typed about them (notes, reasons, feedback comments), unsent follow-ups, and blanks the values in her change log; every other node erases its copies when the erasure arrives; head office may ask her node (a routed request); orders, payments and reports keep their amounts; the erasure is logged with its reason, which may not hold her details';

-- Apply-time triggers: they fire only for rows that arrive by replication
-- (enabled ALWAYS, they return at once otherwise: a local erasure has done
-- the work, and a restore must not redo it), never fail the apply worker.
CREATE FUNCTION icos._erasure_requested() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_setting('session_replication_role') <> 'replica'
		OR NEW.to_node <> icos.current_node()
		OR NOT EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = NEW.customer_id)
		OR EXISTS (SELECT 1 FROM icos.customer_erasure x WHERE x.customer_id = NEW.customer_id) THEN
		RETURN NULL;
	END IF;
	BEGIN
		PERFORM icos._forget_here(NEW.customer_id, NEW.reason, NEW.employee_id, NEW.at_store, NEW.role_name, true);
	EXCEPTION WHEN OTHERS THEN
		-- An error here would stop the link for good; the request stays, and
		-- a manager of her node can forget her there.
		RAISE WARNING 'icos: could not forget customer % as head office asked: %', NEW.customer_id, SQLERRM;
	END;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._erasure_requested() IS
	'internal: apply-time trigger on icos.customer_erasure_request: on her node, forgets the customer head office asked to forget (a warning, never an error, when it cannot)';
CREATE TRIGGER customer_erasure_request_apply AFTER INSERT ON icos.customer_erasure_request
	FOR EACH ROW EXECUTE FUNCTION icos._erasure_requested();
ALTER TABLE icos.customer_erasure_request ENABLE ALWAYS TRIGGER customer_erasure_request_apply;
COMMENT ON TRIGGER customer_erasure_request_apply ON icos.customer_erasure_request IS
	'Erasure on every node: a request arriving at her node forgets her there';

CREATE FUNCTION icos._erasure_arrived() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_setting('session_replication_role') = 'replica' THEN
		BEGIN
			PERFORM icos._erase_orders(NEW.customer_id, true);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'icos: could not erase the copies of customer %''s orders: %', NEW.customer_id, SQLERRM;
		END;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._erasure_arrived() IS
	'internal: apply-time trigger on icos.customer_erasure: when a customer''s erasure arrives from her node, erases what this node holds of her orders (its stores'' orders, its copies of the order event log, follow-ups)';
CREATE TRIGGER customer_erasure_arrived AFTER INSERT ON icos.customer_erasure
	FOR EACH ROW EXECUTE FUNCTION icos._erasure_arrived();
ALTER TABLE icos.customer_erasure ENABLE ALWAYS TRIGGER customer_erasure_arrived;
COMMENT ON TRIGGER customer_erasure_arrived ON icos.customer_erasure IS
	'Erasure on every node: her erasure arriving from her node erases the copies here';

-- Privileges -----------------------------------------------------------------
-- (PUBLIC loses EXECUTE on every internal and SECURITY DEFINER function in
-- 90_security.sql, which runs last; the plain API functions here are
-- revoked explicitly and granted by role.)

REVOKE ALL ON icos.customer_event, icos.customer_consent, icos.customer_erasure, icos.order_feedback,
	icos.customer_erasure_request,
	icos.basket_delta, icos.basket_seen, icos.basket_pair
	FROM PUBLIC;
REVOKE ALL ON SEQUENCE icos.customer_event_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION icos.find_customers(text), icos.feedback_report(timestamptz, timestamptz, int) FROM PUBLIC;

-- Reads under row-level security: an agent its store's customers' consents
-- (find_customers shows them) and its store's feedback; head office all.
GRANT SELECT ON icos.customer_consent, icos.customer_erasure, icos.order_feedback TO icos_agent;
GRANT SELECT ON icos.customer_event, icos.customer_consent, icos.customer_erasure, icos.order_feedback,
	icos.customer_erasure_request
	TO icos_reporter;
-- The reporting time zone of feedback_report (not a secret).
GRANT SELECT (time_zone) ON icos.sales_rollup_state TO icos_agent;

GRANT EXECUTE ON FUNCTION icos._at_call_centre(), icos._customer_query(text), icos._customer_doc(bigint), icos._customer_readable(bigint),
	icos._customer_consents(bigint), icos._customer_address(bigint), icos._check_text(text, text, text),
	icos._norm_phone(text)
	TO icos_agent, icos_reporter;
GRANT EXECUTE ON FUNCTION icos.update_customer(bigint, jsonb), icos.set_consent(bigint, text, boolean),
	icos.find_customers(text), icos.record_feedback(icos.order_code, int, text), icos.also_bought(icos.upc, int)
	TO icos_agent;
GRANT EXECUTE ON FUNCTION icos.customer_export(bigint), icos.forget_customer(bigint, text),
	icos.feedback_report(timestamptz, timestamptz, int)
	TO icos_manager;
GRANT EXECUTE ON FUNCTION icos.feedback_report(timestamptz, timestamptz, int), icos.also_bought(icos.upc, int)
	TO icos_reporter;
GRANT EXECUTE ON FUNCTION icos.rollup_baskets() TO icos_admin;
