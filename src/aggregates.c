/*-------------------------------------------------------------------------
 *
 * aggregates.c
 *	  fmgr wrappers of the reporting aggregates icos.sales_summary and
 *	  icos.top_sellers.  The state logic (hash tables, combination,
 *	  serialization and its validation) lives in src/core/sales_agg.c; this
 *	  file converts between SQL values and the core, allocates in the
 *	  aggregate's memory context and turns core statuses into errors.
 *
 * Both aggregates have an internal state, a combine function and
 * serial/deserial functions, so they are PARALLEL SAFE and run as Partial
 * and Finalize Aggregate under a Gather.
 *
 * NULL handling: a row with a NULL in any aggregated argument is skipped
 * (as for a strict aggregate), except top_sellers' k, which must be given.
 * No rows at all give a summary of zeros (average basket NULL) and an empty
 * top-sellers array.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "gtin.h"
#include "sales_agg.h"

PG_FUNCTION_INFO_V1(sales_summary_transfn);
PG_FUNCTION_INFO_V1(sales_summary_combinefn);
PG_FUNCTION_INFO_V1(sales_summary_serialfn);
PG_FUNCTION_INFO_V1(sales_summary_deserialfn);
PG_FUNCTION_INFO_V1(sales_summary_finalfn);
PG_FUNCTION_INFO_V1(top_sellers_transfn);
PG_FUNCTION_INFO_V1(top_sellers_combinefn);
PG_FUNCTION_INFO_V1(top_sellers_serialfn);
PG_FUNCTION_INFO_V1(top_sellers_deserialfn);
PG_FUNCTION_INFO_V1(top_sellers_finalfn);

/* Allocator for the core: palloc in the given memory context (huge allowed). */
static void *
agg_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size);
}

static void
agg_release(void *ctx, void *ptr)
{
	pfree(ptr);
}

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggctx;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggctx;
}

static sa_allocator
allocator_in(MemoryContext ctx)
{
	sa_allocator a;

	a.alloc = agg_alloc;
	a.release = agg_release;
	a.ctx = ctx;
	return a;
}

/* Raises the error for a core status met while adding or combining. */
static void
report_status(sa_status st, const char *agg)
{
	switch (st)
	{
		case SA_OK:
			return;
		case SA_OVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s: a total is out of range", agg),
					 errdetail("%s", sa_strerror(st)),
					 errhint("Report over a shorter period or fewer stores.")));
			break;
		case SA_TOO_MANY_KEYS:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s: more than %u distinct keys in one group", agg, (unsigned) SA_MAX_KEYS),
					 errhint("Group the rows more finely (for example by store or by day).")));
			break;
		case SA_BAD_K:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: k must be between 1 and %d", agg, SA_TOP_MAX_K),
					 errdetail("%s", sa_strerror(st))));
			break;
		case SA_K_MISMATCH:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s: k must be the same for every row of a group", agg),
					 errdetail("%s", sa_strerror(st)),
					 errhint("Pass k as a constant, for example icos.top_sellers(upc, qty, 10).")));
			break;
		default:
			/* Keys come from validated types and memory from palloc. */
			elog(ERROR, "%s: %s", agg, sa_strerror(st));
	}
}

/* Raises the error for a serialized state that does not deserialize. */
static void
report_bad_state(sa_status st, const char *agg)
{
	if (st == SA_OK)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("malformed %s aggregate state", agg),
			 errdetail("%s", sa_strerror(st)),
			 errhint("The state must come from the serial function of the same aggregate and icos version.")));
}

/*
 * A numeric amount in pounds as pence.  More than two decimals, NaN,
 * infinity or more than int64 pence is an error: money is exact.
 */
static int64
pence_of(Datum num, const char *what)
{
	Numeric		x = DatumGetNumeric(num);
	Datum		scaled,
				rounded;

	if (numeric_is_nan(x) || numeric_is_inf(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sales_summary: %s is not a finite amount", what),
				 errdetail("Got %s.", DatumGetCString(DirectFunctionCall1(numeric_out, num)))));
	scaled = DirectFunctionCall2(numeric_mul, num,
								 DirectFunctionCall1(int4_numeric, Int32GetDatum(100)));
	rounded = DirectFunctionCall2(numeric_round, scaled, Int32GetDatum(0));
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, scaled, rounded)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sales_summary: %s %s has more than two decimals", what,
						DatumGetCString(DirectFunctionCall1(numeric_out, num))),
				 errdetail("Amounts are pounds with at most two decimals (whole pence)."),
				 errhint("Round the amount, or aggregate the numeric(12,2) columns of icos.sales_lines.")));
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, rounded));
}

