# Helpers for the tests of `icos serve` (test/t/09x_serve*.pl): a cluster
# with a small catalogue and employee logins over SCRAM, a running toolbar
# server, and an HTTP client that keeps the session cookie.
package IcosServe;
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our $top = $ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..');
our $icos = "$top/src/cli/icos";

# A cluster with the extension, two stores, a call centre, three products,
# stock, and the employee logins emp_101 (agent), emp_102 (reporter), each
# with password "Pass-<id>-word", which log in over TCP with SCRAM only.
sub cluster
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'\n"
		. "password_encryption = 'scram-sha-256'\nlog_connections = on\n");
	$node->start;
	$node->safe_psql('postgres', q{
CREATE EXTENSION icos;
INSERT INTO icos.store (store_id, name, kind) VALUES
  (1, 'Leeds Briggate', 'store'), (2, 'York', 'store'), (5, 'Call centre', 'callcentre');
INSERT INTO icos.category VALUES (1, NULL, 'Home'), (2, 1, 'Lighting'), (3, NULL, 'Television');
INSERT INTO icos.product (upc, name, price, lead_time_days, made_to_order, category_id) VALUES
  ('036000291452', 'Oak table', 199.99, 10, false, 1),
  ('4006381333931', 'Desk lamp', 24.50, 3, false, 2),
  ('5012345678900', 'Television 55in', 499.00, 5, false, 3);
SELECT icos.receive_stock(1, '4006381333931', 20, 'delivery');
SELECT icos.receive_stock(1, '036000291452', 5, 'delivery');
SELECT icos.receive_stock(2, '036000291452', 4, 'delivery');
SELECT icos.receive_stock(1, '5012345678900', 3, 'delivery');
INSERT INTO icos.promotion (promotion_id, name, kind, rule, starts_at, ends_at, priority)
VALUES (1, 'Lamps 10% off', 'percent_off',
        '{"target": {"upc": ["4006381333931"]}, "percent": 10}',
        now() - interval '1 day', now() + interval '30 days', 0);
});
	for my $e ([ 101, 'Ann Agent', 5, 'agent' ], [ 102, 'Rob Reporter', 1, 'reporter' ])
	{
		my ($id, $full, $store, $position) = @$e;
		local $ENV{ICOS_PASSWORD} = "Pass-$id-word";
		my ($out, $err);
		IPC::Run::run([ $icos, '--dsn', $node->connstr('postgres'), 'employee', 'add',
			'--id', $id, '--name', $full, '--store', $store, '--position', $position ],
			'<', \undef, '>', \$out, '2>', \$err)
		  or die "employee add $id: $err";
	}
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die $!;
	print $hba "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n";
	close $hba;
	$node->reload;
	return $node;
}

# Start `icos serve` on a free port; returns (handle, base URL, \$stderr).
sub start_server
{
	my ($dsn, @extra) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $t = IPC::Run::timeout(60);
	my $h = IPC::Run::start([ $icos, 'serve', '--listen', '127.0.0.1:0', '--dsn', $dsn, @extra ],
		'<', \$in, '>', \$out, '2>', \$err, $t);
	$h->pump until $out =~ m{the toolbar is at (http://\S+/)} || $t->is_expired;
	die "icos serve did not start: $out $err" unless $out =~ m{the toolbar is at (http://\S+)/};
	my $base = $1;
	$t->reset;
	return ($h, $base, \$err);
}

sub stop_server
{
	my ($h) = @_;
	$h->signal('TERM');
	$h->finish;
	return $h->result(0);
}

# A browser session: base URL, cookie, CSRF token.
sub new
{
	my ($class, $base) = @_;
	return bless { base => $base, cookie => undef, csrf => undef,
		http => HTTP::Tiny->new(timeout => 60, max_size => 10_000_000) }, $class;
}

# $s->req(METHOD, PATH, {body => ..., headers => {...}, csrf => 0|1, json => 0|1})
# Returns the HTTP::Tiny response, with ->{json} decoded when it is JSON.
sub req
{
	my ($self, $method, $path, $o) = @_;
	$o //= {};
	my %h = %{ $o->{headers} // {} };
	$h{Cookie} = "icos_session=$self->{cookie}" if defined $self->{cookie} && !exists $h{Cookie};
	$h{'X-Icos-CSRF'} = $self->{csrf}
	  if defined $self->{csrf} && ($o->{csrf} // 1) && !exists $h{'X-Icos-CSRF'};
	my %args = (headers => \%h);
	if (defined $o->{body})
	{
		$args{content} = ref $o->{body} ? encode_json($o->{body}) : $o->{body};
		$h{'Content-Type'} //= 'application/json';
	}
	my $r = $self->{http}->request($method, "$self->{base}$path", \%args);
	if (($r->{headers}{'content-type'} // '') =~ m{^application/json})
	{
		$r->{json} = eval { decode_json($r->{content}) };
	}
	return $r;
}

sub login
{
	my ($self, $user, $password) = @_;
	my $r = $self->req('POST', '/api/login', { body => { user => $user, password => $password } });
	if ($r->{status} == 200)
	{
		my $sc = $r->{headers}{'set-cookie'} // '';
		($self->{cookie}) = $sc =~ /icos_session=([0-9a-f]+)/;
		$self->{csrf} = $r->{json}{csrf};
	}
	return $r;
}

1;
