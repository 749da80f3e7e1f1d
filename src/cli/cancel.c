/*-------------------------------------------------------------------------
 *
 * cancel.c
 *		Ctrl-C cancels the running statement, as in psql.
 *
 * While a statement runs, SIGINT sends the server a cancel request for it
 * (PQcancel, which libpq documents as safe to call from a signal handler:
 * it uses only the PGcancel object made beforehand and a new socket).  The
 * statement then fails with SQLSTATE 57014 and the command reports it like
 * any other error.  When no statement is running (connecting, reading the
 * till's input, sleeping between heartbeats), Ctrl-C ends the program as
 * usual.
 *
 * The handler only reads cancel_handle and statement_running; both are
 * changed with SIGINT blocked, so it never sees a freed PGcancel.
 *
 * src/cli/cancel.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "icos.h"

static PGcancel *volatile cancel_handle;
static PGconn *cancel_conn;
static volatile sig_atomic_t statement_running;

static void
write_stderr(const char *s)
{
	ssize_t		rc = write(STDERR_FILENO, s, strlen(s));

	(void) rc;
}

static void
handle_sigint(int signo)
{
	int			save_errno = errno;

	if (statement_running && cancel_handle != NULL)
	{
		char		errbuf[256];

		if (PQcancel(cancel_handle, errbuf, sizeof(errbuf)))
			write_stderr("icos: cancel request sent\n");
		else
		{
			write_stderr("icos: could not send cancel request: ");
			write_stderr(errbuf);
			write_stderr("\n");
		}
		errno = save_errno;
		return;
	}
	/* Nothing to cancel: end the program the way SIGINT does. */
	signal(SIGINT, SIG_DFL);
	raise(SIGINT);
	errno = save_errno;
}

void
cancel_install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handle_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
}

static void
block_sigint(bool block)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/*
 * A statement is about to run on conn: Ctrl-C now cancels it.
 */
void
cancel_statement_begin(PGconn *conn)
{
	if (conn != cancel_conn)
	{
		PGcancel   *fresh = PQgetCancel(conn);

		block_sigint(true);
		if (cancel_handle != NULL)
			PQfreeCancel(cancel_handle);
		cancel_handle = fresh;
		cancel_conn = conn;
		block_sigint(false);
	}
	statement_running = 1;
}

void
cancel_statement_end(void)
{
	statement_running = 0;
}

/*
 * conn is about to be closed: forget its cancel object.
 */
void
cancel_forget(PGconn *conn)
{
	if (conn == NULL || conn != cancel_conn)
		return;
	block_sigint(true);
	statement_running = 0;
	if (cancel_handle != NULL)
		PQfreeCancel(cancel_handle);
	cancel_handle = NULL;
	cancel_conn = NULL;
	block_sigint(false);
}
