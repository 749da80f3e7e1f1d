# Order codes are unique: a million codes issued as node 1 and a million as
# node 2 never collide and decode back to their node.  A session that was
# already open sees init_node at once (relcache invalidation), and a dump and
# restore keeps the key, the node and the sequence, so the restored database
# goes on issuing new codes, never old ones.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('oc_unique');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION icos');

# A second session that has issued a code (so it caches node 0) before
# the node id changes.
my $other = $node->background_psql('postgres');
is($other->query_safe('SELECT icos.order_code_node(icos.next_order_code())'),
	'0', 'other session: a fresh install issues codes as node 0');

$node->safe_psql('postgres', "SELECT icos.init_node(1, 'store', 'Node one')");
is($other->query_safe('SELECT icos.current_node(), icos.order_code_node(icos.next_order_code())'),
	'1|1', 'other session: init_node(1) takes effect at once');

my $t0 = time;
$node->safe_psql(
	'postgres', q{
CREATE TABLE codes (code icos.order_code NOT NULL, node int NOT NULL);
INSERT INTO codes SELECT icos.next_order_code(), 1 FROM generate_series(1, 1000000);
SELECT icos.init_node(2, 'store', 'Node two');
INSERT INTO codes SELECT icos.next_order_code(), 2 FROM generate_series(1, 1000000);
});
note('issued 2,000,000 codes in ' . (time - $t0) . ' s');
is($other->query_safe('SELECT icos.current_node(), icos.order_code_node(icos.next_order_code())'),
	'2|2', 'other session: init_node(2) takes effect at once');
$other->quit;

is( $node->safe_psql(
		'postgres', 'SELECT count(*), count(DISTINCT code) FROM codes'),
	'2000000|2000000',
	'2,000,000 codes from nodes 1 and 2, all distinct');
is( $node->safe_psql(
		'postgres',
		'SELECT node, count(*), count(*) FILTER (WHERE icos.order_code_node(code) = node)
		 FROM codes GROUP BY node ORDER BY node'),
	"1|1000000|1000000\n2|1000000|1000000",
	'every code decodes to the node that issued it');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM codes WHERE code::text !~ '^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\$'"),
	'0',
	'every code is in canonical form');

# ---------------------------------------------------------------------------
# Dump and restore: the key, the node and the sequence come back.
# ---------------------------------------------------------------------------
my $dump = $PostgreSQL::Test::Utils::tmp_check . '/oc_unique.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump of a database with issued codes');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore into a new database, without errors');

my $state = q{SELECT encode(key, 'hex'), (SELECT node_id || ' ' || kind || ' ' || name FROM icos.node),
	(SELECT last_value FROM icos.order_code_seq), (SELECT count(*) FROM icos.order_code_key)
	FROM icos.order_code_key};
is($node->safe_psql('restored', $state), $node->safe_psql('postgres', $state),
	'the restored database has the same key (one row), node and sequence position');
is( $node->safe_psql(
		'restored',
		'SELECT count(*) FILTER (WHERE icos.order_code_node(code) = node) FROM codes'),
	'2000000',
	'the restored database decodes the old codes');
is( $node->safe_psql(
		'restored', q{
INSERT INTO codes SELECT icos.next_order_code(), 2 FROM generate_series(1, 10000);
SELECT count(*), count(DISTINCT code) FROM codes}),
	'2010000|2010000',
	'codes issued after the restore are new ones');

$node->stop;
done_testing();
