/*-------------------------------------------------------------------------
 *
 * ordercode.h
 *	  Server-free core of the icos order code: keyed permutation, Crockford
 *	  Base32 text form and the Damm check character over GF(32).
 *
 * An order code carries 55 bits: 12 bits of node id and 43 bits of a
 * node-local sequence number (the "plaintext").  A keyed Feistel network
 * permutes the plaintext so that codes are not guessable from earlier ones;
 * the permuted 55-bit value is what the type stores and what the text form
 * spells out, as 11 Crockford Base32 characters, most significant first,
 * followed by one Damm check character.  The text form is XXXX-XXXX-XXXX.
 *
 * Plain C99 and libc only: no PostgreSQL headers, so the unit tests in
 * test/unit can exercise every function here outside the server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_ORDERCODE_H
#define ICOS_ORDERCODE_H

#include <stddef.h>
#include <stdint.h>

/* Widths of the plaintext fields and of the code value. */
#define OC_NODE_BITS		12
#define OC_SEQ_BITS			43
#define OC_VALUE_BITS		(OC_NODE_BITS + OC_SEQ_BITS)	/* 55 */
#define OC_MAX_NODE			((1 << OC_NODE_BITS) - 1)	/* 4095 */
#define OC_MAX_SEQ			((UINT64_C(1) << OC_SEQ_BITS) - 1)
#define OC_VALUE_LIMIT		(UINT64_C(1) << OC_VALUE_BITS)	/* exclusive */

/* Feistel network: two 28-bit halves (a 56-bit domain), cycle-walked to 55. */
#define OC_HALF_BITS		28
#define OC_ROUNDS			6	/* at most 16: the round number has 4 bits */

/* Text form. */
#define OC_DATA_CHARS		11	/* 11 * 5 = 55 bits */
#define OC_CODE_CHARS		12	/* plus the check character */
#define OC_TEXT_LEN			14	/* XXXX-XXXX-XXXX */
#define OC_KEY_BYTES		16

extern const char oc_alphabet[32];

/*
 * An expanded 128-bit key: the SipHash-2-4 initial state, computed once so
 * that each round function evaluation starts from it.
 */
typedef struct OcKey
{
	uint64_t	v0;
	uint64_t	v1;
	uint64_t	v2;
	uint64_t	v3;
} OcKey;

/* SipHash-2-4 of a byte string (the reference definition). */
extern uint64_t oc_siphash24(const uint8_t key[OC_KEY_BYTES],
							 const void *msg, size_t len);

/* Expand a 16-byte key (two little-endian 64-bit words, as in SipHash). */
extern void oc_key_expand(OcKey *key, const uint8_t raw[OC_KEY_BYTES]);

/* SipHash-2-4 of one 32-bit word (its 4 little-endian bytes), fast path. */
extern uint64_t oc_siphash24_u32(const OcKey *key, uint32_t m);

/*
 * The keyed permutation, parametrised by width so that it can be checked
 * exhaustively on a small domain: a balanced Feistel network on two
 * half_bits halves, cycle-walked until the result is below 2^limit_bits
 * (2 * half_bits - 1 <= limit_bits <= 2 * half_bits; x must be below
 * 2^limit_bits).  The production instance is half_bits = 28, limit_bits = 55.
 */
extern uint64_t oc_permute_w(const OcKey *key, uint64_t x,
							 int half_bits, int limit_bits);
extern uint64_t oc_unpermute_w(const OcKey *key, uint64_t y,
							   int half_bits, int limit_bits);

/* The production permutation of a 55-bit value, and its inverse. */
extern uint64_t oc_permute(const OcKey *key, uint64_t x);
extern uint64_t oc_unpermute(const OcKey *key, uint64_t y);

/* Plaintext packing. */
static inline uint64_t
oc_plain(unsigned node, uint64_t seq)
{
	return ((uint64_t) node << OC_SEQ_BITS) | seq;
}

static inline unsigned
oc_plain_node(uint64_t plain)
{
	return (unsigned) (plain >> OC_SEQ_BITS);
}

static inline uint64_t
oc_plain_seq(uint64_t plain)
{
	return plain & OC_MAX_SEQ;
}

/*
 * Damm check over GF(32): one step is c = 2 * (c xor d), multiplication in
 * GF(2)[x] / (x^5 + x^2 + 1).  The check symbol of a string of symbols is the
 * final interim c; a string followed by its check symbol runs to 0.
 */
static inline unsigned
oc_damm_step(unsigned c, unsigned d)
{
	unsigned	t = (c ^ d) << 1;

	return (t & 0x20) ? (t ^ 0x25) : t;
}

extern unsigned oc_damm(const unsigned char *symbols, int n);

/* Symbol value of an input byte: 0..31, or one of the codes below. */
#define OC_SYM_SKIP		(-1)	/* hyphen or space: ignored */
#define OC_SYM_U		(-2)	/* U or u: not used by Crockford Base32 */
#define OC_SYM_BAD		(-3)	/* anything else */
extern int	oc_symbol(unsigned char ch);

/* Result of oc_parse. */
typedef enum OcParseStatus
{
	OC_OK = 0,
	OC_ERR_EMPTY,				/* nothing but whitespace, hyphens, spaces */
	OC_ERR_U,					/* the letter U at err_offset */
	OC_ERR_SYMBOL,				/* a byte that is no symbol at err_offset */
	OC_ERR_LENGTH,				/* symbols counted in n_symbols */
	OC_ERR_CHECK				/* well formed, but the check does not match */
} OcParseStatus;

typedef struct OcParseResult
{
	OcParseStatus status;
	uint64_t	value;			/* the 55-bit value when status is OC_OK */
	size_t		err_offset;		/* byte offset of the offending byte */
	size_t		n_symbols;		/* number of code symbols seen */
} OcParseResult;

/*
 * Parse len bytes of text.  Surrounding whitespace is ignored, as are
 * hyphens and spaces anywhere; letters may be in either case; I and L read
 * as 1 and O as 0.  The first bad byte (scanning left to right) is reported;
 * failing that, a wrong number of symbols; failing that, a wrong check.
 */
extern void oc_parse(const char *text, size_t len, OcParseResult *result);

/*
 * Format a 55-bit value (value < OC_VALUE_LIMIT) as XXXX-XXXX-XXXX; buf must
 * hold OC_TEXT_LEN + 1 bytes.
 */
extern void oc_format(uint64_t value, char *buf);

#endif							/* ICOS_ORDERCODE_H */
