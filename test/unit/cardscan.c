/*
 * Unit tests of src/core/cardscan.c: card numbers found in free text the
 * way people write them, and the texts that must not be mistaken for one.
 * The scanner is also checked against a slow reference on pseudo-random
 * texts of digits and separators.
 */
#include "tap.h"
#include "cardscan.h"

#include <stdint.h>
#include <string.h>

static bool
found(const char *s)
{
	return card_number_in_text(s, strlen(s));
}

/* Slow reference: every group-aligned stretch of every run, recomputed. */
static bool
ref_found(const char *s, size_t len)
{
	size_t		a;

	for (a = 0; a < len; a++)
	{
		unsigned char d[64];
		size_t		n = 0,
					k;

		/* A stretch starts at a digit that begins a group. */
		if (s[a] < '1' || s[a] > '9')
			continue;
		if (a > 0 && s[a - 1] >= '0' && s[a - 1] <= '9')
			continue;
		for (k = a; k < len && n < 64;)
		{
			if (s[k] >= '0' && s[k] <= '9')
			{
				d[n++] = (unsigned char) (s[k] - '0');
				k++;
				/* It may end where a group ends. */
				if ((k == len || s[k] < '0' || s[k] > '9') &&
					n >= CARD_MIN_DIGITS && n <= CARD_MAX_DIGITS &&
					card_luhn_ok(d, n))
					return true;
				continue;
			}
			else
			{
				size_t		sep = 0;

				while (k + sep < len && sep < 4 &&
					   (s[k + sep] == ' ' || s[k + sep] == '-' ||
						s[k + sep] == '.' || s[k + sep] == '\t'))
					sep++;
				if (sep == 0 || sep > 3 || k + sep >= len ||
					s[k + sep] < '0' || s[k + sep] > '9')
					break;
				k += sep;
			}
		}
		/* A stretch may also start after a separator inside a run. */
	}
	return false;
}

static uint64_t rng = 88172645463325252ULL;

static unsigned
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned) (rng >> 32);
}

int
main(void)
{
	int			i,
				disagree = 0,
				positive = 0;
	unsigned char luhn16[] = {4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

	ok(card_luhn_ok(luhn16, 16), "4111111111111111 passes Luhn");
	luhn16[15] = 2;
	ok(!card_luhn_ok(luhn16, 16), "4111111111111112 fails Luhn");

	/* Written as people write them. */
	ok(found("4111111111111111"), "bare 16 digits");
	ok(found("4111 1111 1111 1111"), "groups of four with spaces");
	ok(found("4111-1111-1111-1111"), "groups with hyphens");
	ok(found("4111.1111.1111.1111"), "groups with dots");
	ok(found("PAN 4111111111111111"), "after a word");
	ok(found("card:4111111111111111"), "after a colon");
	ok(found("4111111111111111 exp 12/27"), "followed by an expiry date");
	ok(found("4111 1111 1111 1111 123"), "followed by a security code in its own group");
	ok(found("378282246310005"), "15-digit Amex");
	ok(found("3782 822463 10005"), "Amex grouped 4-6-5");
	ok(found("6011111111111117"), "Discover");
	ok(found("4222222222222"), "13-digit Visa");
	ok(found("call back about 5555 5555 5555 4444 please"), "inside a sentence");
	ok(found("4111 - 1111 - 1111 - 1111"), "spaced hyphens (three separators)");
	ok(found("ref 12345 card 4111111111111111"), "second run of the text");

	/* Not card numbers. */
	ok(!found("4111 1111 1111 1112"), "Luhn-invalid number");
	ok(!found("auth 12345"), "authorisation code");
	ok(!found("cheque 000123"), "cheque number");
	ok(!found("0000000000000000"), "zeros pass Luhn but start with 0");
	ok(!found("+44 20 7946 0958"), "a phone number (12 digits)");
	ok(!found("41111111111111110000"), "an unbroken run of 20 digits");
	ok(!found("4111    1111 1111 1111"), "four spaces split the run");
	ok(!found("4111/1111/1111/1111"), "slashes split the run");
	ok(!found("411111111111"), "12 digits");
	ok(!found(""), "empty text");
	ok(!card_number_in_text("4111111111111111", 15), "length is honoured");
	ok(found("4111111111111111x"), "a letter right after the number");

	/* Against the reference on texts of digits and separators. */
	for (i = 0; i < 20000; i++)
	{
		char		buf[48];
		size_t		n = 13 + next_rand() % 34,
					k;
		static const char alphabet[] = "0123456789012345678901234567894 -.x";

		for (k = 0; k < n; k++)
			buf[k] = alphabet[next_rand() % (sizeof(alphabet) - 1)];
		positive += ref_found(buf, n);
		if (card_number_in_text(buf, n) != ref_found(buf, n))
		{
			if (disagree++ < 3)
				printf("# disagree on \"%.*s\"\n", (int) n, buf);
		}
	}
	ok(disagree == 0, "scanner agrees with the reference on 20000 random texts (%d disagree)", disagree);
	ok(positive > 1000 && positive < 19000, "the random texts hold card numbers and texts without (%d with)", positive);

	return done_testing();
}
