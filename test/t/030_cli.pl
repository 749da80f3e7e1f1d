# The icos client against a cluster with the extension: every subcommand,
# its output and exit status, bad input, a server that is down.
use strict;
use warnings;
use File::Basename qw(dirname);
use IPC::Run qw(timeout);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IcosCli;

plan skip_all => "client not built ($icos); run make first" unless -x $icos;

my $node = PostgreSQL::Test::Cluster->new('cli');
$node->init;
$node->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'\n"
	. "password_encryption = 'scram-sha-256'\nlog_statement = 'all'\n");
$node->start;
my $dsn = $node->connstr('postgres');

$node->safe_psql('postgres', q{
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind) VALUES
  (1, 'Leeds Briggate', 'store'), (2, 'York', 'store'), (3, 'Website', 'web');
INSERT INTO icos.category VALUES (1, NULL, 'Home'), (2, 1, 'Lighting');
INSERT INTO icos.product (upc, name, price, lead_time_days, made_to_order, category_id) VALUES
  ('036000291452', 'Oak table', 199.99, 10, false, 1),
  ('4006381333931', 'Desk lamp', 24.50, 3, false, 2);
SELECT icos.receive_stock(1, '4006381333931', 20, 'delivery');
SELECT icos.receive_stock(1, '036000291452', 5, 'delivery');
SELECT icos.receive_stock(2, '036000291452', 4, 'delivery');
SELECT icos.set_display(2, '036000291452', true);
});

my ($rc, $out, $err);

# ---- usage errors: exit 2 with the usage text, before any connection ----
($rc, $out, $err) = icos({});
is($rc, 2, 'no command: exit 2');
like($err, qr/Usage: icos/, 'no command: usage shown');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'frobnicate');
is($rc, 2, 'unknown subcommand: exit 2');
like($err, qr/unknown command "frobnicate".*Usage: icos/s, 'unknown subcommand: named, usage shown');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'frob');
is($rc, 2, 'unknown order subcommand: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'stock');
is($rc, 2, 'stock without a UPC: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'stock', '036000291452', '--store', 'two');
is($rc, 2, 'stock --store two: exit 2');
like($err, qr/--store must be a whole number/, 'stock --store two: says why');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '036000291452', '--bogus');
is($rc, 2, 'unknown option: exit 2');
($rc, $out, $err) = icos({}, '--help');
is($rc, 0, '--help: exit 0');
like($out, qr/^Exit status: 0 success, 1 .*\n3 could not connect/m, '--help: the exit statuses');
like($out, qr/^  -h HOST /m, '--help: -h is the host');
like($out, qr/order place -f FILE/, '--help lists the commands');

# ---- --version, -h -p -U -d, per-command --help ----
my ($control_version) = slurp_file(dirname($icos) . '/../../icos.control') =~ /^default_version = '([^']+)'/m;
($rc, $out, $err) = icos({}, '--version');
is($rc, 0, '--version: exit 0');
like($out, qr/^icos \Q$control_version\E \(libpq \d+\.\d+\)$/, '--version: the release of icos.control and libpq\'s');
($rc, $out, $err) = icos({}, '-h');
is($rc, 2, '-h without a host: exit 2 (help is --help)');
like($err, qr/option -h needs a value/, '-h without a host: says so');
($rc, $out, $err) = icos({ env => { PGHOST => undef, PGPORT => undef, PGDATABASE => undef } },
	'-h', $node->host, '-p', $node->port, '-U', $node->safe_psql('postgres', 'SELECT current_user'),
	'-d', 'postgres', 'product', '4006381333931');
