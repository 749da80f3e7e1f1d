/*-------------------------------------------------------------------------
 *
 * promo.h
 *	  Server-free core of the icos promotion engine: a strict JSON reader,
 *	  the rule compiler (kind + rule JSON -> promo_rule) and the evaluator
 *	  that prices a basket and explains every promotion it considered.
 *
 * Plain C99 and libc only (no PostgreSQL headers).  No global mutable
 * state: every allocation goes through caller-supplied hooks
 * (promo_alloc), e.g. palloc in a per-call memory context, malloc, or the
 * bump arena below.  Recursion is bounded (JSON depth, search variables),
 * so stack use is bounded.  Money is integer pence throughout; see
 * docs/promotions-engine.md for the model, the search and the rounding.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_PROMO_H
#define ICOS_PROMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits (documented in docs/promotions-engine.md). */
#define PROMO_JSON_MAX_DEPTH	32	/* nesting of arrays/objects */
#define PROMO_MAX_MONEY		INT64_C(999999999999)	/* 9,999,999,999.99 */
#define PROMO_MAX_QTY			1000000 /* units on one basket line */
#define PROMO_MAX_GROUP_QTY	1000	/* multibuy qty, buy_qty, get_qty */
#define PROMO_MAX_BUNDLE_ITEMS	16
#define PROMO_MAX_MATCH_IDS	10000	/* codes or categories in a match */
#define PROMO_MAX_BASKET_GROSS INT64_C(100000000000000000)	/* 10^17 pence */
#define PROMO_SEARCH_BUDGET	200000	/* search nodes per basket */
#define PROMO_SEARCH_MAX_VARS	512 /* variables of one exact search */
#define PROMO_PACK_MIN_PROMOS	9	/* AUTO: packing from this many promotions */
#define PROMO_DETAIL_SIZE		96

/* Status codes returned by every entry point. */
typedef enum promo_status
{
	PROMO_OK = 0,
	PROMO_ENOMEM,				/* an allocation hook returned NULL */
	PROMO_EJSON,				/* malformed JSON text */
	PROMO_ERULE,				/* well-formed JSON, invalid rule */
	PROMO_EINPUT				/* invalid basket or promotion input */
} promo_status;

/* Where and why parsing or validation failed. */
typedef struct promo_error
{
	size_t		pos;			/* byte offset into the text (0-based) */
	int			line;			/* 1-based line of pos */
	int			column;			/* 1-based column (bytes) of pos */
	char		msg[200];		/* lower case, no trailing period */
} promo_error;

/*
 * Allocation hooks.  alloc returns NULL on failure (the engine then
 * returns PROMO_ENOMEM and leaks nothing it can free); free may be NULL
 * when the memory is released wholesale (memory context, arena).
 * Memory need not be zeroed.
 */
typedef struct promo_alloc
{
	void	   *(*alloc) (void *ctx, size_t size);
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;
} promo_alloc;

/* A bump arena over a caller-provided buffer (never frees). */
typedef struct promo_arena
{
	unsigned char *base;
	size_t		size;
	size_t		used;
} promo_arena;

extern void promo_arena_init(promo_arena *arena, void *buf, size_t size);
extern promo_alloc promo_arena_hooks(promo_arena *arena);

/* ---------------------------------------------------------------------
 * Strict JSON reader (RFC 8259, no extensions).
 *
 * The document is a flat array of nodes in document order: a container's
 * children follow it, and node[i].next is the index just past node i's
 * subtree.  An object's children alternate key (a STRING) and value.
 * Strings are decoded to UTF-8 and NUL-terminated; numbers keep their
 * source text (so money can be converted exactly).  Parsing makes two
 * passes, the first only counting, then exactly two allocations.
 * ---------------------------------------------------------------------
 */
typedef enum promo_json_type
{
	PROMO_JSON_NULL,
	PROMO_JSON_FALSE,
	PROMO_JSON_TRUE,
	PROMO_JSON_NUMBER,
	PROMO_JSON_STRING,
	PROMO_JSON_ARRAY,
	PROMO_JSON_OBJECT
} promo_json_type;

typedef struct promo_json_node
{
	promo_json_type type;
	size_t		pos;			/* byte offset of the value in the text */
	const char *str;			/* STRING: decoded; NUMBER: source text */
	size_t		len;			/* bytes at str (no NUL) */
	size_t		count;			/* ARRAY: elements; OBJECT: members */
	size_t		next;			/* index after this subtree */
} promo_json_node;

