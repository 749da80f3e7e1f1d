-- icos 0.3.0: follow-ups, an outbox a mail or SMS sender reads
-- (docs/customers.md, "Follow-ups").  A trigger on icos.orders queues a
-- message per channel the customer consented to when her order is
-- dispatched, ready for collection, or completed (a feedback request some
-- days later); a sender claims due messages (FOR UPDATE SKIP LOCKED: two
-- senders never claim the same one), sends them and marks each one sent.
-- Messages hold no contact detail: the sender gets her e-mail address or
-- phone number when it claims, as they are then.  Node-local: each node
-- queues the follow-ups of its own stores' orders.

DO $roles$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'icos_sender') THEN
		CREATE ROLE icos_sender NOLOGIN;
	END IF;
END
$roles$;

CREATE SEQUENCE icos.customer_message_seq;
COMMENT ON SEQUENCE icos.customer_message_seq IS 'Numbers of follow-up messages (node-local: the outbox does not replicate)';

CREATE TABLE icos.customer_message (
	message_id  bigint PRIMARY KEY DEFAULT pg_catalog.nextval('icos.customer_message_seq'),
	customer_id bigint NOT NULL REFERENCES icos.customer,
	store_id    int NOT NULL,
	code        icos.order_code NOT NULL,
	kind        text NOT NULL CHECK (kind IN ('dispatched', 'ready_for_collection', 'feedback_request')),
	channel     text NOT NULL CHECK (channel IN ('email', 'sms')),
	due_at      timestamptz NOT NULL,
	queued_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	claimed_at  timestamptz,
	claimed_by  text,
	attempts    int NOT NULL DEFAULT 0,
	sent_at     timestamptz,
	dropped     text CHECK (dropped IN ('no consent', 'no contact', 'feedback given', 'order cancelled')),
	UNIQUE (code, store_id, kind, channel),
	FOREIGN KEY (store_id, code) REFERENCES icos.orders (store_id, code)
);
COMMENT ON TABLE icos.customer_message IS
	'The follow-ups outbox: one message per order, kind and channel (so each is sent once), queued for customers who consented to the channel, claimed and marked sent by a mail or SMS sender (icos.claim_messages, icos.message_sent); deleted when the customer is forgotten';
COMMENT ON COLUMN icos.customer_message.message_id IS 'The message';
COMMENT ON COLUMN icos.customer_message.customer_id IS 'To whom (her contact details are read when the message is claimed)';
COMMENT ON COLUMN icos.customer_message.store_id IS 'The order''s selling store';
COMMENT ON COLUMN icos.customer_message.code IS 'The order it is about';
COMMENT ON COLUMN icos.customer_message.kind IS 'dispatched, ready_for_collection, or feedback_request (due some days after completion)';
COMMENT ON COLUMN icos.customer_message.channel IS 'email or sms: a channel she consented to (icos.set_consent)';
COMMENT ON COLUMN icos.customer_message.due_at IS 'Not to be sent before';
COMMENT ON COLUMN icos.customer_message.queued_at IS 'When it was queued';
COMMENT ON COLUMN icos.customer_message.claimed_at IS 'When a sender last claimed it (the claim lapses after the lease it asked for)';
COMMENT ON COLUMN icos.customer_message.claimed_by IS 'Login role of that sender';
COMMENT ON COLUMN icos.customer_message.attempts IS 'How many times it was claimed';
COMMENT ON COLUMN icos.customer_message.sent_at IS 'When the sender marked it sent (null: not yet)';
COMMENT ON COLUMN icos.customer_message.dropped IS 'Why it will not be sent: consent withdrawn, contact detail removed, feedback given already, order cancelled (null: to send or sent)';
CREATE INDEX customer_message_due_idx ON icos.customer_message (channel, due_at)
	WHERE sent_at IS NULL AND dropped IS NULL;
COMMENT ON INDEX icos.customer_message_due_idx IS 'icos.claim_messages: the messages still to send, by channel and due time';
CREATE INDEX customer_message_customer_idx ON icos.customer_message (customer_id);
COMMENT ON INDEX icos.customer_message_customer_idx IS 'Erasure deletes a customer''s messages';
SELECT pg_catalog.pg_extension_config_dump('icos.customer_message', '');
SELECT pg_catalog.pg_extension_config_dump('icos.customer_message_seq', '');

