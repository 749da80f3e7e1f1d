-- icos 0.2.0: reports.  The sales facts every report is built from, a
-- daily rollup that is maintained without a hot row, icos.sales_report, the
-- reporting views for BI tools and the C aggregates sales_summary and
-- top_sellers.  docs/reports.md explains the design and the definitions.
--
-- Definitions (one order line that is not cancelled counts; pence inside):
--   units    = qty (units sold, returned ones included)
--   gross    = qty * unit_price_pence (list price of what was sold)
--   discount = discount_pence (promotions on the units kept)
--   returns  = returned_qty * unit_price_pence (list price of what came back)
--   net      = net_pence (what the customer pays for the units kept);
--              for lines priced by the order API net = gross - discount - returns
--   orders   = distinct orders with at least one counted line in the group
--
-- The rollup.  Every change of an order line appends one row to the
-- insert-only table icos.sales_delta (a trigger; never an UPDATE of a shared
-- row, so concurrent tills never wait for each other or for the rollup).
-- icos.rollup_sales() folds the deltas visible to its snapshot into
-- icos.sales_rollup (day x store x channel x product, x category subtree and
-- x nothing) and deletes them, in one statement.  icos.sales_report reads the
-- rollup plus the deltas not yet folded (same snapshot), so its answers are
-- exact and current whenever the fold runs; raw lines are read only for the
-- partial days at the edges of the period and for the groupings the rollup
-- does not have (hour, employee, promotion).
--
-- Distinct orders are not additive over deltas, so a group's order count is
-- folded from per-(order, group) line counts: an order counts in a group
-- when it has at least one counted line there now, and counted there before
-- when (lines now - lines added by the pending deltas) > 0.

-- Settings and state ---------------------------------------------------------

CREATE TABLE icos.sales_rollup_state (
	only_row          boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	time_zone         text NOT NULL DEFAULT 'Europe/London',
	built_time_zone   text,
	category_current  boolean NOT NULL DEFAULT true,
	folded_at         timestamptz,
	folded_deltas     bigint NOT NULL DEFAULT 0,
	rebuilt_at        timestamptz,
	CHECK (pg_catalog.now() AT TIME ZONE time_zone IS NOT NULL)
);
COMMENT ON TABLE icos.sales_rollup_state IS
	'One row: the reporting time zone and the state of the sales rollup (changed by head office and by icos.rollup_sales only)';
COMMENT ON COLUMN icos.sales_rollup_state.only_row IS 'Always true: the table has one row';
COMMENT ON COLUMN icos.sales_rollup_state.time_zone IS
	'Time zone of report days and hours (a day is midnight to midnight there).  Changing it makes the rollup wait for a rebuild';
COMMENT ON COLUMN icos.sales_rollup_state.built_time_zone IS
	'Time zone the rollup days were built in; while it differs from time_zone reports read raw lines';
COMMENT ON COLUMN icos.sales_rollup_state.category_current IS
	'False after a product changed category or a category moved in the tree: category rows of the rollup are rebuilt by the next icos.rollup_sales()';
COMMENT ON COLUMN icos.sales_rollup_state.folded_at IS 'When icos.rollup_sales last folded deltas';
COMMENT ON COLUMN icos.sales_rollup_state.folded_deltas IS 'Delta rows folded by the last icos.rollup_sales';
COMMENT ON COLUMN icos.sales_rollup_state.rebuilt_at IS 'When the rollup was last rebuilt from the order lines';
INSERT INTO icos.sales_rollup_state (time_zone, built_time_zone) VALUES ('Europe/London', 'Europe/London');
-- Dumped with the data; on restore the dumped row replaces the one CREATE
-- EXTENSION made (the trigger of icos.node, 0.1.0).
CREATE TRIGGER sales_rollup_state_replace_row BEFORE INSERT ON icos.sales_rollup_state
	FOR EACH ROW EXECUTE FUNCTION icos._config_replace_row();
COMMENT ON TRIGGER sales_rollup_state_replace_row ON icos.sales_rollup_state IS
	'An inserted state row replaces the existing one (restores from pg_dump)';
SELECT pg_catalog.pg_extension_config_dump('icos.sales_rollup_state', '');

CREATE INDEX orders_placed_at_report_idx ON icos.orders (placed_at);
COMMENT ON INDEX icos.orders_placed_at_report_idx IS
	'Reports: orders of a period (edges of a report period, hour/employee/promotion groupings, icos.sales_lines)';

-- The category tree ---------------------------------------------------------

CREATE VIEW icos.category_path AS
WITH RECURSIVE t(category_id, path, ancestors, depth) AS (
	SELECT c.category_id, c.name, ARRAY[c.category_id], 1
	FROM icos.category c WHERE c.parent_id IS NULL
	UNION ALL
	SELECT c.category_id, t.path OPERATOR(pg_catalog.||) ' > ' OPERATOR(pg_catalog.||) c.name,
		   t.ancestors OPERATOR(pg_catalog.||) c.category_id, t.depth + 1
	FROM icos.category c JOIN t ON c.parent_id = t.category_id
)
SELECT t.category_id, t.path, t.ancestors, t.depth FROM t;
COMMENT ON VIEW icos.category_path IS
	'Every category reachable from a root with its path (''Electronics > Televisions > OLED''), its ancestors from the root down (itself last) and its depth';
COMMENT ON COLUMN icos.category_path.category_id IS 'The category';
COMMENT ON COLUMN icos.category_path.path IS 'Names from the root down, joined by '' > ''';
COMMENT ON COLUMN icos.category_path.ancestors IS 'Category ids from the root down to the category itself';
COMMENT ON COLUMN icos.category_path.depth IS '1 for a root category';

-- Deltas: the only thing order placement writes for reporting ---------------

CREATE TABLE icos.sales_delta (
	code        icos.order_code NOT NULL,
	store_id    int NOT NULL,
	upc         icos.upc NOT NULL,
	d_lines     int NOT NULL,
	d_units     bigint NOT NULL,
	d_gross     bigint NOT NULL,
	d_discount  bigint NOT NULL,
	d_net       bigint NOT NULL,
	d_returns   bigint NOT NULL
);
COMMENT ON TABLE icos.sales_delta IS
	'Insert-only log of changes to counted order lines not yet folded into icos.sales_rollup (written by a trigger on icos.order_line, emptied by icos.rollup_sales)';
