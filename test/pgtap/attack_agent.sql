-- Attack tests: what a shop-floor agent (a real login role emp_<id>, member
-- of icos_agent) can try against the database, run as that role with SET
-- SESSION AUTHORIZATION.  Tables, sequences and functions are discovered from
-- the catalog, so objects added later (promotions, replication) are covered
-- without editing this file.  Everything rolls back.
BEGIN;
SELECT plan(44);
\ir orders_fixture.psql

SELECT icos.create_employee(9301, 'Eve Agent', 9101, 'agent', pg_temp.verifier('eve'));
SELECT icos.create_employee(9302, 'Yan Agent', 9102, 'agent', pg_temp.verifier('yan'));

-- Orders of both stores, with customers and payment references.
SET SESSION AUTHORIZATION emp_9302;
SELECT set_config('t.york', icos.place_order('{
	"store": 9102, "channel": "store",
	"customer": {"name": "Yvonne York", "email": "yvonne@example.com", "phone": "01904 111111",
				 "address": {"line1": "3 Coney St", "town": "York", "postcode": "YO1 9QL"}},
	"lines": [{"upc": "036000291452", "qty": 1}], "delivery": {"method": "collect"},
	"payments": [{"method": "visa", "amount": 199.99, "reference": "york-auth-77"}]}')::text, false);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9301;
SELECT set_config('t.leeds', icos.place_order('{
	"store": 9101, "channel": "store",
	"customer": {"name": "Liam Leeds", "email": "liam@example.com"},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"},
	"payments": [{"method": "cash", "amount": 24.50}]}')::text, false);
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- 1. No direct writes, to any table, view or sequence of the schema.
-- ---------------------------------------------------------------------------
SELECT is_empty($$
	SELECT c.oid::regclass::text || ': ' || p.priv
	FROM pg_class c, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
	WHERE c.relnamespace = 'icos'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	  AND has_table_privilege('emp_9301', c.oid, p.priv)$$,
	'the agent holds no write privilege on any icos table or view');
SELECT is_empty($$
	SELECT c.oid::regclass::text FROM pg_class c
	WHERE c.relnamespace = 'icos'::regnamespace AND c.relkind = 'S'
	  AND (has_sequence_privilege('emp_9301', c.oid, 'UPDATE') OR has_sequence_privilege('emp_9301', c.oid, 'USAGE'))$$,
	'the agent may not advance or set any icos sequence');
SELECT ok(NOT has_schema_privilege('emp_9301', 'icos', 'CREATE'), 'the agent may not create objects in schema icos');

-- Every statement that could change a relation, tried for real; each must
-- fail with 42501 (insufficient privilege).  A statement that works is
-- rolled back at once and reported.
CREATE FUNCTION pg_temp.try_writes() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	r record;
	s text;
	stmts text[];
BEGIN
	FOR r IN SELECT c.oid::regclass AS rel, c.relkind,
				(SELECT quote_ident(a.attname) FROM pg_attribute a
				 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum LIMIT 1) AS col
			 FROM pg_class c
			 WHERE c.relnamespace = 'icos'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
			 ORDER BY 1::text
	LOOP
		IF r.relkind = 'S' THEN
			stmts := ARRAY[format('SELECT nextval(%L)', r.rel), format('SELECT setval(%L, 1)', r.rel),
						   format('ALTER SEQUENCE %s RESTART', r.rel)];
		ELSE
			stmts := ARRAY[format('INSERT INTO %s DEFAULT VALUES', r.rel),
						   format('UPDATE %s SET %s = %s', r.rel, r.col, r.col),
						   format('DELETE FROM %s', r.rel),
						   format('TRUNCATE %s', r.rel),
						   format('SELECT 1 FROM %s FOR UPDATE', r.rel),
						   format('LOCK TABLE %s IN EXCLUSIVE MODE', r.rel),
						   format('ALTER TABLE %s DISABLE TRIGGER ALL', r.rel),
						   format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', r.rel),
						   format('CREATE TRIGGER evil AFTER INSERT ON %s FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()', r.rel),
						   format('COPY %s FROM PROGRAM %L', r.rel, 'true')];
		END IF;
		FOREACH s IN ARRAY stmts LOOP
			BEGIN
				EXECUTE s;
				RAISE EXCEPTION USING ERRCODE = 'P0099', MESSAGE = 'statement succeeded';
			EXCEPTION
				WHEN insufficient_privilege THEN NULL;
				WHEN OTHERS THEN
					-- a view that cannot be written at all refuses before the privilege check
					IF NOT (r.relkind = 'v' AND SQLSTATE IN ('55000', '42809')) THEN
						RETURN NEXT s || ' -> ' || SQLSTATE || ' ' || SQLERRM;
					END IF;
			END;
		END LOOP;
	END LOOP;
END
$$;
SET SESSION AUTHORIZATION emp_9301;
SELECT is_empty($$SELECT * FROM pg_temp.try_writes()$$,
	'INSERT, UPDATE, DELETE, TRUNCATE, FOR UPDATE, LOCK, ALTER, CREATE TRIGGER, COPY and sequence changes all fail with 42501 on every icos relation');
SELECT throws_ok($$CREATE TABLE icos.evil (x int)$$, '42501', NULL, 'the agent cannot create a table in icos');
SELECT throws_ok($$CREATE FUNCTION icos.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'$$, '42501', NULL,
	'the agent cannot create a function in icos');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- 2. The event log and the stock ledger: not even the owner alters them.
-- ---------------------------------------------------------------------------
SET SESSION AUTHORIZATION emp_9301;
SELECT throws_ok($$UPDATE icos.order_event SET note = 'x'$$, '42501', NULL, 'agent cannot update the event log');
SELECT throws_ok($$DELETE FROM icos.order_event$$, '42501', NULL, 'agent cannot delete from the event log');
SELECT throws_ok($$UPDATE icos.stock_movement SET d_on_hand = 0$$, '42501', NULL, 'agent cannot alter the stock ledger');
RESET SESSION AUTHORIZATION;
SELECT throws_like($$UPDATE icos.order_event SET note = 'x'$$, '%', 'the owner cannot update the event log (trigger)');
SELECT throws_like($$TRUNCATE icos.order_event$$, '%', 'the owner cannot truncate the event log (trigger)');
SELECT throws_like($$DELETE FROM icos.stock_movement$$, '%', 'the owner cannot delete from the stock ledger (trigger)');

-- ---------------------------------------------------------------------------
-- 3. Reads: another store's customers and orders stay hidden.
-- ---------------------------------------------------------------------------
-- Guard for tables added later: any icos table an agent may read that holds
-- customer or payment details must have row-level security.
SELECT is_empty($$
	SELECT DISTINCT c.oid::regclass::text FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
	WHERE c.relnamespace = 'icos'::regnamespace AND c.relkind IN ('r', 'p')
	  AND a.attname IN ('customer_id', 'email', 'reference', 'line1', 'postcode', 'delivery_address')
	  AND has_table_privilege('icos_agent', c.oid, 'SELECT') AND NOT c.relrowsecurity$$,
	'every table an agent reads that holds customer or payment details has row-level security');
-- Every store-owned row-secured table: the agent sees exactly its store's rows.
CREATE FUNCTION pg_temp.foreign_rows() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	r regclass;
	n bigint;
BEGIN
	FOR r IN SELECT c.oid::regclass FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
			 WHERE c.relnamespace = 'icos'::regnamespace AND c.relrowsecurity AND a.attname = 'store_id'
			   AND c.relname <> 'customer' AND has_table_privilege(c.oid, 'SELECT')
	LOOP
		EXECUTE format('SELECT count(*) FROM %s WHERE store_id IS DISTINCT FROM 9101', r) INTO n;
		IF n > 0 THEN
			RETURN NEXT format('%s: %s rows of another store', r, n);
		END IF;
	END LOOP;
END
$$;
SET SESSION AUTHORIZATION emp_9301;
SELECT is_empty($$SELECT * FROM pg_temp.foreign_rows()$$,
	'in every row-secured table the Leeds agent sees only Leeds rows');
SELECT is((SELECT array_agg(email ORDER BY email) FROM icos.customer), ARRAY['liam@example.com'],
	'the Leeds agent lists only the customer who shopped in Leeds');
SELECT is((SELECT count(*)::int FROM icos.customer_address), 0, 'and no York customer''s address');
SELECT is((SELECT count(*)::int FROM icos.orders), 1, 'and lists one order, its own');
SELECT is((SELECT count(*)::int FROM icos.order_payment WHERE reference = 'york-auth-77'), 0,
	'and no York payment reference');
-- A leaky function in WHERE runs after the policy, so it sees no hidden row.
CREATE TABLE pg_temp.loot (v text);
CREATE FUNCTION pg_temp.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.000001 AS
	$$BEGIN INSERT INTO pg_temp.loot VALUES ($1); RETURN true; END$$;
SELECT is((SELECT count(*)::int FROM icos.customer WHERE pg_temp.leak(email)), 1, 'one row through a leaky qual');
SELECT is((SELECT array_agg(v ORDER BY v) FROM pg_temp.loot), ARRAY['liam@example.com'],
	'a leaky function in WHERE never sees another store''s customer');
SELECT is((SELECT count(*)::int FROM icos.customer_orders(
	(SELECT (icos.order(current_setting('t.york')::icos.order_code) -> 'customer' ->> 'id')::bigint))), 0,
	'customer_orders lists none of a York customer''s York orders to Leeds');
RESET SESSION AUTHORIZATION;

-- Holds: ids are sequential; another store's agent cannot release them.
SET SESSION AUTHORIZATION emp_9302;
SELECT set_config('t.hold', icos.hold_stock(9102, '036000291452', 1)::text, false);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9301;
SELECT throws_ok($$SELECT icos.release_hold(current_setting('t.hold')::bigint)$$, '42501', NULL,
	'the Leeds agent cannot release a York hold');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9301;
SELECT throws_ok(format($$SELECT icos.place_order('{"store": 9101, "channel": "store",
	"customer": {"name": "Hold Taker", "email": "taker@example.com"},
	"lines": [{"upc": "036000291452", "qty": 1, "fulfil_from": 9102}], "holds": [%s],
	"delivery": {"method": "collect", "collect_store": 9101}}')$$, current_setting('t.hold')),
	'42501', NULL, 'the Leeds agent cannot take a York hold into an order either');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT status FROM icos.stock_hold WHERE hold_id = current_setting('t.hold')::bigint), 'active',
	'the hold is still active');
SET SESSION AUTHORIZATION emp_9302;
SELECT lives_ok($$SELECT icos.release_hold(current_setting('t.hold')::bigint)$$, 'the York agent who placed it releases it');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- 4. Functions: only the documented API, nothing for head office.
-- ---------------------------------------------------------------------------
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'icos'::regnamespace AND p.prosecdef
	  AND has_function_privilege('emp_9301', p.oid, 'EXECUTE')
	  AND p.proname NOT IN ('place_order', 'order', 'receipt', 'edit_order', 'cancel_order', 'add_note',
							'advance_order', 'return_lines', 'customer_orders', 'upsert_customer',
							'price_basket', 'product_info', 'availability', 'hold_stock', 'release_hold',
							'update_customer', 'set_consent', 'record_feedback', 'also_bought',
							'offers', '_current_employee', '_current_store', '_sees_all_stores')$$,
	'the only SECURITY DEFINER functions an agent may run are the shop-floor API');
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	WHERE p.pronamespace = 'icos'::regnamespace AND p.prosecdef
	  AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
	'every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');
