-- icos._check_text, icos.text_limits and icos._looks_like_card_number: the
-- one check of the free text icos stores.
BEGIN;
SELECT plan(16);

SELECT set_eq($$SELECT field FROM icos.text_limits()$$,
	ARRAY['name', 'email', 'phone', 'address_line', 'town', 'postcode', 'country', 'note', 'reason',
		  'coupon', 'reference', 'external_ref', 'request_id', 'metadata'],
	'text_limits lists every kind of field');
SELECT is((SELECT max_chars FROM icos.text_limits() WHERE field = 'note'), 2000, 'a note holds 2000 characters');

SELECT is(icos._check_text(repeat('a', 2000), 'note'), repeat('a', 2000), 'a note at the limit is kept');
SELECT throws_ok($$SELECT icos._check_text(repeat('a', 2001), 'note')$$, '22001',
	'the note is too long', 'a note over the limit is 22001');
SELECT is(icos._check_text(repeat('é', 200), 'name'), repeat('é', 200),
	'the limit counts characters, not bytes');
SELECT throws_ok($$SELECT icos._check_text(repeat('é', 201), 'name', 'the customer''s name')$$, '22001',
	'the customer''s name is too long', 'the message names the field as the caller says');
SELECT is(icos._check_text(NULL, 'note'), NULL, 'no text, nothing to check');

SELECT throws_ok($$SELECT icos._check_text('PAN 4111111111111111', 'reference')$$, 'IC003',
	'the payment reference holds what looks like a payment card number', 'a card number after a word is IC003');
SELECT throws_ok($$SELECT icos._check_text('customer read 4111.1111.1111.1111 out', 'note')$$, 'IC003',
	NULL, 'a card number with dots inside a note is IC003');
SELECT throws_ok($$SELECT icos._check_text('4111111111111111 exp 12/27', 'reason')$$, 'IC003',
	NULL, 'a card number with its expiry is IC003');
SELECT lives_ok($$SELECT icos._check_text('auth 004211, cheque 000123', 'reference')$$,
	'authorisation codes and cheque numbers pass');

-- The refused number is in no message, detail or hint.
CREATE FUNCTION pg_temp.error_text(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; d text; h text;
BEGIN
	EXECUTE p_sql;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	RETURN concat_ws(' | ', m, d, h);
END $$;
SELECT unalike(pg_temp.error_text($$SELECT icos._check_text('card:4111111111111111', 'note')$$), '%4111%',
	'the error never repeats the card number');

SELECT ok(icos._looks_like_card_number('4111 1111 1111 1111 123'), 'a card number followed by its code');
SELECT ok(NOT icos._looks_like_card_number('41111111111111110000'), 'a 20-digit run is not a card number');
SELECT ok(NOT icos._looks_like_card_number('0000000000000000'), 'zeros are not a card number');
SELECT throws_ok($$SELECT icos._check_text('x', 'colour')$$, 'XX000', 'unknown text field kind "colour"',
	'an unknown field kind is a programming error');

SELECT * FROM finish();
ROLLBACK;
