/*-------------------------------------------------------------------------
 *
 * order_stock.c
 *	  Phase 4 of a placement: the stock of every line.
 *
 * Lines of this node's stock are reserved, or sold at once when carried out
 * (no reservation first); made-to-order lines take no stock and are promised
 * by lead time; lines fulfilled from a store of another node become
 * reservation requests to that node (icos._request_stock,
 * 70_replication.sql), sent once the order is written.
 *
 * The usual order (no holds, no back-order) goes to the stock engine in one
 * call (stock_order_lines, src/stock.h), which sorts the lines by (store,
 * upc), the fixed lock order, and hands the ledger rows back for the write
 * statement.  An order with holds or back-ordered lines takes its lines one
 * by one in the same (store, upc) order, through the stock engine's SQL
 * entry points: holds for the line's product and store are taken into the
 * reservation first (icos._take_hold), a back-ordered line is reserved when
 * the stock is there and otherwise promised by lead time: the engine's
 * reservation says "not there" rather than raising (stock_change_item), so
 * a line that lost the last units to another order while it waited is a
 * back-order too, not IC001 (test/isolation/specs/order_backorder_race.spec).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"

#include "errcodes.h"
#include "order.h"
#include "order_sql.h"
#include "stock.h"

static text *
stock_note(const Order *o, int line, bool carry)
{
	return cstring_to_text(psprintf("order %s line %d%s", o->code_text, line,
									carry ? " carried out" : ""));
}

/* Every local stock line in one call of the engine; the ledger comes back. */
static void
stock_batch(Order *o, int k, const int *idx, bool carry)
{
	int32	   *stores = palloc(sizeof(int32) * k);
	Datum	   *upcs = palloc(sizeof(Datum) * k);
	int32	   *qtys = palloc(sizeof(int32) * k);
	text	  **notes = palloc(sizeof(text *) * k);
	int		   *ledger = palloc(sizeof(int) * k);
	OrderLedger *lg = &o->ledger;
	int			i;

	for (i = 0; i < k; i++)
	{
		OrderLine  *l = &o->lines[idx[i]];

		stores[i] = l->fulfil_from;
		upcs[i] = Int64GetDatum(l->upc);
		qtys[i] = l->qty;
		notes[i] = stock_note(o, idx[i] + 1, carry);
	}
	stock_order_lines(carry, k, stores, upcs, qtys, order_upc_type(NULL),
					  cstring_to_text(o->code_text), notes, ledger);
	lg->n = k;
	lg->stores = palloc(sizeof(int32) * k);
	lg->upcs = palloc(sizeof(int64) * k);
	lg->d_on_hand = palloc(sizeof(int32) * k);
	lg->d_reserved = palloc(sizeof(int32) * k);
	lg->notes = palloc(sizeof(char *) * k);
	for (i = 0; i < k; i++)
	{
		int			pos = ledger[i];

		lg->stores[i] = stores[pos];
		lg->upcs[i] = DatumGetInt64(upcs[pos]);
		lg->d_on_hand[i] = carry ? -qtys[pos] : 0;
		lg->d_reserved[i] = carry ? 0 : qtys[pos];
		lg->notes[i] = text_to_cstring(notes[pos]);
	}
	for (i = 0; i < k; i++)
	{
		OrderLine  *l = &o->lines[idx[i]];

		l->status = carry ? "fulfilled" : "reserved";
		l->reserved = carry ? 0 : l->qty;
		l->consumed = carry ? l->qty : 0;
	}
}

/* A call of one of the stock engine's SQL entry points (SPI connected). */
static void
stock_sql(OrderSqlId id, int32 store, int64 upc, int32 qty, const char *code, const char *note,
		  int64 hold)
{
	Datum		v[5];
	bool		isnull;

	if (id == OS_TAKE_HOLD)
	{
		v[0] = Int64GetDatum(hold);
		v[1] = Int32GetDatum(store);
		v[2] = Int64GetDatum(upc);
		v[3] = Int32GetDatum(qty);
		v[4] = PointerGetDatum(cstring_to_text(code));
	}
	else
	{
		v[0] = Int32GetDatum(store);
		v[1] = Int64GetDatum(upc);
		v[2] = Int32GetDatum(qty);
		v[3] = PointerGetDatum(cstring_to_text(code));
		v[4] = PointerGetDatum(cstring_to_text(note));
	}
	order_run(id, v, NULL, &isnull);
}

