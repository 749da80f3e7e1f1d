/*-------------------------------------------------------------------------
 *
 * place.c
 *	  The placement fast path: icos._place_fast(order jsonb), called first by
 *	  icos.place_order for the plain orders that are nearly all of them.
 *
 * icos.place_order validates an order with a dozen PL/pgSQL steps and then
 * writes it through icos._place_simple; together some forty statements and
 * function calls per order.  This file does the same work for plain orders
 * with four statements prepared once per backend and kept (SPI_keepplan):
 *
 *	1. PF_READ: validates the whole order document, looks up the selling
 *	   store, the employee, the customer, every product and every fulfilment
 *	   store in one query, and takes the order code.  It answers "not plain"
 *	   (nothing done, nothing locked, no code taken) for anything outside the
 *	   plain subset below; icos.place_order then goes on with its general
 *	   code, which gives every error exactly as before.
 *	2. The stock engine (stock_order_lines in src/stock.c, the body of
 *	   icos._stock_lines): every line reserved, or sold when carried out,
 *	   sorted by (store, upc), each check-and-change one atomic statement;
 *	   IC001/IC004 as always.
 *	3. PF_PRICE: icos.price_basket, the one pricing function, called through
 *	   SQL exactly as icos._place_simple calls it (after the stock, as there).
 *	4. PF_WRITE: the order, its lines, payments and events in one statement,
 *	   the same rows icos._place_simple writes.
 *
 * The plain subset (anything else returns NULL: the general path):
 *	- keys store, channel, customer, lines, delivery, payments only (no holds,
 *	  coupons, back-orders);
 *	- store a whole number naming a store; channel exactly one of the four;
 *	- no customer (pos only) or {"id": n} naming a customer;
 *	- the session's employee (if any) works at the selling store;
 *	- delivery carry (or none, pos) at a store of kind store, or collect at a
 *	  store of kind store (collect_store given, or the selling store); no
 *	  date, address or other keys;
 *	- lines: at least one, each {"upc", "qty", "fulfil_from"?} well formed,
 *	  the product in the catalogue, active and not made to order, fulfilled
 *	  from a store or warehouse of THIS node (INTERFACES.md: lines from
 *	  another node's stock, which become reservation requests, always take
 *	  the general path), and from the selling store when carried out;
 *	- payments: {"method", "amount"} with a known method and a JSON number
 *	  amount (> 0, at most 2 decimals), and payments allowed while awaiting
 *	  payment (icos.change_rule).
 * For such an order every check of the general path passes, so the two paths
 * cannot disagree on whether it is accepted; the only errors left are those
 * of the stock engine (the same code), of pricing (the same function) and of
 * the payments against the priced total, raised here with the messages and
 * SQLSTATE of icos._place_simple.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "stock.h"

#define ERRCODE_ICOS_PAYMENT	MAKE_SQLSTATE('I','C','0','0','3')

typedef enum PlacePlanId
{
	PF_READ,
	PF_PRICE,
	PF_WRITE,
	PF_COUNT
} PlacePlanId;

/*
 * PF_READ: $1 the order.  One row: plain, store_id, store name, channel,
 * customer, employee, employee's store, method, collect store, promised
 * date, upcs[], qtys[], fulfil_from[], the basket lines to price, the lines
 * for the event log, payment methods[], payment pence[], order code (only
 * when plain).  Every cast is guarded by the test that makes it safe, so the
 * query never raises for any input.
 */
