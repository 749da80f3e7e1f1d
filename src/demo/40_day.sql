-- A day at the retailer: orders in every channel and node, an enquiry, edits, fulfilment
-- Run by src/demo/demo.sh with psql variables hq, s1 (London Oxford Street)
-- and s2 (Leeds Trinity) holding each node's conninfo.  "The scheduler" is
-- icos.heartbeat(), which `icos node heartbeat --every 5` runs on every
-- node; here the demo calls it at the moments it matters.
\set ON_ERROR_STOP 1
\set SHOW_CONTEXT never
\pset footer off
\set tv '(SELECT upc::text FROM icos.product WHERE name = ''Lumen 77in 4K OLED television'')'
\set tv2 '(SELECT upc::text FROM icos.product WHERE name = ''Vista 43in 4K LED television'')'
-- :beat runs the scheduler here and keeps its time in :beat_at; after
-- connecting to another node, :in_step waits there until everything node
-- :from committed before that heartbeat has arrived.
\set beat 'SELECT icos.heartbeat() ->> ''at'' AS beat_at \\gset'
\set in_step 'SELECT icos.wait_for_heartbeat(:from, :''beat_at'') AS arrived \\gset'

\connect :hq
SET client_min_messages = warning;
\echo
\echo '1. Phone order (Grace, call centre at head office): a 77in television on display nowhere,'
\echo '   and a 43in one for the bedroom: "buy one, get 25% off another" applies.'
\echo '   Head office sees every store''s stock, the stores'' own included:'
SELECT store_name, on_hand, available, on_display
FROM icos.availability((SELECT upc FROM icos.product WHERE name = 'Lumen 77in 4K OLED television'))
WHERE on_hand > 0;
SET SESSION AUTHORIZATION emp_201;
SELECT icos.price_basket(jsonb_build_object('store', 2, 'channel', 'phone',
	'lines', jsonb_build_array(jsonb_build_object('upc', :tv, 'qty', 1),
							   jsonb_build_object('upc', :tv2, 'qty', 1)))) ->> 'total' AS phone_total \gset
SELECT icos.place_order(jsonb_build_object(
	'store', 2, 'channel', 'phone',
	'customer', jsonb_build_object('name', 'Aisha Khan', 'email', 'aisha.khan@example.co.uk',
		'phone', '07700 900123',
		'address', jsonb_build_object('line1', '14 Wellington Road', 'town', 'Stockport',
			'postcode', 'SK4 1AA')),
	'lines', jsonb_build_array(jsonb_build_object('upc', :tv, 'qty', 1),
							   jsonb_build_object('upc', :tv2, 'qty', 1)),
	'delivery', jsonb_build_object('method', 'home'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'visa', 'amount', :'phone_total',
		'reference', 'AUTH 493021')))) AS phone_code \gset
RESET SESSION AUTHORIZATION;
\echo '   The server chose where each line is fulfilled from; Leeds has its own database,'
\echo '   so the 77in line waits for Leeds to answer a stock request:'
SELECT l->>'line' AS line, l->>'name' AS product, l->>'net' AS net,
	   (SELECT name FROM icos.store WHERE store_id = (l->>'fulfil_from')::int) AS fulfil_from,
	   l->>'status' AS status, coalesce(l->>'remote', 'local') AS stock_request
FROM jsonb_array_elements(icos.order(:'phone_code')->'lines') l;
\echo '   Leeds'' scheduler reserves the television with the same engine as a local sale ...'
:beat
\connect :s2
SET client_min_messages = warning;
\set from 0
:in_step
SELECT icos.heartbeat() ->> 'granted' AS requests_granted_at_leeds;
:beat
\connect :hq
SET client_min_messages = warning;
\set from 2
:in_step
\echo '   ... and head office''s scheduler records the answer on the order line:'
SELECT icos.heartbeat() ->> 'applied' AS answers_applied_at_head_office;
SELECT l->>'line' AS line, l->>'name' AS product, l->>'status' AS status,
	   coalesce(l->>'remote', 'local') AS stock_request
