# Upgrading a replicating deployment from 0.2.0 (docs/replication.md,
# "Upgrading the extension across nodes"): 0.3.0 adds a store-owned table,
# icos.order_request (edit_order's request ids).  The store's upgrade adds it
# to its publication and guards it; once head office is upgraded and has
# refreshed its subscription, the request ids written before arrive and new
# ones follow.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run qw(run timeout);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = $ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $icos = "$top/src/cli/icos";
plan skip_all => "client not built ($icos); run make first" unless -x $icos;

my %node;
for my $name (qw(hq st))
{
	my $n = PostgreSQL::Test::Cluster->new("upgrade_$name");
	$n->init(allows_streaming => 'logical');
	$n->append_conf('postgresql.conf', "max_replication_slots = 10\nmax_wal_senders = 10\n"
		. "max_worker_processes = 16\nwal_receiver_status_interval = 1s\n");
	$n->start;
	$n->safe_psql('postgres', "CREATE EXTENSION icos VERSION '0.2.0'");
	$node{$name} = $n;
}
my ($hq, $st) = @node{qw(hq st)};
my %dsn = map { $_ => $node{$_}->connstr('postgres') } keys %node;

sub icos
{
	my ($out, $err) = ('', '');
	run([ $icos, @_ ], '<', \undef, '>', \$out, '2>', \$err, timeout(120));
	return ($? >> 8, $out, $err);
}

$hq->safe_psql('postgres', q{
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES (1, 'Leeds', 'store', 1);
INSERT INTO icos.product (upc, name, price) VALUES ('4006381333931', 'Desk lamp', 24.50);
});
my ($rc, $out, $err) = icos('--dsn', $dsn{hq}, 'node', 'init-hq');
is($rc, 0, 'node init-hq at 0.2.0') or diag($err);
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--store-dsn', $dsn{st}, '--store', '1', '--name', 'Leeds');
is($rc, 0, 'node add-store at 0.2.0') or diag("$out\n$err");

$st->safe_psql('postgres', q{SELECT icos.receive_stock(1, '4006381333931', 5, 'delivery')});

# Until its SQL matches the library, a store refuses orders with an error
# that says what to do: the order engine of 0.3.0 writes 0.3.0's columns.
my (undef, undef, $stale) = $st->psql('postgres', q{SELECT icos.place_order('{"store": 1, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 1}]}')});
like($stale, qr/icos in this database is at version 0\.2\.0, but its library is 0\.3\.0.*HINT:  Run ALTER EXTENSION icos UPDATE/s,
	'before its upgrade the store refuses orders and says how to upgrade');

# The store first.
$st->safe_psql('postgres', 'ALTER EXTENSION icos UPDATE');
my $code = $st->safe_psql('postgres', q{SELECT icos.place_order('{"store": 1, "channel": "store",
	"customer": {"name": "Ann Smith", "email": "ann@example.com"},
	"lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect"}}')});
is($st->safe_psql('postgres', q{SELECT string_agg(pubname || ' ' || rowfilter, ', ') FROM pg_publication_tables
	WHERE schemaname = 'icos' AND tablename = 'order_request'}),
	'icos_store_1 (store_id = 1)', 'the store\'s upgrade publishes icos.order_request, filtered like the orders');
is($st->safe_psql('postgres', 'SELECT count(*) FROM icos.check_publications(1)'), '0',
	'and its publications are what icos.replicated_tables() says');
is($st->safe_psql('postgres', q{SELECT count(*) FROM pg_trigger
	WHERE tgrelid = 'icos.order_request'::regclass AND tgname = 'icos_owner_guard'}), '1',
	'the table has the ownership guard of the other order tables');
is($st->safe_psql('postgres', qq{SELECT icos.edit_order('$code', '{"request_id": "deposit-1",
	"payments": [{"method": "cash", "amount": 5}]}') ->> 'paid'}), '5.00', 'an edit with a request id at the store');

# Then head office, and its subscription learns the new table.
$hq->safe_psql('postgres', 'ALTER EXTENSION icos UPDATE');
$hq->safe_psql('postgres', 'ALTER SUBSCRIPTION icos_store_1_to_hq REFRESH PUBLICATION');
$st->safe_psql('postgres', qq{SELECT icos.edit_order('$code', '{"request_id": "deposit-2",
	"payments": [{"method": "cash", "amount": 5}]}')});
ok($hq->poll_query_until('postgres',
	"SELECT string_agg(request_id, ',' ORDER BY request_id) = 'deposit-1,deposit-2' FROM icos.order_request"),
	'head office has the request ids written before and after its upgrade');
is($hq->safe_psql('postgres', qq{SELECT count(*) FROM icos.order_payment WHERE code = '$code'}), '2',
	'with both payments');

done_testing();
