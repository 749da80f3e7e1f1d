/*-------------------------------------------------------------------------
 *
 * place.c
 *	  icos.place_order(order jsonb), in C: the placement fast path for the
 *	  plain orders that are nearly all of them, and the general PL/pgSQL
 *	  code (icos._place_order_general) for the others.
 *
 * icos._place_order_general validates an order with a dozen PL/pgSQL steps
 * and then writes it through icos._place_simple; together some forty
 * statements and function calls per order.  This file does the same work for
 * plain orders with cached reference data, one statement prepared once per
 * backend and kept (SPI_keepplan), the stock engine's own statements and
 * one call of the pricing function:
 *
 *	0. place_read_doc reads the order document in C (jsonb) with the tests
 *	   of the general path (icos._is_count, icos._money, the key lists) and
 *	   answers "not plain" for anything outside the plain subset below.
 *	1. The selling store, the employee, every product and every fulfilment
 *	   store come from per-backend caches kept correct by invalidation
 *	   (src/lookup.c), the customer (when one is named) from one query.
 *	   "Not plain" again for an unknown store or product, a product made to
 *	   order, a store of another node and so on.  Until here nothing was
 *	   done: no lock, no order code; icos.place_order goes on with
 *	   icos._place_order_general, which gives every error exactly as before.
 *	2. The stock engine (stock_order_lines in src/stock.c, the body of
 *	   icos._stock_lines): every line reserved, or sold when carried out,
 *	   sorted by (store, upc), each check-and-change one atomic statement;
 *	   IC001/IC004 as always.  The engine hands the ledger rows back to be
 *	   written by statement 4.
 *	3. price_lines, the C core of icos.price_basket (the one pricing
 *	   function), on the basket icos._place_simple gives it (after the
 *	   stock, as there); the payments are then taken against its total.
 *	4. PF_WRITE: the order, its lines, payments, events and the stock ledger
 *	   rows in one statement: the rows icos._place_simple and
 *	   icos._stock_lines write.
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
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"

#include "gtin.h"
#include "jsonb_put.h"
#include "lookup.h"
#include "pricing.h"
#include "stock.h"

/* From src/order_code.c. */
extern Datum current_node(PG_FUNCTION_ARGS);
extern Datum next_order_code(PG_FUNCTION_ARGS);
extern Datum order_code_out(PG_FUNCTION_ARGS);

#define ERRCODE_ICOS_PAYMENT	MAKE_SQLSTATE('I','C','0','0','3')

typedef enum PlacePlanId
{
	PF_WRITE,
	PF_COUNT
} PlacePlanId;

/*
 * PF_WRITE: $1 code (text, as the ledger keeps it), $2 store, $3 channel, $4 customer, $5 employee,
 * $6 status, $7 method, $8 collect store, $9 promised date, $10 gross,
 * $11 discount, $12 total, $13 pricing, $14 upcs, $15 qtys, $16 fulfil_from,
 * $17 unit prices, $18 discounts, $19 nets (pence, per line), $20 payment
 * methods, $21 amounts, $22 tendered, $23 event kinds, $24 event notes,
 * $25 event details, $26 employee's store, and the stock ledger rows in the
 * order the engine changed the lines: $27 kind, $28 stores, $29 upcs,
 * $30 d_on_hand, $31 d_reserved, $32 reasons; $33 the code as an
 * icos.order_code.  The rows icos._place_simple and icos._stock_lines write,
 * with the plain subset's constants (no address, no delivery date, no
 * coupons, nothing made to order).  Plain VALUES and function scans, no
 * common table of the code to join each insert to: every join node is
 * built again at each execution.
 */
