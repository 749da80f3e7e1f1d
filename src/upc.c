/*-------------------------------------------------------------------------
 *
 * upc.c
 *	  The icos.upc type: SQL wrappers around the GS1 core in core/gtin.c.
 *
 * A value is the normalised GTIN-14 as an int64 (pass by value), so
 * comparison, hashing and the bigint cast are those of int8.  Everything
 * that knows about digits lives in core/gtin.c; this file turns its results
 * into Datums and its failures into errors a shop-floor user can act on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/sortsupport.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif

#include "gtin.h"

#define DatumGetUpc(X)		DatumGetInt64(X)
#define UpcGetDatum(X)		Int64GetDatum(X)
#define PG_GETARG_UPC(n)	DatumGetUpc(PG_GETARG_DATUM(n))
#define PG_RETURN_UPC(x)	return UpcGetDatum(x)

/* Longest part of a user's input repeated in a message, in bytes. */
#define SHOWN_INPUT_MAX 40

/*
 * Soft errors (pg_input_is_valid) exist from PostgreSQL 16; before that an
 * input error is always thrown.
 */
#if PG_VERSION_NUM >= 160000
#define upc_error(escontext, ...)	errsave(escontext, __VA_ARGS__)
#else
#define upc_error(escontext, ...)	ereport(ERROR, __VA_ARGS__)
#endif

static const char *const HINT_TYPO =
"The code was probably mistyped or misscanned: compare the digits with the label, or scan it again.";
static const char *const HINT_SHAPE =
"A product code is 8, 12, 13 or 14 digits; spaces and hyphens are allowed only between digits.";

static const char *
kind_name(gtin_kind kind)
{
	switch (kind)
	{
		case GTIN_KIND_ANY:
			return "UPC";
		case GTIN_KIND_GTIN8:
			return "GTIN-8";
		case GTIN_KIND_UPCA:
			return "UPC-A";
		case GTIN_KIND_UPCE:
			return "UPC-E";
		case GTIN_KIND_EAN13:
			return "EAN-13";
		case GTIN_KIND_GTIN14:
			return "GTIN-14";
	}
	return "UPC";
}

/*
 * The user's input as it may appear in a message: at most SHOWN_INPUT_MAX
 * bytes, cut on a character boundary, with "..." when cut.
 */
static char *
shown_input(const char *s, size_t len)
{
	int			clip;

	if (len <= SHOWN_INPUT_MAX)
		return pnstrdup(s, len);
	clip = pg_mbcliplen(s, (int) len, SHOWN_INPUT_MAX);
	return psprintf("%s...", pnstrdup(s, clip));
}

/*
 * Report a failed parse of s[0..len) (in the server encoding).  Returns
 * false when escontext absorbed a soft error; otherwise does not return.
 */
static bool
report_parse_error(const char *s, size_t len, gtin_kind kind,
				   const gtin_parse_result *r, Node *escontext)
{
	const char *what = kind_name(kind);
	char	   *shown = shown_input(s, len);

	switch (r->status)
	{
		case GTIN_OK:
			break;
		case GTIN_EMPTY:
			upc_error(escontext,
					  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					   errmsg("invalid %s \"%s\"", what, shown),
					   errdetail("The code contains no digits."),
					   errhint("%s", HINT_SHAPE)));
			return false;
		case GTIN_BAD_CHAR:
			{
				const char *c = s + r->bad_offset;
				int			clen = pg_mblen(c);
				int			pos = pg_mbstrlen_with_len(s, (int) r->bad_offset) + 1;

				if (clen > (int) (len - r->bad_offset))
					clen = (int) (len - r->bad_offset);
				upc_error(escontext,
						  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("invalid %s \"%s\"", what, shown),
						   errdetail("The character \"%.*s\" at position %d is not a digit.",
									 clen, c, pos),
						   errhint("%s", HINT_SHAPE)));
				return false;
			}
		case GTIN_BAD_SEPARATOR:
			{
				int			pos = pg_mbstrlen_with_len(s, (int) r->bad_offset) + 1;

				upc_error(escontext,
						  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("invalid %s \"%s\"", what, shown),
						   errdetail("The %s at position %d is not between two digits.",
									 s[r->bad_offset] == '-' ? "hyphen" : "space",
									 pos),
						   errhint("%s", HINT_SHAPE)));
				return false;
			}
		case GTIN_BAD_LENGTH:
			if (kind == GTIN_KIND_ANY)
				upc_error(escontext,
						  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("invalid %s \"%s\"", what, shown),
						   errdetail("The code has %zu digits; a product code has 8, 12, 13 or 14.",
									 r->ndigits),
						   errhint("Check that no digit is missing or repeated.")));
			else
				upc_error(escontext,
						  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("invalid %s \"%s\"", what, shown),
						   errdetail("The code has %zu digits; %s codes have %d.",
									 r->ndigits, what, (int) gtin_kind_length(kind)),
						   errhint("Check that no digit is missing or repeated, and that the code is of the kind asked for.")));
			return false;
		case GTIN_BAD_CHECK:
			if (kind == GTIN_KIND_UPCE)
				upc_error(escontext,
						  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("invalid check digit in %s \"%s\"", what, shown),
						   errdetail("The check digit should be %d, not %d (it is the check digit of the expanded UPC-A %s).",
									 r->expected_check, r->found_check, r->upca),
						   errhint("%s", HINT_TYPO)));
			else
				upc_error(escontext,
						  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("invalid check digit in %s \"%s\"", what, shown),
						   errdetail("The check digit should be %d, not %d.",
									 r->expected_check, r->found_check),
						   errhint("%s", HINT_TYPO)));
			return false;
		case GTIN_UPCE_NUMBER_SYSTEM:
			upc_error(escontext,
					  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					   errmsg("invalid %s \"%s\"", what, shown),
					   errdetail("A zero-suppressed UPC-E starts with number system 0, not %d.",
								 r->number_system),
					   errhint("Enter the 12-digit UPC-A printed on the pack instead.")));
			return false;
		case GTIN_UPCE_NONCANONICAL:
			upc_error(escontext,
					  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					   errmsg("non-canonical %s \"%s\"", what, shown),
					   errdetail("It expands to the UPC-A %s, whose zero-suppressed form is %s.",
								 r->upca, r->upce),
					   errhint("%s", HINT_TYPO)));
			return false;
	}
	elog(ERROR, "unexpected GTIN parse status %d", (int) r->status);
	return false;
}