COMMENT ON COLUMN icos.sales_delta.code IS 'The order';
COMMENT ON COLUMN icos.sales_delta.store_id IS 'The order''s selling store';
COMMENT ON COLUMN icos.sales_delta.upc IS 'The product of the line';
COMMENT ON COLUMN icos.sales_delta.d_lines IS 'Change in the number of counted (not cancelled) lines: -1, 0 or +1';
COMMENT ON COLUMN icos.sales_delta.d_units IS 'Change in units';
COMMENT ON COLUMN icos.sales_delta.d_gross IS 'Change in gross, pence';
COMMENT ON COLUMN icos.sales_delta.d_discount IS 'Change in discount, pence';
COMMENT ON COLUMN icos.sales_delta.d_net IS 'Change in net, pence';
COMMENT ON COLUMN icos.sales_delta.d_returns IS 'Change in returns (list price of returned units), pence';
-- Not dumped, nor is the rollup: restoring icos.order_line fires the delta
-- trigger for every line, so a restored database starts with an empty rollup
-- and every line pending (exact); run icos.rebuild_sales_rollup() after it.

-- In C (src/sales_delta.c): the same rows as the PL/pgSQL it replaced, without
-- a PL/pgSQL call and two search_path switches per order line placed.  A line
-- counts unless cancelled; a counted line changed in place is one row of
-- differences (d_lines 0), otherwise the old line comes out (-1) and the new
-- one goes in (+1).  It depends on no search_path (apply workers fire it).
CREATE FUNCTION icos._sales_delta_trigger() RETURNS trigger
AS 'MODULE_PATHNAME', 'sales_delta_trigger'
LANGUAGE C;
COMMENT ON FUNCTION icos._sales_delta_trigger() IS
	'Trigger on icos.order_line: appends the change of a counted line to icos.sales_delta (insert only, no shared row)';

CREATE TRIGGER sales_delta_ins AFTER INSERT OR DELETE ON icos.order_line
	FOR EACH ROW EXECUTE FUNCTION icos._sales_delta_trigger();
CREATE TRIGGER sales_delta_upd AFTER UPDATE ON icos.order_line
	FOR EACH ROW
	WHEN ((OLD.status = 'cancelled') IS DISTINCT FROM (NEW.status = 'cancelled')
		  OR OLD.qty <> NEW.qty OR OLD.unit_price_pence <> NEW.unit_price_pence
		  OR OLD.discount_pence <> NEW.discount_pence OR OLD.net_pence <> NEW.net_pence
		  OR OLD.returned_qty <> NEW.returned_qty OR OLD.upc <> NEW.upc
		  OR OLD.code <> NEW.code OR OLD.store_id <> NEW.store_id)
	EXECUTE FUNCTION icos._sales_delta_trigger();
-- Also on a node that receives the lines by logical replication (head office).
ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER sales_delta_ins;
ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER sales_delta_upd;
COMMENT ON TRIGGER sales_delta_ins ON icos.order_line IS
	'Reports: a new or deleted line is a delta for icos.sales_rollup (fires under replication too)';
COMMENT ON TRIGGER sales_delta_upd ON icos.order_line IS
	'Reports: a change to what a line counts for (status, quantities, prices) is a delta for icos.sales_rollup';

-- The rollup ------------------------------------------------------------------

CREATE TABLE icos.sales_rollup (
	level     "char" NOT NULL CHECK (level IN ('p', 'c', 't', 'P', 'C', 'T')),
	day       date NOT NULL,
	store_id  int NOT NULL,
	channel   text NOT NULL,
	key       bigint NOT NULL,
	orders    bigint NOT NULL,
	lines     bigint NOT NULL,
	units     bigint NOT NULL,
	gross     bigint NOT NULL,
	discount  bigint NOT NULL,
	net       bigint NOT NULL,
	returns   bigint NOT NULL,
	PRIMARY KEY (level, day, store_id, channel, key)
);
COMMENT ON TABLE icos.sales_rollup IS
	'Folded daily sales per store and channel, at three levels: per product, per category subtree and in total.  Written only by icos.rollup_sales and icos.rebuild_sales_rollup';
COMMENT ON COLUMN icos.sales_rollup.level IS 'p: key is a product (the GTIN-14 as bigint); c: key is a category id, the row covers its whole subtree (-1: uncategorised); t: key is 0, all products.  Upper case (P, C, T): the same for a whole month, day is its first day';
COMMENT ON COLUMN icos.sales_rollup.day IS 'Day of icos.orders.placed_at in the reporting time zone (first day of the month for month rows)';
COMMENT ON COLUMN icos.sales_rollup.store_id IS 'Selling store';
COMMENT ON COLUMN icos.sales_rollup.channel IS 'Order channel';
COMMENT ON COLUMN icos.sales_rollup.key IS 'Product, category or 0, by level';
COMMENT ON COLUMN icos.sales_rollup.orders IS 'Distinct orders with a counted line in the group';
COMMENT ON COLUMN icos.sales_rollup.lines IS 'Counted (not cancelled) lines';
COMMENT ON COLUMN icos.sales_rollup.units IS 'Units sold';
COMMENT ON COLUMN icos.sales_rollup.gross IS 'List price of units sold, pence';
COMMENT ON COLUMN icos.sales_rollup.discount IS 'Discounts, pence';
COMMENT ON COLUMN icos.sales_rollup.net IS 'Net sales, pence';
COMMENT ON COLUMN icos.sales_rollup.returns IS 'List price of returned units, pence';

/*
 * The contribution of pending deltas (p_all false) or of every line
 * (p_all true, for a rebuild) to each rollup row.  Plain SQL so that it is
 * inlined into the statement that uses it and shares its snapshot.
 */
CREATE FUNCTION icos._sales_contrib(p_all boolean)
RETURNS TABLE(level "char", day date, store_id int, channel text, key bigint, orders bigint,
			  lines bigint, units bigint, gross bigint, discount bigint, net bigint, returns bigint)
