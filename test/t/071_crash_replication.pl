# Crash of a replicated node (issue #8).
#
# Head office and one store node, linked with `icos node init-hq` and
# `add-store`.  Four till clients sell at the store as fast as they can, each
# printing every order code the server acknowledged (after its commit); a web
# client at head office orders goods from the store's stock (cross-store
# requests routed through the replication links); both nodes run a
# heartbeat loop.
#
# Phase 1: at a random moment the store's postmaster and every backend get
#   SIGKILL; the store restarts through crash recovery, sells again, and is
#   killed a second time while head office catches up.
# Phase 2: the same with head office killed instead.
#
# After each phase the nodes converge (heartbeats both ways, with a timeout)
# and the test checks: every acknowledged order exists at the store and at
# head office exactly once with exactly its lines and payments; the store's
# orders, lines, payments, events, ledger and customers are the same at both
# nodes (nothing lost, invented or duplicated); no cross-store line is left
# pending and every granted one is reserved once at the store; the store's
# stock rows at head office equal the store's own; icos.verify_stock() is
# empty at both; both subscriptions stream and caught up, and no apply
# worker failed for any reason but the lost connection.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run qw(run timeout);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use IcosCrash;

my $top = $ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $icos = "$top/src/cli/icos";
plan skip_all => "client not built ($icos); run make first" unless -x $icos;

my $SEED = $ENV{ICOS_CRASH_SEED} // int(time);
srand($SEED);
note("seed $SEED (set ICOS_CRASH_SEED to repeat)");
my $T0 = time;

my $TILLS = 4;
my $APP = 'icos071';    # application_name of every load session

my %node;
for my $name (qw(hq store))
{
	my $n = PostgreSQL::Test::Cluster->new("crashrepl_$name");
	$n->init(allows_streaming => 'logical');
	# fsync is off in tests: a killed server loses nothing the kernel has,
	# which is what a process crash tests.  Commits are acknowledged once
	# their WAL is written.  A failed apply worker restarts after
	# wal_retrieve_retry_interval: short, so the links come back at once.
	$n->append_conf('postgresql.conf', "synchronous_commit = on\nmax_connections = 40\n"
		  . "max_replication_slots = 10\nmax_wal_senders = 10\nmax_worker_processes = 16\n"
		  . "max_slot_wal_keep_size = 1GB\nwal_receiver_status_interval = 1s\n"
		  . "wal_retrieve_retry_interval = 200ms\n"
		  . "log_statement = none\nlog_min_error_statement = panic\n");
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION icos');
	$node{$name} = $n;
}
my ($hq, $store) = @node{qw(hq store)};

# 20 products (price 10.00 + n) sold at store 1 (node 1); head office sells
# on the web (store 9) from store 1's stock.
my $NPROD = 20;
my @upc;
for my $n (1 .. $NPROD)
{
	my $d = sprintf('50999971%04d', $n);
	my $s = 0;
	$s += substr($d, $_, 1) * ($_ % 2 ? 3 : 1) for 0 .. 11;
	push @upc, $d . ((10 - $s % 10) % 10);
}
my $upc_list = join(',', map { "'$_'" } @upc);
$hq->safe_psql(
	'postgres', qq{
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES (1, 'Crash store', 'store', 1), (9, 'Website', 'web', 0);
INSERT INTO icos.category (category_id, name) VALUES (1, 'Crash');
INSERT INTO icos.product (upc, name, category_id, price)
SELECT u::icos.upc, 'Crash item ' || n, 1, 10.00 + n FROM unnest(ARRAY[$upc_list]) WITH ORDINALITY x(u, n);
});

sub icos
{
	my ($out, $err) = ('', '');
	run([ $icos, @_ ], '<', \undef, '>', \$out, '2>', \$err, timeout(120));
	return ($? >> 8, $out, $err);
}
my ($rc, $out, $err) = icos('--dsn', $hq->connstr('postgres'), 'node', 'init-hq');
is($rc, 0, 'node init-hq succeeds') or diag($err);
($rc, $out, $err) = icos('node', 'add-store', '--hq', $hq->connstr('postgres'),
	'--store-dsn', $store->connstr('postgres'), '--store', '1', '--name', 'Crash store');
