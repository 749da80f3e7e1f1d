/*-------------------------------------------------------------------------
 *
 * conn.c
 *		Connecting to the server, running parameterised queries and
 *		reporting the server's errors.
 *
 * The connection uses libpq's usual means: --dsn or -d (a database name,
 * conninfo string or URI), -h, -p and -U (which win over the same settings
 * in --dsn), else the environment (PGHOST, PGPORT, PGUSER, PGSERVICE, ...),
 * ~/.pgpass and the service file.  When the server asks for a password that
 * none of those supplied and standard input is a terminal, the password is
 * prompted for without echo, as psql does.
 *
 * src/cli/conn.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "icos.h"

/*
 * Read a line from the terminal without echoing it.  Returns a malloc'd
 * string (without the newline), or NULL at end of input.
 */
char *
read_password(const char *prompt)
{
	struct termios saved,
				noecho;
	bool		restore = false;
	StrBuf		sb;
	int			c;

	/* echo off before the prompt, so nothing typed after it is shown */
	if (tcgetattr(STDIN_FILENO, &saved) == 0)
	{
		noecho = saved;
		noecho.c_lflag &= ~(tcflag_t) ECHO;
		noecho.c_lflag |= ECHONL;
		restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho) == 0;
	}
	fputs(prompt, stderr);
	fflush(stderr);
	sb_init(&sb);
	while ((c = getchar()) != EOF && c != '\n')
	{
		char		ch = (char) c;

		if (ch != '\r')
			sb_appendn(&sb, &ch, 1);
	}
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (c == EOF && sb.len == 0)
	{
		sb_free(&sb);
		return NULL;
	}
	return sb.data;
}

static PGconn *
try_connect(const char *password)
{
	const char *keywords[8];
	const char *values[8];
	int			n = 0;

	/*
	 * expand_dbname: a dbname holding a conninfo or URI is expanded; the
	 * entries after it override what it says.
	 */
	keywords[n] = "dbname";
	values[n++] = opts.dsn;
	keywords[n] = "host";
	values[n++] = opts.host;
	keywords[n] = "port";
	values[n++] = opts.port;
	keywords[n] = "user";
	values[n++] = opts.user;
	if (password)
	{
		keywords[n] = "password";
		values[n++] = password;
	}
	keywords[n] = "fallback_application_name";
	values[n++] = "icos";
	keywords[n] = NULL;
	values[n] = NULL;
	return PQconnectdbParams(keywords, values, 1);
}

/*
 * Connect, or print why not and exit with status 3 (EXIT_NO_CONNECTION).
 */
PGconn *
connect_or_exit(void)
{
	PGconn	   *conn = try_connect(NULL);

	if (conn != NULL && PQstatus(conn) == CONNECTION_BAD &&
		PQconnectionNeedsPassword(conn) && isatty(STDIN_FILENO))
	{
		char	   *password;
		char		prompt[256];

		snprintf(prompt, sizeof(prompt), "Password for user %s: ", PQuser(conn));
		PQfinish(conn);
		password = read_password(prompt);
		if (password == NULL)
		{
			client_error("connection", "no password given");
			exit(EXIT_NO_CONNECTION);
		}
		conn = try_connect(password);
		memset(password, 0, strlen(password));
		free(password);
	}
	if (conn == NULL)
	{
		client_error("connection", "out of memory");
		exit(EXIT_NO_CONNECTION);
	}
	if (PQstatus(conn) == CONNECTION_BAD)
	{
		client_error("connection", "could not connect to the database server: %s",
					 PQerrorMessage(conn));
		PQfinish(conn);
		exit(EXIT_NO_CONNECTION);
	}
	return conn;
}

void
disconnect(PGconn *conn)
{
	cancel_forget(conn);
	PQfinish(conn);
}

/*
 * Run a parameterised query (text parameters, text results).  On success
 * returns the result (the caller clears it); on failure reports the error
 * and returns NULL.
 */
PGresult *
run_query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;
	ExecStatusType st;

	cancel_statement_begin(conn);
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	cancel_statement_end();
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	report_error(conn, res);
	PQclear(res);
	return NULL;
}

/*
 * Is there a function of this signature ("icos.offers(date,date,integer)")?
 * Lets the client say clearly that the server's icos is too old for a
 * command instead of showing "function does not exist".
 */
bool
function_exists(PGconn *conn, const char *signature)
{
	const char *params[1] = {signature};
	PGresult   *res = run_query(conn,
								"SELECT pg_catalog.to_regprocedure($1) IS NOT NULL",
								1, params);
	bool		exists;

	if (res == NULL)
		exit(EXIT_REFUSED);
	exists = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return exists;
}

/*
 * For a command built on a function a later release of the extension adds:
 * true when the server has it; otherwise says which release brings it and
 * returns false (the caller disconnects and exits EXIT_REFUSED).
 */
bool
require_function(PGconn *conn, const char *signature, const char *what,
				 const char *release)
{
	if (function_exists(conn, signature))
		return true;
	client_error("client", "this server has no %s yet: %.*s() comes with the %s release "
				 "of the icos extension.\n"
				 "HINT: Ask the administrator to run ALTER EXTENSION icos UPDATE.",
				 what, (int) strcspn(signature, "("), signature, release);
	return false;
}
