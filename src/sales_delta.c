/*-------------------------------------------------------------------------
 *
 * sales_delta.c
 *	  The trigger on icos.order_line that appends what a change of a line
 *	  means for the sales reports to icos.sales_delta.
 *
 * It was a PL/pgSQL trigger with a pinned search_path; every order line of
 * every order placed paid for a PL/pgSQL call and two search_path switches.
 * This is the same function in C: the same rows, computed the same way, with
 * one INSERT prepared once per backend and kept.  Nothing in it depends on
 * the search_path (the statement names icos.sales_delta and uses no
 * operators), so it behaves the same under the logical-replication apply
 * worker, where the trigger also fires (ENABLE ALWAYS) with an empty
 * search_path.
 *
 * The rows are written as COPY writes them (table_tuple_insert), not by an
 * INSERT statement per row: icos.sales_delta is a bare insert-only log (nine
 * NOT NULL columns; no index, trigger, rule, default, CHECK or row-level
 * security), and an executor start per order line was most of the
 * trigger's cost.  That shape is checked against the relation every time;
 * should the table ever carry any of those, the kept INSERT is used, so
 * nothing it would do is skipped.
 *
 * A line counts unless its status is cancelled.  Old counted and new counted
 * with the same order, store and product: one row of differences (d_lines
 * 0).  Otherwise the old line, if counted, is taken out (d_lines -1) and the
 * new one, if counted, put in (d_lines +1).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "bare_table.h"

/* The kept INSERT and the types it was prepared for. */
static SPIPlanPtr delta_plan = NULL;
static Oid	delta_code_type = InvalidOid;
static Oid	delta_upc_type = InvalidOid;

/* The columns of icos.order_line the trigger reads. */
enum
{
	LC_CODE, LC_STORE, LC_UPC, LC_STATUS, LC_QTY, LC_UNIT, LC_DISCOUNT, LC_NET, LC_RETURNED,
	LC_COUNT
};
static const char *const line_columns[LC_COUNT] = {"code", "store_id", "upc", "status", "qty",
"unit_price_pence", "discount_pence", "net_pence", "returned_qty"};

/* Their numbers, looked up once and again after a relcache invalidation. */
static AttrNumber line_att[LC_COUNT];
static bool line_atts_known = false;

/*
 * icos.sales_delta and whether it is bare (1), not (0) or not yet looked at
 * (-1).  These and the line's column numbers are looked up again after any
 * change of a relation's definition (delta_relcache_callback).
 */
static Oid	delta_relid = InvalidOid;
static int	delta_is_bare = -1;
static bool delta_callback_registered = false;

static void
delta_relcache_callback(Datum arg, Oid relid)
{
	delta_relid = InvalidOid;
	delta_is_bare = -1;
	line_atts_known = false;
}

/* The values of a line the trigger reads. */
typedef struct DeltaLine
{
	Datum		code;
	int32		store_id;
	Datum		upc;
	bool		counted;
	int64		qty;
	int64		unit_price;
	int64		discount;
	int64		net;
	int64		returned;
} DeltaLine;

static void
delta_line_atts(TupleDesc desc)
{
	int			i;

	if (line_atts_known)
		return;
	for (i = 0; i < LC_COUNT; i++)
	{
		int			attno = SPI_fnumber(desc, line_columns[i]);

		if (attno <= 0)
			elog(ERROR, "icos.order_line has no column \"%s\"", line_columns[i]);
		line_att[i] = attno;
	}
	line_atts_known = true;
}

static Datum
delta_col(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;

	return SPI_getbinval(tuple, desc, line_att[col], &isnull);
}

/* Read a line; every column the trigger uses is NOT NULL. */
static void
delta_read(HeapTuple tuple, TupleDesc desc, DeltaLine *l)
{
	char	   *status = SPI_getvalue(tuple, desc, line_att[LC_STATUS]);

	l->code = delta_col(tuple, desc, LC_CODE);
	l->store_id = DatumGetInt32(delta_col(tuple, desc, LC_STORE));
	l->upc = delta_col(tuple, desc, LC_UPC);
	l->counted = status == NULL || strcmp(status, "cancelled") != 0;
	l->qty = DatumGetInt32(delta_col(tuple, desc, LC_QTY));
	l->unit_price = DatumGetInt64(delta_col(tuple, desc, LC_UNIT));
	l->discount = DatumGetInt64(delta_col(tuple, desc, LC_DISCOUNT));
	l->net = DatumGetInt64(delta_col(tuple, desc, LC_NET));
	l->returned = DatumGetInt32(delta_col(tuple, desc, LC_RETURNED));
}

