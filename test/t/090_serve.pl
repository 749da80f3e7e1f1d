# icos serve, the agent toolbar's HTTP API (docs/toolbar.md): login and
# sessions, the 401/403 rules, CSRF, each route, refusals with their
# SQLSTATE and HTTP status, the size limits and the security headers.
use strict;
use warnings;
use File::Basename qw(dirname);
use lib dirname(__FILE__);
use IcosServe;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => "client not built ($IcosServe::icos); run make first" unless -x $IcosServe::icos;

my $node = IcosServe::cluster('serve');
my $tcp = 'host=127.0.0.1 port=' . $node->port . ' dbname=postgres';
my ($h, $base, $err) = IcosServe::start_server($tcp);
my $csp = qr/default-src 'none'; script-src 'self'/;

# ---- the page ----
my $anon = IcosServe->new($base);
my $r = $anon->req('GET', '/');
is($r->{status}, 200, 'GET / serves the page');
like($r->{content}, qr/<script src="app\.js"/, 'the page loads its script from a file');
unlike($r->{content}, qr/<script>/, 'the page has no inline script');
like($r->{headers}{'content-security-policy'}, $csp, 'the page has the Content-Security-Policy');
$r = $anon->req('GET', '/app.js');
is($r->{status}, 200, 'GET /app.js');
like($r->{headers}{'content-type'}, qr{^text/javascript}, 'app.js is JavaScript');
like($r->{headers}{'content-security-policy'}, $csp, 'app.js has the Content-Security-Policy');
$r = $anon->req('GET', '/app.css');
like($r->{headers}{'content-type'}, qr{^text/css}, 'app.css is CSS');
$r = $anon->req('GET', '/nothing-here');
is($r->{status}, 404, 'an unknown file: 404');
$r = $anon->req('POST', '/', { body => '{}' });
is($r->{status}, 405, 'POST to the page: 405');

# ---- 401 without a session ----
for my $p ([ 'GET', '/api/products/4006381333931' ], [ 'GET', '/api/orders/ABCD-EFGH-JKLM' ],
	[ 'POST', '/api/orders' ], [ 'GET', '/api/offers' ], [ 'GET', '/api/reports/sales' ],
	[ 'POST', '/api/logout' ], [ 'GET', '/api/no-such-route' ])
{
	$r = $anon->req($p->[0], $p->[1], { body => $p->[0] eq 'POST' ? '{}' : undef });
	is($r->{status}, 401, "$p->[0] $p->[1] without a session: 401");
}
is($r->{json}{message}, 'not logged in', '401 says not logged in');
like($r->{headers}{'content-security-policy'}, $csp, 'a 401 has the Content-Security-Policy');
$r = $anon->req('GET', '/api/products/4006381333931',
	{ headers => { Cookie => 'icos_session=' . ('ab' x 32) } });
is($r->{status}, 401, 'a made-up session cookie: 401');

# ---- login ----
$r = $anon->req('POST', '/api/login', { body => '{"user": "emp_101", "password": "Pass-101-word"}',
		headers => { 'Content-Type' => 'text/plain' } });
is($r->{status}, 415, 'a login that is not application/json: 415 (no cross-site form login)');
$r = $anon->req('POST', '/api/login', { body => '{"user": "emp_101"}' });
is($r->{status}, 400, 'a login without a password: 400');
is($r->{json}{sqlstate}, '22023', 'a login without a password: 22023');
$r = $anon->req('POST', '/api/login', { body => 'user=emp_101' });
is($r->{status}, 400, 'a login that is not JSON: 400');
$r = $anon->req('POST', '/api/login', { body => '{"user": "emp_101", "password": "Pass-101-word\\u0000x"}' });
is($r->{status}, 400, 'a password with a NUL escape: 400, not cut short at the NUL');
$r = $anon->req('POST', '/api/login', { body => '{"user": "emp_101", "password": 101}' });
is($r->{status}, 400, 'a password that is not a string: 400');
$r = $anon->req('POST', '/api/login', { body => '{"user": "' . ('e' x 64) . '", "password": "x"}' });
is($r->{status}, 400, 'a login name longer than a role name: 400');

