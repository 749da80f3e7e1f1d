/*
 * gtin.c: unit tests of src/core/gtin.c (the icos.upc core).
 *
 * Exhaustive where the space is small (every UPC-E payload, every 4- and
 * 5-digit price), systematic elsewhere (every single-digit substitution and
 * adjacent transposition of sample codes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtin.h"
#include "tap.h"

static gtin_status
parse(const char *s, gtin_kind kind, gtin_parse_result *r)
{
	return gtin_parse(s, strlen(s), kind, r);
}

static int64_t
value_of(const char *s, gtin_kind kind)
{
	gtin_parse_result r;

	return parse(s, kind, &r) == GTIN_OK ? r.value : -1;
}

static const char *const samples[] = {
	"036000291452",				/* UPC-A */
	"4006381333931",			/* EAN-13 */
	"9780306406157",			/* ISBN-13 */
	"96385074",					/* GTIN-8 */
	"95012346",					/* GTIN-8 */
	"10012345678902",			/* GTIN-14 */
	"042100005264",				/* UPC-A with a UPC-E form */
	"5012345678900",			/* EAN-13 */
};

static void
test_check_digits(void)
{
	ok(gtin_check_digit("03600029145", 11) == 2, "UPC-A 03600029145 -> check 2");
	ok(gtin_check_digit("400638133393", 12) == 1, "EAN-13 400638133393 -> check 1");
	ok(gtin_check_digit("9501234", 7) == 6, "GTIN-8 9501234 -> check 6");
	ok(gtin_check_digit("950110153100", 12) == 0, "EAN-13 950110153100 -> check 0");
	ok(gtin_check_digit("1001234567890", 13) == 2, "GTIN-14 1001234567890 -> check 2");
	ok(gtin_check_digit("0003600029145", 13) == gtin_check_digit("03600029145", 11),
	   "leading zeros do not change the check digit");
}

static void
test_parse_forms(void)
{
	gtin_parse_result r;
	int64_t		v = value_of("036000291452", GTIN_KIND_ANY);

	ok(v == INT64_C(36000291452), "UPC-A value is the GTIN-14 number");
	ok(value_of("0036000291452", GTIN_KIND_ANY) == v, "EAN-13 spelling equal");
	ok(value_of("00036000291452", GTIN_KIND_ANY) == v, "GTIN-14 spelling equal");
	ok(value_of(" 0-3600029 1452\t\n", GTIN_KIND_ANY) == v,
	   "spaces, hyphens between digits and surrounding white space ignored");
	ok(value_of("0--36000  291452", GTIN_KIND_ANY) == v, "runs of separators allowed");
	ok(value_of("96385074", GTIN_KIND_ANY) == INT64_C(96385074), "GTIN-8");
	ok(value_of("10012345678902", GTIN_KIND_ANY) == INT64_C(10012345678902), "GTIN-14");
	ok(value_of("99999999999997", GTIN_KIND_ANY) == INT64_C(99999999999997),
	   "largest GTIN-14 with a valid check digit");

	ok(parse("", GTIN_KIND_ANY, &r) == GTIN_EMPTY, "empty string");
	ok(parse(" \t ", GTIN_KIND_ANY, &r) == GTIN_EMPTY, "white space only");
	ok(parse("-036000291452", GTIN_KIND_ANY, &r) == GTIN_BAD_SEPARATOR &&
	   r.bad_offset == 0, "leading hyphen rejected at offset 0");
	ok(parse("036000291452-", GTIN_KIND_ANY, &r) == GTIN_BAD_SEPARATOR &&
	   r.bad_offset == 12, "trailing hyphen rejected at offset 12");
	ok(parse("0360002914 -", GTIN_KIND_ANY, &r) == GTIN_BAD_SEPARATOR &&
	   r.bad_offset == 10, "trailing separator run reported at its start");
	ok(parse("03600029145x", GTIN_KIND_ANY, &r) == GTIN_BAD_CHAR &&
	   r.bad_offset == 11, "letter rejected with its offset");
	ok(parse("0360002914\xc3\xa9", GTIN_KIND_ANY, &r) == GTIN_BAD_CHAR &&
	   r.bad_offset == 10, "non-ASCII byte rejected");
	ok(parse("036000\t291452", GTIN_KIND_ANY, &r) == GTIN_BAD_CHAR,
	   "tab between digits rejected (only spaces and hyphens)");
	ok(parse("03600029145\0002", GTIN_KIND_ANY, &r) == GTIN_BAD_LENGTH,
	   "stops at NUL in a C string (11 digits)");
	{
		const char s[] = "03600029145\0002";

		ok(gtin_parse(s, sizeof(s) - 1, GTIN_KIND_ANY, &r) == GTIN_BAD_CHAR,
		   "embedded NUL inside the given length rejected");
	}
	ok(parse("+036000291452", GTIN_KIND_ANY, &r) == GTIN_BAD_CHAR, "sign rejected");
	ok(parse("\xd9\xa0\xd9\xa1", GTIN_KIND_ANY, &r) == GTIN_BAD_CHAR,
	   "Arabic-Indic digits rejected");
}

