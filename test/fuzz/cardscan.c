/*
 * cardscan.c: libFuzzer target for src/core/cardscan.c, the search for
 * payment card numbers in free text.
 *
 * The whole input is the text.  Invariants:
 *	- the scan never reads past the length it is given (ASan);
 *	- a text with a card number found in it still has one when more text is
 *	  put before and after, away from its digits;
 *	- the card number 4111 1111 1111 1111 put between the input and a
 *	  space is always found.
 */
#include <string.h>

#include "cardscan.h"
#include "fuzz.h"

#define MAX_TEXT 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[MAX_TEXT + 64];
	const char *text = (const char *) data;
	bool		found;

	if (size > MAX_TEXT)
		size = MAX_TEXT;
	found = card_number_in_text(text, size);

	/* Padding with letters on both sides keeps a card number found. */
	buf[0] = 'x';
	buf[1] = ' ';
	memcpy(buf + 2, text, size);
	buf[size + 2] = ' ';
	buf[size + 3] = 'x';
	CHECK(!found || card_number_in_text(buf, size + 4),
		  "a card number was lost when padding the text");

	/* A card number after the text, split from it by a letter. */
	memcpy(buf, text, size);
	memcpy(buf + size, "x4111 1111 1111 1111 ", 21);
	CHECK(card_number_in_text(buf, size + 21),
		  "4111 1111 1111 1111 was not found after %zu bytes", size);
	return 0;
}
