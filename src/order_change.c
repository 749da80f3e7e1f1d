/*-------------------------------------------------------------------------
 *
 * order_change.c
 *	  The phases of a change to a placed order (edit_order, cancel_order,
 *	  return_lines), over the placement's struct (order.h):
 *
 *	  change_lock		the order locked and read, with its lines
 *	  change_check		the change rules (icos._check_change, their one place)
 *	  change_stock		the stock of the lines changed, in (store, upc) order
 *	  order_price_basket	prices (order_write.c, the placement's function)
 *	  change_write_lines	every line in one statement, new ones in another
 *	  change_stock_remote	lines of another node's stock ask that node
 *	  change_write_order	the order's row in one statement
 *	  change_pay, change_refund, change_settle	payments, refunds, status
 *	  change_doc		the order document (icos._doc)
 *
 * Each phase opens its own SPI connection; what it reads is copied into the
 * caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "errcodes.h"
#include "jsonb_put.h"
#include "order.h"
#include "order_sql.h"
#include "stock.h"
#include "textcheck.h"

extern Datum order_code_out(PG_FUNCTION_ARGS);
extern Datum current_node(PG_FUNCTION_ARGS);

static const char *const change_methods[] = {"home", "collect", "carry", NULL};

static void
change_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/*
 * Free text as the order API takes it (icos._given_text): without
 * surrounding white space, NULL when blank, checked as a stored field of
 * its kind (22001, IC003).
 */
char *
order_given_text(text *value, int field, const char *what)
{
	char	   *s;
	int			len;
	static const char ws[] = " \t\n\r\f\v";

	if (value == NULL)
		return NULL;
	s = VARDATA_ANY(value);
	len = VARSIZE_ANY_EXHDR(value);
	while (len > 0 && strchr(ws, *s) != NULL && *s != '\0')
	{
		s++;
		len--;
	}
	while (len > 0 && strchr(ws, s[len - 1]) != NULL && s[len - 1] != '\0')
		len--;
	if (len == 0)
		return NULL;
	icos_check_text(s, len, (IcosTextField) field, what);
	return pnstrdup(s, len);
}

/* The text of column col of row 0 in the caller's context, or NULL. */
static char *
change_text(int row, int col, MemoryContext caller)
{
	MemoryContext spi = MemoryContextSwitchTo(caller);
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	MemoryContextSwitchTo(spi);
	return v;
}

