-- icos 0.1.0: the icos.upc type (GS1 GTIN-8, UPC-A, EAN-13, GTIN-14, UPC-E).
-- Reference: docs/upc.md.  C code: src/upc.c over src/core/gtin.c.

------------------------------------------------------------------ the type

CREATE TYPE icos.upc;

CREATE FUNCTION icos.upc_in(cstring) RETURNS icos.upc
	AS 'MODULE_PATHNAME', 'upc_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_out(icos.upc) RETURNS cstring
	AS 'MODULE_PATHNAME', 'upc_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_recv(internal) RETURNS icos.upc
	AS 'MODULE_PATHNAME', 'upc_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_send(icos.upc) RETURNS bytea
	AS 'MODULE_PATHNAME', 'upc_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE icos.upc (
	INPUT = icos.upc_in,
	OUTPUT = icos.upc_out,
	RECEIVE = icos.upc_recv,
	SEND = icos.upc_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain,
	CATEGORY = 'U'
);

COMMENT ON TYPE icos.upc IS
	'GS1 trade item number (GTIN-8, UPC-A, EAN-13, GTIN-14; UPC-E through icos.upc_parse), stored as the normalised GTIN-14';
COMMENT ON FUNCTION icos.upc_in(cstring) IS
	'text input of icos.upc: 8, 12, 13 or 14 digits with a valid check digit';
COMMENT ON FUNCTION icos.upc_out(icos.upc) IS
	'text output of icos.upc: the GTIN-14 with leading zeros dropped to its natural length';
COMMENT ON FUNCTION icos.upc_recv(internal) IS
	'binary input of icos.upc: the GTIN-14 as an 8-byte integer, validated';
COMMENT ON FUNCTION icos.upc_send(icos.upc) IS
	'binary output of icos.upc: the GTIN-14 as an 8-byte integer';

------------------------------------------------------------- comparison

