/*-------------------------------------------------------------------------
 *
 * jsonb_put.c
 *	  Building jsonb values key by key, without a text round trip.
 *
 * The promotion engine's results and the placement's basket and event
 * details are built with pushJsonbValue: the same jsonb the text form
 * would parse to (keys are sorted and made unique when an object ends),
 * for a fraction of the cost of printing and parsing it.  Each function
 * pushes one key and its value into the object being built.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/numeric.h"

#include "jsonb_put.h"

void
jb_put_key(JsonbParseState **st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &k);
}

/* An amount in pence, as pounds with two decimals (12.50). */
void
jb_put_pounds(JsonbParseState **st, const char *key, int64 pence)
{
	JsonbValue	v;

	jb_put_key(st, key);
	v.type = jbvNumeric;
	v.val.numeric = int64_div_fast_to_numeric(pence, 2);
	pushJsonbValue(st, WJB_VALUE, &v);
}

void
jb_put_int(JsonbParseState **st, const char *key, int64 n)
{
	JsonbValue	v;

	jb_put_key(st, key);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(n);
	pushJsonbValue(st, WJB_VALUE, &v);
}

/* A string, or JSON null for a null pointer. */
void
jb_put_text(JsonbParseState **st, const char *key, const char *s)
{
	JsonbValue	v;

	jb_put_key(st, key);
	if (s == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) s;
		v.val.string.len = strlen(s);
	}
	pushJsonbValue(st, WJB_VALUE, &v);
}

void
jb_put_bool(JsonbParseState **st, const char *key, bool b)
{
	JsonbValue	v;

	jb_put_key(st, key);
	v.type = jbvBool;
	v.val.boolean = b;
	pushJsonbValue(st, WJB_VALUE, &v);
}
