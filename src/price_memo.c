/*-------------------------------------------------------------------------
 *
 * price_memo.c
 *	  Per-backend memo of finished pricings: the same basket priced again
 *	  (a till re-pricing an unchanged basket, a web checkout pricing the
 *	  basket it then orders) is answered from the memo instead of the
 *	  search.
 *
 * The key is the basket's shape as src/promotion.c reads it (store,
 * channel, coupons, and each line's number, product code and quantity, in
 * input order); the value is what the pricing returned (its lines, totals
 * and document).  An entry holds for the pricing instants between the
 * window boundaries of its candidate promotions that surround the instant
 * it was priced at (valid_from <= at < valid_until), since the instant
 * enters the engine only through the promotions' windows.  Everything else
 * a pricing reads lives in the promotion index and the product cache, and
 * src/promotion.c empties the memo whenever either is stale, so the memo
 * lives within their lifetime and follows the same invalidations.
 *
 * PRICE_MEMO_SLOTS direct-mapped slots (a new entry replaces the one in
 * its slot), at most PRICE_MEMO_BYTES in all (the memo is emptied when a
 * new entry would pass it), in its own context under TopMemoryContext.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "price_memo.h"

#define PRICE_MEMO_SLOTS	64
#define PRICE_MEMO_BYTES	(8 * 1024 * 1024)

typedef struct PriceMemoEntry
{
	char	   *key;			/* NULL: empty slot */
	int			keylen;
	uint32		hash;
	int64		valid_from;
	int64		valid_until;
	Size		bytes;
	PriceMemoValue value;
} PriceMemoEntry;

static MemoryContext memo_cxt = NULL;
static PriceMemoEntry memo[PRICE_MEMO_SLOTS];
static Size memo_bytes = 0;

/* Forget every entry. */
void
price_memo_reset(void)
{
	if (memo_cxt == NULL || memo_bytes == 0)
		return;
	MemoryContextReset(memo_cxt);
	memset(memo, 0, sizeof(memo));
	memo_bytes = 0;
}

/* The entry for key valid at instant at, or NULL. */
const PriceMemoValue *
price_memo_get(const char *key, int keylen, int64 at)
{
	uint32		h = hash_bytes((const unsigned char *) key, keylen);
	PriceMemoEntry *e = &memo[h % PRICE_MEMO_SLOTS];

	if (e->key == NULL || e->hash != h || e->keylen != keylen ||
		memcmp(e->key, key, keylen) != 0 ||
		at < e->valid_from || at >= e->valid_until)
		return NULL;
	return &e->value;
}

/* Store a copy of value for key, valid for valid_from <= at < valid_until. */
void
price_memo_put(const char *key, int keylen, int64 valid_from, int64 valid_until,
			   const PriceMemoValue *value)
{
	uint32		h = hash_bytes((const unsigned char *) key, keylen);
	PriceMemoEntry *e = &memo[h % PRICE_MEMO_SLOTS];
	Size		docsize = value->document ? VARSIZE(value->document) : 0;
	Size		bytes = keylen + sizeof(PricedLine) * value->nlines + docsize;
	MemoryContext old;

	if (bytes > PRICE_MEMO_BYTES / 4)
		return;
	if (memo_cxt == NULL)
		memo_cxt = AllocSetContextCreate(TopMemoryContext, "icos price memo",
										 ALLOCSET_DEFAULT_SIZES);
	if (e->key != NULL)
	{
		memo_bytes -= e->bytes;
		pfree(e->key);
		if (e->value.lines)
			pfree(e->value.lines);
		if (e->value.document)
			pfree(e->value.document);
		e->key = NULL;
	}
	if (memo_bytes + bytes > PRICE_MEMO_BYTES)
		price_memo_reset();

	old = MemoryContextSwitchTo(memo_cxt);
	e->value = *value;
	e->value.lines = NULL;
	e->value.document = NULL;
	if (value->nlines > 0)
	{
		e->value.lines = palloc(sizeof(PricedLine) * value->nlines);
		memcpy(e->value.lines, value->lines, sizeof(PricedLine) * value->nlines);
	}
	if (value->document)
	{
		e->value.document = palloc(docsize);
		memcpy(e->value.document, value->document, docsize);
	}
	e->key = palloc(keylen);
	memcpy(e->key, key, keylen);
	MemoryContextSwitchTo(old);
	e->keylen = keylen;
	e->hash = h;
	e->valid_from = valid_from;
	e->valid_until = valid_until;
	e->bytes = bytes;
	memo_bytes += bytes;
}
