/*-------------------------------------------------------------------------
 *
 * gtin.c
 *	  Server-free core of the icos.upc type: parsing, check digits,
 *	  formatting, UPC-E zero suppression and variable-measure prices.
 *
 * References (GS1 General Specifications):
 *	  "Check digit calculation" (the standard modulo-10 algorithm),
 *	  "UPC-E" / "Zero-suppression" (the four suppression rules),
 *	  "Price/weight check digit calculation" (the 4- and 5-digit price checks
 *	  with the 2-, 3, 5+ and 5- weighting factors).
 *
 *-------------------------------------------------------------------------
 */
#include "gtin.h"

#include <string.h>

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/*
 * GS1 modulo-10: from the rightmost data digit leftwards the weights are
 * 3, 1, 3, 1, ...; the check digit brings the weighted sum to a multiple of
 * ten.  Leading zeros add nothing, so every form of one GTIN has the same
 * check digit.
 */
int
gtin_check_digit(const char *d, size_t n)
{
	int			sum = 0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		int			digit = d[n - 1 - i] - '0';

		sum += (i % 2 == 0) ? 3 * digit : digit;
	}
	return (10 - sum % 10) % 10;
}

size_t
gtin_kind_length(gtin_kind kind)
{
	switch (kind)
	{
		case GTIN_KIND_GTIN8:
		case GTIN_KIND_UPCE:
			return 8;
		case GTIN_KIND_UPCA:
			return 12;
		case GTIN_KIND_EAN13:
			return 13;
		case GTIN_KIND_GTIN14:
			return 14;
		case GTIN_KIND_ANY:
			break;
	}
	return 0;
}

static int64_t
digits_value(const char *d, size_t n)
{
	int64_t		v = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		v = v * 10 + (d[i] - '0');
	return v;
}

gtin_status
gtin_parse(const char *s, size_t len, gtin_kind kind, gtin_parse_result *r)
{
	char		d[14];
	size_t		start = 0,
				end = len,
				i,
				n = 0;
	bool		pending_sep = false;
	size_t		sep_offset = 0;

	memset(r, 0, sizeof(*r));

	while (start < end && is_space(s[start]))
		start++;
	while (end > start && is_space(s[end - 1]))
		end--;

	for (i = start; i < end; i++)
	{
		char		c = s[i];

		if (is_digit(c))
		{
			if (n < sizeof(d))
				d[n] = c;
			n++;
			pending_sep = false;
		}
		else if (c == ' ' || c == '-')
		{
			if (n == 0)
			{
				r->bad_offset = i;
				return r->status = GTIN_BAD_SEPARATOR;
			}
			if (!pending_sep)
				sep_offset = i;
			pending_sep = true;
		}
		else
		{
			r->bad_offset = i;
			return r->status = GTIN_BAD_CHAR;
		}
	}
	r->ndigits = n;
	if (pending_sep)
	{
		r->bad_offset = sep_offset;
		return r->status = GTIN_BAD_SEPARATOR;
	}
	if (n == 0)
		return r->status = GTIN_EMPTY;

	if (kind == GTIN_KIND_ANY)
	{
		if (n != 8 && n != 12 && n != 13 && n != 14)
			return r->status = GTIN_BAD_LENGTH;
	}
	else if (n != gtin_kind_length(kind))
		return r->status = GTIN_BAD_LENGTH;

	if (kind == GTIN_KIND_UPCE)
	{
		if (!gtin_upce_expand(d, r->upca))
		{
			r->number_system = d[0] - '0';
			return r->status = GTIN_UPCE_NUMBER_SYSTEM;
		}
		r->expected_check = gtin_check_digit(r->upca, 11);
		r->found_check = d[7] - '0';
		if (r->expected_check != r->found_check)
		{
			r->upca[11] = (char) ('0' + r->expected_check);
			return r->status = GTIN_BAD_CHECK;
		}
		if (!gtin_upce_compress(r->upca, r->upce) || memcmp(r->upce, d, 8) != 0)
			return r->status = GTIN_UPCE_NONCANONICAL;
		r->value = digits_value(r->upca, 12);
		return r->status = GTIN_OK;
	}

	r->expected_check = gtin_check_digit(d, n - 1);
	r->found_check = d[n - 1] - '0';
	if (r->expected_check != r->found_check)
		return r->status = GTIN_BAD_CHECK;
	r->value = digits_value(d, n);
	return r->status = GTIN_OK;
}

