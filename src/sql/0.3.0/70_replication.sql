-- icos 0.3.0: regional hubs (docs/replication.md).  A hub (node kind hub)
-- sits between head office and its stores: it subscribes to head office's
-- catalogue and republishes it to its stores, subscribes to its stores and
-- republishes their rows to head office, and passes cross-store requests and
-- answers on in both directions.  Head office then decodes its WAL once per
-- hub and per directly attached store, not once per store.
--
-- Still no origin = none in PostgreSQL 15: every table a hub both receives
-- and publishes has a row filter that sends a row only away from its writer.
--   hub H -> its stores   icos_hub: head office's tables (heartbeats of
--                         head office and of the hub only)
--                         icos_hub_route_S: requests and answers to store S
--   hub H -> head office  icos_hub_H, icos_hub_H_log: the region's rows (the
--                         region is H and the nodes under it); requests and
--                         answers written in the region
--   head office -> hub H  icos_hq, and icos_hq_route_H: requests and answers
--                         addressed to the region and not written in it (those
--                         the hub has passed on already)
-- The tree (which node is under which hub) is icos.node_tree, written at
-- head office and replicated everywhere; the filters are built from it.

-- Node kinds ------------------------------------------------------------------

ALTER TABLE icos.node DROP CONSTRAINT node_kind;
ALTER TABLE icos.node ADD CONSTRAINT node_kind CHECK (kind IN ('hq', 'hub', 'store'));
COMMENT ON CONSTRAINT node_kind ON icos.node IS 'icos: a node is the head office (hq), a regional hub (hub) or a store';
COMMENT ON COLUMN icos.node.kind IS 'hq (head office), hub (regional hub between head office and its stores) or store';

CREATE OR REPLACE FUNCTION icos.init_node(node_id integer, kind text, name text) RETURNS void
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
	IF init_node.kind IS NULL OR init_node.kind NOT IN ('hq', 'hub', 'store') THEN
		RAISE EXCEPTION USING
			ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node kind %s is not valid', coalesce(pg_catalog.quote_literal(init_node.kind), 'NULL')),
			DETAIL = 'The kind of a node is ''hq'' (head office), ''hub'' (a regional hub) or ''store''.',
			HINT = 'Use ''hq'' for the head office database, ''hub'' for a regional hub''s and ''store'' for a store''s.';
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
	'icos: set this database''s node id (0..4095, unique in the deployment), kind (hq, hub or store) and name; superusers and icos_admin only';

-- The tree ----------------------------------------------------------------------

CREATE TABLE icos.node_tree (
	node_id		int PRIMARY KEY CHECK (node_id BETWEEN 0 AND 4095),
	kind		text NOT NULL CHECK (kind IN ('hub', 'store')),
	parent_node	int NOT NULL,
	name		text NOT NULL,
	CHECK (parent_node <> node_id)
);
COMMENT ON TABLE icos.node_tree IS
	'Where each replicated node hangs: under head office or under a regional hub.  Written at head office (icos.attach_node, run by icos node add-hub and add-store) and replicated to every node; the row filters of the links are built from it.  A store node of a release before hubs has no row and is under head office.';
COMMENT ON COLUMN icos.node_tree.node_id IS 'the node';
COMMENT ON COLUMN icos.node_tree.kind IS 'hub (a regional hub, always directly under head office) or store';
COMMENT ON COLUMN icos.node_tree.parent_node IS 'the node it replicates with: head office''s node id, or the hub''s';
COMMENT ON COLUMN icos.node_tree.name IS 'the node''s name, as given when it was attached';

CREATE FUNCTION icos._region(p_node int) RETURNS int[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT ARRAY[p_node] || coalesce((SELECT pg_catalog.array_agg(c.node_id ORDER BY c.node_id)
										 FROM icos.node_tree c
										WHERE c.parent_node = p_node
										  AND EXISTS (SELECT 1 FROM icos.node_tree h
													   WHERE h.node_id = p_node AND h.kind = 'hub')), '{}')
$$;
COMMENT ON FUNCTION icos._region(int) IS
	'internal: the nodes whose rows travel on the link with node p_node: the node itself, and for a hub every node under it (icos.node_tree)';

CREATE FUNCTION icos._is_hub(p_node int) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM icos.node_tree h WHERE h.node_id = p_node AND h.kind = 'hub')
$$;
COMMENT ON FUNCTION icos._is_hub(int) IS 'internal: true when node p_node is a regional hub (icos.node_tree)';

CREATE FUNCTION icos.attach_node(node_id int, kind text, parent_node int, name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	v_old icos.node_tree;
BEGIN
	PERFORM icos._require_admin();
	SELECT * INTO me FROM icos.node;
	IF me.kind <> 'hq' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('this database is a %s node, not head office', me.kind),
			HINT = 'Attach nodes in the head office database: the tree is written there and replicated.';
	END IF;
	IF attach_node.node_id IS NULL OR attach_node.node_id NOT BETWEEN 0 AND 4095 OR attach_node.node_id = me.node_id THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node id %s cannot be attached', coalesce(attach_node.node_id::text, 'NULL')),
			DETAIL = 'A node id is a whole number from 0 to 4095, not head office''s own.',
			HINT = 'Give the node id of the hub or store database.';
	END IF;
	IF attach_node.kind IS NULL OR attach_node.kind NOT IN ('hub', 'store') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node kind %s cannot be attached', coalesce(pg_catalog.quote_literal(attach_node.kind), 'NULL')),
			DETAIL = 'Under head office hang hubs and stores; under a hub, stores.',
			HINT = 'Use ''hub'' or ''store''.';
	END IF;
	IF attach_node.name IS NULL OR pg_catalog.btrim(attach_node.name) = '' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'node name is missing',
			HINT = 'Give the node a name people recognise, such as its region or town.';
	END IF;
	IF attach_node.parent_node IS DISTINCT FROM me.node_id
		AND (attach_node.kind = 'hub' OR NOT icos._is_hub(attach_node.parent_node)) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node %s cannot hang under node %s', attach_node.node_id,
										coalesce(attach_node.parent_node::text, 'NULL')),
			DETAIL = 'A hub hangs under head office; a store under head office or under a hub attached before it.',
			HINT = 'Attach the hub first (icos node add-hub), or give head office''s node id.';
	END IF;
	SELECT * INTO v_old FROM icos.node_tree t WHERE t.node_id = attach_node.node_id;
	IF v_old.kind IS DISTINCT FROM attach_node.kind AND v_old.kind IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node %s is attached as a %s already', attach_node.node_id, v_old.kind),
			HINT = 'A node keeps its kind: use a new node id for a new database.';
	END IF;
	INSERT INTO icos.node_tree AS t (node_id, kind, parent_node, name)
	VALUES (attach_node.node_id, attach_node.kind, attach_node.parent_node, attach_node.name)
	ON CONFLICT ON CONSTRAINT node_tree_pkey DO UPDATE SET parent_node = EXCLUDED.parent_node, name = EXCLUDED.name
	 WHERE (t.parent_node, t.name) IS DISTINCT FROM (EXCLUDED.parent_node, EXCLUDED.name);
