/*-------------------------------------------------------------------------
 *
 * order_write.c
 *	  Phases 3 to 5 of a placement: the price of every line (the one
 *	  pricing function), the promised date, the payments against the total,
 *	  the status and the events; then the one statement that writes the
 *	  order, its lines, payments, events and the stock ledger rows the batch
 *	  engine handed back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/json.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "errcodes.h"
#include "gtin.h"
#include "jsonb_put.h"
#include "order.h"
#include "order_sql.h"

extern Datum price_basket(PG_FUNCTION_ARGS);

static const char *const order_methods[] = {"home", "collect", "carry"};

/* A numeric key of a price_basket document in pence. */
static int64
write_pence(JsonbContainer *obj, const char *key)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(obj, key, &buf);
	Datum		d;

	if (v == NULL || v->type != jbvNumeric)
		return 0;
	d = DirectFunctionCall2(numeric_mul, NumericGetDatum(v->val.numeric),
							NumericGetDatum(int64_to_numeric(100)));
	return DatumGetInt64(DirectFunctionCall1(numeric_int8, d));
}

/* True when the array under key is absent or empty. */
static bool
write_empty(JsonbContainer *obj, const char *key)
{
	JsonbValue	buf;
	JsonbContainer *a = oj_array(oj_key(obj, key, &buf));

	return a == NULL || JsonContainerSize(a) == 0;
}

/*
 * Key "lines": [{line, upc, qty}, ...] of a basket, or with placed their
 * fulfil_from and status (the placed event).
 */
static void
write_lines(JsonbParseState **st, const Order *o, bool placed)
{
	int			i;

	jb_put_key(st, "lines");
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < o->nlines; i++)
	{
		pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
		jb_put_int(st, "line", i + 1);
		jb_put_text(st, "upc", order_upc_text(o->lines[i].upc));
		jb_put_int(st, "qty", o->lines[i].qty);
		if (placed)
		{
			jb_put_int(st, "fulfil_from", o->lines[i].fulfil_from);
			jb_put_text(st, "status", o->lines[i].status);
		}
		pushJsonbValue(st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}

/*
 * Prices from icos.price_basket itself (an order with coupons, and every
 * order an edit, cancel or return changes): the basket of the order's
 * lines still sold (not cancelled, less what came back) with its customer,
 * coupons and, for a placed order, the moment it was placed; read back
 * into the lines and totals.  A line the basket leaves out keeps its unit
 * price and nets nothing.
 */
void
order_price_basket(Order *o)
{
	JsonbParseState *st = NULL;
	Jsonb	   *basket;
	Jsonb	   *res;
	JsonbValue	buf;
	JsonbContainer *lines;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			i;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_put_key(&st, "lines");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < o->nlines; i++)
	{
		OrderLine  *l = &o->lines[i];

		l->discount = 0;
		l->net = 0;
		if ((l->status != NULL && strcmp(l->status, "cancelled") == 0) || l->qty <= l->returned)
			continue;
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_put_int(&st, "line", l->no > 0 ? l->no : i + 1);
		jb_put_text(&st, "upc", order_upc_text(l->upc));
		jb_put_int(&st, "qty", l->qty - l->returned);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	jb_put_int(&st, "store", o->store);
	jb_put_text(&st, "channel", o->channel);
	if (o->has_at)
		jb_put_text(&st, "at", JsonEncodeDateTime(NULL, TimestampTzGetDatum(o->placed_at),
												  TIMESTAMPTZOID, NULL));
	if (o->customer_kind != OC_NONE)
		jb_put_int(&st, "customer", o->customer_id);
	jb_put_key(&st, "coupons");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < o->ncoupons; i++)
	{
		JsonbValue	s;

		s.type = jbvString;
		s.val.string.val = o->coupons[i];
		s.val.string.len = strlen(o->coupons[i]);
		pushJsonbValue(&st, WJB_ELEM, &s);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	basket = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));

	res = DatumGetJsonbP(DirectFunctionCall1(price_basket, JsonbPGetDatum(basket)));
	o->gross = write_pence(&res->root, "gross");
	o->discount = write_pence(&res->root, "discount");
	o->total = write_pence(&res->root, "total");
	{
		JsonbValue *ap = oj_key(&res->root, "approximate", &buf);
		bool		approximate = ap != NULL && ap->type == jbvBool && ap->val.boolean;

		o->pricing = write_empty(&res->root, "applied") && write_empty(&res->root, "not_applied") &&
			!approximate ? NULL : res;
	}
	lines = oj_array(oj_key(&res->root, "lines", &buf));
	if (lines == NULL)
		return;
	it = JsonbIteratorInit(lines);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		JsonbContainer *lc;
		int32		n;

		if (tok != WJB_ELEM || (lc = oj_object(&e)) == NULL)
			continue;
		if (!oj_is_count(oj_key(lc, "line", &buf), &n))
			continue;
		for (i = 0; i < o->nlines; i++)
		{
			OrderLine  *l = &o->lines[i];

			if ((l->no > 0 ? l->no : i + 1) != n)
				continue;
			l->unit_price = write_pence(lc, "unit_price");
			l->discount = write_pence(lc, "discount");
			l->net = write_pence(lc, "net");
			break;
		}
	}
}

