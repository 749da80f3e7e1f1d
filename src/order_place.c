/*-------------------------------------------------------------------------
 *
 * order_place.c
 *	  icos.place_order(order jsonb): every placement, of any channel,
 *	  through the phases of the order engine (order.h):
 *
 *	  1. order_read		the document read and validated (order_read.c)
 *	  -  external_ref	a placement whose key this store already used
 *						returns that order (or IC006); concurrent ones wait
 *	  2. order_resolve	stores, employee, customer, delivery, holds,
 *						products, fulfilment stores (order_resolve.c)
 *	  3. order_price		prices from the one pricing function (order_write.c;
 *						the maximum order total is its rule)
 *	  4. order_stock		the stock of every line (order_stock.c)
 *	     order_settle	promised date, payments, status (order_write.c)
 *	  5. order_write		one statement writes the order (order_write.c),
 *	     order_stock_remote	and lines of another node's stock ask it
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "access/xact.h"
#include "storage/lock.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "errcodes.h"
#include "gtin.h"
#include "jsonb_put.h"
#include "miscadmin.h"
#include "order.h"
#include "order_sql.h"

extern Datum next_order_code(PG_FUNCTION_ARGS);
extern Datum order_code_in(PG_FUNCTION_ARGS);
extern Datum order_code_out(PG_FUNCTION_ARGS);

/* The advisory lock class of external_ref keys (pg_locks.classid). */
#define ORDER_EXTREF_LOCK_CLASS	1768124276

/* Pence as icos._pounds prints them: 12.50, -0.05. */
char *
order_pounds(int64 pence)
{
	uint64		a = pence < 0 ? -(uint64) pence : (uint64) pence;

	return psprintf("%s" UINT64_FORMAT ".%02d", pence < 0 ? "-" : "", a / 100, (int) (a % 100));
}

/* A product code as icos.upc prints it. */
char *
order_upc_text(int64 upc)
{
	char	   *u = palloc(GTIN_BUFSIZE);

	if (!gtin_format(upc, GTIN_STYLE_CANONICAL, u))
		elog(ERROR, "product code " INT64_FORMAT " has no canonical form", upc);
	return u;
}

/*
 * Raise the refusal of icos._change_refusal, if any, for a change of kind
 * to the order being placed (awaiting payment, nothing paid yet): the
 * change rules stay in their one place.
 */
void
order_refusal(const Order *o, const char *kind, Jsonb *arg)
{
	static const char *const methods[] = {"home", "collect", "carry"};
	JsonbParseState *st = NULL;
	Datum		v[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	char	   *state = NULL;
	char	   *message = NULL;
	char	   *detail = NULL;
	MemoryContext caller = CurrentMemoryContext;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_put_text(&st, "code", o->code_text);
	jb_put_int(&st, "store_id", o->store);
	jb_put_text(&st, "channel", o->channel);
	jb_put_text(&st, "status", "awaiting_payment");
	jb_put_text(&st, "delivery_method", methods[o->method]);
	if (o->method == OM_COLLECT)
		jb_put_int(&st, "collect_store", o->collect);
	jb_put_int(&st, "total_pence", o->total);
	jb_put_int(&st, "gross_pence", o->gross);
	jb_put_int(&st, "discount_pence", o->discount);
	v[0] = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	v[1] = CStringGetTextDatum(kind);
	v[2] = arg ? JsonbPGetDatum(arg) : (Datum) 0;
	nulls[2] = arg ? ' ' : 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	order_run(OS_REFUSAL, v, nulls, &isnull);
	if (!isnull)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		message = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		detail = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	if (state != NULL)
		ereport(ERROR,
				(errcode(MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])),
				 errmsg("%s", message),
				 detail ? errdetail("%s", detail) : 0));
}

/*
 * A placement with an external_ref: wait for any other placement of the
 * same key at this store (until it commits or aborts), then look for the
 * order of that key.  Found: its code when the document is the same, IC006
 * otherwise.  Not found: NULL, and this placement goes on holding the key.
 * In repeatable read, one committed after the snapshot is 40001.
 */
