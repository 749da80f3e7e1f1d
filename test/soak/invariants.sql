-- Invariants after a soak (or any load): psql -v codes=FILE -f invariants.sql
-- FILE has one line per acknowledged order: code TAB target TAB lines.
-- Prints one row per check with its count of violations; every count must
-- be 0.
\set ON_ERROR_STOP 1
CREATE TEMP TABLE acknowledged(code text, target int, lines int);
\set copy '\\copy acknowledged FROM ' :'codes'
:copy
\pset footer off
SELECT 'acknowledged orders' AS "check", count(*) AS checked, 0::bigint AS violations
FROM acknowledged
UNION ALL
SELECT 'acknowledged orders missing', count(*), count(*) FILTER (WHERE o.code IS NULL)
FROM acknowledged a LEFT JOIN icos.orders o ON o.code = a.code::icos.order_code
UNION ALL
SELECT 'acknowledged orders without all their lines', count(*),
	   count(*) FILTER (WHERE (SELECT count(*) FROM icos.order_line l
							   WHERE l.code = a.code::icos.order_code) <> a.lines)
FROM acknowledged a
UNION ALL
SELECT 'acknowledged orders without a payment', count(*),
	   count(*) FILTER (WHERE NOT EXISTS (SELECT FROM icos.order_payment p
										  WHERE p.code = a.code::icos.order_code))
FROM acknowledged a
UNION ALL
SELECT 'orders without lines', count(*),
	   count(*) FILTER (WHERE NOT EXISTS (SELECT FROM icos.order_line l WHERE l.code = o.code))
FROM icos.orders o
UNION ALL
SELECT 'stock counters disagreeing with the ledger (verify_stock)', 1, count(*)
FROM icos.verify_stock()
UNION ALL
-- Every reserved unit belongs to an open order line or an unexpired hold.
SELECT 'reserved units not held by a line or a hold', count(*),
	   count(*) FILTER (WHERE s.reserved <> coalesce(l.held, 0) + coalesce(h.held, 0))
FROM icos.stock s
LEFT JOIN (SELECT fulfil_from, upc, sum(reserved_qty) AS held FROM icos.order_line
		   GROUP BY 1, 2) l ON l.fulfil_from = s.store_id AND l.upc = s.upc
LEFT JOIN (SELECT store_id, upc, sum(qty) AS held FROM icos.stock_hold
		   WHERE status = 'active' AND expires_at > now() GROUP BY 1, 2) h
	   ON h.store_id = s.store_id AND h.upc = s.upc
UNION ALL
-- Every unit received is still on hand or left with a sold line.
SELECT 'units neither on hand nor sold', count(*),
	   count(*) FILTER (WHERE s.on_hand + coalesce(l.gone, 0) <> coalesce(r.received, 0))
FROM icos.stock s
LEFT JOIN (SELECT fulfil_from, upc, sum(consumed_qty - returned_qty) AS gone FROM icos.order_line
		   GROUP BY 1, 2) l ON l.fulfil_from = s.store_id AND l.upc = s.upc
LEFT JOIN (SELECT store_id, upc, sum(d_on_hand) AS received FROM icos.stock_movement
		   WHERE kind IN ('receipt', 'adjustment', 'transfer') GROUP BY 1, 2) r ON r.store_id = s.store_id AND r.upc = s.upc;