/* Phase 3: prices, from the one pricing function (src/pricing.h). */
void
order_price(Order *o)
{
	int64	   *upcs;
	int32	   *qtys;
	PricedLine *priced;
	PricedBasket totals;
	int			i;

	if (o->ncoupons > 0)
	{
		order_price_basket(o);
		return;
	}
	upcs = palloc(sizeof(int64) * o->nlines);
	qtys = palloc(sizeof(int32) * o->nlines);
	priced = palloc(sizeof(PricedLine) * o->nlines);
	for (i = 0; i < o->nlines; i++)
	{
		upcs[i] = o->lines[i].upc;
		qtys[i] = o->lines[i].qty;
	}
	price_lines(o->store, o->channel, o->nlines, upcs, qtys, priced, &totals);
	for (i = 0; i < o->nlines; i++)
	{
		o->lines[i].unit_price = priced[i].unit_price;
		o->lines[i].discount = priced[i].discount;
		o->lines[i].net = priced[i].net;
	}
	o->gross = totals.gross;
	o->discount = totals.discount;
	o->total = totals.total;
	o->pricing = totals.document;
}

/*
 * The earliest date an order's stock and lead times allow, from today (the
 * one statement of the rule: placements and edits, through
 * order_lines_earliest): a day to move goods unless collected where they
 * are (carried goods are gone), plus the lead time (1 to
 * ORDER_MAX_LEAD_DAYS days) of what is not in stock (waiting[i]: a
 * back-ordered or made-to-order line).
 */
int32
order_earliest(OrderMethod method, int32 collect, int n, const int32 *ffs,
			   const bool *waiting, const int32 *leads)
{
	int64		days = 0;
	int			i;

	if (method == OM_CARRY)
		return GetSQLCurrentDate();
	for (i = 0; i < n; i++)
	{
		int64		d = (method == OM_COLLECT && ffs[i] == collect) ? 0 : 1;

		if (waiting[i])
			d += Max(Min(leads[i], ORDER_MAX_LEAD_DAYS), 1);
		days = Max(days, d);
	}
	return GetSQLCurrentDate() + (int32) days;
}

/*
 * The earliest date of an order's open lines (reserved, back-ordered or
 * made to order): a placement's, or a placed order's after an edit.
 */
int32
order_lines_earliest(const Order *o)
{
	int32	   *ffs = palloc(sizeof(int32) * (o->nlines + 1));
	bool	   *waiting = palloc(sizeof(bool) * (o->nlines + 1));
	int32	   *leads = palloc(sizeof(int32) * (o->nlines + 1));
	int			n = 0;
	int			i;

	for (i = 0; i < o->nlines; i++)
	{
		const char *st = o->lines[i].status;
		bool		w = strcmp(st, "backorder") == 0 || strcmp(st, "made_to_order") == 0;

		if (!w && strcmp(st, "reserved") != 0)
			continue;
		ffs[n] = o->lines[i].fulfil_from;
		waiting[n] = w;
		leads[n++] = o->lines[i].prod.lead_time_days;
	}
	return order_earliest(o->method, o->collect, n, ffs, waiting, leads);
}

