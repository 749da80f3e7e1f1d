-- icos 0.2.0: people.  Customers (with their addresses), employees and the
-- group roles employees log in through.
--
-- Group roles are cluster-wide objects: they are created only when missing,
-- so a second database of the same cluster (a store and head office on one
-- machine, a test database) shares them.  icos_admin comes from 0.1.0.

DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['icos_agent', 'icos_manager', 'icos_reporter', 'icos_admin']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
	-- A manager can do everything an agent can; an admin everything a manager can.
	IF NOT pg_catalog.pg_has_role('icos_manager', 'icos_agent', 'member') THEN
		GRANT icos_agent TO icos_manager;
	END IF;
	IF NOT pg_catalog.pg_has_role('icos_admin', 'icos_manager', 'member') THEN
		GRANT icos_manager TO icos_admin;
	END IF;
END
$roles$;

-- Customers ----------------------------------------------------------------

CREATE SEQUENCE icos.customer_local_seq AS bigint MAXVALUE 1099511627775;
COMMENT ON SEQUENCE icos.customer_local_seq IS
	'Node-local part of customer ids (the low 40 bits); see icos.customer.customer_id';

CREATE TABLE icos.customer (
	customer_id bigint PRIMARY KEY
		DEFAULT ((icos.current_node()::bigint << 40) | pg_catalog.nextval('icos.customer_local_seq')),
	store_id    int REFERENCES icos.store,
	name        text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
	email       text CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
	phone       text CHECK (phone ~ '^\+?[0-9]{6,15}$'),
	created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE icos.customer IS
	'Customers.  Written only through icos.upsert_customer and icos.place_order';
COMMENT ON COLUMN icos.customer.customer_id IS
	'node id << 40 | node-local sequence: unique across every node without coordination';
COMMENT ON COLUMN icos.customer.store_id IS
	'The store that registered the customer (row-level security: its agents may list them)';
COMMENT ON COLUMN icos.customer.email IS 'E-mail address, matched case-insensitively by upsert_customer';
COMMENT ON COLUMN icos.customer.phone IS 'Phone number, digits only with an optional leading +';
-- One record per e-mail address per registering node (the node is the top
-- bits of customer_id).  Each node writes only the customers it registered,
-- and head office receives every store's: a customer who registers at two
-- nodes has a record at each, and a global key would stop replication at
-- head office on the second one.
CREATE UNIQUE INDEX customer_email_key ON icos.customer (pg_catalog.lower(email), (customer_id >> 40));
CREATE INDEX customer_phone_idx ON icos.customer (phone);
CREATE INDEX customer_store_idx ON icos.customer (store_id);
COMMENT ON INDEX icos.customer_email_key IS 'One customer per e-mail address among those a node registered (customer_id >> 40 is the node)';
COMMENT ON INDEX icos.customer_phone_idx IS 'Finds a customer by phone when no e-mail is given';
COMMENT ON INDEX icos.customer_store_idx IS 'Row-level security lookups by registering store';

CREATE TABLE icos.customer_address (
	customer_id bigint NOT NULL REFERENCES icos.customer,
	address_no  int NOT NULL CHECK (address_no > 0),
	line1       text NOT NULL,
	line2       text,
	town        text NOT NULL,
	postcode    text NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (customer_id, address_no)
);
COMMENT ON TABLE icos.customer_address IS
	'Addresses a customer has used; the highest address_no is the current one';
COMMENT ON COLUMN icos.customer_address.address_no IS 'Per-customer number, 1 for the first address';

SELECT pg_catalog.pg_extension_config_dump('icos.customer', '');
SELECT pg_catalog.pg_extension_config_dump('icos.customer_address', '');
SELECT pg_catalog.pg_extension_config_dump('icos.customer_local_seq', '');

-- Employees ----------------------------------------------------------------

CREATE TABLE icos.employee (
	employee_id int PRIMARY KEY CHECK (employee_id > 0),
	full_name   text NOT NULL CHECK (pg_catalog.btrim(full_name) <> ''),
	store_id    int NOT NULL REFERENCES icos.store,
	position    text NOT NULL CHECK (position IN ('agent', 'manager', 'admin', 'reporter')),
	role_name   name NOT NULL UNIQUE,
	created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE icos.employee IS
	'Employees; each logs in as its own role emp_<employee_id> (see icos.create_employee)';
COMMENT ON COLUMN icos.employee.store_id IS 'The store the employee works for (row-level security)';
COMMENT ON COLUMN icos.employee.position IS 'agent, manager, admin or reporter: the group role icos_<position>';
COMMENT ON COLUMN icos.employee.role_name IS 'The login role, emp_<employee_id>';
COMMENT ON COLUMN icos.customer.name IS 'Full name as the customer gave it';
COMMENT ON COLUMN icos.customer.created_at IS 'When the customer was registered';
COMMENT ON COLUMN icos.customer.updated_at IS 'When the customer''s details last changed';
COMMENT ON COLUMN icos.customer_address.customer_id IS 'The customer';
COMMENT ON COLUMN icos.customer_address.line1 IS 'First address line';
COMMENT ON COLUMN icos.customer_address.line2 IS 'Second address line, if any';
COMMENT ON COLUMN icos.customer_address.town IS 'Town';
COMMENT ON COLUMN icos.customer_address.postcode IS 'Postcode, upper case';
COMMENT ON COLUMN icos.customer_address.created_at IS 'When the address was first used';
COMMENT ON COLUMN icos.employee.employee_id IS 'Employee number (the role is emp_<employee_id>)';
COMMENT ON COLUMN icos.employee.full_name IS 'Name printed on receipts';
COMMENT ON COLUMN icos.employee.created_at IS 'When the employee was created';
SELECT pg_catalog.pg_extension_config_dump('icos.employee', '');

CREATE FUNCTION icos._current_employee() RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT e.employee_id FROM icos.employee e WHERE e.role_name = pg_catalog.session_user()
$$;
COMMENT ON FUNCTION icos._current_employee() IS
	'Employee id of the session user (emp_<id>), or null when the session is not an employee';

CREATE FUNCTION icos._current_store() RETURNS int
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT e.store_id FROM icos.employee e WHERE e.role_name = pg_catalog.session_user()
$$;
COMMENT ON FUNCTION icos._current_store() IS
	'Store of the session user''s employee record, or null when the session is not an employee';

CREATE FUNCTION icos._sees_all_stores() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.pg_has_role(pg_catalog.session_user(), 'icos_admin', 'member')
		OR pg_catalog.pg_has_role(pg_catalog.session_user(), 'icos_reporter', 'member')
		OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				   WHERE r.rolname = pg_catalog.session_user() AND r.rolsuper)
$$;
COMMENT ON FUNCTION icos._sees_all_stores() IS
	'True for head-office sessions (admins, reporters, superusers), whose direct reads are not limited to one store';

CREATE FUNCTION icos._store_visible(p_store int) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT icos._sees_all_stores() OR p_store = icos._current_store()
$$;
COMMENT ON FUNCTION icos._store_visible(int) IS
	'Row-level security test: may the session read rows owned by this store?';

CREATE FUNCTION icos._create_login(p_id int, p_name text, p_position text, p_password text)
RETURNS name
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_role name := pg_catalog.format('emp_%s', p_id);
BEGIN
	IF p_password IS NULL
		OR p_password !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]+=*$' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'password must be a SCRAM-SHA-256 verifier, not a plain password',
			DETAIL = 'icos never receives employees'' plain passwords: only the verifier computed from it is stored.',
			HINT = 'Use "icos employee add", which prompts for the password and sends its verifier, or compute one in psql with \password on a scratch role and copy rolpassword from pg_authid.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = v_role) THEN
		RAISE EXCEPTION USING ERRCODE = '23505',
			MESSAGE = pg_catalog.format('employee %s already has a login (%s)', p_id, v_role),
			HINT = 'Choose another employee id, or drop the old role if nobody uses it.';
	END IF;
	EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I',
							  v_role, p_password, 'icos_' || p_position);
	-- PostgreSQL hashes a password it cannot parse as a verifier: make sure
	-- what it stored is exactly the verifier given.
	IF (SELECT a.rolpassword FROM pg_catalog.pg_authid a WHERE a.rolname = v_role) IS DISTINCT FROM p_password THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'password is not a valid SCRAM-SHA-256 verifier',
			DETAIL = 'PostgreSQL could not read the salt or keys of the verifier given.',
			HINT = 'Use "icos employee add", which prompts for the password and sends its verifier, or compute one in psql with \password on a scratch role and copy rolpassword from pg_authid.';
	END IF;
	EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', v_role,
							  pg_catalog.format('icos employee %s: %s', p_id, p_name));
	RETURN v_role;
