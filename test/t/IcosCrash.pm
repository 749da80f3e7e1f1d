# A process crash for the TAP tests (070_crash.pl, 071_crash_replication.pl):
# a cluster's postmaster and every one of its children get SIGKILL at once,
# as an out-of-memory kill or a power cut would do to the processes.
package IcosCrash;

use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(usleep);

our @EXPORT = qw(kill_cluster);

# PIDs of the children of a process (Linux /proc).
sub children
{
	my ($ppid) = @_;
	my @kids;
	for my $stat (glob '/proc/[0-9]*/stat')
	{
		open my $fh, '<', $stat or next;
		my $line = <$fh>;
		close $fh;
		push @kids, $1 if defined $line && $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $ppid;
	}
	return @kids;
}

# kill_cluster(NODE): SIGKILL the postmaster of a PostgreSQL::Test::Cluster
# and all its children.  The postmaster is stopped first so that it forks
# nobody while its children are listed.  Returns, once every killed process
# is gone (so the node can be started again), the number of children.
sub kill_cluster
{
	my ($node) = @_;
	my $pm = $node->{_pid};
	kill 'STOP', $pm;
	my @kids = children($pm);
	kill 'KILL', @kids;
	$node->kill9;
	kill 'CONT', $pm;
	for my $pid ($pm, @kids)
	{
		for (1 .. 200)
		{
			last unless -e "/proc/$pid";
			usleep(50_000);
		}
	}
	return scalar @kids;
}

1;
