/*-------------------------------------------------------------------------
 *
 * customer.c
 *		icos customer find|show|orders|forget.
 *
 * Each maps onto one server function (icos.find_customers,
 * icos.customer_export, icos.customer_orders, icos.forget_customer); who may
 * see or erase whom is the server's rule, reported with its SQLSTATE.
 *
 * src/cli/customer.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

/* A customer id is a whole number; the server says whether she exists. */
static const char *
customer_id_arg(const char *command, const char *text)
{
	const char *p = text;

	if (*p == '\0' || strlen(p) > 19)
		usage_error("%s: a customer id is a whole number, not \"%s\"", command, text);
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			usage_error("%s: a customer id is a whole number, not \"%s\"", command, text);
	return text;
}

/* Print a query's one value, pretty JSON. */
static int
print_json_value(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = run_query(conn, sql, nparams, params);

	if (res == NULL)
		return EXIT_REFUSED;
	printf("%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	return EXIT_OK;
}

/*
 * The documents a set-returning function gives (FROM "func(...) alias"):
 * a JSON array with --json, else a table of row_sql's columns, or the
 * line "none" when there are none.
 */
static int
show_documents(PGconn *conn, const char *from, const char *alias, const char *row_sql,
			   const Column *cols, int ncols, const char *none, const char *param)
{
	const char *params[1] = {param};
	StrBuf		sql;
	PGresult   *res;
	int			status = EXIT_OK;

	sb_init(&sql);
	if (opts.json)
	{
		sb_printf(&sql, "SELECT pg_catalog.jsonb_pretty(coalesce(pg_catalog.jsonb_agg(%s), '[]'))"
				  "  FROM %s", alias, from);
		status = print_json_value(conn, sql.data, 1, params);
	}
	else
	{
		sb_printf(&sql, "SELECT %s FROM %s", row_sql, from);
		res = run_query(conn, sql.data, 1, params);
		if (res == NULL)
			status = EXIT_REFUSED;
		else if (PQntuples(res) == 0)
			printf("%s\n", none);
		else
			print_result_table(res, cols, ncols);
		PQclear(res);
	}
	sb_free(&sql);
	return status;
}

/* The columns of a customers table, from customer documents (c). */
#define CUSTOMER_ROW_SQL \
	"c->>'id', c->>'name', c->>'email', c->>'phone', c->'address'->>'postcode', c->>'store'," \
	" concat_ws(', ', CASE WHEN (c->'consents'->>'email')::boolean THEN 'email' END," \
	"           CASE WHEN (c->'consents'->>'sms')::boolean THEN 'sms' END," \
	"           CASE WHEN (c->'consents'->>'post')::boolean THEN 'post' END)"

static const Column customer_columns[] = {
	{"Id", COL_NUM}, {"Name", COL_TEXT}, {"E-mail", COL_TEXT}, {"Phone", COL_TEXT},
	{"Postcode", COL_TEXT}, {"Store", COL_NUM}, {"Consents", COL_TEXT}
};

static int
customer_find(int argc, char **argv)
{
	char	   *pos[64];
	const OptSpec specs[] = {{"json", false, NULL, &opts.json}, {NULL}};
	int			npos;
	StrBuf		query;
	char	   *none;
	PGconn	   *conn;
	int			status;

	/* The words are the query: "LS1 6HD Walker" needs no quotes */
	npos = parse_command_args("customer find", argc, argv, specs, pos, 1, 64);
	sb_init(&query);
	for (int i = 0; i < npos; i++)
	{
		if (i > 0)
			sb_append(&query, " ");
		sb_append(&query, pos[i]);
	}
	none = xmalloc(query.len + 32);
	sprintf(none, "No customer found for %s.", query.data);
	conn = connect_or_exit();
	status = show_documents(conn, "icos.find_customers($1) c", "c", CUSTOMER_ROW_SQL,
							customer_columns, 7, none, query.data);
	free(none);
	sb_free(&query);
	disconnect(conn);
	return status;
}

static const Column order_columns[] = {
	{"Order", COL_TEXT}, {"Placed", COL_TEXT}, {"Channel", COL_TEXT}, {"Store", COL_NUM},
	{"Status", COL_TEXT}, {"Lines", COL_NUM}, {"Total", COL_MONEY}, {"Balance", COL_MONEY}
};

/* The columns of an orders table, from order documents (d). */
#define ORDER_ROW_SQL \
	"d->>'code', pg_catalog.to_char((d->>'placed_at')::timestamptz, 'YYYY-MM-DD HH24:MI')," \
	" d->>'channel', d->>'store', d->>'status', pg_catalog.jsonb_array_length(d->'lines')::text," \
	" (d->>'total')::numeric(12,2)::text, (d->>'balance')::numeric(12,2)::text"

static int
customer_show(int argc, char **argv)
{
	char	   *pos[1];
	const OptSpec specs[] = {{"json", false, NULL, &opts.json}, {NULL}};
	const char *params[1];
	PGconn	   *conn;
	PGresult   *res;
	static const Column address_columns[] = {
		{"No", COL_NUM}, {"Since", COL_TEXT}, {"Address", COL_TEXT}
	};
	static const Column consent_columns[] = {
		{"When", COL_TEXT}, {"Purpose", COL_TEXT}, {"Granted", COL_BOOL},
		{"Employee", COL_NUM}, {"Store", COL_NUM}
	};
	static const Column event_columns[] = {
		{"When", COL_TEXT}, {"Event", COL_TEXT}, {"Fields", COL_TEXT},
		{"Employee", COL_NUM}, {"Store", COL_NUM}
	};

	parse_command_args("customer show", argc, argv, specs, pos, 1, 1);
	params[0] = customer_id_arg("customer show", pos[0]);
	conn = connect_or_exit();
	if (opts.json)
	{
		int			status = print_json_value(conn,
											  "SELECT pg_catalog.jsonb_pretty(icos.customer_export($1::bigint))",
											  1, params);

		disconnect(conn);
		return status;
	}

	/* One export, read section by section from a temporary copy */
	res = run_query(conn, "SELECT icos.customer_export($1::bigint)::text", 1, params);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	params[0] = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);

#define SECTION(sql, title, cols, n) \
	do { \
		res = run_query(conn, sql, 1, params); \
		if (res == NULL) \
			goto failed; \
		if (PQntuples(res) > 0) \
		{ \
			printf("\n%s\n", title); \
			print_result_table(res, cols, n); \
		} \
		PQclear(res); \
	} while (0)

	res = run_query(conn,
					"SELECT e->'customer'->>'id', e->'customer'->>'name', e->'customer'->>'email',"
					"       e->'customer'->>'phone', e->'customer'->>'store',"
					"       pg_catalog.to_char((e->'customer'->>'created_at')::timestamptz, 'YYYY-MM-DD HH24:MI'),"
					"       (SELECT string_agg(k || CASE WHEN v::boolean THEN ' yes' ELSE ' no' END, ', ' ORDER BY k)"
					"          FROM pg_catalog.jsonb_each_text(e->'customer'->'consents') x(k, v)),"
					"       pg_catalog.to_char((e->'erasure'->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI')"
					"         || ': ' || (e->'erasure'->>'reason'),"
					"       pg_catalog.to_char((e->>'exported_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS')"
					"  FROM (SELECT $1::jsonb AS e) s",
					1, params);
	if (res == NULL)
		goto failed;
	print_field("Customer:", PQgetvalue(res, 0, 0));
	print_field("Name:", PQgetvalue(res, 0, 1));
	print_field("E-mail:", PQgetvalue(res, 0, 2));
	print_field("Phone:", PQgetvalue(res, 0, 3));
	print_field("Store:", PQgetvalue(res, 0, 4));
	print_field("Registered:", PQgetvalue(res, 0, 5));
	print_field("Consents:", PQgetisnull(res, 0, 6) ? "none recorded" : PQgetvalue(res, 0, 6));
	print_field("Forgotten:", PQgetvalue(res, 0, 7));
	print_field("Exported:", PQgetvalue(res, 0, 8));
	PQclear(res);

	SECTION("SELECT a->>'address_no',"
			"       pg_catalog.to_char((a->>'since')::timestamptz, 'YYYY-MM-DD'),"
			"       concat_ws(', ', a->>'line1', a->>'line2', a->>'town', a->>'postcode')"
			"  FROM pg_catalog.jsonb_array_elements($1::jsonb->'addresses') a",
			"Addresses", address_columns, 3);
	SECTION("SELECT pg_catalog.to_char((k->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI'),"
			"       k->>'purpose', k->>'granted', k->>'employee', k->>'store'"
			"  FROM pg_catalog.jsonb_array_elements($1::jsonb->'consents') k",
			"Consent history", consent_columns, 5);
	SECTION("SELECT " ORDER_ROW_SQL
			"  FROM pg_catalog.jsonb_array_elements($1::jsonb->'orders') d",
			"Orders", order_columns, 8);
	SECTION("SELECT pg_catalog.to_char((v->>'at')::timestamptz, 'YYYY-MM-DD HH24:MI'),"
			"       v->>'kind',"
			"       (SELECT string_agg(f, ', ') FROM pg_catalog.jsonb_array_elements_text(v->'fields') f),"
			"       v->>'employee', v->>'store'"
			"  FROM pg_catalog.jsonb_array_elements($1::jsonb->'events') v",
			"Change log", event_columns, 5);
#undef SECTION

	free((char *) params[0]);
	disconnect(conn);
	return EXIT_OK;

failed:
	free((char *) params[0]);
	disconnect(conn);
	return EXIT_REFUSED;
}