static void
test_lengths(void)
{
	char		buf[32];
	int			n,
				bad = 0;
	gtin_parse_result r;

	/* every length 1..20 of digits ending in a valid check digit */
	for (n = 1; n <= 20; n++)
	{
		gtin_status st;
		bool		allowed = (n == 8 || n == 12 || n == 13 || n == 14);

		memset(buf, '1', (size_t) n);
		buf[n] = '\0';
		buf[n - 1] = (char) ('0' + gtin_check_digit(buf, (size_t) (n - 1)));
		st = parse(buf, GTIN_KIND_ANY, &r);
		if ((st == GTIN_OK) != allowed || (!allowed && st != GTIN_BAD_LENGTH) ||
			(!allowed && r.ndigits != (size_t) n))
			bad++;
	}
	ok(bad == 0, "lengths 1-20: only 8, 12, 13 and 14 accepted, others GTIN_BAD_LENGTH with the count");

	ok(parse("036000291452", GTIN_KIND_UPCA, &r) == GTIN_OK, "upca kind takes 12 digits");
	ok(parse("036000291452", GTIN_KIND_EAN13, &r) == GTIN_BAD_LENGTH, "ean13 kind refuses 12");
	ok(parse("0036000291452", GTIN_KIND_EAN13, &r) == GTIN_OK, "ean13 kind takes 13");
	ok(parse("00036000291452", GTIN_KIND_GTIN14, &r) == GTIN_OK, "gtin14 kind takes 14");
	ok(parse("96385074", GTIN_KIND_GTIN8, &r) == GTIN_OK, "gtin8 kind takes 8");
	ok(parse("96385074", GTIN_KIND_UPCA, &r) == GTIN_BAD_LENGTH, "upca kind refuses 8");

	{
		size_t		len = 1000000;
		char	   *big = malloc(len);

		memset(big, '7', len);
		ok(gtin_parse(big, len, GTIN_KIND_ANY, &r) == GTIN_BAD_LENGTH &&
		   r.ndigits == len, "a million digits: GTIN_BAD_LENGTH, all counted");
		free(big);
	}
}

/* Every single-digit substitution of every sample is rejected. */
static void
test_substitutions(void)
{
	size_t		i,
				pos;
	int			tried = 0,
				caught = 0,
				right_expected = 0;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
	{
		size_t		n = strlen(samples[i]);

		ok(value_of(samples[i], GTIN_KIND_ANY) >= 0, "sample %s valid", samples[i]);
		for (pos = 0; pos < n; pos++)
		{
			char		c;

			for (c = '0'; c <= '9'; c++)
			{
				char		buf[16];
				gtin_parse_result r;

				if (c == samples[i][pos])
					continue;
				memcpy(buf, samples[i], n + 1);
				buf[pos] = c;
				tried++;
				if (parse(buf, GTIN_KIND_ANY, &r) == GTIN_BAD_CHECK)
				{
					caught++;
					if (r.expected_check == gtin_check_digit(buf, n - 1) &&
						r.found_check == buf[n - 1] - '0')
						right_expected++;
				}
			}
		}
	}
	ok(tried > 0 && caught == tried,
	   "every single-digit substitution rejected (%d of %d)", caught, tried);
	ok(right_expected == tried, "each rejection names the expected check digit");
}

