-- verify_stock finds every kind of damage to the stock counters.  Each
-- corruption is made as superuser behind the API's back, reported, then
-- undone.  One transaction, rolled back.
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
BEGIN;
-- hold ids in messages do not depend on what ran before
SELECT setval('icos.stock_hold_seq', 800000);

INSERT INTO icos.store (store_id, name, kind) VALUES (9201, 'Verify Leeds', 'store');
INSERT INTO icos.product (upc, name, price) VALUES
	('9780306406157', 'Verify Book', 9.99), ('012345000065', 'Verify Lamp', 19.99);
SELECT icos.receive_stock(9201, '9780306406157', 16, 'delivery');
SELECT icos._reserve(9201, '9780306406157', 5, 'ORDER-V', NULL);
SELECT icos.hold_stock(9201, '9780306406157', 2) AS h \gset
SELECT icos.receive_stock(9201, '012345000065', 3, 'delivery');

-- clean to begin with
SELECT * FROM icos.verify_stock();

-- a counter changed behind the ledger's back
UPDATE icos.stock_slot SET on_hand = on_hand + 3 WHERE store_id = 9201 AND upc = '9780306406157' AND slot = 2;
SELECT * FROM icos.verify_stock();
UPDATE icos.stock_slot SET on_hand = on_hand - 3 WHERE store_id = 9201 AND upc = '9780306406157' AND slot = 2;

-- a reservation lost
UPDATE icos.stock_slot SET reserved = 0 WHERE store_id = 9201 AND upc = '9780306406157';
SELECT * FROM icos.verify_stock();
ROLLBACK;

-- start again for the structural checks (the rollback above undid the setup)
BEGIN;
INSERT INTO icos.store (store_id, name, kind) VALUES (9201, 'Verify Leeds', 'store');
INSERT INTO icos.product (upc, name, price) VALUES ('9780306406157', 'Verify Book', 9.99);
SELECT icos.receive_stock(9201, '9780306406157', 16, 'delivery');

-- a slot row missing (its units moved to another slot so the totals agree)
UPDATE icos.stock_slot SET on_hand = on_hand + 2 WHERE store_id = 9201 AND upc = '9780306406157' AND slot = 0;
DELETE FROM icos.stock_slot WHERE store_id = 9201 AND upc = '9780306406157' AND slot = 7;
SELECT * FROM icos.verify_stock();
INSERT INTO icos.stock_slot VALUES (9201, '9780306406157', 7, 2, 0);
UPDATE icos.stock_slot SET on_hand = on_hand - 2 WHERE store_id = 9201 AND upc = '9780306406157' AND slot = 0;
SELECT * FROM icos.verify_stock();

-- more reserved than on hand in a slot (only possible without the check constraint)
ALTER TABLE icos.stock_slot DROP CONSTRAINT stock_slot_reserved_within_on_hand;
UPDATE icos.stock_slot SET reserved = 3 WHERE store_id = 9201 AND upc = '9780306406157' AND slot = 3;
SELECT * FROM icos.verify_stock();
UPDATE icos.stock_slot SET reserved = 0 WHERE store_id = 9201 AND upc = '9780306406157' AND slot = 3;

-- a hold whose status no longer matches its ledger rows
SELECT icos.hold_stock(9201, '9780306406157', 2) AS h \gset
UPDATE icos.stock_hold SET status = 'released', closed_at = now() WHERE hold_id = :h;
SELECT * FROM icos.verify_stock();
UPDATE icos.stock_hold SET status = 'active', closed_at = NULL WHERE hold_id = :h;
SELECT * FROM icos.verify_stock();
ROLLBACK;

-- and after the rollbacks: clean
SELECT * FROM icos.verify_stock();