static const char *const place_write_sql =
"WITH o AS ("
" INSERT INTO icos.orders (code, store_id, channel, customer_id, employee_id, status, delivery_method,"
"  delivery_address, collect_store, delivery_date, promised_date, gross_pence,"
"  discount_pence, total_pence, coupons, pricing)"
" VALUES ($33, $2, $3, $4, $5, $6, $7, NULL, $8, NULL, $9, $10, $11, $12, '{}', $13)),"
" ol AS ("
" INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, reserved_qty,"
"  consumed_qty, unit_price_pence, discount_pence, net_pence)"
" SELECT $2, $33, i, $14[i], $15[i], $16[i],"
"  CASE WHEN $7 = 'carry' THEN 'fulfilled' ELSE 'reserved' END,"
"  CASE WHEN $7 = 'carry' THEN 0 ELSE $15[i] END,"
"  CASE WHEN $7 = 'carry' THEN $15[i] ELSE 0 END, $17[i], $18[i], $19[i]"
" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($14)) AS i),"
" op AS ("
" INSERT INTO icos.order_payment (store_id, code, payment_no, kind, method, amount_pence,"
"  tendered_pence, reference, employee_id)"
" SELECT $2, $33, i, 'payment', $20[i], $21[i], $22[i], NULL, $5"
" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($20)) AS i),"
" sm AS ("
" INSERT INTO icos.stock_movement (store_id, upc, kind, d_on_hand, d_reserved, order_code, actor, reason)"
" SELECT $28[i], $29[i], $27, $30[i], $31[i], $1, session_user, $32[i]"
" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($28)) AS i)"
"INSERT INTO icos.order_event (store_id, code, kind, note, detail, employee_id, at_store)"
"SELECT $2, $33, $23[i], $24[i], $25[i], $5, coalesce($26, $2)"
" FROM pg_catalog.generate_series(1, pg_catalog.cardinality($23)) AS i";

#define PLACE_WRITE_ARGS 33

static SPIPlanPtr place_plans[PF_COUNT];
static Oid	place_upc_oid = InvalidOid; /* icos.upc the plans were made for */

/*
 * Looked up once, and again after any change to pg_type (the syscache
 * callback below forgets them): icos.upc and its storage, and
 * icos.order_code.
 */
static bool place_callbacks_registered = false;
static Oid	place_upc_cached = InvalidOid;
static int16 place_upc_len;
static bool place_upc_byval;
static char place_upc_align;
static Oid	place_code_cached = InvalidOid; /* icos.order_code, set with upc */

static void
place_type_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	place_upc_cached = InvalidOid;
}

/*
 * The OID of type icos.upc, and its length, by-value flag and alignment
 * (and place_code_cached, the OID of icos.order_code).
 */
static Oid
place_upc_type(int16 *len, bool *byval, char *align)
{
	if (!place_callbacks_registered)
	{
		CacheRegisterSyscacheCallback(TYPEOID, place_type_changed, (Datum) 0);
		place_callbacks_registered = true;
	}
	if (!OidIsValid(place_upc_cached))
	{
		Oid			nsp = get_namespace_oid("icos", false);
		Oid			oid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										  CStringGetDatum("upc"), ObjectIdGetDatum(nsp));

		if (!OidIsValid(oid))
			elog(ERROR, "type icos.upc does not exist");
		place_code_cached = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											CStringGetDatum("order_code"),
											ObjectIdGetDatum(nsp));
		if (!OidIsValid(place_code_cached))
			elog(ERROR, "type icos.order_code does not exist");
		get_typlenbyvalalign(oid, &place_upc_len, &place_upc_byval, &place_upc_align);
		place_upc_cached = oid;
	}
	*len = place_upc_len;
	*byval = place_upc_byval;
	*align = place_upc_align;
	return place_upc_cached;
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
		Oid			jsonb_array = get_array_type(JSONBOID);
		Oid			write_args[PLACE_WRITE_ARGS] = {
			TEXTOID, INT4OID, TEXTOID, INT8OID, INT4OID, TEXTOID, TEXTOID, INT4OID,
			DATEOID, INT8OID, INT8OID, INT8OID, JSONBOID, upc_array, INT4ARRAYOID,
			INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID,
			INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, jsonb_array,
			INT4OID, TEXTOID, INT4ARRAYOID, upc_array, INT4ARRAYOID, INT4ARRAYOID,
			TEXTARRAYOID, place_code_cached
		};
		SPIPlanPtr	plan;

		if (!OidIsValid(upc_array))
			elog(ERROR, "type icos.upc has no array type");
		/*
		 * Generic plans, always: planned once per backend.  Left to the plan
		 * cache, statements taking arrays can look cheaper re-planned for
		 * their values, and are planned again at every call.
		 */
		switch (id)
		{
			case PF_WRITE:
				plan = SPI_prepare_cursor(place_write_sql, PLACE_WRITE_ARGS, write_args,
										  CURSOR_OPT_GENERIC_PLAN);
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

/* icos.current_node(): the node id of this database. */
static int32
place_node(void)
{
	LOCAL_FCINFO(nfc, 0);

	InitFunctionCallInfoData(*nfc, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetInt32(current_node(nfc));
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
place_text_array(char *const *items, int n)
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

/* ------------------------------------------------ reading the document */

/* The value of key in an object container, or NULL. */
static JsonbValue *
place_key(JsonbContainer *obj, const char *key, JsonbValue *buf)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), buf);
}