END
$$;
COMMENT ON FUNCTION icos.attach_node(int, text, int, text) IS
	'At head office: records in icos.node_tree that node node_id (kind hub or store) hangs under parent_node (head office, or for a store a hub); idempotent, and a store''s parent may change.  icos node add-hub and add-store run it; the filters of the publications follow the tree.  Superuser only.';

-- What flows where --------------------------------------------------------------

-- The rows given in VALUES are the two-level description of 0.2.0 (plus the
-- tree); the hub level is derived from them, so a table is described once:
--   hub       a hub republishes head office's tables to its stores
--   hub_up    a hub republishes its stores' tables to head office
--   hub_route a hub passes requests and answers to the one store addressed
-- A filter kind is expanded for the node at the other end of the link
-- (icos._publication_filter): for a hub it covers the hub's whole region.
CREATE OR REPLACE FUNCTION icos.replicated_tables()
RETURNS TABLE(table_name text, owner text, publication text, filter_column text, filter_kind text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	WITH base AS (
		SELECT * FROM (VALUES
			('icos.category', 'hq', 'icos_hq', NULL, NULL),
			('icos.product', 'hq', 'icos_hq', NULL, NULL),
			('icos.store', 'hq', 'icos_hq', NULL, NULL),
			('icos.employee', 'hq', 'icos_hq', NULL, NULL),
			('icos.promotion', 'hq', 'icos_hq', NULL, NULL),
			('icos.setting', 'hq', 'icos_hq', NULL, NULL),
			('icos.vat_rate', 'hq', 'icos_hq', NULL, NULL),
			('icos.stock_availability', 'hq', 'icos_hq', NULL, NULL),
			('icos.node_tree', 'hq', 'icos_hq', NULL, NULL),
			('icos.node_heartbeat', 'hq', 'icos_hq', 'node_id', 'node'),
			('icos.orders', 'store', 'icos_store_%s', 'store_id', 'stores'),
			('icos.order_line', 'store', 'icos_store_%s', 'store_id', 'stores'),
			('icos.order_payment', 'store', 'icos_store_%s', 'store_id', 'stores'),
			('icos.order_request', 'store', 'icos_store_%s', 'store_id', 'stores'),
			('icos.stock_item', 'store', 'icos_store_%s', 'store_id', 'stores'),
			('icos.stock_slot', 'store', 'icos_store_%s', 'store_id', 'stores'),
			('icos.customer', 'store', 'icos_store_%s', 'customer_id', 'id_node'),
			('icos.customer_address', 'store', 'icos_store_%s', 'customer_id', 'id_node'),
			('icos.customer_event', 'store', 'icos_store_%s', 'customer_id', 'id_node'),
			('icos.customer_consent', 'store', 'icos_store_%s', 'customer_id', 'id_node'),
			('icos.customer_erasure', 'store', 'icos_store_%s', 'customer_id', 'id_node'),
			('icos.order_feedback', 'store', 'icos_store_%s', 'store_id', 'stores'),
			('icos.node_heartbeat', 'store', 'icos_store_%s', 'node_id', 'node'),
			('icos.order_event', 'store', 'icos_store_%s_log', 'store_id', 'stores'),
			('icos.stock_movement', 'store', 'icos_store_%s_log', 'store_id', 'stores'),
			('icos.stock_request', 'store', 'icos_store_%s_log', 'from_node', 'node'),
			('icos.stock_response', 'store', 'icos_store_%s_log', 'from_node', 'node'),
			('icos.stock_request', 'route', 'icos_hq_route_%s', 'to_node', 'route'),
			('icos.stock_response', 'route', 'icos_hq_route_%s', 'to_node', 'route'),
			('icos.customer_erasure_request', 'route', 'icos_hq_route_%s', 'to_node', 'route')
		) t(table_name, owner, publication, filter_column, filter_kind)
		WHERE pg_catalog.to_regclass(t.table_name) IS NOT NULL
	)
	SELECT * FROM base
	UNION ALL
	SELECT b.table_name, 'hub', 'icos_hub', b.filter_column,
		   CASE WHEN b.filter_kind = 'node' THEN 'upstream' ELSE b.filter_kind END
	  FROM base b WHERE b.owner = 'hq'
	UNION ALL
	SELECT b.table_name, 'hub_up', pg_catalog.replace(b.publication, 'icos_store_', 'icos_hub_'), b.filter_column, b.filter_kind
	  FROM base b WHERE b.owner = 'store'
	UNION ALL
	SELECT b.table_name, 'hub_route', pg_catalog.replace(b.publication, 'icos_hq_route_', 'icos_hub_route_'), b.filter_column, b.filter_kind
	  FROM base b WHERE b.owner = 'route'
$$;
COMMENT ON FUNCTION icos.replicated_tables() IS
	'What flows where: per table its owner class (hq: head office to every node under it; store: each store node to its parent, head office or a hub; route: head office to the one node or hub region a row is addressed to; derived from those for a regional hub: hub, head office''s tables to the hub''s stores; hub_up, the region''s rows to head office; hub_route, rows addressed to one store of the hub), the publication (%s is the node id at the other end), and the owner column its row filter uses (stores: the stores of the node, or of a hub''s region; node: the node id, or a region''s; id_node: the node bits of a node-prefixed id; route: rows addressed to the node or region and, for a region, not written in it; upstream: head office''s and the hub''s own).  Tables not installed are left out.';

CREATE OR REPLACE FUNCTION icos._publication_filter(p_kind text, p_column text, p_node int) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_region int[] := icos._region(p_node);
	v_hub boolean := icos._is_hub(p_node);
	v_list text := pg_catalog.array_to_string(v_region, ', ');
	v_stores text;
	v_parent int;
BEGIN
	IF p_kind IS NULL THEN
		RETURN NULL;
	ELSIF p_kind IN ('node', 'route') AND NOT v_hub THEN
		RETURN pg_catalog.format('(%I = %s)', p_column, p_node);
	ELSIF p_kind = 'node' THEN
		RETURN pg_catalog.format('(%I IN (%s))', p_column, v_list);
	ELSIF p_kind = 'route' THEN
		-- addressed to the region, and not written in it (the hub passed those on)
		RETURN pg_catalog.format('((%I IN (%s)) AND (NOT (from_node IN (%s))))', p_column, v_list, v_list);
	ELSIF p_kind = 'id_node' AND NOT v_hub THEN
		RETURN pg_catalog.format('((%I >> 40) = %s)', p_column, p_node);
	ELSIF p_kind = 'id_node' THEN
		RETURN pg_catalog.format('((%I >> 40) IN (%s))', p_column, v_list);
	ELSIF p_kind = 'upstream' THEN
		SELECT t.parent_node INTO v_parent FROM icos.node_tree t WHERE t.node_id = icos.current_node();
		IF v_parent IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'IC004',
				MESSAGE = pg_catalog.format('node %s is not in head office''s node tree yet', icos.current_node()),
				HINT = 'Let head office''s icos.node_tree reach this hub first (icos node add-hub does).';
		END IF;
		RETURN pg_catalog.format('(%I IN (%s, %s))', p_column, LEAST(v_parent, icos.current_node()),
								 GREATEST(v_parent, icos.current_node()));
	END IF;
	SELECT pg_catalog.string_agg(s.store_id::text, ', ' ORDER BY s.store_id) INTO v_stores
	  FROM icos.store s WHERE s.node_id = ANY (v_region);
	IF v_stores IS NULL AND v_hub THEN
		RETURN '(false)';		-- a hub with no store under it yet
	ELSIF v_stores IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('node %s owns no store', p_node),
			DETAIL = 'A store node publishes the orders and stock of the stores whose node_id is its node id, and icos.store has none.',
			HINT = pg_catalog.format('At head office, set node_id = %s on the stores this node serves (UPDATE icos.store SET node_id = ...) and let the change reach the store.', p_node);
	END IF;
	RETURN pg_catalog.format('(%I IN (%s))', p_column, v_stores);
END
$$;
COMMENT ON FUNCTION icos._publication_filter(text, text, int) IS
	'internal: the row filter of a replicated table on the link with node p_node (see icos.replicated_tables), over the hub''s whole region when p_node is a hub; IC004 when a store node owns no store';

CREATE FUNCTION icos._publication_owners(p_node int) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE n.kind WHEN 'hq' THEN ARRAY['hq', 'route']
					   WHEN 'store' THEN ARRAY['store']
					   WHEN 'hub' THEN CASE WHEN p_node = n.node_id THEN ARRAY['hub', 'hub_up']
											ELSE ARRAY['hub', 'hub_route'] END END
	  FROM icos.node n
$$;
COMMENT ON FUNCTION icos._publication_owners(int) IS
	'internal: the owner classes of icos.replicated_tables() this node publishes for its link with node p_node (at a hub, p_node is the hub itself for the link up to head office, or one of its stores)';

CREATE FUNCTION icos._publication_defs(p_owner text, p_node int)
RETURNS TABLE(pub text, tables text, publish text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.format(t.publication, p_node),
		   pg_catalog.string_agg(t.table_name || coalesce(' WHERE ' || icos._publication_filter(t.filter_kind, t.filter_column,
								 CASE WHEN p_owner IN ('hq', 'hub') THEN icos.current_node() ELSE p_node END), ''),
								 ', ' ORDER BY t.table_name),
		   CASE WHEN pg_catalog.bool_or(t.publication LIKE '%\_log') OR p_owner IN ('route', 'hub_route')
				THEN 'insert' ELSE 'insert, update, delete' END
	  FROM icos.replicated_tables() t
	 WHERE t.owner = p_owner
	 GROUP BY 1 ORDER BY 1
$$;
COMMENT ON FUNCTION icos._publication_defs(text, int) IS
	'internal: per publication of one owner class for the link with node p_node, its table list with row filters and what it publishes (insert only for logs and routes); TRUNCATE never (it ignores row filters)';

CREATE OR REPLACE FUNCTION icos._publication_sql(p_owner text, p_node int, p_name_as text DEFAULT NULL)
RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.format('CREATE PUBLICATION %I FOR TABLE %s WITH (publish = %L)',
							 coalesce(p_name_as || d.pub, d.pub), d.tables, d.publish)
	  FROM icos._publication_defs(p_owner, p_node) d
$$;
COMMENT ON FUNCTION icos._publication_sql(text, int, text) IS
	'internal: the CREATE PUBLICATION statements for one owner class (see icos.replicated_tables) and node, optionally under a name prefix (the publication check builds reference copies that way); TRUNCATE is never published (it ignores row filters)';

CREATE FUNCTION icos._check_link_node(p_node int) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	v_parent int;
BEGIN
	SELECT * INTO me FROM icos.node;
	SELECT t.parent_node INTO v_parent FROM icos.node_tree t WHERE t.node_id = p_node;
	IF p_node IS NULL OR p_node = me.node_id AND me.kind = 'hq' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a store node id is required',
			HINT = 'Give the node id of the store or hub database (not head office''s own).';
	ELSIF me.kind = 'store' AND p_node <> me.node_id THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('this database is node %s, not node %s', me.node_id, p_node),
			HINT = 'Run it on the store''s own database, or fix its node id with icos.init_node.';
	ELSIF me.kind = 'hq' AND v_parent IS DISTINCT FROM me.node_id AND v_parent IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node %s hangs under hub %s, not under head office', p_node, v_parent),
			HINT = 'Its link is with the hub: run this on the hub''s database.';
	ELSIF me.kind = 'hub' AND p_node <> me.node_id AND v_parent IS DISTINCT FROM me.node_id THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node %s does not hang under hub %s', p_node, me.node_id),
			HINT = 'Attach it to this hub at head office first (icos node add-store --hub-dsn does).';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._check_link_node(int) IS
	'internal: 22023 unless this node has a link with node p_node: at head office a node under it, at a store itself, at a hub itself (the link up) or a store under it';

CREATE OR REPLACE FUNCTION icos.create_publications(store_node int) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	d record;
BEGIN
	PERFORM icos._require_admin();
	PERFORM icos._check_link_node(store_node);
	FOR d IN SELECT x.* FROM pg_catalog.unnest(icos._publication_owners(store_node)) o,
				 LATERAL icos._publication_defs(o, store_node) x
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication p WHERE p.pubname = d.pub) THEN
			EXECUTE pg_catalog.format('CREATE PUBLICATION %I FOR TABLE %s WITH (publish = %L)', d.pub, d.tables, d.publish);
			RETURN NEXT d.pub;
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos.create_publications(int) IS
	'Creates the publications of this node for the link with node store_node, those missing only: at HQ icos_hq (to every node under it) and icos_hq_route_N (requests and answers for node N, or for hub N''s region); at store node N icos_store_N and icos_store_N_log (its stores'' rows); at hub H, for H itself icos_hub and icos_hub_H, icos_hub_H_log (the region''s rows, to HQ), for a store S under it icos_hub and icos_hub_route_S.  Returns the names created.  Superuser only.';

CREATE FUNCTION icos.refresh_publications(store_node int) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	d record;
BEGIN
	PERFORM icos._require_admin();
	PERFORM icos._check_link_node(store_node);
	FOR d IN SELECT x.* FROM pg_catalog.unnest(icos._publication_owners(store_node)) o,
				 LATERAL icos._publication_defs(o, store_node) x
			 WHERE x.pub IN (SELECT c.publication FROM icos.check_publications(store_node) c
							  WHERE c.problem <> 'publication does not exist')
	LOOP
		EXECUTE pg_catalog.format('ALTER PUBLICATION %I SET TABLE %s', d.pub, d.tables);
		EXECUTE pg_catalog.format('ALTER PUBLICATION %I SET (publish = %L)', d.pub, d.publish);
		RETURN NEXT d.pub;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos.refresh_publications(int) IS
	'Sets the tables and row filters of this node''s existing publications for the link with node store_node to what icos.replicated_tables() and icos.node_tree say now, where icos.check_publications finds them different: a hub''s region grew or shrank (icos node add-store --hub-dsn runs it at head office and at the hub).  Returns the names changed.  Superuser only.';

CREATE OR REPLACE FUNCTION icos.check_publications(store_node int)
RETURNS TABLE(publication text, table_name text, problem text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s text;
	v_found jsonb := '[]';
BEGIN
	PERFORM icos._require_admin();
	PERFORM icos._check_link_node(store_node);
	-- Build reference copies (prefix icos_check_) of what the publications
	-- should be, compare the catalogue rows, then roll the copies back.
	BEGIN
		FOR s IN SELECT x FROM pg_catalog.unnest(icos._publication_owners(store_node)) o,
					 LATERAL icos._publication_sql(o, store_node, 'icos_check_') x LOOP
			EXECUTE pg_catalog.replace(s, 'icos_check_icos_', 'icos_check_');
		END LOOP;
		SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(x.pub, x.tab, x.problem)), '[]') INTO v_found
		FROM (
			SELECT coalesce(a.pubname, 'icos_' || pg_catalog.substr(e.pubname, 12)) AS pub,
				   coalesce(a.schemaname || '.' || a.tablename, e.schemaname || '.' || e.tablename) AS tab,
				   CASE WHEN a.pubname IS NULL THEN 'missing from the publication'
						WHEN e.pubname IS NULL THEN 'published but should not be'
						ELSE pg_catalog.format('row filter is %s, should be %s',
											   coalesce(a.rowfilter, 'none'), coalesce(e.rowfilter, 'none')) END AS problem
			  FROM (SELECT * FROM pg_catalog.pg_publication_tables WHERE pubname LIKE 'icos\_check\_%') e
			  FULL JOIN (SELECT * FROM pg_catalog.pg_publication_tables
						  WHERE pubname IN (SELECT 'icos_' || pg_catalog.substr(p.pubname, 12) FROM pg_catalog.pg_publication p
											 WHERE p.pubname LIKE 'icos\_check\_%')) a
				ON a.pubname = 'icos_' || pg_catalog.substr(e.pubname, 12)
			   AND a.schemaname = e.schemaname AND a.tablename = e.tablename
			 WHERE a.pubname IS NULL OR e.pubname IS NULL OR a.rowfilter IS DISTINCT FROM e.rowfilter
			UNION ALL
			SELECT 'icos_' || pg_catalog.substr(e.pubname, 12), NULL, 'publication does not exist'
			  FROM pg_catalog.pg_publication e
			 WHERE e.pubname LIKE 'icos\_check\_%'
			   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication a WHERE a.pubname = 'icos_' || pg_catalog.substr(e.pubname, 12))
			UNION ALL
			SELECT 'icos_' || pg_catalog.substr(e.pubname, 12), NULL, 'publishes truncate, which ignores row filters'
			  FROM pg_catalog.pg_publication e JOIN pg_catalog.pg_publication a ON a.pubname = 'icos_' || pg_catalog.substr(e.pubname, 12)
			 WHERE e.pubname LIKE 'icos\_check\_%' AND a.pubtruncate
			UNION ALL
			SELECT 'icos_' || pg_catalog.substr(e.pubname, 12), NULL,
				   pg_catalog.format('publishes %s, should publish %s',
									 pg_catalog.concat_ws(', ', CASE WHEN a.pubinsert THEN 'insert' END, CASE WHEN a.pubupdate THEN 'update' END,
														  CASE WHEN a.pubdelete THEN 'delete' END),
									 pg_catalog.concat_ws(', ', CASE WHEN e.pubinsert THEN 'insert' END, CASE WHEN e.pubupdate THEN 'update' END,
														  CASE WHEN e.pubdelete THEN 'delete' END))
			  FROM pg_catalog.pg_publication e JOIN pg_catalog.pg_publication a ON a.pubname = 'icos_' || pg_catalog.substr(e.pubname, 12)
			 WHERE e.pubname LIKE 'icos\_check\_%'
			   AND (a.pubinsert, a.pubupdate, a.pubdelete) IS DISTINCT FROM (e.pubinsert, e.pubupdate, e.pubdelete)
		) x;
		RAISE EXCEPTION USING ERRCODE = 'IC0RB', MESSAGE = 'icos_check_rollback';
	EXCEPTION WHEN SQLSTATE 'IC0RB' THEN
		NULL;
	END;
	RETURN QUERY SELECT x ->> 0, x ->> 1, x ->> 2 FROM pg_catalog.jsonb_array_elements(v_found) x
				 WHERE x ->> 1 IS NOT NULL OR x ->> 2 = 'publication does not exist'
					OR x ->> 2 LIKE 'publishes%' ORDER BY 1, 2;
