-- The follow-ups outbox (docs/customers.md, "Follow-ups"): what is queued
-- for whom, on which channel, when; what a sender claims and marks; who may
-- do it (only icos_sender); messages dropped when they may no longer go, and
-- deleted with a forgotten customer.  Everything rolls back.
BEGIN;
SELECT plan(20);
\ir orders_fixture.psql
SELECT icos.create_employee(9701, 'Lee Leeds', 9101, 'agent', pg_temp.verifier('1'));
SELECT icos.create_employee(9702, 'Mo Leeds Manager', 9101, 'manager', pg_temp.verifier('2'));
CREATE ROLE care_mailer LOGIN IN ROLE icos_sender;
CREATE ROLE care_mailer2 LOGIN IN ROLE icos_sender;

-- Em consents to e-mail and SMS, Ted to SMS only (and has no phone), Nat to nothing.
SET SESSION AUTHORIZATION emp_9701;
SELECT set_config('t.em', icos.upsert_customer('{"name": "Em Mail", "email": "em@example.com", "phone": "07700 900701"}')::text, false);
SELECT set_config('t.ted', icos.upsert_customer('{"name": "Ted Text", "email": "ted@example.com"}')::text, false);
SELECT set_config('t.nat', icos.upsert_customer('{"name": "Nat None", "email": "nat@example.com"}')::text, false);
SELECT icos.set_consent(current_setting('t.em')::bigint, 'email', true);
SELECT icos.set_consent(current_setting('t.em')::bigint, 'sms', true);
SELECT icos.set_consent(current_setting('t.ted')::bigint, 'sms', true);
RESET SESSION AUTHORIZATION;
CREATE FUNCTION pg_temp.sale(p_who text, p_delivery text) RETURNS text LANGUAGE sql AS $$
	SELECT icos.place_order(jsonb_build_object('store', 9101, 'channel', 'store',
		'customer', jsonb_build_object('id', current_setting('t.' || p_who)::bigint),
		'lines', '[{"upc": "4006381333931", "qty": 1}]'::jsonb,
		'delivery', jsonb_build_object('method', p_delivery),
		'payments', '[{"method": "cash", "amount": 24.50}]'::jsonb))::text
$$;
CREATE FUNCTION pg_temp.queued(p_who text) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(kind || '/' || channel || '/' || (due_at > now() + interval '2 days'), ' ' ORDER BY kind, channel), '')
	FROM icos.customer_message WHERE customer_id = current_setting('t.' || p_who)::bigint
$$;

SET SESSION AUTHORIZATION emp_9701;
SELECT set_config('t.em_till', pg_temp.sale('em', 'carry'), false);
SELECT set_config('t.ted_till', pg_temp.sale('ted', 'carry'), false);
SELECT set_config('t.nat_till', pg_temp.sale('nat', 'carry'), false);
SELECT set_config('t.em_collect', pg_temp.sale('em', 'collect'), false);
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.queued('em'), 'feedback_request/email/true feedback_request/sms/true',
	'a till sale to Em queues a feedback request three days on, on each channel she consented to');
SELECT is(pg_temp.queued('ted'), '', 'none for Ted: SMS consent but no phone number');
SELECT is(pg_temp.queued('nat'), '', 'none for Nat, who consented to nothing');
SELECT lives_ok($$SELECT icos.advance_order(current_setting('t.em_collect')::icos.order_code, 'ready_for_collection')$$,
	'Em''s collection order is ready');
SELECT is(pg_temp.queued('em'), 'feedback_request/email/true feedback_request/sms/true ready_for_collection/email/false ready_for_collection/sms/false',
	'which queues a message due now on each channel');

-- Only a sender claims; an agent or a manager cannot.
SET SESSION AUTHORIZATION emp_9702;
SELECT throws_ok($$SELECT * FROM icos.claim_messages('email')$$, '42501', NULL, 'a manager cannot claim messages');
SELECT throws_ok($$SELECT * FROM icos.customer_message$$, '42501', NULL, '... nor read the outbox');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION emp_9701;
SELECT throws_ok($$SELECT icos.message_sent(1)$$, '42501', NULL, 'an agent cannot mark one sent');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION care_mailer;
SELECT throws_ok($$SELECT * FROM icos.claim_messages('pigeon')$$, '22023', NULL, 'an unknown channel is refused');
SELECT throws_ok($$SELECT * FROM icos.claim_messages('email', 0)$$, '22023', NULL, 'so is a batch of none');
SELECT throws_ok($$SELECT * FROM icos.customer_message$$, '42501', NULL, 'a sender reads no table');
SELECT set_config('t.msg', (SELECT message_id::text FROM icos.claim_messages('email')
	WHERE recipient = 'em@example.com' AND kind = 'ready_for_collection' AND customer_name = 'Em Mail'), false);
SELECT isnt(current_setting('t.msg'), '', 'the sender claims the due e-mail, with her address (the feedback request is not due yet)');
SELECT is_empty($$SELECT * FROM icos.claim_messages('email')$$, 'claimed, it is not handed out again within the lease');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION care_mailer2;
SELECT throws_ok($$SELECT icos.message_sent(current_setting('t.msg')::bigint)$$, 'IC002', NULL,
	'another sender cannot mark it sent');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION care_mailer;
SELECT lives_ok($$SELECT icos.message_sent(current_setting('t.msg')::bigint)$$, 'the sender that claimed it marks it sent');
SELECT throws_ok($$SELECT icos.message_sent(current_setting('t.msg')::bigint)$$, 'IC002', NULL, 'once');
RESET SESSION AUTHORIZATION;

-- Em withdraws SMS consent: the SMS is dropped, not sent.
SET SESSION AUTHORIZATION emp_9701;
SELECT icos.set_consent(current_setting('t.em')::bigint, 'sms', false);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION care_mailer;
SELECT is_empty($$SELECT * FROM icos.claim_messages('sms')$$, 'a withdrawn consent: the SMS is not handed out');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT dropped FROM icos.customer_message WHERE kind = 'ready_for_collection' AND channel = 'sms'), 'no consent',
	'and says why it was dropped');

-- Forgotten, her messages go, sent or not.
SET SESSION AUTHORIZATION emp_9702;
SELECT lives_ok($$SELECT icos.forget_customer(current_setting('t.em')::bigint, 'ticket 9')$$, 'her store''s manager forgets Em');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.queued('em'), '', 'none of her messages is left');
SELECT * FROM finish();
ROLLBACK;