/* True when v is absent or JSON null. */
static bool
place_absent(const JsonbValue *v)
{
	return v == NULL || v->type == jbvNull;
}

/* The container of an object or array value, or NULL when v is not one. */
static JsonbContainer *
place_container(const JsonbValue *v, bool object)
{
	if (v == NULL || v->type != jbvBinary)
		return NULL;
	if (object ? !JsonContainerIsObject(v->val.binary.data) :
		!JsonContainerIsArray(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/* True when every key of the object is one of the NULL-ended list. */
static bool
place_keys_ok(JsonbContainer *obj, const char *const *allowed)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		const char *const *a;

		if (tok != WJB_KEY)
			continue;
		for (a = allowed; *a != NULL; a++)
			if (strlen(*a) == (size_t) v.val.string.len &&
				memcmp(*a, v.val.string.val, v.val.string.len) == 0)
				break;
		if (*a == NULL)
			return false;
	}
	return true;
}

/* A JSON string equal to one of the NULL-ended list: its index, else -1. */
static int
place_word(const JsonbValue *v, const char *const *words)
{
	int			i;

	if (v == NULL || v->type != jbvString)
		return -1;
	for (i = 0; words[i] != NULL; i++)
		if (strlen(words[i]) == (size_t) v->val.string.len &&
			memcmp(words[i], v->val.string.val, v->val.string.len) == 0)
			return i;
	return -1;
}

/* The text of a JSON number as the server prints it (as #>> '{}' does). */
static char *
place_number_text(const JsonbValue *v)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
}

/*
 * icos._is_count: a JSON number written as 1 to 10 digits, from 1 to
 * 2147483647.
 */
static bool
place_count(const JsonbValue *v, int32 *out)
{
	char	   *t;
	int64		n = 0;
	int			len;

	if (v == NULL || v->type != jbvNumeric)
		return false;
	t = place_number_text(v);
	len = strlen(t);
	if (len < 1 || len > 10 || strspn(t, "0123456789") != (size_t) len)
		return false;
	n = strtoll(t, NULL, 10);
	if (n < 1 || n > PG_INT32_MAX)
		return false;
	*out = (int32) n;
	return true;
}

/*
 * A payment amount as icos._money accepts it from a JSON number: more than
 * zero, below 10,000,000,000 pounds, at most two (non-zero) decimals; pence.
 */
static bool
place_amount(const JsonbValue *v, int64 *pence)
{
	char	   *t;
	char	   *dot;
	size_t		ilen;
	int64		units = 0;
	int			frac = 0;
	size_t		i;

	if (v == NULL || v->type != jbvNumeric)
		return false;
	t = place_number_text(v);
	dot = strchr(t, '.');
	ilen = dot ? (size_t) (dot - t) : strlen(t);
	if (ilen < 1 || ilen > 10 || strspn(t, "0123456789") != ilen)
		return false;
	for (i = 0; i < ilen; i++)
		units = units * 10 + (t[i] - '0');
	if (dot != NULL)
	{
		const char *f = dot + 1;

		if (strspn(f, "0123456789") != strlen(f))
			return false;
		for (i = 0; f[i] != '\0'; i++)
		{
			if (i < 2)
				frac = frac * 10 + (f[i] - '0');
			else if (f[i] != '0')
				return false;
		}
		if (i == 1)
			frac *= 10;
	}
	if (units >= INT64CONST(10000000000))
		return false;
	*pence = units * 100 + frac;
	return *pence > 0;
}

/* The plain order as read from the document. */
typedef struct PlaceDoc
{
	int32		store;
	int			channel;		/* index in place_channels */
	bool		has_customer;
	int64		customer;
	bool		carry;
	bool		has_collect;
	int32		collect;
	int			nlines;
	Datum	   *upcs;			/* icos.upc (int64 by value) */
	Datum	   *ffs;			/* fulfil_from as given */
	bool	   *ff_nulls;
	int32	   *qtys;
	int			npay;
	const char **pay_methods;
	int64	   *pay_pence;
} PlaceDoc;

