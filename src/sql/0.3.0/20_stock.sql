-- icos 0.3.0: stock (docs/stock.md).
--   icos.setting                head office's settings, replicated to every store;
--                               the first is max_hold, the longest a hold may last
--   icos.hold_stock             refuses a hold longer than max_hold (22023)
--   icos.stock_hold             visible to the staff who may use a hold
--                               (row-level security, icos._may_use_hold)
--   icos.expire_holds           one locked pass per item (icos._expire_item_holds)
--   icos._stock_slot_apply      the change of one given slot, for the re-check test
--   icos._stock_lines           the lines of one product taken in one step

-- Settings head office decides for the whole deployment.  The table starts
-- empty: a setting without a row has its default (icos._setting_default),
-- so that a store node's copy of the table, filled by replication from
-- head office, never meets a row of its own.
CREATE FUNCTION icos._setting_default(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE p_name WHEN 'max_hold' THEN '24 hours' WHEN 'currency' THEN 'GBP' END
$$;
COMMENT ON FUNCTION icos._setting_default(text) IS
	'internal: the value a setting of icos.setting has while it has no row: max_hold 24 hours, currency GBP; null for an unknown name';

CREATE FUNCTION icos._setting_valid(p_name text, p_value text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v interval;
BEGIN
	IF p_name = 'currency' THEN
		RETURN p_value ~ '^[A-Z]{3}$';
	END IF;
	IF p_name IS DISTINCT FROM 'max_hold' OR p_value IS NULL THEN
		RETURN false;
	END IF;
	BEGIN
		v := p_value::interval;
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
		RETURN false;
	END;
	RETURN v BETWEEN interval '1 minute' AND interval '90 days';
END
$$;
COMMENT ON FUNCTION icos._setting_valid(text, text) IS
	'internal: the check of icos.setting: the name is a known setting and the value one it may take (max_hold: an interval from 1 minute to 90 days; currency: three capital letters, an ISO 4217 code)';

CREATE TABLE icos.setting (
	name		text PRIMARY KEY,
	value		text NOT NULL,
	CONSTRAINT setting_valid CHECK (icos._setting_valid(name, value))
);
COMMENT ON TABLE icos.setting IS
'Settings head office decides for every node (replicated to the stores, read-only there): one row per setting changed from its default.  max_hold: the longest time icos.hold_stock sets stock aside for, an interval from 1 minute to 90 days, default 24 hours.  currency: the ISO 4217 code of the money of every order (icos.order shows it), default GBP.  Admins write it with plain SQL.';
COMMENT ON COLUMN icos.setting.name IS 'the setting: max_hold or currency';
COMMENT ON COLUMN icos.setting.value IS 'its value as text, e.g. ''48 hours'' (checked by icos._setting_valid)';

CREATE FUNCTION icos._setting_value(p_name text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce((SELECT s.value FROM icos.setting s WHERE s.name = p_name),
					icos._setting_default(p_name))
$$;
COMMENT ON FUNCTION icos._setting_value(text) IS
	'internal: the value of a setting: its row of icos.setting, else its default';


-- Holds: who may see and use one.  One rule for the row-level security of
-- icos.stock_hold and for releasing or taking a hold
-- (icos._check_hold_access): whoever placed it, the staff of the store whose
-- stock it holds (its managers can see and release what another store's
-- agent held there), the staff of the placer's store, and head office.
-- Run as the reader by the policy: the placer's employee row is visible to
-- the reader exactly when it is of the reader's store, which is the rule.
CREATE FUNCTION icos._may_use_hold(p_store int, p_actor text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT icos._current_store() IS NULL
		OR p_actor = session_user
		OR p_store = icos._current_store()
		OR EXISTS (SELECT 1 FROM icos.employee e
					WHERE e.role_name = p_actor AND e.store_id = icos._current_store())
		OR icos._sees_all_stores()
$$;
COMMENT ON FUNCTION icos._may_use_hold(int, text) IS
	'internal: may the session see, release or take into an order a hold of stock at store p_store placed by p_actor: its placer, staff of that store or of the placer''s store, head office, and sessions that are not employees';

CREATE OR REPLACE FUNCTION icos._check_hold_access(h icos.stock_hold, p_what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- Hold ids are sequential, so any agent could otherwise release, or take
	-- into an order, every hold of the chain (found by the attack tests).
	IF NOT icos._may_use_hold(h.store_id, h.actor) THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = pg_catalog.format('you cannot %s hold %s', p_what, h.hold_id),
			DETAIL = pg_catalog.format('It holds stock at store %s for %s; your employee record is at store %s.',
									   h.store_id, h.actor, icos._current_store()),
			HINT = 'Ask the store that holds the stock, or whoever placed the hold, to release it or take it into an order.';
	END IF;
END
$$;
COMMENT ON FUNCTION icos._check_hold_access(icos.stock_hold, text) IS
	'internal: 42501 unless the session may use the hold (icos._may_use_hold: its placer, staff of its store or of the placer''s store, head office); p_what names the use in the message (release, use)';

ALTER TABLE icos.stock_hold ENABLE ROW LEVEL SECURITY;
CREATE POLICY stock_hold_by_store ON icos.stock_hold FOR SELECT
	USING (icos._may_use_hold(store_id, actor));
COMMENT ON POLICY stock_hold_by_store ON icos.stock_hold IS
	'Holds the reader may use (icos._may_use_hold): placed by the reader, of stock at the reader''s store, placed by the reader''s store''s staff; head office reads all';
GRANT SELECT ON icos.stock_hold TO icos_agent;
REVOKE ALL ON icos.setting FROM PUBLIC;
GRANT SELECT ON icos.setting TO icos_agent, icos_reporter;
GRANT INSERT, UPDATE, DELETE ON icos.setting TO icos_admin;

CREATE OR REPLACE FUNCTION icos.hold_stock(store_id int, code icos.upc, qty int, hold_for interval DEFAULT '15 minutes')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_store int := hold_stock.store_id;
	v_max text := icos._setting_value('max_hold');
	v_id bigint;
BEGIN
	IF qty IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a quantity is required',
			HINT = 'Enter how many units to hold.';
	END IF;
	IF hold_for IS NULL OR hold_for < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a hold must last zero or more minutes',
			DETAIL = pg_catalog.format('The time given was %s.', coalesce(hold_for::text, 'missing')),
			HINT = 'Give how long to hold the goods, for example ''15 minutes''.';
	END IF;
	-- Checked before the expiry is computed: an absurd time is this error,
	-- never a timestamp out of range (22008).
	IF hold_for > v_max::interval THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('a hold may last at most %s', v_max),
			DETAIL = pg_catalog.format('The time given was %s.', hold_for),
			HINT = 'Hold the goods for less time, or place an order to reserve them; head office sets the longest hold (setting max_hold of icos.setting).';
	END IF;
	PERFORM icos._stock_check(v_store, code, qty, true);
	v_id := icos._stock_next_id('icos.stock_hold_seq');
	PERFORM icos._stock_apply(v_store, code, 'hold', 0, qty, NULL, v_id, 'hold placed');
	INSERT INTO icos.stock_hold (hold_id, store_id, upc, qty, expires_at)
	VALUES (v_id, v_store, code, qty, pg_catalog.clock_timestamp() + hold_for);
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION icos.hold_stock(int, icos.upc, int, interval) IS
'Set qty units aside at a store for hold_for (default 15 minutes, at most the setting max_hold of icos.setting, default 24 hours) and return the hold id, which place_order accepts under "holds".  IC001 when fewer are available (the message says how many), IC004 unknown store or product, 22023 qty <= 0, a negative time or one longer than max_hold.';

CREATE FUNCTION icos._expire_item_holds(p_store int, p_upc icos.upc)
RETURNS int AS 'MODULE_PATHNAME', 'stock_expire_item_holds'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._expire_item_holds(int, icos.upc) IS
'internal: release the expired holds of one item that no other session is busy with, under the locks of all its slots taken in slot order, and return how many (the sweep a reservation that runs short makes)';

CREATE OR REPLACE FUNCTION icos.expire_holds()
RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	i record;
	n int := 0;
BEGIN
	-- Items in (store, upc) order like every multi-item change, each in one
	-- locked pass; holds other sessions are busy with are skipped.
	FOR i IN
		SELECT DISTINCT x.store_id, x.upc FROM icos.stock_hold x
		 WHERE x.status = 'active' AND x.expires_at <= pg_catalog.clock_timestamp()
		 ORDER BY x.store_id, x.upc
	LOOP
		n := n + icos._expire_item_holds(i.store_id, i.upc);
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION icos.expire_holds() IS
'Release every hold whose time is up and return how many; for a periodic job.  Not needed for correctness: expired holds never block a sale.';

CREATE FUNCTION icos._stock_slot_apply(p_store int, p_upc icos.upc, p_slot int, p_kind text,
									   p_d_on_hand int, p_d_reserved int, p_reason text)
RETURNS boolean AS 'MODULE_PATHNAME', 'stock_slot_apply'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION icos._stock_slot_apply(int, icos.upc, int, text, int, int, text) IS
'internal: the change of one given slot the stock engine makes after waiting for that slot, with its ledger row; the statement re-checks the slot and changes nothing, returning false, when it no longer has the units the change takes (another session took them while this one waited).  Not for holds.';

REVOKE ALL ON FUNCTION icos._setting_default(text), icos._setting_valid(text, text), icos._setting_value(text),
	icos._may_use_hold(int, text), icos._expire_item_holds(int, icos.upc),
	icos._stock_slot_apply(int, icos.upc, int, text, int, int, text)
	FROM PUBLIC;
-- Row-level security of icos.stock_hold runs the rule as the reader, and
-- the check of icos.setting runs as the admin writing it.
GRANT EXECUTE ON FUNCTION icos._may_use_hold(int, text) TO icos_agent, icos_reporter;
GRANT EXECUTE ON FUNCTION icos._setting_valid(text, text) TO icos_admin;

-- The engine (src/stock.c) now adds up an order's lines per product.
COMMENT ON FUNCTION icos._stock_lines(text, int[], icos.upc[], int[], text, text[]) IS
'internal: the stock of all lines of one order in one call; the arrays are parallel (one element per line), in any order: the engine adds up the lines of each (store, upc) and takes each once, sorted by (store, upc), the fixed lock order, and logs one ledger row per line in that order.  p_kind reserve reserves as icos._reserve does; p_kind sale sells unreserved units at once (goods carried out at the till): on_hand drops in one atomic step and the ledger gets rows of kind sale with d_reserved 0.  IC001 for the first product that cannot be served, IC004 unknown store or product, 22023 when the lines of one product add up to more than 2147483647.';

-- A product look-up answers with every store's availability (600 objects
-- at 600 stores).  The PL/pgSQL body assembled that document twice; the
-- engine (src/product_info.c) writes it once, in jsonb's binary form, from
-- the same statements: the product, icos.category_path, icos._product_offers
-- and icos._availability.
CREATE OR REPLACE FUNCTION icos.product_info(code icos.upc)
RETURNS jsonb AS 'MODULE_PATHNAME', 'product_info'
LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
