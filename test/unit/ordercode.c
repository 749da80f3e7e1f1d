/*
 * ordercode.c: unit tests of src/core/ordercode.c (order codes).
 *
 * Proves, outside the server, what the order code promises: SipHash-2-4 as
 * its authors define it, a Feistel permutation that is a bijection (checked
 * exhaustively on reduced widths and by round trips on the real one), a
 * Damm check over GF(32) that catches every single substitution and every
 * adjacent transposition, and the input rules of the text form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ordercode.h"
#include "tap.h"

/* Deterministic PRNG (xorshift64*), so a failure can be reproduced. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(0x2545f4914f6cdd1d);
}

static void
random_key(OcKey *key, uint8_t raw[OC_KEY_BYTES])
{
	int			i;

	for (i = 0; i < OC_KEY_BYTES; i++)
		raw[i] = (uint8_t) rnd();
	oc_key_expand(key, raw);
}

static int
parse_status(const char *s, uint64_t *value)
{
	OcParseResult r;

	oc_parse(s, strlen(s), &r);
	if (value)
		*value = r.value;
	return r.status;
}

/* Reference vectors of SipHash-2-4 (vectors.h of the authors' code). */
static const char *const sip_vectors[] = {
	"310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d",
	"2d7efbd796666785", "b7877127e09427cf", "8da699cd64557618",
	"cee3fe586e46c9cb", "37d1018bf50002ab", "6224939a79f5f593",
	"b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
	"fbe50e86bc8f1e75",
};

static void
test_siphash(void)
{
	uint8_t		key[OC_KEY_BYTES];
	uint8_t		msg[16];
	int			n;
	int			bad = 0;
	OcKey		k;

	for (n = 0; n < 16; n++)
		key[n] = msg[n] = (uint8_t) n;
	for (n = 0; n < (int) (sizeof(sip_vectors) / sizeof(sip_vectors[0])); n++)
	{
		uint64_t	h = oc_siphash24(key, msg, (size_t) n);
		char		hex[17];
		int			i;

		/* the vectors list the output bytes, least significant first */
		for (i = 0; i < 8; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned) ((h >> (8 * i)) & 0xff));
		ok(strcmp(hex, sip_vectors[n]) == 0,
		   "SipHash-2-4 reference vector, %d-byte message (%s)", n, hex);
	}

	/* The one-word fast path agrees with the general function. */
	for (n = 0; n < 10000; n++)
	{
		uint8_t		raw[OC_KEY_BYTES];
		uint32_t	m = (uint32_t) rnd();
		uint8_t		mb[4];
		int			i;

		random_key(&k, raw);
		for (i = 0; i < 4; i++)
			mb[i] = (uint8_t) (m >> (8 * i));
		if (oc_siphash24_u32(&k, m) != oc_siphash24(raw, mb, 4))
			bad++;
	}
	ok(bad == 0, "4-byte SipHash equals the general one on 10000 random keys and words (%d differ)", bad);
	oc_key_expand(&k, key);
	ok(oc_siphash24_u32(&k, 0x03020100) == oc_siphash24(key, msg, 4),
	   "4-byte SipHash gives the reference vector of the message 00 01 02 03");
}

static void
test_damm_algebra(void)
{
	unsigned	c,
				a,
				b;
	int			subst = 0,
				transp = 0,
				zero = 0,
				range = 0;

	for (c = 0; c < 32; c++)
		for (a = 0; a < 32; a++)
		{
			if (oc_damm_step(c, a) > 31)
				range++;
			if ((oc_damm_step(c, a) == 0) != (a == c))
				zero++;
			for (b = 0; b < 32; b++)
			{
				if (a == b)
					continue;
				if (oc_damm_step(c, a) == oc_damm_step(c, b))
					subst++;
				if (oc_damm_step(oc_damm_step(c, a), b) ==
					oc_damm_step(oc_damm_step(c, b), a))
					transp++;
			}
		}
	ok(range == 0, "every Damm step stays in GF(32)");
	ok(zero == 0, "a Damm step gives 0 exactly when the symbol equals the interim (so the check closes to 0)");
	ok(subst == 0, "for every interim, distinct symbols give distinct steps (%d collisions)", subst);
	ok(transp == 0, "for every interim, ab and ba give distinct results when a != b (%d collisions)", transp);
}

