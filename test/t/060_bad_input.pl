# Bad input: thousands of malformed calls of every API function (wrong JSON
# types, missing and unknown keys, huge, zero and negative quantities and
# amounts, NaN and Infinity, 1 MB strings, unknown codes, SQL fragments in
# every text field, Unicode), generated from valid calls with a fixed seed.
# Each call runs in its own transaction in one psql session; after it the
# session prints the SQLSTATE and a fingerprint of every icos table (row
# count and a hash of the rows).  Every refusal must carry a documented
# SQLSTATE (API.md's, 42501, or a 22xxx data exception, 54000), never XX000,
# and must leave every table exactly as it was; the server never crashes.
# Targeted cases (issue 14) follow the generated calls: each must give its
# own documented SQLSTATE, and change nothing.
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use POSIX qw(strftime);

my $SEED = $ENV{ICOS_BAD_INPUT_SEED} // 20261123;
# Delivery dates are accepted up to 365 days ahead.
my $DATE1 = strftime('%Y-%m-%d', gmtime(time + 60 * 86400));
my $DATE2 = strftime('%Y-%m-%d', gmtime(time + 61 * 86400));
my $PER_FUNCTION = $ENV{ICOS_BAD_INPUT_PER_FUNCTION} // 160;
srand($SEED);

my $node = PostgreSQL::Test::Cluster->new('bad_input');
$node->init;
$node->append_conf('postgresql.conf', "statement_timeout = '20s'\nlog_min_messages = warning\nlog_min_duration_statement = -1\nlog_statement = none\nlog_min_error_statement = panic\n");
$node->start;
$node->safe_psql('postgres',
	"CREATE DATABASE fuzz ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0");
$node->safe_psql(
	'fuzz', q{
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind, address) VALUES
	(1, 'Leeds Briggate', 'store', '{"line1": "1 Briggate", "town": "Leeds", "postcode": "LS1 6HD"}'),
	(2, 'York Coney Street', 'store', NULL),
	(3, 'Website', 'web', NULL),
	(4, 'Wakefield warehouse', 'warehouse', NULL);
INSERT INTO icos.category (category_id, parent_id, name) VALUES (1, NULL, 'Furniture'), (2, 1, 'Lamps');
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days, made_to_order) VALUES
	('036000291452', 'Oak table', 1, 199.99, 10, false),
	('4006381333931', 'Desk lamp', 2, 24.50, 3, false),
	('96385074', 'Sofa, made to measure', 1, 899.00, 28, true),
	('5012345678900', 'Bookcase', 1, 89.00, 14, false);
SELECT icos.receive_stock(s, u::icos.upc, 1000, 'fixture')
FROM unnest(ARRAY[1, 2, 4]) s, unnest(ARRAY['036000291452', '4006381333931', '5012345678900']) u;
-- A lead time as large as the table allows (0.3.0 bounds it to 3650 days).
INSERT INTO icos.product (upc, name, category_id, price, lead_time_days, made_to_order)
VALUES ('4000000000013', 'Slow lamp', 2, 10.00, 0, false);
DO $$
BEGIN
	UPDATE icos.product SET lead_time_days = 2147483647 WHERE upc = '4000000000013';
EXCEPTION WHEN check_violation THEN
	UPDATE icos.product SET lead_time_days = 3650 WHERE upc = '4000000000013';