/*
 * Parse s[0..len) as a code of the given kind; on failure report (or save,
 * with a soft-error context) and return false.
 */
static bool
parse_or_report(const char *s, size_t len, gtin_kind kind, int64 *value,
				Node *escontext)
{
	gtin_parse_result r;

	if (gtin_parse(s, len, kind, &r) == GTIN_OK)
	{
		*value = r.value;
		return true;
	}
	return report_parse_error(s, len, kind, &r, escontext);
}

/* Validate a GTIN-14 number from a bigint or the wire; same SQLSTATE. */
static bool
validate_or_report(int64 v, const char *source, Node *escontext)
{
	int			expected = 0,
				found = 0;
	char		d[GTIN_BUFSIZE];

	switch (gtin_validate(v, &expected, &found))
	{
		case GTIN_OK:
			return true;
		case GTIN_BAD_CHECK:
			gtin_digits14(v, d);
			upc_error(escontext,
					  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					   errmsg("invalid check digit in UPC \"%s\"", d),
					   errdetail("The check digit should be %d, not %d.",
								 expected, found),
					   errhint("%s", HINT_TYPO)));
			return false;
		default:
			upc_error(escontext,
					  (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					   errmsg("%s " INT64_FORMAT " is not a UPC", source, v),
					   errdetail("A UPC as a number is a GTIN-14 between 0 and 99999999999999.")));
			return false;
	}
}

/* ---------------------------------------------------------------- I/O */

PG_FUNCTION_INFO_V1(upc_in);
Datum
upc_in(PG_FUNCTION_ARGS)
{
	const char *s = PG_GETARG_CSTRING(0);
	int64		v = 0;
	Node	   *escontext = NULL;

#if PG_VERSION_NUM >= 160000
	escontext = fcinfo->context;
#endif
	if (!parse_or_report(s, strlen(s), GTIN_KIND_ANY, &v, escontext))
		PG_RETURN_NULL();
	PG_RETURN_UPC(v);
}

PG_FUNCTION_INFO_V1(upc_out);
Datum
upc_out(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_UPC(0);
	char	   *buf = palloc(GTIN_BUFSIZE);

	if (!gtin_format(v, GTIN_STYLE_CANONICAL, buf))
		elog(ERROR, "corrupt icos.upc value " INT64_FORMAT, v);
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(upc_recv);
Datum
upc_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		v = pq_getmsgint64(buf);

	validate_or_report(v, "binary value", NULL);
	PG_RETURN_UPC(v);
}

PG_FUNCTION_INFO_V1(upc_send);
Datum
upc_send(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_UPC(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, v);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* -------------------------------------------------------- comparison */

#define UPC_CMP_FUNC(name, op) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_BOOL(PG_GETARG_UPC(0) op PG_GETARG_UPC(1)); \
}

