# Replication between head office and two store nodes (docs/replication.md):
# provisioning with the client, ownership of every row, routed cross-store
# reservations, a store whose link is down while it sells, refused local
# writes, a bad publication filter, and the order of extension upgrades.
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
for my $name (qw(hq s1 s2))
{
	my $n = PostgreSQL::Test::Cluster->new("repl_$name");
	$n->init(allows_streaming => 'logical');
	$n->append_conf('postgresql.conf', "max_replication_slots = 10\nmax_wal_senders = 10\n"
		. "max_worker_processes = 16\nmax_slot_wal_keep_size = 1GB\n"
		. "wal_receiver_status_interval = 1s\n");
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION icos');
	$node{$name} = $n;
}
my ($hq, $s1, $s2) = @node{qw(hq s1 s2)};
my %dsn = map { $_ => $node{$_}->connstr('postgres') } keys %node;

my $kettle = '036000291452';
my $lamp = '4006381333931';
$hq->safe_psql('postgres', qq{
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES
  (1, 'Leeds', 'store', 1), (2, 'York', 'store', 2), (3, 'Hull', 'store', 2), (9, 'Website', 'web', 0);
INSERT INTO icos.category VALUES (1, NULL, 'Home');
INSERT INTO icos.product (upc, name, price, lead_time_days, category_id) VALUES
  ('$kettle', 'Kettle', 19.99, 5, 1), ('$lamp', 'Desk lamp', 24.50, 3, 1);
});

# icos(ARGS): (exit status, stdout, stderr)
sub icos
{
	my ($out, $err) = ('', '');
	run([ $icos, @_ ], '<', \undef, '>', \$out, '2>', \$err, timeout(120));
	return ($? >> 8, $out, $err);
}

sub heartbeat_all
{
	$_->safe_psql('postgres', 'SELECT icos.heartbeat()') for ($s1, $s2, $hq);
}

my ($rc, $out, $err) = icos('--dsn', $dsn{hq}, 'node', 'init-hq');
is($rc, 0, 'node init-hq succeeds') or diag($err);

# Store 2's database is set up as node 2 beforehand: add-store keeps that.
$s2->safe_psql('postgres', q{SELECT icos.init_node(2, 'store', 'York')});

($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--store-dsn', $dsn{s1}, '--store', '1', '--name', 'Leeds');
is($rc, 0, 'node add-store 1 succeeds') or diag("$out\n$err");
like($err, qr/initial copy \d+ of \d+ tables/, 'add-store shows the initial copy progress');
# the store table arrived, so store 2 may now take stock
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--store-dsn', $dsn{s2}, '--store', '2', '--name', 'York');
is($rc, 0, 'node add-store 2 succeeds') or diag("$out\n$err");

is($s1->safe_psql('postgres', 'SELECT count(*) FROM icos.product'), '2', 'store 1 received the catalogue');
is($s2->safe_psql('postgres', 'SELECT string_agg(store_id::text, \',\' ORDER BY store_id) FROM icos.store'),
	'1,2,3,9', 'store 2 received the stores');
is($s1->safe_psql('postgres', 'SELECT node_id FROM icos.node'), '1', 'store database became node 1');
is($s1->safe_psql('postgres', 'SELECT key FROM icos.order_code_key'),
	$hq->safe_psql('postgres', 'SELECT key FROM icos.order_code_key'), 'order code key copied from head office');

# Ownership: stock flows store -> HQ, availability HQ -> every store.
$s1->safe_psql('postgres', "SELECT icos.receive_stock(1, '$kettle', 10, 'delivery')");
$s2->safe_psql('postgres', "SELECT icos.receive_stock(2, '$kettle', 4, 'delivery')");
$hq->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM icos.stock WHERE upc = '$kettle' AND on_hand IN (10, 4)")
  or die 'stock never reached head office';
pass('both stores\' stock reached head office');
is($s1->safe_psql('postgres', 'SELECT count(*) FROM icos.stock_slot WHERE store_id <> 1'), '0',
	'store 1 holds no stock rows of other stores');
ok($s2->poll_query_until('postgres',
	"SELECT available = 10 FROM icos.remote_availability('$kettle') WHERE store_id = 1"),
	'stock received in store 1 shows in store 2\'s availability');
is($s2->safe_psql('postgres', "SELECT string_agg(store_id || ':' || available, ',' ORDER BY store_id) FROM icos.availability('$kettle')"),
	'1:10,2:4,3:0', 'icos.availability at store 2 shows store 1 from head office\'s figures');

# Price change at HQ reaches both stores.  A till session of store 1 that
# priced the kettle before the change prices it anew at once: its
# price_basket caches must be invalidated by the replication apply worker,
# which fires row triggers only.
my $till = $s1->background_psql('postgres');
my $basket = qq{'{"lines": [{"upc": "$kettle", "qty": 1}]}'};
$till->query_safe("SELECT icos.price_basket($basket)");	# the product cache is filled from here
is($till->query_safe("SELECT icos.price_basket($basket)->>'total'"), '19.99',
	'a store 1 session prices the kettle before the change');
$hq->safe_psql('postgres', "UPDATE icos.product SET price = 17.49 WHERE upc = '$kettle'");
for my $s ($s1, $s2)
{
	ok($s->poll_query_until('postgres', "SELECT price = 17.49 FROM icos.product WHERE upc = '$kettle'"),
		$s->name . ': price change arrived');
}
is($till->query_safe("SELECT icos.price_basket($basket)->>'total'"), '17.49',
	'the same session prices the kettle at the replicated price');
$hq->safe_psql('postgres', q{INSERT INTO icos.promotion (promotion_id, name, kind, rule)
  VALUES (1, 'Kettles 10% off', 'percent_off', '{"target": {"category": [1]}, "percent": 10}')});
ok($s1->poll_query_until('postgres', 'SELECT count(*) = 1 FROM icos.promotion'), 's1: promotion arrived');
is($till->query_safe("SELECT icos.price_basket($basket)->>'total'"), '15.74',
	'the same session applies the replicated promotion');
$hq->safe_psql('postgres', 'DELETE FROM icos.promotion WHERE promotion_id = 1');
ok($s1->poll_query_until('postgres', 'SELECT count(*) = 0 FROM icos.promotion'), 's1: promotion removal arrived');
is($till->query_safe("SELECT icos.price_basket($basket)->>'total'"), '17.49',
	'the same session stops applying the removed promotion');
$till->quit;

# An order taken at store 1 is found at HQ by its code.
my $code = $s1->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
	"lines": [{"upc": "$kettle", "qty": 2}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 34.98}]}')});
