# Order codes under mutation: thousands of damaged codes and random strings
# go through the input function; each one parses or fails with exactly
# 22P02, never another error or a crash, and agrees with an independent
# implementation of the input rules written here in Perl.  Then, for real
# generated codes, every single substitution and every adjacent
# transposition is rejected as a probable typo.
use strict;
use warnings;
use utf8;
use Encode qw(encode_utf8);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

srand(20240611);

my $node = PostgreSQL::Test::Cluster->new('oc_mutations');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION icos');

my $alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
my @alpha = split //, $alphabet;
my %value;
@value{@alpha} = (0 .. 31);

# ---------------------------------------------------------------------------
# The oracle: the input rules of API.md, independently of the C code.
# Returns (class, canonical) with class ok, check, length, empty, U, symbol.
# ---------------------------------------------------------------------------
sub damm_step
{
	my ($c, $d) = @_;
	my $t = ($c ^ $d) << 1;
	$t ^= 0x25 if $t & 0x20;
	return $t;
}

sub oracle
{
	my ($s) = @_;
	$s =~ s/\A[ \t\n\r\x0B\f]+//;
	$s =~ s/[ \t\n\r\x0B\f]+\z//;
	my @sym;
	for my $ch (split //, $s)
	{
		next if $ch eq '-' || $ch eq ' ';
		return ('U') if $ch eq 'U' || $ch eq 'u';
		return ('symbol') unless $ch =~ /\A[0-9A-Za-z]\z/;
		my $u = uc $ch;
		$u =~ tr/ILO/110/;
		push @sym, $u;
	}
	return ('empty') if !@sym;
	return ('length') if @sym != 12;
	my $c = 0;
	$c = damm_step($c, $value{$_}) for @sym;
	return ('check') if $c != 0;
	my $t = join '', @sym;
	return ('ok', substr($t, 0, 4) . '-' . substr($t, 4, 4) . '-' . substr($t, 8, 4));
}

# The detail each class of error must carry.
my %detail_like = (
	check => qr/probably mistyped/,
	length => qr/has 12 characters, but this one has \d+/,
	empty => qr/The code is empty/,
	U => qr/The letter U \(character \d+\)/,
	symbol => qr/^Character \d+/,);

# ---------------------------------------------------------------------------
# Real codes, and mutations of them.
# ---------------------------------------------------------------------------
my @codes = split /\n/,
  $node->safe_psql('postgres',
	'SELECT icos.next_order_code() FROM generate_series(1, 300)');
is(scalar(@codes), 300, 'generated 300 codes');

my @pool = (
	@alpha, @alpha, @alpha, (map { lc } @alpha),
	qw(I L O U i l o u - _ . / + * # = ' " \\ : ; ! ? @ $ % & ^ ~ ` | < > [ ] { } ( ) ,),
	' ', "\t", "\n", "\r", "\x0B", "\f", "\x01", "\x07", "\x1b", "\x7f",
	'é', 'É', 'ß', 'Ω', 'Ж', '漢', '😀', '０', 'Ｏ', 'Ｉ', "\x{00A0}", "\x{200B}",
	"\x{2010}", "\x{2013}", "\x{FEFF}");

sub rchar { return $pool[ int(rand(@pool)) ]; }

sub mutate
{
	my ($s) = @_;
	my $kind = int(rand(5));
	my $n = length $s;
	my $p = int(rand($n + 1));
	if ($kind == 0 && $n)    # substitution
	{
		$p = int(rand($n));
		substr($s, $p, 1) = rchar();
	}
	elsif ($kind == 1 && $n)    # deletion
	{
		$p = int(rand($n));
		substr($s, $p, 1) = '';
	}
	elsif ($kind == 2)          # insertion
	{
		substr($s, $p, 0) = rchar();
	}
	elsif ($kind == 3 && $n > 1)    # adjacent transposition
	{
		$p = int(rand($n - 1));
		my $a = substr($s, $p, 1);
		substr($s, $p, 1) = substr($s, $p + 1, 1);
		substr($s, $p + 1, 1) = $a;
	}
	else                             # case and separators: still the same code
	{
		$s = join '', map { (rand() < 0.5 ? lc : uc) . (rand() < 0.2 ? ' ' : '') }
		  split //, $s;
	}
	return $s;
}

my @inputs;
for my $i (1 .. 6000)
{
	my $r = rand();
	my $s;
	if ($r < 0.70)
	{
		$s = $codes[ int(rand(@codes)) ];
		$s =~ s/-//g if rand() < 0.3;
		$s = mutate($s) for 1 .. 1 + int(rand(3));
	}
	elsif ($r < 0.95)
	{
		$s = join '', map { rchar() } 1 .. int(rand(30));
	}
	elsif ($r < 0.99)
	{
		$s = ' ' x int(rand(3)) . $codes[ int(rand(@codes)) ] . "\t" x int(rand(3));
	}
	else
	{
		# very long strings: codes repeated, or random symbols
		my $len = 1000 + int(rand(100000));
		$s =
		  rand() < 0.5
		  ? substr($codes[0] x (1 + $len / 14), 0, $len)
		  : join('', map { $alpha[ int(rand(32)) ] } 1 .. $len);
	}
	push @inputs, $s;
}

# ---------------------------------------------------------------------------
# Every single substitution and adjacent transposition of real codes.
# ---------------------------------------------------------------------------
my @typos;
for my $code (@codes[ 0 .. 29 ])
{
	(my $sym = $code) =~ s/-//g;
	for my $p (0 .. 11)
	{
		for my $c (@alpha)
		{
			next if $c eq substr($sym, $p, 1);
			my $t = $sym;
			substr($t, $p, 1) = $c;
			push @typos, $t;
		}
	}
	for my $p (0 .. 10)
	{
		my ($a, $b) = (substr($sym, $p, 1), substr($sym, $p + 1, 1));
		next if $a eq $b;
		my $t = $sym;
		substr($t, $p, 2) = $b . $a;
		push @typos, substr($t, 0, 4) . '-' . substr($t, 4, 4) . '-' . substr($t, 8, 4);
	}
}
cmp_ok(scalar(@typos), '>=', 30 * (12 * 31 + 8), 'built ' . scalar(@typos) . ' typos of 30 codes');

# ---------------------------------------------------------------------------
# Load everything as hex of its UTF-8 bytes (no quoting to get wrong).
# ---------------------------------------------------------------------------
sub hexlit { return "'\\x" . unpack('H*', encode_utf8($_[0])) . "'"; }

my @rows;
my $i = 0;
push @rows, '(' . ++$i . ", 'random', convert_from(" . hexlit($_) . "::bytea, 'UTF8'))" for @inputs;
push @rows, '(' . ++$i . ", 'typo', convert_from(" . hexlit($_) . "::bytea, 'UTF8'))" for @typos;
my $load = "CREATE TABLE inputs (i int PRIMARY KEY, kind text, s text);\n";
while (my @chunk = splice(@rows, 0, 2000))
{
	$load .= 'INSERT INTO inputs VALUES ' . join(",\n", @chunk) . ";\n";
}
$node->safe_psql('postgres', $load);
is($node->safe_psql('postgres', 'SELECT count(*) FROM inputs'),
	scalar(@inputs) + scalar(@typos), 'all inputs loaded');

# One session: try each input in its own subtransaction, record what happened.
$node->safe_psql(
	'postgres', q{
CREATE TABLE results (i int PRIMARY KEY, state text, canonical text, detail text);
DO $$
DECLARE
	r record;
	v icos.order_code;
	st text;
	det text;
BEGIN
	FOR r IN SELECT i, s FROM inputs ORDER BY i LOOP
		BEGIN
			v := r.s::icos.order_code;
			INSERT INTO results VALUES (r.i, '00000', v::text, NULL);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL;
			INSERT INTO results VALUES (r.i, st, NULL, det);
		END;
	END LOOP;
END
$$;
});

# ---------------------------------------------------------------------------
# Random inputs: only 00000 and 22P02, in the numbers the oracle predicts.
# ---------------------------------------------------------------------------
my %expect_state = ('00000' => 0, '22P02' => 0);
my %expect;
for my $k (0 .. $#inputs)
{
	my ($class, $canon) = oracle($inputs[$k]);
	$expect{ $k + 1 } = [ $class, $canon ];
	$expect_state{ $class eq 'ok' ? '00000' : '22P02' }++;
}
my %got_state = map { split /\|/ } split /\n/,
  $node->safe_psql('postgres',
	"SELECT state, count(*) FROM results JOIN inputs USING (i) WHERE kind = 'random' GROUP BY state");
is_deeply(\%got_state, \%expect_state,
	"random inputs: $expect_state{'00000'} accepted, $expect_state{'22P02'} rejected with 22P02, no other SQLSTATE");
cmp_ok($expect_state{'00000'}, '>', 100, 'a fair number of mutated inputs are still valid codes');
cmp_ok($expect_state{'22P02'}, '>', 4000, 'most mutated inputs are rejected');

my ($mismatch, $shown) = (0, 0);
my %classes;
for my $line (split /\n/,
	$node->safe_psql('postgres',
		"SELECT i, state, coalesce(canonical, ''), coalesce(detail, '') FROM results JOIN inputs USING (i) WHERE kind = 'random' ORDER BY i"))
{
	my ($k, $state, $canon, $detail) = split /\|/, $line, 4;
	my ($class, $want) = @{ $expect{$k} };
	$classes{$class}++;
	my $good =
	  $class eq 'ok'
	  ? ($state eq '00000' && $canon eq $want)
	  : ($state eq '22P02' && $detail =~ $detail_like{$class});
	next if $good;
	$mismatch++;
	diag("input $k (" . encode_utf8(substr($inputs[ $k - 1 ], 0, 60)) . "): expected $class, got $state $canon $detail")
	  if $shown++ < 10;
}
is($mismatch, 0, 'every random input gets the outcome and the error detail the rules predict');
ok($classes{$_}, "the random inputs include the case: $_") for qw(ok check length U symbol);

# ---------------------------------------------------------------------------
# Typos of real codes: every one is 22P02 saying "probably mistyped".
# ---------------------------------------------------------------------------
my $typo_result = $node->safe_psql(
	'postgres', q{
SELECT count(*),
       count(*) FILTER (WHERE state = '22P02'),
       count(*) FILTER (WHERE state = '22P02' AND detail LIKE '%probably mistyped%')
FROM results JOIN inputs USING (i) WHERE kind = 'typo'});
my $n = scalar(@typos);
is($typo_result, "$n|$n|$n",
	"all $n single substitutions and adjacent transpositions of 30 real codes are rejected as probable typos");

# The server survived it all.
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still answers');
ok(!($node->log_contains(qr/terminated by signal|server process .* was terminated/)),
	'no backend crashed');

$node->stop;
done_testing();
