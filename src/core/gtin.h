/*-------------------------------------------------------------------------
 *
 * gtin.h
 *	  Server-free core of the icos.upc type: GS1 trade item numbers
 *	  (GTIN-8, UPC-A, EAN-13, GTIN-14 and zero-suppressed UPC-E).
 *
 * A code is held as its normalised GTIN-14: the 14 digits, check digit
 * included, read as one decimal number (0 .. 99999999999999).  Shorter
 * forms are the same number with leading zeros, which is why one int64
 * serves every form and two spellings of one GTIN compare equal.
 *
 * Plain C99 and libc only: no PostgreSQL headers, so the unit tests and
 * fuzzers can link it directly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_GTIN_H
#define ICOS_GTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest GTIN-14 as a number. */
#define GTIN_MAX INT64_C(99999999999999)

/* Buffer size for any formatted code (14 digits and a NUL). */
#define GTIN_BUFSIZE 15

/* What a parse is asked to accept. */
typedef enum gtin_kind
{
	GTIN_KIND_ANY,				/* 8, 12, 13 or 14 digits (type input) */
	GTIN_KIND_GTIN8,
	GTIN_KIND_UPCA,
	GTIN_KIND_UPCE,				/* 8-digit zero-suppressed UPC-E */
	GTIN_KIND_EAN13,
	GTIN_KIND_GTIN14
} gtin_kind;

/* Output forms of gtin_format(). */
typedef enum gtin_style
{
	GTIN_STYLE_CANONICAL,		/* natural length, see gtin_format() */
	GTIN_STYLE_GTIN14,
	GTIN_STYLE_EAN13,
	GTIN_STYLE_UPCA,
	GTIN_STYLE_UPCE,
	GTIN_STYLE_GTIN8
} gtin_style;

typedef enum gtin_status
{
	GTIN_OK = 0,
	GTIN_EMPTY,					/* nothing but white space */
	GTIN_BAD_CHAR,				/* a character that is not a digit */
	GTIN_BAD_SEPARATOR,			/* space or hyphen not between two digits */
	GTIN_BAD_LENGTH,			/* digit count not allowed for the kind */
	GTIN_BAD_CHECK,				/* wrong check digit */
	GTIN_UPCE_NUMBER_SYSTEM,	/* UPC-E not starting with 0 */
	GTIN_UPCE_NONCANONICAL		/* UPC-E whose canonical form differs */
} gtin_status;

typedef struct gtin_parse_result
{
	gtin_status status;
	int64_t		value;			/* GTIN-14 number when status is GTIN_OK */
	size_t		ndigits;		/* digits seen (all of them, even past 14) */
	size_t		bad_offset;		/* byte offset of the offending character */
	int			expected_check; /* for GTIN_BAD_CHECK */
	int			found_check;	/* for GTIN_BAD_CHECK */
	int			number_system;	/* for GTIN_UPCE_NUMBER_SYSTEM */
	char		upca[13];		/* UPC-E only: the expanded UPC-A (NUL ended) */
	char		upce[9];		/* UPC-E only: canonical UPC-E of upca */
} gtin_parse_result;

/* Digits a code of the given kind has (0 for GTIN_KIND_ANY: 8, 12, 13 or 14). */
extern size_t gtin_kind_length(gtin_kind kind);

/* Check digit (0-9) of the n data digits at d (ASCII, without check). */
extern int	gtin_check_digit(const char *d, size_t n);

/*
 * Parse s[0..len) as a code of the given kind.  Surrounding white space is
 * ignored, and so are runs of spaces and hyphens between two digits.
 * Returns r->status; never reads past len and never allocates.
 */
extern gtin_status gtin_parse(const char *s, size_t len, gtin_kind kind,
							  gtin_parse_result *r);

/*
 * Validate a GTIN-14 number (as from a bigint cast or binary input).
 * Returns GTIN_OK, GTIN_BAD_LENGTH (negative or more than 14 digits) or
 * GTIN_BAD_CHECK with *expected and *found set.
 */
extern gtin_status gtin_validate(int64_t v, int *expected, int *found);

/* The 14 digits of a valid value into buf (at least GTIN_BUFSIZE bytes). */
extern void gtin_digits14(int64_t v, char *buf);

/*
 * Format v in the given style into buf (GTIN_BUFSIZE bytes).  Returns false,
 * leaving buf empty, when the code has no such form: a form of length L
 * exists when the 14 - L leading digits of the GTIN-14 are zero; UPC-E also
 * needs a UPC-A of number system 0 that zero-suppression can express.
 *
 * Canonical: 8 digits when the first six of the 14 are zero, else 12 when
 * the first two are, else 13 when the first is, else 14.
 */
extern bool gtin_format(int64_t v, gtin_style style, char *buf);

/*
 * UPC-E <-> UPC-A.  gtin_upce_expand() takes the 8-digit UPC-E (number
 * system, six digits, check) and writes the 12-digit UPC-A (with the check
 * digit copied from the UPC-E) and a NUL into upca[13]; it returns false
 * unless the number system is 0.  gtin_upce_compress() takes a 12-digit
 * UPC-A and writes the 8-digit UPC-E and a NUL into upce[9]; it returns false
 * when the UPC-A is not number system 0 or has no zero-suppressed form.
 */
extern bool gtin_upce_expand(const char *upce, char *upca);
extern bool gtin_upce_compress(const char *upca, char *upce);

/*
 * Variable-measure price fields (GS1 General Specifications, "Price/weight
 * check digit calculation").  Each takes ASCII digits.
 */
extern int	gtin_price_check4(const char *d);
extern int	gtin_price_check5(const char *d);

/*
 * A price layout is a 13-character mask over the EAN-13 form of a code
 * (a UPC-A is the EAN-13 with a leading 0):
 *	 P	prefix digit (selects the layout; not read here)
 *	 I	item reference digit
 *	 X	digit with another meaning (weight, count, ...), ignored
 *	 $	price digit in minor units (pence), most significant first
 *	 V	price check digit over the $ digits (4 or 5 of them)
 *	 C	the GTIN check digit: exactly one, in the last position
 */
typedef enum gtin_layout_status
{
	GTIN_LAYOUT_OK = 0,
	GTIN_LAYOUT_INVALID,		/* mask malformed (see layout_error) */
	GTIN_LAYOUT_NO_PRICE,		/* a valid mask without $ digits */
	GTIN_LAYOUT_BAD_PRICE_CHECK /* V does not match the $ digits */
} gtin_layout_status;

typedef struct gtin_price_result
{
	gtin_layout_status status;
	int64_t		pence;			/* when GTIN_LAYOUT_OK */
	int			expected_check; /* when GTIN_LAYOUT_BAD_PRICE_CHECK */
	int			found_check;
	const char *layout_error;	/* when GTIN_LAYOUT_INVALID: a full sentence */
} gtin_price_result;

/* Check a mask; returns NULL when valid, else a sentence saying why not. */
extern const char *gtin_layout_check(const char *mask, size_t len);

/* Extract the price of digits13 (13 ASCII digits) under mask. */
extern gtin_layout_status gtin_layout_price(const char *digits13,
											const char *mask, size_t len,
											gtin_price_result *r);

#endif							/* ICOS_GTIN_H */
