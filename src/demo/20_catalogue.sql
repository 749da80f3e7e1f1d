-- Head office loads the catalogue: stores, categories, a few hundred products
-- Demo data that looks like a real retailer's.  Product codes are valid
-- EAN-13s under a (fictional) GS1 UK company prefix 50-12345.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.ean13(item bigint) RETURNS icos.upc
LANGUAGE sql IMMUTABLE AS $$
	SELECT (d || (10 - (SELECT sum(substr(d, i, 1)::int * CASE WHEN i % 2 = 0 THEN 3 ELSE 1 END)
						FROM generate_series(1, 12) i) % 10) % 10)::icos.upc
	FROM (SELECT '5012345' || lpad(item::text, 5, '0') AS d) x
$$;

-- node_id: the database that serves the store.  Head office (node 0) serves
-- the website, the call centre, Manchester and the warehouse; London Oxford
-- Street (node 1) and Leeds Trinity (node 2) have databases of their own.
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES
	(1, 'Website', 'web', 0),
	(2, 'Call centre', 'callcentre', 0),
	(10, 'London Oxford Street', 'store', 1),
	(11, 'Manchester Arndale', 'store', 0),
	(12, 'Leeds Trinity', 'store', 2),
	(90, 'Daventry warehouse', 'warehouse', 0);

INSERT INTO icos.category (category_id, parent_id, name) VALUES
	(1, NULL, 'Clothing'), (2, NULL, 'Food'), (3, NULL, 'Home'), (4, NULL, 'Electricals'),
	(11, 1, 'Womenswear'), (12, 1, 'Menswear'), (13, 1, 'Kidswear'),
	(21, 2, 'Bakery'), (22, 2, 'Dairy'), (23, 2, 'Drinks'), (24, 2, 'Sandwiches'), (25, 2, 'Snacks'),
	(31, 3, 'Kitchen'), (32, 3, 'Bedding'), (33, 3, 'Lighting'), (34, 3, 'Furniture'),
	(41, 4, 'Televisions'), (42, 4, 'Audio'), (43, 4, 'Small appliances'), (44, 4, 'Computing'),
	(411, 41, 'OLED televisions'), (412, 41, 'LED televisions');

-- Clothing: garments in sizes and colours, each its own trade item.
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days)
SELECT pg_temp.ean13(10000 + g.n * 100 + c.n * 10 + s.n),
	   g.name || ', ' || c.colour || ', size ' || s.size, g.category, g.price, 3
FROM (VALUES (1, 'Wool-blend coat', 11, 129.00), (2, 'Linen shirt dress', 11, 45.00),
			 (3, 'Cashmere jumper', 11, 89.00), (4, 'Slim chinos', 12, 35.00),
			 (5, 'Oxford shirt', 12, 29.50), (6, 'Merino crew neck', 12, 49.00),
			 (7, 'Waterproof parka', 12, 110.00), (8, 'School trousers', 13, 12.00),
			 (9, 'Kids fleece', 13, 15.00), (10, 'Pyjama set', 13, 14.00)) g(n, name, category, price),
	 (VALUES (1, 'navy'), (2, 'charcoal'), (3, 'camel'), (4, 'black'), (5, 'ivory')) c(n, colour),
	 (VALUES (1, 'S'), (2, 'M'), (3, 'L'), (4, 'XL')) s(n, size);

-- Food.
INSERT INTO icos.product (upc, name, category_id, price)
SELECT pg_temp.ean13(20000 + row_number() OVER ()), name, category, price
FROM (VALUES
	('Sourdough loaf', 21, 2.20), ('Seeded batch loaf', 21, 1.60), ('All-butter croissants x4', 21, 2.00),
	('Hot cross buns x6', 21, 1.50), ('Cinnamon swirls x2', 21, 1.80), ('Wholemeal rolls x6', 21, 1.20),
	('British semi-skimmed milk 2 pints', 22, 1.25), ('Greek yoghurt 500g', 22, 1.95),
	('Mature cheddar 400g', 22, 3.75), ('Salted butter 250g', 22, 2.10), ('Free-range eggs x6', 22, 1.90),
	('Cola 330ml', 23, 0.85), ('Diet cola 330ml', 23, 0.85), ('Sparkling water 500ml', 23, 0.70),
	('Orange juice 1l', 23, 1.80), ('Cold brew coffee 250ml', 23, 1.95), ('Lemonade 330ml', 23, 0.80),
	('Chicken and bacon sandwich', 24, 3.50), ('Egg and cress sandwich', 24, 2.60),
	('Prawn mayonnaise sandwich', 24, 3.20), ('Cheese and pickle sandwich', 24, 2.80),
	('Falafel wrap', 24, 3.30), ('Ham and mustard baguette', 24, 3.60),
	('Sea salt crisps 40g', 25, 0.95), ('Cheese and onion crisps 40g', 25, 0.95),
	('Fruit and nut mix 200g', 25, 2.50), ('Dark chocolate 100g', 25, 1.75),
	('Flapjack bar', 25, 1.10), ('Apple slices 80g', 25, 0.90), ('Popcorn 30g', 25, 0.85)
) v(name, category, price);

