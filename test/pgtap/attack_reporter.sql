-- Attack tests for the reporter: a head-office analyst (login role emp_<id>,
-- member of icos_reporter) reads the report views and every store's sales,
-- changes nothing, and never sees what identifies a customer's payment
-- (references: authorisation codes, cheque numbers, gift card ids).  Run as
-- the role itself; relations and columns come from the catalog, so report
-- views added later are covered.  Everything rolls back.
BEGIN;
SELECT plan(16);
\ir orders_fixture.psql

SELECT icos.create_employee(9311, 'Ada Agent', 9101, 'agent', pg_temp.verifier('ada'));
SELECT icos.create_employee(9312, 'Rex Reporter', 9101, 'reporter', pg_temp.verifier('rex'));

SET SESSION AUTHORIZATION emp_9311;
SELECT set_config('t.code', icos.place_order('{
	"store": 9101, "channel": "store",
	"customer": {"name": "Pat Payer", "email": "pat@example.com"},
	"lines": [{"upc": "4006381333931", "qty": 2}], "delivery": {"method": "collect"},
	"payments": [{"method": "gift_card", "amount": 20.00, "reference": "GIFT-7788-SECRET"},
				 {"method": "visa", "amount": 29.00, "reference": "AUTH-991122"}]}')::text, false);
SELECT is(icos.order(current_setting('t.code')::icos.order_code) #>> '{payments,0,reference}', 'GIFT-7788-SECRET',
	'the agent who took the payment reads its reference');
RESET SESSION AUTHORIZATION;
SELECT icos.rollup_sales() IS NOT NULL AS rolled;

SET SESSION AUTHORIZATION emp_9312;
-- Every relation the reporter may read can be read (the report views work).
CREATE FUNCTION pg_temp.unreadable() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	r regclass;
	n bigint;
BEGIN
	FOR r IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'icos'::regnamespace
			 AND c.relkind IN ('r', 'p', 'v', 'm') AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1::text
	LOOP
		BEGIN
			EXECUTE format('SELECT count(*) FROM %s', r) INTO n;
		EXCEPTION WHEN OTHERS THEN
			RETURN NEXT r::text || ': ' || SQLSTATE || ' ' || SQLERRM;
		END;
	END LOOP;
END
$$;
SELECT is_empty($$SELECT * FROM pg_temp.unreadable()$$, 'every table and view granted to the reporter reads without error');
SELECT ok(has_table_privilege('icos.sales_lines', 'SELECT') AND has_table_privilege('icos.sales_rollup', 'SELECT')
		  AND has_table_privilege('icos.category_path', 'SELECT') AND has_table_privilege('icos.stock', 'SELECT'),
	'the report views are among them');
SELECT is((SELECT sum(qty)::int FROM icos.sales_lines WHERE code = current_setting('t.code')::icos.order_code), 2,
	'the reporter reads the sale in icos.sales_lines');
SELECT is((SELECT units::int FROM icos.sales_report(now() - interval '1 day', now() + interval '1 day', 'store', 9101)), 2,
	'and in sales_report');
SELECT is((SELECT sum(amount_pence)::int FROM icos.order_payment WHERE code = current_setting('t.code')::icos.order_code),
	4900, 'the reporter reads payment amounts');

-- No column the reporter can read names a payment reference or a card.
SELECT is_empty($$
	SELECT a.attrelid::regclass::text || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	WHERE c.relnamespace = 'icos'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
	  AND (a.attname ~ '(reference|card|pan|cvv|iban|account)' )
	  AND has_column_privilege(a.attrelid, a.attnum, 'SELECT')$$,
	'no readable column of any icos table or view holds payment references or card data');
SELECT throws_ok($$SELECT reference FROM icos.order_payment$$, '42501', NULL, 'a direct read of references is refused');
SELECT throws_ok($$SELECT * FROM icos.order_payment$$, '42501', NULL, 'and so is SELECT *');
-- The order document the reporter may fetch carries no reference.
SELECT is(jsonb_path_query_array(icos.order(current_setting('t.code')::icos.order_code), '$.payments[*].reference'),
	'[null, null]'::jsonb, 'icos.order gives the reporter the payments without their references');
SELECT is((SELECT count(*)::int FROM icos.customer_orders(
			(icos.order(current_setting('t.code')::icos.order_code) #>> '{customer,id}')::bigint) d
		   WHERE d::text ~ 'GIFT-7788|AUTH-9911'), 0, 'and so does customer_orders');
SELECT throws_ok($$SELECT icos.receipt(current_setting('t.code')::icos.order_code)$$, '42501', NULL,
	'the reporter cannot print a receipt');

-- Nothing written, nothing for head office.
SELECT is_empty($$
	SELECT c.oid::regclass::text || ': ' || p.priv
	FROM pg_class c, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
	WHERE c.relnamespace = 'icos'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	  AND has_table_privilege(c.oid, p.priv)$$,
	'the reporter holds no write privilege on any icos relation');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'42501', NULL, 'the reporter cannot take orders');
SELECT throws_ok($$SELECT icos.rollup_sales()$$, '42501', NULL, 'nor run the rollup (admins schedule it)');
SELECT throws_ok($$SELECT key FROM icos.order_code_key$$, '42501', NULL, 'nor read the order-code key');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