-- Every function the agent may not execute, called for real with arguments
-- the planner cannot fold away: each must fail with 42501.
CREATE FUNCTION pg_temp.try_calls() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	r record;
	s text;
BEGIN
	FOR r IN SELECT p.oid, p.prokind,
				(SELECT string_agg(format('(SELECT NULL::%s)', format_type(t, NULL)), ', ' ORDER BY i)
				 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, i)) AS args
			 FROM pg_proc p
			 WHERE p.pronamespace = 'icos'::regnamespace AND p.prokind IN ('f', 'p')
			   AND NOT has_function_privilege(p.oid, 'EXECUTE')
			   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
			   AND NOT EXISTS (SELECT 1 FROM unnest(p.proargtypes::oid[]) t JOIN pg_type y ON y.oid = t
							   WHERE y.typtype = 'p')
			 ORDER BY p.oid::regprocedure::text
	LOOP
		s := format(CASE r.prokind WHEN 'p' THEN 'CALL %s(%s)' ELSE 'SELECT %s(%s)' END,
					r.oid::regproc, coalesce(r.args, ''));
		BEGIN
			EXECUTE s;
			RAISE EXCEPTION USING ERRCODE = 'P0099', MESSAGE = 'call succeeded';
		EXCEPTION
			WHEN insufficient_privilege THEN NULL;
			WHEN OTHERS THEN RETURN NEXT s || ' -> ' || SQLSTATE || ' ' || SQLERRM;
		END;
	END LOOP;
