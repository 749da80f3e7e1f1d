# The agent toolbar in a real browser: Debian's chromium, headless, driven
# over the DevTools protocol (test/browser/Cdp.pm).  An agent logs in, looks
# a product up with a scan, places a phone order for a new customer paid by
# Visa, finds it by its code typed carelessly, reprints the receipt, and
# sees a refused change with its reason.  Screenshots of each screen are
# kept in tmp_check/log/toolbar/ (docs/toolbar.md shows them).
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use lib dirname(__FILE__);
use lib dirname(__FILE__) . '/../browser';
use Cdp;
use IcosServe;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => "client not built ($IcosServe::icos); run make first" unless -x $IcosServe::icos;

my $node = IcosServe::cluster('browser');
my $tcp = 'host=127.0.0.1 port=' . $node->port . ' dbname=postgres';
my ($h, $base, $err) = IcosServe::start_server($tcp);

my $shots = "$PostgreSQL::Test::Utils::log_path/toolbar";
make_path($shots);
my $profile = PostgreSQL::Test::Utils::tempdir();
my $b = Cdp->launch(dir => $profile);
my $n = 0;
sub shot
{
	my ($name) = @_;
	$n++;
	my $file = $b->screenshot(sprintf('%s/%02d-%s.png', $shots, $n, $name));
	ok(-s $file > 1000, "screenshot $name");
}

# ---- log in ----
$b->navigate("$base/");
$b->wait_for('!document.getElementById("screen-login").hidden', 'the login screen');
$b->fill('#login-user', 'emp_101');
$b->fill('#login-password', 'Pass-101-word');
shot('login');
$b->press_enter;
$b->wait_for('!document.getElementById("nav").hidden', 'the menu after login');
like($b->text_of('#who'), qr/Ann Agent/, 'logged in: the agent\'s name is shown');
is($b->eval('document.activeElement.id'), 'product-code', 'the product look-up is ready for a scan');

# ---- look a product up: a scanner types digits and Enter ----
$b->type_text('4006381333931');
$b->press_enter;
$b->wait_for('document.getElementById("product-name").textContent === "Desk lamp"', 'the product');
is($b->text_of('#product-price'), "\x{a3}24.50", 'the price');
like($b->text_of('#product-offers'), qr/10/, 'the offer that applies now');
like($b->text_of('#product-availability'), qr/Leeds Briggate/, 'availability per store');
shot('product');

# ---- take a phone order ----
$b->click('#product-add');
$b->wait_for('document.querySelectorAll("#basket-lines tr").length === 1', 'the line in the basket');
$b->fill('#line-code', '036000291452');
$b->press_enter;
$b->wait_for('document.querySelectorAll("#basket-lines tr").length === 2', 'the second line');
like($b->text_of('#basket-applied'), qr/Lamps 10% off/, 'live pricing shows the offer applied');
is($b->text_of('#basket-total'), "\x{a3}222.04", 'live pricing: the total with the discount');
is($b->eval('document.getElementById("order-channel").value'), 'phone', 'a call-centre agent takes phone orders');
$b->fill('#customer-name', 'Dora Phone');
$b->fill('#customer-phone', '07700 900456');
$b->fill('#customer-email', 'dora@example.com');
$b->fill('#customer-line1', '9 Park Row');
$b->fill('#customer-town', 'Leeds');
$b->fill('#customer-postcode', 'LS1 5HD');
$b->eval('document.getElementById("payment-method").value = "visa"');
$b->fill('#payment-reference', 'auth 7781');
shot('order');
$b->click('#order-place');
$b->wait_for('!document.getElementById("order-placed").hidden || !document.getElementById("error").hidden',
	'the order to be placed');
is($b->eval('document.getElementById("error").hidden'), 1, 'no error placing the order')
  or diag $b->text_of('#error');
