/*-------------------------------------------------------------------------
 *
 * order_sql.c
 *	  The statements of the order engine (and of the product look-up,
 *	  product_info.c), prepared once per backend and kept (SPI_keepplan),
 *	  with generic plans; and the types they take.
 *
 * Besides the write (order_write.c) and the customer statement
 * (order_customer.c), the engine calls a few SQL entry points of the other
 * parts of icos for what only some orders need: the stock engine's
 * icos._reserve, _consume and _take_hold (src/stock.c; the best stores
 * of a placement's lines are its C function, stock_best_stores),
 * the hold access rule (icos._check_hold_access), replication's
 * icos._request_stock and the change rules (icos._change_refusal).  Each
 * of those rules stays stated where it is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "order.h"
#include "order_sql.h"

typedef struct OrderSqlDef
{
	const char *sql;
	const char *args;			/* i int4, l int8, t text, u upc, U upc[], c order_code, j jsonb,
								 * J jsonb[], d date, b bytea, I int4[], L int8[], T text[], o bool */
} OrderSqlDef;

/*
 * The VAT rate a line is written with (both statements that write order
 * lines): its product's rate now, from icos.product_vat_rate, read with the
 * product by lookup.c and given in hundredths of a per cent, so that a
 * later change of the rate leaves the lines already sold as they were.
 */
#define ORDER_LINE_VAT_RATE(cents) \
	"(" cents "::pg_catalog.numeric OPERATOR(pg_catalog./) 100)"

