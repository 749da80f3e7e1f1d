/*-------------------------------------------------------------------------
 *
 * product.c
 *		icos product, icos stock and icos offers.
 *
 * Each command makes one call to the API (icos.product_info,
 * icos.availability, icos.offers) and renders what it returns; the
 * rendering queries work on the returned document only.
 *
 * src/cli/product.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

/* One value of a one-row result, or NULL. */
static const char *
value(const PGresult *res, int col)
{
	return PQntuples(res) > 0 && !PQgetisnull(res, 0, col) ? PQgetvalue(res, 0, col) : NULL;
}

static const Column availability_columns[] = {
	{"Store", COL_NUM}, {"Name", COL_TEXT}, {"On hand", COL_NUM},
	{"Reserved", COL_NUM}, {"Available", COL_NUM}, {"On display", COL_BOOL},
	{"Lead time (days)", COL_NUM}
};

#define AVAILABILITY_FROM_JSON \
	"SELECT a.store_id, a.store_name, a.on_hand, a.reserved, a.available, a.on_display," \
	"       a.lead_time_days" \
	"  FROM pg_catalog.jsonb_to_recordset($1::jsonb) AS a(store_id int, store_name text," \
	"       on_hand int, reserved int, available int, on_display boolean, lead_time_days int)" \
	" ORDER BY a.store_id"

