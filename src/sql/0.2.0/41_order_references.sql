-- icos 0.2.0: the foreign keys of the order tables.
--
-- An order of three lines paid once writes 14 rows that refer to a store, a
-- product or the order.  A declarative foreign key checks each with a
-- locking query (an executor run and a FOR KEY SHARE lock on the store's or
-- product's row, which every till of the store takes at once); those checks
-- were a sixth of the server's work per order.  These references are kept
-- by C triggers instead (src/refcheck.c), with the same guarantee: no row
-- refers to a store, product or order that does not exist.  Writing a row
-- probes the parent's unique index without locking the parent; the rare
-- deletion (or key change, or TRUNCATE) of a parent first takes a SHARE
-- lock on the referring table, so it waits for every order being written
-- and then sees it.  The errors are a foreign key's: 23503 naming the
-- constraint.  Customers, stock, holds and the catalogue keep declarative
-- foreign keys.  A transaction probes each key once: a later row with a
-- key a probe of the same transaction found skips its probe, until the
-- transaction removes a parent row (the guard, and icos._ref_forget when
-- session_replication_role keeps the guard off), rolls a subtransaction
-- back, or ends; src/refcheck.c explains why that is safe.
--
-- icos._ref_fkey(constraint, referring table, its columns, parent, its key)
-- makes the triggers of one reference (both sides and TRUNCATE).

CREATE FUNCTION icos._ref_check() RETURNS trigger
AS 'MODULE_PATHNAME', 'ref_check'
LANGUAGE C;
COMMENT ON FUNCTION icos._ref_check() IS
	'Foreign key check by an index probe, without a row lock (AFTER INSERT OR UPDATE row trigger of the referring table); arguments: constraint, parent table, its key columns, this table''s columns';

CREATE FUNCTION icos._ref_guard() RETURNS trigger
AS 'MODULE_PATHNAME', 'ref_guard'
LANGUAGE C;
COMMENT ON FUNCTION icos._ref_guard() IS
	'Refuses to delete, re-key or truncate a parent row still referred to, after locking the referring table SHARE (AFTER DELETE OR UPDATE row trigger, BEFORE TRUNCATE statement trigger of the parent); arguments: constraint, referring table, its columns, this table''s key columns';

CREATE FUNCTION icos._ref_forget() RETURNS trigger
AS 'MODULE_PATHNAME', 'ref_forget'
LANGUAGE C;
COMMENT ON FUNCTION icos._ref_forget() IS
	'Forgets the keys this transaction''s foreign key probes found, after a parent row was deleted, re-keyed or truncated (AFTER statement trigger of the parent, enabled ALWAYS)';

CREATE FUNCTION icos._ref_fkey(p_name text, p_table text, p_columns text, p_parent text, p_key text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OF %s ON icos.%I FOR EACH ROW'
				   ' EXECUTE FUNCTION icos._ref_check(%L, %L, %L, %L)',
				   p_name, p_columns, p_table, p_name, p_parent, p_key, p_columns);
	EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', p_name, p_table,
				   format('Foreign key (%s) to icos.%s (%s), checked without locking the parent (icos._ref_check)',
						  p_columns, p_parent, p_key));
	EXECUTE format('CREATE TRIGGER %I AFTER DELETE OR UPDATE OF %s ON icos.%I FOR EACH ROW'
				   ' EXECUTE FUNCTION icos._ref_guard(%L, %L, %L, %L)',
				   p_name, p_key, p_parent, p_name, p_table, p_columns, p_key);
	EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', p_name, p_parent,
				   format('A row of icos.%s refers to is not deleted or re-keyed (foreign key %s)',
						  p_table, p_name));
	EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON icos.%I FOR EACH STATEMENT'
				   ' EXECUTE FUNCTION icos._ref_guard(%L, %L, %L, %L)',
				   p_name || '_truncate', p_parent, p_name, p_table, p_columns, p_key);
	EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', p_name || '_truncate', p_parent,
				   format('Not emptied while icos.%s has rows (foreign key %s)', p_table, p_name));
	-- Also in a replica session, where the guard does not fire: a probe of
	-- this transaction may have found a row this statement removed.
	EXECUTE format('CREATE TRIGGER %I AFTER DELETE OR UPDATE OF %s OR TRUNCATE ON icos.%I'
				   ' FOR EACH STATEMENT EXECUTE FUNCTION icos._ref_forget()',
				   p_name || '_forget', p_key, p_parent);
	EXECUTE format('ALTER TABLE icos.%I ENABLE ALWAYS TRIGGER %I', p_parent, p_name || '_forget');
	EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', p_name || '_forget', p_parent,
				   format('This transaction''s probes for foreign key %s may no longer hold (icos._ref_forget)',
						  p_name));
END;
$$;
COMMENT ON FUNCTION icos._ref_fkey(text, text, text, text, text) IS
	'Makes the triggers of one foreign key kept by icos._ref_check and icos._ref_guard (used by the extension script)';

SELECT icos._ref_fkey('orders_store_id_fkey', 'orders', 'store_id', 'store', 'store_id');
SELECT icos._ref_fkey('orders_collect_store_fkey', 'orders', 'collect_store', 'store', 'store_id');
SELECT icos._ref_fkey('order_line_upc_fkey', 'order_line', 'upc', 'product', 'upc');
SELECT icos._ref_fkey('order_line_fulfil_from_fkey', 'order_line', 'fulfil_from', 'store', 'store_id');
SELECT icos._ref_fkey('order_line_store_id_code_fkey', 'order_line', 'store_id, code', 'orders', 'store_id, code');
SELECT icos._ref_fkey('order_payment_store_id_code_fkey', 'order_payment', 'store_id, code', 'orders', 'store_id, code');
SELECT icos._ref_fkey('order_event_store_id_code_fkey', 'order_event', 'store_id, code', 'orders', 'store_id, code');