LANGUAGE sql STABLE
AS $$
	WITH d AS (
		SELECT s.code, s.store_id, s.upc, sum(s.d_lines) AS dl, sum(s.d_units) AS du,
			   sum(s.d_gross) AS dg, sum(s.d_discount) AS dd, sum(s.d_net) AS dn, sum(s.d_returns) AS dr
		FROM icos.sales_delta s
		WHERE NOT p_all
		GROUP BY s.code, s.store_id, s.upc
	), dirty AS (
		SELECT DISTINCT d.code, d.store_id FROM d
	), cur AS (
		SELECT l.code, l.store_id, l.upc, count(*) AS n
		FROM icos.order_line l
		JOIN dirty ON dirty.code OPERATOR(pg_catalog.=) l.code AND dirty.store_id = l.store_id
		WHERE l.status <> 'cancelled'
		GROUP BY l.code, l.store_id, l.upc
	), pu AS (
		-- per order and product: counted lines now and before the pending deltas
		SELECT coalesce(d.code, c.code) AS code, coalesce(d.store_id, c.store_id) AS store_id,
			   coalesce(d.upc, c.upc) AS upc,
			   coalesce(c.n, 0) AS now_n, coalesce(c.n, 0) - coalesce(d.dl, 0) AS was_n,
			   coalesce(d.du, 0) AS du, coalesce(d.dg, 0) AS dg, coalesce(d.dd, 0) AS dd,
			   coalesce(d.dn, 0) AS dn, coalesce(d.dr, 0) AS dr
		FROM d FULL JOIN cur c
			ON c.code OPERATOR(pg_catalog.=) d.code AND c.store_id = d.store_id
			   AND c.upc OPERATOR(pg_catalog.=) d.upc
		WHERE NOT p_all
		UNION ALL
		SELECT l.code, l.store_id, l.upc, count(*), 0, sum(l.qty), sum(l.qty * l.unit_price_pence),
			   sum(l.discount_pence), sum(l.net_pence), sum(l.returned_qty * l.unit_price_pence)
		FROM icos.order_line l
		WHERE p_all AND l.status <> 'cancelled'
		GROUP BY l.code, l.store_id, l.upc
	), po AS MATERIALIZED (
		SELECT pu.*, (o.placed_at AT TIME ZONE st.time_zone)::date AS day, o.channel
		FROM pu
		JOIN icos.orders o ON o.code OPERATOR(pg_catalog.=) pu.code AND o.store_id = pu.store_id
		CROSS JOIN icos.sales_rollup_state st
	), pc AS (
		SELECT p.upc, coalesce(cp.ancestors, ARRAY[-1]) AS ancestors
		FROM icos.product p LEFT JOIN icos.category_path cp ON cp.category_id = p.category_id
	), dly AS MATERIALIZED (
	SELECT 'p'::"char" AS level, po.day AS day, po.store_id AS store_id, po.channel AS channel, po.upc::bigint AS key,
		   sum((po.now_n > 0)::int - (po.was_n > 0)::int) AS orders, sum(po.now_n - po.was_n) AS lines,
		   sum(po.du) AS units, sum(po.dg) AS gross, sum(po.dd) AS discount, sum(po.dn) AS net, sum(po.dr) AS returns
	FROM po
	GROUP BY po.day, po.store_id, po.channel, po.upc
	UNION ALL
	SELECT 'c'::"char", x.day, x.store_id, x.channel, x.cat,
		   sum((x.now_n > 0)::int - (x.was_n > 0)::int), sum(x.now_n - x.was_n),
		   sum(x.du), sum(x.dg), sum(x.dd), sum(x.dn), sum(x.dr)
	FROM (SELECT po.code, po.day, po.store_id, po.channel, a.cat,
				 sum(po.now_n) AS now_n, sum(po.was_n) AS was_n, sum(po.du) AS du, sum(po.dg) AS dg,
				 sum(po.dd) AS dd, sum(po.dn) AS dn, sum(po.dr) AS dr
		  FROM po
		  JOIN pc ON pc.upc OPERATOR(pg_catalog.=) po.upc
		  CROSS JOIN LATERAL pg_catalog.unnest(pc.ancestors) AS a(cat)
		  GROUP BY po.code, po.store_id, po.day, po.channel, a.cat) x
	GROUP BY x.day, x.store_id, x.channel, x.cat
	UNION ALL
	SELECT 't'::"char", x.day, x.store_id, x.channel, 0,
		   sum((x.now_n > 0)::int - (x.was_n > 0)::int), sum(x.now_n - x.was_n),
		   sum(x.du), sum(x.dg), sum(x.dd), sum(x.dn), sum(x.dr)
	FROM (SELECT po.code, po.day, po.store_id, po.channel,
				 sum(po.now_n) AS now_n, sum(po.was_n) AS was_n, sum(po.du) AS du, sum(po.dg) AS dg,
				 sum(po.dd) AS dd, sum(po.dn) AS dn, sum(po.dr) AS dr
		  FROM po
		  GROUP BY po.code, po.store_id, po.day, po.channel) x
	GROUP BY x.day, x.store_id, x.channel
	)
	-- Day rows, and month rows (orders are additive over days: an order has one day).
	SELECT dly.level, dly.day, dly.store_id, dly.channel, dly.key, dly.orders::bigint, dly.lines::bigint,
		   dly.units::bigint, dly.gross::bigint, dly.discount::bigint, dly.net::bigint, dly.returns::bigint
	FROM dly
	UNION ALL
	SELECT pg_catalog.upper(dly.level::text)::"char", pg_catalog.date_trunc('month', dly.day)::date, dly.store_id,
		   dly.channel, dly.key, sum(dly.orders)::bigint, sum(dly.lines)::bigint, sum(dly.units)::bigint,
		   sum(dly.gross)::bigint, sum(dly.discount)::bigint, sum(dly.net)::bigint, sum(dly.returns)::bigint
	FROM dly
	GROUP BY 1, 2, 3, 4, 5
