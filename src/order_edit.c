/*-------------------------------------------------------------------------
 *
 * order_edit.c
 *	  icos.edit_order(code, changes): a placed order changed atomically,
 *	  through the phases of the order engine (order_change.c):
 *
 *	  1. the order locked and read; the changes' keys, request_id
 *	  2. the lines named (cancel_lines, set_qty), each once, read before
 *		 anything changes
 *	  3. the lines: each change allowed by the change rules; the lines added
 *		 read and resolved by the placement's own phases (order_read_line,
 *		 order_resolve_products); their stock in one (store, upc) pass
 *		 (change_stock); re-priced; written
 *	  4. address and dates; the order's row written; the event
 *	  5. payments, refunds, the status; the order document
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "errcodes.h"
#include "jsonb_put.h"
#include "order.h"
#include "order_sql.h"

extern Datum current_node(PG_FUNCTION_ARGS);

/* What an edit asks, read from its document before anything changes. */
typedef struct Edit
{
	Jsonb	   *changes;
	JsonbContainer *c;
	int			ncancel;
	int32	   *cancel;
	int			nset;
	int32	   *set_line;
	int32	   *set_qty;
	OrderStockOp *ops;
	int			nops;
	StringInfoData what;		/* the edited event's note */
	bool		lines;
} Edit;

static JsonbValue
edit_root(Jsonb *j)
{
	JsonbValue	v;

	v.type = jbvBinary;
	v.val.binary.data = &j->root;
	v.val.binary.len = VARSIZE(j) - VARHDRSZ;
	return v;
}

static void
edit_what(Edit *e, const char *s)
{
	appendStringInfo(&e->what, "%s%s", e->what.len > 0 ? "; " : "", s);
}

static int
edit_find_line(const Order *o, int32 no)
{
	int			i;

	for (i = 0; i < o->nlines; i++)
		if (o->lines[i].no == no)
			return i;
	elog(ERROR, "line %d of order %s vanished", no, o->code_text);
	return -1;
}

/* The changes' keys, and whether there is anything but a request_id. */
static void
edit_keys(Edit *e)
{
	static const char *const keys[] = {"add_lines", "cancel_lines", "set_qty", "address",
	"delivery_date", "payments", "refunds", "request_id", NULL};
	JsonbValue	root;
	JsonbValue	buf;
	int			n;

	if (e->changes == NULL)
		oj_check_keys(NULL, keys, "changes");
	root = edit_root(e->changes);
	oj_check_keys(&root, keys, "changes");
	e->c = &e->changes->root;
	n = JsonContainerSize(e->c) - (oj_key(e->c, "request_id", &buf) != NULL ? 1 : 0);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nothing to change"),
				 errhint("Give add_lines, cancel_lines, set_qty, address, delivery_date, payments or refunds.")));
}

/* icos._edit_request: false when the order already applied this request_id. */
static bool
edit_request(const Order *o, Edit *e)
{
	JsonbValue	buf;
	JsonbValue *r = oj_key(e->c, "request_id", &buf);
	Datum		v[2];
	bool		isnull;
	bool		apply;

	if (r == NULL)
		return true;
	v[0] = o->code;
	v[1] = JsonbPGetDatum(JsonbValueToJsonb(r));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	apply = DatumGetBool(order_run(OS_EDIT_REQUEST, v, NULL, &isnull));
	SPI_finish();
	return apply;
}

/* cancel_lines and set_qty: each line named once, and not in both. */
static void
edit_read_lines(const Order *o, Edit *e)
{
	JsonbContainer *a;
	JsonbIterator *it;
	JsonbValue	x;
	JsonbIteratorToken tok;
	int			i;

	a = oj_array_key(e->c, "cancel_lines", "changes");
	e->cancel = palloc(sizeof(int32) * (a ? JsonContainerSize(a) + 1 : 1));
	if (a != NULL)
	{
		it = JsonbIteratorInit(a);
		while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
		{
			int32		n;

			if (tok != WJB_ELEM)
				continue;
			if (!oj_is_count(&x, &n))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("cancel_lines must be line numbers"),
						 errdetail("Got %s.", pnstrdup(oj_value_text(&x), 120)),
						 errhint("Line numbers are whole numbers from 1, written without a decimal point.")));
			for (i = 0; i < e->ncancel; i++)
				if (e->cancel[i] == n)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("line %d appears twice in cancel_lines", n),
							 errhint("Name each line once.")));
			e->cancel[e->ncancel++] = n;
		}
	}

	a = oj_array_key(e->c, "set_qty", "changes");
	e->set_line = palloc(sizeof(int32) * (a ? JsonContainerSize(a) + 1 : 1));
	e->set_qty = palloc(sizeof(int32) * (a ? JsonContainerSize(a) + 1 : 1));
	if (a == NULL)
		return;
	it = JsonbIteratorInit(a);
	while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
	{
		static const char *const keys[] = {"line", "qty", NULL};
		JsonbValue	b1,
					b2;
		int32		n,
					q;

		if (tok != WJB_ELEM)
			continue;
		oj_check_keys(&x, keys, "set_qty entry");
		if (!oj_is_count(oj_key(oj_object(&x), "line", &b1), &n) ||
			!oj_is_count(oj_key(oj_object(&x), "qty", &b2), &q))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("set_qty needs a line and a quantity of at least 1"),
					 errdetail("Got %s.", pnstrdup(oj_value_text(&x), 120)),
					 errhint("Line numbers and quantities are whole numbers written without a decimal point; cancel a line with cancel_lines rather than setting its quantity to 0.")));
		for (i = 0; i < e->nset; i++)
			if (e->set_line[i] == n)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("line %d appears twice in set_qty", n),
						 errhint("Give each line once, with its new quantity.")));
		for (i = 0; i < e->ncancel; i++)
			if (e->cancel[i] == n)
				ereport(ERROR,
						(errcode(ERRCODE_ICOS_NOT_CHANGEABLE),
						 errmsg("cannot change quantities: line %d of order %s is cancelled by the same edit",
								n, o->code_text),
						 errdetail("A line is either cancelled or given a new quantity, not both."),
						 errhint("Leave the line out of set_qty, or out of cancel_lines.")));
		e->set_line[e->nset] = n;
		e->set_qty[e->nset++] = q;
	}
}

