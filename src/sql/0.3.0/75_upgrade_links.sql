-- icos 0.3.0: a node that was already replicating when it is upgraded.
--
-- 0.3.0 adds tables that replicate (icos.setting and icos.node_tree from
-- head office; icos.order_request, icos.order_feedback and the customer
-- care tables from the stores).  On a node whose publications exist, this
-- gives the new tables the ownership guards icos.setup_replication gives
-- the others and puts them into this node's publications, with their row
-- filters, exactly as icos.replicated_tables() describes them.  A fresh
-- install, or a node not yet linked, has no publication and is left alone.
-- Subscribers must then refresh once (ALTER SUBSCRIPTION ... REFRESH
-- PUBLICATION), which no extension script can do: docs/replication.md,
-- "Upgrading the extension across nodes".
DO $links$
DECLARE
	me icos.node;
	n  int;
BEGIN
	SELECT * INTO me FROM icos.node;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication p WHERE p.pubname LIKE 'icos\_%') THEN
		RETURN;
	END IF;
	PERFORM icos.setup_replication();
	IF me.kind = 'store' THEN
		PERFORM icos.refresh_publications(me.node_id);
	ELSE
		-- Head office (or a hub): one route publication per linked node,
		-- and the publications every link shares.
		FOR n IN SELECT DISTINCT pg_catalog.substring(p.pubname, '^icos_hq_route_([0-9]+)$')::int
				   FROM pg_catalog.pg_publication p
				  WHERE p.pubname ~ '^icos_hq_route_[0-9]+$' LOOP
			PERFORM icos.refresh_publications(n);
		END LOOP;
	END IF;
END
$links$;
