/*-------------------------------------------------------------------------
 *
 * stock.c
 *	  The stock reservation engine: the one write path of the stock counters.
 *
 * The counters of one (store, product) item are split into N slot rows
 * (icos.stock_slot).  A change that takes from a counter (reserve, release,
 * sell, remove) runs three steps, cheapest first:
 *
 *	1. One statement locks the first slot, walking from the slot this backend
 *	   prefers (pid modulo N), that has enough and is not locked by another
 *	   session (FOR UPDATE SKIP LOCKED), and updates it.  Sessions buying the
 *	   same hot product thus take different row locks and never wait.  N is
 *	   remembered per backend after the first look-up (it is fixed when the
 *	   item is created; were it stale, only the slot tried first would
 *	   differ, never what may be taken).
 *	   For the lines of one order (stock_order_lines) the lines are first
 *	   added up per item, then one statement does step 1 for every item at
 *	   once, in an internal subtransaction.  If any item is not taken so, or
 *	   the statement fails (but for a cancel), the subtransaction is rolled
 *	   back, leaving no slot changed or locked, and every item goes through
 *	   the steps one by one as below, with the errors it always had.  All or
 *	   nothing, because a slot of a later item kept locked while an earlier
 *	   item waits would break the lock order.  Orders of one item,
 *	   transactions holding many subtransactions, and slots with a trigger
 *	   that could wait go one by one at once (stock_order_lines).
 *	2. When every slot with enough is locked by others, wait for one of them
 *	   (a plain UPDATE whose WHERE re-checks the counter after the wait).
 *	   Steps 1 and 2 each run in a subtransaction of their own, rolled back
 *	   when the step did not take the units (stock_attempt): a slot whose
 *	   re-check failed stays locked otherwise, out of slot order.
 *	3. When no single slot has enough, lock every slot of the item in slot
 *	   order (FOR UPDATE ... ORDER BY slot) and take from several, fullest
 *	   first.  Under those locks the total is exact: if it is short, expired
 *	   holds of the item are released (holds other sessions are busy with are
 *	   skipped) and the total is looked at again before IC001 is raised.
 *
 * The check and the change are one statement (or happen under the row lock),
 * so stock is never oversold.  Locks are taken in (store, upc, slot) order by
 * every path that waits, and callers change the items of one order sorted by
 * (store, upc), so two orders sharing products cannot deadlock.  At head
 * office, whose trigger keeps a per-item availability row locked after each
 * slot change, the item's icos.stock_item row is locked before its slots
 * (stock_lock_item), so that row's lock follows the same order.  Step 1 never
 * waits, so the slot it locks early does not break that order; the batched
 * step 1 never waits either and keeps its locks only when no item is left
 * to wait for; a step 1 or 2 that did not take the units keeps no lock.  A
 * session thus waits only for a lock after every lock it holds, and no
 * cycle of waits can form (docs/stock.md, "Lock order").
 *
 * Every change writes one row to the ledger icos.stock_movement with the
 * session user, so icos.verify_stock() can prove the counters.
 *
 * The SPI plans are prepared once per backend and kept (SPI_keepplan); they
 * are dropped and prepared again if the icos.upc type is re-created (the
 * extension dropped and created again in the same session).  Statements
 * taking arrays always run their generic plan.  All statements
 * schema-qualify everything, operators included, so they mean the
 * same under any search_path (the engine functions also pin it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/array.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "stock.h"
#include "stock_slots.h"

#define ERRCODE_ICOS_NOT_ENOUGH_STOCK	MAKE_SQLSTATE('I','C','0','0','1')
#define ERRCODE_ICOS_UNKNOWN			MAKE_SQLSTATE('I','C','0','0','4')

/* How a counter change takes from or adds to the slots. */
typedef enum StockOpKind
{
	OP_RESERVE,					/* reserved += q, needs q available */
	OP_RELEASE,					/* reserved -= q, needs q reserved */
	OP_CONSUME,					/* on_hand -= q, reserved -= q, needs q reserved */
	OP_REMOVE,					/* on_hand -= q, needs q available */
	OP_ADD_SPREAD,				/* on_hand += q, spread over the slots */
	OP_ADD_ONE,					/* on_hand += q, into one slot */
	OP_SELL						/* on_hand -= q, needs q available (a sale
								 * of unreserved stock, e.g. carried out) */
} StockOpKind;

typedef struct StockOp
{
	StockOpKind kind;
	bool		from_available; /* capacity is on_hand - reserved, else reserved */
	int			on_hand_sign;	/* per unit: change of on_hand */
	int			reserved_sign;	/* per unit: change of reserved */
	const char *verb;			/* for messages: "reserve", "release", ... */
} StockOp;

static const StockOp stock_ops[] = {
	{OP_RESERVE, true, 0, 1, "reserve"},
	{OP_RELEASE, false, 0, -1, "release"},
	{OP_CONSUME, false, -1, -1, "sell"},
	{OP_REMOVE, true, -1, 0, "remove"},
	{OP_ADD_SPREAD, true, 1, 0, "add"},
	{OP_ADD_ONE, true, 1, 0, "add"},
	{OP_SELL, true, -1, 0, "sell"},
};

/* The prepared statements. */
typedef enum StockPlanId
{
	SP_FAST,
	SP_READ,
	SP_LOCK_ALL,
	SP_SLOT_UPDATE,
	SP_ENSURE_ITEM,
	SP_LEDGER,
	SP_SWEEP,
	SP_HOLD_CLOSE,
	SP_HOLD_LOCK,
	SP_NAMES,
	SP_AVAILABLE,
	SP_BEST_MANY,
	SP_LEDGER_MANY,
	SP_SLOTS,
	SP_FAST_LINES,
	SP_ITEM_LOCK,
	SP_COUNT
} StockPlanId;

/*
 * Argument types are spelled one letter per argument: i int4, l int8,
 * b bool, t text, U icos.upc (whose OID is only known at run time), and
 * the arrays I int4[], T text[], A icos.upc[].
 */
typedef struct StockPlanDef
{
	const char *args;
	const char *sql;

	/*
	 * Always the generic plan.  For statements taking arrays: the plan cache
	 * would otherwise plan every execution anew, as a custom plan (it knows
	 * the arrays' lengths) always looks cheaper than the generic one (which
	 * assumes 100 elements), though both are the same nested loops over the
	 * primary key.
	 */
	bool		generic;
} StockPlanDef;

