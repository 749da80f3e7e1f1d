-- icos 0.3.0: the foreign keys of the order tables after a restore.
--
-- A restore loads every table by COPY, in an order pg_dump takes from
-- declarative foreign keys only, so order lines, payments and events may
-- come before their orders.  The check trigger (icos._ref_check,
-- src/refcheck.c) therefore probes nothing for a top-level COPY FROM into
-- its own table by the table's owner or a superuser, the roles that could
-- disable the trigger anyway (no other role may write the order tables).
-- icos.verify_references() checks every reference at once once the data is
-- in; docs/backup.md says when to run it.

COMMENT ON FUNCTION icos._ref_check() IS
	'Foreign key checks by index probes, without a row lock (AFTER INSERT OR UPDATE row trigger of the referring table); skipped for a COPY FROM into the table by its owner (a restore: check with icos.verify_references()); arguments, four per reference: constraint, parent table, its key columns, this table''s columns';

CREATE FUNCTION icos.verify_references()
RETURNS TABLE(table_name text, constraint_name text, key text, parent text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t record;
	i int;
	v_cols text[];
	v_keys text[];
BEGIN
	-- Every reference icos._ref_check keeps, from its triggers' arguments:
	-- four per reference (constraint, parent, parent's key, this table's
	-- columns), each ended by a zero byte.
	FOR t IN
		SELECT c.relname, pg_catalog.string_to_array(pg_catalog.encode(tg.tgargs, 'escape'), '\000') AS args
		FROM pg_catalog.pg_trigger tg
		JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
		WHERE tg.tgfoid = 'icos._ref_check()'::pg_catalog.regprocedure
		  AND c.relnamespace = 'icos'::pg_catalog.regnamespace
		ORDER BY c.relname
	LOOP
		FOR i IN 0 .. pg_catalog.array_length(t.args, 1) / 4 - 1 LOOP
			v_cols := pg_catalog.regexp_split_to_array(t.args[4 * i + 4], '\s*,\s*');
			v_keys := pg_catalog.regexp_split_to_array(t.args[4 * i + 3], '\s*,\s*');
			RETURN QUERY EXECUTE pg_catalog.format(
				'SELECT %L::text, %L::text, %L || pg_catalog.concat_ws('', '', %s) || '')'', %L::text'
				' FROM ONLY icos.%I c WHERE (%s) IS NOT NULL'
				' AND NOT EXISTS (SELECT FROM ONLY icos.%I p WHERE (%s) = (%s))',
				t.relname, t.args[4 * i + 1], '(' || t.args[4 * i + 4] || ')=(',
				(SELECT pg_catalog.string_agg(pg_catalog.format('c.%I::text', x), ', ') FROM pg_catalog.unnest(v_cols) x),
				t.args[4 * i + 2],
				t.relname,
				(SELECT pg_catalog.string_agg(pg_catalog.format('c.%I', x), ', ') FROM pg_catalog.unnest(v_cols) x),
				t.args[4 * i + 2],
				(SELECT pg_catalog.string_agg(pg_catalog.format('p.%I', x), ', ') FROM pg_catalog.unnest(v_keys) x),
				(SELECT pg_catalog.string_agg(pg_catalog.format('c.%I', x), ', ') FROM pg_catalog.unnest(v_cols) x));
		END LOOP;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos.verify_references() IS
	'Rows of the order tables whose store, product or order does not exist (one row each: table, foreign key, key, missing parent); empty when every reference holds.  Run after a restore (docs/backup.md): a restore''s COPY skips the per-row checks';
REVOKE ALL ON FUNCTION icos.verify_references() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION icos.verify_references() TO icos_admin;
