/*-------------------------------------------------------------------------
 *
 * jsonb_put.h
 *	  Building jsonb values key by key, without a text round trip.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_JSONB_PUT_H
#define ICOS_JSONB_PUT_H

#include "utils/jsonb.h"

extern void jb_put_key(JsonbParseState **st, const char *key);
extern void jb_put_pounds(JsonbParseState **st, const char *key, int64 pence);
extern void jb_put_int(JsonbParseState **st, const char *key, int64 n);
extern void jb_put_text(JsonbParseState **st, const char *key, const char *s);
extern void jb_put_bool(JsonbParseState **st, const char *key, bool b);

#endif							/* ICOS_JSONB_PUT_H */
