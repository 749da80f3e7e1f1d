-- Attack tests for a store manager (login role emp_<id>, member of
-- icos_manager): it changes its own store's stock and nothing else's, and
-- gains no head-office function.  Run as the role; everything rolls back.
BEGIN;
SELECT plan(14);
\ir orders_fixture.psql

SELECT icos.create_employee(9321, 'Meg Manager', 9101, 'manager', pg_temp.verifier('meg'));
SELECT icos.create_employee(9322, 'Ali Admin', 9101, 'admin', pg_temp.verifier('ali'));

SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'icos'::regnamespace AND p.prosecdef
	  AND has_function_privilege('emp_9321', p.oid, 'EXECUTE')
	  AND p.proname NOT IN ('place_order', 'order', 'receipt', 'edit_order', 'cancel_order', 'add_note',
							'advance_order', 'return_lines', 'customer_orders', 'upsert_customer',
							'price_basket', 'product_info', 'availability', 'hold_stock', 'release_hold',
							'update_customer', 'set_consent', 'record_feedback', 'also_bought',
							'offers', '_current_employee', '_current_store', '_sees_all_stores',
							'receive_stock', 'set_display', 'adjust_stock', 'transfer_stock', 'sales_report',
							'customer_export', 'forget_customer')$$,
	'a manager runs the shop-floor API, the stock-room functions and sales_report, no other SECURITY DEFINER function');

SELECT set_config('t.before', string_agg(store_id || ':' || on_hand || ':' || on_display, ',' ORDER BY store_id, upc), false)
FROM icos.stock;
SET SESSION AUTHORIZATION emp_9321;
SELECT throws_ok($$SELECT icos.receive_stock(9102, '036000291452', 100, 'phantom delivery')$$, '42501', NULL,
	'a Leeds manager cannot receive stock into York');
SELECT throws_ok($$SELECT icos.adjust_stock(9102, '036000291452', -5, 'written off')$$, '42501', NULL,
	'nor write off York''s stock');
SELECT throws_ok($$SELECT icos.transfer_stock(9105, 9101, '4006381333931', 50, 'help myself')$$, '42501', NULL,
	'nor move the warehouse''s stock to Leeds');
SELECT throws_ok($$SELECT icos.set_display(9102, '036000291452', true)$$, '42501', NULL,
	'nor change York''s display');
SELECT throws_ok($$SELECT icos.create_employee(9399, 'Mallory', 9101, 'admin', 'x')$$, '42501', NULL,
	'nor create employees');
SELECT throws_ok($$SELECT * FROM icos.verify_stock()$$, '42501', NULL, 'nor run head office''s stock check');
SELECT throws_ok($$UPDATE icos.product SET price = 0.01$$, '42501', NULL, 'nor change prices');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT string_agg(store_id || ':' || on_hand || ':' || on_display, ',' ORDER BY store_id, upc) FROM icos.stock),
	current_setting('t.before'), 'the refused calls changed no stock');

SET SESSION AUTHORIZATION emp_9321;
SELECT lives_ok($$SELECT icos.receive_stock(9101, '036000291452', 3, 'delivery')$$, 'the manager receives Leeds stock');
SELECT lives_ok($$SELECT icos.transfer_stock(9101, 9102, '036000291452', 1, 'to York')$$,
	'and sends Leeds stock to York');
SELECT lives_ok($$SELECT icos.adjust_stock(9101, '036000291452', -1, 'damaged')$$, 'and writes off a damaged Leeds unit');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT on_hand FROM icos.stock WHERE store_id = 9102 AND upc = '036000291452'), 6,
	'York has the transferred unit');

SET SESSION AUTHORIZATION emp_9322;
SELECT lives_ok($$SELECT icos.receive_stock(9102, '036000291452', 1, 'head office correction')$$,
	'head office (an admin) changes any store''s stock');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
