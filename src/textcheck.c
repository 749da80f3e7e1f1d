/*-------------------------------------------------------------------------
 *
 * textcheck.c
 *	  The check of every free-text field icos stores (textcheck.h): its
 *	  length limit and the refusal of payment card numbers, for C callers
 *	  and as icos._check_text for SQL; icos._looks_like_card_number.
 *
 * Card numbers are found by the server-free scanner src/core/cardscan.c.
 * A refused value is never written into the error, so it reaches no log
 * through icos (docs/security.md says what the server's own statement
 * logging may record).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "cardscan.h"
#include "errcodes.h"
#include "textcheck.h"

typedef struct TextFieldDef
{
	const char *name;			/* SQL name of the kind */
	const char *label;			/* for messages */
	int			limit;			/* characters */
} TextFieldDef;

/* In the order of IcosTextField. */
static const TextFieldDef text_fields[TF_COUNT] = {
	{"name", "the name", 200},
	{"email", "the e-mail address", 254},
	{"phone", "the phone number", 32},
	{"address_line", "the address line", 200},
	{"town", "the town", 100},
	{"postcode", "the postcode", 16},
	{"country", "the country", 2},
	{"note", "the note", 2000},
	{"reason", "the reason", 500},
	{"coupon", "the coupon code", 50},
	{"reference", "the payment reference", 100},
	{"external_ref", "external_ref", 100},
	{"request_id", "request_id", 100},
	{"metadata", "the order's metadata", 4096},
};

IcosTextField
icos_text_field(const char *name)
{
	int			i;

	for (i = 0; i < TF_COUNT; i++)
		if (strcmp(text_fields[i].name, name) == 0)
			return (IcosTextField) i;
	elog(ERROR, "unknown text field kind \"%s\"", name);
	return TF_COUNT;			/* not reached */
}

int
icos_text_limit(IcosTextField field)
{
	Assert(field >= 0 && field < TF_COUNT);
	return text_fields[field].limit;
}

void
icos_check_text(const char *value, int len, IcosTextField field, const char *what)
{
	const TextFieldDef *def = &text_fields[field];
	int			chars;

	Assert(field >= 0 && field < TF_COUNT);
	if (what == NULL)
		what = def->label;
	/* A byte count within the limit is a character count within it. */
	if (len > def->limit &&
		(chars = pg_mbstrlen_with_len(value, len)) > def->limit)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", what),
				 errdetail("It has %d characters; at most %d are kept.", chars, def->limit),
				 errhint("Shorten it and try again.")));
	if (card_number_in_text(value, len))
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_PAYMENT),
				 errmsg("%s holds what looks like a payment card number", what),
				 errdetail("Card numbers are never stored, so nothing was saved."),
				 errhint("Keep only the last four digits or the authorisation code.")));
}

PG_FUNCTION_INFO_V1(check_text);
PG_FUNCTION_INFO_V1(looks_like_card_number);
PG_FUNCTION_INFO_V1(text_limits);

/*
 * icos._check_text(value text, field text, what text default null)
 *		returns text: the value, once checked.
 */
Datum
check_text(PG_FUNCTION_ARGS)
{
	text	   *value;
	char	   *field;
	char	   *what = NULL;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1))
		elog(ERROR, "icos._check_text needs a field kind");
	value = PG_GETARG_TEXT_PP(0);
	field = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		what = text_to_cstring(PG_GETARG_TEXT_PP(2));
	icos_check_text(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value),
					icos_text_field(field), what);
	PG_RETURN_TEXT_P(value);
}

/* icos._looks_like_card_number(text) returns boolean */
Datum
looks_like_card_number(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(card_number_in_text(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

/* icos.text_limits() returns table (field text, max_chars int) */
Datum
text_limits(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < TF_COUNT; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(text_fields[i].name);
		values[1] = Int32GetDatum(text_fields[i].limit);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
