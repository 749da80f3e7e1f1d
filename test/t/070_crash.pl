# Crash and fault tests.
#
# 1. Power cut under load: 8 clients place orders as fast as they can (each
#    a psql session printing every order code the server acknowledged, i.e.
#    after its commit), and at a random moment the postmaster and every
#    backend get SIGKILL.  After crash recovery every acknowledged order is
#    there with exactly its lines and payments, no order lacks its lines,
#    icos.verify_stock() is empty and the ledger balances (on hand + sold =
#    received, reserved = held by lines).  Twice, with different moments.
# 2. A statement_timeout, then a lock_timeout, in the middle of place_order
#    (stock already reserved, the order rows blocked by a lock): the client
#    gets 57014 / 55P03 and nothing of the order remains.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use IcosCrash;

my $SEED = $ENV{ICOS_CRASH_SEED} // 8;
my $CLIENTS = 8;
my $ROUNDS = 2;
srand($SEED);

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# The test framework turns fsync off; a killed server loses nothing the
# kernel already has, which is what a process crash tests.  Commits are
# acknowledged only once their WAL is written.
$node->append_conf('postgresql.conf',
	"synchronous_commit = on\nmax_connections = 40\nlog_statement = none\nlog_min_error_statement = panic\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION icos');

# 40 products (price 10.00 + n), a store and a warehouse with plenty of each.
my $NPROD = 40;
my @upc;
for my $n (1 .. $NPROD)
{
	my $d = sprintf('50999990%04d', $n);
	my $s = 0;
	$s += substr($d, $_, 1) * ($_ % 2 ? 3 : 1) for 0 .. 11;
	push @upc, $d . ((10 - $s % 10) % 10);
}
my $upc_list = join(',', map { "'$_'" } @upc);
$node->safe_psql(
	'postgres', qq{
INSERT INTO icos.store (store_id, name, kind) VALUES (10, 'Crash store', 'store'), (11, 'Crash warehouse', 'warehouse');
INSERT INTO icos.category (category_id, name) VALUES (1, 'Crash');
INSERT INTO icos.product (upc, name, category_id, price)
SELECT u::icos.upc, 'Crash item ' || n, 1, 10.00 + n FROM unnest(ARRAY[$upc_list]) WITH ORDINALITY x(u, n);
SELECT count(icos.receive_stock(s, upc, 1000000, 'crash stock')) FROM icos.product, unnest(ARRAY[10, 11]) s;
});

# One client's script: numbered orders, each printed with its number once
# acknowledged.  Returns the script and the expected shape of each order.
sub client_script
{
	my ($c) = @_;
	my ($sql, %expect) = ("\\set ON_ERROR_STOP 1\n");
	for my $i (1 .. 4000)
	{
		my $carry = rand() < 0.5;
		my %lines;
		$lines{ 1 + int(rand($NPROD)) } += 1 + int(rand(3)) for 1 .. 1 + int(rand(3));
		my ($units, $total) = (0, 0);
		my @l;
		for my $n (sort { $a <=> $b } keys %lines)
		{
			my $ff = !$carry && rand() < 0.3 ? 11 : 10;    # carried out: from the shop
			push @l, sprintf('{"upc": "%s", "qty": %d, "fulfil_from": %d}', $upc[ $n - 1 ], $lines{$n}, $ff);
			$units += $lines{$n};
			$total += $lines{$n} * (1000 + 100 * $n);
		}
		# A carried-out sale is paid in full in cash; a collection pays a
		# 10.00 deposit by card.
		my ($doc, $paid) =
		  $carry
		  ? (sprintf('{"store": 10, "channel": "pos", "lines": [%s], "delivery": {"method": "carry"},'
				  . ' "payments": [{"method": "cash", "amount": %.2f}]}', join(', ', @l), $total / 100 + 5), $total)
		  : (sprintf('{"store": 10, "channel": "store", "customer": {"name": "Client %d", "email": "client%d@example.com"},'
				  . ' "lines": [%s], "delivery": {"method": "collect"},'
				  . ' "payments": [{"method": "visa", "amount": 10.00, "reference": "c%d-%d"}]}',
				  $c, $c, join(', ', @l), $c, $i), 1000);
		$sql .= "SELECT 'c${c}o$i', icos.place_order('$doc');\n";
		$expect{"c${c}o$i"} = [ scalar(keys %lines), $units, $paid ];
	}
	return ($sql, \%expect);
}

my $ledger_sql = q{
	WITH sold AS (
		SELECT l.fulfil_from AS store_id, l.upc, sum(l.consumed_qty - l.returned_qty) AS gone,
			   sum(l.reserved_qty) AS held
		FROM icos.order_line l GROUP BY 1, 2),
	received AS (
		SELECT m.store_id, m.upc, sum(m.d_on_hand) FILTER (WHERE m.kind IN ('receipt', 'adjustment', 'transfer')) AS net_in
		FROM icos.stock_movement m GROUP BY 1, 2)
	SELECT count(*) FROM icos.stock s
	LEFT JOIN sold USING (store_id, upc) LEFT JOIN received USING (store_id, upc)
	WHERE s.on_hand < 0 OR s.reserved < 0 OR s.reserved > s.on_hand
	   OR s.on_hand + coalesce(sold.gone, 0) <> coalesce(received.net_in, 0)
	   OR s.reserved <> coalesce(sold.held, 0)};

for my $round (1 .. $ROUNDS)
{
	my (@h, @out, %expect);
	for my $c (1 .. $CLIENTS)
	{
		my ($sql, $e) = client_script($round * 100 + $c);
		%expect = (%expect, %$e);
		my $file = "$PostgreSQL::Test::Utils::tmp_check/crash_client_$c.sql";
		open my $fh, '>', $file or die "cannot write $file: $!";
		print $fh $sql;
		close $fh;
		$out[$c] = '';
		my $err = '';
		push @h,
		  IPC::Run::start([ 'psql', '-X', '-At', '-q', '-d', $node->connstr('postgres'), '-f', $file ],
			'<', \undef, '>', \$out[$c], '2>', \$err);
	}
	my $wait = 2 + rand(3);
	my $t0 = time;
	while (time - $t0 < $wait)
	{
		usleep(100_000);
		eval { $_->pump_nb } for @h;
	}
	# The power cut: the postmaster and every backend at once.
	my $pm = $node->{_pid};
	my $n_kids = kill_cluster($node);
	# Each psql stops at its first error, the lost connection.
	eval { $_->finish } for @h;
	note(sprintf('round %d: killed postmaster %d and %d children after %.1f s', $round, $pm, $n_kids, $wait));

	my %acked;
	for my $c (1 .. $CLIENTS)
	{
		$acked{$1} = $2 while $out[$c] =~ /^(c\d+o\d+)\|(\S+)$/mg;
	}
	my $n_acked = keys %acked;
	note("round $round: $n_acked orders acknowledged before the kill");
	cmp_ok($n_acked, '>', 20, "round $round: the clients had orders acknowledged before the kill");

	my $log_offset = -s $node->logfile;
	$node->start;
	ok($node->log_contains(qr/database system was interrupted.*\n(?:.*\n)*.*redo starts at/, $log_offset),
		"round $round: the server restarted through crash recovery (WAL redo)");

	my $values = join(",\n",
		map { sprintf("('%s', %d, %d, %d)", $acked{$_}, @{ $expect{$_} }) } sort keys %acked);
	is( $node->safe_psql(
			'postgres', qq{
	WITH ack(code, n_lines, units, paid) AS (VALUES $values)
	SELECT count(*) FILTER (WHERE o.code IS NULL) || ' missing, '
		|| count(*) FILTER (WHERE o.code IS NOT NULL AND (l.n, l.units, p.paid) IS DISTINCT FROM (a.n_lines, a.units, a.paid)) || ' different'
	FROM ack a
	LEFT JOIN icos.orders o ON o.code = a.code::icos.order_code
	LEFT JOIN LATERAL (SELECT count(*) AS n, sum(qty) AS units FROM icos.order_line x WHERE x.code = o.code) l ON true
	LEFT JOIN LATERAL (SELECT sum(amount_pence) AS paid FROM icos.order_payment y WHERE y.code = o.code) p ON true}),
		'0 missing, 0 different',
		"round $round: every acknowledged order is there with all its lines and payments");
	is( $node->safe_psql(
			'postgres', q{
	SELECT count(*) FROM icos.orders o
	WHERE NOT EXISTS (SELECT 1 FROM icos.order_line l WHERE l.code = o.code)
	   OR NOT EXISTS (SELECT 1 FROM icos.order_payment p WHERE p.code = o.code)
	   OR NOT EXISTS (SELECT 1 FROM icos.order_event e WHERE e.code = o.code)}),
		'0', "round $round: no order without its lines, payments and events");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_stock()'),
		'0', "round $round: verify_stock() is empty");
	is($node->safe_psql('postgres', $ledger_sql), '0',
		"round $round: the ledger balances: on hand + sold = received, reserved = held");
	cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM icos.orders'), '>=', $n_acked,
		"round $round: at least the acknowledged orders exist");
}

