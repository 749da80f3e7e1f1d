/*-------------------------------------------------------------------------
 *
 * order.c
 *		icos order place|show|edit|cancel|return|advance, icos receipt and
 *		icos note.
 *
 * Orders are placed and changed with JSON documents (API.md's keys) read
 * from a file or standard input (-f FILE) and sent as a parameter; the
 * server checks everything, including that the file is JSON at all.
 *
 * src/cli/order.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

static const char *
value(const PGresult *res, int col)
{
	return PQntuples(res) > 0 && !PQgetisnull(res, 0, col) ? PQgetvalue(res, 0, col) : NULL;
}

/*
 * Print an order document (the jsonb of icos.order) for people, or pretty
 * JSON with --json.  Returns an exit status.
 */
int
show_order_document(PGconn *conn, const char *doc)
{
	const char *params[1] = {doc};
	PGresult   *res;
	char		money[MONEY_BUFLEN];
	static const Column line_columns[] = {
		{"Line", COL_NUM}, {"UPC", COL_TEXT}, {"Product", COL_TEXT}, {"Qty", COL_NUM},
		{"Unit price", COL_MONEY}, {"Discount", COL_MONEY}, {"Net", COL_MONEY},
		{"Status", COL_TEXT}, {"From store", COL_NUM}
	};
	static const Column payment_columns[] = {
		{"When", COL_TEXT}, {"Kind", COL_TEXT}, {"Method", COL_TEXT},
		{"Amount", COL_MONEY}, {"Change", COL_MONEY}, {"Reference", COL_TEXT}
	};
	static const Column event_columns[] = {
		{"When", COL_TEXT}, {"Event", COL_TEXT}, {"Employee", COL_NUM}, {"Note", COL_TEXT}
	};

	if (opts.json)
	{
		res = run_query(conn, "SELECT pg_catalog.jsonb_pretty($1::jsonb)", 1, params);
		if (res == NULL)
			return EXIT_REFUSED;
		printf("%s\n", PQgetvalue(res, 0, 0));
		PQclear(res);
		return EXIT_OK;
	}

	res = run_query(conn,
					"SELECT d->>'code', d->>'status', d->>'channel',"
					"       concat_ws(' ', d->>'store', '(' || (d->>'store_name') || ')'),"
					"       pg_catalog.to_char((d->>'placed_at')::timestamptz, 'YYYY-MM-DD HH24:MI'),"
					"       CASE WHEN pg_catalog.jsonb_typeof(d->'customer') = 'object' THEN"
					"         concat_ws(', ', d->'customer'->>'name', d->'customer'->>'email',"
					"                   d->'customer'->>'phone') END,"
					"       concat_ws(', ',"
					"         CASE d->'delivery'->>'method' WHEN 'carry' THEN 'taken away'"
					"           WHEN 'collect' THEN 'collect from store ' || (d->'delivery'->>'collect_store')"
					"           WHEN 'home' THEN 'home delivery' ELSE d->'delivery'->>'method' END,"
					"         CASE WHEN pg_catalog.jsonb_typeof(d->'delivery'->'address') = 'object' THEN"
					"           concat_ws(', ', d->'delivery'->'address'->>'line1',"
					"                     d->'delivery'->'address'->>'line2',"
					"                     d->'delivery'->'address'->>'town',"
					"                     d->'delivery'->'address'->>'postcode') END,"
					"         'on ' || (d->'delivery'->>'date')),"
					"       d->>'promised_date',"
					"       (d->>'total')::numeric(12,2)::text, (d->>'paid')::numeric(12,2)::text,"
					"       (d->>'balance')::numeric(12,2)::text,"
					"       CASE WHEN (d->>'cancellable')::boolean THEN 'yes' ELSE 'no' END,"
					"       d->>'cancel_reason', (d->>'discount')::numeric(12,2)::text"
					"  FROM (SELECT $1::jsonb AS d) s",
					1, params);
	if (res == NULL)
		return EXIT_REFUSED;
	print_field("Order:", value(res, 0));
	print_field("Status:", value(res, 1));
	print_field("Channel:", value(res, 2));
	print_field("Store:", value(res, 3));
	print_field("Placed:", value(res, 4));
	print_field("Customer:", value(res, 5) ? value(res, 5) : "none");
	print_field("Delivery:", value(res, 6));
	print_field("Promised:", value(res, 7));
	print_field("Cancellable:", value(res, 11));
	print_field("Cancelled for:", value(res, 12));
	printf("\n");
	{
		char		total[MONEY_BUFLEN],
					paid[MONEY_BUFLEN];
		int64_t		balance = 0;
		int64_t		discount = 0;
		bool		have_balance = value(res, 10) && parse_money(value(res, 10), &balance);
		bool		have_discount = value(res, 13) && parse_money(value(res, 13), &discount);

		format_money(value(res, 8), total, sizeof(total));
		format_money(value(res, 9), paid, sizeof(paid));

		PQclear(res);
		res = run_query(conn,
						"SELECT l->>'line', l->>'upc', l->>'name', l->>'qty',"
						"       (l->>'unit_price')::numeric(12,2)::text,"
						"       (l->>'discount')::numeric(12,2)::text,"
						"       (l->>'net')::numeric(12,2)::text, l->>'status', l->>'fulfil_from'"
						"  FROM pg_catalog.jsonb_array_elements($1::jsonb->'lines') l"
						" ORDER BY (l->>'line')::int",
						1, params);
		if (res == NULL)
			return EXIT_REFUSED;
		print_result_table(res, line_columns, 9);
		PQclear(res);
		printf("\n");
		if (have_discount && discount != 0)
			print_field("Discount:", format_pence(discount, money, sizeof(money)));
		print_field("Total:", total);
		print_field("Paid:", paid);
		if (have_balance && balance < 0)
			print_field("Refund due:", format_pence(-balance, money, sizeof(money)));
		else if (have_balance)
			print_field("Balance due:", format_pence(balance, money, sizeof(money)));
	}

	res = run_query(conn,
					"SELECT pg_catalog.to_char((p->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI'),"
					"       p->>'kind', p->>'method', (p->>'amount')::numeric(12,2)::text,"
					"       NULLIF((p->>'change')::numeric(12,2), 0)::text, p->>'reference'"
					"  FROM pg_catalog.jsonb_array_elements($1::jsonb->'payments')"
					"       WITH ORDINALITY AS x(p, n) ORDER BY n",
					1, params);
	if (res == NULL)
		return EXIT_REFUSED;
	if (PQntuples(res) > 0)
	{
		printf("\nPayments\n");
		print_result_table(res, payment_columns, 6);
	}
	PQclear(res);

	res = run_query(conn,
					"SELECT pg_catalog.to_char((e->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI'),"
					"       concat_ws(' ', e->>'kind', '(' || (e->>'topic') || ')'),"
					"       e->>'employee', e->>'note'"
					"  FROM pg_catalog.jsonb_array_elements($1::jsonb->'events')"
					"       WITH ORDINALITY AS x(e, n) ORDER BY n",
					1, params);
	if (res == NULL)
		return EXIT_REFUSED;
	if (PQntuples(res) > 0)
	{
		printf("\nHistory\n");
		print_result_table(res, event_columns, 4);
	}
	PQclear(res);
	return EXIT_OK;
}

