/*-------------------------------------------------------------------------
 *
 * promo_pack.c
 *	  Exact packing of promotion applications into a basket's units: the
 *	  evaluator's search for groups of competing promotions whose
 *	  applications can be listed (docs/promotions-engine.md, "The packing
 *	  search").
 *
 * Every unit not taken by an application is worth its best unlimited
 * per-unit discount w[t], so the total is sum(cap x w) plus the gains
 * (value - the w of its units) of the applications chosen.  The steps:
 *	1. Applications that give nothing, or less than the per-unit discounts
 *	   of their units (a negative gain), are dropped: replacing one by the
 *	   per-unit discounts of its units is strictly better, so no best
 *	   answer uses it.  A gain of 0 is kept (it can decide a tie).
 *	2. The unit types linked by the applications left form components
 *	   (a promotion with a per-order limit links all of its types); each is
 *	   solved on its own, which is exact for the total and, as the order of
 *	   vectors is compatible with addition, for the tie rule too.
 *	3. In a component: a greedy incumbent, a Lagrangian bound (one price
 *	   lambda[t] per unit of each type, fitted by subgradient steps and
 *	   rounded down to whole pence: any lambda >= 0 gives a valid bound),
 *	   then a depth-first branch and bound over "how many times is this
 *	   application used", dearest types first, most times first.  At a node
 *	   the bound is the gains fixed so far plus, for the types some later
 *	   application can still take, remaining units x lambda, plus every
 *	   later application's reduced gain (gain - its units' lambda, when
 *	   positive) times the most times it still fits.  A node is cut only
 *	   when that bound is below the best total: equal totals are searched,
 *	   so the tie rule is exact.  Children the node's bound already rules
 *	   out are skipped, and finished states are memoised with the most
 *	   their completions total (the doc says why both are exact).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>
#ifdef PACK_DEBUG
#include <stdio.h>
#endif

#include "promo_pack.h"

/* Subgradient steps fitting the Lagrangian prices of a component. */
#define PACK_LAGRANGE_STEPS	60

/*
 * The memo of finished search states: slots, and the most bytes of a key
 * (one per type of the component and per limited promotion in it).
 */
#define PACK_MEMO_SLOTS		2048
#define PACK_MEMO_KEY		128

/*
 * A column of the bound's sum (positive reduced gain), laid out for the
 * bound's inner loop: its types and units a time, its owner when limited.
 */
typedef struct pk_bcol
{
	int64_t		rc;
	int			n;
	int			owner;			/* a limited owner, or -1 */
	int			type[PACK_MAX_ENTRIES];
	int32_t		mult[PACK_MAX_ENTRIES];
} pk_bcol;

/* A memo slot: whose state it holds (with the key) and its value. */
typedef struct pk_mslot
{
	uint32_t	stamp;			/* the component's mark */
	int32_t		depth;
	int64_t		u;
} pk_mslot;

typedef struct pk_ws
{
	int64_t    *rem;			/* [nt] units left */
	int		   *parent;			/* [nt] union-find */
	int64_t    *lam;			/* [nt] */
	double	   *lamd;			/* [nt] */
	double	   *lbest;			/* [nt] */
	double	   *grad;			/* [nt] */
	int		   *last;			/* [nt] last position of a column taking t */
	int		   *tl;				/* [nt] the component's types */
	int		   *ofirst;			/* [nowner] a type of the owner's columns */
	int64_t    *used;			/* [nowner] applications so far */
	int64_t    *vec;			/* [nowner] */
	int64_t    *bvec;			/* [nowner] */
	unsigned char *omark;		/* [nowner] */
	int		   *olist;			/* [nowner] the component's owners */
	int64_t    *gain;			/* [ncol] */
	int64_t    *rc;				/* [ncol] reduced gain at the fitted lambda */
	pk_bcol    *bcol;			/* [ncol] the bound's columns (rc > 0) taking
								 * more than one unit of a type, by position */
	int		   *lfrom;			/* [ncol + 1] types whose last position is
								 * k: ltype[lfrom[k] .. lfrom[k + 1]) */
	int		   *ltype;			/* [nt] */
	int64_t		lsum;			/* rem x lambda of the component's types,
								 * kept by pk_apply */
	int		   *pfrom1;			/* [ncol + 1] as pfrom, for bcol1 */
	pk_bcol    *bcol1;			/* [ncol] the bound's other columns (one
								 * unit of each type: no division) */
	int64_t    *dsum;			/* [ncol + 1] rem x lambda of the types no
								 * column from a position on takes (the
								 * current path) */
	int		   *pfrom;			/* [ncol + 1] first entry of bcol at or after
								 * a position */
	bool	   *keep;			/* [ncol] */
	int		   *ord;			/* [ncol] the component's columns, in order */
	promo_pack_col *pcol;		/* [ncol] copies of them, by position, for
								 * the search's locality */
	int		   *cbuck;			/* [ncol] kept columns by component */
	int		   *cfrom;			/* [nt + 1] */
	int		   *tbuck;			/* [nt] types by component */
	int		   *tfrom;			/* [nt + 1] */
	int		   *tmp;			/* [ncol] merge sort */
	int		   *gord;			/* [ncol] columns in greedy order */
	int		   *pos;			/* [ncol] position of a column in ord */
	int64_t    *xs;				/* [ncol] current counts, by position */
	int64_t    *xlo;			/* [ncol] the fewest times still worth trying */
	int64_t    *gx;				/* [ncol] greedy counts, by position */
	int64_t    *cat;			/* [ncol] committed when the node at a
								 * position was opened */
	unsigned char *open;		/* [ncol] a node was opened there */
	int64_t    *top;			/* [ncol] the open node's best completion
								 * total found or bounded so far */
	int		   *up;				/* [ncol] the open node above, or -1 */
	int		   *kpos;			/* [nt] byte of a type in key; [nowner] */
	int		   *kopos;			/* byte of a limited owner in key, or -1 */
	int		   *klive;			/* [ncol + 1] bytes of the key at a position */
	int			klen;			/* most bytes of a memo key; 0: no memo */
	int			kcap;			/* bytes of a memo slot's key */
	uint32_t	stamp;			/* the component's mark on its memo slots */
	pk_mslot   *mslot;			/* [PACK_MEMO_SLOTS] */
	unsigned char *mkey;		/* [PACK_MEMO_SLOTS][klen] */
	unsigned char *key;			/* [PACK_MEMO_KEY + 8] the state, kept by
								 * pk_apply: limited owners' applications,
								 * then units left by type, the types whose
								 * last column comes latest first */
} pk_ws;

