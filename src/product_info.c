/*-------------------------------------------------------------------------
 *
 * product_info.c
 *	  icos.product_info(code): everything an employee needs about a product
 *	  as one jsonb document, the answer of the toolbar's product look-up.
 *
 * The document holds the product's availability in every store: at 600
 * stores, 600 objects and 80 kB.  Built in PL/pgSQL with jsonb_agg of
 * to_jsonb(row) inside jsonb_build_object, the document was assembled
 * twice (the aggregate's tree, then copied into the outer object's) with
 * the row's type looked up again for every store: most of a look-up's
 * time.  Here two kept statements (order_sql.c) read the product (with
 * its category path and offers, the same SQL functions as before) and its
 * availability (icos._availability, the one place the rule of what a store
 * shows lives), and the document is written straight into jsonb's binary
 * form (jsonb_write.c).  test/pgtap/product_info.sql checks the document is the
 * PL/pgSQL one, byte for byte as text.
 *
 * src/product_info.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "errcodes.h"
#include "jsonb_write.h"
#include "order_sql.h"

PG_FUNCTION_INFO_V1(product_info);

/* Run kept statement id for the product code (SPI connected). */
static SPITupleTable *
run(OrderSqlId id, Datum code)
{
	int			rc = SPI_execute_plan(order_plan(id), &code, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "product look-up %d failed: %s", id, SPI_result_code_string(rc));
	return SPI_tuptable;
}

/*
 * Column c (from 1) of row of t in *d; for SQL NULL, JSON null is written
 * and false returned.
 */
static bool
col(JsonbWriter *w, SPITupleTable *t, uint64 row, int c, Datum *d)
{
	bool		isnull;

	*d = SPI_getbinval(t->vals[row], t->tupdesc, c, &isnull);
	if (isnull)
		jbw_null(w);
	return !isnull;
}

static void
put_text(JsonbWriter *w, SPITupleTable *t, uint64 row, int c)
{
	Datum		d;

	if (col(w, t, row, c, &d))
		jbw_string(w, TextDatumGetCString(d));
}

static void
put_int(JsonbWriter *w, SPITupleTable *t, uint64 row, int c)
{
	Datum		d;

	if (col(w, t, row, c, &d))
		jbw_int(w, DatumGetInt32(d));
}

static void
put_bool(JsonbWriter *w, SPITupleTable *t, uint64 row, int c)
{
	Datum		d;

	if (col(w, t, row, c, &d))
		jbw_bool(w, DatumGetBool(d));
}

Datum
product_info(PG_FUNCTION_ARGS)
{
	/* each object's keys in jsonb's order: shorter first, then bytewise */
	static const char *const product_keys[] = {
		"upc", "name", "price", "active", "offers", "category", "category_id",
		"description", "availability", "category_path", "made_to_order",
		"lead_time_days"
	};
	static const char *const store_keys[] = {
		"on_hand", "reserved", "store_id", "available", "on_display", "store_name",
		"lead_time_days"
	};
	Datum		code = PG_GETARG_DATUM(0);
	JsonbWriter w;
	SPITupleTable *p;
	SPITupleTable *a;
	uint64		nstores;
	Datum	   *path = NULL;
	bool	   *path_nulls = NULL;
	int			npath = 0;
	bool		path_isnull;
	Datum		d;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a product code is required"),
				 errhint("Scan or type the product's barcode number.")));

	/* the document in the caller's context; all else goes with SPI */
	jbw_init(&w);
	SPI_connect();
	p = run(OS_PRODUCT_INFO, code);
	if (SPI_processed == 0)
	{
		Oid			out;
		bool		isvarlena;

		getTypeOutputInfo(order_upc_type(NULL), &out, &isvarlena);
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("product %s is not in the catalogue",
						OidOutputFunctionCall(out, code)),
				 errhint("Check the code on the label; head office may not have added this product yet.")));
	}
	a = run(OS_AVAILABILITY, code);
	nstores = SPI_processed;

	/* category is the last name of category_path */
	d = SPI_getbinval(p->vals[0], p->tupdesc, 9, &path_isnull);
	if (!path_isnull)
		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
						  &path, &path_nulls, &npath);

	jbw_begin_object(&w, lengthof(product_keys), product_keys);
	put_text(&w, p, 0, 1);		/* upc */
	put_text(&w, p, 0, 2);		/* name */
	if (col(&w, p, 0, 4, &d))	/* price */
		jbw_numeric(&w, DatumGetNumeric(d));
	put_bool(&w, p, 0, 7);		/* active */
	if (col(&w, p, 0, 10, &d))	/* offers */
		jbw_jsonb(&w, DatumGetJsonbP(d));
	jbw_string(&w, npath == 0 || path_nulls[npath - 1] ? NULL :
			   TextDatumGetCString(path[npath - 1]));
	put_int(&w, p, 0, 3);		/* category_id */
	put_text(&w, p, 0, 8);		/* description */
	jbw_begin_array(&w, (int) nstores); /* availability */
	for (uint64 r = 0; r < nstores; r++)
	{
		jbw_begin_object(&w, lengthof(store_keys), store_keys);
		put_int(&w, a, r, 3);	/* on_hand */
		put_int(&w, a, r, 4);	/* reserved */
		put_int(&w, a, r, 1);	/* store_id */
		put_int(&w, a, r, 5);	/* available */
		put_bool(&w, a, r, 6);	/* on_display */
		put_text(&w, a, r, 2);	/* store_name */
		put_int(&w, a, r, 7);	/* lead_time_days */
		jbw_end(&w);
	}
	jbw_end(&w);
	if (path_isnull)			/* category_path */
		jbw_null(&w);
	else
	{
		jbw_begin_array(&w, npath);
		for (int i = 0; i < npath; i++)
			jbw_string(&w, path_nulls[i] ? NULL : TextDatumGetCString(path[i]));
		jbw_end(&w);
	}
	put_bool(&w, p, 0, 6);		/* made_to_order */
	put_int(&w, p, 0, 5);		/* lead_time_days */
	jbw_end(&w);
	SPI_finish();
	PG_RETURN_JSONB_P(jbw_finish(&w));
}