typedef struct promo_json_doc
{
	promo_json_node *nodes;
	size_t		nnodes;
	char	   *strings;		/* decoded string storage */
	const char *text;
	size_t		textlen;
} promo_json_doc;

extern promo_status promo_json_parse(const char *text, size_t len,
									 const promo_alloc *a,
									 promo_json_doc *doc, promo_error *err);
extern void promo_json_free(promo_json_doc *doc, const promo_alloc *a);

/* Value of key in the object at index obj, or -1 (first match). */
extern long promo_json_member(const promo_json_doc *doc, size_t obj,
							  const char *key);

/* Fill err (message and line/column of pos in text). */
extern void promo_set_error(promo_error *err, const char *text, size_t len,
							size_t pos, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));

/*
 * Money: a JSON number or string ("49.99") of pounds, converted exactly to
 * pence.  Accepts an exponent only when the value is a whole number of
 * pence (4.999e1); rejects negatives, more than two significant decimal
 * places, anything above PROMO_MAX_MONEY.  Returns false on error.
 */
extern bool promo_money_from_text(const char *s, size_t len, int64_t *pence);

/* ---------------------------------------------------------------------
 * Rules
 * ---------------------------------------------------------------------
 */
typedef enum promo_kind
{
	PROMO_PERCENT_OFF,
	PROMO_AMOUNT_OFF,
	PROMO_FIXED_PRICE,
	PROMO_MULTIBUY,
	PROMO_BUY_GET,
	PROMO_BUNDLE,
	PROMO_SPEND_THRESHOLD
} promo_kind;

typedef enum promo_match_kind
{
	PROMO_MATCH_ALL,
	PROMO_MATCH_UPC,			/* ids are GTIN-14 numbers (or resolved ids) */
	PROMO_MATCH_CATEGORY		/* ids are category ids */
} promo_match_kind;

typedef struct promo_match
{
	promo_match_kind kind;
	size_t		nids;
	const int64_t *ids;			/* sorted ascending, no duplicates */
} promo_match;

typedef struct promo_rule
{
	promo_kind	kind;
	promo_match target;			/* the target; the "buy" match of buy_get */
	promo_match get;			/* buy_get: same as target when omitted */
	bool		get_is_buy;		/* buy_get: "get" absent or equal to "buy" */
	int32_t		percent_bp;		/* percent in hundredths (2500 = 25%) */
	int64_t		amount;			/* amount_off; spend_threshold amount */
	int64_t		price;			/* fixed_price, multibuy, bundle */
	int64_t		min_spend;		/* spend_threshold */
	int32_t		qty;			/* multibuy */
	int32_t		buy_qty;
	int32_t		get_qty;
	size_t		nitems;			/* bundle */
	const promo_match *items;
} promo_rule;

/*
 * Resolver for the strings of a {"upc": [...]} match: writes the id the
 * basket lines will carry and returns true, or writes a reason (a full
 * sentence) to msg and returns false.  NULL means the built-in one, which
 * parses any GTIN form (gtin.h) to its GTIN-14 number.
 */
typedef bool (*promo_upc_resolver) (void *ctx, const char *code, size_t len,
									int64_t *id, char *msg, size_t msgsize);

extern bool promo_kind_from_name(const char *name, promo_kind *kind);
extern const char *promo_kind_name(promo_kind kind);

/*
 * Validate and compile.  On success *rule is one allocation (free it with
 * promo_rule_free or with the memory context).  PROMO_ERULE/EJSON fill err
 * with a message naming the bad key, e.g.
 * key "percent" must be a number between 0 and 100.
 */
extern promo_status promo_rule_compile(const char *kind, const char *json,
									   size_t len, promo_upc_resolver resolve,
									   void *resolve_ctx,
									   const promo_alloc *a,
									   promo_rule **rule, promo_error *err);
extern void promo_rule_free(promo_rule *rule, const promo_alloc *a);

/* ---------------------------------------------------------------------
 * Evaluation
 * ---------------------------------------------------------------------
 */
