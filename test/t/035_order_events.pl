# Order events announced: NOTIFY icos_order_events reaches a listening
# session when the writing transaction commits, never for one rolled back,
# with the payload API.md gives; an event written the way the replication
# apply worker writes it is announced too.  Then the client: icos events
# lists the log, and --follow prints each event as it comes, catching up
# from the log after it lost its connection.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run qw(start run timeout);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $top = $ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $icos = "$top/src/cli/icos";

# icos preloaded, as production runs it (and as make test's TEMP_CONFIG
# makes every cluster; said here too for make installcheck).
my $node = PostgreSQL::Test::Cluster->new('events');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'icos'");
$node->start;

# A shop in a database: icos, store 1 (Leeds) with 100 desk lamps.
sub shop
{
	my ($n, $db) = @_;
	$n->safe_psql($db, q{
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind) VALUES (1, 'Leeds Briggate', 'store');
INSERT INTO icos.product (upc, name, price, lead_time_days, made_to_order) VALUES
  ('4006381333931', 'Desk lamp', 24.50, 3, false);
SELECT icos.receive_stock(1, '4006381333931', 100, 'delivery');
});
}
shop($node, 'postgres');
$node->safe_psql('postgres', q{
INSERT INTO icos.store (store_id, name, kind) VALUES (2, 'York', 'store'), (3, 'Website', 'web');
SELECT icos.receive_stock(2, '4006381333931', 100, 'delivery');
CREATE ROLE watcher LOGIN IN ROLE icos_reporter;
CREATE ROLE york LOGIN IN ROLE icos_agent;
});

# A till sale: three events (placed, payment, status).
sub sale_sql
{
	my ($store) = @_;
	return "SELECT icos.place_order('{\"store\": $store, \"channel\": \"pos\", "
	  . "\"lines\": [{\"upc\": \"4006381333931\", \"qty\": 1}], "
	  . "\"payments\": [{\"method\": \"cash\", \"amount\": 30}]}')";
}

# What the listener has been told: at least $want payloads, waiting for
# them (the announcer sends them just after the commit), or what came in
# a moment when $want is 0.  A query makes psql print the notifications
# that arrived before it.
my @heard_pids;		# the processes that sent them, all told
sub heard
{
	my ($listener, $want) = @_;
	my @payloads;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	usleep(300_000) if $want == 0;
	while (1)
	{
		my $out = $listener->query_safe('SELECT 1');
		while ($out =~ /^Asynchronous notification "icos_order_events" with payload "(.*)" received from server process with PID (\d+)/mg)
		{
			push @payloads, $1;
			push @heard_pids, $2;
		}
		last if @payloads >= $want || time > $deadline;
		usleep(20_000);
	}
	return @payloads;
}

# ---- NOTIFY after commit, none on rollback ----
my $listener = $node->background_psql('postgres');
my $writer = $node->background_psql('postgres');
$listener->query_safe('LISTEN icos_order_events');

$writer->query_safe('BEGIN');
my $open_code = $writer->query_safe(sale_sql(1));
$open_code =~ s/\s+//g;
like($open_code, qr/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, 'an order placed in an open transaction');
is(scalar(heard($listener, 0)), 0, 'nothing announced before the transaction commits');
$writer->query_safe('COMMIT');
my @got = heard($listener, 3);
is(scalar(@got), 3, 'after commit: one announcement per event (placed, payment, status)');
my $first = decode_json($got[0]);
is_deeply([ sort keys %$first ], [qw(at code kind store)], 'payload keys: code, kind, at, store');
is($first->{code}, $open_code, 'payload names the order');
is($first->{kind}, 'placed', 'payload gives the kind');
like($got[0], qr/^\{"code": "[^"]+", "kind": "placed", "at": "[^"]+", "store": 1\}$/,
	'payload text in the documented shape');
is($first->{at},
	$node->safe_psql('postgres', "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
		. "FROM icos.order_event WHERE code = '$open_code' AND kind = 'placed'"),
	'payload "at" is the event\'s time in UTC');
is_deeply([ map { decode_json($_)->{kind} } @got ], [qw(placed payment status)],
	'announced in the order the events were written');