END
$$;
COMMENT ON FUNCTION icos.check_publications(int) IS
	'Compares this node''s publications for the link with node store_node (a store, or at head office and at a hub also a hub) with what icos.replicated_tables() and icos.node_tree say they must be (tables, row filters, what is published, no truncate); one row per problem, none when they are right.  icos node add-store and add-hub run it on both sides before subscribing: a wrong filter would send rows to the wrong node or back to their writer.  Superuser only.';

CREATE OR REPLACE FUNCTION icos.drop_publications(store_node int) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	p text;
BEGIN
	PERFORM icos._require_admin();
	FOR p IN SELECT pubname FROM pg_catalog.pg_publication
			 WHERE pubname IN (pg_catalog.format('icos_hq_route_%s', store_node),
							   pg_catalog.format('icos_store_%s', store_node),
							   pg_catalog.format('icos_store_%s_log', store_node),
							   pg_catalog.format('icos_hub_route_%s', store_node),
							   pg_catalog.format('icos_hub_%s', store_node),
							   pg_catalog.format('icos_hub_%s_log', store_node),
							   pg_catalog.format('icos_move_%s', store_node))
	LOOP
		EXECUTE pg_catalog.format('DROP PUBLICATION %I', p);
		RETURN NEXT p;
	END LOOP;
