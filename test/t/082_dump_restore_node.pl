# A store node's database lost and restored from pg_dump into a new cluster,
# then linked back to head office the documented way (docs/backup.md,
# "After restoring a node": icos node reseed): head office ends with the
# store's orders exactly as before, and the restored store trades on with
# codes it never issued before.
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

sub cluster
{
	my ($name) = @_;
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init(allows_streaming => 'logical');
	$n->append_conf('postgresql.conf', "max_replication_slots = 10\nmax_wal_senders = 10\n"
		. "max_worker_processes = 16\nwal_receiver_status_interval = 1s\n");
	$n->start;
	return $n;
}
my $hq = cluster('node_hq');
my $st = cluster('node_store');
$_->safe_psql('postgres', 'CREATE EXTENSION icos') for ($hq, $st);

sub icos
{
	my ($out, $err) = ('', '');
	run([ $icos, @_ ], '<', \undef, '>', \$out, '2>', \$err, timeout(300));
	return ($? >> 8, $out, $err);
}

my $lamp = '4006381333931';
$hq->safe_psql('postgres', qq{
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES (1, 'Leeds', 'store', 1), (9, 'Website', 'web', 0);
INSERT INTO icos.category VALUES (1, NULL, 'Home');
INSERT INTO icos.product (upc, name, price, lead_time_days, category_id) VALUES ('$lamp', 'Desk lamp', 24.50, 3, 1);
});
my ($rc, $out, $err) = icos('--dsn', $hq->connstr('postgres'), 'node', 'init-hq');
is($rc, 0, 'init-hq') or diag $err;
($rc, $out, $err) = icos('node', 'add-store', '--hq', $hq->connstr('postgres'), '--store-dsn',
	$st->connstr('postgres'), '--store', '1', '--name', 'Leeds');
is($rc, 0, 'add-store') or diag "$out\n$err";

# The store trades: stock, till sales.
$st->safe_psql('postgres', "SELECT icos.receive_stock(1, '$lamp', 50, 'delivery')");
my @codes;
push @codes, $st->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos", "lines": [{"upc": "$lamp", "qty": $_}], "payments": [{"method": "cash", "amount": 200}]}')})
  for 1 .. 4;

sub in_step
{
	my $at = $st->safe_psql('postgres', q{SELECT icos.heartbeat()->>'at'});
	return $hq->poll_query_until('postgres', qq{SELECT icos.wait_for_heartbeat(1, '$at')});
}
ok(in_step(), 'head office has the store\'s orders');
my $orders_sql = q{SELECT string_agg(icos.order(code)::text, E'\n' ORDER BY code) FROM icos.orders WHERE store_id = 1};
my $stock_sql = q{SELECT string_agg(s::text, E'\n' ORDER BY s::text) FROM icos.stock s WHERE store_id = 1};
my $hq_orders = $hq->safe_psql('postgres', $orders_sql);
my $hq_stock = $hq->safe_psql('postgres', $stock_sql);
is($hq_orders, $st->safe_psql('postgres', $orders_sql), 'before: head office and store agree on the orders');

# ---- the store's dump, the store lost, restored into a new cluster ----
my $dump = PostgreSQL::Test::Utils::tempdir() . '/store.dump';
($out, $err) = ('', '');
ok(run([ 'pg_dump', '-Fc', '-f', $dump, '-d', $st->connstr('postgres') ], '>', \$out, '2>', \$err, timeout(300)),
	'pg_dump of the store') or diag $err;
$st->stop('immediate');
my $nst = cluster('node_store_restored');
($out, $err) = ('', '');
my $ok = run([ 'pg_restore', '-d', $nst->connstr('postgres'), $dump ], '>', \$out, '2>', \$err, timeout(300));
ok($ok, 'pg_restore into the new cluster') or diag $err;
is($err, '', 'pg_restore: no error or warning');
is($nst->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_references()'), '0', 'restored: references hold');
is($nst->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_stock()'), '0', 'restored: stock agrees with its ledger');

# ---- linked back: icos node reseed ----
($rc, $out, $err) = icos('node', 'reseed', '--hq', $hq->connstr('postgres'), '--store-dsn',
	$nst->connstr('postgres'), '--store', '1');
is($rc, 0, 'node reseed links the restored store') or diag "$out\n$err";
$st = $nst;
ok(in_step(), 'head office is in step with the restored store');
is($hq->safe_psql('postgres', $orders_sql), $hq_orders, 'head office: the store\'s orders as before');
is($hq->safe_psql('postgres', $stock_sql), $hq_stock, 'head office: the store\'s stock as before');
is($nst->safe_psql('postgres', $orders_sql), $hq_orders, 'the restored store: its orders as before');

my $new = $nst->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos", "lines": [{"upc": "$lamp", "qty": 1}], "payments": [{"method": "cash", "amount": 30}]}')});
ok(!(grep { $_ eq $new } @codes), 'a new order at the restored store has a new code');
ok(in_step(), 'the new order reaches head office');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE code = '$new'"), '1',
	'head office has the new order');
$hq->safe_psql('postgres', qq{UPDATE icos.product SET price = 22.00 WHERE upc = '$lamp'});
ok($nst->poll_query_until('postgres', qq{SELECT price = 22.00 FROM icos.product WHERE upc = '$lamp'}),
	'head office\'s price change reaches the restored store');
is($hq->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_stock()'), '0', 'head office: verify_stock');

done_testing();
