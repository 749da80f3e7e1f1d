/*-------------------------------------------------------------------------
 *
 * lookup.h
 *	  The reference data the order engine (src/order_*.c) decides by,
 *	  cached per backend: stores, the session's employee, products'
 *	  placement flags and the payment change rule (src/lookup.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_LOOKUP_H
#define ICOS_LOOKUP_H

/* A store as the placement sees it. */
typedef struct LookupStore
{
	bool		found;			/* false: no such store (nothing else set) */
	bool		is_store;		/* kind = 'store' */
	bool		holds_stock;	/* kind IN ('store', 'warehouse') */
	int32		node_id;
	const char *name;			/* valid until the next lookup_begin */
	const char *kind;			/* store, web, callcentre or warehouse */
} LookupStore;

/* A product's placement flags. */
typedef struct LookupProduct
{
	bool		found;			/* false: not in the catalogue */
	bool		active;
	bool		made_to_order;
	int32		lead_time_days;
	int32		vat_rate_cents; /* its VAT class's rate now, in hundredths of a per cent */
	const char *name;			/* valid until the next lookup_begin */
} LookupProduct;

extern void lookup_begin(void);
extern void lookup_store(int32 store_id, LookupStore *out);
extern bool lookup_employee(int32 *employee_id, int32 *store_id);
extern void lookup_products(int n, const int64 *upcs, LookupProduct *out);
extern bool lookup_payment_allowed(void);
extern bool lookup_customer_exists(int64 customer_id);

#endif							/* ICOS_LOOKUP_H */
