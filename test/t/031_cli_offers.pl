# The icos client with promotions in force: the offers diary (today, a
# given day, a week, JSON), the offers shown by `icos product`, the till
# showing an offer on a scanned line and the discounted total, and the
# receipt naming the promotion.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IcosCli;

plan skip_all => "client not built ($icos); run make first" unless -x $icos;

my $node = PostgreSQL::Test::Cluster->new('cli_offers');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\n");
$node->start;
my $dsn = $node->connstr('postgres');

# The lamp has 20% off from yesterday to next month; a table offer starts
# in three days (inside --week, not today); an offer that ended yesterday.
$node->safe_psql('postgres', q{
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind) VALUES (1, 'Leeds Briggate', 'store');
INSERT INTO icos.category VALUES (1, NULL, 'Home'), (2, 1, 'Lighting');
INSERT INTO icos.product (upc, name, price, category_id) VALUES
  ('036000291452', 'Oak table', 199.99, 1),
  ('4006381333931', 'Desk lamp', 24.50, 2);
SELECT icos.receive_stock(1, '4006381333931', 20, 'delivery');
INSERT INTO icos.promotion (promotion_id, name, kind, rule, starts_at, ends_at) VALUES
  (1, 'Lighting sale', 'percent_off', '{"target": {"category": [2]}, "percent": 20}',
   current_date - 1, current_date + 30),
  (2, 'Table week', 'fixed_price', '{"target": {"upc": ["036000291452"]}, "price": 149.99}',
   current_date + 3, current_date + 10),
  (3, 'Old lamp deal', 'amount_off', '{"target": {"upc": ["4006381333931"]}, "amount": 5}',
   current_date - 10, current_date);
});
my $today = $node->safe_psql('postgres', 'SELECT current_date');
my $in3 = $node->safe_psql('postgres', 'SELECT current_date + 3');

my ($rc, $out, $err);

# ---- icos offers ----
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'offers');
is($rc, 0, 'offers: exit 0');
like($out, qr/^Day\s+Offer\s+Name\s+Description/m, 'offers: a diary table');
like($out, qr/^\Q$today\E\s+1\s+Lighting sale\s+20% off: Lighting\s/m, 'offers: today\'s offer with its description');
unlike($out, qr/Table week|Old lamp deal/, 'offers: only what is in force today');

($rc, $out, $err) = icos({}, '--dsn', $dsn, 'offers', '--on', $in3);
is($rc, 0, 'offers --on: exit 0');
like($out, qr/^\Q$in3\E\s+2\s+Table week\s+Now 149\.99 each: Oak table\s/m, 'offers --on: the day\'s offers');

($rc, $out, $err) = icos({}, '--dsn', $dsn, 'offers', '--week');
is($rc, 0, 'offers --week: exit 0');
my @lighting = $out =~ /^\S+\s+1\s+Lighting sale/mg;
is(scalar @lighting, 7, 'offers --week: one row a day for the running offer');
my @table = $out =~ /^\S+\s+2\s+Table week/mg;
is(scalar @table, 4, 'offers --week: the table offer from its first day');

($rc, $out, $err) = icos({}, '--dsn', $dsn, '--json', 'offers', '--on', $in3);
is($rc, 0, 'offers --json: exit 0');
my $diary = eval { decode_json($out) } // [];
is_deeply([ map { $_->{promotion_id} } @$diary ], [ 1, 2 ], 'offers --json: the day\'s promotions');

($rc, $out, $err) = icos({}, '--dsn', $dsn, 'offers', '--on', 'someday');
is($rc, 2, 'offers --on with a bad date: exit 2');

# ---- icos product ----
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '4006381333931');
is($rc, 0, 'product: exit 0');
like($out, qr/^Offers now:\s+20% off: Lighting$/m, 'product: the offer in force, described');
($rc, $out, $err) = icos({}, '--dsn', $dsn, 'product', '036000291452');
like($out, qr/^Offers now:\s+none$/m, 'product: no offer before it starts');

# ---- the till ----
my $session = <<'IN';
4006381333931
qty 2
total
pay cash 40
finish
quit
IN
($rc, $out, $err) = icos({ stdin => $session }, '--dsn', $dsn, 'till', '--store', '1');
is($rc, 0, 'till: exit 0');
like($out, qr/^\s+1\s+4006381333931\s+Desk lamp\s+\x{c2}\x{a3}24\.50\n\s+Offer: 20% off: Lighting$/m,
	'till: the scanned line shows its offer');
like($out, qr/Total \x{c2}\x{a3}39\.20/, 'till: the total is discounted (2 x 24.50 less 20%)');
like($out, qr/^Order placed: /m, 'till: the sale is placed');
like($out, qr/^  Lighting sale\s+-9\.80$/m, 'till: the receipt names the promotion and the saving');
like($out, qr/^TOTAL\s+39\.20$/m, 'till: the receipt total');

done_testing();
