-- The checks of 0.3.0 on changes after placement: edit_order's request_id
-- (a retried edit is applied once), a line named twice in one edit, the free
-- text of notes, reasons and references (icos._check_text), and the bounds
-- of a product that orders rely on.
BEGIN;
SELECT plan(64);
\ir orders_fixture.psql

CREATE FUNCTION pg_temp.doc(p text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT icos.order(current_setting(p)::icos.order_code)
$$;
CREATE FUNCTION pg_temp.edit(p text, p_changes text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT icos.edit_order(current_setting(p)::icos.order_code, p_changes::jsonb)
$$;
-- The order as stored, with its log, and the stock: compared before and after.
CREATE FUNCTION pg_temp.state(p text) RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.snapshot() || pg_temp.doc(p)::text
		|| (SELECT count(*) FROM icos.order_request)::text
$$;

-- A home delivery from Leeds: an oak table and two lamps (248.99), nothing paid.
SELECT set_config('t.a', icos.place_order('{"store": 9101, "channel": "store",
	"customer": {"name": "Ann Smith", "email": "ann@example.com",
				 "address": {"line1": "2 High St", "town": "Leeds", "postcode": "LS2 1AA"}},
	"lines": [{"upc": "036000291452", "qty": 1}, {"upc": "4006381333931", "qty": 2}],
	"delivery": {"method": "home"}}')::text, true);

-- request_id ----------------------------------------------------------------
SELECT is(pg_temp.edit('t.a', '{"request_id": "deposit-1", "payments": [{"method": "visa", "amount": 50, "reference": "auth 1"}]}') ->> 'paid',
	'50.00', 'a deposit under a request id is taken');
SELECT length(set_config('t.snap', pg_temp.state('t.a'), true)) > 0 AS snapshot_taken;
SELECT is(pg_temp.edit('t.a', '{"request_id": "deposit-1", "payments": [{"method": "visa", "amount": 50, "reference": "auth 1"}]}'),
	pg_temp.doc('t.a'), 'the same request again returns the order document');
SELECT is(pg_temp.state('t.a'), current_setting('t.snap'), 'and changes nothing: one payment, no new event');
SELECT is(pg_temp.edit('t.a', '{"request_id": "deposit-1", "cancel_lines": [2]}') -> 'lines' -> 1 ->> 'status', 'reserved',
	'the key decides: whatever else the retry says, an applied request id changes nothing');
SELECT is(pg_temp.state('t.a'), current_setting('t.snap'), 'nothing at all');
SELECT is(pg_temp.edit('t.a', E'{"request_id": " deposit-1\\t", "payments": [{"method": "visa", "amount": 50}]}') ->> 'paid',
	'50.00', 'surrounding white space is not part of the key');
SELECT is(pg_temp.edit('t.a', '{"request_id": "Deposit-1", "payments": [{"method": "cash", "amount": 1}]}') ->> 'paid',
	'51.00', 'request ids are compared exactly: another key is another edit');
SELECT is(pg_temp.edit('t.a', '{"request_id": "qty-1", "set_qty": [{"line": 2, "qty": 4}]}') -> 'lines' -> 1 ->> 'qty',
	'4', 'line changes under a request id');
SELECT lives_ok($$SELECT pg_temp.edit('t.a', '{"request_id": "qty-1", "set_qty": [{"line": 2, "qty": 4}]}')$$,
	'retried');
SELECT is(pg_temp.avail(9101, '4006381333931'), 6, 'four lamps reserved, not six');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"request_id": "big-1", "payments": [{"method": "visa", "amount": 10000}]}')$$,
	'IC003', NULL, 'a refused edit under a request id');
SELECT is(pg_temp.edit('t.a', '{"request_id": "big-1", "payments": [{"method": "visa", "amount": 10}]}') ->> 'paid',
	'61.00', 'is not remembered: the corrected edit with the same key is applied');
SELECT is((SELECT count(*)::int FROM icos.order_request WHERE code = current_setting('t.a')::icos.order_code), 4,
	'one row per request id applied');
SELECT is((SELECT row(owner, publication, filter_column, filter_kind)::text FROM icos.replicated_tables()
		   WHERE table_name = 'icos.order_request' AND owner = 'store'), '(store,icos_store_%s,store_id,stores)',
	'the request ids replicate with the orders of their store');
SELECT is((SELECT detail ->> 'request_id' FROM icos.order_event WHERE code = current_setting('t.a')::icos.order_code
		   AND kind = 'edited' ORDER BY event_id DESC LIMIT 1), 'qty-1', 'the edited event keeps the request id');
-- Keys belong to one order.
SELECT set_config('t.b', icos.place_order('{"store": 9101, "channel": "store", "customer": {"email": "ann@example.com"},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"}}')::text, true);
SELECT is(pg_temp.edit('t.b', '{"request_id": "deposit-1", "payments": [{"method": "cash", "amount": 5}]}') ->> 'paid',
	'5.00', 'another order applies a request id the first one used');
-- What a request id may be.
SELECT length(set_config('t.snap', pg_temp.state('t.a'), true)) > 0 AS snapshot_taken;
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"request_id": "", "payments": [{"method": "cash", "amount": 1}]}')$$,
	'22023', 'changes "request_id" must be text of 1 to 100 characters', 'an empty request id: 22023');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"request_id": "   ", "payments": [{"method": "cash", "amount": 1}]}')$$,
	'22023', NULL, 'a blank one: 22023');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"request_id": 17, "payments": [{"method": "cash", "amount": 1}]}')$$,
	'22023', NULL, 'a number: 22023');