static const StockPlanDef plan_defs[SP_COUNT] = {
	/*
	 * SP_FAST: store, upc, need, from_available, preferred slot, d_on_hand,
	 * d_reserved.  The walk from the preferred slot p is p, p+1, ..., N-1,
	 * 0, ..., p-1: two sub-selects in slot order on the primary key, the
	 * second run only when the first found nothing, each stopping at the
	 * first unlocked slot with enough (no sort of every slot of the item).
	 */
	{"iUibiii",
		"WITH c AS (SELECT COALESCE("
		" (SELECT s.slot FROM icos.stock_slot s"
		"  WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2 AND s.slot >= $5"
		"  AND CASE WHEN $4 THEN s.on_hand - s.reserved ELSE s.reserved END >= $3"
		"  ORDER BY s.slot LIMIT 1 FOR UPDATE OF s SKIP LOCKED),"
		" (SELECT s.slot FROM icos.stock_slot s"
		"  WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2 AND s.slot < $5"
		"  AND CASE WHEN $4 THEN s.on_hand - s.reserved ELSE s.reserved END >= $3"
		"  ORDER BY s.slot LIMIT 1 FOR UPDATE OF s SKIP LOCKED)) AS slot)"
		" UPDATE icos.stock_slot s SET on_hand = s.on_hand + $6, reserved = s.reserved + $7"
		" FROM c WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2 AND s.slot = c.slot"
		" AND CASE WHEN $4 THEN s.on_hand - s.reserved ELSE s.reserved END >= $3"
	" RETURNING s.slot",
	false},
	/* SP_READ: store, upc */
	{"iU",
		"SELECT s.slot, s.on_hand, s.reserved FROM icos.stock_slot s"
		" WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2 ORDER BY s.slot",
	false},
	/* SP_LOCK_ALL: store, upc */
	{"iU",
		"SELECT s.slot, s.on_hand, s.reserved FROM icos.stock_slot s"
		" WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2 ORDER BY s.slot FOR UPDATE",
	false},
	/* SP_SLOT_UPDATE: store, upc, slot, d_on_hand, d_reserved, from_available, need */
	{"iUiiibi",
		"UPDATE icos.stock_slot s SET on_hand = s.on_hand + $4, reserved = s.reserved + $5"
		" WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2 AND s.slot = $3"
		" AND CASE WHEN $6 THEN s.on_hand - s.reserved ELSE s.reserved END >= $7"
	" RETURNING s.slot",
	false},
	/* SP_ENSURE_ITEM: store, upc, slots */
	{"iUi",
		"WITH i AS (INSERT INTO icos.stock_item (store_id, upc, slots) VALUES ($1, $2, $3)"
		" ON CONFLICT DO NOTHING RETURNING store_id, upc, slots)"
		" INSERT INTO icos.stock_slot (store_id, upc, slot)"
		" SELECT i.store_id, i.upc, g FROM i, pg_catalog.generate_series(0, i.slots - 1) g",
	false},
	/* SP_LEDGER: store, upc, kind, d_on_hand, d_reserved, order, hold, reason */
	{"iUtiitlt",
		"INSERT INTO icos.stock_movement"
		" (store_id, upc, kind, d_on_hand, d_reserved, order_code, hold_id, actor, reason)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, session_user, $8)",
	false},
	/* SP_SWEEP: store, upc */
	{"iU",
		"SELECT h.hold_id, h.qty FROM icos.stock_hold h"
		" WHERE h.store_id = $1 AND h.upc OPERATOR(pg_catalog.=) $2 AND h.status = 'active'"
		" AND h.expires_at <= pg_catalog.clock_timestamp()"
	" ORDER BY h.hold_id FOR UPDATE SKIP LOCKED",
	false},
	/* SP_HOLD_CLOSE: hold, status, order */
	{"ltt",
		"UPDATE icos.stock_hold SET status = $2, order_code = $3,"
		" closed_at = pg_catalog.clock_timestamp(), closed_by = session_user"
	" WHERE hold_id = $1",
	false},
	/* SP_HOLD_LOCK: hold, upc */
	{"lU",
		"SELECT h.store_id, h.upc OPERATOR(pg_catalog.=) $2, h.qty, h.status,"
		" h.expires_at <= pg_catalog.clock_timestamp(), h.expires_at::pg_catalog.text,"
		" h.order_code, h.upc::pg_catalog.text"
	" FROM icos.stock_hold h WHERE h.hold_id = $1 FOR UPDATE",
	false},
	/* SP_NAMES: store, upc */
	{"iU",
		"SELECT (SELECT st.name FROM icos.store st WHERE st.store_id = $1),"
		" (SELECT p.name FROM icos.product p WHERE p.upc OPERATOR(pg_catalog.=) $2),"
	" $2::pg_catalog.text",
	false},
	/* SP_AVAILABLE: store, upc */
	{"iU",
		"SELECT (SELECT count(*) FROM icos.stock_slot s"
		"         WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2),"
		" (SELECT coalesce(sum(s.on_hand - s.reserved), 0) FROM icos.stock_slot s"
		"   WHERE s.store_id = $1 AND s.upc OPERATOR(pg_catalog.=) $2)"
		" + (SELECT coalesce(sum(h.qty), 0) FROM icos.stock_hold h"
		"     WHERE h.store_id = $1 AND h.upc OPERATOR(pg_catalog.=) $2 AND h.status = 'active'"
	"     AND h.expires_at <= pg_catalog.clock_timestamp())",
	false},
	/*
	 * SP_BEST_MANY: upcs, qtys: for each (upc, qty), in order, the active
	 * store or warehouse with the most available, at least qty, ties to the
	 * lowest store_id; null when none has qty.  One statement for every line
	 * of an order (the rule of icos._best_store).
	 */
	{"AI",
		"SELECT x.i, (SELECT a.store_id FROM ("
		"  SELECT s.store_id, sum(s.on_hand - s.reserved)"
		"   + coalesce((SELECT sum(h.qty) FROM icos.stock_hold h"
		"      WHERE h.store_id = s.store_id AND h.upc OPERATOR(pg_catalog.=) x.u"
		"      AND h.status = 'active' AND h.expires_at <= pg_catalog.clock_timestamp()), 0) AS avail"
		"  FROM icos.stock_slot s JOIN icos.store st ON st.store_id = s.store_id"
		"  WHERE s.upc OPERATOR(pg_catalog.=) x.u AND st.kind IN ('store', 'warehouse') AND st.active"
		"  GROUP BY s.store_id) a"
		" WHERE a.avail >= x.q ORDER BY a.avail DESC, a.store_id LIMIT 1)"
		" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) WITH ORDINALITY AS x(u, q, i)"
	" ORDER BY x.i",
	true},
	/* SP_LEDGER_MANY: stores, upcs, d_on_hands, d_reserveds, reasons, kind, order */
	{"IAIITtt",
		"INSERT INTO icos.stock_movement"
		" (store_id, upc, kind, d_on_hand, d_reserved, order_code, actor, reason)"
		" SELECT x.s, x.u, $6, x.h, x.r, $7, session_user, x.n"
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5)) AS x(s, u, h, r, n)",
	true},
	/* SP_SLOTS: store, upc */
	{"iU",
		"SELECT i.slots FROM icos.stock_item i"
	" WHERE i.store_id = $1 AND i.upc OPERATOR(pg_catalog.=) $2",
	false},

	/*
	 * SP_FAST_LINES: stores, upcs, needs, preferred slots, d_on_hands,
	 * d_reserveds (one element per line, distinct items), from_available.
	 * SP_FAST for every line in one statement: each line's two sub-selects
	 * (as SP_FAST's) lock the first unlocked slot with enough, walking from
	 * the line's preferred slot; the UPDATE changes the slots locked and
	 * re-checks their counters.  It never waits; it updates one row per
	 * line that could be taken.
	 */
	{"IAIIIIb",
		"WITH c AS ("
		" SELECT l.st, l.u, l.q, l.h, l.r, COALESCE("
		"  (SELECT s.slot FROM icos.stock_slot s"
		"   WHERE s.store_id = l.st AND s.upc OPERATOR(pg_catalog.=) l.u AND s.slot >= l.p"
		"   AND CASE WHEN $7 THEN s.on_hand - s.reserved ELSE s.reserved END >= l.q"
		"   ORDER BY s.slot LIMIT 1 FOR UPDATE OF s SKIP LOCKED),"
		"  (SELECT s.slot FROM icos.stock_slot s"
		"   WHERE s.store_id = l.st AND s.upc OPERATOR(pg_catalog.=) l.u AND s.slot < l.p"
		"   AND CASE WHEN $7 THEN s.on_hand - s.reserved ELSE s.reserved END >= l.q"
		"   ORDER BY s.slot LIMIT 1 FOR UPDATE OF s SKIP LOCKED)) AS slot"
		" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
		"  pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6)) AS l(st, u, q, p, h, r))"
		" UPDATE icos.stock_slot s SET on_hand = s.on_hand + c.h, reserved = s.reserved + c.r"
		" FROM c WHERE s.store_id = c.st AND s.upc OPERATOR(pg_catalog.=) c.u AND s.slot = c.slot"
	" AND CASE WHEN $7 THEN s.on_hand - s.reserved ELSE s.reserved END >= c.q",
	true},
	/* SP_ITEM_LOCK: store, upc (see stock_lock_item) */
	{"iU",
		"SELECT 1 FROM icos.stock_item i"
		" WHERE i.store_id = $1 AND i.upc OPERATOR(pg_catalog.=) $2 FOR NO KEY UPDATE",
	false}
};

static SPIPlanPtr plans[SP_COUNT];
static Oid	plans_upc_oid = InvalidOid;

/* icos.stock_slot, looked up with the plans */
static Oid	slot_relid = InvalidOid;

/* Number of slots of the items this backend has used: (store, upc) -> N. */
typedef struct SlotCountKey
{
	int32		store;
	Datum		upc;
} SlotCountKey;

typedef struct SlotCountEntry
{
	SlotCountKey key;
	int			slots;
} SlotCountEntry;

static HTAB *slot_counts = NULL;

/* The item a change is about. */
typedef struct StockItem
{
	int32		store;
	Datum		upc;
} StockItem;

/*
 * Remember the icos.upc type OID of this call; drop the kept plans when it
 * changed (the extension was dropped and created again in this session).
 */
static void
stock_set_upc_oid(Oid upc_oid)
{
	int			i;

	if (!OidIsValid(upc_oid))
	{
		Oid			nsp = get_namespace_oid("icos", false);

		upc_oid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								  CStringGetDatum("upc"), ObjectIdGetDatum(nsp));
		if (!OidIsValid(upc_oid))
			elog(ERROR, "type icos.upc does not exist");
	}
	if (upc_oid == plans_upc_oid)
		return;
	if (slot_counts != NULL)
	{
		hash_destroy(slot_counts);
		slot_counts = NULL;
	}
	for (i = 0; i < SP_COUNT; i++)
	{
		if (plans[i] != NULL)
			SPI_freeplan(plans[i]);
		plans[i] = NULL;
	}
	plans_upc_oid = upc_oid;
	slot_relid = InvalidOid;
}

static void
stock_set_upc_type(FunctionCallInfo fcinfo, int argno)
{
	stock_set_upc_oid(get_fn_expr_argtype(fcinfo->flinfo, argno));
}

