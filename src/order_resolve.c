/*-------------------------------------------------------------------------
 *
 * order_resolve.c
 *	  Phase 2 of a placement: the references of the document resolved, and
 *	  the rules that depend on them: the selling store and the employee
 *	  selling there, the customer (by id, or found or created by details),
 *	  the delivery (address, collection store, carry), the holds, every
 *	  product and the store each line is fulfilled from.
 *
 * Stores, the employee and products come from the per-backend caches of
 * src/lookup.c; the choice of a store for a line whose selling store holds
 * no stock asks the stock engine (icos._best_store).  Nothing is locked or
 * written here except a new customer (order_customer.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "errcodes.h"
#include "order.h"
#include "order_sql.h"
#include "stock.h"

extern Datum current_node(PG_FUNCTION_ARGS);

/* icos._sees_all_stores(): an admin, a reporter or a superuser session. */
static bool
resolve_sees_all_stores(void)
{
	Oid			user = GetSessionUserId();
	Oid			admin = get_role_oid("icos_admin", true);
	Oid			reporter = get_role_oid("icos_reporter", true);

	return superuser_arg(user) ||
		(OidIsValid(admin) && is_member_of_role(user, admin)) ||
		(OidIsValid(reporter) && is_member_of_role(user, reporter));
}

/* A store that must exist: IC004 naming what it was for. */
static void
resolve_store(int32 id, const char *what, LookupStore *out)
{
	lookup_store(id, out);
	if (!out->found)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("unknown store %d", id),
				 errdetail("The %s is not a store icos knows.", what)));
}

void
order_resolve_seller(Order *o)
{
	LOCAL_FCINFO(nfc, 0);

	resolve_store(o->store, "selling store", &o->sell);
	o->has_emp = lookup_employee(&o->emp_id, &o->emp_store);
	if (o->has_emp && o->emp_store != o->store && !resolve_sees_all_stores())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("you cannot take orders for %s", o->sell.name),
				 errdetail("Your employee record is at store %d.", o->emp_store),
				 errhint("Orders are placed for the store you work for; it may fulfil them from any store.")));
	InitFunctionCallInfoData(*nfc, NULL, 0, InvalidOid, NULL, NULL);
	o->node = DatumGetInt32(current_node(nfc));
}

static void
resolve_customer(Order *o)
{
	if (o->customer_kind == OC_ID)
		order_customer_known(o->customer_id);
	else if (o->customer_kind == OC_DETAILS)
		o->customer_id = order_customer(&o->customer, true, o->store, o->node);
}

/*
 * Home: the address given, else the one given with the customer, else her
 * latest.  Collect: at a store of kind store (the selling one by default).
 * Carry: at a store of kind store, with no date.
 */
static void
resolve_delivery(Order *o)
{
	if (o->method == OM_HOME)
	{
		if (o->address == NULL)
			o->address = o->customer.address;
		if (o->address == NULL && o->customer_kind != OC_NONE)
			o->address = order_customer_address(o->customer_id);
		if (o->address == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("home delivery needs an address"),
					 errhint("Give \"delivery\": {\"method\": \"home\", \"address\": {...}} or a customer with an address.")));
	}
	else if (o->method == OM_COLLECT)
	{
		LookupStore cs;

		if (!o->has_collect && o->sell.is_store)
		{
			o->collect = o->store;
			o->has_collect = true;
		}
		if (!o->has_collect)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("collection needs \"collect_store\""),
					 errhint("Name the store where the customer will collect the order.")));
		resolve_store(o->collect, "collect store", &cs);
		if (!cs.is_store)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("store %d does not serve customers in person", o->collect),
					 errhint("Choose a store of kind store for collection.")));
	}
	else if (!o->sell.is_store)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("goods cannot be taken away at %s (%s)", o->sell.name, o->sell.kind),
				 errhint("Use home delivery or collection in store.")));
	else if (o->has_date)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a carried-out sale has no delivery date")));
}

/* Each hold: its store, product and units (IC004 unknown; 42501 not ours). */
static void
resolve_holds(Order *o)
{
	int			i;

	if (o->nholds == 0)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (i = 0; i < o->nholds; i++)
	{
		OrderHold  *h = &o->holds[i];
		Datum		arg = Int64GetDatum(h->hold_id);
		bool		isnull;

		order_run(OS_HOLD, &arg, NULL, &isnull);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_UNKNOWN),
					 errmsg("unknown hold " INT64_FORMAT, h->hold_id)));
		h->store = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		h->upc = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		h->qty = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	}
	SPI_finish();
}

/*
 * The store a line is fulfilled from when none is given: a hold's store for
 * the product, the selling store when it holds stock, the store with the
 * most available (icos._best_store); for made-to-order or back-ordered
 * goods no store has, the collection store, else the first warehouse or
 * store.
 */