END
$$;
SET SESSION AUTHORIZATION emp_9301;
SELECT is_empty($$SELECT * FROM pg_temp.try_calls()$$,
	'every icos function not granted to agents (internal, manager, admin) refuses the agent with 42501');
SELECT cmp_ok((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'icos'::regnamespace
			   AND NOT has_function_privilege(p.oid, 'EXECUTE')), '>=', 50,
	'... and that covered the internal and head-office functions');
SELECT is(icos.upc_class('9780306406157'), 'isbn', 'the agent may run the public type functions (upc_class reads its GS1 table)');
SELECT throws_ok($$SELECT icos.create_employee(9399, 'Mallory', 9101, 'admin', 'x')$$, '42501', NULL,
	'the agent cannot create an employee (an admin one, say)');
SELECT throws_ok($$SELECT icos.init_node(7, 'store', 'mine')$$, '42501', NULL, 'the agent cannot re-number the node');
SELECT throws_ok($$SELECT icos.order_code_node(current_setting('t.york')::icos.order_code)$$, '42501', NULL,
	'the agent cannot decode an order code''s node');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- 5. The order-code key.
-- ---------------------------------------------------------------------------
SELECT is_empty($$
	SELECT r.rolname FROM pg_roles r
	WHERE (r.rolname LIKE 'icos\_%' OR r.rolname LIKE 'emp\_%')
	  AND (has_table_privilege(r.oid, 'icos.order_code_key', 'SELECT')
		   OR has_any_column_privilege(r.oid, 'icos.order_code_key', 'SELECT'))$$,
	'no icos role or employee may read the order-code key table');
