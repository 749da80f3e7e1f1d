/*-------------------------------------------------------------------------
 *
 * promo_pack.h
 *	  Exact weighted packing of promotion applications into units: the
 *	  search the evaluator (promo_eval.c) uses when every promotion of a
 *	  group of competing promotions can be listed as explicit applications
 *	  (docs/promotions-engine.md, "The packing search").
 *
 * Columns list their entries by type (ascending).  Internal to the core: plain C99, no allocation (the caller passes a
 * workspace of promo_pack_workspace() bytes), no global state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_PROMO_PACK_H
#define ICOS_PROMO_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PACK_MAX_ENTRIES	8	/* distinct unit types in one application */

/*
 * One application ("column"): its owner (a promotion, by its index in the
 * canonical order), the units it takes (type, how many) and its discount.
 */
typedef struct promo_pack_col
{
	int			owner;
	int			n;
	int			type[PACK_MAX_ENTRIES];
	int64_t		mult[PACK_MAX_ENTRIES];
	int64_t		value;
} promo_pack_col;

/*
 * The problem: nt unit types with cap[t] units each; every unit not taken
 * by an application is worth w[t] to owner wowner[t] (the best unlimited
 * per-unit promotion, -1 for none, w[t] = 0 then).  Owner p may apply at
 * most limit[p] times (0: unlimited).  Find how many times x[c] each column
 * is applied, with no type over its cap, maximising the total discount;
 * among equal totals the vector of discounts by owner (owner 0 first) is
 * lexicographically largest; among equal vectors the first found in the
 * search order wins (columns by their dearest type, then gain, then their
 * index: no dependence on the order of the basket's lines).
 */
typedef struct promo_pack
{
	int			nt;
	const int64_t *cap;
	const int64_t *w;
	const int  *wowner;
	int			nowner;
	const int64_t *limit;
	int			ncol;
	const promo_pack_col *col;
	uint64_t   *nodes;			/* search nodes, counted against budget */
	uint64_t	budget;
	/* out */
	int64_t    *x;				/* [ncol], filled by promo_pack_solve */
	bool		approximate;	/* the budget ran out in some component */
	int64_t		gap;			/* then: at most this much more discount
								 * exists (pence) */
} promo_pack;

/* Bytes of workspace promo_pack_solve needs for pk (its sizes and limits). */
extern size_t promo_pack_workspace(const promo_pack *pk);
extern void promo_pack_solve(promo_pack *pk, void *workspace);

#endif							/* ICOS_PROMO_PACK_H */