static const OrderSqlDef order_sql_defs[OS_COUNT] = {
	[OS_ANY_STORE] = {"SELECT s.store_id FROM icos.store s WHERE s.kind IN ('store', 'warehouse')"
	" ORDER BY s.store_id OPERATOR(pg_catalog.=) $1 DESC, s.kind = 'warehouse' DESC, s.store_id LIMIT 1", "i"},
	[OS_HOLD] = {"SELECT h.store_id, h.upc::pg_catalog.int8, h.qty, icos._check_hold_access(h, 'use')::text"
	" FROM icos.stock_hold h WHERE h.hold_id OPERATOR(pg_catalog.=) $1", "l"},
	[OS_TAKE_HOLD] = {"SELECT icos._take_hold($1, $2, $3, $4, $5)", "liuit"},
	[OS_RESERVE] = {"SELECT icos._reserve($1, $2, $3, $4, $5)", "iuitt"},
	[OS_CONSUME] = {"SELECT icos._consume($1, $2, $3, $4, $5)", "iuitt"},
	[OS_REQUEST] = {"SELECT icos._request_stock(o, $2, $3, $4, $5) FROM icos.orders o"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "ciuii"},
	[OS_REFUSAL] = {"SELECT r.state, r.message, r.detail FROM icos._change_refusal("
	"pg_catalog.jsonb_populate_record(NULL::icos.orders, $1), $2, $3) r", "jtj"},
	[OS_EXTREF] = {"SELECT o.code::pg_catalog.text, o.external_ref_digest FROM icos.orders o"
	" WHERE o.store_id OPERATOR(pg_catalog.=) $1 AND o.external_ref OPERATOR(pg_catalog.=) $2", "it"},
	[OS_WRITE] = {
		/*
		 * The order, its lines, payments and events, and the stock ledger
		 * rows of the lines the batch engine changed, in one statement.
		 * Plain VALUES and function scans, no common table of the code to
		 * join each insert to: every join node is built again at each
		 * execution.
		 */
		"WITH o AS ("
		" INSERT INTO icos.orders (code, store_id, channel, customer_id, employee_id, status, delivery_method,"
		"  delivery_address, collect_store, delivery_date, promised_date, gross_pence,"
		"  discount_pence, total_pence, coupons, pricing, external_ref, external_ref_digest, metadata)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $43)),"
		" ol AS ("
		" INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, reserved_qty,"
		"  consumed_qty, unit_price_pence, discount_pence, net_pence, vat_rate)"
		" SELECT $2, $1, i, $19[i], $20[i], $21[i], $22[i], $23[i], $24[i], $25[i], $26[i], $27[i],"
		"  " ORDER_LINE_VAT_RATE("$44[i]")
		" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($19)) AS i),"
		" op AS ("
		" INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,"
		"  tendered_pence, reference, employee_id)"
		" SELECT $2, $1, i, 'payment', $28[i], $29[i], $30[i], $31[i], $5"
		" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($28)) AS i),"
		" sm AS ("
		" INSERT INTO icos.stock_movement (store_id, upc, kind, d_on_hand, d_reserved, order_code, actor, reason)"
		" SELECT $37[i], $38[i], $36, $39[i], $40[i], $42, session_user, $41[i]"
		" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($37)) AS i)"
		"INSERT INTO icos.order_event (store_id, code, kind, note, detail, employee_id, at_store)"
		"SELECT $2, $1, $32[i], $33[i], $34[i], $5, $35"
		" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($32)) AS i",
	"citlittjiddlllTjtbUIITIILLLTLLTTTJitIUIITtjI"},
	/* an order changed after placement (order_change.c) */
	[OS_LOCK] = {"SELECT o.store_id, o.channel, o.status, o.delivery_method, o.collect_store,"
	" o.delivery_date, o.promised_date, o.gross_pence, o.discount_pence, o.total_pence, o.customer_id,"
	" o.coupons, o.placed_at, icos._paid(o.code), o.code::pg_catalog.text"
	" FROM icos.orders o WHERE o.code OPERATOR(pg_catalog.=) $1 FOR UPDATE", "c"},
	[OS_LINES] = {"SELECT l.line, l.upc::pg_catalog.int8, l.qty, l.fulfil_from, l.status, l.reserved_qty,"
	" l.consumed_qty, l.returned_qty, l.unit_price_pence, l.discount_pence, l.net_pence, p.lead_time_days"
	" FROM icos.order_line l JOIN icos.product p ON p.upc OPERATOR(pg_catalog.=) l.upc"
	" WHERE l.code OPERATOR(pg_catalog.=) $1 ORDER BY l.line", "c"},
	[OS_CHECK] = {"SELECT icos._check_change(o, $2, $3) FROM icos.orders o"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "ctj"},
	[OS_LOG] = {"SELECT icos._log(o, $2, $3, $4) FROM icos.orders o"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "cttj"},
	[OS_EDIT_REQUEST] = {"SELECT icos._edit_request(o, $2) FROM icos.orders o"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "cj"},
	[OS_LINES_UPDATE] = {"UPDATE icos.order_line l SET qty = x.qty, status = x.status,"
	" reserved_qty = x.reserved, consumed_qty = x.consumed, returned_qty = x.returned,"
	" unit_price_pence = x.unit_price, discount_pence = x.discount, net_pence = x.net"
	" FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4),"
	" pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8),"
	" pg_catalog.unnest($9), pg_catalog.unnest($10))"
	" AS x(line, qty, status, reserved, consumed, returned, unit_price, discount, net)"
	" WHERE l.code OPERATOR(pg_catalog.=) $1 AND l.line OPERATOR(pg_catalog.=) x.line", "cIITIIILLL"},
	/* the lines an edit adds: the arrays of the placement's (order_line_arrays) */
	[OS_LINES_INSERT] = {"INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status,"
	"  reserved_qty, consumed_qty, unit_price_pence, discount_pence, net_pence, vat_rate)"
	" SELECT $1, $2, $3[i], $4[i], $5[i], $6[i], $7[i], $8[i], $9[i], $10[i], $11[i], $12[i], "
	ORDER_LINE_VAT_RATE("$13[i]")
	" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($4)) AS i", "icIUIITIILLLI"},
	[OS_ORDER_UPDATE] = {"UPDATE icos.orders o SET"
	" gross_pence = CASE WHEN $2 THEN $3 ELSE o.gross_pence END,"
	" discount_pence = CASE WHEN $2 THEN $4 ELSE o.discount_pence END,"
	" total_pence = CASE WHEN $2 THEN $5 ELSE o.total_pence END,"
	" pricing = CASE WHEN $2 THEN $6 ELSE o.pricing END,"
	" delivery_address = coalesce($7, o.delivery_address), delivery_date = coalesce($8, o.delivery_date),"
	" promised_date = $9, status = $10, cancel_reason = coalesce($11, o.cancel_reason),"
	" updated_at = pg_catalog.now()"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "collljjddtt"},
	[OS_STATUS] = {"UPDATE icos.orders o SET status = $2, updated_at = pg_catalog.now()"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "ct"},
	[OS_PAY] = {"INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,"
	"  tendered_pence, reference, employee_id)"
	" SELECT $1, $2, coalesce(max(y.payment_no), 0) + 1, $3, $4, $5, $6, $7, icos._current_employee()"
	" FROM icos.order_payment y WHERE y.code OPERATOR(pg_catalog.=) $2 RETURNING payment_no", "icttllt"},
	[OS_PAY_NETS] = {"SELECT y.method, pg_catalog.sum(CASE y.kind WHEN 'payment' THEN y.amount_pence"
	" ELSE -y.amount_pence END)::pg_catalog.int8 AS net"
	" FROM icos.order_payment y WHERE y.code OPERATOR(pg_catalog.=) $1 GROUP BY y.method"
	" HAVING pg_catalog.sum(CASE y.kind WHEN 'payment' THEN y.amount_pence ELSE -y.amount_pence END)"
	" OPERATOR(pg_catalog.>) 0 ORDER BY pg_catalog.max(y.payment_no) DESC", "c"},
	[OS_REMOTE] = {"SELECT icos._request_stock(o, $2, $3, $4, $5, $6) FROM icos.orders o"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "ciuiit"},
	[OS_REMOTE_READY] = {"SELECT icos._remote_line_ready(o, $2) FROM icos.orders o"
	" WHERE o.code OPERATOR(pg_catalog.=) $1", "ci"},
	[OS_HAND_OVER_LINES] = {"UPDATE icos.order_line l SET reserved_qty = 0, consumed_qty = l.qty, status = 'fulfilled'"
	" WHERE l.code OPERATOR(pg_catalog.=) $1 AND l.line OPERATOR(pg_catalog.=) ANY ($2)", "cI"},
	[OS_DOC] = {"SELECT icos._doc($1)", "c"},
	/* the product look-up (product_info.c) */
	[OS_PRODUCT_INFO] = {"SELECT p.upc::pg_catalog.text, p.name, p.category_id, p.price,"
		"  p.lead_time_days, p.made_to_order, p.active, p.description,"
		"  icos.category_path(p.category_id),"
		"  icos._product_offers(p.upc, p.category_id, pg_catalog.now())"
	" FROM icos.product p WHERE p.upc OPERATOR(pg_catalog.=) $1", "u"},
	[OS_AVAILABILITY] = {"SELECT a.store_id, a.store_name, a.on_hand, a.reserved, a.available,"
		"  a.on_display, a.lead_time_days"
	" FROM icos._availability($1, NULL) a ORDER BY a.store_id", "u"},
};

