-- icos 0.2.0: the placement fast path's caches (src/lookup.c).  Each
-- backend keeps the stores, its employee, the products' placement flags
-- and the payment change rule it has read; these triggers tell every
-- backend when one of those tables changed (a relcache invalidation of the
-- table: at once in this backend, at commit in the others).  icos.product
-- already sends one (its promotion_changed triggers, 50_promotions.sql).

-- The trigger of every per-backend cache that follows a table (these, and
-- price_basket's in 50_promotions.sql): a relcache invalidation of the table.
CREATE FUNCTION icos._table_changed() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'table_changed';
COMMENT ON FUNCTION icos._table_changed() IS
	'trigger function: marks every backend''s caches read from the table stale (relcache invalidation of the table): price_basket''s promotion index and product cache, the placement look-ups';

CREATE TRIGGER lookup_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.store
	FOR EACH STATEMENT EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed ON icos.store IS
	'place_order caches stores (name, kind, node) per backend: empty those caches when a store changes';
CREATE TRIGGER lookup_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.employee
	FOR EACH STATEMENT EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed ON icos.employee IS
	'place_order caches the session''s employee and store per backend: forget it when employees change';
CREATE TRIGGER lookup_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.change_rule
	FOR EACH STATEMENT EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed ON icos.change_rule IS
	'place_order caches whether payments are allowed while awaiting payment: forget it when the rules change';

-- As for promotions: the replication apply worker runs as a replica session
-- and fires row triggers only, so the statement triggers fire always and a
-- row trigger does the same for replica sessions.
ALTER TABLE icos.store ENABLE ALWAYS TRIGGER lookup_changed;
ALTER TABLE icos.employee ENABLE ALWAYS TRIGGER lookup_changed;
ALTER TABLE icos.change_rule ENABLE ALWAYS TRIGGER lookup_changed;
CREATE TRIGGER lookup_changed_apply AFTER INSERT OR UPDATE OR DELETE ON icos.store
	FOR EACH ROW EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed_apply ON icos.store IS
	'fires in replica sessions only: the replication apply worker fires no statement trigger, so this one empties place_order''s per-backend store caches';
CREATE TRIGGER lookup_changed_apply AFTER INSERT OR UPDATE OR DELETE ON icos.employee
	FOR EACH ROW EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed_apply ON icos.employee IS
	'fires in replica sessions only: the replication apply worker fires no statement trigger, so this one empties place_order''s per-backend employee caches';
CREATE TRIGGER lookup_changed_apply AFTER INSERT OR UPDATE OR DELETE ON icos.change_rule
	FOR EACH ROW EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed_apply ON icos.change_rule IS
	'fires in replica sessions only: the replication apply worker fires no statement trigger, so this one empties place_order''s per-backend change rule caches';
ALTER TABLE icos.store ENABLE REPLICA TRIGGER lookup_changed_apply;
ALTER TABLE icos.employee ENABLE REPLICA TRIGGER lookup_changed_apply;
ALTER TABLE icos.change_rule ENABLE REPLICA TRIGGER lookup_changed_apply;
