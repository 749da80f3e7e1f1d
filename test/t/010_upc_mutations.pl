# Mutation test of the icos.upc input paths.
#
# Thousands of randomly mutated product codes (substitutions, insertions,
# deletions, transpositions, random characters including non-ASCII, very
# long strings) go through the type input, icos.upc_parse for every kind
# and the bigint cast.  Each must either succeed or fail with exactly 22P02
# (22023 only where documented: none of these inputs is an unknown kind);
# any other SQLSTATE, or a crash, fails the test.  One psql session runs a
# DO block per batch that counts outcomes by SQLSTATE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;
use Encode qw(encode_utf8);

my $node = PostgreSQL::Test::Cluster->new('upc_mutations');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION icos');

srand(20240611);

my @seeds = qw(96385074 036000291452 4006381333931 9780306406157
  10012345678902 042100005264 04252614 212345928752 2112346146859
  00000000 99999999999997);

my @noise = ('-', ' ', "\t", 'x', 'O', 'l', "\x{e9}", "\x{20ac}", "\x{663}",
	"\x{1f600}", "'", '"', '\\', '%', '0', '9', '.', ',', "\x{ff10}");

sub mutate
{
	my ($s) = @_;
	my $n = 1 + int(rand(3));
	for (1 .. $n)
	{
		my $op = int(rand(8));
		my $len = length($s);
		my $p = $len ? int(rand($len)) : 0;
		if ($op == 0 && $len)    # substitute a digit
		{
			substr($s, $p, 1) = int(rand(10));
		}
		elsif ($op == 1)         # insert a digit
		{
			substr($s, $p, 0) = int(rand(10));
		}
		elsif ($op == 2 && $len) # delete
		{
			substr($s, $p, 1) = '';
		}
		elsif ($op == 3 && $len > 1)    # transpose neighbours
		{
			$p = int(rand($len - 1));
			my $a = substr($s, $p, 1);
			substr($s, $p, 1) = substr($s, $p + 1, 1);
			substr($s, $p + 1, 1) = $a;
		}
		elsif ($op == 4)         # insert noise
		{
			substr($s, $p, 0) = $noise[ int(rand(@noise)) ];
		}
		elsif ($op == 5)         # random code points, possibly many
		{
			my $k = int(rand(20));
			$s .= join '', map { chr(1 + int(rand(0xD7FF))) } 1 .. $k;
		}
		elsif ($op == 6 && rand() < 0.05)    # very long
		{
			$s = $s x (1000 + int(rand(20000)));
		}
		else                     # separators in odd places
		{
			substr($s, $p, 0) = (' ', '-', '--', ' - ')[ int(rand(4)) ];
		}
	}
	return $s;
}

# Dollar-quote safely: a tag that cannot occur in the random text.
sub quote
{
	my ($s) = @_;
	$s =~ s/\$m\$//g;
	return "\$m\$$s\$m\$";
}

my $cases = 6000;
my @codes = map { mutate($seeds[ int(rand(@seeds)) ]) } 1 .. $cases;
# Every seed itself too, and a few numbers for the bigint cast.
push @codes, @seeds;

# Build the batch as a temporary table, then one DO block per path.
my $values = join ",\n", map { '(' . quote($_) . ')' } @codes;
my $setup = <<"SQL";
SET client_min_messages = warning;
CREATE TABLE codes (c text);
INSERT INTO codes VALUES $values;
CREATE TABLE outcome (path text, state text, n int);
SQL
$node->safe_psql('postgres', encode_utf8($setup));

my $probe = <<'SQL';
DO $do$
DECLARE
	r record;
	kind text;
	st text;
	counts jsonb := '{}';
	u icos.upc;
	b bigint;