is($rc, 0, '-h -p -U -d: exit 0');
like($out, qr/^Name:\s+Desk lamp$/m, '-h -p -U -d: connected');
($rc, $out, $err) = icos({}, 'product', '4006381333931', '--dsn', $dsn . ' port=1', '-p', $node->port);
is($rc, 0, '-p wins over the port in --dsn');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '4006381333931', '--host=/nonexistent');
is($rc, 3, '--host=DIR that has no server: exit 3');
like($err, qr/^icos: could not connect to the database server: .*nonexistent/, 'no server: names where it looked');
($rc, $out, $err) = icos({}, '-d', 'no_such_db', '-h', $node->host, '-p', $node->port, 'product', '4006381333931');
is($rc, 3, '-d of a database that does not exist: exit 3');
for my $cmd ([qw(order place)], [qw(order return)], [qw(order advance)], [qw(customer find)],
	[qw(customer forget)], [qw(node add-store)], [qw(till)], [qw(report)])
{
	($rc, $out, $err) = icos({}, @$cmd, '--help');
	is($rc, 0, "@$cmd --help: exit 0");
	like($out, qr/^Usage:\n  icos \Q@$cmd\E\b/, "@$cmd --help: its usage");
	is($err, '', "@$cmd --help: nothing on standard error");
}
($rc, $out, $err) = icos({}, 'order', '--help');
like($out, qr/icos order place .*icos order show .*icos order advance/s, 'order --help: every order subcommand');
($rc, $out, $err) = icos({}, 'order', 'return', '--help');
unlike($out, qr/icos order place/, 'order return --help: that subcommand only');
like($out, qr/--lines JSON/, 'order return --help: its options');
($rc, $out, $err) = icos({}, 'node', 'add-store', '--help');
like($out, qr/--hub-dsn HUB/, 'node add-store --help: --hub-dsn');

# ---- product ----
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '4006381333931');
is($rc, 0, 'product: exit 0');
like($out, qr/^Name:\s+Desk lamp$/m, 'product: name');
like($out, qr/^Category:\s+Home > Lighting$/m, 'product: category path');
like($out, qr/^Price:\s+\x{c2}\x{a3}24\.50$/m, 'product: price in pounds with the pound sign');
like($out, qr/^\s+1\s+Leeds Briggate\s+20\s+0\s+20\s+no\s+0$/m, 'product: availability row for store 1');
($rc, $out, $err) = icos({}, 'product', '036000291452', '--dsn', $dsn);
is($rc, 0, 'product with --dsn after the subcommand: exit 0');
like($out, qr/^On display at:\s+York$/m, 'product: display status');
($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'product', '036000291452');
is($rc, 0, 'product --json: exit 0');
my $doc = decode_json($out);
is($doc->{name}, 'Oak table', 'product --json: the server\'s document');
is(scalar @{ $doc->{availability} }, 2, 'product --json: availability in both stock-holding stores');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '4006381333932');
is($rc, 1, 'product with a wrong check digit: exit 1');
like($err, qr/^ERROR \[22P02\]: invalid check digit.*\nDETAIL: The check digit should be 1, not 2\./m,
	'product with a wrong check digit: SQLSTATE, message and detail');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '12345670');
is($rc, 1, 'unknown product: exit 1');
like($err, qr/^ERROR \[IC004\]: product 12345670 is not in the catalogue\nHINT: /m,
	'unknown product: IC004 with a hint');

# libpq defaults from the environment (no --dsn)
($rc, $out, $err) = icos({ env => { PGHOST => $node->host, PGPORT => $node->port,
		PGDATABASE => 'postgres' } }, 'product', '4006381333931');
is($rc, 0, 'product through PGHOST/PGPORT: exit 0');

# ---- stock ----
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'stock', '036000291452');
is($rc, 0, 'stock: exit 0');
like($out, qr/^\s+2\s+York\s+4\s+0\s+4\s+yes\s+0$/m, 'stock: York row');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'stock', '036000291452', '--store', '2');
is(scalar(() = $out =~ /^\s+\d+\s+\S/mg), 1, 'stock --store 2: one store');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'stock', '036000291452', '--json');
is_deeply([ map { $_->{available} } @{ decode_json($out) } ], [ 5, 4 ],
	'stock --json: available per store');