like($code, qr/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, 'order placed at store 1');
ok($hq->poll_query_until('postgres', "SELECT icos.order('$code')->>'status' = 'completed'"),
	'head office finds the store\'s order by its code');
is($hq->safe_psql('postgres', "SELECT icos.order_code_node('$code')"), '1', 'the code says node 1 issued it');
ok($s2->poll_query_until('postgres',
	"SELECT available = 8 FROM icos.remote_availability('$kettle') WHERE store_id = 1"),
	'the sale at store 1 shows in store 2\'s availability');

# Local writes to rows the node does not own are refused.
my ($ret, $stdout, $stderr) = $s1->psql('postgres', "UPDATE icos.product SET price = 1 WHERE upc = '$kettle'");
like($stderr, qr/belongs to head office/, 'a store cannot change the catalogue');
($ret, $stdout, $stderr) = $s1->psql('postgres', "SELECT icos.receive_stock(2, '$kettle', 5, 'not mine')");
like($stderr, qr/belong to node 2 and cannot be changed on node 1/, 'store 1 cannot change store 2\'s stock');
($ret, $stdout, $stderr) = $hq->psql('postgres', "SELECT icos.adjust_stock(1, '$kettle', -1, 'count')");
like($stderr, qr/belong to node 1/, 'head office cannot change a store\'s stock');
($ret, $stdout, $stderr) = $s1->psql('postgres', "INSERT INTO icos.node_heartbeat (node_id, beat_at) VALUES (2, now())");
like($stderr, qr/rows of node 2 cannot be written on node 1/, 'a node cannot write another node\'s heartbeat');

# Cross-store fulfilment: a store 2 order served from store 1's stock.
my $xcode = $s2->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 2, "channel": "store",
	"customer": {"name": "Ann Example", "email": "ann\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 3, "fulfil_from": 1},
			  {"upc": "$kettle", "qty": 50, "fulfil_from": 1},
			  {"upc": "$kettle", "qty": 1}],
	"delivery": {"method": "collect", "collect_store": 2}}')});
is($s2->safe_psql('postgres', "SELECT string_agg(coalesce(l->>'remote', '-'), ',') FROM jsonb_array_elements(icos.order('$xcode')->'lines') l"),
	'pending,pending,-', 'remote lines are pending, the local one is not');