static SPIPlanPtr
stock_plan(StockPlanId id)
{
	if (plans[id] == NULL)
	{
		const StockPlanDef *def = &plan_defs[id];
		Oid			argtypes[8];
		int			nargs = strlen(def->args);
		int			i;
		SPIPlanPtr	plan;

		Assert(nargs <= lengthof(argtypes));
		for (i = 0; i < nargs; i++)
		{
			switch (def->args[i])
			{
				case 'i':
					argtypes[i] = INT4OID;
					break;
				case 'l':
					argtypes[i] = INT8OID;
					break;
				case 'b':
					argtypes[i] = BOOLOID;
					break;
				case 't':
					argtypes[i] = TEXTOID;
					break;
				case 'U':
					argtypes[i] = plans_upc_oid;
					break;
				case 'I':
					argtypes[i] = INT4ARRAYOID;
					break;
				case 'T':
					argtypes[i] = TEXTARRAYOID;
					break;
				case 'A':
					argtypes[i] = get_array_type(plans_upc_oid);
					if (!OidIsValid(argtypes[i]))
						elog(ERROR, "type icos.upc has no array type");
					break;
				default:
					elog(ERROR, "bad argument type letter in stock plan %d", id);
			}
		}
		plan = SPI_prepare_cursor(def->sql, nargs, argtypes,
								  def->generic ? CURSOR_OPT_GENERIC_PLAN : 0);
		if (plan == NULL)
			elog(ERROR, "could not prepare stock plan %d: %s", id,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep stock plan %d", id);
		plans[id] = plan;
	}
	return plans[id];
}

/* Run a plan; nulls is a string of ' ' and 'n' as SPI wants, or NULL. */
static uint64
stock_exec(StockPlanId id, Datum *values, const char *nulls, int expect)
{
	int			ret = SPI_execute_plan(stock_plan(id), values, nulls, false, 0);

	if (ret != expect)
		elog(ERROR, "stock plan %d returned %s", id, SPI_result_code_string(ret));
	return SPI_processed;
}

static int32
stock_get_int32(int row, int col, bool *isnull)
{
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
									   col, isnull));
}

/*
 * Read (or lock, in slot order) the item's slots; fills level[] with the
 * capacity the operation takes from and returns the number of slots.
 */
static int
stock_read_levels(const StockItem *item, const StockOp *op, bool lock, int64_t *level)
{
	Datum		values[2] = {Int32GetDatum(item->store), item->upc};
	uint64		n,
				i;

	n = stock_exec(lock ? SP_LOCK_ALL : SP_READ, values, NULL, SPI_OK_SELECT);
	if (n > STOCK_MAX_SLOTS)
		elog(ERROR, "stock item has %llu slot rows, more than %d",
			 (unsigned long long) n, STOCK_MAX_SLOTS);
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		int32		on_hand = stock_get_int32(i, 2, &isnull);
		int32		reserved = stock_get_int32(i, 3, &isnull);
		int32		slot = stock_get_int32(i, 1, &isnull);

		/* Slots are numbered 0..n-1; level[] is indexed by position. */
		if (slot != (int32) i)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("stock slots of product at store %d are misnumbered", item->store),
					 errdetail("Slot %d was found where slot %d was expected.", slot, (int) i),
					 errhint("Run icos.verify_stock() and tell head office what it reports.")));
		level[i] = op->from_available ? (int64_t) on_hand - reserved : reserved;
	}
	SPI_freetuptable(SPI_tuptable);
	return (int) n;
}

/* Update one slot by amount units of the operation; true if it had enough. */
static bool
stock_update_slot(const StockItem *item, const StockOp *op, int slot, int32 amount,
				  int32 need)
{
	Datum		values[7];
	uint64		n;

	values[0] = Int32GetDatum(item->store);
	values[1] = item->upc;
	values[2] = Int32GetDatum(slot);
	values[3] = Int32GetDatum(op->on_hand_sign * amount);
	values[4] = Int32GetDatum(op->reserved_sign * amount);
	values[5] = BoolGetDatum(op->from_available);
	values[6] = Int32GetDatum(need);
	n = stock_exec(SP_SLOT_UPDATE, values, NULL, SPI_OK_UPDATE_RETURNING);
	SPI_freetuptable(SPI_tuptable);
	return n == 1;
}

/*
 * The item's number of slots, looked up once per backend; 0 when the item
 * has no stock row (yet), which is not remembered.
 */
static int
stock_slot_count(const StockItem *item)
{
	SlotCountKey key;
	SlotCountEntry *entry;
	bool		found;
	Datum		values[2];
	int			slots = 0;

	if (slot_counts == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(SlotCountKey);
		ctl.entrysize = sizeof(SlotCountEntry);
		ctl.hcxt = TopMemoryContext;
		slot_counts = hash_create("icos stock slot counts", 256, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.store = item->store;
	key.upc = item->upc;
	entry = hash_search(slot_counts, &key, HASH_FIND, NULL);
	if (entry != NULL)
		return entry->slots;

	values[0] = Int32GetDatum(item->store);
	values[1] = item->upc;
	if (stock_exec(SP_SLOTS, values, NULL, SPI_OK_SELECT) == 1)
	{
		bool		isnull;

		slots = stock_get_int32(0, 1, &isnull);
		if (isnull)
			slots = 0;
	}
	SPI_freetuptable(SPI_tuptable);
	if (slots > 0)
	{
		entry = hash_search(slot_counts, &key, HASH_ENTER, &found);
		entry->slots = slots;
	}
	return slots;
}

/* Step 1: one unlocked slot with enough, walking from the preferred one. */
static bool
stock_fast(const StockItem *item, const StockOp *op, int32 qty, int32 need)
{
	Datum		values[7];
	uint64		n;

	values[0] = Int32GetDatum(item->store);
	values[1] = item->upc;
	values[2] = Int32GetDatum(need);
	values[3] = BoolGetDatum(op->from_available);
	values[4] = Int32GetDatum(stock_preferred_slot(MyProcPid, stock_slot_count(item)));
	values[5] = Int32GetDatum(op->on_hand_sign * qty);
	values[6] = Int32GetDatum(op->reserved_sign * qty);
	n = stock_exec(SP_FAST, values, NULL, SPI_OK_UPDATE_RETURNING);
	SPI_freetuptable(SPI_tuptable);
	return n == 1;
}

static void stock_ledger(const StockItem *item, const char *kind, int32 d_on_hand,
						 int32 d_reserved, text *order, int64 hold, bool has_hold,
						 const char *reason);
static bool stock_batch_triggers_ok(void);
static bool stock_take(const StockItem *item, const StockOp *op, int32 qty, bool sweep,
					   int64 *have);

/*
 * Release the item's expired holds that no other session is busy with.
 * Called with every slot of the item locked.  Returns how many.
 */
static int
stock_sweep_expired(const StockItem *item)
{
	Datum		values[2] = {Int32GetDatum(item->store), item->upc};
	uint64		n,
				i;
	int64	   *ids;
	int32	   *qtys;

	n = stock_exec(SP_SWEEP, values, NULL, SPI_OK_SELECT);
	if (n == 0)
		return 0;
	ids = palloc(sizeof(int64) * n);
	qtys = palloc(sizeof(int32) * n);
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
											 1, &isnull));
		qtys[i] = stock_get_int32(i, 2, &isnull);
	}
	SPI_freetuptable(SPI_tuptable);

	for (i = 0; i < n; i++)
	{
		Datum		hv[3];
		char		hnulls[3] = {' ', ' ', 'n'};
		int64		have;

		if (!stock_take(item, &stock_ops[OP_RELEASE], qtys[i], false, &have))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("expired hold " INT64_FORMAT " holds %d units but only " INT64_FORMAT " are reserved at store %d",
							ids[i], qtys[i], have, item->store),
					 errhint("Run icos.verify_stock() and tell head office what it reports.")));
		stock_ledger(item, "hold_release", 0, -qtys[i], NULL, ids[i], true, "hold expired");
		hv[0] = Int64GetDatum(ids[i]);
		hv[1] = CStringGetTextDatum("expired");
		hv[2] = (Datum) 0;
		stock_exec(SP_HOLD_CLOSE, hv, hnulls, SPI_OK_UPDATE);
	}
	pfree(ids);
	pfree(qtys);
	return (int) n;
}

/*
 * Head office: lock the item's icos.stock_item row before any of its slots.
 * Its stock_slot_availability trigger writes one icos.stock_availability row
 * per item at every slot change and keeps it locked to the end of the
 * transaction, a per-item lock taken after a slot's.  Without this, a
 * transaction holding that row could wait for another slot of the item
 * (steps 2 and 3, or the item's second line) held by a transaction that
 * waits for the row: a deadlock the slot order alone does not prevent.
 * Taken first, in the items' order like the slots, the item lock makes the
 * availability row's lock order the slots' order.  Head office serialises
 * each item at that row anyway; the stores (no such trigger) never lock the
 * item, so their sessions keep taking different slots of a hot product.
 */
static void
stock_lock_item(const StockItem *item)
{
	Datum		values[2];

	if (stock_batch_triggers_ok())
		return;
	values[0] = Int32GetDatum(item->store);
	values[1] = item->upc;
	stock_exec(SP_ITEM_LOCK, values, NULL, SPI_OK_SELECT);
}

