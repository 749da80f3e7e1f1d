-- Stock: receipts, display, availability, holds and their expiry, the
-- engine's errors (every SQLSTATE), the ledger.  One transaction, rolled back.
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
BEGIN;

INSERT INTO icos.store (store_id, name, kind) VALUES
	(9101, 'Leeds', 'store'), (9102, 'Hull', 'store'), (9103, 'Web shop', 'web'),
	(9109, 'North depot', 'warehouse');
INSERT INTO icos.store (store_id, name, kind, active) VALUES (9104, 'Closed York', 'store', false);
INSERT INTO icos.product (upc, name, price, lead_time_days) VALUES
	('036000291452', 'Stock Kettle', 29.99, 5),
	('4006381333931', 'Stock Pen', 1.50, 2),
	('96385074', 'Stock Mug', 4.00, 0);
-- hold ids in messages do not depend on what ran before
SELECT setval('icos.stock_hold_seq', 700000);
-- ids of this file's stores, to keep other tests' rows out of the way
CREATE TEMP VIEW mine AS SELECT * FROM icos.stock WHERE store_id BETWEEN 9100 AND 9199;

-- Receipts are spread evenly over the item's slots (8 by default).
SELECT icos.receive_stock(9101, '036000291452', 10, 'delivery 1');
SELECT slot, on_hand, reserved FROM icos.stock_slot
 WHERE store_id = 9101 AND upc = '036000291452' ORDER BY slot;
SET icos.stock_slots = 3;
SELECT icos.receive_stock(9102, '036000291452', 4, NULL);
RESET icos.stock_slots;
SELECT slot, on_hand, reserved FROM icos.stock_slot
 WHERE store_id = 9102 AND upc = '036000291452' ORDER BY slot;
SELECT store_id, upc, on_hand, reserved, available, on_display, slots FROM mine ORDER BY 1, 2;

-- Display: creates the stock row when there is none.
SELECT icos.set_display(9101, '036000291452', true);
SELECT icos.set_display(9109, '4006381333931', true);
SELECT store_id, upc, on_hand, available, on_display FROM mine ORDER BY 1, 2;

-- Availability: every active store and warehouse, zeros where there is none,
-- lead time 0 where some is available; or just the store asked for.
SELECT * FROM icos.availability('036000291452') WHERE store_id BETWEEN 9100 AND 9199;
SELECT * FROM icos.availability('036000291452', 9103);
SELECT * FROM icos.availability('4006381333931', 9109);

-- Reservations through the engine, with the ledger behind them.
SELECT icos._reserve(9101, '036000291452', 3, 'ORDER-A', 'line 1');
SELECT icos._reserve(9101, '036000291452', 4, 'ORDER-B', 'line 1');
SELECT icos._available(9101, '036000291452') AS available;
SELECT icos._consume(9101, '036000291452', 2, 'ORDER-A', 'carried out');
SELECT icos._release(9101, '036000291452', 1, 'ORDER-A', 'line cancelled');
SELECT icos._return_stock(9101, '036000291452', 1, 'ORDER-A', 'returned');
SELECT icos._return_stock(9102, '96385074', 2, 'ORDER-C', 'returned to another store');
SELECT store_id, upc, on_hand, reserved, available FROM mine ORDER BY 1, 2;
SELECT kind, d_on_hand, d_reserved, order_code, hold_id IS NOT NULL AS has_hold,
	   actor = session_user AS by_me, reason
  FROM icos.stock_movement WHERE store_id = 9101 ORDER BY movement_id;

-- The best store: most available, at least the quantity, ties to the lowest id.
SELECT icos._best_store('036000291452', 1) AS best_for_1,
	   icos._best_store('036000291452', 5) AS best_for_5,
	   icos._best_store('036000291452', 6) AS best_for_6,
	   icos._best_store('4006381333931', 1) AS nothing_in_stock;
SELECT icos.receive_stock(9109, '036000291452', 5, 'tie with Hull? no: Leeds has 5 too');
SELECT icos._best_store('036000291452', 5) AS tie_goes_to_lowest_id;
-- a closed store is never chosen even with the most stock
SELECT icos.receive_stock(9104, '036000291452', 50, 'closed store');
SELECT icos._best_store('036000291452', 1) AS best_ignoring_closed;

-- Holds.
SELECT icos.hold_stock(9102, '036000291452', 3) AS h1 \gset
SELECT status, qty, expires_at > clock_timestamp() + interval '14 minutes' AS about_15_minutes
  FROM icos.stock_hold WHERE hold_id = :h1;
