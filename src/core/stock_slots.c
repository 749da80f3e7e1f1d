/*-------------------------------------------------------------------------
 *
 * stock_slots.c
 *	  Server-free arithmetic of split stock rows (see stock_slots.h).
 *
 * Both spreading functions work with a threshold instead of unit by unit, so
 * they cost O(nslots * log(level)) whatever the quantity.
 *
 *-------------------------------------------------------------------------
 */
#include "stock_slots.h"

#include <stdlib.h>

static int64_t
clamp0(int64_t v)
{
	return v < 0 ? 0 : v;
}

int
stock_preferred_slot(long pid, int nslots)
{
	unsigned long upid;

	if (nslots <= 1)
		return 0;
	/* negate in unsigned arithmetic: -LONG_MIN does not fit in a long */
	upid = pid < 0 ? 0UL - (unsigned long) pid : (unsigned long) pid;
	return (int) (upid % (unsigned long) nslots);
}

int
stock_parse_slots(const char *text)
{
	char	   *end;
	long		v;

	if (text == NULL || *text == '\0')
		return STOCK_DEFAULT_SLOTS;
	v = strtol(text, &end, 10);
	while (*end == ' ')
		end++;
	if (*end != '\0')
		return STOCK_DEFAULT_SLOTS;
	if (v < 1)
		return 1;
	if (v > STOCK_MAX_SLOTS)
		return STOCK_MAX_SLOTS;
	return (int) v;
}

int
stock_pick_slot(const int64_t *level, int nslots, int pref, int64_t qty)
{
	int			i;

	if (nslots <= 0)
		return -1;
	if (pref < 0 || pref >= nslots)
		pref = 0;
	for (i = 0; i < nslots; i++)
	{
		int			s = (pref + i) % nslots;

		if (clamp0(level[s]) >= qty)
			return s;
	}
	return -1;
}

/* What taking down to threshold t yields: sum of (level - t) above t. */
static int64_t
above(const int64_t *level, int nslots, int64_t t)
{
	int64_t		sum = 0;
	int			i;

	for (i = 0; i < nslots; i++)
		if (clamp0(level[i]) > t)
			sum += clamp0(level[i]) - t;
	return sum;
}

bool
stock_level_take(const int64_t *level, int nslots, int64_t qty, int64_t *take)
{
	int64_t		lo,
				hi,
				excess;
	int			i;

	for (i = 0; i < nslots; i++)
		take[i] = 0;
	if (qty <= 0)
		return true;
	if (above(level, nslots, 0) < qty)
		return false;

	/* Largest threshold t with above(t) >= qty; above(0) >= qty holds. */
	lo = 0;
	hi = 0;
	for (i = 0; i < nslots; i++)
		if (clamp0(level[i]) > hi)
			hi = clamp0(level[i]);
	while (lo < hi)
	{
		int64_t		mid = lo + (hi - lo + 1) / 2;

		if (above(level, nslots, mid) >= qty)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (i = 0; i < nslots; i++)
		if (clamp0(level[i]) > lo)
			take[i] = clamp0(level[i]) - lo;

	/*
	 * Down to lo we take a little too much: fewer than the number of slots
	 * above lo (else lo + 1 would have been enough).  Give one unit back to
	 * that many of them, the highest slot numbers first.
	 */
	excess = above(level, nslots, lo) - qty;
	for (i = nslots - 1; i >= 0 && excess > 0; i--)
		if (take[i] > 0)
		{
			take[i]--;
			excess--;
		}
	return true;
}

/* What filling up to threshold t needs: sum of (t - level) below t. */
static int64_t
below(const int64_t *level, int nslots, int64_t t)
{
	int64_t		sum = 0;
	int			i;

	for (i = 0; i < nslots; i++)
		if (clamp0(level[i]) < t)
			sum += t - clamp0(level[i]);
	return sum;
}

void
stock_level_add(const int64_t *level, int nslots, int64_t qty, int64_t *add)
{
	int64_t		lo,
				hi,
				excess;
	int			i;

	for (i = 0; i < nslots; i++)
		add[i] = 0;
	if (qty <= 0 || nslots <= 0)
		return;

	/* Smallest threshold t with below(t) >= qty. */
	lo = 0;
	hi = 0;
	for (i = 0; i < nslots; i++)
		if (clamp0(level[i]) > hi)
			hi = clamp0(level[i]);
	hi += qty;
	while (lo < hi)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (below(level, nslots, mid) >= qty)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (i = 0; i < nslots; i++)
		if (clamp0(level[i]) < lo)
			add[i] = lo - clamp0(level[i]);

	/*
	 * Filling to lo needs a little more than qty: fewer units than the slots
	 * below lo.  Take one back from that many, highest slot numbers first, so
	 * ties favour the lower slot numbers.
	 */
	excess = below(level, nslots, lo) - qty;
	for (i = nslots - 1; i >= 0 && excess > 0; i--)
		if (add[i] > 0)
		{
			add[i]--;
			excess--;
		}
}
