/*-------------------------------------------------------------------------
 *
 * promotion.c
 *	  SQL surface of the promotion engine: icos.price_basket (and
 *	  price_lines, the same pricing for C callers, see pricing.h), the rule
 *	  validation trigger of icos.promotion and the trigger that tells every
 *	  backend its promotion index is stale.
 *
 * The logic lives in the server-free core (src/core/promo*.c, see
 * docs/promotions-engine.md); this file only moves data between SQL and it.
 *
 * Per-backend promotion index.  The first price_basket of a backend reads
 * icos.promotion and icos.category once, compiles every rule and builds a
 * sorted index from product code and from category id to the promotions
 * whose rule mentions them (plus the list of promotions on everything).  A
 * basket then looks up its own codes and category ancestries: its cost
 * depends on the promotions that can concern it, never on how many exist.
 * The index lives in its own memory context under CacheMemoryContext.
 *
 * Invalidation: a statement trigger on icos.promotion and icos.category
 * (icos._table_changed, src/table_changed.c; the replication apply worker fires no
 * statement trigger, so on a store node a row trigger enabled for replica
 * sessions does the same for head office's changes) sends a relcache
 * invalidation for its table; it reaches every backend at its next
 * transaction or lock, and the callback registered here marks the index
 * stale.  Rolled-back changes send the same invalidation at abort.  An
 * invalidation that arrives while the index is being built marks the new
 * index stale at once, so it is built again by the next call.  The index
 * is read with the latest snapshot (see promo_index_build), so it never
 * caches an older state than the invalidations received say.
 *
 * Products (price, category) are cached the same way, one by one: a
 * basket's codes missing from the cache are read in one query (a saved SPI
 * plan), and the whole cache is emptied when icos.product changes (the
 * same trigger, on icos.product too).  Each call first takes the pending
 * invalidations, so a committed change is seen by the next call even in
 * the middle of a transaction.  Every SPI statement schema-qualifies its
 * tables, casts and operators, so it means the same under any search_path.
 *
 * Per-call memory: everything price_basket allocates is in a per-backend
 * context emptied at the start and the end of each call and at the end of
 * every transaction (so what a call that failed had allocated is not kept
 * once its transaction is over), and the engine works in a per-backend
 * buffer reused by each call; only the result jsonb is built in the
 * caller's context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "jsonb_write.h"
#include "price_memo.h"
#include "pricing.h"
#include "promo.h"

#define ERRCODE_ICOS_UNKNOWN			MAKE_SQLSTATE('I','C','0','0','4')
#define ERRCODE_ICOS_INVALID_RULE		MAKE_SQLSTATE('I','C','0','0','5')

/* From upc.c: the type's own input and output (same messages everywhere). */
extern Datum upc_in(PG_FUNCTION_ARGS);
extern Datum upc_out(PG_FUNCTION_ARGS);

/* One (key, promotion) pair of the index. */
typedef struct PromoKey
{
	int64		key;			/* GTIN-14 number or category id */
	int32		promo;			/* index into PromoIndex.defs */
} PromoKey;

typedef struct PromoIndex
{
	MemoryContext cxt;
	Oid			promo_relid;
	Oid			category_relid;
	SPIPlanPtr	product_plan;	/* products of a basket */
	int			ndefs;
	promo_def  *defs;			/* sorted by promotion id */
	int		   *canon;			/* defs in the engine's canonical order
								 * (priority descending, then id), so the
								 * candidates reach it sorted */
	char	  **names;			/* promotion names, parallel to defs */
	Numeric    *idnums;			/* ids as numerics for the documents,
								 * parallel to defs, made when first used */
	int			nupc;
	PromoKey   *upc;			/* sorted by key, then promo */
	int			ncat;
	PromoKey   *cat;
	int			nall;
	int32	   *all;			/* promotions with {"all": true} somewhere */
	int			ncategories;
	int32	   *category_ids;	/* sorted */
	int32	   *category_parent;	/* parallel; -1 for a root */
} PromoIndex;

static PromoIndex *promo_index = NULL;
static bool promo_index_stale = true;

/*
 * Set when the index was built during a parallel operation: the local id
 * of the transaction it serves (see promo_index_build).
 */
static LocalTransactionId promo_index_lxid = InvalidLocalTransactionId;
static bool promo_callback_registered = false;

/*
 * Per-backend product cache: code -> price and category, filled on a miss
 * (one query for all the basket's misses) and emptied when icos.product
 * changes (same trigger and callback).  Bounded: emptied when it reaches
 * PRODUCT_CACHE_MAX entries.
 */
#define PRODUCT_CACHE_MAX	200000

typedef struct ProductRow
{
	int64		upc;			/* hash key */
	int64		price;
	int32		category;		/* -1: none */
} ProductRow;

static HTAB *product_cache = NULL;

/* The engine's per-backend working memory (see price_basket). */
#define EVAL_BUF_SIZE	(2 * 1024 * 1024)
#define WORK_KEPT_SIZE	(2 * 1024 * 1024)	/* price_begin */
static void *eval_buf = NULL;
static MemoryContext work_cxt = NULL;
static bool product_cache_stale = true;
static Oid	product_relid = InvalidOid;

/* ---------------------------------------------------------------------
 * Allocation hooks for the core: palloc in a given context, no OOM throw;
 * what the core frees (e.g. a rule's parse tree once it is compiled) is
 * pfree'd, so it does not stay in a long-lived context.
 * ---------------------------------------------------------------------
 */
static void *
promo_palloc(void *ctx, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) ctx, size == 0 ? 1 : size,
									  MCXT_ALLOC_NO_OOM);
}

static void
promo_pfree(void *ctx, void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

static promo_alloc
promo_hooks(MemoryContext cxt)
{
	promo_alloc a;

	a.alloc = promo_palloc;
	a.free = promo_pfree;
	a.ctx = cxt;
	return a;
}

/*
 * End of a transaction: no call is running, so the per-call context can be
 * emptied.  Only a failed call leaves anything in it (a successful one
 * empties it before returning); then it is emptied here, at the abort or,
 * when the error was caught in a subtransaction, at the end of the
 * transaction, instead of at the next call, which may never come.
 */
static void
promo_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (work_cxt != NULL)
				MemoryContextReset(work_cxt);
			break;
		default:
			break;
	}
}

static void
promo_report_oom(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory while evaluating promotions")));
}