static const char *const place_read_sql =
"WITH o AS ("
" SELECT $1 AS j,"
"  pg_catalog.jsonb_typeof($1) = 'object'"
"  AND $1 OPERATOR(pg_catalog.-) ARRAY['store', 'channel', 'customer', 'lines', 'delivery', 'payments']"
"      = '{}'::pg_catalog.jsonb AS keys_ok),"
" h AS ("
" SELECT o.j, o.keys_ok, st.store_id, st.name, st.kind,"
"  CASE WHEN pg_catalog.jsonb_typeof(o.j -> 'channel') = 'string' THEN o.j ->> 'channel' END AS channel,"
"  o.j -> 'customer' AS c, o.j -> 'delivery' AS d"
" FROM o LEFT JOIN icos.store st"
"  ON st.store_id = CASE WHEN o.keys_ok AND icos._is_count(o.j -> 'store') THEN (o.j ->> 'store')::pg_catalog.int4 END),"
" e AS ("
" SELECT h.*,"
"  (SELECT em.employee_id FROM icos.employee em"
"   WHERE em.role_name = pg_catalog.session_user()) AS emp_id,"
"  (SELECT em.store_id FROM icos.employee em"
"   WHERE em.role_name = pg_catalog.session_user()) AS emp_store,"
"  CASE WHEN h.d IS NULL OR pg_catalog.jsonb_typeof(h.d) = 'null'"
"        THEN CASE WHEN h.channel = 'pos' THEN 'carry' END"
"       WHEN pg_catalog.jsonb_typeof(h.d) = 'object'"
"        AND h.d OPERATOR(pg_catalog.-) ARRAY['method', 'collect_store'] = '{}'::pg_catalog.jsonb"
"        AND pg_catalog.jsonb_typeof(h.d -> 'method') = 'string'"
"        AND h.d ->> 'method' IN ('carry', 'collect')"
"        THEN h.d ->> 'method' END AS method,"
"  CASE WHEN h.c IS NULL OR pg_catalog.jsonb_typeof(h.c) = 'null'"
"        THEN CASE WHEN h.channel = 'pos' THEN 0::pg_catalog.int8 END"
"       WHEN pg_catalog.jsonb_typeof(h.c) = 'object'"
"        AND h.c OPERATOR(pg_catalog.-) 'id'::pg_catalog.text = '{}'::pg_catalog.jsonb"
"        AND pg_catalog.jsonb_typeof(h.c -> 'id') = 'number' AND (h.c ->> 'id') OPERATOR(pg_catalog.~) '^[0-9]{1,18}$'"
"        THEN (SELECT cu.customer_id FROM icos.customer cu"
"              WHERE cu.customer_id = (h.c ->> 'id')::pg_catalog.int8) END AS cust"
" FROM h),"
" m AS ("
" SELECT e.*,"
"  CASE WHEN e.method = 'collect' THEN"
"   (SELECT cs.store_id FROM icos.store cs"
"    WHERE cs.kind = 'store' AND cs.store_id = CASE"
"     WHEN e.d -> 'collect_store' IS NULL OR pg_catalog.jsonb_typeof(e.d -> 'collect_store') = 'null'"
"      THEN CASE WHEN e.kind = 'store' THEN e.store_id END"
"     WHEN icos._is_count(e.d -> 'collect_store') THEN (e.d ->> 'collect_store')::pg_catalog.int4 END) END AS collect"
" FROM e),"
" l AS ("
" SELECT x.i, x.upc, x.qty, x.ff, coalesce(x.wf"
"  AND pr.active AND NOT pr.made_to_order AND fs.kind IN ('store', 'warehouse')"
"  AND fs.node_id = icos.current_node() AND (m.method <> 'carry' OR x.ff = m.store_id), false) AS ok"
" FROM m, LATERAL ("
"  SELECT w.i, w.wf,"
"   CASE WHEN w.wf THEN (w.v ->> 'upc')::icos.upc END AS upc,"
"   CASE WHEN w.wf THEN (w.v ->> 'qty')::pg_catalog.int4 END AS qty,"
"   coalesce(CASE WHEN w.wf THEN (w.v ->> 'fulfil_from')::pg_catalog.int4 END,"
"            CASE WHEN m.kind IN ('store', 'warehouse') THEN m.store_id END) AS ff"
"  FROM (SELECT a.ordinality::pg_catalog.int4 AS i, a.value AS v,"
"         coalesce(pg_catalog.jsonb_typeof(a.value) = 'object'"
"          AND a.value OPERATOR(pg_catalog.-) ARRAY['upc', 'qty', 'fulfil_from'] = '{}'::pg_catalog.jsonb"
"          AND pg_catalog.jsonb_typeof(a.value -> 'upc') = 'string'"
"          AND icos._is_count(a.value -> 'qty')"
"          AND (pg_catalog.jsonb_typeof(a.value -> 'fulfil_from') IS NULL"
"               OR pg_catalog.jsonb_typeof(a.value -> 'fulfil_from') = 'null'"
"               OR icos._is_count(a.value -> 'fulfil_from'))"
"          AND icos.upc_is_valid(a.value ->> 'upc'), false) AS wf"
"        FROM pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(m.j -> 'lines') = 'array'"
"                                                  THEN m.j -> 'lines' ELSE '[]' END) WITH ORDINALITY a"
"        OFFSET 0) w) x"
" LEFT JOIN icos.product pr ON pr.upc OPERATOR(pg_catalog.=) x.upc"
" LEFT JOIN icos.store fs ON fs.store_id = x.ff),"
" p AS ("
" SELECT pg_catalog.array_agg(y.method ORDER BY y.n) AS methods,"
"  pg_catalog.array_agg(CASE WHEN y.amt > 0 AND y.amt < 10000000000 AND y.amt = pg_catalog.round(y.amt, 2)"
"                       THEN (y.amt * 100)::pg_catalog.int8 END ORDER BY y.n) AS pence,"
"  coalesce(bool_and(y.method IS NOT NULL AND y.amt > 0 AND y.amt < 10000000000"
"                    AND y.amt = pg_catalog.round(y.amt, 2)), true) AS ok"
" FROM (SELECT b.n, CASE WHEN b.wf AND b.v ->> 'method' IN"
"               ('cash', 'visa', 'credit_card', 'debit_card', 'cheque', 'gift_card') THEN b.v ->> 'method' END AS method,"
"        CASE WHEN b.wf THEN (b.v ->> 'amount')::pg_catalog.numeric END AS amt"
"       FROM (SELECT q.ordinality AS n, q.value AS v,"
"              coalesce(pg_catalog.jsonb_typeof(q.value) = 'object'"
"               AND q.value OPERATOR(pg_catalog.-) ARRAY['method', 'amount'] = '{}'::pg_catalog.jsonb"
"               AND pg_catalog.jsonb_typeof(q.value -> 'method') = 'string'"
"               AND pg_catalog.jsonb_typeof(q.value -> 'amount') = 'number', false) AS wf"
"             FROM o, pg_catalog.jsonb_array_elements(CASE"
"               WHEN pg_catalog.jsonb_typeof(o.j -> 'payments') = 'array' THEN o.j -> 'payments'"
"               WHEN o.j -> 'payments' IS NULL OR pg_catalog.jsonb_typeof(o.j -> 'payments') = 'null' THEN '[]'"
"               END) WITH ORDINALITY q OFFSET 0) b) y),"
" g AS ("
" SELECT count(*) AS n, coalesce(bool_and(l.ok), false) AS ok,"
"  pg_catalog.array_agg(l.upc ORDER BY l.i) AS upcs,"
"  pg_catalog.array_agg(l.qty ORDER BY l.i) AS qtys,"
"  pg_catalog.array_agg(l.ff ORDER BY l.i) AS ffs,"
"  max(CASE WHEN m.method = 'collect' AND l.ff = m.collect THEN 0 ELSE 1 END) AS days,"
"  pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('line', l.i, 'upc', l.upc::pg_catalog.text, 'qty', l.qty)"
"                       ORDER BY l.i) AS basket,"
"  pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('line', l.i, 'upc', l.upc::pg_catalog.text, 'qty', l.qty,"
"                       'fulfil_from', l.ff, 'status', CASE WHEN m.method = 'carry' THEN 'fulfilled' ELSE 'reserved' END)"
"                       ORDER BY l.i) AS logged"
" FROM m, l),"
" r AS ("
" SELECT m.keys_ok AND m.store_id IS NOT NULL"
"  AND m.channel IN ('store', 'phone', 'web', 'pos') AND m.cust IS NOT NULL"
"  AND (m.emp_store IS NULL OR m.emp_store = m.store_id)"
"  AND (m.j -> 'payments' IS NULL OR pg_catalog.jsonb_typeof(m.j -> 'payments') IN ('null', 'array'))"
"  AND (m.method = 'carry' AND m.kind = 'store' OR m.method = 'collect' AND m.collect IS NOT NULL)"
"  AND g.n > 0 AND g.ok AND p.ok IS NOT FALSE"
"  AND (p.methods IS NULL OR EXISTS (SELECT 1 FROM icos.change_rule cr"
"       WHERE cr.status = 'awaiting_payment' AND cr.change_kind = 'payment' AND cr.allowed)) AS plain,"
"  m.*, g.*, p.methods, p.pence"
" FROM m, g, p)"
"SELECT r.plain, r.store_id, r.name, r.channel, nullif(r.cust, 0), r.emp_id, r.emp_store,"
" r.method, r.collect,"
" CURRENT_DATE + CASE WHEN r.method = 'carry' THEN 0 ELSE r.days END,"
" r.upcs, r.qtys, r.ffs, r.basket, r.logged, r.methods, r.pence,"
" CASE WHEN r.plain THEN icos.next_order_code()::pg_catalog.text END"
" FROM r";

