/*-------------------------------------------------------------------------
 *
 * sales_agg.c
 *	  Server-free state logic of icos.sales_summary and icos.top_sellers.
 *	  See sales_agg.h for the structures and the serialized formats.
 *
 *-------------------------------------------------------------------------
 */
#include "sales_agg.h"

#include <stdlib.h>
#include <string.h>

#include "gtin.h"

const char *
sa_strerror(sa_status st)
{
	switch (st)
	{
		case SA_OK:
			return "No error.";
		case SA_NO_MEMORY:
			return "Out of memory.";
		case SA_OVERFLOW:
			return "A total is too large to represent.";
		case SA_BAD_KEY:
			return "A key is not a valid order code or product code.";
		case SA_TOO_MANY_KEYS:
			return "The state holds too many distinct keys.";
		case SA_BAD_K:
			return "The number of best sellers asked for is out of range.";
		case SA_K_MISMATCH:
			return "The number of best sellers asked for changed between rows.";
		case SA_BAD_LENGTH:
			return "The serialized state has the wrong length for its contents.";
		case SA_BAD_MAGIC:
			return "The bytes are not a serialized state of this aggregate.";
		case SA_BAD_VERSION:
			return "The serialized state has a format version this build cannot read.";
		case SA_BAD_ORDER:
			return "The serialized keys are not in strictly increasing order.";
		case SA_INCONSISTENT:
			return "The serialized state counts fewer lines than orders.";
	}
	return "Unknown error.";
}

/* ---- little-endian helpers ------------------------------------------- */