my $bad = IcosServe->new($base);
$r = $bad->login('emp_101', 'wrong');
is($r->{status}, 401, 'a wrong password: 401');
is($r->{json}{sqlstate}, '28P01', 'a wrong password: 28P01');
unlike($r->{headers}{'set-cookie'} // '', qr/icos_session=[0-9a-f]/, 'a wrong password: no session cookie');
is($r->{headers}{'retry-after'}, '1', 'the first failure: Retry-After 1 (0.5 s)');
$r = $bad->login('emp_101', 'wrong again');
is($r->{headers}{'retry-after'}, '1', 'the second failure: Retry-After 1 (1 s)');
$r = $bad->login('emp_101', 'and again');
is($r->{headers}{'retry-after'}, '2', 'the third failure waits longer: Retry-After 2');
$r = $bad->login('nobody', 'x');
is($r->{status}, 401, 'an unknown login: 401, the same answer');
is($r->{json}{message}, 'wrong login name or password', 'an unknown login: the same message');

my $ann = IcosServe->new($base);
$r = $ann->login('emp_101', 'Pass-101-word');
is($r->{status}, 200, 'login: 200');
like($r->{json}{csrf}, qr/^[0-9a-f]{64}$/, 'login: a CSRF token');
is($r->{json}{session}{employee}, 101, 'login: the employee');
is($r->{json}{session}{store}, 5, "login: the employee's store");
my $cookie = $r->{headers}{'set-cookie'};
like($cookie, qr/^icos_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/,
	'the session cookie is HttpOnly and SameSite=Strict');
like($r->{headers}{'content-security-policy'}, $csp, 'the login answer has the Content-Security-Policy');
unlike(slurp_file($node->logfile), qr/Pass-101-word/, 'the password is not in the database log');
$h->pump_nb;
unlike($$err, qr/Pass-101-word/, "the password is not in the server's log");
like($$err, qr/emp_101 logged in from 127\.0\.0\.1/, 'the login is logged, without the password');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'emp_101'}),
	'1', 'the session has its own connection as emp_101');
$r = $ann->req('GET', '/api/session');
is($r->{json}{session}{user}, 'emp_101', 'GET /api/session: who is logged in');
is($r->{json}{csrf}, $ann->{csrf}, 'GET /api/session: the token again, for a reloaded page');

