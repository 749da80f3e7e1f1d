# icos beside another extension's library: contrib isn, loaded first into a
# session, also defines a C function upc_in.  icos.so exports only what its
# SQL names and binds its own calls to its own functions (Makefile,
# SHLIB_EXPORTS and -Bsymbolic), so prices, orders and code parsing stay right.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('isn_first');
$node->init;
$node->start;
my $libdir = $node->config_data('--pkglibdir');
plan skip_all => "contrib isn is not installed ($libdir/isn.so)" unless -e "$libdir/isn.so";

$node->safe_psql('postgres', q{
CREATE EXTENSION isn;
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind) VALUES (1, 'Leeds Briggate', 'store');
INSERT INTO icos.category VALUES (1, NULL, 'Home');
INSERT INTO icos.product (upc, name, price, lead_time_days, made_to_order, category_id) VALUES
  ('036000291452', 'Oak table', 199.99, 10, false, 1),
  ('4006381333931', 'Desk lamp', 24.50, 3, false, 1);
INSERT INTO icos.promotion (promotion_id, name, kind, rule, starts_at, ends_at)
VALUES (1, 'Lamps', 'percent_off', '{"target": {"upc": ["4006381333931"]}, "percent": 20}',
        now() - interval '1 day', now() + interval '1 day');
SELECT icos.receive_stock(1, '036000291452', 5, 'delivery');
SELECT icos.receive_stock(1, '4006381333931', 5, 'delivery');
});

# Each block runs in a new session that loads isn's library before icos's:
# isn's upc_in is then the first one the dynamic linker knows.
sub after_isn
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres',
		"LOAD 'isn'; DO \$\$BEGIN PERFORM '036000291452'::public.upc; END\$\$; $sql",
		on_error_stop => 1);
	return ($rc, $out, $err);
}

my ($rc, $out, $err) = after_isn(q{SELECT count(*) FROM pg_catalog.pg_extension});
is($rc, 0, 'isn loads first in a session') or diag $err;

($rc, $out, $err) = after_isn(q{
SELECT x::text FROM (VALUES ('036000291452'::icos.upc), ('0036000291452'),
	('00036000291452'), (icos.upc_parse('036000291452', 'upca')),
	(icos.upc_parse('4006381333931', 'ean13'))) AS v(x)});
is($rc, 0, 'code parsing after isn: no error') or diag $err;
is($out, "036000291452\n036000291452\n036000291452\n036000291452\n4006381333931",
	'code parsing after isn: every spelling reads as the same GTIN');

($rc, $out, $err) = after_isn(q{SELECT '036000291453'::icos.upc});
like($err, qr/check digit/, 'a wrong check digit after isn: still refused by icos');

($rc, $out, $err) = after_isn(q{
SELECT b->>'gross', b->>'discount', b->>'total', b->'lines'->1->>'upc'
FROM icos.price_basket('{"store": 1, "channel": "pos", "lines": [
	{"upc": "036000291452", "qty": 1}, {"upc": "4006381333931", "qty": 2}]}') AS b});
is($rc, 0, 'price_basket after isn: no error') or diag $err;
is($out, '248.99|9.80|239.19|4006381333931', 'price_basket after isn: prices and promotion right');

($rc, $out, $err) = after_isn(q{
SELECT icos.place_order('{"store": 1, "channel": "pos",
	"lines": [{"upc": "036000291452", "qty": 2}],
	"payments": [{"method": "cash", "amount": 399.98}]}') AS code \\gset
SELECT o->>'total', o->'lines'->0->>'upc', o->'lines'->0->>'qty', o->>'status'
FROM icos.order(:'code') AS o});
is($rc, 0, 'place_order after isn: no error') or diag $err;
is($out, '399.98|036000291452|2|completed', 'place_order after isn: the order as placed');
is($node->safe_psql('postgres',
		q{SELECT on_hand FROM icos.availability('036000291452', 1)}),
	'3', 'place_order after isn: the stock of the right product went down');

# isn itself still reads its own types with its own functions.
($rc, $out, $err) = after_isn(q{SELECT '036000291452'::public.upc::text, public.isn_weak()});
is($rc, 0, 'isn after icos: its own upc type still works') or diag $err;

done_testing();
