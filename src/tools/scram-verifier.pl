#!/usr/bin/perl
# scram-verifier.pl: print the SCRAM-SHA-256 verifier of a password, in the
# form PostgreSQL stores (RFC 5802/7677), so that icos.create_employee never
# sees the password itself.  Reads the password from ICOS_PASSWORD or the
# first line of standard input.
#   usage: ICOS_PASSWORD=secret perl src/tools/scram-verifier.pl
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256 sha256);
use MIME::Base64 qw(encode_base64);

my $password = $ENV{ICOS_PASSWORD};
if (!defined $password)
{
	$password = <STDIN>;
	die "no password given\n" unless defined $password;
	chomp $password;
}
die "empty password\n" if $password eq '';

my $iterations = 4096;
open(my $rnd, '<:raw', '/dev/urandom') or die "cannot read /dev/urandom: $!\n";
read($rnd, my $salt, 16) == 16 or die "short read from /dev/urandom\n";
close $rnd;

# PBKDF2-HMAC-SHA-256 with one output block ("Hi" in RFC 5802).
my $u = hmac_sha256($salt . "\0\0\0\1", $password);
my $salted = $u;
for (2 .. $iterations)
{
	$u = hmac_sha256($u, $password);
	$salted ^= $u;
}
my $stored_key = sha256(hmac_sha256('Client Key', $salted));
my $server_key = hmac_sha256('Server Key', $salted);
my $b64 = sub { encode_base64($_[0], '') };
printf "SCRAM-SHA-256\$%d:%s\$%s:%s\n", $iterations, $b64->($salt),
  $b64->($stored_key), $b64->($server_key);
