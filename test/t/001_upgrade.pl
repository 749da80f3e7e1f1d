# Upgrade path and catalogue hygiene.
#
# For every installable version V older than the newest, CREATE EXTENSION at V
# then ALTER EXTENSION UPDATE must give exactly the objects, definitions and
# comments of a fresh CREATE EXTENSION at the newest version.  And every
# object the extension owns carries a COMMENT (the reference docs rely on it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

my $versions = $node->safe_psql('postgres',
	"SELECT string_agg(version, ' ' ORDER BY string_to_array(version, '.')::int[])
	 FROM pg_available_extension_versions WHERE name = 'icos'");
my @versions = split / /, $versions;
my $newest = $versions[-1];
ok(scalar @versions >= 1, "installable versions: $versions");

# Everything that makes up the installed extension, one line per object, as
# text that does not depend on OIDs.
my $catalogue_sql = q{
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'icos'),
members AS (
	SELECT d.classid, d.objid, d.objsubid
	FROM pg_depend d, ext
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
	  AND d.deptype = 'e')
SELECT line FROM (
	SELECT pg_describe_object(classid, objid, objsubid)
		   || ' :: ' || coalesce(obj_description(objid, classid::regclass::name), '<no comment>') AS line
	FROM members
	UNION ALL
	SELECT 'function ' || p.oid::regprocedure || ' :: ' || pg_get_functiondef(p.oid)
	FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
	WHERE p.prokind IN ('f', 'p', 'w')
	UNION ALL
	SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' '
		   || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
		   || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
	FROM members m
	JOIN pg_attribute a ON m.classid = 'pg_class'::regclass AND a.attrelid = m.objid
	LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	WHERE a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT 'constraint ' || c.conrelid::regclass || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
	FROM members m JOIN pg_constraint c ON m.classid = 'pg_class'::regclass AND c.conrelid = m.objid
	UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	FROM members m JOIN pg_index i ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
	UNION ALL
	SELECT 'policy ' || pol.polname || ' on ' || pol.polrelid::regclass || ' '
		   || coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') || ' '
		   || coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '')
	FROM members m JOIN pg_policy pol ON m.classid = 'pg_class'::regclass AND pol.polrelid = m.objid
	UNION ALL
	SELECT 'trigger ' || pg_get_triggerdef(t.oid)
	FROM members m JOIN pg_trigger t ON m.classid = 'pg_class'::regclass AND t.tgrelid = m.objid
	WHERE NOT t.tgisinternal
	UNION ALL
	SELECT 'acl ' || c.oid::regclass || ' ' || coalesce(c.relacl::text, '')
	FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
	UNION ALL
	SELECT 'acl ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, '')
	FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
) x ORDER BY line
};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION icos');
my $fresh = $node->safe_psql('fresh', $catalogue_sql);
is($node->safe_psql('fresh',
	"SELECT extversion FROM pg_extension WHERE extname = 'icos'"),
	$newest, "fresh install is at the newest version $newest");

foreach my $from (@versions[0 .. $#versions - 1])
{
	my $db = "from_" . ($from =~ s/\./_/gr);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION icos VERSION '$from'");
	# An order sold before the upgrade (written as 0.2.0's tables take it).
	$node->safe_psql($db, q{
		INSERT INTO icos.store (store_id, name, kind) VALUES (1, 'Old Street', 'store');
		INSERT INTO icos.product (upc, name, price) VALUES ('036000291452', 'Old chair', 59.99);
		INSERT INTO icos.orders (code, store_id, channel, status, delivery_method, promised_date, gross_pence,
								 total_pence)
		VALUES (icos.next_order_code(), 1, 'pos', 'completed', 'carry', current_date, 5999, 5999);
		INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, consumed_qty,
									 unit_price_pence, net_pence)
		SELECT 1, o.code, 1, '036000291452', 1, 1, 'fulfilled', 1, 5999, 5999 FROM icos.orders o;
	}) if $from eq '0.2.0';
	$node->safe_psql($db, 'ALTER EXTENSION icos UPDATE');
	is($node->safe_psql($db, q{SELECT l.vat_rate || ' ' || (icos."order"(l.code) ->> 'vat')
								FROM icos.order_line l}),
	   '20.00 10.00', 'a line sold before 0.3.0 is standard-rated: 59.99 holds 10.00 of VAT')
	  if $from eq '0.2.0';
	is($node->safe_psql($db,
		"SELECT extversion FROM pg_extension WHERE extname = 'icos'"),
		$newest, "$from updates to $newest");
	my $upgraded = $node->safe_psql($db, $catalogue_sql);
	if ($upgraded eq $fresh)
	{
		pass("$from -> $newest has the same objects, definitions and comments as a fresh install");
	}
	else
	{
		my %f = map { $_ => 1 } split /\n/, $fresh;
		my %u = map { $_ => 1 } split /\n/, $upgraded;
		diag("only in fresh: $_") for grep { !$u{$_} } sort keys %f;
		diag("only in upgraded: $_") for grep { !$f{$_} } sort keys %u;
		fail("$from -> $newest has the same objects, definitions and comments as a fresh install");
	}
}

# Every object a user can see carries a comment.
my $uncommented = $node->safe_psql('fresh', q{
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'icos')
SELECT pg_describe_object(d.classid, d.objid, 0)
FROM pg_depend d, ext
WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
  AND (d.classid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_namespace'::regclass)
	   OR (d.classid = 'pg_class'::regclass
		   AND (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('r', 'v', 'm', 'p', 'S'))
	   OR (d.classid = 'pg_type'::regclass
		   AND (SELECT typtype = 'b' OR typtype = 'd' OR typtype = 'e' FROM pg_type WHERE oid = d.objid)
		   AND (SELECT typcategory <> 'A' FROM pg_type WHERE oid = d.objid)))
  AND obj_description(d.objid, d.classid::regclass::name) IS NULL
ORDER BY 1});
is($uncommented, '', 'every extension object has a COMMENT')
  or diag("without a comment:\n$uncommented");

# DROP EXTENSION removes every object it created.  (The icos schema itself,
# made by CREATE EXTENSION from icos.control, stays empty; roles are
# cluster-wide and stay too.)  Creating it again works.
$node->safe_psql('fresh', 'DROP EXTENSION icos');
is($node->safe_psql('fresh', q{
	SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'icos'}) + $node->safe_psql('fresh', q{
	SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'icos'}), 0, 'DROP EXTENSION leaves no relation or function behind');
$node->safe_psql('fresh', 'CREATE EXTENSION icos');
is($node->safe_psql('fresh', $catalogue_sql), $fresh, 'a second CREATE EXTENSION gives the same objects');

done_testing();
