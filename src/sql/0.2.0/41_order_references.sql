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
-- icos._ref_fkeys(referring table, references) makes the triggers of the
-- references of one table: for each, the guards on the parent (deletion or
-- key change, TRUNCATE) and the forgetting trigger, and one check trigger on
-- the table for all of them (one trigger event per row written rather than
-- one per reference; the checks run in the order of the constraints' names,
-- as separate triggers would fire).

CREATE FUNCTION icos._ref_check() RETURNS trigger
AS 'MODULE_PATHNAME', 'ref_check'
LANGUAGE C;
COMMENT ON FUNCTION icos._ref_check() IS
	'Foreign key checks by index probes, without a row lock (AFTER INSERT OR UPDATE row trigger of the referring table); arguments, four per reference: constraint, parent table, its key columns, this table''s columns';

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

CREATE FUNCTION icos._ref_fkeys(p_table text, p_refs text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	v_args text[] := '{}';
	v_cols text[] := '{}';
	v_what text[] := '{}';
BEGIN
	IF pg_catalog.array_ndims(p_refs) <> 2 OR pg_catalog.array_length(p_refs, 2) <> 4 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'references must be given as {constraint, columns, parent, key} rows',
			HINT = 'Pass a two-dimensional array with four text values per reference.';
	END IF;
	FOR r IN SELECT p_refs[i][1] AS name, p_refs[i][2] AS columns, p_refs[i][3] AS parent,
					p_refs[i][4] AS key
			 FROM pg_catalog.generate_subscripts(p_refs, 1) AS i ORDER BY 1
	LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER DELETE OR UPDATE OF %s ON icos.%I FOR EACH ROW'
					   ' EXECUTE FUNCTION icos._ref_guard(%L, %L, %L, %L)',
					   r.name, r.key, r.parent, r.name, p_table, r.columns, r.key);
		EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', r.name, r.parent,
					   format('A row of icos.%s refers to is not deleted or re-keyed (foreign key %s)',
							  p_table, r.name));
		EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON icos.%I FOR EACH STATEMENT'
					   ' EXECUTE FUNCTION icos._ref_guard(%L, %L, %L, %L)',
					   r.name || '_truncate', r.parent, r.name, p_table, r.columns, r.key);
		EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', r.name || '_truncate', r.parent,
					   format('Not emptied while icos.%s has rows (foreign key %s)', p_table, r.name));
		-- Also in a replica session, where the guard does not fire: a probe of
		-- this transaction may have found a row this statement removed.
		EXECUTE format('CREATE TRIGGER %I AFTER DELETE OR UPDATE OF %s OR TRUNCATE ON icos.%I'
					   ' FOR EACH STATEMENT EXECUTE FUNCTION icos._ref_forget()',
					   r.name || '_forget', r.key, r.parent);
		EXECUTE format('ALTER TABLE icos.%I ENABLE ALWAYS TRIGGER %I', r.parent, r.name || '_forget');
		EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', r.name || '_forget', r.parent,
					   format('This transaction''s probes for foreign key %s may no longer hold (icos._ref_forget)',
							  r.name));
		v_args := v_args || ARRAY[r.name, r.parent, r.key, r.columns];
		v_cols := v_cols || pg_catalog.regexp_split_to_array(r.columns, '\s*,\s*');
		v_what := v_what || format('%s (%s) to icos.%s (%s)', r.name, r.columns, r.parent, r.key);
	END LOOP;
	EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OF %s ON icos.%I FOR EACH ROW'
				   ' EXECUTE FUNCTION icos._ref_check(%s)',
				   p_table || '_references',
				   (SELECT pg_catalog.string_agg(DISTINCT c, ', ') FROM pg_catalog.unnest(v_cols) AS c),
				   p_table,
				   (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(a), ', ' ORDER BY n)
					FROM pg_catalog.unnest(v_args) WITH ORDINALITY AS x(a, n)));
	EXECUTE format('COMMENT ON TRIGGER %I ON icos.%I IS %L', p_table || '_references', p_table,
				   format('Foreign keys %s, checked without locking the parent (icos._ref_check)',
						  pg_catalog.array_to_string(v_what, ', ')));
END;
$$;
COMMENT ON FUNCTION icos._ref_fkeys(text, text[]) IS
	'Makes the triggers of the foreign keys of one table kept by icos._ref_check, icos._ref_guard and icos._ref_forget (used by the extension script); references as {constraint, columns, parent, key} rows';

SELECT icos._ref_fkeys('orders', ARRAY[
	['orders_store_id_fkey', 'store_id', 'store', 'store_id'],
	['orders_collect_store_fkey', 'collect_store', 'store', 'store_id']]);
SELECT icos._ref_fkeys('order_line', ARRAY[
	['order_line_upc_fkey', 'upc', 'product', 'upc'],
	['order_line_fulfil_from_fkey', 'fulfil_from', 'store', 'store_id'],
	['order_line_store_id_code_fkey', 'store_id, code', 'orders', 'store_id, code']]);
SELECT icos._ref_fkeys('order_payment', ARRAY[
	['order_payment_store_id_code_fkey', 'store_id, code', 'orders', 'store_id, code']]);
SELECT icos._ref_fkeys('order_event', ARRAY[
	['order_event_store_id_code_fkey', 'store_id, code', 'orders', 'store_id, code']]);
