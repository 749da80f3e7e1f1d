/*
 * Unit tests of src/core/stock_slots.c: slot choice and the spreading of a
 * quantity over split stock rows.  The spreading functions are checked
 * against a unit-by-unit reference on many pseudo-random cases.
 */
#include "tap.h"
#include "stock_slots.h"

#include <limits.h>
#include <string.h>

/* Reference: take one unit at a time from the fullest slot (lowest index on ties). */
static int
ref_take(const int64_t *level, int n, int64_t qty, int64_t *take)
{
	int64_t		cur[STOCK_MAX_SLOTS];
	int			i;

	for (i = 0; i < n; i++)
	{
		cur[i] = level[i] < 0 ? 0 : level[i];
		take[i] = 0;
	}
	while (qty-- > 0)
	{
		int			best = -1;

		for (i = 0; i < n; i++)
			if (cur[i] > 0 && (best < 0 || cur[i] > cur[best]))
				best = i;
		if (best < 0)
		{
			for (i = 0; i < n; i++)
				take[i] = 0;
			return 0;
		}
		cur[best]--;
		take[best]++;
	}
	return 1;
}

/* Reference: add one unit at a time to the emptiest slot (lowest index on ties). */
static void
ref_add(const int64_t *level, int n, int64_t qty, int64_t *add)
{
	int64_t		cur[STOCK_MAX_SLOTS];
	int			i;

	for (i = 0; i < n; i++)
	{
		cur[i] = level[i] < 0 ? 0 : level[i];
		add[i] = 0;
	}
	while (qty-- > 0)
	{
		int			best = 0;

		for (i = 1; i < n; i++)
			if (cur[i] < cur[best])
				best = i;
		cur[best]++;
		add[best]++;
	}
}

static uint32_t rng = 12345;

static uint32_t
next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) & 0xffffff;
}

int
main(void)
{
	int64_t		lv[8] = {3, 0, 5, 1, 5, 2, 0, 4};
	int64_t		out[STOCK_MAX_SLOTS],
				ref[STOCK_MAX_SLOTS];
	int			i,
				k,
				bad_take = 0,
				bad_add = 0,
				bad_sum = 0;
	int64_t		sum;

	ok(stock_preferred_slot(1234, 8) == 1234 % 8, "preferred slot is pid modulo slots");
	ok(stock_preferred_slot(77, 1) == 0, "one slot: always slot 0");
	ok(stock_preferred_slot(-5, 4) == 1, "negative pid does not give a negative slot");
	/* found by test/fuzz/stock_slots.c: -LONG_MIN overflowed (undefined) */
	ok(stock_preferred_slot(LONG_MIN, 8) == 0 && stock_preferred_slot(LONG_MIN, 7) == 1,
	   "the most negative pid gives |pid| modulo slots without overflow");

	ok(stock_parse_slots(NULL) == STOCK_DEFAULT_SLOTS, "no setting: default slots");
	ok(stock_parse_slots("") == STOCK_DEFAULT_SLOTS, "empty setting: default slots");
	ok(stock_parse_slots("16") == 16, "setting 16 gives 16 slots");
	ok(stock_parse_slots("0") == 1, "setting 0 is clamped to 1");
	ok(stock_parse_slots("1000") == STOCK_MAX_SLOTS, "setting 1000 is clamped to the maximum");
	ok(stock_parse_slots("eight") == STOCK_DEFAULT_SLOTS, "malformed setting: default slots");

	ok(stock_pick_slot(lv, 8, 0, 3) == 0, "pick: preferred slot 0 has 3, enough for 3");
	ok(stock_pick_slot(lv, 8, 1, 3) == 2, "pick: slot 1 is empty, walks on to slot 2");
	ok(stock_pick_slot(lv, 8, 6, 4) == 7, "pick: from slot 6 the first with 4 is slot 7");
	ok(stock_pick_slot(lv, 8, 7, 5) == 2, "pick: walks round from slot 7 to slot 2");
	ok(stock_pick_slot(lv, 8, 0, 6) == -1, "pick: no single slot has 6");
	ok(stock_pick_slot(lv, 0, 0, 1) == -1, "pick: no slots at all");

	ok(stock_level_take(lv, 8, 4, out) &&
	   out[2] == 2 && out[4] == 2 && out[7] == 0 && out[0] == 0,
	   "take 4 from {3,0,5,1,5,2,0,4}: 2 each from the two fives");
	ok(stock_level_take(lv, 8, 20, out), "take all 20 units");
	for (sum = 0, i = 0; i < 8; i++)
		sum += out[i];
	ok(sum == 20 && out[1] == 0 && out[6] == 0, "taking all 20 empties every slot");
	ok(!stock_level_take(lv, 8, 21, out) && out[0] == 0 && out[2] == 0,
	   "take 21 of 20 fails and takes nothing");

	stock_level_add(lv, 8, 3, out);
	ok(out[1] == 2 && out[6] == 1 && out[3] == 0 && out[0] == 0,
	   "add 3 to {3,0,5,1,5,2,0,4}: slots 1 and 6 to 1, then the lower of 1, 3, 6 to 2");
	stock_level_add(lv, 8, 100, out);
	for (sum = 0, i = 0; i < 8; i++)
		sum += out[i];
	ok(sum == 100, "adding 100 adds exactly 100");

	{
		int64_t		neg[3] = {-2, 4, 1};

		ok(stock_level_take(neg, 3, 5, out) && out[0] == 0 && out[1] == 4 && out[2] == 1,
		   "a negative level is treated as empty and never taken from");
	}

	/* Against the unit-by-unit references on random cases. */
	for (k = 0; k < 3000; k++)
	{
		int			n = 1 + next_rand() % 12;
		int64_t		level[STOCK_MAX_SLOTS];
		int64_t		qty,
					total = 0;
		int			r1,
					r2;

		for (i = 0; i < n; i++)
		{
			level[i] = next_rand() % 20;
			total += level[i];
		}
		qty = next_rand() % (total + 5);
		r1 = stock_level_take(level, n, qty, out);
		r2 = ref_take(level, n, qty, ref);
		if (r1 != r2)
			bad_take++;
		else if (r1)
		{
			int64_t		s = 0,
						mx_out = 0,
						mx_ref = 0;

			/* Same multiset of final levels (ties may be broken differently). */
			for (i = 0; i < n; i++)
			{
				s += out[i];
				if (out[i] < 0 || out[i] > level[i])
					bad_take++;
				if (level[i] - out[i] > mx_out)
					mx_out = level[i] - out[i];
				if (level[i] - ref[i] > mx_ref)
					mx_ref = level[i] - ref[i];
			}
			if (s != qty)
				bad_sum++;
			if (mx_out != mx_ref)
				bad_take++;
		}

		qty = next_rand() % 50;
		stock_level_add(level, n, qty, out);
		ref_add(level, n, qty, ref);
		if (memcmp(out, ref, sizeof(int64_t) * n) != 0)
			bad_add++;
	}
	ok(bad_take == 0, "take agrees with the unit-by-unit reference (%d mismatches)", bad_take);
	ok(bad_sum == 0, "take always takes exactly the quantity (%d mismatches)", bad_sum);
	ok(bad_add == 0, "add agrees with the unit-by-unit reference (%d mismatches)", bad_add);

	return done_testing();
}
