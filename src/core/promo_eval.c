/*-------------------------------------------------------------------------
 *
 * promo_eval.c
 *	  The promotion evaluator: price a basket, give the customer the
 *	  assignment of units to promotions with the largest total discount,
 *	  and explain every promotion that touched the basket.
 *
 * Outline (docs/promotions-engine.md has the full story):
 *	1. Lines are grouped into classes of identical units (same item, price
 *	   and categories); every later step counts units, never lists them.
 *	2. Each promotion is scoped (window, store, channel, coupon); item
 *	   promotions are matched against classes role by role.
 *	3. Classes that only unlimited per-unit promotions compete for are
 *	   settled directly (the best per-unit discount).  The rest is split
 *	   into connected groups of competing promotions; within a group,
 *	   classes with the same price and the same eligibility are merged into
 *	   types, and a depth-first branch and bound over "how many units of
 *	   each type each promotion role takes" finds the best assignment, with
 *	   a greedy answer as the first incumbent.  Past the node budget the
 *	   best answer found so far is kept and the result is approximate.
 *	   A promotion's groups are valued a run of identical groups at a time,
 *	   so a node costs the same for 10 units as for 1,000,000.
 *	4. The chosen units are materialised onto lines (lowest line number
 *	   first); a group discount is spread over its lines by largest
 *	   remainder; then spend thresholds are applied on the net.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promo.h"
#include "promo_pack.h"

#define MAXR PROMO_MAX_BUNDLE_ITEMS
#define NOT_SCOPED (-1)

/* ------------------------------------------------------------ memory */

typedef struct ev_mem
{
	struct ev_mem *next;
	uint64_t	pad;			/* keeps the payload 16-byte aligned */
} ev_mem;

typedef struct ev_entry
{
	size_t		line;			/* index into ev->lines */
	int32_t		id;
	int64_t		amount;
} ev_entry;

typedef struct ev_line
{
	const promo_line *in;
	size_t		index;			/* position in the input */
	int64_t		left;			/* units not yet given to a promotion */
	int64_t		discount;
} ev_line;

typedef struct ev_class
{
	int64_t		item;
	int64_t		price;
	int64_t		count;
	const int64_t *cats;
	size_t		ncats;
	size_t		first;			/* its lines: ev->lines[first .. first+nlines) */
	size_t		nlines;
	size_t		cursor;			/* materialisation: next line with units */
	int64_t		used;			/* units given to item promotions */
} ev_class;

typedef struct ev_promo
{
	const promo_def *d;
	const promo_rule *r;
	int			state;			/* NOT_SCOPED or a promo_reason */
	bool		threshold;
	bool		searchable;
	int			nroles;
	int32_t    *size;			/* [role]: units of one application */
	unsigned char *match;		/* [role][class] */
	size_t	   *cls;			/* the classes some role matches, ascending */
	size_t		ncls;
	int64_t    *take;			/* [role][k]: units chosen of class cls[k] */
	int64_t		times;
	int64_t		amount;
	int64_t		spend_missing;	/* spend_threshold: pence short */
	int32_t		lost_to;
} ev_promo;

typedef struct ev_taker
{
	size_t		promo;			/* index into ev->pr */
	size_t		cls;
	int64_t		units;
} ev_taker;

typedef struct ev
{
	const promo_alloc *a;
	ev_mem	   *tmp;
	ev_mem	   *res;
	promo_error *err;
	const promo_basket *b;
	ev_line    *lines;
	size_t		nlines;
	ev_class   *classes;
	size_t		nclass;
	ev_promo   *pr;
	size_t		np;
	uint64_t	nodes;
	uint64_t	budget;
	promo_method method;
	bool		approximate;
	int64_t		gap;			/* approximate: most discount left unfound */
	bool		oom;
	struct ev_seg *xbuf;		/* explain_not_applied's segments */
	ev_taker   *takers;			/* takers_list */
	size_t		ntakers;
	size_t	   *tfrom;			/* [class + 1]: its takers in tby */
	size_t	   *tby;			/* takers by class, canonical order */
	int64_t    *taken_by;		/* [promo]: scratch, zero between uses */
	int		   *ctype;			/* [class]: scratch, -1 between uses */
	ev_entry   *ent;
	size_t		nent;
	size_t		cent;
} ev;

static void *
mem_get(ev *e, ev_mem **list, size_t n, size_t size, bool zero)
{
	ev_mem	   *m;

	if (e->oom)
		return NULL;
	if (size != 0 && n > (SIZE_MAX - sizeof(ev_mem)) / size)
	{
		e->oom = true;
		return NULL;
	}
	m = e->a->alloc(e->a->ctx, sizeof(ev_mem) + n * size);
	if (m == NULL)
	{
		e->oom = true;
		return NULL;
	}
	m->next = *list;
	*list = m;
	if (zero)
		memset(m + 1, 0, n * size);
	return m + 1;
}

#define TMP(e, n, type) ((type *) mem_get((e), &(e)->tmp, (n), sizeof(type), true))
#define RES(e, n, type) ((type *) mem_get((e), &(e)->res, (n), sizeof(type), true))
/* Scratch its user fills before reading (not zeroed). */
#define TMP_RAW(e, n) mem_get((e), &(e)->tmp, (n), 1, false)

static void
mem_release(const promo_alloc *a, ev_mem *m)
{
	if (a->free == NULL)
		return;					/* released wholesale by the caller */
	while (m)
	{
		ev_mem	   *next = m->next;

		if (a->free)
			a->free(a->ctx, m);
		m = next;
	}
}

static void
add_entry(ev *e, size_t line, int32_t id, int64_t amount)
{
	if (amount == 0 || e->oom)
		return;
	if (e->nent == e->cent)
	{
		size_t		c = e->cent ? e->cent * 2 : 64;
		ev_entry   *n = TMP(e, c, ev_entry);

		if (n == NULL)
			return;
		if (e->nent)
			memcpy(n, e->ent, e->nent * sizeof(ev_entry));
		e->ent = n;				/* the old array is freed with the rest */
		e->cent = c;
	}
	e->ent[e->nent].line = line;
	e->ent[e->nent].id = id;
	e->ent[e->nent].amount = amount;
	e->nent++;
	e->lines[line].discount += amount;
}

/* ------------------------------------------------------------ arithmetic */

/* floor(a * b / c) and the remainder, for a, b <= c < 2^63. */
static uint64_t
muldiv(uint64_t a, uint64_t b, uint64_t c, uint64_t *rem)
{
	uint64_t	a0 = a & 0xffffffffu,
				a1 = a >> 32;
	uint64_t	b0 = b & 0xffffffffu,
				b1 = b >> 32;
	uint64_t	p00 = a0 * b0,
				p01 = a0 * b1,
				p10 = a1 * b0,
				p11 = a1 * b1;
	uint64_t	mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
	uint64_t	hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
	uint64_t	lo = (mid << 32) | (p00 & 0xffffffffu);
	uint64_t	q = 0,
				r = 0;
	int			i;

	for (i = 127; i >= 0; i--)
	{
		uint64_t	bit = i >= 64 ? (hi >> (i - 64)) & 1 : (lo >> i) & 1;

		r = (r << 1) | bit;
		if (r >= c)
		{
			r -= c;
			if (i < 64)
				q |= (uint64_t) 1 << i;
		}
	}
	*rem = r;
	return q;
}

typedef struct ev_share
{
	size_t		line;
	int64_t		weight;
	int64_t		share;
	uint64_t	rem;
} ev_share;

/*
 * Spread amount over shares[] in proportion to weight by largest remainder;
 * equal remainders go to the lower line number (lines are sorted by line
 * number within a class, and shares are merged by line first).  The
 * shares are those of one group; reps identical groups get reps times
 * each share.
 */
static void
spread(ev *e, ev_share *s, size_t n, int64_t amount, int32_t id, int64_t reps)
{
	int64_t		total = 0,
				given = 0;
	size_t		i,
				j;

	for (i = 0; i < n; i++)
		total += s[i].weight;
	if (total <= 0 || amount <= 0)
		return;
	for (i = 0; i < n; i++)
	{
		s[i].share = (int64_t) muldiv((uint64_t) amount, (uint64_t) s[i].weight,
									  (uint64_t) total, &s[i].rem);
		given += s[i].share;
	}
	while (given < amount)
	{
		size_t		best = n;

		for (j = 0; j < n; j++)
		{
			if (s[j].rem == UINT64_MAX)
				continue;
			if (best == n || s[j].rem > s[best].rem ||
				(s[j].rem == s[best].rem &&
				 e->lines[s[j].line].in->line < e->lines[s[best].line].in->line))
				best = j;
		}
		s[best].share++;
		s[best].rem = UINT64_MAX;	/* one extra penny each at most */
		given++;
	}
	for (i = 0; i < n; i++)
		add_entry(e, s[i].line, id, s[i].share * reps);
}

/* ------------------------------------------------------------ matching */

