/*-------------------------------------------------------------------------
 *
 * lookup.c
 *	  The reference data the order engine (src/order_resolve.c) decides by,
 *	  cached per backend: stores by id (name, kind, node), the session's
 *	  employee (by session user), products' placement flags (active, made to
 *	  order) and VAT rate (icos.product_vat_rate: the rate a line is written
 *	  with) by code, and whether payments are allowed while an order awaits
 *	  payment (icos.change_rule).
 *
 * These rows almost never change, and reading them with one SQL statement
 * per order cost an eighth of an order's instructions.  They follow the
 * pattern of the product cache of src/promotion.c:
 *
 *	- Each cache is filled on a miss by one query (a kept SPI plan) read with
 *	  the latest snapshot, and emptied when its table changes: a statement
 *	  trigger on icos.store, icos.employee, icos.change_rule and
 *	  icos.vat_rate (icos._table_changed, src/sql/0.2.0/42_lookup_cache.sql
 *	  and 0.3.0/42_vat.sql; a row
 *	  trigger enabled for replica sessions where the replication apply
 *	  worker, which fires no statement trigger, writes them) and the
 *	  promotion trigger already on icos.product send a relcache invalidation
 *	  of the table; the callback below marks that cache stale.
 *	- lookup_begin first takes the pending invalidations, so a change
 *	  another session committed is seen by the next placement even in the
 *	  middle of a transaction.  This transaction's own changes are seen too:
 *	  its invalidations are processed here at the end of the command that
 *	  made them, and the latest snapshot sees that command's rows.  A
 *	  rolled-back change (transaction or savepoint) sends its invalidations
 *	  again at the rollback, so what was cached from it is dropped.
 *	- An invalidation that arrives while a cache is in use (during a fill's
 *	  query) marks it stale at once: from then until the next lookup_begin
 *	  it is neither read nor filled, every look-up is a query.
 *	- A transaction that reads with one snapshot (repeatable read,
 *	  serializable) uses no cache: each look-up is a query with the
 *	  transaction's snapshot, as the single statement these caches replace
 *	  was (and as the general path reads), and serializable transactions
 *	  keep their read dependencies.
 *	- Bounded: a cache that would grow past its maximum is emptied.
 *
 * Whether a named customer exists is not cached (customers are not
 * reference data): one query with the statement's snapshot, only for
 * orders that name one.
 *
 * Queries run as the current user, which for icos.place_order (SECURITY
 * DEFINER) is the extension's owner, as for the statement they replace.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "lookup.h"

#define LOOKUP_STORE_MAX	10000
#define LOOKUP_PRODUCT_MAX	100000

typedef struct StoreEntry
{
	int32		store_id;		/* hash key */
	LookupStore v;				/* name in store_cxt */
} StoreEntry;

typedef struct ProductEntry
{
	int64		upc;			/* hash key (GTIN-14 number) */
	LookupProduct v;
} ProductEntry;

typedef enum LookupPlanId
{
	LP_STORE,
	LP_EMPLOYEE,
	LP_PRODUCTS,
	LP_RULE,
	LP_CUSTOMER,
	LP_COUNT
} LookupPlanId;

static const char *const lookup_sql[LP_COUNT] = {
	"SELECT s.name, s.kind, s.node_id FROM icos.store s WHERE s.store_id = $1",
	"SELECT e.employee_id, e.store_id FROM icos.employee e"
	" WHERE e.role_name = pg_catalog.session_user()",
	"SELECT p.upc::pg_catalog.int8, p.active, p.made_to_order, p.lead_time_days, p.name,"
	" (v.vat_rate OPERATOR(pg_catalog.*) 100)::pg_catalog.int4"
	" FROM icos.product p JOIN icos.product_vat_rate v ON v.upc OPERATOR(pg_catalog.=) p.upc"
	" WHERE p.upc OPERATOR(pg_catalog.=) ANY ($1::icos.upc[])",
	"SELECT EXISTS (SELECT 1 FROM icos.change_rule cr"
	" WHERE cr.status = 'awaiting_payment' AND cr.change_kind = 'payment' AND cr.allowed)",
	"SELECT EXISTS (SELECT 1 FROM icos.customer cu WHERE cu.customer_id = $1)"
};

