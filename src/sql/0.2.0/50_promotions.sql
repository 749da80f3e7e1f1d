-- icos 0.2.0: promotions.  The promotion table (rows with a JSON rule,
-- maintained with plain SQL by icos_admin), the trigger that validates each
-- rule with the C rule compiler, icos.price_basket (the one pricing
-- function, in C: src/promotion.c over the engine in src/core/promo*.c) and
-- the offers diary.  docs/promotions.md is the reference.

CREATE TABLE icos.promotion (
	promotion_id  int PRIMARY KEY CHECK (promotion_id > 0),
	name          text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
	kind          text NOT NULL CHECK (kind IN ('percent_off', 'amount_off', 'fixed_price', 'multibuy',
												'buy_get', 'bundle', 'spend_threshold')),
	rule          jsonb NOT NULL CHECK (pg_catalog.jsonb_typeof(rule) = 'object'),
	starts_at     timestamptz,
	ends_at       timestamptz,
	stores        int[] CHECK (stores IS NULL OR (pg_catalog.cardinality(stores) > 0
												  AND pg_catalog.array_position(stores, NULL) IS NULL)),
	channels      text[] CHECK (channels IS NULL OR (pg_catalog.cardinality(channels) > 0
													 AND channels <@ ARRAY['store', 'phone', 'web', 'pos'])),
	priority      int NOT NULL DEFAULT 0,
	coupon        text CHECK (coupon IS NULL OR coupon ~ '^[A-Za-z0-9_-]{1,64}$'),
	max_per_order int CHECK (max_per_order IS NULL OR max_per_order > 0),
	created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT promotion_window CHECK (starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at)
);
COMMENT ON TABLE icos.promotion IS
	'Promotions head office publishes: a kind and a JSON rule (validated by the C rule compiler), a window, stores, channels, a coupon and a per-order limit; maintained with plain SQL by icos_admin; see docs/promotions.md';
COMMENT ON COLUMN icos.promotion.promotion_id IS 'Identifier chosen by head office (positive); lower ids win exact ties';
COMMENT ON COLUMN icos.promotion.name IS 'Name printed on receipts and reports';
COMMENT ON COLUMN icos.promotion.kind IS 'percent_off, amount_off, fixed_price, multibuy, buy_get, bundle or spend_threshold';
COMMENT ON COLUMN icos.promotion.rule IS 'The rule of the kind, e.g. {"target": {"category": [4]}, "percent": 25}; matches are {"upc": [...]}, {"category": [...]} (with sub-categories) or {"all": true}';
COMMENT ON COLUMN icos.promotion.starts_at IS 'First instant the offer applies (inclusive); null: always started';
COMMENT ON COLUMN icos.promotion.ends_at IS 'Instant the offer stops applying (exclusive); null: never ends';
COMMENT ON COLUMN icos.promotion.stores IS 'Selling stores where the offer runs; null: all';
COMMENT ON COLUMN icos.promotion.channels IS 'Channels (store, phone, web, pos) where the offer runs; null: all';
COMMENT ON COLUMN icos.promotion.priority IS 'Breaks ties between equally good assignments (higher first); never beats a larger discount';
COMMENT ON COLUMN icos.promotion.coupon IS 'Coupon code the customer must present (case-insensitive); null: none needed';
COMMENT ON COLUMN icos.promotion.max_per_order IS 'Most applications in one order (a unit for per-unit kinds); null: unlimited';
COMMENT ON COLUMN icos.promotion.created_at IS 'When the row was inserted';
COMMENT ON CONSTRAINT promotion_window ON icos.promotion IS 'An offer ends after it starts';

CREATE FUNCTION icos._promotion_validate() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'promotion_validate';
COMMENT ON FUNCTION icos._promotion_validate() IS
	'trigger function: compiles kind and rule with the promotion engine; IC005 with a message naming the bad key';
CREATE TRIGGER promotion_validate BEFORE INSERT OR UPDATE OF kind, rule ON icos.promotion
	FOR EACH ROW EXECUTE FUNCTION icos._promotion_validate();
COMMENT ON TRIGGER promotion_validate ON icos.promotion IS 'refuses a rule the engine cannot compile (IC005)';