/*
 * Whether this transaction may open one more subtransaction that stays
 * (released, not rolled back) until it ends: not once its subtransactions
 * fill half of the cache of subtransaction ids each backend shows the
 * others.  Past PGPROC_MAX_CACHED_SUBXIDS of them (a load changing hundreds
 * of items in one transaction, say) every other session would have to look
 * ids up in pg_subtrans.
 */
static bool
stock_subxact_cheap(void)
{
	return !MyProc->subxidStatus.overflowed &&
		MyProc->subxidStatus.count < PGPROC_MAX_CACHED_SUBXIDS / 2;
}

/*
 * Run fn(arg) in an internal subtransaction: kept (released into the
 * transaction, with its locks) when fn returns true, rolled back when it
 * returns false, so that nothing it changed or locked stays.  An error
 * inside is rolled back with the subtransaction and raised again; with
 * swallow it is dropped and false returned instead, but for a cancel or a
 * shutdown (class 57, operator intervention), which is always raised.  The
 * plans fn runs must be prepared before (stock_plan), so that they are kept
 * whatever happens to the subtransaction.
 */
static bool
stock_in_subxact(bool (*fn) (void *), void *arg, bool swallow)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool keep = false;
	volatile bool failed = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		keep = fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* as PL/pgSQL's exception blocks: save the error, roll back */
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (!swallow ||
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
			ReThrowError(edata);
		FreeErrorData(edata);
		failed = true;
	}
	PG_END_TRY();

	if (failed)
		return false;
	if (keep)
		ReleaseCurrentSubTransaction();
	else
		RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	CurrentResourceOwner = oldowner;
	return keep;
}

/* What stock_attempt runs in its subtransaction. */
typedef struct StockAttempt
{
	const StockItem *item;
	const StockOp *op;
	int32		qty;
	int			step;
} StockAttempt;

static bool
stock_attempt_step(void *arg)
{
	const StockAttempt *a = arg;
	int64_t		level[STOCK_MAX_SLOTS];
	int			n,
				pick;

	/* 1: an unlocked slot with enough; never waits */
	if (a->step == 1)
		return stock_fast(a->item, a->op, a->qty, a->qty);

	/* 2: a slot that has enough but is locked: wait for it */
	n = stock_read_levels(a->item, a->op, false, level);
	pick = stock_pick_slot(level, n, stock_preferred_slot(MyProcPid, n), a->qty);
	return pick >= 0 && stock_update_slot(a->item, a->op, pick, a->qty, a->qty);
}

/*
 * Step 1 or 2 of stock_take, the steps that lock a slot out of slot order:
 * true when one slot gave qty.  The step runs in an internal subtransaction
 * that is rolled back when it did not, so that no slot it locked stays
 * locked.  That matters because PostgreSQL keeps a row locked whose re-check
 * failed: a slot changed and committed by another session after this
 * statement's snapshot (step 1's FOR UPDATE SKIP LOCKED) or while this
 * session waited for it (step 2) is re-checked, skipped when it no longer
 * has enough, and yet stays locked by this transaction.  Going on with that
 * stray lock would mean waiting for other slots while holding it, out of
 * the global order; two sessions each holding a stray slot the other waits
 * for deadlocked at every sell-out (issue 14,
 * test/isolation/specs/stock_sellout.spec).  Each step has its own
 * subtransaction: step 2 must not wait holding a stray lock of step 1.
 * When the step took the units, the subtransaction is kept: its locks (the
 * slot changed, and a stray one at most) are of this item, and this take
 * waits for nothing more.
 */
static bool
stock_attempt(const StockItem *item, const StockOp *op, int32 qty, int step)
{
	StockAttempt a;

	a.item = item;
	a.op = op;
	a.qty = qty;
	a.step = step;
	(void) stock_slot_count(item);	/* looked up outside, remembered */
	stock_plan(step == 1 ? SP_FAST : SP_READ);
	stock_plan(SP_SLOT_UPDATE);
	return stock_in_subxact(stock_attempt_step, &a, false);
}

/*
 * Take qty units of the operation's capacity from the item's slots (see the
 * file header for the three steps).  Returns false, with *have set to what
 * there is, when even under the locks of every slot there is not enough.
 * With sweep, expired holds of the item are released before giving up.
 *
 * Lock order: this waits for a slot of the item only while holding no slot
 * of it (step 2, after step 1 was rolled back) or only lower slots (step 3), so
 * callers that take each item once, in (store, upc) order, cannot deadlock.
 * When the transaction holds too many subtransactions already (see
 * stock_subxact_cheap) steps 1 and 2 are left out: step 3 alone is always
 * in order, only slower for a hot product.
 */
static bool
stock_take(const StockItem *item, const StockOp *op, int32 qty, bool sweep, int64 *have)
{
	int64_t		level[STOCK_MAX_SLOTS];
	int64_t		take[STOCK_MAX_SLOTS];
	int			n,
				pass,
				i;

	stock_lock_item(item);

	/* 1 and 2, or neither */
	if (stock_subxact_cheap() &&
		(stock_attempt(item, op, qty, 1) || stock_attempt(item, op, qty, 2)))
		return true;

	/* 3: lock every slot in slot order and take from several */
	for (pass = 0;; pass++)
	{
		int64		total = 0;

		n = stock_read_levels(item, op, true, level);
		if (stock_level_take(level, n, qty, take))
		{
			for (i = 0; i < n; i++)
				if (take[i] > 0 &&
					!stock_update_slot(item, op, i, (int32) take[i], (int32) take[i]))
					elog(ERROR, "locked stock slot %d changed under its lock", i);
			return true;
		}
		for (i = 0; i < n; i++)
			total += level[i] > 0 ? level[i] : 0;
		*have = total;
		if (!sweep || pass > 0 || stock_sweep_expired(item) == 0)
			return false;
	}
}

/* Add qty to on_hand: spread evenly over the slots, or into one slot. */
static void
stock_add(const StockItem *item, const StockOp *op, int32 qty)
{
	int64_t		level[STOCK_MAX_SLOTS];
	int64_t		add[STOCK_MAX_SLOTS];
	int			n,
				i;

	stock_lock_item(item);
	if (op->kind == OP_ADD_ONE)
	{
		if (stock_fast(item, op, qty, 0))
			return;
		n = stock_read_levels(item, op, false, level);
		if (n > 0 &&
			stock_update_slot(item, op, stock_preferred_slot(MyProcPid, n), qty, 0))
			return;
		elog(ERROR, "stock item at store %d has no slot rows", item->store);
	}

	n = stock_read_levels(item, op, true, level);
	if (n == 0)
		elog(ERROR, "stock item at store %d has no slot rows", item->store);
	stock_level_add(level, n, qty, add);
	for (i = 0; i < n; i++)
		if (add[i] > 0 && !stock_update_slot(item, op, i, (int32) add[i], 0))
			elog(ERROR, "locked stock slot %d vanished under its lock", i);
}

/* Look up the store's and product's names; NULL when unknown. */
static void
stock_names(const StockItem *item, char **store_name, char **product_name, char **code)
{
	Datum		values[2] = {Int32GetDatum(item->store), item->upc};

	stock_exec(SP_NAMES, values, NULL, SPI_OK_SELECT);
	*store_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*product_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	*code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
}

/* IC004 for an unknown store or product; returns when both exist. */
static void
stock_check_known(const StockItem *item, char **store_name, char **product_name,
				  char **code)
{
	stock_names(item, store_name, product_name, code);
	if (*store_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("store %d does not exist", item->store),
				 errhint("Check the store number; the table icos.store lists every store.")));
	if (*product_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("product %s is not in the catalogue", *code),
				 errhint("Check the code on the label; head office may not have added this product yet.")));
}

/* The error for a change that found too little: IC004 or IC001. */
static void
stock_report_short(const StockItem *item, const StockOp *op, int32 qty, int64 have)
{
	char	   *store_name;
	char	   *product_name;
	char	   *code;

	stock_check_known(item, &store_name, &product_name, &code);
	if (op->from_available)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_NOT_ENOUGH_STOCK),
				 errmsg("not enough stock of \"%s\" (%s) at store %d (%s)",
						product_name, code, item->store, store_name),
				 have == 0 ?
				 errdetail("None is available to %s; %d %s asked for.",
						   op->verb, qty, qty == 1 ? "was" : "were") :
				 errdetail("Only " INT64_FORMAT " %s available to %s; %d %s asked for.",
						   have, have == 1 ? "is" : "are", op->verb, qty,
						   qty == 1 ? "was" : "were"),
				 op->kind == OP_REMOVE ?
				 errhint("Only units that are not reserved can be removed; remove fewer, or release the reservations first.") :
				 errhint("Take fewer, choose another store (icos.availability shows every store), or order it for delivery after the lead time.")));
	ereport(ERROR,
			(errcode(ERRCODE_ICOS_NOT_ENOUGH_STOCK),
			 errmsg("not enough reserved stock of \"%s\" (%s) at store %d (%s) to %s %d",
					product_name, code, item->store, store_name, op->verb, qty),
			 have == 0 ?
			 errdetail("None is reserved there.") :
			 errdetail("Only " INT64_FORMAT " %s reserved there.", have,
					   have == 1 ? "is" : "are"),
			 errhint("Only units the order reserved can be released or sold; the ledger icos.stock_movement shows the order's reservations.")));
}