/*
 * Adjacent transpositions: modulo 10 with weights 3,1 misses exactly the
 * swaps of two digits that differ by 5; everything else must be caught.
 */
static void
test_transpositions(void)
{
	size_t		i,
				pos;
	int			tried = 0,
				caught = 0,
				missed_wrongly = 0;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
	{
		size_t		n = strlen(samples[i]);

		for (pos = 0; pos + 1 < n; pos++)
		{
			char		buf[16];
			char		a = samples[i][pos],
						b = samples[i][pos + 1];
			gtin_parse_result r;

			if (a == b)
				continue;
			memcpy(buf, samples[i], n + 1);
			buf[pos] = b;
			buf[pos + 1] = a;
			if (abs(a - b) == 5)
				continue;
			tried++;
			if (parse(buf, GTIN_KIND_ANY, &r) != GTIN_OK)
				caught++;
			else
				missed_wrongly++;
		}
	}
	ok(tried > 20 && caught == tried && missed_wrongly == 0,
	   "every adjacent transposition of digits not 5 apart rejected (%d)", tried);
}

static void
test_format(void)
{
	char		buf[GTIN_BUFSIZE];
	int64_t		upca = value_of("036000291452", GTIN_KIND_ANY);
	int64_t		ean = value_of("4006381333931", GTIN_KIND_ANY);
	int64_t		g8 = value_of("96385074", GTIN_KIND_ANY);
	int64_t		g14 = value_of("10012345678902", GTIN_KIND_ANY);
	int			i,
				bad = 0;

	ok(gtin_format(upca, GTIN_STYLE_CANONICAL, buf) && strcmp(buf, "036000291452") == 0,
	   "canonical UPC-A is 12 digits");
	ok(gtin_format(ean, GTIN_STYLE_CANONICAL, buf) && strcmp(buf, "4006381333931") == 0,
	   "canonical EAN-13 is 13 digits");
	ok(gtin_format(g8, GTIN_STYLE_CANONICAL, buf) && strcmp(buf, "96385074") == 0,
	   "canonical GTIN-8 is 8 digits");
	ok(gtin_format(g14, GTIN_STYLE_CANONICAL, buf) && strcmp(buf, "10012345678902") == 0,
	   "canonical GTIN-14 is 14 digits");
	ok(gtin_format(upca, GTIN_STYLE_GTIN14, buf) && strcmp(buf, "00036000291452") == 0,
	   "gtin14 style pads");
	ok(gtin_format(upca, GTIN_STYLE_EAN13, buf) && strcmp(buf, "0036000291452") == 0,
	   "ean13 style of a UPC-A");
	ok(!gtin_format(ean, GTIN_STYLE_UPCA, buf) && buf[0] == '\0',
	   "EAN-13 not starting with 0 has no UPC-A form");
	ok(!gtin_format(upca, GTIN_STYLE_GTIN8, buf), "UPC-A has no GTIN-8 form");
	ok(!gtin_format(g14, GTIN_STYLE_EAN13, buf), "GTIN-14 with indicator 1 has no EAN-13 form");
	ok(gtin_format(g8, GTIN_STYLE_UPCA, buf) && strcmp(buf, "000096385074") == 0,
	   "GTIN-8 written as 12 digits");
	ok(!gtin_format(-1, GTIN_STYLE_GTIN14, buf) && !gtin_format(GTIN_MAX + 1, GTIN_STYLE_GTIN14, buf),
	   "out-of-range numbers have no form");

	/* canonical output parses back to the same value, for many values */
	srand(12345);
	for (i = 0; i < 200000; i++)
	{
		char		d[GTIN_BUFSIZE];
		int64_t		v;
		int			zeros = rand() % 15;
		int			k;

		for (k = 0; k < 13; k++)
			d[k] = (char) (k < zeros ? '0' : '0' + rand() % 10);
		d[13] = (char) ('0' + gtin_check_digit(d, 13));
		d[14] = '\0';
		v = value_of(d, GTIN_KIND_GTIN14);
		if (v < 0 || !gtin_format(v, GTIN_STYLE_CANONICAL, buf) ||
			value_of(buf, GTIN_KIND_ANY) != v)
			bad++;
	}
	ok(bad == 0, "canonical output then input is the same value (200000 codes)");
}