/* Code symbols of a formatted code. */
static void
code_symbols(const char *text, char *sym)
{
	int			n = 0;

	for (; *text; text++)
		if (*text != '-')
			sym[n++] = *text;
	sym[n] = '\0';
}

static void
test_damm_codes(void)
{
	const int	ncodes = 5000;
	int			i;
	long		subst_tried = 0,
				subst_missed = 0,
				transp_tried = 0,
				transp_missed = 0,
				roundtrip_bad = 0;

	for (i = 0; i < ncodes; i++)
	{
		uint64_t	v = rnd() & (OC_VALUE_LIMIT - 1);
		uint64_t	back;
		char		text[OC_TEXT_LEN + 1];
		char		sym[OC_CODE_CHARS + 1];
		char		mut[OC_CODE_CHARS + 1];
		int			pos,
					s;

		oc_format(v, text);
		if (parse_status(text, &back) != OC_OK || back != v)
			roundtrip_bad++;
		code_symbols(text, sym);

		for (pos = 0; pos < OC_CODE_CHARS; pos++)
			for (s = 0; s < 32; s++)
			{
				if (oc_alphabet[s] == sym[pos])
					continue;
				memcpy(mut, sym, sizeof(mut));
				mut[pos] = oc_alphabet[s];
				subst_tried++;
				if (parse_status(mut, NULL) != OC_ERR_CHECK)
					subst_missed++;
			}
		for (pos = 0; pos + 1 < OC_CODE_CHARS; pos++)
		{
			if (sym[pos] == sym[pos + 1])
				continue;
			memcpy(mut, sym, sizeof(mut));
			mut[pos] = sym[pos + 1];
			mut[pos + 1] = sym[pos];
			transp_tried++;
			if (parse_status(mut, NULL) != OC_ERR_CHECK)
				transp_missed++;
		}
	}
	ok(roundtrip_bad == 0, "format then parse gives the value back for %d random codes", ncodes);
	ok(subst_tried == (long) ncodes * 12 * 31 && subst_missed == 0,
	   "every one of %ld single substitutions (31 symbols x 12 positions x %d codes) is caught as a check failure (%ld missed)",
	   subst_tried, ncodes, subst_missed);
	ok(transp_tried > (long) ncodes * 10 && transp_missed == 0,
	   "every one of %ld adjacent transpositions, the check character included, is caught (%ld missed)",
	   transp_tried, transp_missed);
}