/* pence as numeric pounds with exactly two decimals */
static Datum
pounds_of(int64 pence)
{
	char		buf[32];
	uint64		a = pence < 0 ? -(uint64) pence : (uint64) pence;

	snprintf(buf, sizeof(buf), "%s" UINT64_FORMAT ".%02d", pence < 0 ? "-" : "",
			 a / 100, (int) (a % 100));
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* ---- sales_summary --------------------------------------------------- */

static sa_summary *
new_summary(MemoryContext ctx)
{
	sa_summary *s = MemoryContextAlloc(ctx, sizeof(sa_summary));

	sa_summary_init(s);
	return s;
}

/*
 * sales_summary_transfn(state internal, code order_code, units bigint,
 *						 gross numeric, discount numeric, net numeric,
 *						 returns numeric)
 */
Datum
sales_summary_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "sales_summary_transfn");
	sa_allocator a = allocator_in(ctx);
	sa_summary *s = PG_ARGISNULL(0) ? new_summary(ctx) : (sa_summary *) PG_GETARG_POINTER(0);
	int			i;

	for (i = 1; i <= 6; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_POINTER(s);
	report_status(sa_summary_add(s, &a, (uint64) PG_GETARG_INT64(1), PG_GETARG_INT64(2),
								 pence_of(PG_GETARG_DATUM(3), "gross"),
								 pence_of(PG_GETARG_DATUM(4), "discount"),
								 pence_of(PG_GETARG_DATUM(5), "net"),
								 pence_of(PG_GETARG_DATUM(6), "returns")),
				  "sales_summary");
	PG_RETURN_POINTER(s);
}

Datum
sales_summary_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "sales_summary_combinefn");
	sa_allocator a = allocator_in(ctx);
	sa_summary *into;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	/* Never adopt the second state: it may live in another context. */
	into = PG_ARGISNULL(0) ? new_summary(ctx) : (sa_summary *) PG_GETARG_POINTER(0);
	report_status(sa_summary_combine(into, &a, (sa_summary *) PG_GETARG_POINTER(1)),
				  "sales_summary");
	PG_RETURN_POINTER(into);
}

Datum
sales_summary_serialfn(PG_FUNCTION_ARGS)
{
	sa_summary *s = (sa_summary *) PG_GETARG_POINTER(0);
	sa_allocator a = allocator_in(CurrentMemoryContext);
	size_t		len = sa_summary_serial_size(s);
	bytea	   *out;

	if (len + VARHDRSZ > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sales_summary: a partial state of %u orders is too large to pass between workers",
						s->orders.n),
				 errhint("Group the rows more finely, or SET max_parallel_workers_per_gather = 0.")));
	out = palloc(len + VARHDRSZ);
	SET_VARSIZE(out, len + VARHDRSZ);
	report_status(sa_summary_serialize(s, &a, (uint8_t *) VARDATA(out)), "sales_summary");
	PG_RETURN_BYTEA_P(out);
}

Datum
sales_summary_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "sales_summary_deserialfn");
	sa_allocator a = allocator_in(ctx);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	sa_summary *s = MemoryContextAlloc(ctx, sizeof(sa_summary));

	report_bad_state(sa_summary_deserialize(s, &a, (const uint8_t *) VARDATA_ANY(in),
											VARSIZE_ANY_EXHDR(in)),
					 "sales_summary");
	PG_RETURN_POINTER(s);
}

/*
 * Returns icos.sales_summary_result: (orders, lines, units, gross,
 * discount, net, returns, avg_basket).
 */
Datum
sales_summary_finalfn(PG_FUNCTION_ARGS)
{
	sa_summary	empty;
	sa_summary *s;
	sa_summary_result r;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false};

	if (PG_ARGISNULL(0))
	{
		sa_summary_init(&empty);
		s = &empty;
	}
	else
		s = (sa_summary *) PG_GETARG_POINTER(0);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "sales_summary_finalfn must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts != 8)
		elog(ERROR, "icos.sales_summary_result has %d columns, expected 8", tupdesc->natts);

	sa_summary_result_of(s, &r);
	values[0] = Int64GetDatum(r.orders);
	values[1] = Int64GetDatum(r.lines);
	values[2] = Int64GetDatum(r.units);
	values[3] = pounds_of(r.gross);
	values[4] = pounds_of(r.discount);
	values[5] = pounds_of(r.net);
	values[6] = pounds_of(r.returns);
	if (r.has_basket)
		values[7] = pounds_of(r.basket_num);
	else
		nulls[7] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---- top_sellers ----------------------------------------------------- */