static void
stock_ledger(const StockItem *item, const char *kind, int32 d_on_hand, int32 d_reserved,
			 text *order, int64 hold, bool has_hold, const char *reason)
{
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int32GetDatum(item->store);
	values[1] = item->upc;
	values[2] = CStringGetTextDatum(kind);
	values[3] = Int32GetDatum(d_on_hand);
	values[4] = Int32GetDatum(d_reserved);
	values[5] = order ? PointerGetDatum(order) : (Datum) 0;
	nulls[5] = order ? ' ' : 'n';
	values[6] = Int64GetDatum(hold);
	nulls[6] = has_hold ? ' ' : 'n';
	values[7] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	nulls[7] = reason ? ' ' : 'n';
	stock_exec(SP_LEDGER, values, nulls, SPI_OK_INSERT);
}

/* Create the item's stock row and slots if it has none (IC004 if unknown). */
static void
stock_ensure_item(const StockItem *item)
{
	Datum		values[3];
	char	   *store_name;
	char	   *product_name;
	char	   *code;

	stock_check_known(item, &store_name, &product_name, &code);
	values[0] = Int32GetDatum(item->store);
	values[1] = item->upc;
	values[2] = Int32GetDatum(stock_parse_slots(GetConfigOption("icos.stock_slots", true, false)));
	stock_exec(SP_ENSURE_ITEM, values, NULL, SPI_OK_INSERT);
}

/*
 * The operation a counter change is: the deltas decide, kind (the ledger's)
 * tells a return from a receipt and a sale from a removal.  Sets *qty to
 * the units it moves.
 */
static const StockOp *
stock_op_for(const char *kind, int32 d_on_hand, int32 d_reserved, int32 *qty)
{
	const StockOp *op;

	if (d_on_hand > 0 && d_reserved == 0)
		op = &stock_ops[strcmp(kind, "return") == 0 ? OP_ADD_ONE : OP_ADD_SPREAD];
	else if (d_on_hand < 0 && d_reserved == 0)
		op = &stock_ops[strcmp(kind, "sale") == 0 ? OP_SELL : OP_REMOVE];
	else if (d_on_hand == 0 && d_reserved > 0)
		op = &stock_ops[OP_RESERVE];
	else if (d_on_hand == 0 && d_reserved < 0)
		op = &stock_ops[OP_RELEASE];
	else if (d_on_hand < 0 && d_reserved == d_on_hand)
		op = &stock_ops[OP_CONSUME];
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a stock change of %d on hand and %d reserved is not allowed",
						d_on_hand, d_reserved),
				 errdetail("A change adds or removes on-hand units, reserves or releases units, or sells reserved units.")));

	*qty = op->on_hand_sign != 0 ? d_on_hand : d_reserved;
	if (*qty == PG_INT32_MIN)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("stock quantity %d is out of range", *qty)));
	if (*qty < 0)
		*qty = -*qty;
	return op;
}

/*
 * Apply one counter change and record it in the ledger.  The deltas decide
 * the operation; kind is the ledger's kind.
 */
static void
stock_change(const StockItem *item, const char *kind, int32 d_on_hand, int32 d_reserved,
			 text *order, int64 hold, bool has_hold, const char *reason)
{
	const StockOp *op;
	int32		qty;
	int64		have = 0;

	op = stock_op_for(kind, d_on_hand, d_reserved, &qty);
	if (op->kind == OP_ADD_SPREAD || op->kind == OP_ADD_ONE)
	{
		stock_ensure_item(item);
		stock_add(item, op, qty);
	}
	else if (!stock_take(item, op, qty, op->from_available, &have))
		stock_report_short(item, op, qty, have);
	stock_ledger(item, kind, d_on_hand, d_reserved, order, hold, has_hold, reason);
}

static void stock_require_qty(int32 qty);

/* See stock.h. */
bool
stock_change_item(int32 store, Datum upc, Oid upc_oid, const char *kind,
				  int32 d_on_hand, int32 d_reserved, text *order, const char *note,
				  bool or_false)
{
	StockItem	item;
	const StockOp *op;
	int32		qty;
	int64		have = 0;

	item.store = store;
	item.upc = upc;
	stock_set_upc_oid(upc_oid);
	op = stock_op_for(kind, d_on_hand, d_reserved, &qty);
	stock_require_qty(qty);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (op->kind == OP_ADD_SPREAD || op->kind == OP_ADD_ONE)
	{
		stock_ensure_item(&item);
		stock_add(&item, op, qty);
	}
	else if (!stock_take(&item, op, qty, op->from_available, &have))
	{
		if (or_false)
		{
			SPI_finish();
			return false;
		}
		stock_report_short(&item, op, qty, have);
	}
	stock_ledger(&item, kind, d_on_hand, d_reserved, order, 0, false, note);
	SPI_finish();
	return true;
}

/* Argument checks shared by the SQL-callable functions. */
static void
stock_require(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s is required", what)));
}

static void
stock_require_qty(int32 qty)
{
	if (qty <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantity must be a positive whole number"),
				 errdetail("The quantity given was %d.", qty),
				 errhint("Enter how many units, 1 or more.")));
}

static char *
stock_text_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* The item of arguments argno (store) and argno + 1 (upc), both required. */
static void
stock_item_arg(FunctionCallInfo fcinfo, int argno, StockItem *item)
{
	stock_require(fcinfo, argno, "a store number");
	stock_require(fcinfo, argno + 1, "a product code");
	item->store = PG_GETARG_INT32(argno);
	item->upc = PG_GETARG_DATUM(argno + 1);
	stock_set_upc_type(fcinfo, argno + 1);
}

/* A ledger kind argument, required and one of the kinds of the ledger. */
static char *
stock_kind_arg(FunctionCallInfo fcinfo, int argno)
{
	static const char *const kinds[] = {
		"receipt", "sale", "reserve", "release", "hold", "hold_release",
		"transfer", "return", "adjustment"
	};
	char	   *kind;
	int			i;

	stock_require(fcinfo, argno, "a stock movement kind");
	kind = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	for (i = 0; i < (int) lengthof(kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return kind;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown stock movement kind \"%s\"", kind)));
	return NULL;				/* keep the compiler quiet */
}

/*
 * The five-argument engine functions: (store, upc, qty, order, note), each a
 * fixed ledger kind and counter change.
 */
static Datum
stock_simple(FunctionCallInfo fcinfo, const char *kind, int on_hand_sign, int reserved_sign)
{
	StockItem	item;
	int32		qty;
	text	   *order;

	stock_require(fcinfo, 0, "a store number");
	stock_require(fcinfo, 1, "a product code");
	stock_require(fcinfo, 2, "a quantity");
	item.store = PG_GETARG_INT32(0);
	item.upc = PG_GETARG_DATUM(1);
	qty = PG_GETARG_INT32(2);
	stock_require_qty(qty);
	order = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);

	stock_set_upc_type(fcinfo, 1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	stock_change(&item, kind, on_hand_sign * qty, reserved_sign * qty, order, 0, false,
				 stock_text_arg(fcinfo, 4));
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(stock_reserve);
Datum
stock_reserve(PG_FUNCTION_ARGS)
{
	return stock_simple(fcinfo, "reserve", 0, 1);
}

PG_FUNCTION_INFO_V1(stock_release);
Datum
stock_release(PG_FUNCTION_ARGS)
{
	return stock_simple(fcinfo, "release", 0, -1);
}

PG_FUNCTION_INFO_V1(stock_consume);
Datum
stock_consume(PG_FUNCTION_ARGS)
{
	return stock_simple(fcinfo, "sale", -1, -1);
}

PG_FUNCTION_INFO_V1(stock_return);
Datum
stock_return(PG_FUNCTION_ARGS)
{
	return stock_simple(fcinfo, "return", 1, 0);
}

/*
 * icos._stock_apply(store, upc, kind, d_on_hand, d_reserved, order, hold,
 * reason): the generic change the SQL API functions use.
 */
PG_FUNCTION_INFO_V1(stock_apply);
Datum
stock_apply(PG_FUNCTION_ARGS)
{
	StockItem	item;
	char	   *kind;

	stock_item_arg(fcinfo, 0, &item);
	kind = stock_kind_arg(fcinfo, 2);
	stock_require(fcinfo, 3, "the change of on-hand units");
	stock_require(fcinfo, 4, "the change of reserved units");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	stock_change(&item, kind, PG_GETARG_INT32(3), PG_GETARG_INT32(4),
				 PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5),
				 PG_ARGISNULL(6) ? 0 : PG_GETARG_INT64(6), !PG_ARGISNULL(6),
				 stock_text_arg(fcinfo, 7));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * icos._stock_slot_apply(store, upc, slot, kind, d_on_hand, d_reserved,
 * reason): the change of one given slot as the engine makes it after
 * waiting for that slot (step 2) and under the locks of step 3
 * (stock_update_slot), with its ledger row.  The statement re-checks the
 * slot's counter: when the slot no longer has what the change takes from
 * (available units to reserve, sell or remove, reserved units to release
 * or sell), it changes nothing and this returns false.  After a wait that
 * is how the engine learns that another session took the units first.  The
 * re-check cannot be seen failing without a second session, so this entry
 * lets a test put a slot into that state and call the very statement
 * (test/pgtap/stock_recheck.sql).
 */
PG_FUNCTION_INFO_V1(stock_slot_apply);
Datum
stock_slot_apply(PG_FUNCTION_ARGS)
{
	StockItem	item;
	const StockOp *op;
	char	   *kind;
	int32		slot;
	int32		qty;
	bool		done;

	stock_item_arg(fcinfo, 0, &item);
	stock_require(fcinfo, 2, "a slot number");
	kind = stock_kind_arg(fcinfo, 3);
	stock_require(fcinfo, 4, "the change of on-hand units");
	stock_require(fcinfo, 5, "the change of reserved units");
	slot = PG_GETARG_INT32(2);
	if (strcmp(kind, "hold") == 0 || strcmp(kind, "hold_release") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stock movement kind \"%s\" needs a hold", kind)));
	op = stock_op_for(kind, PG_GETARG_INT32(4), PG_GETARG_INT32(5), &qty);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	done = stock_update_slot(&item, op, slot, qty, op->on_hand_sign > 0 ? 0 : qty);
	if (done)
		stock_ledger(&item, kind, PG_GETARG_INT32(4), PG_GETARG_INT32(5), NULL, 0, false,
					 stock_text_arg(fcinfo, 6));
	SPI_finish();
	PG_RETURN_BOOL(done);
}

