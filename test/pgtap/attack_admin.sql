-- Attack tests for a head-office administrator (login role emp_<id>, member
-- of icos_admin): it maintains the catalogue and creates employees, but
-- cannot read the order-code key, rewrite history, or turn create_employee
-- into a way to make a more powerful role.  Run as the role; rolls back.
BEGIN;
SELECT plan(13);
\ir orders_fixture.psql

SELECT icos.create_employee(9331, 'Ada Admin', 9101, 'admin', pg_temp.verifier('ada'));

SET SESSION AUTHORIZATION emp_9331;
SELECT throws_ok($$SELECT key FROM icos.order_code_key$$, '42501', NULL, 'an admin cannot read the order-code key');
SELECT throws_ok($$SELECT icos.set_order_code_key('\x00000000000000000000000000000000')$$, '42501', NULL,
	'nor set it');
SELECT throws_ok($$DELETE FROM icos.order_event$$, '42501', NULL, 'nor delete from the event log');
SELECT throws_ok($$DELETE FROM icos.stock_movement$$, '42501', NULL, 'nor from the stock ledger');
SELECT throws_ok($$UPDATE icos.orders SET total_pence = 0$$, '42501', NULL, 'nor rewrite an order');
SELECT throws_ok($$UPDATE icos.employee SET position = 'admin'$$, '42501', NULL, 'nor promote an employee by hand');
-- create_employee builds SQL from its arguments: an id, a name or a position
-- crafted as SQL changes nothing but is refused.
SELECT throws_ok($$SELECT icos.create_employee(9332, 'x'' SUPERUSER --', 9101, 'admin SUPERUSER', pg_temp.verifier('x'))$$,
	'22023', NULL, 'a position with SQL in it is refused');
SELECT throws_ok($$SELECT icos.create_employee(9333, 'Eve', 9101, 'agent',
	pg_temp.verifier('y') || ''' SUPERUSER CREATEROLE --')$$, '22023', NULL, 'a password with SQL in it is refused');
SELECT lives_ok($$SELECT icos.create_employee(9334, 'Robert''); DROP TABLE icos.orders; --', 9101, 'agent', pg_temp.verifier('z'))$$,
	'a name with SQL in it is just a name');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT full_name FROM icos.employee WHERE employee_id = 9334), 'Robert''); DROP TABLE icos.orders; --',
	'stored as given');
SELECT is_empty($$SELECT rolname FROM pg_roles WHERE rolname LIKE 'emp\_933%'
	AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)$$,
	'no employee role got a superuser, createrole, createdb, replication or bypassrls attribute');
SELECT is((SELECT array_agg(b.rolname ORDER BY b.rolname)::text FROM pg_auth_members m
		   JOIN pg_roles r ON r.oid = m.member JOIN pg_roles b ON b.oid = m.roleid WHERE r.rolname = 'emp_9334'),
	'{icos_agent}', 'the new agent is a member of icos_agent only');
SELECT ok(to_regclass('icos.orders') IS NOT NULL, 'icos.orders is still there');

SELECT * FROM finish();
ROLLBACK;
