-- icos.order_code: text input and output, comparison, indexes, binary I/O.
-- The codes below are fixed values (the type needs no key to parse them);
-- generated codes are tested in order_code_gen.sql.
\set VERBOSITY default
SET client_min_messages = warning;
-- The comparison operators live in pg_catalog; icos on the search_path lets
-- the tests say order_code instead of icos.order_code.
SET search_path = public, icos;

-- Canonical output; input ignores case, hyphens, spaces and surrounding
-- whitespace, and reads I, L as 1 and O as 0.
SELECT '4HMA-SW91-AYDX'::icos.order_code AS canonical,
       '4hma-sw91-aydx'::icos.order_code AS lower_case,
       '4HMASW91AYDX'::icos.order_code AS no_hyphens,
       ' 4 H M A - S W 9 1 - A Y D X '::icos.order_code AS spaces,
       E'\t4hMa--sW91-AyDx\r\n'::icos.order_code AS surrounding_whitespace,
       '4-HMASW91AYD-X'::icos.order_code AS odd_hyphens;
SELECT '0000-0000-0012'::icos.order_code AS one,
       'oOoO-OOoo-OOl2'::icos.order_code AS o_and_l,
       '0000-0000-00I2'::icos.order_code = '0000-0000-0012'::icos.order_code AS i_is_1,
       '0000-0000-00i2'::icos.order_code = '0000-0000-0012'::icos.order_code AS lower_i_is_1;
SELECT 'NANA-NANA-NAN5'::icos.order_code AS n_a,
       'ZZZZ-ZZZZ-ZZZK'::icos.order_code AS largest,
       '0000-0000-0000'::icos.order_code AS smallest;

-- Output then input gives the same value; text casts both ways.
SELECT c, c::text::icos.order_code = c AS round_trip, pg_typeof(c::text) AS as_text
FROM (VALUES ('4HMA-SW91-AYDX'::icos.order_code), ('0000-03NQ-K8N1'), ('G000-0000-000Z')) v(c);
SELECT CAST('g000 0000 000z' AS icos.order_code) AS cast_from_text,
       CAST('0000-0J6H-B708'::icos.order_code AS text) AS cast_to_text;

-- A wrong check character: 22P02, "probably mistyped".
SELECT '4HMA-SW91-AYDY'::icos.order_code;		-- last character changed
SELECT '4HMA-SW91-AYXD'::icos.order_code;		-- last two swapped (check included)
SELECT 'H4MA-SW91-AYDX'::icos.order_code;		-- first two swapped
SELECT '4HMA-SW9I-AYDX'::icos.order_code = '4HMA-SW91-AYDX' AS i_for_1_is_not_a_typo;
-- U, bad symbols, control characters, non-ASCII, wrong lengths, empty.
SELECT '4HMA-SW9U-AYDX'::icos.order_code;
SELECT 'u000-0000-0012'::icos.order_code;
SELECT '4HMA_SW91_AYDX'::icos.order_code;
SELECT '4HMA.SW91.AYDX'::icos.order_code;
SELECT E'4HMA\tSW91-AYDX'::icos.order_code;
SELECT '4HMA-SW91-AYDÉ'::icos.order_code;
SELECT '４HMA-SW91-AYDX'::icos.order_code;		-- full-width digit
SELECT '4HMA-SW91-AYD'::icos.order_code;
SELECT '4HMA-SW91-AYDXX'::icos.order_code;
SELECT '4HMA'::icos.order_code;
SELECT ''::icos.order_code;
SELECT ' - - '::icos.order_code;
SELECT repeat('4HMA-SW91-AYDX', 100)::icos.order_code;	-- echo is clipped
-- The SQLSTATE is 22P02 for every malformed code.
DO $$
DECLARE
	bad text;
	state text;
	msg text;
	det text;
BEGIN
	FOREACH bad IN ARRAY ARRAY['4HMA-SW91-AYDY', '4HMA-SW9U-AYDX', '4HMA_SW91_AYDX',
								'4HMA-SW91-AYD', '', repeat('x', 10000)] LOOP
		BEGIN
			PERFORM bad::icos.order_code;
			RAISE WARNING '% accepted', bad;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
			RAISE WARNING '%: %', state, left(det, 40);
		END;
	END LOOP;
END
$$;

-- order_code_is_valid never raises.
SELECT s, icos.order_code_is_valid(s) AS valid
FROM (VALUES ('4HMA-SW91-AYDX'), ('4hma sw91 aydx'), ('4HMA-SW91-AYDY'), ('4HMA-SW9U-AYDX'),
             ('4HMA'), (''), ('é'), (NULL)) v(s);

-- Comparison operators follow the stored value.
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le, a > b AS gt, a >= b AS ge
FROM (VALUES ('0000-0000-0012'::icos.order_code, '0000-0000-0024'::icos.order_code),
             ('4HMA-SW91-AYDX', '4hmasw91aydx'),
             ('ZZZZ-ZZZZ-ZZZK', 'G000-0000-000Z')) v(a, b);

