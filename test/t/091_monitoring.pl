# Monitoring (docs/monitoring.md): Debian's prometheus-postgres-exporter with
# src/monitoring/icos-queries.yaml against head office of a real link with
# one store node, read over HTTP: the link's state and figures from
# icos.node_status, orders by store, refusals by SQLSTATE, the NOTIFY
# queue; the link's metric falls when the store goes down.  On the same link: an order placed
# at the store is announced at head office when it arrives there (the
# announcing trigger fires in the apply worker).
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use IPC::Run qw(run start timeout);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = $ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $icos = "$top/src/cli/icos";
my $queries = "$top/src/monitoring/icos-queries.yaml";
my $exporter_bin = '/usr/bin/prometheus-postgres-exporter';

my %node;
for my $name (qw(hq s1))
{
	my $n = PostgreSQL::Test::Cluster->new("mon_$name");
	$n->init(allows_streaming => 'logical');
	$n->append_conf('postgresql.conf', "max_replication_slots = 10\nmax_wal_senders = 10\n"
		. "max_worker_processes = 16\nwal_receiver_status_interval = 1s\n");
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION icos');
	$node{$name} = $n;
}
my ($hq, $s1) = @node{qw(hq s1)};
my $lamp = '4006381333931';
$hq->safe_psql('postgres', qq{
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES
  (1, 'Leeds', 'store', 1), (9, 'Website', 'web', 0);
INSERT INTO icos.product (upc, name, price, lead_time_days) VALUES ('$lamp', 'Desk lamp', 24.50, 3);
});

sub icos
{
	my ($out, $err) = ('', '');
	run([ $icos, @_ ], '<', \undef, '>', \$out, '2>', \$err, timeout(180));
	return ($? >> 8, $out, $err);
}
my ($rc, $out, $err) = icos('--dsn', $hq->connstr('postgres'), 'node', 'init-hq');
is($rc, 0, 'node init-hq') or diag($err);
($rc, $out, $err) = icos('node', 'add-store', '--hq', $hq->connstr('postgres'),
	'--store-dsn', $s1->connstr('postgres'), '--store', '1', '--name', 'Leeds');
is($rc, 0, 'node add-store 1') or diag("$out\n$err");

# ---- an order placed at the store is announced at head office ----
my $listener = $hq->background_psql('postgres');
$listener->query_safe('LISTEN icos_order_events');
$s1->safe_psql('postgres', "SELECT icos.receive_stock(1, '$lamp', 10, 'delivery')");
my $code = $s1->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
  "lines": [{"upc": "$lamp", "qty": 1}], "payments": [{"method": "cash", "amount": 30}]}')});
$hq->poll_query_until('postgres', "SELECT count(*) = 3 FROM icos.order_event WHERE code = '$code'")
  or die 'the store\'s events did not reach head office';
my @heard = $listener->query_safe('SELECT 1') =~ /with payload "(.*)" received from server process/g;
is_deeply([ map { my $p = decode_json($_); "$p->{code} $p->{kind} $p->{store}" } @heard ],
	[ "$code placed 1", "$code payment 1", "$code status 1" ],
	'head office announces the store\'s events as they arrive');
$listener->quit;

# ---- the exporter ----
$_->safe_psql('postgres', 'SELECT icos.heartbeat()') for ($s1, $hq);
$hq->poll_query_until('postgres', "SELECT link_state = 'up' AND last_heartbeat IS NOT NULL FROM icos.node_status WHERE node_id = 1")
  or die 'the link did not come up';
$hq->safe_psql('postgres', q{
CREATE ROLE icos_exporter LOGIN IN ROLE pg_monitor, icos_reporter;
GRANT SELECT ON icos.node_status TO icos_exporter;
});

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn = sprintf('host=%s port=%d user=icos_exporter dbname=postgres sslmode=disable', $hq->host, $hq->port);
my ($xout, $xerr) = ('', '');
my $exporter;
{
	local $ENV{DATA_SOURCE_NAME} = $dsn;
	$exporter = start [ $exporter_bin, "--web.listen-address=127.0.0.1:$port",
		"--extend.query-path=$queries" ], '<', \undef, '>', \$xout, '2>', \$xerr;
}
my $http = HTTP::Tiny->new(timeout => 30);

