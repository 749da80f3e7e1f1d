# Drive Debian's chromium headless over the DevTools protocol, through
# --remote-debugging-pipe (commands on fd 3, answers on fd 4, each message
# JSON ended by a NUL byte): no WebSocket and no npm package needed.
#
#   my $b = Cdp->launch(dir => $tmp);      # a fresh profile in $tmp
#   $b->navigate($url);
#   $b->eval('document.title');            # Runtime.evaluate, by value
#   $b->wait_for('!!document.querySelector("#x")');
#   $b->type_text('4006381333931'); $b->press_enter;
#   $b->screenshot("$dir/shot.png");
#   $b->close;
#
# Chromium runs with --no-sandbox: in a container (and as root) its
# sandbox cannot start, and the page it loads is the project's own.
package Cdp;
use strict;
use warnings;
use Carp;
use IO::Handle;
use IO::Select;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use POSIX ();
use Time::HiRes qw(time sleep);

my $json = JSON::PP->new->utf8->canonical;

sub launch
{
	my ($class, %o) = @_;
	my $dir = $o{dir} or croak 'dir needed';
	my $bin = $o{chromium} // 'chromium';
	pipe(my $cmd_r, my $cmd_w) or die "pipe: $!";
	pipe(my $res_r, my $res_w) or die "pipe: $!";
	my $pid = fork // die "fork: $!";
	if ($pid == 0)
	{
		# the browser's fd 3 reads commands, fd 4 writes answers
		my $in = POSIX::dup(fileno $cmd_r);
		my $out = POSIX::dup(fileno $res_w);
		POSIX::dup2($in, 3) or POSIX::_exit(127);
		POSIX::dup2($out, 4) or POSIX::_exit(127);
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', "$dir/chromium.log";
		open STDERR, '>>', "$dir/chromium.log";
		$ENV{HOME} = $dir;
		$ENV{XDG_CONFIG_HOME} = "$dir/.config";
		$ENV{XDG_CACHE_HOME} = "$dir/.cache";
		no warnings 'exec';
		exec $bin, '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
		  '--no-first-run', '--no-default-browser-check', '--disable-extensions',
		  '--remote-debugging-pipe', "--user-data-dir=$dir/profile",
		  '--window-size=1280,900', 'about:blank';
		POSIX::_exit(127);
	}
	close $cmd_r;
	close $res_w;
	$cmd_w->autoflush(1);
	my $self = bless { pid => $pid, w => $cmd_w, r => $res_r, buf => '', id => 0,
		events => [], session => undef, timeout => $o{timeout} // 60 }, $class;
	my $t = $self->send('Target.createTarget', { url => 'about:blank' }, 1);
	my $a = $self->send('Target.attachToTarget', { targetId => $t->{targetId}, flatten => JSON::PP::true }, 1);
	$self->{session} = $a->{sessionId};
	$self->send('Page.enable');
	$self->send('Runtime.enable');
	$self->send('Emulation.setDeviceMetricsOverride',
		{ width => 1280, height => 900, deviceScaleFactor => 1, mobile => JSON::PP::false });
	return $self;
}

# The next message from the browser, or undef after the timeout.
sub read_message
{
	my ($self, $deadline) = @_;
	my $sel = IO::Select->new($self->{r});
	for (;;)
	{
		my $nul = index($self->{buf}, "\0");
		if ($nul >= 0)
		{
			my $m = substr($self->{buf}, 0, $nul);
			substr($self->{buf}, 0, $nul + 1) = '';
			return $json->decode($m);
		}
		my $left = $deadline - time;
		return undef if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread($self->{r}, my $chunk, 1 << 20);
		croak 'chromium closed the DevTools pipe (see chromium.log)' unless $n;
		$self->{buf} .= $chunk;
	}
}

# Send a command (to the page's session unless $browser) and wait for its
# answer; a protocol error dies.
sub send
{
	my ($self, $method, $params, $browser) = @_;
	my $id = ++$self->{id};
	my %m = (id => $id, method => $method, params => $params // {});
	$m{sessionId} = $self->{session} if $self->{session} && !$browser;
	print { $self->{w} } $json->encode(\%m) . "\0";
	my $deadline = time + $self->{timeout};
	while (my $msg = $self->read_message($deadline))
	{
		if (defined $msg->{id} && $msg->{id} == $id)
		{
			croak "$method: $msg->{error}{message}" if $msg->{error};
			return $msg->{result};
		}
		push @{ $self->{events} }, $msg if $msg->{method};
	}
	croak "$method: no answer in $self->{timeout} s";
}

# Evaluate an expression in the page (promises awaited); its value.
sub eval
{
	my ($self, $expr) = @_;
	my $r = $self->send('Runtime.evaluate',
		{ expression => $expr, awaitPromise => JSON::PP::true, returnByValue => JSON::PP::true });
	croak "page: $r->{exceptionDetails}{exception}{description}\nin: $expr"
	  if $r->{exceptionDetails};
	return $r->{result}{value};
}

# Wait until the expression is true; dies after the timeout.
sub wait_for
{
	my ($self, $expr, $what) = @_;
	my $deadline = time + $self->{timeout};
	while (time < $deadline)
	{
		return 1 if $self->eval("!!($expr)");
		sleep 0.1;
	}
	croak 'timed out waiting for ' . ($what // $expr);
}

sub navigate
{
	my ($self, $url) = @_;
	$self->send('Page.navigate', { url => $url });
	$self->wait_for('document.readyState === "complete"', "$url to load");
}

# Keyboard input into the focused element, as a person or a scanner types.
sub type_text
{
	my ($self, $text) = @_;
	$self->send('Input.insertText', { text => $text });
}

sub press_enter
{
	my ($self) = @_;
	for my $type ('keyDown', 'keyUp')
	{
		$self->send('Input.dispatchKeyEvent', { type => $type, key => 'Enter', code => 'Enter',
				windowsVirtualKeyCode => 13, nativeVirtualKeyCode => 13,
				($type eq 'keyDown' ? (text => "\r") : ()) });
	}
}

# Focus an element (a CSS selector) and type into it.
sub fill
{
	my ($self, $selector, $text) = @_;
	$self->eval('(() => { const e = document.querySelector(' . $json->encode($selector)
		  . '); e.focus(); e.select && e.select(); return true; })()');
	$self->type_text($text);
}

sub click
{
	my ($self, $selector) = @_;
	$self->eval('document.querySelector(' . $json->encode($selector) . ').click(), true');
}

sub text_of
{
	my ($self, $selector) = @_;
	return $self->eval('(document.querySelector(' . $json->encode($selector) . ') || {}).textContent');
}

sub screenshot
{
	my ($self, $file) = @_;
	my $r = $self->send('Page.captureScreenshot', { format => 'png', captureBeyondViewport => JSON::PP::true });
	open my $fh, '>:raw', $file or die "$file: $!";
	print $fh decode_base64($r->{data});
	close $fh;
	return $file;
}

# Console messages and exceptions the page reported so far.
sub page_problems
{
	my ($self) = @_;
	return map {
		$_->{method} eq 'Runtime.exceptionThrown'
		  ? 'exception: ' . ($_->{params}{exceptionDetails}{exception}{description} // $_->{params}{exceptionDetails}{text})
		  : $_->{params}{type} eq 'error' ? 'console error: ' . join(' ', map { $_->{value} // $_->{description} // '' } @{ $_->{params}{args} })
		  : ()
	} grep { $_->{method} eq 'Runtime.exceptionThrown' || $_->{method} eq 'Runtime.consoleAPICalled' } @{ $self->{events} };
}

sub close
{
	my ($self) = @_;
	return unless $self->{pid};
	eval { $self->send('Browser.close', {}, 1) };
	close $self->{w};
	my $deadline = time + 20;
	while (time < $deadline && waitpid($self->{pid}, POSIX::WNOHANG()) == 0) { sleep 0.1 }
	if (waitpid($self->{pid}, POSIX::WNOHANG()) == 0)
	{
		kill 'KILL', $self->{pid};
		waitpid($self->{pid}, 0);
	}
	$self->{pid} = undef;
}

sub DESTROY { $_[0]->close }

1;
