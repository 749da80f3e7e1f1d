/*
 * sales_agg.c: libFuzzer target for the reporting aggregate states
 * (src/core/sales_agg.c).  Their deserialise functions read a bytea that
 * PostgreSQL hands between parallel workers, and that a superuser can also
 * pass by hand: malformed input must be refused, never misread.
 *
 * Byte 0 picks a mode, byte 1 may make one allocation fail:
 *	0, 1  the rest is a serialised sales_summary (0) or top_sellers (1)
 *		  state.  A refused state leaves nothing allocated; an accepted one
 *		  is canonical (serialising it again gives the same bytes), combines
 *		  into an empty state unchanged, and (top_sellers) ranks at most k
 *		  items by quantity descending, ties by code ascending.
 *	2, 3  the rest is a list of rows for sales_summary (2) or top_sellers (3),
 *		  split between two partial states: adding every row to one state
 *		  and combining the two partial states give the same serialised
 *		  state, which deserialises back to itself.
 * No allocation is leaked in any mode.
 */
#include <string.h>

#include "sales_agg.h"
#include "gtin.h"
#include "fuzz.h"

static const sa_allocator A = {fuzz_alloc, fuzz_free, NULL};

static uint8_t *
summary_bytes(const sa_summary *s, size_t *len)
{
	uint8_t    *buf;

	*len = sa_summary_serial_size(s);
	buf = malloc(*len);
	CHECK(sa_summary_serialize(s, &A, buf) == SA_OK, "serialize failed");
	return buf;
}

static uint8_t *
top_bytes(const sa_top *t, size_t *len)
{
	uint8_t    *buf;

	*len = sa_top_serial_size(t);
	buf = malloc(*len);
	CHECK(sa_top_serialize(t, &A, buf) == SA_OK, "serialize failed");
	return buf;
}

static void
check_summary_state(const uint8_t *buf, size_t len)
{
	sa_summary s,
				c;
	sa_summary_result r;
	sa_status	st = sa_summary_deserialize(&s, &A, buf, len);
	uint8_t    *again;
	size_t		alen;

	if (st != SA_OK)
	{
		CHECK(fuzz_live == 0, "refused state (%s) leaks %ld blocks", sa_strerror(st), fuzz_live);
		CHECK(st != SA_NO_MEMORY || fuzz_fail_at >= 0, "no memory without a failing allocation");
		CHECK(sa_strerror(st) != NULL, "no message for status %d", (int) st);
		return;
	}
	fuzz_fail_at = -1;
	again = summary_bytes(&s, &alen);
	CHECK(alen == len && memcmp(again, buf, len) == 0, "accepted summary is not canonical");
	free(again);
	sa_summary_result_of(&s, &r);
	CHECK(r.orders >= 0 && r.orders <= r.lines, "orders %lld lines %lld",
		  (long long) r.orders, (long long) r.lines);
	CHECK(r.has_basket == (r.orders > 0), "has_basket");

	sa_summary_init(&c);
	CHECK(sa_summary_combine(&c, &A, &s) == SA_OK, "combine into empty failed");
	again = summary_bytes(&c, &alen);
	CHECK(alen == len && memcmp(again, buf, len) == 0, "combined summary differs");
	free(again);
	sa_summary_free(&c, &A);
	sa_summary_free(&s, &A);
}

static void
check_top_state(const uint8_t *buf, size_t len)
{
	sa_top		t,
				c;
	sa_status	st = sa_top_deserialize(&t, &A, buf, len);
	uint8_t    *again;
	size_t		alen;
	sa_top_item *scratch,
			   *out;
	uint32_t	n,
				i,
				want;

	if (st != SA_OK)
	{
		CHECK(fuzz_live == 0, "refused state (%s) leaks %ld blocks", sa_strerror(st), fuzz_live);
		CHECK(st != SA_NO_MEMORY || fuzz_fail_at >= 0, "no memory without a failing allocation");
		return;
	}
	fuzz_fail_at = -1;
	again = top_bytes(&t, &alen);
	CHECK(alen == len && memcmp(again, buf, len) == 0, "accepted top state is not canonical");
	free(again);

	scratch = malloc(sizeof(sa_top_item) * (t.items.n + 1));
	out = malloc(sizeof(sa_top_item) * (t.items.n + 1));
	n = sa_top_result(&t, scratch, out);
	want = t.items.n < (uint32_t) t.k ? t.items.n : (uint32_t) t.k;
	CHECK(n == want, "%u best sellers of %u with k %d", n, t.items.n, t.k);
	for (i = 0; i < n; i++)
	{
		int64_t		q;

		CHECK(sa_map_get(&t.items, out[i].key, &q) && q == out[i].qty, "item %u not in the state", i);
		CHECK(i == 0 || out[i - 1].qty > out[i].qty ||
			  (out[i - 1].qty == out[i].qty && out[i - 1].key < out[i].key),
			  "ranking out of order at %u", i);
	}
	free(scratch);
	free(out);

	if (t.k > 0)
	{
		sa_top_init(&c);
		CHECK(sa_top_combine(&c, &A, &t) == SA_OK, "combine into empty failed");
		again = top_bytes(&c, &alen);
		CHECK(alen == len && memcmp(again, buf, len) == 0, "combined top state differs");
		free(again);
		sa_top_free(&c, &A);
	}
	sa_top_free(&t, &A);
}

