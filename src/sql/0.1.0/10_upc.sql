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

CREATE OPERATOR icos.= (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_eq,
	COMMUTATOR = OPERATOR(icos.=), NEGATOR = OPERATOR(icos.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR icos.<> (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_ne,
	COMMUTATOR = OPERATOR(icos.<>), NEGATOR = OPERATOR(icos.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR icos.< (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_lt,
	COMMUTATOR = OPERATOR(icos.>), NEGATOR = OPERATOR(icos.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR icos.<= (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_le,
	COMMUTATOR = OPERATOR(icos.>=), NEGATOR = OPERATOR(icos.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR icos.> (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_gt,
	COMMUTATOR = OPERATOR(icos.<), NEGATOR = OPERATOR(icos.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR icos.>= (
	LEFTARG = icos.upc, RIGHTARG = icos.upc, FUNCTION = icos.upc_ge,
	COMMUTATOR = OPERATOR(icos.<=), NEGATOR = OPERATOR(icos.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);

COMMENT ON OPERATOR icos.= (icos.upc, icos.upc) IS 'same GTIN, whatever the spelling';
COMMENT ON OPERATOR icos.<> (icos.upc, icos.upc) IS 'different GTINs';
COMMENT ON OPERATOR icos.< (icos.upc, icos.upc) IS 'less than, in GTIN-14 numeric order';
COMMENT ON OPERATOR icos.<= (icos.upc, icos.upc) IS 'less than or equal, in GTIN-14 numeric order';
COMMENT ON OPERATOR icos.> (icos.upc, icos.upc) IS 'greater than, in GTIN-14 numeric order';
COMMENT ON OPERATOR icos.>= (icos.upc, icos.upc) IS 'greater than or equal, in GTIN-14 numeric order';

CREATE OPERATOR CLASS icos.upc_ops
	DEFAULT FOR TYPE icos.upc USING btree AS
		OPERATOR 1 icos.< ,
		OPERATOR 2 icos.<= ,
		OPERATOR 3 icos.= ,
		OPERATOR 4 icos.>= ,
		OPERATOR 5 icos.> ,
		FUNCTION 1 icos.upc_cmp(icos.upc, icos.upc),
		FUNCTION 2 icos.upc_sortsupport(internal),
		FUNCTION 4 pg_catalog.btequalimage(oid);

CREATE OPERATOR CLASS icos.upc_hash_ops
	DEFAULT FOR TYPE icos.upc USING hash AS
		OPERATOR 1 icos.= ,
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