static SPIPlanPtr lookup_plans[LP_COUNT];

static bool lookup_registered = false;
static bool relids_valid = false;
static Oid	store_relid = InvalidOid;
static Oid	employee_relid = InvalidOid;
static Oid	product_relid = InvalidOid;
static Oid	rule_relid = InvalidOid;
static Oid	vat_relid = InvalidOid;

/* Set by lookup_begin: false in a transaction that reads with one snapshot. */
static bool use_cache = false;

static bool store_stale = true;
static MemoryContext store_cxt = NULL;	/* the hash and the names */
static HTAB *store_hash = NULL;

static bool product_stale = true;
static MemoryContext product_cxt = NULL;
static HTAB *product_hash = NULL;

static bool employee_stale = true;
static bool employee_valid = false;
static Oid	employee_user;		/* the session user it was read for */
static bool employee_found;
static int32 employee_id;
static int32 employee_store;

static bool rule_stale = true;
static bool rule_valid = false;
static bool rule_allowed;

/* ---------------------------------------------------------------------
 * Invalidation
 * ---------------------------------------------------------------------
 */
static void
lookup_relcache_callback(Datum arg, Oid relid)
{
	bool		all = !OidIsValid(relid);

	if (all || relid == store_relid)
		store_stale = true;
	if (all || relid == employee_relid)
		employee_stale = true;
	if (all || relid == product_relid || relid == vat_relid)
		product_stale = true;
	if (all || relid == rule_relid)
		rule_stale = true;
	/* the table may have been dropped: find them again */
	if (all || relid == store_relid || relid == employee_relid ||
		relid == product_relid || relid == rule_relid || relid == vat_relid)
		relids_valid = false;
}

/* A role renamed: the employee row read for the session user may not be its. */
static void
lookup_role_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	employee_stale = true;
}

static Oid
lookup_relid(Oid nsp, const char *relname)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "icos.%s does not exist", relname);
	return relid;
}

/*
 * Before the look-ups of one placement: take the invalidations sent since
 * the last, empty the caches they made stale, and decide whether the caches
 * may be used in this transaction.
 */
