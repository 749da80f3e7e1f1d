-- icos 0.2.0: privileges.  Every GRANT, REVOKE and row-level security policy
-- of the 0.2.0 objects lives here, so the whole security model reads in one
-- place (docs/security.md explains it).
--
--   icos_agent     takes, finds and changes orders through the API; reads its
--                  own store's customers and orders; reads the catalogue
--   icos_manager   an agent who also receives stock and sets displays
--   icos_reporter  reads everything (all stores), changes nothing
--   icos_admin     a manager who also maintains the catalogue and stores and
--                  creates employees
--
-- Nobody but the extension owner writes a table directly: writes go through
-- SECURITY DEFINER functions with a pinned search_path.

GRANT USAGE ON SCHEMA icos TO icos_agent, icos_manager, icos_reporter, icos_admin;

-- Tables of 0.2.0: nothing for PUBLIC, reads for the roles, writes only for
-- the catalogue (admins maintain it with plain SQL, as API.md says).
REVOKE ALL ON icos.store, icos.category, icos.product, icos.stock_item, icos.stock_slot,
	icos.stock_movement, icos.stock_hold, icos.stock, icos.customer, icos.customer_address,
	icos.employee, icos.orders, icos.order_line, icos.order_payment, icos.order_event,
	icos.change_kind, icos.change_rule
	FROM PUBLIC;
REVOKE ALL ON SEQUENCE icos.stock_movement_seq, icos.stock_hold_seq, icos.customer_local_seq,
	icos.order_event_seq
	FROM PUBLIC;

-- Catalogue and stock levels: every store sees every store's stock.
GRANT SELECT ON icos.store, icos.category, icos.product, icos.stock, icos.change_rule, icos.change_kind
	TO icos_agent, icos_reporter;
GRANT SELECT ON icos.stock_item, icos.stock_slot, icos.stock_movement, icos.stock_hold TO icos_reporter;
-- The GS1 reference tables of 0.1.0 behind icos.upc_class and
-- icos.upc_variable_price (functions anyone may run): without a read grant
-- those functions failed with 42501 for every employee (attack tests).
GRANT SELECT ON icos.upc_prefix, icos.upc_price_layout TO icos_agent, icos_reporter;
GRANT INSERT, UPDATE, DELETE ON icos.store, icos.category, icos.product TO icos_admin;
GRANT UPDATE (allowed, reason) ON icos.change_rule TO icos_admin;
-- People and orders: reads limited by the policies below.
GRANT SELECT ON icos.customer, icos.customer_address, icos.employee, icos.orders, icos.order_line,
	icos.order_payment, icos.order_event
	TO icos_agent;
GRANT SELECT ON icos.customer, icos.customer_address, icos.employee, icos.orders, icos.order_line,
	icos.order_event
	TO icos_reporter;
-- A reporter sees what was paid, how and when, but not a payment's reference
-- (authorisation code, cheque number, gift card id).
GRANT SELECT (store_id, code, payment_no, kind, method, amount_pence, tendered_pence, at, employee_id)
	ON icos.order_payment TO icos_reporter;

-- Row-level security: direct reads are limited to the reader's store.  The
-- API functions run as the owner and are not limited (icos.order finds any
-- order by its full code).
ALTER TABLE icos.customer ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.customer_address ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.employee ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.order_line ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.order_payment ENABLE ROW LEVEL SECURITY;
ALTER TABLE icos.order_event ENABLE ROW LEVEL SECURITY;

CREATE POLICY customer_by_store ON icos.customer FOR SELECT
	USING (icos._store_visible(store_id)
		   OR EXISTS (SELECT 1 FROM icos.orders o
					  WHERE o.customer_id = customer.customer_id AND o.store_id = icos._current_store()));
COMMENT ON POLICY customer_by_store ON icos.customer IS
	'Customers registered at the reader''s store or who ordered there (head office reads all)';
CREATE POLICY customer_address_by_store ON icos.customer_address FOR SELECT
	USING (EXISTS (SELECT 1 FROM icos.customer c WHERE c.customer_id = customer_address.customer_id));
