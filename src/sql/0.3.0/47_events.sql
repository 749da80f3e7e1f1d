-- icos 0.3.0: order events announced (docs/integration.md, "Order events").
--
-- Every row that lands in icos.order_event, the order event log, is
-- announced with NOTIFY icos_order_events.  The one place is a trigger on
-- the log itself, so every writer (place_order's C path, the edit, cancel,
-- note, fulfilment and return functions, and the replication apply worker)
-- announces alike.  NOTIFY is transactional: listeners hear of an event when
-- the transaction that wrote it commits, and never of one rolled back.
--
-- Replication: the trigger is enabled ALWAYS, so it fires in the apply
-- worker too.  Each node announces every event that lands in its own log:
-- a store node its stores' events as they happen, a hub and head office the
-- same events again when they arrive there (a table copy at a link's start
-- or a re-seed announces each copied row).  The notification is only the
-- doorbell; the log is what a consumer reads, and catches up from.

CREATE FUNCTION icos._order_event_announce() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- The payload of API.md, keys in its order; "at" in UTC with
	-- microseconds, whatever the writing session's TimeZone.
	PERFORM pg_catalog.pg_notify('icos_order_events',
		pg_catalog.format('{"code": %s, "kind": %s, "at": %s, "store": %s}',
			pg_catalog.to_json(NEW.code::text), pg_catalog.to_json(NEW.kind::text),
			pg_catalog.to_json(pg_catalog.to_char(NEW.at AT TIME ZONE 'UTC',
												  'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
			NEW.store_id));
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._order_event_announce() IS
	'Trigger: announces a new row of icos.order_event with NOTIFY icos_order_events, payload {"code": ..., "kind": ..., "at": ... (UTC), "store": n}, delivered when the writing transaction commits';

CREATE TRIGGER order_event_announce AFTER INSERT ON icos.order_event
	FOR EACH ROW EXECUTE FUNCTION icos._order_event_announce();
-- Also in the apply worker: a node announces the events it receives.
ALTER TABLE icos.order_event ENABLE ALWAYS TRIGGER order_event_announce;
COMMENT ON TRIGGER order_event_announce ON icos.order_event IS
	'Announces every event that lands in this node''s log, written here or received by replication (enabled ALWAYS), on channel icos_order_events after commit';

-- Consumers read the log by time: the newest events, or those since the
-- last one they handled (icos events, docs/integration.md).
CREATE INDEX order_event_at ON icos.order_event (at);
COMMENT ON INDEX icos.order_event_at IS
	'Reading the order event log by time: the newest events, or those since a point (catching up after a disconnect)';