void
lookup_begin(void)
{
	if (!lookup_registered)
	{
		CacheRegisterRelcacheCallback(lookup_relcache_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, lookup_role_callback, (Datum) 0);
		store_cxt = AllocSetContextCreate(CacheMemoryContext, "icos store look-ups",
										  ALLOCSET_SMALL_SIZES);
		product_cxt = AllocSetContextCreate(CacheMemoryContext, "icos product look-ups",
											ALLOCSET_DEFAULT_SIZES);
		lookup_registered = true;
	}
	AcceptInvalidationMessages();
	if (!relids_valid)
	{
		/*
		 * An invalidation during these look-ups clears the flag again; so
		 * does an error, which would leave some of them unset.
		 */
		relids_valid = true;
		PG_TRY();
		{
			Oid			nsp = get_namespace_oid("icos", false);

			store_relid = lookup_relid(nsp, "store");
			employee_relid = lookup_relid(nsp, "employee");
			product_relid = lookup_relid(nsp, "product");
			rule_relid = lookup_relid(nsp, "change_rule");
			vat_relid = lookup_relid(nsp, "vat_rate");
		}
		PG_CATCH();
		{
			relids_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	use_cache = !IsolationUsesXactSnapshot() && !IsInParallelMode();

	if (store_stale)
	{
		MemoryContextReset(store_cxt);	/* deletes the hash too */
		store_hash = NULL;
		store_stale = false;
	}
	if (product_stale)
	{
		MemoryContextReset(product_cxt);
		product_hash = NULL;
		product_stale = false;
	}
	if (employee_stale)
	{
		employee_valid = false;
		employee_stale = false;
	}
	if (rule_stale)
	{
		rule_valid = false;
		rule_stale = false;
	}
	if (store_hash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(StoreEntry);
		ctl.hcxt = store_cxt;
		store_hash = hash_create("icos store look-ups", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	if (product_hash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(ProductEntry);
		ctl.hcxt = product_cxt;
		product_hash = hash_create("icos product look-ups", 1024, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
}

/* ---------------------------------------------------------------------
 * Reading
 * ---------------------------------------------------------------------
 */
static SPIPlanPtr
lookup_plan(LookupPlanId id)
{
	static const int nargs[LP_COUNT] = {1, 0, 1, 0, 1};
	Oid			argtypes[LP_COUNT][1] = {{INT4OID}, {InvalidOid}, {INT8ARRAYOID},
	{InvalidOid}, {INT8OID}};

	if (lookup_plans[id] == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(lookup_sql[id], nargs[id], argtypes[id],
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "could not prepare placement look-up %d: %s", id,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep placement look-up %d", id);
		lookup_plans[id] = plan;
	}
	return lookup_plans[id];
}

/*
 * Run look-up id (SPI connected): with the latest snapshot when what it
 * reads is to be cached (any change committed after it sends an
 * invalidation this backend takes later), else with the active one.
 */
static void
lookup_run(LookupPlanId id, Datum *args, bool cached)
{
	int			rc;

	if (cached)
		PushActiveSnapshot(GetLatestSnapshot());
	rc = SPI_execute_plan(lookup_plan(id), args, NULL, true, 0);
	if (cached)
		PopActiveSnapshot();
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "placement look-up %d failed: %s", id, SPI_result_code_string(rc));
}

static Datum
lookup_col(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* The store store_id in *out (out->found false when there is none). */
void
lookup_store(int32 store_id, LookupStore *out)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		cached = use_cache && !store_stale;
	StoreEntry *e;
	bool		isnull;
	Datum		arg = Int32GetDatum(store_id);

	if (cached && (e = hash_search(store_hash, &store_id, HASH_FIND, NULL)) != NULL)
	{
		*out = e->v;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lookup_run(LP_STORE, &arg, cached);
	if (SPI_processed > 1)
		elog(ERROR, "placement look-up: %d stores numbered %d", (int) SPI_processed, store_id);
	if (SPI_processed == 1)
	{
		char	   *kind = TextDatumGetCString(lookup_col(0, 2, &isnull));

		out->found = true;
		out->is_store = strcmp(kind, "store") == 0;
		out->holds_stock = out->is_store || strcmp(kind, "warehouse") == 0;
		out->node_id = DatumGetInt32(lookup_col(0, 3, &isnull));
		out->name = MemoryContextStrdup(caller, TextDatumGetCString(lookup_col(0, 1, &isnull)));
		out->kind = MemoryContextStrdup(caller, kind);
	}
	SPI_finish();
	/* cache it unless an invalidation came during the query */
	if (cached && !store_stale)
	{
		if (hash_get_num_entries(store_hash) >= LOOKUP_STORE_MAX)
			store_stale = true; /* emptied by the next lookup_begin */
		else
		{
			e = hash_search(store_hash, &store_id, HASH_ENTER, NULL);
			e->v = *out;
			if (out->found)
			{
				e->v.name = MemoryContextStrdup(store_cxt, out->name);
				e->v.kind = MemoryContextStrdup(store_cxt, out->kind);
			}
		}
	}
}

/*
 * The session user's employee row: true and its id and store, or false
 * when the session user is no employee.
 */
bool
lookup_employee(int32 *id, int32 *store)
{
	Oid			user = GetSessionUserId();
	bool		cached = use_cache && !employee_stale;
	bool		found;
	int32		i = 0,
				s = 0;

	if (cached && employee_valid && employee_user == user)
	{
		*id = employee_id;
		*store = employee_store;
		return employee_found;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lookup_run(LP_EMPLOYEE, NULL, cached);
	if (SPI_processed > 1)
		elog(ERROR, "placement look-up: %d employees for the session user", (int) SPI_processed);
	found = SPI_processed == 1;
	if (found)
	{
		bool		isnull;

		i = DatumGetInt32(lookup_col(0, 1, &isnull));
		s = DatumGetInt32(lookup_col(0, 2, &isnull));
	}
	SPI_finish();
	if (cached && !employee_stale)
	{
		employee_valid = true;
		employee_user = user;
		employee_found = found;
		employee_id = i;
		employee_store = s;
	}
	*id = i;
	*store = s;
	return found;
}

/* The flags of the products upcs[0 .. n - 1] in out[0 .. n - 1]. */
void
lookup_products(int n, const int64 *upcs, LookupProduct *out)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		cached = use_cache && !product_stale;
	Datum	   *missing = palloc(sizeof(Datum) * n);
	int			nmissing = 0;
	int			i;
	uint64		j;

	for (i = 0; i < n; i++)
	{
		ProductEntry *e = cached ? hash_search(product_hash, &upcs[i], HASH_FIND, NULL) : NULL;

		if (e != NULL)
			out[i] = e->v;
		else
		{
			memset(&out[i], 0, sizeof(LookupProduct));
			missing[nmissing++] = Int64GetDatum(upcs[i]);
		}
	}
	if (nmissing == 0)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		Datum		arg = PointerGetDatum(construct_array(missing, nmissing, INT8OID, 8,
														  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

		lookup_run(LP_PRODUCTS, &arg, cached);
	}
	/* the rows found (each upc once: it is the key of icos.product) */
	for (j = 0; j < SPI_processed; j++)
	{
		bool		isnull;
		int64		upc = DatumGetInt64(lookup_col(j, 1, &isnull));
		LookupProduct v;

		v.found = true;
		v.active = DatumGetBool(lookup_col(j, 2, &isnull));
		v.made_to_order = DatumGetBool(lookup_col(j, 3, &isnull));
		v.lead_time_days = DatumGetInt32(lookup_col(j, 4, &isnull));
		if (isnull)
			v.lead_time_days = 0;
		v.name = MemoryContextStrdup(caller, TextDatumGetCString(lookup_col(j, 5, &isnull)));
		v.vat_rate_cents = DatumGetInt32(lookup_col(j, 6, &isnull));
		for (i = 0; i < n; i++)
			if (upcs[i] == upc)
				out[i] = v;
	}
	SPI_finish();
	if (cached && !product_stale)
	{
		if (hash_get_num_entries(product_hash) + nmissing > LOOKUP_PRODUCT_MAX)
			product_stale = true;	/* emptied by the next lookup_begin */
		else
			for (i = 0; i < n; i++)
			{
				bool		present;
				ProductEntry *e = hash_search(product_hash, &upcs[i], HASH_ENTER, &present);

				if (present)
					continue;
				e->v = out[i];
				if (out[i].found)
					e->v.name = MemoryContextStrdup(product_cxt, out[i].name);
			}
	}
}

/* Whether payments may be taken while an order awaits payment. */
bool
lookup_payment_allowed(void)
{
	bool		cached = use_cache && !rule_stale;
	bool		isnull;
	bool		allowed;

	if (cached && rule_valid)
		return rule_allowed;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lookup_run(LP_RULE, NULL, cached);
	allowed = SPI_processed == 1 && DatumGetBool(lookup_col(0, 1, &isnull));
	SPI_finish();
	if (cached && !rule_stale)
	{
		rule_valid = true;
		rule_allowed = allowed;
	}
	return allowed;
}

/* Whether the customer exists (never cached: not reference data). */
bool
lookup_customer_exists(int64 customer_id)
{
	Datum		arg = Int64GetDatum(customer_id);
	bool		isnull;
	bool		exists;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lookup_run(LP_CUSTOMER, &arg, false);
	exists = SPI_processed == 1 && DatumGetBool(lookup_col(0, 1, &isnull));
	SPI_finish();
	return exists;
}