$$;
COMMENT ON FUNCTION icos._sales_contrib(boolean) IS
	'Rollup rows contributed by the pending deltas (false) or by every order line (true); distinct orders from per-(order, group) line counts';

CREATE FUNCTION icos.rebuild_sales_rollup() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM pg_catalog.pg_advisory_xact_lock(1768124275, 1);
	-- Nothing may change a line while the rollup is rebuilt from the lines
	-- and the deltas are dropped (two statements must agree).
	LOCK TABLE icos.order_line IN SHARE MODE;
	DELETE FROM icos.sales_delta;
	DELETE FROM icos.sales_rollup;
	UPDATE icos.sales_rollup_state
	SET built_time_zone = time_zone, category_current = true, rebuilt_at = pg_catalog.now();
	INSERT INTO icos.sales_rollup
	SELECT c.* FROM icos._sales_contrib(true) c;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION icos.rebuild_sales_rollup() IS
	'Rebuilds the sales rollup from every order line (after a bulk load, a time zone change or a category move); blocks order placement while it runs; returns the rollup rows written';

CREATE FUNCTION icos.rollup_sales() RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st     icos.sales_rollup_state;
	n_del  bigint;
	n_rows bigint;
	t0     timestamptz := pg_catalog.clock_timestamp();
BEGIN
	-- One fold at a time; order placement never takes this lock.
	PERFORM pg_catalog.pg_advisory_xact_lock(1768124275, 1);
	SELECT * INTO st FROM icos.sales_rollup_state;
	IF st.built_time_zone IS DISTINCT FROM st.time_zone OR NOT st.category_current THEN
		n_rows := icos.rebuild_sales_rollup();
		RETURN pg_catalog.jsonb_build_object('rebuilt', true, 'rollup_rows', n_rows,
			'ms', round(extract(epoch FROM pg_catalog.clock_timestamp() - t0)::numeric * 1000, 1));
	END IF;
	-- One statement, one snapshot: the deltas it sees are the ones folded
	-- and deleted; deltas committed meanwhile wait for the next fold.
	WITH c AS (
		SELECT * FROM icos._sales_contrib(false)
	), up AS (
		INSERT INTO icos.sales_rollup AS r
		SELECT * FROM c
		ON CONFLICT (level, day, store_id, channel, key) DO UPDATE
		SET orders = r.orders + excluded.orders, lines = r.lines + excluded.lines,
			units = r.units + excluded.units, gross = r.gross + excluded.gross,
			discount = r.discount + excluded.discount, net = r.net + excluded.net,
			returns = r.returns + excluded.returns
		RETURNING 1
	), del AS (
		DELETE FROM icos.sales_delta RETURNING 1
	)
	SELECT (SELECT count(*) FROM del), (SELECT count(*) FROM up) INTO n_del, n_rows;
	UPDATE icos.sales_rollup_state SET folded_at = pg_catalog.now(), folded_deltas = n_del;
	RETURN pg_catalog.jsonb_build_object('rebuilt', false, 'deltas', n_del, 'rollup_rows', n_rows,
		'ms', round(extract(epoch FROM pg_catalog.clock_timestamp() - t0)::numeric * 1000, 1));
END
$$;
COMMENT ON FUNCTION icos.rollup_sales() IS
	'Folds pending sales deltas into icos.sales_rollup (run every few minutes from cron or pg_cron); never blocks order placement; returns what it did as jsonb';

-- A category move or a product changing category invalidates the category
-- rows of the rollup: mark them, the next rollup_sales() rebuilds.
CREATE FUNCTION icos._sales_category_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE icos.sales_rollup_state SET category_current = false WHERE category_current;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION icos._sales_category_changed() IS
	'Trigger: the category tree or a product''s category changed, so the category rows of the sales rollup must be rebuilt';
-- (A DELETE cannot matter: a category with products or children, or a
-- product with order lines, cannot be deleted.)
CREATE TRIGGER sales_category_moved AFTER UPDATE OF parent_id ON icos.category
	FOR EACH STATEMENT EXECUTE FUNCTION icos._sales_category_changed();
CREATE TRIGGER sales_product_recategorised AFTER UPDATE OF category_id ON icos.product
	FOR EACH STATEMENT EXECUTE FUNCTION icos._sales_category_changed();
COMMENT ON TRIGGER sales_category_moved ON icos.category IS
	'Reports: category rows of the sales rollup are rebuilt after the tree changes';
COMMENT ON TRIGGER sales_product_recategorised ON icos.product IS
	'Reports: category rows of the sales rollup are rebuilt after a product changes category';

-- Reporting view for BI tools -------------------------------------------------

CREATE VIEW icos.sales_lines WITH (security_invoker = true) AS
SELECT o.code, l.line, o.placed_at,
	   (o.placed_at AT TIME ZONE st.time_zone)::date AS day,
	   extract(hour FROM o.placed_at AT TIME ZONE st.time_zone)::int AS hour,
	   o.store_id, s.name AS store_name, o.channel,
	   o.employee_id, e.full_name AS employee_name,
	   l.upc, p.name AS product_name, p.category_id, cp.path AS category_path,
	   coalesce(pr.promotions, '[]'::jsonb) AS promotions,
	   ARRAY(SELECT (x ->> 'id')::int FROM pg_catalog.jsonb_array_elements(coalesce(pr.promotions, '[]'::jsonb)) x)
		   AS promotion_ids,
	   l.qty, icos._pounds(l.unit_price_pence) AS unit_price,
	   icos._pounds(l.qty * l.unit_price_pence) AS gross,
	   icos._pounds(l.discount_pence) AS discount,
	   icos._pounds(l.net_pence) AS net,
	   l.status, l.returned_qty,
	   icos._pounds(l.returned_qty * l.unit_price_pence) AS returns,
	   l.status <> 'cancelled' AS counted