static const char *const place_channels[] = {"store", "phone", "web", "pos", NULL};
static const char *const place_methods[] = {"cash", "visa", "credit_card", "debit_card",
"cheque", "gift_card", NULL};

/*
 * Read the order document into *d; false (nothing to do here) when it is
 * not plain.  Never raises for any input.
 */
static bool
place_read_doc(Jsonb *order, PlaceDoc *d)
{
	static const char *const order_keys[] = {"store", "channel", "customer", "lines",
	"delivery", "payments", NULL};
	static const char *const line_keys[] = {"upc", "qty", "fulfil_from", NULL};
	static const char *const pay_keys[] = {"method", "amount", NULL};
	static const char *const id_keys[] = {"id", NULL};
	static const char *const delivery_keys[] = {"method", "collect_store", NULL};
	static const char *const delivery_methods[] = {"carry", "collect", NULL};
	JsonbContainer *root = &order->root;
	JsonbContainer *c;
	JsonbValue	buf,
			   *v;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n;

	memset(d, 0, sizeof(*d));
	if (!JB_ROOT_IS_OBJECT(order) || JB_ROOT_IS_SCALAR(order) ||
		!place_keys_ok(root, order_keys))
		return false;
	if (!place_count(place_key(root, "store", &buf), &d->store))
		return false;
	if ((d->channel = place_word(place_key(root, "channel", &buf), place_channels)) < 0)
		return false;

	/* customer: none (a till sale), or {"id": n} */
	v = place_key(root, "customer", &buf);
	if (place_absent(v))
	{
		if (strcmp(place_channels[d->channel], "pos") != 0)
			return false;
	}
	else
	{
		char	   *t;
		JsonbValue	idbuf;
		JsonbValue *id;
		size_t		len;

		if ((c = place_container(v, true)) == NULL || !place_keys_ok(c, id_keys))
			return false;
		id = place_key(c, "id", &idbuf);
		if (id == NULL || id->type != jbvNumeric)
			return false;
		t = place_number_text(id);
		len = strlen(t);
		if (len < 1 || len > 18 || strspn(t, "0123456789") != len)
			return false;
		d->has_customer = true;
		d->customer = strtoll(t, NULL, 10);
	}

	/* delivery: none (a till sale: carry), carry, or collect */
	v = place_key(root, "delivery", &buf);
	if (place_absent(v))
	{
		if (strcmp(place_channels[d->channel], "pos") != 0)
			return false;
		d->carry = true;
	}
	else
	{
		JsonbValue	mbuf;
		JsonbValue *cs;
		int			m;

		if ((c = place_container(v, true)) == NULL || !place_keys_ok(c, delivery_keys))
			return false;
		if ((m = place_word(place_key(c, "method", &mbuf), delivery_methods)) < 0)
			return false;
		d->carry = m == 0;
		if (!d->carry)
		{
			cs = place_key(c, "collect_store", &mbuf);
			if (!place_absent(cs))
			{
				if (!place_count(cs, &d->collect))
					return false;
				d->has_collect = true;
			}
		}
	}

	/* lines: at least one, each {"upc", "qty", "fulfil_from"?} */
	if ((c = place_container(place_key(root, "lines", &buf), false)) == NULL)
		return false;
	n = JsonContainerSize(c);
	if (n < 1)
		return false;
	d->upcs = palloc(sizeof(Datum) * n);
	d->ffs = palloc(sizeof(Datum) * n);
	d->ff_nulls = palloc(sizeof(bool) * n);
	d->qtys = palloc(sizeof(int32) * n);
	it = JsonbIteratorInit(c);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		JsonbContainer *lc;
		JsonbValue	lbuf;
		JsonbValue *u;
		gtin_parse_result r;
		int32		ff;

		if (tok != WJB_ELEM)
			continue;
		if (d->nlines >= n || (lc = place_container(&e, true)) == NULL ||
			!place_keys_ok(lc, line_keys))
			return false;
		u = place_key(lc, "upc", &lbuf);
		if (u == NULL || u->type != jbvString ||
			gtin_parse(u->val.string.val, u->val.string.len, GTIN_KIND_ANY, &r) != GTIN_OK)
			return false;
		d->upcs[d->nlines] = Int64GetDatum(r.value);
		if (!place_count(place_key(lc, "qty", &lbuf), &d->qtys[d->nlines]))
			return false;
		u = place_key(lc, "fulfil_from", &lbuf);
		d->ff_nulls[d->nlines] = place_absent(u);
		if (!place_absent(u))
		{
			if (!place_count(u, &ff))
				return false;
			d->ffs[d->nlines] = Int32GetDatum(ff);
		}
		else
			d->ffs[d->nlines] = (Datum) 0;
		d->nlines++;
	}
	if (d->nlines != n)
		return false;

	/* payments: none, or each {"method", "amount"} with a JSON number */
	v = place_key(root, "payments", &buf);
	if (!place_absent(v))
	{
		if ((c = place_container(v, false)) == NULL)
			return false;
		n = JsonContainerSize(c);
		d->pay_methods = palloc(sizeof(char *) * (n + 1));
		d->pay_pence = palloc(sizeof(int64) * (n + 1));
		it = JsonbIteratorInit(c);
		while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			JsonbContainer *pc;
			JsonbValue	pbuf;
			int			m;

			if (tok != WJB_ELEM)
				continue;
			if (d->npay >= n || (pc = place_container(&e, true)) == NULL ||
				!place_keys_ok(pc, pay_keys))
				return false;
			if ((m = place_word(place_key(pc, "method", &pbuf), place_methods)) < 0)
				return false;
			if (!place_amount(place_key(pc, "amount", &pbuf), &d->pay_pence[d->npay]))
				return false;
			d->pay_methods[d->npay++] = place_methods[m];
		}
		if (d->npay != n)
			return false;
	}
	return true;
}