SELECT store_id, on_hand, reserved, available FROM mine WHERE store_id = 9102 AND upc = '036000291452';
SELECT icos.release_hold(:h1);
SELECT status, closed_by = session_user AS by_me FROM icos.stock_hold WHERE hold_id = :h1;
SELECT icos.release_hold(:h1);	-- again: nothing happens
SELECT store_id, on_hand, reserved, available FROM mine WHERE store_id = 9102 AND upc = '036000291452';

-- A hold's id carries the node id in its top bits.
SELECT (:h1 >> 40) = icos.current_node() AS node_in_hold_id;

-- An expired hold does not count as reserved and never blocks a sale, even
-- though no sweeper has run: the engine releases it when it runs short.
SELECT icos.hold_stock(9102, '036000291452', 4) AS h2 \gset
-- (as if fifteen minutes had passed)
UPDATE icos.stock_hold SET expires_at = '2020-01-01 12:00+00' WHERE hold_id = :h2;
SELECT on_hand, reserved, available, expired_held FROM mine WHERE store_id = 9102 AND upc = '036000291452';
SELECT icos._available(9102, '036000291452') AS available_now;
SELECT * FROM icos.availability('036000291452', 9102);
SELECT icos._reserve(9102, '036000291452', 4, 'ORDER-D', 'needs the expired hold''s units');
SELECT status, closed_by = session_user AS by_me FROM icos.stock_hold WHERE hold_id = :h2;
SELECT kind, d_reserved, hold_id = :h2 AS this_hold, reason
  FROM icos.stock_movement WHERE store_id = 9102 AND kind IN ('hold', 'hold_release') ORDER BY movement_id;
-- the expired hold can no longer be taken into an order (IC004)
SELECT icos._take_hold(:h2, 9102, '036000291452', 4, 'ORDER-E');
\echo :LAST_ERROR_SQLSTATE

-- Taking a hold into an order: the counters do not move for the same
-- quantity; a smaller quantity gives the rest back, a larger one reserves more.
-- The ledger is checked after each take: a smaller and a larger take could
-- otherwise cancel each other's errors out by the end.
CREATE FUNCTION pg_temp.take_ledger(p_order text) RETURNS TABLE(kind text, d_reserved int, of_hold boolean,
																reason text)
LANGUAGE sql AS $$
	SELECT m.kind, m.d_reserved, m.hold_id IS NOT NULL, m.reason
	FROM icos.stock_movement m WHERE m.order_code = p_order ORDER BY m.movement_id
$$;
SELECT icos.receive_stock(9102, '036000291452', 6, 'delivery 2');
SELECT icos.hold_stock(9102, '036000291452', 2) AS h3 \gset
SELECT icos.hold_stock(9102, '036000291452', 2) AS h4 \gset
SELECT icos.hold_stock(9102, '036000291452', 2) AS h5 \gset
SELECT on_hand, reserved, available FROM mine WHERE store_id = 9102 AND upc = '036000291452';
SELECT icos._take_hold(:h3, 9102, '036000291452', 2, 'ORDER-F');
SELECT * FROM pg_temp.take_ledger('ORDER-F');
SELECT * FROM icos.verify_stock() WHERE store_id = 9102;
SELECT on_hand, reserved, available FROM mine WHERE store_id = 9102 AND upc = '036000291452';
SELECT icos._take_hold(:h4, 9102, '036000291452', 1, 'ORDER-G');
SELECT * FROM pg_temp.take_ledger('ORDER-G');
SELECT * FROM icos.verify_stock() WHERE store_id = 9102;
SELECT on_hand, reserved, available FROM mine WHERE store_id = 9102 AND upc = '036000291452';
SELECT icos._take_hold(:h5, 9102, '036000291452', 3, 'ORDER-H');
SELECT * FROM pg_temp.take_ledger('ORDER-H');
SELECT * FROM icos.verify_stock() WHERE store_id = 9102;
SELECT on_hand, reserved, available FROM mine WHERE store_id = 9102 AND upc = '036000291452';
SELECT hold_id = :h3 AS h3, status, order_code FROM icos.stock_hold
 WHERE hold_id IN (:h3, :h4, :h5) ORDER BY hold_id;
-- used, released, wrong product or store, unknown: all IC004
SELECT icos._take_hold(:h3, 9102, '036000291452', 2, 'ORDER-X');
\echo :LAST_ERROR_SQLSTATE
SELECT icos._take_hold(:h1, 9102, '036000291452', 2, 'ORDER-X');
\echo :LAST_ERROR_SQLSTATE
SELECT icos.hold_stock(9101, '036000291452', 1) AS h6 \gset
SELECT icos._take_hold(:h6, 9102, '036000291452', 1, 'ORDER-X');
\echo :LAST_ERROR_SQLSTATE
SELECT icos._take_hold(:h6, 9101, '4006381333931', 1, 'ORDER-X');
\echo :LAST_ERROR_SQLSTATE
SELECT icos._take_hold(-1, 9101, '036000291452', 1, 'ORDER-X');
\echo :LAST_ERROR_SQLSTATE
-- a hold taken into an order cannot be released (IC002)
SELECT icos.release_hold(:h3);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.release_hold(-1);
\echo :LAST_ERROR_SQLSTATE
-- more than the hold plus what is free: IC001, and the hold is untouched
SELECT icos._take_hold(:h6, 9101, '036000291452', 50, 'ORDER-X');
\echo :LAST_ERROR_SQLSTATE
SELECT status FROM icos.stock_hold WHERE hold_id = :h6;

