/*-------------------------------------------------------------------------
 *
 * price_memo.h
 *	  Per-backend memo of finished pricings (src/price_memo.c), used by
 *	  src/promotion.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_PRICE_MEMO_H
#define ICOS_PRICE_MEMO_H

#include "pricing.h"

/* A finished pricing, as stored. */
typedef struct PriceMemoValue
{
	int			nlines;
	PricedLine *lines;			/* input order */
	int64		gross;
	int64		discount;
	int64		total;
	bool		kept;			/* an order keeps the document */
	Jsonb	   *document;		/* NULL if it was not built */
} PriceMemoValue;

extern void price_memo_reset(void);
extern const PriceMemoValue *price_memo_get(const char *key, int keylen, int64 at);
extern void price_memo_put(const char *key, int keylen, int64 valid_from,
						   int64 valid_until, const PriceMemoValue *value);

#endif							/* ICOS_PRICE_MEMO_H */
