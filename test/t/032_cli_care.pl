# The icos client's after-sale and customer commands, as the employees who
# use them: order advance and order return; customer find, orders, show and
# forget as an agent of the customer's store, an agent of another store and
# a manager.  Also: columns counted in display width (CJK names line up)
# and Ctrl-C cancelling a statement that waits on a lock.
use strict;
use warnings;
use utf8;
use Encode qw(decode_utf8);
use IPC::Run qw(timeout);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IcosCli;

plan skip_all => "client not built ($icos); run make first" unless -x $icos;

my $node = PostgreSQL::Test::Cluster->new('cli_care');
$node->init;
$node->start;
my $dsn = $node->connstr('postgres');

$node->safe_psql('postgres', q{
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind) VALUES (1, 'Leeds Briggate', 'store'), (2, 'York', 'store');
INSERT INTO icos.category VALUES (1, NULL, 'Home');
INSERT INTO icos.product (upc, name, price, category_id) VALUES
  ('4006381333931', 'Desk lamp', 24.50, 1),
  ('4901234567894', '抹茶セット', 12.00, 1);
SELECT icos.receive_stock(1, '4006381333931', 20, 'delivery');
SELECT icos.receive_stock(1, '4901234567894', 10, 'delivery');
});

my ($rc, $out, $err);

# Employees: an agent and a manager in Leeds, an agent in York
for my $e ([ 101, 'Ann Agent', 1, 'agent' ], [ 102, 'Max Manager', 1, 'manager' ], [ 201, 'Yan York', 2, 'agent' ])
{
	($rc, $out, $err) = icos({ env => { ICOS_PASSWORD => "pw-$e->[0]" } }, '--dsn', $dsn,
		'employee', 'add', '--id', $e->[0], '--name', $e->[1], '--store', $e->[2], '--position', $e->[3]);
	is($rc, 0, "employee $e->[0] ($e->[3], store $e->[2]) created") or diag($err);
}
my %as = map { $_ => "$dsn user=emp_$_" } (101, 102, 201);

# Display columns of text (decoded): East Asian wide characters take two.
sub width
{
	my ($s) = @_;
	my $w = 0;
	$w += /\p{EA=W}|\p{EA=F}/ ? 2 : 1 for split //, $s;
	return $w;
}

# The display column at which $what starts in $line (decoded).
sub column_of
{
	my ($line, $what) = @_;
	my $i = index($line, $what);
	return $i < 0 ? -1 : width(substr($line, 0, $i));
}

# ---- an order placed by the Leeds agent, for a customer with a CJK name ----
my $placed = write_file('order.json', q{{"store": 1, "channel": "store",
  "customer": {"name": "山田 花子", "email": "hanako@example.com", "phone": "07700 900555",
               "address": {"line1": "1 Park Row", "town": "Leeds", "postcode": "LS1 6HD"}},
  "lines": [{"upc": "4006381333931", "qty": 2}, {"upc": "4901234567894", "qty": 1}],
  "delivery": {"method": "home"},
  "payments": [{"method": "visa", "amount": 61.00, "reference": "auth 1"}]}});
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'place', '-f', $placed);
is($rc, 0, 'agent places an order: exit 0') or diag($err);
chomp(my $code = $out);

($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'show', $code);
is($rc, 0, 'order show: exit 0');
my @lines = split /\n/, decode_utf8($out);
my ($head) = grep { /^Line\s+UPC\s+Product/ } @lines;
my ($lamp) = grep { /Desk lamp/ } @lines;
my ($matcha) = grep { /抹茶セット/ } @lines;
ok(defined $head && defined $lamp && defined $matcha, 'order show: a header and both lines');
is(column_of($matcha, 'reserved'), column_of($head, 'Status'),
	'a CJK product name: the Status column starts where its header does');
is(column_of($lamp, 'reserved'), column_of($head, 'Status'), 'a Latin name: likewise');
is(width($matcha), width($lamp), 'both lines are as wide on the terminal');

# ---- order advance ----
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'advance', $code, 'in_progress', '--note', 'Picking now');
is($rc, 0, 'order advance in_progress: exit 0') or diag($err);
like($out, qr/^Status:\s+in_progress$/m, 'order advance: shows the order at its new step');
like($out, qr/^\S.*\s+status\s+101\s+Picking now$/m, 'order advance --note: the note in the history');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'advance', $code, 'flying');
is($rc, 1, 'order advance to a step that does not exist: exit 1');
like($err, qr/^ERROR \[22023\]: "flying" is not a fulfilment step\nHINT: /m, 'the server says which steps there are');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'advance', $code);
is($rc, 2, 'order advance without a step: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, '--json', 'order', 'advance', $code, 'dispatched');
is($rc, 0, 'order advance dispatched: exit 0');
my $doc = eval { decode_json($out) } // {};
is($doc->{status}, 'dispatched', 'order advance --json: the order document');

# ---- order return ----
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'return', $code, '--lines', '[{"line": 1, "qty": 1}]');
is($rc, 2, 'order return without --reason: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'return', $code, '--lines', '[{"line": 1}]', '--reason', 'faulty');
is($rc, 1, 'order return of a line without a quantity: exit 1');
like($err, qr/^ERROR \[22023\]: a returned line needs/m, 'order return: the server\'s refusal');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'return', $code, '--lines', '[{"line": 1, "qty": 1',
	'--reason', 'faulty');