# The same customer registers at both stores: each keeps its own record, and
# head office receives both without its subscriptions stopping on the e-mail.
$s1->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
	"customer": {"name": "Ann Example", "email": "ANN\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 1}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 20.00}]}')});
$s1->safe_psql('postgres', "SELECT icos.receive_stock(1, '$kettle', 1, 'restocked after the sale above')");
ok($hq->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.customer WHERE lower(email) = 'ann\@example.com'"),
	'a customer registered at two stores reaches head office from both');
ok($s1->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.stock_request WHERE code = '$xcode'"),
	'the requests reached store 1 through head office');
$s1->safe_psql('postgres', 'SELECT icos.process_requests()');
is($s1->safe_psql('postgres', q{SELECT icos.process_requests()->>'answered'}), '0',
	'processing again answers nothing twice');
is($s1->safe_psql('postgres', "SELECT reserved FROM icos.stock WHERE store_id = 1 AND upc = '$kettle'"), '3',
	'store 1 reserved the granted request once, with the stock engine');
ok($s2->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.stock_response r JOIN icos.stock_request q USING (request_id) WHERE q.code = '$xcode'"),
	'the answers came back to store 2');
$s2->safe_psql('postgres', 'SELECT icos.process_requests()');
is($s2->safe_psql('postgres', "SELECT string_agg(coalesce(l->>'remote', '-') || ':' || (l->>'status'), ',') FROM jsonb_array_elements(icos.order('$xcode')->'lines') l"),
	'granted:reserved,refused:backorder,-:reserved', 'granted line reserved, refused one back-ordered');
like($s2->safe_psql('postgres', "SELECT string_agg(e->>'note', '|') FROM jsonb_array_elements(icos.order('$xcode')->'events') e"),
	qr/line 2: store 1 could not reserve the stock/, 'the refusal is an order event');
ok($hq->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.order_line WHERE code = '$xcode' AND remote_status IN ('granted', 'refused')"),
	'head office sees the answered lines');

# Granted remote lines: handed over (the stock's node consumes) or
# cancelled (it releases).
my $stock1 = sub {
	$s1->safe_psql('postgres', "SELECT on_hand || '/' || reserved FROM icos.stock WHERE store_id = 1 AND upc = '$kettle'");
};
my $s1_before = $stock1->();
my ($h_on, $h_res) = split m{/}, $s1_before;
my %remote;
my %amount = (1 => '17.49', 2 => '34.98');
for my $q (2, 1)
{
	$remote{$q} = $s2->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 2, "channel": "phone",
		"customer": {"name": "Carol Example", "email": "carol\@example.com"},
		"lines": [{"upc": "$kettle", "qty": $q, "fulfil_from": 1}],
		"delivery": {"method": "home", "address": {"line1": "1 High St", "town": "York", "postcode": "YO1 1AA"}},
		"payments": [{"method": "cash", "amount": $amount{$q}}]}')});
}
ok($s1->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.stock_request WHERE code IN ('$remote{2}', '$remote{1}')"),
	'two more requests reached store 1');
$s1->safe_psql('postgres', 'SELECT icos.heartbeat()');
ok($s2->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.stock_response r JOIN icos.stock_request q USING (request_id) WHERE q.code IN ('$remote{2}', '$remote{1}')"),
	'both granted answers came back');
$s2->safe_psql('postgres', 'SELECT icos.heartbeat()');
is($s2->safe_psql('postgres', "SELECT string_agg(remote_status, ',') FROM icos.order_line WHERE code IN ('$remote{2}', '$remote{1}')"),
	'granted,granted', 'both lines granted');
$s2->safe_psql('postgres', "SELECT icos.advance_order('$remote{2}', 'dispatched')");
$s2->safe_psql('postgres', "SELECT icos.cancel_order('$remote{1}', 'customer changed their mind')");
is($s2->safe_psql('postgres', "SELECT string_agg(status || ':' || reserved_qty, ',' ORDER BY qty DESC) FROM icos.order_line WHERE code IN ('$remote{2}', '$remote{1}')"),
	'fulfilled:0,cancelled:0', 'dispatched line fulfilled, cancelled line released, at store 2');
ok($s1->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.stock_request WHERE code IN ('$remote{2}', '$remote{1}') AND kind <> 'reserve'"),
	'the consume and release requests reached store 1');
$s1->safe_psql('postgres', 'SELECT icos.heartbeat()');
is($stock1->(), ($h_on - 2) . '/' . $h_res, 'store 1 consumed the dispatched units and released the cancelled one');
is($s1->safe_psql('postgres', "SELECT string_agg(kind, ',' ORDER BY movement_id) FROM icos.stock_movement WHERE order_code IN ('$remote{2}', '$remote{1}')"),
	'reserve,reserve,sale,release', 'store 1\'s ledger records each step against the order');

