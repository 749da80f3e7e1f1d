-- icos 0.3.0: VAT, and what the order document gives a web shop to map
-- (API.md, additions of 0.3.0; docs/orders.md "VAT", docs/catalogue.md).
--
--   icos.vat_class          the VAT classes of products: standard, reduced, zero
--   icos.product.vat_class  each product's class (standard unless head office says)
--   icos.vat_rate           head office's rate of a class, replicated to every
--                           node; a class without a row has the UK rate
--                           (icos._vat_rate_default: 20, 5 and 0 per cent)
--   icos.vat_rates          the rate of every class now
--   icos.product_vat_rate   the rate of every product now: the rate an order
--                           line is written with (src/lookup.c) and keeps
--   icos.order_line.vat_rate, icos._vat_pence
--                           the line's rate, and the one rounding rule of VAT
--   icos.orders.metadata    the caller's object given at placement
--   icos.receipt            prints the VAT included per rate
--   icos.sales_report       adds the column vat
--   icos.order_summary      one row per order for reporting tools

CREATE TYPE icos.vat_class AS ENUM ('standard', 'reduced', 'zero');
COMMENT ON TYPE icos.vat_class IS
	'A product''s VAT class: standard, reduced or zero (the rate of each is in icos.vat_rates)';

ALTER TABLE icos.product ADD COLUMN vat_class icos.vat_class NOT NULL DEFAULT 'standard';
COMMENT ON COLUMN icos.product.vat_class IS
	'VAT class: standard (default), reduced or zero; an order line keeps the rate of its class at the time it is written';

-- Rates head office decides.  The table starts empty, as icos.setting does:
-- a class without a row has its UK rate, so a store node's copy, filled by
-- replication from head office, never meets a row of its own.
CREATE FUNCTION icos._vat_rate_default(p_class icos.vat_class) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT (CASE p_class WHEN 'standard' THEN 20 WHEN 'reduced' THEN 5 WHEN 'zero' THEN 0 END)::numeric(5,2)
$$;
COMMENT ON FUNCTION icos._vat_rate_default(icos.vat_class) IS
	'internal: the rate of a VAT class while icos.vat_rate has no row for it: the United Kingdom''s, standard 20, reduced 5, zero 0 (per cent)';

CREATE TABLE icos.vat_rate (
	vat_class	icos.vat_class PRIMARY KEY,
	rate		numeric(5,2) NOT NULL CONSTRAINT vat_rate_rate_check CHECK (rate >= 0 AND rate < 100)
);
COMMENT ON TABLE icos.vat_rate IS
	'VAT rates head office decides for every node (replicated to the stores, read-only there): one row per class whose rate differs from the UK rate (standard 20, reduced 5, zero 0 per cent).  Admins write it with plain SQL; lines already written keep their rate.';
COMMENT ON COLUMN icos.vat_rate.vat_class IS 'the class: standard, reduced or zero';
COMMENT ON COLUMN icos.vat_rate.rate IS 'its rate in per cent, 0 to 99.99 (e.g. 20.00)';
COMMENT ON CONSTRAINT vat_rate_rate_check ON icos.vat_rate IS 'A VAT rate is a percentage from 0 up to, not including, 100';

-- The order engine caches products' rates per backend with the products
-- (src/lookup.c): a change of a rate empties those caches, as a change of a
-- product does (the pattern of 0.2.0/42_lookup_cache.sql).
CREATE TRIGGER lookup_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.vat_rate
	FOR EACH STATEMENT EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed ON icos.vat_rate IS
	'place_order caches each product''s VAT rate per backend: empty those caches when a rate changes';
ALTER TABLE icos.vat_rate ENABLE ALWAYS TRIGGER lookup_changed;
CREATE TRIGGER lookup_changed_apply AFTER INSERT OR UPDATE OR DELETE ON icos.vat_rate
	FOR EACH ROW EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER lookup_changed_apply ON icos.vat_rate IS
	'fires in replica sessions only: the replication apply worker fires no statement trigger, so this one empties place_order''s per-backend VAT rate caches';
ALTER TABLE icos.vat_rate ENABLE REPLICA TRIGGER lookup_changed_apply;

