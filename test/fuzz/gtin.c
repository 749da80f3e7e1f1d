/*
 * gtin.c: libFuzzer target for src/core/gtin.c (the icos.upc type).
 *
 * The first byte picks a parse kind; the rest is parsed as text of that
 * kind.  Invariants:
 *	- a parse never reads past the input (AddressSanitizer) and reports an
 *	  offset inside it;
 *	- an accepted code is a valid GTIN-14 number whose digit count is one
 *	  the kind allows, and every form gtin_format() agrees to write parses
 *	  back (with its own kind and with "any") to the same number;
 *	- a rejected check digit is reported with the digit that was expected,
 *	  and putting that digit in makes the code parse.
 * The same bytes are also read as a number (any int64, then forced into a
 * valid GTIN) and as a price layout mask over 13 digits.
 */
#include <string.h>

#include "gtin.h"
#include "fuzz.h"

static const gtin_kind kinds[] = {
	GTIN_KIND_ANY, GTIN_KIND_GTIN8, GTIN_KIND_UPCA, GTIN_KIND_UPCE,
	GTIN_KIND_EAN13, GTIN_KIND_GTIN14
};

static const struct
{
	gtin_style	style;
	gtin_kind	kind;
	size_t		len;			/* characters written */
	size_t		span;			/* trailing GTIN-14 digits it can express */
}			styles[] = {
	{GTIN_STYLE_GTIN14, GTIN_KIND_GTIN14, 14, 14},
	{GTIN_STYLE_EAN13, GTIN_KIND_EAN13, 13, 13},
	{GTIN_STYLE_UPCA, GTIN_KIND_UPCA, 12, 12},
	{GTIN_STYLE_UPCE, GTIN_KIND_UPCE, 8, 11},	/* a UPC-A of number system 0 */
	{GTIN_STYLE_GTIN8, GTIN_KIND_GTIN8, 8, 8},
};

/* Every form of a valid value parses back to it. */
static void
check_forms(int64_t v)
{
	char		buf[GTIN_BUFSIZE];
	char		d14[GTIN_BUFSIZE];
	gtin_parse_result r;
	size_t		i;
	int			e,
				f;

	CHECK(gtin_validate(v, &e, &f) == GTIN_OK, "value %lld", (long long) v);
	gtin_digits14(v, d14);
	CHECK(strlen(d14) == 14, "digits14 of %lld is '%s'", (long long) v, d14);

	CHECK(gtin_format(v, GTIN_STYLE_CANONICAL, buf), "no canonical form of %s", d14);
	CHECK(gtin_parse(buf, strlen(buf), GTIN_KIND_ANY, &r) == GTIN_OK && r.value == v,
		  "canonical '%s' of %s does not parse back", buf, d14);
	CHECK(strlen(buf) == 8 || strlen(buf) == 12 || strlen(buf) == 13 || strlen(buf) == 14,
		  "canonical '%s'", buf);
	/* the canonical form is the shortest of the lengths 8, 12, 13, 14 */
	CHECK(memcmp(buf, d14 + 14 - strlen(buf), strlen(buf)) == 0 &&
		  strspn(d14, "0") >= 14 - strlen(buf), "canonical '%s' of %s", buf, d14);

	for (i = 0; i < sizeof(styles) / sizeof(styles[0]); i++)
	{
		bool		has = gtin_format(v, styles[i].style, buf);
		bool		zeros = strspn(d14, "0") >= 14 - styles[i].span;

		if (!has)
		{
			CHECK(buf[0] == '\0', "failed format left '%s'", buf);
			/* only UPC-E may be missing although the leading digits are zero */
			CHECK(!zeros || styles[i].style == GTIN_STYLE_UPCE,
				  "style %zu missing for %s", i, d14);
			continue;
		}
		CHECK(zeros, "style %zu written for %s", i, d14);
		CHECK(strlen(buf) == styles[i].len, "style %zu wrote '%s'", i, buf);
		CHECK(gtin_parse(buf, strlen(buf), styles[i].kind, &r) == GTIN_OK && r.value == v,
			  "style %zu '%s' of %s parses to status %d value %lld",
			  i, buf, d14, (int) r.status, (long long) r.value);
		if (styles[i].style == GTIN_STYLE_UPCE)
		{
			char		upca[13];
			char		upce[9];

			CHECK(gtin_upce_expand(buf, upca) && memcmp(upca, d14 + 2, 12) == 0,
				  "UPC-E '%s' expands to '%s', not %s", buf, upca, d14 + 2);
			CHECK(gtin_upce_compress(upca, upce) && strcmp(upce, buf) == 0,
				  "UPC-A '%s' compresses to '%s', not '%s'", upca, upce, buf);
		}
	}
}

