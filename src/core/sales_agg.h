/*-------------------------------------------------------------------------
 *
 * sales_agg.h
 *	  Server-free state logic of the reporting aggregates
 *	  icos.sales_summary and icos.top_sellers: update, combine, serialize,
 *	  deserialize (with validation) and the final results.
 *
 * Both states rest on one structure: an open-addressing hash table of
 * 64-bit keys (order codes or GTIN-14 values, both non-negative and far
 * below 2^63) with a 64-bit sum per key.  sales_summary keeps the set of
 * distinct orders in it (the value is unused) so that "orders" and the
 * average basket are exact; top_sellers keeps every product it has seen
 * with its quantity, so its top k is exact (no sketch, no error bound: the
 * memory is 16 bytes per distinct product, a few MB for a whole catalogue).
 *
 * Money is integer pence.  Every sum is checked for overflow.
 *
 * Memory comes from a caller-supplied allocator so that the server can
 * allocate in the aggregate's memory context and the unit tests with malloc.
 * The allocator must not return NULL (palloc raises instead); a test
 * allocator that can fail makes the functions return SA_NO_MEMORY.
 *
 * Serialized forms are little-endian and start with a magic number and a
 * version, so a bytea from anywhere else is refused rather than misread:
 *
 *	 summary: "ICSS" u32 version u32 | lines units gross discount net returns
 *			  (6 x i64) | n (u64) | n order keys (u64, strictly increasing)
 *	 top:     "ICTK" u32 version u32 | k (u32) pad (u32) | n (u64) |
 *			  n x (key u64, qty i64), keys strictly increasing
 *
 * Keys are written in increasing order, which makes the output
 * deterministic and lets deserialization refuse duplicates in one pass.
 *
 * Plain C99 and libc only: no PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_SALES_AGG_H
#define ICOS_SALES_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SA_SUMMARY_MAGIC	0x53534349u /* "ICSS" little-endian */
#define SA_TOP_MAGIC		0x4b544349u /* "ICTK" little-endian */
#define SA_FORMAT_VERSION	1u

/* Bounds of top_sellers' k. */
#define SA_TOP_MAX_K		100000

/* Largest number of keys a state may hold (keeps every size below 2^31). */
#define SA_MAX_KEYS			(UINT32_C(1) << 26)

/* Fixed part of each serialized form, in bytes. */
#define SA_SUMMARY_HEADER	(8 + 6 * 8 + 8)
#define SA_TOP_HEADER		(8 + 8 + 8)

typedef enum sa_status
{
	SA_OK = 0,
	SA_NO_MEMORY,				/* the allocator failed */
	SA_OVERFLOW,				/* a sum left the int64 range */
	SA_BAD_KEY,					/* key out of range for its kind */
	SA_TOO_MANY_KEYS,			/* more than SA_MAX_KEYS distinct keys */
	SA_BAD_K,					/* k outside 1 .. SA_TOP_MAX_K */
	SA_K_MISMATCH,				/* k differs between rows or states */
	SA_BAD_LENGTH,				/* serialized length does not match */
	SA_BAD_MAGIC,				/* not a state of this aggregate */
	SA_BAD_VERSION,				/* a format this build cannot read */
	SA_BAD_ORDER,				/* keys not strictly increasing (duplicate) */
	SA_INCONSISTENT				/* counts contradict each other */
} sa_status;

/* Human-readable sentence for a status (static storage). */
extern const char *sa_strerror(sa_status st);

typedef struct sa_allocator
{
	void	   *(*alloc) (void *ctx, size_t size);
	void		(*release) (void *ctx, void *ptr);
	void	   *ctx;
} sa_allocator;

/* Hash table of key -> sum.  All-zero is a valid empty table. */
typedef struct sa_map
{
	uint64_t   *keys;			/* SA_EMPTY_KEY marks a free slot */
	int64_t    *vals;
	uint32_t	cap;			/* 0 or a power of two */
	uint32_t	n;
} sa_map;

#define SA_EMPTY_KEY		UINT64_MAX

extern void sa_map_init(sa_map *m);
extern void sa_map_free(sa_map *m, const sa_allocator *a);
extern sa_status sa_map_add(sa_map *m, const sa_allocator *a, uint64_t key, int64_t delta);
extern bool sa_map_get(const sa_map *m, uint64_t key, int64_t *val);

/* Which keys a state accepts. */
#define SA_ORDER_KEY_LIMIT	(UINT64_C(1) << 55) /* order codes: 55 bits */

/* ---- sales_summary --------------------------------------------------- */

typedef struct sa_summary
{
	int64_t		lines;
	int64_t		units;
	int64_t		gross;			/* pence */
	int64_t		discount;
	int64_t		net;
	int64_t		returns;
	sa_map		orders;			/* distinct order codes */
} sa_summary;

typedef struct sa_summary_result
{
	int64_t		orders;
	int64_t		lines;
	int64_t		units;
	int64_t		gross;
	int64_t		discount;
	int64_t		net;
	int64_t		returns;
	bool		has_basket;		/* false when there are no orders */
	int64_t		basket_num;		/* average basket = basket_num / orders */
} sa_summary_result;

extern void sa_summary_init(sa_summary *s);
extern void sa_summary_free(sa_summary *s, const sa_allocator *a);
extern sa_status sa_summary_add(sa_summary *s, const sa_allocator *a, uint64_t order,
								int64_t units, int64_t gross, int64_t discount,
								int64_t net, int64_t returns);
extern sa_status sa_summary_combine(sa_summary *into, const sa_allocator *a,
									const sa_summary *from);
extern size_t sa_summary_serial_size(const sa_summary *s);
extern sa_status sa_summary_serialize(const sa_summary *s, const sa_allocator *a,
									  uint8_t *buf);
extern sa_status sa_summary_deserialize(sa_summary *s, const sa_allocator *a,
										const uint8_t *buf, size_t len);
extern void sa_summary_result_of(const sa_summary *s, sa_summary_result *r);

/*
 * Average basket in pence, rounded half away from zero to whole pence:
 * net / orders.  Only meaningful when orders > 0.
 */
extern int64_t sa_average_pence(int64_t net, int64_t orders);

/* ---- top_sellers ----------------------------------------------------- */

typedef struct sa_top
{
	int32_t		k;				/* 0 until the first row */
	sa_map		items;			/* GTIN-14 -> quantity */
} sa_top;

typedef struct sa_top_item
{
	uint64_t	key;
	int64_t		qty;
} sa_top_item;

extern void sa_top_init(sa_top *t);
extern void sa_top_free(sa_top *t, const sa_allocator *a);
extern sa_status sa_top_add(sa_top *t, const sa_allocator *a, uint64_t upc, int64_t qty, int64_t k);
extern sa_status sa_top_combine(sa_top *into, const sa_allocator *a, const sa_top *from);
extern size_t sa_top_serial_size(const sa_top *t);
extern sa_status sa_top_serialize(const sa_top *t, const sa_allocator *a, uint8_t *buf);
extern sa_status sa_top_deserialize(sa_top *t, const sa_allocator *a,
									const uint8_t *buf, size_t len);

/*
 * The best sellers: at most k items into out (room for min(k, n) items),
 * by quantity descending, ties by key ascending.  Returns how many were
 * written.  scratch must have room for t->items.n items.
 */
extern uint32_t sa_top_result(const sa_top *t, sa_top_item *scratch, sa_top_item *out);

#endif							/* ICOS_SALES_AGG_H */