is($rc, 0, 'node add-store succeeds') or diag("$out\n$err");
$store->safe_psql('postgres',
	"SELECT count(icos.receive_stock(1, upc, 1000000, 'crash stock')) FROM icos.product");

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Heartbeats both ways until each node has everything the other committed
# and no cross-store line waits for an answer: HQ beats (its requests are
# then at the store), the store beats (answers them; answers and orders
# are then at HQ), HQ beats again (applies the answers).  Returns the
# seconds it took, or undef after the timeout.
sub converge
{
	my ($timeout) = @_;
	my $t0 = time;
	my @leg = ([ $hq, $store, 0 ], [ $store, $hq, 1 ], [ $hq, $store, 0 ]);
	while (time - $t0 < $timeout)
	{
		my $in_step = 1;
		for my $l (@leg)
		{
			my ($from, $to, $from_node) = @$l;
			my $at = $from->safe_psql('postgres', q{SELECT icos.heartbeat()->>'at'});
			$in_step &&= $to->safe_psql('postgres',
				"SELECT icos.wait_for_heartbeat($from_node, '$at', '10 s')") eq 't';
		}
		next unless $in_step;
		return time - $t0
		  if $hq->safe_psql('postgres', q{SELECT count(*) FROM icos.order_line WHERE remote_status = 'pending'}) eq '0'
		  && $store->safe_psql('postgres', q{SELECT count(*) FROM icos.stock_request q
				WHERE q.to_node = 1 AND NOT EXISTS (SELECT 1 FROM icos.stock_response r WHERE r.request_id = q.request_id)}) eq '0';
	}
	return undef;
}

# Restart a killed node and check it went through crash recovery.
sub restart_node
{
	my ($n, $what) = @_;
	my $offset = -s $n->logfile;
	$n->start;
	ok($n->log_contains(qr/database system was interrupted.*\n(?:.*\n)*.*redo starts at/, $offset),
		"$what: " . $n->name . ' restarted through crash recovery');
}

# Load clients: one psql session each, reading a script, with its output
# and errors kept.  A till order carried out is paid in full in cash; a
# collection pays a 10.00 deposit by card.
my (%expect, @clients);

sub start_client
{
	my ($n, $sql, $tag) = @_;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/crashrepl_$tag.sql";
	open my $fh, '>', $file or die "cannot write $file: $!";
	print $fh "\\set ON_ERROR_STOP 1\n$sql";
	close $fh;
	my $c = { tag => $tag, node => $n, out => '', err => '' };
	$c->{h} = IPC::Run::start(
		[ 'psql', '-X', '-At', '-q', '-d', $n->connstr('postgres') . " application_name=$APP", '-f', $file ],
		'<', \undef, '>', \$c->{out}, '2>', \$c->{err});
	push @clients, $c;
	return $c;
}

sub till_client
{
	my ($tag) = @_;
	my $sql = '';
	for my $i (1 .. 3000)
	{
		my $carry = rand() < 0.5;
		my %lines;
		$lines{ 1 + int(rand($NPROD)) } += 1 + int(rand(3)) for 1 .. 1 + int(rand(3));
		my ($units, $total, @l) = (0, 0);
		for my $n (sort { $a <=> $b } keys %lines)
		{
			push @l, sprintf('{"upc": "%s", "qty": %d}', $upc[ $n - 1 ], $lines{$n});
			$units += $lines{$n};
			$total += $lines{$n} * (1000 + 100 * $n);
		}
		my ($doc, $paid) =
		  $carry
		  ? (sprintf('{"store": 1, "channel": "pos", "lines": [%s], "delivery": {"method": "carry"},'
				  . ' "payments": [{"method": "cash", "amount": %.2f}]}', join(', ', @l), $total / 100 + 5), $total)
		  : (sprintf('{"store": 1, "channel": "store", "customer": {"name": "Till %s", "email": "%s@example.com"},'
				  . ' "lines": [%s], "delivery": {"method": "collect"},'
				  . ' "payments": [{"method": "visa", "amount": 10.00, "reference": "%s-%d"}]}',
				  $tag, $tag, join(', ', @l), $tag, $i), 1000);
		$sql .= "SELECT '${tag}o$i', icos.place_order('$doc');\n";
		$expect{"${tag}o$i"} = [ 1, scalar(keys %lines), $units, $paid ];
	}
	return start_client($store, $sql, $tag);
}

