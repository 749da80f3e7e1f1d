/*-------------------------------------------------------------------------
 *
 * ordercode.c
 *	  Server-free core of the icos order code (see ordercode.h).
 *
 * The permutation is a balanced Feistel network over a 56-bit domain (two
 * 28-bit halves) with OC_ROUNDS rounds, whose round function is SipHash-2-4
 * under the deployment's 128-bit key of the 32-bit word (round << 28 | half),
 * as 4 little-endian bytes, truncated to 28 bits.  Since the codes hold 55 bits, the network is
 * cycle-walked: a result at or above 2^55 is encrypted again until it falls
 * below; as the network is a permutation of the 56-bit domain, this is a
 * permutation of the 55-bit one, and the inverse walks back the same way.
 *
 *-------------------------------------------------------------------------
 */
#include "ordercode.h"

#include <string.h>

/* Crockford Base32: digits and letters without I, L, O and U. */
const char	oc_alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* ----------
 * SipHash-2-4 (Aumasson and Bernstein), written from the specification.
 * ----------
 */
#define ROTL64(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3) \
	do { \
		v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32); \
		v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32); \
	} while (0)

/*
 * SipHash-2-4's last block b (the message tail and its length byte): two
 * compression rounds, then the four finalisation rounds.  A macro, like
 * SIPROUND, so the round function of the Feistel network stays inline.
 */
#define SIP_FINAL(v0, v1, v2, v3, b) \
	do { \
		v3 ^= (b); \
		SIPROUND(v0, v1, v2, v3); SIPROUND(v0, v1, v2, v3); \
		v0 ^= (b); \
		v2 ^= 0xff; \
		SIPROUND(v0, v1, v2, v3); SIPROUND(v0, v1, v2, v3); \
		SIPROUND(v0, v1, v2, v3); SIPROUND(v0, v1, v2, v3); \
	} while (0)

static uint64_t
load_le64(const uint8_t *p)
{
	uint64_t	r = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		r = (r << 8) | p[i];
	return r;
}

void
oc_key_expand(OcKey *key, const uint8_t raw[OC_KEY_BYTES])
{
	uint64_t	k0 = load_le64(raw);
	uint64_t	k1 = load_le64(raw + 8);

	key->v0 = k0 ^ UINT64_C(0x736f6d6570736575);
	key->v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
	key->v2 = k0 ^ UINT64_C(0x6c7967656e657261);
	key->v3 = k1 ^ UINT64_C(0x7465646279746573);
}