FROM icos.order_line l
JOIN icos.orders o ON o.code OPERATOR(pg_catalog.=) l.code AND o.store_id = l.store_id
JOIN icos.store s ON s.store_id = o.store_id
JOIN icos.product p ON p.upc OPERATOR(pg_catalog.=) l.upc
CROSS JOIN icos.sales_rollup_state st
LEFT JOIN icos.employee e ON e.employee_id = o.employee_id
LEFT JOIN icos.category_path cp ON cp.category_id = p.category_id
LEFT JOIN LATERAL (
	SELECT x -> 'promotions' AS promotions
	FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(o.pricing -> 'lines') = 'array'
											  THEN o.pricing -> 'lines' ELSE '[]'::jsonb END) x
	WHERE (x ->> 'line')::int = l.line AND pg_catalog.jsonb_typeof(x -> 'promotions') = 'array'
	LIMIT 1
) pr ON true;
COMMENT ON VIEW icos.sales_lines IS
	'One row per order line with everything a report groups by (day, hour, store, channel, employee, product, category path, promotions) and its money in pounds; cancelled lines included (counted = false)';
COMMENT ON COLUMN icos.sales_lines.code IS 'The order';
COMMENT ON COLUMN icos.sales_lines.line IS 'Line number within the order';
COMMENT ON COLUMN icos.sales_lines.placed_at IS 'When the order was placed';
COMMENT ON COLUMN icos.sales_lines.day IS 'Day of placed_at in the reporting time zone (icos.sales_rollup_state.time_zone)';
COMMENT ON COLUMN icos.sales_lines.hour IS 'Hour of the day (0-23) of placed_at in the reporting time zone';
COMMENT ON COLUMN icos.sales_lines.store_id IS 'Selling store';
COMMENT ON COLUMN icos.sales_lines.store_name IS 'Selling store''s name';
COMMENT ON COLUMN icos.sales_lines.channel IS 'store, phone, web or pos';
COMMENT ON COLUMN icos.sales_lines.employee_id IS 'Employee who took the order (null: not an employee session)';
COMMENT ON COLUMN icos.sales_lines.employee_name IS 'That employee''s name';
COMMENT ON COLUMN icos.sales_lines.upc IS 'The product';
COMMENT ON COLUMN icos.sales_lines.product_name IS 'The product''s name';
COMMENT ON COLUMN icos.sales_lines.category_id IS 'The product''s category';
COMMENT ON COLUMN icos.sales_lines.category_path IS 'The category''s path from the root';
COMMENT ON COLUMN icos.sales_lines.promotions IS 'Promotions that discounted the line, [{"id", "amount"}] from the order''s pricing; [] when none';
COMMENT ON COLUMN icos.sales_lines.promotion_ids IS 'Ids of those promotions';
COMMENT ON COLUMN icos.sales_lines.qty IS 'Units sold (returned ones included)';
COMMENT ON COLUMN icos.sales_lines.unit_price IS 'List price per unit, pounds';
COMMENT ON COLUMN icos.sales_lines.gross IS 'qty x unit_price, pounds';
COMMENT ON COLUMN icos.sales_lines.discount IS 'Discount on the line, pounds';
COMMENT ON COLUMN icos.sales_lines.net IS 'What the customer pays for the units kept, pounds (0 when cancelled)';
COMMENT ON COLUMN icos.sales_lines.status IS 'Line status; cancelled lines do not count in reports';
COMMENT ON COLUMN icos.sales_lines.returned_qty IS 'Units brought back';
COMMENT ON COLUMN icos.sales_lines.returns IS 'returned_qty x unit_price, pounds';
COMMENT ON COLUMN icos.sales_lines.counted IS 'False for a cancelled line (reports leave it out)';

-- sales_report ------------------------------------------------------------------

/*
 * Raw lines of [p_from, p_to) grouped by p_by, money in pence.  Keys are the
 * same text as the rolled-up path gives.
 */
CREATE FUNCTION icos._sales_raw(p_from timestamptz, p_to timestamptz, p_by text, p_store int,
								p_channel text, p_tz text)
RETURNS TABLE(key text, orders bigint, lines bigint, units bigint, gross bigint, discount bigint,
			  net bigint, returns bigint)
LANGUAGE sql STABLE
AS $$
	WITH f AS MATERIALIZED (
		SELECT o.code, o.store_id, o.channel, o.employee_id, o.placed_at, o.pricing, l.line, l.upc, l.qty,
			   l.qty * l.unit_price_pence AS gross, l.discount_pence AS discount, l.net_pence AS net,
			   l.returned_qty * l.unit_price_pence AS returns
		FROM icos.orders o
		JOIN icos.order_line l ON l.code OPERATOR(pg_catalog.=) o.code AND l.store_id = o.store_id
		WHERE o.placed_at >= p_from AND o.placed_at < p_to AND l.status <> 'cancelled'
		  AND (p_store IS NULL OR o.store_id = p_store)
		  AND (p_channel IS NULL OR o.channel = p_channel)
	), pc AS (
		SELECT p.upc, coalesce(cp.ancestors, ARRAY[-1]) AS ancestors
		FROM icos.product p LEFT JOIN icos.category_path cp ON cp.category_id = p.category_id
		WHERE p_by = 'category'
	), k AS (
		SELECT f.code, f.qty, f.gross, f.net, f.returns, f.discount, a.cat::text AS key
		FROM f JOIN pc ON pc.upc OPERATOR(pg_catalog.=) f.upc
		CROSS JOIN LATERAL pg_catalog.unnest(pc.ancestors) a(cat)
		WHERE p_by = 'category'
		UNION ALL
		SELECT f.code, f.qty, f.gross, f.net, f.returns, f.discount,
			   CASE p_by
				   WHEN 'product' THEN f.upc::text
				   WHEN 'store' THEN f.store_id::text
				   WHEN 'channel' THEN f.channel
				   WHEN 'day' THEN pg_catalog.to_char(f.placed_at AT TIME ZONE p_tz, 'YYYY-MM-DD')
				   WHEN 'hour' THEN pg_catalog.to_char(f.placed_at AT TIME ZONE p_tz, 'HH24')
				   WHEN 'employee' THEN coalesce(f.employee_id::text, 'none')
			   END
		FROM f
		WHERE p_by IN ('product', 'store', 'channel', 'day', 'hour', 'employee')
		UNION ALL
		SELECT f.code, f.qty, f.gross, f.net, f.returns, coalesce(pm.amount, f.discount), coalesce(pm.id, 'none')
		FROM f
		CROSS JOIN LATERAL (
			SELECT x -> 'promotions' AS list
			FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(f.pricing -> 'lines') = 'array'
													  THEN f.pricing -> 'lines' ELSE '[]'::jsonb END) x
			WHERE (x ->> 'line')::int = f.line AND pg_catalog.jsonb_typeof(x -> 'promotions') = 'array'
			UNION ALL SELECT '[]'::jsonb
			LIMIT 1
		) pl
		LEFT JOIN LATERAL (
			SELECT e ->> 'id' AS id, (((e ->> 'amount')::numeric) * 100)::bigint AS amount
			FROM pg_catalog.jsonb_array_elements(pl.list) e
		) pm ON true
		WHERE p_by = 'promotion'
	)
	SELECT k.key, count(DISTINCT k.code), count(*), sum(k.qty), sum(k.gross), sum(k.discount),
		   sum(k.net), sum(k.returns)
	FROM k
	GROUP BY k.key