CREATE TEMP TABLE oc (code icos.order_code PRIMARY KEY, n int);
INSERT INTO oc VALUES ('ZZZZ-ZZZZ-ZZZK', 1), ('0000-0000-0012', 2), ('4HMA-SW91-AYDX', 3),
                      ('G000-0000-000Z', 4), ('0000-03NQ-K8N1', 5), ('NANA-NANA-NAN5', 6);
SELECT code, n FROM oc ORDER BY code;
SELECT code FROM oc ORDER BY code DESC LIMIT 2;
SELECT min(code::text), max(code::text), count(DISTINCT code) FROM oc;
INSERT INTO oc VALUES ('4hma sw91 aydx', 7);		-- same code, other spelling
INSERT INTO oc VALUES ('4hma sw91 aydy', 7);		-- mistyped: rejected as such

-- btree and hash indexes are used.
ANALYZE oc;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT n FROM oc WHERE code = '4HMA-SW91-AYDX';
EXPLAIN (COSTS OFF) SELECT n FROM oc WHERE code < '4HMA-SW91-AYDX' ORDER BY code;
SELECT n FROM oc WHERE code = '4hma-sw91-aydx';
SELECT n FROM oc WHERE code < '4HMA-SW91-AYDX' ORDER BY code;
SELECT n FROM oc WHERE code >= 'G000-0000-000Z' ORDER BY code;
ALTER TABLE oc DROP CONSTRAINT oc_pkey;
CREATE INDEX oc_hash ON oc USING hash (code);
EXPLAIN (COSTS OFF) SELECT n FROM oc WHERE code = '4HMA-SW91-AYDX';
SELECT n FROM oc WHERE code = '4HMA-SW91-AYDX';
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Hash join, merge join and hash aggregation work.
SET enable_nestloop = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM oc a JOIN oc b USING (code);
SELECT count(*) FROM oc a JOIN oc b USING (code);
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM oc a JOIN oc b USING (code);
SELECT count(*) FROM oc a JOIN oc b USING (code);
RESET enable_hashjoin;
RESET enable_nestloop;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT code, count(*) FROM oc GROUP BY code;
SELECT count(*) FROM (SELECT code FROM oc GROUP BY code) g;
RESET enable_sort;

-- Binary COPY round trip.
-- The file lives in the cluster's data directory: private to this server and
-- always writable by it, whichever user runs the cluster.
SELECT current_setting('data_directory') || '/icos_oc.bin' AS copyfile \gset
COPY (SELECT code, n FROM oc ORDER BY n) TO :'copyfile' (FORMAT binary);
CREATE TEMP TABLE oc_back (code icos.order_code, n int);
COPY oc_back FROM :'copyfile' (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE a.code = b.code) AS equal
FROM oc a JOIN oc_back b USING (n);
-- Binary input checks the range (55 bits).
COPY (SELECT (2::numeric ^ 55)::bigint) TO :'copyfile' (FORMAT binary);
CREATE TEMP TABLE oc_bad (code icos.order_code);
COPY oc_bad FROM :'copyfile' (FORMAT binary);
COPY (SELECT (-1)::bigint) TO :'copyfile' (FORMAT binary);
COPY oc_bad FROM :'copyfile' (FORMAT binary);
COPY (SELECT (2::numeric ^ 55 - 1)::bigint) TO :'copyfile' (FORMAT binary);
COPY oc_bad FROM :'copyfile' (FORMAT binary);
SELECT code FROM oc_bad;
SELECT icos.order_code_send('4HMA-SW91-AYDX') = int8send(x'1234567890abcd'::bigint) AS send_is_int8;

-- The operators live in pg_catalog: they work from any search_path.
SET search_path = pg_catalog;
SELECT '4HMA-SW91-AYDX'::icos.order_code = '4hma sw91 aydx' AS pinned_path;
SET search_path = public, icos;

-- Catalogue properties.
SELECT typlen, typbyval, typalign FROM pg_type WHERE oid = 'icos.order_code'::regtype;
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p
WHERE p.pronamespace = 'icos'::regnamespace
  AND p.proname IN ('order_code_in', 'order_code_out', 'order_code_recv', 'order_code_send',
                    'order_code_is_valid', 'next_order_code', 'order_code_node', 'current_node')
ORDER BY 1;
SELECT amname, opcname, opcdefault
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE opcintype = 'icos.order_code'::regtype ORDER BY 1;
SELECT castsource::regtype, casttarget::regtype, castcontext, castmethod
FROM pg_cast
WHERE castsource = 'icos.order_code'::regtype OR casttarget = 'icos.order_code'::regtype
ORDER BY 1, 2;
