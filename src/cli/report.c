/*-------------------------------------------------------------------------
 *
 * report.c
 *		icos report: sales between two dates through icos.sales_report.
 *
 * --from and --to are days; both are included (the report runs from the
 * start of --from to the end of --to in the session's time zone).
 *
 * src/cli/report.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

static const char *const groupings[] = {
	"category", "product", "store", "channel", "day", "hour", "employee", "promotion", NULL
};

int
cmd_report(int argc, char **argv)
{
	const char *from = NULL,
			   *to = NULL,
			   *by = "category",
			   *store = NULL;
	const OptSpec specs[] = {
		{"from", true, &from, NULL},
		{"to", true, &to, NULL},
		{"by", true, &by, NULL},
		{"store", true, &store, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	static const Column columns[] = {
		{"Key", COL_TEXT}, {"Label", COL_TEXT}, {"Orders", COL_NUM}, {"Units", COL_NUM},
		{"Gross", COL_MONEY}, {"Discount", COL_MONEY}, {"Net", COL_MONEY},
		{"Returns", COL_MONEY}
	};
	const char *params[4];
	bool		known = false;
	PGconn	   *conn;
	PGresult   *res;

	parse_command_args("report", argc, argv, specs, NULL, 0, 0);
	if (from == NULL || to == NULL)
		usage_error("report: --from DATE and --to DATE are required");
	if (!is_date(from) || !is_date(to))
		usage_error("report: dates are written YYYY-MM-DD");
	for (int i = 0; groupings[i]; i++)
		known = known || strcmp(by, groupings[i]) == 0;
	if (!known)
		usage_error("report: --by is one of category, product, store, channel, day, hour, "
					"employee or promotion, not \"%s\"", by);
	if (store)
		parse_int_arg("report", "--store", store);

	conn = connect_or_exit();
	if (!require_function(conn, "icos.sales_report(timestamptz,timestamptz,text,integer,text)",
						  "sales reports", "reports"))
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	params[0] = from;
	params[1] = to;
	params[2] = by;
	params[3] = store;
	if (opts.json)
		res = run_query(conn,
						"SELECT pg_catalog.jsonb_pretty(coalesce(pg_catalog.jsonb_agg("
						"         pg_catalog.to_jsonb(r)), '[]'))"
						"  FROM icos.sales_report($1::date::timestamptz,"
						"       ($2::date + 1)::timestamptz, $3, $4::int) r",
						4, params);
	else
		res = run_query(conn,
						"SELECT r.key, r.label, r.orders, r.units, r.gross::numeric(12,2),"
						"       r.discount::numeric(12,2), r.net::numeric(12,2),"
						"       r.returns::numeric(12,2)"
						"  FROM icos.sales_report($1::date::timestamptz,"
						"       ($2::date + 1)::timestamptz, $3, $4::int) r",
						4, params);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (opts.json)
		printf("%s\n", PQgetvalue(res, 0, 0));
	else if (PQntuples(res) == 0)
		printf("No sales between %s and %s.\n", from, to);
	else
		print_result_table(res, columns, 8);
	PQclear(res);
	disconnect(conn);
	return EXIT_OK;
}