CREATE TRIGGER promotion_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.promotion
	FOR EACH STATEMENT EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER promotion_changed ON icos.promotion IS
	'tells price_basket''s per-backend index to rebuild (also when replication applies the change)';
CREATE TRIGGER promotion_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.category
	FOR EACH STATEMENT EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER promotion_changed ON icos.category IS
	'category ancestry is part of price_basket''s per-backend index: rebuild it when the tree changes';
CREATE TRIGGER promotion_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.product
	FOR EACH STATEMENT EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER promotion_changed ON icos.product IS
	'price_basket caches prices and categories per backend: empty those caches when the catalogue changes';
-- Store nodes receive promotions and the catalogue by logical replication.
-- Its apply worker runs as a replica session (only ALWAYS and REPLICA
-- triggers fire) and fires row triggers only, never statement triggers:
-- there the row triggers below send the invalidation (per command, repeated
-- ones are merged), here the statement triggers (also for TRUNCATE, which
-- the apply worker never receives: it is not published).
ALTER TABLE icos.promotion ENABLE ALWAYS TRIGGER promotion_changed;
ALTER TABLE icos.category ENABLE ALWAYS TRIGGER promotion_changed;
ALTER TABLE icos.product ENABLE ALWAYS TRIGGER promotion_changed;
CREATE TRIGGER promotion_changed_apply AFTER INSERT OR UPDATE OR DELETE ON icos.promotion
	FOR EACH ROW EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER promotion_changed_apply ON icos.promotion IS
	'fires in replica sessions only: the replication apply worker fires no statement trigger, so this one tells price_basket''s per-backend index to rebuild';
CREATE TRIGGER promotion_changed_apply AFTER INSERT OR UPDATE OR DELETE ON icos.category
	FOR EACH ROW EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER promotion_changed_apply ON icos.category IS
	'fires in replica sessions only: the replication apply worker fires no statement trigger, so this one tells price_basket''s per-backend index to rebuild';
CREATE TRIGGER promotion_changed_apply AFTER INSERT OR UPDATE OR DELETE ON icos.product
	FOR EACH ROW EXECUTE FUNCTION icos._table_changed();
COMMENT ON TRIGGER promotion_changed_apply ON icos.product IS
	'fires in replica sessions only: the replication apply worker fires no statement trigger, so this one empties price_basket''s per-backend product caches';
ALTER TABLE icos.promotion ENABLE REPLICA TRIGGER promotion_changed_apply;
ALTER TABLE icos.category ENABLE REPLICA TRIGGER promotion_changed_apply;
ALTER TABLE icos.product ENABLE REPLICA TRIGGER promotion_changed_apply;

-- Pricing: the one function that prices a basket --------------------------

CREATE FUNCTION icos.price_basket(basket jsonb) RETURNS jsonb
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'price_basket';
COMMENT ON FUNCTION icos.price_basket(jsonb) IS
	'Prices a basket ({"lines": [{"line", "upc", "qty"}], "store", "channel", "at", "customer", "coupons"}) with the promotions in force: lines (unit_price, gross, discount, net, promotions), gross, discount, total, approximate, applied and not_applied (with reasons); the best total discount the rules allow; 22P02 malformed code, IC004 unknown product, 22023 bad keys; see docs/promotions.md';

-- Descriptions and the offers diary ----------------------------------------