END
$$;
SELECT icos.place_order('{"store": 1, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}],
	"payments": [{"method": "cash", "amount": 30}], "external_ref": "till-1 sale 1"}');
});
my $cust = $node->safe_psql('fuzz',
	q{SELECT icos.upsert_customer('{"name": "Ann Smith", "email": "ann@example.com", "phone": "07700900123",
	  "address": {"line1": "2 High St", "town": "Leeds", "postcode": "LS2 1AA"}}')});
# Enough orders that cancelling some leaves others to edit and advance.
my @codes = split /\n/, $node->safe_psql('fuzz', qq{SELECT icos.place_order(('{"store": 1, "channel": "store",
		"customer": {"id": $cust}, "lines": [{"upc": "036000291452", "qty": 1}, {"upc": "4006381333931", "qty": 2}],
		"delivery": {"method": "home"}, "payments": [{"method": "cash", "amount": ' || 50 * (1 + g % 3) || '}]}')::jsonb)
	FROM generate_series(1, 40) g});
push @codes, $node->safe_psql('fuzz', q{SELECT icos.place_order('{"store": 1, "channel": "pos",
	"lines": [{"upc": "4006381333931", "qty": 3}], "delivery": {"method": "carry"},
	"payments": [{"method": "visa", "amount": 73.50, "reference": "auth 1"}]}')});
my $hold = $node->safe_psql('fuzz', q{SELECT icos.hold_stock(1, '4006381333931', 1)});

# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------
my $json = JSON::PP->new->canonical(1)->allow_nonref;
sub raw { return "\x{1}RAW:$_[0]\x{1}" }    # a JSON token written as is
my $MB = 'A' x (1024 * 1024);
my @sql_bits = (
	q{'; DROP TABLE icos.orders; --},
	q{1; SELECT pg_sleep(30)},
	q{$$; DROP SCHEMA icos CASCADE; $$},
	q{' OR '1'='1},
	q{"); DELETE FROM icos.order_event; --},
	q{\\'; COPY icos.order_code_key TO '/tmp/key'; --},
	q{%s%s%s%n%x},
	q{icos.order_code_key},
	q{../../../../etc/passwd});
my @unicode = ("Zoë Ünïcødé", "名前 山田", "🛒🎄", "\x{202E}lanigiro", "Ｆｕｌｌｗｉｄｔｈ", "e\x{301}\x{301}\x{301}",
	"\x{FEFF}bom", "line\nbreak", "tab\there", "\\u0000");
my @bad_json = (
	undef, JSON::PP::true, JSON::PP::false, 0, -1, -0.01, 0.001, 1.5, 2147483647, 2147483648,
	raw('1e999'), raw('-1e999'), raw('99999999999999999999999999999'), raw('1e-400'), raw('-0'),
	'NaN', 'Infinity', '-Infinity', 'nan', '', ' ', '0', '-5', '1e3', '12.345', 'x' x 300, [], {},
	[ 1, 2, 3 ], { a => 1 }, [ [] ], '0000-0000-0000', 'ZZZZ-ZZZZ-ZZZZ', 'U000-0000-0000',
	'036000291453', '00000000', '12345678901234567890', '4006381333931 ', 'null',
	'2099-02-30', '0001-01-01 BC', 'infinity', '4111 1111 1111 1111', "\x{0}",
	@sql_bits, @unicode);

sub pick { return $_[ int(rand(@_)) ] }

sub bad_json_value
{
	return $MB if rand() < 0.01;
	return raw('"\u0000"') if rand() < 0.01;
	return pick(@bad_json);
}

# All paths (arrays of keys and indexes) of a document, the root included.
sub paths
{
	my ($v, $p) = @_;
	my @out = ($p);
	if (ref $v eq 'HASH')
	{
		push @out, paths($v->{$_}, [ @$p, $_ ]) for sort keys %$v;
	}
	elsif (ref $v eq 'ARRAY')
	{
		push @out, paths($v->[$_], [ @$p, $_ ]) for 0 .. $#$v;
	}
	return @out;
}

sub clone { return $json->decode($json->encode($_[0])) }

# One random change to a document; returns the new document.
sub mutate
{
	my ($doc) = @_;
	my @p = paths($doc, []);
	my $path = pick(@p);
	my $op = rand();
	return bad_json_value() if !@$path && $op < 0.15;
	my $parent = \$doc;
	for my $k (@$path[ 0 .. $#$path - 1 ])
	{
		$parent = ref $$parent eq 'HASH' ? \$$parent->{$k} : \$$parent->[$k];
	}
	my $last = $path->[-1];
	my $slot =
	  !@$path ? \$doc
	  : ref $$parent eq 'HASH' ? \$$parent->{$last}
	  :                          \$$parent->[$last];
	if ($op < 0.55)
	{
		$$slot = bad_json_value();
	}
	elsif ($op < 0.70 && @$path)
	{
		if (ref $$parent eq 'HASH') { delete $$parent->{$last} }
		else { splice @{$$parent}, $last, 1 }
	}
	elsif ($op < 0.80 && ref $$slot eq 'HASH')
	{
		$$slot->{ pick('zz_unknown', 'price', 'unit_price', 'discount', 'employee', 'store_id', '__proto__') } =
		  bad_json_value();
	}
	elsif ($op < 0.88 && ref $$slot eq 'ARRAY' && @{$$slot})
	{
		my $n = pick(2, 10, 200);
		push @{$$slot}, map { clone($$slot->[0]) } 1 .. $n;
	}
	else
	{
		$$slot = pick(-1, 0, 2147483647, 2147483648, raw('1e999'), raw('-1e999'), 'NaN', raw('0.005'), -0.01)
		  if !ref $$slot;
	}
	return $doc;
}

sub sql_text
{
	my ($s) = @_;
	return 'NULL' unless defined $s;
	$s =~ s/\x{0}//g;    # PostgreSQL text cannot hold NUL
	$s =~ s/'/''/g;
	return "'$s'";
}

sub sql_json
{
	my ($doc) = @_;
	my $t = $json->encode($doc);
	$t =~ s/"\\u0001RAW:(.*?)\\u0001"/my $r = $1; $r =~ s!\\\\!\\!g; $r =~ s!\\"!"!g; $r/ge;
	return sql_text($t) . '::jsonb';
}

# Scalar argument kinds: [valid values...], [bad values...] as SQL.
my @code_ok = map { sql_text($_) . '::icos.order_code' } @codes;
my %kinds = (
	int => [ [ 1, 2, 4 ], [ 0, -1, 3, 9999, 2147483647, -2147483648, 'NULL' ] ],
	qty => [ [ 1, 2 ], [ 0, -1, -2147483648, 2147483647, 1000000, 'NULL' ] ],
	bigint => [ [$cust], [ 0, -1, '9223372036854775807', '(-9223372036854775807 - 1)', 'NULL', $hold ] ],
	bool => [ [ 'true', 'false' ], ['NULL'] ],
	empid => [ [ map { 1000 + $_ } 1 .. 500 ], [ 0, -1, 'NULL', 2147483647 ] ],
	verifier => [
		[ sql_text('SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$' . ('A' x 43) . '=:' . ('B' x 43) . '=') ],
		[ map { sql_text($_) } 'secret123', 'SCRAM-SHA-256$4096:c2FsdA==$YQ==:Yg==', 'md5' . ('0' x 32), '', @sql_bits ],
		['NULL']
	],
	upc => [
		[ map { sql_text($_) . '::icos.upc' } '036000291452', '4006381333931', '96385074' ],
		[
			map { sql_text($_) . '::icos.upc' } '036000291453', '12345', '', 'ABCDEFGHIJKL', '00000000000000',
			'99999999999999', '0 3600-0291 452', '１２３４５６７８', $sql_bits[0], 'x' x 100
		],
		[ 'NULL', "'00000000'::icos.upc", "'5000000000009'::icos.upc" ]
	],
	code => [
		\@code_ok,
		[
			'NULL', 'icos.next_order_code()',
			map { sql_text($_) . '::icos.order_code' } 'ZZZZ-ZZZZ-ZZZZ', '', 'U000-0000-0000',
			'0000-0000-000', $sql_bits[0], 'é' x 12, '0000 0000 0000 0000'
		]
	],
	interval => [
		["'15 minutes'::interval"],
		[
			map { sql_text($_) . '::interval' } '-1 hour', '0', '1 microsecond', '1000 years', '178000000 years',
			'forever', '-178000000 years'
		],
		['NULL']
	],
	ts => [
		[ 'now() - interval \'1 day\'', 'now() + interval \'1 day\'' ],
		[ map { sql_text($_) . '::timestamptz' } 'infinity', '-infinity', '1900-01-01', '294276-12-31', 'tomorrow!' ],
		['NULL']
	],
	date => [
		[ 'current_date', 'current_date + 7' ],
		[ map { sql_text($_) . '::date' } 'infinity', '-infinity', '4713-01-01 BC', '5874897-12-31', '2026-02-30' ],
		['NULL']
	],
	text => [ [], [ 'NULL', map { sql_text($_) } '', ' ', @sql_bits, @unicode, 'x' x 5000 ] ],
);

sub scalar_arg
{
	my ($kind, $valid) = @_;
	if (ref $kind eq 'ARRAY')    # an enumerated text: [kind 'enum', valid values]
	{
		return sql_text(pick(@$kind)) if $valid;
		return rand() < 0.02 ? sql_text($MB) : pick(@{ $kinds{text}[1] }, map { sql_text(uc $_) } @$kind);
	}
	my ($good, @bad) = @{ $kinds{$kind} };
	return pick(@$good) if $valid && @$good;
	return sql_text($MB) if $kind eq 'text' && rand() < 0.02;
	my @all = map { @$_ } @bad;
	return pick(@all);
}

# ---------------------------------------------------------------------------
# The API of API.md: name, then argument specs (a kind, an enum list, or a
# JSON document to mutate).
# ---------------------------------------------------------------------------
my $address = { line1 => '2 High St', line2 => 'Flat 1', town => 'Leeds', postcode => 'ls2 1aa', country => 'gb' };
my %api = (
	place_order => [
		{
			store => 1, channel => 'store',
			customer => { name => 'Ann Smith', email => 'ann@example.com', phone => '07700 900123', address => $address },
			lines => [ { upc => '036000291452', qty => 1 }, { upc => '4006381333931', qty => 2, fulfil_from => 4 } ],
			delivery => { method => 'home', date => $DATE1 },
			payments => [ { method => 'visa', amount => 50.00, reference => 'auth 42' }, { method => 'cash', amount => '10.00' } ]
		},
		{
			store => 1, channel => 'pos', lines => [ { upc => '4006381333931', qty => 1 } ],
			delivery => { method => 'carry' }, payments => [ { method => 'cash', amount => 30 } ],
			metadata => { cart => 'c-1041', tags => [ 'gift', 'web' ], n => 3 }
		},
		{
			store => 3, channel => 'web', customer => { id => 0 + $cust },
			lines => [ { upc => '96385074', qty => 1 }, { upc => '5012345678900', qty => 5000, backorder => JSON::PP::true } ],
			delivery => { method => 'collect', collect_store => 2 }, holds => [ 0 + $hold ], coupons => ['SAVE10']
		} ],
	edit_order => [
		'code',
		{
			add_lines => [ { upc => '5012345678900', qty => 1 } ], cancel_lines => [2], set_qty => [ { line => 1, qty => 1 } ],
			address => $address, delivery_date => $DATE2, payments => [ { method => 'cash', amount => 5 } ],
			refunds => [ { method => 'cash', amount => 1, reference => 'r1' } ]
		} ],
	return_lines => [ 'code', [ { line => 1, qty => 1 } ], 'text' ],
	cancel_order => [ 'code', 'text' ],
	add_note => [ 'code', [qw(manufacturing dispatch service)], 'text' ],
	advance_order => [ 'code', [qw(in_progress dispatched ready_for_collection completed)], 'text' ],
	order => ['code'],
	receipt => [ 'code', 'bool' ],
	customer_orders => ['bigint'],
	upsert_customer => [ { name => 'Bea Brown', email => 'bea@example.com', phone => '+441134960000', address => $address } ],
	price_basket => [
		{
			lines => [ { upc => '4006381333931', qty => 3 }, { upc => '036000291452', qty => 1 } ],
			store => 1, channel => 'store', at => '2026-11-23T10:00:00Z', customer => 0 + $cust, coupons => ['SAVE10']
		} ],
	product_info => ['upc'],
	availability => [ 'upc', 'int' ],
	receive_stock => [ 'int', 'upc', 'qty', 'text' ],
	set_display => [ 'int', 'upc', 'bool' ],
	hold_stock => [ 'int', 'upc', 'qty', 'interval' ],
	release_hold => ['bigint'],
	create_employee => [ 'empid', 'name', 'int', [qw(agent manager admin reporter)], 'verifier' ],
	upc_parse => [ 'text', [qw(gtin8 upca upce ean13 gtin14)] ],
	upc_format => [ 'upc', [qw(gtin14 ean13 upca upce gtin8 canonical)] ],
	upc_class => ['upc'],
	order_code_node => ['code'],
	sales_report => [ 'ts', 'ts', [qw(category product store channel day hour employee promotion)], 'int', [qw(store phone web pos)] ],
	offers => [ 'date', 'date', 'int' ],
);
# Functions other helpers add (promotions): only those that exist.
my %exists = map { $_ => 1 } split /\n/,
  $node->safe_psql('fuzz', q{SELECT DISTINCT proname FROM pg_proc WHERE pronamespace = 'icos'::regnamespace});
my @functions = grep { $exists{$_} } sort keys %api;

# The arguments of one call, as SQL; a few stay valid.
sub call_sql
{
	my ($fn) = @_;
	my @spec = @{ $api{$fn} };
	# place_order: one of its base documents.
	@spec = (pick(@spec)) if $fn eq 'place_order';
	my @args;
	my $n_bad = rand() < 0.08 ? 0 : 1 + int(rand(2));
	my %bad = map { int(rand(@spec)) => 1 } 1 .. $n_bad;
	for my $i (0 .. $#spec)
	{
		my $s = $spec[$i];
		if (ref $s eq 'HASH' || (ref $s eq 'ARRAY' && ref $s->[0] eq 'HASH'))
		{
			my $doc = clone($s);
			if ($bad{$i}) { $doc = mutate($doc) for 1 .. 1 + int(rand(3)) }
			push @args, rand() < 0.01 && $bad{$i} ? sql_text(pick('{"a":', 'NaN', '', '[1,2', "{\"qty\": NaN}", '{"x": 1e}')) . '::jsonb'
			  : sql_json($doc);
		}
		elsif (ref $s eq 'ARRAY' || $s eq 'text' || $s eq 'name')
		{
			push @args, !$bad{$i} && !ref $s ? sql_text($s eq 'name' ? pick(@unicode[ 0 .. 2 ], 'Ann Smith') : 'a note')
			  : scalar_arg(ref $s ? $s : 'text', !$bad{$i});
		}
		else
		{
			push @args, scalar_arg($s, !$bad{$i});
		}
	}
	return "SELECT icos.$fn(" . join(', ', @args) . ')';
}

# ---------------------------------------------------------------------------
# The script: each call, its SQLSTATE, then the fingerprint.
# ---------------------------------------------------------------------------
my $script = q{
\set ON_ERROR_STOP 0
\set QUIET 1
SET client_min_messages = error;
CREATE FUNCTION pg_temp.fingerprint() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r regclass;
	n bigint;
	h bigint;
	counts text := '';
	hashes text := '';
BEGIN
	FOR r IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'icos'::regnamespace
			 AND c.relkind IN ('r', 'p') ORDER BY c.relname
	LOOP
		-- Row count and the sum of the rows' inserting transaction ids: any
		-- committed insert, update or delete changes one of them, and no
		-- row is read in full (some hold 1 MB strings).
		EXECUTE format('SELECT count(*), coalesce(sum(t.xmin::text::bigint), 0) FROM %s t', r) INTO n, h;
		counts := counts || r::text || '=' || n || ' ';
		hashes := hashes || h || ',';
	END LOOP;
	RETURN counts || md5(hashes);
END
$$;
SELECT pg_temp.fingerprint() AS fp \gset
\echo F 0 :fp
};
my @calls;
for my $fn (@functions)
{
	push @calls, [ $fn, call_sql($fn) ] for 1 .. $PER_FUNCTION;
}
# Shuffle with the seeded generator so state built by one function meets the others.
for (my $i = $#calls; $i > 0; $i--)
{
	my $j = int(rand($i + 1));
	@calls[ $i, $j ] = @calls[ $j, $i ];
}
# Targeted cases, after the generated ones: [label, SQL, expected SQLSTATE].
# (Documents are written with qq~~: their braces need not balance.)
my $card = '4111111111111111';
my $pos = '"store": 1, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}]';
my $web = qq~"store": 3, "channel": "web", "customer": {"id": $cust}, "delivery": {"method": "collect", "collect_store": 1}~;
my $home = qq~"store": 1, "channel": "store", "customer": {"id": $cust}, "lines": [{"upc": "4006381333931", "qty": 1}]~;
my $later = strftime('%Y-%m-%d', gmtime(time + 400 * 86400));
my ($mb_n, $mb_c, $mb_r) = ('N' x 1048576, 'C' x 1048576, 'R' x 1048576);
my ($long_name, $long_mail, $long_phone) = ("\x{e9}" x 201, ('a' x 250) . '@example.com', '1' x 40);
my ($long_line, $long_pc, $long_ref) = ('x' x 201, 'A' x 17, 'E' x 101);
sub po { my ($doc) = @_; $doc =~ s/'/''/g; return "SELECT icos.place_order('{$doc}')" }
my @targeted = (
	[ 'qty 2.0', po(qq~"store": 1, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 2.0}]~), '22023' ],
	[ 'order total above the maximum', po(qq~$web, "lines": [{"upc": "96385074", "qty": 2000000000}]~), '22023' ],
	[ 'basket total above the maximum',
		q~SELECT icos.price_basket('{"store": 1, "channel": "web", "lines": [{"upc": "96385074", "qty": 2000000000}]}')~, '22023' ],
	[ 'a lead time of 2147483647 days',
		po(qq~$web, "lines": [{"upc": "4000000000013", "qty": 5000, "backorder": true}]~), '00000' ],
	[ 'delivery date 9999-12-31', po(qq~$home, "delivery": {"method": "home", "date": "9999-12-31"}~), '22023' ],
	[ 'delivery date 400 days ahead', po(qq~$home, "delivery": {"method": "home", "date": "$later"}~), '22023' ],
	[ 'edit: delivery date 9999-12-31', qq~SELECT icos.edit_order('$codes[0]', '{"delivery_date": "9999-12-31"}')~, '22023' ],
	[ 'e-mail with a no-break space', po(qq~$pos, "customer": {"name": "Ann", "email": "ann\x{a0}b\@example.com"}~), '22023' ],
	[ 'upsert_customer: e-mail with a no-break space',
		qq~SELECT icos.upsert_customer('{"name": "Ann", "email": "ann\x{a0}b\@example.com"}')~, '22023' ],
	[ 'e-mail with a zero-width space', po(qq~$pos, "customer": {"name": "Ann", "email": "ann\x{200b}b\@example.com"}~), '22023' ],
	[ 'a 1 MB customer name', po(qq~$pos, "customer": {"name": "$mb_n", "phone": "+441134960001"}~), '22001' ],
	[ 'a name of 201 characters', po(qq~$pos, "customer": {"name": "$long_name", "phone": "+441134960001"}~), '22001' ],
	[ 'a card number as a name', po(qq~$pos, "customer": {"name": "PAN $card", "phone": "+441134960001"}~), 'IC003' ],
	[ 'an e-mail over 254 characters', po(qq~$pos, "customer": {"name": "Ann", "email": "$long_mail"}~), '22001' ],
	[ 'a phone of 40 characters', po(qq~$pos, "customer": {"name": "Ann", "phone": "$long_phone"}~), '22001' ],
	[ 'an address line of 201 characters',
		po(qq~$pos, "customer": {"name": "Ann", "phone": "+441134960001", "address": {"line1": "$long_line", "town": "Leeds", "postcode": "LS1 1AA"}}~), '22001' ],
	[ 'a card number in an address',
		po(qq~$home, "delivery": {"method": "home", "address": {"line1": "card $card", "town": "Leeds", "postcode": "LS1 1AA"}}~), 'IC003' ],
	[ 'a postcode of 17 characters',
		po(qq~$home, "delivery": {"method": "home", "address": {"line1": "1 Road", "town": "Leeds", "postcode": "$long_pc"}}~), '22001' ],
	[ 'a 1 MB coupon', po(qq~$pos, "coupons": ["$mb_c"]~), '22001' ],
	[ 'a card number as a coupon', po(qq~$pos, "coupons": ["$card"]~), 'IC003' ],
	[ 'a 1 MB payment reference', po(qq~$pos, "payments": [{"method": "visa", "amount": 24.50, "reference": "$mb_r"}]~), '22001' ],
	[ 'a card number inside a reference',
		po(qq~$pos, "payments": [{"method": "visa", "amount": 24.50, "reference": "card:$card"}]~), 'IC003' ],
	[ 'an external_ref of 101 characters', po(qq~$pos, "external_ref": "$long_ref"~), '22001' ],
	[ 'an empty external_ref', po(qq~$pos, "external_ref": ""~), '22023' ],
	[ 'an external_ref that is not text', po(qq~$pos, "external_ref": 42~), '22023' ],
	[ 'a card number as external_ref', po(qq~$pos, "external_ref": "$card"~), 'IC003' ],
	[ 'metadata that is an array', po(qq~$pos, "metadata": ["cart"]~), '22023' ],
	[ 'metadata that is text', po(qq~$pos, "metadata": "cart c-1"~), '22023' ],
	[ '1 MB of metadata', po(qq~$pos, "metadata": {"blob": "$mb_n"}~), '22001' ],
	[ 'metadata of 4097 characters', po(qq~$pos, "metadata": {"k": "~ . ('m' x 4088) . qq~"}~), '22001' ],
	[ 'a card number in metadata', po(qq~$pos, "metadata": {"note": {"pan": "$card"}}~), 'IC003' ],
	[ 'country UK (the code is GB)',
		po(qq~$home, "delivery": {"method": "home", "address": {"line1": "1 Road", "town": "Leeds", "postcode": "LS1 1AA", "country": "UK"}}~), '22023' ],
	[ 'a country of 1 MB',
		po(qq~$home, "delivery": {"method": "home", "address": {"line1": "1 Road", "town": "Leeds", "postcode": "LS1 1AA", "country": "$mb_c"}}~), '22023' ],
	[ 'a country that is a number',
		po(qq~$home, "delivery": {"method": "home", "address": {"line1": "1 Road", "town": "Leeds", "postcode": "LS1 1AA", "country": 44}}~), '22023' ],
	[ 'upsert_customer: country XX',
		q~SELECT icos.upsert_customer('{"name": "Ann", "email": "ann@example.com", "address": {"line1": "1 Road", "town": "Leeds", "postcode": "LS1 1AA", "country": "XX"}}')~, '22023' ],
	[ 'an external_ref reused for another document',
		po('"store": 1, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 2}], "payments": [{"method": "cash", "amount": 60}], "external_ref": "till-1 sale 1"'), 'IC006' ],
	[ 'an external_ref repeated with its document (the same order, nothing changed)',
		po('"store": 1, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}], "external_ref": "till-1 sale 1"'), '00000' ],
);
my $first_targeted = @calls + 1;
push @calls, [ "targeted: $_->[0]", $_->[1], $_->[2] ] for @targeted;
for my $i (0 .. $#calls)
{
	my $id = $i + 1;
	$script .= "\\echo Q $id $calls[$i][0]\n$calls[$i][1] \\g /dev/null\n"
	  . "\\if :ERROR\n\\echo R $id :SQLSTATE :LAST_ERROR_MESSAGE\n\\else\n\\echo R $id 00000\n\\endif\n"
	  . "SELECT pg_temp.fingerprint() AS fp \\gset\n\\echo F $id :fp\n";
}
my $file = $PostgreSQL::Test::Utils::tmp_check . '/bad_input.sql';
open my $fh, '>:encoding(UTF-8)', $file or die "cannot write $file: $!";
print $fh $script;
close $fh;
note(sprintf('%d calls of %d functions (seed %d), script %.1f MB',
	scalar(@calls), scalar(@functions), $SEED, (-s $file) / 1048576));

my $t0 = time;
my ($out, $err) = ('', '');
IPC::Run::run([ 'psql', '-X', '-q', '-d', $node->connstr('fuzz'), '-f', $file ], '>', \$out, '2>', \$err);
note('ran in ' . (time - $t0) . ' s');
open my $log, '>', "$file.out" or die;
print $log $out, $err;
close $log;

# ---------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------
my (%state, %fp);
for my $line (split /\n/, $out)
{
	if ($line =~ /^R (\d+) (\S+)(?: (.*))?$/) { $state{$1} = [ $2, substr($3 // '', 0, 200) ] }
	elsif ($line =~ /^F (\d+) (.*)$/) { $fp{$1} = $2 }
}
is(scalar(keys %state), scalar(@calls), 'every call reported a result (the session never died)');

my $documented = qr/^(?:22[0-9A-Z]{3}|IC00[1-6]|42501|54000)$/;
my (%by_fn, @undocumented, @partial, %codes);
for my $i (1 .. @calls)
{
	my ($fn, $sql) = @{ $calls[ $i - 1 ] };
	my ($st, $msg) = @{ $state{$i} // [ 'none', 'no result' ] };
	$codes{$st}++;
	$by_fn{$fn}{ $st eq '00000' ? 'ok' : 'refused' }++;
	$by_fn{$fn}{mb}++ if $st eq '00000' && length($sql) > 1_000_000;
	next if $st eq '00000';
	# A second employee with the same id is a unique violation, as documented.
	my $allowed = $st =~ $documented || ($fn eq 'create_employee' && $st eq '23505');
	push @undocumented, "$fn -> $st $msg :: " . substr($sql, 0, 300) unless $allowed;
	push @partial, "$fn -> $st :: " . substr($sql, 0, 300)
	  if defined $fp{ $i - 1 } && defined $fp{$i} && $fp{ $i - 1 } ne $fp{$i};
}
my @wrong;
for my $i ($first_targeted .. scalar(@calls))
{
	my ($label, $sql, $want) = @{ $calls[ $i - 1 ] };
	my ($st, $msg) = @{ $state{$i} // [ 'none', 'no result' ] };
	push @wrong, "$label: $st $msg (wanted $want)" if $st ne $want;
}
is(scalar(@wrong), 0, 'each targeted bad input gives its documented SQLSTATE') or diag(join("\n", @wrong));
is($fp{ scalar(@calls) }, $fp{ scalar(@calls) - 1 }, 'an external_ref repeated with its document changed nothing');
note('SQLSTATEs: ' . join(', ', map { "$_ x$codes{$_}" } sort keys %codes));
note("$_: " . ($by_fn{$_}{ok} // 0) . ' accepted (' . ($by_fn{$_}{mb} // 0) . ' with a 1 MB argument), '
	  . ($by_fn{$_}{refused} // 0) . ' refused')
  for sort keys %by_fn;
is(scalar(@undocumented), 0, 'every refusal has a documented SQLSTATE (never XX000)')
  or diag(join("\n", @undocumented[ 0 .. ($#undocumented < 30 ? $#undocumented : 29) ]));
is(scalar(@partial), 0, 'no refused call changed any icos table')
  or diag(join("\n", @partial[ 0 .. ($#partial < 20 ? $#partial : 19) ]));
ok(!grep({ ($by_fn{$_}{refused} // 0) < $PER_FUNCTION / 2 } @functions),
	'each function refused most of its malformed calls (the generator is not accepting its own input)');
ok(!grep({ !$by_fn{$_}{ok} } grep { !/^(?:order_code_node|offers)$/ } @functions),
	'each function also accepted some calls (the valid ones still work)');
is($codes{XX000} // 0, 0, 'no internal error');

is($node->safe_psql('fuzz', 'SELECT 1'), '1', 'the server is up');
ok(!$node->log_contains(qr/terminated by signal|was terminated by exception|PANIC|TRAP:/),
	'no backend crashed');
is($node->safe_psql('fuzz', 'SELECT count(*) FROM icos.verify_stock()'), '0',
	'verify_stock() is empty after the run');
is( $node->safe_psql(
		'fuzz', q{
	WITH sold AS (
		SELECT l.fulfil_from AS store_id, l.upc, sum(l.consumed_qty - l.returned_qty) AS gone,
			   sum(l.reserved_qty) AS held
		FROM icos.order_line l GROUP BY 1, 2),
	holds AS (
		SELECT h.store_id, h.upc, sum(h.qty) AS held FROM icos.stock_hold h WHERE h.status = 'active'
		  AND h.expires_at > clock_timestamp() GROUP BY 1, 2),
	received AS (
		SELECT m.store_id, m.upc, sum(m.d_on_hand) FILTER (WHERE m.kind IN ('receipt', 'adjustment', 'transfer')) AS net_in
		FROM icos.stock_movement m GROUP BY 1, 2)
	SELECT count(*) FROM icos.stock s
	LEFT JOIN sold USING (store_id, upc) LEFT JOIN holds USING (store_id, upc) LEFT JOIN received USING (store_id, upc)
	WHERE s.on_hand < 0 OR s.reserved < 0 OR s.reserved > s.on_hand
	   OR s.on_hand + coalesce(sold.gone, 0) <> coalesce(received.net_in, 0)
	   OR s.reserved <> coalesce(sold.held, 0) + coalesce(holds.held, 0)}),
	'0',
	'the ledger balances: on hand + sold = received, reserved = held by lines and holds');

$node->stop;
done_testing();