/* ---------------------------------------------------------------------
 * Invalidation
 * ---------------------------------------------------------------------
 */
static void
promo_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == product_relid)
		product_cache_stale = true;
	if (promo_index == NULL)
		return;
	if (relid == InvalidOid || relid == promo_index->promo_relid ||
		relid == promo_index->category_relid)
		promo_index_stale = true;
}

/* ---------------------------------------------------------------------
 * Building the index
 * ---------------------------------------------------------------------
 */
static int
cmp_key(const void *a, const void *b)
{
	const PromoKey *x = a;
	const PromoKey *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->promo > y->promo) - (x->promo < y->promo);
}

static void
add_match_keys(const promo_match *m, int32 promo, List **upc, List **cat,
			   bool *all)
{
	size_t		i;

	for (i = 0; i < m->nids; i++)
	{
		PromoKey   *k = palloc(sizeof(PromoKey));

		k->key = m->ids[i];
		k->promo = promo;
		if (m->kind == PROMO_MATCH_UPC)
			*upc = lappend(*upc, k);
		else if (m->kind == PROMO_MATCH_CATEGORY)
			*cat = lappend(*cat, k);
	}
	if (m->kind == PROMO_MATCH_ALL)
		*all = true;
}

static PromoKey *
keys_to_array(MemoryContext cxt, List *l, int *n)
{
	PromoKey   *arr = MemoryContextAlloc(cxt, sizeof(PromoKey) * (list_length(l) + 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, l)
		arr[i++] = *(PromoKey *) lfirst(lc);
	qsort(arr, i, sizeof(PromoKey), cmp_key);
	*n = i;
	return arr;
}

static Oid
icos_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid("icos", false);
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "icos.%s does not exist", relname);
	return relid;
}