/*
 * icos._take_hold(hold, store, upc, qty, order): the hold's units become the
 * order's reservation with no moment in which they are free.  The ledger gets
 * a hold_release of the hold's units and a reserve of the order's, so the
 * ledger rows of a hold always sum to what it holds now; the counters change
 * only by the difference, if any.
 */
PG_FUNCTION_INFO_V1(stock_take_hold);
Datum
stock_take_hold(PG_FUNCTION_ARGS)
{
	StockItem	item;
	int64		hold;
	int32		qty;
	text	   *order;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	int32		hold_store;
	bool		same_upc;
	int32		hold_qty;
	char	   *status;
	bool		expired;
	char	   *expires_at;
	char	   *hold_order;
	char	   *hold_code;
	char		reason[64];

	stock_require(fcinfo, 0, "a hold number");
	stock_require(fcinfo, 1, "a store number");
	stock_require(fcinfo, 2, "a product code");
	stock_require(fcinfo, 3, "a quantity");
	hold = PG_GETARG_INT64(0);
	item.store = PG_GETARG_INT32(1);
	item.upc = PG_GETARG_DATUM(2);
	qty = PG_GETARG_INT32(3);
	stock_require_qty(qty);
	order = PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4);

	stock_set_upc_type(fcinfo, 2);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	values[0] = Int64GetDatum(hold);
	values[1] = item.upc;
	if (stock_exec(SP_HOLD_LOCK, values, NULL, SPI_OK_SELECT) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("hold " INT64_FORMAT " does not exist", hold),
				 errhint("Check the hold number given when the goods were held.")));
	hold_store = stock_get_int32(0, 1, &isnull);
	same_upc = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	hold_qty = stock_get_int32(0, 3, &isnull);
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	expired = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull));
	expires_at = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6);
	hold_order = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7);
	hold_code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8);
	SPI_freetuptable(SPI_tuptable);

	if (strcmp(status, "taken") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("hold " INT64_FORMAT " has already been used", hold),
				 hold_order ?
				 errdetail("It was taken into order %s.", hold_order) :
				 errdetail("It was taken into an order."),
				 errhint("A hold can be used once; hold the goods again with icos.hold_stock if needed.")));
	if (strcmp(status, "active") != 0 || expired)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("hold " INT64_FORMAT " is no longer held", hold),
				 strcmp(status, "released") == 0 ?
				 errdetail("It was released.") :
				 errdetail("It expired at %s.", expires_at),
				 errhint("Hold the goods again with icos.hold_stock, or take the order without the hold.")));
	if (hold_store != item.store || !same_upc)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("hold " INT64_FORMAT " is not for this product and store", hold),
				 errdetail("It holds product %s at store %d.", hold_code, hold_store),
				 errhint("Use the hold on the order line for that product and store.")));

	if (qty < hold_qty)
	{
		int64		have = 0;

		if (!stock_take(&item, &stock_ops[OP_RELEASE], hold_qty - qty, false, &have))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("hold " INT64_FORMAT " holds %d units but only " INT64_FORMAT " are reserved at store %d",
							hold, hold_qty, have, item.store),
					 errhint("Run icos.verify_stock() and tell head office what it reports.")));
	}
	else if (qty > hold_qty)
	{
		int64		have = 0;

		if (!stock_take(&item, &stock_ops[OP_RESERVE], qty - hold_qty, true, &have))
		{
			char	   *store_name;
			char	   *product_name;
			char	   *code;

			stock_check_known(&item, &store_name, &product_name, &code);
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_NOT_ENOUGH_STOCK),
					 errmsg("not enough stock of \"%s\" (%s) at store %d (%s)",
							product_name, code, item.store, store_name),
					 errdetail("Hold " INT64_FORMAT " has %d and " INT64_FORMAT " more %s available; %d %s asked for.",
							   hold, hold_qty, have, have == 1 ? "is" : "are", qty,
							   qty == 1 ? "was" : "were"),
					 errhint("Take fewer, choose another store (icos.availability shows every store), or order it for delivery after the lead time.")));
		}
	}

	snprintf(reason, sizeof(reason), "hold taken into the order");
	stock_ledger(&item, "hold_release", 0, -hold_qty, order, hold, true, reason);
	snprintf(reason, sizeof(reason), "from hold " INT64_FORMAT, hold);
	stock_ledger(&item, "reserve", 0, qty, order, 0, false, reason);

	values[0] = Int64GetDatum(hold);
	values[1] = CStringGetTextDatum("taken");
	values[2] = order ? PointerGetDatum(order) : (Datum) 0;
	nulls[2] = order ? ' ' : 'n';
	stock_exec(SP_HOLD_CLOSE, values, nulls, SPI_OK_UPDATE);

	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * icos._expire_item_holds(store, upc): release the item's expired holds no
 * other session is busy with, under the locks of every slot of the item
 * taken in slot order (step 3), and return how many.  The same sweep a take
 * that runs short makes (stock_sweep_expired); icos.expire_holds calls it
 * item by item in (store, upc) order, so that one transaction releases each
 * item's holds in one locked pass instead of one take per hold (a second
 * take of an item could wait out of slot order).
 */
PG_FUNCTION_INFO_V1(stock_expire_item_holds);
Datum
stock_expire_item_holds(PG_FUNCTION_ARGS)
{
	StockItem	item;
	int64_t		level[STOCK_MAX_SLOTS];
	int			n;

	stock_item_arg(fcinfo, 0, &item);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	stock_lock_item(&item);
	n = stock_read_levels(&item, &stock_ops[OP_RELEASE], true, level) > 0 ?
		stock_sweep_expired(&item) : 0;
	SPI_finish();
	PG_RETURN_INT32(n);
}

