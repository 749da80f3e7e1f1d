/*-------------------------------------------------------------------------
 *
 * row_rules.c
 *	  The rules over several columns of a row that the tables written by
 *	  every order hold as CHECK constraints: icos.orders, icos.order_line,
 *	  icos.order_payment, icos.order_event and icos.stock_slot.
 *
 * Why C.  PostgreSQL 15 does not keep a table's CHECK constraints ready: at
 * every INSERT or UPDATE statement, for every table it writes, it reads each
 * constraint back from its stored node string (stringToNode of
 * pg_constraint.conbin) and plans and compiles it again (ExecPrepareExpr).
 * That costs about 20 instructions per character of the stored string plus
 * about 7,500 per constraint, and the stored string of even a short rule is
 * long: `(delivery_method = 'home') = (delivery_address IS NOT NULL)` is 820
 * characters, and every domain-typed column compared in SQL adds a cast node
 * of about 160 more.  One order (icos.place_order and its stock update) paid
 * twelve such rebuilds, about 277,000 of its 2.39 million instructions.
 *
 * Each function here states the rules of one table; the table has one CHECK
 * constraint that calls it with the bare columns.  Its arguments have the
 * columns' own domain types, so the stored call needs no cast node: it is
 * about 400 to 650 characters for all the rules of the table.  (Domains
 * themselves cost nothing of the kind: the server keeps a domain's checks
 * ready per session, which is why the single-column rules are domains.)
 *
 * The rules are exactly those of the SQL expressions they replace, each
 * written in the COMMENT ON FUNCTION and beside the CREATE TABLE, with one
 * difference: the SQL expressions yield NULL, and so pass the CHECK, when a
 * column they compare is NULL.  These functions are not STRICT and return
 * false for a NULL in a column the rule needs (every such column is NOT NULL
 * too, which the server checks first); a NULL is a value of the rule only
 * where the column may be NULL (an address, a collection store, a topic).
 * Sums are computed in 64 bits, so a huge count is refused, not overflowed.
 *
 * All are IMMUTABLE and PARALLEL SAFE: they read nothing but their
 * arguments and never raise.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * Whether the text argument argno is exactly the word w: compared byte for
 * byte, as text = text compares under any deterministic collation.
 */
static inline bool
text_arg_is(FunctionCallInfo fcinfo, int argno, const char *w)
{
	text	   *t = PG_GETARG_TEXT_PP(argno);
	size_t		len = strlen(w);

	return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), w, len) == 0;
}

/*
 * icos._orders_delivery_fits(delivery_method, delivery_address,
 * collect_store): the check orders_delivery_check of icos.orders,
 *   (delivery_method = 'home') = (delivery_address IS NOT NULL)
 *   AND (delivery_method = 'collect') = (collect_store IS NOT NULL)
 * A home delivery has an address and no collection store; a collection has
 * a collection store and no address; anything else (carry) neither.  Only
 * whether the address and store are NULL matters, so neither is read.
 */
PG_FUNCTION_INFO_V1(orders_delivery_fits);
Datum
orders_delivery_fits(PG_FUNCTION_ARGS)
{
	bool		has_address = !PG_ARGISNULL(1);
	bool		has_store = !PG_ARGISNULL(2);

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(text_arg_is(fcinfo, 0, "home") == has_address &&
				   text_arg_is(fcinfo, 0, "collect") == has_store);
}

/*
 * icos._order_line_units_fit(qty, reserved_qty, consumed_qty, returned_qty):
 * the check order_line_units_check of icos.order_line,
 *   reserved_qty + consumed_qty <= qty AND returned_qty <= consumed_qty
 * Units reserved and units handed over together never exceed the units
 * ordered, and no more units come back than were handed over.
 */
PG_FUNCTION_INFO_V1(order_line_units_fit);
Datum
order_line_units_fit(PG_FUNCTION_ARGS)
{
	int64		qty,
				reserved,
				consumed,
				returned;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_BOOL(false);
	qty = PG_GETARG_INT32(0);
	reserved = PG_GETARG_INT32(1);
	consumed = PG_GETARG_INT32(2);
	returned = PG_GETARG_INT32(3);
	PG_RETURN_BOOL(reserved + consumed <= qty && returned <= consumed);
}

/*
 * icos._order_payment_fits(kind, amount_pence, tendered_pence): the check
 * order_payment_tendered_check of icos.order_payment,
 *   tendered_pence >= amount_pence
 *   AND (kind = 'payment' OR tendered_pence = amount_pence)
 * What is handed over covers the amount (the rest is change), and a refund
 * hands over exactly its amount.
 */
PG_FUNCTION_INFO_V1(order_payment_fits);
Datum
order_payment_fits(PG_FUNCTION_ARGS)
{
	int64		amount,
				tendered;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_BOOL(false);
	amount = PG_GETARG_INT64(1);
	tendered = PG_GETARG_INT64(2);
	PG_RETURN_BOOL(tendered >= amount &&
				   (tendered == amount || text_arg_is(fcinfo, 0, "payment")));
}

/*
 * icos._order_event_fits(kind, topic): the check order_event_check of
 * icos.order_event,
 *   (kind = 'note') = (topic IS NOT NULL)
 * A note has a topic; no other event has one.
 */
PG_FUNCTION_INFO_V1(order_event_fits);
Datum
order_event_fits(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(text_arg_is(fcinfo, 0, "note") == !PG_ARGISNULL(1));
}

/*
 * icos._stock_slot_fits(on_hand, reserved): the check
 * stock_slot_reserved_within_on_hand of icos.stock_slot,
 *   reserved <= on_hand
 * A slot never promises more units than it has.
 */
PG_FUNCTION_INFO_V1(stock_slot_fits);
Datum
stock_slot_fits(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(PG_GETARG_INT32(1) <= PG_GETARG_INT32(0));
}