/* bigint arithmetic with the server's error on overflow. */
static int64
delta_mul(int64 a, int64 b)
{
	int64		r;

	if (pg_mul_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	return r;
}

static int64
delta_sub(int64 a, int64 b)
{
	int64		r;

	if (pg_sub_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	return r;
}

static int64
delta_neg(int64 a)
{
	return delta_sub(0, a);
}

/* The columns of icos.sales_delta, in order. */
static const char *const delta_columns[9] = {"code", "store_id", "upc", "d_lines", "d_units",
"d_gross", "d_discount", "d_net", "d_returns"};

/*
 * Append one row to icos.sales_delta: directly into rel when it is bare,
 * else (rel NULL) with the kept INSERT.
 */
static void
delta_insert(Relation rel, const DeltaLine *l, int32 d_lines, int64 d_units, int64 d_gross,
			 int64 d_discount, int64 d_net, int64 d_returns)
{
	Datum		values[9];

	values[0] = l->code;
	values[1] = Int32GetDatum(l->store_id);
	values[2] = l->upc;
	values[3] = Int32GetDatum(d_lines);
	values[4] = Int64GetDatum(d_units);
	values[5] = Int64GetDatum(d_gross);
	values[6] = Int64GetDatum(d_discount);
	values[7] = Int64GetDatum(d_net);
	values[8] = Int64GetDatum(d_returns);
	if (rel != NULL)
	{
		bare_table_insert(rel, values, 9);
		return;
	}
	if (delta_plan == NULL)
	{
		Oid			argtypes[9] = {delta_code_type, INT4OID, delta_upc_type, INT4OID,
		INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO icos.sales_delta (code, store_id, upc, d_lines, d_units,"
						   " d_gross, d_discount, d_net, d_returns)"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare the sales delta insert: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep the sales delta insert");
		delta_plan = plan;
	}
	if (SPI_execute_plan(delta_plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "the sales delta insert failed");
}

PG_FUNCTION_INFO_V1(sales_delta_trigger);
Datum
sales_delta_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	Oid			code_type;
	Oid			upc_type;
	DeltaLine	o,
				n;
	bool		has_old,
				has_new;
	Oid			delta_rel;
	Relation	rel;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "icos._sales_delta_trigger must be an AFTER ROW trigger");

	desc = RelationGetDescr(td->tg_relation);
	if (!delta_callback_registered)
	{
		CacheRegisterRelcacheCallback(delta_relcache_callback, (Datum) 0);
		delta_callback_registered = true;
	}
	delta_line_atts(desc);
	code_type = SPI_gettypeid(desc, line_att[LC_CODE]);
	upc_type = SPI_gettypeid(desc, line_att[LC_UPC]);
	if (code_type != delta_code_type || upc_type != delta_upc_type)
	{
		/* first call, or the extension was created again in this session */
		if (delta_plan != NULL)
			SPI_freeplan(delta_plan);
		delta_plan = NULL;
		delta_code_type = code_type;
		delta_upc_type = upc_type;
	}

	has_old = TRIGGER_FIRED_BY_UPDATE(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event);
	has_new = TRIGGER_FIRED_BY_UPDATE(td->tg_event) || TRIGGER_FIRED_BY_INSERT(td->tg_event);
	if (has_old)
		delta_read(td->tg_trigtuple, desc, &o);
	if (has_new)
		delta_read(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple,
				   desc, &n);
	has_old = has_old && o.counted;
	has_new = has_new && n.counted;

	if (!has_old && !has_new)
		return PointerGetDatum(NULL);
	if (!OidIsValid(delta_relid))
	{
		delta_rel = get_relname_relid("sales_delta", RelationGetNamespace(td->tg_relation));
		if (!OidIsValid(delta_rel))
			elog(ERROR, "table sales_delta is missing");
		delta_relid = delta_rel;
	}
	else
		delta_rel = delta_relid;
	/* opening it takes in any invalidation of its definition first */
	rel = table_open(delta_rel, RowExclusiveLock);
	if (delta_is_bare < 0)
	{
		Oid			types[9] = {delta_code_type, INT4OID, delta_upc_type, INT4OID,
		INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};

		delta_is_bare = bare_table_check(rel, 9, delta_columns, types) ? 1 : 0;
	}
	if (!delta_is_bare)
	{
		table_close(rel, RowExclusiveLock);
		rel = NULL;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
	}
	if (has_old && has_new &&
		DatumGetInt64(o.code) == DatumGetInt64(n.code) && o.store_id == n.store_id &&
		DatumGetInt64(o.upc) == DatumGetInt64(n.upc))
		delta_insert(rel, &n, 0, delta_sub(n.qty, o.qty),
					 delta_sub(delta_mul(n.qty, n.unit_price), delta_mul(o.qty, o.unit_price)),
					 delta_sub(n.discount, o.discount), delta_sub(n.net, o.net),
					 delta_sub(delta_mul(n.returned, n.unit_price),
							   delta_mul(o.returned, o.unit_price)));
	else
	{
		if (has_old)
			delta_insert(rel, &o, -1, -o.qty, delta_neg(delta_mul(o.qty, o.unit_price)),
						 delta_neg(o.discount), delta_neg(o.net),
						 delta_neg(delta_mul(o.returned, o.unit_price)));
		if (has_new)
			delta_insert(rel, &n, 1, n.qty, delta_mul(n.qty, n.unit_price), n.discount, n.net,
						 delta_mul(n.returned, n.unit_price));
	}
	if (rel != NULL)
		table_close(rel, NoLock);
	else
		SPI_finish();
	return PointerGetDatum(NULL);
}
