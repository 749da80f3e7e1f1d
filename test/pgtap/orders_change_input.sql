-- Malformed input to the after-placement API (edit_order, cancel_order,
-- add_note, advance_order, return_lines): each case gets its documented
-- SQLSTATE (docs/changes.md, "Errors"), never a raw one, and changes nothing.
BEGIN;
SELECT plan(85);
\ir orders_fixture.psql

-- A home delivery from Leeds, part paid: a table and two lamps.
SELECT set_config('t.a', icos.place_order('{"store": 9101, "channel": "store",
	"customer": {"name": "Ann Smith", "email": "ann@example.com",
				 "address": {"line1": "2 High St", "town": "Leeds", "postcode": "LS2 1AA"}},
	"lines": [{"upc": "036000291452", "qty": 1}, {"upc": "4006381333931", "qty": 2}],
	"delivery": {"method": "home"},
	"payments": [{"method": "visa", "amount": 100, "reference": "auth 1"}]}')::text, true);

-- The SQLSTATE a statement raises, or "accepted".
CREATE FUNCTION pg_temp.sqlstate(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE p_sql;
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.snapshot() || icos.order(current_setting('t.a')::icos.order_code)::text
		|| (SELECT count(*) FROM icos.order_request)::text
$$;
SELECT length(set_config('t.snap', pg_temp.state(), true)) > 0 AS snapshot_taken;
SELECT set_config('t.mb', repeat('x', 1024 * 1024), true) IS NOT NULL AS megabyte;

-- edit_order: one assertion per malformed change document.
SELECT is(pg_temp.sqlstate(format('SELECT icos.edit_order(%L, %L::jsonb)', current_setting('t.a'),
								  replace(c.changes, 'MEGABYTE', current_setting('t.mb')))),
		  c.state, format('edit_order %s: %s', c.state, c.what))
FROM (VALUES
	-- The document itself.
	(1, 'null', '22023', 'JSON null'),
	(2, '[]', '22023', 'an array'),
	(3, '"add_lines"', '22023', 'a string'),
	(4, '42', '22023', 'a number'),
	(5, '{}', '22023', 'nothing to change'),
	(6, '{"colour": "red"}', '22023', 'an unknown key'),
	(7, '{"payments": [], "note": "MEGABYTE"}', '22023', 'an unknown key holding 1 MB'),
	-- set_qty
	(10, '{"set_qty": {"line": 1, "qty": 2}}', '22023', 'set_qty not an array'),
	(11, '{"set_qty": [1]}', '22023', 'a set_qty entry not an object'),
	(12, '{"set_qty": [{"line": 1}]}', '22023', 'a set_qty entry without qty'),
	(13, '{"set_qty": [{"line": 1, "qty": 2.0}]}', '22023', '"qty": 2.0'),
	(14, '{"set_qty": [{"line": 1, "qty": 2.5}]}', '22023', '"qty": 2.5'),
	(15, '{"set_qty": [{"line": 1, "qty": "2"}]}', '22023', 'a quantity as text'),
	(16, '{"set_qty": [{"line": 1, "qty": -1}]}', '22023', 'a negative quantity'),
	(17, '{"set_qty": [{"line": 1, "qty": 0}]}', '22023', 'a quantity of 0'),
	(18, '{"set_qty": [{"line": 1, "qty": 99999999999}]}', '22023', 'a quantity beyond int'),
	(19, '{"set_qty": [{"line": 1, "qty": 1e400}]}', '22023', 'a quantity of 1e400'),
	(20, '{"set_qty": [{"line": 1, "qty": true}]}', '22023', 'a quantity of true'),
	(21, '{"set_qty": [{"line": 1.0, "qty": 2}]}', '22023', '"line": 1.0'),
	(22, '{"set_qty": [{"line": 99999999999, "qty": 2}]}', '22023', 'a line number beyond int'),
	(23, '{"set_qty": [{"line": 1, "qty": 2, "price": 0.01}]}', '22023', 'a set_qty entry with a price'),
	(24, '{"set_qty": [{"line": 1, "qty": 2147483647}]}', 'IC001', 'the largest quantity: not enough stock'),
	(25, '{"set_qty": [{"line": 2147483647, "qty": 2}]}', 'IC004', 'the largest line number: no such line'),
	(26, '{"set_qty": [{"line": 2, "qty": 3}, {"line": 2, "qty": 1}]}', '22023', 'a line twice'),
	(27, '{"set_qty": [{"line": 2, "qty": 3}], "cancel_lines": [2]}', 'IC002', 'a line cancelled and re-quantified'),
	-- cancel_lines
	(30, '{"cancel_lines": 2}', '22023', 'cancel_lines not an array'),
	(31, '{"cancel_lines": ["2"]}', '22023', 'a line number as text'),
	(32, '{"cancel_lines": [2.0]}', '22023', 'a line number 2.0'),
	(33, '{"cancel_lines": [-2]}', '22023', 'a negative line number'),
	(34, '{"cancel_lines": [99999999999]}', '22023', 'a line number beyond int'),
	(35, '{"cancel_lines": [1e400]}', '22023', 'a line number of 1e400'),
	(36, '{"cancel_lines": [null]}', '22023', 'a null line number'),
	(37, '{"cancel_lines": [0]}', '22023', 'line 0'),
	(39, '{"cancel_lines": [2147483647]}', 'IC004', 'the largest line number: no such line'),
	(38, '{"cancel_lines": [2, 2]}', '22023', 'a line twice'),
	-- add_lines
	(40, '{"add_lines": []}', '22023', 'add_lines empty'),
	(41, '{"add_lines": {"upc": "4006381333931", "qty": 1}}', '22023', 'add_lines not an array'),
	(42, '{"add_lines": [{"upc": "4006381333931", "qty": 1, "price": 0.01}]}', '22023', 'a line with a price'),
	(43, '{"add_lines": [{"upc": 4006381333931, "qty": 1}]}', '22023', 'a product code as a number'),
	(44, '{"add_lines": [{"upc": "4006381333932", "qty": 1}]}', '22P02', 'a product code with a wrong check digit'),
	-- payments and refunds
	(50, '{"payments": {"method": "cash", "amount": 1}}', '22023', 'payments not an array'),
	(51, '{"payments": [1]}', '22023', 'a payment not an object'),
	(52, '{"payments": [{"method": "cash", "amount": 1, "card": "x"}]}', '22023', 'a payment with an unknown key'),
	(53, '{"payments": [{"method": 5, "amount": 1}]}', '22023', 'a method that is not text'),
	(54, '{"payments": [{"method": "bitcoin", "amount": 1}]}', 'IC003', 'an unknown method'),
	(55, '{"payments": [{"method": "MEGABYTE", "amount": 1}]}', 'IC003', 'a method of 1 MB'),
	(56, '{"payments": [{"method": "cash", "amount": 1.001}]}', 'IC003', 'a fraction of a penny'),
	(57, '{"payments": [{"method": "cash", "amount": 1e12}]}', 'IC003', 'an amount of 1e12'),
	(58, '{"payments": [{"method": "cash", "amount": "1e400"}]}', 'IC003', 'an amount of "1e400"'),
	(59, '{"payments": [{"method": "cash", "amount": "NaN"}]}', 'IC003', 'an amount of "NaN"'),
	(60, '{"payments": [{"method": "cash", "amount": "twelve"}]}', 'IC003', 'an amount in words'),
	(61, '{"payments": [{"method": "cash", "amount": true}]}', 'IC003', 'an amount of true'),
	(62, '{"payments": [{"method": "cash", "amount": -5}]}', 'IC003', 'a negative amount'),
	(63, '{"payments": [{"method": "visa", "amount": 1, "reference": 42}]}', '22023', 'a reference that is not text'),
	(64, '{"payments": [{"method": "visa", "amount": 1, "reference": "MEGABYTE"}]}', '22001', 'a reference of 1 MB'),
	(65, '{"payments": [{"method": "visa", "amount": 1, "reference": "4111111111111111"}]}', 'IC003', 'a card number as reference'),
	(66, '{"refunds": [{"method": "visa", "amount": 1, "reason": "MEGABYTE"}]}', '22001', 'a refund reason of 1 MB'),
	(67, '{"refunds": [{"method": "visa", "amount": 1, "reason": ["faulty"]}]}', '22023', 'a refund reason that is not text'),
	(68, '{"refunds": [{"method": "visa", "amount": 1000}]}', 'IC003', 'a refund above what was paid'),
	-- delivery date, address, request id
	(70, '{"delivery_date": 20300101}', '22023', 'a date as a number'),
	(71, '{"delivery_date": "2030-02-30"}', '22023', 'the 30th of February'),
	(72, '{"delivery_date": "next week"}', '22023', 'a date in words'),
	(73, '{"delivery_date": null}', '22023', 'a null date'),
	(74, '{"address": "2 High St, Leeds"}', '22023', 'an address as one string'),
	(75, '{"address": {"line1": "2 High St", "town": "Leeds", "postcode": "LS2 1AA", "flat": "3"}}', '22023', 'an address with an unknown key'),
	(76, '{"request_id": 12, "payments": [{"method": "cash", "amount": 1}]}', '22023', 'a request id that is not text'),
	(77, '{"request_id": "MEGABYTE", "payments": [{"method": "cash", "amount": 1}]}', '22001', 'a request id of 1 MB')
) AS c(n, changes, state, what)
ORDER BY c.n;
SELECT is(pg_temp.sqlstate(format('SELECT icos.edit_order(%L, NULL)', current_setting('t.a'))), '22023',
	'edit_order 22023: SQL NULL changes');
SELECT is(pg_temp.sqlstate($$SELECT icos.edit_order('not a code', '{"cancel_lines": [2]}')$$), '22P02',
	'edit_order 22P02: a malformed order code');
SELECT is(pg_temp.sqlstate($$SELECT icos.edit_order(NULL, '{"cancel_lines": [2]}')$$), 'IC004',
	'edit_order IC004: no order code');

-- The other functions.
SELECT is(pg_temp.sqlstate(s.sql), s.state, format('%s: %s', s.state, s.what))
FROM (VALUES
	(1, $$SELECT icos.cancel_order(current_setting('t.a')::icos.order_code, NULL)$$, '22023', 'cancel_order without a reason'),
	(2, $$SELECT icos.cancel_order(current_setting('t.a')::icos.order_code, current_setting('t.mb'))$$, '22001', 'cancel_order with a reason of 1 MB'),
	(3, $$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'service', current_setting('t.mb'))$$, '22001', 'add_note with a note of 1 MB'),
	(4, $$SELECT icos.add_note(current_setting('t.a')::icos.order_code, current_setting('t.mb'), 'x')$$, '22023', 'add_note with a kind of 1 MB'),
	(5, $$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'service', E' \t\n ')$$, '22023', 'add_note with a blank note'),
	(6, $$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, current_setting('t.mb'))$$, '22023', 'advance_order to a step of 1 MB'),
	(7, $$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'in_progress', current_setting('t.mb'))$$, '22001', 'advance_order with a note of 1 MB'),
	(8, $$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '{"line": 1, "qty": 1}', 'faulty')$$, '22023', 'return_lines with an object, not an array'),
	(9, $$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '[{"line": 1, "qty": 1.0}]', 'faulty')$$, '22023', 'return_lines with "qty": 1.0'),
	(10, $$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '[{"line": 1, "qty": 99999999999}]', 'faulty')$$, '22023', 'return_lines with a quantity beyond int'),
	(11, $$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '[{"line": 1, "qty": 1, "refund": 5}]', 'faulty')$$, '22023', 'return_lines with an unknown key'),
	(12, $$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '[{"line": 1, "qty": 1}]', current_setting('t.mb'))$$, '22001', 'return_lines with a reason of 1 MB'),
	(13, $$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, NULL, 'faulty')$$, '22023', 'return_lines without lines')
) AS s(n, sql, state, what)
ORDER BY s.n;

SELECT is(pg_temp.state(), current_setting('t.snap'), 'no malformed call changed anything');
SELECT is((SELECT count(*)::int FROM icos.order_event WHERE length(note) > 2000 OR length(detail::text) > 100000), 0,
	'and no megabyte reached the log');

SELECT * FROM finish();
ROLLBACK;