static SPIPlanPtr order_plans[OS_COUNT];
static Oid	order_plans_upc = InvalidOid;	/* icos.upc the plans were made for */

static bool order_types_registered = false;
static Oid	upc_oid = InvalidOid;
static Oid	code_oid = InvalidOid;

static void
order_type_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	upc_oid = InvalidOid;
}

/* The OIDs of icos.upc and icos.order_code (again after any change to pg_type). */
Oid
order_upc_type(Oid *code_type)
{
	if (!order_types_registered)
	{
		CacheRegisterSyscacheCallback(TYPEOID, order_type_changed, (Datum) 0);
		order_types_registered = true;
	}
	if (!OidIsValid(upc_oid))
	{
		Oid			nsp = get_namespace_oid("icos", false);
		Oid			u = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum("upc"), ObjectIdGetDatum(nsp));

		code_oid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								   CStringGetDatum("order_code"), ObjectIdGetDatum(nsp));
		if (!OidIsValid(u) || !OidIsValid(code_oid))
			elog(ERROR, "types icos.upc and icos.order_code must exist");
		upc_oid = u;
	}
	if (code_type)
		*code_type = code_oid;
	return upc_oid;
}

static Oid
order_arg_type(char c, Oid upc, Oid code)
{
	switch (c)
	{
		case 'i':
			return INT4OID;
		case 'l':
			return INT8OID;
		case 't':
			return TEXTOID;
		case 'u':
			return upc;
		case 'U':
			return get_array_type(upc);
		case 'c':
			return code;
		case 'j':
			return JSONBOID;
		case 'J':
			return get_array_type(JSONBOID);
		case 'd':
			return DATEOID;
		case 'b':
			return BYTEAOID;
		case 'I':
			return INT4ARRAYOID;
		case 'L':
			return INT8ARRAYOID;
		case 'T':
			return TEXTARRAYOID;
		case 'o':
			return BOOLOID;
	}
	elog(ERROR, "unknown argument type letter %c", c);
	return InvalidOid;
}

