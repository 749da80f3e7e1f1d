# Running the icos client from the TAP tests (03x_cli*.pl): where the built
# program is, running it to completion with its exit status and output, and
# writing input files.
package IcosCli;

use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use File::Spec;
use IPC::Run qw(run timeout);
use PostgreSQL::Test::Utils;

our @EXPORT = qw($icos icos write_file);

our $icos = ($ENV{ICOS_TOP} // File::Spec->rel2abs(dirname(__FILE__) . '/../..')) . '/src/cli/icos';

# icos({stdin => TEXT, env => {NAME => VALUE or undef}}, ARGS):
# (exit status, stdout, stderr).  An undef value removes the variable.
sub icos
{
	my ($o, @args) = @_;
	my ($out, $err) = ('', '');
	my $in = $o->{stdin} // '';
	local %ENV = (%ENV, %{ $o->{env} // {} });
	delete $ENV{$_} for grep { !defined $ENV{$_} } keys %ENV;
	# Standard input comes from a file, not a pipe: a client that exits
	# before reading it (the server is down) cannot break the test with
	# SIGPIPE/EPIPE in the writer.
	my $in_file = write_file('stdin', $in);
	run [ $icos, @args ], '<', $in_file, '>', \$out, '2>', \$err, timeout(60);
	return ($? >> 8, $out, $err);
}

# write_file(NAME, TEXT): a file in the test's temporary directory; its path.
sub write_file
{
	my ($name, $text) = @_;
	my $path = PostgreSQL::Test::Utils::tempdir() . "/$name";
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	return $path;
}

1;
