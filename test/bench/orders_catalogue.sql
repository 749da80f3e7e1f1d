-- The catalogue of the ordering benchmarks (test/bench/orders.sh and
-- test/bench/callgrind.sh), sized like the retailer's: 600 stores and
-- 20,000 products, of which store 10 stocks 200 (bench.products maps 1..200
-- to their codes), each with a million units.  The orders buy those 200.
-- The size matters for the plans, not for the data touched: on a catalogue
-- of one store and 200 products the planner rightly finds scanning the
-- whole store or product table cheaper than its index, which no shop of
-- this size would see.  Run in a database with the icos extension and the
-- schema bench.
SET client_min_messages = warning;
INSERT INTO icos.store (store_id, name, kind) VALUES (10, 'Bench store', 'store')
	ON CONFLICT DO NOTHING;
INSERT INTO icos.store (store_id, name, kind)
SELECT g, 'Store ' || g, 'store' FROM generate_series(1, 600) g ON CONFLICT DO NOTHING;
INSERT INTO icos.category (category_id, name) VALUES (1, 'Bench') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS bench.products(n int PRIMARY KEY, upc icos.upc NOT NULL);
TRUNCATE bench.products;
INSERT INTO bench.products
SELECT n, (d || (10 - (SELECT sum(substr(d, i, 1)::int * CASE WHEN i % 2 = 0 THEN 3 ELSE 1 END)
					   FROM generate_series(1, 12) i) % 10) % 10)::icos.upc
FROM (SELECT n, '5099999' || lpad(n::text, 5, '0') AS d FROM generate_series(1, 20000) n) x;
INSERT INTO icos.product (upc, name, category_id, price)
SELECT upc, 'Bench item ' || n, 1, 1.00 + n % 50 FROM bench.products ON CONFLICT DO NOTHING;
DELETE FROM bench.products WHERE n > 200;
SELECT count(icos.receive_stock(10, upc, 1000000, 'bench stock')) FROM bench.products;
-- Statistics, as autovacuum keeps them in a running shop: the kept generic
-- plans are made with them (without, the stock UPDATE finds a slot through
-- the item's index and reads every slot of the item).
ANALYZE;
-- The web order and the phone order (orders.sh): a web store (601) and a
-- call centre (602) of this node, a store of another node (603, node 7) whose
-- stock a phone order line asks for, and 10,000 returning customers with
-- e-mail, phone and address (bench customer k: customer<k>@example.com).
INSERT INTO icos.store (store_id, name, kind) VALUES (601, 'Bench web', 'web'), (602, 'Bench phones', 'callcentre')
	ON CONFLICT DO NOTHING;
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES (603, 'Bench store of node 7', 'store', 7)
	ON CONFLICT DO NOTHING;
INSERT INTO icos.customer (store_id, name, email, phone)
SELECT 601, 'Bench Customer ' || k, 'customer' || k || '@example.com', '+4477009' || lpad(k::text, 5, '0')
FROM generate_series(1, 10000) k
WHERE NOT EXISTS (SELECT 1 FROM icos.customer c WHERE c.email = 'customer' || k || '@example.com');
INSERT INTO icos.customer_address (customer_id, address_no, line1, town, postcode)
SELECT c.customer_id, 1, split_part(c.email, '@', 1) || ' High Street', 'Leeds', 'LS1 1AA'
FROM icos.customer c WHERE c.email LIKE 'customer%@example.com' ON CONFLICT DO NOTHING;
ANALYZE;
