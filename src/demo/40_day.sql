-- A day at the retailer: orders in every channel, an enquiry, edits, fulfilment
\set ON_ERROR_STOP 1
\set SHOW_CONTEXT never
SET client_min_messages = warning;
\pset footer off
\set tv '(SELECT upc::text FROM icos.product WHERE name = ''Lumen 77in 4K OLED television'')'
\set soundbar '(SELECT upc::text FROM icos.product WHERE name = ''Soundbar with subwoofer'')'

\echo
\echo '1. Phone order (Grace, call centre): a 77in television on display nowhere.'
\echo '   Where is it?'
SELECT store_name, on_hand, available, on_display
FROM icos.availability((SELECT upc FROM icos.product WHERE name = 'Lumen 77in 4K OLED television'))
WHERE on_hand > 0;
SET SESSION AUTHORIZATION emp_201;
SELECT icos.place_order(jsonb_build_object(
	'store', 2, 'channel', 'phone',
	'customer', jsonb_build_object('name', 'Aisha Khan', 'email', 'aisha.khan@example.co.uk',
		'phone', '07700 900123',
		'address', jsonb_build_object('line1', '14 Wellington Road', 'town', 'Stockport',
			'postcode', 'SK4 1AA')),
	'lines', jsonb_build_array(jsonb_build_object('upc', :tv, 'qty', 1),
							   jsonb_build_object('upc', :soundbar, 'qty', 1)),
	'delivery', jsonb_build_object('method', 'home'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'visa', 'amount', 3248.00,
		'reference', 'AUTH 493021')))) AS phone_code \gset
RESET SESSION AUTHORIZATION;
\echo '   The server chose the store with the most stock to fulfil it:'
SELECT l->>'line' AS line, l->>'name' AS product, l->>'qty' AS qty, l->>'net' AS net,
	   (SELECT name FROM icos.store WHERE store_id = (l->>'fulfil_from')::int) AS fulfil_from
FROM jsonb_array_elements(icos.order(:'phone_code')->'lines') l;
SELECT icos.receipt(:'phone_code') AS receipt;

\echo
\echo '2. In-store sale at Oxford Street (Priya), registered to a known customer, paid in cash.'
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
\echo '3. Website order, collected at Manchester Arndale.'
SET SESSION AUTHORIZATION emp_111;
SELECT icos.place_order(jsonb_build_object(
	'store', 1, 'channel', 'web',
	'customer', jsonb_build_object('name', 'Chloe Evans', 'email', 'chloe.evans@example.co.uk',
		'phone', '07700 900456'),
	'lines', jsonb_build_array(
		jsonb_build_object('upc', (SELECT upc::text FROM icos.product WHERE name = 'Air fryer 5.5l'), 'qty', 1),
		jsonb_build_object('upc', (SELECT upc::text FROM icos.product WHERE name = 'Kettle 1.7l'), 'qty', 1)),
	'delivery', jsonb_build_object('method', 'collect', 'collect_store', 11),
	'payments', jsonb_build_array(jsonb_build_object('method', 'debit_card', 'amount', 158.00,
		'reference', 'AUTH 118273')))) AS web_code \gset
RESET SESSION AUTHORIZATION;
SELECT o->>'code' AS code, o->>'status' AS status, o->'delivery'->>'method' AS delivery,
	   o->>'promised_date' AS promised, o->>'total' AS total, o->>'balance' AS balance
FROM icos.order(:'web_code') o;

\echo
\echo '4. Aisha walks into Leeds Trinity with her order code; Dan finds it there.'
SET SESSION AUTHORIZATION emp_301;
SELECT o->>'code' AS code, o->>'status' AS status, o->>'channel' AS channel,
	   o->'customer'->>'name' AS customer, o->>'total' AS total, o->>'paid' AS paid
FROM icos.order(upper(replace(:'phone_code', '-', ' '))::icos.order_code) o;
\echo '   Typing it with one character wrong is caught as a typo, not "not found":'
\set ON_ERROR_STOP 0
SELECT icos.order(overlay(:'phone_code' placing (CASE WHEN substr(:'phone_code', 3, 1) = 'A' THEN 'B' ELSE 'A' END) from 3 for 1)::icos.order_code);
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;

\echo
\echo '5. Aisha moves house and no longer wants the soundbar (Grace edits the order).'
SET SESSION AUTHORIZATION emp_201;
SELECT o->>'status' AS status, o->>'total' AS total, o->>'paid' AS paid, o->>'balance' AS balance
FROM icos.edit_order(:'phone_code', jsonb_build_object(
	'address', jsonb_build_object('line1', '3 Mill Lane', 'town', 'Cheadle', 'postcode', 'SK8 2AB'),
	'cancel_lines', jsonb_build_array(2))) o;
\echo '   A negative balance is a refund due; record it to the card:'
SELECT o->>'total' AS total, o->>'paid' AS paid, o->>'balance' AS balance
FROM icos.edit_order(:'phone_code', '{"refunds": [{"method": "visa", "amount": 249.00, "reference": "REFUND 493021"}]}') o;
RESET SESSION AUTHORIZATION;

\echo
\echo '6. A made-to-measure sofa sold at Oxford Street with a deposit; a note for the workshop.'
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

\echo
\echo '7. Tom (manager) marks the television dispatched from the warehouse.'
SET SESSION AUTHORIZATION emp_102;
SELECT icos.advance_order(:'phone_code', 'dispatched', 'Two-person delivery, van 4') \gset
\echo '   Once dispatched, the address can no longer change; the refusal says why:'
\set ON_ERROR_STOP 0
SELECT icos.edit_order(:'phone_code', '{"address": {"line1": "1 New Street", "town": "Leeds", "postcode": "LS1 1AA"}}');
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;
SELECT e->>'at' AS at, e->>'kind' AS event, e->>'employee' AS employee, left(e->>'note', 70) AS note
FROM jsonb_array_elements(icos.order(:'phone_code')->'events') e;

\echo
\echo '8. Stock and the ledger agree everywhere:'
SELECT count(*) AS problems FROM icos.verify_stock();