/* The engine's canonical order of promotions: priority descending, then id. */
static int
cmp_canonical(const void *a, const void *b, void *arg)
{
	const promo_def *defs = arg;
	const promo_def *x = &defs[*(const int *) a];
	const promo_def *y = &defs[*(const int *) b];

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Read the promotions and categories and build a new index (SPI must be
 * connected).  Replaces the old one only when everything succeeded.
 */
static void
promo_index_build(void)
{
	MemoryContext cxt;
	MemoryContext old;
	MemoryContext caller;
	PromoIndex *ix;
	promo_alloc hooks;
	List	   *upc = NIL;
	List	   *cat = NIL;
	int32	   *all;
	int			i;
	Oid			relid;
	Oid			argtypes[1] = {INT8ARRAYOID};
	LocalTransactionId lxid = IsInParallelMode() ? MyProc->lxid : InvalidLocalTransactionId;

	if (!promo_callback_registered)
	{
		CacheRegisterRelcacheCallback(promo_relcache_callback, (Datum) 0);
		promo_callback_registered = true;
	}

	caller = CurrentMemoryContext;
	cxt = AllocSetContextCreate(CacheMemoryContext, "icos promotion index",
								ALLOCSET_DEFAULT_SIZES);
	ix = MemoryContextAllocZero(cxt, sizeof(PromoIndex));
	ix->cxt = cxt;
	hooks = promo_hooks(cxt);

	PG_TRY();
	{
		/*
		 * From here, an invalidation means this index is already stale.  The
		 * index is read with the latest snapshot, not the statement's: a
		 * change that committed before it is in the index, and one that
		 * commits after it sends its invalidation after this point, so no
		 * change is ever missed (an older snapshot, e.g. a repeatable read
		 * transaction's, would cache a stale index for later transactions).
		 * A parallel operation cannot take the latest snapshot: there the
		 * index is built from the transaction's and serves only the parallel
		 * operations of this transaction (promo_index_lxid; price_basket
		 * marks it stale outside them), whose snapshots are not older in
		 * read committed and the same in repeatable read.  Building it
		 * again for each call made a parallel query evaluate every
		 * promotion rule once per row.
		 */
		promo_index_stale = false;
		if (LocalTransactionIdIsValid(lxid))
			PushActiveSnapshot(GetTransactionSnapshot());
		else
			PushActiveSnapshot(GetLatestSnapshot());
		ix->promo_relid = icos_relid("promotion");
		ix->category_relid = icos_relid("category");
		relid = icos_relid("product");
		if (relid != product_relid)
		{
			/*
			 * icos.product was created again (the extension was): drop what
			 * was cached.  Before the first build nothing was cached yet.
			 */
			if (OidIsValid(product_relid))
				product_cache_stale = true;
			product_relid = relid;
		}

		/* Categories: the parent of each. */
		if (SPI_execute("SELECT c.category_id, coalesce(c.parent_id, -1) FROM icos.category c "
						"ORDER BY c.category_id", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "icos: reading icos.category failed");
		ix->ncategories = (int) SPI_processed;
		ix->category_ids = MemoryContextAlloc(cxt, sizeof(int32) * (SPI_processed + 1));
		ix->category_parent = MemoryContextAlloc(cxt, sizeof(int32) * (SPI_processed + 1));
		for (i = 0; i < ix->ncategories; i++)
		{
			bool		isnull;
			HeapTuple	t = SPI_tuptable->vals[i];

			ix->category_ids[i] = DatumGetInt32(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
			ix->category_parent[i] = DatumGetInt32(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
		}

		/*
		 * Promotions, compiled.  What the index keeps is allocated in cxt;
		 * the rule texts and the key lists only in the caller's (SPI)
		 * context.
		 */
		if (SPI_execute("SELECT p.promotion_id, p.name, p.kind, p.rule::pg_catalog.text, "
						"p.starts_at, p.ends_at, p.stores, p.channels, p.priority, "
						"p.coupon, coalesce(p.max_per_order, 0) "
						"FROM icos.promotion p ORDER BY p.promotion_id", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "icos: reading icos.promotion failed");
		ix->ndefs = (int) SPI_processed;
		ix->defs = MemoryContextAllocZero(cxt, sizeof(promo_def) * (SPI_processed + 1));
		ix->names = MemoryContextAllocZero(cxt, sizeof(char *) * (SPI_processed + 1));
		ix->idnums = MemoryContextAllocZero(cxt, sizeof(Numeric) * (SPI_processed + 1));
		all = MemoryContextAlloc(cxt, sizeof(int32) * (SPI_processed + 1));
		old = MemoryContextSwitchTo(cxt);
		for (i = 0; i < ix->ndefs; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			promo_def  *d = &ix->defs[i];
			promo_rule *rule;
			promo_error err;
			promo_status st;
			char	   *kind = SPI_getvalue(t, td, 3);
			char	   *ruletext = SPI_getvalue(t, td, 4);
			MemoryContext keep;
			bool		isnull;
			Datum		v;
			bool		is_all = false;
			size_t		j;

			d->id = DatumGetInt32(SPI_getbinval(t, td, 1, &isnull));
			ix->names[i] = SPI_getvalue(t, td, 2);
			st = promo_rule_compile(kind, ruletext, strlen(ruletext), NULL, NULL,
									&hooks, &rule, &err);
			if (st == PROMO_ENOMEM)
				promo_report_oom();
			if (st != PROMO_OK)
				ereport(ERROR,
						(errcode(ERRCODE_ICOS_INVALID_RULE),
						 errmsg("promotion %d has an invalid rule: %s", d->id, err.msg),
						 errdetail("The rule was saved without validation (the validation trigger was disabled)."),
						 errhint("Correct or delete promotion %d.", d->id)));
			d->rule = rule;
			pfree(kind);
			pfree(ruletext);
			v = SPI_getbinval(t, td, 5, &isnull);
			d->has_start = !isnull;
			d->starts_at = isnull ? 0 : DatumGetTimestampTz(v);
			v = SPI_getbinval(t, td, 6, &isnull);
			d->has_end = !isnull;
			d->ends_at = isnull ? 0 : DatumGetTimestampTz(v);
			v = SPI_getbinval(t, td, 7, &isnull);
			if (!isnull)
			{
				ArrayType  *a = DatumGetArrayTypeP(v);
				Datum	   *elems;
				bool	   *nulls;
				int			n;
				int32	   *stores;

				deconstruct_array(a, INT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, &n);
				stores = palloc(sizeof(int32) * (n + 1));
				for (j = 0; j < (size_t) n; j++)
					stores[j] = nulls[j] ? -1 : DatumGetInt32(elems[j]);
				pfree(elems);
				pfree(nulls);
				if ((Pointer) a != DatumGetPointer(v))
					pfree(a);
				d->stores = stores;
				d->nstores = n;
			}
			v = SPI_getbinval(t, td, 8, &isnull);
			if (!isnull)
			{
				ArrayType  *a = DatumGetArrayTypeP(v);
				Datum	   *elems;
				bool	   *nulls;
				int			n;
				const char **ch;

				deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
				ch = palloc(sizeof(char *) * (n + 1));
				for (j = 0; j < (size_t) n; j++)
					ch[j] = nulls[j] ? "" : TextDatumGetCString(elems[j]);
				pfree(elems);
				pfree(nulls);
				if ((Pointer) a != DatumGetPointer(v))
					pfree(a);
				d->channels = ch;
				d->nchannels = n;
			}
			d->priority = DatumGetInt32(SPI_getbinval(t, td, 9, &isnull));
			d->coupon = SPI_getvalue(t, td, 10);
			d->max_per_order = DatumGetInt32(SPI_getbinval(t, td, 11, &isnull));

			/* Index every match of the rule. */
			keep = MemoryContextSwitchTo(caller);
			add_match_keys(&rule->target, i, &upc, &cat, &is_all);
			if (rule->kind == PROMO_BUY_GET && !rule->get_is_buy)
				add_match_keys(&rule->get, i, &upc, &cat, &is_all);
			for (j = 0; j < rule->nitems; j++)
				add_match_keys(&rule->items[j], i, &upc, &cat, &is_all);
			MemoryContextSwitchTo(keep);
			if (is_all)
				all[ix->nall++] = i;
		}
		ix->upc = keys_to_array(cxt, upc, &ix->nupc);
		ix->cat = keys_to_array(cxt, cat, &ix->ncat);
		list_free_deep(upc);
		list_free_deep(cat);
		ix->all = all;
		ix->canon = MemoryContextAlloc(cxt, sizeof(int) * (ix->ndefs + 1));
		for (i = 0; i < ix->ndefs; i++)
			ix->canon[i] = i;
		qsort_arg(ix->canon, ix->ndefs, sizeof(int), cmp_canonical, ix->defs);
		MemoryContextSwitchTo(old);

		/* The products of a basket: price in pence and category. */
		ix->product_plan = SPI_prepare("SELECT p.upc::pg_catalog.int8, "
									   "(p.price OPERATOR(pg_catalog.*) 100)::pg_catalog.int8, "
									   "p.category_id FROM icos.product p "
									   "WHERE p.upc OPERATOR(pg_catalog.=) ANY ($1::icos.upc[])",
									   1, argtypes);
		if (ix->product_plan == NULL)
			elog(ERROR, "icos: preparing the product query failed: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(ix->product_plan) != 0)
			elog(ERROR, "icos: keeping the product query failed");
		PopActiveSnapshot();
	}
	PG_CATCH();
	{
		promo_index_stale = true;
		MemoryContextSwitchTo(caller);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (promo_index != NULL)
	{
		if (promo_index->product_plan)
			SPI_freeplan(promo_index->product_plan);
		MemoryContextDelete(promo_index->cxt);
	}
	promo_index = ix;
	promo_index_lxid = lxid;
}

/* ---------------------------------------------------------------------
 * Reading the basket
 * ---------------------------------------------------------------------
 */

/* JSON text of a value, for error details. */
static char *
jbv_text(JsonbValue *v)
{
	Jsonb	   *jb = JsonbValueToJsonb(v);

	return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
}

/* Is v a container of the given kind (array or object)? */
static bool
jbv_is(JsonbValue *v, bool want_array)
{
	if (v == NULL || v->type != jbvBinary)
		return false;
	return want_array ? JsonContainerIsArray(v->val.binary.data) :
		JsonContainerIsObject(v->val.binary.data);
}

/*
 * A JSON number that is a whole number fitting int32 (2 and 2.0 both are,
 * as for icos._json_int); false otherwise.
 */
static bool
jbv_whole(JsonbValue *v, int32 *out)
{
	char	   *s;
	char	   *p;
	bool		neg = false;
	int64		n = 0;
	int			digits = 0;

	if (v->type != jbvNumeric)
		return false;
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	p = s;
	if (*p == '-')
	{
		neg = true;
		p++;
	}
	while (*p >= '0' && *p <= '9')
	{
		if (digits > 0 || *p != '0')
			digits++;
		if (digits > 10)
			return false;
		n = n * 10 + (*p - '0');
		p++;
	}
	if (*p == '.')
	{
		p++;
		while (*p == '0')
			p++;
	}
	if (*p != '\0')
		return false;
	if (neg)
		n = -n;
	if (n > PG_INT32_MAX || n < -(int64) PG_INT32_MAX)
		return false;
	*out = (int32) n;
	return true;
}

static JsonbValue *
jb_key(JsonbContainer *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

/* 22023 unless every key of the object is one of allowed (NULL-ended). */
static void
check_keys(JsonbContainer *obj, const char *const *allowed, const char *what)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			nknown = 0;
	int			i;

	for (i = 0; allowed[i]; i++)
		if (jb_key(obj, allowed[i]) != NULL)
			nknown++;
	if ((int) JsonContainerSize(obj) == nknown)
		return;

	it = JsonbIteratorInit(obj);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			bool		ok = false;
			StringInfoData keys;

			for (i = 0; allowed[i]; i++)
				if (strlen(allowed[i]) == (size_t) v.val.string.len &&
					memcmp(allowed[i], v.val.string.val, v.val.string.len) == 0)
					ok = true;
			if (ok)
				continue;
			initStringInfo(&keys);
			for (i = 0; allowed[i]; i++)
				appendStringInfo(&keys, "%s%s", i ? ", " : "", allowed[i]);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown key \"%.*s\" in %s", v.val.string.len, v.val.string.val, what),
					 errhint("The keys are %s.", keys.data)));
		}
	}
}

typedef struct BasketLine
{
	int32		line;
	int64		upc;
	int32		qty;
} BasketLine;

static const char *const basket_keys[] = {"lines", "store", "channel", "at", "customer", "coupons", NULL};
static const char *const line_keys[] = {"line", "upc", "qty", NULL};

/* A line's quantity, as the engine takes it: 1 .. PROMO_MAX_QTY. */
static void
check_qty(const char *what, int32 qty)
{
	if (qty <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs a quantity of at least 1", what)));
	if (qty > PROMO_MAX_QTY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has a quantity of %d, more than the %d one line may hold",
						what, qty, PROMO_MAX_QTY),
				 errhint("Split the quantity over several orders.")));
}

/* Read the basket document into b and lines; raise on bad input. */
static void
read_basket(Jsonb *jb, promo_basket *b, BasketLine **lines_out, int *nlines_out)
{
	JsonbContainer *root = &jb->root;
	JsonbValue *v;
	BasketLine *lines = NULL;
	int			nlines = 0;
	int32		n;

	if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("basket must be a JSON object"),
				 errdetail("Got %s.", JsonbToCString(NULL, root, VARSIZE(jb)))));
	check_keys(root, basket_keys, "basket");

	memset(b, 0, sizeof(*b));
	b->store = PG_INT32_MIN;	/* no store: matches no store list */

	v = jb_key(root, "store");
	if (v && v->type != jbvNull)
	{
		if (!jbv_whole(v, &n))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("basket \"store\" must be a whole number"),
					 errdetail("Got %s.", jbv_text(v))));
		b->store = n;
	}
	v = jb_key(root, "channel");
	if (v && v->type != jbvNull)
	{
		if (v->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("basket \"channel\" must be text"),
					 errdetail("Got %s.", jbv_text(v)),
					 errhint("The channels are store, phone, web and pos.")));
		b->channel = pnstrdup(v->val.string.val, v->val.string.len);
	}
	v = jb_key(root, "at");
	if (v && v->type != jbvNull)
	{
		if (v->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("basket \"at\" must be a timestamp as text"),
					 errdetail("Got %s.", jbv_text(v)),
					 errhint("Give a time such as \"2026-12-24 10:00:00+00\".")));
		b->at = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
														CStringGetDatum(pnstrdup(v->val.string.val, v->val.string.len)),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	}
	else
		b->at = GetCurrentTransactionStartTimestamp();

	v = jb_key(root, "coupons");
	if (v && v->type != jbvNull)
	{
		int			i;
		int			nc;
		const char **coupons;

		if (!jbv_is(v, true))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("basket \"coupons\" must be an array"),
					 errdetail("Got %s.", jbv_text(v))));
		nc = JsonContainerSize(v->val.binary.data);
		coupons = palloc(sizeof(char *) * (nc + 1));
		for (i = 0; i < nc; i++)
		{
			JsonbValue *c = getIthJsonbValueFromContainer(v->val.binary.data, i);

			if (c->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("basket coupon %d must be text", i + 1),
						 errdetail("Got %s.", jbv_text(c))));
			coupons[i] = pnstrdup(c->val.string.val, c->val.string.len);
		}
		b->coupons = coupons;
		b->ncoupons = nc;
	}

	v = jb_key(root, "lines");
	if (v && v->type != jbvNull)
	{
		int			i;

		if (!jbv_is(v, true))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("basket \"lines\" must be an array"),
					 errdetail("Got %s.", jbv_text(v))));
		nlines = JsonContainerSize(v->val.binary.data);
		lines = palloc(sizeof(BasketLine) * (nlines + 1));
		for (i = 0; i < nlines; i++)
		{
			JsonbValue *l = getIthJsonbValueFromContainer(v->val.binary.data, i);
			JsonbContainer *lc;
			JsonbValue *f;
			char		what[64];
			int32		qty;

			snprintf(what, sizeof(what), "basket line %d", i + 1);
			if (!jbv_is(l, false))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s must be a JSON object", what),
						 errdetail("Got %s.", jbv_text(l))));
			lc = l->val.binary.data;
			check_keys(lc, line_keys, what);
			lines[i].line = i + 1;
			f = jb_key(lc, "line");
			if (f && f->type != jbvNull && !jbv_whole(f, &lines[i].line))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("basket line \"line\" must be a whole number"),
						 errdetail("Got %s.", jbv_text(f))));
			f = jb_key(lc, "upc");
			if (f == NULL || f->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s needs \"upc\" as text", what),
						 errdetail("Got %s.", f ? jbv_text(f) : "nothing"),
						 errhint("Give the product code as a string, for example \"036000291452\", so leading zeros survive.")));
			lines[i].upc = DatumGetInt64(DirectFunctionCall1(upc_in,
															 CStringGetDatum(pnstrdup(f->val.string.val,
																					  f->val.string.len))));
			f = jb_key(lc, "qty");
			qty = 0;
			if (f && f->type != jbvNull && !jbv_whole(f, &qty))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("basket line \"qty\" must be a whole number"),
						 errdetail("Got %s.", jbv_text(f))));
			check_qty(what, qty);
			lines[i].qty = qty;
		}
	}
	*lines_out = lines;
	*nlines_out = nlines;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Index of the promotion with this id in the index, or -1. */
