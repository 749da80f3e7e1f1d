-- edit_order, cancel_order, add_note, advance_order, return_lines,
-- customer_orders and every refusal of the change rules.
BEGIN;
SELECT plan(90);
\ir orders_fixture.psql

CREATE FUNCTION pg_temp.doc(p text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT icos.order(current_setting(p)::icos.order_code)
$$;
CREATE FUNCTION pg_temp.new_order(p_name text, p_order jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT set_config(p_name, icos.place_order(p_order)::text, true)
$$;

-- A home delivery: one oak table, two lamps, from Leeds; 100.00 paid.
SELECT pg_temp.new_order('t.a', '{
	"store": 9101, "channel": "store",
	"customer": {"name": "Ann Smith", "email": "ann@example.com",
				 "address": {"line1": "2 High St", "town": "Leeds", "postcode": "LS2 1AA"}},
	"lines": [{"upc": "036000291452", "qty": 1}, {"upc": "4006381333931", "qty": 2}],
	"delivery": {"method": "home"},
	"payments": [{"method": "visa", "amount": 100}]}');

-- edit_order: quantities by the delta only.
SELECT is(pg_temp.avail(9101, '4006381333931'), 8, 'two lamps reserved');
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"set_qty": [{"line": 2, "qty": 5}]}')$$,
	'raise a quantity');
SELECT is(pg_temp.avail(9101, '4006381333931'), 5, 'only the three extra lamps were reserved');
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"set_qty": [{"line": 2, "qty": 1}]}')$$,
	'lower a quantity');
SELECT is(pg_temp.avail(9101, '4006381333931'), 9, 'four lamps released');
SELECT is((pg_temp.doc('t.a') ->> 'total')::numeric, 224.49, 're-priced: 199.99 + 24.50');

-- edit_order: several changes at once, all or nothing.
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{
	"add_lines": [{"upc": "5012345678900", "qty": 1}],
	"cancel_lines": [2],
	"address": {"line1": "5 New St", "town": "Leeds", "postcode": "LS3 3CC"},
	"payments": [{"method": "cash", "amount": 200}]}')$$, 'add, cancel, re-address and pay in one edit');
SELECT is(jsonb_path_query_array(pg_temp.doc('t.a'), '$.lines[*].status'),
	'["reserved", "cancelled", "reserved"]'::jsonb, 'line 2 cancelled, line 3 added');
SELECT is(pg_temp.avail(9101, '4006381333931'), 10, 'the cancelled line''s lamp is released');
SELECT is(pg_temp.avail(9101, '5012345678900'), 0, 'the added bookcase is reserved');
SELECT is((pg_temp.doc('t.a') ->> 'total')::numeric, 288.99, 'total 199.99 + 89.00');
SELECT is((pg_temp.doc('t.a') ->> 'balance')::numeric, 0.00, 'cash covers the balance');
SELECT is(pg_temp.doc('t.a') -> 'payments' -> 1 ->> 'change', '11.01', 'and the rest is change given');
SELECT is(pg_temp.doc('t.a') -> 'delivery' -> 'address' ->> 'line1', '5 New St', 'new address');
SELECT is(pg_temp.doc('t.a') ->> 'status', 'placed', 'fully paid: placed');
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, format('{"delivery_date": "%s"}', current_date + 5)::jsonb)$$,
	'a later delivery date');
SELECT is((pg_temp.doc('t.a') ->> 'promised_date')::date, current_date + 5, 'promised date follows the delivery date');