/*
 * Run a query whose one value is an order document and show it.
 */
static int
run_and_show(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = run_query(conn, sql, nparams, params);
	int			status;

	if (res == NULL)
		return EXIT_REFUSED;
	status = show_order_document(conn, PQgetvalue(res, 0, 0));
	PQclear(res);
	return status;
}

/*
 * The words of "order place" and "order edit" with 0.2.0's "--json FILE"
 * rewritten as "-f FILE", and a warning; a copy the caller frees.
 */
static char **
input_args(const char *command, int argc, char **argv)
{
	char	  **copy = xmalloc(sizeof(char *) * ((size_t) argc + 2));
	int			legacy = legacy_json_input(argc, argv);
	int			n = 0;

	for (int i = 0; i < argc; i++)
	{
		if (i == legacy && strncmp(argv[i], "--json=", 7) == 0)
		{
			copy[n++] = "-f";
			copy[n++] = argv[i] + 7;
		}
		else if (i == legacy)
			copy[n++] = "-f";
		else
			copy[n++] = argv[i];
	}
	copy[n] = NULL;
	if (legacy >= 0)
		client_warning("%s: \"--json FILE\" is the old spelling of \"-f FILE\" and will be "
					   "removed in the next release; --json now only asks for JSON output",
					   command);
	return copy;
}

