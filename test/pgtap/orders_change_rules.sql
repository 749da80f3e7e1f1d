-- The change rules of icos._change_refusal, row by row: every row of
-- icos.change_rule decides its (status, change kind), as shipped and with
-- every row turned round; and a rule on the order's content that the other
-- tests left unguarded (goods handed over: no cancellation).
BEGIN;
SELECT plan(8 + 2 * 112);
\ir orders_fixture.psql

-- A part-paid carried-out sale: the one lamp left the shop at the till, 10.00
-- of 24.50 was paid.  Nothing but a return may undo it.
SELECT set_config('t.carry', icos.place_order('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "cash", "amount": 10}]}')::text, true);
SELECT is((SELECT row(o.status, l.qty, l.consumed_qty)::text FROM icos.orders o
		   JOIN icos.order_line l ON l.code = o.code WHERE o.code = current_setting('t.carry')::icos.order_code),
	'(awaiting_payment,1,1)', 'a part-paid carried-out sale: awaiting payment, its one unit handed over');
SELECT throws_ok($$SELECT icos.cancel_order(current_setting('t.carry')::icos.order_code, 'customer left')$$,
	'IC002', 'cannot cancel the order on order ' || current_setting('t.carry'),
	'it cannot be cancelled: one unit was handed over');
SELECT is((SELECT row(o.status, l.status, l.consumed_qty)::text FROM icos.orders o
		   JOIN icos.order_line l ON l.code = o.code WHERE o.code = current_setting('t.carry')::icos.order_code),
	'(awaiting_payment,fulfilled,1)', 'and it is unchanged');

-- The status table.  Each (status, change kind) is tried on an order whose
-- content no other rule refuses: a home delivery (collection for
-- to_ready_for_collection) with a made-to-order sofa, nothing handed over,
-- nothing owed.  Only the status and the table then decide.
SELECT set_config('t.mto', icos.place_order('{"store": 9101, "channel": "store",
	"customer": {"name": "Rule Tester", "email": "rules@example.com",
				 "address": {"line1": "1 Rule St", "town": "Leeds", "postcode": "LS1 1AA"}},
	"lines": [{"upc": "96385074", "qty": 1}, {"upc": "4006381333931", "qty": 1}],
	"delivery": {"method": "home"}}')::text, true);
CREATE FUNCTION pg_temp.refusal(p_status text, p_kind text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	o icos.orders;
	d text;
BEGIN
	SELECT * INTO o FROM icos.orders WHERE code = current_setting('t.mto')::icos.order_code;
	o := jsonb_populate_record(o, jsonb_build_object('status', p_status, 'total_pence', 0,
		'delivery_method', CASE p_kind WHEN 'to_ready_for_collection' THEN 'collect' ELSE 'home' END));
	PERFORM icos._check_change(o, p_kind);
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || d;
END
$$;
SELECT is((SELECT count(*)::int FROM icos.change_rule), 112, 'the table has a row for each of 7 statuses and 16 kinds');
SELECT is((SELECT count(*)::int FROM icos.change_rule WHERE NOT allowed), 54, '54 of them refuse');

-- As shipped: one assertion per row.
SELECT is(pg_temp.refusal(status, change_kind), CASE WHEN allowed THEN NULL ELSE 'IC002: ' || reason END,
		  format('%s, %s: %s', status, change_kind,
				 CASE WHEN allowed THEN 'not refused' ELSE 'refused with IC002 and the row''s reason' END))
FROM icos.change_rule ORDER BY status, change_kind;

-- Every row turned round (as head office may change any of them): each
-- (status, kind) follows its row, so none is decided anywhere else.
UPDATE icos.change_rule SET allowed = NOT allowed,
	reason = CASE WHEN allowed THEN format('Turned round: %s in %s.', change_kind, status) END;
SELECT is(pg_temp.refusal(status, change_kind), CASE WHEN allowed THEN NULL ELSE 'IC002: ' || reason END,
		  format('turned round: %s, %s: %s', status, change_kind,
				 CASE WHEN allowed THEN 'not refused' ELSE 'refused with IC002 and the row''s reason' END))
FROM icos.change_rule ORDER BY status, change_kind;

-- A missing row refuses.
DELETE FROM icos.change_rule WHERE status = 'placed' AND change_kind = 'cancel';
SELECT is(pg_temp.refusal('placed', 'cancel'), 'IC002: This change is not allowed in this status.',
	'a (status, kind) without a row is refused');

-- The order document's "cancellable" asks the same function.
UPDATE icos.change_rule SET allowed = true, reason = NULL WHERE change_kind = 'cancel';
SELECT is(icos.order(current_setting('t.mto')::icos.order_code) ->> 'cancellable', 'true',
	'cancellable when the rules allow it');
SELECT is(icos.order(current_setting('t.carry')::icos.order_code) ->> 'cancellable', 'false',
	'not for the sale whose goods were handed over, whatever the table says');

SELECT * FROM finish();
ROLLBACK;