/* PF_PRICE: $1 basket lines, $2 store, $3 channel, $4 customer. */
static const char *const place_price_sql =
"SELECT p, ((p ->> 'gross')::pg_catalog.numeric * 100)::pg_catalog.int8,"
" ((p ->> 'discount')::pg_catalog.numeric * 100)::pg_catalog.int8,"
" ((p ->> 'total')::pg_catalog.numeric * 100)::pg_catalog.int8"
" FROM (SELECT icos.price_basket(pg_catalog.jsonb_build_object("
"  'lines', $1, 'store', $2, 'channel', $3, 'at', pg_catalog.now(),"
"  'customer', $4, 'coupons', '[]'::pg_catalog.jsonb)) AS p OFFSET 0) x";

/*
 * PF_WRITE: $1 code, $2 store, $3 channel, $4 customer, $5 employee,
 * $6 status, $7 method, $8 collect store, $9 promised date, $10 gross,
 * $11 discount, $12 total, $13 pricing, $14 upcs, $15 qtys, $16 fulfil_from,
 * $17 payment methods, $18 amounts, $19 tendered, $20 event kinds,
 * $21 event notes, $22 event details, $23 employee's store.  The statement
 * of icos._place_simple with the plain subset's constants (no address, no
 * delivery date, no coupons, nothing made to order).
 */