-- Refused edits change nothing.
SELECT set_config('t.snap', pg_temp.snapshot() || (pg_temp.doc('t.a') - 'events')::text, true);
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"add_lines": [{"upc": "4006381333931", "qty": 1}], "refunds": [{"method": "visa", "amount": 500}]}')$$,
	'IC003', NULL, 'refund larger than paid: IC003, and the added line is undone too');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"set_qty": [{"line": 1, "qty": 9}]}')$$,
	'IC001', NULL, 'more than the stock: IC001');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"cancel_lines": [2]}')$$,
	'IC002', NULL, 'a cancelled line cannot be cancelled again');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"cancel_lines": [7]}')$$,
	'IC004', NULL, 'unknown line: IC004');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"cancel_lines": [1, 3]}')$$,
	'IC002', NULL, 'cancelling every item is cancel_order''s job');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"set_qty": [{"line": 1, "qty": 0}]}')$$,
	'22023', NULL, 'zero quantity');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, format('{"delivery_date": "%s"}', current_date)::jsonb)$$,
	'IC002', NULL, 'a delivery date earlier than lead times allow: IC002');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"payments": [{"method": "visa", "amount": 1}]}')$$,
	'IC003', NULL, 'nothing is owed: IC003');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"colour": "red"}')$$,
	'22023', NULL, 'unknown change');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{}')$$,
	'22023', 'nothing to change', 'empty change');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"address": {"line1": "x"}}')$$,
	'22023', NULL, 'incomplete address');
SELECT throws_ok($$SELECT icos.edit_order(icos.next_order_code(), '{"address": {"line1": "x"}}')$$,
	'IC004', NULL, 'unknown order: IC004');
SELECT throws_ok($$SELECT icos.edit_order('0000-0000-0001', '{}')$$, '22P02', NULL, 'malformed order code: 22P02');
SELECT is(pg_temp.snapshot() || (pg_temp.doc('t.a') - 'events')::text, current_setting('t.snap'),
	'no refused edit changed anything');

-- Notes.
SELECT throws_ok($$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'manufacturing', 'blue')$$,
	'IC002', NULL, 'manufacturing note refused on an order with nothing made to order');
SELECT lives_ok($$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'dispatch', 'Ring the bell twice')$$,
	'dispatch note');
SELECT throws_ok($$SELECT icos.add_note(current_setting('t.a')::icos.order_code, 'gossip', 'x')$$,
	'22023', NULL, 'unknown note kind');
SELECT is(pg_temp.doc('t.a') -> 'events' -> -1 ->> 'note', 'Ring the bell twice', 'the note is in the event log');

-- Fulfilment: dispatch consumes the stock; nothing dispatched may change.
SELECT throws_ok($$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'ready_for_collection')$$,
	'IC002', NULL, 'a home delivery is not made ready for collection');
SELECT throws_ok($$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'completed')$$,
	'IC002', NULL, 'not completed before dispatch');
SELECT lives_ok($$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'in_progress')$$, 'in progress');
SELECT lives_ok($$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'dispatched', 'van 3')$$, 'dispatched');
SELECT is((SELECT on_hand FROM icos.availability('036000291452', 9101)), 1, 'the oak table left Leeds');
SELECT is(pg_temp.avail(9101, '036000291452'), 1, 'and is no longer reserved');
SELECT throws_ok($$SELECT icos.cancel_order(current_setting('t.a')::icos.order_code, 'too late')$$,
	'IC002', NULL, 'a dispatched order cannot be cancelled');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"address": {"line1": "x", "town": "y", "postcode": "z"}}')$$,
	'IC002', 'cannot change the delivery address: order ' || current_setting('t.a') || ' is dispatched',
	'a dispatched order cannot be re-addressed');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"add_lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'IC002', NULL, 'no items added after dispatch');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, '{"cancel_lines": [3]}')$$,
	'IC002', NULL, 'no items cancelled after dispatch');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.a')::icos.order_code, format('{"delivery_date": "%s"}', current_date + 9)::jsonb)$$,
	'IC002', NULL, 'no new delivery date after dispatch');
SELECT is((SELECT reason FROM icos._change_refusal((SELECT o FROM icos.orders o WHERE o.code = current_setting('t.a')::icos.order_code), 'cancel') r
		   JOIN icos.change_rule cr ON cr.reason = r.detail), 
	(SELECT reason FROM icos.change_rule WHERE status = 'dispatched' AND change_kind = 'cancel'),
	'the refusal comes from the change_rule table');
SELECT lives_ok($$SELECT icos.advance_order(current_setting('t.a')::icos.order_code, 'completed')$$, 'completed');
SELECT is(pg_temp.doc('t.a') ->> 'cancellable', 'false', 'a completed order is not cancellable');

