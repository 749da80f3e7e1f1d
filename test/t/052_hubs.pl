# Regional hubs (docs/replication.md): head office, two hubs and a store
# node under each, linked with the client.  The catalogue flows down through
# the hubs, orders up, availability across hubs; a reservation crosses from
# one hub's store to the other's and back; head office holds slots for the
# hubs only; no row comes back to its writer; a hub restarts and nothing is
# lost or doubled.  Then a store moves from one hub to the other and on to
# head office while it sells (icos node move-store), the other store is
# re-seeded under the first hub while its own is down, and is removed.
# Every wait polls for a condition.
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
for my $name (qw(hq hubA hubB sA sB))
{
	my $n = PostgreSQL::Test::Cluster->new("hubs_$name");
	$n->init(allows_streaming => 'logical');
	# jit off: the status view's statistics functions would have it compiled
	$n->append_conf('postgresql.conf', "shared_buffers = 16MB\njit = off\nmax_replication_slots = 8\n"
		. "max_wal_senders = 8\nmax_worker_processes = 12\nmax_logical_replication_workers = 6\n"
		. "max_slot_wal_keep_size = 256MB\nwal_receiver_status_interval = 1s\n");
	$n->start;
	$n->safe_psql('postgres', 'SET client_min_messages = warning; CREATE EXTENSION icos');
	$node{$name} = $n;
}
my ($hq, $hubA, $hubB, $sA, $sB) = @node{qw(hq hubA hubB sA sB)};
my %dsn = map { $_ => $node{$_}->connstr('postgres') } keys %node;

# Nodes: head office 0, hub North 10 with store node 11 (store 1, Leeds),
# hub South 20 with store node 21 (store 2, York).  The website is at HQ.
my $kettle = '036000291452';
$hq->safe_psql('postgres', qq{
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES
  (1, 'Leeds', 'store', 11), (2, 'York', 'store', 21), (9, 'Website', 'web', 0);
INSERT INTO icos.category VALUES (1, NULL, 'Home');
INSERT INTO icos.product (upc, name, price, lead_time_days, category_id) VALUES ('$kettle', 'Kettle', 19.99, 5, 1);
});

# icos(ARGS): (exit status, stdout, stderr)
sub icos
{
	my ($out, $err) = ('', '');
	run([ $icos, @_ ], '<', \undef, '>', \$out, '2>', \$err, timeout(120));
	return ($? >> 8, $out, $err);
}

# in_step(FROM, TO, ID): a heartbeat at FROM (node ID), then wait until TO
# has it, and so everything FROM committed before it
sub in_step
{
	my ($from, $to, $id) = @_;
	my $at = $from->safe_psql('postgres', q{SELECT icos.heartbeat() ->> 'at'});
	return $to->safe_psql('postgres', "SELECT icos.wait_for_heartbeat($id, '$at', '60 seconds')") eq 't';
}

my ($rc, $out, $err) = icos('--dsn', $dsn{hq}, 'node', 'init-hq');
is($rc, 0, 'node init-hq succeeds') or diag($err);
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--hub-dsn', $dsn{hubA},
	'--store-dsn', $dsn{sA}, '--store', '11');
is($rc, 1, 'add-store under a database that is no hub yet is refused');
like($err, qr/the hub database is not a hub node/, 'and says why');
for my $h ([ 'hubA', 10, 'North' ], [ 'hubB', 20, 'South' ])
{
	($rc, $out, $err) = icos('node', 'add-hub', '--hq', $dsn{hq}, '--hub-dsn', $dsn{ $h->[0] },
		'--node', $h->[1], '--name', $h->[2]);
	is($rc, 0, "node add-hub $h->[1] succeeds") or diag("$out\n$err");
}
like($out, qr/Hub node 20 is in step with head office/, 'add-hub says the hub is in step');
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--hub-dsn', $dsn{hubA},
	'--store-dsn', $dsn{sA}, '--store', '11', '--name', 'Leeds');
is($rc, 0, 'node add-store under hub 10 succeeds') or diag("$out\n$err");
like($out, qr/publications cover the store/, 'the hub\'s region filters were widened');
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--hub-dsn', $dsn{hubB},
	'--store-dsn', $dsn{sB}, '--store', '21', '--name', 'York');
is($rc, 0, 'node add-store under hub 20 succeeds') or diag("$out\n$err");
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--hub-dsn', $dsn{hubB},
	'--store-dsn', $dsn{sB}, '--store', '21');
