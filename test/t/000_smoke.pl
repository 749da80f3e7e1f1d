use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use Test::More;
my $node = PostgreSQL::Test::Cluster->new('smoke');
$node->init;
$node->start;
is($node->safe_psql('postgres', 'CREATE EXTENSION icos; SELECT 1'), '1', 'extension loads');
done_testing();
