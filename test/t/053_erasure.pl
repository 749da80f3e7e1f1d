# Erasure on every node (docs/customers.md, "Erasure on every node"): a
# customer registered at a store node, known at head office through
# replication and served there too, is forgotten once at head office and
# once at her store.  Afterwards no text or jsonb column of any icos table,
# on head office or on the store, holds her name, e-mail, phone or address;
# sales_report gives the same figures; both links still run.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run qw(run timeout);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = $ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $icos = "$top/src/cli/icos";
plan skip_all => "client not built ($icos); run make first" unless -x $icos;

my %node;
for my $name (qw(hq s1))
{
	my $n = PostgreSQL::Test::Cluster->new("erase_$name");
	$n->init(allows_streaming => 'logical');
	$n->append_conf('postgresql.conf', "max_replication_slots = 10\nmax_wal_senders = 10\n"
		. "max_worker_processes = 16\nwal_receiver_status_interval = 1s\n");
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION icos');
	$node{$name} = $n;
}
my ($hq, $s1) = @node{qw(hq s1)};
my %dsn = map { $_ => $node{$_}->connstr('postgres') } keys %node;

sub icos
{
	my ($out, $err) = ('', '');
	run([ $icos, @_ ], '<', \undef, '>', \$out, '2>', \$err, timeout(120));
	return ($? >> 8, $out, $err);
}

my $kettle = '036000291452';
my $lamp = '4006381333931';
$hq->safe_psql('postgres', qq{
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES
  (1, 'Leeds', 'store', 1), (7, 'Ripon', 'store', 0), (8, 'Call centre', 'callcentre', 0);
INSERT INTO icos.category VALUES (1, NULL, 'Home');
INSERT INTO icos.product (upc, name, price, lead_time_days, category_id) VALUES
  ('$kettle', 'Kettle', 20.00, 5, 1), ('$lamp', 'Desk lamp', 25.00, 3, 1);
});
my ($rc, $out, $err) = icos('--dsn', $dsn{hq}, 'node', 'init-hq');
is($rc, 0, 'node init-hq succeeds') or diag($err);
($rc, $out, $err) = icos('node', 'add-store', '--hq', $dsn{hq}, '--store-dsn', $dsn{s1}, '--store', '1', '--name', 'Leeds');
is($rc, 0, 'node add-store 1 succeeds') or diag("$out\n$err");

$s1->safe_psql('postgres', "SELECT icos.receive_stock(1, u::icos.upc, 50, 'delivery') FROM unnest(ARRAY['$kettle', '$lamp']) u");
$hq->safe_psql('postgres', "SELECT icos.receive_stock(7, u::icos.upc, 50, 'delivery') FROM unnest(ARRAY['$kettle', '$lamp']) u");

