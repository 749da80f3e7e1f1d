/*-------------------------------------------------------------------------
 *
 * help.c
 *		The usage text and each command's help, from one table.
 *
 * "icos --help" lists every entry's synopsis and summary; "icos COMMAND
 * --help" shows the entries of that command with their details, and
 * "icos COMMAND SUB --help" the one entry.  A command added to main.c's
 * dispatch table gets its help by one entry here.
 *
 * src/cli/help.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "icos.h"

typedef struct HelpEntry
{
	const char *command;
	const char *sub;			/* NULL for a command without subcommands */
	const char *synopsis;		/* the arguments after "icos COMMAND [SUB]" */
	const char *summary;		/* one line */
	const char *details;		/* options and behaviour, or NULL */
} HelpEntry;

static const HelpEntry help[] = {
	{"product", NULL, "UPC", "product details, price, offers, availability",
	"Everything about a product (icos.product_info).  --json prints its document."},
	{"stock", NULL, "UPC [--store N]", "stock in every store, or in one",
	"Stock of a product in every stock-holding store, or in store N (icos.availability)."},
	{"offers", NULL, "[--on DATE | --week]", "the offers diary (default: today)",
	"--on YYYY-MM-DD  the offers in force that day\n"
	"--week           the seven days from today"},
	{"order", "place", "-f FILE|-", "place an order; prints its code",
	"-f FILE   the order document (icos.place_order's keys) from FILE, or - for standard input.\n"
	"--json    print {\"code\": ...}.\n"
	"The 0.2.0 spelling --json FILE still works this release, with a warning."},
	{"order", "show", "CODE", "an order, its lines, payments and events",
	"The order (icos.order).  --json prints the order document."},
	{"order", "edit", "CODE -f FILE|-", "change an order (see docs/client.md)",
	"-f FILE   the changes (icos.edit_order's keys) from FILE, or - for standard input.\n"
	"--json    print the order document afterwards.\n"
	"The 0.2.0 spelling --json FILE still works this release, with a warning."},
	{"order", "cancel", "CODE --reason TEXT", "cancel an order",
	"Cancels the order (icos.cancel_order) and shows it, with the refund due."},
	{"order", "return", "CODE --lines JSON --reason TEXT", "take back handed-over goods",
	"--lines JSON    the lines returned, [{\"line\": 1, \"qty\": 1}, ...]\n"
	"--reason TEXT   why they came back\n"
	"Returns the goods (icos.return_lines): stock back into the store, refund to the\n"
	"methods paid with.  Shows the order afterwards."},
	{"order", "advance", "CODE STATUS [--note TEXT]", "move an order to a fulfilment step",
	"STATUS is in_progress, dispatched, ready_for_collection or completed\n"
	"(icos.advance_order); --note TEXT goes into the order's history instead of\n"
	"\"old -> new\".  Shows the order afterwards."},
	{"receipt", NULL, "CODE [--reprint]", "print an order's receipt",
	"--reprint   mark the receipt as a reprint"},
	{"note", NULL, "CODE --kind KIND TEXT", "add a manufacturing, dispatch or service note",
	"KIND is manufacturing, dispatch or service; the words after the code are the note."},
	{"customer", "find", "TEXT", "customers by e-mail, phone, or postcode and name",
	"TEXT is an e-mail address, a phone number, or a postcode and part of the name\n"
	"(icos.find_customers: an agent finds the customers of its store)."},
	{"customer", "show", "ID", "everything held about a customer",
	"The subject-access export (icos.customer_export, managers): details, addresses,\n"
	"consents, change log, orders and feedback.  --json prints the export document."},
	{"customer", "orders", "ID", "a customer's orders, newest first",
	"icos.customer_orders: an agent sees the orders of its own store."},
	{"customer", "forget", "ID --reason TEXT", "erase a customer's personal details",
	"Erasure (icos.forget_customer, managers and admins): her name, e-mail, phone and\n"
	"addresses go; orders and payments keep their amounts.  The reason is kept, so it\n"
	"must not hold her details."},
	{"report", NULL, "--from DATE --to DATE [--by GROUPING] [--store N]",
		"sales between two dates (both included)",
		"GROUPING is category (the default), product, store, channel, day, hour,\n"
	"employee or promotion."},
	{"employee", "add", "--id N --name TEXT --store N --position POSITION",
		"create an employee login (password prompted, or ICOS_PASSWORD)",
		"POSITION is agent, manager, admin or reporter.  The password is prompted for\n"
	"twice without echo, or taken from ICOS_PASSWORD; only its SCRAM verifier is sent."},
	{"till", NULL, "--store N", "interactive till reading standard input",
	"Scan or type product codes; type help in the till for its commands."},
	{"node", "init-hq", "", "prepare head office (--dsn HQ) for replication", NULL},
	{"node", "add-hub", "--hq HQ --hub-dsn HUB --node N --name TEXT [--timeout S]",
	"link a regional hub database to head office", NULL},
	{"node", "add-store", "--hq HQ [--hub-dsn HUB] --store-dsn STORE --store N [--name TEXT] [--timeout S]",
		"link a store database to head office or a hub",
	"--hub-dsn HUB   link the store to that hub instead of head office"},
	{"node", "status", "[--json]", "the tree of nodes: link, lag, heartbeat, errors", NULL},
	{"node", "move-store", "--hq HQ --store-dsn STORE --store N [--hub-dsn HUB] [--from-hub-dsn HUB]",
	"re-home a store to another hub or to head office", NULL},
	{"node", "remove-store", "--hq HQ --store N [--store-dsn STORE] [--hub-dsn HUB]", "unlink a store node", NULL},
	{"node", "reseed", "--hq HQ --store-dsn STORE --store N [--hub-dsn HUB]",
	"copy a store node afresh (slot lost, restore, failed hub)", NULL},
	{"node", "heartbeat", "[--every S]", "beat (and process cross-store requests)", NULL},
	{"serve", NULL, "--listen ADDR:PORT [--idle-timeout S] [--max-sessions N]",
		"the agent toolbar in a browser (docs/toolbar.md)",
		"Each browser session logs in as an employee and works through its own\n"
	"connection to the database named by --dsn (or -h -p -d)."},
	{"events", NULL, "[--since TIME | --limit N] [--store N] [--follow]",
		"order events; --follow prints each as it comes",
	"--since TIME   every event since TIME\n"
	"--limit N      the newest N events (default 20)\n"
	"--store N      one selling store's events\n"
	"--follow       then each new event when its transaction commits; after a lost\n"
	"               connection, reconnect and catch up from the log\n"
	"--json         one JSON object per line"},
	{NULL}
};