-- Returns: stock back, refund to the methods paid with.
SELECT throws_ok($$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '[{"line": 1, "qty": 2}]', 'faulty')$$,
	'IC002', NULL, 'cannot return more than was handed over');
SELECT throws_ok($$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '[{"line": 1, "qty": 1}]', '')$$,
	'22023', NULL, 'a return needs a reason');
SELECT lives_ok($$SELECT icos.return_lines(current_setting('t.a')::icos.order_code, '[{"line": 3, "qty": 1}]', 'scratched')$$,
	'return the bookcase');
SELECT is((SELECT on_hand FROM icos.availability('5012345678900', 9101)), 1, 'the bookcase is back in stock');
SELECT is((pg_temp.doc('t.a') ->> 'total')::numeric, 199.99, 'total without the returned bookcase');
SELECT is((pg_temp.doc('t.a') ->> 'balance')::numeric, 0.00, 'the refund was made');
SELECT is(pg_temp.doc('t.a') -> 'payments' -> -1 ->> 'kind', 'refund', 'recorded as a refund');
SELECT is(pg_temp.doc('t.a') -> 'lines' -> 2 ->> 'status', 'returned', 'line marked returned');

-- cancel_order releases everything and shows the refund due.
SELECT pg_temp.new_order('t.b', '{
	"store": 9101, "channel": "store", "customer": {"email": "ann@example.com"},
	"lines": [{"upc": "4006381333931", "qty": 4}, {"upc": "96385074", "qty": 1}],
	"delivery": {"method": "collect"},
	"payments": [{"method": "cheque", "amount": 50, "reference": "chq 100234"}]}');
SELECT lives_ok($$SELECT icos.add_note(current_setting('t.b')::icos.order_code, 'manufacturing', 'Green velvet')$$,
	'manufacturing note on a made-to-order item');
SELECT is(pg_temp.avail(9101, '4006381333931'), 6, 'four lamps reserved');
SELECT throws_ok($$SELECT icos.cancel_order(current_setting('t.b')::icos.order_code, '  ')$$,
	'22023', NULL, 'a cancellation needs a reason');
SELECT lives_ok($$SELECT icos.cancel_order(current_setting('t.b')::icos.order_code, 'customer changed their mind')$$,
	'cancel');
SELECT is(pg_temp.avail(9101, '4006381333931'), 10, 'reservations released');
SELECT is(pg_temp.doc('t.b') ->> 'status', 'cancelled', 'cancelled');
SELECT is((pg_temp.doc('t.b') ->> 'balance')::numeric, -50.00, 'the balance shows the refund due');
SELECT matches(icos.receipt(current_setting('t.b')::icos.order_code), 'Refund due +50\.00', 'and so does the receipt');
SELECT throws_ok($$SELECT icos.cancel_order(current_setting('t.b')::icos.order_code, 'again')$$,
	'IC002', NULL, 'cannot cancel twice');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.b')::icos.order_code, '{"payments": [{"method": "cash", "amount": 5}]}')$$,
	'IC002', NULL, 'no payment on a cancelled order');
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.b')::icos.order_code, '{"refunds": [{"method": "cheque", "amount": 50}]}')$$,
	'the refund due can be paid');
SELECT throws_ok($$SELECT icos.edit_order(current_setting('t.b')::icos.order_code, '{"refunds": [{"method": "cash", "amount": 0.01}]}')$$,
	'IC003', NULL, 'but not more');

-- Collect: ready for collection, then collected.
SELECT pg_temp.new_order('t.c', '{
	"store": 9101, "channel": "store", "customer": {"email": "ann@example.com"},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"}}');
SELECT throws_ok($$SELECT icos.advance_order(current_setting('t.c')::icos.order_code, 'ready_for_collection')$$,
	'IC002', NULL, 'not handed over before payment');
SELECT throws_ok($$SELECT icos.advance_order(current_setting('t.c')::icos.order_code, 'dispatched')$$,
	'IC002', NULL, 'a collect order is not dispatched');
SELECT throws_ok($$SELECT icos.advance_order(current_setting('t.c')::icos.order_code, 'shipped')$$,
	'22023', NULL, 'unknown step');
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.c')::icos.order_code, '{"payments": [{"method": "gift_card", "amount": 24.50, "reference": "GC-88"}]}')$$,
	'paid');