static size_t
pk_align(size_t n)
{
	return (n + 15) & ~(size_t) 15;
}

/*
 * Bytes of a memo key: one per type and per limited owner, at most
 * PACK_MEMO_KEY (the search keeps no memo for a wider component).
 */
static size_t
pk_key_bytes(const promo_pack *pk)
{
	size_t		k = (size_t) (pk->nt > 0 ? pk->nt : 0);
	int			o;

	for (o = 0; o < pk->nowner; o++)
		if (pk->limit[o] > 0)
			k++;
	return k < PACK_MEMO_KEY ? (k > 0 ? k : 1) : PACK_MEMO_KEY;
}


static int
pk_find(int *parent, int t)
{
	while (parent[t] != t)
	{
		parent[t] = parent[parent[t]];
		t = parent[t];
	}
	return t;
}

static void
pk_union(int *parent, int a, int b)
{
	a = pk_find(parent, a);
	b = pk_find(parent, b);
	if (a != b)
		parent[a > b ? a : b] = a < b ? a : b;
}

/* Column order in a component: dearest type first, then gain, then index. */
static bool
pk_before(const promo_pack *pk, const pk_ws *w, int a, int b)
{
	int			ma = pk->col[a].type[0],
				mb = pk->col[b].type[0],
				i;

	for (i = 1; i < pk->col[a].n; i++)
		if (pk->col[a].type[i] < ma)
			ma = pk->col[a].type[i];
	for (i = 1; i < pk->col[b].n; i++)
		if (pk->col[b].type[i] < mb)
			mb = pk->col[b].type[i];
	if (ma != mb)
		return ma < mb;
	if (w->gain[a] != w->gain[b])
		return w->gain[a] > w->gain[b];
	return a < b;
}

/* Entries of a column are in the order listed; compare them as a key. */
static int
pk_units_cmp(const promo_pack_col *a, const promo_pack_col *b)
{
	int			i;

	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (i = 0; i < a->n; i++)
	{
		if (a->type[i] != b->type[i])
			return a->type[i] < b->type[i] ? -1 : 1;
		if (a->mult[i] != b->mult[i])
			return a->mult[i] < b->mult[i] ? -1 : 1;
	}
	return 0;
}

static bool
pk_same_units(const promo_pack_col *a, const promo_pack_col *b)
{
	return pk_units_cmp(a, b) == 0;
}

static bool
pk_units_before(const promo_pack *pk, const pk_ws *w, int a, int b)
{
	int			c = pk_units_cmp(&pk->col[a], &pk->col[b]);

	(void) w;
	return c != 0 ? c < 0 : a < b;
}

/* Greedy order: gain descending, then index. */
static bool
pk_greedy_before(const promo_pack *pk, const pk_ws *w, int a, int b)
{
	(void) pk;
	if (w->gain[a] != w->gain[b])
		return w->gain[a] > w->gain[b];
	return a < b;
}

/* Stable merge sort of v[0..n) (no recursion). */
static void
pk_sort(const promo_pack *pk, const pk_ws *w, int *v, int *tmp, int n,
		bool (*before) (const promo_pack *, const pk_ws *, int, int))
{
	int			width,
				i;

	for (width = 1; width < n; width *= 2)
	{
		for (i = 0; i < n; i += 2 * width)
		{
			int			lo = i,
						mid = i + width < n ? i + width : n,
						hi = i + 2 * width < n ? i + 2 * width : n,
						a = lo,
						b = mid,
						k = lo;

			while (a < mid || b < hi)
			{
				if (b >= hi || (a < mid && !before(pk, w, v[b], v[a])))
					tmp[k++] = v[a++];
				else
					tmp[k++] = v[b++];
			}
		}
		memcpy(v, tmp, (size_t) n * sizeof(int));
	}
}

