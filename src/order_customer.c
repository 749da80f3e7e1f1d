/*-------------------------------------------------------------------------
 *
 * order_customer.c
 *	  A customer given by details, found or created in one statement
 *	  (icos.place_order, icos.upsert_customer through icos._upsert_customer).
 *
 * A customer is found among the customers this node registered (the top
 * bits of customer_id, see customer_email_key in 0.2.0's 30_people.sql) by
 * e-mail, else by phone.  Found, she is used as she is: her name, e-mail,
 * phone and addresses are never overwritten by an order (API.md, additions
 * of 0.3.0; icos.update_customer is the way to change them).  Not found, she
 * is inserted by the same statement with INSERT ... ON CONFLICT on the key
 * that identifies her (customer_email_key, or customer_phone_key for a
 * customer known only by phone), so two orders of a new customer placed at
 * once make one customer row: the second waits for the first and takes its
 * row, never a raw 23505.  The address given with a new customer is her
 * first address.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "errcodes.h"
#include "order.h"

extern Datum current_node(PG_FUNCTION_ARGS);

/*
 * $1 name, $2 e-mail, $3 phone, $4 registering store, $5 node, $6 address
 * (jsonb): the customer's id and whether this statement created her.  The
 * %s is the arbiter of the insert.
 */
static const char *const customer_sql =
"WITH m AS ("
" (SELECT c.customer_id FROM icos.customer c"
"   WHERE $2::text IS NOT NULL AND pg_catalog.lower(c.email) OPERATOR(pg_catalog.=) $2"
"     AND (c.customer_id OPERATOR(pg_catalog.>>) 40) OPERATOR(pg_catalog.=) $5)"
" UNION ALL"
" (SELECT c.customer_id FROM icos.customer c"
"   WHERE $3::text IS NOT NULL AND c.phone OPERATOR(pg_catalog.=) $3"
"     AND (c.customer_id OPERATOR(pg_catalog.>>) 40) OPERATOR(pg_catalog.=) $5"
"   ORDER BY c.customer_id LIMIT 1)"
" LIMIT 1),"
" ins AS ("
" INSERT INTO icos.customer AS cu (store_id, name, email, phone, phone_only)"
" SELECT $4, $1, $2, $3, $2::text IS NULL"
"  WHERE $1::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m)"
" ON CONFLICT %s DO UPDATE SET updated_at = cu.updated_at"
" RETURNING cu.customer_id, cu.xmax OPERATOR(pg_catalog.=) '0'::pg_catalog.xid AS created),"
" a AS ("
" INSERT INTO icos.customer_address (customer_id, address_no, line1, line2, town, postcode)"
" SELECT ins.customer_id, 1, $6 OPERATOR(pg_catalog.->>) 'line1', $6 OPERATOR(pg_catalog.->>) 'line2',"
"  $6 OPERATOR(pg_catalog.->>) 'town', $6 OPERATOR(pg_catalog.->>) 'postcode'"
" FROM ins WHERE ins.created AND $6 IS NOT NULL)"
"SELECT m.customer_id FROM m UNION ALL SELECT ins.customer_id FROM ins";

static SPIPlanPtr customer_plans[2];	/* by e-mail, by phone only */

static SPIPlanPtr
customer_plan(bool by_email)
{
	if (customer_plans[by_email] == NULL)
	{
		Oid			types[6] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, JSONBOID};
		char	   *sql = psprintf(customer_sql, by_email ?
								   "(pg_catalog.lower(email), (customer_id OPERATOR(pg_catalog.>>) 40))" :
								   "(phone, (customer_id OPERATOR(pg_catalog.>>) 40)) WHERE phone_only");
		SPIPlanPtr	plan = SPI_prepare(sql, 6, types);

		if (plan == NULL)
			elog(ERROR, "could not prepare the customer statement: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		customer_plans[by_email] = plan;
	}
	return customer_plans[by_email];
}

/*
 * The id of the customer of these details: found, or created registered at
 * store (none without has_store).  22023 when she is new and has no name.
 */
