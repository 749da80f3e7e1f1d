/*-------------------------------------------------------------------------
 *
 * order_json.c
 *	  The rules for reading the JSON of an order or an edit, stated once:
 *	  keys, whole numbers, counts, text, amounts, dates, addresses, product
 *	  codes, payments, e-mail addresses and phone numbers.  The order reader
 *	  (order_read.c) calls them directly; the SQL helpers that edit_order and
 *	  the customer functions call (icos._check_keys, icos._json_int,
 *	  icos._is_count, icos._json_text, icos._json_array, icos._json_upc,
 *	  icos._money, icos._json_date, icos._address, icos._payment_fields,
 *	  created in src/sql/0.3.0/40_orders.sql and 30_people.sql) are these
 *	  same functions behind the fmgr interface.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "errcodes.h"
#include "gtin.h"
#include "jsonb_put.h"
#include "order.h"
#include "textcheck.h"

extern Datum upc_in(PG_FUNCTION_ARGS);

/* The value of key in an object container, or NULL. */
JsonbValue *
oj_key(JsonbContainer *obj, const char *key, JsonbValue *buf)
{
	if (obj == NULL)
		return NULL;
	return getKeyJsonValueFromContainer(obj, key, strlen(key), buf);
}

/* True when v is absent or JSON null. */
bool
oj_absent(const JsonbValue *v)
{
	return v == NULL || v->type == jbvNull;
}

/* The container of an object value, or NULL when v is not one. */
JsonbContainer *
oj_object(const JsonbValue *v)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/* The container of an array value, or NULL when v is not one. */
JsonbContainer *
oj_array(const JsonbValue *v)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/*
 * icos._json_array: the array under key (NULL when absent or null); 22023
 * when it is not an array.
 */
JsonbContainer *
oj_array_key(JsonbContainer *obj, const char *key, const char *what)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(obj, key, &buf);

	if (oj_absent(v))
		return NULL;
	if (oj_array(v) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be an array", what, key),
				 errdetail("Got %s.", oj_value_text(v))));
	return v->val.binary.data;
}

/* A value as JSON text (for "Got ..." details). */
char *
oj_value_text(const JsonbValue *v)
{
	if (v == NULL)
		return pstrdup("null");
	if (v->type == jbvBinary)
		return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	return JsonbToCString(NULL, &JsonbValueToJsonb((JsonbValue *) v)->root, 0);
}

/* The text of a JSON number as the server prints it (as #>> '{}' does). */
static char *
oj_number_text(const JsonbValue *v)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
}

/* A list of words as "a, b, c". */
static char *
oj_join(const char *const *words)
{
	StringInfoData s;
	const char *const *w;

	initStringInfo(&s);
	for (w = words; *w != NULL; w++)
		appendStringInfo(&s, "%s%s", w == words ? "" : ", ", *w);
	return s.data;
}

/*
 * icos._check_keys: 22023 unless obj is an object whose keys are all in the
 * NULL-ended list.
 */
void
oj_check_keys(const JsonbValue *obj, const char *const *allowed, const char *what)
{
	JsonbContainer *c = oj_object(obj);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", what),
				 errdetail("Got %s.", oj_value_text(obj))));
	it = JsonbIteratorInit(c);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *const *a;

		if (tok != WJB_KEY)
			continue;
		for (a = allowed; *a != NULL; a++)
			if (strlen(*a) == (size_t) v.val.string.len &&
				memcmp(*a, v.val.string.val, v.val.string.len) == 0)
				break;
		if (*a == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown key \"%s\" in %s",
							pnstrdup(v.val.string.val, v.val.string.len), what),
					 errhint("The keys are %s.", oj_join(allowed))));
	}
}

/*
 * A whole number written without fraction or exponent, within int32:
 * true and *out.  ("2.0" is not one: a quantity or a store number is
 * written as digits.)
 */
static bool
oj_whole(const JsonbValue *v, int32 *out)
{
	char	   *t;
	const char *d;
	size_t		len;
	int64		n;

	if (v == NULL || v->type != jbvNumeric)
		return false;
	t = oj_number_text(v);
	d = t[0] == '-' ? t + 1 : t;
	len = strlen(d);
	if (len < 1 || len > 10 || strspn(d, "0123456789") != len)
		return false;
	n = strtoll(t, NULL, 10);
	if (n < PG_INT32_MIN || n > PG_INT32_MAX)
		return false;
	*out = (int32) n;
	return true;
}