# The metrics page, as { 'name{labels}' => value }, once the exporter answers.
sub scrape
{
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	my $res;
	while (1)
	{
		$res = $http->get("http://127.0.0.1:$port/metrics");
		last if $res->{success} || time > $deadline;
		$exporter->pump_nb;
		select(undef, undef, undef, 0.2);
	}
	die "exporter did not answer: $res->{status} $res->{content}\n$xerr" unless $res->{success};
	my %m;
	for (split /\n/, $res->{content})
	{
		next if /^#/;
		my ($name, $labels, $value) = /^(\w+)(?:\{(.*)\})? (\S+)$/ or next;
		my %l = ($labels // '') =~ /(\w+)="([^"]*)"/g;
		delete $l{server};
		$m{ $name . '{' . join(',', map { "$_=$l{$_}" } sort keys %l) . '}' } = $value;
	}
	return \%m;
}
# The value of the metric NAME whose labels include LABEL=VALUE pairs.
sub metric
{
	my ($m, $name, %want) = @_;
	for my $key (sort keys %$m)
	{
		my ($n, $labels) = $key =~ /^(\w+)\{(.*)\}$/;
		next unless $n eq $name;
		my %l = map { split /=/, $_, 2 } grep { length } split /,/, $labels;
		return $m->{$key} unless grep { ($l{$_} // '') ne $want{$_} } keys %want;
	}
	return undef;
}

my $m = scrape();
is(metric($m, 'pg_up'), 1, 'exporter: connected to head office');
is(metric($m, 'icos_node_link_up', node => 1, kind => 'store', link_state => 'up'), 1,
	'icos_node_link_up: node 1 up');
ok(defined metric($m, 'icos_node_heartbeat_age_seconds', node => 1)
	  && metric($m, 'icos_node_heartbeat_age_seconds', node => 1) >= 0, 'icos_node_heartbeat_age_seconds: a number');
is(metric($m, 'icos_node_pending_requests', node => 1), 0, 'icos_node_pending_requests: 0');
is(metric($m, 'icos_node_apply_errors_here', node => 1), 0, 'icos_node_apply_errors_here: 0');
is(metric($m, 'icos_node_apply_errors_at_node', node => 1), 0, 'icos_node_apply_errors_at_node: 0');
ok(metric($m, 'icos_node_from_node_lag_seconds', node => 1) >= 0, 'icos_node_from_node_lag_seconds: a number');
ok(metric($m, 'icos_node_to_node_lag_bytes', node => 1) >= 0, 'icos_node_to_node_lag_bytes: a number');
is(metric($m, 'icos_node_slot_lost', node => 1), 0, 'icos_node_slot_lost: 0');
is(metric($m, 'icos_orders_placed_last_5m', store => 1), 1, 'icos_orders_placed_last_5m: the store\'s order, replicated');
is(metric($m, 'icos_orders_placed_last_5m', store => 9), 0, 'icos_orders_placed_last_5m: 0 for a store without orders');
is(metric($m, 'icos_orders_events_last_5m', store => 1), 3, 'icos_orders_events_last_5m: its three events');
is(metric($m, 'icos_notify_queue_usage'), 0, 'icos_notify_queue_usage: 0');
my $rolled = metric($m, 'icos_transactions_rolled_back');
ok(defined $rolled, 'icos_transactions_rolled_back: present');
my $bad_documents = metric($m, 'icos_errors_total', sqlstate => '22023') // 0;

# A refusal at head office shows in the rolled-back count (the statistics
# reach the view when the refused session ends).
my ($prc) = $hq->psql('postgres', q{SELECT icos.place_order('{"store": 9, "channel": "web", "lines": []}')});
isnt($prc, 0, 'a refused placement at head office');
my $later;
for (1 .. 600)
{
	$later = metric(scrape(), 'icos_transactions_rolled_back');
	last if $later > $rolled;
	select(undef, undef, undef, 0.2);
}
cmp_ok($later, '>', $rolled, 'icos_transactions_rolled_back counts the refusal');
is(metric(scrape(), 'icos_errors_total', sqlstate => '22023'), $bad_documents + 1,
	'icos_errors_total: the refusal, by its SQLSTATE (22023, a web order without a customer)');

# The store goes down: its link metric falls.
$s1->stop;
my $down;
for (1 .. 600)
{
	$down = metric(scrape(), 'icos_node_link_up', node => 1);
	last if defined $down && $down == 0;
	select(undef, undef, undef, 0.2);
}
is($down, 0, 'icos_node_link_up: 0 once the store is down');

$exporter->kill_kill;
done_testing();