void
gtin_digits14(int64_t v, char *buf)
{
	int			i;

	for (i = 13; i >= 0; i--)
	{
		buf[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	buf[14] = '\0';
}

gtin_status
gtin_validate(int64_t v, int *expected, int *found)
{
	char		d[GTIN_BUFSIZE];

	if (v < 0 || v > GTIN_MAX)
		return GTIN_BAD_LENGTH;
	gtin_digits14(v, d);
	*expected = gtin_check_digit(d, 13);
	*found = d[13] - '0';
	return *expected == *found ? GTIN_OK : GTIN_BAD_CHECK;
}

/* Copy the last len digits of d14 when the others are all zero. */
static bool
tail_form(const char *d14, size_t len, char *buf)
{
	size_t		i;

	for (i = 0; i < 14 - len; i++)
	{
		if (d14[i] != '0')
			return false;
	}
	memcpy(buf, d14 + 14 - len, len);
	buf[len] = '\0';
	return true;
}

bool
gtin_format(int64_t v, gtin_style style, char *buf)
{
	char		d[GTIN_BUFSIZE];

	buf[0] = '\0';
	if (v < 0 || v > GTIN_MAX)
		return false;
	gtin_digits14(v, d);
	switch (style)
	{
		case GTIN_STYLE_CANONICAL:
			return tail_form(d, 8, buf) || tail_form(d, 12, buf) ||
				tail_form(d, 13, buf) || tail_form(d, 14, buf);
		case GTIN_STYLE_GTIN14:
			return tail_form(d, 14, buf);
		case GTIN_STYLE_EAN13:
			return tail_form(d, 13, buf);
		case GTIN_STYLE_UPCA:
			return tail_form(d, 12, buf);
		case GTIN_STYLE_GTIN8:
			return tail_form(d, 8, buf);
		case GTIN_STYLE_UPCE:
			{
				char		upca[13];

				if (!tail_form(d, 12, upca))
					return false;
				return gtin_upce_compress(upca, buf);
			}
	}
	return false;
}

/*
 * Zero suppression.  The UPC-E digits after the number system are
 * d1..d6; the last, d6, says where the zeros go:
 *	 d6 0-2:  manufacturer d1 d2 d6 0 0,	 item 0 0 d3 d4 d5
 *	 d6 3:	  manufacturer d1 d2 d3 0 0,	 item 0 0 0 d4 d5
 *	 d6 4:	  manufacturer d1 d2 d3 d4 0,	 item 0 0 0 0 d5
 *	 d6 5-9:  manufacturer d1 d2 d3 d4 d5, item 0 0 0 0 d6
 */
bool
gtin_upce_expand(const char *e, char *a)
{
	const char *x = e + 1;		/* x[0..5] = d1..d6 */

	if (e[0] != '0')
		return false;
	memset(a, '0', 12);
	a[12] = '\0';
	switch (x[5])
	{
		case '0':
		case '1':
		case '2':
			a[1] = x[0];
			a[2] = x[1];
			a[3] = x[5];
			a[8] = x[2];
			a[9] = x[3];
			a[10] = x[4];
			break;
		case '3':
			a[1] = x[0];
			a[2] = x[1];
			a[3] = x[2];
			a[9] = x[3];
			a[10] = x[4];
			break;
		case '4':
			a[1] = x[0];
			a[2] = x[1];
			a[3] = x[2];
			a[4] = x[3];
			a[10] = x[4];
			break;
		default:
			a[1] = x[0];
			a[2] = x[1];
			a[3] = x[2];
			a[4] = x[3];
			a[5] = x[4];
			a[10] = x[5];
			break;
	}
	a[11] = e[7];
	return true;
}

/*
 * The inverse, trying the rules in the order above so that each UPC-A has
 * exactly one UPC-E: the first rule that fits wins.  A UPC-E is canonical
 * when compressing its expansion gives it back.
 */
bool
gtin_upce_compress(const char *a, char *e)
{
	const char *m = a + 1;		/* manufacturer m[0..4] */
	const char *p = a + 6;		/* item p[0..4] */

	e[0] = '\0';
	if (a[0] != '0')
		return false;
	if (m[2] <= '2' && m[3] == '0' && m[4] == '0' &&
		p[0] == '0' && p[1] == '0')
	{
		e[1] = m[0];
		e[2] = m[1];
		e[3] = p[2];
		e[4] = p[3];
		e[5] = p[4];
		e[6] = m[2];
	}
	else if (m[3] == '0' && m[4] == '0' &&
			 p[0] == '0' && p[1] == '0' && p[2] == '0')
	{
		e[1] = m[0];
		e[2] = m[1];
		e[3] = m[2];
		e[4] = p[3];
		e[5] = p[4];
		e[6] = '3';
	}
	else if (m[4] == '0' &&
			 p[0] == '0' && p[1] == '0' && p[2] == '0' && p[3] == '0')
	{
		e[1] = m[0];
		e[2] = m[1];
		e[3] = m[2];
		e[4] = m[3];
		e[5] = p[4];
		e[6] = '4';
	}
	else if (p[0] == '0' && p[1] == '0' && p[2] == '0' && p[3] == '0' &&
			 p[4] >= '5')
	{
		e[1] = m[0];
		e[2] = m[1];
		e[3] = m[2];
		e[4] = m[3];
		e[5] = m[4];
		e[6] = p[4];
	}
	else
		return false;
	e[0] = '0';
	e[7] = a[11];
	e[8] = '\0';
	return true;
}

/*
 * Weighting factors of the price check digits.  "2-": double, then subtract
 * the tens digit from the units digit (mod 10); "3": units digit of the
 * triple; "5+": sum of the digits of the quintuple; "5-": units minus tens
 * of the quintuple.
 */
static const int w2minus[10] = {0, 2, 4, 6, 8, 9, 1, 3, 5, 7};
static const int w3[10] = {0, 3, 6, 9, 2, 5, 8, 1, 4, 7};
static const int w5plus[10] = {0, 5, 1, 6, 2, 7, 3, 8, 4, 9};
static const int w5minus[10] = {0, 5, 9, 4, 8, 3, 7, 2, 6, 1};

/* 4-digit price: weights 2-, 2-, 3, 5-; the check is the units digit of 3 x sum. */
int
gtin_price_check4(const char *d)
{
	int			sum = w2minus[d[0] - '0'] + w2minus[d[1] - '0'] +
		w3[d[2] - '0'] + w5minus[d[3] - '0'];

	return (sum * 3) % 10;
}

/*
 * 5-digit price: weights 5+, 2-, 5-, 5+, 2-; subtract the units digit of
 * the sum from ten (mod 10) and find the digit whose 5- product is that.
 */
int
gtin_price_check5(const char *d)
{
	int			sum = w5plus[d[0] - '0'] + w2minus[d[1] - '0'] +
		w5minus[d[2] - '0'] + w5plus[d[3] - '0'] + w2minus[d[4] - '0'];
	int			target = (10 - sum % 10) % 10;
	int			c;

	for (c = 0; c < 10; c++)
	{
		if (w5minus[c] == target)
			return c;
	}
	return -1;					/* cannot happen: w5minus is a permutation */
}

const char *
gtin_layout_check(const char *mask, size_t len)
{
	size_t		i;
	int			nv = 0,
				nprice = 0,
				nc = 0;
	bool		seen_other = false;

	if (len != 13)
		return "A price layout has exactly 13 characters, one per digit of the EAN-13 form.";
	for (i = 0; i < len; i++)
	{
		switch (mask[i])
		{
			case 'P':
				if (seen_other)
					return "Prefix digits (P) must all come first.";
				break;
			case 'I':
			case 'X':
				seen_other = true;
				break;
			case '$':
				seen_other = true;
				nprice++;
				break;
			case 'V':
				seen_other = true;
				nv++;
				break;
			case 'C':
				seen_other = true;
				nc++;
				break;
			default:
				return "A price layout may only contain P, I, X, $, V and C.";
		}
	}
	if (mask[0] != 'P')
		return "A price layout starts with at least one prefix digit (P).";
	if (nc != 1 || mask[12] != 'C')
		return "A price layout has exactly one check digit (C), in the last position.";
	if (nv > 1)
		return "A price layout has at most one price check digit (V).";
	if (nv == 1 && nprice != 4 && nprice != 5)
		return "A price check digit (V) needs exactly 4 or 5 price digits ($).";
	if (nprice > 10)
		return "A price layout has at most 10 price digits ($).";
	return NULL;
}

gtin_layout_status
gtin_layout_price(const char *digits13, const char *mask, size_t len,
				  gtin_price_result *r)
{
	char		price[10];
	int			nprice = 0;
	int			vpos = -1;
	size_t		i;

	memset(r, 0, sizeof(*r));
	r->layout_error = gtin_layout_check(mask, len);
	if (r->layout_error != NULL)
		return r->status = GTIN_LAYOUT_INVALID;
	for (i = 0; i < 13; i++)
	{
		if (mask[i] == '$')
			price[nprice++] = digits13[i];
		else if (mask[i] == 'V')
			vpos = (int) i;
	}
	if (nprice == 0)
		return r->status = GTIN_LAYOUT_NO_PRICE;
	if (vpos >= 0)
	{
		r->expected_check = nprice == 4 ? gtin_price_check4(price)
			: gtin_price_check5(price);
		r->found_check = digits13[vpos] - '0';
		if (r->expected_check != r->found_check)
			return r->status = GTIN_LAYOUT_BAD_PRICE_CHECK;
	}
	r->pence = digits_value(price, (size_t) nprice);
	return r->status = GTIN_LAYOUT_OK;
}