static int
def_by_id(PromoIndex *ix, int32 id)
{
	int			lo = 0,
				hi = ix->ndefs - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ix->defs[mid].id == id)
			return mid;
		if (ix->defs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * A promotion's id for a document: the numeric kept in the index (a
 * pricing explains hundreds of promotions), or a new one for an id the
 * index does not have.
 */
static Numeric
promo_id_numeric(PromoIndex *ix, int d, int32 id)
{
	if (d < 0)
		return int64_to_numeric(id);
	if (ix->idnums[d] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(ix->cxt);

		ix->idnums[d] = int64_to_numeric(id);
		MemoryContextSwitchTo(old);
	}
	return ix->idnums[d];
}

/* Mark the promotions of keys[] equal to key. */
static void
mark_key(const PromoKey *keys, int nkeys, int64 key, bool *seen)
{
	int			lo = 0,
				hi = nkeys;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (keys[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nkeys && keys[lo].key == key; lo++)
		seen[keys[lo].promo] = true;
}

/* Category ancestry of category c (c first), from the index. */
static int64 *
ancestry(PromoIndex *ix, int32 c, size_t *n)
{
	int64	   *out = palloc(sizeof(int64) * (ix->ncategories + 1));
	size_t		k = 0;

	while (c >= 0 && k <= (size_t) ix->ncategories)
	{
		int			lo = 0,
					hi = ix->ncategories - 1,
					at = -1;

		while (lo <= hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (ix->category_ids[mid] == c)
			{
				at = mid;
				break;
			}
			if (ix->category_ids[mid] < c)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		if (at < 0)
			break;
		out[k++] = c;
		c = ix->category_parent[at];
	}
	*n = k;
	return out;
}

static int
cmp_product(const void *a, const void *b)
{
	return cmp_int64(&((const ProductRow *) a)->upc, &((const ProductRow *) b)->upc);
}

static char *
upc_text(int64 v)
{
	return DatumGetCString(DirectFunctionCall1(upc_out, Int64GetDatum(v)));
}

/*
 * One pricing, valid until the work context is next reset: the engine's
 * lines (same order as the basket's), its result, and the index it used.
 */
typedef struct Pricing
{
	promo_line *plines;
	promo_result res;
	PromoIndex *ix;
	int64		valid_from;		/* the same answer for valid_from <= at */
	int64		valid_until;	/* ... < valid_until (the candidates' windows) */
} Pricing;

/*
 * Start a pricing: take the invalidations committed since the last call
 * (they mark the caches stale) and switch to the per-call memory, a
 * per-backend context emptied at the start and the end of every call,
 * whose first 2 MB block is kept: fresh memory on every call would be
 * paid for in page faults, and the document of a dense basket (hundreds
 * of promotions explained, every number a numeric) takes about 1 MB.  The
 * caller switches back and resets it.
 */
static MemoryContext
price_begin(void)
{
	AcceptInvalidationMessages();
	if (promo_index_lxid != InvalidLocalTransactionId &&
		(!IsInParallelMode() || promo_index_lxid != MyProc->lxid))
		promo_index_stale = true;

	if (work_cxt == NULL)
	{
		work_cxt = AllocSetContextCreate(TopMemoryContext, "icos price_basket",
										 WORK_KEPT_SIZE, WORK_KEPT_SIZE, ALLOCSET_DEFAULT_MAXSIZE);
		RegisterXactCallback(promo_xact_callback, NULL);
	}
	MemoryContextReset(work_cxt);
	MemoryContextSwitchTo(work_cxt);
	return work_cxt;
}

/* The largest basket or order, in pence before discounts: 10,000,000.00. */
#define PRICE_MAX_TOTAL INT64CONST(1000000000)

/*
 * Price the basket's lines (basket->lines and nlines are set here) in the
 * work context: products from the cache (misses in one query), candidate
 * promotions from the index, then the engine.
 */
static void
price_evaluate(promo_basket *basket, const BasketLine *lines, int nlines, Pricing *out)
{
	MemoryContext work = CurrentMemoryContext;
	ProductRow *products;
	int			nproducts = 0;
	Datum	   *missing;
	int			nmissing = 0;
	promo_line *plines;
	promo_def  *cands;
	int			ncands = 0;
	bool	   *seen;
	PromoIndex *ix;
	promo_alloc hooks = promo_hooks(work);
	promo_arena arena;
	promo_alloc arena_hooks;
	promo_error err;
	promo_status st;
	int			i;
	size_t		j;

	/* The basket's products: from the cache, misses in one query. */
	if (product_cache == NULL || product_cache_stale)
	{
		HASHCTL		ctl;

		if (product_cache != NULL)
			hash_destroy(product_cache);
		product_cache = NULL;
		price_memo_reset();
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(ProductRow);
		ctl.hcxt = CacheMemoryContext;
		product_cache = hash_create("icos product cache", 1024, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		product_cache_stale = false;
	}
	products = palloc(sizeof(ProductRow) * (2 * nlines + 1));
	missing = palloc(sizeof(Datum) * (nlines + 1));
	for (i = 0; i < nlines; i++)
	{
		ProductRow *hit = hash_search(product_cache, &lines[i].upc, HASH_FIND, NULL);

		if (hit)
			products[nproducts++] = *hit;
		else
			missing[nmissing++] = Int64GetDatum(lines[i].upc);
	}

	/* The index (built or rebuilt if stale), and the misses. */
	if (promo_index == NULL || promo_index_stale || nmissing > 0)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "icos: SPI_connect failed");
		if (promo_index == NULL || promo_index_stale)
		{
			price_memo_reset();
			promo_index_build();
		}
		if (nmissing > 0)
		{
			ArrayType  *arr;
			Datum		arg;
			int			rc;
			bool		cacheable = !IsInParallelMode();

			/*
			 * As for the index: rows read with the latest snapshot may be
			 * cached (any later change sends an invalidation after it); in a
			 * parallel operation read with the current one, cache nothing.
			 */
			arr = construct_array(missing, nmissing, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
			arg = PointerGetDatum(arr);
			PushActiveSnapshot(cacheable ? GetLatestSnapshot() : GetTransactionSnapshot());
			rc = SPI_execute_plan(promo_index->product_plan, &arg, NULL, true, 0);
			PopActiveSnapshot();
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "icos: product query failed: %s", SPI_result_code_string(rc));
			if (hash_get_num_entries(product_cache) + (long) SPI_processed > PRODUCT_CACHE_MAX)
				product_cache_stale = true; /* emptied by the next call */
			for (j = 0; j < SPI_processed; j++)
			{
				HeapTuple	t = SPI_tuptable->vals[j];
				TupleDesc	td = SPI_tuptable->tupdesc;
				ProductRow *p = &products[nproducts++];
				bool		isnull;
				Datum		c;

				p->upc = DatumGetInt64(SPI_getbinval(t, td, 1, &isnull));
				p->price = DatumGetInt64(SPI_getbinval(t, td, 2, &isnull));
				c = SPI_getbinval(t, td, 3, &isnull);
				p->category = isnull ? -1 : DatumGetInt32(c);
				if (cacheable && !product_cache_stale)
				{
					bool		found;
					ProductRow *e = hash_search(product_cache, &p->upc, HASH_ENTER, &found);

					*e = *p;
				}
			}
		}
		SPI_finish();
	}
	ix = promo_index;
	MemoryContextSwitchTo(work);
	qsort(products, nproducts, sizeof(ProductRow), cmp_product);

	/* Lines for the engine, and the candidate promotions from the index. */
	plines = palloc0(sizeof(promo_line) * (nlines + 1));
	seen = palloc0(sizeof(bool) * (ix->ndefs + 1));
	for (i = 0; i < ix->nall; i++)
		seen[ix->all[i]] = true;
	for (i = 0; i < nlines; i++)
	{
		ProductRow	key;
		ProductRow *p;
		int64	   *cats;
		size_t		ncats;

		key.upc = lines[i].upc;
		p = bsearch(&key, products, nproducts, sizeof(ProductRow), cmp_product);
		if (p == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_UNKNOWN),
					 errmsg("unknown product %s", upc_text(lines[i].upc)),
					 errdetail("No product in the catalogue has this code.")));
		cats = ancestry(ix, p->category, &ncats);
		plines[i].line = lines[i].line;
		plines[i].item = p->upc;
		plines[i].unit_price = p->price;
		plines[i].qty = lines[i].qty;
		plines[i].categories = cats;
		plines[i].ncategories = ncats;
		mark_key(ix->upc, ix->nupc, p->upc, seen);
		for (j = 0; j < ncats; j++)
			mark_key(ix->cat, ix->ncat, cats[j], seen);
	}
	cands = palloc(sizeof(promo_def) * (ix->ndefs + 1));
	for (i = 0; i < ix->ndefs; i++)
		if (seen[ix->canon[i]])
			cands[ncands++] = ix->defs[ix->canon[i]];

	/*
	 * The instant enters the pricing only through the candidates' windows:
	 * the same basket gets the same answer between the window boundaries
	 * that surround basket->at (price_memo.c).
	 */
	out->valid_from = PG_INT64_MIN;
	out->valid_until = PG_INT64_MAX;
	for (i = 0; i < ncands; i++)
	{
		int64		t[2];
		bool		has[2];
		int			k;

		t[0] = cands[i].starts_at;
		has[0] = cands[i].has_start;
		t[1] = cands[i].ends_at;
		has[1] = cands[i].has_end;
		for (k = 0; k < 2; k++)
		{
			if (!has[k])
				continue;
			if (t[k] <= basket->at)
				out->valid_from = Max(out->valid_from, t[k]);
			else
				out->valid_until = Min(out->valid_until, t[k]);
		}
	}

	basket->lines = plines;
	basket->nlines = nlines;
	/*
	 * The engine's working memory: a per-backend buffer reused by every call
	 * (a 50-line basket against a thousand promotions takes about 1 MB,
	 * which as fresh memory per call cost more in page faults than the
	 * search itself); a basket that needs more is evaluated again in the
	 * call's context.
	 */
	if (eval_buf == NULL)
		eval_buf = MemoryContextAlloc(TopMemoryContext, EVAL_BUF_SIZE);
	promo_arena_init(&arena, eval_buf, EVAL_BUF_SIZE);
	arena_hooks = promo_arena_hooks(&arena);
	st = promo_evaluate(basket, cands, ncands, NULL, &arena_hooks, &out->res, &err);
	if (st == PROMO_ENOMEM)
		st = promo_evaluate(basket, cands, ncands, NULL, &hooks, &out->res, &err);
	if (st == PROMO_ENOMEM)
		promo_report_oom();
	if (st != PROMO_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("basket cannot be priced: %s", err.msg)));
	/* The maximum order total (docs/orders.md), for baskets and orders alike. */
	if (out->res.gross > PRICE_MAX_TOTAL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("basket total of " INT64_FORMAT ".%02d is above the maximum of " INT64_FORMAT ".00",
						(int64) out->res.gross / 100, (int) (out->res.gross % 100),
						(int64) PRICE_MAX_TOTAL / 100),
				 errhint("Split the order, or check the quantities.")));
	out->plines = plines;
	out->ix = ix;
}