is($rc, 0, 'add-store under a hub is idempotent') or diag("$out\n$err");

is($hq->safe_psql('postgres', q{SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots}),
	'icos_hq_to_10,icos_hq_to_20', 'head office holds one slot per hub and none for the stores under them');
is($hubA->safe_psql('postgres', q{SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots}),
	'icos_hub_10_to_11,icos_hub_10_to_hq', 'hub 10 holds the slots of its store and of head office');
is($hubA->safe_psql('postgres', 'SELECT kind || node_id FROM icos.node'), 'hub10', 'the hub database is hub node 10');
is($sA->safe_psql('postgres', 'SELECT string_agg(subname, \',\') FROM pg_subscription'), 'icos_hub_10_to_11',
	'the store subscribes to its hub only');
for my $n ($hq, $hubA, $hubB)
{
	is($n->safe_psql('postgres', "SELECT count(*) FROM icos.node_tree"), '4', $n->name . ': has the tree');
}
for my $c ([ $hq, 10 ], [ $hubA, 10 ], [ $hubA, 11 ], [ $sA, 11 ], [ $hq, 20 ], [ $hubB, 21 ])
{
	is($c->[0]->safe_psql('postgres', "SELECT count(*) FROM icos.check_publications($c->[1])"), '0',
		$c->[0]->name . ": publications for node $c->[1] are as described");
}

# Catalogue down, through the hubs.
is($sA->safe_psql('postgres', "SELECT name FROM icos.product WHERE upc = '$kettle'"), 'Kettle',
	'the store under hub 10 received the catalogue');
$hq->safe_psql('postgres', "UPDATE icos.product SET price = 17.49 WHERE upc = '$kettle'");
for my $s ($sA, $sB)
{
	ok($s->poll_query_until('postgres', "SELECT price = 17.49 FROM icos.product WHERE upc = '$kettle'"),
		$s->name . ': a price change at head office arrives through its hub');
}

# Ownership at a hub: it neither changes the catalogue nor a store's rows.
my ($ret, $stdout, $stderr) = $hubA->psql('postgres', "UPDATE icos.product SET price = 1 WHERE upc = '$kettle'");
like($stderr, qr/belongs to head office/, 'a hub cannot change the catalogue');
($ret, $stdout, $stderr) = $hubA->psql('postgres', "SELECT icos.receive_stock(1, '$kettle', 5, 'not mine')");
like($stderr, qr/belong to node 11 and cannot be changed on node 10/, 'a hub cannot change its store\'s stock');

# Stock and orders up; availability across hubs.
$sA->safe_psql('postgres', "SELECT icos.receive_stock(1, '$kettle', 20, 'delivery')");
$sB->safe_psql('postgres', "SELECT icos.receive_stock(2, '$kettle', 3, 'delivery')");
ok($sB->poll_query_until('postgres', "SELECT available = 20 FROM icos.remote_availability('$kettle') WHERE store_id = 1"),
	'stock received under hub 10 shows in the availability of the store under hub 20');
my $code = $sA->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
	"lines": [{"upc": "$kettle", "qty": 2}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 34.98}]}')});
ok($hq->poll_query_until('postgres', "SELECT icos.order('$code')->>'status' = 'completed'"),
	'an order taken under hub 10 reaches head office');