# Web and phone orders at head office, one or two lines from store 1's
# stock, paid in full by card; a short pause between orders.
sub web_client
{
	my ($tag) = @_;
	my $sql = '';
	for my $i (1 .. 2000)
	{
		my ($units, $total, @l) = (0, 0);
		for my $n (sort { $a <=> $b } 1 + int(rand($NPROD / 2)), $NPROD / 2 + 1 + int(rand($NPROD / 2)))
		{
			next if @l && rand() < 0.5;
			my $q = 1 + int(rand(2));
			push @l, sprintf('{"upc": "%s", "qty": %d, "fulfil_from": 1}', $upc[ $n - 1 ], $q);
			$units += $q;
			$total += $q * (1000 + 100 * $n);
		}
		my $doc = sprintf('{"store": 9, "channel": "%s", "customer": {"name": "Web %s", "email": "%s@example.com"},'
			  . ' "lines": [%s], "delivery": {"method": "home", "address": {"line1": "%d High St", "town": "Leeds", "postcode": "LS1 1AA"}},'
			  . ' "payments": [{"method": "visa", "amount": %.2f, "reference": "%s-%d"}]}',
			$i % 3 ? 'web' : 'phone', $tag, $tag, join(', ', @l), $i, $total / 100, $tag, $i);
		$sql .= "SELECT '${tag}o$i', icos.place_order('$doc');\nSELECT pg_sleep(0.05);\n";
		$expect{"${tag}o$i"} = [ 0, scalar(@l), $units, $total ];
	}
	return start_client($hq, $sql, $tag);
}

sub heartbeat_client
{
	my ($n, $tag) = @_;
	return start_client($n, "SELECT icos.heartbeat() IS NOT NULL;\nSELECT pg_sleep(0.2);\n" x 3000, $tag);
}

sub pump_for
{
	my ($seconds) = @_;
	my $t0 = time;
	while (time - $t0 < $seconds)
	{
		usleep(100_000);
		eval { $_->{h}->pump_nb } for grep { $_->{h} } @clients;
	}
}

# The clients connected to a node end with it (psql stops at the lost
# connection); the others are stopped here.  Then wait until no load
# session is left on either node, so nothing commits behind the checks.
sub reap_clients
{
	my ($dead) = @_;
	for my $c (grep { $_->{h} } @clients)
	{
		eval { $c->{h}->signal('KILL') } unless $dead && $c->{node} == $dead;
		eval { $c->{h}->finish };
		delete $c->{h};
	}
	for my $n ($hq, $store)
	{
		next unless defined $n->{_pid};
		$n->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = '$APP'")
		  or die 'load sessions did not end';
	}
}

my %acked;
sub collect_acks
{
	for my $c (@clients)
	{
		$acked{$1} = $2 while $c->{out} =~ /^(\w+o\d+)\|(\S+)$/mg;
	}
}

# A client may end only by losing its server or being stopped: any SQL
# error (no stock, a deadlock, a heartbeat failing) is a finding.
sub client_errors
{
	my @bad;
	for my $c (@clients)
	{
		push @bad, "$c->{tag}: $1" while $c->{err} =~ /^(.*(?:ERROR|PANIC).*)$/mg;
	}
	return @bad;
}

# The store's part of the data at one node, as one fingerprint per table.
my $store_rows_sql = q{
	SELECT 'orders ' || count(*) || ' ' || md5(coalesce(string_agg(code::text || status || total_pence, ',' ORDER BY code), ''))
	  FROM icos.orders WHERE store_id = 1
	UNION ALL
	SELECT 'lines ' || count(*) || ' ' || md5(coalesce(string_agg(code::text || line || upc::text || qty || status || reserved_qty || consumed_qty, ',' ORDER BY code, line), ''))
	  FROM icos.order_line WHERE store_id = 1
	UNION ALL
	SELECT 'payments ' || count(*) || ' ' || md5(coalesce(string_agg(code::text || payment_no || amount_pence, ',' ORDER BY code, payment_no), ''))
	  FROM icos.order_payment WHERE store_id = 1
	UNION ALL
	SELECT 'events ' || count(*) || ' ' || md5(coalesce(string_agg(code::text || event_id, ',' ORDER BY code, event_id), ''))
	  FROM icos.order_event WHERE store_id = 1
	UNION ALL
	SELECT 'ledger ' || count(*) || ' ' || md5(coalesce(string_agg(movement_id || kind || d_on_hand || '/' || d_reserved, ',' ORDER BY movement_id), ''))
	  FROM icos.stock_movement WHERE store_id = 1
	UNION ALL
	SELECT 'stock ' || count(*) || ' ' || md5(coalesce(string_agg(upc::text || ':' || on_hand || '/' || reserved, ',' ORDER BY upc), ''))
	  FROM icos.stock WHERE store_id = 1
	UNION ALL
	SELECT 'customers ' || count(*) || ' ' || md5(coalesce(string_agg(customer_id::text, ',' ORDER BY customer_id), ''))
	  FROM icos.customer WHERE customer_id >> 40 = 1};