# ---- offers (icos.offers arrives with the promotions release) ----
my $has_offers = $node->safe_psql('postgres',
	q{SELECT to_regprocedure('icos.offers(date,date,integer)') IS NOT NULL});
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'offers', '--week');
if ($has_offers eq 't')
{
	is($rc, 0, 'offers --week: exit 0');
	like($out, qr/^(No offers\.|Day\s+Offer)/, 'offers --week: a diary');
}
else
{
	is($rc, 1, 'offers without icos.offers: exit 1');
	like($err, qr/no offers diary yet.*ALTER EXTENSION icos UPDATE/s, 'offers: clear message');
}
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'offers', '--on', 'tuesday');
is($rc, 2, 'offers --on tuesday: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'offers', '--on', '2026-01-01', '--week');
is($rc, 2, 'offers --on with --week: exit 2');

# ---- order place / show / edit / note / cancel ----
my $order = write_file('order.json', q{{"store": 1, "channel": "store",
  "customer": {"name": "Ann Smith", "email": "ann@example.com",
               "address": {"line1": "2 High St", "town": "Leeds", "postcode": "LS2 1AA"}},
  "lines": [{"upc": "036000291452", "qty": 1, "fulfil_from": 2}],
  "delivery": {"method": "home"},
  "payments": [{"method": "visa", "amount": 50, "reference": "auth 4471"}]}});
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'place', '-f', $order);
is($rc, 0, 'order place: exit 0');
like($out, qr/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\n\z/, 'order place: prints the order code');
is($err, '', 'order place -f: no warning');
chomp(my $code = $out);

my $pos_sale = '{"store": 1, "channel": "pos", "lines": [{"upc": "4006381333931", "qty": 1}], "payments": [{"method": "cash", "amount": 30}]}';
($rc, $out, $err) = icos({ stdin => $pos_sale }, '--dsn', $dsn, 'order', 'place', '-f', '-', '--json');
is($rc, 0, 'order place from standard input: exit 0');
like(decode_json($out)->{code}, qr/^[0-9A-Z]{4}-/, 'order place -f - --json: --json after the command asks for {"code": ...}');

# The 0.2.0 spelling "--json FILE" still reads the file, with a warning
($rc, $out, $err) = icos({ stdin => $pos_sale }, '--dsn', $dsn, '--json', 'order', 'place', '--json', '-');
is($rc, 0, 'order place --json - (old spelling): exit 0');
like(decode_json($out)->{code}, qr/^[0-9A-Z]{4}-/, 'old spelling: --json before the command still asks for JSON output');
like($err, qr/^icos: warning: order place: "--json FILE" is the old spelling of "-f FILE"/m,
	'old spelling: a warning on standard error');

($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'show', $code);
is($rc, 0, 'order show: exit 0');
like($out, qr/^Status:\s+awaiting_payment$/m, 'order show: status (a deposit was paid)');
like($out, qr/^Customer:\s+Ann Smith, ann\@example\.com$/m, 'order show: customer');
like($out, qr/^Delivery:\s+home delivery, 2 High St, Leeds, LS2 1AA$/m, 'order show: delivery');
like($out, qr/^\s+1\s+036000291452\s+Oak table\s+1\s+\x{c2}\x{a3}199\.99\s+\x{c2}\x{a3}0\.00\s+\x{c2}\x{a3}199\.99\s+reserved\s+2$/m,
	'order show: the line, fulfilled from York');
like($out, qr/^Balance due:\s+\x{c2}\x{a3}149\.99$/m, 'order show: balance');
($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'order', 'show', $code);
$doc = decode_json($out);
is($doc->{code}, $code, 'order show --json: the order document');
is($doc->{balance}, '149.99', 'order show --json: balance as the server returned it');

my $unknown = $node->safe_psql('postgres', 'SELECT icos.next_order_code()');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'show', $unknown);
is($rc, 1, 'unknown order code: exit 1');
like($err, qr/^ERROR \[IC004\]: /m, 'unknown order code: IC004');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'show', 'ABCD-EFGH-JKLM');
is($rc, 1, 'mistyped order code: exit 1');
like($err, qr/^ERROR \[22P02\]: .*\nDETAIL: .*mistyped/m, 'mistyped order code: 22P02 says mistyped');

my $bad = write_file('bad.json', '{"store": 1, "channel": ');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'place', '-f', $bad);
is($rc, 1, 'malformed JSON file: exit 1');
like($err, qr/^ERROR \[22P02\]: invalid input syntax for type json/m, 'malformed JSON file: the server says so');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'place', '-f', "$bad.missing");
is($rc, 1, 'missing JSON file: exit 1');
like($err, qr/could not open/, 'missing JSON file: says so');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'place');
is($rc, 2, 'order place without -f: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'place', '--json');
is($rc, 2, 'order place --json without a file: exit 2 (--json is the output option)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM icos.orders'), '3',
	'refused orders left nothing behind');