UPC_CMP_FUNC(upc_eq, ==)
UPC_CMP_FUNC(upc_ne, !=)
UPC_CMP_FUNC(upc_lt, <)
UPC_CMP_FUNC(upc_le, <=)
UPC_CMP_FUNC(upc_gt, >)
UPC_CMP_FUNC(upc_ge, >=)

PG_FUNCTION_INFO_V1(upc_cmp);
Datum
upc_cmp(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_UPC(0);
	int64		b = PG_GETARG_UPC(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

/* transition functions of icos.min(icos.upc) and icos.max(icos.upc) */
PG_FUNCTION_INFO_V1(upc_smaller);
Datum
upc_smaller(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_UPC(0);
	int64		b = PG_GETARG_UPC(1);

	PG_RETURN_UPC(a < b ? a : b);
}

PG_FUNCTION_INFO_V1(upc_larger);
Datum
upc_larger(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_UPC(0);
	int64		b = PG_GETARG_UPC(1);

	PG_RETURN_UPC(a > b ? a : b);
}

#if !(PG_VERSION_NUM >= 150000 && SIZEOF_DATUM >= 8)
static int
upc_fastcmp(Datum x, Datum y, SortSupport ssup)
{
	int64		a = DatumGetUpc(x);
	int64		b = DatumGetUpc(y);

	return a < b ? -1 : (a > b ? 1 : 0);
}
#endif

PG_FUNCTION_INFO_V1(upc_sortsupport);
Datum
upc_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

#if PG_VERSION_NUM >= 150000 && SIZEOF_DATUM >= 8
	ssup->comparator = ssup_datum_signed_cmp;
#else
	ssup->comparator = upc_fastcmp;
#endif
	PG_RETURN_VOID();
}

/*
 * Hashing is int8's: equal values are equal int64s, so this is consistent
 * with = by construction (and with bigint's hash, which lets the planner
 * treat the bigint cast as hash-compatible if it ever learns to).
 */
PG_FUNCTION_INFO_V1(upc_hash);
Datum
upc_hash(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(hashint8, PG_GETARG_DATUM(0));
}

PG_FUNCTION_INFO_V1(upc_hash_extended);
Datum
upc_hash_extended(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall2(hashint8extended, PG_GETARG_DATUM(0),
							   PG_GETARG_DATUM(1));
}

/* ------------------------------------------------------------- casts */

PG_FUNCTION_INFO_V1(upc_from_bigint);
Datum
upc_from_bigint(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_INT64(0);

	validate_or_report(v, "bigint", NULL);
	PG_RETURN_UPC(v);
}

PG_FUNCTION_INFO_V1(upc_to_bigint);
Datum
upc_to_bigint(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(PG_GETARG_UPC(0));
}

/* ------------------------------------------------ parse, format, check */

/*
 * icos.upc_is_valid(text): whether the type input would accept the text.
 * Never raises: it runs the core parser, which reports instead of throwing.
 */
PG_FUNCTION_INFO_V1(upc_is_valid);
Datum
upc_is_valid(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	gtin_parse_result r;

	PG_RETURN_BOOL(gtin_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t),
							  GTIN_KIND_ANY, &r) == GTIN_OK);
}

static const struct
{
	const char *name;
	gtin_kind	kind;
}			kinds[] =
{
	{"gtin8", GTIN_KIND_GTIN8},
	{"upca", GTIN_KIND_UPCA},
	{"upce", GTIN_KIND_UPCE},
	{"ean13", GTIN_KIND_EAN13},
	{"gtin14", GTIN_KIND_GTIN14},
};

static const struct
{
	const char *name;
	gtin_style	style;
	const char *display;
	const char *detail;
}			styles[] =
{
	{"canonical", GTIN_STYLE_CANONICAL, "canonical", NULL},
	{"gtin14", GTIN_STYLE_GTIN14, "GTIN-14", NULL},
	{"ean13", GTIN_STYLE_EAN13, "EAN-13",
	"Only a code whose GTIN-14 starts with 0 has an EAN-13 form."},
	{"upca", GTIN_STYLE_UPCA, "UPC-A",
	"Only a code whose GTIN-14 starts with 00 has a UPC-A form."},
	{"upce", GTIN_STYLE_UPCE, "UPC-E",
	"Only a UPC-A of number system 0 with its zeros where zero suppression can drop them has a UPC-E form."},
	{"gtin8", GTIN_STYLE_GTIN8, "GTIN-8",
	"Only a code whose GTIN-14 starts with 000000 has a GTIN-8 form."},
};

