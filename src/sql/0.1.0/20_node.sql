
-- ---------------------------------------------------------------------------
-- Node configuration: which node of the deployment this database is.
--
-- The node id goes into every order code this database issues (see
-- 30_order_code.sql), so it must differ between the databases of one
-- deployment.  A fresh CREATE EXTENSION is node 0, the head office of a
-- single-node deployment.
-- ---------------------------------------------------------------------------

-- The deployment's administrators (cluster-wide; kept if it already exists).
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'icos_admin') THEN
		CREATE ROLE icos_admin NOLOGIN;
	END IF;
END
$$;
-- Administrators reach the icos functions meant for them (init_node ...).
GRANT USAGE ON SCHEMA icos TO icos_admin;
COMMENT ON ROLE icos_admin IS
	'icos: administrators of the deployment (node set-up, decoding order codes); grant it to people, never log in as it';

CREATE TABLE icos.node (
	node_id integer NOT NULL PRIMARY KEY
		CONSTRAINT node_id_range CHECK (node_id BETWEEN 0 AND 4095),
	kind text NOT NULL
		CONSTRAINT node_kind CHECK (kind IN ('hq', 'store')),
	name text NOT NULL
		CONSTRAINT node_name_given CHECK (btrim(name) <> '')
);
CREATE UNIQUE INDEX node_single_row ON icos.node ((true));
COMMENT ON TABLE icos.node IS
	'icos: this database''s node of the deployment (exactly one row); change it with icos.init_node';
COMMENT ON COLUMN icos.node.node_id IS
	'node id 0..4095, unique in the deployment; part of every order code issued here';
COMMENT ON COLUMN icos.node.kind IS 'hq (head office) or store';
COMMENT ON COLUMN icos.node.name IS 'human-readable name of the node';
COMMENT ON INDEX icos.node_single_row IS 'icos: keeps icos.node to one row';
COMMENT ON INDEX icos.node_pkey IS 'icos: primary key of icos.node';
COMMENT ON CONSTRAINT node_pkey ON icos.node IS 'icos: a node id appears once';
COMMENT ON CONSTRAINT node_id_range ON icos.node IS 'icos: node ids are 12 bits (0..4095)';
COMMENT ON CONSTRAINT node_kind ON icos.node IS 'icos: a node is the head office (hq) or a store';
COMMENT ON CONSTRAINT node_name_given ON icos.node IS 'icos: a node has a non-blank name';

INSERT INTO icos.node (node_id, kind, name) VALUES (0, 'hq', pg_catalog.current_database());

REVOKE ALL ON icos.node FROM PUBLIC;
GRANT SELECT ON icos.node TO PUBLIC;

-- Cached copies of the node id (and of the order code key) live in every
-- backend; plain DML sends no invalidation, so this trigger does.
CREATE FUNCTION icos._config_changed() RETURNS trigger
	LANGUAGE c AS 'MODULE_PATHNAME', 'icos_config_changed';
COMMENT ON FUNCTION icos._config_changed() IS
	'icos (internal): statement trigger that makes every backend reload its cached node id and order code key';
REVOKE ALL ON FUNCTION icos._config_changed() FROM PUBLIC;

-- A single-row configuration table is dumped by pg_dump (config dump) and,
-- on restore, its row arrives after CREATE EXTENSION has made a fresh one:
-- an inserted row replaces the existing one, so the restored row wins.
CREATE FUNCTION icos._config_replace_row() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	EXECUTE pg_catalog.format('DELETE FROM %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION icos._config_replace_row() IS
	'icos (internal): row trigger that makes an insert into a single-row configuration table replace its row (so a restored dump wins over the row CREATE EXTENSION made)';
REVOKE ALL ON FUNCTION icos._config_replace_row() FROM PUBLIC;

CREATE TRIGGER node_replace_row BEFORE INSERT ON icos.node
	FOR EACH ROW EXECUTE FUNCTION icos._config_replace_row();
COMMENT ON TRIGGER node_replace_row ON icos.node IS
	'icos: an inserted node row replaces the existing one (restores from pg_dump)';
CREATE TRIGGER node_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.node
	FOR EACH STATEMENT EXECUTE FUNCTION icos._config_changed();
COMMENT ON TRIGGER node_changed ON icos.node IS
	'icos: a changed node id takes effect at once in every backend';

SELECT pg_catalog.pg_extension_config_dump('icos.node', '');

CREATE FUNCTION icos.current_node() RETURNS integer
	LANGUAGE c STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'current_node';
COMMENT ON FUNCTION icos.current_node() IS
	'icos: the node id of this database (cached per session, refreshed when icos.init_node changes it)';

-- Writes the node row; init_node checks the caller and the values first.
CREATE FUNCTION icos._set_node(p_node_id integer, p_kind text, p_name text) RETURNS void
	LANGUAGE sql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	UPDATE icos.node SET node_id = p_node_id, kind = p_kind, name = p_name;
$$;
COMMENT ON FUNCTION icos._set_node(integer, text, text) IS
	'icos (internal): writes the node row for icos.init_node (which checks the caller and the values)';
REVOKE ALL ON FUNCTION icos._set_node(integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION icos._set_node(integer, text, text) TO icos_admin;

CREATE FUNCTION icos.init_node(node_id integer, kind text, name text) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	-- current_user: the caller (this function is not SECURITY DEFINER)
	IF NOT (EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolsuper)
			OR (EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'icos_admin')
				AND pg_catalog.pg_has_role(current_user, 'icos_admin', 'USAGE'))) THEN
		RAISE EXCEPTION USING
			ERRCODE = '42501',
			MESSAGE = 'permission denied to set the node id',
			DETAIL = 'Only superusers and members of the role "icos_admin" may set up a node.',
			HINT = 'Ask an administrator of the deployment to do it.';
	END IF;
	IF init_node.node_id IS NULL OR init_node.node_id NOT BETWEEN 0 AND 4095 THEN
		RAISE EXCEPTION USING
			ERRCODE = '22023',
			MESSAGE = CASE WHEN init_node.node_id IS NULL THEN 'node id is missing'
						   ELSE pg_catalog.format('node id %s is out of range', init_node.node_id) END,
			DETAIL = 'A node id is a whole number from 0 to 4095, different for every database of the deployment.',
			HINT = 'Head office is usually node 0; give each store its own number.';
	END IF;
	IF init_node.kind IS NULL OR init_node.kind NOT IN ('hq', 'store') THEN
		RAISE EXCEPTION USING
			ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node kind %s is not valid', coalesce(pg_catalog.quote_literal(init_node.kind), 'NULL')),
			DETAIL = 'The kind of a node is ''hq'' (head office) or ''store''.',
			HINT = 'Use ''hq'' for the head office database and ''store'' for a store''s.';
	END IF;
	IF init_node.name IS NULL OR pg_catalog.btrim(init_node.name) = '' THEN
		RAISE EXCEPTION USING
			ERRCODE = '22023',
			MESSAGE = 'node name is missing',
			DETAIL = 'Every node needs a name people recognise, such as the store''s town.',
			HINT = 'Pass a name as the third argument.';
	END IF;
	PERFORM icos._set_node(init_node.node_id, init_node.kind, init_node.name);
END
$$;
COMMENT ON FUNCTION icos.init_node(integer, text, text) IS
	'icos: set this database''s node id (0..4095, unique in the deployment), kind (hq or store) and name; superusers and icos_admin only';
