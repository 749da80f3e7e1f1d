/*-------------------------------------------------------------------------
 *
 * order.h
 *	  The order engine: every placement (icos.place_order) runs the same
 *	  phases over one resolved-order struct.
 *
 *	  order_read.c		read and validate the document (no database access)
 *	  order_json.c		the JSON reading rules the reader and the SQL
 *						helpers (icos._json_int, icos._money, ...) share
 *	  order_customer.c	customers found or created in one statement
 *	  order_resolve.c	references: stores, employee, customer, products,
 *						fulfilment stores, holds
 *	  order_stock.c		the stock of every line (src/stock.h and the stock
 *						engine's SQL entry points)
 *	  order_write.c		prices, payments, status, events; the one statement
 *						that writes the order
 *	  order_place.c		icos.place_order: the phases in order, external_ref
 *	  order_change.c	an order changed after placement: locked and read
 *						into the same struct, its stock changes, prices,
 *						payments, refunds and status (the phases of edits)
 *	  order_edit.c		icos.edit_order
 *	  order_cancel.c	icos.cancel_order and icos.return_lines
 *	  order_hand_over.c	icos._hand_over: goods leave the store
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_ORDER_H
#define ICOS_ORDER_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

#include "lookup.h"
#include "pricing.h"

/* The latest delivery date a placement or edit accepts, in days from today. */
#define ORDER_MAX_DAYS_AHEAD	365

/* A product's lead time counts at most this many days (the table's bound). */
#define ORDER_MAX_LEAD_DAYS		3650

typedef enum OrderMethod
{
	OM_HOME,
	OM_COLLECT,
	OM_CARRY
} OrderMethod;

typedef enum OrderCustomerKind
{
	OC_NONE,					/* anonymous till sale */
	OC_ID,						/* {"id": n} */
	OC_DETAILS					/* name, email, phone, address */
} OrderCustomerKind;

/* A customer given by details, as read (normalised). */
typedef struct OrderCustomerDoc
{
	char	   *name;			/* trimmed, or NULL */
	char	   *email;			/* trimmed, lower case, or NULL */
	char	   *phone;			/* without spaces, brackets, dots, hyphens */
	Jsonb	   *address;		/* normalised (order_read_address), or NULL */
} OrderCustomerDoc;

typedef struct OrderLine
{
	/* read */
	int32		no;				/* line number (a placement's: index + 1) */
	int64		upc;			/* GTIN-14 number (icos.upc by value) */
	int32		qty;
	bool		has_ff;
	int32		ff_given;
	bool		backorder;
	/* resolved */
	LookupProduct prod;
	int32		fulfil_from;
	bool		remote;			/* fulfil_from is another node's store */
	bool		best_asked;		/* the store with the most available, looked up */
	bool		best_found;
	int32		best_store;
	/* stock */
	const char *status;			/* reserved, fulfilled, backorder, made_to_order */
	int32		reserved;
	int32		consumed;
	int32		returned;		/* a placed line's returned_qty */
	bool		added;			/* an edit's new line (inserted, not updated) */
	/* priced */
	int64		unit_price;
	int64		discount;
	int64		net;
} OrderLine;

typedef struct OrderPayment
{
	const char *method;
	int64		amount;			/* pence tendered */
	char	   *reference;		/* or NULL */
	int64		applied;		/* pence taken against what is owed */
} OrderPayment;

typedef struct OrderHold
{
	int64		hold_id;
	int32		store;			/* resolved from icos.stock_hold */
	int64		upc;
	int32		qty;
	bool		used;
} OrderHold;

/* The ledger rows the write statement records (lines the batch engine changed). */
typedef struct OrderLedger
{
	int			n;
	int32	   *stores;
	int64	   *upcs;
	int32	   *d_on_hand;
	int32	   *d_reserved;
	char	  **notes;
} OrderLedger;

typedef struct Order
{
	Jsonb	   *doc;
	/* read */
	int32		store;
	const char *channel;
	OrderCustomerKind customer_kind;
	int64		customer_id;	/* OC_ID as given; then the resolved id */
	OrderCustomerDoc customer;
	OrderMethod method;
	Jsonb	   *address;		/* delivery.address normalised, or NULL */
	bool		has_collect;
	int32		collect;
	bool		has_date;
	int32		date;			/* DateADT */
	int			nlines;
	OrderLine  *lines;
	int			nholds;
	OrderHold  *holds;
	int			ncoupons;
	char	  **coupons;
	int			npay;
	OrderPayment *pay;
	char	   *external_ref;	/* or NULL */
	Jsonb	   *metadata;		/* the caller's object, or NULL */
	/* resolved */
	LookupStore sell;
	bool		has_emp;
	int32		emp_id;
	int32		emp_store;
	int32		node;
	/* placed */
	Datum		code;			/* icos.order_code */
	char	   *code_text;
	OrderLedger ledger;
	int64		gross;
	int64		discount;
	int64		total;
	Jsonb	   *pricing;		/* kept pricing document, or NULL */
	int32		promised;		/* DateADT */
	const char *status;
	/* a placed order being changed (order_change.c) */
	bool		has_at;
	TimestampTz placed_at;		/* prices are those of this moment */
	int64		paid;			/* paid less refunded, as recorded */
	bool		lines_changed;	/* lines to write and re-price */
} Order;

