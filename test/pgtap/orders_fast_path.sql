-- The order engine (src/order_*.c) prices an order through price_lines,
-- the C core of icos.price_basket, or, when it has coupons, through
-- icos.price_basket itself: each order is placed twice, once as it is and
-- once with a coupon no promotion takes, and everything written must be
-- the same but for the order code, the times and the coupon.  Errors must
-- be the same too.  Every kind of order goes through the one engine.
BEGIN;
SELECT plan(39);
\ir orders_fixture.psql

SELECT icos.receive_stock(9101, '036000291452', 40, 'fast path test');
SELECT icos.receive_stock(9101, '4006381333931', 100, 'fast path test');
SELECT icos.receive_stock(9102, '036000291452', 20, 'fast path test');
SELECT set_config('t.cust', icos.upsert_customer('{"name": "Fast Path", "email": "fast@example.com"}')::text, true);
-- A store of another node: its lines are never placed by the fast path.
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES (9106, 'Remote', 'store', 7);

-- Everything an order wrote, without its code and times.
CREATE FUNCTION pg_temp.written(c text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object(
		'doc', (d - 'code' - 'placed_at' - 'updated_at')
			|| jsonb_build_object('events', (SELECT jsonb_agg(e - 'at') FROM jsonb_array_elements(d -> 'events') e),
								  'payments', (SELECT jsonb_agg(p - 'at') FROM jsonb_array_elements(d -> 'payments') p)),
		'pricing', (SELECT o.pricing - 'at' FROM icos.orders o WHERE o.code = c::icos.order_code),
		'row', (SELECT to_jsonb(o) - 'code' - 'placed_at' - 'updated_at' - 'pricing' - 'coupons' FROM icos.orders o
				WHERE o.code = c::icos.order_code),
		'lines', (SELECT jsonb_agg(to_jsonb(l) - 'code' ORDER BY l.line) FROM icos.order_line l
				  WHERE l.code = c::icos.order_code),
		'events', (SELECT jsonb_agg(to_jsonb(e) - 'code' - 'event_id' - 'at' ORDER BY e.event_id)
				   FROM icos.order_event e WHERE e.code = c::icos.order_code),
		'payments', (SELECT jsonb_agg(to_jsonb(p) - 'code' - 'at' ORDER BY p.payment_no)
					 FROM icos.order_payment p WHERE p.code = c::icos.order_code),
		'ledger', (SELECT jsonb_agg(jsonb_build_object('store', m.store_id, 'upc', m.upc::text, 'kind', m.kind,
					   'on_hand', m.d_on_hand, 'reserved', m.d_reserved, 'actor', m.actor,
					   'reason', replace(m.reason, c, 'CODE')) ORDER BY m.movement_id)
				   FROM icos.stock_movement m WHERE m.order_code = c),
		'deltas', (SELECT jsonb_agg(to_jsonb(s) - 'code' ORDER BY to_jsonb(s)::text)
				   FROM icos.sales_delta s WHERE s.code = c::icos.order_code))
	FROM (SELECT icos.order(c::icos.order_code) AS d) x
$$;
-- The error of placing an order: SQLSTATE, message and detail with any
-- order code masked ('' when it was placed).
CREATE FUNCTION pg_temp.refusal(p jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	det text;
BEGIN
	PERFORM icos.place_order(p);
	RETURN '';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	RETURN regexp_replace(st || ': ' || msg || ' / ' || coalesce(det, ''),
						  '[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}', 'CODE', 'g');
END
$$;
-- The pricing an order placed by place_order keeps.
CREATE FUNCTION pg_temp.kept(p jsonb, fast boolean DEFAULT false) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c text := icos.place_order(p)::text;
BEGIN
	IF c IS NULL THEN
		RAISE EXCEPTION 'the order was not placed';
	END IF;
	RETURN (SELECT o.pricing FROM icos.orders o WHERE o.code = c::icos.order_code);
END
$$;
-- Place an order both ways; true when both wrote the same.
CREATE FUNCTION pg_temp.same(p jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	fast text := icos.place_order(p)::text;
	general text := icos.place_order(p || '{"coupons": ["NO-SUCH-COUPON"]}')::text;
BEGIN
	IF pg_temp.written(fast) IS DISTINCT FROM pg_temp.written(general) THEN
		RAISE NOTICE 'fast %', pg_temp.written(fast);
		RAISE NOTICE 'general %', pg_temp.written(general);
		RETURN false;
	END IF;
	RETURN pg_temp.written(fast) -> 'lines' IS NOT NULL;
END
$$;

-- An order keeps its pricing only when a promotion was involved; both
-- paths decide it the same way (icos._pricing_kept and place.c).
SELECT is(pg_temp.kept('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}]}'),
	NULL, 'a till sale with no offer keeps no pricing');
SELECT is(pg_temp.kept('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}], "coupons": ["NO-SUCH-COUPON"]}'),
	NULL, 'nor with a coupon no promotion takes');

-- Every kind of order goes through the engine (the orders the former fast
-- path left to PL/pgSQL included).
SELECT isnt(icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}'),
	NULL, 'a till sale is placed');
SELECT isnt(icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "coupons": []}'),
	NULL, 'an order with coupons');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "96385074", "qty": 1}]}')$$,
	'22023', 'line 1 (Sofa, made to measure) cannot be taken away now', 'a made-to-order line carried out is refused');
