/*-------------------------------------------------------------------------
 *
 * stock.h
 *	  What the stock engine (src/stock.c) offers other parts of icos.so.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_STOCK_H
#define ICOS_STOCK_H

#include "postgres.h"

/*
 * The stock of every line of one order (icos._stock_lines without the
 * fmgr call): reserve, or with sale sell unreserved units at once.  The
 * lines of one (store, product) are taken in one step; the caller must not
 * take an item of these lines again in the same transaction.  With
 * ledger_order (n ints) the caller writes the ledger rows itself, in the
 * order of the positions returned there (see src/stock.c).
 */
extern void stock_order_lines(bool sale, int n, const int32 *stores, const Datum *upcs,
							  const int32 *qtys, Oid upc_oid, text *order,
							  text *const *notes, int *ledger_order);

#endif							/* ICOS_STOCK_H */