/*
 * A change of an order line's stock (order_change.c): qty > 0 reserves,
 * qty < 0 releases; set_qty is the line's new quantity when the change
 * comes from one.
 */
typedef struct OrderStockOp
{
	int			idx;			/* index in Order.lines */
	int32		qty;
	bool		has_set;
	int32		set_qty;
	bool		remote;			/* another node's stock (set by change_stock) */
} OrderStockOp;

/* order_json.c: the reading rules, each raising its documented error */
extern JsonbValue *oj_key(JsonbContainer *obj, const char *key, JsonbValue *buf);
extern bool oj_absent(const JsonbValue *v);
extern JsonbContainer *oj_object(const JsonbValue *v);
extern JsonbContainer *oj_array(const JsonbValue *v);
extern JsonbContainer *oj_array_key(JsonbContainer *obj, const char *key, const char *what);
extern char *oj_value_text(const JsonbValue *v);
extern void oj_check_keys(const JsonbValue *obj, const char *const *allowed, const char *what);
extern bool oj_int(JsonbContainer *obj, const char *key, const char *what, int32 *out);
extern bool oj_is_count(const JsonbValue *v, int32 *out);
extern char *oj_text(JsonbContainer *obj, const char *key, const char *what);
extern int64 oj_money(const JsonbValue *v, const char *what, int errcode);
extern bool oj_date(JsonbContainer *obj, const char *key, const char *what, int32 *out);
extern Jsonb *oj_address(const JsonbValue *addr, const char *what);
extern int64 oj_upc(JsonbContainer *line, const char *what);
extern void oj_payment(const JsonbValue *pay, const char *what, OrderPayment *out);
extern char *oj_email(const char *given, const char *what);
extern char *oj_norm_phone(const char *phone);
extern char *oj_phone(const char *given, const char *what);

/* order_read.c */
extern void order_read(Jsonb *doc, Order *o);
extern void order_read_customer(const JsonbValue *c, OrderCustomerDoc *out);
extern void order_read_line(JsonbValue *e, int n, OrderLine *l);
extern int	order_read_lines(JsonbContainer *c, OrderLine *lines);

/* order_customer.c */
extern int64 order_customer(const OrderCustomerDoc *c, bool has_store, int32 store, int32 node);
extern void order_customer_known(int64 customer_id);
extern Jsonb *order_customer_address(int64 customer_id);

/* order_resolve.c */
extern void order_resolve(Order *o);
extern void order_resolve_seller(Order *o);
extern void order_resolve_products(Order *o, bool carry, int32 collect, bool has_collect);
extern void order_resolve_line(Order *o, OrderLine *l, int n, bool carry, int32 collect,
							   bool has_collect);

/* order_stock.c */
extern void order_stock(Order *o);
extern void order_stock_remote(Order *o);

/* order_write.c */
extern void order_price(Order *o);
extern void order_price_basket(Order *o);
extern const char *order_status_for(int64 due, OrderMethod method, bool open_lines);
extern void order_take_payment(const char *code_text, int n, int64 due, OrderPayment *p);
extern char *order_payment_note(const OrderPayment *p);
extern char *order_method_words(const char *method);
extern Jsonb *order_object1(const char *key, int64 n);
extern void order_line_arrays(const Order *o, const int *idx, int n, Datum *values, Datum *vat_rates);
extern int32 order_lines_earliest(const Order *o);
extern void order_settle(Order *o);
extern void order_write(Order *o);
extern bytea *order_digest(Jsonb *doc);
extern int32 order_earliest(OrderMethod method, int32 collect, int n, const int32 *ffs,
							 const bool *waiting, const int32 *leads);

/* order_place.c */
extern char *order_pounds(int64 pence);
extern char *order_upc_text(int64 upc);
extern void order_refusal(const Order *o, const char *kind, Jsonb *arg);

/* order_change.c */
extern char *order_given_text(text *value, int field, const char *what);
extern void change_lock(Datum code, bool isnull, Order *o);
extern void change_check(const Order *o, const char *kind, Jsonb *arg);
extern void change_log(const Order *o, const char *kind, const char *note, Jsonb *detail);
extern void change_stock(Order *o, OrderStockOp *ops, int n);
extern void change_write_lines(Order *o);
extern void change_stock_remote(Order *o, OrderStockOp *ops, int n);
extern void change_write_order(Order *o, Jsonb *address, const char *cancel_reason);
extern void change_pay(Order *o, JsonbContainer *payments);
extern void change_refund(Order *o, const OrderPayment *p, const char *why);
extern void change_settle(Order *o);
extern Datum change_doc(const Order *o);

#endif							/* ICOS_ORDER_H */