static const char *const place_write_sql =
"WITH c AS (SELECT $1::icos.order_code AS code),"
" o AS ("
" INSERT INTO icos.orders (code, store_id, channel, customer_id, employee_id, status, delivery_method,"
"  delivery_address, collect_store, delivery_date, promised_date, gross_pence,"
"  discount_pence, total_pence, coupons, pricing)"
" SELECT c.code, $2, $3, $4, $5, $6, $7, NULL, $8, NULL, $9, $10, $11, $12, '{}', $13 FROM c),"
" ol AS ("
" INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, reserved_qty,"
"  consumed_qty, unit_price_pence, discount_pence, net_pence)"
" SELECT $2, c.code, x.i, x.upc, x.qty, x.ff,"
"  CASE WHEN $7 = 'carry' THEN 'fulfilled' ELSE 'reserved' END,"
"  CASE WHEN $7 = 'carry' THEN 0 ELSE x.qty END,"
"  CASE WHEN $7 = 'carry' THEN x.qty ELSE 0 END,"
"  coalesce((pr.unit_price * 100)::pg_catalog.int8, 0), coalesce((pr.discount * 100)::pg_catalog.int8, 0),"
"  coalesce((pr.net * 100)::pg_catalog.int8, 0)"
" FROM c, ROWS FROM (pg_catalog.unnest($14), pg_catalog.unnest($15), pg_catalog.unnest($16))"
"  WITH ORDINALITY AS x(upc, qty, ff, i)"
" LEFT JOIN pg_catalog.jsonb_to_recordset($13 -> 'lines')"
"  AS pr(line pg_catalog.int4, unit_price pg_catalog.numeric, discount pg_catalog.numeric, net pg_catalog.numeric)"
"  ON pr.line = x.i),"
" op AS ("
" INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,"
"  tendered_pence, reference, employee_id)"
" SELECT $2, c.code, x.i, 'payment', x.m, x.a, x.t, NULL, $5"
" FROM c, ROWS FROM (pg_catalog.unnest($17), pg_catalog.unnest($18), pg_catalog.unnest($19))"
"  WITH ORDINALITY AS x(m, a, t, i))"
"INSERT INTO icos.order_event (store_id, code, kind, note, detail, employee_id, at_store)"
"SELECT $2, c.code, x.k, x.t, x.d::pg_catalog.jsonb, $5, coalesce($23, $2)"
" FROM c, ROWS FROM (pg_catalog.unnest($20), pg_catalog.unnest($21), pg_catalog.unnest($22)) AS x(k, t, d)";