/*
 * k / m for k >= 0, m >= 1: in 32 bits when k allows (units of a type are
 * few), a much cheaper division on the bound's hot path.
 */
static inline int64_t
pk_div(int64_t k, int64_t m)
{
	if (k <= (int64_t) UINT32_MAX && m <= (int64_t) UINT32_MAX)
		return (int64_t) ((uint32_t) k / (uint32_t) m);
	return k / m;
}

/* Most times column c still fits in rem, within its owner's limit. */
static inline int64_t
pk_fit_col(const promo_pack *pk, const pk_ws *w, const promo_pack_col *col)
{
	int64_t		f = INT64_MAX;
	int			i;

	for (i = 0; i < col->n; i++)
	{
		int64_t		k = w->rem[col->type[i]];

		if (col->mult[i] != 1)	/* most take one unit a type: no division */
			k = pk_div(k, col->mult[i]);
		if (k < f)
			f = k;
	}
	if (pk->limit[col->owner] > 0)
	{
		int64_t		k = pk->limit[col->owner] - w->used[col->owner];

		if (k < f)
			f = k;
	}
	return f > 0 ? f : 0;
}

static int64_t
pk_fit(const promo_pack *pk, const pk_ws *w, int c)
{
	return pk_fit_col(pk, w, &pk->col[c]);
}

static inline void
pk_apply_col(pk_ws *w, const promo_pack_col *col, int64_t times)
{
	int			i;

	for (i = 0; i < col->n; i++)
	{
		w->rem[col->type[i]] -= times * col->mult[i];
		w->lsum -= times * col->mult[i] * w->lam[col->type[i]];
		if (w->klen > 0)
			w->key[w->kpos[col->type[i]]] = (unsigned char) w->rem[col->type[i]];
	}
	w->used[col->owner] += times;
	if (w->klen > 0 && w->kopos[col->owner] >= 0)
		w->key[w->kopos[col->owner]] = (unsigned char) w->used[col->owner];
}

static void
pk_apply(const promo_pack *pk, pk_ws *w, int c, int64_t times)
{
	pk_apply_col(w, &pk->col[c], times);
}

/* The vector of discounts by owner for counts x (by position) and rem. */
static void
pk_vector(const promo_pack *pk, pk_ws *w, int n, int ntl, int nol,
		  const int64_t *x, int64_t *vec)
{
	int			i;

	for (i = 0; i < nol; i++)
		vec[w->olist[i]] = 0;
	for (i = 0; i < n; i++)
		vec[pk->col[w->ord[i]].owner] += x[i] * pk->col[w->ord[i]].value;
	for (i = 0; i < ntl; i++)
	{
		int			t = w->tl[i];

		if (pk->wowner[t] >= 0)
			vec[pk->wowner[t]] += w->rem[t] * pk->w[t];
	}
}

static int
pk_vec_cmp(const pk_ws *w, int nol, const int64_t *a, const int64_t *b)
{
	int			i;

	for (i = 0; i < nol; i++)
	{
		int			o = w->olist[i];

		if (a[o] != b[o])
			return a[o] > b[o] ? 1 : -1;
	}
	return 0;
}

/* Lagrangian bound of the whole component at prices lam (doubles). */
static double
pk_lagrange(const promo_pack *pk, pk_ws *w, int n, int ntl, const double *lam,
			double *grad)
{
	double		v = 0;
	int			i,
				k;

	for (i = 0; i < ntl; i++)
	{
		v += (double) w->rem[w->tl[i]] * lam[w->tl[i]];
		grad[w->tl[i]] = (double) w->rem[w->tl[i]];
	}
	for (k = 0; k < n; k++)
	{
		int			c = w->ord[k];
		const promo_pack_col *col = &pk->col[c];
		double		r = (double) w->gain[c];
		int64_t		f;

		for (i = 0; i < col->n; i++)
			r -= (double) col->mult[i] * lam[col->type[i]];
		if (r <= 0)
			continue;
		f = pk_fit(pk, w, c);
		v += r * (double) f;
		for (i = 0; i < col->n; i++)
			grad[col->type[i]] -= (double) (f * col->mult[i]);
	}
	return v;
}

/*
 * The bound at position d: gains fixed so far (committed), remaining units
 * of the types still wanted x lambda, later columns' positive reduced
 * gains x the times they still fit.  Exact integer arithmetic.
 */
