/*-------------------------------------------------------------------------
 *
 * icos.h
 *		Declarations shared by the files of the icos command-line client.
 *
 * The client is a thin libpq program: every business rule lives in the
 * server's icos.* functions.  The client parses arguments, sends parameters
 * (never string-built SQL), and renders what the server returns.
 *
 * src/cli/icos.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_CLI_H
#define ICOS_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libpq-fe.h"

/* Exit statuses (documented in docs/client.md) */
#define EXIT_OK			0
#define EXIT_REFUSED	1		/* refused by the server, a server or client error */
#define EXIT_USAGE		2		/* bad command line */
#define EXIT_NO_CONNECTION 3	/* could not connect to the database server */

/* Options common to every command */
typedef struct GlobalOptions
{
	const char *dsn;			/* --dsn CONNINFO or -d DBNAME, or NULL */
	const char *host;			/* -h HOST */
	const char *port;			/* -p PORT */
	const char *user;			/* -U USER */
	bool		json;			/* --json: machine-readable output */
	bool		json_errors;	/* --json given anywhere: errors as JSON too */
} GlobalOptions;

extern GlobalOptions opts;

/* main.c */
extern void usage_error(const char *fmt,...) __attribute__((format(printf, 1, 2), noreturn));

/* help.c: the usage text and every command's --help */
extern void print_usage(FILE *out);
extern void print_command_help(FILE *out, const char *command, const char *sub);

/* message.c: errors and warnings on standard error, as text or JSON */
extern void client_error(const char *kind, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void client_warning(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void report_error(PGconn *conn, const PGresult *res);

/* cancel.c: Ctrl-C cancels the running statement */
extern void cancel_install_handler(void);
extern void cancel_statement_begin(PGconn *conn);
extern void cancel_statement_end(void);
extern void cancel_forget(PGconn *conn);

/* args.c: per-command option parsing */
typedef struct OptSpec
{
	const char *name;			/* long option name without "--" */
	bool		has_arg;		/* takes a value */
	const char **value;			/* where the value goes (has_arg) */
	bool	   *flag;			/* set when present (!has_arg) */
} OptSpec;

extern int	parse_command_args(const char *command, int argc, char **argv,
							   const OptSpec *specs, char **positional,
							   int min_pos, int max_pos);
extern int	legacy_json_input(int argc, char **argv);
extern int	parse_int_arg(const char *command, const char *what, const char *text);
extern bool is_date(const char *text);

/* conn.c */
extern PGconn *connect_or_exit(void);
extern void disconnect(PGconn *conn);
extern PGresult *run_query(PGconn *conn, const char *sql, int nparams,
						   const char *const *params);
extern bool function_exists(PGconn *conn, const char *signature);
extern bool require_function(PGconn *conn, const char *signature, const char *what,
							 const char *release);
extern char *read_password(const char *prompt);

/* output.c */
typedef enum ColumnKind
{
	COL_TEXT,					/* left aligned */
	COL_NUM,					/* right aligned */
	COL_MONEY,					/* numeric pounds shown as £1,234.50 */
	COL_BOOL					/* t/f shown as yes/no */
} ColumnKind;

typedef struct Column
{
	const char *title;
	ColumnKind	kind;
} Column;

extern void print_table(const Column *cols, int ncols, int nrows,
						const char *const *cells);
extern void print_result_table(const PGresult *res, const Column *cols,
							   int ncols);
extern void print_field(const char *label, const char *value);
extern bool parse_money(const char *text, int64_t *pence);
extern const char *format_pence(int64_t pence, char *buf, size_t len);
extern const char *format_money(const char *numeric_text, char *buf, size_t len);
extern int	display_width(const char *s);

#define MONEY_BUFLEN 48

/* strbuf.c: growable strings and JSON text */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} StrBuf;

extern void sb_init(StrBuf *sb);
extern void sb_free(StrBuf *sb);
extern void sb_reset(StrBuf *sb);
extern void sb_append(StrBuf *sb, const char *s);
extern void sb_appendn(StrBuf *sb, const char *s, size_t n);
extern void sb_printf(StrBuf *sb, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void sb_json_string(StrBuf *sb, const char *s);
extern void *xmalloc(size_t n);
extern void *xrealloc(void *p, size_t n);
extern char *xstrdup(const char *s);
extern char *read_input_file(const char *path, size_t *len);

/* Commands: each returns an exit status */
extern int	cmd_product(int argc, char **argv);
extern int	cmd_stock(int argc, char **argv);
extern int	cmd_offers(int argc, char **argv);
extern int	cmd_order(int argc, char **argv);
extern int	cmd_receipt(int argc, char **argv);
extern int	cmd_note(int argc, char **argv);
extern int	cmd_report(int argc, char **argv);
extern int	cmd_employee(int argc, char **argv);
extern int	cmd_till(int argc, char **argv);
extern int	cmd_node(int argc, char **argv);
extern int	cmd_customer(int argc, char **argv);
extern int	cmd_events(int argc, char **argv);
extern int	cmd_serve(int argc, char **argv);

/* order.c: shared with the till */
extern int	show_order_document(PGconn *conn, const char *doc);
extern bool print_receipt(PGconn *conn, const char *code, bool reprint);

#endif							/* ICOS_CLI_H */