is($rc, 1, 'order return with malformed JSON: exit 1');
like($err, qr/^ERROR \[22P02\]: /m, 'order return with malformed JSON: 22P02');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'order', 'return', $code, '--lines', '[{"line": 1, "qty": 1}]',
	'--reason', 'faulty switch');
is($rc, 0, 'order return: exit 0') or diag($err);
like($out, qr/^\S.*\s+returned\s+101\s+faulty switch$/m, 'order return: the return in the history');
like($out, qr/^\S.*\s+refund\s+visa\s+\x{c2}\x{a3}24\.50\s/m, 'order return: £24.50 refunded to the card');
is($node->safe_psql('postgres', q{SELECT on_hand FROM icos.availability('4006381333931', 1)}),
	'19', 'order return: the lamp is back in stock (20 - 2 + 1)');

# ---- customer find ----
my $cust = $node->safe_psql('postgres', q{SELECT customer_id FROM icos.customer WHERE email = 'hanako@example.com'});
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'find', 'hanako@example.com');
is($rc, 0, 'customer find by e-mail: exit 0') or diag($err);
@lines = split /\n/, decode_utf8($out);
like($lines[2] // '', qr/^\s*\Q$cust\E\s+山田 花子\s+hanako\@example\.com\s+07700900555\s+LS1 6HD\s+1\s*$/,
	'customer find: id, name, e-mail, phone, postcode, store');
is(column_of($lines[2] // '', 'hanako@'), column_of($lines[0], 'E-mail'),
	'customer find: the e-mail column lines up after a CJK name');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'find', 'LS1', '6HD', '山田');
like(decode_utf8($out), qr/^\s*\Q$cust\E\s+山田 花子/m, 'customer find by postcode and name (words unquoted)');
($rc, $out, $err) = icos({}, '--dsn', $as{201}, 'customer', 'find', 'hanako@example.com');
is($rc, 0, 'customer find by an agent of another store: exit 0');
like($out, qr/^No customer found for hanako\@example\.com\.$/m, 'an agent of another store does not find her');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'find', 'xyz');
is($rc, 1, 'customer find with a query that is none of the three: exit 1');
like($err, qr/^ERROR \[22023\]: cannot search customers by "xyz"/m, 'customer find: the server says why');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, '--json', 'customer', 'find', '07700 900555');
my $found = eval { decode_json($out) } // [];
is_deeply([ map { $_->{id} } @$found ], [ $cust ], 'customer find --json by phone');

# ---- customer orders ----
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'orders', $cust);
is($rc, 0, 'customer orders: exit 0');
like($out, qr/^\Q$code\E\s+\S+ \S+\s+store\s+1\s+dispatched\s+2\s+\x{c2}\x{a3}36\.50\s+-?\x{c2}\x{a3}0\.00$/m,
	'customer orders: the order, its status, lines, total and balance');
($rc, $out, $err) = icos({}, '--dsn', $as{201}, 'customer', 'orders', $cust);
is($rc, 0, 'customer orders by an agent of another store: exit 0');
like($out, qr/^No orders for customer \Q$cust\E\.$/m, 'an agent of another store sees none of her orders');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'orders', '999999');
is($rc, 1, 'customer orders of an unknown customer: exit 1');
like($err, qr/^ERROR \[IC004\]: unknown customer 999999/m, 'unknown customer: IC004');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'orders', 'ann');
is($rc, 2, 'customer orders with an id that is not a number: exit 2');

# ---- customer show (the subject-access export, managers) ----
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'show', $cust);
is($rc, 1, 'customer show as an agent: exit 1');
like($err, qr/^ERROR \[42501\]: /m, 'customer show as an agent: 42501');
($rc, $out, $err) = icos({}, '--dsn', $as{102}, 'customer', 'show', $cust);
is($rc, 0, 'customer show as her store\'s manager: exit 0') or diag($err);
my $shown = decode_utf8($out);
like($shown, qr/^Name:\s+山田 花子$/m, 'customer show: her name');
like($shown, qr/^Phone:\s+07700900555$/m, 'customer show: her phone');
like($shown, qr/^Addresses\n.*\n.*\n\s+1\s+\S+\s+1 Park Row, Leeds, LS1 6HD$/m, 'customer show: her addresses');
like($shown, qr/^Orders\n.*\n.*\n\Q$code\E\s/m, 'customer show: her orders');
($rc, $out, $err) = icos({}, '--dsn', $as{102}, '--json', 'customer', 'show', $cust);
$doc = eval { decode_json($out) } // {};
is($doc->{customer}{email}, 'hanako@example.com', 'customer show --json: the export document');
is($doc->{orders}[0]{code}, $code, 'customer show --json: with her orders');