/*
 * The document icos.price_basket returns for a pricing, written into
 * result_cxt (numbers made on the way are the current context's).  Keys
 * are listed in jsonb's order (jsonb_write.c).
 */
static Jsonb *
price_document(const Pricing *p, MemoryContext result_cxt)
{
	static const char *const root_keys[] = {"gross", "lines", "total", "applied",
	"discount", "approximate", "not_applied"};
	static const char *const root_keys_gap[] = {"gap", "gross", "lines", "total",
	"applied", "discount", "approximate", "not_applied"};
	static const char *const line_keys[] = {"net", "qty", "upc", "line", "gross",
	"discount", "promotions", "unit_price"};
	static const char *const promo_keys[] = {"id", "amount"};
	static const char *const applied_keys[] = {"id", "name", "times", "amount"};
	static const char *const na_keys[] = {"id", "name", "detail", "reason", "lost_to"};
	const promo_result *res = &p->res;
	const promo_line *plines = p->plines;
	PromoIndex *ix = p->ix;
	JsonbWriter w;
	MemoryContext old = MemoryContextSwitchTo(result_cxt);
	size_t		j;

	jbw_init(&w);
	MemoryContextSwitchTo(old);
	if (res->approximate)
	{
		jbw_begin_object(&w, lengthof(root_keys_gap), root_keys_gap);
		jbw_pounds(&w, res->gap);	/* the most a better answer saves */
	}
	else
		jbw_begin_object(&w, lengthof(root_keys), root_keys);
	jbw_pounds(&w, res->gross);
	jbw_begin_array(&w, (int) res->nlines);
	for (j = 0; j < res->nlines; j++)
	{
		promo_line_result *lr = &res->lines[j];
		size_t		k;

		jbw_begin_object(&w, lengthof(line_keys), line_keys);
		jbw_pounds(&w, lr->net);
		jbw_int(&w, plines[j].qty);
		jbw_string(&w, upc_text(plines[j].item));
		jbw_int(&w, lr->line);
		jbw_pounds(&w, lr->gross);
		jbw_pounds(&w, lr->discount);
		jbw_begin_array(&w, (int) lr->npromos);
		for (k = 0; k < lr->npromos; k++)
		{
			jbw_begin_object(&w, lengthof(promo_keys), promo_keys);
			jbw_numeric(&w, promo_id_numeric(ix, def_by_id(ix, lr->promos[k].id),
											 lr->promos[k].id));
			jbw_pounds(&w, lr->promos[k].amount);
			jbw_end(&w);
		}
		jbw_end(&w);
		jbw_pounds(&w, plines[j].unit_price);
		jbw_end(&w);
	}
	jbw_end(&w);
	jbw_pounds(&w, res->total);
	jbw_begin_array(&w, (int) res->napplied);
	for (j = 0; j < res->napplied; j++)
	{
		int			d = def_by_id(ix, res->applied[j].id);

		jbw_begin_object(&w, lengthof(applied_keys), applied_keys);
		jbw_numeric(&w, promo_id_numeric(ix, d, res->applied[j].id));
		jbw_string(&w, d >= 0 ? ix->names[d] : NULL);
		jbw_int(&w, res->applied[j].times);
		jbw_pounds(&w, res->applied[j].amount);
		jbw_end(&w);
	}
	jbw_end(&w);
	jbw_pounds(&w, res->discount);
	jbw_bool(&w, res->approximate);
	jbw_begin_array(&w, (int) res->nnot_applied);
	for (j = 0; j < res->nnot_applied; j++)
	{
		promo_not_applied *na = &res->not_applied[j];
		int			d = def_by_id(ix, na->id);
		bool		lost = na->reason == PROMO_LOST_TO;

		/* "lost_to", the last key, only for that reason */
		jbw_begin_object(&w, lengthof(na_keys) - (lost ? 0 : 1), na_keys);
		jbw_numeric(&w, promo_id_numeric(ix, d, na->id));
		jbw_string(&w, d >= 0 ? ix->names[d] : NULL);
		jbw_string(&w, na->detail);
		jbw_string(&w, promo_reason_name(na->reason));
		if (lost)
			jbw_numeric(&w, promo_id_numeric(ix, def_by_id(ix, na->other), na->other));
		jbw_end(&w);
	}
	jbw_end(&w);
	jbw_end(&w);
	return jbw_finish(&w);
}