is($hubA->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE code = '$code'"), '1', 'through hub 10');
is($hubB->safe_psql('postgres', 'SELECT count(*) FROM icos.orders'), '0', 'hub 20 does not receive hub 10\'s orders');
ok($sB->poll_query_until('postgres', "SELECT available = 18 FROM icos.remote_availability('$kettle') WHERE store_id = 1"),
	'the sale shows at the store under the other hub');

# A reservation across hubs: York (under hub 20) orders from Leeds (hub 10).
my $xcode = $sB->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 2, "channel": "store",
	"customer": {"name": "Ann Example", "email": "ann\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 3, "fulfil_from": 1}],
	"delivery": {"method": "collect", "collect_store": 2}}')});
ok($sA->poll_query_until('postgres', "SELECT count(*) = 1 FROM icos.stock_request WHERE code = '$xcode'"),
	'the request crossed sB -> hub 20 -> head office -> hub 10 -> sA');
$sA->safe_psql('postgres', 'SELECT icos.heartbeat()');
ok($sB->poll_query_until('postgres', "SELECT count(*) = 1 FROM icos.stock_response r JOIN icos.stock_request q USING (request_id) WHERE q.code = '$xcode'"),
	'the answer came back the same way');
$sB->safe_psql('postgres', 'SELECT icos.heartbeat()');
is($sB->safe_psql('postgres', "SELECT remote_status || ':' || status FROM icos.order_line WHERE code = '$xcode'"),
	'granted:reserved', 'the line is reserved at Leeds for York');
is($sA->safe_psql('postgres', "SELECT reserved FROM icos.stock WHERE store_id = 1 AND upc = '$kettle'"), '3',
	'Leeds reserved it once');

# A phone order taken at head office, served by the store under hub 10.
my $pcode = $hq->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 9, "channel": "phone",
	"customer": {"name": "Dan Example", "email": "dan\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 1, "fulfil_from": 1}],
	"delivery": {"method": "home", "address": {"line1": "2 Low St", "town": "Leeds", "postcode": "LS1 1AA"}},
	"payments": [{"method": "visa", "amount": 17.49, "reference": "auth 1234"}]}')});
ok($sA->poll_query_until('postgres', "SELECT count(*) = 1 FROM icos.stock_request WHERE code = '$pcode'"),
	'head office\'s request reached the store under hub 10');
$sA->safe_psql('postgres', 'SELECT icos.heartbeat()');
ok($hq->poll_query_until('postgres', "SELECT icos.process_requests() IS NOT NULL AND
	(SELECT remote_status = 'granted' FROM icos.order_line WHERE code = '$pcode')"),
	'head office applies the grant');

# Every row once, everywhere it belongs, and no subscription stopped: a row
# sent back to its writer would fail there on its primary key.
ok(in_step($sA, $hq, 11) && in_step($sB, $hq, 21), 'both stores in step with head office');
ok(in_step($hq, $sA, 0) && in_step($hq, $sB, 0), 'head office in step with both stores');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.stock_request WHERE code IN ('$xcode', '$pcode')"), '2',
	'head office has each request once');
is($hubB->safe_psql('postgres', "SELECT count(*) FROM icos.stock_request WHERE code = '$pcode'"), '0',
	'a request for hub 10\'s region does not reach hub 20');
for my $n ($hq, $hubA, $hubB, $sA, $sB)
{
	is($n->safe_psql('postgres', q{SELECT coalesce(sum(apply_error_count + sync_error_count), 0) FROM pg_stat_subscription_stats}),
		'0', $n->name . ': no apply errors');
}
is($hq->safe_psql('postgres', q{SELECT string_agg(node_id::text, ',' ORDER BY node_id) FROM icos.node_heartbeat}),
	'0,10,11,20,21', 'head office has every node\'s heartbeat');
is($sA->safe_psql('postgres', q{SELECT string_agg(node_id::text, ',' ORDER BY node_id) FROM icos.node_heartbeat}),
	'0,10,11', 'a store has its own, its hub\'s and head office\'s');

# node status: the tree, each link as its parent sees it.
$_->safe_psql('postgres', 'SELECT icos.heartbeat()') for ($sA, $sB, $hubA, $hubB, $hq);
ok($hq->poll_query_until('postgres', q{SELECT count(*) = 2 FROM icos.node_status WHERE kind = 'hub' AND link_state = 'up'}),
	'node_status at head office: both hubs up');
is($hq->safe_psql('postgres', q{SELECT string_agg(node_id || ':' || link_state, ',') FROM icos.node_status}),
	'10:up,11:via hub 10,20:up,21:via hub 20', 'in tree order, the stores via their hubs');
ok($hubA->poll_query_until('postgres', q{SELECT string_agg(node_id || ':' || link_state, ',') = '11:up' FROM icos.node_status}),
	'node_status at hub 10: its store, up');
($rc, $out, $err) = icos('--dsn', $dsn{hq}, 'node', 'status');
is($rc, 0, 'node status succeeds') or diag($err);
like($out, qr/^\s+10\s+hub\s+up\s/m, 'node status lists hub 10 as up');
like($out, qr/^\s*└ 11\s+1\s+up\s/m, 'and the store under it as the hub sees it, up');
($rc, $out, $err) = icos('--dsn', $dsn{hq}, '--json', 'node', 'status');
like($out, qr/"node_id": 21[^}]*"measured_at": 20/, 'node status --json says where each link was measured');