SELECT is_empty($$
	SELECT d.objid::text FROM pg_depend d
	WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'icos.order_code_key'::regclass$$,
	'no view exposes the order-code key');
SET SESSION AUTHORIZATION emp_9301;
SELECT throws_ok($$SELECT key FROM icos.order_code_key$$, '42501', NULL, 'the agent cannot read the key');
SELECT throws_ok($$SELECT icos.set_order_code_key('\x00000000000000000000000000000000')$$, '42501', NULL,
	'the agent cannot set the key');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- 6. Privilege escalation through the SECURITY DEFINER API: the agent
--    shadows what the API uses, in a schema of its own, in public (writable
--    in a database upgraded from before PostgreSQL 15) and in pg_temp, puts
--    them first on its search_path, and calls the API.  Every shadow bumps a
--    sequence (not rolled back by an error) and returns garbage.
-- ---------------------------------------------------------------------------
CREATE SCHEMA evil AUTHORIZATION emp_9301;
GRANT CREATE ON SCHEMA public TO emp_9301;
SET SESSION AUTHORIZATION emp_9301;
CREATE SEQUENCE evil.hits;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT USAGE, UPDATE ON SEQUENCE evil.hits TO PUBLIC;
-- Same-signature clones of every ordinary pg_catalog function named in an
-- icos function body, in evil, public and pg_temp.
CREATE FUNCTION pg_temp.make_shadows() RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	r record;
	sch text;
	n int := 0;