/* One line with holds or back-order: holds first, then the rest. */
static void
stock_line(Order *o, int i, bool carry)
{
	OrderLine  *l = &o->lines[i];
	int32		left = l->qty;
	bool		back = false;
	int			h;
	char	   *code = o->code_text;
	char	   *note = text_to_cstring(stock_note(o, i + 1, false));

	for (h = 0; h < o->nholds; h++)
	{
		OrderHold  *hd = &o->holds[h];

		if (hd->used || hd->store != l->fulfil_from || hd->upc != l->upc || hd->qty > left)
			continue;
		stock_sql(OS_TAKE_HOLD, l->fulfil_from, l->upc, hd->qty, code, NULL, hd->hold_id);
		hd->used = true;
		left -= hd->qty;
	}
	if (left > 0 && l->backorder)
	{
		/* reserved when the stock is there, even if another order took it first */
		back = !stock_change_item(l->fulfil_from, Int64GetDatum(l->upc), order_upc_type(NULL),
								  "reserve", 0, left, cstring_to_text(code), note, true);
		if (!back)
			left = 0;
	}
	if (back)
	{
		if (left < l->qty)
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_NOT_ENOUGH_STOCK),
					 errmsg("not enough stock of %s at store %d to complete line %d",
							order_upc_text(l->upc), l->fulfil_from, i + 1),
					 errdetail("A held quantity cannot be combined with a back-order on the same line."),
					 errhint("Order the rest on a separate line.")));
		l->status = "backorder";
		return;
	}
	if (left > 0)
		stock_sql(OS_RESERVE, l->fulfil_from, l->upc, left, code, note, 0);
	if (carry)
	{
		stock_sql(OS_CONSUME, l->fulfil_from, l->upc, l->qty, code,
				  psprintf("order %s carried out", code), 0);
		l->status = "fulfilled";
		l->consumed = l->qty;
	}
	else
	{
		l->status = "reserved";
		l->reserved = l->qty;
	}
}

static int
stock_cmp(const void *a, const void *b, void *arg)
{
	const OrderLine *lines = arg;
	const OrderLine *x = &lines[*(const int *) a];
	const OrderLine *y = &lines[*(const int *) b];

	if (x->fulfil_from != y->fulfil_from)
		return x->fulfil_from < y->fulfil_from ? -1 : 1;
	if (x->upc != y->upc)
		return x->upc < y->upc ? -1 : 1;
	return *(const int *) a - *(const int *) b;
}

/* Phase 4: the stock of every line (o->code_text set). */
void
order_stock(Order *o)
{
	bool		carry = o->method == OM_CARRY;
	int		   *idx = palloc(sizeof(int) * o->nlines);
	int			k = 0;
	bool		one_by_one = o->nholds > 0;
	int			i;

	for (i = 0; i < o->nlines; i++)
	{
		OrderLine  *l = &o->lines[i];

		if (l->prod.made_to_order)
			l->status = "made_to_order";
		else if (l->remote)
			l->status = "backorder";	/* pending until that node answers */
		else
		{
			idx[k++] = i;
			one_by_one |= l->backorder;
		}
	}
	if (k == 0)
		;
	else if (!one_by_one)
		stock_batch(o, k, idx, carry);
	else
	{
		qsort_arg(idx, k, sizeof(int), stock_cmp, o->lines);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		for (i = 0; i < k; i++)
			stock_line(o, idx[i], carry);
		SPI_finish();
	}
	for (i = 0; i < o->nholds; i++)
		if (!o->holds[i].used)
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_UNKNOWN),
					 errmsg("hold " INT64_FORMAT " does not match any line of the order",
							o->holds[i].hold_id),
					 errdetail("A hold is converted by a line for the same product, fulfilled from the hold's store, with at least the held quantity.")));
}

/*
 * After the write: each line of another node's stock asks that node for it
 * (icos._request_stock), in (store, upc) order.
 */
void
order_stock_remote(Order *o)
{
	int		   *idx = palloc(sizeof(int) * o->nlines);
	int			k = 0;
	int			i;

	for (i = 0; i < o->nlines; i++)
		if (o->lines[i].remote && !o->lines[i].prod.made_to_order)
			idx[k++] = i;
	if (k == 0)
		return;
	qsort_arg(idx, k, sizeof(int), stock_cmp, o->lines);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (i = 0; i < k; i++)
	{
		OrderLine  *l = &o->lines[idx[i]];
		Datum		v[5];
		bool		isnull;

		v[0] = o->code;
		v[1] = Int32GetDatum(l->fulfil_from);
		v[2] = Int64GetDatum(l->upc);
		v[3] = Int32GetDatum(idx[i] + 1);
		v[4] = Int32GetDatum(l->qty);
		order_run(OS_REQUEST, v, NULL, &isnull);
	}
	SPI_finish();
}
