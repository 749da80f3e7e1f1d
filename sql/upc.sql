-- icos.upc: input, output, equality, ordering, indexes, binary I/O, casts.
-- Test tables go to public; the type and its operators are found in icos.
SET search_path = public, icos;

-- Valid codes of every length, one per line: input, canonical output, GTIN-14.
SELECT c AS input, c::upc AS canonical, upc_format(c::upc, 'gtin14') AS gtin14
FROM (VALUES
	('96385074'),                -- GTIN-8
	('036000291452'),            -- UPC-A
	('4006381333931'),           -- EAN-13
	('9780306406157'),           -- EAN-13 (ISBN)
	('10012345678902'),          -- GTIN-14, indicator 1
	('0036000291452'),           -- UPC-A written as EAN-13
	('00036000291452'),          -- UPC-A written as GTIN-14
	('00000096385074'),          -- GTIN-8 written as GTIN-14
	('000096385074'),            -- GTIN-8 written as 12 digits
	('00000000'),                -- all zeros has check digit 0
	('99999999999997'),          -- largest GTIN-14
	(' 036000291452 '),          -- surrounding spaces
	(E'\t036000291452\n'),       -- surrounding tab and newline
	('0-36000-29145-2'),         -- hyphens between digits
	('0 36000 29145 2'),         -- spaces between digits
	('400 6381-333 931'),        -- mixed
	('0--36000  291452')         -- runs of separators
) v(c);

-- Validity without errors, one line per case.
SELECT c AS input, upc_is_valid(c) AS valid
FROM (VALUES ('036000291452'), ('036000291453'), ('03600029145'), (''), ('   '),
	('abc'), ('-036000291452'), ('036000291452-'), ('0360002914é2'),
	('036000 - 291452'), ('036000_291452'), ('+036000291452'), ('0x36000291452'),
	('123456789012345'), ('9638507'), ('963850740')) v(c);
SELECT upc_is_valid(repeat('1', 100000)) AS hundred_thousand_digits,
       upc_is_valid(repeat('é', 100000)) AS hundred_thousand_letters;
SELECT upc_is_valid(NULL) AS null_is_null;

-- Output then input is the same value.
SELECT c, c::upc::text::upc = c::upc AS round_trip
FROM (VALUES ('96385074'), ('036000291452'), ('4006381333931'), ('10012345678902'), ('00000000')) v(c);

-- Equality across spellings.
SELECT '036000291452'::upc = '0036000291452'::upc AS upca_eq_ean13,
       '0036000291452'::upc = '00036000291452'::upc AS ean13_eq_gtin14,
       '036000291452'::upc = '0 3600-0291452'::upc AS with_separators,
       '96385074'::upc = '00000096385074'::upc AS gtin8_eq_gtin14,
       '036000291452'::upc <> '4006381333931'::upc AS different;
-- The operators live in pg_catalog: they work from any search_path.
SET search_path = pg_catalog;
SELECT '036000291452'::icos.upc = '00036000291452'::icos.upc AS pinned_path,
       '036000291452'::icos.upc < '4006381333931'::icos.upc AS pinned_path_lt;
RESET search_path;
SET search_path = public, icos;

-- Ordering is by GTIN-14 number.
SELECT u FROM (VALUES ('4006381333931'::upc), ('96385074'), ('10012345678902'),
	('036000291452'), ('00000000'), ('9780306406157')) v(u) ORDER BY u;
SELECT '96385074'::upc < '036000291452'::upc AS lt, '036000291452'::upc <= '0036000291452'::upc AS le,
       '4006381333931'::upc > '036000291452'::upc AS gt, '036000291452'::upc >= '4006381333931'::upc AS ge,
       upc_cmp('4006381333931', '036000291452') AS cmp;
SELECT min(u), max(u), count(DISTINCT u) FROM (VALUES ('036000291452'::upc), ('0036000291452'), ('96385074')) v(u);

-- Invalid input: every kind of mistake, with its message.
SELECT '036000291453'::upc;
SELECT '4006381333932'::upc;
SELECT '96385075'::upc;
SELECT '10012345678903'::upc;
SELECT '03600029145'::upc;
SELECT '123456789012345'::upc;
SELECT ''::upc;
SELECT '  '::upc;
SELECT 'abc'::upc;
SELECT '0360002914é2'::upc;
SELECT '-036000291452'::upc;
SELECT '036000291452-'::upc;
SELECT '036000 -'::upc;
SELECT '036000_291452'::upc;
SELECT repeat('1', 100000)::upc;
SELECT (repeat('é', 30) || '1')::upc;

-- Indexes: btree (primary key), then hash; each is used for equality.
CREATE TABLE upc_t (u upc PRIMARY KEY, name text);
INSERT INTO upc_t VALUES ('036000291452', 'tissues'), ('4006381333931', 'pen'),
	('96385074', 'sweets'), ('10012345678902', 'case of 12');