static int
order_place(int argc, char **argv)
{
	const char *file = NULL;
	const OptSpec specs[] = {
		{"f", true, &file, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	char	  **args = input_args("order place", argc, argv);
	char	   *text;
	size_t		len;
	const char *params[1];
	PGconn	   *conn;
	PGresult   *res;

	parse_command_args("order place", argc, args, specs, NULL, 0, 0);
	free(args);
	if (file == NULL)
		usage_error("order place: -f FILE (or -f - for standard input) is required");
	if ((text = read_input_file(file, &len)) == NULL)
		return EXIT_REFUSED;
	conn = connect_or_exit();
	params[0] = text;
	res = run_query(conn, "SELECT icos.place_order($1::jsonb)::text", 1, params);
	free(text);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (opts.json)
	{
		StrBuf		sb;

		sb_init(&sb);
		sb_append(&sb, "{\"code\": ");
		sb_json_string(&sb, PQgetvalue(res, 0, 0));
		sb_append(&sb, "}");
		printf("%s\n", sb.data);
		sb_free(&sb);
	}
	else
		printf("%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	disconnect(conn);
	return EXIT_OK;
}

static int
order_show(int argc, char **argv)
{
	char	   *pos[1];
	const OptSpec specs[] = {{"json", false, NULL, &opts.json}, {NULL}};
	PGconn	   *conn;
	int			status;

	parse_command_args("order show", argc, argv, specs, pos, 1, 1);
	conn = connect_or_exit();
	status = run_and_show(conn, "SELECT icos.order($1)::text", 1, (const char *const *) pos);
	disconnect(conn);
	return status;
}

static int
order_edit(int argc, char **argv)
{
	char	   *pos[1];
	const char *file = NULL;
	const OptSpec specs[] = {
		{"f", true, &file, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	char	  **args = input_args("order edit", argc, argv);
	const char *params[2];
	char	   *text;
	size_t		len;
	PGconn	   *conn;
	int			status;

	parse_command_args("order edit", argc, args, specs, pos, 1, 1);
	free(args);
	if (file == NULL)
		usage_error("order edit: -f FILE (or -f - for standard input) is required");
	if ((text = read_input_file(file, &len)) == NULL)
		return EXIT_REFUSED;
	conn = connect_or_exit();
	params[0] = pos[0];
	params[1] = text;
	status = run_and_show(conn, "SELECT icos.edit_order($1, $2::jsonb)::text", 2, params);
	free(text);
	disconnect(conn);
	return status;
}

static int
order_cancel(int argc, char **argv)
{
	char	   *pos[1];
	const char *reason = NULL;
	const OptSpec specs[] = {
		{"reason", true, &reason, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	const char *params[2];
	PGconn	   *conn;
	int			status;

	parse_command_args("order cancel", argc, argv, specs, pos, 1, 1);
	if (reason == NULL)
		usage_error("order cancel: --reason TEXT is required");
	conn = connect_or_exit();
	params[0] = pos[0];
	params[1] = reason;
	status = run_and_show(conn, "SELECT icos.cancel_order($1, $2)::text", 2, params);
	disconnect(conn);
	return status;
}

static int
order_return(int argc, char **argv)
{
	char	   *pos[1];
	const char *lines = NULL;
	const char *reason = NULL;
	const OptSpec specs[] = {
		{"lines", true, &lines, NULL},
		{"reason", true, &reason, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	const char *params[3];
	PGconn	   *conn;
	int			status;

	parse_command_args("order return", argc, argv, specs, pos, 1, 1);
	if (lines == NULL || reason == NULL)
		usage_error("order return: --lines JSON and --reason TEXT are required");
	conn = connect_or_exit();
	params[0] = pos[0];
	params[1] = lines;
	params[2] = reason;
	status = run_and_show(conn, "SELECT icos.return_lines($1, $2::jsonb, $3)::text", 3, params);
	disconnect(conn);
	return status;
}

static int
order_advance(int argc, char **argv)
{
	char	   *pos[2];
	const char *note = NULL;
	const OptSpec specs[] = {
		{"note", true, &note, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	const char *params[3];
	PGconn	   *conn;
	PGresult   *res;
	int			status;

	parse_command_args("order advance", argc, argv, specs, pos, 2, 2);
	conn = connect_or_exit();
	params[0] = pos[0];
	params[1] = pos[1];
	params[2] = note;
	res = run_query(conn, "SELECT icos.advance_order($1, $2, $3)", 3, params);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	PQclear(res);
	status = run_and_show(conn, "SELECT icos.order($1)::text", 1, params);
	disconnect(conn);
	return status;
}

int
cmd_order(int argc, char **argv)
{
	if (argc < 1)
		usage_error("order: say place, show, edit, cancel, return or advance");
	if (strcmp(argv[0], "place") == 0)
		return order_place(argc - 1, argv + 1);
	if (strcmp(argv[0], "show") == 0)
		return order_show(argc - 1, argv + 1);
	if (strcmp(argv[0], "edit") == 0)
		return order_edit(argc - 1, argv + 1);
	if (strcmp(argv[0], "cancel") == 0)
		return order_cancel(argc - 1, argv + 1);
	if (strcmp(argv[0], "return") == 0)
		return order_return(argc - 1, argv + 1);
	if (strcmp(argv[0], "advance") == 0)
		return order_advance(argc - 1, argv + 1);
	usage_error("order: unknown subcommand \"%s\" (say place, show, edit, cancel, return or advance)",
				argv[0]);
}

/*
 * Print the receipt text of an order (shared with the till).
 */
bool
print_receipt(PGconn *conn, const char *code, bool reprint)
{
	const char *params[2] = {code, reprint ? "true" : "false"};
	PGresult   *res = run_query(conn, "SELECT icos.receipt($1, $2::boolean)", 2, params);
	const char *text;

	if (res == NULL)
		return false;
	text = PQgetvalue(res, 0, 0);
	fputs(text, stdout);
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		putchar('\n');
	PQclear(res);
	return true;
}

int
cmd_receipt(int argc, char **argv)
{
	char	   *pos[1];
	bool		reprint = false;
	const OptSpec specs[] = {
		{"reprint", false, NULL, &reprint},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	PGconn	   *conn;
	bool		ok;

	parse_command_args("receipt", argc, argv, specs, pos, 1, 1);
	conn = connect_or_exit();
	if (opts.json)
	{
		const char *params[2] = {pos[0], reprint ? "true" : "false"};
		PGresult   *res = run_query(conn,
									"SELECT pg_catalog.jsonb_pretty(pg_catalog.jsonb_build_object("
									"  'code', $1::icos.order_code::text,"
									"  'receipt', icos.receipt($1, $2::boolean)))",
									2, params);

		ok = res != NULL;
		if (ok)
			printf("%s\n", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	else
		ok = print_receipt(conn, pos[0], reprint);
	disconnect(conn);
	return ok ? EXIT_OK : EXIT_REFUSED;
}

int
cmd_note(int argc, char **argv)
{
	char	   *pos[64];
	const char *kind = NULL;
	const OptSpec specs[] = {
		{"kind", true, &kind, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	int			npos;
	StrBuf		text;
	const char *params[3];
	PGconn	   *conn;
	PGresult   *res;
	int			status = EXIT_OK;

	npos = parse_command_args("note", argc, argv, specs, pos, 2, 64);
	if (kind == NULL)
		usage_error("note: --kind KIND is required (manufacturing, dispatch or service)");
	/* The words after the code are the note: quoting it is optional */
	sb_init(&text);
	for (int i = 1; i < npos; i++)
	{
		if (i > 1)
			sb_append(&text, " ");
		sb_append(&text, pos[i]);
	}
	conn = connect_or_exit();
	params[0] = pos[0];
	params[1] = kind;
	params[2] = text.data;
	res = run_query(conn, "SELECT icos.add_note($1, $2, $3)", 3, params);
	if (res == NULL)
		status = EXIT_REFUSED;
	else if (opts.json)
		status = run_and_show(conn, "SELECT icos.order($1)::text", 1, params);
	else
		printf("Note added to order %s.\n", pos[0]);
	PQclear(res);
	sb_free(&text);
	disconnect(conn);
	return status;
}