SELECT throws_ok(format($$SELECT pg_temp.edit('t.a', '{"request_id": "%s", "payments": [{"method": "cash", "amount": 1}]}')$$, repeat('r', 101)),
	'22001', 'request_id is too long', '101 characters: 22001');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"request_id": "4111 1111 1111 1111", "payments": [{"method": "cash", "amount": 1}]}')$$,
	'IC003', NULL, 'a card number: IC003');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"request_id": "only-a-key"}')$$,
	'22023', 'nothing to change', 'a request id alone changes nothing: 22023');
CREATE FUNCTION pg_temp.error_text(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; d text; h text;
BEGIN
	EXECUTE p_sql;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	RETURN concat_ws(' | ', SQLSTATE, m, d, h);
END $$;
SELECT is(pg_temp.error_text($$SELECT pg_temp.edit('t.a', '{"request_id": 4111111111111111, "payments": [{"method": "cash", "amount": 1}]}')$$),
	'22023 | changes "request_id" must be text of 1 to 100 characters | Got a JSON number. | Give the edit a key of your own, such as a UUID, and send the same key when you retry it.',
	'a request id that is not text: 22023, without repeating it');
SELECT is(pg_temp.state('t.a'), current_setting('t.snap'), 'refused request ids changed nothing');
SELECT lives_ok(format($$SELECT pg_temp.edit('t.a', '{"request_id": "%s", "payments": [{"method": "cash", "amount": 1}]}')$$, repeat('é', 100)),
	'100 characters (not bytes) are a request id');

-- A line named twice -----------------------------------------------------------
SELECT length(set_config('t.snap', pg_temp.state('t.a'), true)) > 0 AS snapshot_taken;
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"set_qty": [{"line": 2, "qty": 3}, {"line": 2, "qty": 2}]}')$$,
	'22023', 'line 2 appears twice in set_qty', 'lowering one line twice: 22023');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"set_qty": [{"line": 2, "qty": 5}, {"line": 2, "qty": 6}]}')$$,
	'22023', 'line 2 appears twice in set_qty', 'raising one line twice: 22023, not a raw 23514');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"set_qty": [{"line": 1, "qty": 2}, {"line": 2, "qty": 1}, {"line": 2, "qty": 1}]}')$$,
	'22023', NULL, 'a good entry beside the duplicate is not applied either');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"cancel_lines": [2, 2]}')$$,
	'22023', 'line 2 appears twice in cancel_lines', 'cancelling one line twice: 22023');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"cancel_lines": [2], "set_qty": [{"line": 2, "qty": 1}]}')$$,
	'IC002', 'cannot change quantities: line 2 of order ' || current_setting('t.a') || ' is cancelled by the same edit',
	'cancelling and re-quantifying one line: IC002');