my $code = $b->text_of('#order-code');
like($code, qr/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, 'the order code is shown');
like($b->text_of('#order-receipt'), qr/\Q$code\E/, 'the receipt, ready to print, shows the code');
shot('receipt');
is($node->safe_psql('postgres', qq{
	SELECT concat_ws('|', d->>'channel', d->'customer'->>'name', d->'payments'->0->>'method',
	                 d->'payments'->0->>'amount', d->'payments'->0->>'reference')
	  FROM icos.order('$code') d}),
	'phone|Dora Phone|visa|222.04|auth 7781', 'the database has the phone order, the customer and the Visa payment');

# ---- find it by its code, typed in lower case without hyphens ----
$b->click('#nav button[data-screen="enquiry"]');
(my $typed = lc $code) =~ s/-//g;
$b->fill('#enquiry-code', $typed);
$b->press_enter;
$b->wait_for('document.getElementById("enquiry-order-code").textContent === ' . "'$code'", 'the order');
is($b->text_of('#enquiry-status'), 'placed', 'the status');
like($b->text_of('#enquiry-customer'), qr/Dora Phone/, 'the customer');
like($b->text_of('#enquiry-payments'), qr/visa.*auth 7781/, 'the payment');
$b->click('#enquiry-reprint');
$b->wait_for('!document.getElementById("enquiry-receipt").hidden', 'the reprint');
like($b->text_of('#enquiry-receipt'), qr/REPRINT.*\Q$code\E|\Q$code\E.*REPRINT/s, 'the receipt reprinted');
shot('enquiry');

# ---- a refused change shows the server's reason ----
$b->fill('#edit-qty-line', '1');
$b->fill('#edit-qty-qty', '500');
$b->click('#edit-qty-form button[type="submit"]');
$b->wait_for('!document.getElementById("error").hidden', 'the refusal');
is($b->text_of('#error-sqlstate'), '[IC001]', 'the refusal: its SQLSTATE');
ok(length $b->text_of('#error-message'), 'the refusal: the message');
ok(length($b->text_of('#error-detail')) || length($b->text_of('#error-hint')), 'the refusal: detail or hint');
shot('refusal');

# ---- the offers diary and the day's sales ----
$b->click('#nav button[data-screen="offers"]');
$b->wait_for('document.querySelectorAll("#offers-rows tr").length > 0', 'the offers diary');
like($b->text_of('#offers-rows'), qr/Lamps 10% off/, "the offers diary shows today's offer");
shot('offers');
$b->click('#nav button[data-screen="sales"]');
$b->wait_for('!document.getElementById("error").hidden', 'the refusal of the sales report');
is($b->text_of('#error-sqlstate'), '[42501]', 'an agent may not see the sales report: 42501 shown');

is_deeply([ $b->page_problems ], [], 'no script errors on the page');
$b->click('#logout');
$b->wait_for('!document.getElementById("screen-login").hidden', 'the login screen after logout');
pass('logged out');

# ---- a reporter sees the day's sales (the dates around today: no midnight race) ----
$b->fill('#login-user', 'emp_102');
$b->fill('#login-password', 'Pass-102-word');
$b->press_enter;
$b->wait_for('!document.getElementById("nav").hidden', 'the reporter logged in');
$b->click('#nav button[data-screen="sales"]');
my ($from, $to) = split /\|/, $node->safe_psql('postgres',
	q{SELECT (current_date - 1)::text || '|' || (current_date + 1)::text});
$b->eval(qq{document.getElementById("sales-from").value = "$from";
	document.getElementById("sales-to").value = "$to";
	document.getElementById("sales-by").value = "product"; true});
$b->click('#sales-form button[type="submit"]');
$b->wait_for('/Desk lamp/.test(document.getElementById("sales-rows").textContent)', 'the sales by product');
like($b->text_of('#sales-rows'), qr/Oak table/, "the day's sales by product");
shot('sales');
is_deeply([ $b->page_problems ], [], 'still no script errors on the page');
$b->close;
IcosServe::stop_server($h);
diag "screenshots: $shots";
done_testing();