# ---- CSRF: every non-GET request needs the token ----
my $doc = { store => 5, channel => 'phone',
	customer => { name => 'Cara Caller', phone => '07700 900123',
		address => { line1 => '1 Main St', town => 'Leeds', postcode => 'LS1 1AA' } },
	lines => [ { upc => '4006381333931', qty => 2 } ],
	delivery => { method => 'home' },
	payments => [ { method => 'visa', amount => 44.10, reference => 'auth 1' } ] };
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM icos.orders');
$r = $ann->req('POST', '/api/orders', { body => $doc, csrf => 0 });
is($r->{status}, 403, 'POST /api/orders without X-Icos-CSRF: 403');
$r = $ann->req('POST', '/api/orders', { body => $doc, headers => { 'X-Icos-CSRF' => 'f' x 64 } });
is($r->{status}, 403, 'POST /api/orders with a wrong X-Icos-CSRF: 403');
$r = $ann->req('POST', '/api/orders', { body => $doc, headers => { 'X-Icos-CSRF' => $bad->{csrf} // '' } });
is($r->{status}, 403, 'POST /api/orders with an empty X-Icos-CSRF: 403');
is($node->safe_psql('postgres', 'SELECT count(*) FROM icos.orders'), $before,
	'the refused requests placed nothing');
$r = $ann->req('POST', '/api/orders', { body => JSON::PP->new->encode($doc),
		headers => { 'Content-Type' => 'text/plain' } });
is($r->{status}, 415, 'a request body that is not application/json: 415');

# ---- products ----
$r = $ann->req('GET', '/api/products/4006381333931');
is($r->{status}, 200, 'GET /api/products/{upc}: 200');
is($r->{json}{name}, 'Desk lamp', 'product_info: the name');
is($r->{json}{price}, 24.5, 'product_info: the price');
is(scalar @{ $r->{json}{offers} }, 1, 'product_info: the offer that applies now');
like($r->{headers}{'content-security-policy'}, $csp, 'an API answer has the Content-Security-Policy');
is($r->{headers}{'cache-control'}, 'no-store', 'an API answer is not cached');
$r = $ann->req('GET', '/api/products/4006381333932');
is($r->{status}, 400, 'a UPC with a wrong check digit: 400');
is($r->{json}{sqlstate}, '22P02', 'a UPC with a wrong check digit: 22P02');
is($r->{json}{detail}, 'The check digit should be 1, not 2.', 'the error carries the detail');
$r = $ann->req('GET', '/api/products/12345670');
is($r->{status}, 422, 'an unknown product: 422');
is($r->{json}{sqlstate}, 'IC004', 'an unknown product: IC004');
ok(defined $r->{json}{hint}, 'an unknown product: with the hint');

# ---- basket pricing, customers ----
$r = $ann->req('POST', '/api/basket', { body => { store => 5, channel => 'phone',
			lines => [ { upc => '4006381333931', qty => 2 } ] } });
is($r->{status}, 200, 'POST /api/basket: 200');
is($r->{json}{total}, 44.1, 'price_basket: the total with 10% off');
is($r->{json}{applied}[0]{id}, 1, 'price_basket: the offer applied');

# ---- place, read, receipt ----
$r = $ann->req('POST', '/api/orders', { body => $doc });
is($r->{status}, 200, 'POST /api/orders: 200');
like($r->{json}{code}, qr/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/, 'place_order: the order code');
my $code = $r->{json}{code};
is($node->safe_psql('postgres', "SELECT channel || ' ' || store_id FROM icos.orders WHERE code = '$code'"),
	'phone 5', 'the order is in the database');
$r = $ann->req('GET', "/api/orders/$code");
is($r->{status}, 200, 'GET /api/orders/{code}: 200');
is($r->{json}{status}, 'placed', 'the order document: status');
is($r->{json}{total}, 44.1, 'the order document: total');
is($r->{json}{customer}{name}, 'Cara Caller', 'the order document: customer');
(my $typo = $code) =~ s/-//g;
$r = $ann->req('GET', '/api/orders/' . lc $typo);
is($r->{status}, 200, 'an order code typed without hyphens in lower case is found');
$r = $ann->req('GET', "/api/orders/$code/receipt");
is($r->{status}, 200, 'GET /api/orders/{code}/receipt: 200');
like($r->{headers}{'content-type'}, qr{^text/plain}, 'the receipt is text');
like($r->{content}, qr/\Q$code\E/, 'the receipt shows the order code');
unlike($r->{content}, qr/REPRINT/, 'a first receipt is no reprint');
$r = $ann->req('GET', "/api/orders/$code/receipt?reprint=true");
like($r->{content}, qr/REPRINT/, 'receipt?reprint=true is marked REPRINT');
$r = $ann->req('GET', '/api/orders/ABCD-EFGH-JKLM');
is($r->{status}, 400, 'a mistyped order code: 400');
is($r->{json}{sqlstate}, '22P02', 'a mistyped order code: 22P02');

# ---- business refusals: 422 with the SQLSTATE ----
my $big = { %$doc, lines => [ { upc => '5012345678900', qty => 50 } ] };
$r = $ann->req('POST', '/api/orders', { body => $big });
is($r->{status}, 422, 'an order beyond the stock: 422');
is($r->{json}{sqlstate}, 'IC001', 'an order beyond the stock: IC001');
ok(length $r->{json}{message}, 'an order beyond the stock: the message');
$r = $ann->req('POST', '/api/orders', { body => '{"store": 5, "channel": ' });
is($r->{status}, 400, 'a malformed order document: 400');
is($r->{json}{sqlstate}, '22P02', 'a malformed order document: 22P02');

# ---- edit and cancel ----
$r = $ann->req('POST', "/api/orders/$code/edit", { body => { add_lines => [ { upc => '036000291452', qty => 1 } ] } });
is($r->{status}, 200, 'POST /api/orders/{code}/edit: 200');
is(scalar @{ $r->{json}{lines} }, 2, 'edit_order: the document with the added line');
$r = $ann->req('POST', "/api/orders/$code/edit", { body => { set_qty => [ { line => 1, qty => 500 } ] } });
is($r->{status}, 422, 'an edit beyond the stock: 422');
is($r->{json}{sqlstate}, 'IC001', 'an edit beyond the stock: IC001');
$r = $ann->req('POST', "/api/orders/$code/edit", { body => { frobnicate => 1 } });
is($r->{status}, 400, 'an edit with an unknown key: 400');
$r = $ann->req('POST', "/api/orders/$code/cancel", { body => { reason => 'customer changed her mind' } });
is($r->{status}, 200, 'POST /api/orders/{code}/cancel: 200');
is($r->{json}{status}, 'cancelled', 'cancel_order: cancelled');
$r = $ann->req('POST', "/api/orders/$code/edit", { body => { add_lines => [ { upc => '036000291452', qty => 1 } ] } });
is($r->{status}, 422, 'editing a cancelled order: 422');
is($r->{json}{sqlstate}, 'IC002', 'editing a cancelled order: IC002');
ok(defined $r->{json}{detail} || defined $r->{json}{hint}, 'the refusal says why or what to do');

# ---- offers, report, customers ----
$r = $ann->req('GET', '/api/offers');
is($r->{status}, 200, 'GET /api/offers: 200');
is($r->{json}[0]{name}, 'Lamps 10% off', "the offers diary: today's offer");
$r = $ann->req('GET', '/api/offers?from=yesterday-ish');
is($r->{status}, 400, 'GET /api/offers with a bad date: 400');
like($r->{json}{sqlstate}, qr/^22/, 'a bad date: a class 22 SQLSTATE');
$r = $ann->req('GET', '/api/customers?q=07700%20900123');
is($r->{status}, 200, 'GET /api/customers?q=: 200');
is($r->{json}[0]{name}, 'Cara Caller', 'find_customers: by phone');

my $rob = IcosServe->new($base);
is($rob->login('emp_102', 'Pass-102-word')->{status}, 200, 'a reporter logs in');
$r = $rob->req('GET', '/api/reports/sales?by=category');
is($r->{status}, 200, 'GET /api/reports/sales: 200');
is(ref $r->{json}, 'ARRAY', 'the sales report: rows');
$r = $rob->req('GET', '/api/reports/sales?by=colour');
is($r->{status}, 400, 'a report by an unknown grouping: 400');
$r = $rob->req('POST', '/api/orders', { body => { %$doc, store => 1, channel => 'store' } });
is($r->{status}, 403, 'a reporter placing an order: 403');
is($r->{json}{sqlstate}, '42501', 'a reporter placing an order: 42501');

# ---- routes and methods ----
$r = $ann->req('GET', '/api/no-such-route');
is($r->{status}, 404, 'an unknown API route with a session: 404');
$r = $ann->req('DELETE', "/api/orders/$code");
is($r->{status}, 405, 'DELETE on an order: 405');
$r = $ann->req('GET', '/api/orders');
is($r->{status}, 405, 'GET /api/orders: 405');

# ---- limits ----
$r = $ann->req('POST', '/api/basket', { body => '{"lines": "' . ('x' x 300_000) . '"}' });
is($r->{status}, 413, 'a body over 256 kB: 413');
$r = $ann->req('GET', '/api/session', { headers => { 'X-Padding' => 'y' x 40_000 } });
ok($r->{status} == 431 || $r->{status} == 413, "headers over 32 kB are refused ($r->{status})");
$r = $ann->req('GET', '/api/session');
is($r->{status}, 200, 'the session still works after the refused requests');

# ---- logout ----
$r = $ann->req('POST', '/api/logout', { csrf => 0 });
is($r->{status}, 403, 'logout without the CSRF token: 403');
$r = $ann->req('POST', '/api/logout');
is($r->{status}, 200, 'logout: 200');
like($r->{headers}{'set-cookie'}, qr/icos_session=; .*Max-Age=0/, 'logout clears the cookie');
$r = $ann->req('GET', '/api/products/4006381333931');
is($r->{status}, 401, 'the old cookie after logout: 401');
$node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'emp_101'})
  or die 'the connection stayed';
pass('logout closed the employee\'s connection');

is(IcosServe::stop_server($h), 0, 'SIGTERM stops the server with status 0');

# ---- idle sessions expire; --max-sessions ----
($h, $base, $err) = IcosServe::start_server($tcp, '--idle-timeout', '1', '--max-sessions', '1');
my $idle = IcosServe->new($base);
is($idle->login('emp_101', 'Pass-101-word')->{status}, 200, 'login with --idle-timeout 1');
$r = IcosServe->new($base)->login('emp_102', 'Pass-102-word');
is($r->{status}, 503, 'a second session beyond --max-sessions 1: 503');
is($r->{json}{sqlstate}, '53300', 'beyond --max-sessions: 53300');
sleep 3;
$r = $idle->req('GET', '/api/session');
is($r->{status}, 401, 'a session idle longer than --idle-timeout has ended: 401');
$node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'emp_101'})
  or die 'the connection stayed';
pass('an ended session closed its connection');
is(IcosServe->new($base)->login('emp_102', 'Pass-102-word')->{status}, 200,
	'the ended session made room for another');
IcosServe::stop_server($h);

# ---- a database that does not ask for the password is refused ----
($h, $base, $err) = IcosServe::start_server('host=' . $node->host . ' port=' . $node->port . ' dbname=postgres');
$r = IcosServe->new($base)->login('emp_101', 'anything');
is($r->{status}, 503, 'a login the database let in without a password: refused');
is($r->{json}{sqlstate}, '28000', 'without a password check: 28000');
$h->pump_nb;
like($$err, qr/without a password/, 'the server log says why');
IcosServe::stop_server($h);

# ---- usage ----
my ($out, $uerr);
IPC::Run::run([ $IcosServe::icos, 'serve' ], '<', \undef, '>', \$out, '2>', \$uerr);
is($? >> 8, 2, 'serve without --listen: exit 2');
IPC::Run::run([ $IcosServe::icos, 'serve', '--listen', 'nowhere' ], '<', \undef, '>', \$out, '2>', \$uerr);
is($? >> 8, 2, 'serve --listen without a port: exit 2');

done_testing();