END
$$;
COMMENT ON FUNCTION icos.drop_publications(int) IS
	'Drops this node''s publications for the link with node store_node (icos node remove-store): the route towards it, or its own upward ones, and the copy a hub took of a store moving to it (icos_move_N); icos_hq and icos_hub, shared by every node below, stay.  Returns the names dropped.  Superuser only.';

-- Link status, at head office and at a hub ---------------------------------------

CREATE OR REPLACE VIEW icos.node_status AS
WITH me AS (SELECT n.node_id, n.kind FROM icos.node n),
nodes AS (
	SELECT s.node_id FROM icos.store s WHERE s.node_id <> icos.current_node()
	UNION
	SELECT h.node_id FROM icos.node_heartbeat h WHERE h.node_id <> icos.current_node()
	UNION
	SELECT t.node_id FROM icos.node_tree t WHERE t.node_id <> icos.current_node()
	UNION
	SELECT (pg_catalog.regexp_match(sub.subname, '^icos_(?:store|hub)_([0-9]+)_to_(?:hq|hub_[0-9]+)$'))[1]::int
	  FROM pg_catalog.pg_subscription sub WHERE sub.subname ~ '^icos_(store|hub)_[0-9]+_to_(hq|hub_[0-9]+)$'
),
tree AS (
	-- a node without a tree row is a store under head office (0.2.0)
	SELECT n.node_id, coalesce(t.kind, 'store') AS kind,
		   coalesce(t.parent_node, CASE WHEN me.kind = 'hq' THEN me.node_id END) AS parent_node,
		   -- this node's names for the link, when the node hangs under it
		   pg_catalog.format('icos_%s_%s_to_%s', coalesce(t.kind, 'store'), n.node_id,
							 CASE me.kind WHEN 'hq' THEN 'hq' ELSE 'hub_' || me.node_id END) AS subname,
		   pg_catalog.format('icos_%s_to_%s', CASE me.kind WHEN 'hq' THEN 'hq' ELSE 'hub_' || me.node_id END,
							 n.node_id) AS slotname,
		   me.node_id AS me
	  FROM nodes n CROSS JOIN me
	  LEFT JOIN icos.node_tree t ON t.node_id = n.node_id
	 WHERE me.kind <> 'hub' OR t.parent_node = me.node_id
)
SELECT n.node_id,
	   (SELECT pg_catalog.string_agg(s.store_id::text, ',' ORDER BY s.store_id) FROM icos.store s
		 WHERE s.node_id = n.node_id) AS stores,
	   CASE WHEN n.parent_node <> n.me THEN pg_catalog.format('via hub %s', n.parent_node)
			WHEN sub.oid IS NULL THEN 'not provisioned'
			WHEN NOT sub.subenabled THEN 'disabled'
			WHEN ss.pid IS NOT NULL AND sl.active THEN 'up'
			WHEN ss.pid IS NOT NULL THEN 'store not reading'
			WHEN sl.active THEN 'not receiving from store'
			ELSE 'down' END AS link_state,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.confirmed_flush_lsn)::bigint AS to_store_lag_bytes,
	   round(extract(epoch FROM sr.replay_lag)::numeric, 3) AS to_store_lag_s,
	   h.outbound_lag_bytes AS from_store_lag_bytes,
	   round(extract(epoch FROM (h.received_at - h.beat_at))::numeric, 3) AS from_store_lag_s,
	   h.beat_at AS last_heartbeat,
	   round(extract(epoch FROM (pg_catalog.clock_timestamp() - h.beat_at))::numeric, 1) AS heartbeat_age_s,
	   coalesce(st.apply_error_count, 0) + coalesce(st.sync_error_count, 0) AS hq_apply_errors,
	   h.apply_errors + h.sync_errors AS store_apply_errors,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), sl.restart_lsn)::bigint AS hq_retained_wal_bytes,
	   h.retained_wal_bytes AS store_retained_wal_bytes,
	   sl.wal_status,
	   h.pending_requests,
	   n.kind,
	   n.parent_node
  FROM tree n
  LEFT JOIN pg_catalog.pg_subscription sub
		 ON sub.subname = n.subname AND n.parent_node = n.me AND sub.subdbid =
			(SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
  LEFT JOIN pg_catalog.pg_stat_subscription ss ON ss.subid = sub.oid AND ss.relid IS NULL
  LEFT JOIN pg_catalog.pg_stat_subscription_stats st ON st.subid = sub.oid
  LEFT JOIN pg_catalog.pg_replication_slots sl ON sl.slot_name = n.slotname AND n.parent_node = n.me
  LEFT JOIN pg_catalog.pg_stat_replication sr ON sr.pid = sl.active_pid
  LEFT JOIN icos.node_heartbeat h ON h.node_id = n.node_id
 ORDER BY coalesce(NULLIF(n.parent_node, n.me), n.node_id), n.parent_node <> n.me, n.node_id;
COMMENT ON VIEW icos.node_status IS
	'At head office one row per node of the tree, at a hub one per store under it (in tree order: a hub, then the stores under it): for the nodes whose link is with this node, its state (up, down, disabled, not provisioned, or which direction is stalled), lag towards the node (bytes not yet confirmed by its slot, seconds of replay lag) and from it (bytes its slot had not confirmed at its last heartbeat, seconds its last heartbeat took to arrive), apply errors on either side, WAL retained for the link on either side, wal_status of this side''s slot (lost: re-seed); for a store under a hub, link_state "via hub H" and the figures its heartbeats bring end to end (the hub''s own view has the link).  Order lines waiting for an answer at the node.  icos node status prints it.';
COMMENT ON COLUMN icos.node_status.node_id IS 'the node';
COMMENT ON COLUMN icos.node_status.stores IS 'the stores (store ids) the node owns';
COMMENT ON COLUMN icos.node_status.link_state IS 'up, down, disabled, not provisioned, store not reading (this side receives, the node does not read this side''s slot), not receiving from store, or via hub H (the link is the hub''s)';
COMMENT ON COLUMN icos.node_status.to_store_lag_bytes IS 'WAL written here that the node''s subscription has not confirmed';
COMMENT ON COLUMN icos.node_status.to_store_lag_s IS 'replay lag of the node''s subscription (seconds), null when idle or disconnected';
COMMENT ON COLUMN icos.node_status.from_store_lag_bytes IS 'WAL written at the node that its subscriber had not confirmed, as of the node''s last heartbeat';
COMMENT ON COLUMN icos.node_status.from_store_lag_s IS 'seconds between the node writing its last heartbeat and this node receiving it (through its hub, for a store under one)';
COMMENT ON COLUMN icos.node_status.last_heartbeat IS 'when the node wrote its last heartbeat that reached here';
COMMENT ON COLUMN icos.node_status.heartbeat_age_s IS 'seconds since that heartbeat (grows while the node or a link on the way is down)';
COMMENT ON COLUMN icos.node_status.hq_apply_errors IS 'errors applying the node''s changes here so far';
COMMENT ON COLUMN icos.node_status.store_apply_errors IS 'errors applying its parent''s changes at the node so far (as of its last heartbeat)';
COMMENT ON COLUMN icos.node_status.hq_retained_wal_bytes IS 'WAL this node keeps for the node''s slot';
COMMENT ON COLUMN icos.node_status.store_retained_wal_bytes IS 'WAL the node keeps for its slots (as of its last heartbeat)';
COMMENT ON COLUMN icos.node_status.wal_status IS 'wal_status of this side''s slot for the node: reserved, extended, unreserved or lost (re-seed)';
COMMENT ON COLUMN icos.node_status.pending_requests IS 'order lines at the node waiting for an answer from another node';
COMMENT ON COLUMN icos.node_status.kind IS 'store or hub';
COMMENT ON COLUMN icos.node_status.parent_node IS 'the node it replicates with: head office, or its hub';

REVOKE ALL ON icos.node_tree FROM PUBLIC;
GRANT SELECT ON icos.node_tree TO icos_admin;
REVOKE ALL ON FUNCTION icos.attach_node(int, text, int, text), icos.refresh_publications(int) FROM PUBLIC;

-- Availability at head office: what an order writes for replication's sake ------
--
-- Every change of a store's stock counters at head office rewrites that
-- store's availability row, which goes to every node.  INSERT ... ON CONFLICT
-- DO UPDATE locked the row first, one WAL record more per change; an update
-- that finds the row writes only the new version, and fillfactor 50 leaves
-- room on the page for it to stay HOT (no index entries), at head office and
-- at every node applying it.

ALTER TABLE icos.stock_availability SET (fillfactor = 50);

CREATE OR REPLACE FUNCTION icos._availability_derive() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_store int := CASE WHEN TG_OP = 'DELETE' THEN OLD.store_id ELSE NEW.store_id END;
	v_upc icos.upc := CASE WHEN TG_OP = 'DELETE' THEN OLD.upc ELSE NEW.upc END;
	v_on_hand int;
	v_reserved int;
	v_old icos.stock_availability;
BEGIN
	IF TG_OP = 'UPDATE' AND (OLD.store_id, OLD.upc, OLD.on_hand, OLD.reserved)
		IS NOT DISTINCT FROM (NEW.store_id, NEW.upc, NEW.on_hand, NEW.reserved) THEN
		RETURN NULL;
	END IF;
	SELECT coalesce(sum(s.on_hand), 0), coalesce(sum(s.reserved), 0) INTO v_on_hand, v_reserved
	  FROM icos.stock_slot s
	 WHERE s.store_id = v_store AND s.upc OPERATOR(pg_catalog.=) v_upc;
	SELECT * INTO v_old FROM icos.stock_availability a
	 WHERE a.store_id = v_store AND a.upc OPERATOR(pg_catalog.=) v_upc;
	IF NOT FOUND THEN
		-- the first change of the product at the store (rare): as before
		INSERT INTO icos.stock_availability AS a (store_id, upc, on_hand, reserved, available)
		VALUES (v_store, v_upc, v_on_hand, v_reserved, v_on_hand - v_reserved)
		ON CONFLICT (store_id, upc) DO UPDATE
		   SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, available = EXCLUDED.available,
			   changed_at = EXCLUDED.changed_at;
	ELSIF (v_old.on_hand, v_old.reserved) IS DISTINCT FROM (v_on_hand, v_reserved) THEN
		UPDATE icos.stock_availability a
		   SET on_hand = v_on_hand, reserved = v_reserved, available = v_on_hand - v_reserved,
			   changed_at = pg_catalog.clock_timestamp()
		 WHERE a.store_id = v_store AND a.upc OPERATOR(pg_catalog.=) v_upc;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._availability_derive() IS
	'internal: trigger at HQ (fires also in the apply worker): refreshes the icos.stock_availability row of the changed store and product from its slots, writing only when a counter of the row moved';

-- Moving a store to another parent (icos node move-store) ------------------------
--
-- While a store changes parent, its new parent's subscription copies what the
-- store already has from the old one (head office's tables and the requests
-- and answers addressed to it).  For that window a store applies such a row
-- as an update of the one it has; every other apply still fails on a key it
-- meets twice, which is what shows a loop.

CREATE FUNCTION icos._apply_upsert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_keys text;
	v_key_values text;
	v_cols text;
	v_values text;
	n bigint;
BEGIN
	SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', a.attname), ', ' ORDER BY k.ord),
		   pg_catalog.string_agg(pg_catalog.format('($1).%I', a.attname), ', ' ORDER BY k.ord)
	  INTO v_keys, v_key_values
	  FROM pg_catalog.pg_index i
	 CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
	  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	 WHERE i.indrelid = TG_RELID AND i.indisprimary;
	IF v_keys IS NULL THEN
		RETURN NEW;
	END IF;
	IF TG_ARGV[0] = 'skip' THEN
		-- an insert-only row: the one already here is the same row
		EXECUTE pg_catalog.format('SELECT count(*) FROM %s t WHERE (%s) = (%s)',
								  TG_RELID::regclass, v_keys, v_key_values) INTO n USING NEW;
	ELSE
		SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum),
			   pg_catalog.string_agg(pg_catalog.format('($1).%I', a.attname), ', ' ORDER BY a.attnum)
		  INTO v_cols, v_values
		  FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
		EXECUTE pg_catalog.format('UPDATE %s t SET (%s) = ROW(%s) WHERE (%s) = (%s)',
								  TG_RELID::regclass, v_cols, v_values, v_keys, v_key_values) USING NEW;
		GET DIAGNOSTICS n = ROW_COUNT;
	END IF;
	RETURN CASE WHEN n > 0 THEN NULL ELSE NEW END;