SELECT set_config('t.code', icos.place_order(jsonb_build_object('store', 9101, 'channel', 'store',
	'customer', jsonb_build_object('id', current_setting('t.cust')::bigint),
	'lines', '[{"upc": "036000291452", "qty": 1, "fulfil_from": 9106}]'::jsonb,
	'delivery', '{"method": "collect"}'::jsonb))::text, true);
SELECT is((SELECT l.status || '/' || l.remote_status FROM icos.order_line l
		   WHERE l.code = current_setting('t.code')::icos.order_code),
	'backorder/pending', 'a line from the stock of another node asks that node');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1, "backorder": true}]}')$$,
	'22023', NULL, 'a back-order line carried out is refused');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "store", "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "carry"}}')$$,
	'22023', 'a store order needs a customer', 'a store order without a customer is refused');
SELECT isnt(icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "visa", "amount": "5.00"}]}'),
	NULL, 'an amount written as a string');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "visa", "amount": 1.005}]}')$$,
	'IC003', NULL, 'a fraction of a penny is refused');
SELECT set_config('t.code', icos.place_order(jsonb_build_object('store', 9103, 'channel', 'web',
	'customer', jsonb_build_object('id', current_setting('t.cust')::bigint),
	'lines', '[{"upc": "4006381333931", "qty": 1}]'::jsonb,
	'delivery', '{"method": "collect", "collect_store": 9101}'::jsonb))::text, true);
SELECT is((SELECT l.fulfil_from FROM icos.order_line l WHERE l.code = current_setting('t.code')::icos.order_code),
	9101, 'a web order whose store the server chooses (the one with the most)');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 0}]}')$$,
	'22023', 'line 1 needs a quantity of at least 1', 'a line of no units is refused');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333932", "qty": 1}]}')$$,
	'22P02', NULL, 'a malformed product code is refused');
SELECT throws_ok($$SELECT icos.place_order('{"store": 9999, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]}')$$,
	'IC004', 'unknown store 9999', 'an unknown store is refused');

-- Both ways of pricing write the same.
SELECT ok(pg_temp.same('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 2}, {"upc": "036000291452", "qty": 1}],
	"payments": [{"method": "cash", "amount": 300}]}'), 'till sale with change: same with a coupon');
SELECT ok(pg_temp.same(jsonb_build_object('store', 9101, 'channel', 'store',
	'customer', jsonb_build_object('id', current_setting('t.cust')::bigint),
	'lines', '[{"upc": "036000291452", "qty": 2}, {"upc": "4006381333931", "qty": 1}, {"upc": "036000291452", "qty": 1}]'::jsonb,
	'delivery', '{"method": "collect"}'::jsonb,
	'payments', '[{"method": "visa", "amount": 100.5}, {"method": "cash", "amount": 1000}]'::jsonb)),
	'collection where sold, a product on two lines, card then cash: same');
SELECT ok(pg_temp.same(jsonb_build_object('store', 9101, 'channel', 'phone',
	'customer', jsonb_build_object('id', current_setting('t.cust')::bigint),
	'lines', '[{"upc": "036000291452", "qty": 1, "fulfil_from": 9102}, {"upc": "4006381333931", "qty": 3, "fulfil_from": 9105}]'::jsonb,
	'delivery', '{"method": "collect", "collect_store": 9102}'::jsonb)),
	'collection at another store, unpaid, lines from two stores: same');
SELECT ok(pg_temp.same('{"store": 9101, "channel": "pos", "customer": null, "delivery": null, "payments": null,
	"lines": [{"upc": "4006381333931", "qty": 1, "fulfil_from": null}]}'),
	'explicit nulls: same');
SELECT ok(pg_temp.same('{"store": 9101, "channel": "pos", "delivery": {"method": "carry"},
	"lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "debit_card", "amount": 24.5}]}'),
	'paid exactly by card: same');
SELECT ok(pg_temp.same('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "gift_card", "amount": 10}, {"method": "cash", "amount": 5}]}'),
	'part-paid till sale: same');

-- And refuse the same way.
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "visa", "amount": 30}]}'),
	pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "visa", "amount": 30}], "coupons": ["NO-SUCH-COUPON"]}'),
	'a card payment above what is owed: same error');