$$;
COMMENT ON FUNCTION icos._sales_raw(timestamptz, timestamptz, text, int, text, text) IS
	'sales_report from raw order lines of a period (pence); used for the edges of a period and the groupings the rollup lacks';

/*
 * The pending deltas of one level for days [p_d0, p_d1).  PL/pgSQL so that
 * its large query is planned only when there are deltas (it runs in the
 * caller's snapshot: a STABLE function takes none of its own).
 */
CREATE FUNCTION icos._sales_pending(p_level "char", p_d0 date, p_d1 date, p_store int, p_channel text)
RETURNS SETOF icos.sales_rollup
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT c.* FROM icos._sales_contrib(false) c
	WHERE c.level = p_level AND c.day >= p_d0 AND c.day < p_d1
	  AND (p_store IS NULL OR c.store_id = p_store) AND (p_channel IS NULL OR c.channel = p_channel);
END
$$;
COMMENT ON FUNCTION icos._sales_pending("char", date, date, int, text) IS
	'Rollup rows of one level contributed by the deltas not yet folded, for a range of days';

/*
 * Whole days [p_d0, p_d1) from the rollup (month rows for the whole months
 * inside, day rows for the rest) plus the pending deltas (day rows).
 */
CREATE FUNCTION icos._sales_rolled(p_d0 date, p_d1 date, p_by text, p_store int, p_channel text,
								   p_pending boolean, p_lv "char", p_m0 date, p_m1 date)
RETURNS TABLE(key text, orders bigint, lines bigint, units bigint, gross bigint, discount bigint,
			  net bigint, returns bigint)
LANGUAGE sql STABLE
AS $$
	-- p_lv is the day level (c, p or t); whole months [p_m0, p_m1) come from
	-- the month level (upper case) except when grouping by day.
	WITH r AS (
		SELECT r.day, r.store_id, r.channel, r.key, r.orders, r.lines, r.units, r.gross, r.discount, r.net, r.returns
		FROM icos.sales_rollup r
		WHERE r.level = p_lv AND r.day >= p_d0 AND r.day < p_m0
		  AND (p_store IS NULL OR r.store_id = p_store) AND (p_channel IS NULL OR r.channel = p_channel)
		UNION ALL
		SELECT r.day, r.store_id, r.channel, r.key, r.orders, r.lines, r.units, r.gross, r.discount, r.net, r.returns
		FROM icos.sales_rollup r
		WHERE r.level = p_lv AND r.day >= p_m1 AND r.day < p_d1
		  AND (p_store IS NULL OR r.store_id = p_store) AND (p_channel IS NULL OR r.channel = p_channel)
		UNION ALL
		SELECT r.day, r.store_id, r.channel, r.key, r.orders, r.lines, r.units, r.gross, r.discount, r.net, r.returns
		FROM icos.sales_rollup r
		WHERE r.level = CASE WHEN p_by = 'day' THEN p_lv ELSE pg_catalog.upper(p_lv::text)::"char" END
		  AND r.day >= p_m0 AND r.day < p_m1
		  AND (p_store IS NULL OR r.store_id = p_store) AND (p_channel IS NULL OR r.channel = p_channel)
		UNION ALL
		SELECT c.day, c.store_id, c.channel, c.key, c.orders, c.lines, c.units, c.gross, c.discount, c.net, c.returns
		FROM icos._sales_pending(p_lv, p_d0, p_d1, p_store, p_channel) c
		WHERE p_pending
	), g AS (
		SELECT CASE p_by WHEN 'store' THEN r.store_id::bigint WHEN 'category' THEN r.key
						 WHEN 'product' THEN r.key END AS nkey,
			   CASE p_by WHEN 'channel' THEN r.channel
						 WHEN 'day' THEN pg_catalog.to_char(r.day, 'YYYY-MM-DD') END AS tkey,
			   sum(r.orders) AS orders, sum(r.lines) AS lines, sum(r.units) AS units, sum(r.gross) AS gross,
			   sum(r.discount) AS discount, sum(r.net) AS net, sum(r.returns) AS returns
		FROM r
		GROUP BY 1, 2
	)
	SELECT CASE p_by WHEN 'product' THEN (g.nkey::icos.upc)::text
					 WHEN 'category' THEN g.nkey::text
					 WHEN 'store' THEN g.nkey::text
					 ELSE g.tkey END,
		   g.orders::bigint, g.lines::bigint, g.units::bigint, g.gross::bigint, g.discount::bigint,
		   g.net::bigint, g.returns::bigint
	FROM g
$$;
COMMENT ON FUNCTION icos._sales_rolled(date, date, text, int, text, boolean, "char", date, date) IS
	'sales_report for whole days from icos.sales_rollup (month rows where possible) plus the deltas not yet folded (pence)';

CREATE FUNCTION icos.sales_report(from_ts timestamptz, to_ts timestamptz, by text DEFAULT 'category',
								  store_id int DEFAULT NULL, channel text DEFAULT NULL)
