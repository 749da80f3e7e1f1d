-- The SQL examples of docs/upc.md, in order (test/t/010_upc_mutations.pl checks
-- that every block of the page appears here verbatim).
SET search_path = public, icos;

SELECT '0-36000-29145-2'::upc AS upca, ' 4006381333931 '::upc AS ean13,
       '00000096385074'::upc AS gtin8, '10012345678902'::upc AS gtin14;

SELECT '036000291452'::upc = '0036000291452'::upc
   AND '0036000291452'::upc = '00036000291452'::upc AS same_product;

SELECT '036000291453'::upc;
-- ERROR:  invalid check digit in UPC "036000291453"
-- DETAIL:  The check digit should be 2, not 3.
-- HINT:  The code was probably mistyped or misscanned: compare the digits with the label, or scan it again.

SELECT c, upc_is_valid(c) FROM (VALUES ('036000291452'), ('036000291453'), ('0360-0029')) v(c);

SELECT '036000291452'::upc::bigint AS as_number, 36000291452::bigint::upc AS from_number;

SELECT upc_parse('04252614', 'upce') AS from_upce, upc_parse('036000291452', 'upca') AS from_upca;

SELECT upc_format('042100005264', 'upce') AS upce, upc_format('042100005264', 'ean13') AS ean13,
       upc_format('042100005264', 'gtin14') AS gtin14;

INSERT INTO upc_prefix (form, prefix, class) VALUES ('gtin13', '978', 'gtin');
SELECT upc_class('9780306406157') AS overridden, upc_class('9790230671187') AS still_ismn;
DELETE FROM upc_prefix WHERE NOT builtin;
SELECT upc_class('9780306406157') AS isbn_again, upc_class('96012345678902') AS variable;

SELECT upc_variable_price('212345928752') AS upca_price, upc_variable_price('2112346146859') AS ean13_price;

SELECT upc_price_from_layout('2112345146850', 'PPIIIII$$$$$C') AS price_without_verifier;

