/*
 * promo_brute.h: brute forces of the best-price rule for the promotion
 * engine's tests (test/unit/promo_eval.c, test/fuzz/promo_eval.c), written
 * without the engine's code: only the rules of docs/promotions-engine.md.
 * Included by each test (static functions), never by the engine.
 *
 * The value of a promotion over given units (bf_value) forms groups from
 * the dearest units down and stops at the first group worth nothing.
 *
 * The subset brute force (dp_solve), for up to DP_UNITS units and
 * DP_PROMOS promotions: for each item promotion p and each set T of units,
 * f_p(T) is the most p gives when it takes exactly the units T (every way
 * of giving T's units to p's roles, each role holding k x size units for
 * one k, k within max_per_order, valued by bf_value); then, promotion after
 * promotion in the canonical order (priority descending, id ascending),
 * h_k(S) is the best (total, then the vector of amounts compared from
 * promotion k on) that promotions k.. can give with the units S: the
 * best-price rule's order, so h_0(all units) is the best total and the
 * amount the rule gives every promotion.  Lexicographic order is
 * compatible with adding a first entry, so the best h_k(S) is built from
 * the best h_(k+1) of the units left.
 */
#ifndef ICOS_PROMO_BRUTE_H
#define ICOS_PROMO_BRUTE_H

#include <stdlib.h>
#include <string.h>

#include "promo.h"

#define DP_UNITS	10
#define DP_SETS		(1 << DP_UNITS)
#define DP_PROMOS	64

/*
 * The brute force: every unit gets "no promotion" or one (promotion, role);
 * a promotion's choice is valid when every role holds k * size units for
 * one k (k <= max_per_order when limited).  Its value forms groups from
 * the dearest units down and stops at the first group worth nothing.
 */
typedef struct bf_unit
{
	int64_t		price;
	int64_t		item;
	int64_t		cat;			/* the item's category */
	int64_t		root;			/* and the category above it */
} bf_unit;

static int
bf_roles(const promo_rule *r, int32_t *size)
{
	switch (r->kind)
	{
		case PROMO_MULTIBUY:
			size[0] = r->qty;
			return 1;
		case PROMO_BUY_GET:
			if (r->get_is_buy)
			{
				size[0] = r->buy_qty + r->get_qty;
				return 1;
			}
			size[0] = r->buy_qty;
			size[1] = r->get_qty;
			return 2;
		case PROMO_BUNDLE:
			{
				size_t		i;

				for (i = 0; i < r->nitems; i++)
					size[i] = 1;
				return (int) r->nitems;
			}
		default:
			size[0] = 1;
			return 1;
	}
}

static bool
bf_match(const promo_match *m, const bf_unit *u)
{
	size_t		i;

	if (m->kind == PROMO_MATCH_ALL)
		return true;
	for (i = 0; i < m->nids; i++)
		if ((m->kind == PROMO_MATCH_UPC && m->ids[i] == u->item) ||
			(m->kind == PROMO_MATCH_CATEGORY && (m->ids[i] == u->cat || m->ids[i] == u->root)))
			return true;
	return false;
}

static const promo_match *
bf_role_match(const promo_rule *r, int role)
{
	if (r->kind == PROMO_BUNDLE)
		return &r->items[role];
	if (r->kind == PROMO_BUY_GET && role == 1)
		return &r->get;
	return &r->target;
}

static int
desc(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return (x < y) - (x > y);
}

static int64_t
bf_value(const promo_def *d, int64_t prices[16][16], const int *n)
{
	const promo_rule *r = d->rule;
	int32_t		size[16];
	int			nr = bf_roles(r, size),
				i,
				k,
				g;
	int64_t		total = 0;

	for (i = 0; i < nr; i++)
		qsort(prices[i], (size_t) n[i], sizeof(int64_t), desc);
	if (r->kind == PROMO_PERCENT_OFF || r->kind == PROMO_AMOUNT_OFF || r->kind == PROMO_FIXED_PRICE)
	{
		for (i = 0; i < n[0]; i++)
		{
			int64_t		p = prices[0][i],
						v;

			if (r->kind == PROMO_PERCENT_OFF)
				v = (p * r->percent_bp + 5000) / 10000;
			else if (r->kind == PROMO_AMOUNT_OFF)
				v = p < r->amount ? p : r->amount;
			else
				v = p > r->price ? p - r->price : 0;
			total += v;
		}
		return total;
	}
	k = n[0] / size[0];
	for (g = 0; g < k; g++)
	{
		int64_t		v = 0,
					s = 0;

		if (r->kind == PROMO_MULTIBUY)
		{
			for (i = 0; i < size[0]; i++)
				s += prices[0][g * size[0] + i];
			v = s - r->price;
		}
		else if (r->kind == PROMO_BUNDLE)
		{
			for (i = 0; i < nr; i++)
				s += prices[i][g];
			v = s - r->price;
		}
		else if (r->get_is_buy)
		{
			for (i = r->buy_qty; i < size[0]; i++)
				s += prices[0][g * size[0] + i];
			v = (s * r->percent_bp + 5000) / 10000;
		}
		else
		{
			for (i = 0; i < size[1]; i++)
				s += prices[1][g * size[1] + i];
			v = (s * r->percent_bp + 5000) / 10000;
		}
		if (v <= 0)
			break;
		total += v;
	}
	return total;
}

