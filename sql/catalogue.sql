-- Catalogue: stores, the category tree, products, product_info.
-- Everything happens in one transaction that is rolled back, so this file
-- leaves nothing behind for the other tests.
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
BEGIN;

INSERT INTO icos.store (store_id, name, kind) VALUES
	(8101, 'Catalogue Leeds', 'store'),
	(8102, 'Catalogue Web', 'web'),
	(8109, 'Catalogue Depot', 'warehouse');
-- a kind that does not exist
INSERT INTO icos.store (store_id, name, kind) VALUES (8103, 'Kiosk', 'kiosk');
\echo :LAST_ERROR_SQLSTATE
SELECT store_id, name, kind, node_id, active FROM icos.store WHERE store_id BETWEEN 8100 AND 8199 ORDER BY 1;

-- The category tree and its paths.
INSERT INTO icos.category VALUES (8100, NULL, 'Home'), (8110, 8100, 'Kitchen'),
	(8111, 8110, 'Kettles'), (8120, 8100, 'Garden');
SELECT icos.category_path(8111) AS kettles, icos.category_path(8100) AS root,
	   icos.category_path(8999) AS unknown;
-- a category cannot be its own parent, nor be moved under its own descendant
UPDATE icos.category SET parent_id = 8111 WHERE category_id = 8111;
\echo :LAST_ERROR_SQLSTATE
UPDATE icos.category SET parent_id = 8111 WHERE category_id = 8100;
\echo :LAST_ERROR_SQLSTATE
SELECT category_id, parent_id FROM icos.category WHERE category_id = 8100;

-- Products: the code is any GTIN spelling, the price never negative.
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days) VALUES
	('036000291452', 'Catalogue Kettle', 8111, 29.99, 5);
INSERT INTO icos.product (upc, name, price, made_to_order, lead_time_days) VALUES
	('0 5901234 123457', 'Catalogue Sofa', 899.00, true, 42);
INSERT INTO icos.product (upc, name, price) VALUES ('0036000291452', 'Duplicate spelling', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO icos.product (upc, name, price) VALUES ('96385074', 'Negative', -0.01);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO icos.product (upc, name, price) VALUES ('96385074', 'Unknown category', 1) ;
UPDATE icos.product SET category_id = 8999 WHERE upc = '96385074';
\echo :LAST_ERROR_SQLSTATE
SELECT upc, name, category_id, price, lead_time_days, made_to_order, active
  FROM icos.product WHERE name LIKE 'Catalogue%' OR name = 'Unknown category' ORDER BY upc;

-- product_info: category path from the root, offers empty until the
-- promotions release, one availability object per stock-holding store.
SELECT jsonb_pretty(icos.product_info('036000291452') - 'availability');
SELECT a->>'store_id' AS store_id, a->>'store_name' AS name, a->>'available' AS available,
	   a->>'lead_time_days' AS lead_days
  FROM jsonb_array_elements(icos.product_info('036000291452')->'availability') a
 WHERE (a->>'store_id')::int BETWEEN 8100 AND 8199;
SELECT icos.product_info('5901234123457')->'category_path' AS no_category_path,
	   icos.product_info('5901234123457')->'made_to_order' AS made_to_order;
-- unknown product: IC004
SELECT icos.product_info('4006381333931');
\echo :LAST_ERROR_SQLSTATE
SELECT icos.product_info(NULL);
\echo :LAST_ERROR_SQLSTATE

-- every catalogue object is documented
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'icos'::regnamespace AND c.relname IN ('store', 'category', 'product')
   AND obj_description(c.oid, 'pg_class') IS NULL;

ROLLBACK;