static int64_t
pk_bound(const promo_pack *pk, pk_ws *w, int n, int d, int64_t committed)
{
	int64_t		b = committed + w->lsum - w->dsum[d];
	int			i;

	for (i = w->pfrom1[d]; i < w->pfrom1[n]; i++)
	{
		const pk_bcol *bc = &w->bcol1[i];
		int64_t		f = w->rem[bc->type[0]];
		int			j;

		for (j = 1; j < bc->n; j++)
			if (w->rem[bc->type[j]] < f)
				f = w->rem[bc->type[j]];
		if (bc->owner >= 0 && pk->limit[bc->owner] - w->used[bc->owner] < f)
			f = pk->limit[bc->owner] - w->used[bc->owner];
		if (f > 0)
			b += bc->rc * f;
	}
	for (i = w->pfrom[d]; i < w->pfrom[n]; i++)
	{
		const pk_bcol *bc = &w->bcol[i];
		int64_t		f = INT64_MAX;
		int			j;

		for (j = 0; j < bc->n; j++)
		{
			int64_t		k = w->rem[bc->type[j]];

			if (bc->mult[j] != 1)
				k = pk_div(k, bc->mult[j]);
			if (k < f)
				f = k;
		}
		if (bc->owner >= 0 && pk->limit[bc->owner] - w->used[bc->owner] < f)
			f = pk->limit[bc->owner] - w->used[bc->owner];
		if (f > 0)
			b += bc->rc * f;
	}
	return b;
}

/*
 * Leaving position d for d + 1, with the column at d at its count: the
 * types whose last column is at d join the types no later column takes.
 */
static void
pk_down(pk_ws *w, int d)
{
	int64_t		sum = w->dsum[d];
	int			i;

	for (i = w->lfrom[d]; i < w->lfrom[d + 1]; i++)
		sum += w->rem[w->ltype[i]] * w->lam[w->ltype[i]];
	w->dsum[d + 1] = sum;
}

/*
 * The memo slot of the search state at position d: the applications so far
 * of the component's limited promotions and the units left of the types a
 * column from d on can take (w->klive[d] bytes of w->key).
 */
