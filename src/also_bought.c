/*-------------------------------------------------------------------------
 *
 * also_bought.c
 *	  The trigger on icos.order_line that makes an order pending for the
 *	  "also bought" fold: it appends the order to icos.basket_delta
 *	  (docs/customers.md, "Orders, feedback and suggestions").
 *
 * Kept the way the sales rollup's trigger is (sales_delta.c): every line of
 * every order placed fires it, so it was moved out of PL/pgSQL (a call and
 * a search_path switch per line).  icos.basket_delta is a bare insert-only
 * list (two NOT NULL columns; no index, trigger, rule, default, CHECK or
 * row-level security): rows are written as COPY writes them
 * (table_tuple_insert).  That shape is checked against the relation after
 * every change of a relation's definition; should the table ever carry any
 * of those, a kept INSERT is used instead, so nothing it would do is
 * skipped.  Nothing depends on the search_path, so it behaves the same under
 * the logical-replication apply worker (the trigger is enabled ALWAYS: head
 * office folds every store's orders).
 *
 * One row per order touched: the old line's order (delete, or an update
 * that moved the line) and the new line's (insert, update).  The fold reads
 * the order's lines as they are then, so one row per order is enough.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "bare_table.h"

/* The kept INSERT and the order code type it was prepared for. */
static SPIPlanPtr basket_plan = NULL;
static Oid	basket_code_type = InvalidOid;

/* order_line's code and store_id, and icos.basket_delta: looked up again after a relcache invalidation. */
static AttrNumber line_code_att = InvalidAttrNumber;
static AttrNumber line_store_att = InvalidAttrNumber;
static Oid	basket_relid = InvalidOid;
static int	basket_is_bare = -1;	/* 1 bare, 0 not, -1 not yet looked at */
static bool basket_callback_registered = false;

static void
basket_relcache_callback(Datum arg, Oid relid)
{
	basket_relid = InvalidOid;
	basket_is_bare = -1;
	line_code_att = InvalidAttrNumber;
	line_store_att = InvalidAttrNumber;
}

/* icos.basket_delta's columns, for bare_table_check */
static const char *const basket_columns[2] = {"code", "store_id"};

/* Append (code, store) directly into rel, or (rel NULL) with the kept INSERT. */
static void
basket_insert(Relation rel, Datum code, Datum store)
{
	Datum		values[2] = {code, store};

	if (rel != NULL)
	{
		bare_table_insert(rel, values, 2);
		return;
	}
	if (basket_plan == NULL)
	{
		Oid			argtypes[2] = {basket_code_type, INT4OID};
		SPIPlanPtr	plan = SPI_prepare("INSERT INTO icos.basket_delta (code, store_id) VALUES ($1, $2)",
									   2, argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare the basket delta insert: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep the basket delta insert");
		basket_plan = plan;
	}
	if (SPI_execute_plan(basket_plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "the basket delta insert failed");
}

/* A line's order: its code and selling store (both NOT NULL). */
static void
basket_line(HeapTuple tuple, TupleDesc desc, Datum *code, Datum *store)
{
	bool		isnull;

	*code = heap_getattr(tuple, line_code_att, desc, &isnull);
	*store = heap_getattr(tuple, line_store_att, desc, &isnull);
}

PG_FUNCTION_INFO_V1(basket_delta_trigger);
Datum
basket_delta_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	Oid			code_type;
	Datum		old_code = 0,
				old_store = 0,
				new_code = 0,
				new_store = 0;
	bool		has_old,
				has_new;
	Relation	rel;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "icos._basket_changed must be an AFTER ROW trigger");

	desc = RelationGetDescr(td->tg_relation);
	if (!basket_callback_registered)
	{
		CacheRegisterRelcacheCallback(basket_relcache_callback, (Datum) 0);
		basket_callback_registered = true;
	}
	if (line_code_att == InvalidAttrNumber)
	{
		line_code_att = SPI_fnumber(desc, "code");
		line_store_att = SPI_fnumber(desc, "store_id");
		if (line_code_att <= 0 || line_store_att <= 0)
			elog(ERROR, "icos._basket_changed fires on a table without code and store_id");
	}
	code_type = SPI_gettypeid(desc, line_code_att);
	if (code_type != basket_code_type)
	{
		/* first call, or the extension was created again in this session */
		if (basket_plan != NULL)
			SPI_freeplan(basket_plan);
		basket_plan = NULL;
		basket_code_type = code_type;
		basket_is_bare = -1;
	}

	has_old = TRIGGER_FIRED_BY_UPDATE(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event);
	has_new = TRIGGER_FIRED_BY_UPDATE(td->tg_event) || TRIGGER_FIRED_BY_INSERT(td->tg_event);
	if (has_old)
		basket_line(td->tg_trigtuple, desc, &old_code, &old_store);
	if (has_new)
		basket_line(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple,
					desc, &new_code, &new_store);
	/* the same order before and after: once */
	if (has_old && has_new && DatumGetInt64(old_code) == DatumGetInt64(new_code) &&
		DatumGetInt32(old_store) == DatumGetInt32(new_store))
		has_old = false;

	if (!OidIsValid(basket_relid))
	{
		Oid			relid = get_relname_relid("basket_delta", RelationGetNamespace(td->tg_relation));

		if (!OidIsValid(relid))
			elog(ERROR, "table basket_delta is missing");
		basket_relid = relid;
	}
	/* opening it takes in any invalidation of its definition first */
	rel = table_open(basket_relid, RowExclusiveLock);
	if (basket_is_bare < 0)
	{
		Oid			types[2] = {basket_code_type, INT4OID};

		basket_is_bare = bare_table_check(rel, 2, basket_columns, types) ? 1 : 0;
	}
	if (!basket_is_bare)
	{
		table_close(rel, RowExclusiveLock);
		rel = NULL;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
	}
	if (has_old)
		basket_insert(rel, old_code, old_store);
	if (has_new)
		basket_insert(rel, new_code, new_store);
	if (rel != NULL)
		table_close(rel, NoLock);
	else
		SPI_finish();
	return PointerGetDatum(NULL);
}