END
$$;
COMMENT ON FUNCTION icos._apply_upsert() IS
	'internal: apply-time trigger while a store moves or is re-seeded (icos.set_apply_upsert): a replicated row whose key is here already updates that row (TG_ARGV[0] = skip: is dropped, for insert-only rows) instead of failing';

CREATE FUNCTION icos.set_apply_upsert(enabled boolean) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t record;
	n int := 0;
BEGIN
	PERFORM icos._require_admin();
	IF enabled IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'say whether to enable or disable the apply upsert',
			HINT = 'Pass true while the store moves to another parent, false once it is in step with it.';
	END IF;
	-- at a store, what it receives from its parent; at a hub or head office,
	-- the requests and answers that pass through (never deleted there)
	FOR t IN SELECT DISTINCT r.table_name, r.owner = 'route' AS insert_only
			   FROM icos.replicated_tables() r
			  WHERE CASE WHEN (SELECT n.kind FROM icos.node n) = 'store' THEN r.owner IN ('hq', 'route')
						 ELSE r.owner = 'route' END
			  ORDER BY 1
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
						WHERE g.tgrelid = t.table_name::regclass AND g.tgname = 'icos_apply_upsert') THEN
			EXECUTE pg_catalog.format('CREATE TRIGGER icos_apply_upsert BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION icos._apply_upsert(%L)',
									  t.table_name, CASE WHEN t.insert_only THEN 'skip' ELSE 'update' END);
			EXECUTE pg_catalog.format('COMMENT ON TRIGGER icos_apply_upsert ON %s IS %L', t.table_name,
									  'icos: while the store moves to another parent, a row received twice updates the one here (icos.set_apply_upsert)');
		END IF;
		EXECUTE pg_catalog.format('ALTER TABLE %s %s TRIGGER icos_apply_upsert', t.table_name,
								  CASE WHEN enabled THEN 'ENABLE REPLICA' ELSE 'DISABLE' END);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION icos.set_apply_upsert(boolean) IS
	'While a store moves to another parent or is re-seeded (icos node move-store, reseed).  Enabled at the store, a row of head office''s tables, or a request or answer addressed to the store, that the new parent''s subscription copies or sends again updates the one the store has instead of stopping the link; enabled at a hub or head office, a request or answer copied again is dropped (they keep every one that passed through them).  Disabled again once the nodes are in step.  Returns the tables concerned.  Superuser only.';

