/*-------------------------------------------------------------------------
 *
 * order_cancel.c
 *	  icos.cancel_order and icos.return_lines: an order, or goods of it,
 *	  taken back, through the phases of the order engine (order_change.c):
 *	  the order locked and read, the change rules, the stock (released, or
 *	  returned to the store), the prices again, the lines and the order's
 *	  row written, the event, and for a return the refund of what is now
 *	  overpaid.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "errcodes.h"
#include "jsonb_put.h"
#include "order.h"
#include "order_sql.h"
#include "stock.h"
#include "textcheck.h"

/*
 * icos.cancel_order(code icos.order_code, reason text) returns jsonb
 * (SECURITY DEFINER): an order that has not left the store cancelled, its
 * reservations released; the balance then shows the refund due.
 */
PG_FUNCTION_INFO_V1(cancel_order);
Datum
cancel_order(PG_FUNCTION_ARGS)
{
	char	   *reason = order_given_text(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1),
										  TF_REASON, "the reason for the cancellation");
	Order		o;
	OrderStockOp *ops;
	int			nops = 0;
	JsonbParseState *st = NULL;
	int			i;

	order_require_sql_version();
	change_lock(PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0), &o);
	if (reason == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a cancellation needs a reason"),
				 errhint("Say why the order is cancelled, for example \"customer changed their mind\".")));
	change_check(&o, "cancel", NULL);

	ops = palloc0(sizeof(OrderStockOp) * (o.nlines + 1));
	for (i = 0; i < o.nlines; i++)
	{
		OrderLine  *l = &o.lines[i];

		if (l->reserved > 0)
		{
			ops[nops].idx = i;
			ops[nops++].qty = -l->reserved;
		}
	}
	change_stock(&o, ops, nops);
	for (i = 0; i < o.nlines; i++)
	{
		OrderLine  *l = &o.lines[i];

		if (strcmp(l->status, "reserved") == 0 || strcmp(l->status, "backorder") == 0 ||
			strcmp(l->status, "made_to_order") == 0)
			l->status = "cancelled";
	}
	order_price_basket(&o);
	o.lines_changed = true;
	change_write_lines(&o);
	change_stock_remote(&o, ops, nops);
	o.status = "cancelled";
	change_write_order(&o, NULL, reason);

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_put_pounds(&st, "refund_due", o.paid);
	change_log(&o, "cancelled", reason, JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	PG_RETURN_DATUM(change_doc(&o));
}

/* A line returned: its index in the order, and the quantity. */
typedef struct ReturnItem
{
	int			idx;
	int32		no;
	int32		qty;
} ReturnItem;

static int
return_cmp(const void *a, const void *b, void *arg)
{
	const Order *o = arg;
	const OrderLine *x = &o->lines[((const ReturnItem *) a)->idx];
	const OrderLine *y = &o->lines[((const ReturnItem *) b)->idx];

	if (x->fulfil_from != y->fulfil_from)
		return x->fulfil_from < y->fulfil_from ? -1 : 1;
	if (x->upc != y->upc)
		return x->upc < y->upc ? -1 : 1;
	return x->no - y->no;
}

/*
 * What is now overpaid refunded to the methods paid with, the latest
 * payment's method first.
 */
