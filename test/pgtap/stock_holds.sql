-- pgTAP: holds have a maximum length that head office sets (setting
-- max_hold of icos.setting, default 24 hours), and a hold is seen and
-- released by the staff who may use it (icos._may_use_hold), above all the
-- managers of the store whose stock it holds (issue 14: one store's agent
-- held another store's stock for 100 years, and that store could neither
-- see nor release the hold).  Run as the employees' roles; rolls back.
BEGIN;
SELECT plan(27);
\ir orders_fixture.psql

-- York's agent Yan, York's agent Zed, Leeds's manager Meg, Leeds's agent
-- Eve, the warehouse's agent Wes, head office's admin Ali.
SELECT icos.create_employee(9411, 'Yan Agent', 9102, 'agent', pg_temp.verifier('yan'));
SELECT icos.create_employee(9412, 'Zed Agent', 9102, 'agent', pg_temp.verifier('zed'));
SELECT icos.create_employee(9413, 'Meg Manager', 9101, 'manager', pg_temp.verifier('meg'));
SELECT icos.create_employee(9414, 'Eve Agent', 9101, 'agent', pg_temp.verifier('eve'));
SELECT icos.create_employee(9415, 'Wes Agent', 9105, 'agent', pg_temp.verifier('wes'));
SELECT icos.create_employee(9416, 'Ali Admin', 9101, 'admin', pg_temp.verifier('ali'));

-- The maximum.
SET SESSION AUTHORIZATION emp_9411;
SELECT throws_ok($$SELECT icos.hold_stock(9101, '4006381333931', 10, '100000000 years')$$,
	'22023', 'a hold may last at most 24 hours', '100000000 years: 22023, not a timestamp out of range');
SELECT throws_ok($$SELECT icos.hold_stock(9101, '4006381333931', 10, '24 hours 1 second')$$,
	'22023', 'a hold may last at most 24 hours', 'a second over the default maximum: 22023');
SELECT throws_ok($$SELECT icos.hold_stock(9101, '4006381333931', 10, '2 months')$$,
	'22023', 'a hold may last at most 24 hours', 'months: 22023');
SELECT is(pg_temp.avail(9101, '4006381333931'), 10, 'a refused hold sets nothing aside');
SELECT icos.hold_stock(9101, '4006381333931', 10, '24 hours') AS h1 \gset
SELECT is(pg_temp.avail(9101, '4006381333931'), 0, 'York''s agent holds all of Leeds''s lamps for 24 hours');
SELECT is((SELECT count(*)::int FROM icos.stock_hold WHERE hold_id = :h1), 1, 'the agent who placed it sees the hold');
RESET SESSION AUTHORIZATION;

-- Who sees it.
SET SESSION AUTHORIZATION emp_9413;
SELECT is((SELECT qty FROM icos.stock_hold WHERE hold_id = :h1), 10, 'Leeds''s manager sees the hold on Leeds''s stock');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9414;
SELECT is((SELECT count(*)::int FROM icos.stock_hold WHERE hold_id = :h1), 1, 'so does a Leeds agent');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9412;
SELECT is((SELECT count(*)::int FROM icos.stock_hold WHERE hold_id = :h1), 1, 'and a colleague at the placer''s store');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9415;
SELECT is((SELECT count(*)::int FROM icos.stock_hold WHERE hold_id = :h1), 0, 'an agent of another store does not');
SELECT throws_ok(format('SELECT icos.release_hold(%s)', :h1), '42501', NULL, 'and cannot release it');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9416;
SELECT is((SELECT count(*)::int FROM icos.stock_hold WHERE hold_id = :h1), 1, 'head office sees every hold');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT status FROM icos.stock_hold WHERE hold_id = :h1), 'active', 'the refused release left it active');

-- Leeds's manager releases it.
SET SESSION AUTHORIZATION emp_9413;
SELECT lives_ok(format('SELECT icos.release_hold(%s)', :h1), 'Leeds''s manager releases the hold');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.avail(9101, '4006381333931'), 10, 'the lamps are for sale again');
SELECT is((SELECT status || ' by ' || closed_by FROM icos.stock_hold WHERE hold_id = :h1), 'released by emp_9413',
	'the hold says who released it');

-- Head office changes the maximum; stores only read it.
SET SESSION AUTHORIZATION emp_9411;
SELECT throws_ok($$INSERT INTO icos.setting (name, value) VALUES ('max_hold', '30 days')$$, '42501', NULL,
	'an agent cannot change the maximum');
SELECT is((SELECT count(*)::int FROM icos.setting), 0, 'but reads the settings (none changed yet)');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9413;
SELECT throws_ok($$INSERT INTO icos.setting (name, value) VALUES ('max_hold', '30 days')$$, '42501', NULL,
	'nor can a manager');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9416;
SELECT lives_ok($$INSERT INTO icos.setting (name, value) VALUES ('max_hold', '48 hours')$$, 'an admin sets 48 hours');
SELECT throws_ok($$UPDATE icos.setting SET value = '1000 years' WHERE name = 'max_hold'$$, '23514', NULL,
	'a maximum over 90 days is refused');
SELECT throws_ok($$UPDATE icos.setting SET value = 'a fortnight' WHERE name = 'max_hold'$$, '23514', NULL,
	'so is one that is not a time');
SELECT throws_ok($$INSERT INTO icos.setting (name, value) VALUES ('max_holds', '1 hour')$$, '23514', NULL,
	'and a setting that does not exist');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9411;
SELECT ok(icos.hold_stock(9101, '4006381333931', 1, '30 hours') IS NOT NULL, 'now a 30-hour hold is taken');
SELECT throws_ok($$SELECT icos.hold_stock(9101, '4006381333931', 1, '49 hours')$$,
	'22023', 'a hold may last at most 48 hours', 'and 49 hours is not, with the new maximum in the message');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9416;
DELETE FROM icos.setting WHERE name = 'max_hold';
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT icos.hold_stock(9101, '4006381333931', 1, '30 hours')$$,
	'22023', 'a hold may last at most 24 hours', 'without its row the setting is back to 24 hours');

SELECT is_empty($$SELECT * FROM icos.verify_stock() WHERE store_id BETWEEN 9101 AND 9105$$,
	'the counters agree with the ledger');

SELECT * FROM finish();
ROLLBACK;