CREATE FUNCTION icos.upc_eq(icos.upc, icos.upc) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_eq' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_ne(icos.upc, icos.upc) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_ne' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_lt(icos.upc, icos.upc) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_lt' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_le(icos.upc, icos.upc) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_le' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_gt(icos.upc, icos.upc) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_gt' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_ge(icos.upc, icos.upc) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_ge' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_cmp(icos.upc, icos.upc) RETURNS integer
	AS 'MODULE_PATHNAME', 'upc_cmp' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_sortsupport(internal) RETURNS void
	AS 'MODULE_PATHNAME', 'upc_sortsupport' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_hash(icos.upc) RETURNS integer
	AS 'MODULE_PATHNAME', 'upc_hash' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION icos.upc_hash_extended(icos.upc, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME', 'upc_hash_extended' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

COMMENT ON FUNCTION icos.upc_eq(icos.upc, icos.upc) IS 'implementation of = for icos.upc';
COMMENT ON FUNCTION icos.upc_ne(icos.upc, icos.upc) IS 'implementation of <> for icos.upc';
COMMENT ON FUNCTION icos.upc_lt(icos.upc, icos.upc) IS 'implementation of < for icos.upc';
COMMENT ON FUNCTION icos.upc_le(icos.upc, icos.upc) IS 'implementation of <= for icos.upc';
COMMENT ON FUNCTION icos.upc_gt(icos.upc, icos.upc) IS 'implementation of > for icos.upc';
COMMENT ON FUNCTION icos.upc_ge(icos.upc, icos.upc) IS 'implementation of >= for icos.upc';
COMMENT ON FUNCTION icos.upc_cmp(icos.upc, icos.upc) IS 'btree comparison of icos.upc (GTIN-14 numeric order)';
COMMENT ON FUNCTION icos.upc_sortsupport(internal) IS 'btree sort support of icos.upc';
COMMENT ON FUNCTION icos.upc_hash(icos.upc) IS 'hash of icos.upc, consistent with =';
COMMENT ON FUNCTION icos.upc_hash_extended(icos.upc, bigint) IS 'seeded 64-bit hash of icos.upc, consistent with =';

-- The comparison operators live in pg_catalog, like those of a built-in type,
-- so that `a = b` on two codes works whatever the search_path: in a user's
-- session and inside SECURITY DEFINER functions whose search_path is pinned
-- to pg_catalog, pg_temp.  Only superusers can create objects there, so
-- nothing can shadow them; there is no built-in operator on icos.upc to clash with.
CREATE OPERATOR pg_catalog.= (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

COMMENT ON OPERATOR pg_catalog.= (icos.upc, icos.upc) IS 'same GTIN, whatever the spelling';
COMMENT ON OPERATOR pg_catalog.<> (icos.upc, icos.upc) IS 'different GTINs';
COMMENT ON OPERATOR pg_catalog.< (icos.upc, icos.upc) IS 'less than, in GTIN-14 numeric order';
COMMENT ON OPERATOR pg_catalog.<= (icos.upc, icos.upc) IS 'less than or equal, in GTIN-14 numeric order';
COMMENT ON OPERATOR pg_catalog.> (icos.upc, icos.upc) IS 'greater than, in GTIN-14 numeric order';
COMMENT ON OPERATOR pg_catalog.>= (icos.upc, icos.upc) IS 'greater than or equal, in GTIN-14 numeric order';

CREATE OPERATOR CLASS icos.upc_ops
	DEFAULT FOR TYPE icos.upc USING btree AS
		OPERATOR 1 pg_catalog.< ,
		OPERATOR 2 pg_catalog.<= ,
		OPERATOR 3 pg_catalog.= ,
		OPERATOR 4 pg_catalog.>= ,
		OPERATOR 5 pg_catalog.> ,
		FUNCTION 1 icos.upc_cmp(icos.upc, icos.upc),
		FUNCTION 2 icos.upc_sortsupport(internal),
		FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS icos.upc_hash_ops
	DEFAULT FOR TYPE icos.upc USING hash AS
		OPERATOR 1 pg_catalog.= ,
		FUNCTION 1 icos.upc_hash(icos.upc),
		FUNCTION 2 icos.upc_hash_extended(icos.upc, bigint);

COMMENT ON OPERATOR CLASS icos.upc_ops USING btree IS
	'btree operator class of icos.upc (GTIN-14 numeric order; deduplication safe)';
COMMENT ON OPERATOR CLASS icos.upc_hash_ops USING hash IS
	'hash operator class of icos.upc';
COMMENT ON OPERATOR FAMILY icos.upc_ops USING btree IS
	'btree operator family of icos.upc';
COMMENT ON OPERATOR FAMILY icos.upc_hash_ops USING hash IS
	'hash operator family of icos.upc';

CREATE FUNCTION icos.upc_smaller(icos.upc, icos.upc) RETURNS icos.upc
	AS 'MODULE_PATHNAME', 'upc_smaller' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_larger(icos.upc, icos.upc) RETURNS icos.upc
	AS 'MODULE_PATHNAME', 'upc_larger' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos.upc_smaller(icos.upc, icos.upc) IS 'the smaller of two codes (transition function of icos.min)';
COMMENT ON FUNCTION icos.upc_larger(icos.upc, icos.upc) IS 'the larger of two codes (transition function of icos.max)';

CREATE AGGREGATE icos.min(icos.upc) (
	SFUNC = icos.upc_smaller, STYPE = icos.upc, COMBINEFUNC = icos.upc_smaller,
	SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE
);
CREATE AGGREGATE icos.max(icos.upc) (
	SFUNC = icos.upc_larger, STYPE = icos.upc, COMBINEFUNC = icos.upc_larger,
	SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE
);
COMMENT ON AGGREGATE icos.min(icos.upc) IS 'smallest code, in GTIN-14 numeric order';
COMMENT ON AGGREGATE icos.max(icos.upc) IS 'largest code, in GTIN-14 numeric order';

------------------------------------------------------------------ casts

CREATE FUNCTION icos.upc(bigint) RETURNS icos.upc
	AS 'MODULE_PATHNAME', 'upc_from_bigint' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_to_bigint(icos.upc) RETURNS bigint
	AS 'MODULE_PATHNAME', 'upc_to_bigint' LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

COMMENT ON FUNCTION icos.upc(bigint) IS
	'the icos.upc whose GTIN-14, read as a number, is the argument (validated)';
COMMENT ON FUNCTION icos.upc_to_bigint(icos.upc) IS
	'the GTIN-14 of a code, check digit included, read as a number';

CREATE CAST (bigint AS icos.upc) WITH FUNCTION icos.upc(bigint);
CREATE CAST (icos.upc AS bigint) WITH FUNCTION icos.upc_to_bigint(icos.upc);
CREATE CAST (text AS icos.upc) WITH INOUT;
CREATE CAST (icos.upc AS text) WITH INOUT AS ASSIGNMENT;

COMMENT ON CAST (bigint AS icos.upc) IS
	'GTIN-14 number to icos.upc; 22P02 unless 0..99999999999999 with a valid check digit';
COMMENT ON CAST (icos.upc AS bigint) IS
	'the GTIN-14 of a code, check digit included, as a number';
COMMENT ON CAST (text AS icos.upc) IS
	'parse a product code (same rules as the type input)';
COMMENT ON CAST (icos.upc AS text) IS
	'canonical text of a product code';

------------------------------------------------ validation, parsing, formats

CREATE FUNCTION icos.upc_is_valid(code text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_is_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_parse(code text, kind text) RETURNS icos.upc
	AS 'MODULE_PATHNAME', 'upc_parse' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION icos.upc_format(code icos.upc, style text) RETURNS text
	AS 'MODULE_PATHNAME', 'upc_format' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION icos.upc_is_valid(text) IS
	'true when the text is a product code that icos.upc accepts; never raises';
COMMENT ON FUNCTION icos.upc_parse(text, text) IS
	'parse a code of one kind (gtin8, upca, upce, ean13, gtin14); upce expands a canonical zero-suppressed UPC-E of number system 0';
COMMENT ON FUNCTION icos.upc_format(icos.upc, text) IS
	'a code in the style canonical, gtin14, ean13, upca, upce or gtin8; 22023 when it has no such form';

------------------------------------------------------ classes by GS1 prefix

CREATE TABLE icos.upc_prefix (
	form text NOT NULL CHECK (form IN ('gtin8', 'gtin13', 'gtin14')),
	prefix text NOT NULL CHECK (prefix ~ '^[0-9]+$' AND length(prefix) <= 7),
	class text NOT NULL CHECK (class IN ('gtin', 'restricted', 'variable_measure',
		'coupon', 'refund_receipt', 'isbn', 'issn', 'ismn')),
	builtin boolean NOT NULL DEFAULT false,
	PRIMARY KEY (form, prefix, builtin)
);

COMMENT ON TABLE icos.upc_prefix IS
	'GS1 prefixes that give a code its class (icos.upc_class); the longest matching prefix wins, a user row before a shipped one';
COMMENT ON COLUMN icos.upc_prefix.form IS
	'gtin8 (the 8 digits), gtin13 (the 13 digits of an EAN-13 or of a UPC-A with a leading 0) or gtin14 (all 14 digits)';
COMMENT ON COLUMN icos.upc_prefix.prefix IS
	'leading digits of the code in that form';
COMMENT ON COLUMN icos.upc_prefix.class IS
	'gtin, restricted, variable_measure, coupon, refund_receipt, isbn, issn or ismn';
COMMENT ON COLUMN icos.upc_prefix.builtin IS
	'true for the rows shipped with icos (read-only; override them with a user row of the same form and prefix)';

INSERT INTO icos.upc_prefix (form, prefix, class, builtin) VALUES
	-- GS1-8 Prefixes: 0 and 2 are Restricted Circulation Numbers (RCN-8) within a company
	('gtin8', '0', 'restricted', true),
	('gtin8', '2', 'restricted', true),
	-- GS1 Prefixes (in the 13-digit form; a UPC-A is 0 followed by its 12 digits)
	('gtin13', '02', 'restricted', true),		-- RCN within a geographic region (UPC number system 2)
	('gtin13', '04', 'restricted', true),		-- RCN within a company (UPC number system 4)
	('gtin13', '05', 'coupon', true),			-- GS1 US coupons (UPC number system 5)
	('gtin13', '2', 'restricted', true),		-- 20-29: RCN within a geographic region
	('gtin13', '977', 'issn', true),			-- serial publications (ISSN)
	('gtin13', '978', 'isbn', true),			-- books (ISBN, "Bookland")
	('gtin13', '979', 'isbn', true),			-- books (ISBN) ...
	('gtin13', '9790', 'ismn', true),			-- ... except 979-0: printed music (ISMN)
	('gtin13', '980', 'refund_receipt', true),	-- refund receipts
	('gtin13', '981', 'coupon', true),			-- 981-984: coupons in common currency areas
	('gtin13', '982', 'coupon', true),
	('gtin13', '983', 'coupon', true),
	('gtin13', '984', 'coupon', true),
	('gtin13', '99', 'coupon', true),			-- coupons
	-- GTIN-14 indicator digit 9: variable measure trade item
	('gtin14', '9', 'variable_measure', true);

SELECT pg_catalog.pg_extension_config_dump('icos.upc_prefix', 'WHERE NOT builtin');

CREATE FUNCTION icos.upc_class(code icos.upc) RETURNS text
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	WITH g(d) AS (
		SELECT icos.upc_format(code, 'gtin14')
	), k(rank, form, digits) AS (
		-- a GTIN-14 proper (indicator 1-9) by its indicator first ...
		SELECT 1, 'gtin14', d FROM g WHERE pg_catalog.left(d, 1) <> '0'
		UNION ALL
		-- ... then (and for every other code) by the GTIN-8 or GTIN-13 it holds
		SELECT 2,
			CASE WHEN pg_catalog.substr(d, 2, 5) = '00000' THEN 'gtin8' ELSE 'gtin13' END,
			CASE WHEN pg_catalog.substr(d, 2, 5) = '00000' THEN pg_catalog.right(d, 8)
				ELSE pg_catalog.right(d, 13) END
		FROM g
	)
	SELECT coalesce((
		SELECT p.class
		FROM k JOIN icos.upc_prefix p
			ON p.form = k.form AND pg_catalog.starts_with(k.digits, p.prefix)
		ORDER BY k.rank, pg_catalog.length(p.prefix) DESC, p.builtin
		LIMIT 1), 'gtin')
$$;

COMMENT ON FUNCTION icos.upc_class(icos.upc) IS
	'class of a code by its GS1 prefix (table icos.upc_prefix): gtin, restricted, variable_measure, coupon, refund_receipt, isbn, issn or ismn';

------------------------------------------------- variable-measure in-store prices

CREATE FUNCTION icos.upc_check_layout(layout text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'upc_check_layout' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos.upc_check_layout(text) IS
	'true for a well-formed price layout mask; raises 22023 saying what is wrong otherwise';

CREATE TABLE icos.upc_price_layout (
	prefix text NOT NULL CHECK (prefix ~ '^[0-9]{1,12}$'),
	layout text NOT NULL CHECK (icos.upc_check_layout(layout)),
	builtin boolean NOT NULL DEFAULT false,
	PRIMARY KEY (prefix, builtin)
);

COMMENT ON TABLE icos.upc_price_layout IS
	'where the price sits in variable-measure in-store codes, by prefix of the 13-digit form (icos.upc_variable_price); the longest matching prefix wins, a user row before a shipped one';
COMMENT ON COLUMN icos.upc_price_layout.prefix IS
	'leading digits of the 13-digit form (a UPC-A is 0 followed by its 12 digits)';
COMMENT ON COLUMN icos.upc_price_layout.layout IS
	'13-character mask, one per digit: P prefix, I item, X ignored, $ price in pence, V price check digit over 4 or 5 price digits, C check digit (last)';
COMMENT ON COLUMN icos.upc_price_layout.builtin IS
	'true for the rows shipped with icos (read-only; override them with a user row of the same prefix)';

INSERT INTO icos.upc_price_layout (prefix, layout, builtin) VALUES
	-- UPC-A number system 2 (GS1 US): 2 IIIII V PPPP C
	('02', 'PPIIIIIV$$$$C', true),
	-- GS1 UK branded variable measure (20XXX RR V PPPP C, sterling)
	('20', 'PPIIIIIV$$$$C', true),
	('28', 'PPIIIIIV$$$$C', true),
	-- other in-store prefixes: 2N IIII V PPPPP C (5-digit price with verifier)
	('21', 'PPIIIIV$$$$$C', true),
	('22', 'PPIIIIV$$$$$C', true),
	('23', 'PPIIIIV$$$$$C', true),
	('24', 'PPIIIIV$$$$$C', true),
	('25', 'PPIIIIV$$$$$C', true),
	('26', 'PPIIIIV$$$$$C', true),
	('27', 'PPIIIIV$$$$$C', true),
	('29', 'PPIIIIV$$$$$C', true);

SELECT pg_catalog.pg_extension_config_dump('icos.upc_price_layout', 'WHERE NOT builtin');

CREATE FUNCTION icos.upc_price_from_layout(code icos.upc, layout text) RETURNS numeric
	AS 'MODULE_PATHNAME', 'upc_price_from_layout' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos.upc_price_from_layout(icos.upc, text) IS
	'price in pounds embedded in a code under the given layout mask; 22023 when the code carries no price or its price check digit is wrong';

CREATE FUNCTION icos.upc_variable_price(code icos.upc) RETURNS numeric
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
	SELECT icos.upc_price_from_layout(code, (
		SELECT l.layout
		FROM icos.upc_price_layout l,
			(SELECT icos.upc_format(code, 'gtin14')) AS g(d)
		WHERE pg_catalog.left(g.d, 1) = '0'
			AND pg_catalog.starts_with(pg_catalog.right(g.d, 13), l.prefix)
		ORDER BY pg_catalog.length(l.prefix) DESC, l.builtin
		LIMIT 1))
$$;

COMMENT ON FUNCTION icos.upc_variable_price(icos.upc) IS
	'price in pounds (numeric, 2 decimals) embedded in a variable-measure in-store code (table icos.upc_price_layout); 22023 when it carries none or its price check digit is wrong';

------------------------------------ shipped configuration rows are read-only

CREATE FUNCTION icos.upc_config_guard() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF (TG_OP IN ('UPDATE', 'DELETE') AND OLD.builtin)
		OR (TG_OP IN ('INSERT', 'UPDATE') AND NEW.builtin) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('the rows shipped with icos in %I.%I cannot be changed',
				TG_TABLE_SCHEMA, TG_TABLE_NAME),
			DETAIL = 'Rows with builtin = true come from the extension script and are recreated by it on restore.',
			HINT = 'Insert a row with the same key and builtin = false: it takes precedence over the shipped row and pg_dump keeps it.';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;

COMMENT ON FUNCTION icos.upc_config_guard() IS
	'trigger keeping the shipped (builtin) rows of icos.upc_prefix and icos.upc_price_layout read-only';

CREATE TRIGGER upc_prefix_guard
	BEFORE INSERT OR UPDATE OR DELETE ON icos.upc_prefix
	FOR EACH ROW EXECUTE FUNCTION icos.upc_config_guard();
CREATE TRIGGER upc_price_layout_guard
	BEFORE INSERT OR UPDATE OR DELETE ON icos.upc_price_layout
	FOR EACH ROW EXECUTE FUNCTION icos.upc_config_guard();

COMMENT ON TRIGGER upc_prefix_guard ON icos.upc_prefix IS
	'shipped rows are read-only; user rows override them';
COMMENT ON TRIGGER upc_price_layout_guard ON icos.upc_price_layout IS
	'shipped rows are read-only; user rows override them';