/*
 * icos._json_int: the whole number under key (false when absent or null);
 * 22023 when it is not a whole JSON number written as digits.
 */
bool
oj_int(JsonbContainer *obj, const char *key, const char *what, int32 *out)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(obj, key, &buf);

	if (oj_absent(v))
		return false;
	if (!oj_whole(v, out))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be a whole number", what, key),
				 errdetail("Got %s.", oj_value_text(v)),
				 errhint("Write it as digits, without a fraction or an exponent.")));
	return true;
}

/*
 * icos._is_count: a JSON number written as 1 to 10 digits, from 1 to
 * 2147483647 (never raises).
 */
bool
oj_is_count(const JsonbValue *v, int32 *out)
{
	int32		n;

	if (v == NULL || v->type != jbvNumeric)
		return false;
	if (!oj_whole(v, &n) || n < 1 || oj_number_text(v)[0] == '-')
		return false;
	if (out)
		*out = n;
	return true;
}

/*
 * icos._json_text: the text under key, trimmed of spaces (NULL when absent,
 * null or blank); 22023 when it is not a JSON string.
 */
char *
oj_text(JsonbContainer *obj, const char *key, const char *what)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(obj, key, &buf);
	const char *s;
	int			len;

	if (oj_absent(v))
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be text", what, key),
				 errdetail("Got %s.", oj_value_text(v))));
	s = v->val.string.val;
	len = v->val.string.len;
	while (len > 0 && *s == ' ')
	{
		s++;
		len--;
	}
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len == 0)
		return NULL;
	return pnstrdup(s, len);
}

/*
 * Plain decimal text (as numeric_out prints) as pence: more than zero,
 * below 10,000,000,000 pounds, at most two non-zero decimals.
 */
static bool
oj_pence(const char *t, int64 *pence)
{
	const char *dot = strchr(t, '.');
	size_t		ilen = dot ? (size_t) (dot - t) : strlen(t);
	int64		units = 0;
	int			frac = 0;
	size_t		i;

	if (ilen < 1 || ilen > 10 || strspn(t, "0123456789") != ilen)
		return false;
	for (i = 0; i < ilen; i++)
		units = units * 10 + (t[i] - '0');
	if (dot != NULL)
	{
		const char *f = dot + 1;

		if (strspn(f, "0123456789") != strlen(f))
			return false;
		for (i = 0; f[i] != '\0'; i++)
		{
			if (i < 2)
				frac = frac * 10 + (f[i] - '0');
			else if (f[i] != '0')
				return false;
		}
		if (i == 1)
			frac *= 10;
	}
	if (units >= INT64CONST(10000000000))
		return false;
	*pence = units * 100 + frac;
	return *pence > 0;
}

/* A string spelled as a decimal number: [+-]digits[.digits][e[+-]ddd], spaces around. */
static bool
oj_decimal_spelling(const char *s)
{
	const char *p = s;
	int			digits = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char) *p))
		p++, digits++;
	if (*p == '.')
	{
		p++;
		while (isdigit((unsigned char) *p))
			p++, digits++;
	}
	if (digits == 0)
		return false;
	if (*p == 'e' || *p == 'E')
	{
		int			e = 0;

		p++;
		if (*p == '+' || *p == '-')
			p++;
		while (isdigit((unsigned char) *p))
			p++, e++;
		if (e < 1 || e > 3)
			return false;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return *p == '\0';
}

/*
 * icos._money: a positive amount in pounds (a JSON number, or a string
 * spelled as one), at most two decimals, below 10,000,000,000; pence.
 * Raises errcode otherwise.
 */
int64
oj_money(const JsonbValue *v, const char *what, int sqlstate)
{
	char	   *given;
	char	   *plain;
	int64		pence;

	if (v == NULL || (v->type != jbvNumeric && v->type != jbvString))
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("%s is missing or not an amount", what),
				 errhint("Give an amount in pounds such as 12.50 or \"12.50\".")));
	if (v->type == jbvNumeric)
		given = plain = oj_number_text(v);
	else
	{
		given = pnstrdup(v->val.string.val, v->val.string.len);
		if (!oj_decimal_spelling(given))
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("%s \"%s\" is not an amount", what, given),
					 errhint("Give an amount in pounds such as 12.50 or \"12.50\".")));
		plain = DatumGetCString(DirectFunctionCall1(numeric_out,
													DirectFunctionCall3(numeric_in,
																		CStringGetDatum(given),
																		ObjectIdGetDatum(InvalidOid),
																		Int32GetDatum(-1))));
	}
	if (!oj_pence(plain, &pence))
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("%s %s is not a valid amount", what, given),
				 errdetail("An amount is more than zero, in pounds with at most two decimals.")));
	return pence;
}