static void
test_validate(void)
{
	int			e = -1,
				f = -1;

	ok(gtin_validate(INT64_C(36000291452), &e, &f) == GTIN_OK, "validate a UPC-A number");
	ok(gtin_validate(INT64_C(36000291453), &e, &f) == GTIN_BAD_CHECK && e == 2 && f == 3,
	   "validate names expected 2, found 3");
	ok(gtin_validate(-1, &e, &f) == GTIN_BAD_LENGTH, "negative number refused");
	ok(gtin_validate(GTIN_MAX + 1, &e, &f) == GTIN_BAD_LENGTH, "15-digit number refused");
	ok(gtin_validate(INT64_MIN, &e, &f) == GTIN_BAD_LENGTH, "INT64_MIN refused");
}

/* Every possible UPC-E payload of number system 0. */
static void
test_upce_exhaustive(void)
{
	int			payload;
	int			canonical = 0,
				roundtrip_bad = 0,
				canonical_by_rule = 0;

	for (payload = 0; payload < 1000000; payload++)
	{
		char		e[9],
					a[13],
					back[9];
		int			d[7],
					k,
					x = payload;
		bool		expect;

		e[0] = '0';
		for (k = 6; k >= 1; k--)
		{
			d[k] = x % 10;
			e[k] = (char) ('0' + d[k]);
			x /= 10;
		}
		e[7] = '0';
		e[8] = '\0';
		if (!gtin_upce_expand(e, a))
		{
			roundtrip_bad++;
			continue;
		}
		/* the check digit of a canonical UPC-E is that of its UPC-A */
		e[7] = a[11] = (char) ('0' + gtin_check_digit(a, 11));
		if (!gtin_upce_compress(a, back))
		{
			roundtrip_bad++;
			continue;
		}
		/* compressing an expansion is stable: expand(compress(a)) == a */
		{
			char		a2[13];

			if (!gtin_upce_expand(back, a2) || memcmp(a, a2, 12) != 0)
				roundtrip_bad++;
		}
		if (memcmp(back, e, 8) == 0)
			canonical++;

		/* independent statement of canonicality, rule by rule */
		if (d[6] <= 2)
			expect = true;
		else if (d[6] == 3)
			expect = d[3] >= 3;
		else if (d[6] == 4)
			expect = d[4] != 0;
		else
			expect = d[5] != 0;
		if (expect == (memcmp(back, e, 8) == 0))
			canonical_by_rule++;
	}
	ok(roundtrip_bad == 0, "every UPC-E expands, compresses, and re-expands to the same UPC-A");
	ok(canonical == 910000, "910000 of the 1000000 UPC-E payloads are canonical (%d)", canonical);
	ok(canonical_by_rule == 1000000, "canonicality matches the four rules for every payload");
}

