/*-------------------------------------------------------------------------
 *
 * employee.c
 *		icos employee add: create an employee's login.
 *
 * The password is read without echo from the terminal (twice), or from the
 * environment variable ICOS_PASSWORD.  The client turns it into a
 * SCRAM-SHA-256 verifier with PQencryptPasswordConn() and sends only that:
 * the password itself never leaves this process.
 *
 * src/cli/employee.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icos.h"

static void
forget(char *secret)
{
	if (secret)
	{
		volatile char *p = secret;

		while (*p)
			*p++ = '\0';
		free(secret);
	}
}

/*
 * The new employee's password, or NULL (reported) when there is none.
 */
static char *
get_password(void)
{
	const char *env = getenv("ICOS_PASSWORD");
	char	   *first,
			   *again;

	if (env != NULL)
		return xstrdup(env);
	if (!isatty(STDIN_FILENO))
	{
		client_error("usage", "employee add: standard input is not a terminal, so the password "
					 "cannot be prompted for\n"
					 "HINT: Set the environment variable ICOS_PASSWORD.");
		return NULL;
	}
	first = read_password("New employee's password: ");
	if (first == NULL)
		return NULL;
	again = read_password("Type it again: ");
	if (again == NULL || strcmp(first, again) != 0)
	{
		client_error("usage", "the two passwords differ; nothing was changed");
		forget(first);
		forget(again);
		return NULL;
	}
	forget(again);
	return first;
}

static int
employee_add(int argc, char **argv)
{
	const char *id = NULL,
			   *name = NULL,
			   *store = NULL,
			   *position = NULL;
	const OptSpec specs[] = {
		{"id", true, &id, NULL},
		{"name", true, &name, NULL},
		{"store", true, &store, NULL},
		{"position", true, &position, NULL},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	char		role[32];
	char		idtext[16];
	int			idnum;
	char	   *password;
	char	   *verifier;
	const char *params[5];
	PGconn	   *conn;
	PGresult   *res;

	parse_command_args("employee add", argc, argv, specs, NULL, 0, 0);
	if (!id || !name || !store || !position)
		usage_error("employee add: --id, --name, --store and --position are all required");
	idnum = parse_int_arg("employee add", "--id", id);
	snprintf(idtext, sizeof(idtext), "%d", idnum);
	snprintf(role, sizeof(role), "emp_%d", idnum);
	parse_int_arg("employee add", "--store", store);

	password = get_password();
	if (password == NULL)
		return EXIT_USAGE;
	if (password[0] == '\0')
	{
		forget(password);
		usage_error("employee add: the password may not be empty");
	}

	conn = connect_or_exit();
	verifier = PQencryptPasswordConn(conn, password, role, "scram-sha-256");
	forget(password);
	if (verifier == NULL)
	{
		client_error("client", "could not compute the password verifier: %s",
					 PQerrorMessage(conn));
		disconnect(conn);
		return EXIT_REFUSED;
	}
	params[0] = idtext;
	params[1] = name;
	params[2] = store;
	params[3] = position;
	params[4] = verifier;
	res = run_query(conn, "SELECT icos.create_employee($1::int, $2, $3::int, $4, $5)",
					5, params);
	PQfreemem(verifier);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	PQclear(res);
	if (opts.json)
	{
		StrBuf		sb;

		sb_init(&sb);
		sb_append(&sb, "{\"employee_id\": ");
		sb_append(&sb, idtext);
		sb_append(&sb, ", \"role\": ");
		sb_json_string(&sb, role);
		sb_append(&sb, "}");
		printf("%s\n", sb.data);
		sb_free(&sb);
	}
	else
		printf("Employee %s (%s) created; they log in as %s.\n", idtext, name, role);
	disconnect(conn);
	return EXIT_OK;
}

int
cmd_employee(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "add") != 0)
		usage_error("employee: the only subcommand is \"add\"");
	return employee_add(argc - 1, argv + 1);
}