-- Home, including made-to-order furniture.
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days, made_to_order)
SELECT pg_temp.ean13(30000 + row_number() OVER ()), name, category, price, lead, mto
FROM (VALUES
	('Cast-iron casserole 24cm', 31, 65.00, 5, false), ('Chef''s knife 20cm', 31, 39.00, 5, false),
	('Stoneware dinner set, 12 piece', 31, 55.00, 5, false), ('Non-stick frying pan 28cm', 31, 29.00, 5, false),
	('Glass storage jars x3', 31, 18.00, 5, false), ('Bamboo chopping board', 31, 15.00, 5, false),
	('Egyptian cotton duvet cover, double', 32, 60.00, 5, false),
	('Egyptian cotton duvet cover, king', 32, 70.00, 5, false),
	('Hungarian goose down pillow', 32, 45.00, 5, false), ('Wool throw', 32, 49.00, 5, false),
	('Anti-allergy duvet 10.5 tog', 32, 35.00, 5, false), ('Brass table lamp', 33, 75.00, 5, false),
	('Linen lampshade 40cm', 33, 28.00, 5, false), ('LED floor lamp', 33, 95.00, 5, false),
	('Smart bulb E27 x2', 33, 22.00, 5, false),
	('Made-to-measure three-seat sofa', 34, 1299.00, 42, true),
	('Made-to-measure armchair', 34, 699.00, 35, true),
	('Bespoke lined curtains', 34, 249.00, 21, true),
	('Oak dining table', 34, 549.00, 14, false), ('Oak dining chair', 34, 129.00, 14, false)
) v(name, category, price, lead, mto);

-- Electricals, televisions among them.
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days)
SELECT pg_temp.ean13(40000 + row_number() OVER ()), name, category, price, lead
FROM (VALUES
	('Lumen 48in 4K OLED television', 411, 899.00, 7), ('Lumen 55in 4K OLED television', 411, 1199.00, 7),
	('Lumen 65in 4K OLED television', 411, 1699.00, 10), ('Lumen 77in 4K OLED television', 411, 2999.00, 14),
	('Vista 32in HD LED television', 412, 199.00, 5), ('Vista 43in 4K LED television', 412, 329.00, 5),
	('Vista 50in 4K LED television', 412, 429.00, 5), ('Vista 55in 4K LED television', 412, 499.00, 5),
	('Vista 65in 4K LED television', 412, 699.00, 7), ('Vista 75in 4K LED television', 412, 999.00, 10),
	('Soundbar with subwoofer', 42, 249.00, 5), ('Wireless noise-cancelling headphones', 42, 279.00, 5),
	('Bluetooth speaker', 42, 89.00, 5), ('DAB radio', 42, 59.00, 5), ('Turntable', 42, 199.00, 7),
	('Bean-to-cup coffee machine', 43, 399.00, 5), ('Stand mixer', 43, 329.00, 5),
	('Cordless vacuum cleaner', 43, 299.00, 5), ('Air fryer 5.5l', 43, 119.00, 5),
	('Kettle 1.7l', 43, 39.00, 5), ('Toaster, 4 slice', 43, 49.00, 5), ('Steam iron', 43, 45.00, 5),
	('13in laptop', 44, 899.00, 7), ('15in laptop', 44, 1099.00, 7), ('10in tablet', 44, 329.00, 5),
	('27in monitor', 44, 249.00, 5), ('Wireless keyboard and mouse', 44, 49.00, 5),
	('Inkjet printer', 44, 89.00, 5)
) v(name, category, price, lead);

SELECT (SELECT count(*) FROM icos.store) AS stores,
	   (SELECT count(*) FROM icos.category) AS categories,
	   (SELECT count(*) FROM icos.product) AS products;
