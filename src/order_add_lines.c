/*-------------------------------------------------------------------------
 *
 * order_add_lines.c
 *	  icos._add_lines(order, lines, holds, carry): the lines an edit adds
 *	  (edit_order's "add_lines"), read and resolved by the order engine's
 *	  own phases (order_read_line, order_resolve_products), so a line added
 *	  later obeys exactly the rules of a line placed.
 *
 * Same contract as the PL/pgSQL function it replaces: the lines are
 * inserted after the order's last line (status reserved, or made_to_order,
 * nothing reserved yet) and the reservations to make are returned for
 * icos._apply_stock: [{"store", "upc", "line", "qty", "backorder"}, ...],
 * one per line that is not made to order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "errcodes.h"
#include "jsonb_put.h"
#include "order.h"
#include "order_sql.h"

extern Datum current_node(PG_FUNCTION_ARGS);

/* The holds an edit names: [{"hold_id", "store_id", "upc", "qty"}, ...]. */
static void
add_lines_holds(Order *o, Jsonb *holds)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;

	if (holds == NULL || !JB_ROOT_IS_ARRAY(holds) || JB_ROOT_IS_SCALAR(holds))
		return;
	o->holds = palloc0(sizeof(OrderHold) * (JB_ROOT_COUNT(holds) + 1));
	it = JsonbIteratorInit(&holds->root);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		JsonbContainer *h;
		JsonbValue	buf;
		JsonbValue *v;
		OrderHold  *oh;
		int32		n;

		if (tok != WJB_ELEM || (h = oj_object(&e)) == NULL)
			continue;
		oh = &o->holds[o->nholds];
		if ((v = oj_key(h, "upc", &buf)) == NULL || v->type != jbvString)
			continue;
		oh->upc = oj_upc(h, "hold");
		if (!oj_is_count(oj_key(h, "store_id", &buf), &n))
			continue;
		oh->store = n;
		if (oj_is_count(oj_key(h, "qty", &buf), &n))
			oh->qty = n;
		o->nholds++;
	}
}

/* Insert the lines after the order's last (SPI connected); the first's number. */
static int32
add_lines_insert(const Order *o, Datum code)
{
	Oid			upc = order_upc_type(NULL);
	int			n = o->nlines;
	Datum	   *a = palloc(sizeof(Datum) * (3 * n + 1));
	Datum	   *st = palloc(sizeof(Datum) * (n + 1));
	Datum		values[7];
	int16		len;
	bool		byval;
	char		align;
	bool		isnull;
	int32		first;
	int			i;

	first = DatumGetInt32(order_run(OS_NEXT_LINE, &code, NULL, &isnull));
	for (i = 0; i < n; i++)
	{
		a[i] = Int64GetDatum(o->lines[i].upc);
		a[n + i] = Int32GetDatum(o->lines[i].qty);
		a[2 * n + i] = Int32GetDatum(o->lines[i].fulfil_from);
		st[i] = CStringGetTextDatum(o->lines[i].prod.made_to_order ? "made_to_order" : "reserved");
	}
	get_typlenbyvalalign(upc, &len, &byval, &align);
	values[0] = Int32GetDatum(o->store);
	values[1] = code;
	values[2] = Int32GetDatum(first);
	values[3] = PointerGetDatum(construct_array(a, n, upc, len, byval, align));
	values[4] = PointerGetDatum(construct_array(a + n, n, INT4OID, 4, true, TYPALIGN_INT));
	values[5] = PointerGetDatum(construct_array(a + 2 * n, n, INT4OID, 4, true, TYPALIGN_INT));
	values[6] = PointerGetDatum(construct_array(st, n, TEXTOID, -1, false, TYPALIGN_INT));
	order_run(OS_ADD_LINES, values, NULL, &isnull);
	return first;
}

/* The reservations to make: one per line not made to order. */
static Jsonb *
add_lines_ops(const Order *o, int32 first)
{
	JsonbParseState *st = NULL;
	int			i;

	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < o->nlines; i++)
	{
		const OrderLine *l = &o->lines[i];

		if (l->prod.made_to_order)
			continue;
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_put_int(&st, "store", l->fulfil_from);
		jb_put_text(&st, "upc", order_upc_text(l->upc));
		jb_put_int(&st, "line", first + i);
		jb_put_int(&st, "qty", l->qty);
		jb_put_bool(&st, "backorder", l->backorder);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_ARRAY, NULL));
}

/*
 * icos._add_lines(p_order icos.orders, p_lines jsonb, p_holds jsonb,
 * p_carry boolean) returns jsonb
 */
PG_FUNCTION_INFO_V1(add_lines);
Datum
add_lines(PG_FUNCTION_ARGS)
{
	HeapTupleHeader ord;
	bool		isnull;
	bool		has_collect;
	int32		collect;
	Datum		code;
	Order		o;
	Jsonb	   *lines;
	int32		first;
	Jsonb	   *ops;
	LOCAL_FCINFO(nfc, 0);

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		elog(ERROR, "icos._add_lines needs an order and lines");
	ord = PG_GETARG_HEAPTUPLEHEADER(0);
	lines = PG_GETARG_JSONB_P(1);
	memset(&o, 0, sizeof(o));
	code = GetAttributeByName(ord, "code", &isnull);
	o.store = DatumGetInt32(GetAttributeByName(ord, "store_id", &isnull));
	collect = DatumGetInt32(GetAttributeByName(ord, "collect_store", &has_collect));
	has_collect = !has_collect;
	if (!PG_ARGISNULL(2))
		add_lines_holds(&o, PG_GETARG_JSONB_P(2));

	lookup_begin();
	lookup_store(o.store, &o.sell);
	if (!o.sell.found)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("unknown store %d", o.store),
				 errdetail("The selling store is not a store icos knows.")));
	InitFunctionCallInfoData(*nfc, NULL, 0, InvalidOid, NULL, NULL);
	o.node = DatumGetInt32(current_node(nfc));

	if (JB_ROOT_IS_ARRAY(lines) && !JB_ROOT_IS_SCALAR(lines))
	{
		o.lines = palloc0(sizeof(OrderLine) * (JB_ROOT_COUNT(lines) + 1));
		o.nlines = order_read_lines(&lines->root, o.lines);
	}
	if (o.nlines == 0)
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum("[]")));
	order_resolve_products(&o, !PG_ARGISNULL(3) && PG_GETARG_BOOL(3), collect, has_collect);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	first = add_lines_insert(&o, code);
	SPI_finish();
	ops = add_lines_ops(&o, first);
	PG_RETURN_JSONB_P(ops);
}