static void
return_refund(Order *o)
{
	int64		due = o->paid - o->total;
	MemoryContext caller = CurrentMemoryContext;
	int			n,
				i;
	char	  **methods;
	int64	   *nets;
	Datum		code = o->code;
	bool		isnull;

	if (due <= 0)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	order_run(OS_PAY_NETS, &code, NULL, &isnull);
	n = (int) SPI_processed;
	methods = MemoryContextAlloc(caller, sizeof(char *) * (n + 1));
	nets = MemoryContextAlloc(caller, sizeof(int64) * (n + 1));
	for (i = 0; i < n; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		methods[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		MemoryContextSwitchTo(spi);
		nets[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_finish();
	for (i = 0; i < n && due > 0; i++)
	{
		OrderPayment p;

		memset(&p, 0, sizeof(p));
		p.method = methods[i];
		p.amount = Min(due, nets[i]);
		change_refund(o, &p, "return");
		due -= p.amount;
	}
}

/*
 * icos.return_lines(code icos.order_code, lines jsonb, reason text) returns
 * jsonb (SECURITY DEFINER): handed-over goods taken back ([{"line", "qty"}]),
 * their stock back into the store, the refund to the methods paid with.
 */
PG_FUNCTION_INFO_V1(return_lines);
Datum
return_lines(PG_FUNCTION_ARGS)
{
	static const char *const keys[] = {"line", "qty", NULL};
	Jsonb	   *lines = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	char	   *reason = order_given_text(PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2),
										  TF_REASON, "the reason for the return");
	Order		o;
	ReturnItem *items;
	int			n = 0;
	JsonbIterator *it;
	JsonbValue	x;
	JsonbIteratorToken tok;
	JsonbParseState *st = NULL;
	text	   *code;
	Oid			upc_oid;
	int			i,
				j;

	order_require_sql_version();
	change_lock(PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0), &o);
	if (reason == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a return needs a reason"),
				 errhint("Say why the goods came back, for example \"faulty\".")));
	if (lines == NULL || !JB_ROOT_IS_ARRAY(lines) || JB_ROOT_IS_SCALAR(lines) ||
		JB_ROOT_COUNT(lines) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lines must be a non-empty array"),
				 errhint("Give [{\"line\": n, \"qty\": m}, ...].")));

	/* each item read and allowed by the change rules */
	items = palloc(sizeof(ReturnItem) * (JB_ROOT_COUNT(lines) + 1));
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_put_key(&st, "lines");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	it = JsonbIteratorInit(&lines->root);
	while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
	{
		JsonbValue	b1,
					b2;
		Jsonb	   *item;

		if (tok != WJB_ELEM)
			continue;
		oj_check_keys(&x, keys, "returned line");
		if (!oj_is_count(oj_key(oj_object(&x), "line", &b1), &items[n].no) ||
			!oj_is_count(oj_key(oj_object(&x), "qty", &b2), &items[n].qty))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a returned line needs a line number and a quantity of at least 1"),
					 errdetail("Got %s.", pnstrdup(oj_value_text(&x), 120)),
					 errhint("Line numbers and quantities are whole numbers written without a decimal point.")));
		item = JsonbValueToJsonb(&x);
		change_check(&o, "return", item);
		pushJsonbValue(&st, WJB_ELEM, &x);
		n++;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (items[i].no == items[j].no)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a line appears twice in the return")));

	/* the stock back into the store, in (store, upc, line) order */
	for (i = j = 0; i < n; i++)
	{
		int			k;

		for (k = 0; k < o.nlines; k++)
			if (o.lines[k].no == items[i].no)
				break;
		if (k == o.nlines)
			continue;			/* the change rules refused unknown lines */
		items[j] = items[i];
		items[j++].idx = k;
	}
	qsort_arg(items, j, sizeof(ReturnItem), return_cmp, &o);
	code = cstring_to_text(o.code_text);
	upc_oid = order_upc_type(NULL);
	for (i = 0; i < j; i++)
	{
		OrderLine  *l = &o.lines[items[i].idx];

		stock_change_item(l->fulfil_from, Int64GetDatum(l->upc), upc_oid, "return",
						  items[i].qty, 0, code, reason, false);
		l->returned += items[i].qty;
		if (l->returned == l->qty)
			l->status = "returned";
	}
	order_price_basket(&o);
	o.lines_changed = true;
	change_write_lines(&o);
	change_write_order(&o, NULL, NULL);
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	change_log(&o, "returned", reason, JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	return_refund(&o);
	PG_RETURN_DATUM(change_doc(&o));
}
