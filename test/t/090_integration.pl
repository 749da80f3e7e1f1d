# The web-shop examples of docs/integration.md run for real: Python with
# psycopg 3 (Debian's python3-psycopg) and Node with node-postgres (npm's
# "pg", installed by docs/examples/node/install.sh).  Each places an order
# with an external_ref after its connection was killed and again as a retry,
# reads the order with exact money, maps icos's refusals to HTTP statuses,
# and hears the order events of an order it places.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run qw(run timeout);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = $ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $examples = "$top/docs/examples";

my $node = PostgreSQL::Test::Cluster->new('shop');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind) VALUES
  (1, 'Leeds Briggate', 'store'), (3, 'Website', 'web');
INSERT INTO icos.product (upc, name, price, lead_time_days, made_to_order) VALUES
  ('4006381333931', 'Desk lamp', 24.50, 3, false);
SELECT icos.receive_stock(1, '4006381333931', 100, 'delivery');
-- the web shop's login: an agent of the website store
SELECT icos.create_employee(901, 'Web shop', 3, 'agent',
	'SCRAM-SHA-256$4096:' || encode(substr(sha256('x'::bytea), 1, 16), 'base64')
	|| '$' || encode(sha256('stored'::bytea), 'base64') || ':' || encode(sha256('server'::bytea), 'base64'));
});
my $admin = $node->safe_psql('postgres', 'SELECT current_user');

# run_example(DIR, COMMAND...): (exit status, stdout, stderr), against the node.
sub run_example
{
	my ($dir, @cmd) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port, PGDATABASE => 'postgres',
		ICOS_SHOP_USER => 'emp_901', ICOS_ADMIN_USER => $admin, PYTHONDONTWRITEBYTECODE => '1');
	run [ 'sh', '-c', 'cd "$0" && exec "$@"', $dir, @cmd ], '<', \'', '>', \$out, '2>', \$err,
	  timeout($PostgreSQL::Test::Utils::timeout_default);
	return ($? >> 8, $out, $err);
}

sub check_shop
{
	my ($lang, $report, $money_type) = @_;
	like($report->{code}, qr/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, "$lang: order placed after the connection was killed");
	ok($report->{again_same_code}, "$lang: placing it again (a retry) gives the same order");
	my $ref = $report->{external_ref};
	is($node->safe_psql('postgres', "SELECT count(*) FROM icos.orders WHERE external_ref = '$ref'"),
		'1', "$lang: one order for the external_ref");
	is($report->{total}, '49.00', "$lang: total read exactly");
	is($report->{paid}, '30.00', "$lang: paid read exactly");
	is($report->{balance}, '19.00', "$lang: balance read exactly");
	is($report->{balance_pence}, 1900, "$lang: balance in pence");
	is($report->{money_type}, $money_type, "$lang: money is a $money_type, not a float");
	ok($report->{lines_sum_equals_total}, "$lang: the lines add up to the total exactly");
	my %want = (reused_ref => [ 409, 'IC006' ], no_stock => [ 409, 'IC001' ],
		bad_request => [ 400, '22023' ], bad_code => [ 400, '22P02' ]);
	for my $case (sort keys %want)
	{
		my $r = $report->{refusals}{$case} // {};
		is_deeply([ $r->{status}, $r->{sqlstate} ], $want{$case}, "$lang: $case is HTTP $want{$case}[0] ($want{$case}[1])");
	}
	ok(grep({ $_ eq $report->{code} } @{ $report->{events_before} }),
		"$lang: the log holds the first order's events");
	ok(grep({ $_->[0] eq $report->{second} && $_->[1] eq 'placed' } @{ $report->{events} }),
		"$lang: heard the second order placed, read from the log");
}

# ---- Python (psycopg 3) ----
my ($rc, $out, $err) = run_example("$examples/python", '/usr/bin/python3', 'check_shop.py', 'py');
is($rc, 0, 'python: the example ran') or diag($err);
my $py = eval { decode_json($out) } // {};
is($py->{retries_after_lost_connection}, 1, 'python: one retry after the lost connection');
check_shop('python', $py, 'Decimal');

# ---- Node (node-postgres) ----
($rc, $out, $err) = run_example("$examples/node", 'sh', 'install.sh');
is($rc, 0, 'node: npm installed pg') or diag($err);
ok(!-e "$examples/node/package-lock.json", 'node: no lock file written');
($rc, $out, $err) = run_example("$examples/node", 'node', 'check_shop.js', 'js');
is($rc, 0, 'node: the example ran') or diag($err);
my $js = eval { decode_json($out) } // {};
check_shop('node', $js, 'string');

done_testing();