SELECT matches(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "visa", "amount": 30}]}'), '^IC003: payment of 30.00 is more than the 24.50 owed',
	'which is IC003 naming both amounts');
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "cash", "amount": 30}, {"method": "visa", "amount": 1}]}'),
	pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "cash", "amount": 30}, {"method": "visa", "amount": 1}], "coupons": ["NO-SUCH-COUPON"]}'),
	'a payment when nothing is owed: same error');
SELECT matches(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "cash", "amount": 30}, {"method": "visa", "amount": 1}]}'),
	'^IC003: nothing is owed on order CODE / Payment 2 of 1.00 was not taken.$', 'which is IC003');
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "5012345678900", "qty": 5}]}'),
	pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "5012345678900", "qty": 5}], "coupons": ["NO-SUCH-COUPON"]}'),
	'not enough stock: same error');
SELECT matches(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "5012345678900", "qty": 5}]}'),
	'^IC001: not enough stock of "Bookcase"', 'which is IC001 naming the product');
SELECT is(pg_temp.refusal('{"store": 9102, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1, "fulfil_from": 9101}]}'),
	pg_temp.refusal('{"store": 9102, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1, "fulfil_from": 9101}], "coupons": ["NO-SUCH-COUPON"]}'),
	'carrying out goods from another store: same error');
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect", "collect_store": 9105}}'),
	pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect", "collect_store": 9105}, "coupons": ["NO-SUCH-COUPON"]}'),
	'collection at a warehouse: same error');
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "store", "customer": {"id": 999999999}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "carry"}}'),
	pg_temp.refusal('{"store": 9101, "channel": "store", "customer": {"id": 999999999}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "carry"}, "coupons": ["NO-SUCH-COUPON"]}'),
	'an unknown customer: same error');
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "bitcoin", "amount": 1}]}'),
	pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "bitcoin", "amount": 1}], "coupons": ["NO-SUCH-COUPON"]}'),
	'an unknown payment method: same error');

-- Nothing of a refused order is left, and the counters agree with the ledger.
SELECT is((SELECT count(*)::int FROM icos.orders o WHERE NOT EXISTS (SELECT 1 FROM icos.order_line l WHERE l.code = o.code)),
	0, 'no order without lines was left behind');
SELECT is((SELECT count(*)::int FROM icos.verify_stock()), 0, 'the stock counters agree with the ledger');
SELECT is((SELECT sum(d_units)::int FROM icos.sales_delta s JOIN icos.orders o ON o.code = s.code WHERE o.store_id = 9101),
	(SELECT sum(qty)::int FROM icos.order_line l WHERE l.store_id = 9101 AND l.status <> 'cancelled'),
	'the report deltas count every unit sold');

-- With promotions: the lines' prices, the totals and the kept pricing
-- document must be the same both ways, for an offer applied and for one
-- reported not applied.
INSERT INTO icos.promotion (promotion_id, name, kind, rule) VALUES
	(9911, 'Lamps: 2nd at 25% off', 'buy_get', '{"buy": {"upc": ["4006381333931"]}, "buy_qty": 1, "get_qty": 1, "percent": 25}');
SELECT ok(pg_temp.same('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 2}, {"upc": "036000291452", "qty": 1}],
	"payments": [{"method": "cash", "amount": 300}]}'), 'an offer applied: same with a coupon');
SELECT is(jsonb_path_query_array(pg_temp.kept('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 2}]}'), '$.applied[*].id'),
	'[9911]'::jsonb, 'and the fast path keeps the pricing that names it');
SELECT ok(pg_temp.same('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "cash", "amount": 300}]}'), 'an offer not applied (one unit): same');
SELECT is(jsonb_path_query_array(pg_temp.kept('{"store": 9101, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}]}'), '$.not_applied[*].id'),
	'[9911]'::jsonb, 'and the fast path keeps the pricing that says so');

-- Payments are not allowed while awaiting payment: the change rule's
-- refusal (icos._change_refusal), both ways.
UPDATE icos.change_rule SET allowed = false, reason = 'test'
WHERE status = 'awaiting_payment' AND change_kind = 'payment';
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}]}'),
	pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}], "coupons": ["NO-SUCH-COUPON"]}'),
	'payments refused by the change rules: the same refusal both ways');
SELECT is(pg_temp.refusal('{"store": 9101, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}]}'),
	'IC002: cannot take a payment: order CODE is awaiting payment / test', 'which is the rule''s IC002 and reason');

SELECT * FROM finish();
ROLLBACK;