CREATE FUNCTION icos.create_move_publication(store_node int, new_parent int) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_pub text := pg_catalog.format('icos_move_%s', store_node);
	v_tables text;
	v_region int[];
BEGIN
	PERFORM icos._require_admin();
	IF (SELECT kind FROM icos.node) = 'store' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'this database is a store node',
			HINT = 'Run it at the hub or head office the store leaves (icos node move-store does).';
	END IF;
	IF NOT icos._is_hub(new_parent) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('node %s is not a hub', coalesce(new_parent::text, 'NULL')),
			HINT = 'Only a hub a store moves to needs a copy of its rows; head office has them.';
	END IF;
	-- requests and answers of the store addressed to the new hub's region
	-- are there already (they went through head office)
	v_region := icos._region(new_parent);
	SELECT pg_catalog.string_agg(t.table_name || ' WHERE (' || icos._publication_filter(t.filter_kind, t.filter_column, store_node)
								 || CASE WHEN t.table_name IN ('icos.stock_request', 'icos.stock_response')
										 THEN pg_catalog.format(' AND NOT (to_node IN (%s))', pg_catalog.array_to_string(v_region, ', '))
										 ELSE '' END || ')', ', ' ORDER BY t.table_name)
	  INTO v_tables
	  FROM icos.replicated_tables() t WHERE t.owner = 'store';
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_publication p WHERE p.pubname = v_pub) THEN
		EXECUTE pg_catalog.format('DROP PUBLICATION %I', v_pub);
	END IF;
	EXECUTE pg_catalog.format('CREATE PUBLICATION %I FOR TABLE %s WITH (publish = %L)', v_pub, v_tables, 'insert');
	RETURN v_pub;
