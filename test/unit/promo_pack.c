/*
 * promo_pack.c: unit tests of the packing search (src/core/promo_pack.c).
 *
 * Random packing problems (a few unit types of 1 to 3 units, applications
 * of 1 to 4 units, some promotions limited per order, per-unit discounts
 * on the units left) solved by promo_pack_solve and by a brute force
 * written here over every count of every application: the same best total
 * and the same vector of discounts by owner (the tie rule), with no type
 * over its units and no owner over its limit.  The instances are wide
 * enough for the search to cut nodes by its bound, skip the children the
 * bound rules out and meet the states it has memoised.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promo_pack.h"
#include "tap.h"

#define MAXT 12
#define MAXO 10
#define MAXC 40

typedef struct inst
{
	int			nt,
				nowner,
				ncol;
	int64_t		cap[MAXT],
				w[MAXT],
				limit[MAXO];
	int			wowner[MAXT];
	promo_pack_col col[MAXC];
} inst;

static uint64_t seed = 16;

static uint64_t
rnd(uint64_t n)
{
	seed = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return (seed >> 33) % n;
}

/* The total and the vector by owner of counts x. */
static int64_t
score(const inst *in, const int64_t *x, int64_t *vec)
{
	int64_t		rem[MAXT],
				total = 0;
	int			c,
				i,
				t;

	memset(vec, 0, sizeof(int64_t) * MAXO);
	memcpy(rem, in->cap, sizeof(rem));
	for (c = 0; c < in->ncol; c++)
	{
		for (i = 0; i < in->col[c].n; i++)
			rem[in->col[c].type[i]] -= x[c] * in->col[c].mult[i];
		vec[in->col[c].owner] += x[c] * in->col[c].value;
		total += x[c] * in->col[c].value;
	}
	for (t = 0; t < in->nt; t++)
		if (in->wowner[t] >= 0)
		{
			vec[in->wowner[t]] += rem[t] * in->w[t];
			total += rem[t] * in->w[t];
		}
	return total;
}

/* Counts x fit: no type over its units, no owner over its limit. */
static int
feasible(const inst *in, const int64_t *x)
{
	int64_t		rem[MAXT],
				used[MAXO] = {0};
	int			c,
				i;

	memcpy(rem, in->cap, sizeof(rem));
	for (c = 0; c < in->ncol; c++)
	{
		if (x[c] < 0)
			return 0;
		for (i = 0; i < in->col[c].n; i++)
			rem[in->col[c].type[i]] -= x[c] * in->col[c].mult[i];
		used[in->col[c].owner] += x[c];
	}
	for (i = 0; i < in->nt; i++)
		if (rem[i] < 0)
			return 0;
	for (i = 0; i < in->nowner; i++)
		if (in->limit[i] > 0 && used[i] > in->limit[i])
			return 0;
	return 1;
}

/* ------------------------------------------------------------ brute force */

typedef struct bf
{
	const inst *in;
	int64_t		rem[MAXT],
				used[MAXO],
				x[MAXC],
				best,
				bvec[MAXO];
	int			found;
} bf;

static void
bf_walk(bf *b, int c)
{
	const inst *in = b->in;
	int64_t		k,
				most = INT64_MAX;
	int			i;

	if (c == in->ncol)
	{
		int64_t		vec[MAXO];
		int64_t		total = score(in, b->x, vec);
		int			cmp = 0;

		for (i = 0; i < MAXO && cmp == 0; i++)
			cmp = vec[i] > b->bvec[i] ? 1 : vec[i] < b->bvec[i] ? -1 : 0;
		if (!b->found || total > b->best || (total == b->best && cmp > 0))
		{
			b->found = 1;
			b->best = total;
			memcpy(b->bvec, vec, sizeof(vec));
		}
		return;
	}
	for (i = 0; i < in->col[c].n; i++)
		if (b->rem[in->col[c].type[i]] / in->col[c].mult[i] < most)
			most = b->rem[in->col[c].type[i]] / in->col[c].mult[i];
	if (in->limit[in->col[c].owner] > 0 &&
		in->limit[in->col[c].owner] - b->used[in->col[c].owner] < most)
		most = in->limit[in->col[c].owner] - b->used[in->col[c].owner];
	for (k = 0; k <= most; k++)
	{
		for (i = 0; i < in->col[c].n; i++)
			b->rem[in->col[c].type[i]] -= k * in->col[c].mult[i];
		b->used[in->col[c].owner] += k;
		b->x[c] = k;
		bf_walk(b, c + 1);
		for (i = 0; i < in->col[c].n; i++)
			b->rem[in->col[c].type[i]] += k * in->col[c].mult[i];
		b->used[in->col[c].owner] -= k;
	}
	b->x[c] = 0;
}

/* ------------------------------------------------------------ instances */

/*
 * A random instance: types of 1 to 3 units, a per-unit discount on most of
 * them, applications of 1 to 4 units over 1 to 3 types (entries by type
 * ascending, as promo_eval lists them) worth what per-unit discounts on
 * their units would give, less 10p to plus spread, so that many compete
 * closely; a few promotions limited to 1 or 2 applications.
 */