/* icos._available(store, upc): units that can be reserved now. */
PG_FUNCTION_INFO_V1(stock_available);
Datum
stock_available(PG_FUNCTION_ARGS)
{
	StockItem	item;
	Datum		values[2];
	bool		isnull;
	int64		slots;
	int64		avail;

	stock_require(fcinfo, 0, "a store number");
	stock_require(fcinfo, 1, "a product code");
	item.store = PG_GETARG_INT32(0);
	item.upc = PG_GETARG_DATUM(1);

	stock_set_upc_type(fcinfo, 1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = Int32GetDatum(item.store);
	values[1] = item.upc;
	stock_exec(SP_AVAILABLE, values, NULL, SPI_OK_SELECT);
	slots = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	avail = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_freetuptable(SPI_tuptable);
	if (slots == 0)
	{
		char	   *store_name;
		char	   *product_name;
		char	   *code;

		stock_check_known(&item, &store_name, &product_name, &code);
	}
	SPI_finish();
	if (avail > PG_INT32_MAX)
		avail = PG_INT32_MAX;
	PG_RETURN_INT32((int32) avail);
}

/* See stock.h. */
void
stock_best_stores(int n, const Datum *upcs, const int32 *qtys, Oid upc_oid, int32 *stores,
				  bool *found)
{
	Datum		values[2];
	Datum	   *q = palloc(sizeof(Datum) * (n + 1));
	int16		len;
	bool		byval;
	char		align;
	int			i;

	if (n == 0)
		return;
	stock_set_upc_oid(upc_oid);
	for (i = 0; i < n; i++)
	{
		stock_require_qty(qtys[i]);
		q[i] = Int32GetDatum(qtys[i]);
	}
	get_typlenbyvalalign(upc_oid, &len, &byval, &align);
	values[0] = PointerGetDatum(construct_array((Datum *) upcs, n, upc_oid, len, byval, align));
	values[1] = PointerGetDatum(construct_array(q, n, INT4OID, 4, true, TYPALIGN_INT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (stock_exec(SP_BEST_MANY, values, NULL, SPI_OK_SELECT) != (uint64) n)
		elog(ERROR, "best stores: %d products asked, another number answered", n);
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		stores[i] = stock_get_int32(i, 2, &isnull);
		found[i] = !isnull;
	}
	SPI_finish();
}

/* icos._best_store(upc, qty): the store with the most available, or null. */
PG_FUNCTION_INFO_V1(stock_best_store);
Datum
stock_best_store(PG_FUNCTION_ARGS)
{
	Datum		upc;
	int32		qty;
	int32		store;
	bool		found;

	stock_require(fcinfo, 0, "a product code");
	stock_require(fcinfo, 1, "a quantity");
	upc = PG_GETARG_DATUM(0);
	qty = PG_GETARG_INT32(1);
	stock_best_stores(1, &upc, &qty, get_fn_expr_argtype(fcinfo->flinfo, 0), &store, &found);
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_INT32(store);
}

/* icos._stock_slots_setting(): slots for a new item (setting icos.stock_slots). */
PG_FUNCTION_INFO_V1(stock_slots_setting);
Datum
stock_slots_setting(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(stock_parse_slots(GetConfigOption("icos.stock_slots", true, false)));
}

/* The elements of a one-dimensional array argument without nulls. */
static int
stock_array_arg(FunctionCallInfo fcinfo, int argno, Oid elemtype, const char *what,
				Datum **elems, bool **nulls, bool allow_nulls)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			n,
				i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(a, elemtype, typlen, typbyval, typalign, elems, nulls, &n);
	if (!allow_nulls)
		for (i = 0; i < n; i++)
			if ((*nulls)[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s must not contain nulls", what)));
	return n;
}

/* One line of icos._stock_lines, sorted into the fixed lock order. */
typedef struct StockLine
{
	int32		store;
	Datum		upc;
	int32		qty;
	int			pos;			/* position in the arrays given */
} StockLine;

/* (store, upc, position) with the btree order of icos.upc. */
static int
stock_line_cmp(const void *a, const void *b, void *arg)
{
	const StockLine *x = a;
	const StockLine *y = b;
	FmgrInfo   *cmp = arg;
	int32		c;

	if (x->store != y->store)
		return x->store < y->store ? -1 : 1;
	c = DatumGetInt32(FunctionCall2Coll(cmp, InvalidOid, x->upc, y->upc));
	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

/*
 * Whether no trigger of icos.stock_slot stands in the way of the batched
 * step 1, which must never wait.  The owner guard of a replicated store
 * node (icos_owner_guard) only reads, and the foreign-key triggers
 * (internal) do nothing when the key stays; any other enabled trigger, like
 * head office's stock_slot_availability, which writes icos.stock_availability
 * rows (and so can wait for another order while the batch holds the slots
 * of all its lines), turns the batch off.
 */
static bool
stock_batch_triggers_ok(void)
{
	Relation	rel;
	bool		ok = true;
	int			i;

	if (!OidIsValid(slot_relid))
	{
		slot_relid = get_relname_relid("stock_slot", get_namespace_oid("icos", false));
		if (!OidIsValid(slot_relid))
			elog(ERROR, "table icos.stock_slot does not exist");
	}
	/* the lock its UPDATE takes anyway */
	rel = table_open(slot_relid, RowExclusiveLock);
	if (rel->trigdesc != NULL)
		for (i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (t->tgenabled != TRIGGER_DISABLED && !t->tgisinternal &&
				strcmp(t->tgname, "icos_owner_guard") != 0)
				ok = false;
		}
	table_close(rel, NoLock);
	return ok;
}

/*
 * Step 1 for every line of one order in one statement (SP_FAST_LINES), the
 * lines sorted and each item different.  Returns true when every line was
 * taken.  Otherwise nothing of it stays: the statement ran in an internal
 * subtransaction that is rolled back, so no slot it changed stays changed
 * and, above all, no slot it locked stays locked.  That matters for the
 * lock order: had a line k not been taken while a later line j > k kept its
 * slot locked, taking line k one by one could wait (steps 2 and 3) while
 * holding a lock of a later item, and two orders could then deadlock.  After
 * a rollback the caller takes the lines one by one, as if this had not run.
 *
 * An error of the statement (a guard trigger refusing a line, a read-only
 * transaction, ...) is not raised from here either: the subtransaction is
 * rolled back and false returned, so that the lines taken one by one raise
 * whatever they raised before, for the same line.  Only a cancel or
 * shutdown (class 57, operator intervention) is raised at once.
 *
 * Returns false at once, without the statement, when an item has no slot
 * rows (the line-by-line path gives the error).
 */
typedef struct StockBatch
{
	Datum	   *values;
	int			n;
} StockBatch;

static bool
stock_fast_lines_run(void *arg)
{
	const StockBatch *b = arg;

	return stock_exec(SP_FAST_LINES, b->values, NULL, SPI_OK_UPDATE) == (uint64) b->n;
}

static bool
stock_fast_lines(const StockOp *op, int n, const StockLine *lines)
{
	StockBatch	batch;
	Datum	   *d_stores = palloc(sizeof(Datum) * n);
	Datum	   *d_upcs = palloc(sizeof(Datum) * n);
	Datum	   *d_needs = palloc(sizeof(Datum) * n);
	Datum	   *d_prefs = palloc(sizeof(Datum) * n);
	Datum	   *d_on_hand = palloc(sizeof(Datum) * n);
	Datum	   *d_reserved = palloc(sizeof(Datum) * n);
	Datum		values[7];
	int16		upc_len;
	bool		upc_byval;
	char		upc_align;
	int			i;

	for (i = 0; i < n; i++)
	{
		StockItem	item;
		int			slots;

		item.store = lines[i].store;
		item.upc = lines[i].upc;
		slots = stock_slot_count(&item);
		if (slots <= 0)
			return false;
		d_stores[i] = Int32GetDatum(lines[i].store);
		d_upcs[i] = lines[i].upc;
		d_needs[i] = Int32GetDatum(lines[i].qty);
		d_prefs[i] = Int32GetDatum(stock_preferred_slot(MyProcPid, slots));
		d_on_hand[i] = Int32GetDatum(op->on_hand_sign * lines[i].qty);
		d_reserved[i] = Int32GetDatum(op->reserved_sign * lines[i].qty);
	}
	get_typlenbyvalalign(plans_upc_oid, &upc_len, &upc_byval, &upc_align);
	values[0] = PointerGetDatum(construct_array(d_stores, n, INT4OID, 4, true, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(d_upcs, n, plans_upc_oid, upc_len, upc_byval,
												upc_align));
	values[2] = PointerGetDatum(construct_array(d_needs, n, INT4OID, 4, true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(d_prefs, n, INT4OID, 4, true, TYPALIGN_INT));
	values[4] = PointerGetDatum(construct_array(d_on_hand, n, INT4OID, 4, true, TYPALIGN_INT));
	values[5] = PointerGetDatum(construct_array(d_reserved, n, INT4OID, 4, true, TYPALIGN_INT));
	values[6] = BoolGetDatum(op->from_available);
	/* prepared outside the subtransaction, so that it is kept either way */
	stock_plan(SP_FAST_LINES);
	batch.values = values;
	batch.n = n;
	return stock_in_subxact(stock_fast_lines_run, &batch, true);
}

/*
 * icos._stock_lines(kind, stores, upcs, qtys, order, notes): the stock of
 * every line of one order in one call.  kind 'reserve' reserves qty units
 * (as icos._reserve); kind 'sale' sells qty unreserved units at once
 * (on_hand drops, one ledger row of kind sale), for goods carried out at the
 * till, instead of a reservation immediately consumed.  The arrays are
 * parallel, one element per line (notes may be null), in any order: the
 * lines are changed sorted by (store, upc, position), the fixed lock order of
 * every multi-item change (upc in the type's btree order, as in the ORDER BY
 * of the SQL callers).
 * Each line is checked and changed in one atomic step exactly as one
 * icos._reserve would; the first line that cannot be served raises IC001
 * (or IC004 for an unknown store or product) and the caller's transaction
 * keeps nothing.  The ledger rows are written by one multi-row INSERT.
 */
PG_FUNCTION_INFO_V1(stock_lines);
Datum
stock_lines(PG_FUNCTION_ARGS)
{
	char	   *kind;
	bool		sale;
	Oid			upc_oid;
	Datum	   *stores,
			   *upcs,
			   *qtys,
			   *notes = NULL;
	bool	   *snulls,
			   *unulls,
			   *qnulls,
			   *nnulls = NULL;
	int			n,
				i;
	int32	   *i_stores;
	int32	   *i_qtys;
	text	  **t_notes;

	stock_require(fcinfo, 0, "a stock movement kind");
	stock_require(fcinfo, 1, "the stores of the lines");
	stock_require(fcinfo, 2, "the product codes of the lines");
	stock_require(fcinfo, 3, "the quantities of the lines");
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(kind, "reserve") == 0)
		sale = false;
	else if (strcmp(kind, "sale") == 0)
		sale = true;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown stock change \"%s\" for order lines", kind),
				 errhint("Use reserve or sale.")));

	upc_oid = ARR_ELEMTYPE(PG_GETARG_ARRAYTYPE_P(2));
	n = stock_array_arg(fcinfo, 1, INT4OID, "stores", &stores, &snulls, false);
	if (stock_array_arg(fcinfo, 2, upc_oid, "product codes", &upcs, &unulls, false) != n ||
		stock_array_arg(fcinfo, 3, INT4OID, "quantities", &qtys, &qnulls, false) != n ||
		(!PG_ARGISNULL(5) &&
		 stock_array_arg(fcinfo, 5, TEXTOID, "notes", &notes, &nnulls, true) != n))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("stores, product codes, quantities and notes must have one element per line")));
	i_stores = palloc(sizeof(int32) * (n + 1));
	i_qtys = palloc(sizeof(int32) * (n + 1));
	t_notes = palloc0(sizeof(text *) * (n + 1));
	for (i = 0; i < n; i++)
	{
		i_stores[i] = DatumGetInt32(stores[i]);
		i_qtys[i] = DatumGetInt32(qtys[i]);
		if (notes != NULL && !nnulls[i])
			t_notes[i] = DatumGetTextPP(notes[i]);
	}
	stock_order_lines(sale, n, i_stores, upcs, i_qtys, upc_oid,
					  PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4), t_notes, NULL);
	PG_RETURN_VOID();
}

