/*
 * stock_slots.c: libFuzzer target for src/core/stock_slots.c, the
 * arithmetic that spreads one product's stock over slot rows.
 *
 * Input: byte 0 = number of slots (0 .. STOCK_MAX_SLOTS), 8 bytes of
 * process id, 4 bytes of quantity (an int32, as the server passes), then 5
 * bytes per slot level (a signed 40-bit level: a slot row's on_hand minus
 * reserved, both int4).  The whole input is also read as the text of the
 * icos.stock_slots setting.  Invariants:
 *	- the setting always yields 1 .. STOCK_MAX_SLOTS slots;
 *	- the preferred slot of any process id is a slot;
 *	- a picked slot covers the quantity, and -1 means no slot does;
 *	- a take takes exactly qty, never more than a slot has, never from an
 *	  empty slot, and is refused (all zero) only when the slots hold less;
 *	  the touched slots end within one unit of each other, no lower than
 *	  any untouched slot's level (fullest first);
 *	- an add adds exactly qty, nothing negative, emptiest slots first.
 */
#include <string.h>

#include "stock_slots.h"
#include "fuzz.h"

static int64_t
clamp0(int64_t v)
{
	return v < 0 ? 0 : v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_reader in;
	int64_t		level[STOCK_MAX_SLOTS],
				take[STOCK_MAX_SLOTS],
				add[STOCK_MAX_SLOTS];
	int64_t		sum = 0,
				total,
				qty;
	long		pid;
	int			n,
				i,
				j,
				pref,
				pick;
	char	   *text;
	bool		took;

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	n = stock_parse_slots(text);
	CHECK(n >= 1 && n <= STOCK_MAX_SLOTS, "setting gives %d slots", n);
	free(text);

	fuzz_reader_init(&in, data, size);
	n = fuzz_u8(&in) % (STOCK_MAX_SLOTS + 1);
	pid = (long) fuzz_u64(&in, 8);
	qty = (int32_t) (uint32_t) fuzz_u64(&in, 4);
	for (i = 0; i < n; i++)
	{
		uint64_t	u = fuzz_u64(&in, 5);

		level[i] = (int64_t) (u << 24) >> 24;	/* sign-extend 40 bits */
		sum += clamp0(level[i]);
	}

	pref = stock_preferred_slot(pid, n);
	CHECK(pref >= 0 && (n == 0 ? pref == 0 : pref < n), "preferred slot %d of %d", pref, n);

	pick = stock_pick_slot(level, n, pref, qty);
	if (pick >= 0)
		CHECK(pick < n && clamp0(level[pick]) >= qty, "picked slot %d cannot cover %lld",
			  pick, (long long) qty);
	else
		for (i = 0; i < n; i++)
			CHECK(clamp0(level[i]) < qty, "slot %d covers %lld but none was picked", i,
				  (long long) qty);

	took = stock_level_take(level, n, qty, take);
	total = 0;
	for (i = 0; i < n; i++)
	{
		CHECK(take[i] >= 0 && take[i] <= clamp0(level[i]), "take %lld from level %lld",
			  (long long) take[i], (long long) level[i]);
		total += take[i];
	}
	if (qty <= 0)
		CHECK(took && total == 0, "a take of %lld", (long long) qty);
	else if (sum < qty)
		CHECK(!took && total == 0, "took %lld of %lld from %lld", (long long) total,
			  (long long) qty, (long long) sum);
	else
	{
		CHECK(took && total == qty, "took %lld of %lld", (long long) total, (long long) qty);
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++)
			{
				int64_t		after_i = clamp0(level[i]) - take[i];
				int64_t		after_j = clamp0(level[j]) - take[j];

				if (take[i] == 0)
					continue;
				/* touched slots end within one unit of each other */
				if (take[j] > 0)
					CHECK(after_i + 1 >= after_j, "slot %d ends at %lld, slot %d at %lld",
						  i, (long long) after_i, j, (long long) after_j);
				/* and (fullest first) no lower than an untouched slot, less one */
				else
					CHECK(after_i + 1 >= clamp0(level[j]),
						  "slot %d taken down to %lld below untouched slot %d at %lld",
						  i, (long long) after_i, j, (long long) level[j]);
			}
	}

	stock_level_add(level, n, qty, add);
	total = 0;
	for (i = 0; i < n; i++)
	{
		CHECK(add[i] >= 0, "add %lld", (long long) add[i]);
		total += add[i];
	}
	CHECK(total == (qty > 0 && n > 0 ? qty : 0), "added %lld of %lld", (long long) total,
		  (long long) qty);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (add[i] > 0)
				CHECK(clamp0(level[i]) + add[i] <= clamp0(level[j]) + add[j] + 1,
					  "slot %d filled to %lld above slot %d at %lld", i,
					  (long long) (clamp0(level[i]) + add[i]), j,
					  (long long) (clamp0(level[j]) + add[j]));
	return 0;
}
