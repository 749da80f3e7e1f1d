# icos.error_counts() (docs/monitoring.md): the errors each database's
# sessions were given, by SQLSTATE, counted in shared memory when icos is
# preloaded: refusals of icos calls and any other error that ended a
# statement, per database, not those an EXCEPTION block caught; readable by
# icos_reporter and icos_admin only; reset by a restart; 55000 without the
# preload.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('errors');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'icos'");
$node->start;
for my $db (qw(shop other))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION icos');
}
$node->safe_psql('postgres', 'CREATE ROLE watcher LOGIN IN ROLE icos_reporter; CREATE ROLE nobody LOGIN');

sub counts
{
	my ($db, $user) = @_;
	return $node->safe_psql($db,
		($user ? "SET ROLE $user; " : '')
		  . q{SELECT string_agg(coalesce(sqlstate, 'other') || '=' || errors, ' ' ORDER BY sqlstate)
				FROM icos.error_counts()});
}

is(counts('shop'), '', 'a new server: no errors counted');

# Refusals of icos calls, and an error of plain SQL.
my @refused = (
	q{SELECT icos.product_info('4006381333931')},	# not in the catalogue: IC004
	q{SELECT icos.product_info('4006381333932')},	# a wrong check digit: 22P02
	q{SELECT icos.product_info('96385074')},		# IC004 again
	q{SELECT icos.place_order('{"store": 9, "channel": "web", "lines": []}')},
	q{SELECT 1 / 0});
for my $sql (@refused)
{
	my ($rc) = $node->psql('shop', $sql);
	isnt($rc, 0, "refused: $sql");
}
# An error an EXCEPTION block catches reaches no one.
$node->safe_psql('shop', q{DO $$ BEGIN PERFORM icos.product_info('5012345678900');
	EXCEPTION WHEN OTHERS THEN NULL; END $$});

is(counts('shop'), '22012=1 22023=1 22P02=1 IC004=2',
	'each SQLSTATE counted once per error that ended a statement; the caught one not');
is(counts('other'), '', 'another database sees none of them');
my ($rc) = $node->psql('other', 'SELECT 1 / 0');
is(counts('other'), '22012=1', 'and counts its own');
is(counts('shop', 'watcher'), '22012=1 22023=1 22P02=1 IC004=2', 'icos_reporter may read them');

my ($out, $err);
($rc, $out, $err) = $node->psql('shop', 'SET ROLE nobody; SELECT * FROM icos.error_counts()');
like($err, qr/permission denied/, 'a role without icos_reporter or icos_admin may not');
is(counts('shop'), '22012=1 22023=1 22P02=1 42501=1 IC004=2', 'and that refusal is counted too');

$node->restart;
is(counts('shop'), '', 'counted since the server started');

$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
($rc, $out, $err) = $node->psql('shop', 'SELECT * FROM icos.error_counts()');
like($err, qr/ERROR:  icos counts errors only when it is loaded at server start/,
	'without the preload: a clear error');
like($err, qr/HINT:  Add icos to shared_preload_libraries/, 'with its hint');

$node->stop;
done_testing();