BEGIN
	FOR r IN
		WITH used AS (
			SELECT DISTINCT lower(m[1]) AS name
			FROM pg_proc p, regexp_matches(p.prosrc, '([A-Za-z_][A-Za-z0-9_]*)\s*\(', 'g') m
			WHERE p.pronamespace = 'icos'::regnamespace)
		SELECT f.proname, pg_get_function_identity_arguments(f.oid) AS args,
			   pg_get_function_result(f.oid) AS res, f.proretset
		FROM pg_proc f JOIN used ON used.name = f.proname
		WHERE f.pronamespace = 'pg_catalog'::regnamespace AND f.prokind = 'f'
		  AND NOT EXISTS (SELECT 1 FROM unnest(f.proargtypes::oid[] || f.prorettype) t JOIN pg_type y ON y.oid = t
						  WHERE y.typtype = 'p')
		  AND f.provariadic = 0 AND f.proargmodes IS NULL
	LOOP
		FOREACH sch IN ARRAY ARRAY['evil', 'public', 'pg_temp'] LOOP
			BEGIN
				EXECUTE format('CREATE FUNCTION %I.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
					sch, r.proname, r.args, r.res,
					'BEGIN PERFORM pg_catalog.nextval(''evil.hits''); RETURN'
					|| CASE WHEN r.proretset THEN '; END' ELSE ' NULL; END' END);
				n := n + 1;
			EXCEPTION WHEN OTHERS THEN NULL;	-- reserved names, unsupported signatures
			END;
		END LOOP;
	END LOOP;
	-- Operators of the types the API compares and computes with, cloned in
	-- evil and public.
	FOR r IN SELECT o.oprname, format_type(o.oprleft, NULL) AS l, format_type(o.oprright, NULL) AS rt,
				   format_type(o.oprresult, NULL) AS res, o.oid AS id
			 FROM pg_operator o
			 WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprkind = 'b'
			   AND o.oprleft IN ('text'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype,
								 'jsonb'::regtype, 'bool'::regtype, 'date'::regtype, 'timestamptz'::regtype,
								 'icos.upc'::regtype, 'icos.order_code'::regtype)
			   AND o.oprright <> 'internal'::regtype
	LOOP
		EXECUTE format('CREATE FUNCTION evil.op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L',
			r.id, r.l, r.rt, r.res, 'BEGIN PERFORM pg_catalog.nextval(''evil.hits''); RETURN NULL; END');
		FOREACH sch IN ARRAY ARRAY['evil', 'public'] LOOP
			EXECUTE format('CREATE OPERATOR %I.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.op_%s)',
				sch, r.oprname, r.l, r.rt, r.id);
			n := n + 1;
		END LOOP;
	END LOOP;
	-- A type of its own with an = operator, in public.
	CREATE TYPE evil.mine AS (x int);
	CREATE FUNCTION evil.mine_eq(evil.mine, evil.mine) RETURNS boolean LANGUAGE plpgsql AS
		'BEGIN PERFORM pg_catalog.nextval(''evil.hits''); RETURN true; END';
	CREATE OPERATOR public.= (LEFTARG = evil.mine, RIGHTARG = evil.mine, FUNCTION = evil.mine_eq);
	-- Temporary tables named like every icos table, with triggers.
	CREATE FUNCTION evil.hit_trigger() RETURNS trigger LANGUAGE plpgsql AS
		'BEGIN PERFORM pg_catalog.nextval(''evil.hits''); RETURN NULL; END';
	FOR r IN SELECT c.relname FROM pg_class c
			 WHERE c.relnamespace = 'icos'::regnamespace AND c.relkind IN ('r', 'p', 'v')
	LOOP
		BEGIN
			EXECUTE format('CREATE TEMP TABLE %I (LIKE icos.%I)', r.relname, r.relname);
		EXCEPTION WHEN insufficient_privilege THEN
			EXECUTE format('CREATE TEMP TABLE %I (code text, store_id int)', r.relname);
		END;
		EXECUTE format('CREATE TRIGGER hit BEFORE INSERT OR UPDATE OR DELETE ON pg_temp.%I
						FOR EACH ROW EXECUTE FUNCTION evil.hit_trigger()', r.relname);
		EXECUTE format('CREATE TABLE evil.%I (LIKE pg_temp.%I)', r.relname, r.relname);
		EXECUTE format('CREATE TRIGGER hit BEFORE INSERT OR UPDATE OR DELETE ON evil.%I
						FOR EACH ROW EXECUTE FUNCTION evil.hit_trigger()', r.relname);
		n := n + 2;
	END LOOP;
	RETURN n;
END
$$;
SELECT cmp_ok(pg_temp.make_shadows(), '>', 300, 'the agent planted hundreds of shadow functions, operators and tables');
SELECT ok(to_regprocedure('evil.jsonb_typeof(jsonb)') IS NOT NULL AND to_regprocedure('public.btrim(text)') IS NOT NULL
		  AND to_regprocedure('pg_temp.format(text)') IS NOT NULL AND to_regoperator('evil.=(text,text)') IS NOT NULL
		  AND to_regoperator('public.->>(jsonb,text)') IS NOT NULL AND to_regclass('pg_temp.orders') IS NOT NULL,
	'among them jsonb_typeof, btrim, format, text = text, jsonb ->> text and a temporary "orders"');

-- The whole shop-floor API, called with the shadows first on the path
-- (pg_temp first, pg_catalog last).  The body uses no operator or function
-- of its own, so any hit comes from the API.
CREATE FUNCTION pg_temp.attack() RETURNS text LANGUAGE plpgsql
SET search_path = pg_temp, evil, public, icos, pg_catalog AS $$
DECLARE
	c icos.order_code;
	h bigint;
	d jsonb;
	t text;
	n bigint;
BEGIN
	-- (delivery dates within the window of 365 days ahead)
	c := icos.place_order(pg_catalog.replace('{"store": 9101, "channel": "store",
		"customer": {"name": "Zoë Ünïcødé", "email": "zoe@example.com", "phone": "+44 113 496 0000",
					 "address": {"line1": "1 Park Row", "town": "Leeds", "postcode": "ls1 5ab"}},
		"lines": [{"upc": "4006381333931", "qty": 2}, {"upc": "96385074", "qty": 1},
				  {"upc": "036000291452", "qty": 1, "fulfil_from": 9102}],
		"delivery": {"method": "home", "date": "2099-01-05"},
		"payments": [{"method": "visa", "amount": 50.00, "reference": "auth 1"},
					 {"method": "cash", "amount": "20.00"}]}', '2099-01-05', (current_date OPERATOR(pg_catalog.+) 60)::text)::jsonb);
	d := icos.order(c);
	t := icos.receipt(c);
	t := icos.receipt(c, true);
	d := icos.edit_order(c, pg_catalog.replace('{"add_lines": [{"upc": "5012345678900", "qty": 1}], "set_qty": [{"line": 1, "qty": 1}],
		"delivery_date": "2099-01-06", "payments": [{"method": "debit_card", "amount": 100}]}',
		'2099-01-06', (current_date OPERATOR(pg_catalog.+) 61)::text)::jsonb);
	PERFORM icos.add_note(c, 'service', 'called back');
	d := icos.price_basket('{"lines": [{"upc": "4006381333931", "qty": 3}], "store": 9101, "channel": "store"}');
	d := icos.product_info('4006381333931');
	SELECT count(*) INTO n FROM icos.availability('4006381333931');
	h := icos.hold_stock(9101, '4006381333931', 1);
	PERFORM icos.release_hold(h);
	n := icos.upsert_customer('{"name": "Zoë Ünïcødé", "email": "zoe@example.com"}');
	SELECT count(*) INTO n FROM icos.customer_orders(n);
	d := icos.cancel_order(c, 'changed mind');
	-- A carried-away sale, advanced and returned.
	c := icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
		"delivery": {"method": "carry"}, "payments": [{"method": "cash", "amount": 30}]}');
	d := icos.return_lines(c, '[{"line": 1, "qty": 1}]', 'faulty');
	c := icos.place_order('{"store": 9101, "channel": "store", "customer": {"email": "liam@example.com", "name": "Liam Leeds"},
		"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"},
		"payments": [{"method": "cash", "amount": 24.50}]}');
	PERFORM icos.advance_order(c, 'ready_for_collection');
	RETURN c::text;
END
$$;
SELECT lives_ok($$SELECT set_config('t.attack', pg_temp.attack(), false)$$,
	'the whole shop-floor API works with hundreds of shadows first on the path');
SELECT is((SELECT is_called FROM evil.hits), false, 'not one shadow function, operator or trigger of the agent ran');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		   WHERE n.nspname = 'evil' AND c.relkind = 'r'
			 AND EXISTS (SELECT 1 FROM pg_stat_xact_user_tables s WHERE s.relid = c.oid AND s.n_tup_ins > 0)), 0,
	'nothing was written to the agent''s look-alike tables');
SELECT is((SELECT employee_id FROM icos.order_event WHERE code = current_setting('t.attack')::icos.order_code
		   AND kind = 'placed'), 9301, 'the events of the attack record the real employee');
SELECT ok((SELECT bool_and(at > now() - interval '1 hour') FROM icos.order_event
		   WHERE code = current_setting('t.attack')::icos.order_code), 'and the real time');

SELECT * FROM finish();
ROLLBACK;