static void
test_parse(void)
{
	uint64_t	v = UINT64_C(0x1234567890abc) & (OC_VALUE_LIMIT - 1);
	uint64_t	got;
	uint64_t	ones;
	char		text[OC_TEXT_LEN + 1];
	char		buf[64];
	char		sym[OC_CODE_CHARS + 1];
	OcParseResult r;
	int			i;

	oc_format(v, text);
	ok(strlen(text) == OC_TEXT_LEN && text[4] == '-' && text[9] == '-',
	   "canonical form is XXXX-XXXX-XXXX (%s)", text);
	code_symbols(text, sym);

	ok(parse_status(sym, &got) == OC_OK && got == v, "accepted without hyphens");
	for (i = 0; sym[i]; i++)
		buf[i] = (char) ((sym[i] >= 'A' && sym[i] <= 'Z') ? sym[i] - 'A' + 'a' : sym[i]);
	buf[i] = '\0';
	ok(parse_status(buf, &got) == OC_OK && got == v, "accepted in lower case (%s)", buf);
	snprintf(buf, sizeof(buf), " \t%.2s - %.3s  %.3s--%.4s\r\n", sym, sym + 2, sym + 5, sym + 8);
	ok(parse_status(buf, &got) == OC_OK && got == v, "hyphens and spaces anywhere, surrounding whitespace ignored");

	/* 0/O and 1/I/L are read alike */
	ok(parse_status("0000-0000-0000", &got) == OC_OK && got == 0, "all zeros is a valid code");
	ok(parse_status("OOOO-oooo-OOOO", &got) == OC_OK && got == 0, "O and o read as 0");
	for (ones = 0, i = 0; i < OC_DATA_CHARS; i++)
		ones = (ones << 5) | 1;
	oc_format(ones, text);
	ok(strncmp(text, "1111-1111-111", 13) == 0, "eleven 1 symbols format as 1111-1111-111x (%s)", text);
	snprintf(buf, sizeof(buf), "IiLl-1IlL-iLl%c", text[13]);
	ok(parse_status(buf, &got) == OC_OK && got == ones, "I, i, L and l read as 1 (%s)", buf);

	oc_parse("ABCD-EFGU-1234", 14, &r);
	ok(r.status == OC_ERR_U && r.err_offset == 8, "U is rejected with its position");
	oc_parse("  abcd-efgu-1234", 16, &r);
	ok(r.status == OC_ERR_U && r.err_offset == 10, "lower-case u is rejected with its byte offset");
	oc_parse("ABCD_EFGH-1234", 14, &r);
	ok(r.status == OC_ERR_SYMBOL && r.err_offset == 4, "an underscore is a bad symbol");
	oc_parse("ABCD-EFGH-12\xc3\xa9" "34", 16, &r);
	ok(r.status == OC_ERR_SYMBOL && r.err_offset == 12, "a non-ASCII byte is a bad symbol");
	oc_parse("ABCD\tEFGH-1234", 14, &r);
	ok(r.status == OC_ERR_SYMBOL && r.err_offset == 4, "a tab between characters is a bad symbol");
	oc_parse("ABCD-EFGH-123", 13, &r);
	ok(r.status == OC_ERR_LENGTH && r.n_symbols == 11, "11 symbols is a wrong length");
	oc_parse("ABCD-EFGH-12345", 15, &r);
	ok(r.status == OC_ERR_LENGTH && r.n_symbols == 13, "13 symbols is a wrong length");
	ok(parse_status("", NULL) == OC_ERR_EMPTY, "empty string is rejected as empty");
	ok(parse_status(" \t- -- \n", NULL) == OC_ERR_EMPTY, "only separators is rejected as empty");
	oc_parse("ABCD-EFGH-123U4", 15, &r);
	ok(r.status == OC_ERR_U, "a bad symbol is reported before a wrong length");

	/* an embedded NUL in counted text is a bad symbol, not the end */
	memcpy(buf, sym, 12);
	buf[5] = '\0';
	oc_parse(buf, 12, &r);
	ok(r.status == OC_ERR_SYMBOL && r.err_offset == 5, "an embedded NUL byte is a bad symbol");

	/* every 11-symbol value has exactly one check symbol */
	for (i = 0; i < 32; i++)
	{
		memcpy(buf, sym, 12);
		buf[11] = oc_alphabet[i];
		buf[12] = '\0';
		if ((parse_status(buf, NULL) == OC_OK) != (oc_alphabet[i] == sym[11]))
			break;
	}
	ok(i == 32, "exactly one of the 32 possible check symbols is accepted");
}

/* Bijection on reduced widths, exhaustively. */
static void
test_feistel_exhaustive(int half_bits, int limit_bits)
{
	uint64_t	limit = UINT64_C(1) << limit_bits;
	unsigned char *seen = calloc(limit, 1);
	uint8_t		raw[OC_KEY_BYTES];
	OcKey		key;
	uint64_t	x;
	long		dup = 0,
				out = 0,
				inv = 0,
				fixed = 0;

	random_key(&key, raw);
	for (x = 0; x < limit; x++)
	{
		uint64_t	y = oc_permute_w(&key, x, half_bits, limit_bits);

		if (y >= limit)
		{
			out++;
			continue;
		}
		if (seen[y]++)
			dup++;
		if (oc_unpermute_w(&key, y, half_bits, limit_bits) != x)
			inv++;
		if (y == x)
			fixed++;
	}
	ok(out == 0 && dup == 0 && inv == 0,
	   "half width %d, limit 2^%d: all %llu inputs map into the domain, no two alike, inverse exact (%ld out, %ld dup, %ld inverse)",
	   half_bits, limit_bits, (unsigned long long) limit, out, dup, inv);
	/* a random permutation has about one fixed point */
	ok(fixed < 16, "half width %d, limit 2^%d: few fixed points (%ld)", half_bits, limit_bits, fixed);
	free(seen);
}