static int
pk_memo_slot(const pk_ws *w, int d)
{
	uint64_t	h = UINT64_C(0x9e3779b97f4a7c15) * (uint64_t) (d + 1);
	int			i,
				len = w->klive[d];

	/* whole words (the key has 8 bytes of slack), the last one masked */
	for (i = 0; i < len; i += 8)
	{
		uint64_t	v;

		memcpy(&v, w->key + i, 8);
		if (len - i < 8)
			v &= (UINT64_C(1) << (8 * (len - i))) - 1;
		h = (h ^ v) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	return (int) ((h ^ (h >> 29)) % PACK_MEMO_SLOTS);
}

/*
 * The most a completion of the state at d (key in w->key, slot m) can
 * add, or -1 when the memo does not know the state.
 */
static int64_t
pk_memo_get(const pk_ws *w, int m, int d)
{
	if (w->mslot[m].stamp != w->stamp || w->mslot[m].depth != d ||
		memcmp(w->mkey + (size_t) m * (size_t) w->klen, w->key, (size_t) w->klive[d]) != 0)
		return -1;
	return w->mslot[m].u;
}

static void
pk_memo_put(pk_ws *w, int m, int d, int64_t u)
{
	w->mslot[m].stamp = w->stamp;
	w->mslot[m].depth = d;
	w->mslot[m].u = u;
	memcpy(w->mkey + (size_t) m * (size_t) w->klen, w->key, (size_t) w->klive[d]);
}

static void
pk_component(promo_pack *pk, pk_ws *w, int n, int ntl, int nol)
{
	int			i,
				i1,
				k,
				d,
				cur;
	int64_t		best,
				committed = 0,
				root;
	double		lbest_val,
				theta = 2.0;
	int			stale = 0;
	bool		aborted = false;

	w->klen = 0;				/* no memo key to keep yet */
	for (i = 0; i < ntl; i++)
		w->lam[w->tl[i]] = 0;	/* pk_apply keeps lsum from the start */
	w->lsum = 0;

	for (k = 0; k < n; k++)
		w->pcol[k] = pk->col[w->ord[k]];

	/* greedy incumbent: gain descending, as many times as fit */
	for (i = 0; i < n; i++)
		w->gx[i] = 0;
	best = 0;
	for (k = 0; k < n; k++)
	{
		w->pos[w->ord[k]] = k;
		w->gord[k] = w->ord[k];
	}
	pk_sort(pk, w, w->gord, w->tmp, n, pk_greedy_before);
	for (k = 0; k < n; k++)
	{
		int			c = w->gord[k];
		int64_t		f = pk_fit(pk, w, c);

		w->gx[w->pos[c]] = f;
		pk_apply(pk, w, c, f);
		best += f * w->gain[c];
	}
	*pk->nodes += (uint64_t) (n / 16);
	pk_vector(pk, w, n, ntl, nol, w->gx, w->bvec);
	for (k = 0; k < n; k++)
	{
		pk->x[w->ord[k]] = w->gx[k];
		pk_apply(pk, w, w->ord[k], -w->gx[k]);
	}

	/* Lagrangian prices by subgradient steps (Polyak step to the incumbent) */
	for (i = 0; i < ntl; i++)
		w->lamd[w->tl[i]] = w->lbest[w->tl[i]] = 0;
	lbest_val = pk_lagrange(pk, w, n, ntl, w->lamd, w->grad);
	for (k = 0; k < PACK_LAGRANGE_STEPS && lbest_val > (double) best + 0.5; k++)
	{
		double		v = pk_lagrange(pk, w, n, ntl, w->lamd, w->grad),
					norm = 0,
					step;

		if (v < lbest_val)
		{
			lbest_val = v;
			for (i = 0; i < ntl; i++)
				w->lbest[w->tl[i]] = w->lamd[w->tl[i]];
			stale = 0;
		}
		else if (++stale >= 5)
		{
			theta /= 2;
			stale = 0;
		}
		for (i = 0; i < ntl; i++)
			norm += w->grad[w->tl[i]] * w->grad[w->tl[i]];
		if (norm <= 0)
			break;
		step = theta * (v - (double) best) / norm;
		for (i = 0; i < ntl; i++)
		{
			double		l = w->lamd[w->tl[i]] - step * w->grad[w->tl[i]];

			w->lamd[w->tl[i]] = l > 0 ? l : 0;
		}
	}
	for (i = 0; i < ntl; i++)
	{
		double		l = w->lbest[w->tl[i]];

		w->lam[w->tl[i]] = l > 4e15 ? (int64_t) 4e15 : (int64_t) l;
	}
	for (k = 0; k < n; k++)
	{
		const promo_pack_col *col = &pk->col[w->ord[k]];
		int64_t		r = w->gain[w->ord[k]];

		for (i = 0; i < col->n; i++)
			r -= col->mult[i] * w->lam[col->type[i]];
		w->rc[w->ord[k]] = r;
		for (i = 0; i < col->n; i++)
			w->last[col->type[i]] = k;
	}
	for (k = 0, i = 0, i1 = 0; k < n; k++)
	{
		w->pfrom[k] = i;
		w->pfrom1[k] = i1;
		if (w->rc[w->ord[k]] > 0)
		{
			const promo_pack_col *col = &pk->col[w->ord[k]];
			bool		ones = true;
			pk_bcol    *bc;
			int			j;

			for (j = 0; j < col->n; j++)
				if (col->mult[j] != 1)
					ones = false;
			bc = ones ? &w->bcol1[i1++] : &w->bcol[i++];
			bc->rc = w->rc[w->ord[k]];
			bc->n = col->n;
			bc->owner = pk->limit[col->owner] > 0 ? col->owner : -1;
			for (j = 0; j < col->n; j++)
			{
				bc->type[j] = col->type[j];
				bc->mult[j] = (int32_t) col->mult[j];
			}
		}
	}
	w->pfrom[n] = i;
	w->pfrom1[n] = i1;
	w->lsum = 0;
	for (i = 0; i < ntl; i++)
		w->lsum += w->rem[w->tl[i]] * w->lam[w->tl[i]];

	/* the types by last position, for the bound's sum of rem x lambda */
	for (k = 0; k <= n; k++)
		w->lfrom[k] = 0;
	for (i = 0; i < ntl; i++)
		if (w->last[w->tl[i]] >= 0)
			w->lfrom[w->last[w->tl[i]] + 1]++;
	for (k = 0; k < n; k++)
		w->lfrom[k + 1] += w->lfrom[k];
	for (i = 0; i < ntl; i++)
		if (w->last[w->tl[i]] >= 0)
			w->ltype[w->lfrom[w->last[w->tl[i]]]++] = w->tl[i];
	for (k = n; k > 0; k--)
		w->lfrom[k] = w->lfrom[k - 1];
	w->lfrom[0] = 0;
	w->dsum[0] = 0;
	for (i = 0; i < ntl; i++)
		if (w->last[w->tl[i]] < 0)
			w->dsum[0] += w->rem[w->tl[i]] * w->lam[w->tl[i]];
	root = pk_bound(pk, w, n, 0, 0);

	/*
	 * Reduced-cost fixing: using column c once lowers the bound by at least
	 * -rc[c] (its term becomes rc[c] and no other term grows), so when that
	 * drops it below the incumbent no answer as good as the best uses it.
	 */
	for (k = 0; k < n; k++)
		if (w->rc[w->ord[k]] < 0 && root + w->rc[w->ord[k]] < best)
			w->keep[w->ord[k]] = false;
#ifdef PACK_DEBUG
	fprintf(stderr, "component: %d columns, %d types, greedy %lld, lagrange %.1f, root %lld\n",
			n, ntl, (long long) best, lbest_val, (long long) root);
#endif

	/*
	 * The memo: keys of one byte per unit count, so only when every type
	 * has at most 255 units and every limited promotion at most 255
	 * applications.
	 */
	{
		int			nown = 0;
		bool		fits = true;

		for (i = 0; i < ntl; i++)
			if (pk->cap[w->tl[i]] > 255)
				fits = false;
		for (i = 0; i < nol; i++)
		{
			int64_t		l = pk->limit[w->olist[i]];

			w->kopos[w->olist[i]] = -1;
			if (l > 255)
				fits = false;
			else if (l > 0)
				w->kopos[w->olist[i]] = nown++;
		}
		if (fits && nown + ntl <= w->kcap)
			w->klen = nown + ntl;
	}
	if (w->klen > 0)
	{
		/*
		 * Types by last position descending after the owners: the types
		 * still wanted at position d are then the first of them.
		 */
		int			nown = w->klen - ntl,
					j;

		for (i = 0; i < ntl; i++)
		{
			int			rank = 0;

			for (j = 0; j < ntl; j++)
				if (w->last[w->tl[j]] > w->last[w->tl[i]] ||
					(w->last[w->tl[j]] == w->last[w->tl[i]] && j < i))
					rank++;
			w->kpos[w->tl[i]] = nown + rank;
			w->key[nown + rank] = (unsigned char) w->rem[w->tl[i]];
		}
		for (i = 0; i < nol; i++)
			if (w->kopos[w->olist[i]] >= 0)
				w->key[w->kopos[w->olist[i]]] = (unsigned char) w->used[w->olist[i]];
		for (k = 0; k <= n; k++)
		{
			w->klive[k] = nown;
			for (i = 0; i < ntl; i++)
				if (w->last[w->tl[i]] >= k)
					w->klive[k]++;
		}
	}
	w->stamp++;

	/* depth-first branch and bound, iterative */
	d = 0;
	cur = -1;
	while (!aborted)
	{
		int64_t		f,
					b,
					u;

		/* columns that cannot be used here are 0 without branching */
		while (d < n && (!w->keep[w->ord[d]] || pk_fit_col(pk, w, &w->pcol[d]) == 0))
		{
			w->xlo[d] = 0;
			w->open[d] = 0;
			w->xs[d] = 0;
			pk_down(w, d++);
		}
		if (++*pk->nodes > pk->budget)
		{
			aborted = true;
			break;
		}
		if (d == n)
		{
			bool		better = committed > best;

			if (cur >= 0 && committed > w->top[cur])
				w->top[cur] = committed;

			if (committed == best)
			{
				pk_vector(pk, w, n, ntl, nol, w->xs, w->vec);
				better = pk_vec_cmp(w, nol, w->vec, w->bvec) > 0;
				if (better)
					memcpy(w->bvec, w->vec, (size_t) pk->nowner * sizeof(int64_t));
			}
			else if (better)
				pk_vector(pk, w, n, ntl, nol, w->xs, w->bvec);
			if (better)
			{
				best = committed;
				for (k = 0; k < n; k++)
					pk->x[w->ord[k]] = w->xs[k];
			}
		}
		else
		{
			int64_t		top;

			/*
			 * The most a completion of this node totals: the memo's, when
			 * it knows the state, and the bound.
			 */
			top = INT64_MAX;
			if (w->klen > 0 && (u = pk_memo_get(w, pk_memo_slot(w, d), d)) >= 0)
				top = committed + u;
			if (top >= best)
			{
				b = pk_bound(pk, w, n, d, committed);
				if (b < top)
					top = b;
			}
			if (top >= best)
			{
				int64_t		rc = w->rc[w->ord[d]],
							lo = 0;

				/*
				 * The children this bound already rules out: using the
				 * column m times instead of f costs (f - m) x rc when rc >
				 * 0, and gives m x rc when rc < 0 (see pk_bound); no child
				 * below best is visited, and the best of them is noted.
				 */
				w->top[d] = INT64_MIN;
				f = pk_fit_col(pk, w, &w->pcol[d]);
				if (rc > 0 && (b - best) / rc < f)
				{
					lo = f - (b - best) / rc;
					w->top[d] = b - (f - lo + 1) * rc;
				}
				else if (rc < 0 && (b - best) / -rc < f)
				{
					f = (b - best) / -rc;
					w->top[d] = b + (f + 1) * rc;
				}
				w->xlo[d] = lo;
				w->open[d] = 1;
				w->up[d] = cur;
				cur = d;
				w->cat[d] = committed;
				w->xs[d] = f;
				pk_apply_col(w, &w->pcol[d], f);
				committed += f * w->gain[w->ord[d]];
				pk_down(w, d++);
				continue;
			}
			if (cur >= 0 && top > w->top[cur])
				w->top[cur] = top;
		}
		/* backtrack: the next smaller count of the deepest column left */
		for (;;)
		{
			if (d == 0)
				break;
			d--;
			if (w->xs[d] > w->xlo[d])
			{
				w->xs[d]--;
				pk_apply_col(w, &w->pcol[d], -1);
				committed -= w->gain[w->ord[d]];
				pk_down(w, d++);
				break;
			}
			/* every count worth trying is done: undo this column */
			pk_apply_col(w, &w->pcol[d], -w->xs[d]);
			committed -= w->xs[d] * w->gain[w->ord[d]];
			w->xs[d] = 0;

			/*
			 * The state of the node opened here is back, and its subtree
			 * is searched: every completion of it was a leaf or was cut by
			 * a bound, and top is the most of these.
			 */
			if (w->open[d])
			{
				if (w->klen > 0)
					pk_memo_put(w, pk_memo_slot(w, d), d, w->top[d] - w->cat[d]);
				cur = w->up[d];
				if (cur >= 0 && w->top[d] > w->top[cur])
					w->top[cur] = w->top[d];
			}
			w->open[d] = 0;
		}
		if (d == 0)
			break;
	}
	/* leave rem and used as they were (full), for the next component */
#ifdef PACK_DEBUG
	fprintf(stderr, "  best %lld, nodes %llu%s\n", (long long) best,
			(unsigned long long) *pk->nodes, aborted ? " ABORTED" : "");
#endif
	if (aborted)
	{
		for (k = 0; k < d; k++)
			pk_apply(pk, w, w->ord[k], -w->xs[k]);
		pk->approximate = true;
		if (root > best)
			pk->gap += root - best;
	}
}

/*
 * Carve the workspace of pk into w's arrays, starting at base; with base
 * NULL only count.  Returns the bytes used: promo_pack_workspace and
 * promo_pack_solve share this one list.
 */
static void *
pk_take(size_t *off, unsigned char *base, size_t n)
{
	void	   *r = base ? base + *off : NULL;

	*off += pk_align(n);
	return r;
}

static size_t
pk_layout(const promo_pack *pk, pk_ws *w, unsigned char *base)
{
	size_t		nt = (size_t) (pk->nt > 0 ? pk->nt : 1),
				no = (size_t) (pk->nowner > 0 ? pk->nowner : 1),
				nc = (size_t) (pk->ncol > 0 ? pk->ncol : 1),
				off = 0;

	w->rem = pk_take(&off, base, nt * sizeof(int64_t));
	w->lam = pk_take(&off, base, nt * sizeof(int64_t));
	w->lamd = pk_take(&off, base, nt * sizeof(double));
	w->lbest = pk_take(&off, base, nt * sizeof(double));
	w->grad = pk_take(&off, base, nt * sizeof(double));
	w->parent = pk_take(&off, base, nt * sizeof(int));
	w->last = pk_take(&off, base, nt * sizeof(int));
	w->tl = pk_take(&off, base, nt * sizeof(int));
	w->ofirst = pk_take(&off, base, no * sizeof(int));
	w->olist = pk_take(&off, base, no * sizeof(int));
	w->used = pk_take(&off, base, no * sizeof(int64_t));
	w->vec = pk_take(&off, base, no * sizeof(int64_t));
	w->bvec = pk_take(&off, base, no * sizeof(int64_t));
	w->omark = pk_take(&off, base, no);
	w->gain = pk_take(&off, base, nc * sizeof(int64_t));
	w->rc = pk_take(&off, base, nc * sizeof(int64_t));
	w->pfrom1 = pk_take(&off, base, (nc + 1) * sizeof(int));
	w->bcol1 = pk_take(&off, base, nc * sizeof(pk_bcol));
	w->pfrom = pk_take(&off, base, (nc + 1) * sizeof(int));
	w->xs = pk_take(&off, base, nc * sizeof(int64_t));
	w->xlo = pk_take(&off, base, nc * sizeof(int64_t));
	w->cat = pk_take(&off, base, nc * sizeof(int64_t));
	w->open = pk_take(&off, base, nc);
	w->top = pk_take(&off, base, nc * sizeof(int64_t));
	w->up = pk_take(&off, base, nc * sizeof(int));
	w->kpos = pk_take(&off, base, nt * sizeof(int));
	w->kopos = pk_take(&off, base, no * sizeof(int));
	w->klive = pk_take(&off, base, (nc + 1) * sizeof(int));
	w->bcol = pk_take(&off, base, nc * sizeof(pk_bcol));
	w->lfrom = pk_take(&off, base, (nc + 1) * sizeof(int));
	w->ltype = pk_take(&off, base, nt * sizeof(int));
	w->dsum = pk_take(&off, base, (nc + 1) * sizeof(int64_t));
	w->mslot = pk_take(&off, base, PACK_MEMO_SLOTS * sizeof(pk_mslot));
	w->kcap = (int) pk_key_bytes(pk);
	w->mkey = pk_take(&off, base, PACK_MEMO_SLOTS * (size_t) w->kcap);
	w->key = pk_take(&off, base, PACK_MEMO_KEY + 8);
	w->gx = pk_take(&off, base, nc * sizeof(int64_t));
	w->keep = pk_take(&off, base, nc * sizeof(bool));
	w->ord = pk_take(&off, base, nc * sizeof(int));
	w->pcol = pk_take(&off, base, nc * sizeof(promo_pack_col));
	w->cbuck = pk_take(&off, base, nc * sizeof(int));
	w->cfrom = pk_take(&off, base, (nt + 1) * sizeof(int));
	w->tbuck = pk_take(&off, base, nt * sizeof(int));
	w->tfrom = pk_take(&off, base, (nt + 1) * sizeof(int));
	w->tmp = pk_take(&off, base, nc * sizeof(int));
	w->gord = pk_take(&off, base, nc * sizeof(int));
	w->pos = pk_take(&off, base, nc * sizeof(int));
	return off;
}

size_t
promo_pack_workspace(const promo_pack *pk)
{
	pk_ws		w;

	return pk_layout(pk, &w, NULL);
}

void
promo_pack_solve(promo_pack *pk, void *workspace)
{
	pk_ws		w;
	int			t,
				c,
				o,
				i;

	pk_layout(pk, &w, workspace);
	for (i = 0; i < PACK_MEMO_SLOTS; i++)
		w.mslot[i].stamp = 0;
	w.stamp = 0;

	pk->approximate = false;
	pk->gap = 0;
	for (t = 0; t < pk->nt; t++)
	{
		w.rem[t] = pk->cap[t];
		w.parent[t] = t;
	}
	for (o = 0; o < pk->nowner; o++)
	{
		w.ofirst[o] = -1;
		w.used[o] = 0;
		w.omark[o] = 0;
	}

	/* 1. gains; drop what no best answer uses */
	for (c = 0; c < pk->ncol; c++)
	{
		const promo_pack_col *col = &pk->col[c];
		int64_t		g = col->value;
		bool		fits = col->n > 0;

		for (i = 0; i < col->n; i++)
		{
			g -= col->mult[i] * pk->w[col->type[i]];
			if (col->mult[i] < 1 || col->mult[i] > pk->cap[col->type[i]])
				fits = false;
		}
		pk->x[c] = 0;
		w.gain[c] = g;
		w.keep[c] = fits && col->value > 0 && g >= 0;
	}

	/*
	 * Applications of the same units: one of an unlimited promotion with
	 * the largest gain (then the first in the canonical order) beats every
	 * other with a smaller gain, or an equal gain and a later owner.
	 */
	{
		int			n = 0,
					a,
					z;

		for (c = 0; c < pk->ncol; c++)
			if (w.keep[c])
				w.ord[n++] = c;
		pk_sort(pk, &w, w.ord, w.tmp, n, pk_units_before);
		for (a = 0; a < n; a = z)
		{
			int			h = -1;

			for (z = a; z < n && pk_same_units(&pk->col[w.ord[a]], &pk->col[w.ord[z]]); z++)
			{
				c = w.ord[z];
				if (pk->limit[pk->col[c].owner] == 0 &&
					(h < 0 || w.gain[c] > w.gain[h] ||
					 (w.gain[c] == w.gain[h] && pk->col[c].owner < pk->col[h].owner)))
					h = c;
			}
			for (i = a; h >= 0 && i < z; i++)
			{
				c = w.ord[i];
				if (c != h && (w.gain[c] < w.gain[h] ||
							   (w.gain[c] == w.gain[h] &&
								(pk->col[c].owner > pk->col[h].owner ||
								 (pk->col[c].owner == pk->col[h].owner && c > h)))))
					w.keep[c] = false;
			}
		}
	}

	/* 2. components of types */
	for (c = 0; c < pk->ncol; c++)
	{
		const promo_pack_col *col = &pk->col[c];

		if (!w.keep[c])
			continue;
		for (i = 1; i < col->n; i++)
			pk_union(w.parent, col->type[0], col->type[i]);
		if (pk->limit[col->owner] > 0)
		{
			if (w.ofirst[col->owner] < 0)
				w.ofirst[col->owner] = col->type[0];
			else
				pk_union(w.parent, w.ofirst[col->owner], col->type[0]);
		}
	}

	/*
	 * 3. each component (by its root type, ascending), with its columns and
	 * types in ascending order: both bucketed by root first
	 */
	for (t = 0; t <= pk->nt; t++)
		w.cfrom[t] = w.tfrom[t] = 0;
	for (t = 0; t < pk->nt; t++)
	{
		w.parent[t] = pk_find(w.parent, t);
		w.tfrom[w.parent[t] + 1]++;
	}
	for (c = 0; c < pk->ncol; c++)
		if (w.keep[c])
			w.cfrom[w.parent[pk->col[c].type[0]] + 1]++;
	for (t = 0; t < pk->nt; t++)
	{
		w.cfrom[t + 1] += w.cfrom[t];
		w.tfrom[t + 1] += w.tfrom[t];
	}
	for (t = 0; t < pk->nt; t++)
		w.tbuck[w.tfrom[w.parent[t]]++] = t;
	for (c = 0; c < pk->ncol; c++)
		if (w.keep[c])
			w.cbuck[w.cfrom[w.parent[pk->col[c].type[0]]]++] = c;
	for (t = pk->nt; t > 0; t--)
	{
		w.cfrom[t] = w.cfrom[t - 1];
		w.tfrom[t] = w.tfrom[t - 1];
	}
	w.cfrom[0] = w.tfrom[0] = 0;
	for (t = 0; t < pk->nt; t++)
	{
		int			n = 0,
					ntl = 0,
					nol = 0;

		if (w.parent[t] != t || w.cfrom[t + 1] == w.cfrom[t])
			continue;
		for (i = w.cfrom[t]; i < w.cfrom[t + 1]; i++)
			w.ord[n++] = w.cbuck[i];
		for (i = w.tfrom[t]; i < w.tfrom[t + 1]; i++)
		{
			int			ty = w.tbuck[i];

			w.tl[ntl++] = ty;
			w.last[ty] = -1;
			if (pk->wowner[ty] >= 0)
				w.omark[pk->wowner[ty]] = 1;
		}
		for (i = 0; i < n; i++)
			w.omark[pk->col[w.ord[i]].owner] = 1;
		for (o = 0; o < pk->nowner; o++)
			if (w.omark[o])
			{
				w.olist[nol++] = o;
				w.omark[o] = 0;
			}
		pk_sort(pk, &w, w.ord, w.tmp, n, pk_before);
		pk_component(pk, &w, n, ntl, nol);
	}
}