static sa_top *
new_top(MemoryContext ctx)
{
	sa_top	   *t = MemoryContextAlloc(ctx, sizeof(sa_top));

	sa_top_init(t);
	return t;
}

/* top_sellers_transfn(state internal, upc icos.upc, qty bigint, k int) */
Datum
top_sellers_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "top_sellers_transfn");
	sa_allocator a = allocator_in(ctx);
	sa_top	   *t = PG_ARGISNULL(0) ? new_top(ctx) : (sa_top *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("top_sellers: k must not be null"),
				 errhint("Pass how many best sellers you want, for example icos.top_sellers(upc, qty, 10).")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		/* Still check k, so that a bad k is reported even on NULL rows. */
		if (PG_GETARG_INT32(3) < 1 || PG_GETARG_INT32(3) > SA_TOP_MAX_K)
			report_status(SA_BAD_K, "top_sellers");
		PG_RETURN_POINTER(t);
	}
	report_status(sa_top_add(t, &a, (uint64) PG_GETARG_INT64(1), PG_GETARG_INT64(2),
							 PG_GETARG_INT32(3)),
				  "top_sellers");
	PG_RETURN_POINTER(t);
}

Datum
top_sellers_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "top_sellers_combinefn");
	sa_allocator a = allocator_in(ctx);
	sa_top	   *into;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	into = PG_ARGISNULL(0) ? new_top(ctx) : (sa_top *) PG_GETARG_POINTER(0);
	report_status(sa_top_combine(into, &a, (sa_top *) PG_GETARG_POINTER(1)), "top_sellers");
	PG_RETURN_POINTER(into);
}

Datum
top_sellers_serialfn(PG_FUNCTION_ARGS)
{
	sa_top	   *t = (sa_top *) PG_GETARG_POINTER(0);
	sa_allocator a = allocator_in(CurrentMemoryContext);
	size_t		len = sa_top_serial_size(t);
	bytea	   *out = palloc(len + VARHDRSZ);

	SET_VARSIZE(out, len + VARHDRSZ);
	report_status(sa_top_serialize(t, &a, (uint8_t *) VARDATA(out)), "top_sellers");
	PG_RETURN_BYTEA_P(out);
}

Datum
top_sellers_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext ctx = agg_context(fcinfo, "top_sellers_deserialfn");
	sa_allocator a = allocator_in(ctx);
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	sa_top	   *t = MemoryContextAlloc(ctx, sizeof(sa_top));

	report_bad_state(sa_top_deserialize(t, &a, (const uint8_t *) VARDATA_ANY(in),
										VARSIZE_ANY_EXHDR(in)),
					 "top_sellers");
	PG_RETURN_POINTER(t);
}

/*
 * The k best sellers as a jsonb array [{"upc": "...", "qty": n}, ...], by
 * quantity descending, ties by product code ascending; [] without rows.
 */
Datum
top_sellers_finalfn(PG_FUNCTION_ARGS)
{
	sa_top	   *t;
	sa_top_item *scratch,
			   *best;
	uint32_t	n,
				i;
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	if (!PG_ARGISNULL(0))
	{
		t = (sa_top *) PG_GETARG_POINTER(0);
		if (t->items.n > 0)
		{
			scratch = palloc_extended((Size) t->items.n * sizeof(sa_top_item), MCXT_ALLOC_HUGE);
			best = palloc_extended((Size) Min(t->items.n, (uint32) t->k) * sizeof(sa_top_item),
								   MCXT_ALLOC_HUGE);
			n = sa_top_result(t, scratch, best);
			for (i = 0; i < n; i++)
			{
				char		code[GTIN_BUFSIZE];

				if (!gtin_format((int64) best[i].key, GTIN_STYLE_CANONICAL, code))
					elog(ERROR, "top_sellers: cannot format product code " UINT64_FORMAT,
						 best[i].key);
				appendStringInfo(&buf, "%s{\"upc\": \"%s\", \"qty\": " INT64_FORMAT "}",
								 i > 0 ? ", " : "", code, best[i].qty);
			}
			pfree(scratch);
			pfree(best);
		}
	}
	appendStringInfoChar(&buf, ']');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