static void
test_feistel(void)
{
	uint8_t		raw[OC_KEY_BYTES];
	OcKey		key,
				key2;
	int			i;
	long		bad = 0,
				range = 0,
				same = 0;
	double		dist = 0;
	const int	n = 200000;

	test_feistel_exhaustive(8, 16);
	test_feistel_exhaustive(8, 15);
	test_feistel_exhaustive(10, 19);
	test_feistel_exhaustive(11, 21);
	test_feistel_exhaustive(4, 7);

	random_key(&key, raw);
	random_key(&key2, raw);
	for (i = 0; i < n; i++)
	{
		uint64_t	x = rnd() & (OC_VALUE_LIMIT - 1);
		uint64_t	y = oc_permute(&key, x);

		if (y >= OC_VALUE_LIMIT)
			range++;
		else if (oc_unpermute(&key, y) != x)
			bad++;
		if (oc_permute(&key2, x) == y)
			same++;
	}
	ok(range == 0, "the 55-bit permutation stays below 2^55 for %d random inputs", n);
	ok(bad == 0, "unpermute(permute(x)) == x for %d random 55-bit x (%ld wrong)", n, bad);
	ok(same == 0, "two keys give different codes for the same input (%ld alike)", same);

	/* the extremes of the plaintext space round-trip too */
	ok(oc_unpermute(&key, oc_permute(&key, 0)) == 0 &&
	   oc_unpermute(&key, oc_permute(&key, OC_VALUE_LIMIT - 1)) == OC_VALUE_LIMIT - 1 &&
	   oc_unpermute(&key, oc_permute(&key, oc_plain(OC_MAX_NODE, OC_MAX_SEQ))) ==
	   oc_plain(OC_MAX_NODE, OC_MAX_SEQ),
	   "extreme plaintexts round-trip");

	/*
	 * Consecutive sequence numbers give unrelated codes: about half of the
	 * 55 bits differ on average (27.5; the standard error over 20000 pairs
	 * is about 0.03).
	 */
	for (i = 0; i < 20000; i++)
	{
		uint64_t	a = oc_permute(&key, oc_plain(7, (uint64_t) i + 1));
		uint64_t	b = oc_permute(&key, oc_plain(7, (uint64_t) i + 2));

		dist += __builtin_popcountll(a ^ b);
	}
	dist /= 20000;
	ok(dist > 27.0 && dist < 28.0, "consecutive sequence numbers differ in %.2f of 55 bits on average", dist);

	/* Plaintext packing. */
	ok(oc_plain_node(oc_plain(4095, OC_MAX_SEQ)) == 4095 &&
	   oc_plain_seq(oc_plain(4095, OC_MAX_SEQ)) == OC_MAX_SEQ &&
	   oc_plain_node(oc_plain(1, 1)) == 1 && oc_plain_seq(oc_plain(1, 1)) == 1 &&
	   oc_plain(OC_MAX_NODE, OC_MAX_SEQ) == OC_VALUE_LIMIT - 1,
	   "node and sequence pack into 55 bits and unpack");
}

/*
 * Known answers under the key 00..0f.  They freeze the format: codes are
 * printed on receipts, so a change to the permutation, the round function
 * or the text form must make this test fail.
 */
#define KAT_0_1 "SRDP-JTHF-3K29"
#define KAT_1_1 "F14M-61TE-WJDS"
#define KAT_MAX "AJ9F-KTN0-PG8D"

static void
test_known_answers(void)
{
	uint8_t		raw[OC_KEY_BYTES];
	OcKey		key;
	char		text[OC_TEXT_LEN + 1];
	int			i;

	for (i = 0; i < OC_KEY_BYTES; i++)
		raw[i] = (uint8_t) i;
	oc_key_expand(&key, raw);

	oc_format(oc_permute(&key, oc_plain(0, 1)), text);
	ok(strcmp(text, KAT_0_1) == 0, "known answer: node 0, sequence 1 is %s (got %s)", KAT_0_1, text);
	oc_format(oc_permute(&key, oc_plain(1, 1)), text);
	ok(strcmp(text, KAT_1_1) == 0, "known answer: node 1, sequence 1 is %s (got %s)", KAT_1_1, text);
	oc_format(oc_permute(&key, oc_plain(4095, OC_MAX_SEQ)), text);
	ok(strcmp(text, KAT_MAX) == 0, "known answer: node 4095, last sequence is %s (got %s)", KAT_MAX, text);
	oc_format(0, text);
	ok(strcmp(text, "0000-0000-0000") == 0, "value 0 formats as 0000-0000-0000");
	oc_format(OC_VALUE_LIMIT - 1, text);
	ok(strncmp(text, "ZZZZ-ZZZZ-ZZZ", 13) == 0, "value 2^55-1 formats as ZZZZ-ZZZZ-ZZZ? (%s)", text);
}

int
main(void)
{
	test_siphash();
	test_damm_algebra();
	test_damm_codes();
	test_parse();
	test_feistel();
	test_known_answers();
	return done_testing();
}
