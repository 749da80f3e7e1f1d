-- icos 0.2.0: catalogue (stores, the category tree, products).
--
-- Head office owns these rows and maintains them with plain SQL as the admin
-- role; every other node receives them by replication.  The stock engine
-- (20_stock.sql, src/stock.c) and the order API read them.

CREATE TABLE icos.store (
	store_id	int PRIMARY KEY CHECK (store_id >= 0),
	name		text NOT NULL CHECK (name <> ''),
	kind		text NOT NULL CHECK (kind IN ('store', 'web', 'callcentre', 'warehouse')),
	node_id		int NOT NULL DEFAULT 0 CHECK (node_id >= 0),
	address		jsonb CHECK (address IS NULL OR jsonb_typeof(address) = 'object'),
	phone		text,
	active		boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE icos.store IS
'Selling and stock-holding locations.  Kinds store and warehouse hold stock; web and callcentre only sell.  node_id is the database (icos.node) that owns the location''s stock and orders.';
COMMENT ON COLUMN icos.store.store_id IS 'store number, as printed on receipts';
COMMENT ON COLUMN icos.store.name IS 'name shown to staff and customers';
COMMENT ON COLUMN icos.store.kind IS 'store, web, callcentre or warehouse';
COMMENT ON COLUMN icos.store.node_id IS 'node (icos.node.node_id) that owns this location''s stock and orders';
COMMENT ON COLUMN icos.store.address IS 'postal address as a JSON object (line1, line2, town, postcode)';
COMMENT ON COLUMN icos.store.phone IS 'telephone number customers may call';
COMMENT ON COLUMN icos.store.active IS 'false once closed: a closed store is never chosen to fulfil an order';
CREATE INDEX store_node_idx ON icos.store (node_id);
COMMENT ON INDEX icos.store_node_idx IS 'the locations a node owns';

CREATE TABLE icos.category (
	category_id int PRIMARY KEY,
	parent_id	int REFERENCES icos.category,
	name		text NOT NULL CHECK (name <> ''),
	CHECK (parent_id IS DISTINCT FROM category_id)
);
COMMENT ON TABLE icos.category IS
'The product category tree; a category without a parent is a root.  A trigger refuses cycles.';
COMMENT ON COLUMN icos.category.category_id IS 'category number';
COMMENT ON COLUMN icos.category.parent_id IS 'the enclosing category, null for a root';
COMMENT ON COLUMN icos.category.name IS 'category name shown to staff and customers';
CREATE INDEX category_parent_idx ON icos.category (parent_id);
COMMENT ON INDEX icos.category_parent_idx IS 'children of a category (sub-category walks)';

CREATE FUNCTION icos._category_no_cycle() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.parent_id = NEW.category_id THEN
		RAISE EXCEPTION USING ERRCODE = '23514',
			MESSAGE = pg_catalog.format('category %s cannot be its own parent', NEW.category_id),
			HINT = 'Choose another category as the parent, or none to make it a root.';
	END IF;
	IF NEW.parent_id IS NOT NULL AND EXISTS (
		WITH RECURSIVE up(id, depth) AS (
			SELECT NEW.parent_id, 1
			UNION ALL
			SELECT c.parent_id, up.depth + 1
			  FROM icos.category c JOIN up ON c.category_id = up.id
			 WHERE c.parent_id IS NOT NULL AND up.depth < 1000)
		SELECT 1 FROM up WHERE up.id = NEW.category_id)
	THEN
		RAISE EXCEPTION USING ERRCODE = '23514',
			MESSAGE = pg_catalog.format('category %s cannot be placed under category %s', NEW.category_id, NEW.parent_id),
			DETAIL = pg_catalog.format('Category %s is already one of the categories enclosing category %s, so the tree would become a loop.', NEW.category_id, NEW.parent_id),
			HINT = 'Choose a parent that is not inside this category.';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION icos._category_no_cycle() IS 'trigger function: refuses a parent that would make the category tree a loop';
CREATE TRIGGER category_no_cycle BEFORE INSERT OR UPDATE OF parent_id ON icos.category
	FOR EACH ROW EXECUTE FUNCTION icos._category_no_cycle();
COMMENT ON TRIGGER category_no_cycle ON icos.category IS 'keeps the category tree a tree';

CREATE FUNCTION icos.category_path(category_id int) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	WITH RECURSIVE up(id, parent, name, depth) AS (
		SELECT c.category_id, c.parent_id, c.name, 0
		  FROM icos.category c WHERE c.category_id = $1
		UNION ALL
		SELECT c.category_id, c.parent_id, c.name, up.depth + 1
		  FROM icos.category c JOIN up ON c.category_id = up.parent
		 WHERE up.depth < 1000)
	SELECT coalesce(array_agg(up.name ORDER BY up.depth DESC), '{}') FROM up
$$;
COMMENT ON FUNCTION icos.category_path(int) IS
'Names of the categories from the root down to the given one, e.g. {Home,Kitchen,Kettles}; empty for an unknown category.';

CREATE TABLE icos.product (
	upc			icos.upc PRIMARY KEY,
	name		text NOT NULL CHECK (name <> ''),
	category_id int REFERENCES icos.category,
	price		numeric(12,2) NOT NULL CHECK (price >= 0),
	lead_time_days int NOT NULL DEFAULT 0 CHECK (lead_time_days >= 0),
	made_to_order boolean NOT NULL DEFAULT false,
	active		boolean NOT NULL DEFAULT true,
	description text
);
COMMENT ON TABLE icos.product IS
'The catalogue: one row per product code (GTIN), maintained by head office.';
COMMENT ON COLUMN icos.product.upc IS 'the product code (any GS1 GTIN, stored as GTIN-14)';
COMMENT ON COLUMN icos.product.name IS 'product name as printed on receipts';
COMMENT ON COLUMN icos.product.category_id IS 'the product''s category (icos.category)';
COMMENT ON COLUMN icos.product.price IS 'list price in pounds, VAT included';
COMMENT ON COLUMN icos.product.lead_time_days IS 'days to obtain the product when no store has it (supplier or manufacture)';
COMMENT ON COLUMN icos.product.made_to_order IS 'true when every unit is made for the order: it is never held in stock and accepts manufacturing notes';
COMMENT ON COLUMN icos.product.active IS 'false once withdrawn from sale';
COMMENT ON COLUMN icos.product.description IS 'longer description for the website and enquiries';
CREATE INDEX product_category_idx ON icos.product (category_id);
COMMENT ON INDEX icos.product_category_idx IS 'products of a category (reports, promotions by category)';