static void
check_text(const char *s, size_t len, gtin_kind kind)
{
	gtin_parse_result r;
	gtin_status st = gtin_parse(s, len, kind, &r);

	CHECK(st == r.status, "status %d vs %d", (int) st, (int) r.status);
	switch (st)
	{
		case GTIN_OK:
			{
				size_t		want = gtin_kind_length(kind);

				CHECK(r.value >= 0 && r.value <= GTIN_MAX, "value %lld", (long long) r.value);
				if (want != 0)
					CHECK(r.ndigits == want, "%zu digits for kind %d", r.ndigits, (int) kind);
				else
					CHECK(r.ndigits == 8 || r.ndigits == 12 || r.ndigits == 13 ||
						  r.ndigits == 14, "%zu digits", r.ndigits);
				check_forms(r.value);
				break;
			}
		case GTIN_BAD_CHAR:
		case GTIN_BAD_SEPARATOR:
			CHECK(r.bad_offset < len, "offset %zu of %zu", r.bad_offset, len);
			CHECK(st != GTIN_BAD_CHAR ||
				  !(s[r.bad_offset] >= '0' && s[r.bad_offset] <= '9'),
				  "digit reported as bad at %zu", r.bad_offset);
			CHECK(st != GTIN_BAD_SEPARATOR ||
				  s[r.bad_offset] == ' ' || s[r.bad_offset] == '-',
				  "separator reported at %zu is '%c'", r.bad_offset, s[r.bad_offset]);
			break;
		case GTIN_BAD_CHECK:
			CHECK(r.expected_check >= 0 && r.expected_check <= 9 &&
				  r.found_check >= 0 && r.found_check <= 9 &&
				  r.expected_check != r.found_check, "check %d/%d",
				  r.expected_check, r.found_check);
			/* putting the expected digit in its place makes a valid code */
			if (len < 256 && kind != GTIN_KIND_UPCE)
			{
				char		fixed[256];
				size_t		last = len;
				gtin_parse_result r2;

				memcpy(fixed, s, len);
				while (last > 0 && !(fixed[last - 1] >= '0' && fixed[last - 1] <= '9'))
					last--;
				CHECK(last > 0, "no digit in a code with a bad check");
				fixed[last - 1] = (char) ('0' + r.expected_check);
				CHECK(gtin_parse(fixed, len, kind, &r2) == GTIN_OK,
					  "fixing the check digit gives status %d", (int) r2.status);
			}
			break;
		case GTIN_EMPTY:
		case GTIN_BAD_LENGTH:
		case GTIN_UPCE_NUMBER_SYSTEM:
		case GTIN_UPCE_NONCANONICAL:
			break;
		default:
			CHECK(0, "unknown status %d", (int) st);
	}
}

static void
check_number(const uint8_t *data, size_t size)
{
	uint64_t	u = 0;
	int64_t		v;
	int			e,
				f;
	size_t		i;
	gtin_status st;

	for (i = 0; i < 8 && i < size; i++)
		u |= (uint64_t) data[i] << (8 * i);
	v = (int64_t) u;
	st = gtin_validate(v, &e, &f);
	if (v < 0 || v > GTIN_MAX)
	{
		CHECK(st == GTIN_BAD_LENGTH, "out of range %lld gives %d", (long long) v, (int) st);
		v = (int64_t) (u % (uint64_t) (GTIN_MAX + 1));
		st = gtin_validate(v, &e, &f);
	}
	if (st == GTIN_BAD_CHECK)
	{
		/* the found check is the last digit, and differs from the expected */
		CHECK(e != f && f == (int) (v % 10) && e >= 0 && e <= 9, "check %d/%d of %lld",
			  e, f, (long long) v);
		v = v - f + e;
		st = gtin_validate(v, &e, &f);
	}
	CHECK(st == GTIN_OK, "repaired value %lld status %d", (long long) v, (int) st);
	check_forms(v);
}

static void
check_layout(const uint8_t *data, size_t size)
{
	char		mask[13];
	char		digits[13];
	size_t		i;
	const char *why;
	gtin_price_result r;

	if (size < 13)
		return;
	memcpy(mask, data, 13);
	why = gtin_layout_check(mask, 13);
	for (i = 0; i < 13; i++)
		digits[i] = (char) ('0' + (i + 13 < size ? data[i + 13] % 10 : 0));
	gtin_layout_price(digits, mask, 13, &r);
	if (why != NULL)
	{
		CHECK(r.status == GTIN_LAYOUT_INVALID && r.layout_error == why, "layout status %d", (int) r.status);
		return;
	}
	CHECK(r.status != GTIN_LAYOUT_INVALID, "valid mask refused");
	if (r.status == GTIN_LAYOUT_OK)
		CHECK(r.pence >= 0 && r.pence <= INT64_C(9999999999), "pence %lld", (long long) r.pence);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;

	if (size == 0)
		return 0;
	/* an exact-size copy, so that reading one byte too far is caught */
	text = malloc(size - 1 ? size - 1 : 1);
	memcpy(text, data + 1, size - 1);
	check_text(text, size - 1, kinds[data[0] % 6]);
	free(text);
	check_number(data, size);
	check_layout(data, size);
	return 0;
}