END
$$;
COMMENT ON FUNCTION icos.create_move_publication(int, int) IS
	'At the hub or head office a store node leaves, once its link from the store has stopped (icos node move-store): (re)creates the publication icos_move_N of this node''s copies of the store''s rows, from which the hub new_parent copies them before it follows the store, so that the store''s later updates find their rows there.  Leaves out the store''s requests and answers addressed to the new hub''s region, which it has.  icos.drop_publications drops it.  Superuser only.';

CREATE OR REPLACE FUNCTION icos.reseed_prepare(store_node int) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	me icos.node;
	r record;
	n bigint;
	v_done jsonb := '{}';
BEGIN
	PERFORM icos._require_admin();
	SELECT * INTO me FROM icos.node;
	IF store_node IS NULL OR store_node = me.node_id AND me.kind <> 'store' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a store node id is required',
			HINT = 'Give the node id of the store whose copies go.';
	END IF;
	-- the links with the node, under head office or under a hub
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s
				WHERE s.subname ~ pg_catalog.format('^icos_(hq|hub_[0-9]+)_to_%s$', store_node)
				   OR s.subname ~ pg_catalog.format('^icos_store_%s_to_(hq|hub_[0-9]+)$', store_node)) THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = pg_catalog.format('node %s is still subscribed', store_node),
			HINT = 'Run icos node remove-store first (icos node reseed and move-store do both).';
	END IF;
	-- Copies of the other side's rows go; the initial copy of the new
	-- subscription brings them back.  Replica mode: the guards and the
	-- append-only triggers are for live changes, not for dropping a copy.
	PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
	IF me.kind IN ('hq', 'hub') THEN
		-- at a hub: what passed through it from the store (its publications
		-- towards head office no longer cover the store)
		-- requests and answers stay: other nodes received them through here,
		-- and a copy that brings them again is dropped (icos.set_apply_upsert)
		FOR r IN SELECT t.table_name, icos._publication_filter(t.filter_kind, t.filter_column, store_node) AS f
				 FROM icos.replicated_tables() t WHERE t.owner = 'store'
				   AND t.table_name NOT IN ('icos.stock_request', 'icos.stock_response')
				 ORDER BY t.table_name DESC
		LOOP
			EXECUTE pg_catalog.format('DELETE FROM %s WHERE %s', r.table_name, r.f);
			GET DIAGNOSTICS n = ROW_COUNT;
			v_done := v_done || pg_catalog.jsonb_build_object(r.table_name, n);
		END LOOP;
	ELSE
		FOR r IN SELECT DISTINCT t.table_name,
						CASE WHEN t.table_name = 'icos.node_heartbeat' THEN 'node_id <> icos.current_node()'
							 WHEN t.owner = 'route' THEN 'from_node <> icos.current_node()'
							 ELSE 'true' END AS f
				 FROM icos.replicated_tables() t WHERE t.owner IN ('hq', 'route')
				 ORDER BY t.table_name DESC
		LOOP
			EXECUTE pg_catalog.format('DELETE FROM %s WHERE %s', r.table_name, r.f);
			GET DIAGNOSTICS n = ROW_COUNT;
			v_done := v_done || pg_catalog.jsonb_build_object(r.table_name, n);
		END LOOP;
	END IF;
	PERFORM pg_catalog.set_config('session_replication_role', 'origin', true);
	RETURN v_done;
END
$$;
COMMENT ON FUNCTION icos.reseed_prepare(int) IS
	'Before re-seeding store node store_node (icos node reseed; its subscriptions must be gone, under head office or a hub): at HQ deletes the copies of that node''s rows, at the store the copies of head office''s rows, at a hub the copies of the store''s rows that passed through it (icos node move-store and reseed run it at the hub the store leaves); a hub and head office keep the store''s requests and answers, which went on to other nodes (the copy that follows drops them, icos.set_apply_upsert); returns the rows deleted per table; the new subscriptions copy them again.  Superuser only.';

REVOKE ALL ON FUNCTION icos.set_apply_upsert(boolean), icos.create_move_publication(int, int) FROM PUBLIC;