COMMENT ON POLICY customer_address_by_store ON icos.customer_address IS
	'Addresses of the customers the reader may see';
CREATE POLICY employee_by_store ON icos.employee FOR SELECT
	USING (icos._store_visible(store_id));
COMMENT ON POLICY employee_by_store ON icos.employee IS 'Employees of the reader''s store (head office reads all)';
CREATE POLICY orders_by_store ON icos.orders FOR SELECT USING (icos._store_visible(store_id));
COMMENT ON POLICY orders_by_store ON icos.orders IS 'Orders sold by the reader''s store (head office reads all)';
CREATE POLICY order_line_by_store ON icos.order_line FOR SELECT USING (icos._store_visible(store_id));
COMMENT ON POLICY order_line_by_store ON icos.order_line IS 'Lines of the orders the reader may see';
CREATE POLICY order_payment_by_store ON icos.order_payment FOR SELECT USING (icos._store_visible(store_id));
COMMENT ON POLICY order_payment_by_store ON icos.order_payment IS 'Payments of the orders the reader may see';
CREATE POLICY order_event_by_store ON icos.order_event FOR SELECT USING (icos._store_visible(store_id));
COMMENT ON POLICY order_event_by_store ON icos.order_event IS 'Events of the orders the reader may see';

-- Functions: PUBLIC may execute nothing that is SECURITY DEFINER and nothing
-- internal (name starting with "_"); type support functions stay public.
DO $revoke$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace = 'icos'::regnamespace
			   AND (p.prosecdef OR p.proname LIKE '\_%')
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$revoke$;

-- The stock API is granted by role below, never to PUBLIC, whatever its
-- security mode.
REVOKE ALL ON FUNCTION icos.product_info(icos.upc), icos.availability(icos.upc, int),
	icos.hold_stock(int, icos.upc, int, interval), icos.release_hold(bigint),
	icos.receive_stock(int, icos.upc, int, text), icos.set_display(int, icos.upc, boolean),
	icos.verify_stock(), icos.adjust_stock(int, icos.upc, int, text),
	icos.transfer_stock(int, int, icos.upc, int, text), icos.expire_holds()
	FROM PUBLIC;

-- Row-level security helpers run as the reader.
GRANT EXECUTE ON FUNCTION icos._current_employee(), icos._current_store(), icos._sees_all_stores(),
	icos._store_visible(int)
	TO icos_agent, icos_reporter;

-- The order API and the stock API for the shop floor.
GRANT EXECUTE ON FUNCTION
	icos.place_order(jsonb), icos."order"(icos.order_code), icos.receipt(icos.order_code, boolean),
	icos.edit_order(icos.order_code, jsonb), icos.cancel_order(icos.order_code, text),
	icos.add_note(icos.order_code, text, text), icos.advance_order(icos.order_code, text, text),
	icos.return_lines(icos.order_code, jsonb, text), icos.customer_orders(bigint),
	icos.upsert_customer(jsonb), icos.price_basket(jsonb)
	TO icos_agent;
GRANT EXECUTE ON FUNCTION
	icos.product_info(icos.upc), icos.availability(icos.upc, int),
	icos.hold_stock(int, icos.upc, int, interval), icos.release_hold(bigint)
	TO icos_agent;
GRANT EXECUTE ON FUNCTION icos.receive_stock(int, icos.upc, int, text), icos.set_display(int, icos.upc, boolean),
	icos.adjust_stock(int, icos.upc, int, text), icos.transfer_stock(int, int, icos.upc, int, text)
	TO icos_manager;
GRANT EXECUTE ON FUNCTION icos.product_info(icos.upc), icos.availability(icos.upc, int),
	icos."order"(icos.order_code), icos.customer_orders(bigint), icos.price_basket(jsonb)
	TO icos_reporter;

-- Head office.
GRANT EXECUTE ON FUNCTION icos.create_employee(int, text, int, text, text), icos.create_employee_login(int, text),
	icos.verify_stock(),
	icos.expire_holds()
	TO icos_admin;