-- Another spelling of a stored code is a duplicate key.
INSERT INTO upc_t VALUES ('00036000291452', 'duplicate spelling');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT name FROM upc_t WHERE u = '0036000291452';
SELECT name FROM upc_t WHERE u = '0036000291452';
EXPLAIN (COSTS OFF) SELECT u, name FROM upc_t WHERE u > '036000291452' ORDER BY u;
SELECT u, name FROM upc_t WHERE u > '036000291452' ORDER BY u;
CREATE INDEX upc_t_hash ON upc_t USING hash (u);
ALTER TABLE upc_t DROP CONSTRAINT upc_t_pkey;
EXPLAIN (COSTS OFF) SELECT name FROM upc_t WHERE u = '0036000291452';
SELECT name FROM upc_t WHERE u = '0 036000 291452';
RESET enable_seqscan;
RESET enable_bitmapscan;
-- Hash agrees with equality: hash aggregation groups spellings together.
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT u, count(*) FROM (VALUES ('036000291452'::upc), ('0036000291452')) v(u) GROUP BY u;
SELECT u, count(*) FROM (VALUES ('036000291452'::upc), ('0036000291452'), ('00036000291452'), ('96385074')) v(u)
GROUP BY u ORDER BY u;
RESET enable_sort;
SELECT upc_hash('036000291452') = upc_hash('00036000291452') AS same_hash,
       upc_hash_extended('036000291452', 7) = upc_hash_extended('0036000291452', 7) AS same_extended_hash;

-- Binary COPY round trip through a server-side file.
-- The file lives in the cluster's data directory: private to this server and
-- always writable by it, whichever user runs the cluster.
SELECT current_setting('data_directory') || '/icos_upc_regress.bin' AS copyfile \gset
COPY (SELECT u, name FROM upc_t ORDER BY u) TO :'copyfile' (FORMAT binary);
CREATE TABLE upc_copy (u upc, name text);
COPY upc_copy FROM :'copyfile' (FORMAT binary);
SELECT c.u, c.name, c.u = t.u AS same FROM upc_copy c JOIN upc_t t USING (name) ORDER BY c.u;
-- Binary input validates: a bigint with a wrong check digit is refused.
COPY (SELECT 36000291453::bigint, 'bad'::text) TO :'copyfile' (FORMAT binary);
COPY upc_copy FROM :'copyfile' (FORMAT binary);
COPY (SELECT (-1)::bigint, 'negative'::text) TO :'copyfile' (FORMAT binary);
COPY upc_copy FROM :'copyfile' (FORMAT binary);
SELECT upc_send('036000291452') AS wire;

-- Casts.
SELECT '036000291452'::upc::bigint AS upca, '10012345678902'::upc::bigint AS gtin14,
       '96385074'::upc::bigint AS gtin8;
SELECT 36000291452::bigint::upc AS from_bigint, 10012345678902::upc AS gtin14, 0::bigint::upc AS zero;
SELECT 36000291453::bigint::upc;
SELECT (-5)::bigint::upc;
SELECT 123456789012345::bigint::upc;
SELECT '036000291452'::text::upc AS from_text, '0036000291452'::upc::text AS to_text;
SELECT 'x'::text::upc;
CREATE TABLE upc_assign (t text);
INSERT INTO upc_assign SELECT '0036000291452'::upc;   -- assignment cast to text
SELECT t FROM upc_assign;

-- Catalogue facts: 8 bytes, by value, every object documented.
SELECT typlen, typbyval, typalign FROM pg_type WHERE oid = 'icos.upc'::regtype;
SELECT o.oprname, o.oprcanhash AS hashes, o.oprcanmerge AS merges,
       o.oprcom::regoper AS commutator, o.oprnegate::regoper AS negator,
       o.oprrest AS restrict, o.oprjoin AS join
FROM pg_operator o WHERE o.oprleft = 'icos.upc'::regtype ORDER BY o.oprname;
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p WHERE p.pronamespace = 'icos'::regnamespace AND p.proname LIKE 'upc%'
ORDER BY p.proname;
SELECT count(*) AS undocumented_upc_objects FROM (
	SELECT p.oid, 'pg_proc'::name AS cls FROM pg_proc p
	WHERE p.pronamespace = 'icos'::regnamespace AND p.proname LIKE 'upc%'
	UNION ALL SELECT o.oid, 'pg_operator'::name FROM pg_operator o WHERE o.oprleft = 'icos.upc'::regtype
	UNION ALL SELECT c.oid, 'pg_cast'::name FROM pg_cast c
	WHERE c.castsource = 'icos.upc'::regtype OR c.casttarget = 'icos.upc'::regtype
	UNION ALL SELECT c.oid, 'pg_class'::name FROM pg_class c
	WHERE c.relnamespace = 'icos'::regnamespace AND c.relname LIKE 'upc%' AND c.relkind = 'r'
) o WHERE obj_description(o.oid, o.cls) IS NULL;