$writer->query_safe('BEGIN');
my $gone_code = $writer->query_safe(sale_sql(1));
$gone_code =~ s/\s+//g;
$writer->query_safe('ROLLBACK');
my $kept_code = $node->safe_psql('postgres', sale_sql(2));
@got = heard($listener, 3);
is(scalar(@got), 3, 'a rolled-back order announced nothing; the next committed one its three events');
is_deeply([ map { decode_json($_)->{code} } @got ], [ ($kept_code) x 3 ],
	'only the committed order is announced');
ok(!grep({ /\Q$gone_code\E/ } @got), 'the rolled-back order is never announced');

# Another session's time zone does not change the payload.
my $tz_code = $node->safe_psql('postgres', "SET TimeZone = 'Asia/Tokyo'; " . sale_sql(1));
@got = heard($listener, 3);
like($got[0], qr/"at": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"/, 'payload "at" in UTC whatever the writer\'s TimeZone');

# A note (another writer of the log than place_order's C path).
$node->safe_psql('postgres', "SELECT icos.add_note('$kept_code', 'service', 'Customer called')");
@got = heard($listener, 1);
is_deeply([ map { decode_json($_)->{kind} } @got ], ['note'], 'a note is announced');

# The apply worker writes with session_replication_role = replica: the
# trigger is enabled ALWAYS, so an event received from another node is
# announced on the receiving node too.
is($node->safe_psql('postgres', "SELECT tgenabled FROM pg_trigger WHERE tgname = 'order_event_announce'"),
	'A', 'the announcing trigger is enabled ALWAYS');
$node->safe_psql('postgres', qq{
SET session_replication_role = replica;
INSERT INTO icos.order_event (store_id, code, kind, note, at_store)
  VALUES (2, '$kept_code', 'status', 'as the apply worker writes it', 2);
});
@got = heard($listener, 1);
is(scalar(@got), 1, 'an event written under session_replication_role = replica is announced');
is(decode_json($got[0])->{kind}, 'status', '... with its own payload');


# ---- icos events ----
sub icos
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	run [ $icos, @args ], '<', \'', '>', \$out, '2>', \$err, timeout(60);
	return ($? >> 8, $out, $err);
}
my $dsn = $node->connstr('postgres');
my ($rc, $out, $err) = icos('--dsn', $dsn, 'events');
is($rc, 0, 'icos events: exit 0');
like($out, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +1  \Q$open_code\E  placed /m, 'icos events: time, store, code, kind');
like($out, qr/\Q$kept_code\E  note +Customer called$/m, 'icos events: the note\'s text');
($rc, $out, $err) = icos('--dsn', $dsn, 'events', '--limit', '1');
is(scalar(split /\n/, $out), 1, '--limit 1: one event');
like($out, qr/as the apply worker writes it/, '--limit 1: the newest');
($rc, $out, $err) = icos('--dsn', $dsn, '--json', 'events', '--store', '2', '--since', '2000-01-01');
my @ev = map { decode_json($_) } split /\n/, $out;
is(scalar(@ev), 5, '--store 2 --since: the five events of store 2');
ok(!grep({ $_->{store} != 2 } @ev), '--store 2: no other store');
is_deeply([ sort keys %{ $ev[0] } ], [qw(at code event_id kind note store)], '--json: one object per line');
($rc, $out, $err) = icos('--dsn', $dsn, 'events', '--since', '2000-01-01', '--limit', '3');
is($rc, 2, '--since with --limit: exit 2');
($rc, $out, $err) = icos('--dsn', $dsn, 'events', '--limit', '0');
is($rc, 2, '--limit 0: exit 2');
($rc, $out, $err) = icos('--dsn', "$dsn user=york", 'events', '--since', '2000-01-01');
is($rc, 0, 'an agent of no store: exit 0');
is($out, "No order events.\n", 'row security: an agent without a store sees no event');

# ---- icos events --follow ----
my ($fout, $ferr) = ('', '');
my $t = timeout($PostgreSQL::Test::Utils::timeout_default);
my $follower = start [ $icos, '--dsn', "$dsn user=watcher", '--json', 'events', '--follow', '--limit', '1' ],
  '<', \'', '>', \$fout, '2>', \$ferr, $t;
ok(pump_until($follower, $t, \$fout, qr/as the apply worker writes it/), '--follow: prints the newest event first');

my $next = $node->safe_psql('postgres', sale_sql(1));
ok(pump_until($follower, $t, \$fout, qr/"code": "\Q$next\E", "kind": "status"/),
	'--follow: prints the events of an order placed after it started');