/*
 * icos._json_date: a date written YYYY-MM-DD under key (false when absent,
 * null or blank), today + ORDER_MAX_DAYS_AHEAD at the latest; 22023
 * otherwise.
 */
bool
oj_date(JsonbContainer *obj, const char *key, const char *what, int32 *out)
{
	char	   *v = oj_text(obj, key, what);
	int			y,
				m,
				d;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	DateADT		date;
	DateADT		today;

	if (v == NULL)
		return false;
	if (strlen(v) != 10 || strspn(v, "0123456789") != 4 || v[4] != '-' || v[7] != '-' ||
		strspn(v + 5, "0123456789") != 2 || strspn(v + 8, "0123456789") != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" must be a date written YYYY-MM-DD", what, key),
				 errdetail("Got \"%s\".", v)));
	y = atoi(v);
	m = atoi(v + 5);
	d = atoi(v + 8);
	if (y < 1 || m < 1 || m > 12 || d < 1 ||
		d > mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" is not a real date", what, key),
				 errdetail("Got \"%s\".", v)));
	date = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	today = GetSQLCurrentDate();
	if ((int64) date > (int64) today + ORDER_MAX_DAYS_AHEAD)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" is more than %d days ahead", what, key, ORDER_MAX_DAYS_AHEAD),
				 errdetail("Got \"%s\".", v),
				 errhint("Orders are promised within a year; agree a later date with the customer in a note.")));
	*out = date;
	return true;
}

/*
 * The officially assigned ISO 3166-1 alpha-2 country codes, in order (the
 * 2020s list: 249 codes).  "UK" is only reserved: the United Kingdom is GB.
 */
static const char oj_countries[] =
"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
"BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
"DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
"GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
"KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
"MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
"PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
"SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
"VN VU WF WS YE YT ZA ZM ZW";

/* The country of an address when it gives none. */
#define OJ_DEFAULT_COUNTRY "GB"

/*
 * An address's "country": two letters of ISO 3166-1 alpha-2 in any case,
 * returned in capitals; OJ_DEFAULT_COUNTRY when absent.  22023 otherwise.
 */
static char *
oj_country(JsonbContainer *c, const char *what)
{
	char	   *v = oj_text(c, "country", what);
	char		code[3];
	int			i;

	if (v == NULL)
		return OJ_DEFAULT_COUNTRY;
	if (strlen(v) == 2)
	{
		for (i = 0; i < 2; i++)
			code[i] = (v[i] >= 'a' && v[i] <= 'z') ? v[i] - 'a' + 'A' : v[i];
		code[2] = '\0';
		if (code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z')
			for (i = 0; oj_countries[i] != '\0'; i += 3)
				if (oj_countries[i] == code[0] && oj_countries[i + 1] == code[1])
					return pstrdup(code);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s country \"%.40s\" is not a country code", what, v),
			 errdetail("A country is its two-letter ISO 3166-1 code, such as GB, IE or FR."),
			 errhint(strcmp(v, "UK") == 0 || strcmp(v, "uk") == 0 ?
					 "The United Kingdom's code is GB." :
					 "Leave the country out for an address in the United Kingdom (GB).")));
	return NULL;				/* not reached */
}

/*
 * icos._address: an address object (line1, line2, town, postcode,
 * country), each field text within its limit; normalised (trimmed, postcode
 * and country in capitals, no line2 when blank, country GB when not
 * given).  22023 when malformed, 22001 when too long, IC003 for a card
 * number.
 */