static const char options_text[] =
"Connection options (anywhere before \"--\"; as psql):\n"
"  --dsn CONNINFO   connection string or URI (default: libpq environment, e.g. PGHOST)\n"
"  -d DBNAME        database name, or a connection string as --dsn\n"
"  -h HOST          server host or socket directory\n"
"  -p PORT          server port\n"
"  -U USER          user name\n"
"\n"
"Other options:\n"
"  --json           machine-readable output; errors as JSON on standard error\n"
"  --help           this text; icos COMMAND [SUB] --help for one command\n"
"  --version        the client's version\n";

static const char exit_text[] =
"Exit status: 0 success, 1 refused by the server or another error, 2 usage error,\n"
"3 could not connect to the server.\n";

static void
print_synopsis(FILE *out, const HelpEntry *e, bool with_summary)
{
	char		line[256];
	int			len;

	len = snprintf(line, sizeof(line), "%s%s%s%s%s", e->command, e->sub ? " " : "",
				   e->sub ? e->sub : "", e->synopsis[0] ? " " : "", e->synopsis);
	if (!with_summary)
		fprintf(out, "  icos %s\n", line);
	else if (len <= 36)
		fprintf(out, "  %-36s %s\n", line, e->summary);
	else
		fprintf(out, "  %s\n  %-36s %s\n", line, "", e->summary);
}

void
print_usage(FILE *out)
{
	fputs("Usage: icos [OPTIONS] COMMAND [ARGS...]\n\nCommands:\n", out);
	for (const HelpEntry *e = help; e->command != NULL; e++)
		print_synopsis(out, e, true);
	fputc('\n', out);
	fputs(options_text, out);
	fputc('\n', out);
	fputs(exit_text, out);
}

/*
 * icos COMMAND [SUB] --help.  An unknown SUB shows the whole command; an
 * unknown COMMAND the usage text.
 */
void
print_command_help(FILE *out, const char *command, const char *sub)
{
	int			shown = 0;
	bool		sub_known = false;

	for (const HelpEntry *e = help; e->command != NULL; e++)
		if (sub && e->sub && strcmp(e->command, command) == 0 && strcmp(e->sub, sub) == 0)
			sub_known = true;
	for (const HelpEntry *e = help; e->command != NULL; e++)
	{
		if (strcmp(e->command, command) != 0 ||
			(sub_known && strcmp(e->sub, sub) != 0))
			continue;
		if (shown++ > 0)
			fputc('\n', out);
		fputs(shown == 1 ? "Usage:\n" : "", out);
		print_synopsis(out, e, false);
		fprintf(out, "\n%c%s.\n", toupper((unsigned char) e->summary[0]), e->summary + 1);
		if (e->details)
		{
			/* details indented by two spaces, line by line */
			const char *p = e->details;

			fputc('\n', out);
			while (*p)
			{
				size_t		n = strcspn(p, "\n");

				fprintf(out, "  %.*s\n", (int) n, p);
				p += n;
				if (*p == '\n')
					p++;
			}
		}
	}
	if (shown == 0)
	{
		print_usage(out);
		return;
	}
	fputs("\nCommon options: --dsn CONNINFO, -d DBNAME, -h HOST, -p PORT, -U USER, --json\n"
		  "(see icos --help).\n", out);
	fputs(exit_text, out);
}