static SPIPlanPtr place_plans[PF_COUNT];
static Oid	place_upc_oid = InvalidOid;

/* The OID of type icos.<name>. */
static Oid
place_type_oid(const char *name)
{
	Oid			nsp = get_namespace_oid("icos", false);
	Oid			oid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									  CStringGetDatum(name), ObjectIdGetDatum(nsp));

	if (!OidIsValid(oid))
		elog(ERROR, "type icos.%s does not exist", name);
	return oid;
}

/*
 * The kept plans; prepared again when icos.upc was re-created (the extension
 * dropped and created again in this session).
 */
static SPIPlanPtr
place_plan(PlacePlanId id, Oid upc_oid)
{
	if (upc_oid != place_upc_oid)
	{
		int			i;

		for (i = 0; i < PF_COUNT; i++)
		{
			if (place_plans[i] != NULL)
				SPI_freeplan(place_plans[i]);
			place_plans[i] = NULL;
		}
		place_upc_oid = upc_oid;
	}
	if (place_plans[id] == NULL)
	{
		Oid			upc_array = get_array_type(upc_oid);
		Oid			read_args[1] = {JSONBOID};
		Oid			price_args[4] = {JSONBOID, INT4OID, TEXTOID, INT8OID};
		Oid			write_args[23] = {
			TEXTOID, INT4OID, TEXTOID, INT8OID, INT4OID, TEXTOID, TEXTOID, INT4OID,
			DATEOID, INT8OID, INT8OID, INT8OID, JSONBOID, upc_array, INT4ARRAYOID,
			INT4ARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID,
			TEXTARRAYOID, TEXTARRAYOID, INT4OID
		};
		SPIPlanPtr	plan;

		if (!OidIsValid(upc_array))
			elog(ERROR, "type icos.upc has no array type");
		switch (id)
		{
			case PF_READ:
				plan = SPI_prepare(place_read_sql, 1, read_args);
				break;
			case PF_PRICE:
				plan = SPI_prepare(place_price_sql, 4, price_args);
				break;
			case PF_WRITE:
				plan = SPI_prepare(place_write_sql, 23, write_args);
				break;
			default:
				elog(ERROR, "unknown placement plan %d", id);
		}
		if (plan == NULL)
			elog(ERROR, "could not prepare placement plan %d: %s", id,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep placement plan %d", id);
		place_plans[id] = plan;
	}
	return place_plans[id];
}

/* Pence as icos._pounds prints them: 12.50, 0.05. */
static char *
place_pounds(int64 pence)
{
	return psprintf("%s" INT64_FORMAT ".%02d", pence < 0 ? "-" : "",
					(pence < 0 ? -pence : pence) / 100,
					(int) ((pence < 0 ? -pence : pence) % 100));
}

static Datum
place_col(int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);
}

/* The elements of a one-dimensional array column without nulls. */
static int
place_array(Datum a, Oid elemtype, Datum **elems)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	bool	   *nulls;
	int			n,
				i;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(DatumGetArrayTypeP(a), elemtype, typlen, typbyval, typalign,
					  elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (nulls[i])
			elog(ERROR, "placement: unexpected null in a plain order's lines");
	return n;
}

static Datum
place_text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static Datum
place_int8_array(int64 *items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * n);
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * icos._place_fast(order jsonb) returns text: the order code of a plain
 * order, placed; NULL (nothing done) when the order is not plain.
 */