static const promo_def *dp_promos;	/* of dp_canonical */

typedef struct dp_state
{
	bf_unit		u[DP_UNITS];
	int			nu;
	int			order[DP_PROMOS];	/* item promotions, canonical order */
	int			norder;
	int64_t		f[DP_SETS];		/* f_p(T) of the promotion at hand, -1: none */
	int64_t		tot[2][DP_SETS];
	int64_t		vec[2][DP_SETS][DP_PROMOS];	/* amounts by position in order */
} dp_state;

/* Give the units of T (a bit set) to p's roles every possible way. */
static void
dp_assign(dp_state *s, const promo_def *d, unsigned T, int from, int *role_of,
		  const int32_t *size, int nr, int k, int *count)
{
	int			i,
				ri;

	while (from < s->nu && !(T & (1u << from)))
		from++;
	if (from == s->nu)
	{
		int64_t		prices[16][16];
		int			n[16];
		int64_t		v;

		memset(n, 0, sizeof(n));
		for (i = 0; i < s->nu; i++)
			if (T & (1u << i))
				prices[role_of[i]][n[role_of[i]]++] = s->u[i].price;
		v = bf_value(d, prices, n);
		if (v > s->f[T])
			s->f[T] = v;
		return;
	}
	for (ri = 0; ri < nr; ri++)
		if (count[ri] < k * size[ri] && bf_match(bf_role_match(d->rule, ri), &s->u[from]))
		{
			role_of[from] = ri;
			count[ri]++;
			dp_assign(s, d, T, from + 1, role_of, size, nr, k, count);
			count[ri]--;
		}
}

static int
dp_canonical(const void *a, const void *b)
{
	const promo_def *x = &dp_promos[*(const int *) a],
			   *y = &dp_promos[*(const int *) b];

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Is (t1, v1[k..]) better than (t2, v2[k..])? */
static bool
dp_better(int64_t t1, const int64_t *v1, int64_t t2, const int64_t *v2, int k, int n)
{
	int			i;

	if (t1 != t2)
		return t1 > t2;
	for (i = k; i < n; i++)
		if (v1[i] != v2[i])
			return v1[i] > v2[i];
	return false;
}

/*
 * The brute force's total item discount with the units s->u[0 .. s->nu),
 * and each item promotion's amount (amounts[p], by index into promos).
 */
static int64_t
dp_solve(dp_state *s, const promo_def *promos, int np, int64_t *amounts)
{
	unsigned	full = (1u << s->nu) - 1,
				S,
				T;
	int			k,
				i,
				cur = 0;

	dp_promos = promos;
	s->norder = 0;
	for (i = 0; i < np; i++)
		if (promos[i].rule->kind != PROMO_SPEND_THRESHOLD)
			s->order[s->norder++] = i;
	qsort(s->order, (size_t) s->norder, sizeof(int), dp_canonical);
	for (S = 0; S <= full; S++)
	{
		s->tot[cur][S] = 0;
		memset(s->vec[cur][S], 0, sizeof(s->vec[cur][S]));
	}
	for (k = s->norder - 1; k >= 0; k--)
	{
		const promo_def *d = &promos[s->order[k]];
		int32_t		size[16];
		int			nr = bf_roles(d->rule, size),
					per = 0,
					nxt = 1 - cur;

		for (i = 0; i < nr; i++)
			per += size[i];
		for (T = 0; T <= full; T++)
		{
			int			role_of[DP_UNITS],
						count[16],
						kk = __builtin_popcount(T) / per;

			s->f[T] = -1;
			if (T == 0)
				s->f[T] = 0;
			else if (__builtin_popcount(T) % per == 0 &&
					 (d->max_per_order == 0 || kk <= d->max_per_order))
			{
				memset(count, 0, sizeof(count));
				dp_assign(s, d, T, 0, role_of, size, nr, kk, count);
			}
		}
		for (S = 0; S <= full; S++)
		{
			int64_t		bt = -1;
			int64_t		bv[DP_PROMOS];

			/* every T within S, S itself included, the empty set last */
			T = S;
			for (;;)
			{
				if (s->f[T] >= 0)
				{
					int64_t		t = s->f[T] + s->tot[cur][S & ~T];
					int64_t		v[DP_PROMOS];

					memcpy(v, s->vec[cur][S & ~T], sizeof(v));
					v[k] = s->f[T];
					if (bt < 0 || dp_better(t, v, bt, bv, k, s->norder))
					{
						bt = t;
						memcpy(bv, v, sizeof(bv));
					}
				}
				if (T == 0)
					break;
				T = (T - 1) & S;
			}
			s->tot[nxt][S] = bt;
			memcpy(s->vec[nxt][S], bv, sizeof(bv));
		}
		cur = nxt;
	}
	memset(amounts, 0, sizeof(int64_t) * (size_t) np);
	for (k = 0; k < s->norder; k++)
		amounts[s->order[k]] = s->vec[cur][full][k];
	return s->tot[cur][full];
}

#endif							/* ICOS_PROMO_BRUTE_H */