BEGIN
	FOR r IN SELECT c FROM codes LOOP
		-- the type input
		BEGIN
			u := r.c::icos.upc;
			st := 'ok';
		EXCEPTION WHEN OTHERS THEN
			st := SQLSTATE;
		END;
		INSERT INTO outcome VALUES ('input', st, 1);
		-- upc_is_valid agrees with the input and never raises
		BEGIN
			IF icos.upc_is_valid(r.c) <> (st = 'ok') THEN
				INSERT INTO outcome VALUES ('is_valid', 'disagrees', 1);
			ELSE
				INSERT INTO outcome VALUES ('is_valid', 'agrees', 1);
			END IF;
		EXCEPTION WHEN OTHERS THEN
			INSERT INTO outcome VALUES ('is_valid', SQLSTATE, 1);
		END;
		-- upc_parse for each kind
		FOREACH kind IN ARRAY ARRAY['gtin8', 'upca', 'upce', 'ean13', 'gtin14'] LOOP
			BEGIN
				u := icos.upc_parse(r.c, kind);
				st := 'ok';
			EXCEPTION WHEN OTHERS THEN
				st := SQLSTATE;
			END;
			INSERT INTO outcome VALUES ('parse', st, 1);
		END LOOP;
		-- the bigint cast, for whatever is a number
		IF r.c ~ '^[0-9]{1,18}$' THEN
			BEGIN
				u := r.c::bigint::icos.upc;
				st := 'ok';
			EXCEPTION WHEN OTHERS THEN
				st := SQLSTATE;
			END;
			INSERT INTO outcome VALUES ('bigint', st, 1);
		END IF;
	END LOOP;
	-- random bigints, including negative and out-of-range ones
	FOR i IN 1..2000 LOOP
		b := CASE i % 4
			WHEN 0 THEN (random() * 99999999999999)::bigint
			WHEN 1 THEN -(random() * 1e18)::bigint
			WHEN 2 THEN (random() * 9e18)::bigint
			ELSE (random() * 100000000)::bigint END;
		BEGIN
			u := b::icos.upc;
			st := CASE WHEN u::bigint = b THEN 'ok' ELSE 'changed' END;
		EXCEPTION WHEN OTHERS THEN
			st := SQLSTATE;
		END;
		INSERT INTO outcome VALUES ('bigint', st, 1);
	END LOOP;
END
$do$;
SQL
$node->safe_psql('postgres', $probe);

my %count;
for my $line (split /\n/,
	$node->safe_psql('postgres',
		"SELECT path || '|' || state || '|' || sum(n) FROM outcome GROUP BY path, state ORDER BY path, state"))
{
	my ($path, $state, $n) = split /\|/, $line;
	$count{$path}{$state} = $n;
	note("$path $state: $n");
}

sub total
{
	my ($h) = @_;
	my $t = 0;
	$t += $_ for values %$h;
	return $t;
}

my $n_codes = scalar(@codes);
cmp_ok($n_codes, '>=', 5000, "at least 5000 mutated codes ($n_codes)");

is(total($count{input}), $n_codes, 'every code went through the type input');
is(total($count{input}) - ($count{input}{ok} // 0) - ($count{input}{'22P02'} // 0),
	0, 'type input: only success or 22P02');
cmp_ok($count{input}{ok} // 0, '>', 0, 'type input: some mutations still parse (transpositions of equal digits, etc.)');
cmp_ok($count{input}{'22P02'} // 0, '>', $n_codes / 2, 'type input: most mutations are refused with 22P02');

is($count{is_valid}{agrees} // 0, $n_codes, 'upc_is_valid agrees with the type input on every code and never raises');

is(total($count{parse}), 5 * $n_codes, 'every code went through upc_parse for all five kinds');
is(total($count{parse}) - ($count{parse}{ok} // 0) - ($count{parse}{'22P02'} // 0),
	0, 'upc_parse: only success or 22P02 (22023 is only for an unknown kind)');

cmp_ok(total($count{bigint}), '>=', 2000, 'bigint cast exercised');
is(total($count{bigint}) - ($count{bigint}{ok} // 0) - ($count{bigint}{'22P02'} // 0),
	0, 'bigint cast: only success (same number back) or 22P02');

# The server is alive and the type still works.
is($node->safe_psql('postgres', "SELECT '0036000291452'::icos.upc::text"),
	'036000291452', 'server alive after the mutations');

# docs/upc.md's examples are the SQL of sql/upc_docs.sql, so the regression
# test keeps them true.
my $top = $ENV{ICOS_TOP} // '.';
if (open my $md, '<', "$top/docs/upc.md")
{
	local $/;
	my $doc = <$md>;
	close $md;
	my @blocks = $doc =~ /```sql\n(.*?)```/sg;
	open my $sql, '<', "$top/sql/upc_docs.sql" or die "sql/upc_docs.sql: $!";
	my $reg = <$sql>;
	close $sql;
	my $missing = grep { index($reg, $_) < 0 } @blocks;
	cmp_ok(scalar(@blocks), '>', 5, 'docs/upc.md has SQL examples');
	is($missing, 0, 'every SQL example of docs/upc.md is run by sql/upc_docs.sql');
}
else
{
	fail("docs/upc.md not readable under $top");
}

$node->stop;
done_testing();