Jsonb *
oj_address(const JsonbValue *addr, const char *what)
{
	static const char *const keys[] = {"line1", "line2", "town", "postcode", "country", NULL};
	static const IcosTextField kinds[] = {TF_ADDRESS_LINE, TF_ADDRESS_LINE, TF_TOWN, TF_POSTCODE};
	JsonbContainer *c = oj_object(addr);
	char	   *vals[4];
	char	   *country;
	JsonbParseState *st = NULL;
	int			i;

	if (c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be an object", what),
				 errhint("An address is {\"line1\": ..., \"line2\": ..., \"town\": ..., \"postcode\": ..., \"country\": ...}.")));
	oj_check_keys(addr, keys, what);
	for (i = 0; i < 4; i++)
	{
		vals[i] = oj_text(c, keys[i], what);
		if (vals[i] == NULL && i != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s has no %s", what, keys[i]),
					 errhint("An address needs at least line1, town and postcode.")));
	}
	for (i = 0; i < 4; i++)
		if (vals[i] != NULL)
			icos_check_text(vals[i], strlen(vals[i]), kinds[i],
							psprintf("%s %s", what, keys[i]));
	vals[3] = TextDatumGetCString(DirectFunctionCall1Coll(upper, DEFAULT_COLLATION_OID,
														  CStringGetTextDatum(vals[3])));
	country = oj_country(c, what);

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < 4; i++)
		if (vals[i] != NULL)
			jb_put_text(&st, keys[i], vals[i]);
	jb_put_text(&st, "country", country);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/*
 * icos._json_upc: the "upc" key of a line as a GTIN-14 number; 22023 when
 * missing or not text, 22P02 (the type's own message) when malformed.
 */
int64
oj_upc(JsonbContainer *line, const char *what)
{
	JsonbValue	buf;
	JsonbValue *u = oj_key(line, "upc", &buf);
	gtin_parse_result r;

	if (u == NULL || u->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs \"upc\" as text", what),
				 errdetail("Got %s.", u == NULL ? "nothing" : oj_value_text(u)),
				 errhint("Give the product code as a string, for example \"036000291452\", so leading zeros survive.")));
	if (gtin_parse(u->val.string.val, u->val.string.len, GTIN_KIND_ANY, &r) == GTIN_OK)
		return r.value;
	/* the type's input function says what is wrong */
	return DatumGetInt64(DirectFunctionCall1(upc_in,
											 CStringGetDatum(pnstrdup(u->val.string.val,
																	  u->val.string.len))));
}

static const char *const oj_methods[] = {"cash", "visa", "credit_card", "debit_card",
"cheque", "gift_card", NULL};

/*
 * icos._payment_fields: a payment or refund object: a known method (IC003),
 * an amount (IC003), a reference checked as stored text (22001 too long,
 * IC003 a card number).
 */
void
oj_payment(const JsonbValue *pay, const char *what, OrderPayment *out)
{
	static const char *const keys[] = {"method", "amount", "reference", NULL};
	JsonbContainer *c = oj_object(pay);
	JsonbValue	buf;
	char	   *method;
	int			i;

	if (c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", what),
				 errhint("A payment is {\"method\": ..., \"amount\": ..., \"reference\": ...}.")));
	oj_check_keys(pay, keys, what);
	method = oj_text(c, "method", what);
	for (i = 0; method != NULL && oj_methods[i] != NULL; i++)
		if (strcmp(method, oj_methods[i]) == 0)
			break;
	if (method == NULL || oj_methods[i] == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_PAYMENT),
				 errmsg("unknown payment method \"%s\"", method ? method : ""),
				 errhint("The methods are cash, visa, credit_card, debit_card, cheque and gift_card.")));
	out->method = oj_methods[i];
	out->amount = oj_money(oj_key(c, "amount", &buf), psprintf("%s amount", what),
						   ERRCODE_ICOS_PAYMENT);
	out->reference = oj_text(c, "reference", what);
	if (out->reference != NULL)
		icos_check_text(out->reference, strlen(out->reference), TF_REFERENCE,
						psprintf("%s reference", what));
	out->applied = 0;
}

/*
 * An e-mail address: something@something, without whitespace or control
 * characters anywhere (a no-break space, a line separator or a zero-width
 * space included); 22023 otherwise.
 */