/*
 * The body of icos._stock_lines, also called directly by the placement
 * engine (src/order_stock.c): n lines of one order, parallel arrays in any
 * order (notes[i] may be NULL), sale or reserve.  Runs its statements in its
 * own SPI connection (nested when the caller has one).
 *
 * With ledger_order NULL the ledger rows are written here.  Otherwise the
 * caller takes that duty over, in the same transaction and before anything
 * else can see the counters (the placement path writes them in its one
 * INSERT statement with the order): ledger_order[i] is set to the position
 * of the i-th line changed, the order the rows must be written in.
 */
void
stock_order_lines(bool sale, int n, const int32 *stores, const Datum *upcs,
				  const int32 *qtys, Oid upc_oid, text *order, text *const *notes,
				  int *ledger_order)
{
	const StockOp *op = &stock_ops[sale ? OP_SELL : OP_RESERVE];
	int			i;
	StockLine  *lines;
	StockLine  *items;
	int			nitems;
	bool		batch;
	TypeCacheEntry *tce;
	Datum	   *d_on_hand;
	Datum	   *d_reserved;
	Datum	   *s_stores;
	Datum	   *s_upcs;
	Datum	   *s_notes;
	bool	   *s_nnulls;
	int16		upc_len;
	bool		upc_byval;
	char		upc_align;
	int			dims[1];
	int			lbs[1];
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	stock_set_upc_oid(upc_oid);
	if (n == 0)
		return;

	for (i = 0; i < n; i++)
		stock_require_qty(qtys[i]);

	tce = lookup_type_cache(upc_oid, TYPECACHE_CMP_PROC_FINFO);
	if (!OidIsValid(tce->cmp_proc_finfo.fn_oid))
		elog(ERROR, "type icos.upc has no btree comparison function");
	lines = palloc(sizeof(StockLine) * n);
	for (i = 0; i < n; i++)
	{
		lines[i].store = stores[i];
		lines[i].upc = upcs[i];
		lines[i].qty = qtys[i];
		lines[i].pos = i;
	}
	qsort_arg(lines, n, sizeof(StockLine), stock_line_cmp, &tce->cmp_proc_finfo);

	/*
	 * The items to take: the lines merged per item, each item once, in lock
	 * order.  An order listing a product twice takes it in one step: a
	 * second take of an item this transaction already holds a slot of could
	 * wait for a lower slot while holding that one, out of the lock order
	 * (two such orders deadlocked even with stock to spare).  The ledger
	 * keeps one row per line.
	 */
	items = palloc(sizeof(StockLine) * n);
	nitems = 0;
	for (i = 0; i < n; i++)
	{
		if (nitems > 0 && items[nitems - 1].store == lines[i].store &&
			DatumGetInt32(FunctionCall2Coll(&tce->cmp_proc_finfo, InvalidOid,
											items[nitems - 1].upc, lines[i].upc)) == 0)
		{
			if (items[nitems - 1].qty > PG_INT32_MAX - lines[i].qty)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the lines of one product at store %d ask for more than %d units",
								lines[i].store, PG_INT32_MAX),
						 errhint("Check the quantities entered: they are probably a mistake.")));
			items[nitems - 1].qty += lines[i].qty;
		}
		else
			items[nitems++] = lines[i];
	}

	/*
	 * Step 1 of every item in one statement, when the order has two items or
	 * more; otherwise, or when an item could not be taken so, the items one
	 * by one.  Not when the transaction holds many subtransactions already
	 * (stock_subxact_cheap: a batch that took every item keeps its
	 * subtransaction), nor when a trigger of the slots could make the batch
	 * wait (stock_batch_triggers_ok).
	 */
	batch = nitems > 1 && stock_subxact_cheap();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!batch || !stock_batch_triggers_ok() || !stock_fast_lines(op, nitems, items))
	{
		for (i = 0; i < nitems; i++)
		{
			StockItem	item;
			int64		have = 0;

			item.store = items[i].store;
			item.upc = items[i].upc;
			if (!stock_take(&item, op, items[i].qty, true, &have))
				stock_report_short(&item, op, items[i].qty, have);
		}
	}
	if (ledger_order != NULL)
	{
		for (i = 0; i < n; i++)
			ledger_order[i] = lines[i].pos;
		SPI_finish();
		return;
	}

	/* The ledger rows, in the order the lines were changed. */
	s_stores = palloc(sizeof(Datum) * n);
	s_upcs = palloc(sizeof(Datum) * n);
	s_notes = palloc0(sizeof(Datum) * n);
	s_nnulls = palloc(sizeof(bool) * n);
	d_on_hand = palloc(sizeof(Datum) * n);
	d_reserved = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
	{
		int			pos = lines[i].pos;

		s_stores[i] = Int32GetDatum(lines[i].store);
		s_upcs[i] = lines[i].upc;
		s_nnulls[i] = notes[pos] == NULL;
		if (!s_nnulls[i])
			s_notes[i] = PointerGetDatum(notes[pos]);
		d_on_hand[i] = Int32GetDatum(op->on_hand_sign * lines[i].qty);
		d_reserved[i] = Int32GetDatum(op->reserved_sign * lines[i].qty);
	}
	get_typlenbyvalalign(upc_oid, &upc_len, &upc_byval, &upc_align);
	dims[0] = n;
	lbs[0] = 1;
	values[0] = PointerGetDatum(construct_array(s_stores, n, INT4OID, 4, true, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(s_upcs, n, upc_oid, upc_len, upc_byval, upc_align));
	values[2] = PointerGetDatum(construct_array(d_on_hand, n, INT4OID, 4, true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(d_reserved, n, INT4OID, 4, true, TYPALIGN_INT));
	values[4] = PointerGetDatum(construct_md_array(s_notes, s_nnulls, 1, dims, lbs, TEXTOID, -1,
												   false, TYPALIGN_INT));
	values[5] = CStringGetTextDatum(sale ? "sale" : "reserve");
	values[6] = order ? PointerGetDatum(order) : (Datum) 0;
	nulls[6] = order ? ' ' : 'n';
	if (stock_exec(SP_LEDGER_MANY, values, nulls, SPI_OK_INSERT) != (uint64) n)
		elog(ERROR, "stock ledger took fewer rows than lines");
	SPI_finish();
}

/*
 * icos._stock_movement_fits(kind, d_on_hand, d_reserved, has_hold): the
 * CHECK constraint stock_movement_check of the ledger, exactly the CASE
 * expression it replaced (see its comment in 20_stock.sql).
 */
PG_FUNCTION_INFO_V1(stock_movement_fits);
Datum
stock_movement_fits(PG_FUNCTION_ARGS)
{
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		h = PG_GETARG_INT32(1);
	int32		r = PG_GETARG_INT32(2);
	bool		hold = PG_GETARG_BOOL(3);
	bool		fits;

	if (strcmp(kind, "receipt") == 0 || strcmp(kind, "return") == 0)
		fits = h > 0 && r == 0;
	else if (strcmp(kind, "sale") == 0)
		fits = h < 0 && (r == h || r == 0);
	else if (strcmp(kind, "reserve") == 0)
		fits = h == 0 && r > 0;
	else if (strcmp(kind, "release") == 0)
		fits = h == 0 && r < 0;
	else if (strcmp(kind, "hold") == 0)
		fits = h == 0 && r > 0 && hold;
	else if (strcmp(kind, "hold_release") == 0)
		fits = h == 0 && r < 0 && hold;
	else
		fits = h != 0 && r == 0;
	PG_RETURN_BOOL(fits);
}