char *
order_method_words(const char *method)
{
	char	   *s = pstrdup(method);
	char	   *p;

	for (p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	return s;
}

/* {key: n}: an event's detail, a change rule's argument. */
Jsonb *
order_object1(const char *key, int64 n)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_put_int(&st, key, n);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

/*
 * The status of an order from what is still due: awaiting payment, or
 * placed; a carried-out sale with nothing left to hand over is completed.
 */
const char *
order_status_for(int64 due, OrderMethod method, bool open_lines)
{
	if (due > 0)
		return "awaiting_payment";
	return method == OM_CARRY && !open_lines ? "completed" : "placed";
}

/*
 * Payment n of an order owing due: only cash may be tendered above what is
 * owed (change is given), and nothing is taken when nothing is owed
 * (IC003); sets what it applies.
 */
void
order_take_payment(const char *code_text, int n, int64 due, OrderPayment *p)
{
	if (due <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_PAYMENT),
				 errmsg("nothing is owed on order %s", code_text),
				 errdetail("Payment %d of %s was not taken.", n, order_pounds(p->amount))));
	if (p->amount > due && strcmp(p->method, "cash") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_PAYMENT),
				 errmsg("payment of %s is more than the %s owed on order %s",
						order_pounds(p->amount), order_pounds(due), code_text),
				 errdetail("Only cash can be tendered above the amount due (change is given).")));
	p->applied = Min(p->amount, due);
}

/* A payment event's note: "visa 12.50", "cash 5.00 (tendered 10.00, change 5.00)". */
char *
order_payment_note(const OrderPayment *p)
{
	if (p->amount > p->applied)
		return psprintf("%s %s (tendered %s, change %s)", order_method_words(p->method),
						order_pounds(p->applied), order_pounds(p->amount),
						order_pounds(p->amount - p->applied));
	return psprintf("%s %s", order_method_words(p->method), order_pounds(p->applied));
}

/*
 * Phase 4, after the stock: the promised date (a date given must not be earlier than the
 * stock and lead times allow: icos._change_refusal), the payments against
 * the total (only cash above what is owed: change), the status.
 */
void
order_settle(Order *o)
{
	int32		earliest = order_lines_earliest(o);
	int64		paid = 0;
	int			i;

	if (o->has_date)
	{
		JsonbParseState *st = NULL;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_put_text(&st, "date", DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(o->date))));
		jb_put_text(&st, "earliest", DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(earliest))));
		order_refusal(o, "delivery_date", JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	}
	o->promised = o->has_date ? o->date : earliest;
	if (o->npay > 0 && !lookup_payment_allowed())
		order_refusal(o, "payment", NULL);
	for (i = 0; i < o->npay; i++)
	{
		order_take_payment(o->code_text, i + 1, o->total - paid, &o->pay[i]);
		paid += o->pay[i].applied;
	}
	o->status = order_status_for(o->total - paid, o->method, false);
}

/* The placed event's detail: {"lines": [{line, upc, qty, fulfil_from, status}]}. */
static Jsonb *
write_placed_detail(const Order *o)
{
	JsonbParseState *st = NULL;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	write_lines(&st, o, true);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

static Datum
write_array(Datum *d, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_array(d, n, type, len, byval, align));
}

/* Text items (NULL items are SQL nulls) as text[]. */
static Datum
write_texts(char *const *items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));
	bool	   *nulls = palloc(sizeof(bool) * (n + 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < n; i++)
	{
		nulls[i] = items[i] == NULL;
		d[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(items[i]);
	}
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, TEXTOID, -1, false,
											  TYPALIGN_INT));
}