SELECT lives_ok($$SELECT icos.advance_order(current_setting('t.c')::icos.order_code, 'ready_for_collection')$$, 'ready');
SELECT lives_ok($$SELECT icos.advance_order(current_setting('t.c')::icos.order_code, 'completed')$$, 'collected');
SELECT is((SELECT on_hand FROM icos.availability('4006381333931', 9101)), 9, 'collection consumed the lamp');

-- An edit adding a back-ordered line the store cannot serve: promised by
-- lead time, nothing reserved.  Once the goods arrive, dispatching sells
-- them in one step: one sale row, nothing reserved first.
SELECT pg_temp.new_order('t.d', '{
	"store": 9101, "channel": "store",
	"customer": {"name": "Bo Back", "email": "bo@example.com",
				 "address": {"line1": "3 Low St", "town": "Leeds", "postcode": "LS2 2BB"}},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "home"}}');
SELECT set_config('t.books', pg_temp.avail(9101, '5012345678900')::text, true);
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.d')::icos.order_code,
	format('{"add_lines": [{"upc": "5012345678900", "qty": %s, "fulfil_from": 9101, "backorder": true}]}',
		   current_setting('t.books')::int + 1)::jsonb)$$, 'add more bookcases than Leeds has, back-ordered');
SELECT is(pg_temp.doc('t.d') #>> '{lines,1,status}', 'backorder', 'the line is back-ordered');
SELECT is(pg_temp.avail(9101, '5012345678900'), current_setting('t.books')::int, 'nothing was reserved for it');
SELECT icos.receive_stock(9101, '5012345678900', 1, 'the missing bookcase arrived');
SELECT lives_ok($$SELECT icos.edit_order(current_setting('t.d')::icos.order_code,
	jsonb_build_object('payments', jsonb_build_array(jsonb_build_object('method', 'visa',
		'amount', (pg_temp.doc('t.d') ->> 'balance')::numeric))))$$, 'paid in full');
SELECT lives_ok($$SELECT icos.advance_order(current_setting('t.d')::icos.order_code, 'dispatched')$$,
	'dispatched with the bookcases arrived');
SELECT is((SELECT array_agg(kind || ' ' || d_on_hand || ' ' || d_reserved ORDER BY movement_id)
		   FROM icos.stock_movement
		   WHERE order_code = current_setting('t.d') AND upc = '5012345678900'),
	ARRAY['sale -' || (current_setting('t.books')::int + 1) || ' 0'],
	'the back-ordered line was sold in one step, not reserved first');
SELECT is(pg_temp.doc('t.d') #>> '{lines,1,status}', 'fulfilled', 'and is fulfilled');
SELECT is(pg_temp.avail(9101, '5012345678900'), 0, 'Leeds has no bookcase left');

-- customer_orders.
SELECT is((SELECT count(*)::int FROM icos.customer_orders((pg_temp.doc('t.a') -> 'customer' ->> 'id')::bigint)), 3,
	'the customer''s three orders');
SELECT throws_ok($$SELECT icos.customer_orders(987654321)$$, 'IC004', NULL, 'unknown customer: IC004');

-- Every change is in the log, which cannot be altered.
SELECT is(jsonb_path_query_array(pg_temp.doc('t.b'), '$.events[*].kind'),
	'["placed", "payment", "note", "cancelled", "refund"]'::jsonb, 'the log of the cancelled order');
SELECT throws_ok($$UPDATE icos.order_event SET note = 'x'$$, '42501', 'the order event log cannot be changed',
	'even the owner cannot update the log');
SELECT throws_ok($$DELETE FROM icos.order_event$$, '42501', NULL, 'nor delete from it');
SELECT throws_ok($$TRUNCATE icos.order_event CASCADE$$, '42501', NULL, 'nor truncate it');

SELECT * FROM finish();
ROLLBACK;
