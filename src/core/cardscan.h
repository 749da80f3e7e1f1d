/*-------------------------------------------------------------------------
 *
 * cardscan.h
 *	  Server-free detection of payment card numbers in free text.
 *
 * icos never stores a card number (PAN): a payment reference, a note or a
 * reason that holds one is refused.  A card number is 13 to 19 digits whose
 * first digit is not 0 (ISO/IEC 7812: major industry identifiers 1 to 9
 * are issuers' cards) and that pass the Luhn check.  People write them in
 * groups: digits separated by spaces, tabs, hyphens or dots (at most three
 * separator characters between two groups) count as one run, and every
 * stretch of a run that starts and ends on a group boundary and holds 13
 * to 19 digits is checked.  So "4111 1111 1111 1111", "4111.1111.1111.1111",
 * "PAN 4111111111111111", "card:4111111111111111", "4111111111111111 exp
 * 12/27" and "4111 1111 1111 1111 123" (number then security code) are all
 * found, while an unbroken run of 20 digits or more (a barcode, an account
 * reference) is not a card number.
 *
 * Unit tests: test/unit/cardscan.c; fuzz target: test/fuzz/cardscan.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_CARDSCAN_H
#define ICOS_CARDSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Shortest and longest card numbers (ISO/IEC 7812). */
#define CARD_MIN_DIGITS 13
#define CARD_MAX_DIGITS 19

/* True when the digits pass the Luhn check (digits[i] in 0..9). */
extern bool card_luhn_ok(const unsigned char *digits, size_t n);

/*
 * True when text[0 .. len) holds a card number as described above.  The
 * text need not be NUL-terminated and may hold any bytes (UTF-8 or not):
 * only ASCII digits and separators are read.
 */
extern bool card_number_in_text(const char *text, size_t len);

#endif							/* ICOS_CARDSCAN_H */