FROM jsonb_array_elements(icos.order(:'phone_code')->'lines') l;
SELECT icos.receipt(:'phone_code') AS receipt;

\echo
\echo '2. In-store sale at London Oxford Street (Priya, on the store''s own database),'
\echo '   registered to a known customer, paid in cash.'
\connect :s1
SET client_min_messages = warning;
SET SESSION AUTHORIZATION emp_101;
SELECT icos.place_order(jsonb_build_object(
	'store', 10, 'channel', 'pos',
	'customer', jsonb_build_object('name', 'Ben Carter', 'email', 'ben.carter@example.co.uk'),
	'lines', jsonb_build_array(
		jsonb_build_object('upc', (SELECT upc::text FROM icos.product WHERE name = 'Oxford shirt, navy, size M'), 'qty', 2),
		jsonb_build_object('upc', (SELECT upc::text FROM icos.product WHERE name = 'Merino crew neck, charcoal, size M'), 'qty', 1)),
	'delivery', jsonb_build_object('method', 'carry'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'cash', 'amount', 120.00)))) AS pos_code \gset
RESET SESSION AUTHORIZATION;
SELECT icos.receipt(:'pos_code') AS receipt;

\echo
\echo '3. Made-to-measure sofa sold at Oxford Street with a deposit; a note for the workshop.'
SET SESSION AUTHORIZATION emp_101;
SELECT icos.place_order(jsonb_build_object(
	'store', 10, 'channel', 'store',
	'customer', jsonb_build_object('email', 'ben.carter@example.co.uk'),
	'lines', jsonb_build_array(jsonb_build_object('upc',
		(SELECT upc::text FROM icos.product WHERE name = 'Made-to-measure three-seat sofa'), 'qty', 1)),
	'delivery', jsonb_build_object('method', 'home',
		'address', jsonb_build_object('line1', '22 Church Street', 'town', 'London', 'postcode', 'N16 0JL')),
	'payments', jsonb_build_array(jsonb_build_object('method', 'debit_card', 'amount', 300.00,
		'reference', 'AUTH 552910')))) AS sofa_code \gset
SELECT icos.add_note(:'sofa_code', 'manufacturing', 'Fabric: Harris tweed, moss green. Legs: dark oak, 14 cm.') \gset
RESET SESSION AUTHORIZATION;
SELECT o->>'status' AS status, o->>'promised_date' AS promised, o->>'total' AS total,
	   o->>'balance' AS still_owed
FROM icos.order(:'sofa_code') o;
:beat

\echo
\echo '4. Website order at head office, collected at Manchester Arndale: 20% off small appliances.'
\connect :hq
SET client_min_messages = warning;
SET SESSION AUTHORIZATION emp_111;
\set web_lines 'jsonb_build_array(jsonb_build_object(''upc'', (SELECT upc::text FROM icos.product WHERE name = ''Air fryer 5.5l''), ''qty'', 1), jsonb_build_object(''upc'', (SELECT upc::text FROM icos.product WHERE name = ''Kettle 1.7l''), ''qty'', 1))'
\echo '   The website prices the basket first and shows why:'
SELECT b->>'gross' AS gross, b->>'discount' AS discount, b->>'total' AS total,
	   (SELECT string_agg(a->>'name' || ' (' || (a->>'amount') || ')', '; ') FROM jsonb_array_elements(b->'applied') a) AS promotions
FROM icos.price_basket(jsonb_build_object('store', 1, 'channel', 'web', 'lines', :web_lines)) b;
SELECT icos.price_basket(jsonb_build_object('store', 1, 'channel', 'web', 'lines', :web_lines)) ->> 'total' AS web_total \gset
SELECT icos.place_order(jsonb_build_object(
	'store', 1, 'channel', 'web',
	'customer', jsonb_build_object('name', 'Chloe Evans', 'email', 'chloe.evans@example.co.uk',
		'phone', '07700 900456'),
	'lines', :web_lines,
	'delivery', jsonb_build_object('method', 'collect', 'collect_store', 11),
	'payments', jsonb_build_array(jsonb_build_object('method', 'debit_card', 'amount', :'web_total',
		'reference', 'AUTH 118273')))) AS web_code \gset