static void
put_u32(uint8_t *p, uint32_t v)
{
	int			i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	int			i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t	v = 0;
	int			i;

	for (i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static bool
add_i64(int64_t *acc, int64_t v)
{
	int64_t		r;

	if (__builtin_add_overflow(*acc, v, &r))
		return false;
	*acc = r;
	return true;
}

/* ---- hash table ------------------------------------------------------ */

/* SplitMix64 finaliser: keys are sequential-ish GTINs, so mix them well. */
static uint32_t
hash_key(uint64_t k)
{
	k ^= k >> 30;
	k *= UINT64_C(0xbf58476d1ce4e5b9);
	k ^= k >> 27;
	k *= UINT64_C(0x94d049bb133111eb);
	k ^= k >> 31;
	return (uint32_t) k;
}

void
sa_map_init(sa_map *m)
{
	memset(m, 0, sizeof(*m));
}

void
sa_map_free(sa_map *m, const sa_allocator *a)
{
	if (m->keys)
		a->release(a->ctx, m->keys);
	if (m->vals)
		a->release(a->ctx, m->vals);
	sa_map_init(m);
}

static uint32_t
find_slot(const uint64_t *keys, uint32_t cap, uint64_t key)
{
	uint32_t	mask = cap - 1;
	uint32_t	i = hash_key(key) & mask;

	while (keys[i] != SA_EMPTY_KEY && keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static sa_status
map_grow(sa_map *m, const sa_allocator *a, uint32_t newcap)
{
	uint64_t   *keys;
	int64_t    *vals;
	uint32_t	i;

	keys = a->alloc(a->ctx, (size_t) newcap * sizeof(uint64_t));
	if (keys == NULL)
		return SA_NO_MEMORY;
	vals = a->alloc(a->ctx, (size_t) newcap * sizeof(int64_t));
	if (vals == NULL)
	{
		a->release(a->ctx, keys);
		return SA_NO_MEMORY;
	}
	memset(keys, 0xff, (size_t) newcap * sizeof(uint64_t));
	for (i = 0; i < m->cap; i++)
	{
		if (m->keys[i] != SA_EMPTY_KEY)
		{
			uint32_t	j = find_slot(keys, newcap, m->keys[i]);

			keys[j] = m->keys[i];
			vals[j] = m->vals[i];
		}
	}
	if (m->keys)
		a->release(a->ctx, m->keys);
	if (m->vals)
		a->release(a->ctx, m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = newcap;
	return SA_OK;
}

sa_status
sa_map_add(sa_map *m, const sa_allocator *a, uint64_t key, int64_t delta)
{
	uint32_t	i;

	if (key == SA_EMPTY_KEY)
		return SA_BAD_KEY;
	/* Keep the load factor at most 1/2. */
	if ((uint64_t) (m->n + 1) * 2 > m->cap)
	{
		sa_status	st;

		if (m->n >= SA_MAX_KEYS)
		{
			/* Full: only an existing key may still be updated. */
			if (m->cap == 0)
				return SA_TOO_MANY_KEYS;
			i = find_slot(m->keys, m->cap, key);
			if (m->keys[i] != key)
				return SA_TOO_MANY_KEYS;
			return add_i64(&m->vals[i], delta) ? SA_OK : SA_OVERFLOW;
		}
		st = map_grow(m, a, m->cap ? m->cap * 2 : 16);
		if (st != SA_OK)
			return st;
	}
	i = find_slot(m->keys, m->cap, key);
	if (m->keys[i] == SA_EMPTY_KEY)
	{
		m->keys[i] = key;
		m->vals[i] = delta;
		m->n++;
		return SA_OK;
	}
	return add_i64(&m->vals[i], delta) ? SA_OK : SA_OVERFLOW;
}

bool
sa_map_get(const sa_map *m, uint64_t key, int64_t *val)
{
	uint32_t	i;

	if (m->cap == 0 || key == SA_EMPTY_KEY)
		return false;
	i = find_slot(m->keys, m->cap, key);
	if (m->keys[i] != key)
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return (x > y) - (x < y);
}

/*
 * The keys of a map in increasing order into out (room for m->n).
 */
static void
map_sorted_keys(const sa_map *m, uint64_t *out)
{
	uint32_t	i,
				n = 0;

	for (i = 0; i < m->cap; i++)
		if (m->keys[i] != SA_EMPTY_KEY)
			out[n++] = m->keys[i];
	qsort(out, n, sizeof(uint64_t), cmp_u64);
}

static bool
valid_order_key(uint64_t k)
{
	return k < SA_ORDER_KEY_LIMIT;
}

static bool
valid_upc_key(uint64_t k)
{
	int			expected,
				found;

	return k <= (uint64_t) GTIN_MAX &&
		gtin_validate((int64_t) k, &expected, &found) == GTIN_OK;
}

/* ---- sales_summary --------------------------------------------------- */

void
sa_summary_init(sa_summary *s)
{
	memset(s, 0, sizeof(*s));
	sa_map_init(&s->orders);
}

void
sa_summary_free(sa_summary *s, const sa_allocator *a)
{
	sa_map_free(&s->orders, a);
	sa_summary_init(s);
}

/* Adds the six sums of from into into; nothing changes on overflow. */
static sa_status
summary_add_sums(sa_summary *into, int64_t lines, int64_t units, int64_t gross,
				 int64_t discount, int64_t net, int64_t returns)
{
	sa_summary	t = *into;

	if (!add_i64(&t.lines, lines) || !add_i64(&t.units, units) ||
		!add_i64(&t.gross, gross) || !add_i64(&t.discount, discount) ||
		!add_i64(&t.net, net) || !add_i64(&t.returns, returns))
		return SA_OVERFLOW;
	into->lines = t.lines;
	into->units = t.units;
	into->gross = t.gross;
	into->discount = t.discount;
	into->net = t.net;
	into->returns = t.returns;
	return SA_OK;
}

sa_status
sa_summary_add(sa_summary *s, const sa_allocator *a, uint64_t order,
			   int64_t units, int64_t gross, int64_t discount,
			   int64_t net, int64_t returns)
{
	sa_status	st;

	if (!valid_order_key(order))
		return SA_BAD_KEY;
	st = summary_add_sums(s, 1, units, gross, discount, net, returns);
	if (st != SA_OK)
		return st;
	return sa_map_add(&s->orders, a, order, 0);
}

sa_status
sa_summary_combine(sa_summary *into, const sa_allocator *a, const sa_summary *from)
{
	sa_status	st;
	uint32_t	i;

	st = summary_add_sums(into, from->lines, from->units, from->gross,
						  from->discount, from->net, from->returns);
	if (st != SA_OK)
		return st;
	for (i = 0; i < from->orders.cap; i++)
	{
		if (from->orders.keys[i] == SA_EMPTY_KEY)
			continue;
		st = sa_map_add(&into->orders, a, from->orders.keys[i], 0);
		if (st != SA_OK)
			return st;
	}
	return SA_OK;
}

size_t
sa_summary_serial_size(const sa_summary *s)
{
	return SA_SUMMARY_HEADER + (size_t) s->orders.n * 8;
}

/*
 * buf must have sa_summary_serial_size(s) bytes (any alignment).  The keys
 * are sorted in a scratch array from the allocator.
 */
sa_status
sa_summary_serialize(const sa_summary *s, const sa_allocator *a, uint8_t *buf)
{
	uint8_t    *p = buf;
	uint64_t   *keys = NULL;
	uint32_t	i;
	int64_t		sums[6];

	if (s->orders.n > 0)
	{
		keys = a->alloc(a->ctx, (size_t) s->orders.n * sizeof(uint64_t));
		if (keys == NULL)
			return SA_NO_MEMORY;
		map_sorted_keys(&s->orders, keys);
	}
	put_u32(p, SA_SUMMARY_MAGIC);
	put_u32(p + 4, SA_FORMAT_VERSION);
	p += 8;
	sums[0] = s->lines;
	sums[1] = s->units;
	sums[2] = s->gross;
	sums[3] = s->discount;
	sums[4] = s->net;
	sums[5] = s->returns;
	for (i = 0; i < 6; i++, p += 8)
		put_u64(p, (uint64_t) sums[i]);
	put_u64(p, s->orders.n);
	p += 8;
	for (i = 0; i < s->orders.n; i++, p += 8)
		put_u64(p, keys[i]);
	if (keys)
		a->release(a->ctx, keys);
	return SA_OK;
}

sa_status
sa_summary_deserialize(sa_summary *s, const sa_allocator *a,
					   const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t	n,
				i,
				prev = 0;
	int64_t		sums[6];
	sa_status	st;

	sa_summary_init(s);
	if (len < SA_SUMMARY_HEADER)
		return SA_BAD_LENGTH;
	if (get_u32(p) != SA_SUMMARY_MAGIC)
		return SA_BAD_MAGIC;
	if (get_u32(p + 4) != SA_FORMAT_VERSION)
		return SA_BAD_VERSION;
	p += 8;
	for (i = 0; i < 6; i++, p += 8)
		sums[i] = (int64_t) get_u64(p);
	n = get_u64(p);
	p += 8;
	if (n > SA_MAX_KEYS)
		return SA_TOO_MANY_KEYS;
	if (len != SA_SUMMARY_HEADER + n * 8)
		return SA_BAD_LENGTH;
	/* Fewer lines than orders cannot come from sales_summary. */
	if (sums[0] < 0 || (uint64_t) sums[0] < n)
		return SA_INCONSISTENT;
	for (i = 0; i < n; i++, p += 8)
	{
		uint64_t	k = get_u64(p);

		if (!valid_order_key(k))
		{
			sa_summary_free(s, a);
			return SA_BAD_KEY;
		}
		if (i > 0 && k <= prev)
		{
			sa_summary_free(s, a);
			return SA_BAD_ORDER;
		}
		prev = k;
		st = sa_map_add(&s->orders, a, k, 0);
		if (st != SA_OK)
		{
			sa_summary_free(s, a);
			return st;
		}
	}
	s->lines = sums[0];
	s->units = sums[1];
	s->gross = sums[2];
	s->discount = sums[3];
	s->net = sums[4];
	s->returns = sums[5];
	return SA_OK;
}

int64_t
sa_average_pence(int64_t net, int64_t orders)
{
	int64_t		q,
				r;

	if (orders <= 0)
		return 0;
	q = net / orders;
	r = net % orders;
	/* Round half away from zero, without overflowing 2 * r. */
	if (r > 0 && r >= orders - r)
		q++;
	else if (r < 0 && -r >= orders + r)
		q--;
	return q;
}

void
sa_summary_result_of(const sa_summary *s, sa_summary_result *r)
{
	r->orders = s->orders.n;
	r->lines = s->lines;
	r->units = s->units;
	r->gross = s->gross;
	r->discount = s->discount;
	r->net = s->net;
	r->returns = s->returns;
	r->has_basket = s->orders.n > 0;
	r->basket_num = r->has_basket ? sa_average_pence(s->net, s->orders.n) : 0;
}

/* ---- top_sellers ----------------------------------------------------- */

void
sa_top_init(sa_top *t)
{
	t->k = 0;
	sa_map_init(&t->items);
}

void
sa_top_free(sa_top *t, const sa_allocator *a)
{
	sa_map_free(&t->items, a);
	t->k = 0;
}

static sa_status
top_set_k(sa_top *t, int64_t k)
{
	if (k < 1 || k > SA_TOP_MAX_K)
		return SA_BAD_K;
	if (t->k == 0)
		t->k = (int32_t) k;
	else if (t->k != k)
		return SA_K_MISMATCH;
	return SA_OK;
}

sa_status
sa_top_add(sa_top *t, const sa_allocator *a, uint64_t upc, int64_t qty, int64_t k)
{
	sa_status	st = top_set_k(t, k);

	if (st != SA_OK)
		return st;
	if (!valid_upc_key(upc))
		return SA_BAD_KEY;
	return sa_map_add(&t->items, a, upc, qty);
}

sa_status
sa_top_combine(sa_top *into, const sa_allocator *a, const sa_top *from)
{
	uint32_t	i;
	sa_status	st;

	if (from->k == 0)
		return SA_OK;
	st = top_set_k(into, from->k);
	if (st != SA_OK)
		return st;
	for (i = 0; i < from->items.cap; i++)
	{
		if (from->items.keys[i] == SA_EMPTY_KEY)
			continue;
		st = sa_map_add(&into->items, a, from->items.keys[i], from->items.vals[i]);
		if (st != SA_OK)
			return st;
	}
	return SA_OK;
}

size_t
sa_top_serial_size(const sa_top *t)
{
	return SA_TOP_HEADER + (size_t) t->items.n * 16;
}

static int
cmp_item_key(const void *a, const void *b)
{
	const sa_top_item *x = a;
	const sa_top_item *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

static void
top_items(const sa_top *t, sa_top_item *out)
{
	uint32_t	i,
				n = 0;

	for (i = 0; i < t->items.cap; i++)
	{
		if (t->items.keys[i] != SA_EMPTY_KEY)
		{
			out[n].key = t->items.keys[i];
			out[n].qty = t->items.vals[i];
			n++;
		}
	}
}

/*
 * buf must have sa_top_serial_size(t) bytes (any alignment).  Items are
 * sorted by key in a scratch array from the allocator.
 */
sa_status
sa_top_serialize(const sa_top *t, const sa_allocator *a, uint8_t *buf)
{
	uint8_t    *p = buf;
	uint32_t	i,
				n = t->items.n;
	sa_top_item *items = NULL;

	if (n > 0)
	{
		items = a->alloc(a->ctx, (size_t) n * sizeof(sa_top_item));
		if (items == NULL)
			return SA_NO_MEMORY;
		top_items(t, items);
		qsort(items, n, sizeof(sa_top_item), cmp_item_key);
	}
	put_u32(p, SA_TOP_MAGIC);
	put_u32(p + 4, SA_FORMAT_VERSION);
	put_u32(p + 8, (uint32_t) t->k);
	put_u32(p + 12, 0);
	put_u64(p + 16, n);
	p += SA_TOP_HEADER;
	for (i = 0; i < n; i++, p += 16)
	{
		put_u64(p, items[i].key);
		put_u64(p + 8, (uint64_t) items[i].qty);
	}
	if (items)
		a->release(a->ctx, items);
	return SA_OK;
}

sa_status
sa_top_deserialize(sa_top *t, const sa_allocator *a, const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t	n,
				i,
				prev = 0;
	uint32_t	k;
	sa_status	st;

	sa_top_init(t);
	if (len < SA_TOP_HEADER)
		return SA_BAD_LENGTH;
	if (get_u32(p) != SA_TOP_MAGIC)
		return SA_BAD_MAGIC;
	if (get_u32(p + 4) != SA_FORMAT_VERSION)
		return SA_BAD_VERSION;
	k = get_u32(p + 8);
	n = get_u64(p + 16);
	if (get_u32(p + 12) != 0)
		return SA_BAD_LENGTH;
	if (n > SA_MAX_KEYS)
		return SA_TOO_MANY_KEYS;
	if (len != SA_TOP_HEADER + n * 16)
		return SA_BAD_LENGTH;
	/* k is 0 only for a state that never saw a row, which has no items. */
	if (k == 0 ? n != 0 : k > SA_TOP_MAX_K)
		return SA_BAD_K;
	t->k = (int32_t) k;
	p += SA_TOP_HEADER;
	for (i = 0; i < n; i++, p += 16)
	{
		uint64_t	key = get_u64(p);
		int64_t		qty = (int64_t) get_u64(p + 8);

		if (!valid_upc_key(key))
		{
			sa_top_free(t, a);
			return SA_BAD_KEY;
		}
		if (i > 0 && key <= prev)
		{
			sa_top_free(t, a);
			return SA_BAD_ORDER;
		}
		prev = key;
		st = sa_map_add(&t->items, a, key, qty);
		if (st != SA_OK)
		{
			sa_top_free(t, a);
			return st;
		}
	}
	return SA_OK;
}

static int
cmp_item_rank(const void *a, const void *b)
{
	const sa_top_item *x = a;
	const sa_top_item *y = b;

	if (x->qty != y->qty)
		return x->qty > y->qty ? -1 : 1;
	return (x->key > y->key) - (x->key < y->key);
}

uint32_t
sa_top_result(const sa_top *t, sa_top_item *scratch, sa_top_item *out)
{
	uint32_t	n = t->items.n,
				m;

	if (n == 0 || t->k <= 0)
		return 0;
	top_items(t, scratch);
	qsort(scratch, n, sizeof(sa_top_item), cmp_item_rank);
	m = n < (uint32_t) t->k ? n : (uint32_t) t->k;
	memcpy(out, scratch, (size_t) m * sizeof(sa_top_item));
	return m;
}
