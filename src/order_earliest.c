/*-------------------------------------------------------------------------
 *
 * order_earliest.c
 *	  icos._earliest(order): the earliest date an order's stock and lead
 *	  times allow, for the editing functions, by the rule placements use
 *	  (order_earliest, src/order_write.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "order.h"
#include "order_sql.h"

/* icos._earliest(p_order icos.orders) returns date */
PG_FUNCTION_INFO_V1(earliest);
Datum
earliest(PG_FUNCTION_ARGS)
{
	static const char *const methods[] = {"home", "collect", "carry", NULL};
	HeapTupleHeader ord;
	bool		isnull;
	Datum		code;
	char	   *method;
	int32		collect;
	OrderMethod m = OM_HOME;
	int32	   *ffs;
	bool	   *waiting;
	int32	   *leads;
	int			n,
				i;
	int32		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	ord = PG_GETARG_HEAPTUPLEHEADER(0);
	code = GetAttributeByName(ord, "code", &isnull);
	method = TextDatumGetCString(GetAttributeByName(ord, "delivery_method", &isnull));
	collect = DatumGetInt32(GetAttributeByName(ord, "collect_store", &isnull));
	for (i = 0; methods[i] != NULL; i++)
		if (strcmp(method, methods[i]) == 0)
			m = (OrderMethod) i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	order_run(OS_EARLIEST, &code, NULL, &isnull);
	n = (int) SPI_processed;
	ffs = palloc(sizeof(int32) * (n + 1));
	waiting = palloc(sizeof(bool) * (n + 1));
	leads = palloc(sizeof(int32) * (n + 1));
	for (i = 0; i < n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;

		ffs[i] = DatumGetInt32(SPI_getbinval(t, d, 1, &isnull));
		waiting[i] = DatumGetBool(SPI_getbinval(t, d, 2, &isnull));
		leads[i] = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
	}
	result = order_earliest(m, collect, n, ffs, waiting, leads);
	SPI_finish();
	PG_RETURN_DATEADT(result);
}