/* ---------------------------------------------------------------------
 * The memo of finished pricings (src/price_memo.c)
 * ---------------------------------------------------------------------
 */

/*
 * Whether the memo may be used now: outside parallel operations, and only
 * while the promotion index and the product cache it was filled from are
 * current.  When either is stale the memo is emptied with it.
 */
static bool
memo_usable(void)
{
	if (IsInParallelMode())
		return false;
	if (promo_index == NULL || promo_index_stale ||
		promo_index_lxid != InvalidLocalTransactionId ||
		product_cache == NULL || product_cache_stale)
	{
		price_memo_reset();
		return false;
	}
	return true;
}

static void
key_bytes(StringInfo k, const void *p, int len)
{
	appendBinaryStringInfo(k, (const char *) p, len);
}

static void
key_text(StringInfo k, const char *s)
{
	int32		len = s ? (int32) strlen(s) : -1;

	key_bytes(k, &len, sizeof(len));
	if (s)
		key_bytes(k, s, len);
}

/* The memo key of a basket: everything read from it but the instant. */
static void
memo_key(StringInfo k, const promo_basket *b, const BasketLine *lines, int nlines)
{
	size_t		i;
	int			j;

	initStringInfo(k);
	key_bytes(k, &b->store, sizeof(b->store));
	key_text(k, b->channel);
	key_bytes(k, &b->ncoupons, sizeof(b->ncoupons));
	for (i = 0; i < b->ncoupons; i++)
		key_text(k, b->coupons[i]);
	key_bytes(k, &nlines, sizeof(nlines));
	for (j = 0; j < nlines; j++)
	{
		key_bytes(k, &lines[j].line, sizeof(lines[j].line));
		key_bytes(k, &lines[j].upc, sizeof(lines[j].upc));
		key_bytes(k, &lines[j].qty, sizeof(lines[j].qty));
	}
}

