/*
 * Unit tests of src/core/sales_agg.c: the states of icos.sales_summary and
 * icos.top_sellers, their combination, serialization and the validation of
 * malformed serialized states.
 */
#include <stdlib.h>
#include <string.h>

#include "sales_agg.h"
#include "gtin.h"
#include "tap.h"

/* malloc allocator that counts live blocks and can be told to fail. */
static long live_blocks = 0;
static long fail_after = -1;

static void *
t_alloc(void *ctx, size_t size)
{
	void	   *p;

	(void) ctx;
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	p = malloc(size ? size : 1);
	if (p)
		live_blocks++;
	return p;
}

static void
t_release(void *ctx, void *p)
{
	(void) ctx;
	live_blocks--;
	free(p);
}

static const sa_allocator A = {t_alloc, t_release, NULL};

static uint32_t rng = 2024;

static uint32_t
next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) & 0xffffff;
}

/* A valid GTIN-14 from a 13-digit body. */
static uint64_t
upc_of(uint64_t body)
{
	char		d[14];
	int			i;
	uint64_t	b = body;

	for (i = 12; i >= 0; i--)
	{
		d[i] = (char) ('0' + b % 10);
		b /= 10;
	}
	return body * 10 + (uint64_t) gtin_check_digit(d, 13);
}

static int64_t
top_qty(const sa_top *t, uint64_t key)
{
	int64_t		v = -999;

	sa_map_get(&t->items, key, &v);
	return v;
}

