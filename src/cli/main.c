/*-------------------------------------------------------------------------
 *
 * main.c
 *		The icos command: global options, dispatch and exit statuses.
 *
 *	icos [--dsn CONNINFO | -d DBNAME] [-h HOST] [-p PORT] [-U USER] [--json]
 *		 COMMAND [ARGS...]
 *
 * The connection options may come anywhere before "--"; --json before the
 * command or after it.  Exit status: 0 success, 1 a refusal or error
 * reported by the server (or a client-side failure), 2 a bad command line,
 * 3 no connection to the server.  "icos COMMAND [SUB] --help" prints that
 * command's help (help.c).
 *
 * src/cli/main.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
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
	{"customer", cmd_customer},
	{"events", cmd_events},
	{"serve", cmd_serve},
	{NULL, NULL}
};

void
usage_error(const char *fmt,...)
{
	va_list		ap;

	if (opts.json || opts.json_errors)
	{
		StrBuf		sb;
		char		buf[1024];

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		sb_init(&sb);
		sb_append(&sb, "{\"error\": \"usage\", \"message\": ");
		sb_json_string(&sb, buf);
		sb_append(&sb, "}\n");
		fputs(sb.data, stderr);
		sb_free(&sb);
		exit(EXIT_USAGE);
	}
	fputs("icos: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	print_usage(stderr);
	exit(EXIT_USAGE);
}

/*
 * A connection option (--dsn, -d, -h, -p, -U and their long psql names) at
 * argv[*i]: stores its value, moves *i past it and returns true.
 */
static bool
connection_option(int argc, char **argv, int *i)
{
	static const struct
	{
		const char *shortname;
		const char *longname;
		const char **value;
	}			conn_opts[] = {
		{NULL, "dsn", &opts.dsn},
		{"-d", "dbname", &opts.dsn},
		{"-h", "host", &opts.host},
		{"-p", "port", &opts.port},
		{"-U", "username", &opts.user},
	};
	const char *arg = argv[*i];

	for (size_t k = 0; k < sizeof(conn_opts) / sizeof(conn_opts[0]); k++)
	{
		size_t		len = strlen(conn_opts[k].longname);
		const char *value = NULL;
		const char *shown = arg;

		if (conn_opts[k].shortname && strcmp(arg, conn_opts[k].shortname) == 0)
			;
		else if (strncmp(arg, "--", 2) == 0 &&
				 strncmp(arg + 2, conn_opts[k].longname, len) == 0 &&
				 (arg[2 + len] == '\0' || arg[2 + len] == '='))
		{
			if (arg[2 + len] == '=')
				value = arg + 3 + len;
		}
		else
			continue;
		if (value == NULL)
		{
			if (*i + 1 >= argc)
				usage_error("option %s needs a value", shown);
			value = argv[++*i];
		}
		*conn_opts[k].value = value;
		return true;
	}
	return false;
}

/*
 * Will errors be JSON?  --json anywhere before "--" asks for it, except
 * the old input spelling "order place|edit --json FILE".
 */
static bool
json_requested(int nrest, char **rest, int cmd)
{
	int			legacy = -1;

	if (cmd + 1 < nrest && strcmp(rest[cmd], "order") == 0 &&
		(strcmp(rest[cmd + 1], "place") == 0 || strcmp(rest[cmd + 1], "edit") == 0))
	{
		int			k = legacy_json_input(nrest - cmd - 2, rest + cmd + 2);

		if (k >= 0)
			legacy = cmd + 2 + k;
	}
	for (int i = cmd + 1; i < nrest; i++)
	{
		if (strcmp(rest[i], "--") == 0)
			break;
		if (strcmp(rest[i], "--json") == 0 && i != legacy)
			return true;
	}
	return false;
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
	cancel_install_handler();

	/*
	 * First pass: the global options.  The connection options are taken from
	 * anywhere (before "--"); --json, --help and --version before the
	 * command.
	 */
	rest = xmalloc(sizeof(char *) * (argc + 1));
	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];

		if (!options_done && strcmp(arg, "--") == 0)
			options_done = true;
		else if (!options_done && connection_option(argc, argv, &i))
			continue;
		else if (cmd < 0 && strcmp(arg, "--json") == 0)
		{
			opts.json = true;
			continue;
		}
		else if (cmd < 0 && strcmp(arg, "--help") == 0)
		{
			print_usage(stdout);
			return EXIT_OK;
		}
		else if (cmd < 0 && strcmp(arg, "--version") == 0)
		{
			int			v = PQlibVersion();

			printf("icos %s (libpq %d.%d)\n", ICOS_VERSION, v / 10000, v % 10000);
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
	opts.json_errors = json_requested(nrest, rest, cmd);

	/* icos COMMAND [SUB] ... --help */
	for (int i = cmd + 1; i < nrest && strcmp(rest[i], "--") != 0; i++)
	{
		if (strcmp(rest[i], "--help") == 0)
		{
			print_command_help(stdout, rest[cmd],
							   cmd + 1 < nrest && rest[cmd + 1][0] != '-' ? rest[cmd + 1] : NULL);
			return EXIT_OK;
		}
	}

	for (const Command *c = commands; c->name != NULL; c++)
	{
		if (strcmp(c->name, rest[cmd]) == 0)
		{
			int			status = c->run(nrest - cmd - 1, rest + cmd + 1);

			if (fflush(stdout) != 0)
			{
				client_error("client", "could not write output: %s", strerror(errno));
				status = EXIT_REFUSED;
			}
			free(rest);
			return status;
		}
	}
	usage_error("unknown command \"%s\"", rest[cmd]);
}
