/*-------------------------------------------------------------------------
 *
 * message.c
 *		Errors and warnings on standard error, for people or, with --json,
 *		as one JSON object per error.
 *
 * For people an error is "icos: what went wrong" (the client's own) or
 * "ERROR [SQLSTATE]: message" with DETAIL and HINT lines (the server's).
 * With --json anywhere on the command line every error is one line holding
 * a JSON object:
 *
 *	{"error": "server", "sqlstate": "IC002", "severity": "ERROR",
 *	 "message": "...", "detail": "...", "hint": "..."}
 *	{"error": "connection", "message": "..."}
 *
 * "error" says where it comes from: server (a refusal or server error, with
 * the SQLSTATE of API.md), connection (cannot connect, or the connection was
 * lost), usage (a bad command line) or client (a file that cannot be read,
 * ...).  Keys without a value are left out.  Warnings stay text.
 *
 * src/cli/message.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

static bool
json_errors(void)
{
	return opts.json || opts.json_errors;
}

/* Drop one trailing newline (libpq's messages end with one). */
static char *
chomp(const char *s)
{
	char	   *copy = xstrdup(s);
	size_t		n = strlen(copy);

	while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	return copy;
}

static void
json_key(StrBuf *sb, const char *key, const char *value)
{
	if (value == NULL)
		return;
	if (sb->len > 1)
		sb_append(sb, ", ");
	sb_json_string(sb, key);
	sb_append(sb, ": ");
	sb_json_string(sb, value);
}

static void
print_json_error(const char *kind, const char *sqlstate, const char *severity,
				 const char *message, const char *detail, const char *hint)
{
	StrBuf		sb;

	sb_init(&sb);
	sb_append(&sb, "{");
	json_key(&sb, "error", kind);
	json_key(&sb, "sqlstate", sqlstate);
	json_key(&sb, "severity", severity);
	json_key(&sb, "message", message);
	json_key(&sb, "detail", detail);
	json_key(&sb, "hint", hint);
	sb_append(&sb, "}\n");
	fputs(sb.data, stderr);
	sb_free(&sb);
}

/*
 * An error of the client's own (kind: "usage", "connection" or "client"),
 * printf-style, without a trailing newline.
 */
void
client_error(const char *kind, const char *fmt,...)
{
	va_list		ap;
	StrBuf		sb;
	char	   *text;

	sb_init(&sb);
	{
		va_list		aq;
		int			n;

		va_start(ap, fmt);
		va_copy(aq, ap);
		n = vsnprintf(NULL, 0, fmt, aq);
		va_end(aq);
		if (n > 0)
		{
			char	   *buf = xmalloc((size_t) n + 1);

			vsnprintf(buf, (size_t) n + 1, fmt, ap);
			sb_append(&sb, buf);
			free(buf);
		}
		va_end(ap);
	}
	text = chomp(sb.data);
	if (json_errors())
		print_json_error(kind, NULL, NULL, text, NULL, NULL);
	else
		fprintf(stderr, "icos: %s\n", text);
	free(text);
	sb_free(&sb);
}

/*
 * A warning: always text, "icos: warning: ...".
 */
void
client_warning(const char *fmt,...)
{
	va_list		ap;

	fputs("icos: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Print a failed result the way the manual says: "ERROR [SQLSTATE]:
 * message", then DETAIL and HINT lines.  A lost connection has no SQLSTATE;
 * libpq's message is shown instead.
 */
void
report_error(PGconn *conn, const PGresult *res)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *severity = res ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
	const char *message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

	if (sqlstate == NULL || message == NULL)
	{
		const char *msg = res ? PQresultErrorMessage(res) : "";
		char	   *text;

		if (msg[0] == '\0')
			msg = PQerrorMessage(conn);
		text = chomp(msg);
		if (PQstatus(conn) == CONNECTION_BAD)
			client_error("connection", "lost the connection to the database server: %s", text);
		else
			client_error("client", "%s", text);
		free(text);
		return;
	}
	if (json_errors())
	{
		print_json_error("server", sqlstate, severity ? severity : "ERROR", message, detail, hint);
		return;
	}
	fprintf(stderr, "%s [%s]: %s\n", severity ? severity : "ERROR", sqlstate, message);
	if (detail)
		fprintf(stderr, "DETAIL: %s\n", detail);
	if (hint)
		fprintf(stderr, "HINT: %s\n", hint);
}
