-- Opening stock, received by each node for its own stores
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- A store's stock rows belong to the node that serves it, so every node
-- receives its own; head office derives everyone's availability from them.
-- Deterministic but uneven; made-to-order items are never stocked.  The
-- 77in OLED is held only at Leeds Trinity, and is on display nowhere.
CREATE TEMP TABLE demo_stock AS
SELECT s.store_id, p.upc,
	   CASE WHEN p.name LIKE 'Lumen 77in%' THEN CASE s.store_id WHEN 12 THEN 2 ELSE 0 END
			WHEN s.kind = 'warehouse' THEN 20 + abs(hashtext(p.upc::text)) % 40
			ELSE abs(hashtext(p.upc::text || s.store_id)) % 12 END AS qty
FROM icos.product p CROSS JOIN icos.store s
WHERE s.kind IN ('store', 'warehouse') AND NOT p.made_to_order AND s.node_id = icos.current_node();

\o /dev/null
SELECT count(icos.receive_stock(store_id, upc, qty, 'opening stock')) FROM demo_stock WHERE qty > 0;
SELECT count(icos.set_display(s.store_id, p.upc, true))
FROM icos.product p JOIN icos.store s ON s.kind = 'store' AND s.node_id = icos.current_node()
WHERE p.name NOT LIKE 'Lumen 77in%' AND abs(hashtext(p.upc::text || s.store_id)) % 3 <> 0;
\o
\pset footer off
SELECT CASE n.kind WHEN 'hq' THEN 'head office' ELSE n.name END AS node, string_agg(DISTINCT s.name, ', ') AS stores, sum(d.qty) AS units_received
FROM demo_stock d JOIN icos.store s USING (store_id) CROSS JOIN icos.node n GROUP BY n.kind, n.name;