RETURNS TABLE(key text, label text, orders bigint, units bigint, gross numeric, discount numeric,
			  net numeric, returns numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_by      text := $3;
	p_store   int := $4;
	p_channel text := $5;
	st        icos.sales_rollup_state;
	v_rolled  boolean;
	d0        date;
	d1        date;
	t0        timestamptz;
	t1        timestamptz;
	v_promo   boolean := pg_catalog.to_regclass('icos.promotion') IS NOT NULL;
	v_pending boolean := EXISTS (SELECT 1 FROM icos.sales_delta);
	v_lv      "char" := CASE $3 WHEN 'category' THEN 'c' WHEN 'product' THEN 'p' ELSE 't' END;
	m0        date;
	m1        date;
BEGIN
	IF from_ts IS NULL OR to_ts IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a sales report needs a start and an end',
			HINT = 'Give from_ts and to_ts, for example icos.sales_report(''2024-03-01'', ''2024-04-01'').';
	END IF;
	IF from_ts > to_ts THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('the report period ends (%s) before it starts (%s)', to_ts, from_ts),
			HINT = 'Swap the two dates.';
	END IF;
	IF p_by IS NULL OR p_by NOT IN ('category', 'product', 'store', 'channel', 'day', 'hour', 'employee', 'promotion') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('cannot group a sales report by "%s"', coalesce(p_by, '')),
			HINT = 'Group by category, product, store, channel, day, hour, employee or promotion.';
	END IF;
	IF p_channel IS NOT NULL AND p_channel NOT IN ('store', 'phone', 'web', 'pos') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown channel "%s"', p_channel),
			HINT = 'The channel is one of store, phone, web or pos.';
	END IF;
	IF p_store IS NOT NULL AND NOT EXISTS (SELECT 1 FROM icos.store s WHERE s.store_id = p_store) THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004', MESSAGE = pg_catalog.format('unknown store %s', p_store),
			HINT = 'See icos.store for the store numbers.';
	END IF;
	-- A store's employees report on their own store; head office on any.
	IF NOT icos._sees_all_stores() THEN
		IF icos._current_store() IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'you may not run sales reports',
				DETAIL = 'Your login is not an employee of a store or of head office.';
		END IF;
		IF p_store IS NULL THEN
			p_store := icos._current_store();
		ELSIF p_store <> icos._current_store() THEN
			RAISE EXCEPTION USING ERRCODE = '42501',
				MESSAGE = pg_catalog.format('you may not report on store %s', p_store),
				DETAIL = pg_catalog.format('Your employee record is at store %s.', icos._current_store()),
				HINT = 'Head office (reporters) can report on every store.';
		END IF;
	END IF;

	SELECT * INTO st FROM icos.sales_rollup_state;
	-- Whole report days inside the period come from the rollup.
	v_rolled := p_by IN ('category', 'product', 'store', 'channel', 'day')
		AND st.built_time_zone = st.time_zone AND (p_by <> 'category' OR st.category_current);
	IF v_rolled THEN
		d0 := (from_ts AT TIME ZONE st.time_zone)::date;
		IF (d0::timestamp AT TIME ZONE st.time_zone) < from_ts THEN
			d0 := d0 + 1;
		END IF;
		d1 := (to_ts AT TIME ZONE st.time_zone)::date;
		v_rolled := d0 < d1;
	END IF;
	IF v_rolled THEN
		-- whole months [m0, m1) inside [d0, d1) come from month rows
		m0 := (pg_catalog.date_trunc('month', d0 - 1) + interval '1 month')::date;
		m1 := pg_catalog.date_trunc('month', d1)::date;
		IF m0 >= m1 THEN
			m0 := d1;
			m1 := d1;
		END IF;
		t0 := d0::timestamp AT TIME ZONE st.time_zone;
		t1 := d1::timestamp AT TIME ZONE st.time_zone;
	ELSE
		t0 := to_ts;
		t1 := to_ts;
	END IF;

	RETURN QUERY
	WITH parts AS (
		SELECT * FROM icos._sales_rolled(d0, d1, p_by, p_store, p_channel, v_pending, v_lv, m0, m1) WHERE v_rolled
		UNION ALL
		SELECT * FROM icos._sales_raw(from_ts, t0, p_by, p_store, p_channel, st.time_zone) WHERE from_ts < t0
		UNION ALL
		SELECT * FROM icos._sales_raw(t1, to_ts, p_by, p_store, p_channel, st.time_zone) WHERE v_rolled AND t1 < to_ts
	), g AS (
		SELECT pa.key, sum(pa.orders)::bigint AS orders, sum(pa.lines) AS lines, sum(pa.units)::bigint AS units,
			   sum(pa.gross) AS gross, sum(pa.discount) AS discount, sum(pa.net) AS net,
			   sum(pa.returns) AS returns
		FROM parts pa
		GROUP BY pa.key
		HAVING sum(pa.lines) > 0
	)
	SELECT CASE WHEN g.key = '-1' THEN 'none' ELSE g.key END,
		   CASE p_by
			   WHEN 'category' THEN coalesce(cp.path, 'uncategorised')
			   WHEN 'product' THEN p.name
			   WHEN 'store' THEN s.name
			   WHEN 'channel' THEN CASE g.key WHEN 'store' THEN 'in store' WHEN 'pos' THEN 'till'
											  WHEN 'phone' THEN 'telephone' WHEN 'web' THEN 'website' END
			   WHEN 'day' THEN pg_catalog.to_char(g.key::date, 'Dy DD Mon YYYY')
			   WHEN 'hour' THEN g.key || ':00-' || pg_catalog.lpad(((g.key::int + 1) % 24)::text, 2, '0') || ':00'
			   WHEN 'employee' THEN coalesce(e.full_name, 'no employee (website or service account)')
			   WHEN 'promotion' THEN CASE WHEN g.key = 'none' THEN 'no promotion'
										  ELSE coalesce(icos._promotion_name(g.key, v_promo), 'promotion ' || g.key) END
		   END,
		   g.orders, g.units, icos._pounds(g.gross::bigint), icos._pounds(g.discount::bigint),
		   icos._pounds(g.net::bigint), icos._pounds(g.returns::bigint)
	FROM g
	LEFT JOIN icos.category_path cp
		ON p_by = 'category' AND cp.category_id = CASE WHEN g.key ~ '^[0-9]{1,9}$' THEN g.key::int END
	LEFT JOIN icos.product p
		ON p_by = 'product' AND p.upc OPERATOR(pg_catalog.=) CASE WHEN p_by = 'product' THEN g.key::icos.upc END
	LEFT JOIN icos.store s
		ON p_by = 'store' AND s.store_id = CASE WHEN g.key ~ '^[0-9]{1,9}$' THEN g.key::int END
	LEFT JOIN icos.employee e
		ON p_by = 'employee' AND e.employee_id = CASE WHEN g.key ~ '^[0-9]{1,9}$' THEN g.key::int END
	ORDER BY g.key IN ('none', '-1'),
			 CASE WHEN p_by = 'category' THEN cp.path END,
			 CASE WHEN p_by IN ('store', 'employee', 'promotion') AND g.key ~ '^[0-9]{1,18}$' THEN g.key::bigint END,
			 g.key;
END
$$;
COMMENT ON FUNCTION icos.sales_report(timestamptz, timestamptz, text, int, text) IS
	'Sales of [from_ts, to_ts) grouped by category (each category with its sub-categories), product, store, channel, day, hour (of day), employee or promotion; cancelled lines left out, returns separate; exact and current';

/*
 * Name of a promotion by id when the promotion table exists (promotions
 * arrive in a later release); null otherwise.
 */
CREATE FUNCTION icos._promotion_name(p_id text, p_exists boolean) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v text;
BEGIN
	IF NOT p_exists OR p_id !~ '^[0-9]{1,9}$' THEN
		RETURN NULL;
	END IF;
	EXECUTE 'SELECT name FROM icos.promotion WHERE promotion_id = $1' INTO v USING p_id::int;
	RETURN v;
END
$$;
COMMENT ON FUNCTION icos._promotion_name(text, boolean) IS
	'Name of promotion p_id from icos.promotion when that table exists (later releases), else null';

-- C aggregates ------------------------------------------------------------------

CREATE TYPE icos.sales_summary_result AS (
	orders     bigint,
	lines      bigint,
	units      bigint,
	gross      numeric,
	discount   numeric,
	net        numeric,
	returns    numeric,
	avg_basket numeric
);
COMMENT ON TYPE icos.sales_summary_result IS
	'Result of icos.sales_summary: distinct orders, lines, units, money in pounds and the average basket (net / orders, to the penny; null without orders)';

CREATE FUNCTION icos._sales_summary_transfn(internal, icos.order_code, bigint, numeric, numeric, numeric, numeric)
RETURNS internal AS 'MODULE_PATHNAME', 'sales_summary_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._sales_summary_transfn(internal, icos.order_code, bigint, numeric, numeric, numeric, numeric) IS
	'State transition of icos.sales_summary';
CREATE FUNCTION icos._sales_summary_combinefn(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'sales_summary_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._sales_summary_combinefn(internal, internal) IS 'Combines two partial states of icos.sales_summary';
CREATE FUNCTION icos._sales_summary_serialfn(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'sales_summary_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._sales_summary_serialfn(internal) IS 'Serializes a partial state of icos.sales_summary';
CREATE FUNCTION icos._sales_summary_deserialfn(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'sales_summary_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._sales_summary_deserialfn(bytea, internal) IS
	'Deserializes and validates a partial state of icos.sales_summary';
CREATE FUNCTION icos._sales_summary_finalfn(internal)
RETURNS icos.sales_summary_result AS 'MODULE_PATHNAME', 'sales_summary_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._sales_summary_finalfn(internal) IS 'Result of icos.sales_summary';

CREATE AGGREGATE icos.sales_summary(code icos.order_code, units bigint, gross numeric, discount numeric,
									net numeric, returns numeric) (
	SFUNC = icos._sales_summary_transfn,
	STYPE = internal,
	FINALFUNC = icos._sales_summary_finalfn,
	COMBINEFUNC = icos._sales_summary_combinefn,
	SERIALFUNC = icos._sales_summary_serialfn,
	DESERIALFUNC = icos._sales_summary_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE icos.sales_summary(icos.order_code, bigint, numeric, numeric, numeric, numeric) IS
	'One pass over order lines (code, units, gross, discount, net, returns in pounds): distinct orders, lines, units, sums and average basket; rows with a null are skipped';

CREATE FUNCTION icos._top_sellers_transfn(internal, icos.upc, bigint, int)
RETURNS internal AS 'MODULE_PATHNAME', 'top_sellers_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._top_sellers_transfn(internal, icos.upc, bigint, int) IS 'State transition of icos.top_sellers';
CREATE FUNCTION icos._top_sellers_combinefn(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'top_sellers_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._top_sellers_combinefn(internal, internal) IS 'Combines two partial states of icos.top_sellers';
CREATE FUNCTION icos._top_sellers_serialfn(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'top_sellers_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._top_sellers_serialfn(internal) IS 'Serializes a partial state of icos.top_sellers';
CREATE FUNCTION icos._top_sellers_deserialfn(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'top_sellers_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._top_sellers_deserialfn(bytea, internal) IS
	'Deserializes and validates a partial state of icos.top_sellers';
CREATE FUNCTION icos._top_sellers_finalfn(internal)
RETURNS jsonb AS 'MODULE_PATHNAME', 'top_sellers_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._top_sellers_finalfn(internal) IS 'Result of icos.top_sellers';

CREATE AGGREGATE icos.top_sellers(upc icos.upc, qty bigint, k int) (
	SFUNC = icos._top_sellers_transfn,
	STYPE = internal,
	FINALFUNC = icos._top_sellers_finalfn,
	COMBINEFUNC = icos._top_sellers_combinefn,
	SERIALFUNC = icos._top_sellers_serialfn,
	DESERIALFUNC = icos._top_sellers_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE icos.top_sellers(icos.upc, bigint, int) IS
	'The k best-selling products, exact: jsonb [{"upc", "qty"}] by quantity descending, ties by code; [] without rows';