static Datum
change_bin(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/*
 * Lock the order (every change starts here, so the changes of one order
 * are serialised) and read it with its lines; IC004 when unknown.
 */
void
change_lock(Datum code, bool code_null, Order *o)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		isnull;
	Datum		d;
	char	   *method;
	int			i;

	memset(o, 0, sizeof(*o));
	if (code_null)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("unknown order (no code given)"),
				 errdetail("No order has this code."),
				 errhint("Check the code on the receipt; orders placed at another node appear here once replicated.")));
	o->code = code;
	change_connect();
	order_run(OS_LOCK, &code, NULL, &isnull);
	if (SPI_processed == 0)
	{
		char	   *text = DatumGetCString(DirectFunctionCall1(order_code_out, code));

		SPI_finish();
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("unknown order %s", text),
				 errdetail("No order has this code."),
				 errhint("Check the code on the receipt; orders placed at another node appear here once replicated.")));
	}
	o->store = DatumGetInt32(change_bin(0, 1, &isnull));
	o->channel = change_text(0, 2, caller);
	o->status = change_text(0, 3, caller);
	method = change_text(0, 4, caller);
	for (i = 0; change_methods[i] != NULL; i++)
		if (strcmp(method, change_methods[i]) == 0)
			o->method = (OrderMethod) i;
	o->collect = DatumGetInt32(change_bin(0, 5, &isnull));
	o->has_collect = !isnull;
	o->date = DatumGetDateADT(change_bin(0, 6, &isnull));
	o->has_date = !isnull;
	d = change_bin(0, 7, &isnull);
	o->promised = isnull ? DATEVAL_NOBEGIN : DatumGetDateADT(d);
	o->gross = DatumGetInt64(change_bin(0, 8, &isnull));
	o->discount = DatumGetInt64(change_bin(0, 9, &isnull));
	o->total = DatumGetInt64(change_bin(0, 10, &isnull));
	o->customer_id = DatumGetInt64(change_bin(0, 11, &isnull));
	o->customer_kind = isnull ? OC_NONE : OC_ID;
	d = change_bin(0, 12, &isnull);
	if (!isnull)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
		o->coupons = palloc(sizeof(char *) * (n + 1));
		for (i = 0; i < n; i++)
			if (!nulls[i])
				o->coupons[o->ncoupons++] = TextDatumGetCString(elems[i]);
		MemoryContextSwitchTo(spi);
	}
	o->placed_at = DatumGetTimestampTz(change_bin(0, 13, &isnull));
	o->has_at = !isnull;
	o->paid = DatumGetInt64(change_bin(0, 14, &isnull));
	o->code_text = change_text(0, 15, caller);

	order_run(OS_LINES, &code, NULL, &isnull);
	o->nlines = (int) SPI_processed;
	o->lines = MemoryContextAllocZero(caller, sizeof(OrderLine) * (o->nlines + 1));
	for (i = 0; i < o->nlines; i++)
	{
		OrderLine  *l = &o->lines[i];

		l->no = DatumGetInt32(change_bin(i, 1, &isnull));
		l->upc = DatumGetInt64(change_bin(i, 2, &isnull));
		l->qty = DatumGetInt32(change_bin(i, 3, &isnull));
		l->fulfil_from = DatumGetInt32(change_bin(i, 4, &isnull));
		l->status = change_text(i, 5, caller);
		l->reserved = DatumGetInt32(change_bin(i, 6, &isnull));
		l->consumed = DatumGetInt32(change_bin(i, 7, &isnull));
		l->returned = DatumGetInt32(change_bin(i, 8, &isnull));
		l->unit_price = DatumGetInt64(change_bin(i, 9, &isnull));
		l->discount = DatumGetInt64(change_bin(i, 10, &isnull));
		l->net = DatumGetInt64(change_bin(i, 11, &isnull));
		l->prod.lead_time_days = DatumGetInt32(change_bin(i, 12, &isnull));
		l->prod.found = true;
	}
	SPI_finish();
}

