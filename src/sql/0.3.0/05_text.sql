-- icos 0.3.0: the one check of stored free text (src/textcheck.c): a
-- documented length limit per kind of field (22001) and no payment card
-- number anywhere (IC003), for names, addresses, notes, reasons, coupons,
-- payment references and request keys.

CREATE FUNCTION icos.text_limits() RETURNS TABLE (field text, max_chars int)
AS 'MODULE_PATHNAME', 'text_limits'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 14;
COMMENT ON FUNCTION icos.text_limits() IS
	'The longest text, in characters, icos stores in each kind of field; longer text is refused with 22001';

CREATE FUNCTION icos._check_text(p_value text, p_field text, p_what text DEFAULT NULL) RETURNS text
AS 'MODULE_PATHNAME', 'check_text'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._check_text(text, text, text) IS
	'internal: returns the text of a field of kind p_field (a field of icos.text_limits()) once checked: 22001 when longer than the limit, IC003 when it holds a payment card number; p_what names the field in the message';

-- The same name and meaning as in 0.2.0, now the C scanner: card numbers
-- written in groups, inside other text, or followed by more digits.
CREATE OR REPLACE FUNCTION icos._looks_like_card_number(p_ref text) RETURNS boolean
AS 'MODULE_PATHNAME', 'looks_like_card_number'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._looks_like_card_number(text) IS
	'True when the text holds a payment card number: 13 to 19 digits not starting with 0, in groups separated by spaces, hyphens or dots, passing the Luhn check (src/core/cardscan.h)';