/*
 * The library serves every installed version's SQL, but the order engine
 * writes the columns of the newest: in a database whose extension is still
 * older (the package installed, ALTER EXTENSION icos UPDATE not yet run)
 * placing an order is refused with a clear error instead of a missing
 * column.  The answer is kept once it is yes, for as long as icos.upc is
 * the same type (a re-created extension is looked at again).
 */
void
order_require_sql_version(void)
{
	static Oid	checked_for = InvalidOid;
	Oid			code;
	Oid			upc = order_upc_type(&code);
	char	   *installed = NULL;

	if (upc == checked_for)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'icos'",
					true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		installed = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (installed == NULL || strcmp(installed, ICOS_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("icos in this database is at version %s, but its library is %s",
						installed ? installed : "(none)", ICOS_VERSION),
				 errdetail("Orders are placed by the library, which needs the SQL objects of its own version."),
				 errhint("Run ALTER EXTENSION icos UPDATE in this database.")));
	SPI_finish();
	checked_for = upc;
}

/* The kept plan of a statement (SPI connected). */
SPIPlanPtr
order_plan(OrderSqlId id)
{
	Oid			code;
	Oid			upc = order_upc_type(&code);

	if (upc != order_plans_upc)
	{
		int			i;

		for (i = 0; i < OS_COUNT; i++)
		{
			if (order_plans[i] != NULL)
				SPI_freeplan(order_plans[i]);
			order_plans[i] = NULL;
		}
		order_plans_upc = upc;
	}
	if (order_plans[id] == NULL)
	{
		const OrderSqlDef *def = &order_sql_defs[id];
		int			nargs = strlen(def->args);
		Oid		   *types = palloc(sizeof(Oid) * nargs);
		SPIPlanPtr	plan;
		int			i;

		for (i = 0; i < nargs; i++)
			types[i] = order_arg_type(def->args[i], upc, code);
		/*
		 * Generic plans, always: planned once per backend.  Left to the plan
		 * cache, statements taking arrays can look cheaper re-planned for
		 * their values, and are planned again at every call.
		 */
		plan = SPI_prepare_cursor(def->sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "could not prepare order statement %d: %s", id,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep order statement %d", id);
		order_plans[id] = plan;
	}
	return order_plans[id];
}

/*
 * Run statement id (SPI connected) and return the first column of its
 * first row (*isnull when none or null).
 */
Datum
order_run(OrderSqlId id, Datum *values, const char *nulls, bool *isnull)
{
	int			rc = SPI_execute_plan(order_plan(id), values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "order statement %d failed: %s", id, SPI_result_code_string(rc));
	*isnull = true;
	if (SPI_tuptable == NULL || SPI_processed == 0)
		return (Datum) 0;
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}