uint64_t
oc_siphash24(const uint8_t key[OC_KEY_BYTES], const void *msg, size_t len)
{
	const uint8_t *in = msg;
	OcKey		k;
	uint64_t	v0,
				v1,
				v2,
				v3;
	uint64_t	b = (uint64_t) len << 56;
	size_t		full = len - len % 8;
	size_t		i;

	oc_key_expand(&k, key);
	v0 = k.v0;
	v1 = k.v1;
	v2 = k.v2;
	v3 = k.v3;

	for (i = 0; i < full; i += 8)
	{
		uint64_t	m = load_le64(in + i);

		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (i = full; i < len; i++)
		b |= (uint64_t) in[i] << (8 * (i - full));

	SIP_FINAL(v0, v1, v2, v3, b);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * The same function for a message of exactly 4 bytes (the little-endian
 * bytes of m).  A message shorter than 8 bytes fits in the final block
 * together with the length byte, so this is two compression and four
 * finalisation rounds: 6 SipRounds instead of the 8 an 8-byte message takes.
 */
static inline uint64_t
siphash24_u32(const OcKey *key, uint32_t m)
{
	uint64_t	v0 = key->v0;
	uint64_t	v1 = key->v1;
	uint64_t	v2 = key->v2;
	uint64_t	v3 = key->v3;
	const uint64_t b = (UINT64_C(4) << 56) | m;

	SIP_FINAL(v0, v1, v2, v3, b);
	return v0 ^ v1 ^ v2 ^ v3;
}

/*
 * The exported functions are wrappers: in a shared library a call to an
 * exported function may not be inlined (it could be interposed), and the
 * permutation calls the round function a dozen times per code.
 */
uint64_t
oc_siphash24_u32(const OcKey *key, uint32_t m)
{
	return siphash24_u32(key, m);
}

/* ----------
 * Feistel network
 * ----------
 */

/*
 * Round function: SipHash-2-4 of the 4-byte message (round << 28 | half),
 * truncated to the half width.  OC_ROUNDS <= 16 and half widths <= 28 bits
 * keep the two fields apart.
 */
static inline uint64_t
round_f(const OcKey *key, unsigned round, uint64_t half, uint64_t mask)
{
	return siphash24_u32(key, (uint32_t) ((round << 28) | half)) & mask;
}

/*
 * One pass through the network.  With halves (L, R), each round maps
 * (L, R) to (R, L xor F(round, R)).
 */
static uint64_t
feistel_encrypt(const OcKey *key, uint64_t x, int half_bits)
{
	uint64_t	mask = (UINT64_C(1) << half_bits) - 1;
	uint64_t	l = x >> half_bits;
	uint64_t	r = x & mask;
	unsigned	i;

	for (i = 0; i < OC_ROUNDS; i++)
	{
		uint64_t	t = l ^ round_f(key, i, r, mask);

		l = r;
		r = t;
	}
	return (l << half_bits) | r;
}

static uint64_t
feistel_decrypt(const OcKey *key, uint64_t y, int half_bits)
{
	uint64_t	mask = (UINT64_C(1) << half_bits) - 1;
	uint64_t	l = y >> half_bits;
	uint64_t	r = y & mask;
	unsigned	i = OC_ROUNDS;

	while (i-- > 0)
	{
		uint64_t	t = r ^ round_f(key, i, l, mask);

		r = l;
		l = t;
	}
	return (l << half_bits) | r;
}

/*
 * Cycle-walking terminates: x lies on a cycle of the 2^(2*half_bits)
 * permutation, and that cycle returns to x, which is below the limit.
 */
static inline uint64_t
permute_w(const OcKey *key, uint64_t x, int half_bits, int limit_bits)
{
	uint64_t	limit = UINT64_C(1) << limit_bits;

	do
		x = feistel_encrypt(key, x, half_bits);
	while (x >= limit);
	return x;
}

static inline uint64_t
unpermute_w(const OcKey *key, uint64_t y, int half_bits, int limit_bits)
{
	uint64_t	limit = UINT64_C(1) << limit_bits;

	do
		y = feistel_decrypt(key, y, half_bits);
	while (y >= limit);
	return y;
}

uint64_t
oc_permute_w(const OcKey *key, uint64_t x, int half_bits, int limit_bits)
{
	return permute_w(key, x, half_bits, limit_bits);
}

uint64_t
oc_unpermute_w(const OcKey *key, uint64_t y, int half_bits, int limit_bits)
{
	return unpermute_w(key, y, half_bits, limit_bits);
}

uint64_t
oc_permute(const OcKey *key, uint64_t x)
{
	return permute_w(key, x, OC_HALF_BITS, OC_VALUE_BITS);
}

uint64_t
oc_unpermute(const OcKey *key, uint64_t y)
{
	return unpermute_w(key, y, OC_HALF_BITS, OC_VALUE_BITS);
}

/* ----------
 * Damm check, Crockford Base32
 * ----------
 */
unsigned
oc_damm(const unsigned char *symbols, int n)
{
	unsigned	c = 0;
	int			i;

	for (i = 0; i < n; i++)
		c = oc_damm_step(c, symbols[i]);
	return c;
}

int
oc_symbol(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'z')
		ch = ch - 'a' + 'A';
	switch (ch)
	{
		case ' ':
		case '-':
			return OC_SYM_SKIP;
		case 'I':
		case 'L':
			return 1;
		case 'O':
			return 0;
		case 'U':
			return OC_SYM_U;
		default:
			break;
	}
	if (ch >= 'A' && ch <= 'Z')
	{
		const char *p = memchr(oc_alphabet, ch, sizeof(oc_alphabet));

		return (int) (p - oc_alphabet);
	}
	return OC_SYM_BAD;
}

/* Whitespace around a code: the ASCII set, whatever the locale. */
static int
is_ascii_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		ch == '\v' || ch == '\f';
}

void
oc_parse(const char *text, size_t len, OcParseResult *result)
{
	const unsigned char *s = (const unsigned char *) text;
	unsigned char sym[OC_CODE_CHARS];
	size_t		start = 0;
	size_t		end = len;
	size_t		n = 0;
	size_t		i;
	uint64_t	value = 0;

	memset(result, 0, sizeof(*result));
	while (start < end && is_ascii_space(s[start]))
		start++;
	while (end > start && is_ascii_space(s[end - 1]))
		end--;

	for (i = start; i < end; i++)
	{
		int			v = oc_symbol(s[i]);

		if (v == OC_SYM_SKIP)
			continue;
		if (v < 0)
		{
			result->status = (v == OC_SYM_U) ? OC_ERR_U : OC_ERR_SYMBOL;
			result->err_offset = i;
			result->n_symbols = n;
			return;
		}
		if (n < OC_CODE_CHARS)
			sym[n] = (unsigned char) v;
		n++;
	}
	result->n_symbols = n;
	if (n == 0)
	{
		result->status = OC_ERR_EMPTY;
		return;
	}
	if (n != OC_CODE_CHARS)
	{
		result->status = OC_ERR_LENGTH;
		return;
	}
	if (oc_damm(sym, OC_CODE_CHARS) != 0)
	{
		result->status = OC_ERR_CHECK;
		return;
	}
	for (i = 0; i < OC_DATA_CHARS; i++)
		value = (value << 5) | sym[i];
	result->status = OC_OK;
	result->value = value;
}

void
oc_format(uint64_t value, char *buf)
{
	unsigned char sym[OC_CODE_CHARS];
	int			i;
	int			j = 0;

	for (i = OC_DATA_CHARS - 1; i >= 0; i--)
	{
		sym[i] = (unsigned char) (value & 31);
		value >>= 5;
	}
	sym[OC_DATA_CHARS] = (unsigned char) oc_damm(sym, OC_DATA_CHARS);
	for (i = 0; i < OC_CODE_CHARS; i++)
	{
		if (i == 4 || i == 8)
			buf[j++] = '-';
		buf[j++] = oc_alphabet[sym[i]];
	}
	buf[j] = '\0';
}