static int
customer_orders(int argc, char **argv)
{
	char	   *pos[1];
	const OptSpec specs[] = {{"json", false, NULL, &opts.json}, {NULL}};
	const char *id;
	char		none[64];
	PGconn	   *conn;
	int			status;

	parse_command_args("customer orders", argc, argv, specs, pos, 1, 1);
	id = customer_id_arg("customer orders", pos[0]);
	snprintf(none, sizeof(none), "No orders for customer %s.", id);
	conn = connect_or_exit();
	status = show_documents(conn, "icos.customer_orders($1::bigint) d", "d", ORDER_ROW_SQL,
							order_columns, 8, none, id);
	disconnect(conn);
	return status;
}

static int
customer_forget(int argc, char **argv)
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
	PGresult   *res;
	int			status = EXIT_OK;

	parse_command_args("customer forget", argc, argv, specs, pos, 1, 1);
	if (reason == NULL)
		usage_error("customer forget: --reason TEXT is required");
	params[0] = customer_id_arg("customer forget", pos[0]);
	params[1] = reason;
	conn = connect_or_exit();
	if (opts.json)
		status = print_json_value(conn,
								  "SELECT pg_catalog.jsonb_pretty(icos.forget_customer($1::bigint, $2))",
								  2, params);
	else
	{
		res = run_query(conn,
						"SELECT f->>'customer', f->>'orders_erased', f->>'orders_elsewhere'"
						"  FROM (SELECT icos.forget_customer($1::bigint, $2) AS f) s",
						2, params);
		if (res == NULL)
			status = EXIT_REFUSED;
		else
		{
			printf("Customer %s forgotten: her details are erased here and from %s of her orders.\n",
				   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
			if (strcmp(PQgetvalue(res, 0, 2), "0") != 0)
				printf("%s of her orders are kept by other nodes.\n",
					   PQgetvalue(res, 0, 2));
		}
		PQclear(res);
	}
	disconnect(conn);
	return status;
}

int
cmd_customer(int argc, char **argv)
{
	if (argc < 1)
		usage_error("customer: say find, show, orders or forget");
	if (strcmp(argv[0], "find") == 0)
		return customer_find(argc - 1, argv + 1);
	if (strcmp(argv[0], "show") == 0)
		return customer_show(argc - 1, argv + 1);
	if (strcmp(argv[0], "orders") == 0)
		return customer_orders(argc - 1, argv + 1);
	if (strcmp(argv[0], "forget") == 0)
		return customer_forget(argc - 1, argv + 1);
	usage_error("customer: unknown subcommand \"%s\" (say find, show, orders or forget)", argv[0]);
}
