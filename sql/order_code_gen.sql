-- Node configuration and the order-code generator.  The key is random per
-- install, so generated codes are never printed: only their properties
-- (or codes made under a known test key, inside a rolled-back transaction).
\set VERBOSITY default
SET client_min_messages = warning;
SET search_path = public, icos;

-- A fresh install is node 0, head office, named after the database.
SELECT node_id, kind, name = current_database() AS named_after_db FROM icos.node;
SELECT icos.current_node();

-- The key: one row of 16 random bytes, superusers only, kept by pg_dump
-- together with the node row and the sequence.
SELECT count(*), min(octet_length(key)) AS bytes FROM icos.order_code_key;
SELECT relname, relacl IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM aclexplode(relacl) a WHERE a.grantee = 0) AS no_public_access
FROM pg_class WHERE oid IN ('icos.order_code_key'::regclass, 'icos.order_code_seq'::regclass)
ORDER BY 1;
SELECT c::regclass AS config_dumped
FROM pg_extension, unnest(extconfig) c
WHERE extname = 'icos' AND c IN ('icos.node'::regclass, 'icos.order_code_key'::regclass,
                                 'icos.order_code_seq'::regclass)
ORDER BY 1::text;
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'icos_admin';

-- init_node validates its arguments (22023) and changes nothing then.
SELECT icos.init_node(-1, 'store', 'Leeds');
SELECT icos.init_node(4096, 'store', 'Leeds');
SELECT icos.init_node(NULL, 'store', 'Leeds');
SELECT icos.init_node(1, 'shop', 'Leeds');
SELECT icos.init_node(1, 'HQ', 'Leeds');
SELECT icos.init_node(1, NULL, 'Leeds');
SELECT icos.init_node(1, 'store', '  ');
SELECT node_id, kind FROM icos.node;

-- A batch of codes: all distinct, canonical, issued by this node, and in
-- no particular order (about half the neighbours ascend).
CREATE TEMP TABLE batch AS
SELECT i, icos.next_order_code() AS code FROM generate_series(1, 10000) i;
SELECT count(*) AS codes, count(DISTINCT code) AS distinct_codes,
       count(*) FILTER (WHERE code::text ~ '^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$') AS canonical,
       min(length(code::text)) AS min_len, max(length(code::text)) AS max_len,
       count(*) FILTER (WHERE code::text::icos.order_code = code) AS round_trip,
       count(*) FILTER (WHERE icos.order_code_node(code) = 0) AS from_node_0
FROM batch;
SELECT count(*) FILTER (WHERE up) BETWEEN 4000 AND 6000 AS unordered
FROM (SELECT code < lead(code) OVER (ORDER BY i) AS up FROM batch) s;

-- init_node takes effect at once, in this transaction too.
BEGIN;
SELECT icos.init_node(7, 'store', 'Leeds');
SELECT icos.current_node(), icos.order_code_node(icos.next_order_code()) AS decoded;
SELECT node_id, kind, name FROM icos.node;
ROLLBACK;
SELECT icos.current_node(), icos.order_code_node(icos.next_order_code()) AS decoded;
SELECT icos.init_node(4095, 'store', 'Last one');
SELECT icos.current_node(), icos.order_code_node(icos.next_order_code()) AS decoded;
SELECT icos.init_node(0, 'hq', current_database());
SELECT icos.current_node(), icos.order_code_node(icos.next_order_code()) AS decoded;

-- Under a known key (000102...0f) the generator gives the known answers of
-- test/unit/ordercode.c: node 0 sequence 1 is SRDP-JTHF-3K29, node 1
-- sequence 1 is F14M-61TE-WJDS.  setval is not transactional: save it.
SELECT last_value AS saved_seq FROM icos.order_code_seq \gset
BEGIN;
UPDATE icos.order_code_key SET key = '\x000102030405060708090a0b0c0d0e0f';
SELECT setval('icos.order_code_seq', 1, false);
SELECT icos.next_order_code() AS node_0_seq_1;
SELECT icos.init_node(1, 'store', 'Test');
SELECT setval('icos.order_code_seq', 1, false);
SELECT icos.next_order_code() AS node_1_seq_1;
SELECT icos.order_code_node('F14M-61TE-WJDS'), icos.order_code_node('SRDP-JTHF-3K29');
ROLLBACK;
-- Back to the real key: the same sequence number gives another code.
SELECT setval('icos.order_code_seq', 1, false);
SELECT icos.next_order_code() <> 'SRDP-JTHF-3K29' AS real_key_again;
SELECT setval('icos.order_code_seq', :saved_seq) = :saved_seq AS restored;

-- The sequence ends at 2^43-1: exhausting it is a clean error.
SELECT setval('icos.order_code_seq', 8796093022206);
SELECT icos.order_code_node(icos.next_order_code()) AS last_code_decodes;
SELECT icos.next_order_code();
SELECT setval('icos.order_code_seq', :saved_seq + 1) = :saved_seq + 1 AS restored;

-- set_order_code_key: for a new node only, 16 bytes, superusers only.
SELECT icos.set_order_code_key('\x00');
SELECT icos.set_order_code_key('\x000102030405060708090a0b0c0d0e0f');

-- Who may do what.  A plain role may issue codes (it needs no privilege
-- on the sequence), but not read the key, decode a code, or set the node.
CREATE ROLE oc_clerk;
CREATE ROLE oc_admin IN ROLE icos_admin;
GRANT USAGE ON SCHEMA icos TO oc_clerk;
CREATE TEMP TABLE issued (code icos.order_code);
GRANT INSERT, SELECT ON issued TO oc_clerk, oc_admin;
SET ROLE oc_clerk;
INSERT INTO issued SELECT icos.next_order_code() FROM generate_series(1, 3);
SELECT icos.current_node();
SELECT count(*) FROM icos.node;
SELECT key FROM icos.order_code_key;
SELECT icos.order_code_node(code) FROM issued LIMIT 1;
SELECT icos.init_node(3, 'store', 'Leeds');
SELECT icos._set_node(3, 'store', 'Leeds');
SELECT icos._new_order_code_key();
SELECT icos.set_order_code_key('\x000102030405060708090a0b0c0d0e0f');
SELECT nextval('icos.order_code_seq');
RESET ROLE;
SET ROLE oc_admin;
SELECT count(DISTINCT code) AS codes, min(icos.order_code_node(code)) AS node FROM issued;
SELECT icos.init_node(3, 'store', 'Leeds');
SELECT icos.current_node();
SELECT icos.init_node(0, 'hq', current_database());
SELECT key FROM icos.order_code_key;
RESET ROLE;
DROP TABLE issued;
DROP OWNED BY oc_clerk, oc_admin;
DROP ROLE oc_clerk;
DROP ROLE oc_admin;
SELECT node_id, kind, name = current_database() AS named_after_db FROM icos.node;