-- expire_holds sweeps what has expired and nothing else.
SELECT icos.hold_stock(9101, '036000291452', 1, '0 seconds') AS h7 \gset
SELECT icos.expire_holds() AS swept;
SELECT hold_id = :h7 AS h7, status FROM icos.stock_hold WHERE hold_id IN (:h6, :h7) ORDER BY hold_id;

-- Errors: not enough stock (IC001) names product, store and what is available.
SELECT icos._reserve(9101, '036000291452', 100, 'ORDER-X', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._reserve(9102, '4006381333931', 1, 'ORDER-X', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.hold_stock(9109, '4006381333931', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._release(9101, '036000291452', 100, 'ORDER-X', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._consume(9109, '4006381333931', 1, 'ORDER-X', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.adjust_stock(9101, '036000291452', -100, 'stock count');
\echo :LAST_ERROR_SQLSTATE
-- unknown store or product (IC004)
SELECT icos._reserve(9199, '036000291452', 1, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._reserve(9101, '5012345678900', 1, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._return_stock(9199, '036000291452', 1, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._available(9199, '036000291452');
\echo :LAST_ERROR_SQLSTATE
SELECT icos.receive_stock(9199, '036000291452', 1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.receive_stock(9101, '5012345678900', 1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.set_display(9101, '5012345678900', true);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.hold_stock(9199, '036000291452', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM icos.availability('5012345678900');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM icos.availability('036000291452', 9199);
\echo :LAST_ERROR_SQLSTATE
-- bad quantities (22023) and missing values (22004)
SELECT icos._reserve(9101, '036000291452', 0, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._release(9101, '036000291452', -1, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._best_store('036000291452', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.receive_stock(9101, '036000291452', 0, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.hold_stock(9101, '036000291452', -2);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.hold_stock(9101, '036000291452', 1, '-1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT icos.adjust_stock(9101, '036000291452', 0, 'nothing');
\echo :LAST_ERROR_SQLSTATE
SELECT icos.adjust_stock(9101, '036000291452', 1, ' ');
\echo :LAST_ERROR_SQLSTATE
SELECT icos.transfer_stock(9101, 9101, '036000291452', 1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.receive_stock(9103, '036000291452', 1, 'web locations hold no stock');
\echo :LAST_ERROR_SQLSTATE
SELECT icos._reserve(NULL, '036000291452', 1, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.receive_stock(9101, '036000291452', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos.set_display(9101, '036000291452', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._stock_apply(9101, '036000291452', 'gift', 1, 0, NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT icos._stock_apply(9101, '036000291452', 'receipt', 1, 1, NULL, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- a malformed code never reaches the engine (22P02)
SELECT icos._reserve(9101, '036000291453', 1, NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
-- none of those changed anything
SELECT store_id, upc, on_hand, reserved, available FROM mine ORDER BY 1, 2;

-- Adjustments and transfers.
SELECT icos.adjust_stock(9101, '036000291452', -1, 'damaged');
SELECT icos.adjust_stock(9101, '036000291452', 2, 'found in the back');
SELECT icos.transfer_stock(9101, 9109, '036000291452', 2, NULL);
SELECT icos.transfer_stock(9109, 9102, '036000291452', 1, 'rebalance');
SELECT store_id, upc, on_hand, reserved, available FROM mine ORDER BY 1, 2;
SELECT store_id, kind, d_on_hand, reason FROM icos.stock_movement
 WHERE store_id BETWEEN 9100 AND 9199 AND kind IN ('adjustment', 'transfer') ORDER BY movement_id;

-- The ledger is append-only, even for a superuser.
UPDATE icos.stock_movement SET reason = 'rewritten' WHERE store_id = 9101;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM icos.stock_movement WHERE store_id = 9101;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE icos.stock_movement;
\echo :LAST_ERROR_SQLSTATE
-- a movement whose deltas do not fit its kind is refused
\set VERBOSITY terse
INSERT INTO icos.stock_movement (store_id, upc, kind, d_on_hand, d_reserved)
VALUES (9101, '036000291452', 'receipt', -5, 0);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default

-- Everything agrees with the ledger.
SELECT * FROM icos.verify_stock();

ROLLBACK;