my $edit = write_file('edit.json', '{"add_lines": [{"upc": "4006381333931", "qty": 2}]}');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'edit', $code, '-f', $edit);
is($rc, 0, 'order edit: exit 0');
like($out, qr/^\s+2\s+4006381333931\s+Desk lamp\s+2\s+/m, 'order edit: shows the added line');
like($out, qr/^Total:\s+\x{c2}\x{a3}248\.99$/m, 'order edit: new total');
my $refused = write_file('refused.json', '{"delivery_date": "2020-01-01"}');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'edit', $code, '--json', $refused);
is($rc, 1, 'refused edit (old spelling --json FILE): exit 1');
like($err, qr/^ERROR \[IC002\]: /m, 'refused edit: IC002');
like($err, qr/^icos: warning: order edit: "--json FILE" is the old spelling/m, 'order edit --json FILE: the warning');

# --json anywhere: errors as one JSON object each on standard error
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'edit', $code, '-f', $refused, '--json');
is($rc, 1, 'refused edit with --json: exit 1');
my $jerr = eval { decode_json($err) } // {};
is($jerr->{error}, 'server', '--json error: from the server');
is($jerr->{sqlstate}, 'IC002', '--json error: the SQLSTATE');
like($jerr->{message} // '', qr/\S/, '--json error: the message');
is($out, '', '--json error: nothing on standard output');
($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'product', '4006381333932');
$jerr = eval { decode_json($err) } // {};
is_deeply([ @$jerr{qw(error sqlstate)} ], [ 'server', '22P02' ], '--json before the command: JSON error');
like($jerr->{detail} // '', qr/check digit should be 1/, '--json error: the detail');
like($jerr->{hint} // '', qr/mistyped/, '--json error: the hint');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'show', '--bogus', '--json');
is($rc, 2, 'usage error with --json: exit 2');
is_deeply(eval { decode_json($err) }, { error => 'usage', message => 'order show: unknown option "--bogus"' },
	'usage error with --json: JSON, without the usage text');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'place', '-f', "$refused.missing", '--json');
$jerr = eval { decode_json($err) } // {};
is($jerr->{error}, 'client', 'unreadable file with --json: a client error');
like($jerr->{message} // '', qr/could not open/, 'unreadable file with --json: says so');

($rc, $out, $err) = icos({}, '--dsn', $dsn, 'note', $code, '--kind', 'service', 'Customer', 'rang', 'about', 'delivery');
is($rc, 0, 'note: exit 0');
like($out, qr/Note added to order \Q$code\E/, 'note: confirmed');
($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'order', 'show', $code);
ok((grep { ($_->{note} // '') eq 'Customer rang about delivery' } @{ decode_json($out)->{events} }),
	'note: recorded in the order history');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'note', $code, '--kind', 'manufacturing', 'Oak finish');
is($rc, 1, 'manufacturing note on an order with nothing made to order: exit 1');
like($err, qr/^ERROR \[IC002\]: /m, 'manufacturing note: IC002');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'note', $code, 'no kind');
is($rc, 2, 'note without --kind: exit 2');

# ---- receipt ----
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'receipt', $code);
is($rc, 0, 'receipt: exit 0');
like($out, qr/Order: \Q$code\E/, 'receipt: the order code');
unlike($out, qr/REPRINT/, 'receipt: not marked as a reprint');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'receipt', $code, '--reprint');
like($out, qr/REPRINT/, 'receipt --reprint: marked as a reprint');

# ---- cancel ----
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'cancel', $code);
is($rc, 2, 'order cancel without --reason: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'cancel', $code, '--reason', 'customer changed their mind');
is($rc, 0, 'order cancel: exit 0');
like($out, qr/^Status:\s+cancelled$/m, 'order cancel: cancelled');
like($out, qr/^Refund due:\s+\x{c2}\x{a3}50\.00$/m, 'order cancel: the refund due');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'order', 'cancel', $code, '--reason', 'again');
is($rc, 1, 'cancelling a cancelled order: exit 1');
like($err, qr/^ERROR \[IC002\]: /m, 'cancelling a cancelled order: IC002');

# ---- report (icos.sales_report arrives with the reports work) ----
my $has_report = $node->safe_psql('postgres',
	q{SELECT to_regprocedure('icos.sales_report(timestamptz,timestamptz,text,integer,text)') IS NOT NULL});
my $today = $node->safe_psql('postgres', 'SELECT CURRENT_DATE');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'report', '--from', $today, '--to', $today, '--by', 'channel');
if ($has_report eq 't')
{
	is($rc, 0, 'report: exit 0');
	like($out, qr/^pos\s/m, 'report --by channel: the till sale');
}
else
{
	is($rc, 1, 'report without icos.sales_report: exit 1');
	like($err, qr/no sales reports yet.*ALTER EXTENSION icos UPDATE/s, 'report: clear message');
}
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'report', '--from', $today);
is($rc, 2, 'report without --to: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'report', '--from', $today, '--to', $today, '--by', 'colour');
is($rc, 2, 'report --by colour: exit 2');

# ---- till: a piped session ----
my $session = <<'IN';
4006381333931
qty 2
4006381333932
12345670
036000291452
4006381333931
void
frobnicate
total
pay visa 500
pay cash 260
finish
quit
IN
($rc, $out, $err) = icos({ stdin => $session }, '--dsn', $dsn, 'till', '--store', '1');
is($rc, 0, 'till: exit 0 after quit');
like($out, qr/^Till open at store 1, Leeds Briggate\./m, 'till: opens at the store');
like($out, qr/^\s+1\s+4006381333931\s+Desk lamp\s+\x{c2}\x{a3}24\.50$/m, 'till: a scan shows name and price');
like($out, qr/^\s+1\s+4006381333931\s+Desk lamp\s+2 x \x{c2}\x{a3}24\.50\nTotal \x{c2}\x{a3}49\.00$/m,
	'till: qty sets the last line and shows the total');
like($err, qr/^ERROR \[22P02\]: invalid check digit in UPC "4006381333932"$/m, 'till: bad check digit reported');
like($err, qr/^ERROR \[IC004\]: product 12345670 is not in the catalogue$/m, 'till: unknown product reported');
like($out, qr/^Voided line 3 \(Desk lamp\)\.\nTotal \x{c2}\x{a3}248\.99$/m, 'till: void removes the last line');
like($out, qr/^Unknown command "frobnicate"/m, 'till: unknown command, carries on');
like($out, qr/^\s+2\s+036000291452\s+Oak table\s+1\s+\x{c2}\x{a3}199\.99\s+\x{c2}\x{a3}0\.00\s+\x{c2}\x{a3}199\.99/m,
	'till: total lists the lines');
like($out, qr/^Only \x{c2}\x{a3}248\.99 is due: a visa payment cannot be more than that\.$/m,
	'till: card payment above the amount due refused');
like($out, qr/^Paid \x{c2}\x{a3}260\.00 by cash\.\nChange: \x{c2}\x{a3}11\.01$/m, 'till: change computed for cash');
like($out, qr/^Order placed: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/m, 'till: finish places the order');
my ($till_code) = $out =~ /^Order placed: (\S+)$/m;
like($out, qr/^Change given\s+11\.01$/m, 'till: the receipt shows the change');
like($out, qr/^TOTAL\s+248\.99$/m, 'till: the receipt shows the total');
($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'order', 'show', $till_code // 'none');
$doc = decode_json($out || '{}');
is($doc->{status}, 'completed', 'till: the sale is completed');
is($doc->{channel}, 'pos', 'till: placed with channel pos');
is_deeply([ map { "$_->{upc} x $_->{qty}" } @{ $doc->{lines} // [] } ],
	[ '4006381333931 x 2', '036000291452 x 1' ], 'till: the lines sold');

# customer, collection, card payment; then a lookup of that customer
$session = <<'IN';
customer nobody@example.com
4006381333931
customer new Carol Jones;carol@example.com;
delivery collect 2
delivery collect 99
pay debit_card 24.50 auth 77
finish
customer CAROL@example.com
cancel
IN
($rc, $out, $err) = icos({ stdin => $session }, '--dsn', $dsn, 'till', '--store', '1');
is($rc, 0, 'till with a customer: exit 0');
like($out, qr/^No customer found for nobody\@example\.com/m, 'till: unknown customer');
like($out, qr/^Delivery: collect from store 2 \(York\)$/m, 'till: collection store');
like($out, qr/^There is no store 99\.$/m, 'till: unknown collection store');
($till_code) = $out =~ /^Order placed: (\S+)$/m;
ok(defined $till_code, 'till: order with a customer placed');
like($out, qr/^Customer: Carol Jones \(carol\@example\.com\)$/m, 'till: customer found by e-mail');
like($out, qr/^Sale cancelled\.$/m, 'till: cancel');
($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'order', 'show', $till_code // 'none');
$doc = decode_json($out || '{}');
is($doc->{customer}{name}, 'Carol Jones', 'till: order registered to the new customer');
is($doc->{delivery}{collect_store}, 2, 'till: collected from York');
is($doc->{payments}[0]{reference}, 'auth 77', 'till: payment reference kept');

($rc, $out, $err) = icos({ stdin => "4006381333931\n" }, '--dsn', $dsn, 'till', '--store', '1');
is($rc, 1, 'till: input ending with a sale open: exit 1');
like($err, qr/sale open; it was not placed/, 'till: says the open sale was not placed');
($rc, $out, $err) = icos({ stdin => "finish\n" }, '--dsn', $dsn, 'till', '--store', '1');
like($out, qr/^Nothing to sell/m, 'till: finish with no lines refused');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'till');
is($rc, 2, 'till without --store: exit 2');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'till', '--store', '42');
is($rc, 1, 'till at an unknown store: exit 1');

# ---- employee add: the verifier is computed by the client ----
($rc, $out, $err) = icos({ env => { ICOS_PASSWORD => undef } }, '--dsn', $dsn,
	'employee', 'add', '--id', '9001', '--name', 'Dee Till', '--store', '1', '--position', 'agent');
is($rc, 2, 'employee add without a terminal or ICOS_PASSWORD: exit 2');
like($err, qr/ICOS_PASSWORD/, 'employee add: says how to give the password');
my $secret = 'Correct-Horse-9001';
($rc, $out, $err) = icos({ env => { ICOS_PASSWORD => $secret } }, '--dsn', $dsn,
	'employee', 'add', '--id', '9001', '--name', 'Dee Till', '--store', '1', '--position', 'agent');
is($rc, 0, 'employee add: exit 0');
like($out, qr/log in as emp_9001/, 'employee add: names the login');
like($node->safe_psql('postgres', q{SELECT rolpassword FROM pg_authid WHERE rolname = 'emp_9001'}),
	qr/^SCRAM-SHA-256\$4096:/, 'employee add: a SCRAM-SHA-256 verifier is stored');
my $log = slurp_file($node->logfile);
like($log, qr/create_employee/, 'the server log records the statement');
like($log, qr/parameters: .*SCRAM-SHA-256\$4096:/, 'the server log records its parameters: the verifier');
unlike($log, qr/\Q$secret\E/, 'the password never reached the server');
($rc, $out, $err) = icos({ env => { ICOS_PASSWORD => $secret } }, '--dsn', $dsn,
	'employee', 'add', '--id', '9001', '--name', 'Dee Till', '--store', '1', '--position', 'agent');
is($rc, 1, 'employee add twice: exit 1');
like($err, qr/^ERROR \[23505\]: employee 9001 already exists/m, 'employee add twice: refused');
($rc, $out, $err) = icos({ env => { ICOS_PASSWORD => $secret } }, '--dsn', $dsn,
	'employee', 'add', '--id', '9002', '--name', 'Ed', '--store', '1', '--position', 'boss');
is($rc, 1, 'employee add with an unknown position: exit 1');

# The employee logs in over TCP with a SCRAM password
open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die $!;
print $hba "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n";
close $hba;
$node->reload;
my $tcp = 'host=127.0.0.1 port=' . $node->port . ' dbname=postgres user=emp_9001';
($rc, $out, $err) = icos({ env => { PGPASSWORD => $secret } }, '--dsn', $tcp, 'product', '4006381333931');
is($rc, 0, 'employee logs in over TCP with the password');
like($out, qr/Desk lamp/, 'employee sees the product');
($rc, $out, $err) = icos({ env => { PGPASSWORD => 'wrong' } }, '--dsn', $tcp, 'product', '4006381333931');
is($rc, 3, 'wrong password: exit 3 (no connection)');
like($err, qr/could not connect to the database server: .*password authentication failed for user "emp_9001"/s,
	'wrong password: clear message');
($rc, $out, $err) = icos({ env => { PGPASSWORD => $secret, ICOS_PASSWORD => 'Other-Pass-1' } }, '--dsn', $tcp, 'employee', 'add',
	'--id', '9003', '--name', 'Mal', '--store', '1', '--position', 'admin');
is($rc, 1, 'an agent may not create employees: exit 1');
like($err, qr/^ERROR \[42501\]: /m, 'an agent may not create employees: 42501');

# ---- on a terminal: passwords are prompted for without echo ----
# run_pty(ARGS, ANSWERS...): answers each password prompt in turn
sub run_pty
{
	my ($args, @answers) = @_;
	my ($in, $out, $err) = ('', '', '');
	local $ENV{PGPASSFILE} = '/nonexistent';
	local $ENV{PGPASSWORD};
	local $ENV{ICOS_PASSWORD};
	delete $ENV{PGPASSWORD};
	delete $ENV{ICOS_PASSWORD};
	my $t = timeout(30);
	my $h = IPC::Run::start([ $icos, @$args ], '<pty<', \$in, '>pty>', \$out, '2>', \$err, $t);
	my $prompts = 0;
	for my $answer (@answers)
	{
		$prompts++;
		$h->pump until (() = $err =~ /: /g) >= $prompts || $t->is_expired;
		$in .= "$answer\n";
	}
	$h->finish;
	return ($h->result(0), $out, $err);
}

($rc, $out, $err) = run_pty([ '--dsn', $dsn, 'employee', 'add', '--id', '9004', '--name', 'Fay',
	'--store', '2', '--position', 'manager' ], 'Pty-Secret-4', 'Pty-Secret-4');
is($rc, 0, 'employee add on a terminal: exit 0');
like($err, qr/New employee's password: .*Type it again: /s, 'employee add on a terminal: asks twice');
unlike($out . $err, qr/Pty-Secret-4/, 'employee add on a terminal: the password is not echoed');
($rc, $out, $err) = icos({ env => { PGPASSWORD => 'Pty-Secret-4' } }, '--dsn',
	'host=127.0.0.1 port=' . $node->port . ' dbname=postgres user=emp_9004', 'stock', '036000291452');
is($rc, 0, 'the prompted password logs in');
($rc, $out, $err) = run_pty([ '--dsn', $dsn, 'employee', 'add', '--id', '9005', '--name', 'Gus',
	'--store', '2', '--position', 'agent' ], 'one', 'two');
is($rc, 2, 'employee add: passwords that differ: exit 2');
like($err, qr/the two passwords differ/, 'employee add: passwords that differ: says so');
($rc, $out, $err) = run_pty([ '--dsn', $tcp, 'product', '4006381333931' ], $secret);
is($rc, 0, 'connection password prompted on a terminal: exit 0');
like($err, qr/^Password for user emp_9001: /m, 'connection password prompt');
unlike($out . $err, qr/\Q$secret\E/, 'connection password not echoed');
like($out, qr/Desk lamp/, 'connection password prompt: then the command runs');

# ---- server down ----
$node->stop;
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '4006381333931');
is($rc, 3, 'server down: exit 3');
like($err, qr/^icos: could not connect to the database server: /, 'server down: clear message');
($rc, $out, $err) = icos({ stdin => "4006381333931\n" }, '--dsn', $dsn, 'till', '--store', '1');
is($rc, 3, 'server down: the till exits 3');
($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'product', '4006381333931');
is($rc, 3, 'server down with --json: exit 3');
like(eval { decode_json($err)->{error} } // '', qr/^connection$/, 'server down with --json: a JSON connection error');

done_testing();