END
$$;
COMMENT ON FUNCTION icos._create_login(int, text, text, text) IS
	'The login role emp_<id> (member of icos_<position>) with a SCRAM-SHA-256 verifier, for icos.create_employee and icos.create_employee_login; 22023 for anything but a verifier, 23505 when the role exists';

CREATE FUNCTION icos.create_employee(employee_id int, full_name text, store_id int,
									 "position" text, password text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p_id       int := $1;
	p_name     text := $2;
	p_store    int := $3;
	p_position text := $4;
	p_password text := $5;
	v_role     name;
BEGIN
	IF p_id IS NULL OR p_id <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'employee id must be a positive number',
			DETAIL = pg_catalog.format('The employee id given was %s.', coalesce(p_id::text, 'null'));
	END IF;
	IF p_name IS NULL OR pg_catalog.btrim(p_name) = '' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'employee name is missing',
			HINT = 'Give the employee''s full name.';
	END IF;
	IF p_position IS NULL OR p_position NOT IN ('agent', 'manager', 'admin', 'reporter') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('unknown position "%s"', coalesce(p_position, 'null')),
			HINT = 'The position is one of agent, manager, admin or reporter.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM icos.store s WHERE s.store_id = p_store) THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('unknown store %s', coalesce(p_store::text, 'null')),
			DETAIL = 'An employee must work for an existing store.';
	END IF;
	IF EXISTS (SELECT 1 FROM icos.employee e WHERE e.employee_id = p_id) THEN
		RAISE EXCEPTION USING ERRCODE = '23505',
			MESSAGE = pg_catalog.format('employee %s already exists', p_id),
			HINT = 'Choose another employee id.';
	END IF;
	v_role := icos._create_login(p_id, p_name, p_position, p_password);
	INSERT INTO icos.employee (employee_id, full_name, store_id, position, role_name)
	VALUES (p_id, pg_catalog.btrim(p_name), p_store, p_position, v_role);
END
$$;
COMMENT ON FUNCTION icos.create_employee(int, text, int, text, text) IS
	'Admin only: records an employee and creates its login role emp_<id> (member of icos_<position>) with a SCRAM-SHA-256 verifier';

CREATE FUNCTION icos.create_employee_login(employee_id int, password text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e icos.employee;
BEGIN
	SELECT * INTO e FROM icos.employee x WHERE x.employee_id = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'IC004',
			MESSAGE = pg_catalog.format('employee %s is not known here', coalesce($1::text, 'null')),
			DETAIL = 'Employees are added at head office with icos.create_employee; store nodes receive them by replication.',
			HINT = 'Add the employee at head office first, or wait until replication has brought the record here.';
	END IF;
	PERFORM icos._create_login(e.employee_id, e.full_name, e.position, $2);
END
$$;
COMMENT ON FUNCTION icos.create_employee_login(int, text) IS
	'Admin only, on a store node: creates the login role of an employee whose record came from head office (login roles belong to a cluster and are not replicated); password is a SCRAM-SHA-256 verifier';

-- Customers: one place that creates or updates them ------------------------

CREATE FUNCTION icos._norm_phone(p_phone text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.regexp_replace(p_phone, '[[:space:]().-]', '', 'g')
$$;
COMMENT ON FUNCTION icos._norm_phone(text) IS
	'A phone number without spaces, brackets, dots and hyphens';

CREATE FUNCTION icos._json_text(p_obj jsonb, p_key text, p_what text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_obj IS NULL OR NOT p_obj ? p_key OR pg_catalog.jsonb_typeof(p_obj -> p_key) = 'null' THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(p_obj -> p_key) <> 'string' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s "%s" must be text', p_what, p_key),
			DETAIL = pg_catalog.format('Got %s.', p_obj -> p_key);
	END IF;
	RETURN nullif(pg_catalog.btrim(p_obj ->> p_key), '');
END
$$;
COMMENT ON FUNCTION icos._json_text(jsonb, text, text) IS
	'The text value of a key (null when absent or blank); 22023 when it is not a JSON string';

CREATE FUNCTION icos._address(p_addr jsonb, p_what text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
BEGIN
	IF p_addr IS NULL OR pg_catalog.jsonb_typeof(p_addr) <> 'object' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('%s must be an object', p_what),
			HINT = 'An address is {"line1": ..., "line2": ..., "town": ..., "postcode": ...}.';
	END IF;
	PERFORM icos._check_keys(p_addr, ARRAY['line1', 'line2', 'town', 'postcode'], p_what);
	FOREACH k IN ARRAY ARRAY['line1', 'town', 'postcode'] LOOP
		IF icos._json_text(p_addr, k, p_what) IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = pg_catalog.format('%s has no %s', p_what, k),
				HINT = 'An address needs at least line1, town and postcode.';
		END IF;
	END LOOP;
	RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'line1', icos._json_text(p_addr, 'line1', p_what),
		'line2', icos._json_text(p_addr, 'line2', p_what),
		'town', icos._json_text(p_addr, 'town', p_what),
		'postcode', pg_catalog.upper(icos._json_text(p_addr, 'postcode', p_what))));
END
$$;
COMMENT ON FUNCTION icos._address(jsonb, text) IS
	'Validates and normalises an address object (line1, line2, town, postcode); 22023 when malformed';

CREATE FUNCTION icos._upsert_customer(p_customer jsonb, p_store int) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_name  text := icos._json_text(p_customer, 'name', 'customer');
	v_email text := pg_catalog.lower(icos._json_text(p_customer, 'email', 'customer'));
	v_phone text := icos._norm_phone(icos._json_text(p_customer, 'phone', 'customer'));
	v_addr  jsonb;
	v_id    bigint;
	v_no    int;
BEGIN
	IF p_customer IS NULL OR pg_catalog.jsonb_typeof(p_customer) <> 'object' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'customer must be an object',
			HINT = 'Give {"id": n} or {"name": ..., "email": ..., "phone": ..., "address": {...}}.';
	END IF;
	PERFORM icos._check_keys(p_customer, ARRAY['name', 'email', 'phone', 'address'], 'customer');
	IF v_email IS NOT NULL AND v_email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('"%s" is not an e-mail address', v_email);
	END IF;
	IF v_phone IS NOT NULL AND v_phone !~ '^\+?[0-9]{6,15}$' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('"%s" is not a phone number', p_customer ->> 'phone'),
			HINT = 'A phone number has 6 to 15 digits, optionally starting with +.';
	END IF;
	IF p_customer ? 'address' AND pg_catalog.jsonb_typeof(p_customer -> 'address') <> 'null' THEN
		v_addr := icos._address(p_customer -> 'address', 'customer address');
	END IF;
	IF v_email IS NULL AND v_phone IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'customer needs an e-mail address or a phone number',
			HINT = 'They identify the customer next time; or give {"id": n} for a known customer.';
	END IF;

	-- The customer is found by e-mail, else by phone, among the customers
	-- this node registered: only those may it update (one writer per row).
	IF v_email IS NOT NULL THEN
		SELECT c.customer_id INTO v_id FROM icos.customer c
		WHERE pg_catalog.lower(c.email) = v_email AND (c.customer_id >> 40) = icos.current_node()
		FOR UPDATE;
	END IF;
	IF v_id IS NULL AND v_phone IS NOT NULL THEN
		SELECT c.customer_id INTO v_id FROM icos.customer c
		WHERE c.phone = v_phone AND (c.customer_id >> 40) = icos.current_node()
		ORDER BY c.customer_id LIMIT 1 FOR UPDATE;
	END IF;

	IF v_id IS NULL THEN
		IF v_name IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a new customer needs a name';
		END IF;
		INSERT INTO icos.customer (store_id, name, email, phone)
		VALUES (p_store, v_name, v_email, v_phone)
		RETURNING customer_id INTO v_id;
	ELSE
		UPDATE icos.customer c
		SET name = coalesce(v_name, c.name),
			email = coalesce(v_email, c.email),
			phone = coalesce(v_phone, c.phone),
			updated_at = pg_catalog.now()
		WHERE c.customer_id = v_id;
	END IF;

	IF v_addr IS NOT NULL THEN
		-- Add the address unless it is already the current one.
		SELECT a.address_no INTO v_no FROM icos.customer_address a
		WHERE a.customer_id = v_id ORDER BY a.address_no DESC LIMIT 1;
		IF v_no IS NULL OR (SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
				'line1', a.line1, 'line2', a.line2, 'town', a.town, 'postcode', a.postcode))
				FROM icos.customer_address a
				WHERE a.customer_id = v_id AND a.address_no = v_no) IS DISTINCT FROM v_addr THEN
			INSERT INTO icos.customer_address (customer_id, address_no, line1, line2, town, postcode)
			VALUES (v_id, coalesce(v_no, 0) + 1, v_addr ->> 'line1', v_addr ->> 'line2',
					v_addr ->> 'town', v_addr ->> 'postcode');
		END IF;
	END IF;
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION icos._upsert_customer(jsonb, int) IS
	'Finds a customer by e-mail (else phone), updates or creates it (registered at the given store) and records a new address';

CREATE FUNCTION icos.upsert_customer(customer jsonb) RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT icos._upsert_customer($1, icos._current_store())
$$;
COMMENT ON FUNCTION icos.upsert_customer(jsonb) IS
	'Creates or updates a customer (found by e-mail, else phone) and returns its id; keys name, email, phone, address';

CREATE FUNCTION icos._customer_address(p_customer bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'line1', a.line1, 'line2', a.line2, 'town', a.town, 'postcode', a.postcode))
	FROM icos.customer_address a
	WHERE a.customer_id = p_customer
	ORDER BY a.address_no DESC LIMIT 1
$$;
COMMENT ON FUNCTION icos._customer_address(bigint) IS 'The customer''s current (latest) address, or null';