PG_FUNCTION_INFO_V1(place_fast);
Datum
place_fast(PG_FUNCTION_ARGS)
{
	Oid			upc_oid = place_type_oid("upc");
	Datum		arg;
	bool		isnull;
	bool		plain;
	int32		store_id;
	char	   *store_name;
	char	   *channel;
	Datum		customer;
	bool		no_customer;
	Datum		emp;
	bool		no_emp;
	Datum		emp_store;
	bool		no_emp_store;
	char	   *method;
	Datum		collect;
	bool		no_collect;
	Datum		promised;
	Datum	   *upcs;
	Datum	   *qtys;
	Datum	   *ffs;
	int			n,
				i;
	Datum		basket;
	Datum		a_upcs;
	Datum		a_qtys;
	Datum		a_ffs;
	char	   *logged;
	Datum	   *pay_methods = NULL;
	Datum	   *pay_pence = NULL;
	int			npay = 0;
	char	   *code;
	text	   *code_text;
	int32	   *i_stores;
	int32	   *i_qtys;
	text	  **notes;
	bool		carry;
	Datum		pricing;
	int64		gross,
				discount,
				total,
				paid = 0;
	char	  **y_method;
	int64	   *y_amount;
	int64	   *y_tender;
	char	  **e_kind;
	char	  **e_note;
	char	  **e_detail;
	int			nev = 0;
	const char *status;
	Datum		values[23];
	char		nulls[23];
	text	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arg = PG_GETARG_DATUM(0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* 1: validate and look everything up; NULL when not plain */
	if (SPI_execute_plan(place_plan(PF_READ, upc_oid), &arg, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "placement: the order query returned no row");
	plain = DatumGetBool(place_col(1, &isnull));
	if (isnull || !plain)
	{
		SPI_finish();
		PG_RETURN_NULL();
	}
	store_id = DatumGetInt32(place_col(2, &isnull));
	store_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	channel = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	customer = place_col(5, &no_customer);
	emp = place_col(6, &no_emp);
	emp_store = place_col(7, &no_emp_store);
	method = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 8);
	collect = place_col(9, &no_collect);
	promised = place_col(10, &isnull);
	n = place_array(place_col(11, &isnull), upc_oid, &upcs);
	if (place_array(place_col(12, &isnull), INT4OID, &qtys) != n ||
		place_array(place_col(13, &isnull), INT4OID, &ffs) != n)
		elog(ERROR, "placement: line arrays differ in length");
	basket = place_col(14, &isnull);
	logged = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 15);
	a_upcs = place_col(11, &isnull);
	a_qtys = place_col(12, &isnull);
	a_ffs = place_col(13, &isnull);
	(void) place_col(16, &isnull);
	if (!isnull)
	{
		npay = place_array(place_col(16, &isnull), TEXTOID, &pay_methods);
		if (place_array(place_col(17, &isnull), INT8OID, &pay_pence) != npay)
			elog(ERROR, "placement: payment arrays differ in length");
	}
	code = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 18);
	code_text = cstring_to_text(code);
	carry = strcmp(method, "carry") == 0;

	/*
	 * 2: the stock of every line, as icos._place_simple's call of
	 * icos._stock_lines (carried goods are sold at once).
	 */
	i_stores = palloc(sizeof(int32) * n);
	i_qtys = palloc(sizeof(int32) * n);
	notes = palloc(sizeof(text *) * n);
	for (i = 0; i < n; i++)
	{
		i_stores[i] = DatumGetInt32(ffs[i]);
		i_qtys[i] = DatumGetInt32(qtys[i]);
		notes[i] = cstring_to_text(psprintf("order %s line %d%s", code, i + 1,
											carry ? " carried out" : ""));
	}
	stock_order_lines(carry, n, i_stores, upcs, i_qtys, upc_oid, code_text, notes);

	/* 3: prices, from the one pricing function */
	values[0] = basket;
	values[1] = Int32GetDatum(store_id);
	values[2] = CStringGetTextDatum(channel);
	values[3] = customer;
	memset(nulls, ' ', sizeof(nulls));
	nulls[3] = no_customer ? 'n' : ' ';
	if (SPI_execute_plan(place_plan(PF_PRICE, upc_oid), values, nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "placement: pricing returned no row");
	pricing = place_col(1, &isnull);
	gross = DatumGetInt64(place_col(2, &isnull));
	discount = DatumGetInt64(place_col(3, &isnull));
	total = DatumGetInt64(place_col(4, &isnull));
	if (isnull)
		elog(ERROR, "placement: icos.price_basket returned no total");

	/*
	 * Payments, as icos._place_simple takes them: each against what is still
	 * owed; only cash may be tendered above it (change is given).
	 */
	y_method = palloc(sizeof(char *) * (npay + 1));
	y_amount = palloc(sizeof(int64) * (npay + 1));
	y_tender = palloc(sizeof(int64) * (npay + 1));
	e_kind = palloc(sizeof(char *) * (npay + 2));
	e_note = palloc(sizeof(char *) * (npay + 2));
	e_detail = palloc(sizeof(char *) * (npay + 2));
	e_kind[nev] = "placed";
	e_note[nev] = psprintf("%s order at %s: %d line(s), total %s", channel, store_name, n,
						   place_pounds(total));
	e_detail[nev++] = psprintf("{\"lines\": %s}", logged);
	for (i = 0; i < npay; i++)
	{
		char	   *m = TextDatumGetCString(pay_methods[i]);
		int64		amount = DatumGetInt64(pay_pence[i]);
		int64		due = total - paid;
		int64		apply;
		char	   *spoken;
		char	   *p;

		if (due <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_PAYMENT),
					 errmsg("nothing is owed on order %s", code),
					 errdetail("Payment %d of %s was not taken.", i + 1, place_pounds(amount))));
		if (amount > due && strcmp(m, "cash") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_PAYMENT),
					 errmsg("payment of %s is more than the %s owed on order %s",
							place_pounds(amount), place_pounds(due), code),
					 errdetail("Only cash can be tendered above the amount due (change is given).")));
		apply = Min(amount, due);
		paid += apply;
		y_method[i] = m;
		y_amount[i] = apply;
		y_tender[i] = amount;
		spoken = pstrdup(m);
		for (p = spoken; *p; p++)
			if (*p == '_')
				*p = ' ';
		e_kind[nev] = "payment";
		e_note[nev] = amount > apply ?
			psprintf("%s %s (tendered %s, change %s)", spoken, place_pounds(apply),
					 place_pounds(amount), place_pounds(amount - apply)) :
			psprintf("%s %s", spoken, place_pounds(apply));
		e_detail[nev++] = psprintf("{\"payment\": %d}", i + 1);
	}

	/* Status, as icos._settle: paid in full and carried out is completed. */
	status = total - paid > 0 ? "awaiting_payment" : carry ? "completed" : "placed";
	if (strcmp(status, "awaiting_payment") != 0)
	{
		e_kind[nev] = "status";
		e_note[nev] = psprintf("awaiting_payment -> %s", status);
		e_detail[nev++] = psprintf("{\"from\": \"awaiting_payment\", \"to\": \"%s\"}", status);
	}

	/* 4: the order, its lines, payments and events in one statement */
	memset(nulls, ' ', sizeof(nulls));
	values[0] = PointerGetDatum(code_text);
	values[1] = Int32GetDatum(store_id);
	values[2] = CStringGetTextDatum(channel);
	values[3] = customer;
	nulls[3] = no_customer ? 'n' : ' ';
	values[4] = emp;
	nulls[4] = no_emp ? 'n' : ' ';
	values[5] = CStringGetTextDatum(status);
	values[6] = CStringGetTextDatum(method);
	values[7] = collect;
	nulls[7] = no_collect ? 'n' : ' ';
	values[8] = promised;
	values[9] = Int64GetDatum(gross);
	values[10] = Int64GetDatum(discount);
	values[11] = Int64GetDatum(total);
	values[12] = pricing;
	values[13] = a_upcs;
	values[14] = a_qtys;
	values[15] = a_ffs;
	values[16] = place_text_array(y_method, npay);
	values[17] = place_int8_array(y_amount, npay);
	values[18] = place_int8_array(y_tender, npay);
	values[19] = place_text_array(e_kind, nev);
	values[20] = place_text_array(e_note, nev);
	values[21] = place_text_array(e_detail, nev);
	values[22] = emp_store;
	nulls[22] = no_emp_store ? 'n' : ' ';
	if (SPI_execute_plan(place_plan(PF_WRITE, upc_oid), values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "placement: the order was not written");

	result = (text *) SPI_palloc(VARSIZE(code_text));
	memcpy(result, code_text, VARSIZE(code_text));
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}
