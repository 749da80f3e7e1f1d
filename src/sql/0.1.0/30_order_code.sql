
-- ---------------------------------------------------------------------------
-- icos.order_code: the customer's order code, XXXX-XXXX-XXXX.
--
-- 12 bits of node id and 43 bits of a node-local sequence, permuted by a
-- keyed Feistel network into 55 bits, written as 11 Crockford Base32
-- characters and a Damm check character.  Stored as the permuted value in
-- an int8 (pass by value), so comparison, hashing and sorting are int8's.
-- See docs/order_code.md.
-- ---------------------------------------------------------------------------

CREATE TYPE icos.order_code;

CREATE FUNCTION icos.order_code_in(cstring) RETURNS icos.order_code
	LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'order_code_in';
CREATE FUNCTION icos.order_code_out(icos.order_code) RETURNS cstring
	LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'order_code_out';
CREATE FUNCTION icos.order_code_recv(internal) RETURNS icos.order_code
	LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'order_code_recv';
CREATE FUNCTION icos.order_code_send(icos.order_code) RETURNS bytea
	LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'order_code_send';

CREATE TYPE icos.order_code (
	INPUT = icos.order_code_in,
	OUTPUT = icos.order_code_out,
	RECEIVE = icos.order_code_recv,
	SEND = icos.order_code_send,
	INTERNALLENGTH = 8,
	PASSEDBYVALUE,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE icos.order_code IS
	'icos: customer order code XXXX-XXXX-XXXX (11 Crockford Base32 characters and a Damm check character; input ignores case, hyphens and spaces, reads I/L as 1 and O as 0)';
COMMENT ON FUNCTION icos.order_code_in(cstring) IS
	'icos: text input of icos.order_code (22P02 on a malformed or mistyped code)';
COMMENT ON FUNCTION icos.order_code_out(icos.order_code) IS
	'icos: text output of icos.order_code (XXXX-XXXX-XXXX)';
COMMENT ON FUNCTION icos.order_code_recv(internal) IS
	'icos: binary input of icos.order_code (an int8 below 2^55)';
COMMENT ON FUNCTION icos.order_code_send(icos.order_code) IS
	'icos: binary output of icos.order_code (an int8)';

-- Comparison: the stored int8 values, through the built-in int8 functions.
CREATE FUNCTION icos.order_code_eq(icos.order_code, icos.order_code) RETURNS boolean
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8eq';
CREATE FUNCTION icos.order_code_ne(icos.order_code, icos.order_code) RETURNS boolean
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ne';
CREATE FUNCTION icos.order_code_lt(icos.order_code, icos.order_code) RETURNS boolean
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8lt';
CREATE FUNCTION icos.order_code_le(icos.order_code, icos.order_code) RETURNS boolean
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8le';
CREATE FUNCTION icos.order_code_gt(icos.order_code, icos.order_code) RETURNS boolean
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8gt';
CREATE FUNCTION icos.order_code_ge(icos.order_code, icos.order_code) RETURNS boolean
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'int8ge';
CREATE FUNCTION icos.order_code_cmp(icos.order_code, icos.order_code) RETURNS integer
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'btint8cmp';
CREATE FUNCTION icos.order_code_sortsupport(internal) RETURNS void
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'btint8sortsupport';
CREATE FUNCTION icos.order_code_hash(icos.order_code) RETURNS integer
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8';
CREATE FUNCTION icos.order_code_hash_extended(icos.order_code, bigint) RETURNS bigint
	LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS 'hashint8extended';
COMMENT ON FUNCTION icos.order_code_eq(icos.order_code, icos.order_code) IS 'icos: order codes equal';
COMMENT ON FUNCTION icos.order_code_ne(icos.order_code, icos.order_code) IS 'icos: order codes differ';
COMMENT ON FUNCTION icos.order_code_lt(icos.order_code, icos.order_code) IS 'icos: order code sorts before';
COMMENT ON FUNCTION icos.order_code_le(icos.order_code, icos.order_code) IS 'icos: order code sorts before or equal';
COMMENT ON FUNCTION icos.order_code_gt(icos.order_code, icos.order_code) IS 'icos: order code sorts after';
COMMENT ON FUNCTION icos.order_code_ge(icos.order_code, icos.order_code) IS 'icos: order code sorts after or equal';
COMMENT ON FUNCTION icos.order_code_cmp(icos.order_code, icos.order_code) IS 'icos: btree comparison of order codes';
COMMENT ON FUNCTION icos.order_code_sortsupport(internal) IS 'icos: btree sort support of order codes';
COMMENT ON FUNCTION icos.order_code_hash(icos.order_code) IS 'icos: hash of an order code';
COMMENT ON FUNCTION icos.order_code_hash_extended(icos.order_code, bigint) IS 'icos: seeded 64-bit hash of an order code';

-- As for icos.upc, the comparison operators live in pg_catalog so that they
-- work from any search_path (see 10_upc.sql).
CREATE OPERATOR pg_catalog.= (
	LEFTARG = icos.order_code, RIGHTARG = icos.order_code,
	FUNCTION = icos.order_code_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = icos.order_code, RIGHTARG = icos.order_code,
	FUNCTION = icos.order_code_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = icos.order_code, RIGHTARG = icos.order_code,
	FUNCTION = icos.order_code_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = icos.order_code, RIGHTARG = icos.order_code,
	FUNCTION = icos.order_code_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = icos.order_code, RIGHTARG = icos.order_code,
	FUNCTION = icos.order_code_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = icos.order_code, RIGHTARG = icos.order_code,
	FUNCTION = icos.order_code_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);
COMMENT ON OPERATOR pg_catalog.= (icos.order_code, icos.order_code) IS 'icos: order codes equal';
COMMENT ON OPERATOR pg_catalog.<> (icos.order_code, icos.order_code) IS 'icos: order codes differ';
COMMENT ON OPERATOR pg_catalog.< (icos.order_code, icos.order_code) IS 'icos: order code sorts before';
COMMENT ON OPERATOR pg_catalog.<= (icos.order_code, icos.order_code) IS 'icos: order code sorts before or equal';
COMMENT ON OPERATOR pg_catalog.> (icos.order_code, icos.order_code) IS 'icos: order code sorts after';
COMMENT ON OPERATOR pg_catalog.>= (icos.order_code, icos.order_code) IS 'icos: order code sorts after or equal';

CREATE OPERATOR CLASS icos.order_code_ops
	DEFAULT FOR TYPE icos.order_code USING btree AS
		OPERATOR 1 pg_catalog.<,
		OPERATOR 2 pg_catalog.<=,
		OPERATOR 3 pg_catalog.=,
		OPERATOR 4 pg_catalog.>=,
		OPERATOR 5 pg_catalog.>,
		FUNCTION 1 icos.order_code_cmp(icos.order_code, icos.order_code),
		FUNCTION 2 icos.order_code_sortsupport(internal);
COMMENT ON OPERATOR CLASS icos.order_code_ops USING btree IS
	'icos: btree operator class of icos.order_code (order of the stored values, not of issue)';
COMMENT ON OPERATOR FAMILY icos.order_code_ops USING btree IS
	'icos: btree operator family of icos.order_code';

CREATE OPERATOR CLASS icos.order_code_ops
	DEFAULT FOR TYPE icos.order_code USING hash AS
		OPERATOR 1 pg_catalog.=,
		FUNCTION 1 icos.order_code_hash(icos.order_code),
		FUNCTION 2 icos.order_code_hash_extended(icos.order_code, bigint);
COMMENT ON OPERATOR CLASS icos.order_code_ops USING hash IS
	'icos: hash operator class of icos.order_code';
COMMENT ON OPERATOR FAMILY icos.order_code_ops USING hash IS
	'icos: hash operator family of icos.order_code';

-- Text casts (input validates; output is the canonical XXXX-XXXX-XXXX).
CREATE CAST (icos.order_code AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (text AS icos.order_code) WITH INOUT;
COMMENT ON CAST (icos.order_code AS text) IS 'icos: order code as XXXX-XXXX-XXXX';
COMMENT ON CAST (text AS icos.order_code) IS 'icos: parse and check an order code (22P02 when malformed or mistyped)';

CREATE FUNCTION icos.order_code_is_valid(code text) RETURNS boolean
	LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'order_code_is_valid';
COMMENT ON FUNCTION icos.order_code_is_valid(text) IS
	'icos: whether text is a well-formed order code with a matching check character (never raises)';

-- ---------------------------------------------------------------------------
-- The key: 128 random bits per deployment, readable by superusers only.
-- pg_dump keeps it (config dump): a restore with a new key would make every
-- future code a different permutation and old codes undecodable.
-- ---------------------------------------------------------------------------
CREATE FUNCTION icos._new_order_code_key() RETURNS bytea
	LANGUAGE c VOLATILE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'order_code_new_key';
COMMENT ON FUNCTION icos._new_order_code_key() IS
	'icos (internal): 16 bytes from the server''s strong random source, for a new order code key';
REVOKE ALL ON FUNCTION icos._new_order_code_key() FROM PUBLIC;

CREATE TABLE icos.order_code_key (
	key bytea NOT NULL
		CONSTRAINT order_code_key_length CHECK (octet_length(key) = 16),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX order_code_key_single_row ON icos.order_code_key ((true));
COMMENT ON TABLE icos.order_code_key IS
	'icos: the deployment''s secret order code key (exactly one row; superusers only; the same on every node; kept by pg_dump)';
COMMENT ON COLUMN icos.order_code_key.key IS '128-bit key of the order code permutation (SipHash-2-4 round function)';
COMMENT ON COLUMN icos.order_code_key.created_at IS 'when the key was made';
COMMENT ON INDEX icos.order_code_key_single_row IS 'icos: keeps icos.order_code_key to one row';
COMMENT ON CONSTRAINT order_code_key_length ON icos.order_code_key IS 'icos: the key has 128 bits';
REVOKE ALL ON icos.order_code_key FROM PUBLIC;

INSERT INTO icos.order_code_key (key) VALUES (icos._new_order_code_key());

CREATE TRIGGER order_code_key_replace_row BEFORE INSERT ON icos.order_code_key
	FOR EACH ROW EXECUTE FUNCTION icos._config_replace_row();
COMMENT ON TRIGGER order_code_key_replace_row ON icos.order_code_key IS
	'icos: an inserted key replaces the existing one (restores from pg_dump)';
CREATE TRIGGER order_code_key_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON icos.order_code_key
	FOR EACH STATEMENT EXECUTE FUNCTION icos._config_changed();
COMMENT ON TRIGGER order_code_key_changed ON icos.order_code_key IS
	'icos: a changed key takes effect at once in every backend';

SELECT pg_catalog.pg_extension_config_dump('icos.order_code_key', '');

-- The node-local sequence: 43 bits.  Dumped too, or a restored database
-- would issue its old codes again.
CREATE SEQUENCE icos.order_code_seq AS bigint
	MINVALUE 1 MAXVALUE 8796093022207 NO CYCLE;
COMMENT ON SEQUENCE icos.order_code_seq IS
	'icos: node-local sequence numbers of order codes (1 .. 2^43-1); never reset it';
REVOKE ALL ON SEQUENCE icos.order_code_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('icos.order_code_seq', '');

CREATE FUNCTION icos.set_order_code_key(key bytea) RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = current_user AND rolsuper) THEN
		RAISE EXCEPTION USING
			ERRCODE = '42501',
			MESSAGE = 'permission denied to set the order code key',
			DETAIL = 'Only superusers may set the order code key.';
	END IF;
	IF key IS NULL OR pg_catalog.octet_length(key) <> 16 THEN
		RAISE EXCEPTION USING
			ERRCODE = '22023',
			MESSAGE = 'an order code key has 16 bytes',
			HINT = 'Copy the key of the head office: SELECT key FROM icos.order_code_key.';
	END IF;
	IF (SELECT is_called FROM icos.order_code_seq) THEN
		RAISE EXCEPTION USING
			ERRCODE = '55000',
			MESSAGE = 'this database has already issued order codes with its key',
			DETAIL = 'Changing the key now could make a new code equal an old one and the old codes undecodable.',
			HINT = 'Set the key on a new node before it takes any order.';
	END IF;
	UPDATE icos.order_code_key SET key = set_order_code_key.key, created_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION icos.set_order_code_key(bytea) IS
	'icos: give a new node the deployment''s order code key (copied from head office) before it issues any code; superusers only';

CREATE FUNCTION icos.next_order_code() RETURNS icos.order_code
	LANGUAGE c VOLATILE PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'next_order_code';
COMMENT ON FUNCTION icos.next_order_code() IS
	'icos: a new order code, unique across the deployment without coordination (node id + node-local sequence, permuted by the secret key)';

CREATE FUNCTION icos.order_code_node(code icos.order_code) RETURNS integer
	LANGUAGE c STABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'order_code_node';
COMMENT ON FUNCTION icos.order_code_node(icos.order_code) IS
	'icos: the node id that issued an order code (decoded with the key; superusers and icos_admin only)';
