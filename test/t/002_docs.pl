# The examples in docs/ run.
#
# Every ```sql block of a reference page is run, in page order, in one psql
# session on a fresh database with the extension created.  A block that
# shows an error (a comment line starting "-- ERROR:") must raise one; any
# other block must run without error.  Snippets that cannot run on their own
# (signatures, pg_cron, placeholders) are fenced as ```text instead.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $top = $ENV{ICOS_TOP} // '.';
my @pages = sort glob("$top/docs/*.md");
my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init;
$node->start;

foreach my $page (@pages)
{
	open(my $fh, '<', $page) or die "cannot read $page: $!";
	my $text = do { local $/; <$fh> };
	close $fh;
	my @blocks = $text =~ /^```sql\n(.*?)^```/msg;
	next unless @blocks;
	(my $name = $page) =~ s{.*/}{};
	(my $db = "doc_$name") =~ s/\W/_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION icos');

	# psql keeps the SQLSTATE of the last failed query in LAST_ERROR_SQLSTATE:
	# reset it before each block and print it after.
	my $script = '';
	for my $i (0 .. $#blocks)
	{
		$script .= "\\set LAST_ERROR_SQLSTATE 00000\n$blocks[$i]\n;\n"
		  . "\\echo '\@\@block $i' :LAST_ERROR_SQLSTATE\n";
	}
	my ($stdout, $stderr);
	$node->psql($db, $script, stdout => \$stdout, stderr => \$stderr,
		extra_params => [ '-v', 'ON_ERROR_STOP=0' ]);
	my %state = $stdout =~ /^\@\@block (\d+) (\w+)$/mg;
	for my $i (0 .. $#blocks)
	{
		my $expect_error = $blocks[$i] =~ /^\s*-- ERROR:/m;
		my $got = $state{$i} // 'not reached';
		my ($first) = $blocks[$i] =~ /^(?!\s*--)\s*(\S.{0,60})/m;
		$first //= '';
		if ($expect_error)
		{
			ok($got ne '00000' && $got ne 'not reached',
				"$name block " . ($i + 1) . " raises the error it shows: $first")
			  or diag("SQLSTATE: $got");
		}
		else
		{
			is($got, '00000', "$name block " . ($i + 1) . " runs: $first")
			  or diag($stderr);
		}
	}
}

done_testing();