# Hub 10 restarts while its store sells and head office changes a price:
# everything arrives once when it is back.
my $before = $hq->safe_psql('postgres', 'SELECT count(*) FROM icos.orders WHERE store_id = 1');
$hubA->stop('fast');
my @codes;
for my $i (1 .. 10)
{
	push @codes, $sA->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
		"lines": [{"upc": "$kettle", "qty": 1}], "delivery": {"method": "carry"},
		"payments": [{"method": "cash", "amount": 17.49}]}')});
}
$hq->safe_psql('postgres', "UPDATE icos.product SET price = 16.99 WHERE upc = '$kettle'");
$hubA->start;
ok($hq->poll_query_until('postgres', "SELECT count(*) = $before + 10 FROM icos.orders WHERE store_id = 1"),
	'after the hub is back, head office has the 10 orders taken meanwhile');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE code = ANY ('{" . join(',', @codes) . "}')"),
	'10', 'each of them once');
ok($sA->poll_query_until('postgres', "SELECT price = 16.99 FROM icos.product WHERE upc = '$kettle'"),
	'and the store has the price changed meanwhile');
ok(in_step($sA, $hq, 11), 'the store is in step with head office again');
is($hq->safe_psql('postgres', "SELECT on_hand || '/' || reserved FROM icos.stock WHERE store_id = 1 AND upc = '$kettle'"),
	$sA->safe_psql('postgres', "SELECT on_hand || '/' || reserved FROM icos.stock WHERE store_id = 1 AND upc = '$kettle'"),
	'head office has the store\'s stock counters');
is($hq->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_stock() WHERE store_id = 1'), '0',
	'and they agree with the replicated ledger');
# (a restart counts as an apply error of the links to the hub in
# PostgreSQL 15: what matters is that no row was refused by a key)
for my $n (values %node)
{
	ok(!$n->log_contains('duplicate key value violates unique constraint'),
		$n->name . ': no replicated row was applied twice');
}

# sell(NODE, STORE, QTY): a till sale of QTY kettles at STORE, its code
sub sell_sql
{
	my ($store, $qty) = @_;
	return qq{SELECT icos.place_order('{"store": $store, "channel": "pos",
		"lines": [{"upc": "$kettle", "qty": $qty}], "delivery": {"method": "carry"},
		"payments": []}');};
}

# move_while_selling(STORE_NODE, STORE_ID, ARGS...): icos node ARGS while the
# store sells one kettle every 0.1 s and head office changes the price twice;
# returns (exit status, output, the codes sold meanwhile)
sub move_while_selling
{
	my ($st, $store, @args) = @_;
	my $script = join('', map { sell_sql($store, 1) . "\nSELECT pg_sleep(0.1);\n" } 1 .. 40);
	my ($bout, $berr, $pout, $perr) = ('', '', '', '');
	my $seller = IPC::Run::start([ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $st->connstr('postgres') ],
		'<', \$script, '>', \$bout, '2>', \$berr, timeout(300));
	my $prices = "SELECT pg_sleep(1); UPDATE icos.product SET price = price + 0.01 WHERE upc = '$kettle';\n" x 2;
	my $pricer = IPC::Run::start([ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $dsn{hq} ],
		'<', \$prices, '>', \$pout, '2>', \$perr, timeout(300));
	my ($rc, $out, $err) = icos(@args);
	$seller->finish;
	$pricer->finish;
	diag("seller: $berr") if $berr ne '';
	diag("pricer: $perr") if $perr ne '';
	diag($err) if $rc != 0;
	return ($rc, $out, [ grep { /^[0-9A-Z-]{6,}$/ } split /\n/, $bout ]);
}

# orders_once(STORE_ID, CODES, WHAT): head office has each order once and
# the store's counters agree with the replicated ledger
sub orders_once
{
	my ($st, $id, $store, $codes, $what) = @_;
	ok(in_step($st, $hq, $id), "$what: the store is in step with head office");
	my $n = scalar @$codes;
	is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE code = ANY ('{" . join(',', @$codes) . "}')"),
		$n, "$what: head office has each of the $n orders once");
	is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE store_id = $store"),
		$st->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE store_id = $store"),
		"$what: head office has as many orders of store $store as the store");
	is($hq->safe_psql('postgres', "SELECT on_hand || '/' || reserved FROM icos.stock WHERE store_id = $store AND upc = '$kettle'"),
		$st->safe_psql('postgres', "SELECT on_hand || '/' || reserved FROM icos.stock WHERE store_id = $store AND upc = '$kettle'"),
		"$what: head office has the store's stock counters");
	is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.verify_stock() WHERE store_id = $store"), '0',
		"$what: and they agree with the replicated ledger");
}

