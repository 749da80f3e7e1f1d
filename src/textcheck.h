/*-------------------------------------------------------------------------
 *
 * textcheck.h
 *	  The one check of free text that icos stores: a documented length
 *	  limit per kind of field, and no payment card number.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_TEXTCHECK_H
#define ICOS_TEXTCHECK_H

/*
 * Kinds of stored text and their limits in characters; the table in
 * textcheck.c is the one place the limits are written (docs/api.md lists
 * them).
 */
typedef enum IcosTextField
{
	TF_NAME,					/* a person's full name */
	TF_EMAIL,					/* an e-mail address */
	TF_PHONE,					/* a phone number as typed */
	TF_ADDRESS_LINE,			/* line1, line2 of an address */
	TF_TOWN,					/* town of an address */
	TF_POSTCODE,				/* postcode of an address */
	TF_COUNTRY,					/* country code of an address */
	TF_NOTE,					/* an order note */
	TF_REASON,					/* why: cancel, return, stock, erasure */
	TF_COUPON,					/* a coupon code */
	TF_REFERENCE,				/* a payment reference */
	TF_EXTERNAL_REF,			/* place_order's external_ref */
	TF_REQUEST_ID,				/* edit_order's request_id */
	TF_METADATA,				/* place_order's metadata, as JSON text */
	TF_COUNT
} IcosTextField;

/* The field kind named by its SQL name ("note", ...); errors on others. */
extern IcosTextField icos_text_field(const char *name);

/* The limit in characters of a field kind. */
extern int	icos_text_limit(IcosTextField field);

/*
 * Check text of a field: 22001 when it has more characters than the
 * field's limit, IC003 when it holds a payment card number (the value is
 * never repeated in the message).  what names the field for the message
 * ("the note", "payment 2's reference"); NULL uses the field's own name.
 * len is in bytes; value need not be NUL-terminated.
 */
extern void icos_check_text(const char *value, int len, IcosTextField field,
							const char *what);

#endif							/* ICOS_TEXTCHECK_H */