-- Whether a message may go to her now: the one rule the queue and the
-- claim share.
CREATE FUNCTION icos._message_contact(p_customer bigint, p_channel text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE p_channel WHEN 'email' THEN c.email WHEN 'sms' THEN c.phone END
	FROM icos.customer c
	WHERE c.customer_id = p_customer
	  AND coalesce((icos._customer_consents(p_customer) ->> p_channel)::boolean, false)
	  AND NOT icos._customer_forgotten(p_customer)
$$;
COMMENT ON FUNCTION icos._message_contact(bigint, text) IS
	'internal: her e-mail address (channel email) or phone number (sms) when she consents to that channel now and is not forgotten; null otherwise';

CREATE FUNCTION icos._message_drop(m icos.customer_message) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN EXISTS (SELECT 1 FROM icos.orders o WHERE o.code OPERATOR(pg_catalog.=) m.code
					 AND o.store_id = m.store_id AND o.status = 'cancelled') THEN 'order cancelled'
		WHEN m.kind = 'feedback_request' AND EXISTS (
			SELECT 1 FROM icos.order_feedback f WHERE f.code OPERATOR(pg_catalog.=) m.code AND f.store_id = m.store_id)
			THEN 'feedback given'
		WHEN NOT coalesce((icos._customer_consents(m.customer_id) ->> m.channel)::boolean, false) THEN 'no consent'
		WHEN icos._message_contact(m.customer_id, m.channel) IS NULL THEN 'no contact'
	END
$$;
COMMENT ON FUNCTION icos._message_drop(icos.customer_message) IS
	'internal: why a queued message must not go out now (order cancelled, feedback given, no consent, no contact), or null';

CREATE FUNCTION icos._queue_messages() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_kind text := CASE NEW.status WHEN 'completed' THEN 'feedback_request' ELSE NEW.status END;
BEGIN
	-- A restore loads the orders by COPY: their follow-ups were queued (and
	-- sent) when they happened, and come back with icos.customer_message.
	IF pg_catalog.current_query() ~* '^\s*copy\s' THEN
		RETURN NULL;
	END IF;
	INSERT INTO icos.customer_message (customer_id, store_id, code, kind, channel, due_at)
	SELECT NEW.customer_id, NEW.store_id, NEW.code, v_kind, ch.c,
		   pg_catalog.clock_timestamp()
		   + CASE v_kind WHEN 'feedback_request' THEN interval '3 days' ELSE interval '0' END
	FROM pg_catalog.unnest(ARRAY['email', 'sms']) ch(c)
	WHERE icos._message_contact(NEW.customer_id, ch.c) IS NOT NULL
	ON CONFLICT (code, store_id, kind, channel) DO NOTHING;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._queue_messages() IS
	'internal: trigger on icos.orders: an order of a customer reaching dispatched, ready_for_collection or completed queues, per channel she consented to, the message of that step (a feedback request 3 days after completion); once per order, step and channel; nothing for the rows a COPY loads (a restore)';
CREATE TRIGGER orders_queue_messages_ins AFTER INSERT ON icos.orders
	FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL
					   AND NEW.status IN ('dispatched', 'ready_for_collection', 'completed'))
	EXECUTE FUNCTION icos._queue_messages();
CREATE TRIGGER orders_queue_messages_upd AFTER UPDATE OF status ON icos.orders
	FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status
					   AND NEW.status IN ('dispatched', 'ready_for_collection', 'completed'))
	EXECUTE FUNCTION icos._queue_messages();
COMMENT ON TRIGGER orders_queue_messages_ins ON icos.orders IS
	'Follow-ups: an order placed completed (a till sale to a known customer) queues its feedback request';
COMMENT ON TRIGGER orders_queue_messages_upd ON icos.orders IS
	'Follow-ups: an order dispatched, ready for collection or completed queues its message';