static char *
place_external_ref(Order *o)
{
	uint32		key = hash_bytes((const unsigned char *) o->external_ref, strlen(o->external_ref));
	LOCKTAG		tag;
	Datum		v[2];
	bool		isnull;
	char	   *code = NULL;
	bool		same = false;
	MemoryContext caller = CurrentMemoryContext;

	key = hash_combine(key, (uint32) o->store);
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, ORDER_EXTREF_LOCK_CLASS, key, 2);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);

	v[0] = Int32GetDatum(o->store);
	v[1] = CStringGetTextDatum(o->external_ref);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	order_run(OS_EXTREF, v, NULL, &isnull);
	if (SPI_processed == 0 && IsolationUsesXactSnapshot())
	{
		/*
		 * In repeatable read or serializable, the transaction's snapshot may
		 * predate a placement of this key that committed while this one
		 * waited for the key: it cannot see that order, and placing another
		 * would break the key (a raw 23505).  As PostgreSQL does for a row
		 * changed after the snapshot: a serialization failure, which such a
		 * client retries, and the retry gets that order's code.
		 */
		if (SPI_execute_snapshot(order_plan(OS_EXTREF), v, NULL, GetLatestSnapshot(),
								 InvalidSnapshot, true, false, 1) == SPI_OK_SELECT &&
			SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent placement with external_ref \"%s\" at store %d",
							o->external_ref, o->store),
					 errdetail("That order committed after this transaction's snapshot was taken."),
					 errhint("Retry the transaction: the placement then returns that order's code.")));
	}
	if (SPI_processed > 0)
	{
		bytea	   *mine = order_digest(o->doc);
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		MemoryContextSwitchTo(spi);
		same = !isnull && VARSIZE_ANY_EXHDR(DatumGetPointer(d)) == VARSIZE(mine) - VARHDRSZ &&
			memcmp(VARDATA_ANY(DatumGetPointer(d)), VARDATA(mine), VARSIZE(mine) - VARHDRSZ) == 0;
	}
	SPI_finish();
	if (code != NULL && !same)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_REF_REUSED),
				 errmsg("external_ref \"%s\" was already used at store %d for order %s",
						o->external_ref, o->store, code),
				 errdetail("That order was placed from a different document; nothing was changed."),
				 errhint("Use a new external_ref for a new order, or look order %s up.", code)));
	return code;
}

/* The order placed: its code (an icos.order_code). */
static Datum
place(Jsonb *doc)
{
	Order		o;
	char	   *existing;
	LOCAL_FCINFO(cfc, 0);

	order_require_sql_version();
	order_read(doc, &o);
	if (o.external_ref != NULL && (existing = place_external_ref(&o)) != NULL)
		return DirectFunctionCall1(order_code_in, CStringGetDatum(existing));
	order_resolve(&o);

	InitFunctionCallInfoData(*cfc, NULL, 0, InvalidOid, NULL, NULL);
	o.code = next_order_code(cfc);
	o.code_text = DatumGetCString(DirectFunctionCall1(order_code_out, o.code));

	order_price(&o);
	order_stock(&o);
	order_settle(&o);
	order_write(&o);
	order_stock_remote(&o);
	return o.code;
}

/*
 * icos.place_order(order jsonb) returns icos.order_code (SECURITY DEFINER).
 */
PG_FUNCTION_INFO_V1(place_order);
Datum
place_order(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order must be a JSON object"),
				 errdetail("Got null.")));
	PG_RETURN_DATUM(place(PG_GETARG_JSONB_P(0)));
}

/*
 * icos._place_fast(order jsonb) returns text: named by 0.2.0's SQL (the
 * former fast path), dropped by 0.3.0; the same placement, its code as text.
 */
PG_FUNCTION_INFO_V1(place_fast);
Datum
place_fast(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(DatumGetCString(DirectFunctionCall1(order_code_out,
																		 place(PG_GETARG_JSONB_P(0))))));
}