# Store node 11 moves from hub 10 to hub 20 while it sells.
$sA->safe_psql('postgres', "SELECT icos.receive_stock(1, '$kettle', 500, 'delivery')");
my @before = map { $sA->safe_psql('postgres', sell_sql(1, 1)) } 1 .. 3;
my $during;
($rc, $out, $during) = move_while_selling($sA, 1, 'node', 'move-store', '--hq', $dsn{hq}, '--hub-dsn', $dsn{hubB},
	'--store-dsn', $dsn{sA}, '--store', '11');
is($rc, 0, 'move-store from hub 10 to hub 20 succeeds');
like($out, qr/Store node 11 is in step with its new hub/, 'and says so');
is(scalar @$during, 40, 'the store sold 40 times during the move');
my @after = map { $sA->safe_psql('postgres', sell_sql(1, 1)) } 1 .. 3;
orders_once($sA, 11, 1, [ @before, @$during, @after ], 'after the move to hub 20');
is($sA->safe_psql('postgres', 'SELECT string_agg(subname, \',\') FROM pg_subscription'), 'icos_hub_20_to_11',
	'the store subscribes to hub 20 only');
is($hubA->safe_psql('postgres', q{SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots}),
	'icos_hub_10_to_hq', 'hub 10 holds no slot for the store any more');
is($hubB->safe_psql('postgres', q{SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots}),
	'icos_hub_20_to_11,icos_hub_20_to_21,icos_hub_20_to_hq', 'hub 20 holds the store\'s slot');
is($hubA->safe_psql('postgres', 'SELECT count(*) FROM icos.orders WHERE store_id = 1'), '0',
	'hub 10 dropped its copies of the store\'s orders');
is($sA->safe_psql('postgres', q{SELECT string_agg(node_id::text, ',' ORDER BY node_id) FROM icos.node_heartbeat}),
	'0,11,20', 'the store has its own, its new hub\'s and head office\'s heartbeat');
is($sA->safe_psql('postgres', q{SELECT count(*) FROM pg_trigger WHERE tgname = 'icos_apply_upsert' AND tgenabled <> 'D'}),
	'0', 'a row received twice is a fault again at the store');
for my $c ([ $hq, 10 ], [ $hq, 20 ], [ $hubA, 10 ], [ $hubB, 20 ], [ $hubB, 11 ])
{
	is($c->[0]->safe_psql('postgres', "SELECT count(*) FROM icos.check_publications($c->[1])"), '0',
		$c->[0]->name . ": publications for node $c->[1] are as the new tree says");
}
is($hq->safe_psql('postgres', "SELECT price FROM icos.product WHERE upc = '$kettle'"),
	$sA->safe_psql('postgres', "SELECT price FROM icos.product WHERE upc = '$kettle'"),
	'the prices changed during the move reached the store');
$hq->safe_psql('postgres', "UPDATE icos.product SET price = 15.49 WHERE upc = '$kettle'");
ok($sA->poll_query_until('postgres', "SELECT price = 15.49 FROM icos.product WHERE upc = '$kettle'"),
	'a price changed after the move arrives through hub 20');
# York asks Leeds, now in one region: through hub 20, head office gets a copy
my $rcode = $sB->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 2, "channel": "store",
	"customer": {"name": "Ann Example", "email": "ann\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 1, "fulfil_from": 1}],
	"delivery": {"method": "collect", "collect_store": 2}}')});
ok($sA->poll_query_until('postgres', "SELECT icos.heartbeat() IS NOT NULL AND "
	. "(SELECT count(*) = 1 FROM icos.stock_response r JOIN icos.stock_request q USING (request_id) WHERE q.code = '$rcode')"),
	'a request from York reaches Leeds under hub 20 and is answered');
ok($sB->poll_query_until('postgres', "SELECT icos.heartbeat() IS NOT NULL AND "
	. "(SELECT remote_status = 'granted' FROM icos.order_line WHERE code = '$rcode')"),
	'York has the grant');
ok(in_step($sA, $hq, 11) && in_step($sB, $hq, 21), 'both stores in step with head office');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.stock_request WHERE code = '$rcode'"), '1',
	'head office has the request once');