/* Store a pricing (and its document, if built) under key. */
static void
memo_store(StringInfo key, const Pricing *p, Jsonb *document)
{
	PriceMemoValue v;
	size_t		j;

	if (!memo_usable())
		return;
	v.nlines = (int) p->res.nlines;
	v.lines = palloc(sizeof(PricedLine) * (p->res.nlines + 1));
	for (j = 0; j < p->res.nlines; j++)
	{
		v.lines[j].unit_price = p->plines[j].unit_price;
		v.lines[j].discount = p->res.lines[j].discount;
		v.lines[j].net = p->res.lines[j].net;
	}
	v.gross = p->res.gross;
	v.discount = p->res.discount;
	v.total = p->res.total;
	v.kept = p->res.napplied > 0 || p->res.nnot_applied > 0 || p->res.approximate;
	v.document = document;
	price_memo_put(key->data, key->len, p->valid_from, p->valid_until, &v);
}

/* A copy of a stored document in the current memory context. */
static Jsonb *
memo_document(const PriceMemoValue *v)
{
	Jsonb	   *out = palloc(VARSIZE(v->document));

	memcpy(out, v->document, VARSIZE(v->document));
	return out;
}

PG_FUNCTION_INFO_V1(price_basket);

/*
 * icos.price_basket(basket jsonb) returns jsonb
 */