$node->safe_psql('postgres', 'BEGIN; ' . sale_sql(2) . '; ROLLBACK');
my $after = $node->safe_psql('postgres', sale_sql(2));
ok(pump_until($follower, $t, \$fout, qr/"code": "\Q$after\E", "kind": "status"/), '--follow: the next order');
my @lines = map { decode_json($_) } split /\n/, $fout;
is(scalar(@lines), 7, '--follow: seven events so far, the rolled-back order none');

# Lose the connection, and keep the client out while an order is placed.
$node->safe_psql('postgres', q{
ALTER ROLE watcher NOLOGIN;
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'watcher';
});
ok(pump_until($follower, $t, \$ferr, qr/could not reconnect/), '--follow: notices the lost connection');
my $missed = $node->safe_psql('postgres', sale_sql(1));
$node->safe_psql('postgres', 'ALTER ROLE watcher LOGIN');
ok(pump_until($follower, $t, \$ferr, qr/reconnected/), '--follow: reconnects');
ok(pump_until($follower, $t, \$fout, qr/"code": "\Q$missed\E", "kind": "status"/),
	'--follow: catches up from the log with the order placed while it was away');
my $later = $node->safe_psql('postgres', sale_sql(2));
ok(pump_until($follower, $t, \$fout, qr/"code": "\Q$later\E", "kind": "status"/),
	'--follow: listens again after reconnecting');
@lines = map { decode_json($_) } split /\n/, $fout;
my %n;
$n{"$_->{store}/$_->{code}/$_->{event_id}"}++ for @lines;
is(scalar(@lines), 13, '--follow: thirteen events in all');
ok(!grep({ $_ > 1 } values %n), '--follow: no event printed twice (the catch-up skips what was printed)');

# A peak: more events within the catch-up's reach (5 minutes) than a
# fixed number of remembered keys (8,192 once) holds; a catch-up after
# them prints none of them again.
my $peak = 8300;
$node->safe_psql('postgres', qq{
INSERT INTO icos.order_event (store_id, code, kind, note, at_store)
SELECT 2, '$after', 'status', 'peak ' || g, 2 FROM generate_series(1, $peak) g;
});
ok(pump_until($follower, $t, \$fout, qr/"note": "peak $peak"/), '--follow: prints a peak of events');
$node->safe_psql('postgres',
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'watcher'});
ok(pump_until($follower, $t, \$ferr, qr/reconnected.*reconnected/s), '--follow: reconnects after the peak');
my $last = $node->safe_psql('postgres', sale_sql(1));
ok(pump_until($follower, $t, \$fout, qr/"code": "\Q$last\E", "kind": "status"/),
	'--follow: caught up after the peak');
@lines = map { decode_json($_) } split /\n/, $fout;
%n = ();
$n{"$_->{store}/$_->{code}/$_->{event_id}"}++ for @lines;
is(scalar(grep { $_ > 1 } values %n), 0, '--follow: no event of the peak printed twice by the catch-up');
is(scalar(keys %n), 13 + $peak + 3, '--follow: every event once (a sale writes three)');
$follower->kill_kill;

# ---- the announcer ----
# The orders are announced by a background worker of the database,
# not by the writing sessions.
my $writer_pid = $writer->query_safe('SELECT pg_backend_pid()');
$writer_pid =~ s/\s+//g;
heard($listener, 0);		# what the orders above left
@heard_pids = ();
$writer->query_safe(sale_sql(1));
heard($listener, 3);
ok(@heard_pids == 3 && !grep({ $_ == $writer_pid } @heard_pids),
	'with icos preloaded, the events are sent by another process than the writer');
is($node->safe_psql('postgres', "SELECT string_agg(DISTINCT backend_type, ',') FROM pg_stat_activity WHERE pid IN ("
		. join(',', @heard_pids) . ')'),
	'icos announcer', '... the database\'s icos announcer');

# A savepoint rolled back takes its events with it.
$writer->query_safe('BEGIN');
$writer->query_safe('SAVEPOINT s');
my $undone = $writer->query_safe(sale_sql(1));
$undone =~ s/\s+//g;
$writer->query_safe('ROLLBACK TO SAVEPOINT s');
my $done = $writer->query_safe(sale_sql(2));
$done =~ s/\s+//g;
$writer->query_safe('COMMIT');
@got = heard($listener, 3);
is_deeply([ map { decode_json($_)->{code} } @got ], [ ($done) x 3 ],
	'an order placed in a savepoint rolled back is not announced; the rest of the transaction is');