RESET SESSION AUTHORIZATION;
SELECT o->>'code' AS code, o->>'status' AS status, o->'delivery'->>'method' AS delivery,
	   o->>'promised_date' AS promised, o->>'total' AS total, o->>'balance' AS balance
FROM icos.order(:'web_code') o;

\echo
\echo '5. Ben phones the call centre about his sofa; Grace finds the Oxford Street order at head office.'
\set from 1
:in_step
SET SESSION AUTHORIZATION emp_201;
SELECT o->>'code' AS code, o->>'status' AS status, o->>'channel' AS channel,
	   (SELECT name FROM icos.store WHERE store_id = (o->>'store')::int) AS store,
	   o->'customer'->>'name' AS customer, o->>'total' AS total, o->>'paid' AS paid
FROM icos.order(lower(replace(:'sofa_code', '-', ' '))::icos.order_code) o;
\echo '   Typing it with one character wrong is caught as a typo, not "not found":'
\set ON_ERROR_STOP 0
SELECT icos.order(overlay(:'sofa_code' placing (CASE WHEN substr(:'sofa_code', 3, 1) = 'A' THEN 'B' ELSE 'A' END) from 3 for 1)::icos.order_code);
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;

\echo
\echo '6. Aisha moves house and keeps only the 77in television: Grace edits the order.'
\echo '   Without the second television the 25% is taken back, so less is refunded than it cost:'
SET SESSION AUTHORIZATION emp_201;
SELECT o->>'status' AS status, o->>'total' AS total, o->>'paid' AS paid, o->>'balance' AS balance
FROM icos.edit_order(:'phone_code', jsonb_build_object(
	'address', jsonb_build_object('line1', '3 Mill Lane', 'town', 'Cheadle', 'postcode', 'SK8 2AB'),
	'cancel_lines', jsonb_build_array(2))) o;
SELECT -(icos.order(:'phone_code') ->> 'balance')::numeric AS refund \gset
\echo '   A negative balance is a refund due; record it to the card:'
SELECT o->>'total' AS total, o->>'paid' AS paid, o->>'balance' AS balance
FROM icos.edit_order(:'phone_code', jsonb_build_object('refunds', jsonb_build_array(
	jsonb_build_object('method', 'visa', 'amount', :'refund', 'reference', 'REFUND 493021')))) o;
RESET SESSION AUTHORIZATION;

\echo
\echo '7. Sam (call-centre manager) marks the television dispatched; Leeds hands it over.'
SET SESSION AUTHORIZATION emp_202;
SELECT icos.advance_order(:'phone_code', 'dispatched', 'Two-person delivery from Leeds, van 4') \gset
\echo '   Once dispatched, the address can no longer change; the refusal says why:'
\set ON_ERROR_STOP 0
SELECT icos.edit_order(:'phone_code', '{"address": {"line1": "1 New Street", "town": "Leeds", "postcode": "LS1 1AA"}}');
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;
SELECT e->>'at' AS at, e->>'kind' AS event, e->>'employee' AS employee, left(e->>'note', 70) AS note
FROM jsonb_array_elements(icos.order(:'phone_code')->'events') e;
\echo '   Leeds'' scheduler takes the television out of its stock:'
:beat
\connect :s2
SET client_min_messages = warning;
\set from 0
:in_step
SELECT icos.heartbeat() ->> 'answered' AS requests_answered_at_leeds;
SELECT on_hand, reserved, available FROM icos.availability(
	(SELECT upc FROM icos.product WHERE name = 'Lumen 77in 4K OLED television'), 12);

\echo
\echo '8. Stock and the ledger agree on every node:'
SELECT 'Leeds Trinity' AS node, count(*) AS problems FROM icos.verify_stock();
\connect :s1
SELECT 'London Oxford Street' AS node, count(*) AS problems FROM icos.verify_stock();
\connect :hq
SELECT 'head office' AS node, count(*) AS problems FROM icos.verify_stock();