/*
 * The lines added: read and resolved as a placement's lines are, numbered
 * after the order's last, and their reservations added to the ops.
 */
static void
edit_add_lines(Order *o, Edit *e)
{
	JsonbContainer *a;
	Order		add;
	int32		next = 1;
	int			i;
	LOCAL_FCINFO(nfc, 0);

	change_check(o, "add_lines", NULL);
	a = oj_array_key(e->c, "add_lines", "changes");
	if (a == NULL || JsonContainerSize(a) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("add_lines is empty")));

	memset(&add, 0, sizeof(add));
	add.store = o->store;
	lookup_begin();
	lookup_store(o->store, &add.sell);
	if (!add.sell.found)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("unknown store %d", o->store),
				 errdetail("The selling store is not a store icos knows.")));
	InitFunctionCallInfoData(*nfc, NULL, 0, InvalidOid, NULL, NULL);
	add.node = DatumGetInt32(current_node(nfc));
	add.lines = palloc0(sizeof(OrderLine) * (JsonContainerSize(a) + 1));
	add.nlines = order_read_lines(a, add.lines);
	order_resolve_products(&add, o->method == OM_CARRY, o->collect, o->has_collect);

	for (i = 0; i < o->nlines; i++)
		next = Max(next, o->lines[i].no + 1);
	o->lines = repalloc(o->lines, sizeof(OrderLine) * (o->nlines + add.nlines + 1));
	for (i = 0; i < add.nlines; i++)
	{
		OrderLine  *l = &o->lines[o->nlines];

		*l = add.lines[i];
		l->no = next + i;
		l->added = true;
		l->status = l->prod.made_to_order ? "made_to_order" : "reserved";
		if (!l->prod.made_to_order)
		{
			OrderStockOp *op = &e->ops[e->nops++];

			memset(op, 0, sizeof(*op));
			op->idx = o->nlines;
			op->qty = l->qty;
		}
		o->nlines++;
	}
	edit_what(e, psprintf("added %d line(s)", add.nlines));
	e->lines = true;
}

/* Phase 3: the lines cancelled, re-quantified and added; their stock; prices. */
static void
edit_lines(Order *o, Edit *e)
{
	JsonbValue	buf;
	JsonbContainer *add = oj_array_key(e->c, "add_lines", "changes");
	int			i;

	e->ops = palloc(sizeof(OrderStockOp) *
					(e->ncancel + e->nset + (add ? JsonContainerSize(add) : 0) + 1));
	for (i = 0; i < e->ncancel; i++)
	{
		OrderLine  *l;

		change_check(o, "cancel_lines", order_object1("line", e->cancel[i]));
		l = &o->lines[edit_find_line(o, e->cancel[i])];
		if (l->reserved > 0)
		{
			OrderStockOp *op = &e->ops[e->nops++];

			memset(op, 0, sizeof(*op));
			op->idx = l - o->lines;
			op->qty = -l->reserved;
		}
		l->status = "cancelled";
		edit_what(e, psprintf("cancelled line %d", e->cancel[i]));
		e->lines = true;
	}
	for (i = 0; i < e->nset; i++)
	{
		OrderLine  *l;
		int32		q = e->set_qty[i];

		change_check(o, "set_qty", order_object1("line", e->set_line[i]));
		l = &o->lines[edit_find_line(o, e->set_line[i])];
		edit_what(e, psprintf("line %d quantity %d -> %d", l->no, l->qty, q));
		if (strcmp(l->status, "reserved") == 0 && q != l->qty)
		{
			/* only the difference is reserved or released */
			OrderStockOp *op = &e->ops[e->nops++];

			memset(op, 0, sizeof(*op));
			op->idx = l - o->lines;
			op->qty = q - l->qty;
			op->has_set = true;
			op->set_qty = q;
		}
		else
			l->qty = q;
		e->lines = true;
	}
	if (oj_key(e->c, "add_lines", &buf) != NULL)
		edit_add_lines(o, e);
	if (!e->lines)
		return;

	change_stock(o, e->ops, e->nops);
	for (i = 0; i < o->nlines; i++)
		if (strcmp(o->lines[i].status, "cancelled") != 0)
			break;
	if (i == o->nlines)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_NOT_CHANGEABLE),
				 errmsg("cannot cancel every item of order %s this way", o->code_text),
				 errdetail("An order needs at least one item."),
				 errhint("Cancel the whole order with icos.cancel_order.")));
	order_price_basket(o);
	o->lines_changed = true;
	change_write_lines(o);
	change_stock_remote(o, e->ops, e->nops);
}