# A web order at head office, which holds no stock: the server picks the
# store with the most stock (store 1, another node) and asks it.
my $wcode = $hq->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 9, "channel": "web",
	"customer": {"name": "Dan Example", "email": "dan\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 1}],
	"delivery": {"method": "home", "address": {"line1": "2 Low St", "town": "Leeds", "postcode": "LS1 1AA"}},
	"payments": [{"method": "visa", "amount": 17.49, "reference": "auth 1234"}]}')});
is($hq->safe_psql('postgres', "SELECT fulfil_from || ':' || remote_status FROM icos.order_line WHERE code = '$wcode'"),
	'1:pending', 'web order line served by store 1, pending');
ok($s1->poll_query_until('postgres', "SELECT count(*) = 1 FROM icos.stock_request WHERE code = '$wcode'"),
	'the web order\'s request reached store 1');
($rc, $out, $err) = icos('--dsn', $dsn{s1}, 'node', 'heartbeat');
is($rc, 0, 'node heartbeat at store 1 succeeds');
like($out, qr/"granted": 1/, 'and reports the request it granted');
ok($hq->poll_query_until('postgres', "SELECT icos.process_requests() IS NOT NULL AND
	(SELECT remote_status = 'granted' FROM icos.order_line WHERE code = '$wcode')"),
	'head office applies the grant to its web order');

# Expiry: a request that reaches its store too late is refused there; one
# never answered is given up by the asking node.
my $ecode = $s2->safe_psql('postgres', qq{SET icos.request_ttl = '1 second'; SELECT icos.place_order('{"store": 2, "channel": "store",
	"customer": {"name": "Bob Example", "email": "bob\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 1, "fulfil_from": 1}], "delivery": {"method": "collect", "collect_store": 2}}')});
ok($s1->poll_query_until('postgres', "SELECT count(*) = 1 FROM icos.stock_request WHERE code = '$ecode' AND expires_at < clock_timestamp()"),
	'expiring request arrived');
is($s1->safe_psql('postgres', q{SELECT icos.process_requests()->>'answered'}), '1', 'it is answered');
is($s1->safe_psql('postgres', "SELECT status FROM icos.stock_response r JOIN icos.stock_request q USING (request_id) WHERE q.code = '$ecode'"),
	'expired', 'as expired, without reserving');
my $gcode = $s2->safe_psql('postgres', qq{SET icos.request_ttl = '10 ms'; SELECT icos.place_order('{"store": 2, "channel": "store",
	"customer": {"name": "Bob Example", "email": "bob\@example.com"},
	"lines": [{"upc": "$kettle", "qty": 1, "fulfil_from": 1}], "delivery": {"method": "collect", "collect_store": 2}}')});
$s2->safe_psql('postgres', "ALTER DATABASE postgres SET icos.request_grace = '0'");
ok($s2->poll_query_until('postgres', "SELECT icos.process_requests() IS NOT NULL AND
	(SELECT remote_status = 'refused' FROM icos.order_line WHERE code = '$gcode')"),
	'an unanswered request is given up after expiry and grace');
$s2->safe_psql('postgres', 'ALTER DATABASE postgres RESET icos.request_grace');

# Link status at head office.
heartbeat_all();
ok($hq->poll_query_until('postgres', "SELECT count(*) = 2 FROM icos.node_status WHERE link_state = 'up' AND last_heartbeat IS NOT NULL"),
	'node_status: both links up with heartbeats');
($rc, $out, $err) = icos('--dsn', $dsn{hq}, 'node', 'status');
is($rc, 0, 'node status succeeds');
like($out, qr/^\s+1\s+1\s+up\s/m, 'node status lists store node 1 as up');
like($out, qr/^\s+2\s+2,3\s+up\s/m, 'node status lists store node 2 with its two stores');
($rc, $out, $err) = icos('--dsn', $dsn{hq}, '--json', 'node', 'status');
like($out, qr/"link_state": "up"/, 'node status --json gives the figures as JSON');

# Store 1 sells while its link to head office is down (HQ stopped), then
# reconnects: every order arrives once.
$s1->safe_psql('postgres', "SELECT icos.receive_stock(1, '$kettle', 50, 'delivery')");
my $before = $hq->safe_psql('postgres', 'SELECT count(*) FROM icos.orders WHERE store_id = 1');
$hq->stop('fast');
my @codes;
for my $i (1 .. 20)
{
	push @codes, $s1->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
		"lines": [{"upc": "$kettle", "qty": 1}], "delivery": {"method": "carry"},
		"payments": [{"method": "cash", "amount": 17.49}]}')});
}
$hq->start;
ok($hq->poll_query_until('postgres', "SELECT count(*) = $before + 20 FROM icos.orders WHERE store_id = 1"),
	'after reconnecting, head office has the 20 orders taken offline');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE code = ANY ('{" . join(',', @codes) . "}')"),
	'20', 'each of them once');
is($hq->safe_psql('postgres', "SELECT on_hand FROM icos.stock WHERE store_id = 1 AND upc = '$kettle'"),
	$s1->safe_psql('postgres', "SELECT on_hand FROM icos.stock WHERE store_id = 1 AND upc = '$kettle'"),
	'head office has store 1\'s stock counters');
is($hq->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_stock() WHERE store_id = 1'), '0',
	'and they agree with the replicated ledger');

# A bad publication filter is caught before anything subscribes.
$hq->safe_psql('postgres', 'ALTER PUBLICATION icos_hq_route_1 SET TABLE icos.stock_request WHERE (to_node = 2), icos.stock_response WHERE (to_node = 1)');
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--store-dsn', $dsn{s1}, '--store', '1');
is($rc, 1, 'add-store refuses a publication with a wrong row filter');
like($err, qr/icos_hq_route_1, table icos\.stock_request: row filter is \(to_node = 2\), should be \(to_node = 1\)/,
	'and says which filter is wrong');
$hq->safe_psql('postgres', 'ALTER PUBLICATION icos_hq_route_1 SET TABLE icos.stock_request WHERE (to_node = 1), icos.stock_response WHERE (to_node = 1), icos.customer_erasure_request WHERE (to_node = 1)');
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--store-dsn', $dsn{s1}, '--store', '1');
is($rc, 0, 'with the filter repaired add-store passes (idempotent)') or diag($err);

# Extension upgrade order.  Subscribers first: a column added at the stores,
# then at HQ, carries its values at once.
$_->safe_psql('postgres', 'ALTER TABLE icos.product ADD COLUMN eco_label text') for ($s1, $s2, $hq);
$hq->safe_psql('postgres', "UPDATE icos.product SET eco_label = 'A' WHERE upc = '$lamp'");
for my $s ($s1, $s2)
{
	ok($s->poll_query_until('postgres', "SELECT eco_label = 'A' FROM icos.product WHERE upc = '$lamp'"),
		$s->name . ': upgraded subscriber first: the new column replicates');
}
# Publisher first: store 1 has the new order column, HQ not yet: the link
# stalls (apply errors at HQ) and resumes without loss once HQ upgrades.
$s1->safe_psql('postgres', 'ALTER TABLE icos.orders ADD COLUMN till_no int');
my $ucode = $s1->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
	"lines": [{"upc": "$kettle", "qty": 1}], "delivery": {"method": "carry"},
	"payments": [{"method": "cash", "amount": 17.49}]}')});
ok($hq->poll_query_until('postgres', q{SELECT coalesce(sum(apply_error_count), 0) > 0 FROM pg_stat_subscription_stats WHERE subname = 'icos_store_1_to_hq'}),
	'publisher upgraded first: head office cannot apply the store\'s change');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE code = '$ucode'"), '0', 'the order waits');
$hq->safe_psql('postgres', 'ALTER TABLE icos.orders ADD COLUMN till_no int');
ok($hq->poll_query_until('postgres', "SELECT count(*) = 1 FROM icos.orders WHERE code = '$ucode'"),
	'after head office upgrades the link resumes and the order arrives');
is($hq->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE store_id = 1"),
	$s1->safe_psql('postgres', 'SELECT count(*) FROM icos.orders'), 'nothing lost on the way');

# Remove and re-seed store 2.
($rc, $out, $err) = icos('node', 'reseed', '--hq', $dsn{hq}, '--store-dsn', $dsn{s2}, '--store', '2');
is($rc, 0, 'node reseed succeeds') or diag("$out\n$err");
is($hq->safe_psql('postgres', 'SELECT count(*) FROM icos.orders WHERE store_id IN (2, 3)'),
	$s2->safe_psql('postgres', 'SELECT count(*) FROM icos.orders'), 'after the re-seed head office has store 2\'s orders once');
is($s2->safe_psql('postgres', 'SELECT count(*) FROM icos.product'), '2', 'and store 2 the catalogue');
($rc, $out, $err) = icos('node', 'remove-store', '--hq', $dsn{hq}, '--store-dsn', $dsn{s2}, '--store', '2');
is($rc, 0, 'node remove-store succeeds') or diag($err);
is($hq->safe_psql('postgres', "SELECT link_state FROM icos.node_status WHERE node_id = 2"), 'not provisioned',
	'node_status shows the removed node unprovisioned');
is($hq->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'icos_hq_to_2'"), '0',
	'its slot at head office is gone');

$_->stop for values %node;
done_testing();