CREATE VIEW icos.vat_rates AS
SELECT c.vat_class, coalesce(r.rate, icos._vat_rate_default(c.vat_class)) AS rate
FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::icos.vat_class)) AS c(vat_class)
LEFT JOIN icos.vat_rate r ON r.vat_class = c.vat_class;
COMMENT ON VIEW icos.vat_rates IS 'The VAT rate of every class now: its row of icos.vat_rate, else the UK rate';
COMMENT ON COLUMN icos.vat_rates.vat_class IS 'standard, reduced or zero';
COMMENT ON COLUMN icos.vat_rates.rate IS 'rate in per cent';

CREATE VIEW icos.product_vat_rate AS
SELECT p.upc, p.vat_class, v.rate AS vat_rate
FROM icos.product p JOIN icos.vat_rates v ON v.vat_class = p.vat_class;
COMMENT ON VIEW icos.product_vat_rate IS
	'The VAT rate of every product now (its class''s, icos.vat_rates): the rate an order line is written with';
COMMENT ON COLUMN icos.product_vat_rate.upc IS 'the product';
COMMENT ON COLUMN icos.product_vat_rate.vat_class IS 'its VAT class';
COMMENT ON COLUMN icos.product_vat_rate.vat_rate IS 'its rate now, per cent';

-- The line's rate, fixed when the line is written.  Lines of 0.2.0, and
-- lines a node still at 0.2.0 sends after head office is upgraded, take
-- the default: 0.2.0 had no VAT classes, and every product then was
-- standard-rated (docs/orders.md, "VAT").
ALTER TABLE icos.order_line
	ADD COLUMN vat_rate numeric(5,2) NOT NULL DEFAULT icos._vat_rate_default('standard');
COMMENT ON COLUMN icos.order_line.vat_rate IS
	'VAT rate of the line in per cent, its product''s rate when the line was written (icos.product_vat_rate); the line''s price includes it';