/*
 * Place the order if it is plain: true, and its code in *code_out; false,
 * having done nothing, when it is not.
 */
static bool
place_plain(Jsonb *order, Datum *code_out)
{
	Oid			upc_oid;
	PlaceDoc	doc;
	int32		store_id;
	LookupStore st;
	char	   *store_name;
	const char *channel;
	Datum		customer;
	bool		no_customer;
	bool		has_emp;
	int32		emp_id;
	int32		emp_store_id;
	const char *method;
	Datum		promised;
	Datum	   *ffs;
	LookupProduct *products;
	int64	   *upcs;			/* the lines' product codes */
	int32		node;			/* this database's node id */
	int			n,
				i;
	Datum		logged;
	char	   *code;
	text	   *code_text;
	Datum		code_datum;
	int32	   *i_stores;
	text	  **notes;
	bool		carry;
	Datum		a_upcs;
	Datum		a_qtys;
	Datum		a_ffs;
	PricedLine *priced;
	PricedBasket totals;
	int64		gross,
				discount,
				total,
				paid = 0;
	int			days = 0;
	int			npay;
	const char **y_method;
	int64	   *y_amount;
	int64	   *y_tender;
	char	  **e_kind;
	char	  **e_note;
	Datum	   *e_detail;
	int			nev = 0;
	const char *status;
	int		   *ledger_order;
	int64	   *l_unit;
	int64	   *l_discount;
	int64	   *l_net;
	Datum	   *m_stores;
	Datum	   *m_upcs;
	Datum	   *m_on_hand;
	Datum	   *m_reserved;
	char	  **m_notes;
	Datum		values[PLACE_WRITE_ARGS];
	char		nulls[PLACE_WRITE_ARGS];
	JsonbParseState *sl = NULL;
	int16		upc_len;
	bool		upc_byval;
	char		upc_align;
	Datum	   *qd;

	if (!place_read_doc(order, &doc))
		return false;
	n = doc.nlines;
	store_id = doc.store;
	channel = place_channels[doc.channel];
	carry = doc.carry;
	method = carry ? "carry" : "collect";
	customer = Int64GetDatum(doc.customer);
	no_customer = !doc.has_customer;
	npay = doc.npay;

	upc_oid = place_upc_type(&upc_len, &upc_byval, &upc_align);
	a_upcs = PointerGetDatum(construct_array(doc.upcs, n, upc_oid, upc_len, upc_byval, upc_align));
	qd = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		qd[i] = Int32GetDatum(doc.qtys[i]);
	a_qtys = PointerGetDatum(construct_array(qd, n, INT4OID, 4, true, TYPALIGN_INT));

	/*
	 * 1: the selling store, the employee, the customer, the collect store,
	 * the change rule, every product and every fulfilment store, from the
	 * per-backend caches of src/lookup.c (the customer by a query).  Plain,
	 * as the look-up statement they replace decided: the selling store
	 * exists; the customer exists; the employee (if any) works here; carry
	 * at a store of kind store, collect at a store of kind store; payments
	 * allowed; every line plain, and carried out from the selling store.
	 */
	lookup_begin();
	lookup_store(store_id, &st);
	if (!st.found)
		return false;
	store_name = pstrdup(st.name);
	if (doc.has_customer && !lookup_customer_exists(doc.customer))
		return false;
	has_emp = lookup_employee(&emp_id, &emp_store_id);
	if (has_emp && emp_store_id != store_id)
		return false;
	if (carry && !st.is_store)
		return false;
	if (!carry)
	{
		LookupStore cs;

		if (!doc.has_collect)
			doc.collect = store_id;
		if (doc.collect == store_id)
			cs = st;
		else
			lookup_store(doc.collect, &cs);
		if (!cs.found || !cs.is_store)
			return false;
	}
	if (npay > 0 && !lookup_payment_allowed())
		return false;

	/*
	 * The lines: the store each is fulfilled from (as given, else the
	 * selling store when it holds stock, else -1: the server must choose,
	 * not plain); the product active and not made to order; the store one
	 * that holds stock, of this node.
	 */
	ffs = palloc(sizeof(Datum) * n);
	products = palloc(sizeof(LookupProduct) * n);
	upcs = palloc(sizeof(int64) * n);
	for (i = 0; i < n; i++)
		upcs[i] = DatumGetInt64(doc.upcs[i]);
	lookup_products(n, upcs, products);
	node = place_node();
	for (i = 0; i < n; i++)
	{
		bool		ok;

		if (!products[i].found || !products[i].active || products[i].made_to_order)
			return false;
		if (doc.ff_nulls[i] || DatumGetInt32(doc.ffs[i]) == store_id)
		{
			ffs[i] = Int32GetDatum(doc.ff_nulls[i] && !st.holds_stock ? -1 : store_id);
			ok = st.holds_stock && st.node_id == node;
		}
		else
		{
			LookupStore fs;

			ffs[i] = doc.ffs[i];
			lookup_store(DatumGetInt32(doc.ffs[i]), &fs);
			ok = fs.found && fs.holds_stock && fs.node_id == node;
		}
		if (!ok || (carry && DatumGetInt32(ffs[i]) != store_id))
			return false;
	}
	a_ffs = PointerGetDatum(construct_array(ffs, n, INT4OID, 4, true, TYPALIGN_INT));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * The earliest date as icos._earliest computes it: a day to move goods
	 * unless collected where they are; carried goods are already gone.
	 */
	if (!carry)
		for (i = 0; i < n; i++)
			if (DatumGetInt32(ffs[i]) != doc.collect)
				days = 1;
	promised = DateADTGetDatum(GetSQLCurrentDate() + days);

	/* The order code. */
	{
		LOCAL_FCINFO(cfc, 0);

		InitFunctionCallInfoData(*cfc, NULL, 0, InvalidOid, NULL, NULL);
		code_datum = next_order_code(cfc);
		code = DatumGetCString(DirectFunctionCall1(order_code_out, code_datum));
	}
	code_text = cstring_to_text(code);

	/* The placed event's detail ({"lines": [...]}), built as jsonb. */
	pushJsonbValue(&sl, WJB_BEGIN_OBJECT, NULL);
	jb_put_key(&sl, "lines");
	pushJsonbValue(&sl, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < n; i++)
	{
		char	   *u = palloc(GTIN_BUFSIZE);

		if (!gtin_format(DatumGetInt64(doc.upcs[i]), GTIN_STYLE_CANONICAL, u))
			elog(ERROR, "placement: a parsed product code has no canonical form");

		pushJsonbValue(&sl, WJB_BEGIN_OBJECT, NULL);
		jb_put_int(&sl, "line", i + 1);
		jb_put_text(&sl, "upc", u);
		jb_put_int(&sl, "qty", doc.qtys[i]);
		jb_put_int(&sl, "fulfil_from", DatumGetInt32(ffs[i]));
		jb_put_text(&sl, "status", carry ? "fulfilled" : "reserved");
		pushJsonbValue(&sl, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&sl, WJB_END_ARRAY, NULL);
	logged = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&sl, WJB_END_OBJECT, NULL)));

	/*
	 * 2: the stock of every line, as icos._place_simple's call of
	 * icos._stock_lines (carried goods are sold at once).
	 */
	i_stores = palloc(sizeof(int32) * n);
	notes = palloc(sizeof(text *) * n);
	for (i = 0; i < n; i++)
	{
		i_stores[i] = DatumGetInt32(ffs[i]);
		notes[i] = cstring_to_text(psprintf("order %s line %d%s", code, i + 1,
											carry ? " carried out" : ""));
	}
	ledger_order = palloc(sizeof(int) * n);
	stock_order_lines(carry, n, i_stores, doc.upcs, doc.qtys, upc_oid, code_text, notes,
					  ledger_order);

	/*
	 * 3: prices, from the one pricing function (the C core of
	 * icos.price_basket), for the basket icos._place_simple gives it.
	 */
	priced = palloc(sizeof(PricedLine) * n);
	price_lines(store_id, channel, n, upcs, doc.qtys, priced, &totals);
	gross = totals.gross;
	discount = totals.discount;
	total = totals.total;

	/*
	 * Payments, as icos._place_simple takes them: each against what is still
	 * owed; only cash may be tendered above it (change is given).
	 */
	y_method = palloc(sizeof(const char *) * (npay + 1));
	y_amount = palloc(sizeof(int64) * (npay + 1));
	y_tender = palloc(sizeof(int64) * (npay + 1));
	e_kind = palloc(sizeof(char *) * (npay + 2));
	e_note = palloc(sizeof(char *) * (npay + 2));
	e_detail = palloc(sizeof(Datum) * (npay + 2));
	e_kind[nev] = "placed";
	e_note[nev] = psprintf("%s order at %s: %d line(s), total %s", channel, store_name, n,
						   place_pounds(total));
	e_detail[nev++] = logged;
	for (i = 0; i < npay; i++)
	{
		const char *m = doc.pay_methods[i];
		int64		amount = doc.pay_pence[i];
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
		{
			JsonbParseState *st = NULL;

			pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			jb_put_int(&st, "payment", i + 1);
			e_detail[nev++] = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
		}
	}

	/* Status, as icos._settle: paid in full and carried out is completed. */
	status = total - paid > 0 ? "awaiting_payment" : carry ? "completed" : "placed";
	if (strcmp(status, "awaiting_payment") != 0)
	{
		JsonbParseState *st = NULL;

		e_kind[nev] = "status";
		e_note[nev] = psprintf("awaiting_payment -> %s", status);

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_put_text(&st, "from", "awaiting_payment");
		jb_put_text(&st, "to", status);
		e_detail[nev++] = JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL)));
	}

	/*
	 * 4: the order, its lines, payments and events, and the stock ledger, in
	 * one statement
	 */
	memset(nulls, ' ', sizeof(nulls));
	values[0] = PointerGetDatum(code_text);
	values[1] = Int32GetDatum(store_id);
	values[2] = CStringGetTextDatum(channel);
	values[3] = customer;
	nulls[3] = no_customer ? 'n' : ' ';
	values[4] = Int32GetDatum(emp_id);
	nulls[4] = has_emp ? ' ' : 'n';
	values[5] = CStringGetTextDatum(status);
	values[6] = CStringGetTextDatum(method);
	values[7] = Int32GetDatum(doc.collect);
	nulls[7] = carry ? 'n' : ' ';
	values[8] = promised;
	values[9] = Int64GetDatum(gross);
	values[10] = Int64GetDatum(discount);
	values[11] = Int64GetDatum(total);
	values[12] = PointerGetDatum(totals.document);
	nulls[12] = totals.document ? ' ' : 'n';
	values[13] = a_upcs;
	values[14] = a_qtys;
	values[15] = a_ffs;
	l_unit = palloc(sizeof(int64) * n);
	l_discount = palloc(sizeof(int64) * n);
	l_net = palloc(sizeof(int64) * n);
	for (i = 0; i < n; i++)
	{
		l_unit[i] = priced[i].unit_price;
		l_discount[i] = priced[i].discount;
		l_net[i] = priced[i].net;
	}
	values[16] = place_int8_array(l_unit, n);
	values[17] = place_int8_array(l_discount, n);
	values[18] = place_int8_array(l_net, n);
	values[19] = place_text_array((char *const *) y_method, npay);
	values[20] = place_int8_array(y_amount, npay);
	values[21] = place_int8_array(y_tender, npay);
	values[22] = place_text_array(e_kind, nev);
	values[23] = place_text_array(e_note, nev);
	values[24] = PointerGetDatum(construct_array(e_detail, nev, JSONBOID, -1, false, TYPALIGN_INT));
	values[25] = Int32GetDatum(emp_store_id);
	nulls[25] = has_emp ? ' ' : 'n';

	/* the ledger rows, in the order the engine changed the lines */
	m_stores = palloc(sizeof(Datum) * n);
	m_upcs = palloc(sizeof(Datum) * n);
	m_on_hand = palloc(sizeof(Datum) * n);
	m_reserved = palloc(sizeof(Datum) * n);
	m_notes = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		int			pos = ledger_order[i];

		m_stores[i] = Int32GetDatum(i_stores[pos]);
		m_upcs[i] = doc.upcs[pos];
		m_on_hand[i] = Int32GetDatum(carry ? -doc.qtys[pos] : 0);
		m_reserved[i] = Int32GetDatum(carry ? 0 : doc.qtys[pos]);
		m_notes[i] = text_to_cstring(notes[pos]);
	}
	values[26] = CStringGetTextDatum(carry ? "sale" : "reserve");
	values[27] = PointerGetDatum(construct_array(m_stores, n, INT4OID, 4, true, TYPALIGN_INT));
	values[28] = PointerGetDatum(construct_array(m_upcs, n, upc_oid, upc_len, upc_byval, upc_align));
	values[29] = PointerGetDatum(construct_array(m_on_hand, n, INT4OID, 4, true, TYPALIGN_INT));
	values[30] = PointerGetDatum(construct_array(m_reserved, n, INT4OID, 4, true, TYPALIGN_INT));
	values[31] = place_text_array(m_notes, n);
	values[32] = code_datum;
	if (SPI_execute_plan(place_plan(PF_WRITE, upc_oid), values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "placement: the order was not written");

	SPI_finish();
	*code_out = code_datum;
	return true;
}