int
main(void)
{
	sa_summary s,
				s2,
				s3;
	sa_summary_result r;
	sa_top		t,
				t2,
				t3;
	sa_top_item scratch[64],
				best[64];
	sa_map		m;
	uint8_t    *buf;
	size_t		len;
	uint32_t	i,
				n;
	int			bad;
	uint64_t	u1 = upc_of(501234567890ULL),
				u2 = upc_of(501234567891ULL),
				u3 = upc_of(501234567892ULL);

	/* ---- hash table ---- */
	sa_map_init(&m);
	ok(!sa_map_get(&m, 5, NULL), "empty map has no key");
	for (bad = 0, i = 0; i < 10000; i++)
		if (sa_map_add(&m, &A, (uint64_t) i * 7919, (int64_t) i) != SA_OK)
			bad++;
	ok(bad == 0 && m.n == 10000, "10000 distinct keys added (n=%u)", m.n);
	for (bad = 0, i = 0; i < 10000; i++)
	{
		int64_t		v;

		if (!sa_map_get(&m, (uint64_t) i * 7919, &v) || v != (int64_t) i)
			bad++;
	}
	ok(bad == 0, "every key found with its value after growing");
	ok(sa_map_add(&m, &A, 7919, 5) == SA_OK && m.n == 10000, "adding to an existing key keeps n");
	ok(sa_map_add(&m, &A, SA_EMPTY_KEY, 1) == SA_BAD_KEY, "the empty-slot marker is refused as a key");
	ok(sa_map_add(&m, &A, 0, INT64_MAX) == SA_OK && sa_map_add(&m, &A, 0, 1) == SA_OVERFLOW,
	   "int64 overflow of a sum is reported");
	sa_map_free(&m, &A);
	ok(live_blocks == 0, "map frees all its memory");

	/* ---- sales_summary ---- */
	sa_summary_init(&s);
	sa_summary_result_of(&s, &r);
	ok(r.orders == 0 && r.lines == 0 && !r.has_basket, "empty summary: no orders, no basket");
	ok(sa_summary_add(&s, &A, 100, 2, 2000, 200, 1800, 0) == SA_OK, "add line of order 100");
	ok(sa_summary_add(&s, &A, 100, 1, 500, 0, 0, 500) == SA_OK, "add second line of order 100");
	ok(sa_summary_add(&s, &A, 200, 3, 999, 0, 999, 0) == SA_OK, "add line of order 200");
	ok(sa_summary_add(&s, &A, SA_ORDER_KEY_LIMIT, 1, 1, 0, 1, 0) == SA_BAD_KEY,
	   "an order key beyond 55 bits is refused");
	sa_summary_result_of(&s, &r);
	ok(r.orders == 2 && r.lines == 3 && r.units == 6, "2 orders, 3 lines, 6 units");
	ok(r.gross == 3499 && r.discount == 200 && r.net == 2799 && r.returns == 500,
	   "sums: gross 3499 discount 200 net 2799 returns 500");
	ok(r.has_basket && r.basket_num == 1400, "average basket 2799/2 rounds half up to 1400 (got %lld)",
	   (long long) r.basket_num);
	ok(sa_average_pence(1000, 3) == 333 && sa_average_pence(2000, 3) == 667 &&
	   sa_average_pence(-2000, 3) == -667 && sa_average_pence(-1, 2) == -1 &&
	   sa_average_pence(INT64_MAX, 2) == INT64_MAX / 2 + 1,
	   "average rounds half away from zero without overflow");

	/* serialize round trip */
	len = sa_summary_serial_size(&s);
	ok(len == SA_SUMMARY_HEADER + 16, "serialized size: header + 2 keys");
	buf = malloc(len + 1);
	ok(sa_summary_serialize(&s, &A, buf + 1) == SA_OK, "serialize into an unaligned buffer");
	ok(sa_summary_deserialize(&s2, &A, buf + 1, len) == SA_OK, "deserialize");
	sa_summary_result_of(&s2, &r);
	ok(r.orders == 2 && r.lines == 3 && r.units == 6 && r.gross == 3499 && r.net == 2799 &&
	   r.returns == 500 && r.discount == 200, "round trip keeps every figure");
	ok(sa_map_get(&s2.orders, 100, NULL) && sa_map_get(&s2.orders, 200, NULL),
	   "round trip keeps the order set");

	/* malformed states */
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len - 1) == SA_BAD_LENGTH, "truncated: bad length");
	ok(sa_summary_deserialize(&s3, &A, buf + 1, 10) == SA_BAD_LENGTH, "shorter than the header");
	buf[1] ^= 1;
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len) == SA_BAD_MAGIC, "wrong magic");
	buf[1] ^= 1;
	buf[5] = 9;
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len) == SA_BAD_VERSION, "unknown version");
	buf[5] = 1;
	/* key count claims 3 */
	buf[1 + 56] = 3;
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len) == SA_BAD_LENGTH, "count larger than the data");
	buf[1 + 56] = 0xff;
	buf[1 + 57] = 0xff;
	buf[1 + 58] = 0xff;
	buf[1 + 59] = 0xff;
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len) == SA_TOO_MANY_KEYS, "absurd count refused before allocating");
	memset(buf + 1 + 56, 0, 8);
	buf[1 + 56] = 2;
	/* duplicate key: second key equal to the first */
	memcpy(buf + 1 + 72, buf + 1 + 64, 8);
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len) == SA_BAD_ORDER, "duplicate order key refused");
	buf[1 + 79] = 0x7f;
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len) == SA_BAD_KEY, "order key out of range refused");
	ok(live_blocks == 4, "failed deserializations leak nothing (s and s2 hold 2 blocks each) (live %ld)", live_blocks);
	/* lines < orders */
	sa_summary_serialize(&s, &A, buf + 1);
	buf[1 + 8] = 1;
	ok(sa_summary_deserialize(&s3, &A, buf + 1, len) == SA_INCONSISTENT, "fewer lines than orders refused");
	free(buf);

	/* combine: overlapping order sets */
	sa_summary_init(&s3);
	ok(sa_summary_add(&s3, &A, 200, 1, 100, 0, 100, 0) == SA_OK &&
	   sa_summary_add(&s3, &A, 300, 1, 101, 0, 101, 0) == SA_OK, "second partial state");
	ok(sa_summary_combine(&s2, &A, &s3) == SA_OK, "combine");
	sa_summary_result_of(&s2, &r);
	ok(r.orders == 3 && r.lines == 5 && r.gross == 3700, "combined: 3 distinct orders, 5 lines, gross 3700");
	sa_summary_free(&s, &A);
	ok(sa_summary_combine(&s, &A, &s2) == SA_OK, "combine into an empty state");
	sa_summary_result_of(&s, &r);
	ok(r.orders == 3 && r.net == 3000, "empty + state = state");
	s.gross = INT64_MAX;
	ok(sa_summary_combine(&s, &A, &s2) == SA_OVERFLOW && s.gross == INT64_MAX && s.lines == 5,
	   "overflow in combine changes nothing");
	sa_summary_free(&s, &A);
	sa_summary_free(&s2, &A);
	sa_summary_free(&s3, &A);
	ok(live_blocks == 0, "summary states free all memory (live %ld)", live_blocks);

	/* allocation failure is reported, not a crash */
	sa_summary_init(&s);
	fail_after = 0;
	ok(sa_summary_add(&s, &A, 1, 1, 1, 0, 1, 0) == SA_NO_MEMORY, "allocation failure reported");
	fail_after = -1;
	sa_summary_free(&s, &A);

	/* ---- top_sellers ---- */
	sa_top_init(&t);
	ok(sa_top_result(&t, scratch, best) == 0, "empty top: no result");
	ok(sa_top_add(&t, &A, u1, 5, 0) == SA_BAD_K, "k = 0 refused");
	ok(sa_top_add(&t, &A, u1, 5, SA_TOP_MAX_K + 1) == SA_BAD_K, "k too large refused");
	ok(sa_top_add(&t, &A, u1 + 1, 5, 2) == SA_BAD_KEY, "a code with a wrong check digit is refused");
	ok(sa_top_add(&t, &A, u1, 5, 2) == SA_OK && sa_top_add(&t, &A, u2, 7, 2) == SA_OK &&
	   sa_top_add(&t, &A, u3, 7, 2) == SA_OK && sa_top_add(&t, &A, u1, 3, 2) == SA_OK,
	   "four rows, three products");
	ok(sa_top_add(&t, &A, u1, 1, 3) == SA_K_MISMATCH, "k changing between rows refused");
	n = sa_top_result(&t, scratch, best);
	ok(n == 2 && best[0].key == u1 && best[0].qty == 8 && best[1].key == u2 && best[1].qty == 7,
	   "top 2: u1 (8) then u2 (7), tie with u3 broken by lower code");

	len = sa_top_serial_size(&t);
	buf = malloc(len + 3);
	ok(sa_top_serialize(&t, &A, buf + 3) == SA_OK && len == SA_TOP_HEADER + 3 * 16, "serialize top");
	ok(sa_top_deserialize(&t2, &A, buf + 3, len) == SA_OK && t2.k == 2 && t2.items.n == 3 &&
	   top_qty(&t2, u1) == 8 && top_qty(&t2, u3) == 7, "top round trip");
	ok(sa_top_deserialize(&t3, &A, buf + 3, len + 1) == SA_BAD_LENGTH, "top: trailing byte refused");
	buf[3 + 8] = 0;
	ok(sa_top_deserialize(&t3, &A, buf + 3, len) == SA_BAD_K, "top: k = 0 with items refused");
	buf[3 + 8] = 2;
	buf[3] = 'X';
	ok(sa_top_deserialize(&t3, &A, buf + 3, len) == SA_BAD_MAGIC, "top: summary magic is not top magic");
	buf[3] = 'I';
	memcpy(buf + 3 + 24 + 16, buf + 3 + 24, 8);
	ok(sa_top_deserialize(&t3, &A, buf + 3, len) == SA_BAD_ORDER, "top: duplicate product refused");
	buf[3 + 24] ^= 1;
	ok(sa_top_deserialize(&t3, &A, buf + 3, len) == SA_BAD_KEY, "top: invalid GTIN refused");
	free(buf);

	/* combine, including an empty state and a k mismatch */
	sa_top_init(&t3);
	ok(sa_top_combine(&t3, &A, &t2) == SA_OK && t3.k == 2 && t3.items.n == 3, "empty + state = state");
	ok(sa_top_combine(&t2, &A, &t) == SA_OK && top_qty(&t2, u1) == 16, "combine sums quantities");
	sa_top_free(&t3, &A);
	sa_top_init(&t3);
	ok(sa_top_add(&t3, &A, u1, 1, 5) == SA_OK && sa_top_combine(&t3, &A, &t) == SA_K_MISMATCH,
	   "combining states with different k refused");
	sa_top_free(&t3, &A);
	sa_top_init(&t3);
	ok(sa_top_combine(&t, &A, &t3) == SA_OK && t.items.n == 3, "state + empty = state");

	/* exactness against a brute-force count over random rows split in 3 */
	{
		int64_t		truth[40];
		sa_top		part[3],
					all;
		sa_top_item sc[40],
					out[10];
		int			j,
					mism = 0;

		memset(truth, 0, sizeof(truth));
		for (j = 0; j < 3; j++)
			sa_top_init(&part[j]);
		for (i = 0; i < 5000; i++)
		{
			uint32_t	p = next_rand() % 40;
			int64_t		q = 1 + next_rand() % 5;

			truth[p] += q;
			sa_top_add(&part[i % 3], &A, upc_of(400000000000ULL + p), q, 10);
		}
		sa_top_init(&all);
		for (j = 0; j < 3; j++)
		{
			size_t		l = sa_top_serial_size(&part[j]);
			uint8_t    *b = malloc(l);
			sa_top		back;

			sa_top_serialize(&part[j], &A, b);
			if (sa_top_deserialize(&back, &A, b, l) != SA_OK ||
				sa_top_combine(&all, &A, &back) != SA_OK)
				mism++;
			sa_top_free(&back, &A);
			sa_top_free(&part[j], &A);
			free(b);
		}
		n = sa_top_result(&all, sc, out);
		for (j = 0; j < (int) n; j++)
		{
			int			rank = 0,
						p;
			uint64_t	key = out[j].key / 10 - 400000000000ULL;

			if (key >= 40 || truth[key] != out[j].qty)
				mism++;
			/* everything ranked above it really sold more (or equal and lower code) */
			for (p = 0; p < 40; p++)
				if (truth[p] > out[j].qty || (truth[p] == out[j].qty && (uint64_t) p < key))
					rank++;
			if (rank != j)
				mism++;
		}
		ok(n == 10 && mism == 0, "top 10 of 40 products over 3 serialized partial states is exact");
		sa_top_free(&all, &A);
	}
	sa_top_free(&t, &A);
	sa_top_free(&t2, &A);
	sa_top_free(&t3, &A);
	ok(live_blocks == 0, "top states free all memory (live %ld)", live_blocks);
	ok(strlen(sa_strerror(SA_BAD_ORDER)) > 0 && strcmp(sa_strerror(SA_OK), "No error.") == 0,
	   "every status has a sentence");
	return done_testing();
}