CREATE FUNCTION icos.claim_messages(channel text, max_messages int DEFAULT 20, lease interval DEFAULT '10 minutes')
RETURNS TABLE(message_id bigint, kind text, via text, recipient text, customer_name text,
			  code text, store_name text, queued_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p_channel text := $1;
BEGIN
	IF p_channel IS NULL OR p_channel NOT IN ('email', 'sms') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown channel "%s"', coalesce(p_channel, 'null')),
			HINT = 'A sender claims the email or the sms messages.';
	END IF;
	IF $2 IS NULL OR $2 NOT BETWEEN 1 AND 1000 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('max_messages must be 1 to 1000, not %s', coalesce($2::text, 'null'));
	END IF;
	IF $3 IS NULL OR $3 < interval '10 seconds' OR $3 > interval '1 day' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('the lease must be 10 seconds to 1 day, not %s', coalesce($3::text, 'null')),
			HINT = 'Claim for as long as sending a batch takes; what is not marked sent by then may be claimed again.';
	END IF;
	-- Messages that may no longer go out are dropped, never claimed; what
	-- another sender holds is skipped, so two senders never claim one message.
	UPDATE icos.customer_message m SET dropped = icos._message_drop(m)
	WHERE m.message_id IN (
		SELECT x.message_id FROM icos.customer_message x
		WHERE x.channel = p_channel AND x.sent_at IS NULL AND x.dropped IS NULL
		  AND x.due_at <= pg_catalog.clock_timestamp()
		  AND (x.claimed_at IS NULL OR x.claimed_at < pg_catalog.clock_timestamp() - $3)
		  AND icos._message_drop(x) IS NOT NULL
		FOR UPDATE OF x SKIP LOCKED);
	RETURN QUERY
	WITH c AS (
		SELECT m.message_id FROM icos.customer_message m
		WHERE m.channel = p_channel AND m.sent_at IS NULL AND m.dropped IS NULL
		  AND m.due_at <= pg_catalog.clock_timestamp()
		  AND (m.claimed_at IS NULL OR m.claimed_at < pg_catalog.clock_timestamp() - $3)
		  AND icos._message_drop(m) IS NULL
		ORDER BY m.due_at, m.message_id
		LIMIT $2
		FOR UPDATE OF m SKIP LOCKED
	), u AS (
		UPDATE icos.customer_message m
		SET claimed_at = pg_catalog.clock_timestamp(), claimed_by = pg_catalog.session_user(), attempts = m.attempts + 1
		FROM c WHERE m.message_id = c.message_id
		RETURNING m.*
	)
	SELECT u.message_id, u.kind, u.channel, icos._message_contact(u.customer_id, u.channel), cu.name,
		   u.code::text, s.name, u.queued_at
	FROM u JOIN icos.customer cu ON cu.customer_id = u.customer_id
	JOIN icos.store s ON s.store_id = u.store_id
	ORDER BY u.due_at, u.message_id;
END
$$;
COMMENT ON FUNCTION icos.claim_messages(text, int, interval) IS
	'For a mail or SMS sender (icos_sender): claims up to max_messages due messages of a channel (email or sms) for the lease, skipping those another sender holds, and returns each with her address or number and name as they are now; messages whose consent was withdrawn, whose order was cancelled or whose feedback was given are dropped instead';

CREATE FUNCTION icos.message_sent(message_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m icos.customer_message;
BEGIN
	SELECT * INTO m FROM icos.customer_message x WHERE x.message_id = $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown message %s', coalesce($1::text, 'null')),
			HINT = 'Its customer may have been forgotten since it was claimed: do not send it again.';
	END IF;
	IF m.sent_at IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'IC002',
			MESSAGE = pg_catalog.format('message %s was marked sent already', $1),
			DETAIL = pg_catalog.format('It was marked sent at %s.', m.sent_at);
	END IF;
	IF m.claimed_by IS DISTINCT FROM pg_catalog.session_user()::text THEN
		RAISE EXCEPTION USING ERRCODE = 'IC002',
			MESSAGE = pg_catalog.format('message %s is not claimed by you', $1),
			DETAIL = 'A sender marks sent only the messages it claimed, before its lease runs out.',
			HINT = 'Claim messages with icos.claim_messages.';
	END IF;
	UPDATE icos.customer_message x SET sent_at = pg_catalog.clock_timestamp()
	WHERE x.message_id = $1 RETURNING * INTO m;
	RETURN pg_catalog.jsonb_build_object('message', m.message_id, 'sent_at', m.sent_at);
END
$$;
COMMENT ON FUNCTION icos.message_sent(bigint) IS
	'For a mail or SMS sender: marks a message it claimed as sent (once: IC002 when it was marked already or is not its claim; IC004 when it is gone, its customer forgotten)';

ALTER TABLE icos.customer_message ENABLE ROW LEVEL SECURITY;
CREATE POLICY customer_message_by_customer ON icos.customer_message FOR SELECT
	USING (EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = customer_message.customer_id));
COMMENT ON POLICY customer_message_by_customer ON icos.customer_message IS 'Messages of the customers the reader may see';
REVOKE ALL ON icos.customer_message FROM PUBLIC;
REVOKE ALL ON SEQUENCE icos.customer_message_seq FROM PUBLIC;
GRANT SELECT ON icos.customer_message TO icos_reporter;
GRANT USAGE ON SCHEMA icos TO icos_sender;
GRANT EXECUTE ON FUNCTION icos.claim_messages(text, int, interval), icos.message_sent(bigint) TO icos_sender;
