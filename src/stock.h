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

/*
 * One counter change of one item, with its ledger row (the body of
 * icos._reserve, _release, _consume and _return_stock without the fmgr
 * call): kind is the ledger's kind, the deltas decide the operation.  A
 * change that takes from a counter and finds too little raises IC001, or
 * with or_false returns false having changed nothing (a back-ordered line
 * that lost the last units to another order becomes a back-order instead).
 * Runs its statements in its own SPI connection.
 */
extern bool stock_change_item(int32 store, Datum upc, Oid upc_oid, const char *kind,
							  int32 d_on_hand, int32 d_reserved, text *order,
							  const char *note, bool or_false);

/*
 * For each of n (product, quantity), the active store or warehouse with the
 * most available, at least the quantity (ties to the lowest store_id):
 * stores[i], or found[i] false when none has it.  One statement for all
 * (the rule of icos._best_store).
 */
extern void stock_best_stores(int n, const Datum *upcs, const int32 *qtys, Oid upc_oid,
							  int32 *stores, bool *found);

#endif							/* ICOS_STOCK_H */