static void
make_instance(inst *in, int nt, int ncol, int spread)
{
	int			t,
				c,
				o;

	memset(in, 0, sizeof(*in));
	in->nt = nt;
	in->nowner = MAXO;
	in->ncol = ncol;
	for (o = 0; o < MAXO; o++)
		in->limit[o] = rnd(5) == 0 ? 1 + (int64_t) rnd(2) : 0;
	for (t = 0; t < nt; t++)
	{
		in->cap[t] = 1 + (int64_t) rnd(3);
		in->wowner[t] = rnd(4) == 0 ? -1 : (int) rnd(3);
		in->w[t] = in->wowner[t] < 0 ? 0 : (int64_t) rnd(40);
	}
	for (c = 0; c < ncol; c++)
	{
		promo_pack_col *col = &in->col[c];
		int			n = 1 + (int) rnd(3),
					i,
					j;
		int64_t		base = 0;

		col->owner = 3 + (int) rnd(MAXO - 3);
		col->n = 0;
		for (i = 0; i < n; i++)
		{
			int			ty = (int) rnd((uint64_t) nt);

			for (j = 0; j < col->n && col->type[j] != ty; j++)
				;
			if (j == col->n)
			{
				col->type[col->n] = ty;
				col->mult[col->n++] = 0;
			}
			col->mult[j] += 1 + (rnd(4) == 0);
		}
		/* entries by type ascending */
		for (i = 1; i < col->n; i++)
			for (j = i; j > 0 && col->type[j - 1] > col->type[j]; j--)
			{
				int			tt = col->type[j];
				int64_t		mm = col->mult[j];

				col->type[j] = col->type[j - 1];
				col->mult[j] = col->mult[j - 1];
				col->type[j - 1] = tt;
				col->mult[j - 1] = mm;
			}
		for (i = 0; i < col->n; i++)
			base += col->mult[i] * in->w[col->type[i]];
		col->value = base + (int64_t) rnd((uint64_t) spread) - 10;
		if (rnd(8) == 0 && c > 0)
		{
			/* the same units as an earlier application, another owner */
			int			e = (int) rnd((uint64_t) c);

			col->n = in->col[e].n;
			memcpy(col->type, in->col[e].type, sizeof(col->type));
			memcpy(col->mult, in->col[e].mult, sizeof(col->mult));
			col->value = in->col[e].value + (int64_t) rnd(3) - 1;
		}
	}
}

static int
solve(const inst *in, uint64_t budget, int64_t *x, uint64_t *nodes, promo_pack *out)
{
	promo_pack	pk;
	void	   *ws;

	memset(&pk, 0, sizeof(pk));
	pk.nt = in->nt;
	pk.cap = in->cap;
	pk.w = in->w;
	pk.wowner = in->wowner;
	pk.nowner = in->nowner;
	pk.limit = in->limit;
	pk.ncol = in->ncol;
	pk.col = in->col;
	pk.nodes = nodes;
	pk.budget = budget;
	pk.x = x;
	if ((ws = malloc(promo_pack_workspace(&pk))) == NULL)
		return 0;
	promo_pack_solve(&pk, ws);
	free(ws);
	*out = pk;
	return 1;
}

static void
test_random(void)
{
	int			iter,
				bad_total = 0,
				bad_vec = 0,
				bad_fit = 0,
				approx = 0;
	uint64_t	nodes = 0;

	for (iter = 0; iter < 8000; iter++)
	{
		inst		in;
		bf			b;
		int64_t		x[MAXC],
					vec[MAXO],
					total;
		promo_pack	pk;
		int			i,
					cmp = 0;

		if (iter % 2 == 0)
			make_instance(&in, 4 + (int) rnd(6), 10 + (int) rnd(14), 60);
		else
			make_instance(&in, 3 + (int) rnd(8), 6 + (int) rnd(14), 110);
		memset(&b, 0, sizeof(b));
		b.in = &in;
		memcpy(b.rem, in.cap, sizeof(b.rem));
		bf_walk(&b, 0);
		if (!solve(&in, UINT64_C(1) << 40, x, &nodes, &pk))
			continue;
		approx += pk.approximate;
		if (!feasible(&in, x))
		{
			bad_fit++;
			continue;
		}
		total = score(&in, x, vec);
		for (i = 0; i < MAXO && cmp == 0; i++)
			cmp = vec[i] != b.bvec[i];
		if (total != b.best)
		{
			bad_total++;
			printf("# instance %d: packing %lld, brute force %lld\n", iter,
				   (long long) total, (long long) b.best);
		}
		else if (cmp)
		{
			bad_vec++;
			printf("# instance %d: same total %lld, another split by owner\n", iter,
				   (long long) total);
		}
	}
	ok(bad_fit == 0 && approx == 0,
	   "8000 random packings: every answer fits its units and limits, none approximate (%d over, %d approximate)",
	   bad_fit, approx);
	ok(bad_total == 0, "and its total equals the brute force's (%d differ)", bad_total);
	ok(bad_vec == 0, "and so does the discount of every owner: the tie rule (%d differ)", bad_vec);
	printf("# %llu search nodes in all\n", (unsigned long long) nodes);
}

/*
 * A budget stop keeps a feasible answer and a gap that covers the best:
 * the brute force's total is at most the answer plus the gap.
 */
static void
test_budget(void)
{
	int			iter,
				stopped = 0,
				bad = 0;

	for (iter = 0; iter < 300; iter++)
	{
		inst		in;
		bf			b;
		int64_t		x[MAXC],
					vec[MAXO],
					total;
		uint64_t	nodes = 0;
		promo_pack	pk;

		make_instance(&in, 6 + (int) rnd(4), 18 + (int) rnd(6), 60);
		memset(&b, 0, sizeof(b));
		b.in = &in;
		memcpy(b.rem, in.cap, sizeof(b.rem));
		bf_walk(&b, 0);
		if (!solve(&in, 3, x, &nodes, &pk))
			continue;
		total = score(&in, x, vec);
		if (pk.approximate)
			stopped++;
		if (!feasible(&in, x) || b.best > total + pk.gap || (!pk.approximate && b.best != total))
			bad++;
	}
	ok(stopped > 0 && bad == 0,
	   "a budget of 3 nodes: %d of 300 stopped, every answer fits and the best is within its gap (%d wrong)",
	   stopped, bad);
}

int
main(void)
{
	test_random();
	test_budget();
	return done_testing();
}