/* The change rules for a change of kind (icos._check_change raises). */
void
change_check(const Order *o, const char *kind, Jsonb *arg)
{
	Datum		v[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;

	v[0] = o->code;
	v[1] = CStringGetTextDatum(kind);
	v[2] = arg ? JsonbPGetDatum(arg) : (Datum) 0;
	nulls[2] = arg ? ' ' : 'n';
	change_connect();
	order_run(OS_CHECK, v, nulls, &isnull);
	SPI_finish();
}

/* An event of the order's log (icos._log: the employee and store acting). */
void
change_log(const Order *o, const char *kind, const char *note, Jsonb *detail)
{
	Datum		v[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;

	v[0] = o->code;
	v[1] = CStringGetTextDatum(kind);
	v[2] = CStringGetTextDatum(note);
	v[3] = detail ? JsonbPGetDatum(detail) : (Datum) 0;
	nulls[3] = detail ? ' ' : 'n';
	change_connect();
	order_run(OS_LOG, v, nulls, &isnull);
	SPI_finish();
}

static int
change_op_cmp(const void *a, const void *b, void *arg)
{
	const Order *o = arg;
	const OrderLine *x = &o->lines[((const OrderStockOp *) a)->idx];
	const OrderLine *y = &o->lines[((const OrderStockOp *) b)->idx];

	if (x->fulfil_from != y->fulfil_from)
		return x->fulfil_from < y->fulfil_from ? -1 : 1;
	if (x->upc != y->upc)
		return x->upc < y->upc ? -1 : 1;
	return x->no - y->no;
}

static text *
change_note(const Order *o, const OrderLine *l)
{
	return cstring_to_text(psprintf("order %s line %d", o->code_text, l->no));
}

/* An op's result on its line in memory. */
static void
change_apply(OrderLine *l, const OrderStockOp *op)
{
	l->reserved += op->qty;
	if (op->has_set)
		l->qty = op->set_qty;
}

/*
 * The stock of the lines an edit or cancellation changes: reservations
 * (qty > 0) and releases (qty < 0), in (store, upc, line) order, the one
 * lock order of every order.  The lines adding one product, with nothing
 * released or back-ordered among them, are taken in one step by the stock
 * engine (as a placement's lines): taken one by one, the second could wait
 * for a slot while the first one's stayed locked.  A back-ordered line
 * takes the stock when it is there and is otherwise promised by lead time,
 * also when another order took the last units first.  Lines of another
 * node's stock are marked for change_stock_remote.  The lines in memory
 * follow (reserved, qty, status).
 */
void
change_stock(Order *o, OrderStockOp *ops, int n)
{
	Oid			upc_oid = order_upc_type(NULL);
	text	   *code = cstring_to_text(o->code_text);
	int32		node;
	int			i,
				j;
	LOCAL_FCINFO(nfc, 0);

	if (n == 0)
		return;
	InitFunctionCallInfoData(*nfc, NULL, 0, InvalidOid, NULL, NULL);
	node = DatumGetInt32(current_node(nfc));
	lookup_begin();
	qsort_arg(ops, n, sizeof(OrderStockOp), change_op_cmp, o);
	for (i = 0; i < n; i = j)
	{
		OrderLine  *first = &o->lines[ops[i].idx];
		LookupStore fs;
		bool		plain = true;
		int			k;

		for (j = i; j < n; j++)
		{
			OrderLine  *l = &o->lines[ops[j].idx];

			if (l->fulfil_from != first->fulfil_from || l->upc != first->upc)
				break;
			plain &= ops[j].qty > 0 && !l->backorder;
		}
		lookup_store(first->fulfil_from, &fs);
		if (fs.found && fs.node_id != node)
		{
			/* another node's stock: a request to that node, once written */
			for (k = i; k < j; k++)
			{
				OrderLine  *l = &o->lines[ops[k].idx];

				if (ops[k].has_set)
					ereport(ERROR,
							(errcode(ERRCODE_ICOS_NOT_CHANGEABLE),
							 errmsg("line %d is served by store %d of another node and cannot be changed here",
									l->no, l->fulfil_from),
							 errdetail("Its stock is reserved by that store's node through a reservation request."),
							 errhint("Cancel the line and order the new quantity on a new line.")));
				ops[k].remote = true;
				if (ops[k].qty > 0)
					l->status = "backorder";	/* pending until that node answers */
			}
			continue;
		}
		if (plain && j - i > 1)
		{
			int			m = j - i;
			int32	   *stores = palloc(sizeof(int32) * m);
			Datum	   *upcs = palloc(sizeof(Datum) * m);
			int32	   *qtys = palloc(sizeof(int32) * m);
			text	  **notes = palloc(sizeof(text *) * m);

			for (k = 0; k < m; k++)
			{
				OrderLine  *l = &o->lines[ops[i + k].idx];

				stores[k] = l->fulfil_from;
				upcs[k] = Int64GetDatum(l->upc);
				qtys[k] = ops[i + k].qty;
				notes[k] = change_note(o, l);
			}
			stock_order_lines(false, m, stores, upcs, qtys, upc_oid, code, notes, NULL);
			for (k = i; k < j; k++)
				change_apply(&o->lines[ops[k].idx], &ops[k]);
			continue;
		}
		for (k = i; k < j; k++)
		{
			OrderLine  *l = &o->lines[ops[k].idx];
			char	   *note = text_to_cstring(change_note(o, l));

			if (ops[k].qty < 0)
				stock_change_item(l->fulfil_from, Int64GetDatum(l->upc), upc_oid, "release",
								  0, ops[k].qty, code, note, false);
			else if (!stock_change_item(l->fulfil_from, Int64GetDatum(l->upc), upc_oid,
										"reserve", 0, ops[k].qty, code, note, l->backorder))
			{
				/* back-ordered: promised by lead time */
				l->status = "backorder";
				if (ops[k].has_set)
					l->qty = ops[k].set_qty;
				continue;
			}
			change_apply(l, &ops[k]);
		}
	}
}

/*
 * After the lines are written: each op of another node's stock asks that
 * node (icos._request_stock: reserve, or release what it granted), in the
 * (store, upc) order change_stock left the ops in.
 */
void
change_stock_remote(Order *o, OrderStockOp *ops, int n)
{
	int			i;
	bool		connected = false;

	for (i = 0; i < n; i++)
	{
		OrderLine  *l = &o->lines[ops[i].idx];
		Datum		v[6];
		bool		isnull;

		if (!ops[i].remote)
			continue;
		if (!connected)
			change_connect();
		connected = true;
		v[0] = o->code;
		v[1] = Int32GetDatum(l->fulfil_from);
		v[2] = Int64GetDatum(l->upc);
		v[3] = Int32GetDatum(l->no);
		v[4] = Int32GetDatum(ops[i].qty < 0 ? -ops[i].qty : ops[i].qty);
		v[5] = CStringGetTextDatum(ops[i].qty < 0 ? "release" : "reserve");
		order_run(OS_REMOTE, v, NULL, &isnull);
	}
	if (connected)
		SPI_finish();
}

static Datum
change_int_array(const int32 *a, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int32GetDatum(a[i]);
	return PointerGetDatum(construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
}

static Datum
change_int8_array(const int64 *a, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(a[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * Every line of the order as it now stands: the placed ones in one
 * statement, the ones an edit adds in another (the placement's columns,
 * order_line_arrays).
 */
void
change_write_lines(Order *o)
{
	int			n = o->nlines;
	int32	   *no = palloc(sizeof(int32) * (n + 1));
	int32	   *qty = palloc(sizeof(int32) * (n + 1));
	int32	   *res = palloc(sizeof(int32) * (n + 1));
	int32	   *con = palloc(sizeof(int32) * (n + 1));
	int32	   *ret = palloc(sizeof(int32) * (n + 1));
	int64	   *up = palloc(sizeof(int64) * (n + 1));
	int64	   *disc = palloc(sizeof(int64) * (n + 1));
	int64	   *net = palloc(sizeof(int64) * (n + 1));
	Datum	   *st = palloc(sizeof(Datum) * (n + 1));
	int		   *added = palloc(sizeof(int) * (n + 1));
	int			k = 0,
				m = 0;
	int			i;
	Datum		v[13];
	bool		isnull;

	for (i = 0; i < n; i++)
	{
		const OrderLine *l = &o->lines[i];

		if (l->added)
		{
			added[m++] = i;
			continue;
		}
		no[k] = l->no;
		qty[k] = l->qty;
		st[k] = CStringGetTextDatum(l->status);
		res[k] = l->reserved;
		con[k] = l->consumed;
		ret[k] = l->returned;
		up[k] = l->unit_price;
		disc[k] = l->discount;
		net[k] = l->net;
		k++;
	}
	change_connect();
	if (k > 0)
	{
		v[0] = o->code;
		v[1] = change_int_array(no, k);
		v[2] = change_int_array(qty, k);
		v[3] = PointerGetDatum(construct_array(st, k, TEXTOID, -1, false, TYPALIGN_INT));
		v[4] = change_int_array(res, k);
		v[5] = change_int_array(con, k);
		v[6] = change_int_array(ret, k);
		v[7] = change_int8_array(up, k);
		v[8] = change_int8_array(disc, k);
		v[9] = change_int8_array(net, k);
		order_run(OS_LINES_UPDATE, v, NULL, &isnull);
	}
	if (m > 0)
	{
		for (i = 0; i < m; i++)
			no[i] = o->lines[added[i]].no;
		v[0] = Int32GetDatum(o->store);
		v[1] = o->code;
		v[2] = change_int_array(no, m);
		order_line_arrays(o, added, m, v + 3, &v[12]);
		order_run(OS_LINES_INSERT, v, NULL, &isnull);
	}
	SPI_finish();
}

/*
 * The order's row: prices (when the lines changed), the delivery address
 * when given, the dates, the status and a cancellation's reason.
 */
void
change_write_order(Order *o, Jsonb *address, const char *cancel_reason)
{
	Datum		v[11];
	char		nulls[11];
	bool		isnull;

	memset(nulls, ' ', sizeof(nulls));
	v[0] = o->code;
	v[1] = BoolGetDatum(o->lines_changed);
	v[2] = Int64GetDatum(o->gross);
	v[3] = Int64GetDatum(o->discount);
	v[4] = Int64GetDatum(o->total);
	v[5] = o->pricing ? JsonbPGetDatum(o->pricing) : (Datum) 0;
	nulls[5] = o->pricing ? ' ' : 'n';
	v[6] = address ? JsonbPGetDatum(address) : (Datum) 0;
	nulls[6] = address ? ' ' : 'n';
	v[7] = DateADTGetDatum(o->date);
	nulls[7] = o->has_date ? ' ' : 'n';
	v[8] = DateADTGetDatum(o->promised);
	nulls[8] = DATE_IS_NOBEGIN(o->promised) ? 'n' : ' ';
	v[9] = CStringGetTextDatum(o->status);
	v[10] = cancel_reason ? CStringGetTextDatum(cancel_reason) : (Datum) 0;
	nulls[10] = cancel_reason ? ' ' : 'n';
	change_connect();
	order_run(OS_ORDER_UPDATE, v, nulls, &isnull);
	SPI_finish();
}

/* One payment or refund row; its number. */
static int32
change_payment_row(const Order *o, const char *kind, const OrderPayment *p, int64 amount)
{
	Datum		v[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	int32		no;

	v[0] = Int32GetDatum(o->store);
	v[1] = o->code;
	v[2] = CStringGetTextDatum(kind);
	v[3] = CStringGetTextDatum(p->method);
	v[4] = Int64GetDatum(amount);
	v[5] = Int64GetDatum(p->amount);
	v[6] = p->reference ? CStringGetTextDatum(p->reference) : (Datum) 0;
	nulls[6] = p->reference ? ' ' : 'n';
	change_connect();
	no = DatumGetInt32(order_run(OS_PAY, v, nulls, &isnull));
	SPI_finish();
	return no;
}

/*
 * The payments of an edit, one by one: each read (icos._payment_fields'
 * rules, oj_payment), allowed by the change rules, and taken against what
 * is owed by the placement's rule (order_take_payment).
 */
void
change_pay(Order *o, JsonbContainer *payments)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (payments == NULL)
		return;
	it = JsonbIteratorInit(payments);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		OrderPayment p;
		int32		no;

		if (tok != WJB_ELEM)
			continue;
		n++;
		oj_payment(&e, psprintf("payment %d", n), &p);
		change_check(o, "payment", NULL);
		order_take_payment(o->code_text, n, o->total - o->paid, &p);
		no = change_payment_row(o, "payment", &p, p.applied);
		o->paid += p.applied;
		change_log(o, "payment", order_payment_note(&p), order_object1("payment", no));
	}
}

/*
 * One refund, once the change rules allow it (never more than was paid:
 * IC003); its reason, if any, checked as stored text.
 */
void
change_refund(Order *o, const OrderPayment *p, const char *why)
{
	int32		no;

	if (why != NULL)
		icos_check_text(why, strlen(why), TF_REASON, "the refund's reason");
	change_check(o, "refund", order_object1("amount", p->amount));
	no = change_payment_row(o, "refund", p, p->amount);
	o->paid -= p->amount;
	change_log(o, "refund",
			   psprintf("%s %s%s%s", order_method_words(p->method), order_pounds(p->amount),
						why ? ": " : "", why ? why : ""),
			   order_object1("payment", no));
}

/*
 * The status from the balance (order_status_for) while the order awaits
 * payment or is placed; a change of it is logged.
 */
void
change_settle(Order *o)
{
	const char *status;
	bool		open_lines = false;
	int			i;

	if (strcmp(o->status, "awaiting_payment") != 0 && strcmp(o->status, "placed") != 0)
		return;
	for (i = 0; i < o->nlines; i++)
	{
		const char *s = o->lines[i].status;

		open_lines |= strcmp(s, "reserved") == 0 || strcmp(s, "backorder") == 0 ||
			strcmp(s, "made_to_order") == 0;
	}
	status = order_status_for(o->total - o->paid, o->method, open_lines);
	if (strcmp(status, o->status) != 0)
	{
		JsonbParseState *st = NULL;
		Datum		v[2];
		bool		isnull;
		const char *old = o->status;

		v[0] = o->code;
		v[1] = CStringGetTextDatum(status);
		change_connect();
		order_run(OS_STATUS, v, NULL, &isnull);
		SPI_finish();
		o->status = status;
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_put_text(&st, "from", old);
		jb_put_text(&st, "to", status);
		change_log(o, "status", psprintf("%s -> %s", old, status),
				   JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	}
}

/* The order document (icos._doc), in the caller's context. */
Datum
change_doc(const Order *o)
{
	Datum		code = o->code;
	bool		isnull;
	Datum		d;

	change_connect();
	d = order_run(OS_DOC, &code, NULL, &isnull);
	d = isnull ? (Datum) 0 : SPI_datumTransfer(d, false, -1);
	SPI_finish();
	return d;
}
