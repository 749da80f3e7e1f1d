/*-------------------------------------------------------------------------
 *
 * pricing.h
 *	  The pricing of icos.price_basket for C callers (src/promotion.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_PRICING_H
#define ICOS_PRICING_H

#include "utils/jsonb.h"

/* One line's prices, in pence. */
typedef struct PricedLine
{
	int64		unit_price;
	int64		discount;
	int64		net;
} PricedLine;

/* A basket's totals, in pence, and the pricing document if it is kept. */
typedef struct PricedBasket
{
	int64		gross;
	int64		discount;
	int64		total;
	Jsonb	   *document;		/* NULL: no promotion involved, exact search */
} PricedBasket;

extern void price_lines(int32 store, const char *channel, int nlines,
						const int64 *upcs, const int32 *qtys,
						PricedLine *priced, PricedBasket *totals);

#endif							/* ICOS_PRICING_H */