/* icos.upc_parse(code text, kind text) */
PG_FUNCTION_INFO_V1(upc_parse);
Datum
upc_parse(PG_FUNCTION_ARGS)
{
	text	   *code = PG_GETARG_TEXT_PP(0);
	char	   *kindname = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int64		v = 0;
	size_t		i;

	for (i = 0; i < lengthof(kinds); i++)
	{
		if (pg_strcasecmp(kindname, kinds[i].name) == 0)
		{
			parse_or_report(VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code),
							kinds[i].kind, &v, NULL);
			PG_RETURN_UPC(v);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown UPC kind \"%s\"", shown_input(kindname, strlen(kindname))),
			 errhint("The kind is one of gtin8, upca, upce, ean13 or gtin14.")));
	PG_RETURN_NULL();			/* not reached */
}

/* icos.upc_format(code icos.upc, style text) */
PG_FUNCTION_INFO_V1(upc_format);
Datum
upc_format(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_UPC(0);
	char	   *stylename = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char		buf[GTIN_BUFSIZE];
	size_t		i;

	for (i = 0; i < lengthof(styles); i++)
	{
		if (pg_strcasecmp(stylename, styles[i].name) == 0)
		{
			if (!gtin_format(v, styles[i].style, buf))
			{
				char		canon[GTIN_BUFSIZE];

				if (!gtin_format(v, GTIN_STYLE_CANONICAL, canon))
					elog(ERROR, "corrupt icos.upc value " INT64_FORMAT, v);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("UPC %s has no %s form", canon, styles[i].display),
						 errdetail("%s", styles[i].detail)));
			}
			PG_RETURN_TEXT_P(cstring_to_text(buf));
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown UPC format style \"%s\"",
					shown_input(stylename, strlen(stylename))),
			 errhint("The style is one of canonical, gtin14, ean13, upca, upce or gtin8.")));
	PG_RETURN_NULL();			/* not reached */
}

/* ------------------------------------------------- variable-measure price */

/* icos.upc_check_layout(layout text): true, or 22023 saying what is wrong */
PG_FUNCTION_INFO_V1(upc_check_layout);
Datum
upc_check_layout(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *why = gtin_layout_check(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid price layout \"%s\"",
						shown_input(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t))),
				 errdetail("%s", why),
				 errhint("Write 13 characters, one per EAN-13 digit: P prefix, I item, X ignored, $ price, V price check, C check digit; see docs/upc.md.")));
	PG_RETURN_BOOL(true);
}

/*
 * icos.upc_price_from_layout(code icos.upc, layout text) returns numeric
 *
 * Not strict: a null layout means that no layout applies to the code (this
 * is what icos.upc_variable_price passes when its lookup finds nothing), and
 * that is an error, not a null price.
 */
PG_FUNCTION_INFO_V1(upc_price_from_layout);
Datum
upc_price_from_layout(PG_FUNCTION_ARGS)
{
	int64		v;
	char		ean[GTIN_BUFSIZE];
	char		canon[GTIN_BUFSIZE];
	text	   *layout;
	gtin_price_result r;
	char	   *num;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	v = PG_GETARG_UPC(0);
	if (!gtin_format(v, GTIN_STYLE_CANONICAL, canon))
		elog(ERROR, "corrupt icos.upc value " INT64_FORMAT, v);
	if (PG_ARGISNULL(1) || !gtin_format(v, GTIN_STYLE_EAN13, ean))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("UPC %s carries no price", canon),
				 errdetail("Only an in-store UPC-A or EAN-13 whose prefix has a row in icos.upc_price_layout carries a price."),
				 errhint("Look the product up by its code to find its price.")));
	layout = PG_GETARG_TEXT_PP(1);

	switch (gtin_layout_price(ean, VARDATA_ANY(layout),
							  VARSIZE_ANY_EXHDR(layout), &r))
	{
		case GTIN_LAYOUT_OK:
			break;
		case GTIN_LAYOUT_INVALID:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid price layout \"%s\"",
							shown_input(VARDATA_ANY(layout),
										VARSIZE_ANY_EXHDR(layout))),
					 errdetail("%s", r.layout_error)));
			break;
		case GTIN_LAYOUT_NO_PRICE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("UPC %s carries no price", canon),
					 errdetail("Its price layout \"%s\" has no price digits.",
							   text_to_cstring(layout)),
					 errhint("Look the product up by its code to find its price.")));
			break;
		case GTIN_LAYOUT_BAD_PRICE_CHECK:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid price check digit in UPC %s", canon),
					 errdetail("The price check digit should be %d, not %d.",
							   r.expected_check, r.found_check),
					 errhint("The label was probably misprinted or misscanned: scan it again, or weigh and label the item again.")));
			break;
	}

	num = psprintf(INT64_FORMAT ".%02d", r.pence / 100, (int) (r.pence % 100));
	return DirectFunctionCall3(numeric_in, CStringGetDatum(num),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}