-- The one rule of a VAT amount: the VAT included in a VAT-inclusive amount,
-- amount x rate / (100 + rate), rounded to the nearest penny, halves away
-- from zero; computed per line and summed (the order, the receipt, reports).
CREATE FUNCTION icos._vat_pence(p_pence bigint, p_rate numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT pg_catalog.round(p_pence::pg_catalog.numeric OPERATOR(pg_catalog.*) p_rate
							OPERATOR(pg_catalog./) (100 OPERATOR(pg_catalog.+) p_rate))::pg_catalog.int8
$$;
COMMENT ON FUNCTION icos._vat_pence(bigint, numeric) IS
	'internal: the VAT in pence included in an amount of p_pence at p_rate per cent: pence x rate / (100 + rate) rounded to the nearest penny, halves up';

-- The caller's own data of an order (place_order "metadata").
ALTER TABLE icos.orders ADD COLUMN metadata jsonb;
COMMENT ON COLUMN icos.orders.metadata IS
	'The JSON object given as "metadata" at placement (at most 4096 characters as JSON text), or null; shown by icos.order';

-- Receipts: the VAT summary a UK VAT receipt shows -----------------------------

CREATE OR REPLACE FUNCTION icos.receipt(code icos.order_code, reprint boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_code    icos.order_code := $1;
	p_reprint boolean := coalesce($2, false);
	o         icos.orders;
	s         icos.store;
	v_emp     text;
	r         text[] := '{}';
	l         record;
	v_rule    text := pg_catalog.repeat('-', 40);
	v_paid    bigint;
	v_change  bigint;
	pr        record;
	v_named   bigint;
	v_rows    text[];
	v_vat     bigint;
BEGIN
	SELECT * INTO o FROM icos.orders WHERE code = p_code;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004', MESSAGE = pg_catalog.format('unknown order %s', coalesce(p_code::text, '(no code given)')),
			DETAIL = 'No order has this code.';
	END IF;
	SELECT * INTO s FROM icos.store WHERE store_id = o.store_id;
	SELECT e.full_name INTO v_emp FROM icos.employee e WHERE e.employee_id = o.employee_id;

	IF p_reprint THEN
		r := r || '*************** REPRINT ***************'::text;
	END IF;
	r := r || pg_catalog.upper(s.name);
	IF s.address IS NOT NULL THEN
		r := r || pg_catalog.concat_ws(', ', s.address ->> 'line1', s.address ->> 'town', s.address ->> 'postcode');
	END IF;
	r := r || v_rule
		   || ('Order: ' || o.code::text)
		   || ('Date:  ' || pg_catalog.to_char(o.placed_at, 'YYYY-MM-DD HH24:MI'))
		   || ('Served by: ' || coalesce(v_emp || ' (' || o.employee_id || ')', 'online'))
		   || ('Channel: ' || o.channel || '   Delivery: ' || CASE o.delivery_method
				WHEN 'carry' THEN 'taken now' WHEN 'home' THEN 'home' ELSE 'collect' END)
		   || v_rule;
	FOR l IN SELECT ol.*, p.name FROM icos.order_line ol JOIN icos.product p ON p.upc = ol.upc
			 WHERE ol.code = o.code ORDER BY ol.line LOOP
		r := r || pg_catalog.left(l.name, 40);
		r := r || icos._receipt_row(pg_catalog.format('  %s x %s  %s', l.qty - l.returned_qty,
									icos._pounds(l.unit_price_pence), l.upc),
									CASE WHEN l.status = 'cancelled' THEN 'CANCELLED'
										 ELSE icos._pounds(l.unit_price_pence * (l.qty - l.returned_qty))::text END);
		IF l.discount_pence > 0 THEN
			-- One row per promotion that discounted the line, named (the
			-- order's last pricing); one plain row when that does not add up.
			v_named := 0;
			v_rows := '{}';
			FOR pr IN SELECT (x ->> 'id') AS id, (x ->> 'amount')::numeric AS amount,
							 (SELECT a ->> 'name'
							  FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(o.pricing -> 'applied') = 'array'
																		THEN o.pricing -> 'applied' ELSE '[]' END) a
							  WHERE a ->> 'id' = x ->> 'id') AS name
					  FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(o.pricing -> 'lines') = 'array'
																THEN o.pricing -> 'lines' ELSE '[]' END) pl,
						   pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(pl -> 'promotions') = 'array'
																THEN pl -> 'promotions' ELSE '[]' END) x
					  WHERE pl ->> 'line' = l.line::text
					  ORDER BY (x ->> 'id')::int LOOP
				v_rows := v_rows || icos._receipt_rows('  ' || coalesce(pr.name, 'Promotion ' || pr.id), '-' || pr.amount::text);
				v_named := v_named + (pr.amount * 100)::bigint;
			END LOOP;
			r := r || CASE WHEN v_named = l.discount_pence THEN v_rows
						   ELSE ARRAY[icos._receipt_row('  Discount', '-' || icos._pounds(l.discount_pence))] END;
		END IF;
		IF l.returned_qty > 0 THEN
			r := r || pg_catalog.format('  (%s returned)', l.returned_qty);
		END IF;
		IF l.status IN ('backorder', 'made_to_order') THEN
			r := r || CASE l.status WHEN 'backorder' THEN '  On order' ELSE '  Made to order' END;
		END IF;
	END LOOP;
	r := r || v_rule || icos._receipt_row('Subtotal', icos._pounds(o.gross_pence)::text);
	IF o.discount_pence > 0 THEN
		r := r || icos._receipt_row('Discounts', '-' || icos._pounds(o.discount_pence));
	END IF;
	r := r || icos._receipt_row('TOTAL', icos._pounds(o.total_pence)::text);
	-- VAT summary, one row per rate: the VAT-inclusive amount at that rate
	-- and the VAT in it (docs/orders.md, "VAT").
	FOR l IN SELECT ol.vat_rate, sum(ol.net_pence)::bigint AS amount,
					sum(icos._vat_pence(ol.net_pence, ol.vat_rate))::bigint AS vat
			 FROM icos.order_line ol WHERE ol.code = o.code
			 GROUP BY ol.vat_rate HAVING sum(ol.net_pence) > 0 ORDER BY ol.vat_rate DESC LOOP
		IF v_vat IS NULL THEN
			r := r || 'VAT included'::text;
			v_vat := 0;
		END IF;
		r := r || icos._receipt_row(pg_catalog.format('  VAT %s%% on %s', pg_catalog.trim_scale(l.vat_rate),
													 icos._pounds(l.amount)), icos._pounds(l.vat)::text);
		v_vat := v_vat + l.vat;
	END LOOP;
	IF v_vat IS NOT NULL THEN
		r := r || icos._receipt_row('  Total VAT', icos._pounds(v_vat)::text);
	END IF;
	FOR l IN SELECT y.kind, y.method, sum(y.tendered_pence)::bigint AS tendered
			 FROM icos.order_payment y WHERE y.code = o.code
			 GROUP BY y.kind, y.method ORDER BY y.kind, min(y.payment_no) LOOP
		r := r || icos._receipt_row(
			CASE l.kind WHEN 'refund' THEN 'Refund ' ELSE 'Paid ' END
				|| pg_catalog.replace(CASE l.method WHEN 'visa' THEN 'Visa' ELSE l.method END, '_', ' '),
			CASE l.kind WHEN 'refund' THEN '-' ELSE '' END || icos._pounds(l.tendered));
	END LOOP;
	SELECT coalesce(sum(y.tendered_pence - y.amount_pence), 0) INTO v_change
	FROM icos.order_payment y WHERE y.code = o.code;
	IF v_change > 0 THEN
		r := r || icos._receipt_row('Change given', icos._pounds(v_change)::text);
	END IF;
	v_paid := icos._paid(o.code);
	r := r || CASE WHEN o.total_pence - v_paid >= 0
				   THEN icos._receipt_row('Balance due', icos._pounds(o.total_pence - v_paid)::text)
				   ELSE icos._receipt_row('Refund due', icos._pounds(v_paid - o.total_pence)::text) END;
	IF o.status = 'cancelled' THEN
		r := r || 'ORDER CANCELLED'::text;
	END IF;
	IF o.delivery_method <> 'carry' AND o.status <> 'cancelled' THEN
		r := r || ((CASE o.delivery_method WHEN 'home' THEN 'Delivery by ' ELSE 'Ready to collect by ' END)
				   || pg_catalog.to_char(o.promised_date, 'YYYY-MM-DD'));
	END IF;
	r := r || v_rule || 'Keep this receipt. Your order code:'::text || o.code::text;
	IF p_reprint THEN
		r := r || '*************** REPRINT ***************'::text;
	END IF;
	RETURN pg_catalog.array_to_string(r, E'\n') || E'\n';