/*
 * icos._place_fast(order jsonb) returns text: the order code of a plain
 * order, placed; NULL (nothing done) when the order is not plain.
 */
PG_FUNCTION_INFO_V1(place_fast);
Datum
place_fast(PG_FUNCTION_ARGS)
{
	Datum		code;

	if (PG_ARGISNULL(0) || !place_plain(PG_GETARG_JSONB_P(0), &code))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(DatumGetCString(DirectFunctionCall1(order_code_out, code))));
}

/*
 * The OID of icos._place_order_general(jsonb), looked up once, and again
 * after a change to pg_proc (an extension update may create it again).
 */
static Oid	place_general_oid = InvalidOid;

static void
place_proc_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	place_general_oid = InvalidOid;
}

static Oid
place_general(void)
{
	static bool registered = false;

	if (!registered)
	{
		CacheRegisterSyscacheCallback(PROCOID, place_proc_changed, (Datum) 0);
		registered = true;
	}
	if (!OidIsValid(place_general_oid))
	{
		Oid			argtypes[1] = {JSONBOID};

		place_general_oid = LookupFuncName(list_make2(makeString("icos"),
													  makeString("_place_order_general")),
										   1, argtypes, false);
	}
	return place_general_oid;
}

/*
 * icos.place_order(order jsonb) returns icos.order_code: a plain order by
 * place_plain, any other by icos._place_order_general (PL/pgSQL), which
 * gives every error of the API.  In C so that the nearly every order that
 * is plain pays no PL/pgSQL function call on the way.
 */
PG_FUNCTION_INFO_V1(place_order);
Datum
place_order(PG_FUNCTION_ARGS)
{
	LOCAL_FCINFO(gfc, 1);
	FmgrInfo	flinfo;
	Datum		code;

	if (!PG_ARGISNULL(0) && place_plain(PG_GETARG_JSONB_P(0), &code))
		PG_RETURN_DATUM(code);

	fmgr_info(place_general(), &flinfo);
	InitFunctionCallInfoData(*gfc, &flinfo, 1, PG_GET_COLLATION(), NULL, NULL);
	gfc->args[0].value = PG_GETARG_DATUM(0);
	gfc->args[0].isnull = PG_ARGISNULL(0);
	code = FunctionCallInvoke(gfc);
	if (gfc->isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(code);
}