# ---- customer forget (managers and admins) ----
($rc, $out, $err) = icos({}, '--dsn', $as{102}, 'customer', 'forget', $cust);
is($rc, 2, 'customer forget without --reason: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'forget', $cust, '--reason', 'erasure request by letter');
is($rc, 1, 'customer forget as an agent: exit 1');
like($err, qr/^ERROR \[42501\]: /m, 'customer forget as an agent: 42501');
($rc, $out, $err) = icos({}, '--dsn', $as{102}, 'customer', 'forget', $cust, '--reason', 'request from hanako@example.com');
is($rc, 1, 'customer forget with her e-mail in the reason: exit 1');
like($err, qr/^ERROR \[22023\]: the reason holds the customer's personal details/m, 'the server refuses it');
($rc, $out, $err) = icos({}, '--dsn', $as{102}, 'customer', 'forget', $cust, '--reason', 'erasure request by letter');
is($rc, 0, 'customer forget as her store\'s manager: exit 0') or diag($err);
like($out, qr/^Customer \Q$cust\E forgotten: her details are erased here and from 1 of her orders\.$/m,
	'customer forget: says what was erased');
($rc, $out, $err) = icos({}, '--dsn', $as{102}, 'customer', 'show', $cust);
like($out, qr/^Name:\s+forgotten customer$/m, 'after forget: her name is gone');
like($out, qr/^Forgotten:\s+\S+ \S+: erasure request by letter$/m, 'after forget: the erasure and its reason');
unlike(decode_utf8($out), qr/山田|hanako|07700|Park Row/, 'after forget: none of her details are shown');
($rc, $out, $err) = icos({}, '--dsn', $as{101}, 'customer', 'find', 'hanako@example.com');
like($out, qr/^No customer found/m, 'after forget: she is not found by her e-mail');
($rc, $out, $err) = icos({}, '--dsn', $as{102}, 'customer', 'forget', $cust, '--reason', 'again');
is($rc, 1, 'forgetting her twice: exit 1');
like($err, qr/^ERROR \[IC002\]: customer \Q$cust\E has been forgotten/m, 'forgetting her twice: IC002');

# ---- Ctrl-C cancels the running statement ----
# A second order; another session holds its row lock, so cancelling it
# waits.  SIGINT then cancels the waiting statement: the client reports
# 57014 and exits 1, the order is unchanged, and the other session is
# unaffected.
($rc, $out, $err) = icos({ stdin => '{"store": 1, "channel": "store", "customer": {"name": "Bob Brown", "email": "bob@example.com"}, "lines": [{"upc": "4006381333931", "qty": 1}], "delivery": {"method": "collect", "collect_store": 1}}' },
	'--dsn', $as{101}, 'order', 'place', '-f', '-');
is($rc, 0, 'a second order, to be collected') or diag($err);
chomp(my $code2 = $out);
my $status2 = $node->safe_psql('postgres', "SELECT status FROM icos.orders WHERE code = '$code2'");
my $locker = $node->background_psql('postgres');
$locker->query_safe("BEGIN; SELECT 1 FROM icos.orders WHERE code = '$code2' FOR UPDATE;");
my ($cout, $cerr) = ('', '');
my $h = IPC::Run::start([ $icos, '--dsn', $as{101}, 'order', 'cancel', $code2, '--reason', 'customer left' ],
	'<', \undef, '>', \$cout, '2>', \$cerr, timeout(180));
ok($node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%icos.cancel_order%' AND wait_event_type = 'Lock'}),
	'the client waits on the lock');
$h->signal('INT');
$h->finish;
is($h->result(0), 1, 'Ctrl-C during a statement: exit 1');
like($cerr, qr/^icos: cancel request sent$/m, 'Ctrl-C: the cancel request was sent');
like($cerr, qr/^ERROR \[57014\]: canceling statement due to user request$/m, 'Ctrl-C: the server cancelled the statement');
is($locker->query_safe('SELECT 1'), '1', 'the other session still holds its transaction');
$locker->query_safe('ROLLBACK');
$locker->quit;
is($node->safe_psql('postgres', "SELECT status FROM icos.orders WHERE code = '$code2'"), $status2,
	'the cancelled statement changed nothing');

# With no statement running (the till waiting for a scan), Ctrl-C ends the
# program as SIGINT does.  The till has answered "help" (no statement runs
# after that) before the signal is sent.
my $tin = "help\n";
($cout, $cerr) = ('', '');
my $till_timer = timeout(180);
$h = IPC::Run::start([ $icos, '--dsn', $as{101}, 'till', '--store', '1' ],
	'<', \$tin, '>', \$cout, '2>', \$cerr, $till_timer);
$h->pump until $cout =~ /leave the till$/m || $till_timer->is_expired;
like($cout, qr/^Till open at store 1.*leave the till$/ms, 'the till is open and has answered help, waiting for input');
$h->signal('INT');
$h->finish;
is($h->full_result(0) & 127, 2, 'Ctrl-C with no statement running: the till ends by SIGINT');

done_testing();