typedef struct promo_def
{
	int32_t		id;
	int32_t		priority;		/* higher wins ties */
	bool		has_start;		/* starts_at is inclusive */
	int64_t		starts_at;		/* microseconds, any epoch */
	bool		has_end;		/* ends_at is exclusive */
	int64_t		ends_at;
	const int32_t *stores;		/* NULL: every store */
	size_t		nstores;
	const char *const *channels;	/* NULL: every channel */
	size_t		nchannels;
	const char *coupon;			/* NULL: no coupon needed */
	int32_t		max_per_order;	/* times; 0 = unlimited */
	const promo_rule *rule;
} promo_def;

typedef struct promo_line
{
	int32_t		line;			/* line number, unique in the basket */
	int64_t		item;			/* item id (the GTIN-14 number) */
	int64_t		unit_price;		/* pence, 0 .. PROMO_MAX_MONEY */
	int64_t		qty;			/* 1 .. PROMO_MAX_QTY */
	const int64_t *categories;	/* the item's category and its ancestors */
	size_t		ncategories;
} promo_line;

typedef struct promo_basket
{
	int64_t		at;				/* pricing instant, microseconds */
	int32_t		store;
	const char *channel;
	const char *const *coupons;
	size_t		ncoupons;
	const promo_line *lines;
	size_t		nlines;
} promo_basket;

typedef enum promo_reason
{
	PROMO_NOT_STARTED,
	PROMO_ENDED,
	PROMO_NOT_IN_STORE,
	PROMO_NOT_IN_CHANNEL,
	PROMO_COUPON_MISSING,
	PROMO_QTY_SHORT,
	PROMO_SPEND_SHORT,
	PROMO_LOST_TO,
	PROMO_NOT_BENEFICIAL,
	PROMO_LIMIT_REACHED
} promo_reason;

extern const char *promo_reason_name(promo_reason reason);

typedef struct promo_line_promo
{
	int32_t		id;
	int64_t		amount;
} promo_line_promo;

typedef struct promo_line_result
{
	int32_t		line;
	int64_t		gross;
	int64_t		discount;
	int64_t		net;
	size_t		npromos;		/* sorted by promotion id */
	promo_line_promo *promos;
} promo_line_result;

typedef struct promo_applied
{
	int32_t		id;
	int64_t		times;
	int64_t		amount;
} promo_applied;

typedef struct promo_not_applied
{
	int32_t		id;
	promo_reason reason;
	int32_t		other;			/* LOST_TO: the promotion that won */
	char		detail[PROMO_DETAIL_SIZE];
} promo_not_applied;

typedef struct promo_result
{
	int64_t		gross;
	int64_t		discount;
	int64_t		total;
	bool		approximate;	/* some group exceeded the search budget */
	int64_t		gap;			/* approximate: the best discount the rules
								 * allow is at most this much (pence) more
								 * than the one given; 0 when exact */
	uint64_t	nodes;			/* search nodes used */
	size_t		nlines;			/* same order as the input lines */
	promo_line_result *lines;
	size_t		napplied;		/* sorted by id */
	promo_applied *applied;
	size_t		nnot_applied;	/* sorted by id, then reason */
	promo_not_applied *not_applied;
	void	   *mem;			/* private: allocations of this result */
} promo_result;

/* Which exact search solves a group of competing promotions. */
typedef enum promo_method
{
	PROMO_METHOD_AUTO = 0,		/* packing for wide groups (see the doc) */
	PROMO_METHOD_PACK,			/* packing wherever it applies */
	PROMO_METHOD_GENERAL		/* the general search everywhere */
} promo_method;

typedef struct promo_options
{
	uint64_t	budget;			/* search nodes; 0 = PROMO_SEARCH_BUDGET */
	promo_method method;		/* tests compare the two searches */
} promo_options;

/*
 * Price a basket against candidate promotions (any order; duplicates by
 * id are an error).  Lines must have distinct line numbers.  On success
 * *result is filled; release it with promo_result_free (or the context).
 * On error err->msg says what input was wrong (PROMO_EINPUT).
 */
extern promo_status promo_evaluate(const promo_basket *basket,
								   const promo_def *promos, size_t npromos,
								   const promo_options *opts,
								   const promo_alloc *a,
								   promo_result *result, promo_error *err);
extern void promo_result_free(promo_result *result, const promo_alloc *a);

/* Round n * bp / 10000 half up (n >= 0, bp in 0..10000). */
extern int64_t promo_percent_of(int64_t n, int32_t bp);

#endif							/* ICOS_PROMO_H */
