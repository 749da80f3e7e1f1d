/*-------------------------------------------------------------------------
 *
 * cardscan.c
 *	  Server-free detection of payment card numbers in free text; the rule
 *	  is described in cardscan.h.
 *
 *-------------------------------------------------------------------------
 */
#include "cardscan.h"

/*
 * A run is read into a buffer of this many digits; a longer run is checked
 * in pieces of this size (each piece on group boundaries as usual), which
 * finds every card number that lies within one piece.
 */
#define RUN_MAX_DIGITS 256

/* Separator characters allowed between two groups of one run. */
#define MAX_SEPARATORS 3

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '-' || c == '.';
}

bool
card_luhn_ok(const unsigned char *digits, size_t n)
{
	unsigned	sum = 0;
	size_t		i;

	/* Double every second digit counting from the rightmost. */
	for (i = 0; i < n; i++)
	{
		unsigned	d = digits[n - 1 - i];

		if (i % 2 == 1)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/*
 * Check one run: digits[0 .. ndigits) with group boundaries at bound[0 ..
 * nbound) (bound[0] = 0, the last = ndigits).
 */
static bool
run_has_card(const unsigned char *digits, const int *bound, int nbound)
{
	int			i,
				j;

	for (i = 0; i < nbound - 1; i++)
	{
		if (digits[bound[i]] == 0)
			continue;			/* no card number starts with 0 */
		for (j = i + 1; j < nbound; j++)
		{
			int			n = bound[j] - bound[i];

			if (n > CARD_MAX_DIGITS)
				break;
			if (n >= CARD_MIN_DIGITS && card_luhn_ok(digits + bound[i], n))
				return true;
		}
	}
	return false;
}

bool
card_number_in_text(const char *text, size_t len)
{
	unsigned char digits[RUN_MAX_DIGITS];
	int			bound[RUN_MAX_DIGITS + 1];
	int			ndigits = 0;
	int			nbound = 0;
	size_t		i = 0;

	while (i <= len)
	{
		if (i < len && is_digit(text[i]))
		{
			if (ndigits == RUN_MAX_DIGITS)
			{
				/* Check this piece and go on with a new one. */
				if (bound[nbound - 1] != ndigits)
					bound[nbound++] = ndigits;
				if (run_has_card(digits, bound, nbound))
					return true;
				ndigits = 0;
				nbound = 0;
			}
			if (ndigits == 0)
				bound[nbound++] = 0;
			digits[ndigits++] = (unsigned char) (text[i] - '0');
			i++;
			continue;
		}
		if (ndigits > 0 && i < len && is_separator(text[i]))
		{
			size_t		k = i;

			while (k < len && k - i < MAX_SEPARATORS + 1 && is_separator(text[k]))
				k++;
			if (k < len && k - i <= MAX_SEPARATORS && is_digit(text[k]))
			{
				/* The run goes on after a group boundary. */
				bound[nbound++] = ndigits;
				i = k;
				continue;
			}
		}
		/* The run (if any) ends here. */
		if (ndigits > 0)
		{
			bound[nbound++] = ndigits;
			if (run_has_card(digits, bound, nbound))
				return true;
			ndigits = 0;
			nbound = 0;
		}
		i++;
	}
	return false;
}