# ---------------------------------------------------------------------------
# 2. Timeouts in the middle of place_order.
# ---------------------------------------------------------------------------
my $fingerprint = q{
	SELECT (SELECT count(*) FROM icos.orders) || ' ' || (SELECT count(*) FROM icos.order_line) || ' '
		|| (SELECT count(*) FROM icos.order_payment) || ' ' || (SELECT count(*) FROM icos.order_event) || ' '
		|| (SELECT count(*) FROM icos.stock_movement) || ' ' || (SELECT count(*) FROM icos.customer) || ' '
		|| (SELECT sum(on_hand) || '/' || sum(reserved) FROM icos.stock)};
my $order = sprintf('{"store": 10, "channel": "store", "customer": {"name": "Tim Out", "email": "timeout@example.com"},'
	  . ' "lines": [{"upc": "%s", "qty": 2}, {"upc": "%s", "qty": 1, "fulfil_from": 11}], "delivery": {"method": "collect"},'
	  . ' "payments": [{"method": "cash", "amount": 20}]}', $upc[0], $upc[1]);

for my $case ([ 'statement_timeout', '57014' ], [ 'lock_timeout', '55P03' ])
{
	my ($setting, $state) = @$case;
	my $before = $node->safe_psql('postgres', $fingerprint);
	# Another session holds the payments table: place_order gets as far as
	# reserving the stock and then waits to write the order.
	my $locker = $node->background_psql('postgres');
	$locker->query_safe('BEGIN; LOCK TABLE icos.order_payment IN ACCESS EXCLUSIVE MODE');
	my $client = $node->background_psql('postgres', on_error_stop => 0);
	$client->query_safe("SET $setting = '3s'");
	$client->query_until(qr/STARTED/,
		"\\set VERBOSITY verbose\n\\echo STARTED\nSELECT icos.place_order('$order');\n\\echo DONE\n");
	ok( $node->poll_query_until(
			'postgres', q{
		SELECT EXISTS (SELECT 1 FROM pg_stat_activity a
					   WHERE a.query LIKE 'SELECT icos.place_order%' AND a.wait_event_type = 'Lock'
						 AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted
									 AND l.relation = 'icos.stock_slot'::regclass AND l.mode = 'RowExclusiveLock'))}),
		"$setting: place_order reserved stock and waits to write the order");
	pump_until($client->{run}, $client->{timeout}, \$client->{stdout}, qr/DONE/);
	like($client->{stderr}, qr/ERROR:\s+$state/, "$setting: the client gets $state");
	$client->quit;
	$locker->query_safe('ROLLBACK');
	$locker->quit;
	is($node->safe_psql('postgres', $fingerprint), $before, "$setting: nothing of the order remains");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM icos.verify_stock()'), '0',
	'verify_stock() is still empty after the timeouts');

$node->stop;
done_testing();
