-- icos.upc_parse, upc_format, upc_class, upc_variable_price and their tables.
SET search_path = public, icos;

-- upc_parse: each kind takes its own length only.
SELECT k, c, upc_parse(c, k) AS parsed
FROM (VALUES ('gtin8', '96385074'), ('upca', '036000291452'), ('ean13', '0036000291452'),
	('ean13', '4006381333931'), ('gtin14', '10012345678902'), ('gtin14', '00036000291452'),
	('upce', '04252614'), ('upce', '0425-2614'), ('upce', '01204504'), ('UPCA', ' 036000291452 ')) v(k, c);
SELECT upc_parse('036000291452', 'ean13');
SELECT upc_parse('0036000291452', 'upca');
SELECT upc_parse('96385074', 'upca');
SELECT upc_parse('036000291452', 'gtin14');
SELECT upc_parse('4006381333931', 'gtin8');
SELECT upc_parse('036000291453', 'upca');
SELECT upc_parse('04252615', 'upce');          -- wrong check digit (the expanded UPC-A's)
SELECT upc_parse('14252614', 'upce');          -- number system 1
SELECT upc_parse('01204534', 'upce');          -- non-canonical (d6 = 3 with d3 = 0)
SELECT upc_parse('0425261', 'upce');           -- 7 digits
SELECT upc_parse('04252614', 'upc-e');         -- unknown kind
SELECT upc_parse('04252614', '');
SELECT upc_parse(NULL, 'upca') IS NULL AS null_code, upc_parse('036000291452', NULL) IS NULL AS null_kind;

-- upc_format: every style of every form, one line per code; NULL where absent.
CREATE FUNCTION try_format(u upc, s text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN upc_format(u, s);
EXCEPTION WHEN invalid_parameter_value THEN
	RETURN '(none)';
END $$;
SELECT u AS code, try_format(u, 'canonical') AS canonical, try_format(u, 'gtin14') AS gtin14,
       try_format(u, 'ean13') AS ean13, try_format(u, 'upca') AS upca,
       try_format(u, 'upce') AS upce, try_format(u, 'gtin8') AS gtin8
FROM (VALUES ('96385074'::upc), ('042100005264'), ('036000291452'), ('4006381333931'),
	('10012345678902')) v(u);
SELECT upc_format('4006381333931', 'upca');
SELECT upc_format('036000291452', 'upce');
SELECT upc_format('036000291452', 'gtin8');
SELECT upc_format('10012345678902', 'ean13');
SELECT upc_format('036000291452', 'isbn');
-- upce round trip: formatting then parsing gives the same code.
SELECT upc_parse(upc_format('042100005264', 'upce'), 'upce') = '042100005264' AS upce_round_trip;

-- upc_class: one line per prefix rule.
SELECT c, upc_class(c::upc) AS class
FROM (VALUES ('036000291452'), ('4006381333931'), ('96385074'),
	('212345928752'),            -- UPC-A number system 2 (EAN-13 02)
	('412345678903'),            -- UPC-A number system 4 (04)
	('512345678900'),            -- UPC-A number system 5: coupon (05)
	('2012345928756'),           -- 20-29: restricted
	('2912345000004'),
	('9771234567003'),           -- ISSN
	('9780306406157'),           -- ISBN 978
	('9791234567896'),           -- ISBN 979
	('9790230671187'),           -- ISMN 979-0
	('9801234567892'),           -- refund receipt
	('9811234567891'), ('9841234567898'),   -- common currency coupons
	('9851234567897'),           -- 985: not special
	('9912345678909'),           -- coupon 99
	('01234565'), ('21234569'),  -- GTIN-8 prefixes 0 and 2: restricted
	('50123452'),                -- GTIN-8 other
	('96012345678902'),          -- GTIN-14 indicator 9: variable measure
	('19780306406154'),          -- GTIN-14 case of books: class of the contents
	('10012345678902')) v(c);
-- The class table can be changed without recompiling: a user row wins.
INSERT INTO upc_prefix (form, prefix, class) VALUES ('gtin13', '50', 'restricted');
SELECT upc_class('5012345678900') AS with_user_row;
INSERT INTO upc_prefix (form, prefix, class) VALUES ('gtin13', '978', 'gtin');
SELECT upc_class('9780306406157') AS overridden_isbn, upc_class('9790230671187') AS ismn_still;
DELETE FROM upc_prefix WHERE NOT builtin;
SELECT upc_class('5012345678900') AS after_delete, upc_class('9780306406157') AS isbn_again;
-- Shipped rows are read-only.
DELETE FROM upc_prefix WHERE prefix = '978';
UPDATE upc_prefix SET class = 'gtin' WHERE prefix = '977';
INSERT INTO upc_prefix (form, prefix, class, builtin) VALUES ('gtin13', '50', 'coupon', true);
INSERT INTO upc_prefix (form, prefix, class) VALUES ('gtin13', '50', 'groceries');
INSERT INTO upc_prefix (form, prefix, class) VALUES ('ean13', '50', 'gtin');
INSERT INTO upc_prefix (form, prefix, class) VALUES ('gtin13', '5x', 'gtin');
-- pg_dump keeps the user rows only (shipped rows come back with CREATE EXTENSION).
SELECT c.relname, x.cond
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(oid, cond)
JOIN pg_class c ON c.oid = x.oid WHERE e.extname = 'icos' AND c.relname LIKE 'upc%' ORDER BY 1;

-- upc_variable_price: UPC-A 2 IIIII V PPPP C and EAN-13 2N layouts.
SELECT c, upc_variable_price(c::upc) AS price
FROM (VALUES ('212345928752'),      -- UPC-A: item 12345, verifier 9, £28.75 (GS1 example price 2875)
	('2012345928756'),              -- EAN-13 20: GS1 UK layout, £28.75
	('2112346146859'),              -- EAN-13 21: 5-digit price 14685 with verifier 6 -> £146.85
	('2112341001009'),              -- EAN-13 21: price 00100 with verifier 1 -> £1.00
	('212345000007')) v(c);         -- UPC-A, price 0000 with verifier 0 -> £0.00
SELECT upc_variable_price('212345828755');       -- price verifier 8, should be 9
SELECT upc_variable_price('2112345146850');      -- 5-digit verifier 5, should be 6
SELECT upc_variable_price('036000291452');       -- an ordinary product
SELECT upc_variable_price('10012345678902');     -- a GTIN-14
SELECT upc_variable_price('96385074');           -- a GTIN-8
SELECT upc_variable_price(NULL) IS NULL AS null_in_null_out;
SELECT pg_typeof(upc_variable_price('212345928752')) AS type, scale(upc_variable_price('212345928752'));
-- A user layout overrides a shipped one; an invalid layout is refused with the reason.
INSERT INTO upc_price_layout (prefix, layout) VALUES ('21', 'PPIIIII$$$$$C');
SELECT upc_variable_price('2112345146850') AS price_without_verifier;
INSERT INTO upc_price_layout (prefix, layout) VALUES ('23', 'PPIIIIIXXXXXC');
SELECT upc_variable_price('2312345146854');      -- layout without price digits
INSERT INTO upc_price_layout (prefix, layout) VALUES ('24', 'PPIIIIV$$$$C');
INSERT INTO upc_price_layout (prefix, layout) VALUES ('24', 'PPIIIIIV$$$C$');
INSERT INTO upc_price_layout (prefix, layout) VALUES ('24', 'PPIIIIIV$$$$Q');
INSERT INTO upc_price_layout (prefix, layout) VALUES ('24', 'PPIIIIIIV$$$C');
INSERT INTO upc_price_layout (prefix, layout) VALUES ('2x', 'PPIIIIIV$$$$C');
DELETE FROM upc_price_layout WHERE prefix = '02';
SELECT upc_price_from_layout('2112345146850', 'PPIIIII$$$$$C') AS explicit_layout;
SELECT upc_price_from_layout('2112345146850', 'nonsense');
SELECT upc_check_layout('PPIIIIV$$$$$C') AS valid_layout;
SELECT prefix, layout FROM upc_price_layout WHERE builtin ORDER BY prefix;