static void
oj_check_email(const char *email)
{
	const unsigned char *p = (const unsigned char *) email;
	int			ats = 0;
	bool		ok = true;
	const char *at = strchr(email, '@');

	while (*p && ok)
	{
		int			len = pg_utf_mblen(p);
		pg_wchar	c = utf8_to_unicode(p);

		if (c <= 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0x1680 ||
			(c >= 0x2000 && c <= 0x200F) || c == 0x2028 || c == 0x2029 ||
			c == 0x202F || c == 0x205F || c == 0x2060 || c == 0x3000 || c == 0xFEFF)
			ok = false;
		if (c == '@')
			ats++;
		p += len;
	}
	if (!ok || ats != 1 || at == email || at[1] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not an e-mail address", email),
				 errhint("An e-mail address is name@domain, without spaces or invisible characters.")));
}

/*
 * A customer's e-mail address as given: checked as stored text (what names
 * it; NULL for the field's own name), lower-cased, and checked as above.
 * The one rule for place_order, upsert_customer and update_customer.
 */
char *
oj_email(const char *given, const char *what)
{
	char	   *email;

	icos_check_text(given, strlen(given), TF_EMAIL, what);
	email = TextDatumGetCString(DirectFunctionCall1Coll(lower, DEFAULT_COLLATION_OID,
														CStringGetTextDatum(given)));
	oj_check_email(email);
	return email;
}

/* icos._norm_phone: a phone number without spaces, brackets, dots and hyphens. */
char *
oj_norm_phone(const char *phone)
{
	char	   *out = palloc(strlen(phone) + 1);
	char	   *q = out;
	const char *p;

	for (p = phone; *p; p++)
		if (!strchr(" \t\n\r\v\f().-", *p))
			*q++ = *p;
	*q = '\0';
	return out;
}

/*
 * A customer's phone number as given: checked as stored text, normalised
 * (oj_norm_phone), then 6 to 15 digits with an optional leading +; 22023
 * otherwise.  The one rule for every way a customer is written.
 */
char *
oj_phone(const char *given, const char *what)
{
	char	   *phone;
	const char *p;
	size_t		digits;

	icos_check_text(given, strlen(given), TF_PHONE, what);
	phone = oj_norm_phone(given);
	p = phone[0] == '+' ? phone + 1 : phone;
	digits = strlen(p);
	if (digits < 6 || digits > 15 || strspn(p, "0123456789") != digits)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a phone number", given),
				 errhint("A phone number has 6 to 15 digits, optionally starting with +.")));
	return phone;
}

/* ------------------------------------------------ the SQL helpers */

/* The jsonb argument as a JsonbValue (a container, or the scalar). */
static JsonbValue *
oj_arg(FunctionCallInfo fcinfo, int n, JsonbValue *buf)
{
	Jsonb	   *j;

	if (PG_ARGISNULL(n))
		return NULL;
	j = PG_GETARG_JSONB_P(n);
	if (JB_ROOT_IS_SCALAR(j))
	{
		if (!JsonbExtractScalar(&j->root, buf))
			return NULL;
		return buf;
	}
	buf->type = jbvBinary;
	buf->val.binary.data = &j->root;
	buf->val.binary.len = VARSIZE(j) - VARHDRSZ;
	return buf;
}

static char *
oj_text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? pstrdup("value") : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

PG_FUNCTION_INFO_V1(json_check_keys);
PG_FUNCTION_INFO_V1(json_int);
PG_FUNCTION_INFO_V1(json_is_count);
PG_FUNCTION_INFO_V1(json_text);
PG_FUNCTION_INFO_V1(json_array);
PG_FUNCTION_INFO_V1(json_upc);
PG_FUNCTION_INFO_V1(json_money);
PG_FUNCTION_INFO_V1(json_date);
PG_FUNCTION_INFO_V1(json_address);
PG_FUNCTION_INFO_V1(json_payment_fields);
PG_FUNCTION_INFO_V1(norm_phone);
PG_FUNCTION_INFO_V1(customer_email);
PG_FUNCTION_INFO_V1(customer_phone);

