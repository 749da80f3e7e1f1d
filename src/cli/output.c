/*-------------------------------------------------------------------------
 *
 * output.c
 *		Output for people: aligned tables, labelled fields and money.
 *
 * Money arrives from the server as numeric text in pounds ("1234.5",
 * "-5.50") and is shown as £1,234.50 / -£5.50.  It is handled as integer
 * pence, never as a floating-point number.
 *
 * src/cli/output.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icos.h"

/*
 * Columns a UTF-8 string takes on a terminal, by libpq's PQdsplen as psql
 * counts them: two for East Asian wide characters (CJK names), none for
 * combining marks and control characters.  The client's own output is
 * UTF-8 (the pound sign), and so is what it shows of the server's text.
 */
int
display_width(const char *s)
{
	static int	utf8 = -1;
	int			w = 0;

	if (utf8 < 0)
		utf8 = pg_char_to_encoding("UTF8");
	while (*s)
	{
		int			len = PQmblen(s, utf8);
		int			i;

		/* a sequence cut short (not valid UTF-8) counts one column a byte */
		for (i = 1; i < len; i++)
			if ((s[i] & 0xC0) != 0x80)
				break;
		if (i < len)
		{
			w++;
			s++;
			continue;
		}
		w += PQdsplen(s, utf8) > 0 ? PQdsplen(s, utf8) : 0;
		s += len;
	}
	return w;
}

/*
 * Parse an amount of pounds: an optional minus sign, digits, and an
 * optional point followed by one or two digits.  Nothing else (no sign
 * on its own, no exponent, no third decimal, at most 12 digits of pounds).
 */
bool
parse_money(const char *text, int64_t *pence)
{
	const char *p = text;
	bool		negative = false;
	int64_t		pounds = 0;
	int64_t		frac = 0;
	int			ndigits = 0;

	if (*p == '-')
	{
		negative = true;
		p++;
	}
	while (isdigit((unsigned char) *p))
	{
		if (++ndigits > 12)
			return false;
		pounds = pounds * 10 + (*p - '0');
		p++;
	}
	if (*p == '.')
	{
		int			nfrac = 0;

		p++;
		while (isdigit((unsigned char) *p))
		{
			if (++nfrac > 2)
				return false;
			frac = frac * 10 + (*p - '0');
			p++;
		}
		if (nfrac == 0)
			return false;
		if (nfrac == 1)
			frac *= 10;
	}
	if (*p != '\0' || ndigits == 0)
		return false;
	*pence = (pounds * 100 + frac) * (negative ? -1 : 1);
	return true;
}

/*
 * £1,234.50 (or -£5.50) into buf.
 */
const char *
format_pence(int64_t pence, char *buf, size_t len)
{
	char		digits[32];
	char		grouped[48];
	uint64_t	abs = pence < 0 ? (uint64_t) (-(pence + 1)) + 1 : (uint64_t) pence;
	int			n,
				g = 0;

	n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long) (abs / 100));
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && (n - i) % 3 == 0)
			grouped[g++] = ',';
		grouped[g++] = digits[i];
	}
	grouped[g] = '\0';
	snprintf(buf, len, "%s\u00a3%s.%02u", pence < 0 ? "-" : "", grouped,
			 (unsigned) (abs % 100));
	return buf;
}

/*
 * Numeric text from the server shown as money; anything that is not an
 * amount of pounds (which the server never sends) is shown as it is.
 */
const char *
format_money(const char *numeric_text, char *buf, size_t len)
{
	int64_t		pence;

	if (numeric_text == NULL || numeric_text[0] == '\0')
		snprintf(buf, len, "%s", "");
	else if (parse_money(numeric_text, &pence))
		format_pence(pence, buf, len);
	else
		snprintf(buf, len, "%s", numeric_text);
	return buf;
}

static const char *
cell_text(ColumnKind kind, const char *value, char *buf, size_t len)
{
	switch (kind)
	{
		case COL_MONEY:
			return format_money(value, buf, len);
		case COL_BOOL:
			if (strcmp(value, "t") == 0)
				return "yes";
			if (strcmp(value, "f") == 0)
				return "no";
			return value;
		default:
			return value;
	}
}

/*
 * Print cells (nrows x ncols, row-major; NULL shown empty) as an aligned
 * table with a header and a rule.  Numbers and money are right aligned.
 */
void
print_table(const Column *cols, int ncols, int nrows, const char *const *cells)
{
	int		   *width = xmalloc(sizeof(int) * ncols);
	char	  **shown = xmalloc(sizeof(char *) * ((size_t) ncols * nrows + 1));

	for (int c = 0; c < ncols; c++)
		width[c] = display_width(cols[c].title);
	for (int r = 0; r < nrows; r++)
	{
		for (int c = 0; c < ncols; c++)
		{
			char		buf[MONEY_BUFLEN];
			const char *v = cells[r * ncols + c] ? cells[r * ncols + c] : "";
			int			w;

			shown[r * ncols + c] = xstrdup(cell_text(cols[c].kind, v, buf, sizeof(buf)));
			w = display_width(shown[r * ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	}

	for (int r = -2; r < nrows; r++)
	{
		for (int c = 0; c < ncols; c++)
		{
			const char *v;
			bool		right = cols[c].kind == COL_NUM || cols[c].kind == COL_MONEY;
			int			pad;

			if (r == -2)
				v = cols[c].title;
			else if (r == -1)
				v = NULL;
			else
				v = shown[r * ncols + c];
			if (c > 0)
				fputs("  ", stdout);
			if (v == NULL)
			{
				for (int i = 0; i < width[c]; i++)
					putchar('-');
				continue;
			}
			pad = width[c] - display_width(v);
			if (right)
				printf("%*s", pad, "");
			fputs(v, stdout);
			if (!right && c < ncols - 1)
				printf("%*s", pad, "");
		}
		putchar('\n');
	}

	for (int i = 0; i < ncols * nrows; i++)
		free(shown[i]);
	free(shown);
	free(width);
}

/*
 * A query result as a table; the result must have ncols columns.
 */
void
print_result_table(const PGresult *res, const Column *cols, int ncols)
{
	int			nrows = PQntuples(res);
	const char **cells = xmalloc(sizeof(char *) * ((size_t) nrows * ncols + 1));

	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++)
			cells[r * ncols + c] = c < PQnfields(res) && !PQgetisnull(res, r, c) ?
				PQgetvalue(res, r, c) : NULL;
	print_table(cols, ncols, nrows, cells);
	free(cells);
}

/*
 * "Label:        value", aligned for a block of fields; empty values are
 * not shown.
 */
void
print_field(const char *label, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	printf("%-15s %s\n", label, value);
}