static bool
has_id(const promo_match *m, int64_t v)
{
	size_t		lo = 0,
				hi = m->nids;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (m->ids[mid] == v)
			return true;
		if (m->ids[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * A table of int64 keys by open addressing (promo_evaluate's items and
 * promotion ids): mask + 1 slots, a power of 2 at least twice the keys.
 */
typedef struct ev_slot
{
	int64_t		key;
	size_t		val;			/* 0: an empty slot */
} ev_slot;

/* The position of class c (which it matches) in a promotion's classes. */
static size_t
cls_pos(const ev_promo *p, size_t c)
{
	size_t		lo = 0,
				hi = p->ncls;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (p->cls[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
slot_mask(size_t nkeys)
{
	size_t		mask;

	for (mask = 15; mask < 2 * nkeys; mask = mask * 2 + 1)
		;
	return mask;
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t
slot_find(const ev_slot *table, size_t mask, int64_t key)
{
	size_t		h = (size_t) (((uint64_t) key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & mask;

	while (table[h].val != 0 && table[h].key != key)
		h = (h + 1) & mask;
	return h;
}

static bool
match_class(const promo_match *m, const ev_class *c)
{
	size_t		i;

	switch (m->kind)
	{
		case PROMO_MATCH_ALL:
			return true;
		case PROMO_MATCH_UPC:
			return has_id(m, c->item);
		case PROMO_MATCH_CATEGORY:
			for (i = 0; i < c->ncats; i++)
				if (has_id(m, c->cats[i]))
					return true;
			return false;
	}
	return false;
}

static bool
bundle_same(const promo_match *x, const promo_match *y)
{
	return x->kind == y->kind && x->nids == y->nids &&
		(x->nids == 0 || memcmp(x->ids, y->ids, x->nids * sizeof(int64_t)) == 0);
}

static bool
unit_kind(promo_kind k)
{
	return k == PROMO_PERCENT_OFF || k == PROMO_AMOUNT_OFF ||
		k == PROMO_FIXED_PRICE;
}

/* Discount of one unit at price under a per-unit kind. */
static int64_t
unit_value(const promo_rule *r, int64_t price)
{
	switch (r->kind)
	{
		case PROMO_PERCENT_OFF:
			return promo_percent_of(price, r->percent_bp);
		case PROMO_AMOUNT_OFF:
			return r->amount < price ? r->amount : price;
		case PROMO_FIXED_PRICE:
			return price > r->price ? price - r->price : 0;
		default:
			return 0;
	}
}

/*
 * Per-unit upper bound of what a unit at price can contribute to role
 * `role` of rule r (see the proof sketch in the design document).
 */
/*
 * Whether role ri of promotion p wants the units of class c: it matches
 * them and, for a per-unit kind, would discount them.
 */
static bool
role_wants(const ev *e, const ev_promo *p, int ri, size_t c)
{
	return p->match[(size_t) ri * e->nclass + c] &&
		(!unit_kind(p->r->kind) || unit_value(p->r, e->classes[c].price) > 0);
}

static int64_t
unit_bound(const ev_promo *p, int role, int64_t price)
{
	const promo_rule *r = p->r;
	int64_t		v = 0;

	switch (r->kind)
	{
		case PROMO_PERCENT_OFF:
		case PROMO_AMOUNT_OFF:
		case PROMO_FIXED_PRICE:
			return unit_value(r, price);
		case PROMO_MULTIBUY:
			v = price - r->price / r->qty;
			break;
		case PROMO_BUNDLE:
			v = price - r->price / (int64_t) r->nitems;
			break;
		case PROMO_BUY_GET:
			if (!r->get_is_buy && role == 0)
				return 0;
			/* ceil(price * pct), then the get share of a group, rounded up */
			v = (price * r->percent_bp + 9999) / 10000;
			if (r->get_is_buy)
				v = (v * r->get_qty + r->buy_qty + r->get_qty - 1) /
					(r->buy_qty + r->get_qty);
			break;
		case PROMO_SPEND_THRESHOLD:
			return 0;
	}
	return v > 0 ? v : 0;
}

/* ------------------------------------------------------------ groups */

typedef struct ev_seg
{
	int64_t		price;
	int64_t		count;
	size_t		ref;			/* class index (materialising) or type */
} ev_seg;

typedef struct ev_cur
{
	const ev_seg *s;
	size_t		n;
	size_t		i;
	int64_t		off;
} ev_cur;

typedef struct ev_piece
{
	size_t		ref;
	int64_t		count;
	int64_t		price;
	bool		discounted;
} ev_piece;

/* Take n units from the cursor; record pieces when pc != NULL. */
static int64_t
cur_take(ev_cur *c, int64_t n, ev_piece *pc, size_t *npc, bool discounted)
{
	int64_t		sum = 0;

	while (n > 0 && c->i < c->n)
	{
		int64_t		avail = c->s[c->i].count - c->off;
		int64_t		k = avail < n ? avail : n;

		sum += k * c->s[c->i].price;
		if (pc)
		{
			pc[*npc].ref = c->s[c->i].ref;
			pc[*npc].count = k;
			pc[*npc].price = c->s[c->i].price;
			pc[*npc].discounted = discounted;
			(*npc)++;
		}
		n -= k;
		c->off += k;
		if (c->off == c->s[c->i].count)
		{
			c->i++;
			c->off = 0;
		}
	}
	return n == 0 ? sum : -1;
}

static int64_t group_units(const ev_promo *p);

/*
 * How many of reps identical groups, each taking the pieces pc[0..npc),
 * fit whole in the current line of every class they draw on (at least 1:
 * a group that spans lines is materialised on its own).
 */
static int64_t
groups_in_lines(ev *e, const ev_piece *pc, size_t npc, int64_t reps)
{
	size_t		i,
				j;
	int64_t		fit = reps;

	for (i = 0; i < npc && fit > 1; i++)
	{
		ev_class   *c = &e->classes[pc[i].ref];
		size_t		cur = c->cursor;
		int64_t		u = 0;

		for (j = 0; j < npc; j++)
			if (pc[j].ref == pc[i].ref)
				u += pc[j].count;
		while (cur < c->nlines && e->lines[c->first + cur].left == 0)
			cur++;
		if (cur == c->nlines)
			return 1;
		if (e->lines[c->first + cur].left / u < fit)
			fit = e->lines[c->first + cur].left / u;
	}
	return fit > 1 ? fit : 1;
}

/*
 * Give the units of reps identical groups (the pieces pc of one group,
 * worth value each) to lines and spread each group's discount.  Groups
 * that lie whole in the same lines get the same spread, so a run of them
 * is materialised at once: the work depends on the lines crossed, not on
 * the number of groups.
 */
static void
materialise_group(ev *e, const ev_promo *p, const ev_piece *pc, size_t npc,
				  int64_t value, ev_share *sh, int64_t reps)
{
	while (reps > 0)
	{
		int64_t		run = unit_kind(p->r->kind) ? 1 :
			groups_in_lines(e, pc, npc, reps);
		size_t		i,
					nsh = 0;

		for (i = 0; i < npc; i++)
		{
			ev_class   *c = &e->classes[pc[i].ref];
			int64_t		n = pc[i].count * run;

			c->used += n;
			while (n > 0 && c->cursor < c->nlines)
			{
				ev_line    *l = &e->lines[c->first + c->cursor];
				int64_t		k = l->left < n ? l->left : n;

				if (k == 0)
				{
					c->cursor++;
					continue;
				}
				l->left -= k;
				n -= k;
				if (!pc[i].discounted)
					continue;

				/*
				 * With run > 1 the piece lies whole in this line (k = count
				 * x run): weigh one group's units.
				 */
				if (unit_kind(p->r->kind))
					add_entry(e, c->first + c->cursor, p->d->id,
							  k * unit_value(p->r, pc[i].price));
				else if (nsh > 0 && sh[nsh - 1].line == c->first + c->cursor)
					sh[nsh - 1].weight += k / run * pc[i].price;
				else
				{
					sh[nsh].line = c->first + c->cursor;
					sh[nsh].weight = k / run * pc[i].price;
					nsh++;
				}
			}
		}
		if (!unit_kind(p->r->kind))
			spread(e, sh, nsh, value, p->d->id, run);
		reps -= run;
	}
}

/*
 * The value of promotion p taking the units in segs[role] (each sorted by
 * price descending), formed into groups the canonical way: most expensive
 * units first, a group at a time, stopping at the first group that would
 * not give a discount (its units stay free).  With materialise set the
 * groups are applied to lines.  *times gets the number of groups.
 */
static int64_t
promo_groups(ev *e, const ev_promo *p, ev_seg *const *segs, const size_t *nsegs,
			 bool materialise, int64_t max_groups, int64_t *times)
{
	const promo_rule *r = p->r;
	ev_cur		cur[MAXR];
	int64_t		total = 0,
				k,
				g,
				steps = 0;
	int			ri;
	ev_piece   *pc = NULL;
	ev_share   *sh = NULL;
	size_t		npc;
	size_t		gu = (size_t) group_units(p);

	*times = 0;
	for (ri = 0; ri < p->nroles; ri++)
	{
		cur[ri].s = segs[ri];
		cur[ri].n = nsegs[ri];
		cur[ri].i = 0;
		cur[ri].off = 0;
	}
	if (unit_kind(r->kind))
	{
		size_t		i;
		ev_piece	one;

		for (i = 0; i < nsegs[0] && *times < max_groups; i++)
		{
			int64_t		d = unit_value(r, segs[0][i].price);
			int64_t		n = segs[0][i].count;

			if (d <= 0)
				continue;
			if (n > max_groups - *times)
				n = max_groups - *times;
			total += d * n;
			*times += n;
			if (materialise)
			{
				one.ref = segs[0][i].ref;
				one.count = n;
				one.price = segs[0][i].price;
				one.discounted = true;
				materialise_group(e, p, &one, 1, 0, NULL, 1);
			}
		}
		return total;
	}
	if (materialise)
	{
		pc = TMP(e, gu, ev_piece);
		sh = TMP(e, gu, ev_share);
		if (pc == NULL || sh == NULL)
			return 0;
	}
	{
		int64_t		u = 0;
		size_t		i;

		for (i = 0; i < nsegs[0]; i++)
			u += segs[0][i].count;
		k = u / p->size[0];
		if (k > max_groups)
			k = max_groups;
	}
	/*
	 * Groups are formed one run at a time.  While every role's next groups
	 * lie whole inside its current segment, they take units of the same
	 * prices and are worth the same: the first of the run is valued (and
	 * materialised) as usual and the rest are counted in at once.  A run
	 * ends when some role reaches the end of its segment, so the walk makes
	 * at most about twice as many steps as there are segments, whatever the
	 * quantities: "3 for 2.00" over 1,000,000 units is one step.
	 */
	g = 0;
	while (g < k)
	{
		int64_t		v = -1,
					s,
					s2,
					run = k - g;

		for (ri = 0; ri < p->nroles; ri++)
		{
			int64_t		fit = 0;

			if (cur[ri].i < cur[ri].n)
				fit = (cur[ri].s[cur[ri].i].count - cur[ri].off) / p->size[ri];
			if (fit < run)
				run = fit;
		}
		if (run < 1)
			run = 1;
		steps++;
		npc = 0;
		switch (r->kind)
		{
			case PROMO_MULTIBUY:
				s = cur_take(&cur[0], r->qty, pc, &npc, true);
				if (s >= 0)
					v = s - r->price;
				break;
			case PROMO_BUY_GET:
				s = cur_take(&cur[0], r->buy_qty, pc, &npc, false);
				s2 = cur_take(&cur[r->get_is_buy ? 0 : 1], r->get_qty, pc,
							  &npc, true);
				if (s >= 0 && s2 >= 0)
					v = promo_percent_of(s2, r->percent_bp);
				break;
			case PROMO_BUNDLE:
				s = 0;
				for (ri = 0; ri < p->nroles && s >= 0; ri++)
				{
					s2 = cur_take(&cur[ri], p->size[ri], pc, &npc, true);
					s = s2 < 0 ? -1 : s + s2;
				}
				v = s >= 0 ? s - r->price : -1;
				break;
			default:
				break;
		}
		if (v <= 0)
			break;
		/* the other run - 1 groups: same segments, same value */
		if (run > 1)
			for (ri = 0; ri < p->nroles; ri++)
			{
				cur[ri].off += (run - 1) * p->size[ri];
				if (cur[ri].off == cur[ri].s[cur[ri].i].count)
				{
					cur[ri].i++;
					cur[ri].off = 0;
				}
			}
		total += v * run;
		*times += run;
		g += run;
		if (materialise)
			materialise_group(e, p, pc, npc, v, sh, run);
	}
	e->nodes += steps / 16;
	return total;
}

/* Units in one application (group) of p. */
static int64_t
group_units(const ev_promo *p)
{
	int64_t		n = 0;
	int			ri;

	for (ri = 0; ri < p->nroles; ri++)
		n += p->size[ri];
	return n;
}

/* ------------------------------------------------------------ search */

typedef struct sv_var
{
	int			p;				/* index into sv->P */
	int			r;
	int			t;
	bool		last_in_role;
	bool		last_in_promo;
	int			cls;			/* dominance class (a variable index) or -1 */
} sv_var;

/* Units a role of a promotion takes of a type (the packing's answer). */
typedef struct sv_took
{
	int			p;
	int			r;
	int			t;
	int64_t		n;
} sv_took;

typedef struct sv
{
	ev		   *e;
	int			np;
	ev_promo  **P;
	int			nt;
	int64_t    *tprice;
	int64_t    *tcount;
	int			nv;
	sv_var	   *vars;
	int64_t    *ub;				/* [p][r][t] */
	unsigned char *elig;		/* [p][r][t] */
	int64_t    *sufmax;			/* [p][t], p = 0..np */
	int64_t    *remaining;		/* [t] */
	int64_t    *take;			/* [p][r][t] */
	int64_t    *best_take;		/* [p][r][t], the general search's answer */
	sv_took    *took;			/* the packing search's answer instead: */
	size_t		ntook;			/* units by promotion, role and type, sorted */
	int64_t    *role_total;		/* [p][r] */
	int64_t    *vec;			/* [p] */
	int64_t    *best_vec;
	int64_t		best_total;
	int64_t		committed;
	bool		aborted;
	ev_seg	   *segbuf;			/* [r][t] */
	int64_t    *pubs;			/* [level p][q]: bound on q's value from p on */
	int64_t    *kmax;			/* [p]: most groups p can form from p on */
	int			direct;			/* last promotion, solved at the leaves, or -1 */
	int64_t    *fresh;			/* [q]: bounds at the current node */
	int		   *varidx;			/* [p][r][t]: variable index or -1 */
	int		   *open;			/* [class]: a dearer type of it was left */
	size_t	   *roff;			/* [p]: first role of p among all roles */
	size_t		nrt;			/* roles of all promotions */
} sv;

#define IX3(s, p, r, t) (((s)->roff[(p)] + (size_t) (r)) * (size_t) (s)->nt + (size_t) (t))

/* Value of promotion pi taking s->take[pi][..][..] (types by price desc). */
static int64_t
sv_value(sv *s, int pi, const int64_t *take)
{
	ev_promo   *p = s->P[pi];
	ev_seg	   *segs[MAXR];
	size_t		nsegs[MAXR];
	int			ri,
				t;
	int64_t		times;

	for (ri = 0; ri < p->nroles; ri++)
	{
		segs[ri] = s->segbuf + (size_t) ri * (size_t) s->nt;
		nsegs[ri] = 0;
		for (t = 0; t < s->nt; t++)
		{
			int64_t		n = take[IX3(s, pi, ri, t)];

			if (n > 0)
			{
				segs[ri][nsegs[ri]].price = s->tprice[t];
				segs[ri][nsegs[ri]].count = n;
				segs[ri][nsegs[ri]].ref = (size_t) t;
				nsegs[ri]++;
			}
		}
	}
	return promo_groups(s->e, p, segs, nsegs, false, INT64_MAX, &times);
}

/* Lexicographic comparison of the first n per-promotion discounts. */
static int
vec_cmp(const int64_t *x, const int64_t *y, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] > y[i] ? 1 : -1;
	return 0;
}

static void
sv_offer(sv *s, const int64_t *take)
{
	int			pi;
	int64_t		total = 0;

	for (pi = 0; pi < s->np; pi++)
	{
		s->vec[pi] = sv_value(s, pi, take);
		total += s->vec[pi];
	}
	if (total > s->best_total ||
		(total == s->best_total && vec_cmp(s->vec, s->best_vec, s->np) > 0))
	{
		s->best_total = total;
		memcpy(s->best_vec, s->vec, (size_t) s->np * sizeof(int64_t));
		if (take != s->best_take)
			memcpy(s->best_take, take,
				   s->nrt * (size_t) s->nt * sizeof(int64_t));
	}
}

static int64_t
sv_rest(sv *s, int pi)
{
	int64_t		rest = 0;
	int			t;

	for (t = 0; t < s->nt; t++)
		rest += s->remaining[t] * s->sufmax[(size_t) pi * s->nt + t];
	return rest;
}

/*
 * What promotion pi could give on its own from the remaining units, each
 * role drawing from every eligible unit (shared units counted for each
 * role): an upper bound on its value in any completion, because every
 * canonical group of a subset is at most the same-rank group of all.
 * Also sets the most groups it could form.
 */
static int64_t
sv_solo(sv *s, int pi, int64_t *kmax)
{
	ev_promo   *p = s->P[pi];
	ev_seg	   *segs[MAXR];
	size_t		nsegs[MAXR];
	int			ri,
				t;
	int64_t		times,
				k = INT64_MAX;

	for (ri = 0; ri < p->nroles; ri++)
	{
		int64_t		n = 0;

		segs[ri] = s->segbuf + (size_t) ri * (size_t) s->nt;
		nsegs[ri] = 0;
		for (t = 0; t < s->nt; t++)
			if (s->elig[IX3(s, pi, ri, t)] && s->remaining[t] > 0)
			{
				segs[ri][nsegs[ri]].price = s->tprice[t];
				segs[ri][nsegs[ri]].count = s->remaining[t];
				segs[ri][nsegs[ri]].ref = (size_t) t;
				nsegs[ri]++;
				n += s->remaining[t];
			}
		if (n / p->size[ri] < k)
			k = n / p->size[ri];
	}
	if (p->d->max_per_order > 0 && k > p->d->max_per_order)
		k = p->d->max_per_order;
	*kmax = k;
	if (!unit_kind(p->r->kind) && p->r->kind == PROMO_BUY_GET && !p->r->get_is_buy)
	{
		/* the bound needs the dearest get units: the buy role is free */
		nsegs[0] = (size_t) s->nt;
		for (t = 0; t < s->nt; t++)
		{
			segs[0][t].price = 0;
			segs[0][t].count = t == 0 ? k * p->size[0] : 0;
			segs[0][t].ref = 0;
		}
		nsegs[0] = k > 0 ? 1 : 0;
	}
	{
		int64_t		v = promo_groups(s->e, p, segs, nsegs, false,
									 p->d->max_per_order > 0 ? p->d->max_per_order : INT64_MAX,
									 &times);

		/*
		 * A bundle is worth the sum of its units less the price, so k
		 * bundles give at most the k * size dearest units of the union of
		 * its roles less k prices: tighter when roles share units.
		 */
		if (p->r->kind == PROMO_BUNDLE && v > 0)
		{
			int64_t		m = group_units(p),
						best = 0,
						sum = 0,
						off = 0,
						g;

			/*
			 * Group g's units are the next m of the union, dearest first.
			 * While whole groups lie inside one type they add the same,
			 * so a run of them moves sum - g x price in one direction:
			 * its best is at the run's first or last group.  The loop
			 * makes about two steps per type, like the rest of a node.
			 */
			t = 0;
			for (g = 1; g <= k;)
			{
				int64_t		need = m;
				bool		any = false;

				if (t < s->nt)
					for (ri = 0; ri < p->nroles; ri++)
						if (s->elig[IX3(s, pi, ri, t)])
							any = true;
				if (any && (s->remaining[t] - off) / m >= 2)
				{
					int64_t		run = (s->remaining[t] - off) / m,
								add = m * s->tprice[t];

					if (run > k - g + 1)
						run = k - g + 1;
					if (sum + add - g * p->r->price > best)
						best = sum + add - g * p->r->price;
					sum += run * add;
					g += run;
					if (sum - (g - 1) * p->r->price > best)
						best = sum - (g - 1) * p->r->price;
					off += run * m;
					if (off >= s->remaining[t])
					{
						t++;
						off = 0;
					}
					continue;
				}
				while (need > 0 && t < s->nt)
				{
					int64_t		n;

					any = false;
					for (ri = 0; ri < p->nroles; ri++)
						if (s->elig[IX3(s, pi, ri, t)])
							any = true;
					n = any ? s->remaining[t] - off : 0;
					if (n > need)
						n = need;
					sum += n * s->tprice[t];
					need -= n;
					off += n;
					if (!any || off >= s->remaining[t])
					{
						t++;
						off = 0;
					}
				}
				if (need > 0)
					break;
				if (sum - g * p->r->price > best)
					best = sum - g * p->r->price;
				g++;
			}
			if (best < v)
				v = best;
		}
		return v;
	}
}

/* Bounds for every promotion from level pi on, at entry to pi. */
static void
sv_level(sv *s, int pi)
{
	int			q;

	for (q = pi; q < s->np; q++)
		s->pubs[(size_t) pi * s->np + q] = sv_solo(s, q, &s->kmax[q]);
}

/*
 * Can a completion of the current node beat the best?  Its total is at
 * most bound, and its vector of discounts at most (vec[0..pi), the
 * per-promotion bounds from pi on) element by element.
 */
static bool
sv_hopeless(sv *s, int pi, int64_t bound)
{
	int			q,
				c;

	if (bound != s->best_total)
		return bound < s->best_total;
	c = vec_cmp(s->vec, s->best_vec, pi);
	if (c != 0)
		return c < 0;
	for (q = pi; q < s->np; q++)
	{
		int64_t		u = s->fresh[q];

		if (u != s->best_vec[q])
			return u < s->best_vec[q];
	}
	return true;				/* at best equal: not strictly better */
}

/*
 * The last promotion of the search order, when it has a single role, needs
 * no enumeration: with nothing after it, the dearest remaining units are
 * its best choice (every canonical group of a subset is at most the
 * same-rank group of the whole), up to max_per_order groups.  With set,
 * take them and return the value; without, put them back.
 */
static int64_t
sv_direct(sv *s, bool set)
{
	int			pi = s->direct,
				t;
	ev_promo   *p = s->P[pi];
	int64_t		want = 0,
				val;

	if (!set)
	{
		for (t = 0; t < s->nt; t++)
		{
			s->remaining[t] += s->take[IX3(s, pi, 0, t)];
			s->take[IX3(s, pi, 0, t)] = 0;
		}
		s->vec[pi] = 0;
		return 0;
	}
	for (t = 0; t < s->nt; t++)
		if (s->elig[IX3(s, pi, 0, t)])
			want += s->remaining[t];
	want -= want % p->size[0];
	if (p->d->max_per_order > 0 &&
		want > (int64_t) p->d->max_per_order * p->size[0])
		want = (int64_t) p->d->max_per_order * p->size[0];
	for (t = 0; t < s->nt && want > 0; t++)
		if (s->elig[IX3(s, pi, 0, t)])
		{
			int64_t		n = s->remaining[t] < want ? s->remaining[t] : want;

			s->take[IX3(s, pi, 0, t)] = n;
			s->remaining[t] -= n;
			want -= n;
		}
	val = sv_value(s, pi, s->take);
	s->vec[pi] = val;
	return val;
}

/*
 * Bound on the final value of the promotion whose variable vi is next:
 * what it has taken so far plus everything its remaining variables could
 * still take (each role on its own), valued canonically.
 */
static int64_t
sv_partial(sv *s, int vi)
{
	int			pi = s->vars[vi].p,
				ri,
				t;
	ev_promo   *p = s->P[pi];
	ev_seg	   *segs[MAXR];
	size_t		nsegs[MAXR];
	int64_t		times;

	for (ri = 0; ri < p->nroles; ri++)
	{
		segs[ri] = s->segbuf + (size_t) ri * (size_t) s->nt;
		nsegs[ri] = 0;
		for (t = 0; t < s->nt; t++)
		{
			int			x = s->varidx[IX3(s, pi, ri, t)];
			int64_t		n = s->take[IX3(s, pi, ri, t)];

			if (x >= vi)
				n += s->remaining[t];
			if (n > 0)
			{
				segs[ri][nsegs[ri]].price = s->tprice[t];
				segs[ri][nsegs[ri]].count = n;
				segs[ri][nsegs[ri]].ref = (size_t) t;
				nsegs[ri]++;
			}
		}
	}
	return promo_groups(s->e, p, segs, nsegs, false,
						p->d->max_per_order > 0 ? p->d->max_per_order : INT64_MAX,
						&times);
}

static void
sv_dfs(sv *s, int vi, int64_t inprog, int64_t rest)
{
	const sv_var *v;
	ev_promo   *p;
	int64_t		bound,
				solo = 0,
				hi,
				step,
				x,
				need = 0;
	int64_t    *rt;
	int			q;

	if (++s->e->nodes > s->e->budget)
	{
		s->aborted = true;
		return;
	}
	if (vi == s->nv)
	{
		int64_t		dv = 0;

		if (s->direct >= 0)
			dv = sv_direct(s, true);
		s->committed += dv;
		if (s->committed > s->best_total ||
			(s->committed == s->best_total &&
			 vec_cmp(s->vec, s->best_vec, s->np) > 0))
		{
			s->best_total = s->committed;
			memcpy(s->best_vec, s->vec, (size_t) s->np * sizeof(int64_t));
			memcpy(s->best_take, s->take,
				   s->nrt * (size_t) s->nt * sizeof(int64_t));
		}
		s->committed -= dv;
		if (s->direct >= 0)
			sv_direct(s, false);
		return;
	}
	v = &s->vars[vi];
	p = s->P[v->p];
	/*
	 * Bound: the promotion in hand can give at most its bound at its
	 * start; later ones at most their bound over what is left now.
	 */
	s->fresh[v->p] = s->pubs[(size_t) v->p * s->np + v->p];
	if (vi > 0 && s->vars[vi - 1].p == v->p)
	{
		int64_t		pb = sv_partial(s, vi);

		if (pb < s->fresh[v->p])
			s->fresh[v->p] = pb;
	}
	for (q = v->p + 1; q < s->np; q++)
	{
		int64_t		k;

		s->fresh[q] = (vi == 0 || s->vars[vi - 1].p != v->p) ?
			s->pubs[(size_t) v->p * s->np + q] : sv_solo(s, q, &k);
	}
	for (q = v->p; q < s->np; q++)
		solo += s->fresh[q];
	bound = s->committed + (inprog + rest < solo ? inprog + rest : solo);
	if (sv_hopeless(s, v->p, bound))
		return;

	rt = &s->role_total[(size_t) v->p * MAXR];
	hi = s->remaining[v->t];
	step = 1;
	if (v->r == 0)
	{
		int64_t		cap = s->kmax[v->p] * p->size[0] - rt[0];

		if (cap < hi)
			hi = cap;
		if (v->last_in_role)
		{
			hi -= (rt[0] + hi) % p->size[0];
			step = p->size[0];
		}
	}
	else
	{
		need = (rt[0] / p->size[0]) * p->size[v->r] - rt[v->r];
		if (need < hi)
			hi = need;
		if (v->last_in_role && hi != need)
			return;
	}

	/*
	 * Dominance within a class (see sv_classes): once a dearer type of the
	 * class was left, a cheaper one is not taken.
	 */
	if (v->cls >= 0 && s->open[v->cls] > 0)
	{
		if (v->last_in_role &&
			(v->r == 0 ? rt[0] % p->size[0] != 0 : need != 0))
			return;
		hi = 0;
	}

	for (x = hi; x >= 0; x -= step)
	{
		int64_t		u = s->ub[IX3(s, v->p, v->r, v->t)];
		bool		left = v->cls >= 0 && s->remaining[v->t] > x;
		int64_t		suf = s->sufmax[(size_t) v->p * s->nt + v->t];

		s->remaining[v->t] -= x;
		s->take[IX3(s, v->p, v->r, v->t)] = x;
		rt[v->r] += x;
		if (left)
			s->open[v->cls]++;
		if (v->last_in_promo)
		{
			int64_t		val = sv_value(s, v->p, s->take);
			int			next = vi + 1 < s->nv ? s->vars[vi + 1].p :
				s->direct >= 0 ? s->direct : s->np;

			s->vec[v->p] = val;
			s->committed += val;
			if (next < s->np)
				sv_level(s, next);
			sv_dfs(s, vi + 1, 0, sv_rest(s, next));
			s->committed -= val;
			s->vec[v->p] = 0;
		}
		else
			sv_dfs(s, vi + 1, inprog + x * u, rest - x * suf);
		s->remaining[v->t] += x;
		s->take[IX3(s, v->p, v->r, v->t)] = 0;
		rt[v->r] -= x;
		if (left)
			s->open[v->cls]--;
		if (s->aborted)
			return;
		if (v->r > 0 && v->last_in_role)
			break;
	}
}

/*
 * Greedy incumbent (and the fallback past the budget): repeatedly apply
 * the single most valuable application any promotion can still make
 * (ties: canonical promotion order), as many times as it stays possible.
 */
static void
sv_greedy(sv *s, int64_t *take)
{
	int64_t    *rem = TMP(s->e, (size_t) s->nt, int64_t);
	int64_t    *gtake = TMP(s->e, s->nrt * (size_t) s->nt, int64_t);
	int64_t    *times = TMP(s->e, (size_t) s->np, int64_t);
	int64_t    *need = TMP(s->e, (size_t) s->nt, int64_t);

	if (s->e->oom)
		return;
	memcpy(rem, s->remaining, (size_t) s->nt * sizeof(int64_t));
	for (;;)
	{
		int			bp = -1,
					pi,
					ri,
					t;
		int64_t		bv = 0,
					m;

		s->e->nodes++;
		for (pi = 0; pi < s->np; pi++)
		{
			ev_promo   *p = s->P[pi];
			int64_t    *g = gtake + s->roff[pi] * s->nt;
			int64_t		val;
			bool		complete = true;

			if (p->d->max_per_order > 0 && times[pi] >= p->d->max_per_order)
				continue;
			memset(g, 0, (size_t) p->nroles * s->nt * sizeof(int64_t));
			memcpy(need, rem, (size_t) s->nt * sizeof(int64_t));
			if (unit_kind(p->r->kind))
			{
				int			bt = -1;

				for (t = 0; t < s->nt; t++)
					if (s->elig[IX3(s, pi, 0, t)] && need[t] > 0 &&
						(bt < 0 || s->ub[IX3(s, pi, 0, t)] > s->ub[IX3(s, pi, 0, bt)]))
						bt = t;
				if (bt < 0)
					continue;
				g[bt] = 1;
			}
			else
			{
				for (ri = 0; ri < p->nroles && complete; ri++)
				{
					int64_t		want = p->size[ri];
					bool		cheap = (p->r->kind == PROMO_BUY_GET &&
										 !p->r->get_is_buy && ri == 0);
					int			k;

					for (k = 0; k < s->nt && want > 0; k++)
					{
						int			tt = cheap ? s->nt - 1 - k : k;
						int64_t		n;

						if (!s->elig[IX3(s, pi, ri, tt)])
							continue;
						n = need[tt] < want ? need[tt] : want;
						g[(size_t) ri * s->nt + tt] += n;
						need[tt] -= n;
						want -= n;
					}
					if (want > 0)
						complete = false;
				}
				if (!complete)
					continue;
			}
			/* value of this one application */
			{
				ev_seg	   *segs[MAXR];
				size_t		nsegs[MAXR];
				int64_t		tm;

				for (ri = 0; ri < p->nroles; ri++)
				{
					segs[ri] = s->segbuf + (size_t) ri * s->nt;
					nsegs[ri] = 0;
					for (t = 0; t < s->nt; t++)
					{
						int64_t		n = g[(size_t) ri * s->nt + t];

						if (n > 0)
						{
							segs[ri][nsegs[ri]].price = s->tprice[t];
							segs[ri][nsegs[ri]].count = n;
							segs[ri][nsegs[ri]].ref = (size_t) t;
							nsegs[ri]++;
						}
					}
				}
				val = promo_groups(s->e, p, segs, nsegs, false, INT64_MAX, &tm);
			}
			if (val > bv)
			{
				bv = val;
				bp = pi;
			}
		}
		if (bp < 0)
			break;
		/* apply the chosen application as many times as it fits */
		{
			ev_promo   *p = s->P[bp];
			int64_t    *g = gtake + s->roff[bp] * s->nt;

			memset(need, 0, (size_t) s->nt * sizeof(int64_t));
			for (ri = 0; ri < p->nroles; ri++)
				for (t = 0; t < s->nt; t++)
					need[t] += g[(size_t) ri * s->nt + t];
			m = INT64_MAX;
			for (t = 0; t < s->nt; t++)
				if (need[t] > 0 && rem[t] / need[t] < m)
					m = rem[t] / need[t];
			if (p->d->max_per_order > 0 &&
				p->d->max_per_order - times[bp] < m)
				m = p->d->max_per_order - times[bp];
			for (ri = 0; ri < p->nroles; ri++)
				for (t = 0; t < s->nt; t++)
					take[IX3(s, bp, ri, t)] += m * g[(size_t) ri * s->nt + t];
			for (t = 0; t < s->nt; t++)
				rem[t] -= m * need[t];
			times[bp] += m;
		}
	}
}

/*
 * Does type t1 or t2 differ in eligibility for any promotion after pi (or,
 * when roles_too, for a later role of pi itself)?
 */
static bool
sv_same_later(sv *s, int pi, int r, int t1, int t2, bool roles_too)
{
	int			q,
				rr;

	for (q = pi; q < s->np; q++)
		for (rr = (q == pi ? r + 1 : 0); rr < s->P[q]->nroles; rr++)
		{
			if (q == pi && !roles_too)
			{
				/* a later role of pi itself: neither type may feed it */
				if (s->elig[IX3(s, q, rr, t1)] || s->elig[IX3(s, q, rr, t2)])
					return false;
				continue;
			}
			if (s->elig[IX3(s, q, rr, t1)] != s->elig[IX3(s, q, rr, t2)])
				return false;
		}
	return true;
}

static bool
sv_unwanted(sv *s, int pi, int r, int t)
{
	int			q,
				rr;

	for (q = pi; q < s->np; q++)
		for (rr = (q == pi ? r + 1 : 0); rr < s->P[q]->nroles; rr++)
			if (s->elig[IX3(s, q, rr, t)])
				return false;
	return true;
}

/*
 * Dominance classes of the variables of one role, taken dearest first.
 *
 * Types no later variable wants form one class for every kind: swapping a
 * dearer unit in never lowers the promotion's value (canonical values are
 * monotone in prices) and changes nothing else.
 *
 * For a multibuy or bundle, whose value is the sum of its units less the
 * prices, types with the same eligibility for every later promotion (and
 * none for a later role of its own) also form a class: swapping a dearer
 * unit in raises this promotion by the difference (when the unit sits in
 * a paying group; otherwise the group is better left untaken), while the
 * later promotion that held it loses at most the difference, since every
 * canonical value moves by at most the change of one unit's price.  The
 * swap never lowers the total and raises an earlier promotion's share, so
 * the tie rule keeps the dominant branch too.
 */
static void
sv_classes(sv *s)
{
	int			i,
				j;

	for (i = 0; i < s->nv; i++)
	{
		sv_var	   *v = &s->vars[i];
		bool		sum_based = s->P[v->p]->r->kind == PROMO_MULTIBUY ||
			s->P[v->p]->r->kind == PROMO_BUNDLE;
		bool		unwanted = sv_unwanted(s, v->p, v->r, v->t);

		v->cls = -1;
		for (j = i - 1; j >= 0 && s->vars[j].p == v->p && s->vars[j].r == v->r; j--)
			;
		for (j = j + 1; j <= i; j++)
		{
			const sv_var *w = &s->vars[j];

			if (unwanted && sv_unwanted(s, w->p, w->r, w->t))
			{
				v->cls = j;
				break;
			}
			if (!unwanted && sum_based && !sv_unwanted(s, w->p, w->r, w->t) &&
				sv_same_later(s, v->p, v->r, v->t, w->t, false))
			{
				v->cls = j;
				break;
			}
		}
	}
}

/* ------------------------------------------------------------ packing */

/*
 * Limits of the packing search (docs/promotions-engine.md): units of one
 * type, units in one application, applications listed in one group.
 */
#define PACK_MAX_COUNT		64
#define PACK_MAX_GROUP		PACK_MAX_ENTRIES
#define PACK_MAX_COLS		4096
#define PACK_MAX_GROSS		INT64_C(10000000000000)	/* 10^13 pence */

/* An application being listed: units per role and type. */
typedef struct pc_build
{
	sv		   *s;
	int			pi;
	int			n;				/* entries so far */
	int			role[PACK_MAX_GROUP];
	int			type[PACK_MAX_GROUP];
	int64_t		cnt[PACK_MAX_GROUP];
	int64_t    *used;			/* [t] units of the application */
	int		   *elist;			/* [MAXR][nt] the types each role can take */
	int			nelist[MAXR];
	promo_pack_col *cols;
	int		   *xrole;			/* [col][PACK_MAX_GROUP]: role of entry */
	int64_t    *xcnt;			/* [col][PACK_MAX_GROUP]: units of entry */
	int		   *xtype;			/* [col][PACK_MAX_GROUP] */
	int		   *xn;				/* [col] entries */
	int			ncol;
	bool		overflow;
} pc_build;

/* Record the application in b (every role full) as a column. */
static void
pc_emit(pc_build *b)
{
	sv		   *s = b->s;
	ev_promo   *p = s->P[b->pi];
	ev_seg		segs[MAXR][PACK_MAX_GROUP];
	ev_seg	   *sp[MAXR];
	size_t		nsegs[MAXR];
	promo_pack_col *c;
	int			i,
				j,
				ri;
	int64_t		times;

	if (b->ncol >= PACK_MAX_COLS)
	{
		b->overflow = true;
		return;
	}
	if (b->cols == NULL)
	{
		b->ncol++;				/* counting only */
		return;
	}
	c = &b->cols[b->ncol];
	c->owner = b->pi;
	c->n = 0;
	for (ri = 0; ri < p->nroles; ri++)
	{
		sp[ri] = segs[ri];
		nsegs[ri] = 0;
	}
	for (i = 0; i < b->n; i++)
	{
		/* entries are by role, then type (price descending) */
		ev_seg	   *g = &segs[b->role[i]][nsegs[b->role[i]]++];

		g->price = s->tprice[b->type[i]];
		g->count = b->cnt[i];
		g->ref = (size_t) b->type[i];
		for (j = 0; j < c->n && c->type[j] != b->type[i]; j++)
			;
		if (j == c->n)
		{
			c->type[c->n] = b->type[i];
			c->mult[c->n++] = 0;
		}
		c->mult[j] += b->cnt[i];
		b->xrole[b->ncol * PACK_MAX_GROUP + i] = b->role[i];
		b->xtype[b->ncol * PACK_MAX_GROUP + i] = b->type[i];
		b->xcnt[b->ncol * PACK_MAX_GROUP + i] = b->cnt[i];
	}
	b->xn[b->ncol] = b->n;
	/* entries by type: the same units always give the same key */
	for (i = 1; i < c->n; i++)
		for (j = i; j > 0 && c->type[j - 1] > c->type[j]; j--)
		{
			int			tt = c->type[j];
			int64_t		mm = c->mult[j];

			c->type[j] = c->type[j - 1];
			c->mult[j] = c->mult[j - 1];
			c->type[j - 1] = tt;
			c->mult[j - 1] = mm;
		}
	c->value = promo_groups(s->e, p, sp, nsegs, false, 1, &times);
	if (times != 1)
		c->value = 0;
	b->ncol++;
}

/*
 * Every application of promotion b->pi: role ri takes left more units
 * from its eligible types e0 on (b->elist; a multiset: types in order,
 * each within what the type has left after the earlier roles).
 */
static void
pc_enum(pc_build *b, int ri, int e0, int64_t left)
{
	sv		   *s = b->s;
	ev_promo   *p = s->P[b->pi];
	int			e;

	if (b->overflow)
		return;
	if (left == 0)
	{
		if (ri + 1 == p->nroles)
			pc_emit(b);
		else
			pc_enum(b, ri + 1, 0, p->size[ri + 1]);
		return;
	}
	for (e = e0; e < b->nelist[ri] && !b->overflow; e++)
	{
		int			t = b->elist[ri * s->nt + e];
		int64_t		k,
					most;

		most = s->tcount[t] - b->used[t];
		if (most > left)
			most = left;
		for (k = most; k >= 1; k--)
		{
			b->role[b->n] = ri;
			b->type[b->n] = t;
			b->cnt[b->n] = k;
			b->n++;
			b->used[t] += k;
			pc_enum(b, ri, e + 1, left - k);
			b->used[t] -= k;
			b->n--;
		}
	}
}

static int
took_cmp(const void *x, const void *y)
{
	const sv_took *a = x,
			   *b = y;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	if (a->r != b->r)
		return a->r < b->r ? -1 : 1;
	return (a->t > b->t) - (a->t < b->t);
}

/*
 * The packing search for a group of competing promotions, when every one
 * of them can be written as a list of applications whose values add up
 * (per-unit kinds, multibuy, bundle, buy_get with one discounted unit per
 * group: for these the canonical value of any set of units is the best
 * split of it into groups, so the best packing of applications is the
 * best assignment of units) and the lists are short.  Fills best_take and
 * returns true; false leaves the group to the general search.
 */
static bool
pack_component(sv *s)
{
	ev		   *e = s->e;
	int			pi,
				t,
				c,
				i,
				r;
	int64_t		gross = 0;
	pc_build	b;
	promo_pack	pk;
	int64_t    *w,
			   *limit,
			   *x;
	int		   *wowner;
	void	   *ws;

	for (t = 0; t < s->nt; t++)
	{
		if (s->tcount[t] > PACK_MAX_COUNT)
			return false;
		gross += s->tcount[t] * s->tprice[t];
		if (gross > PACK_MAX_GROSS)
			return false;
	}
	for (pi = 0; pi < s->np; pi++)
	{
		const promo_rule *r = s->P[pi]->r;

		if (unit_kind(r->kind))
			continue;
		if (r->kind == PROMO_BUY_GET && r->get_qty != 1)
			return false;
		if (r->kind != PROMO_MULTIBUY && r->kind != PROMO_BUNDLE &&
			r->kind != PROMO_BUY_GET)
			return false;
		if (group_units(s->P[pi]) > PACK_MAX_GROUP)
			return false;
	}

	w = TMP(e, (size_t) s->nt, int64_t);
	wowner = TMP(e, (size_t) s->nt, int);
	limit = TMP(e, (size_t) s->np, int64_t);
	memset(&b, 0, sizeof(b));
	b.s = s;
	b.used = TMP(e, (size_t) s->nt, int64_t);
	b.elist = TMP(e, (size_t) MAXR * s->nt, int);
	if (e->oom)
		return false;

	/* the best unlimited per-unit discount of each type, canonical on ties */
	for (t = 0; t < s->nt; t++)
		wowner[t] = -1;
	for (pi = 0; pi < s->np; pi++)
	{
		ev_promo   *p = s->P[pi];
		size_t		j;

		if (!unit_kind(p->r->kind) || p->d->max_per_order > 0)
			continue;
		for (j = 0; j < p->ncls; j++)
		{
			int64_t		v;

			t = e->ctype[p->cls[j]];
			if (t < 0 || !s->elig[IX3(s, pi, 0, t)])
				continue;
			v = unit_value(p->r, s->tprice[t]);
			if (wowner[t] < 0 || v > w[t])
			{
				w[t] = v;
				wowner[t] = pi;
			}
		}
	}

	/*
	 * The applications: limited per-unit offers, one per type; groups.
	 * Counted first, then listed.
	 */
	for (i = 0; i < 2; i++)
	{
		if (i == 1)
		{
			size_t		n = (size_t) (b.ncol > 0 ? b.ncol : 1);

			b.cols = TMP(e, n, promo_pack_col);
			b.xrole = TMP(e, n * PACK_MAX_GROUP, int);
			b.xtype = TMP(e, n * PACK_MAX_GROUP, int);
			b.xcnt = TMP(e, n * PACK_MAX_GROUP, int64_t);
			b.xn = TMP(e, n, int);
			if (e->oom)
				return false;
			b.ncol = 0;
		}
		for (pi = 0; pi < s->np && !b.overflow; pi++)
		{
			ev_promo   *p = s->P[pi];

			limit[pi] = p->d->max_per_order;
			if (unit_kind(p->r->kind) && p->d->max_per_order == 0)
				continue;
			b.pi = pi;
			b.n = 0;
			for (r = 0; r < p->nroles; r++)
			{
				int		   *el = &b.elist[r * s->nt];
				size_t		j;

				/* the role's eligible types, ascending */
				b.nelist[r] = 0;
				for (j = 0; j < p->ncls; j++)
				{
					int			k = 0;

					t = e->ctype[p->cls[j]];
					if (t < 0 || !s->elig[IX3(s, pi, r, t)])
						continue;
					while (k < b.nelist[r] && el[k] < t)
						k++;
					if (k < b.nelist[r] && el[k] == t)
						continue;	/* met again through another class */
					memmove(&el[k + 1], &el[k], (size_t) (b.nelist[r] - k) * sizeof(int));
					el[k] = t;
					b.nelist[r]++;
				}
			}
			pc_enum(&b, 0, 0, p->size[0]);
		}
		if (b.overflow)
			return false;
	}

	x = TMP(e, (size_t) (b.ncol > 0 ? b.ncol : 1), int64_t);
	if (e->oom)
		return false;
	memset(&pk, 0, sizeof(pk));
	pk.nt = s->nt;
	pk.cap = s->tcount;
	pk.w = w;
	pk.wowner = wowner;
	pk.nowner = s->np;
	pk.limit = limit;
	pk.ncol = b.ncol;
	pk.col = b.cols;
	pk.nodes = &e->nodes;
	pk.budget = e->budget;
	pk.x = x;
	ws = TMP_RAW(e, promo_pack_workspace(&pk));
	if (e->oom)
		return false;
	promo_pack_solve(&pk, ws);
	if (pk.approximate)
	{
		e->approximate = true;
		e->gap += pk.gap;
	}

	/*
	 * The chosen applications, then the per-unit discounts of the rest, as
	 * units by promotion, role and type (sorted: they go back to classes in
	 * that order).
	 */
	s->ntook = (size_t) s->nt;
	for (c = 0; c < b.ncol; c++)
		if (x[c] > 0)
			s->ntook += (size_t) b.xn[c];
	s->took = TMP_RAW(e, s->ntook * sizeof(sv_took));
	if (e->oom)
		return false;
	s->ntook = 0;
	memcpy(b.used, s->tcount, (size_t) s->nt * sizeof(int64_t));
	for (c = 0; c < b.ncol; c++)
		for (i = 0; i < b.xn[c] && x[c] > 0; i++)
		{
			int			k = c * PACK_MAX_GROUP + i;
			sv_took    *tk = &s->took[s->ntook++];

			tk->p = b.cols[c].owner;
			tk->r = b.xrole[k];
			tk->t = b.xtype[k];
			tk->n = x[c] * b.xcnt[k];
			b.used[b.xtype[k]] -= x[c] * b.xcnt[k];
		}
	for (t = 0; t < s->nt; t++)
		if (wowner[t] >= 0 && w[t] > 0 && b.used[t] > 0)
		{
			sv_took    *tk = &s->took[s->ntook++];

			tk->p = wowner[t];
			tk->r = 0;
			tk->t = t;
			tk->n = b.used[t];
		}
	qsort(s->took, s->ntook, sizeof(sv_took), took_cmp);
	return true;
}

/* Solve one connected group of promotions over its classes. */
static void
solve_component(ev *e, ev_promo **P, int np, const size_t *cls,
				size_t ncls)
{
	sv			s;
	size_t		i,
				j;
	int			pi,
				ri,
				t;
	size_t	   *order = TMP(e, ncls, size_t);

	if (e->oom)
		return;
	memset(&s, 0, sizeof(s));
	s.e = e;
	s.np = np;
	s.P = P;

	/*
	 * Types: classes with equal price and equal eligibility.  Sort the
	 * component's classes by price descending, then eligibility, then class
	 * order (insertion sort: components are small).
	 */
	for (i = 0; i < ncls; i++)
	{
		size_t		c = cls[i];

		for (j = i; j > 0; j--)
		{
			size_t		o = order[j - 1];
			int			cmp = 0;

			if (e->classes[o].price != e->classes[c].price)
				cmp = e->classes[o].price < e->classes[c].price ? 1 : -1;
			for (pi = 0; pi < np && cmp == 0; pi++)
				for (ri = 0; ri < P[pi]->nroles && cmp == 0; ri++)
				{
					int			a = P[pi]->match[(size_t) ri * e->nclass + o];
					int			b = P[pi]->match[(size_t) ri * e->nclass + c];

					cmp = a - b;
				}
			if (cmp == 0)
				cmp = o > c ? 1 : -1;
			if (cmp <= 0)
				break;
			order[j] = o;
		}
		order[j] = c;
	}
	s.nt = 0;
	for (i = 0; i < ncls; i++)
	{
		bool		same = i > 0 &&
			e->classes[order[i]].price == e->classes[order[i - 1]].price;

		for (pi = 0; pi < np && same; pi++)
			for (ri = 0; ri < P[pi]->nroles && same; ri++)
				if (P[pi]->match[(size_t) ri * e->nclass + order[i]] !=
					P[pi]->match[(size_t) ri * e->nclass + order[i - 1]])
					same = false;
		if (!same)
			s.nt++;
		e->ctype[order[i]] = s.nt - 1;	/* until the group is solved */
	}
	s.roff = TMP(e, (size_t) np, size_t);
	if (e->oom)
		return;
	for (pi = 0; pi < np; pi++)
	{
		s.roff[pi] = s.nrt;
		s.nrt += (size_t) P[pi]->nroles;
	}
	s.tprice = TMP(e, (size_t) s.nt, int64_t);
	s.tcount = TMP(e, (size_t) s.nt, int64_t);
	s.elig = TMP(e, s.nrt * s.nt, unsigned char);
	if (e->oom)
		return;
	for (i = 0; i < ncls; i++)
	{
		ev_class   *c = &e->classes[order[i]];

		s.tprice[e->ctype[order[i]]] = c->price;
		s.tcount[e->ctype[order[i]]] += c->count;
	}
	/* eligibility, from each promotion's classes */
	for (pi = 0; pi < np; pi++)
	{
		const ev_promo *p = P[pi];

		for (j = 0; j < p->ncls; j++)
		{
			size_t		c = p->cls[j];

			t = e->ctype[c];
			if (t < 0)
				continue;
			for (ri = 0; ri < p->nroles; ri++)
				if (role_wants(e, p, ri, c))
					s.elig[IX3(&s, pi, ri, t)] = 1;
		}
	}
	/*
	 * A group of few promotions goes to the general search, whose
	 * dominance rules handle offers over many units; a wider one to the
	 * packing search when it applies.  The general search's own arrays
	 * (some of them promotions x promotions) are only made for it.
	 */
	if (e->method != PROMO_METHOD_GENERAL &&
		(e->method == PROMO_METHOD_PACK || np >= PROMO_PACK_MIN_PROMOS) &&
		pack_component(&s))
		goto chosen;
	s.best_take = TMP(e, s.nrt * s.nt, int64_t);
	s.remaining = TMP(e, (size_t) s.nt, int64_t);
	s.ub = TMP(e, s.nrt * s.nt, int64_t);
	s.sufmax = TMP(e, (size_t) (np + 1) * s.nt, int64_t);
	s.take = TMP(e, s.nrt * s.nt, int64_t);
	s.role_total = TMP(e, (size_t) np * MAXR, int64_t);
	s.vec = TMP(e, (size_t) np, int64_t);
	s.best_vec = TMP(e, (size_t) np, int64_t);
	s.segbuf = TMP(e, (size_t) MAXR * s.nt, ev_seg);
	s.vars = TMP(e, s.nrt * s.nt, sv_var);
	s.pubs = TMP(e, (size_t) np * np, int64_t);
	s.open = TMP(e, s.nrt * s.nt, int);
	s.fresh = TMP(e, (size_t) np, int64_t);
	s.varidx = TMP(e, s.nrt * s.nt, int);
	s.kmax = TMP(e, (size_t) np, int64_t);
	if (e->oom)
		return;
	memcpy(s.remaining, s.tcount, (size_t) s.nt * sizeof(int64_t));
	for (pi = 0; pi < np; pi++)
		for (ri = 0; ri < P[pi]->nroles; ri++)
			for (t = 0; t < s.nt; t++)
				if (s.elig[IX3(&s, pi, ri, t)])
					s.ub[IX3(&s, pi, ri, t)] = unit_bound(P[pi], ri, s.tprice[t]);
	for (pi = np - 1; pi >= 0; pi--)
		for (t = 0; t < s.nt; t++)
		{
			int64_t		m = s.sufmax[(size_t) (pi + 1) * s.nt + t];

			for (ri = 0; ri < P[pi]->nroles; ri++)
				if (s.elig[IX3(&s, pi, ri, t)] && s.ub[IX3(&s, pi, ri, t)] > m)
					m = s.ub[IX3(&s, pi, ri, t)];
			s.sufmax[(size_t) pi * s.nt + t] = m;
		}
	/*
	 * Variables: promotion, role, type (price descending).  The last
	 * promotion that has eligible units is solved directly when it has one
	 * role.
	 */
	s.direct = -1;
	for (pi = np - 1; pi >= 0 && s.direct < 0; pi--)
	{
		bool		any = false;

		for (t = 0; t < s.nt; t++)
			if (s.elig[IX3(&s, pi, 0, t)])
				any = true;
		if (!any && P[pi]->nroles == 1)
			continue;
		if (P[pi]->nroles == 1)
			s.direct = pi;
		break;
	}
	for (pi = 0; pi < np; pi++)
	{
		int			first = s.nv;

		if (pi == s.direct)
			continue;

		for (ri = 0; ri < P[pi]->nroles; ri++)
		{
			int			rfirst = s.nv;

			for (t = 0; t < s.nt; t++)
				if (s.elig[IX3(&s, pi, ri, t)])
				{
					s.vars[s.nv].p = pi;
					s.vars[s.nv].r = ri;
					s.vars[s.nv].t = t;
					s.nv++;
				}
			if (s.nv > rfirst)
				s.vars[s.nv - 1].last_in_role = true;
		}
		if (s.nv > first)
			s.vars[s.nv - 1].last_in_promo = true;
	}

	for (i = 0; i < s.nrt * (size_t) s.nt; i++)
		s.varidx[i] = -1;
	for (i = 0; i < (size_t) s.nv; i++)
		s.varidx[IX3(&s, s.vars[i].p, s.vars[i].r, s.vars[i].t)] = (int) i;

	sv_classes(&s);

	/* incumbent: the greedy answer */
	s.best_total = -1;
	sv_greedy(&s, s.best_take);
	if (e->oom)
		return;
	sv_offer(&s, s.best_take);
	memset(s.vec, 0, (size_t) np * sizeof(int64_t));
	if (s.nv > 0 || s.direct >= 0)
	{
		int			first = s.nv > 0 ? s.vars[0].p : s.direct;
		int64_t		root = 0,
					rest;

		/* the bound at the root, for the gap should the search stop */
		sv_level(&s, first);
		rest = sv_rest(&s, first);
		for (pi = first; pi < np; pi++)
			root += s.pubs[(size_t) first * np + pi];
		if (rest < root)
			root = rest;
		if (s.nv > PROMO_SEARCH_MAX_VARS)
			s.aborted = true;
		else
			sv_dfs(&s, 0, 0, rest);
		if (s.aborted && root > s.best_total)
			e->gap += root - s.best_total;
	}
	if (s.aborted)
		e->approximate = true;

chosen:

	/* types back to classes, in class order within each type */
	{
		int64_t    *left = TMP(e, ncls, int64_t);

		if (e->oom)
			return;
		for (i = 0; i < ncls; i++)
			left[i] = e->classes[order[i]].count;
		if (s.took == NULL)
		{
			/* the general search's answer: its table, in the same order */
			size_t		n = 0;

			s.took = TMP_RAW(e, s.nrt * (size_t) s.nt * sizeof(sv_took));
			if (e->oom)
				return;
			for (pi = 0; pi < np; pi++)
				for (ri = 0; ri < P[pi]->nroles; ri++)
					for (t = 0; t < s.nt; t++)
						if (s.best_take[IX3(&s, pi, ri, t)] > 0)
						{
							s.took[n].p = pi;
							s.took[n].r = ri;
							s.took[n].t = t;
							s.took[n++].n = s.best_take[IX3(&s, pi, ri, t)];
						}
			s.ntook = n;
		}
		for (j = 0; j < s.ntook; j++)
		{
			const sv_took *tk = &s.took[j];
			ev_promo   *p = P[tk->p];
			int64_t		n = tk->n;

			for (i = 0; i < ncls && n > 0; i++)
			{
				int64_t		k;

				if (e->ctype[order[i]] != tk->t)
					continue;
				k = left[i] < n ? left[i] : n;
				left[i] -= k;
				n -= k;
				p->take[(size_t) tk->r * p->ncls + cls_pos(p, order[i])] += k;
			}
		}
		for (i = 0; i < ncls; i++)
			e->ctype[order[i]] = -1;
	}
}

/* ------------------------------------------------------------ scoping */

static bool
ci_equal(const char *x, const char *y)
{
	for (;; x++, y++)
	{
		char		a = *x,
					b = *y;

		if (a >= 'A' && a <= 'Z')
			a = (char) (a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char) (b - 'A' + 'a');
		if (a != b)
			return false;
		if (a == '\0')
			return true;
	}
}

static int
scope(const promo_def *d, const promo_basket *b)
{
	size_t		i;
	bool		found;

	if (d->has_start && b->at < d->starts_at)
		return PROMO_NOT_STARTED;
	if (d->has_end && b->at >= d->ends_at)
		return PROMO_ENDED;
	if (d->stores)
	{
		found = false;
		for (i = 0; i < d->nstores; i++)
			if (d->stores[i] == b->store)
				found = true;
		if (!found)
			return PROMO_NOT_IN_STORE;
	}
	if (d->channels)
	{
		found = false;
		for (i = 0; i < d->nchannels && b->channel; i++)
			if (strcmp(d->channels[i], b->channel) == 0)
				found = true;
		if (!found)
			return PROMO_NOT_IN_CHANNEL;
	}
	if (d->coupon)
	{
		found = false;
		for (i = 0; i < b->ncoupons; i++)
			if (b->coupons[i] && ci_equal(d->coupon, b->coupons[i]))
				found = true;
		if (!found)
			return PROMO_COUPON_MISSING;
	}
	return NOT_SCOPED;
}

/* ------------------------------------------------------------ sorting */

static int
line_cmp(const ev_line *x, const ev_line *y)
{
	const promo_line *a = x->in,
			   *b = y->in;
	size_t		i;

	if (a->item != b->item)
		return a->item < b->item ? -1 : 1;
	if (a->unit_price != b->unit_price)
		return a->unit_price < b->unit_price ? -1 : 1;
	if (a->ncategories != b->ncategories)
		return a->ncategories < b->ncategories ? -1 : 1;
	for (i = 0; i < a->ncategories; i++)
		if (a->categories[i] != b->categories[i])
			return a->categories[i] < b->categories[i] ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return 0;
}

/* Merge sort (stable, O(n log n), no recursion) of lines. */
static void
sort_lines(ev_line *v, ev_line *tmp, size_t n)
{
	size_t		w,
				i;

	for (w = 1; w < n; w *= 2)
	{
		for (i = 0; i < n; i += 2 * w)
		{
			size_t		lo = i,
						mid = i + w < n ? i + w : n,
						hi = i + 2 * w < n ? i + 2 * w : n,
						a = lo,
						b = mid,
						k = lo;

			while (a < mid || b < hi)
			{
				if (b >= hi || (a < mid && line_cmp(&v[a], &v[b]) <= 0))
					tmp[k++] = v[a++];
				else
					tmp[k++] = v[b++];
			}
		}
		memcpy(v, tmp, n * sizeof(ev_line));
	}
}

/* Canonical promotion order: priority descending, then id ascending. */
static bool
promo_before(const promo_def *x, const promo_def *y)
{
	if (x->priority != y->priority)
		return x->priority > y->priority;
	return x->id < y->id;
}

static int
promo_cmp(const void *x, const void *y)
{
	const promo_def *a = ((const ev_promo *) x)->d,
			   *b = ((const ev_promo *) y)->d;

	if (promo_before(a, b))
		return -1;
	return promo_before(b, a) ? 1 : 0;
}

static bool
same_class(const ev_line *x, const ev_line *y)
{
	const promo_line *a = x->in,
			   *b = y->in;

	return a->item == b->item && a->unit_price == b->unit_price &&
		a->ncategories == b->ncategories &&
		(a->ncategories == 0 ||
		 memcmp(a->categories, b->categories,
				a->ncategories * sizeof(int64_t)) == 0);
}

/* ------------------------------------------------------------ stages */

static promo_status
check_input(ev *e, const promo_def *promos, size_t npromos)
{
	const promo_basket *b = e->b;
	size_t		i;
	int64_t		gross = 0;

	for (i = 0; i < b->nlines; i++)
	{
		const promo_line *l = &b->lines[i];

		if (l->qty < 1 || l->qty > PROMO_MAX_QTY)
		{
			promo_set_error(e->err, NULL, 0, 0, "line %d: quantity must be from 1 to %d",
							(int) l->line, PROMO_MAX_QTY);
			return PROMO_EINPUT;
		}
		if (l->unit_price < 0 || l->unit_price > PROMO_MAX_MONEY)
		{
			promo_set_error(e->err, NULL, 0, 0, "line %d: unit price out of range",
							(int) l->line);
			return PROMO_EINPUT;
		}
		if (l->ncategories > 0 && l->categories == NULL)
		{
			promo_set_error(e->err, NULL, 0, 0, "line %d: categories missing",
							(int) l->line);
			return PROMO_EINPUT;
		}
		if (l->unit_price > 0 && l->qty > (PROMO_MAX_BASKET_GROSS - gross) / l->unit_price)
		{
			promo_set_error(e->err, NULL, 0, 0, "basket total too large");
			return PROMO_EINPUT;
		}
		gross += l->unit_price * l->qty;
	}
	for (i = 0; i < npromos; i++)
	{
		if (promos[i].rule == NULL || promos[i].max_per_order < 0)
		{
			promo_set_error(e->err, NULL, 0, 0, "promotion %d: no compiled rule or negative max_per_order",
							(int) promos[i].id);
			return PROMO_EINPUT;
		}
	}
	return PROMO_OK;
}

/*
 * What each promotion took, by class, in canonical order: built once,
 * after the search, for the lost_to explanations.
 */
static bool
takers_list(ev *e)
{
	size_t		q,
				c,
				k,
				n = 0;
	int			pass,
				ri;

	if (e->takers != NULL)
		return true;
	for (pass = 0; pass < 2; pass++)
	{
		if (pass == 1)
		{
			e->takers = TMP(e, n ? n : 1, ev_taker);
			e->taken_by = TMP(e, e->np ? e->np : 1, int64_t);
			if (e->oom)
			{
				e->takers = NULL;
				return false;
			}
			n = 0;
		}
		for (q = 0; q < e->np; q++)
		{
			ev_promo   *o = &e->pr[q];

			if (o->take == NULL)
				continue;
			for (k = 0; k < o->ncls; k++)
			{
				int64_t		u = 0;

				c = o->cls[k];
				for (ri = 0; ri < o->nroles; ri++)
					u += o->take[(size_t) ri * o->ncls + k];
				if (u == 0)
					continue;
				if (pass == 1)
				{
					e->takers[n].promo = q;
					e->takers[n].cls = c;
					e->takers[n].units = u;
				}
				n++;
			}
		}
	}
	e->ntakers = n;
	/* the same, by class */
	e->tfrom = TMP(e, e->nclass + 1, size_t);
	e->tby = TMP(e, n ? n : 1, size_t);
	if (e->oom)
	{
		e->takers = NULL;
		return false;
	}
	for (k = 0; k < n; k++)
		e->tfrom[e->takers[k].cls + 1]++;
	for (c = 0; c < e->nclass; c++)
		e->tfrom[c + 1] += e->tfrom[c];
	for (k = 0; k < n; k++)
		e->tby[e->tfrom[e->takers[k].cls]++] = k;
	for (c = e->nclass; c > 0; c--)
		e->tfrom[c] = e->tfrom[c - 1];
	e->tfrom[0] = 0;
	return true;
}

static void
explain_not_applied(ev *e, ev_promo *p)
{
	size_t		c,
				j,
				k;
	int			ri;
	int64_t		short_by = 0;

	if (p->state != NOT_SCOPED || p->threshold)
		return;
	/* enough matching units for one application? */
	for (ri = 0; ri < p->nroles; ri++)
	{
		int64_t		n = 0;

		for (k = 0; k < p->ncls; k++)
			if (p->match[(size_t) ri * e->nclass + p->cls[k]])
				n += e->classes[p->cls[k]].count;
		if (n < p->size[ri])
			short_by += p->size[ri] - n;
	}
	if (short_by > 0)
	{
		p->state = PROMO_QTY_SHORT;
		p->spend_missing = short_by;
		return;
	}
	if (p->times > 0)
	{
		/* applied: did max_per_order leave units undiscounted? */
		bool		more = p->d->max_per_order > 0 &&
			p->times >= p->d->max_per_order;

		for (ri = 0; ri < p->nroles && more; ri++)
		{
			int64_t		n = 0;

			for (k = 0; k < p->ncls; k++)
			{
				c = p->cls[k];
				if (p->match[(size_t) ri * e->nclass + c])
					n += e->classes[c].count - e->classes[c].used;
			}
			if (n < p->size[ri])
				more = false;
		}
		if (more)
			p->state = PROMO_LIMIT_REACHED;
		return;
	}
	/* could it give anything on this basket on its own? */
	{
		ev_seg	   *segs[MAXR];
		size_t		nsegs[MAXR];
		int64_t		tm,
					best = -1;
		const ev_promo *winner = NULL;
		ev_seg	   *buf;

		if (e->xbuf == NULL)
			e->xbuf = TMP(e, (size_t) MAXR * e->nclass, ev_seg);
		buf = e->xbuf;
		if (buf == NULL)
			return;
		/* every role takes its matching units, most expensive first */
		for (ri = 0; ri < p->nroles; ri++)
		{
			segs[ri] = buf + (size_t) ri * e->nclass;
			nsegs[ri] = 0;
			for (j = 0; j < p->ncls; j++)
			{
				c = p->cls[j];
				if (!p->match[(size_t) ri * e->nclass + c])
					continue;
				for (k = nsegs[ri]; k > 0 && segs[ri][k - 1].price < e->classes[c].price; k--)
					segs[ri][k] = segs[ri][k - 1];
				segs[ri][k].price = e->classes[c].price;
				segs[ri][k].count = e->classes[c].count;
				segs[ri][k].ref = c;
				nsegs[ri]++;
			}
		}
		if (p->r->kind == PROMO_BUY_GET && !p->r->get_is_buy)
		{
			/* best case: cheapest units to buy, dearest to get */
			ev_seg		tmp;
			size_t		a = 0,
						z = nsegs[0];

			while (a + 1 < z)
			{
				tmp = segs[0][a];
				segs[0][a] = segs[0][z - 1];
				segs[0][z - 1] = tmp;
				a++;
				z--;
			}
		}
		if (promo_groups(e, p, segs, nsegs, false, INT64_MAX, &tm) <= 0)
		{
			p->state = PROMO_NOT_BENEFICIAL;
			return;
		}
		/*
		 * It lost: to the promotion holding most of its units (the first
		 * in the canonical order on ties), from the list of what each
		 * promotion took (takers_list).
		 */
		p->state = PROMO_LOST_TO;
		p->lost_to = 0;
		if (!takers_list(e))
			return;
		for (j = 0; j < p->ncls; j++)
			for (k = e->tfrom[p->cls[j]]; k < e->tfrom[p->cls[j] + 1]; k++)
			{
				const ev_taker *tk = &e->takers[e->tby[k]];

				if (&e->pr[tk->promo] != p)
					e->taken_by[tk->promo] += tk->units;
			}
		for (j = 0; j < p->ncls; j++)
			for (k = e->tfrom[p->cls[j]]; k < e->tfrom[p->cls[j] + 1]; k++)
			{
				size_t		q2 = e->takers[e->tby[k]].promo;

				/* the first in the canonical order wins a tie */
				if (e->taken_by[q2] > best ||
					(e->taken_by[q2] == best && best > 0 &&
					 &e->pr[q2] < winner))
				{
					best = e->taken_by[q2];
					winner = &e->pr[q2];
					p->lost_to = e->pr[q2].d->id;
				}
			}
		for (j = 0; j < p->ncls; j++)
			for (k = e->tfrom[p->cls[j]]; k < e->tfrom[p->cls[j] + 1]; k++)
				e->taken_by[e->takers[e->tby[k]].promo] = 0;
		if (best <= 0)
			p->state = PROMO_NOT_BENEFICIAL;
	}
}

typedef struct th_ctx
{
	ev		   *e;
	size_t		nq;
	const int64_t *disc;
	const unsigned char *lm;
	bool	   *cur;
	bool	   *chosen;
	int64_t		best;
	bool		aborted;
} th_ctx;

static bool
th_overlap(const th_ctx *t, size_t i, size_t j)
{
	size_t		l;

	for (l = 0; l < t->e->nlines; l++)
		if (t->lm[i * t->e->nlines + l] && t->lm[j * t->e->nlines + l])
			return true;
	return false;
}

/*
 * Include/exclude search over the qualifying thresholds (canonical order,
 * recursion depth <= 64).  A leaf wins on a larger total, or on an equal
 * total when its vector of discounts is lexicographically larger.
 */
static void
th_search(th_ctx *t, size_t d, int64_t total)
{
	size_t		i;
	int64_t		ub = total;
	bool		ok = true;

	if (++t->e->nodes > t->e->budget)
	{
		t->e->approximate = true;
		t->aborted = true;
		return;
	}
	if (d == t->nq)
	{
		bool		better = total > t->best;

		if (total == t->best)
			for (i = 0; i < t->nq; i++)
				if (t->cur[i] != t->chosen[i])
				{
					better = t->cur[i];
					break;
				}
		if (better)
		{
			t->best = total;
			memcpy(t->chosen, t->cur, t->nq * sizeof(bool));
		}
		return;
	}
	for (i = d; i < t->nq; i++)
		ub += t->disc[i];
	if (ub < t->best)
		return;
	for (i = 0; i < d && ok; i++)
		if (t->cur[i] && th_overlap(t, i, d))
			ok = false;
	if (ok)
	{
		t->cur[d] = true;
		th_search(t, d + 1, total + t->disc[d]);
		t->cur[d] = false;
	}
	th_search(t, d + 1, total);
}

/* Spend thresholds on the net after item promotions. */
static void
apply_thresholds(ev *e)
{
	size_t		i,
				j,
				nq = 0;
	ev_promo  **Q = TMP(e, e->np, ev_promo *);
	int64_t    *disc = TMP(e, e->np, int64_t);
	unsigned char *lm;			/* [q][line]: target matches line */
	bool	   *chosen,
			   *cur;

	if (e->oom)
		return;
	for (i = 0; i < e->np; i++)
	{
		ev_promo   *p = &e->pr[i];
		int64_t		net = 0,
					d;
		size_t		c;

		if (!p->threshold || p->state != NOT_SCOPED)
			continue;
		for (c = 0; c < e->nclass; c++)
			if (p->match[c])
			{
				size_t		k;

				for (k = 0; k < e->classes[c].nlines; k++)
				{
					ev_line    *l = &e->lines[e->classes[c].first + k];

					net += l->in->unit_price * l->in->qty - l->discount;
				}
			}
		if (net < p->r->min_spend)
		{
			p->state = PROMO_SPEND_SHORT;
			p->spend_missing = p->r->min_spend - net;
			continue;
		}
		d = p->r->percent_bp ? promo_percent_of(net, p->r->percent_bp) :
			(p->r->amount < net ? p->r->amount : net);
		if (d <= 0)
		{
			p->state = PROMO_NOT_BENEFICIAL;
			continue;
		}
		disc[nq] = d;
		Q[nq++] = p;
	}
	if (nq == 0)
		return;
	lm = TMP(e, nq * e->nlines, unsigned char);
	chosen = TMP(e, nq, bool);
	cur = TMP(e, nq, bool);
	if (e->oom)
		return;
	for (i = 0; i < nq; i++)
	{
		size_t		c;

		for (c = 0; c < e->nclass; c++)
			if (Q[i]->match[c])
			{
				size_t		k;

				for (k = 0; k < e->classes[c].nlines; k++)
					lm[i * e->nlines + e->classes[c].first + k] = 1;
			}
	}

	/*
	 * Thresholds sharing a line compete: choose the compatible set with the
	 * largest total, ties by the canonical vector (see th_search).
	 */
	{
		th_ctx		t;

		if (nq > 64)
			nq = 64;			/* more competing thresholds than that is absurd */
		t.e = e;
		t.nq = nq;
		t.disc = disc;
		t.lm = lm;
		t.cur = cur;
		t.chosen = chosen;
		t.best = -1;
		t.aborted = false;
		th_search(&t, 0, 0);
		if (t.best < 0)
			memset(chosen, 0, nq * sizeof(bool));
		if (t.aborted)
		{
			/* no chosen set gives more than all of them together */
			int64_t		all = 0;

			for (i = 0; i < nq; i++)
				all += disc[i];
			e->gap += all - (t.best > 0 ? t.best : 0);
		}
	}

	for (i = 0; i < nq; i++)
	{
		ev_promo   *p = Q[i];
		ev_share   *sh;
		size_t		n = 0,
					l;

		if (!chosen[i])
		{
			p->state = PROMO_LOST_TO;
			for (j = 0; j < nq; j++)
				if (chosen[j])
				{
					bool		overlap = false;

					for (l = 0; l < e->nlines; l++)
						if (lm[j * e->nlines + l] && lm[i * e->nlines + l])
							overlap = true;
					if (overlap)
					{
						p->lost_to = Q[j]->d->id;
						break;
					}
				}
			continue;
		}
		sh = TMP(e, e->nlines, ev_share);
		if (sh == NULL)
			return;
		for (l = 0; l < e->nlines; l++)
			if (lm[i * e->nlines + l])
			{
				sh[n].line = l;
				sh[n].weight = e->lines[l].in->unit_price * e->lines[l].in->qty -
					e->lines[l].discount;
				n++;
			}
		spread(e, sh, n, disc[i], p->d->id, 1);
		p->times = 1;
		p->amount = disc[i];
	}
}

static void
format_money(char *buf, size_t size, int64_t pence)
{
	snprintf(buf, size, "%lld.%02lld", (long long) (pence / 100),
			 (long long) (pence % 100));
}

const char *
promo_reason_name(promo_reason reason)
{
	static const char *const names[] = {
		"not_started", "ended", "not_in_store", "not_in_channel",
		"coupon_missing", "qty_short", "spend_short", "lost_to",
		"not_beneficial", "limit_reached"
	};

	return (size_t) reason < sizeof(names) / sizeof(names[0]) ?
		names[reason] : "unknown";
}

/*
 * pre, the decimal n, post into out (PROMO_DETAIL_SIZE, truncated): the
 * details with a number, written for hundreds of promotions a pricing
 * without the cost of snprintf.
 */
static void
detail_number(char *out, const char *pre, int64_t n, const char *post)
{
	char		digits[24];
	int			nd = 0;
	size_t		o = 0;
	uint64_t	u = n < 0 ? (uint64_t) 0 - (uint64_t) n : (uint64_t) n;

	do
	{
		digits[nd++] = (char) ('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (n < 0)
		digits[nd++] = '-';
	for (; *pre && o < PROMO_DETAIL_SIZE - 1; pre++)
		out[o++] = *pre;
	while (nd > 0 && o < PROMO_DETAIL_SIZE - 1)
		out[o++] = digits[--nd];
	for (; *post && o < PROMO_DETAIL_SIZE - 1; post++)
		out[o++] = *post;
	out[o] = '\0';
}

static void
detail(const ev_promo *p, promo_not_applied *na)
{
	char		money[32];

	switch (na->reason)
	{
		case PROMO_NOT_STARTED:
			snprintf(na->detail, PROMO_DETAIL_SIZE, "the offer has not started yet");
			break;
		case PROMO_ENDED:
			snprintf(na->detail, PROMO_DETAIL_SIZE, "the offer has ended");
			break;
		case PROMO_NOT_IN_STORE:
			snprintf(na->detail, PROMO_DETAIL_SIZE, "the offer does not run in this store");
			break;
		case PROMO_NOT_IN_CHANNEL:
			snprintf(na->detail, PROMO_DETAIL_SIZE, "the offer does not run in this channel");
			break;
		case PROMO_COUPON_MISSING:
			snprintf(na->detail, PROMO_DETAIL_SIZE, "needs coupon %.60s", p->d->coupon);
			break;
		case PROMO_QTY_SHORT:
			detail_number(na->detail, "add ", p->spend_missing, " more");
			break;
		case PROMO_SPEND_SHORT:
			format_money(money, sizeof(money), p->spend_missing);
			snprintf(na->detail, PROMO_DETAIL_SIZE, "spend %s more", money);
			break;
		case PROMO_LOST_TO:
			detail_number(na->detail, "lost to promotion ", p->lost_to, "");
			break;
		case PROMO_NOT_BENEFICIAL:
			strcpy(na->detail, "would not lower the price");
			break;
		case PROMO_LIMIT_REACHED:
			detail_number(na->detail, "limited to ", p->d->max_per_order, " per order");
			break;
	}
}

static int
entry_cmp(const ev_entry *x, const ev_entry *y)
{
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static void
sort_entries(ev_entry *v, ev_entry *tmp, size_t n)
{
	size_t		w,
				i;

	for (w = 1; w < n; w *= 2)
	{
		for (i = 0; i < n; i += 2 * w)
		{
			size_t		mid = i + w < n ? i + w : n,
						hi = i + 2 * w < n ? i + 2 * w : n,
						a = i,
						b = mid,
						k = i;

			while (a < mid || b < hi)
			{
				if (b >= hi || (a < mid && entry_cmp(&v[a], &v[b]) <= 0))
					tmp[k++] = v[a++];
				else
					tmp[k++] = v[b++];
			}
		}
		memcpy(v, tmp, n * sizeof(ev_entry));
	}
}

/* Sort indices into e->pr by promotion id (merge sort, no recursion). */
static void
sort_by_id(ev *e, size_t *v, size_t n)
{
	size_t	   *tmp = TMP(e, n ? n : 1, size_t);
	size_t		w,
				i;

	if (tmp == NULL)
		return;
	for (w = 1; w < n; w *= 2)
	{
		for (i = 0; i < n; i += 2 * w)
		{
			size_t		mid = i + w < n ? i + w : n,
						hi = i + 2 * w < n ? i + 2 * w : n,
						a = i,
						b = mid,
						k = i;

			while (a < mid || b < hi)
			{
				if (b >= hi || (a < mid && e->pr[v[a]].d->id <= e->pr[v[b]].d->id))
					tmp[k++] = v[a++];
				else
					tmp[k++] = v[b++];
			}
		}
		memcpy(v, tmp, n * sizeof(size_t));
	}
}

static void
build_result(ev *e, promo_result *res)
{
	size_t		i,
				k,
				n;
	ev_entry   *tmp = TMP(e, e->nent, ev_entry);

	if (e->oom)
		return;
	sort_entries(e->ent, tmp, e->nent);
	res->nlines = e->b->nlines;
	res->lines = RES(e, e->b->nlines, promo_line_result);
	if (e->oom)
		return;
	k = 0;
	for (i = 0; i < e->nlines; i++)
	{
		ev_line    *l = &e->lines[i];
		promo_line_result *o = &res->lines[l->index];
		size_t		start = k;

		o->line = l->in->line;
		o->gross = l->in->unit_price * l->in->qty;
		o->discount = l->discount;
		o->net = o->gross - o->discount;
		res->gross += o->gross;
		res->discount += o->discount;
		while (k < e->nent && e->ent[k].line == i)
			k++;
		/* merge amounts of the same promotion */
		n = 0;
		{
			size_t		m;

			for (m = start; m < k; m++)
				if (m == start || e->ent[m].id != e->ent[m - 1].id)
					n++;
			o->promos = RES(e, n ? n : 1, promo_line_promo);
			if (e->oom)
				return;
			o->npromos = 0;
			for (m = start; m < k; m++)
			{
				if (m == start || e->ent[m].id != e->ent[m - 1].id)
				{
					o->promos[o->npromos].id = e->ent[m].id;
					o->promos[o->npromos].amount = 0;
					o->npromos++;
				}
				o->promos[o->npromos - 1].amount += e->ent[m].amount;
			}
		}
	}
	res->total = res->gross - res->discount;

	/* applied and not applied, by id */
	res->applied = RES(e, e->np ? e->np : 1, promo_applied);
	res->not_applied = RES(e, e->np ? e->np : 1, promo_not_applied);
	if (e->oom)
		return;
	{
		size_t	   *byid = TMP(e, e->np ? e->np : 1, size_t);

		if (byid == NULL)
			return;
		for (i = 0; i < e->np; i++)
			byid[i] = i;
		sort_by_id(e, byid, e->np);
		for (i = 0; i < e->np; i++)
		{
			ev_promo   *p = &e->pr[byid[i]];

			if (p->times > 0 && p->amount > 0)
			{
				promo_applied *ap = &res->applied[res->napplied++];

				ap->id = p->d->id;
				ap->times = p->times;
				ap->amount = p->amount;
			}
			if (p->state != NOT_SCOPED)
			{
				promo_not_applied *na = &res->not_applied[res->nnot_applied++];

				na->id = p->d->id;
				na->reason = (promo_reason) p->state;
				na->other = p->state == PROMO_LOST_TO ? p->lost_to : 0;
				detail(p, na);
			}
		}
	}
}

promo_status
promo_evaluate(const promo_basket *basket, const promo_def *promos,
			   size_t npromos, const promo_options *opts,
			   const promo_alloc *a, promo_result *result, promo_error *err)
{
	ev			e;
	promo_status st;
	size_t		i,
				c,
				q;
	ev_line    *ltmp;
	size_t	   *parent;
	unsigned char *mrow,
			   *mseen;
	size_t	   *mlist,
				hmask;
	ev_slot    *ihash;

	memset(result, 0, sizeof(*result));
	memset(&e, 0, sizeof(e));
	e.a = a;
	e.err = err;
	e.b = basket;
	e.budget = opts && opts->budget ? opts->budget : PROMO_SEARCH_BUDGET;
	e.method = opts ? opts->method : PROMO_METHOD_AUTO;
	st = check_input(&e, promos, npromos);
	if (st != PROMO_OK)
		return st;

	/* lines sorted into classes */
	e.nlines = basket->nlines;
	e.lines = TMP(&e, e.nlines ? e.nlines : 1, ev_line);
	ltmp = TMP(&e, e.nlines ? e.nlines : 1, ev_line);
	if (e.oom)
		goto oom;
	for (i = 0; i < e.nlines; i++)
	{
		e.lines[i].in = &basket->lines[i];
		e.lines[i].index = i;
		e.lines[i].left = basket->lines[i].qty;
	}
	sort_lines(e.lines, ltmp, e.nlines);
	e.classes = TMP(&e, e.nlines ? e.nlines : 1, ev_class);
	if (e.oom)
		goto oom;
	for (i = 0; i < e.nlines; i++)
	{
		ev_class   *cl;

		if (i == 0 || !same_class(&e.lines[i - 1], &e.lines[i]))
		{
			cl = &e.classes[e.nclass++];
			cl->item = e.lines[i].in->item;
			cl->price = e.lines[i].in->unit_price;
			cl->cats = e.lines[i].in->categories;
			cl->ncats = e.lines[i].in->ncategories;
			cl->first = i;
		}
		cl = &e.classes[e.nclass - 1];
		cl->nlines++;
		cl->count += e.lines[i].in->qty;
	}
	/* line numbers must be distinct */
	{
		int32_t    *nums = TMP(&e, e.nlines ? e.nlines : 1, int32_t);

		if (e.oom)
			goto oom;
		for (i = 0; i < e.nlines; i++)
		{
			size_t		j = i;

			while (j > 0 && nums[j - 1] > basket->lines[i].line)
			{
				nums[j] = nums[j - 1];
				j--;
			}
			nums[j] = basket->lines[i].line;
			if ((j > 0 && nums[j - 1] == nums[j]) ||
				(j + 1 <= i && nums[j + 1] == nums[j]))
			{
				promo_set_error(err, NULL, 0, 0, "line number %d appears twice",
								(int) basket->lines[i].line);
				mem_release(a, e.tmp);
				return PROMO_EINPUT;
			}
		}
	}

	/* relevant promotions (matching some class), canonical order */
	e.pr = TMP_RAW(&e, (npromos ? npromos : 1) * sizeof(ev_promo));
	mrow = TMP(&e, (size_t) MAXR * (e.nclass ? e.nclass : 1), unsigned char);
	mseen = TMP(&e, e.nclass ? e.nclass : 1, unsigned char);
	mlist = TMP_RAW(&e, (e.nclass ? e.nclass : 1) * sizeof(size_t));
	/* the first class of each item (1 + its index) */
	hmask = slot_mask(e.nclass);
	ihash = TMP(&e, hmask + 1, ev_slot);
	e.ctype = TMP_RAW(&e, (e.nclass ? e.nclass : 1) * sizeof(int));
	if (e.oom)
		goto oom;
	for (c = 0; c < e.nclass; c++)
		e.ctype[c] = -1;
	for (c = 0; c < e.nclass; c++)
		if (c == 0 || e.classes[c].item != e.classes[c - 1].item)
		{
			size_t		h = slot_find(ihash, hmask, e.classes[c].item);

			ihash[h].key = e.classes[c].item;
			ihash[h].val = c + 1;
		}
	for (i = 0; i < npromos; i++)
	{
		const promo_def *d = &promos[i];
		const promo_rule *r = d->rule;
		ev_promo   *p = &e.pr[e.np];	/* kept when relevant */
		int32_t		rsize[MAXR];
		const promo_match *rmatch[MAXR];	/* what each role takes */
		int			ri;
		size_t		j,
					ncls;

		p->state = NOT_SCOPED;
		p->searchable = false;
		p->nroles = 0;
		p->take = NULL;
		p->times = p->amount = p->spend_missing = 0;
		p->lost_to = 0;
		p->size = rsize;
		p->d = d;
		p->r = r;
		p->threshold = r->kind == PROMO_SPEND_THRESHOLD;
		switch (r->kind)
		{
			case PROMO_MULTIBUY:
				p->nroles = 1;
				p->size[0] = r->qty;
				rmatch[0] = &r->target;
				break;
			case PROMO_BUY_GET:
				rmatch[0] = &r->target;
				if (r->get_is_buy)
				{
					p->nroles = 1;
					p->size[0] = r->buy_qty + r->get_qty;
				}
				else
				{
					p->nroles = 2;
					p->size[0] = r->buy_qty;
					p->size[1] = r->get_qty;
					rmatch[1] = &r->get;
				}
				break;
			case PROMO_BUNDLE:

				/*
				 * Items with the same match are one role taking that many
				 * units ("two sandwiches and a drink"), in order of first
				 * appearance.
				 */
				for (j = 0; j < r->nitems; j++)
				{
					for (ri = 0; ri < p->nroles; ri++)
						if (bundle_same(rmatch[ri], &r->items[j]))
							break;
					if (ri == p->nroles)
					{
						rmatch[p->nroles] = &r->items[j];
						p->size[p->nroles++] = 0;
					}
					p->size[ri]++;
				}
				break;
			default:
				p->nroles = 1;
				p->size[0] = 1;
				rmatch[0] = &r->target;
				break;
		}
		/* which classes each role matches, into the scratch rows */
		memset(mrow, 0, (size_t) p->nroles * e.nclass);
		ncls = 0;
		for (ri = 0; ri < p->nroles; ri++)
		{
			const promo_match *m = rmatch[ri];

			if (m->kind == PROMO_MATCH_UPC && m->nids < e.nclass)
			{
				/* few codes: find their classes (sorted by item) */
				for (j = 0; j < m->nids; j++)
				{
					size_t		h = slot_find(ihash, hmask, m->ids[j]);

					if (ihash[h].val == 0)
						continue;
					for (c = ihash[h].val - 1; c < e.nclass && e.classes[c].item == m->ids[j]; c++)
					{
						if (!mseen[c])
							mlist[ncls++] = c;
						mseen[c] = 1;
						mrow[(size_t) ri * e.nclass + c] = 1;
					}
				}
				continue;
			}
			for (c = 0; c < e.nclass; c++)
				if (match_class(m, &e.classes[c]))
				{
					if (!mseen[c])
						mlist[ncls++] = c;
					mseen[c] = 1;
					mrow[(size_t) ri * e.nclass + c] = 1;
				}
		}
		if (ncls == 0)
			continue;
		/* relevant: keep its rows and its classes in ascending order */
		p->match = TMP_RAW(&e, (size_t) p->nroles * e.nclass);
		p->cls = TMP_RAW(&e, ncls * sizeof(size_t));
		p->size = TMP_RAW(&e, (size_t) p->nroles * sizeof(int32_t));
		if (e.oom)
			goto oom;
		memcpy(p->match, mrow, (size_t) p->nroles * e.nclass);
		memcpy(p->size, rsize, (size_t) p->nroles * sizeof(int32_t));
		for (j = 0; j < ncls; j++)
		{
			size_t		k = j;

			c = mlist[j];
			mseen[c] = 0;
			for (; k > 0 && p->cls[k - 1] > c; k--)
				p->cls[k] = p->cls[k - 1];
			p->cls[k] = c;
		}
		p->ncls = ncls;
		p->state = scope(d, basket);
		e.np++;
	}
	/*
	 * Canonical order (ids are checked distinct below); the server passes
	 * its candidates in that order already.
	 */
	for (q = 1; q < e.np; q++)
		if (!promo_before(e.pr[q - 1].d, e.pr[q].d))
			break;
	if (q < e.np)
		qsort(e.pr, e.np, sizeof(ev_promo), promo_cmp);
	/* promotion ids must be distinct */
	{
		size_t		mask = slot_mask(npromos);
		ev_slot    *ids = TMP(&e, mask + 1, ev_slot);

		if (e.oom)
			goto oom;
		for (i = 0; i < npromos; i++)
		{
			size_t		h = slot_find(ids, mask, promos[i].id);

			if (ids[h].val != 0)
			{
				promo_set_error(err, NULL, 0, 0, "promotion %d given twice",
								(int) promos[i].id);
				mem_release(a, e.tmp);
				return PROMO_EINPUT;
			}
			ids[h].key = promos[i].id;
			ids[h].val = 1;
		}
	}

	/* searchable item promotions: in scope, enough matching units per role */
	for (q = 0; q < e.np; q++)
	{
		ev_promo   *p = &e.pr[q];
		int			ri;
		bool		ok = p->state == NOT_SCOPED && !p->threshold;

		for (ri = 0; ri < p->nroles && ok; ri++)
		{
			int64_t		n = 0;
			size_t		k;

			for (k = 0; k < p->ncls; k++)
			{
				c = p->cls[k];
				if (role_wants(&e, p, ri, c))
					n += e.classes[c].count;
			}
			if (n < p->size[ri])
				ok = false;
		}
		p->searchable = ok;
		if (ok)
		{
			p->take = TMP(&e, (size_t) p->nroles * p->ncls, int64_t);
			if (e.oom)
				goto oom;
		}
	}

	/*
	 * Classes only unlimited per-unit promotions want: the best per-unit
	 * discount, ties to the canonical order.  Other classes join the
	 * connected groups (union-find over promotions sharing a class).
	 */
	parent = TMP(&e, e.np ? e.np : 1, size_t);
	{
		bool	   *in_search = TMP(&e, e.nclass ? e.nclass : 1, bool);
		size_t	   *cfrom = TMP(&e, e.nclass + 1, size_t),
				   *cfill = TMP(&e, e.nclass ? e.nclass : 1, size_t),
				   *gfrom = TMP(&e, e.np + 1, size_t),
				   *gcfrom = TMP(&e, e.np + 1, size_t),
				   *gfill = TMP(&e, e.np ? e.np : 1, size_t),
				   *lastc = TMP_RAW(&e, (e.np ? e.np : 1) * sizeof(size_t)),
				   *gpro = TMP_RAW(&e, (e.np ? e.np : 1) * sizeof(size_t)),
				   *cpro,
				   *gcls;
		bool	   *cwant;
		ev_promo  **P = TMP(&e, e.np ? e.np : 1, ev_promo *);
		size_t		nlink = 0,
					k;

		if (e.oom)
			goto oom;

		/*
		 * The searchable promotions matching each class, in canonical
		 * order (cpro[cfrom[c] ..]), and whether each wants it: a per-unit
		 * kind wants only the units it discounts.
		 */
		for (q = 0; q < e.np; q++)
			if (e.pr[q].searchable)
				for (k = 0; k < e.pr[q].ncls; k++)
				{
					cfrom[e.pr[q].cls[k] + 1]++;
					nlink++;
				}
		for (c = 0; c < e.nclass; c++)
			cfrom[c + 1] += cfrom[c];
		cpro = TMP_RAW(&e, (nlink ? nlink : 1) * sizeof(size_t));
		gcls = TMP_RAW(&e, (nlink ? nlink : 1) * sizeof(size_t));
		cwant = TMP_RAW(&e, nlink ? nlink : 1);
		if (e.oom)
			goto oom;
		for (q = 0; q < e.np; q++)
			if (e.pr[q].searchable)
				for (k = 0; k < e.pr[q].ncls; k++)
				{
					c = e.pr[q].cls[k];
					cpro[cfrom[c] + cfill[c]++] = q;
				}

		for (q = 0; q < e.np; q++)
			parent[q] = q;
		for (c = 0; c < e.nclass; c++)
		{
			bool		simple = true;
			size_t		best = SIZE_MAX,
						nwant = 0,
						first = SIZE_MAX;
			int64_t		bestv = 0;

			for (k = cfrom[c]; k < cfrom[c + 1]; k++)
			{
				ev_promo   *p = &e.pr[cpro[k]];
				int			ri;

				cwant[k] = false;
				for (ri = 0; ri < p->nroles; ri++)
					if (role_wants(&e, p, ri, c))
						cwant[k] = true;
				if (!cwant[k])
					continue;
				nwant++;
				if (!unit_kind(p->r->kind) || p->d->max_per_order > 0)
					simple = false;
				if (unit_value(p->r, e.classes[c].price) > bestv)
				{
					bestv = unit_value(p->r, e.classes[c].price);
					best = cpro[k];
				}
			}
			if (nwant == 0)
				continue;
			if (simple)
			{
				e.pr[best].take[cls_pos(&e.pr[best], c)] = e.classes[c].count;
				continue;
			}
			in_search[c] = true;
			/* union the promotions wanting this class (root: lowest) */
			for (k = cfrom[c]; k < cfrom[c + 1]; k++)
			{
				size_t		x,
							y;

				if (!cwant[k])
					continue;
				if (first == SIZE_MAX)
				{
					first = cpro[k];
					continue;
				}
				for (x = first; parent[x] != x; x = parent[x])
					;
				for (y = cpro[k]; parent[y] != y; y = parent[y])
					;
				if (x != y)
					parent[x > y ? x : y] = x < y ? x : y;
			}
		}

		/*
		 * One search per group (by its root, the lowest promotion), with
		 * its promotions and the classes in search they match, both in
		 * canonical order.
		 */
		for (q = 0; q < e.np; q++)
		{
			size_t		root = q;

			while (parent[root] != root)
				root = parent[root];
			parent[q] = root;
			lastc[q] = SIZE_MAX;
			if (e.pr[q].searchable)
				gfrom[root + 1]++;
		}
		for (c = 0; c < e.nclass; c++)
			if (in_search[c])
				for (k = cfrom[c]; k < cfrom[c + 1]; k++)
				{
					size_t		root = parent[cpro[k]];

					if (lastc[root] != c)
					{
						lastc[root] = c;
						gcfrom[root + 1]++;
					}
				}
		for (q = 0; q < e.np; q++)
		{
			gfrom[q + 1] += gfrom[q];
			gcfrom[q + 1] += gcfrom[q];
			lastc[q] = SIZE_MAX;
		}
		for (q = 0; q < e.np; q++)
			if (e.pr[q].searchable)
				gpro[gfrom[parent[q]] + gfill[parent[q]]++] = q;
		memset(gfill, 0, (e.np ? e.np : 1) * sizeof(size_t));
		for (c = 0; c < e.nclass; c++)
			if (in_search[c])
				for (k = cfrom[c]; k < cfrom[c + 1]; k++)
				{
					size_t		root = parent[cpro[k]];

					if (lastc[root] != c)
					{
						lastc[root] = c;
						gcls[gcfrom[root] + gfill[root]++] = c;
					}
				}
		for (q = 0; q < e.np; q++)
		{
			size_t		np = gfrom[q + 1] - gfrom[q],
						ncls = gcfrom[q + 1] - gcfrom[q];

			if (parent[q] != q || !e.pr[q].searchable || ncls == 0)
				continue;
			for (k = 0; k < np; k++)
				P[k] = &e.pr[gpro[gfrom[q] + k]];
			solve_component(&e, P, (int) np, gcls + gcfrom[q], ncls);
			if (e.oom)
				goto oom;
		}
	}

	/* materialise item promotions in canonical order */
	{
		ev_seg	   *buf = TMP(&e, (size_t) MAXR * (e.nclass ? e.nclass : 1), ev_seg);

		if (e.oom)
			goto oom;
		for (q = 0; q < e.np; q++)
		{
			ev_promo   *p = &e.pr[q];
			ev_seg	   *segs[MAXR];
			size_t		nsegs[MAXR];
			int			ri;
			size_t		before = e.nent;
			size_t		j,
						k;

			if (!p->searchable)
				continue;
			for (ri = 0; ri < p->nroles; ri++)
			{
				segs[ri] = buf + (size_t) ri * e.nclass;
				nsegs[ri] = 0;
				for (j = 0; j < p->ncls; j++)
				{
					int64_t		n;

					c = p->cls[j];
					n = p->take[(size_t) ri * p->ncls + j];
					if (n <= 0)
						continue;
					/* insert by price descending, class order on ties */
					for (k = nsegs[ri]; k > 0 && segs[ri][k - 1].price < e.classes[c].price; k--)
						segs[ri][k] = segs[ri][k - 1];
					segs[ri][k].price = e.classes[c].price;
					segs[ri][k].count = n;
					segs[ri][k].ref = c;
					nsegs[ri]++;
				}
			}
			promo_groups(&e, p, segs, nsegs, true, INT64_MAX, &p->times);
			if (e.oom)
				goto oom;
			for (k = before; k < e.nent; k++)
				p->amount += e.ent[k].amount;
		}
	}

	for (q = 0; q < e.np; q++)
		explain_not_applied(&e, &e.pr[q]);
	apply_thresholds(&e);
	if (e.oom)
		goto oom;
	build_result(&e, result);
	if (e.oom)
		goto oom;
	result->approximate = e.approximate;
	result->gap = e.approximate ? e.gap : 0;
	result->nodes = e.nodes;
	result->mem = e.res;
	mem_release(a, e.tmp);
	return PROMO_OK;

oom:
	mem_release(a, e.tmp);
	mem_release(a, e.res);
	memset(result, 0, sizeof(*result));
	promo_set_error(err, NULL, 0, 0, "out of memory while pricing the basket");
	return PROMO_ENOMEM;
}

void
promo_result_free(promo_result *result, const promo_alloc *a)
{
	mem_release(a, (ev_mem *) result->mem);
	memset(result, 0, sizeof(*result));
}
