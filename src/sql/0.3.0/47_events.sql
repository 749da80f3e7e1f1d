-- icos 0.3.0: order events announced (docs/integration.md, "Order events").
--
-- Every row that lands in icos.order_event, the order event log, is
-- announced with NOTIFY icos_order_events.  The one place is a trigger on
-- the log itself, so every writer (place_order's C path, the edit, cancel,
-- note, fulfilment and return functions, and the replication apply worker)
-- announces alike.  Listeners hear of an event when the transaction that
-- wrote it commits, and never of one rolled back.
--
-- How (src/announce.c): with icos in shared_preload_libraries, the writing
-- transaction hands the payloads to a background worker of the database,
-- the announcer, which sends them just after the commit in a transaction
-- of its own; a NOTIFY in the writing transaction would serialise the
-- commits of every order.  Without the preload, or when no worker can run,
-- the writing transaction sends them itself.
--
-- Replication: the trigger is enabled ALWAYS, so it fires in the apply
-- worker too.  Each node announces every event that lands in its own log:
-- a store node its stores' events as they happen, a hub and head office the
-- same events again when they arrive there (a table copy at a link's start
-- or a re-seed announces each copied row).  The notification is only the
-- doorbell; the log is what a consumer reads, and catches up from.

CREATE FUNCTION icos._order_event_announce() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'icos_order_event_announce';
COMMENT ON FUNCTION icos._order_event_announce() IS
	'Trigger: announces a new row of icos.order_event on channel icos_order_events, payload {"code": ..., "kind": ..., "at": ... (UTC), "store": n}, when the writing transaction commits (by the icos announcer worker when icos is preloaded)';

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
