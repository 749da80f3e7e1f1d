/*
 * ordercode.c: libFuzzer target for src/core/ordercode.c (icos.order_code).
 *
 * The whole input is parsed as text.  Invariants:
 *	- the parser stays inside the input (AddressSanitizer) and an offending
 *	  byte it reports is inside the input and really is no code symbol;
 *	- an accepted code is a 55-bit value whose formatted text is
 *	  XXXX-XXXX-XXXX, parses back to the same value, and ends in a check
 *	  character that brings the Damm check of all 12 symbols to zero.
 * The first bytes are also read as a value, a 128-bit key and positions:
 *	- format/parse round trip of the value;
 *	- a single substitution of any symbol, and a transposition of two
 *	  adjacent different symbols, is refused as a bad check (the two
 *	  error classes the Damm check over GF(32) must catch);
 *	- the keyed Feistel permutation stays below 2^55 and is undone by its
 *	  inverse, at full width and at a small width chosen by the input.
 */
#include <string.h>

#include "ordercode.h"
#include "fuzz.h"

/* The 12 symbol positions of XXXX-XXXX-XXXX in the text. */
static const int sympos[OC_CODE_CHARS] = {0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13};

static void
check_formatted(uint64_t v, char *buf)
{
	OcParseResult r;
	unsigned char sym[OC_CODE_CHARS];
	int			i;

	CHECK(v < OC_VALUE_LIMIT, "value %llu", (unsigned long long) v);
	oc_format(v, buf);
	CHECK(strlen(buf) == OC_TEXT_LEN && buf[4] == '-' && buf[9] == '-',
		  "format of %llu is '%s'", (unsigned long long) v, buf);
	for (i = 0; i < OC_CODE_CHARS; i++)
	{
		int			s = oc_symbol((unsigned char) buf[sympos[i]]);

		CHECK(s >= 0 && s < 32 && oc_alphabet[s] == buf[sympos[i]],
			  "'%c' in '%s' is not canonical", buf[sympos[i]], buf);
		sym[i] = (unsigned char) s;
	}
	CHECK(oc_damm(sym, OC_CODE_CHARS) == 0, "check of '%s' does not run to 0", buf);
	oc_parse(buf, OC_TEXT_LEN, &r);
	CHECK(r.status == OC_OK && r.value == v, "'%s' parses to %d/%llu, not %llu",
		  buf, (int) r.status, (unsigned long long) r.value, (unsigned long long) v);
}

static void
check_text(const char *s, size_t len)
{
	OcParseResult r;
	char		buf[OC_TEXT_LEN + 1];

	oc_parse(s, len, &r);
	switch (r.status)
	{
		case OC_OK:
			CHECK(r.n_symbols == OC_CODE_CHARS, "%zu symbols", r.n_symbols);
			check_formatted(r.value, buf);
			break;
		case OC_ERR_U:
		case OC_ERR_SYMBOL:
			CHECK(r.err_offset < len, "offset %zu of %zu", r.err_offset, len);
			CHECK(oc_symbol((unsigned char) s[r.err_offset]) ==
				  (r.status == OC_ERR_U ? OC_SYM_U : OC_SYM_BAD),
				  "byte 0x%02x at %zu reported", (unsigned char) s[r.err_offset],
				  r.err_offset);
			break;
		case OC_ERR_EMPTY:
			CHECK(r.n_symbols == 0, "empty with %zu symbols", r.n_symbols);
			break;
		case OC_ERR_LENGTH:
			CHECK(r.n_symbols != OC_CODE_CHARS && r.n_symbols > 0, "%zu symbols", r.n_symbols);
			break;
		case OC_ERR_CHECK:
			CHECK(r.n_symbols == OC_CODE_CHARS, "%zu symbols", r.n_symbols);
			break;
		default:
			CHECK(0, "unknown status %d", (int) r.status);
	}
}

static void
check_typos(fuzz_reader *in)
{
	char		good[OC_TEXT_LEN + 1];
	char		typo[OC_TEXT_LEN + 1];
	uint64_t	v = fuzz_u64(in, 7) % OC_VALUE_LIMIT;
	int			i = (int) fuzz_below(in, OC_CODE_CHARS);
	int			sub = (int) fuzz_below(in, 31) + 1;
	OcParseResult r;

	check_formatted(v, good);

	/* single substitution: position i gets another symbol */
	memcpy(typo, good, sizeof(good));
	typo[sympos[i]] = oc_alphabet[(oc_symbol((unsigned char) good[sympos[i]]) + sub) % 32];
	oc_parse(typo, OC_TEXT_LEN, &r);
	CHECK(r.status == OC_ERR_CHECK, "substitution '%s' -> '%s' gives status %d",
		  good, typo, (int) r.status);

	/* adjacent transposition of symbols i and i + 1 (across a hyphen too) */
	if (i + 1 < OC_CODE_CHARS && good[sympos[i]] != good[sympos[i + 1]])
	{
		memcpy(typo, good, sizeof(good));
		typo[sympos[i]] = good[sympos[i + 1]];
		typo[sympos[i + 1]] = good[sympos[i]];
		oc_parse(typo, OC_TEXT_LEN, &r);
		CHECK(r.status == OC_ERR_CHECK, "transposition '%s' -> '%s' gives status %d",
			  good, typo, (int) r.status);
	}
}

static void
check_permutation(fuzz_reader *in)
{
	uint8_t		raw[OC_KEY_BYTES];
	OcKey		key;
	uint64_t	x,
				y;
	int			half,
				limit,
				i;

	for (i = 0; i < OC_KEY_BYTES; i++)
		raw[i] = fuzz_u8(in);
	oc_key_expand(&key, raw);

	x = fuzz_u64(in, 7) % OC_VALUE_LIMIT;
	y = oc_permute(&key, x);
	CHECK(y < OC_VALUE_LIMIT, "permute(%llu) = %llu", (unsigned long long) x,
		  (unsigned long long) y);
	CHECK(oc_unpermute(&key, y) == x, "unpermute(permute(%llu)) = %llu",
		  (unsigned long long) x, (unsigned long long) oc_unpermute(&key, y));

	/* a small domain: 2 * half - 1 <= limit <= 2 * half */
	half = 1 + (int) fuzz_below(in, 12);
	limit = 2 * half - (int) fuzz_below(in, 2);
	x = fuzz_u64(in, 3) % (UINT64_C(1) << limit);
	y = oc_permute_w(&key, x, half, limit);
	CHECK(y < (UINT64_C(1) << limit), "w%d/%d: permute(%llu) = %llu", half, limit,
		  (unsigned long long) x, (unsigned long long) y);
	CHECK(oc_unpermute_w(&key, y, half, limit) == x, "w%d/%d: inverse fails for %llu",
		  half, limit, (unsigned long long) x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size ? size : 1);
	fuzz_reader in;

	/* an exact-size copy, so that reading one byte too far is caught */
	memcpy(text, data, size);
	check_text(text, size);
	free(text);

	fuzz_reader_init(&in, data, size);
	check_typos(&in);
	check_permutation(&in);
	return 0;
}
