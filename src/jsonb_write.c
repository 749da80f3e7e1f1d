/*-------------------------------------------------------------------------
 *
 * jsonb_write.c
 *	  Writing a jsonb document straight into its binary form.
 *
 * pushJsonbValue builds a tree of JsonbValues, sorts every object's keys
 * and then JsonbValueToJsonb copies the tree into the binary form.  For a
 * document of a few thousand values whose shape is known (the pricing
 * document explains hundreds of promotions), writing the binary form
 * directly, container by container, costs a fraction of that.  The layout
 * is the one jsonb_util.c's convertJsonbValue produces, byte for byte:
 *	- a container is aligned to 4 bytes (the padding counts as its data),
 *	  then its header (count | JB_FOBJECT or JB_FARRAY), then one JEntry per
 *	  child (an object's keys first, then its values), then the children's
 *	  data in that order;
 *	- a JEntry holds its child's type and length, except every
 *	  JB_OFFSET_STRIDE'th, which holds the end offset of its data;
 *	- a numeric is aligned to 4 bytes, the padding counted in its length.
 * The caller names an object's keys up front, in jsonb's order (shorter
 * first, then bytewise; checked), and then writes the values in that order.
 * The regression tests compare every pricing document with its text form.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/numeric.h"

#include "jsonb_write.h"

static void
jbw_pad(JsonbWriter *w)
{
	while (w->buf.len % sizeof(uint32) != 0)
		appendStringInfoCharMacro(&w->buf, '\0');
}

static int
jbw_reserve(JsonbWriter *w, int len)
{
	int			offset;

	enlargeStringInfo(&w->buf, len);
	offset = w->buf.len;
	w->buf.len += len;
	w->buf.data[w->buf.len] = '\0';
	return offset;
}

/* The JEntry of the current container's next child: type and data length. */
static void
jbw_entry(JsonbWriter *w, uint32 type, int len)
{
	JbwFrame   *f;
	JEntry		meta;

	if (w->depth == 0)
		return;					/* the root's own JEntry is not stored */
	f = &w->stack[w->depth - 1];
	if (f->i >= f->n)
		elog(ERROR, "jsonb writer: more children than announced");
	f->datalen += len;
	if (f->datalen > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("total size of jsonb elements exceeds the maximum of %u bytes",
						JENTRY_OFFLENMASK)));
	if (f->i % JB_OFFSET_STRIDE == 0)
		meta = type | JENTRY_HAS_OFF | (uint32) f->datalen;
	else
		meta = type | (uint32) len;
	memcpy(w->buf.data + f->jentry, &meta, sizeof(JEntry));
	f->jentry += sizeof(JEntry);
	f->i++;
}

static void
jbw_begin(JsonbWriter *w, uint32 header, int nentries)
{
	JbwFrame   *f;

	if (w->depth >= JBW_MAX_DEPTH)
		elog(ERROR, "jsonb writer: containers nested too deep");
	f = &w->stack[w->depth++];
	f->base = w->buf.len;
	jbw_pad(w);
	appendBinaryStringInfo(&w->buf, (const char *) &header, sizeof(uint32));
	f->jentry = jbw_reserve(w, nentries * (int) sizeof(JEntry));
	f->n = nentries;
	f->i = 0;
	f->datalen = 0;
}

void
jbw_init(JsonbWriter *w)
{
	initStringInfo(&w->buf);
	w->depth = 0;
	jbw_reserve(w, VARHDRSZ);
}

/* An object of npairs keys (in jsonb's order); then its npairs values. */
void
jbw_begin_object(JsonbWriter *w, int npairs, const char *const *keys)
{
	int			k;

	jbw_begin(w, (uint32) npairs | JB_FOBJECT, 2 * npairs);
	for (k = 0; k < npairs; k++)
	{
		int			len = strlen(keys[k]);

		if (k > 0)
		{
			int			prev = strlen(keys[k - 1]);

			if (prev > len || (prev == len && memcmp(keys[k - 1], keys[k], len) >= 0))
				elog(ERROR, "jsonb writer: key \"%s\" out of order", keys[k]);
		}
		appendBinaryStringInfo(&w->buf, keys[k], len);
		jbw_entry(w, JENTRY_ISSTRING, len);
	}
}

void
jbw_begin_array(JsonbWriter *w, int nelems)
{
	jbw_begin(w, (uint32) nelems | JB_FARRAY, nelems);
}

void
jbw_end(JsonbWriter *w)
{
	JbwFrame   *f;

	if (w->depth == 0)
		elog(ERROR, "jsonb writer: no container to end");
	f = &w->stack[w->depth - 1];
	if (f->i != f->n)
		elog(ERROR, "jsonb writer: %d children announced, %d written", f->n, f->i);
	w->depth--;
	jbw_entry(w, JENTRY_ISCONTAINER, w->buf.len - f->base);
}

/* A string, or JSON null for a null pointer. */
void
jbw_string(JsonbWriter *w, const char *s)
{
	int			len;

	if (s == NULL)
	{
		jbw_null(w);
		return;
	}
	len = strlen(s);
	appendBinaryStringInfo(&w->buf, s, len);
	jbw_entry(w, JENTRY_ISSTRING, len);
}

void
jbw_numeric(JsonbWriter *w, Numeric n)
{
	int			start = w->buf.len;

	jbw_pad(w);
	appendBinaryStringInfo(&w->buf, (const char *) n, VARSIZE_ANY(n));
	jbw_entry(w, JENTRY_ISNUMERIC, w->buf.len - start);
}

void
jbw_int(JsonbWriter *w, int64 n)
{
	jbw_numeric(w, int64_to_numeric(n));
}

/* An amount in pence, as pounds with two decimals (12.50). */
void
jbw_pounds(JsonbWriter *w, int64 pence)
{
	jbw_numeric(w, int64_div_fast_to_numeric(pence, 2));
}

void
jbw_bool(JsonbWriter *w, bool b)
{
	jbw_entry(w, b ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE, 0);
}

void
jbw_null(JsonbWriter *w)
{
	jbw_entry(w, JENTRY_ISNULL, 0);
}

/*
 * A whole jsonb array or object as the next value.  Its root container is
 * copied as it is: it began 4-aligned, so its inner padding stays right
 * when it is put 4-aligned again.
 */
void
jbw_jsonb(JsonbWriter *w, Jsonb *jb)
{
	int			start = w->buf.len;

	if (w->depth == 0)
		elog(ERROR, "jsonb writer: a document is written inside a container");
	if (JB_ROOT_IS_SCALAR(jb))
		elog(ERROR, "jsonb writer: only an array or an object is written whole");
	jbw_pad(w);
	appendBinaryStringInfo(&w->buf, (const char *) &jb->root, VARSIZE(jb) - VARHDRSZ);
	jbw_entry(w, JENTRY_ISCONTAINER, w->buf.len - start);
}

/* The finished document (in the memory context jbw_init ran in). */
Jsonb *
jbw_finish(JsonbWriter *w)
{
	if (w->depth != 0)
		elog(ERROR, "jsonb writer: %d containers left open", w->depth);
	SET_VARSIZE(w->buf.data, w->buf.len);
	return (Jsonb *) w->buf.data;
}
