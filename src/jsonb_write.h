/*-------------------------------------------------------------------------
 *
 * jsonb_write.h
 *	  Writing a jsonb document straight into its binary form, for large
 *	  documents whose shape the caller knows (the pricing document, a
 *	  product's information).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_JSONB_WRITE_H
#define ICOS_JSONB_WRITE_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#define JBW_MAX_DEPTH	8

typedef struct JbwFrame
{
	int			base;			/* where the container starts (before its
								 * alignment padding) */
	int			jentry;			/* where its next JEntry goes */
	int			n;				/* its entries (keys and values) */
	int			i;				/* entries written */
	int			datalen;		/* bytes of its entries' data so far */
} JbwFrame;

typedef struct JsonbWriter
{
	StringInfoData buf;
	int			depth;
	JbwFrame	stack[JBW_MAX_DEPTH];
} JsonbWriter;

extern void jbw_init(JsonbWriter *w);
extern void jbw_begin_object(JsonbWriter *w, int npairs, const char *const *keys);
extern void jbw_begin_array(JsonbWriter *w, int nelems);
extern void jbw_end(JsonbWriter *w);
extern void jbw_string(JsonbWriter *w, const char *s);
extern void jbw_numeric(JsonbWriter *w, Numeric n);
extern void jbw_int(JsonbWriter *w, int64 n);
extern void jbw_pounds(JsonbWriter *w, int64 pence);
extern void jbw_bool(JsonbWriter *w, bool b);
extern void jbw_null(JsonbWriter *w);
extern void jbw_jsonb(JsonbWriter *w, Jsonb *jb);
extern Jsonb *jbw_finish(JsonbWriter *w);

#endif							/* ICOS_JSONB_WRITE_H */