# Errors in a node's log since the last check, but for what a killed peer
# or a killed client causes: a lost or refused replication connection (the
# apply worker then restarts and resumes from its origin's position), a
# new worker starting while the failed one still holds the origin or the
# slot, a client gone.  An apply worker failing on a change (a duplicate
# key, a trigger error) would stall the link: such errors are listed.
# (PostgreSQL 15 counts a lost connection in the subscription's
# apply_error_count too, so that figure cannot tell them apart.)
my %log_from = (hq => 0, store => 0);
sub log_errors
{
	my ($n, $key) = @_;
	my $log = slurp_file($n->logfile, $log_from{$key});
	return grep {
		!/could not receive data from WAL stream|could not connect to the publisher|could not send (?:data to WAL stream|end-of-streaming message to primary)|terminating .* due to administrator command|replication (?:slot "icos_\w+"|origin with ID \d+) is (?:already )?active for PID|connection to client lost|could not send data to client|the database system is (?:starting up|not yet accepting connections|in recovery mode|shutting down)/
	} $log =~ /^.*\b(?:ERROR|FATAL|PANIC):.*$/mg;
}

# ---------------------------------------------------------------------------
# The checks, after each phase
# ---------------------------------------------------------------------------
sub check_all
{
	my ($phase) = @_;
	collect_acks();
	my @errors = client_errors();
	is(scalar(@errors), 0, "$phase: no client got an SQL error (only lost connections)") or diag(join("\n", @errors[ 0 .. ($#errors < 9 ? $#errors : 9) ]));

	my $took = converge(60);
	ok(defined $took, "$phase: head office and the store converge (heartbeats both ways, nothing pending)");
	note(sprintf('%s: converged in %.1f s', $phase, $took // -1));

	# Every acknowledged order exactly once, with exactly its lines and
	# payments: store orders at both nodes, web orders at head office.
	for my $n ($store, $hq)
	{
		my @codes = grep { $n == $hq || $expect{$_}[0] == 1 } sort keys %acked;
		my $values = join(",\n", map { sprintf("('%s', %d, %d, %d)", $acked{$_}, @{ $expect{$_} }[ 1 .. 3 ]) } @codes);
		is( $n->safe_psql(
				'postgres', qq{
		WITH ack(code, n_lines, units, paid) AS (VALUES $values)
		SELECT count(*) FILTER (WHERE o.n = 0) || ' missing, ' || count(*) FILTER (WHERE o.n > 1) || ' duplicated, '
			|| count(*) FILTER (WHERE o.n = 1 AND (l.n, l.units, p.paid) IS DISTINCT FROM (a.n_lines, a.units, a.paid)) || ' different'
		FROM ack a
		CROSS JOIN LATERAL (SELECT count(*) AS n FROM icos.orders x WHERE x.code = a.code::icos.order_code) o
		LEFT JOIN LATERAL (SELECT count(*) AS n, sum(qty) AS units FROM icos.order_line x WHERE x.code = a.code::icos.order_code) l ON true
		LEFT JOIN LATERAL (SELECT sum(amount_pence) AS paid FROM icos.order_payment y WHERE y.code = a.code::icos.order_code) p ON true}),
			'0 missing, 0 duplicated, 0 different',
			sprintf('%s: %s has each of the %d acknowledged %s exactly once with its lines and payments',
				$phase, $n->name, scalar(@codes), $n == $hq ? 'store and web orders' : 'store orders'));
	}

	# The store's data at head office is the store's own: nothing lost,
	# duplicated or invented, the stock counters included.
	my $at_store = $store->safe_psql('postgres', $store_rows_sql);
	is($hq->safe_psql('postgres', $store_rows_sql), $at_store,
		"$phase: head office holds exactly the store's orders, lines, payments, events, ledger, stock rows and customers");
	note("$phase: store 1 at both nodes: " . join('; ', split /\n/, $at_store));

	# Cross-store lines: none pending; each granted line reserved once at
	# the store (its ledger names the order), none reserved for a refused
	# one.
	is($hq->safe_psql('postgres', q{SELECT count(*) FROM icos.order_line WHERE remote_status = 'pending'}),
		'0', "$phase: no cross-store line is left pending at head office");
	my $granted = $hq->safe_psql('postgres', q{
		SELECT coalesce(string_agg(code::text || ':' || n, ',' ORDER BY code), '') FROM (
			SELECT code, sum(qty) AS n FROM icos.order_line
			 WHERE store_id = 9 AND fulfil_from = 1 AND remote_status = 'granted' GROUP BY code) x});
	is($store->safe_psql('postgres', q{
		SELECT coalesce(string_agg(order_code || ':' || n, ',' ORDER BY order_code::icos.order_code), '') FROM (
			SELECT order_code, sum(d_reserved) AS n FROM icos.stock_movement
			 WHERE store_id = 1 AND kind = 'reserve' AND icos.order_code_node(order_code::icos.order_code) = 0
			 GROUP BY order_code) x}),
		$granted, "$phase: the store reserved each granted web line once, and nothing for refused ones");
	cmp_ok(($granted =~ tr/,//) + ($granted ne '' ? 1 : 0), '>', 0, "$phase: web orders were granted stock from the store");

	for my $n ($store, $hq)
	{
		is($n->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_stock()'), '0',
			"$phase: verify_stock() is empty at " . $n->name);
	}

	# Both links stream again (converge showed they caught up); no apply
	# worker stopped for anything but the lost connection.
	for my $s ([ $hq, 'icos_store_1_to_hq', 'hq' ], [ $store, 'icos_hq_to_1', 'store' ])
	{
		my ($sub, $subname, $key) = @$s;
		ok( $sub->poll_query_until(
				'postgres', qq{SELECT EXISTS (SELECT 1 FROM pg_stat_subscription WHERE subname = '$subname' AND pid IS NOT NULL)}),
			"$phase: $subname streams");
		my @bad = log_errors($sub, $key);
		is(scalar(@bad), 0, "$phase: no error in the log of " . $sub->name . " but lost connections") or diag(join("\n", @bad[ 0 .. ($#bad < 19 ? $#bad : 19) ]));
		note("$phase: $subname apply_error_count " . $sub->safe_psql('postgres',
			"SELECT apply_error_count || ' (connection losses count here in PostgreSQL 15)' FROM pg_stat_subscription_stats WHERE subname = '$subname'"));
		$log_from{$key} = -s $sub->logfile;
	}
	@clients = ();
}

# ---------------------------------------------------------------------------
# Phase 1: the store is killed under load, restarted, killed again while
# head office catches up.
# ---------------------------------------------------------------------------
# The initial stock reached head office before the load starts.
ok(defined converge(30), 'before the load: the nodes are in step');

till_client("a${_}") for 1 .. $TILLS;
web_client('wa');
heartbeat_client($hq, 'hqbeat');
heartbeat_client($store, 'stbeat');
my $wait = 2 + rand(2);
pump_for($wait);
my $n_kids = kill_cluster($store);
note(sprintf('phase 1: killed the store (%d children) after %.1f s', $n_kids, $wait));
# The store's clients and heartbeat die with it; head office goes on.
for my $c (grep { $_->{node} == $store } @clients) { eval { $c->{h}->finish }; delete $c->{h} }
collect_acks();
cmp_ok(scalar(grep { /^a/ } keys %acked), '>', 20, 'phase 1: the tills had orders acknowledged before the kill');
restart_node($store, 'phase 1');

# Selling again while head office reconnects and catches up; then the
# second kill.
till_client("b${_}") for 1 .. $TILLS;
heartbeat_client($store, 'stbeat2');
$wait = 0.5 + rand(1.5);
pump_for($wait);
my $behind = $store->safe_psql('postgres', q{SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), -1)
	FROM pg_replication_slots WHERE slot_name = 'icos_store_1_to_hq'});
$n_kids = kill_cluster($store);
note(sprintf('phase 1: killed the store again (%d children) after %.1f s, head office %s bytes behind',
	$n_kids, $wait, $behind));
reap_clients($store);
restart_node($store, 'phase 1, second kill');
check_all('phase 1');

# ---------------------------------------------------------------------------
# Phase 2: head office is killed under load.
# ---------------------------------------------------------------------------
till_client("c${_}") for 1 .. $TILLS;
web_client('wc');
heartbeat_client($hq, 'hqbeat3');
heartbeat_client($store, 'stbeat3');
$wait = 1.5 + rand(2);
pump_for($wait);
$n_kids = kill_cluster($hq);
note(sprintf('phase 2: killed head office (%d children) after %.1f s', $n_kids, $wait));
for my $c (grep { $_->{node} == $hq && $_->{h} } @clients) { eval { $c->{h}->finish }; delete $c->{h} }
restart_node($hq, 'phase 2');
# The store sold on while head office was down; it catches up now.
web_client('wd');
heartbeat_client($hq, 'hqbeat4');
pump_for(1 + rand(1));
reap_clients(undef);
check_all('phase 2');

note(sprintf('total %.1f s', time - $T0));
$_->stop for $hq, $store;
done_testing();