END
$$;
COMMENT ON FUNCTION icos.receipt(icos.order_code, boolean) IS
	'A 40-column plain-text receipt for a till printer, each discounted item followed by the promotions that discounted it and their saving, and the VAT included per rate; reprint marks it REPRINT';

-- sales_report: the column vat, after the others ----------------------------

DROP FUNCTION icos.sales_report(timestamptz, timestamptz, text, int, text);
DROP FUNCTION icos._sales_raw(timestamptz, timestamptz, text, int, text, text);

CREATE FUNCTION icos._sales_raw(p_from timestamptz, p_to timestamptz, p_by text, p_store int,
								p_channel text, p_tz text)
RETURNS TABLE(key text, orders bigint, lines bigint, units bigint, gross bigint, discount bigint,
			  net bigint, returns bigint, vat bigint)
LANGUAGE sql STABLE
AS $$
	WITH f AS MATERIALIZED (
		SELECT o.code, o.store_id, o.channel, o.employee_id, o.placed_at, o.pricing, l.line, l.upc, l.qty,
			   l.qty * l.unit_price_pence AS gross, l.discount_pence AS discount, l.net_pence AS net,
			   l.returned_qty * l.unit_price_pence AS returns, icos._vat_pence(l.net_pence, l.vat_rate) AS vat
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
		SELECT f.code, f.qty, f.gross, f.net, f.returns, f.vat, f.discount, a.cat::text AS key
		FROM f JOIN pc ON pc.upc OPERATOR(pg_catalog.=) f.upc
		CROSS JOIN LATERAL pg_catalog.unnest(pc.ancestors) a(cat)
		WHERE p_by = 'category'
		UNION ALL
		SELECT f.code, f.qty, f.gross, f.net, f.returns, f.vat, f.discount,
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
		SELECT f.code, f.qty, f.gross, f.net, f.returns, f.vat, coalesce(pm.amount, f.discount), coalesce(pm.id, 'none')
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
		   sum(k.net), sum(k.returns), sum(k.vat)
	FROM k
	GROUP BY k.key
$$;
COMMENT ON FUNCTION icos._sales_raw(timestamptz, timestamptz, text, int, text, text) IS
	'sales_report from raw order lines of a period (pence); used for the edges of a period, the groupings the rollup lacks and VAT (icos._vat_pence of each line)';

CREATE FUNCTION icos.sales_report(from_ts timestamptz, to_ts timestamptz, by text DEFAULT 'category',
								  store_id int DEFAULT NULL, channel text DEFAULT NULL)
RETURNS TABLE(key text, label text, orders bigint, units bigint, gross numeric, discount numeric,
			  net numeric, returns numeric, vat numeric)
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
	-- The rollup has no VAT: the VAT of its whole days [t0, t1) comes from
	-- their lines (a row with only vat), the rest with the raw edges.
	WITH parts AS (
		SELECT r.*, 0::bigint AS vat
		FROM icos._sales_rolled(d0, d1, p_by, p_store, p_channel, v_pending, v_lv, m0, m1) r WHERE v_rolled
		UNION ALL
		SELECT r.key, 0, 0, 0, 0, 0, 0, 0, r.vat
		FROM icos._sales_raw(t0, t1, p_by, p_store, p_channel, st.time_zone) r WHERE v_rolled
		UNION ALL
		SELECT * FROM icos._sales_raw(from_ts, t0, p_by, p_store, p_channel, st.time_zone) WHERE from_ts < t0
		UNION ALL
		SELECT * FROM icos._sales_raw(t1, to_ts, p_by, p_store, p_channel, st.time_zone) WHERE v_rolled AND t1 < to_ts
	), g AS (
		SELECT pa.key, sum(pa.orders)::bigint AS orders, sum(pa.lines) AS lines, sum(pa.units)::bigint AS units,
			   sum(pa.gross) AS gross, sum(pa.discount) AS discount, sum(pa.net) AS net,
			   sum(pa.returns) AS returns, sum(pa.vat) AS vat
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
		   icos._pounds(g.net::bigint), icos._pounds(g.returns::bigint), icos._pounds(g.vat::bigint)
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
	'Sales of [from_ts, to_ts) grouped by category (each category with its sub-categories), product, store, channel, day, hour (of day), employee or promotion; cancelled lines left out, returns separate; vat: the VAT included in net (icos._vat_pence of each line); exact and current';

-- BI: one row per order ------------------------------------------------------

CREATE VIEW icos.order_summary WITH (security_invoker = true) AS
SELECT o.code, o.placed_at, o.channel, o.store_id AS store, o.status,
	   icos._pounds(o.total_pence) AS total, icos._pounds(v.vat) AS vat,
	   icos._pounds(y.paid) AS paid, icos._pounds(o.total_pence - y.paid) AS balance
FROM icos.orders o
CROSS JOIN LATERAL (
	SELECT coalesce(sum(icos._vat_pence(l.net_pence, l.vat_rate)), 0)::bigint AS vat
	FROM icos.order_line l
	WHERE l.code OPERATOR(pg_catalog.=) o.code AND l.store_id = o.store_id
) v
CROSS JOIN LATERAL (SELECT icos._paid(o.code) AS paid) y;
COMMENT ON VIEW icos.order_summary IS
	'One row per order for reporting tools (money in pounds, as icos.order shows it); read with the reader''s rights: reporters see every order, a store''s staff their store''s';
COMMENT ON COLUMN icos.order_summary.code IS 'The order code';
COMMENT ON COLUMN icos.order_summary.placed_at IS 'When the order was placed';
COMMENT ON COLUMN icos.order_summary.channel IS 'store, phone, web or pos';
COMMENT ON COLUMN icos.order_summary.store IS 'The selling store';
COMMENT ON COLUMN icos.order_summary.status IS 'The order''s status';
COMMENT ON COLUMN icos.order_summary.total IS 'What the order costs, VAT included';
COMMENT ON COLUMN icos.order_summary.vat IS 'The VAT included in total (the sum of its lines'' VAT)';
COMMENT ON COLUMN icos.order_summary.paid IS 'Paid less refunded';
COMMENT ON COLUMN icos.order_summary.balance IS 'total - paid: positive, the customer owes; negative, a refund is due';

-- Privileges ------------------------------------------------------------------

REVOKE ALL ON icos.vat_rate, icos.vat_rates, icos.product_vat_rate, icos.order_summary FROM PUBLIC;
GRANT SELECT ON icos.vat_rate, icos.vat_rates, icos.product_vat_rate TO icos_agent, icos_reporter;
GRANT INSERT, UPDATE, DELETE ON icos.vat_rate TO icos_admin;
GRANT SELECT ON icos.order_summary TO icos_reporter;
-- icos.order_summary runs as its reader (security_invoker).
GRANT EXECUTE ON FUNCTION icos._vat_pence(bigint, numeric), icos._paid(icos.order_code) TO icos_reporter;
GRANT EXECUTE ON FUNCTION icos._vat_rate_default(icos.vat_class) TO icos_agent, icos_reporter;
GRANT EXECUTE ON FUNCTION icos.sales_report(timestamptz, timestamptz, text, int, text)
	TO icos_reporter, icos_manager, icos_admin;