CREATE FUNCTION icos._promotion_money(p_val jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT pg_catalog.to_char((p_val OPERATOR(pg_catalog.#>>) '{}')::pg_catalog.numeric, 'FM999999999990.00')
$$;
COMMENT ON FUNCTION icos._promotion_money(jsonb) IS 'An amount of a rule (number or string of pounds) as text with two decimals';

CREATE FUNCTION icos._promotion_percent(p_val jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT pg_catalog.rtrim(pg_catalog.rtrim(pg_catalog.to_char((p_val OPERATOR(pg_catalog.#>>) '{}')::pg_catalog.numeric,
																 'FM990.00'), '0'), '.') || '%'
$$;
COMMENT ON FUNCTION icos._promotion_percent(jsonb) IS 'A percentage of a rule as text, e.g. 25% or 12.5%';

CREATE FUNCTION icos._promotion_match_text(p_match jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_names text[];
BEGIN
	IF p_match ? 'all' THEN
		RETURN 'everything';
	ELSIF p_match ? 'upc' THEN
		SELECT array_agg(coalesce(p.name, x.code) ORDER BY x.n) INTO v_names
		FROM jsonb_array_elements_text(p_match -> 'upc') WITH ORDINALITY AS x(code, n)
		LEFT JOIN icos.product p ON p.upc OPERATOR(pg_catalog.=) x.code::icos.upc;
	ELSE
		SELECT array_agg(coalesce(c.name, 'category ' || x.id) ORDER BY x.n) INTO v_names
		FROM jsonb_array_elements_text(p_match -> 'category') WITH ORDINALITY AS x(id, n)
		LEFT JOIN icos.category c ON c.category_id = x.id::int;
	END IF;
	IF cardinality(v_names) > 4 THEN
		RETURN array_to_string(v_names[1:3], ', ') || format(' and %s more', cardinality(v_names) - 3);
	END IF;
	RETURN array_to_string(v_names, ', ');
END
$$;
COMMENT ON FUNCTION icos._promotion_match_text(jsonb) IS
	'What a rule''s match covers in words: product or category names (the first three and a count when more than four), or everything';

CREATE FUNCTION icos.promotion_description(kind text, rule jsonb, coupon text DEFAULT NULL,
										   max_per_order int DEFAULT NULL) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r      jsonb := rule;
	v_get  text;
	v_text text;
BEGIN
	v_text := CASE kind
		WHEN 'percent_off' THEN format('%s off: %s', icos._promotion_percent(r -> 'percent'),
									   icos._promotion_match_text(r -> 'target'))
		WHEN 'amount_off' THEN format('%s off each: %s', icos._promotion_money(r -> 'amount'),
									  icos._promotion_match_text(r -> 'target'))
		WHEN 'fixed_price' THEN format('Now %s each: %s', icos._promotion_money(r -> 'price'),
									   icos._promotion_match_text(r -> 'target'))
		WHEN 'multibuy' THEN format('%s for %s: %s', r ->> 'qty', icos._promotion_money(r -> 'price'),
									icos._promotion_match_text(r -> 'target'))
		WHEN 'bundle' THEN format('%s for %s',
								  (SELECT string_agg(icos._promotion_match_text(i.m), ' + ' ORDER BY i.n)
								   FROM jsonb_array_elements(r -> 'items') WITH ORDINALITY AS i(m, n)),
								  icos._promotion_money(r -> 'price'))
		WHEN 'spend_threshold' THEN format('Spend %s on %s, save %s', icos._promotion_money(r -> 'min_spend'),
										   icos._promotion_match_text(r -> 'target'),
										   CASE WHEN r ? 'percent' THEN icos._promotion_percent(r -> 'percent')
												ELSE icos._promotion_money(r -> 'amount') END)
		END;
	IF kind = 'buy_get' THEN
		v_get := CASE WHEN (r ->> 'percent')::numeric = 100 THEN 'free'
					  ELSE 'at ' || icos._promotion_percent(r -> 'percent') || ' off' END;
		IF r -> 'get' IS NULL OR r -> 'get' = r -> 'buy' THEN
			v_text := format('Buy %s, get %s %s: %s', r ->> 'buy_qty', r ->> 'get_qty', v_get,
							 icos._promotion_match_text(r -> 'buy'));
		ELSE
			v_text := format('Buy %s of %s, get %s of %s %s', r ->> 'buy_qty', icos._promotion_match_text(r -> 'buy'),
							 r ->> 'get_qty', icos._promotion_match_text(r -> 'get'), v_get);
		END IF;
	END IF;
	IF coupon IS NOT NULL THEN
		v_text := v_text || format(' (coupon %s)', coupon);
	END IF;
	IF max_per_order IS NOT NULL THEN
		v_text := v_text || format(' (up to %s per order)', max_per_order);
	END IF;
	RETURN v_text;
END
$$;
COMMENT ON FUNCTION icos.promotion_description(text, jsonb, text, int) IS
	'A customer-facing sentence for a promotion rule, e.g. "Buy 1, get 1 at 25% off: Televisions", with the products and categories named';

CREATE FUNCTION icos.offers(from_date date, to_date date DEFAULT NULL, store_id int DEFAULT NULL)
RETURNS TABLE (day date, promotion_id int, name text, description text,
			   starts_at timestamptz, ends_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_to date := coalesce(to_date, from_date);
BEGIN
	IF from_date IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'the first day of the diary is required',
			HINT = 'Give a date, for example current_date.';
	END IF;
	IF v_to < from_date THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('the diary cannot end (%s) before it starts (%s)', v_to, from_date),
			HINT = 'Swap the two dates.';
	END IF;
	IF v_to - from_date > 366 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('the diary from %s to %s covers %s days, more than 367', from_date, v_to, v_to - from_date + 1),
			HINT = 'Ask for a year or less at a time.';
	END IF;
	RETURN QUERY
	SELECT d.day::date, p.promotion_id, p.name,
		   icos.promotion_description(p.kind, p.rule, p.coupon, p.max_per_order), p.starts_at, p.ends_at
	FROM generate_series(from_date::timestamp, v_to::timestamp, interval '1 day') AS d(day)
	JOIN icos.promotion p
	  ON (p.starts_at IS NULL OR p.starts_at < (d.day + interval '1 day')::timestamptz)
	 AND (p.ends_at IS NULL OR p.ends_at > d.day::timestamptz)
	WHERE offers.store_id IS NULL OR p.stores IS NULL OR offers.store_id = ANY (p.stores)
	ORDER BY 1, 2;
END
$$;
COMMENT ON FUNCTION icos.offers(date, date, int) IS
	'The diary of offers: one row per day (in the session time zone) per promotion in force at some moment of that day, optionally only those running in a store, with a description generated from the rule; at most 367 days';

CREATE FUNCTION icos._rule_mentions(p_rule jsonb, p_upc icos.upc, p_categories int[]) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT EXISTS (
		SELECT 1
		FROM pg_catalog.jsonb_array_elements(pg_catalog.jsonb_build_array(p_rule -> 'target', p_rule -> 'buy', p_rule -> 'get')
											 OPERATOR(pg_catalog.||) coalesce(p_rule -> 'items', '[]')) m
		WHERE pg_catalog.jsonb_typeof(m) = 'object'
		  AND (m OPERATOR(pg_catalog.?) 'all'
			   OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements_text(coalesce(m -> 'upc', '[]')) u
						  WHERE u::icos.upc OPERATOR(pg_catalog.=) p_upc)
			   OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements_text(coalesce(m -> 'category', '[]')) c
						  WHERE c::pg_catalog.int4 OPERATOR(pg_catalog.=) ANY (p_categories))))
$$;
COMMENT ON FUNCTION icos._rule_mentions(jsonb, icos.upc, int[]) IS
	'True when some match of a promotion rule (target, buy, get or a bundle item) covers the product with this code and category ancestry';

CREATE FUNCTION icos._product_offers(p_upc icos.upc, p_category int, p_at timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cats int[];
BEGIN
	WITH RECURSIVE up(id, parent, depth) AS (
		SELECT c.category_id, c.parent_id, 0 FROM icos.category c WHERE c.category_id = p_category
		UNION ALL
		SELECT c.category_id, c.parent_id, up.depth + 1
		FROM icos.category c JOIN up ON c.category_id = up.parent
		WHERE up.depth < 1000)
	SELECT coalesce(array_agg(up.id), '{}') INTO v_cats FROM up;
	RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object(
				'id', p.promotion_id, 'name', p.name,
				'description', icos.promotion_description(p.kind, p.rule, p.coupon, p.max_per_order),
				'starts_at', p.starts_at, 'ends_at', p.ends_at, 'stores', p.stores, 'channels', p.channels,
				'coupon', p.coupon) ORDER BY p.promotion_id), '[]')
			FROM icos.promotion p
			WHERE (p.starts_at IS NULL OR p.starts_at <= p_at) AND (p.ends_at IS NULL OR p.ends_at > p_at)
			  AND icos._rule_mentions(p.rule, p_upc, v_cats));
END
$$;
COMMENT ON FUNCTION icos._product_offers(icos.upc, int, timestamptz) IS
	'Promotions in force at p_at whose rule covers the product (by code, category with ancestors, or everything), as icos.product_info''s offers';