int
cmd_product(int argc, char **argv)
{
	char	   *pos[1];
	PGconn	   *conn;
	PGresult   *res;
	PGresult   *view;
	const char *params[1];
	char		doc_sql[] = "SELECT icos.product_info($1)::text";
	char		money[MONEY_BUFLEN];
	const OptSpec specs[] = {
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	int			status = EXIT_OK;

	parse_command_args("product", argc, argv, specs, pos, 1, 1);
	conn = connect_or_exit();
	params[0] = pos[0];
	res = run_query(conn, doc_sql, 1, params);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	params[0] = PQgetvalue(res, 0, 0);
	if (opts.json)
	{
		view = run_query(conn, "SELECT pg_catalog.jsonb_pretty($1::jsonb)", 1, params);
		if (view)
			printf("%s\n", PQgetvalue(view, 0, 0));
		else
			status = EXIT_REFUSED;
		PQclear(view);
		PQclear(res);
		disconnect(conn);
		return status;
	}

	view = run_query(conn,
					 "SELECT d->>'upc', d->>'name',"
					 "       (SELECT pg_catalog.string_agg(e, ' > ' ORDER BY n)"
					 "          FROM pg_catalog.jsonb_array_elements_text(d->'category_path')"
					 "               WITH ORDINALITY AS p(e, n)),"
					 "       (d->>'price')::numeric(12,2)::text,"
					 "       (d->>'lead_time_days') || ' days',"
					 "       CASE WHEN (d->>'made_to_order')::boolean THEN 'yes' ELSE 'no' END,"
					 "       CASE WHEN (d->>'active')::boolean THEN 'yes' ELSE 'no (withdrawn)' END,"
					 "       d->>'description',"
					 "       (SELECT pg_catalog.string_agg(coalesce(o->>'description', o->>'name', o::text), '; ')"
					 "          FROM pg_catalog.jsonb_array_elements(d->'offers') o),"
					 "       (SELECT pg_catalog.string_agg(a->>'store_name', ', ' ORDER BY (a->>'store_id')::int)"
					 "          FROM pg_catalog.jsonb_array_elements(d->'availability') a"
					 "         WHERE (a->>'on_display')::boolean),"
					 "       (d->'availability')::text"
					 "  FROM (SELECT $1::jsonb AS d) s",
					 1, params);
	if (view == NULL)
	{
		PQclear(res);
		disconnect(conn);
		return EXIT_REFUSED;
	}
	print_field("Product:", value(view, 0));
	print_field("Name:", value(view, 1));
	print_field("Category:", value(view, 2));
	print_field("Price:", format_money(value(view, 3), money, sizeof(money)));
	print_field("Lead time:", value(view, 4));
	print_field("Made to order:", value(view, 5));
	print_field("Active:", value(view, 6));
	print_field("Description:", value(view, 7));
	print_field("Offers now:", value(view, 8) ? value(view, 8) : "none");
	print_field("On display at:", value(view, 9) ? value(view, 9) : "no store");
	printf("\n");

	params[0] = value(view, 10) ? value(view, 10) : "[]";
	{
		PGresult   *avail = run_query(conn, AVAILABILITY_FROM_JSON, 1, params);

		if (avail)
			print_result_table(avail, availability_columns, 7);
		else
			status = EXIT_REFUSED;
		PQclear(avail);
	}
	PQclear(view);
	PQclear(res);
	disconnect(conn);
	return status;
}

int
cmd_stock(int argc, char **argv)
{
	char	   *pos[1];
	const char *store = NULL;
	const char *params[2];
	PGconn	   *conn;
	PGresult   *res;
	const OptSpec specs[] = {
		{"store", true, &store, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};

	parse_command_args("stock", argc, argv, specs, pos, 1, 1);
	if (store)
		parse_int_arg("stock", "--store", store);
	conn = connect_or_exit();
	params[0] = pos[0];
	params[1] = store;
	if (opts.json)
		res = run_query(conn,
						"SELECT pg_catalog.jsonb_pretty(coalesce(pg_catalog.jsonb_agg("
						"         pg_catalog.to_jsonb(a) ORDER BY a.store_id), '[]'))"
						"  FROM icos.availability($1, $2::int) a",
						2, params);
	else
		res = run_query(conn,
						"SELECT a.store_id, a.store_name, a.on_hand, a.reserved, a.available,"
						"       a.on_display, a.lead_time_days"
						"  FROM icos.availability($1, $2::int) a ORDER BY a.store_id",
						2, params);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (opts.json)
		printf("%s\n", PQgetvalue(res, 0, 0));
	else
		print_result_table(res, availability_columns, 7);
	PQclear(res);
	disconnect(conn);
	return EXIT_OK;
}

int
cmd_offers(int argc, char **argv)
{
	const char *on = NULL;
	bool		week = false;
	const char *params[2];
	PGconn	   *conn;
	PGresult   *res;
	const OptSpec specs[] = {
		{"on", true, &on, NULL},
		{"week", false, NULL, &week},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	static const Column columns[] = {
		{"Day", COL_TEXT}, {"Offer", COL_NUM}, {"Name", COL_TEXT},
		{"Description", COL_TEXT}, {"Starts", COL_TEXT}, {"Ends", COL_TEXT}
	};

	parse_command_args("offers", argc, argv, specs, NULL, 0, 0);
	if (on && week)
		usage_error("offers: give --on DATE or --week, not both");
	if (on && !is_date(on))
		usage_error("offers: --on needs a date as YYYY-MM-DD, not \"%s\"", on);
	conn = connect_or_exit();
	if (!require_function(conn, "icos.offers(date,date,integer)",
						  "offers diary", "promotions"))
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	/* --on DATE: that day; --week: seven days from today; default today */
	params[0] = on;
	params[1] = week ? "6" : "0";
	if (opts.json)
		res = run_query(conn,
						"WITH d AS (SELECT coalesce($1::date, CURRENT_DATE) AS f)"
						"SELECT pg_catalog.jsonb_pretty(coalesce(pg_catalog.jsonb_agg("
						"         pg_catalog.to_jsonb(o) ORDER BY o.day, o.promotion_id), '[]'))"
						"  FROM d, icos.offers(d.f, d.f + $2::int) o",
						2, params);
	else
		res = run_query(conn,
						"WITH d AS (SELECT coalesce($1::date, CURRENT_DATE) AS f)"
						"SELECT o.day, o.promotion_id, o.name, o.description,"
						"       pg_catalog.to_char(o.starts_at, 'YYYY-MM-DD HH24:MI'),"
						"       pg_catalog.to_char(o.ends_at, 'YYYY-MM-DD HH24:MI')"
						"  FROM d, icos.offers(d.f, d.f + $2::int) o"
						" ORDER BY o.day, o.promotion_id",
						2, params);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (opts.json)
		printf("%s\n", PQgetvalue(res, 0, 0));
	else if (PQntuples(res) == 0)
		printf("No offers.\n");
	else
		print_result_table(res, columns, 6);
	PQclear(res);
	disconnect(conn);
	return EXIT_OK;
}