Datum
price_basket(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	promo_basket basket;
	BasketLine *lines;
	int			nlines;
	Pricing		p;
	Jsonb	   *out;
	StringInfoData key;
	const PriceMemoValue *hit;

	/* The function is not strict: a null basket is refused like a number. */
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("basket must be a JSON object"),
				 errdetail("Got null.")));
	work = price_begin();
	read_basket(PG_GETARG_JSONB_P(0), &basket, &lines, &nlines);
	memo_key(&key, &basket, lines, nlines);
	if (memo_usable() &&
		(hit = price_memo_get(key.data, key.len, basket.at)) != NULL &&
		hit->document != NULL)
	{
		MemoryContextSwitchTo(caller);
		out = memo_document(hit);
		MemoryContextReset(work);
		PG_RETURN_JSONB_P(out);
	}
	price_evaluate(&basket, lines, nlines, &p);
	out = price_document(&p, caller);
	memo_store(&key, &p, out);
	MemoryContextSwitchTo(caller);
	MemoryContextReset(work);
	PG_RETURN_JSONB_P(out);
}

/*
 * The same pricing for C callers (the order engine, src/order_write.c):
 * the basket price_basket would read from {"lines": [{"line": i + 1,
 * "upc": upcs[i], "qty": qtys[i]}, ...], "store": store, "channel":
 * channel, "coupons": []} priced at the transaction's start, without the
 * document round trip.  Fills lines[0 .. nlines - 1] and the totals; the
 * document itself (in the caller's memory context) only when an order
 * keeps it, as icos._pricing_kept decides: a promotion applied or reported
 * not applied, or a search that was not exact.
 */
void
price_lines(int32 store, const char *channel, int nlines, const int64 *upcs,
			const int32 *qtys, PricedLine *priced, PricedBasket *totals)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work = price_begin();
	promo_basket basket;
	BasketLine *lines;
	Pricing		p;
	int			i;
	size_t		j;
	StringInfoData key;
	const PriceMemoValue *hit;
	Jsonb	   *document = NULL;

	memset(&basket, 0, sizeof(basket));
	basket.store = store;
	basket.channel = channel;
	basket.at = GetCurrentTransactionStartTimestamp();
	lines = palloc(sizeof(BasketLine) * (nlines + 1));
	for (i = 0; i < nlines; i++)
	{
		char		what[64];

		snprintf(what, sizeof(what), "basket line %d", i + 1);
		check_qty(what, qtys[i]);
		lines[i].line = i + 1;
		lines[i].upc = upcs[i];
		lines[i].qty = qtys[i];
	}
	memo_key(&key, &basket, lines, nlines);
	if (memo_usable() &&
		(hit = price_memo_get(key.data, key.len, basket.at)) != NULL &&
		hit->nlines == nlines && (!hit->kept || hit->document != NULL))
	{
		memcpy(priced, hit->lines, sizeof(PricedLine) * nlines);
		totals->gross = hit->gross;
		totals->discount = hit->discount;
		totals->total = hit->total;
		MemoryContextSwitchTo(caller);
		totals->document = hit->kept ? memo_document(hit) : NULL;
		MemoryContextReset(work);
		return;
	}
	price_evaluate(&basket, lines, nlines, &p);

	memset(priced, 0, sizeof(PricedLine) * nlines);
	for (j = 0; j < p.res.nlines; j++)
	{
		const promo_line_result *lr = &p.res.lines[j];

		if (lr->line >= 1 && lr->line <= nlines)
		{
			priced[lr->line - 1].unit_price = p.plines[j].unit_price;
			priced[lr->line - 1].discount = lr->discount;
			priced[lr->line - 1].net = lr->net;
		}
	}
	totals->gross = p.res.gross;
	totals->discount = p.res.discount;
	totals->total = p.res.total;
	totals->document = NULL;
	if (p.res.napplied > 0 || p.res.nnot_applied > 0 || p.res.approximate)
	{
		totals->document = price_document(&p, caller);
		document = totals->document;
	}
	memo_store(&key, &p, document);
	MemoryContextSwitchTo(caller);
	MemoryContextReset(work);
}

/* ---------------------------------------------------------------------
 * Rule validation trigger
 * ---------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(promotion_validate);

/*
 * BEFORE INSERT OR UPDATE trigger of icos.promotion: compiles kind and rule
 * with the core and raises IC005 with its message (naming the bad key).
 */
Datum
promotion_validate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	td;
	int			c_id,
				c_kind,
				c_rule;
	bool		isnull;
	Datum		v;
	char	   *kind;
	char	   *ruletext;
	Jsonb	   *rule;
	int32		id;
	promo_alloc hooks;
	promo_rule *compiled;
	promo_error err;
	promo_status st;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icos._promotion_validate() must be a BEFORE INSERT OR UPDATE row trigger")));
	tup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	td = RelationGetDescr(trigdata->tg_relation);
	c_id = SPI_fnumber(td, "promotion_id");
	c_kind = SPI_fnumber(td, "kind");
	c_rule = SPI_fnumber(td, "rule");
	if (c_id <= 0 || c_kind <= 0 || c_rule <= 0)
		elog(ERROR, "icos._promotion_validate(): table lacks promotion_id, kind or rule");

	v = heap_getattr(tup, c_id, td, &isnull);
	id = isnull ? 0 : DatumGetInt32(v);
	v = heap_getattr(tup, c_kind, td, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_INVALID_RULE),
				 errmsg("promotion %d needs a kind", id),
				 errhint("The kinds are percent_off, amount_off, fixed_price, multibuy, buy_get, bundle and spend_threshold.")));
	kind = TextDatumGetCString(v);
	v = heap_getattr(tup, c_rule, td, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_INVALID_RULE),
				 errmsg("promotion %d needs a rule", id),
				 errhint("docs/promotions.md gives the rule of each kind.")));
	rule = DatumGetJsonbP(v);
	ruletext = JsonbToCString(NULL, &rule->root, VARSIZE(rule));

	hooks = promo_hooks(CurrentMemoryContext);
	st = promo_rule_compile(kind, ruletext, strlen(ruletext), NULL, NULL, &hooks,
							&compiled, &err);
	if (st == PROMO_ENOMEM)
		promo_report_oom();
	if (st != PROMO_OK)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_INVALID_RULE),
				 errmsg("%s", err.msg),
				 errdetail("Promotion %d (kind %s) was not saved.", id, kind),
				 errhint("docs/promotions.md gives the keys of each kind.")));
	return PointerGetDatum(tup);
}