static void
test_upce(void)
{
	gtin_parse_result r;
	char		e[9];

	ok(parse("04252614", GTIN_KIND_UPCE, &r) == GTIN_OK &&
	   r.value == value_of("042100005264", GTIN_KIND_ANY),
	   "UPC-E 04252614 is UPC-A 042100005264");
	ok(gtin_upce_compress("042100005264", e) && strcmp(e, "04252614") == 0,
	   "and compresses back");
	ok(parse("0425-2614", GTIN_KIND_UPCE, &r) == GTIN_OK, "UPC-E with a hyphen");
	ok(parse("04252615", GTIN_KIND_UPCE, &r) == GTIN_BAD_CHECK &&
	   r.expected_check == 4 && r.found_check == 5 &&
	   strcmp(r.upca, "042100005264") == 0,
	   "UPC-E bad check digit names 4 and the expanded UPC-A");
	ok(parse("14252614", GTIN_KIND_UPCE, &r) == GTIN_UPCE_NUMBER_SYSTEM &&
	   r.number_system == 1, "UPC-E number system 1 refused");
	ok(parse("0425261", GTIN_KIND_UPCE, &r) == GTIN_BAD_LENGTH, "7-digit UPC-E refused");
	ok(parse("042100005264", GTIN_KIND_UPCE, &r) == GTIN_BAD_LENGTH, "upce kind refuses a UPC-A");

	/*
	 * 0 120453 C: d6 = 3 with d3 = 0 expands to 0 12000 00045 C, which rule
	 * 1 compresses to 0 120450 C, so it is not canonical.  C = 4.
	 */
	ok(parse("01204534", GTIN_KIND_UPCE, &r) == GTIN_UPCE_NONCANONICAL &&
	   strcmp(r.upca, "012000000454") == 0 && strcmp(r.upce, "01204504") == 0,
	   "non-canonical UPC-E 01204534 refused, naming UPC-A %s and UPC-E %s", r.upca, r.upce);
	ok(parse("01204504", GTIN_KIND_UPCE, &r) == GTIN_OK &&
	   r.value == INT64_C(12000000454), "its canonical form 01204504 accepted");
	ok(!gtin_upce_compress("112000000459", e), "UPC-A of number system 1 has no UPC-E");
	ok(!gtin_upce_compress("036000291452", e), "036000291452 has no UPC-E");
	{
		char		buf[GTIN_BUFSIZE];

		ok(gtin_format(value_of("042100005264", GTIN_KIND_ANY), GTIN_STYLE_UPCE, buf) &&
		   strcmp(buf, "04252614") == 0, "upce style");
		ok(!gtin_format(value_of("036000291452", GTIN_KIND_ANY), GTIN_STYLE_UPCE, buf),
		   "upce style absent for a code without one");
	}
}

static void
test_price_checks(void)
{
	char		p[6];
	int			v,
				pos,
				undetected4 = 0,
				undetected5 = 0;

	/* worked examples of the GS1 General Specifications (price/weight checks) */
	ok(gtin_price_check4("2875") == 9, "4-digit price 2875 -> verifier 9 (GS1 example)");
	ok(gtin_price_check5("14685") == 6, "5-digit price 14685 -> verifier 6 (GS1 example)");

	/* every single-digit substitution of every price changes the verifier */
	for (v = 0; v < 10000; v++)
	{
		int			c0;

		snprintf(p, sizeof(p), "%04d", v);
		c0 = gtin_price_check4(p);
		for (pos = 0; pos < 4; pos++)
		{
			char		orig = p[pos],
						c;

			for (c = '0'; c <= '9'; c++)
			{
				if (c == orig)
					continue;
				p[pos] = c;
				if (gtin_price_check4(p) == c0)
					undetected4++;
			}
			p[pos] = orig;
		}
	}
	for (v = 0; v < 100000; v++)
	{
		int			c0;

		snprintf(p, sizeof(p), "%05d", v);
		c0 = gtin_price_check5(p);
		for (pos = 0; pos < 5; pos++)
		{
			char		orig = p[pos],
						c;

			for (c = '0'; c <= '9'; c++)
			{
				if (c == orig)
					continue;
				p[pos] = c;
				if (gtin_price_check5(p) == c0)
					undetected5++;
			}
			p[pos] = orig;
		}
	}
	ok(undetected4 == 0, "4-digit verifier catches every single substitution");
	ok(undetected5 == 0, "5-digit verifier catches every single substitution");
}