/* SHA-256 of the document as jsonb prints it (the same document, the same digest). */
bytea *
order_digest(Jsonb *doc)
{
	char	   *t = JsonbToCString(NULL, &doc->root, VARSIZE(doc));
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea	   *out = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) t, strlen(t)) < 0 ||
		pg_cryptohash_final(ctx, (uint8 *) VARDATA(out), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute the digest of the order document");
	pg_cryptohash_free(ctx);
	SET_VARSIZE(out, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return out;
}


/* The events: placed, each payment, the status when it moved. */
static void
write_events(const Order *o, Datum *values)
{
	int			max = o->npay + 2;
	char	  **kinds = palloc(sizeof(char *) * max);
	char	  **notes = palloc(sizeof(char *) * max);
	Datum	   *details = palloc(sizeof(Datum) * max);
	int			n = 0;
	int			i;

	kinds[n] = "placed";
	notes[n] = psprintf("%s order at %s: %d line(s), total %s", o->channel, o->sell.name,
						o->nlines, order_pounds(o->total));
	details[n++] = JsonbPGetDatum(write_placed_detail(o));
	for (i = 0; i < o->npay; i++)
	{
		const OrderPayment *p = &o->pay[i];

		kinds[n] = "payment";
		notes[n] = order_payment_note(p);
		details[n++] = JsonbPGetDatum(order_object1("payment", i + 1));
	}
	if (strcmp(o->status, "awaiting_payment") != 0)
	{
		JsonbParseState *st = NULL;

		kinds[n] = "status";
		notes[n] = psprintf("awaiting_payment -> %s", o->status);
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_put_text(&st, "from", "awaiting_payment");
		jb_put_text(&st, "to", o->status);
		details[n++] = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	}
	values[31] = write_texts(kinds, n);
	values[32] = write_texts(notes, n);
	values[33] = write_array(details, n, JSONBOID);
}

/*
 * The columns of new order lines as arrays, values[0..8]: upc, qty,
 * fulfil_from, status, reserved, consumed, unit price, discount, net; and
 * *vat_rates, the products' VAT rates in hundredths of a per cent.  The
 * lines are o->lines[idx[i]] for i < n, or the first n when idx is NULL:
 * the one description of a written line, for a placement's lines
 * (order_write) and the lines an edit adds (change_write_lines).
 */
void
order_line_arrays(const Order *o, const int *idx, int n, Datum *values, Datum *vat_rates)
{
	Datum	   *a = palloc(sizeof(Datum) * (n + 1) * 9);
	char	  **s = palloc(sizeof(char *) * (n + 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		const OrderLine *l = &o->lines[idx ? idx[i] : i];

		a[i] = Int64GetDatum(l->upc);
		a[n + i] = Int32GetDatum(l->qty);
		a[2 * n + i] = Int32GetDatum(l->fulfil_from);
		s[i] = (char *) l->status;
		a[3 * n + i] = Int32GetDatum(l->reserved);
		a[4 * n + i] = Int32GetDatum(l->consumed);
		a[5 * n + i] = Int64GetDatum(l->unit_price);
		a[6 * n + i] = Int64GetDatum(l->discount);
		a[7 * n + i] = Int64GetDatum(l->net);
		a[8 * n + i] = Int32GetDatum(l->prod.vat_rate_cents);
	}
	values[0] = write_array(a, n, order_upc_type(NULL));
	values[1] = write_array(a + n, n, INT4OID);
	values[2] = write_array(a + 2 * n, n, INT4OID);
	values[3] = write_texts(s, n);
	values[4] = write_array(a + 3 * n, n, INT4OID);
	values[5] = write_array(a + 4 * n, n, INT4OID);
	values[6] = write_array(a + 5 * n, n, INT8OID);
	values[7] = write_array(a + 6 * n, n, INT8OID);
	values[8] = write_array(a + 7 * n, n, INT8OID);
	*vat_rates = write_array(a + 8 * n, n, INT4OID);
}

/* Phase 5: the order, its lines, payments, events and ledger rows, in one statement. */
void
order_write(Order *o)
{
	Datum		values[44];
	char		nulls[44];
	int			rc;
	Oid			upc = order_upc_type(NULL);
	int			n = o->nlines;
	int			m = Max(o->npay, 0);
	int			k = o->ledger.n;
	Datum	   *a = palloc(sizeof(Datum) * (n + m + k + 1) * 9);
	char	  **s = palloc(sizeof(char *) * (n + m + k + 1));
	int			i;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = o->code;
	values[1] = Int32GetDatum(o->store);
	values[2] = CStringGetTextDatum(o->channel);
	values[3] = Int64GetDatum(o->customer_id);
	nulls[3] = o->customer_kind == OC_NONE ? 'n' : ' ';
	values[4] = Int32GetDatum(o->emp_id);
	nulls[4] = o->has_emp ? ' ' : 'n';
	values[5] = CStringGetTextDatum(o->status);
	values[6] = CStringGetTextDatum(order_methods[o->method]);
	values[7] = o->method == OM_HOME ? JsonbPGetDatum(o->address) : (Datum) 0;
	nulls[7] = o->method == OM_HOME ? ' ' : 'n';
	values[8] = Int32GetDatum(o->collect);
	nulls[8] = o->method == OM_COLLECT ? ' ' : 'n';
	values[9] = DateADTGetDatum(o->date);
	nulls[9] = o->has_date ? ' ' : 'n';
	values[10] = DateADTGetDatum(o->promised);
	values[11] = Int64GetDatum(o->gross);
	values[12] = Int64GetDatum(o->discount);
	values[13] = Int64GetDatum(o->total);
	values[14] = write_texts(o->coupons, o->ncoupons);
	values[15] = o->pricing ? JsonbPGetDatum(o->pricing) : (Datum) 0;
	nulls[15] = o->pricing ? ' ' : 'n';
	values[16] = o->external_ref ? CStringGetTextDatum(o->external_ref) : (Datum) 0;
	nulls[16] = o->external_ref ? ' ' : 'n';
	values[17] = o->external_ref ? PointerGetDatum(order_digest(o->doc)) : (Datum) 0;
	nulls[17] = o->external_ref ? ' ' : 'n';

	/* the lines */
	order_line_arrays(o, NULL, n, values + 18, &values[43]);

	/* the payments */
	for (i = 0; i < m; i++)
	{
		s[i] = (char *) o->pay[i].method;
		a[i] = Int64GetDatum(o->pay[i].applied);
		a[m + i] = Int64GetDatum(o->pay[i].amount);
	}
	values[27] = write_texts(s, m);
	values[28] = write_array(a, m, INT8OID);
	values[29] = write_array(a + m, m, INT8OID);
	for (i = 0; i < m; i++)
		s[i] = o->pay[i].reference;
	values[30] = write_texts(s, m);

	/* the events, written by the employee at her store */
	write_events(o, values);
	values[34] = Int32GetDatum(o->has_emp ? o->emp_store : o->store);

	/* the ledger rows, in the order the engine changed the lines */
	a += 2 * m;
	values[35] = CStringGetTextDatum(o->method == OM_CARRY ? "sale" : "reserve");
	for (i = 0; i < k; i++)
	{
		a[i] = Int32GetDatum(o->ledger.stores[i]);
		a[k + i] = Int64GetDatum(o->ledger.upcs[i]);
		a[2 * k + i] = Int32GetDatum(o->ledger.d_on_hand[i]);
		a[3 * k + i] = Int32GetDatum(o->ledger.d_reserved[i]);
	}
	values[36] = write_array(a, k, INT4OID);
	values[37] = write_array(a + k, k, upc);
	values[38] = write_array(a + 2 * k, k, INT4OID);
	values[39] = write_array(a + 3 * k, k, INT4OID);
	values[40] = write_texts(o->ledger.notes, k);
	values[41] = CStringGetTextDatum(o->code_text);
	values[42] = o->metadata ? JsonbPGetDatum(o->metadata) : (Datum) 0;
	nulls[42] = o->metadata ? ' ' : 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_plan(order_plan(OS_WRITE), values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "placement: the order was not written: %s", SPI_result_code_string(rc));
	SPI_finish();
}