static char *
edit_date_text(int32 d)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(d)));
}

static Jsonb *
edit_date_arg(int32 date, int32 earliest)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_put_text(&st, "date", edit_date_text(date));
	jb_put_text(&st, "earliest", edit_date_text(earliest));
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/* Phase 4: address and dates, then the order's row. */
static void
edit_order_row(Order *o, Edit *e)
{
	JsonbValue	buf;
	JsonbValue *v;
	Jsonb	   *address = NULL;
	bool		dated = false;
	int32		earliest;

	if ((v = oj_key(e->c, "address", &buf)) != NULL)
	{
		change_check(o, "address", NULL);
		address = oj_address(v, "address");
		edit_what(e, "new delivery address");
	}
	earliest = order_lines_earliest(o);
	if (oj_key(e->c, "delivery_date", &buf) != NULL)
	{
		int32		d;

		if (!oj_date(e->c, "delivery_date", "changes", &d))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("delivery_date must be a date written YYYY-MM-DD")));
		change_check(o, "delivery_date", edit_date_arg(d, earliest));
		o->date = d;
		o->has_date = true;
		o->promised = d;
		dated = true;
		edit_what(e, psprintf("delivery date %s", edit_date_text(d)));
	}
	else if (e->lines && o->method != OM_CARRY)
	{
		/* new lines must still arrive by the date the customer asked for */
		if (o->has_date)
			change_check(o, "delivery_date", edit_date_arg(o->date, earliest));
		o->promised = o->has_date ? o->date :
			DATE_IS_NOBEGIN(o->promised) ? earliest : Max(o->promised, earliest);
		dated = true;
	}
	if (e->lines || address != NULL || dated)
		change_write_order(o, address, NULL);
	if (e->what.len > 0)
	{
		Datum		d = JsonbPGetDatum(e->changes);

		d = DirectFunctionCall2(jsonb_delete, d, CStringGetTextDatum("payments"));
		d = DirectFunctionCall2(jsonb_delete, d, CStringGetTextDatum("refunds"));
		change_log(o, "edited", e->what.data, DatumGetJsonbP(d));
	}
}

/* Phase 5: refunds, each a payment object with an optional "reason". */
static void
edit_refunds(Order *o, Edit *e)
{
	JsonbContainer *a = oj_array_key(e->c, "refunds", "changes");
	JsonbIterator *it;
	JsonbValue	x;
	JsonbIteratorToken tok;
	int			n = 0;

	if (a == NULL)
		return;
	it = JsonbIteratorInit(a);
	while ((tok = JsonbIteratorNext(&it, &x, true)) != WJB_DONE)
	{
		OrderPayment p;
		char	   *what;
		JsonbValue	pay = x;
		char	   *why = NULL;

		if (tok != WJB_ELEM)
			continue;
		what = psprintf("refund %d", ++n);
		if (oj_object(&x) != NULL)
		{
			Jsonb	   *j = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete,
															   JsonbPGetDatum(JsonbValueToJsonb(&x)),
															   CStringGetTextDatum("reason")));

			pay = edit_root(j);
		}
		oj_payment(&pay, what, &p);
		if (oj_object(&x) != NULL)
			why = oj_text(oj_object(&x), "reason", what);
		change_refund(o, &p, why);
	}
}

/*
 * icos.edit_order(code icos.order_code, changes jsonb) returns jsonb
 * (SECURITY DEFINER)
 */
PG_FUNCTION_INFO_V1(edit_order);
Datum
edit_order(PG_FUNCTION_ARGS)
{
	Order		o;
	Edit		e;

	order_require_sql_version();
	change_lock(PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0), PG_ARGISNULL(0), &o);
	memset(&e, 0, sizeof(e));
	initStringInfo(&e.what);
	e.changes = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	edit_keys(&e);
	if (!edit_request(&o, &e))
		PG_RETURN_DATUM(change_doc(&o));	/* a retry of an applied edit */
	edit_read_lines(&o, &e);
	edit_lines(&o, &e);
	edit_order_row(&o, &e);
	change_pay(&o, oj_array_key(e.c, "payments", "changes"));
	edit_refunds(&o, &e);
	change_settle(&o);
	PG_RETURN_DATUM(change_doc(&o));
}