/* icos._check_keys(obj jsonb, allowed text[], what text) returns void */
Datum
json_check_keys(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;
	JsonbValue *obj = oj_arg(fcinfo, 0, &buf);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	const char **allowed;

	if (PG_ARGISNULL(1))
		elog(ERROR, "icos._check_keys needs the allowed keys");
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	allowed = palloc(sizeof(char *) * (n + 1));
	for (i = 0; i < n; i++)
		allowed[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
	allowed[n] = NULL;
	oj_check_keys(obj, allowed, oj_text_arg(fcinfo, 2));
	PG_RETURN_VOID();
}

/* icos._json_int(obj jsonb, key text, what text) returns int */
Datum
json_int(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;
	JsonbValue *obj = oj_arg(fcinfo, 0, &buf);
	int32		v;

	if (PG_ARGISNULL(1) || !oj_int(oj_object(obj), text_to_cstring(PG_GETARG_TEXT_PP(1)),
								   oj_text_arg(fcinfo, 2), &v))
		PG_RETURN_NULL();
	PG_RETURN_INT32(v);
}

/* icos._is_count(val jsonb) returns boolean */
Datum
json_is_count(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;

	PG_RETURN_BOOL(oj_is_count(oj_arg(fcinfo, 0, &buf), NULL));
}

/* icos._json_text(obj jsonb, key text, what text) returns text */
Datum
json_text(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;
	JsonbValue *obj = oj_arg(fcinfo, 0, &buf);
	char	   *v;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	v = oj_text(oj_object(obj), text_to_cstring(PG_GETARG_TEXT_PP(1)), oj_text_arg(fcinfo, 2));
	if (v == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(v));
}

/* icos._json_array(obj jsonb, key text, what text) returns jsonb ('[]' when absent) */
Datum
json_array(PG_FUNCTION_ARGS)
{
	JsonbValue	buf,
				vbuf;
	JsonbValue *obj = oj_arg(fcinfo, 0, &buf);
	char	   *key;

	if (PG_ARGISNULL(1))
		elog(ERROR, "icos._json_array needs a key");
	key = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (oj_array_key(oj_object(obj), key, oj_text_arg(fcinfo, 2)) == NULL)
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum("[]")));
	PG_RETURN_JSONB_P(JsonbValueToJsonb(oj_key(oj_object(obj), key, &vbuf)));
}

/* icos._json_upc(obj jsonb, what text) returns icos.upc */
Datum
json_upc(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;
	JsonbValue *obj = oj_arg(fcinfo, 0, &buf);

	PG_RETURN_INT64(oj_upc(oj_object(obj), oj_text_arg(fcinfo, 1)));
}

/* icos._money(val jsonb, what text, errcode text) returns bigint */
Datum
json_money(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;
	char	   *code = PG_ARGISNULL(2) ? "22023" : text_to_cstring(PG_GETARG_TEXT_PP(2));

	if (strlen(code) != 5)
		elog(ERROR, "icos._money needs a SQLSTATE of five characters");
	PG_RETURN_INT64(oj_money(oj_arg(fcinfo, 0, &buf), oj_text_arg(fcinfo, 1),
							 MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4])));
}

/* icos._json_date(obj jsonb, key text, what text) returns date */
Datum
json_date(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;
	JsonbValue *obj = oj_arg(fcinfo, 0, &buf);
	int32		d;

	if (PG_ARGISNULL(1) || !oj_date(oj_object(obj), text_to_cstring(PG_GETARG_TEXT_PP(1)),
									oj_text_arg(fcinfo, 2), &d))
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(d);
}

/* icos._address(addr jsonb, what text) returns jsonb */
Datum
json_address(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;

	PG_RETURN_JSONB_P(oj_address(oj_arg(fcinfo, 0, &buf), oj_text_arg(fcinfo, 1)));
}

/*
 * icos._payment_fields(pay jsonb, what text, OUT method text, OUT amount
 * bigint, OUT reference text)
 */
Datum
json_payment_fields(PG_FUNCTION_ARGS)
{
	JsonbValue	buf;
	OrderPayment p;
	TupleDesc	td;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	oj_payment(oj_arg(fcinfo, 0, &buf), oj_text_arg(fcinfo, 1), &p);
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "icos._payment_fields must return a record");
	values[0] = CStringGetTextDatum(p.method);
	values[1] = Int64GetDatum(p.amount);
	if (p.reference != NULL)
		values[2] = CStringGetTextDatum(p.reference);
	else
		nulls[2] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(td), values, nulls)));
}

/* icos._email(email text) returns text (strict) */
Datum
customer_email(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(oj_email(text_to_cstring(PG_GETARG_TEXT_PP(0)), NULL)));
}

/* icos._phone(phone text) returns text (strict) */
Datum
customer_phone(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(oj_phone(text_to_cstring(PG_GETARG_TEXT_PP(0)), NULL)));
}

/* icos._norm_phone(phone text) returns text (strict) */
Datum
norm_phone(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(oj_norm_phone(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}