int64
order_customer(const OrderCustomerDoc *c, bool has_store, int32 store, int32 node)
{
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int64		id = 0;
	bool		found;

	values[0] = c->name ? CStringGetTextDatum(c->name) : (Datum) 0;
	nulls[0] = c->name ? ' ' : 'n';
	values[1] = c->email ? CStringGetTextDatum(c->email) : (Datum) 0;
	nulls[1] = c->email ? ' ' : 'n';
	values[2] = c->phone ? CStringGetTextDatum(c->phone) : (Datum) 0;
	nulls[2] = c->phone ? ' ' : 'n';
	values[3] = Int32GetDatum(store);
	nulls[3] = has_store ? ' ' : 'n';
	values[4] = Int32GetDatum(node);
	values[5] = c->address ? JsonbPGetDatum(c->address) : (Datum) 0;
	nulls[5] = c->address ? ' ' : 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_plan(customer_plan(c->email != NULL), values, nulls, false, 0) < 0)
		elog(ERROR, "the customer statement failed");
	found = SPI_processed > 0;
	if (found)
	{
		bool		isnull;

		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a new customer needs a name"),
				 errhint("No customer of this node has this e-mail address or phone number; give her name to register her.")));
	return id;
}

/*
 * A customer given by id must be one this node knows and not one who has
 * been forgotten (icos._customer_forgotten: erased here, or her erasure
 * asked of her node): her record keeps nothing to serve her with, and an
 * order would tie new personal data to an erased person.  IC004 unknown,
 * IC002 forgotten.
 */
void
order_customer_known(int64 customer_id)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = Int64GetDatum(customer_id);
	bool		known;
	bool		forgotten = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		Oid			type = INT8OID;

		plan = SPI_prepare("SELECT icos._customer_forgotten(c.customer_id) FROM icos.customer c"
						   " WHERE c.customer_id OPERATOR(pg_catalog.=) $1", 1, &type);
		if (plan == NULL)
			elog(ERROR, "could not prepare the customer look-up");
		SPI_keepplan(plan);
	}
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "the customer look-up failed");
	known = SPI_processed == 1;
	if (known)
	{
		bool		isnull;

		forgotten = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_UNKNOWN),
				 errmsg("unknown customer " INT64_FORMAT, customer_id),
				 errhint("Give the customer's details instead of an id to find or register them.")));
	if (forgotten)
		ereport(ERROR,
				(errcode(ERRCODE_ICOS_NOT_CHANGEABLE),
				 errmsg("customer " INT64_FORMAT " has been forgotten", customer_id),
				 errdetail("Her personal details were erased at her request; no order can be placed for this record."),
				 errhint("If she comes back, give her details instead of the id: she is registered as a new customer.")));
}

/*
 * The customer's current (latest) address, or NULL; NULL too when the
 * session may not act for her (icos._may_act_for: her store, the call
 * centre, head office): an order of another store for her must be given
 * the address, which her record would otherwise show (docs/security.md).
 */
Jsonb *
order_customer_address(int64 customer_id)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = Int64GetDatum(customer_id);
	Jsonb	   *addr = NULL;
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		Oid			type = INT8OID;

		plan = SPI_prepare("SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
						   "'line1', a.line1, 'line2', a.line2, 'town', a.town, 'postcode', a.postcode))"
						   " FROM icos.customer_address a JOIN icos.customer c ON c.customer_id OPERATOR(pg_catalog.=) a.customer_id"
						   " WHERE a.customer_id OPERATOR(pg_catalog.=) $1 AND icos._may_act_for(c.store_id)"
						   " ORDER BY a.address_no DESC LIMIT 1", 1, &type);
		if (plan == NULL)
			elog(ERROR, "could not prepare the customer address look-up");
		SPI_keepplan(plan);
	}
	if (SPI_execute_plan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "the customer address look-up failed");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext old = MemoryContextSwitchTo(caller);

			addr = DatumGetJsonbPCopy(d);
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	return addr;
}

/*
 * icos._upsert_customer(customer jsonb, store int) returns bigint: the
 * customer of these details, found (unchanged) or created at store.
 */
PG_FUNCTION_INFO_V1(upsert_customer_c);
Datum
upsert_customer_c(PG_FUNCTION_ARGS)
{
	OrderCustomerDoc c;
	JsonbValue	v;
	JsonbValue *arg = NULL;
	LOCAL_FCINFO(nfc, 0);
	int32		node;

	if (!PG_ARGISNULL(0))
	{
		Jsonb	   *j = PG_GETARG_JSONB_P(0);

		if (JB_ROOT_IS_SCALAR(j))
			JsonbExtractScalar(&j->root, &v);
		else
		{
			v.type = jbvBinary;
			v.val.binary.data = &j->root;
			v.val.binary.len = VARSIZE(j) - VARHDRSZ;
		}
		arg = &v;
	}
	order_read_customer(arg, &c);
	InitFunctionCallInfoData(*nfc, NULL, 0, InvalidOid, NULL, NULL);
	node = DatumGetInt32(current_node(nfc));
	/* a session of no store (head office) registers her at none */
	PG_RETURN_INT64(order_customer(&c, !PG_ARGISNULL(1), PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1),
								   node));
}
