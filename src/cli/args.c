/*-------------------------------------------------------------------------
 *
 * args.c
 *		Option parsing for the icos subcommands.
 *
 * Every subcommand takes long options ("--store 3" or "--store=3") and
 * positional arguments in any order; "--" ends the options.  An option
 * whose name is one letter is written with one dash: "-f FILE".  Anything not
 * understood is a usage error (exit status 2), reported before the client
 * connects to the server.
 *
 * src/cli/args.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

/*
 * Parse argv (the words after the subcommand) against specs, a table ended
 * by an entry with a NULL name.  Positional arguments are stored in
 * positional[]; there must be between min_pos and max_pos of them.  Returns
 * the number of positional arguments.
 */
int
parse_command_args(const char *command, int argc, char **argv,
				   const OptSpec *specs, char **positional,
				   int min_pos, int max_pos)
{
	int			npos = 0;
	bool		options_done = false;

	for (int i = 0; i < argc; i++)
	{
		const char *arg = argv[i];

		if (!options_done && strcmp(arg, "--") == 0)
		{
			options_done = true;
			continue;
		}
		if (!options_done && (strncmp(arg, "--", 2) == 0 ||
							  (arg[0] == '-' && isalpha((unsigned char) arg[1]) && arg[2] == '\0')))
		{
			bool		is_short = arg[1] != '-';
			const char *name = arg + (is_short ? 1 : 2);
			const char *eq = is_short ? NULL : strchr(name, '=');
			size_t		namelen = eq ? (size_t) (eq - name) : strlen(name);
			const OptSpec *spec = NULL;

			for (const OptSpec *s = specs; s->name != NULL; s++)
			{
				if (strlen(s->name) == namelen && strncmp(s->name, name, namelen) == 0 &&
					(namelen == 1) == is_short)
				{
					spec = s;
					break;
				}
			}
			if (spec == NULL)
				usage_error("%s: unknown option \"%s\"", command, arg);
			if (spec->has_arg)
			{
				if (eq)
					*spec->value = eq + 1;
				else if (i + 1 < argc)
					*spec->value = argv[++i];
				else
					usage_error("%s: option %s needs a value", command, arg);
			}
			else
			{
				if (eq)
					usage_error("%s: option --%s takes no value", command, spec->name);
				*spec->flag = true;
			}
			continue;
		}
		if (npos >= max_pos)
			usage_error("%s: unexpected argument \"%s\"", command, arg);
		positional[npos++] = argv[i];
	}
	if (npos < min_pos)
		usage_error("%s: missing argument", command);
	return npos;
}

/*
 * The spelling of 0.2.0 for an input document, "--json FILE" (or
 * "--json=FILE", "--json -"), kept for one release: when argv (the words
 * after the subcommand) has no -f and a --json followed by a file name,
 * returns the index of that --json; otherwise -1 (--json is the output
 * option).
 */
int
legacy_json_input(int argc, char **argv)
{
	int			found = -1;

	for (int i = 0; i < argc; i++)
	{
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-f") == 0)
			return -1;
		if (found < 0 && strncmp(argv[i], "--json=", 7) == 0)
			found = i;
		else if (found < 0 && strcmp(argv[i], "--json") == 0 && i + 1 < argc &&
				 (argv[i + 1][0] != '-' || strcmp(argv[i + 1], "-") == 0))
			found = i;
	}
	return found;
}

/*
 * A whole number given on the command line (a store, an employee id).
 */
int
parse_int_arg(const char *command, const char *what, const char *text)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (text[0] == '\0' || isspace((unsigned char) text[0]) || *end != '\0' ||
		errno != 0 || v < INT_MIN || v > INT_MAX)
		usage_error("%s: %s must be a whole number, not \"%s\"", command, what, text);
	return (int) v;
}

/*
 * The shape of a date, YYYY-MM-DD.  The server checks that it is a real day.
 */
bool
is_date(const char *text)
{
	static const char shape[] = "dddd-dd-dd";

	if (strlen(text) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
	{
		if (shape[i] == 'd' ? !isdigit((unsigned char) text[i]) : text[i] != shape[i])
			return false;
	}
	return true;
}