# A transaction writing more events than a batch holds (350 notes) has
# them all announced, in the order written.
$writer->query_safe('BEGIN');
$writer->query_safe("SELECT icos.add_note('$done', 'service', 'call ' || i) FROM generate_series(1, 350) i");
$writer->query_safe('COMMIT');
@got = heard($listener, 350);
is(scalar(@got), 350, 'a transaction of 350 events: each announced');
is_deeply([ map { decode_json($_)->{code} . ' ' . decode_json($_)->{kind} } @got ], [ ("$done note") x 350 ],
	'... as notes of its order');
my @ats = map { decode_json($_)->{at} } @got;
is_deeply(\@ats, [ sort @ats ], '... in the order they were written');

# Sessions writing at once, their batches interleaved in the queue: every
# event is announced, each once.
$node->safe_psql('postgres', "SELECT icos.receive_stock(1, '4006381333931', 1000, 'delivery')");
heard($listener, 0);
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM icos.order_event');
$node->pgbench('--no-vacuum --client=4 --jobs=2 --transactions=50', 0,
	[qr{processed: 200/200}], [qr{}], 'four sessions place 200 orders at once',
	{ '035_sale' => sale_sql(1) . ";\n" });
my $written = $node->safe_psql('postgres', 'SELECT count(*) FROM icos.order_event') - $before;
@got = heard($listener, $written);
is(scalar(@got), $written, "... each of the $written events they wrote is announced");
my %once;
$once{$_}++ for @got;
is(scalar(keys %once), $written, '... once');

# Terminated, the announcer is started again by the next order.
$node->safe_psql('postgres', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'icos announcer'");
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'icos announcer'")
  or die 'the announcer did not stop';
my $again = $node->safe_psql('postgres', sale_sql(1));
@got = heard($listener, 3);
is_deeply([ map { decode_json($_)->{code} } @got ], [ ($again) x 3 ], 'after the announcer was terminated, the next order is announced');

# Idle, it leaves; so DROP DATABASE, which waits a few seconds for other
# sessions to leave, is not refused.
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'icos announcer'"),
	'the announcer leaves when there is nothing to announce');
$node->safe_psql('postgres', 'CREATE DATABASE shop2');
shop($node, 'shop2');
$node->safe_psql('shop2', sale_sql(1));
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'icos announcer' AND datname = 'shop2'"),
	'an order in another database starts that database\'s announcer');
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'DROP DATABASE shop2');
is($ret, 0, 'DROP DATABASE of a database whose announcer was running succeeds') or diag($stderr);
$listener->quit;
$writer->quit;

# ---- without the announcer ----
# Without icos in shared_preload_libraries, and when no background worker
# can be started, the writing transaction announces its events itself.
sub fallback_node
{
	my ($name, $conf) = @_;
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init;
	$n->append_conf('postgresql.conf', $conf);
	$n->start;
	shop($n, 'postgres');
	return $n;
}
for my $case (
	[ 'not_preloaded', "shared_preload_libraries = ''", 'icos not preloaded' ],
	[ 'no_workers', "shared_preload_libraries = 'icos'\nmax_worker_processes = 1", 'no background worker slot free' ])
{
	my ($name, $conf, $what) = @$case;
	my $n = fallback_node($name, $conf);
	my $l = $n->background_psql('postgres');
	$l->query_safe('LISTEN icos_order_events');
	$n->safe_psql('postgres', 'BEGIN; ' . sale_sql(1) . '; ROLLBACK');
	my $c = $n->safe_psql('postgres', sale_sql(1));
	my @h = heard($l, 3);
	is_deeply([ map { decode_json($_)->{kind} . ' ' . decode_json($_)->{code} } @h ],
		[ map { "$_ $c" } qw(placed payment status) ], "$what: every event of a committed order is announced, none of one rolled back");
	is($n->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'icos announcer'"),
		0, "$what: by the writing transaction");
	$l->quit;
	$n->stop;
	like(slurp_file($n->logfile), qr/could not start the order event announcer/, "$what: the server log says why")
	  if $name eq 'no_workers';
}

done_testing();