# Back from hub 20 to head office directly.
@before = map { $sA->safe_psql('postgres', sell_sql(1, 1)) } 1 .. 2;
($rc, $out, $during) = move_while_selling($sA, 1, 'node', 'move-store', '--hq', $dsn{hq},
	'--store-dsn', $dsn{sA}, '--store', '11');
is($rc, 0, 'move-store from hub 20 to head office succeeds');
like($out, qr/Store node 11 is in step with head office/, 'and says so');
@after = map { $sA->safe_psql('postgres', sell_sql(1, 1)) } 1 .. 2;
orders_once($sA, 11, 1, [ @before, @$during, @after ], 'after the move to head office');
is($hq->safe_psql('postgres', q{SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots}),
	'icos_hq_to_10,icos_hq_to_11,icos_hq_to_20', 'head office holds a slot for the store now');
is($sA->safe_psql('postgres', 'SELECT string_agg(subname, \',\') FROM pg_subscription'), 'icos_hq_to_11',
	'the store subscribes to head office only');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.check_publications(11)"), '0',
	'head office\'s publications for node 11 are as described');
$hq->safe_psql('postgres', "UPDATE icos.product SET price = 15.29 WHERE upc = '$kettle'");
ok($sA->poll_query_until('postgres', "SELECT price = 15.29 FROM icos.product WHERE upc = '$kettle'"),
	'a price change reaches it directly');

# Hub 20 fails while York sells; York is re-seeded under hub 10.
$sB->safe_psql('postgres', "SELECT icos.receive_stock(2, '$kettle', 50, 'delivery')");
@before = map { $sB->safe_psql('postgres', sell_sql(2, 1)) } 1 .. 3;
ok(in_step($sB, $hq, 21), 'York in step before its hub fails');
$hubB->stop('immediate');
my @meanwhile = map { $sB->safe_psql('postgres', sell_sql(2, 1)) } 1 .. 5;
($rc, $out, $err) = icos('node', 'move-store', '--hq', $dsn{hq}, '--hub-dsn', $dsn{hubA},
	'--store-dsn', $dsn{sB}, '--store', '21');
is($rc, 1, 'move-store off a hub that cannot be reached is refused');
like($err, qr/icos node reseed --hub-dsn/, 'and says to re-seed the store under its new hub');
($rc, $out, $err) = icos('node', 'reseed', '--hq', $dsn{hq}, '--hub-dsn', $dsn{hubA},
	'--store-dsn', $dsn{sB}, '--store', '21');
is($rc, 0, 'reseed under hub 10 succeeds while hub 20 is down') or diag("$out\n$err");
like($out, qr/Hub 20 was not reached/, 'and warns not to let hub 20 reconnect');
@after = map { $sB->safe_psql('postgres', sell_sql(2, 1)) } 1 .. 2;
orders_once($sB, 21, 2, [ @before, @meanwhile, @after ], 'York under hub 10');
is($sB->safe_psql('postgres', 'SELECT string_agg(subname, \',\') FROM pg_subscription'), 'icos_hub_10_to_21',
	'York subscribes to hub 10');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.check_publications(20)"), '0',
	'head office\'s route to hub 20 no longer covers York');
$hq->safe_psql('postgres', "UPDATE icos.product SET price = 14.99 WHERE upc = '$kettle'");
ok($sB->poll_query_until('postgres', "SELECT price = 14.99 FROM icos.product WHERE upc = '$kettle'"),
	'a price change reaches York through hub 10');

# Unlinking a store under a hub.
($rc, $out, $err) = icos('node', 'remove-store', '--hq', $dsn{hq}, '--store', '21', '--store-dsn', $dsn{sB});
is($rc, 0, 'remove-store of a store under hub 10 succeeds') or diag($err);
is($hubA->safe_psql('postgres', q{SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots}),
	'icos_hub_10_to_hq', 'hub 10 holds no slot for it');
is($sB->safe_psql('postgres', 'SELECT count(*) FROM pg_subscription'), '0', 'York subscribes to nothing');
is($sB->safe_psql('postgres', 'SELECT count(*) FROM pg_replication_slots'), '0', 'and holds no slot');

for my $n ($hq, $hubA, $sA, $sB)
{
	ok(!$n->log_contains('duplicate key value violates unique constraint'),
		$n->name . ': no replicated row was applied twice, before or after the moves');
}

$_->stop for ($hq, $hubA, $sA, $sB);
done_testing();