static void
test_layouts(void)
{
	gtin_price_result r;
	const char *m4 = "PPIIIIIV$$$$C";
	const char *m5 = "PPIIIIV$$$$$C";

	ok(gtin_layout_check(m4, 13) == NULL, "4-digit layout valid");
	ok(gtin_layout_check(m5, 13) == NULL, "5-digit layout valid");
	ok(gtin_layout_check("PPIIIIIIXXXXC", 13) == NULL, "layout without price valid");
	ok(gtin_layout_check("PPIIIII$$$$$C", 13) == NULL, "price without verifier valid");
	ok(gtin_layout_check("PPIIIIIV$$$$", 12) != NULL, "12 characters refused");
	ok(gtin_layout_check("PPIIIIIV$$$$CC", 14) != NULL, "14 characters refused");
	ok(gtin_layout_check("PPIIIIIV$$$$X", 13) != NULL, "no C in last place refused");
	ok(gtin_layout_check("PPIIIIIV$$$C$", 13) != NULL, "C not last refused");
	ok(gtin_layout_check("PPIIIIV$$$$$D", 13) != NULL, "unknown letter refused");
	ok(gtin_layout_check("IPIIIIV$$$$$C", 13) != NULL, "not starting with P refused");
	ok(gtin_layout_check("PPIPIIV$$$$$C", 13) != NULL, "P after other digits refused");
	ok(gtin_layout_check("PPIIIVV$$$$$C", 13) != NULL, "two verifiers refused");
	ok(gtin_layout_check("PPIIIIIIV$$$C", 13) != NULL, "verifier over 3 digits refused");
	ok(gtin_layout_check("PIV$$$$$$$$$C", 13) != NULL, "verifier over 9 digits refused");

	/* 0 2 12345 9 2875 2: UPC-A 212345928752 in its 13-digit form */
	ok(gtin_layout_price("0212345928752", m4, 13, &r) == GTIN_LAYOUT_OK && r.pence == 2875,
	   "UPC-A 2 12345 9 2875 2: 2875 pence");
	ok(gtin_layout_price("0212345828752", m4, 13, &r) == GTIN_LAYOUT_BAD_PRICE_CHECK &&
	   r.expected_check == 9 && r.found_check == 8, "wrong price verifier refused, naming 9");
	ok(gtin_layout_price("2112346146859", m5, 13, &r) == GTIN_LAYOUT_OK && r.pence == 14685,
	   "EAN-13 21 1234 6 14685 9: 14685 pence");
	ok(gtin_layout_price("2112345146850", m5, 13, &r) == GTIN_LAYOUT_BAD_PRICE_CHECK &&
	   r.expected_check == 6, "wrong 5-digit verifier refused");
	ok(gtin_layout_price("2112345146850", "PPIIIIIXXXXXC", 13, &r) == GTIN_LAYOUT_NO_PRICE,
	   "layout without price digits: no price");
	ok(gtin_layout_price("2112345146850", "PPIIIII$$$$$C", 13, &r) == GTIN_LAYOUT_OK &&
	   r.pence == 14685, "price without verifier");
	ok(gtin_layout_price("2112345146850", "bad", 3, &r) == GTIN_LAYOUT_INVALID &&
	   r.layout_error != NULL, "invalid layout reported with a reason");
}

int
main(void)
{
	test_check_digits();
	test_parse_forms();
	test_lengths();
	test_substitutions();
	test_transpositions();
	test_format();
	test_validate();
	test_upce_exhaustive();
	test_upce();
	test_price_checks();
	test_layouts();
	return done_testing();
}
