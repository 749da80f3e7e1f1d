/*-------------------------------------------------------------------------
 *
 * main.c
 *		The icos command: global options, dispatch and exit statuses.
 *
 *	icos [--dsn CONNINFO] [--json] COMMAND [ARGS...]
 *
 * --dsn may also come after the command; --json before the command, or
 * after it for every command except "order place" and "order edit", whose
 * --json names the input file.  Exit status: 0 success, 1 a refusal or
 * error reported by the server (or no server), 2 a bad command line.
 *
 * src/cli/main.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

GlobalOptions opts;

typedef struct Command
{
	const char *name;
	int			(*run) (int argc, char **argv);
} Command;

static const Command commands[] = {
	{"product", cmd_product},
	{"stock", cmd_stock},
	{"offers", cmd_offers},
	{"order", cmd_order},
	{"receipt", cmd_receipt},
	{"note", cmd_note},
	{"report", cmd_report},
	{"employee", cmd_employee},
	{"till", cmd_till},
	{"node", cmd_node},
	{"serve", cmd_serve},
	{NULL, NULL}
};

void
print_usage(FILE *out)
{
	fputs("Usage: icos [--dsn CONNINFO] [--json] COMMAND [ARGS...]\n"
		  "\n"
		  "Commands:\n"
		  "  product UPC                          product details, price, offers, availability\n"
		  "  stock UPC [--store N]                stock in every store, or in one\n"
		  "  offers [--on DATE | --week]          the offers diary (default: today)\n"
		  "  order place --json FILE|-            place an order; prints its code\n"
		  "  order show CODE                      an order, its lines, payments and events\n"
		  "  order edit CODE --json FILE|-        change an order (see docs/client.md)\n"
		  "  order cancel CODE --reason TEXT      cancel an order\n"
		  "  receipt CODE [--reprint]             print an order's receipt\n"
		  "  note CODE --kind KIND TEXT           add a manufacturing, dispatch or service note\n"
		  "  report --from DATE --to DATE [--by GROUPING] [--store N]\n"
		  "                                       sales between two dates (both included)\n"
		  "  employee add --id N --name TEXT --store N --position POSITION\n"
		  "                                       create an employee login (password prompted,\n"
		  "                                       or ICOS_PASSWORD)\n"
		  "  till --store N                       interactive till reading standard input\n"
		  "  node init-hq                         prepare head office (--dsn HQ) for replication\n"
		  "  node add-hub --hq HQ --hub-dsn HUB --node N --name TEXT [--timeout S]\n"
		  "                                       link a regional hub database to head office\n"
		  "  node add-store --hq HQ [--hub-dsn HUB] --store-dsn STORE --store N [--name TEXT]\n"
		  "                [--timeout S]          link a store database to head office or a hub\n"
		  "  node status                          the tree of nodes: link, lag, heartbeat, errors\n"
		  "  node remove-store --hq HQ --store N [--store-dsn STORE]\n"
		  "                                       unlink a store node\n"
		  "  node reseed --hq HQ --store-dsn STORE --store N\n"
		  "                                       copy a store node afresh (slot lost, restore)\n"
		  "  node heartbeat [--every S]           beat (and process cross-store requests)\n"
		  "  serve --listen ADDR:PORT             the agent toolbar in a browser (docs/toolbar.md)\n"
		  "\n"
		  "Options:\n"
		  "  --dsn CONNINFO   connection string or URI (default: libpq environment, e.g. PGHOST)\n"
		  "  --json           machine-readable output\n"
		  "  --help           this text\n"
		  "\n"
		  "Exit status: 0 success, 1 refused by the server or server error, 2 usage error.\n",
		  out);
}

void
usage_error(const char *fmt,...)
{
	va_list		ap;

	fputs("icos: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	print_usage(stderr);
	exit(EXIT_USAGE);
}

int
main(int argc, char **argv)
{
	char	  **rest;
	int			nrest = 0;
	int			cmd = -1;
	bool		options_done = false;

	/*
	 * Line by line even into a pipe or a file, so progress and results keep
	 * their order with the server's notices and errors on stderr.
	 */
	setvbuf(stdout, NULL, _IOLBF, 0);

	/*
	 * First pass: the global options.  --dsn is taken from anywhere (before
	 * "--"); --json and --help before the command.
	 */
	rest = xmalloc(sizeof(char *) * (argc + 1));
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];

		if (!options_done && strcmp(arg, "--") == 0)
			options_done = true;
		else if (!options_done && strcmp(arg, "--dsn") == 0)
		{
			if (i + 1 >= argc)
				usage_error("option --dsn needs a value");
			opts.dsn = argv[++i];
			continue;
		}
		else if (!options_done && strncmp(arg, "--dsn=", 6) == 0)
		{
			opts.dsn = arg + 6;
			continue;
		}
		else if (cmd < 0 && strcmp(arg, "--json") == 0)
		{
			opts.json = true;
			continue;
		}
		else if (cmd < 0 && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0))
		{
			print_usage(stdout);
			return EXIT_OK;
		}
		else if (cmd < 0 && arg[0] == '-')
			usage_error("unknown option \"%s\"", arg);
		else if (cmd < 0)
		{
			cmd = nrest;
			rest[nrest++] = argv[i];
			continue;
		}
		/* --json after the command is the command's own option */
		rest[nrest++] = argv[i];
	}
	rest[nrest] = NULL;

	if (cmd < 0)
		usage_error("no command given");
	if (cmd + 1 < nrest && strcmp(rest[cmd + 1], "--help") == 0)
	{
		print_usage(stdout);
		return EXIT_OK;
	}

	for (const Command *c = commands; c->name != NULL; c++)
	{
		if (strcmp(c->name, rest[cmd]) == 0)
		{
			int			status = c->run(nrest - cmd - 1, rest + cmd + 1);

			if (fflush(stdout) != 0)
			{
				perror("icos: could not write output");
				status = EXIT_REFUSED;
			}
			free(rest);
			return status;
		}
	}
	usage_error("unknown command \"%s\"", rest[cmd]);
}
