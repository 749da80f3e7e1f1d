/*-------------------------------------------------------------------------
 *
 * flatjson.h
 *		Reading the string members of a flat JSON object (the toolbar's
 *		login request), without PostgreSQL.
 *
 * src/core/flatjson.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_FLATJSON_H
#define ICOS_FLATJSON_H

#include <stddef.h>

typedef enum FjStatus
{
	FJ_OK = 0,
	FJ_MISSING,					/* the object has no such member */
	FJ_NOT_STRING,				/* the member is not a string */
	FJ_TOO_LONG,				/* the value does not fit the buffer */
	FJ_MALFORMED				/* not one JSON object of string or scalar values */
} FjStatus;

/*
 * Find member `key` of the JSON object in text[0..len) and copy its string
 * value, unescaped to UTF-8 and NUL-terminated, into out[0..outcap).  The
 * whole text must be one object whose values are strings, numbers, true,
 * false or null (no nesting); a key given twice, a \u0000 escape, a raw
 * control character or anything after the object is FJ_MALFORMED.
 */
extern FjStatus fj_get_string(const char *text, size_t len, const char *key,
							  char *out, size_t outcap);

#endif							/* ICOS_FLATJSON_H */