SELECT is(pg_temp.state('t.a'), current_setting('t.snap'), 'none of them changed anything');
SELECT is((SELECT row(qty, reserved_qty, net_pence)::text FROM icos.order_line
		   WHERE code = current_setting('t.a')::icos.order_code AND line = 2), '(4,4,9800)',
	'line 2: four lamps, four reserved, priced for four');

-- Free text: 22001 over the limit, IC003 for a card number, nothing stored ----
SELECT throws_ok(format($$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'service', %L)$$, repeat('n', 2001)),
	'22001', 'the note is too long', 'a note of 2001 characters: 22001');
SELECT throws_ok($$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'service', 'card 4111-1111-1111-1111, call back')$$,
	'IC003', 'the note holds what looks like a payment card number', 'a note with a card number: IC003');
SELECT throws_ok($$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'in_progress', 'paid with 4111.1111.1111.1111')$$,
	'IC003', NULL, 'a fulfilment note with a card number: IC003');
SELECT throws_ok(format($$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'in_progress', %L)$$, repeat('n', 2001)),
	'22001', NULL, 'a fulfilment note of 2001 characters: 22001');
SELECT throws_ok($$SELECT icos.cancel_order(current_setting('t.a')::icos.order_code, 'refund to PAN 4111111111111111')$$,
	'IC003', 'the reason for the cancellation holds what looks like a payment card number',
	'a cancellation reason with a card number: IC003');
SELECT throws_ok(format($$SELECT icos.cancel_order(current_setting('t.a')::icos.order_code, %L)$$, repeat('r', 501)),
	'22001', 'the reason for the cancellation is too long', 'a reason of 501 characters: 22001');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"payments": [{"method": "visa", "amount": 5, "reference": "card:4111111111111111"}]}')$$,
	'IC003', 'payment 1 reference holds what looks like a payment card number', 'a payment reference with a card number: IC003');
SELECT throws_ok(format($$SELECT pg_temp.edit('t.a', '{"payments": [{"method": "visa", "amount": 5, "reference": "%s"}]}')$$, repeat('x', 101)),
	'22001', 'payment 1 reference is too long', 'a reference of 101 characters: 22001');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"refunds": [{"method": "visa", "amount": 5, "reference": "4111111111111111 exp 12/27"}]}')$$,
	'IC003', 'refund 1 reference holds what looks like a payment card number', 'a refund reference with a card number: IC003');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"refunds": [{"method": "visa", "amount": 5, "reason": "back to 4111 1111 1111 1111"}]}')$$,
	'IC003', 'the refund''s reason holds what looks like a payment card number', 'a refund reason with a card number: IC003');
SELECT throws_ok(format($$SELECT pg_temp.edit('t.a', '{"refunds": [{"method": "visa", "amount": 5, "reason": "%s"}]}')$$, repeat('r', 501)),
	'22001', NULL, 'a refund reason of 501 characters: 22001');
SELECT is(pg_temp.state('t.a'), current_setting('t.snap'), 'no refused text changed anything');
SELECT is((SELECT count(*)::int FROM icos.order_event e WHERE e.note ~ '4111' OR e.detail::text ~ '4111'), 0,
	'no card number is in any event');
SELECT is((SELECT count(*)::int FROM icos.order_payment y WHERE y.reference ~ '4111'), 0, 'nor in any payment');
-- At the limits, and a refund's reason kept in the log.
SELECT lives_ok(format($$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'service', %L)$$, repeat('n', 2000)),
	'a note of 2000 characters is kept');