/* A valid GTIN-14 number from input bytes (few distinct ones). */
static uint64_t
fuzz_upc(fuzz_reader *in)
{
	int64_t		v = 5000000000000 + (int64_t) fuzz_u8(in) * 10;
	int			e,
				f;

	if (gtin_validate(v, &e, &f) != GTIN_OK)
		v = v - f + e;
	return (uint64_t) v;
}

static int64_t
fuzz_amount(fuzz_reader *in)
{
	uint8_t		b = fuzz_u8(in);

	if (b == 255)
		return (int64_t) fuzz_u64(in, 8);	/* anything, to reach overflow */
	return (int64_t) b - 20;
}

static void
check_rows(fuzz_reader *in, bool summary)
{
	sa_summary all,
				part[2];
	sa_top		tall,
				tpart[2];
	bool		ok = true;
	int			i;
	uint8_t    *x,
			   *y;
	size_t		xl,
				yl;

	fuzz_fail_at = -1;
	sa_summary_init(&all);
	sa_top_init(&tall);
	for (i = 0; i < 2; i++)
	{
		sa_summary_init(&part[i]);
		sa_top_init(&tpart[i]);
	}
	while (fuzz_remaining(in) > 0 && ok)
	{
		uint8_t		b = fuzz_u8(in);
		int			p = b & 1;

		if (summary)
		{
			uint64_t	order = (b & 2) ? fuzz_u64(in, 7) % SA_ORDER_KEY_LIMIT : fuzz_u8(in) % 16;
			int64_t		u = fuzz_amount(in),
						g = fuzz_amount(in),
						d = fuzz_amount(in),
						n = fuzz_amount(in),
						r = fuzz_amount(in);

			ok = sa_summary_add(&all, &A, order, u, g, d, n, r) == SA_OK &&
				sa_summary_add(&part[p], &A, order, u, g, d, n, r) == SA_OK;
		}
		else
		{
			uint64_t	upc = fuzz_upc(in);
			int64_t		q = fuzz_amount(in);

			ok = sa_top_add(&tall, &A, upc, q, 10) == SA_OK &&
				sa_top_add(&tpart[p], &A, upc, q, 10) == SA_OK;
		}
	}
	if (ok)
	{
		if (summary)
		{
			ok = sa_summary_combine(&part[0], &A, &part[1]) == SA_OK;
			if (ok)
			{
				x = summary_bytes(&all, &xl);
				y = summary_bytes(&part[0], &yl);
				CHECK(xl == yl && memcmp(x, y, xl) == 0, "combined partial summaries differ");
				free(y);
				check_summary_state(x, xl);
				free(x);
			}
		}
		else if (tpart[0].k > 0 && tpart[1].k > 0)
		{
			ok = sa_top_combine(&tpart[0], &A, &tpart[1]) == SA_OK;
			if (ok)
			{
				x = top_bytes(&tall, &xl);
				y = top_bytes(&tpart[0], &yl);
				CHECK(xl == yl && memcmp(x, y, xl) == 0, "combined partial top states differ");
				free(y);
				check_top_state(x, xl);
				free(x);
			}
		}
	}
	sa_summary_free(&all, &A);
	sa_top_free(&tall, &A);
	for (i = 0; i < 2; i++)
	{
		sa_summary_free(&part[i], &A);
		sa_top_free(&tpart[i], &A);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *buf;
	fuzz_reader in;

	if (size < 2)
		return 0;
	fuzz_live = fuzz_nalloc = 0;
	fuzz_fail_at = data[1] < 8 ? data[1] : -1;
	/* an exact-size copy, so that reading one byte too far is caught */
	buf = malloc(size - 2 ? size - 2 : 1);
	memcpy(buf, data + 2, size - 2);
	switch (data[0] % 4)
	{
		case 0:
			check_summary_state(buf, size - 2);
			break;
		case 1:
			check_top_state(buf, size - 2);
			break;
		default:
			fuzz_reader_init(&in, data + 2, size - 2);
			check_rows(&in, data[0] % 4 == 2);
			break;
	}
	free(buf);
	CHECK(fuzz_live == 0, "%ld blocks leaked", fuzz_live);
	return 0;
}
