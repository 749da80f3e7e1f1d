/*-------------------------------------------------------------------------
 *
 * order_hand_over.c
 *	  icos._hand_over(order, note): the goods of an order leave the store
 *	  (carried out, dispatched or collected; icos.advance_order).
 *
 * Every open line (reserved, back-ordered, made to order) is sold from
 * stock in one step per line, in (store, upc, line) order: a reserved line
 * sells its reservation; a line that reserved nothing (back-ordered or made
 * to order, its goods arrived since) sells available units at once (IC001
 * when they have not arrived), without reserving them first.  A line of
 * another node's stock must have been granted in full, and that node sells
 * it (icos._request_stock 'consume').
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

#include "order.h"
#include "order_sql.h"
#include "stock.h"

extern Datum current_node(PG_FUNCTION_ARGS);

static int
hand_over_cmp(const void *a, const void *b)
{
	const OrderLine *x = *(const OrderLine *const *) a;
	const OrderLine *y = *(const OrderLine *const *) b;

	if (x->fulfil_from != y->fulfil_from)
		return x->fulfil_from < y->fulfil_from ? -1 : 1;
	if (x->upc != y->upc)
		return x->upc < y->upc ? -1 : 1;
	return x->no - y->no;
}

/* icos._hand_over(p_order icos.orders, p_note text) returns void */
PG_FUNCTION_INFO_V1(hand_over);
Datum
hand_over(PG_FUNCTION_ARGS)
{
	HeapTupleHeader ord;
	bool		isnull;
	Datum		code;
	char	   *note;
	Order		o;
	OrderLine **open;
	Datum	   *done;
	int			nopen = 0,
				ndone = 0;
	Oid			upc_oid = order_upc_type(NULL);
	text	   *code_text;
	int32		node;
	int			i;
	LOCAL_FCINFO(nfc, 0);

	if (PG_ARGISNULL(0))
		elog(ERROR, "icos._hand_over needs an order");
	ord = PG_GETARG_HEAPTUPLEHEADER(0);
	code = GetAttributeByName(ord, "code", &isnull);
	note = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	change_lock(code, isnull, &o);
	code_text = cstring_to_text(o.code_text);

	open = palloc(sizeof(OrderLine *) * (o.nlines + 1));
	done = palloc(sizeof(Datum) * (o.nlines + 1));
	for (i = 0; i < o.nlines; i++)
	{
		const char *s = o.lines[i].status;

		if (strcmp(s, "reserved") == 0 || strcmp(s, "backorder") == 0 ||
			strcmp(s, "made_to_order") == 0)
			open[nopen++] = &o.lines[i];
	}
	qsort(open, nopen, sizeof(OrderLine *), hand_over_cmp);

	InitFunctionCallInfoData(*nfc, NULL, 0, InvalidOid, NULL, NULL);
	node = DatumGetInt32(current_node(nfc));
	lookup_begin();
	for (i = 0; i < nopen; i++)
	{
		OrderLine  *l = open[i];
		LookupStore fs;
		Datum		upc = Int64GetDatum(l->upc);

		lookup_store(l->fulfil_from, &fs);
		if (fs.found && fs.node_id != node)
		{
			/* (replication) another node's stock: that node sells what it granted */
			Datum		v[6];

			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			v[0] = code;
			v[1] = Int32GetDatum(l->no);
			order_run(OS_REMOTE_READY, v, NULL, &isnull);
			v[1] = Int32GetDatum(l->fulfil_from);
			v[2] = upc;
			v[3] = Int32GetDatum(l->no);
			v[4] = Int32GetDatum(l->qty);
			v[5] = CStringGetTextDatum("consume");
			order_run(OS_REMOTE, v, NULL, &isnull);
			SPI_finish();
			continue;
		}
		if (l->reserved > 0)
			stock_change_item(l->fulfil_from, upc, upc_oid, "sale", -l->reserved, -l->reserved,
							  code_text, note, false);
		if (l->qty > l->reserved)
			stock_change_item(l->fulfil_from, upc, upc_oid, "sale", -(l->qty - l->reserved), 0,
							  code_text, note, false);
		done[ndone++] = Int32GetDatum(l->no);
	}
	if (ndone > 0)
	{
		Datum		v[2];

		v[0] = code;
		v[1] = PointerGetDatum(construct_array(done, ndone, INT4OID, 4, true, TYPALIGN_INT));
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		order_run(OS_HAND_OVER_LINES, v, NULL, &isnull);
		SPI_finish();
	}
	PG_RETURN_VOID();
}