SELECT lives_ok(format($$SELECT pg_temp.edit('t.a', '{"payments": [{"method": "visa", "amount": 5, "reference": "%s"}]}')$$, repeat('x', 100)),
	'a reference of 100 characters is kept');
SELECT lives_ok($$SELECT pg_temp.edit('t.a', '{"refunds": [{"method": "visa", "amount": 5, "reference": "auth 77", "reason": "paid twice at the till"}]}')$$,
	'a refund with a reason');
SELECT is(pg_temp.doc('t.a') -> 'events' -> -1 ->> 'note', 'visa 5.00: paid twice at the till', 'the reason is in the refund''s event');
SELECT throws_ok($$SELECT pg_temp.edit('t.a', '{"refunds": [{"method": "visa", "amount": 5, "reason": 7}]}')$$,
	'22023', NULL, 'a reason that is not text: 22023');
SELECT lives_ok(format($$SELECT icos.cancel_order(current_setting('t.b')::icos.order_code, %L)$$, repeat('r', 500)),
	'a reason of 500 characters is kept');
-- Returns: the reason of a completed carried-out sale.
SELECT set_config('t.c', icos.place_order('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 2}], "payments": [{"method": "cash", "amount": 49}]}')::text, true);
SELECT throws_ok($$SELECT icos.return_lines(current_setting('t.c')::icos.order_code, '[{"line": 1, "qty": 1}]', 'card 4111111111111111 charged twice')$$,
	'IC003', 'the reason for the return holds what looks like a payment card number', 'a return reason with a card number: IC003');
SELECT throws_ok(format($$SELECT icos.return_lines(current_setting('t.c')::icos.order_code, '[{"line": 1, "qty": 1}]', %L)$$, repeat('r', 501)),
	'22001', NULL, 'a return reason of 501 characters: 22001');
SELECT is((SELECT returned_qty::int FROM icos.order_line WHERE code = current_setting('t.c')::icos.order_code), 0,
	'nothing was taken back');
SELECT lives_ok($$SELECT icos.return_lines(current_setting('t.c')::icos.order_code, '[{"line": 1, "qty": 1}]', 'faulty switch')$$,
	'a return with a plain reason');

-- Products: bounds that keep every order of them possible -----------------------
SELECT throws_ok($$INSERT INTO icos.product (upc, name, price, lead_time_days) VALUES ('40000008', 'Slow chair', 10, 3651)$$,
	'23514', 'new row for relation "product" violates check constraint "product_lead_time_days_check"',
	'a lead time over 3650 days: 23514 naming the constraint');
SELECT throws_ok($$UPDATE icos.product SET lead_time_days = 2147483647 WHERE upc = '96385074'$$,
	'23514', NULL, 'the lead time of issue 14 (2147483647 days) is refused');
SELECT throws_ok($$UPDATE icos.product SET lead_time_days = -1 WHERE upc = '96385074'$$,
	'23514', NULL, 'a negative lead time is refused');
SELECT throws_ok($$UPDATE icos.product SET name = '   ' WHERE upc = '96385074'$$,
	'23514', 'new row for relation "product" violates check constraint "product_name_check"', 'a blank name is refused');
SELECT throws_ok(format($$UPDATE icos.product SET name = %L WHERE upc = '96385074'$$, repeat('n', 201)),
	'23514', NULL, 'a name of 201 characters is refused');
SELECT throws_ok(format($$UPDATE icos.product SET description = %L WHERE upc = '96385074'$$, repeat('d', 4001)),
	'23514', 'new row for relation "product" violates check constraint "product_description_check"',
	'a description of 4001 characters is refused');
SELECT lives_ok($$UPDATE icos.product SET lead_time_days = 3650 WHERE upc = '96385074'$$, 'ten years is the longest lead time');
SELECT is((pg_temp.edit('t.a', '{"add_lines": [{"upc": "96385074", "qty": 1}]}') ->> 'promised_date')::date,
	current_date + 3651, 'and an order of it is promised ten years and a day from now');

SELECT * FROM finish();
ROLLBACK;