static int32
resolve_fulfil_from(Order *o, OrderLine *l, int32 collect, bool has_collect)
{
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	Datum		d;
	int			i;

	for (i = 0; i < o->nholds; i++)
		if (o->holds[i].upc == l->upc)
			return o->holds[i].store;
	if (o->sell.holds_stock)
		return o->store;
	if (!l->prod.made_to_order)
	{
		if (!l->best_asked)
			elog(ERROR, "the best store of a line was not looked up");
		if (l->best_found)
			return l->best_store;
		if (!l->backorder)
			ereport(ERROR,
					(errcode(ERRCODE_ICOS_NOT_ENOUGH_STOCK),
					 errmsg("not enough stock of %s (%s): no store has %d available",
							l->prod.name, order_upc_text(l->upc), l->qty),
					 errhint("Order it with \"backorder\": true to promise it by the lead time.")));
	}
	args[0] = Int32GetDatum(collect);
	nulls[0] = has_collect ? ' ' : 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	d = order_run(OS_ANY_STORE, args, nulls, &isnull);
	SPI_finish();
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("no store or warehouse can serve this order"),
				 errdetail("icos knows no store of kind store or warehouse.")));
	return DatumGetInt32(d);
}

/*
 * The store with the most available (icos._best_store's rule, src/stock.c)
 * of every line resolve_fulfil_from will want it for, in one statement: the
 * lines without a fulfil_from, a hold of their product, or a selling store
 * that holds stock, whose product is not made to order.
 */
static void
resolve_best_stores(Order *o)
{
	Datum	   *upcs = palloc(sizeof(Datum) * (o->nlines + 1));
	int32	   *qtys = palloc(sizeof(int32) * (o->nlines + 1));
	int32	   *stores = palloc(sizeof(int32) * (o->nlines + 1));
	bool	   *found = palloc(sizeof(bool) * (o->nlines + 1));
	int		   *idx = palloc(sizeof(int) * (o->nlines + 1));
	int			n = 0;
	int			i,
				h;

	if (o->sell.holds_stock)
		return;
	for (i = 0; i < o->nlines; i++)
	{
		OrderLine  *l = &o->lines[i];

		if (l->has_ff || !l->prod.found || l->prod.made_to_order)
			continue;
		for (h = 0; h < o->nholds; h++)
			if (o->holds[h].upc == l->upc)
				break;
		if (h < o->nholds)
			continue;
		upcs[n] = Int64GetDatum(l->upc);
		qtys[n] = l->qty;
		idx[n++] = i;
	}
	if (n == 0)
		return;
	stock_best_stores(n, upcs, qtys, order_upc_type(NULL), stores, found);
	for (i = 0; i < n; i++)
	{
		OrderLine  *l = &o->lines[idx[i]];

		l->best_asked = true;
		l->best_found = found[i];
		l->best_store = stores[i];
	}
}

/*
 * One line (number n) whose product o has looked up: sold, takeable when
 * carried out, and the store it is fulfilled from, which holds stock (and
 * is the selling store when carried out).  Also used for the lines an edit
 * adds (edit_order, src/order_edit.c).
 */
void
order_resolve_line(Order *o, OrderLine *l, int n, bool carry, int32 collect, bool has_collect)
{
	LookupStore fs;
	char	   *what = psprintf("line %d", n);

	if (!l->prod.found)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("unknown product %s", order_upc_text(l->upc)),
				 errdetail("Line %d names a product code that is not in the catalogue.", n)));
	if (!l->prod.active)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("product %s (%s) is no longer sold", order_upc_text(l->upc), l->prod.name)));
	if (carry && (l->backorder || l->prod.made_to_order))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s (%s) cannot be taken away now", what, l->prod.name),
				 errdetail(l->prod.made_to_order ? "The product is made to order." :
						   "A back-ordered line has no stock to hand over."),
				 errhint("Deliver the order to the home or have it collected instead.")));

	l->fulfil_from = l->has_ff ? l->ff_given : resolve_fulfil_from(o, l, collect, has_collect);
	resolve_store(l->fulfil_from, psprintf("fulfil_from store of line %d", n), &fs);
	if (!fs.holds_stock)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be fulfilled from %s (%s)", what, fs.name, fs.kind),
				 errdetail("Only stores and warehouses hold stock.")));
	if (carry && l->fulfil_from != o->store)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be taken away now: its stock is at %s", what, fs.name),
				 errhint("Deliver it to the home or have it collected instead.")));
	l->remote = fs.node_id != o->node;
	if (carry && l->remote)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be taken away now: its stock is at %s, a store of another node", what, fs.name),
				 errdetail("Another node's stock is reserved by a request to that node, answered later."),
				 errhint("Deliver it to the home or have it collected instead.")));
}

/*
 * Every line's product (from the cache) and fulfilment store; also for the
 * lines an edit adds (edit_order, src/order_edit.c).
 */
void
order_resolve_products(Order *o, bool carry, int32 collect, bool has_collect)
{
	int64	   *upcs = palloc(sizeof(int64) * (o->nlines + 1));
	LookupProduct *prods = palloc(sizeof(LookupProduct) * (o->nlines + 1));
	int			i;

	for (i = 0; i < o->nlines; i++)
		upcs[i] = o->lines[i].upc;
	lookup_products(o->nlines, upcs, prods);
	for (i = 0; i < o->nlines; i++)
		o->lines[i].prod = prods[i];
	resolve_best_stores(o);
	for (i = 0; i < o->nlines; i++)
		order_resolve_line(o, &o->lines[i], i + 1, carry, collect, has_collect);
}

/* Phase 2: every reference of the order. */
void
order_resolve(Order *o)
{
	lookup_begin();
	order_resolve_seller(o);
	resolve_customer(o);
	resolve_delivery(o);
	resolve_holds(o);
	order_resolve_products(o, o->method == OM_CARRY, o->collect, o->method == OM_COLLECT);
}