# Two customers registered at the store node, each with everything a
# customer leaves behind: orders delivered to her address, notes, a
# cancellation reason, a changed address, consent, feedback, a follow-up.
my %who = (
	ann => { name => 'Annabel Hale', email => 'annabel.hale@example.com', phone => '07700 900321',
		line1 => '2 Parliament Street', town => 'Knaresborough', postcode => 'HG5 8AB',
		moved => '8 Cold Bath Road', moved_pc => 'HG2 0NA' },
	bob => { name => 'Bartholomew Quill', email => 'b.quill@example.org', phone => '0113 496 0777',
		line1 => '14 Wharfe Lane', town => 'Otley', postcode => 'LS21 3QQ',
		moved => '5 Chevin Rise', moved_pc => 'LS21 2AA' },
);
for my $k (sort keys %who)
{
	my $c = $who{$k};
	my $first = (split ' ', $c->{name})[0];
	$c->{id} = $s1->safe_psql('postgres', qq{
SELECT icos.upsert_customer('{"name": "$c->{name}", "email": "$c->{email}", "phone": "$c->{phone}",
  "address": {"line1": "$c->{line1}", "town": "$c->{town}", "postcode": "$c->{postcode}"}}')});
	my $home = $s1->safe_psql('postgres', qq{
SELECT icos.place_order('{"store": 1, "channel": "store", "customer": {"id": $c->{id}},
  "lines": [{"upc": "$kettle", "qty": 2}], "delivery": {"method": "home"},
  "payments": [{"method": "cash", "amount": 40.00}]}')});
	my $gone = $s1->safe_psql('postgres', qq{
SELECT icos.place_order('{"store": 1, "channel": "store", "customer": {"email": "$c->{email}"},
  "lines": [{"upc": "$lamp", "qty": 1}], "delivery": {"method": "collect"},
  "payments": [{"method": "cash", "amount": 25.00}]}')});
	$s1->safe_psql('postgres', qq{
SELECT icos.set_consent($c->{id}, 'email', true);
SELECT icos.set_consent($c->{id}, 'sms', true);
SELECT icos.add_note('$home', 'dispatch', 'Ring $first on $c->{phone} before delivering to $c->{line1}');
SELECT icos.advance_order('$home', 'dispatched', 'Left with $c->{name}');
SELECT icos.cancel_order('$gone', '$c->{name} found it cheaper, $c->{email}');
SELECT icos.record_feedback('$home', 4, '$first says the driver was kind');
SELECT icos.update_customer($c->{id}, '{"address": {"line1": "$c->{moved}", "town": "$c->{town}", "postcode": "$c->{moved_pc}"}}');
});
	$c->{home} = $home;
}
is($s1->safe_psql('postgres', 'SELECT count(*) FROM icos.customer_message'), '4',
	'the dispatch messages are queued for both customers, by e-mail and SMS');

# Head office knows them by replication; its own store and its call centre
# serve them too, by id.
ok($hq->poll_query_until('postgres', qq{SELECT count(*) = 2 FROM icos.customer_event WHERE kind = 'changed'}),
	'both customers and their change logs reached head office');
ok($hq->poll_query_until('postgres',
		qq{SELECT count(*) = 2 FROM icos.order_event e WHERE e.note LIKE 'Ring %'}),
	'the store\'s order events reached head office');
for my $k (sort keys %who)
{
	my $c = $who{$k};
	my $code = $hq->safe_psql('postgres', qq{
SELECT icos.place_order('{"store": 7, "channel": "store", "customer": {"id": $c->{id}},
  "lines": [{"upc": "$lamp", "qty": 2}],
  "delivery": {"method": "home", "address": {"line1": "$c->{moved}", "town": "$c->{town}", "postcode": "$c->{moved_pc}"}},
  "payments": [{"method": "cash", "amount": 50.00}]}')});
	$hq->safe_psql('postgres', qq{SELECT icos.add_note('$code', 'service', 'Call $c->{name} at $c->{email}');
SELECT icos.record_feedback('$code', 5, 'Thanks from $c->{name}')});
}

my $report = q{SELECT string_agg(concat_ws(':', key, orders, units, gross, discount, net, returns), ' ' ORDER BY key)
  FROM icos.sales_report(now() - interval '1 day', now() + interval '1 day', 'store')};
my %before = map { $_ => $node{$_}->safe_psql('postgres', $report) } qw(hq s1);
like($before{hq}, qr/^1:.* 7:/, 'head office reports the store\'s and its own sales');

# Every text and jsonb column (domains over them too) of every icos table,
# searched in one statement per node for any of her details: the columns
# where some is found.
my $columns = q{
SELECT format('%I.%I', n.nspname, c.relname), quote_ident(a.attname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
 WHERE n.nspname = 'icos' AND c.relkind IN ('r', 'p')
   AND coalesce(nullif(t.typbasetype, 0), t.oid) IN ('text'::regtype, 'jsonb'::regtype, 'json'::regtype,
                                                      'varchar'::regtype, 'bpchar'::regtype, 'text[]'::regtype)
 ORDER BY 1, 2};
sub traces
{
	my ($n, $c) = @_;
	(my $digits = $c->{phone}) =~ s/\D//g;
	my @needles = map { lc } ($c->{name}, (split ' ', $c->{name}), $c->{email}, $c->{phone}, $digits,
		$c->{line1}, $c->{moved}, $c->{town}, $c->{postcode}, $c->{moved_pc});
	my $like = join(', ', map { my $x = $_; $x =~ s/'/''/g; "'%$x%'" } @needles);
	my @cols = map { [ split /\|/ ] } split /\n/, $n->safe_psql('postgres', $columns);
	die 'too few columns found: ' . scalar(@cols) if @cols < 40;
	my $sql = join("\nUNION ALL\n", map {
		"SELECT '$_->[0].$_->[1]' WHERE EXISTS (SELECT 1 FROM $_->[0] WHERE lower($_->[1]::text) LIKE ANY (ARRAY[$like]))"
	} @cols);
	return join(', ', split /\n/, $n->safe_psql('postgres', "SELECT string_agg(x, ', ' ORDER BY x) FROM ($sql) s(x)"));
}

# The search finds what erasure must remove, on both nodes.
for my $k (sort keys %who)
{
	like(traces($hq, $who{$k}), qr/icos\.customer\.name.*icos\.customer_address\.line1.*icos\.customer_event\.changes.*icos\.order_event\.note.*icos\.order_feedback\.comment.*icos\.orders\.cancel_reason.*icos\.orders\.delivery_address/,
		"hq: before erasure, $who{$k}{name} is found in her record, her change log and her orders");
	like(traces($s1, $who{$k}), qr/icos\.customer\.name.*icos\.customer_address\.line1.*icos\.customer_event\.changes.*icos\.order_event\.note.*icos\.order_feedback\.comment.*icos\.orders\.cancel_reason.*icos\.orders\.delivery_address/,
		"s1: ... and at her store");
}

# Ann is forgotten at head office: it erases its own orders of hers and
# asks her node, which forgets her; her erasure comes back.
my $asked = $hq->safe_psql('postgres', qq{SELECT icos.forget_customer($who{ann}{id}, 'erasure request by letter, ticket 4411')});
like($asked, qr/"node": 1/, 'head office asks node 1 to forget Ann') or diag($asked);
($rc, $out, $err) = $hq->psql('postgres', qq{SELECT icos.place_order('{"store": 7, "channel": "store", "customer": {"id": $who{ann}{id}},
  "lines": [{"upc": "$lamp", "qty": 1}], "delivery": {"method": "carry"},
  "payments": [{"method": "cash", "amount": 25.00}]}')});
like($err, qr/customer $who{ann}{id} has been forgotten/, 'head office takes no order for her once asked');
ok($s1->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM icos.customer_erasure WHERE customer_id = $who{ann}{id}}),
	'the request reached her node, which forgot her');
is($s1->safe_psql('postgres', qq{SELECT concat_ws('|', employee_id IS NULL, at_store IS NULL, reason, orders_erased)
  FROM icos.customer_erasure WHERE customer_id = $who{ann}{id}}), 't|t|erasure request by letter, ticket 4411|2',
	'her node logs the erasure with head office\'s reason');
ok($hq->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM icos.customer_erasure WHERE customer_id = $who{ann}{id}}),
	'her erasure came back to head office');

# Bob is forgotten at his store.
like($s1->safe_psql('postgres', qq{SELECT icos.forget_customer($who{bob}{id}, 'asked at the till, ticket 4412')}),
	qr/"orders_erased": 2/, 'the store forgets Bob and his two orders there');
ok($hq->poll_query_until('postgres', qq{SELECT count(*) = 1 FROM icos.customer_erasure WHERE customer_id = $who{bob}{id}}),
	'his erasure reached head office');
($rc, $out, $err) = $s1->psql('postgres', qq{SELECT icos.forget_customer($who{bob}{id}, 'again')});
like($err, qr/has been forgotten/, 'a second erasure is refused');

for my $k (sort keys %who)
{
	my $c = $who{$k};
	is(traces($node{$_}, $c), '', "$_: after erasure, no trace of $c->{name} in any text or jsonb column") for qw(hq s1);
	is($node{$_}->safe_psql('postgres', "SELECT count(*) FROM icos.customer_message WHERE customer_id = $c->{id}"),
		'0', "$_: no follow-up for $c->{name} is left") for qw(hq s1);
}

my %after = map { $_ => $node{$_}->safe_psql('postgres', $report) } qw(hq s1);
is($after{$_}, $before{$_}, "$_: sales_report gives the same figures") for qw(hq s1);
is($hq->safe_psql('postgres', qq{SELECT icos.order('$who{ann}{home}') -> 'customer' ->> 'name'}), 'forgotten customer',
	'her order keeps its amounts under a forgotten customer');

# Both links still apply: a new sale at the store reaches head office.
my $code = $s1->safe_psql('postgres', qq{SELECT icos.place_order('{"store": 1, "channel": "pos",
  "lines": [{"upc": "$lamp", "qty": 1}], "payments": [{"method": "cash", "amount": 25.00}]}')});
ok($hq->poll_query_until('postgres', "SELECT count(*) = 1 FROM icos.orders WHERE code = '$code'"),
	'the store\'s link to head office still applies');
is($hq->safe_psql('postgres', 'SELECT sum(apply_error_count + sync_error_count) FROM pg_stat_subscription_stats'), '0',
	'head office applied everything without an error');
is($s1->safe_psql('postgres', 'SELECT sum(apply_error_count + sync_error_count) FROM pg_stat_subscription_stats'), '0',
	'the store applied everything without an error');

$_->stop for values %node;
done_testing();
