-- icos.find_customers: by e-mail, phone, or postcode and name, under
-- row-level security, through an index.  The plans are shown by EXPLAIN
-- (find_customers is plain SQL, inlined into the query that calls it) on
-- 20,000 customers, as a call-centre agent and as a store's agent, whose
-- row-level security must not keep the index out of the plan.
BEGIN;
SELECT plan(16);
\ir orders_fixture.psql

SELECT icos.create_employee(9511, 'Lee Leeds', 9101, 'agent', pg_temp.verifier('1'));
SELECT icos.create_employee(9513, 'Cal Centre', 9104, 'agent', pg_temp.verifier('3'));

INSERT INTO icos.customer (customer_id, store_id, name, email, phone)
SELECT i, CASE WHEN i % 2 = 0 THEN 9101 ELSE 9102 END, 'Customer ' || i, 'c' || i || '@example.com',
	   '+44770' || lpad(i::text, 7, '0')
FROM generate_series(1, 20000) i;
INSERT INTO icos.customer_address (customer_id, address_no, line1, town, postcode)
SELECT i, 1, i || ' High Street', 'Town', 'AB' || (i % 90 + 10) || ' ' || (i % 9 + 1) || 'XY'
FROM generate_series(1, 20000) i;
ANALYZE icos.customer;
ANALYZE icos.customer_address;

CREATE FUNCTION pg_temp.plan(p_query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
	v text := '';
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || p_query LOOP
		v := v || r || E'\n';
	END LOOP;
	RETURN v;
END
$$;

SET SESSION AUTHORIZATION emp_9513;
SELECT is((SELECT array_agg(d ->> 'id') FROM icos.find_customers('C1234@Example.com') d), ARRAY['1234'],
	'the call centre finds a customer by e-mail among 20,000');
SELECT is((SELECT array_agg(d ->> 'id') FROM icos.find_customers('+44 770 000 1234') d), ARRAY['1234'], '... by phone');
SELECT is((SELECT array_agg(d ->> 'id') FROM icos.find_customers('ab74 2xy customer 1234') d), ARRAY['1234'],
	'... by postcode and name');
SELECT is((SELECT count(*)::int FROM icos.find_customers('AB74 2XY customer')), 50, 'at most 50 at once');
SELECT matches(pg_temp.plan($$SELECT * FROM icos.find_customers('c1234@example.com')$$), 'customer_email_idx',
	'by e-mail: the plan uses the e-mail index');
SELECT doesnt_match(pg_temp.plan($$SELECT * FROM icos.find_customers('c1234@example.com')$$), 'Seq Scan on customer\M',
	'... and reads no customer table in full');
SELECT matches(pg_temp.plan($$SELECT * FROM icos.find_customers('+447700001234')$$), 'customer_phone_idx',
	'by phone: the plan uses the phone index');
SELECT matches(pg_temp.plan($$SELECT * FROM icos.find_customers('AB74 2XY customer 1234')$$), 'customer_address_postcode_idx',
	'by postcode and name: the plan uses the postcode index');
SELECT doesnt_match(pg_temp.plan($$SELECT * FROM icos.find_customers('AB74 2XY customer 1234')$$),
	'Seq Scan on customer(_address)?\M', '... and reads neither table in full');
RESET SESSION AUTHORIZATION;

-- A Leeds agent: row-level security applies, the indexes still serve.
SET SESSION AUTHORIZATION emp_9511;
SELECT is((SELECT array_agg(d ->> 'id') FROM icos.find_customers('c1234@example.com') d), ARRAY['1234'],
	'a Leeds agent finds a Leeds customer');
SELECT is_empty($$SELECT * FROM icos.find_customers('c1233@example.com')$$, 'but not a York one');
SELECT is_empty($$SELECT * FROM icos.find_customers('+447700001233')$$, '... not even by phone');
SELECT is((SELECT count(*)::int FROM icos.find_customers('AB74 2XY customer') d WHERE (d ->> 'store')::int <> 9101), 0,
	'by postcode and name only Leeds customers');
SELECT matches(pg_temp.plan($$SELECT * FROM icos.find_customers('c1234@example.com')$$), 'customer_email_idx',
	'under row-level security the e-mail index is used');
SELECT matches(pg_temp.plan($$SELECT * FROM icos.find_customers('+447700001234')$$), 'customer_phone_idx',
	'... the phone index');
SELECT matches(pg_temp.plan($$SELECT * FROM icos.find_customers('AB74 2XY customer 1234')$$), 'customer_address_postcode_idx',
	'... and the postcode index');
RESET SESSION AUTHORIZATION;
SELECT * FROM finish();
ROLLBACK;
