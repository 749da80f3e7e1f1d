-- Head office adds the employees: every employee logs in as themselves
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- The verifiers were computed by src/tools/scram-verifier.pl on this side:
-- icos.create_employee refuses a plain password, so none reaches the server.
\o /dev/null
SELECT icos.create_employee(101, 'Priya Shah', 10, 'agent', :'verifier');
SELECT icos.create_employee(102, 'Tom Okafor', 10, 'manager', :'verifier');
SELECT icos.create_employee(201, 'Grace Lee', 2, 'agent', :'verifier');
SELECT icos.create_employee(202, 'Sam Patel', 2, 'manager', :'verifier');
SELECT icos.create_employee(301, 'Dan Murphy', 12, 'agent', :'verifier');
SELECT icos.create_employee(111, 'Website', 1, 'agent', :'verifier');
SELECT icos.create_employee(900, 'Head office admin', 1, 'admin', :'verifier');
\o
\pset footer off
SELECT e.employee_id, e.full_name, e.position, s.name AS store, 'emp_' || e.employee_id AS login
FROM icos.employee e JOIN icos.store s USING (store_id) ORDER BY 1;
