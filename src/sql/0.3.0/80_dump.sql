-- icos 0.3.0: what pg_dump keeps (docs/backup.md).
--
-- The tables of an extension are not dumped unless registered with
-- pg_extension_config_dump; then pg_dump writes their rows (those the
-- filter selects) and pg_restore loads them into the tables a new
-- CREATE EXTENSION made.  0.1.0 and 0.2.0 registered the node, order-code,
-- customer, employee and order tables; this registers the rest of the data
-- a business keeps: the catalogue, stock and its ledger, holds, promotions,
-- head office's edits of the change rules, and the sequences whose values
-- ids are made of.  Not dumped: what a restore rebuilds (icos.sales_delta
-- refills from the restored order lines and icos.sales_rollup with
-- icos.rebuild_sales_rollup()), what the extension ships unchanged (the
-- change kinds and the change rules as shipped), and the messages that
-- replication carries between nodes and carries again once a restored node
-- is linked back (stock requests and answers, heartbeats; their id sequence
-- is dumped so that a restored node never reuses an id).

SELECT pg_catalog.pg_extension_config_dump('icos.store', '');
SELECT pg_catalog.pg_extension_config_dump('icos.category', '');
SELECT pg_catalog.pg_extension_config_dump('icos.product', '');
SELECT pg_catalog.pg_extension_config_dump('icos.promotion', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_item', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_slot', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_movement', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_movement_seq', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_hold', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_hold_seq', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_availability', '');
SELECT pg_catalog.pg_extension_config_dump('icos.stock_request_seq', '');
-- Head office's settings (20_stock.sql), VAT rates (42_vat.sql) and its
-- record of the node tree (70_replication.sql).
SELECT pg_catalog.pg_extension_config_dump('icos.setting', '');
SELECT pg_catalog.pg_extension_config_dump('icos.vat_rate', '');
SELECT pg_catalog.pg_extension_config_dump('icos.node_tree', '');

-- The change rules as shipped, to dump only head office's edits ------------

CREATE TABLE icos.change_rule_shipped (
	status      icos.order_status NOT NULL,
	change_kind text NOT NULL,
	allowed     boolean NOT NULL,
	reason      text,
	PRIMARY KEY (status, change_kind)
);
COMMENT ON TABLE icos.change_rule_shipped IS
	'The rows of icos.change_rule as this version of the extension made them, so that a dump holds only the rows head office changed (a version that changes a shipped rule changes it here too)';
COMMENT ON COLUMN icos.change_rule_shipped.status IS 'As icos.change_rule.status';
COMMENT ON COLUMN icos.change_rule_shipped.change_kind IS 'As icos.change_rule.change_kind';
COMMENT ON COLUMN icos.change_rule_shipped.allowed IS 'As shipped';
COMMENT ON COLUMN icos.change_rule_shipped.reason IS 'As shipped';

-- A new CREATE EXTENSION wrote every rule in this transaction: those are
-- the shipped ones.  An updated installation cannot tell head office's
-- edits of 0.2.0 from the rules as shipped, so it keeps none here and every
-- rule is dumped, which restores the same.
INSERT INTO icos.change_rule_shipped (status, change_kind, allowed, reason)
SELECT r.status, r.change_kind, r.allowed, r.reason
FROM icos.change_rule r
WHERE r.xmin OPERATOR(pg_catalog.=) pg_catalog.xid(pg_catalog.pg_current_xact_id());

SELECT pg_catalog.pg_extension_config_dump('icos.change_rule',
	'WHERE NOT EXISTS (SELECT FROM icos.change_rule_shipped s'
	' WHERE s.status = change_rule.status AND s.change_kind = change_rule.change_kind'
	' AND s.allowed = change_rule.allowed AND s.reason IS NOT DISTINCT FROM change_rule.reason)');

-- A restored rule replaces the one CREATE EXTENSION made (only the owner
-- inserts rules; head office updates allowed and reason).
CREATE FUNCTION icos._config_replace_key() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cols text[] := TG_ARGV;
BEGIN
	EXECUTE pg_catalog.format('DELETE FROM %I.%I t WHERE (%s) = (%s)', TG_TABLE_SCHEMA, TG_TABLE_NAME,
		(SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', c), ', ') FROM pg_catalog.unnest(v_cols) c),
		(SELECT pg_catalog.string_agg(pg_catalog.format('($1).%I', c), ', ') FROM pg_catalog.unnest(v_cols) c))
	USING NEW;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION icos._config_replace_key() IS
	'icos (internal): BEFORE INSERT row trigger that makes an inserted row replace the row with the same key (the trigger''s arguments name the key columns), so a restored dump wins over the rows CREATE EXTENSION made';
REVOKE ALL ON FUNCTION icos._config_replace_key() FROM PUBLIC;

CREATE TRIGGER change_rule_replace_row BEFORE INSERT ON icos.change_rule
	FOR EACH ROW EXECUTE FUNCTION icos._config_replace_key('status', 'change_kind');
COMMENT ON TRIGGER change_rule_replace_row ON icos.change_rule IS
	'An inserted rule replaces the rule for the same status and kind (restores from pg_dump)';
