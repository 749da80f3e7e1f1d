/*-------------------------------------------------------------------------
 *
 * order_read.c
 *	  Phase 1 of a placement: read and validate the order document
 *	  (docs/orders.md, API.md) into an Order, with the rules of
 *	  order_json.c.  No database access: every error here is about the
 *	  document itself (22023, 22P02 for a malformed product code, IC003 for
 *	  a malformed payment, 22001 for text over its limit), raised before
 *	  anything is looked up or locked.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "order.h"
#include "textcheck.h"

static const char *const order_channels[] = {"store", "phone", "web", "pos", NULL};

/* The index of a word in a NULL-ended list, or -1. */
static int
read_word(const char *w, const char *const *words)
{
	int			i;

	for (i = 0; w != NULL && words[i] != NULL; i++)
		if (strcmp(w, words[i]) == 0)
			return i;
	return -1;
}

/*
 * A customer given by details (place_order's "customer", upsert_customer's
 * argument): keys name, email, phone, address; an e-mail address or a phone
 * number to know her by.
 */
void
order_read_customer(const JsonbValue *cv, OrderCustomerDoc *out)
{
	static const char *const keys[] = {"name", "email", "phone", "address", NULL};
	JsonbContainer *c = oj_object(cv);
	JsonbValue	buf;
	JsonbValue *a;
	char	   *phone;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("customer must be an object"),
				 errhint("Give {\"id\": n} or {\"name\": ..., \"email\": ..., \"phone\": ..., \"address\": {...}}.")));
	oj_check_keys(cv, keys, "customer");
	out->name = oj_text(c, "name", "customer");
	if (out->name != NULL)
		icos_check_text(out->name, strlen(out->name), TF_NAME, "the customer's name");
	out->email = oj_text(c, "email", "customer");
	if (out->email != NULL)
		out->email = oj_email(out->email, "the customer's e-mail address");
	phone = oj_text(c, "phone", "customer");
	if (phone != NULL)
		out->phone = oj_phone(phone, "the customer's phone number");
	a = oj_key(c, "address", &buf);
	if (!oj_absent(a))
		out->address = oj_address(a, "customer address");
	if (out->email == NULL && out->phone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("customer needs an e-mail address or a phone number"),
				 errhint("They identify the customer next time; or give {\"id\": n} for a known customer.")));
}

/* "customer": absent (till sales only), {"id": n}, or details. */
static void
read_customer(Order *o, JsonbContainer *root)
{
	static const char *const id_keys[] = {"id", NULL};
	JsonbValue	buf,
				ibuf;
	JsonbValue *c = oj_key(root, "customer", &buf);
	JsonbContainer *cc;

	if (oj_absent(c))
	{
		if (strcmp(o->channel, "pos") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a %s order needs a customer", o->channel),
					 errhint("Give \"customer\": {\"id\": n} or the customer's name, e-mail, phone and address. Only a till (pos) sale may be anonymous.")));
		o->customer_kind = OC_NONE;
		return;
	}
	cc = oj_object(c);
	if (cc != NULL && oj_key(cc, "id", &ibuf) != NULL)
	{
		JsonbValue *id;
		char	   *t = NULL;

		oj_check_keys(c, id_keys, "customer");
		id = oj_key(cc, "id", &ibuf);
		if (id->type == jbvNumeric)
			t = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(id->val.numeric)));
		if (t == NULL || strlen(t) < 1 || strlen(t) > 18 || strspn(t, "0123456789") != strlen(t))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("customer \"id\" must be a whole number"),
					 errdetail("Got %s.", oj_value_text(id))));
		o->customer_kind = OC_ID;
		o->customer_id = strtoll(t, NULL, 10);
		return;
	}
	o->customer_kind = OC_DETAILS;
	order_read_customer(c, &o->customer);
}

/* "delivery": method home, collect or carry; address, collect_store, date. */
static void
read_delivery(Order *o, JsonbContainer *root)
{
	static const char *const keys[] = {"method", "address", "collect_store", "date", NULL};
	static const char *const methods[] = {"home", "collect", "carry", NULL};
	JsonbValue	buf,
				abuf;
	JsonbValue *d = oj_key(root, "delivery", &buf);
	JsonbContainer *dc;
	JsonbValue *a;
	char	   *m;
	int			i;

	if (oj_absent(d))
	{
		if (strcmp(o->channel, "pos") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("order needs \"delivery\""),
					 errhint("Give {\"method\": \"home\", \"address\": {...}}, {\"method\": \"collect\", \"collect_store\": n} or {\"method\": \"carry\"}.")));
		o->method = OM_CARRY;
		return;
	}
	oj_check_keys(d, keys, "delivery");
	dc = oj_object(d);
	m = oj_text(dc, "method", "delivery");
	if ((i = read_word(m, methods)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown delivery method \"%s\"", m ? m : ""),
				 errhint("The method is home, collect or carry.")));
	o->method = (OrderMethod) i;
	o->has_date = oj_date(dc, "date", "delivery", &o->date);
	if (o->method == OM_HOME)
	{
		a = oj_key(dc, "address", &abuf);
		if (!oj_absent(a))
			o->address = oj_address(a, "delivery address");
	}
	else if (o->method == OM_COLLECT)
		o->has_collect = oj_int(dc, "collect_store", "delivery", &o->collect);
}

/*
 * One requested line (number n): {"upc", "qty", "fulfil_from"?,
 * "backorder"?}.  Also read for the lines an edit adds (edit_order).
 */
void
order_read_line(JsonbValue *e, int n, OrderLine *l)
{
	static const char *const keys[] = {"upc", "qty", "fulfil_from", "backorder", NULL};
	JsonbContainer *lc;
	JsonbValue	lbuf;
	JsonbValue *b;
	char	   *what = psprintf("line %d", n);

	memset(l, 0, sizeof(*l));
	oj_check_keys(e, keys, what);
	lc = oj_object(e);
	l->upc = oj_upc(lc, what);
	if (!oj_int(lc, "qty", what, &l->qty) || l->qty <= 0)
	{
		JsonbValue *q = oj_key(lc, "qty", &lbuf);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs a quantity of at least 1", what),
				 errdetail("Got %s.", q == NULL ? "no \"qty\"" : oj_value_text(q))));
	}
	b = oj_key(lc, "backorder", &lbuf);
	if (b != NULL)
	{
		if (b->type != jbvBool)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s \"backorder\" must be true or false", what)));
		l->backorder = b->val.boolean;
	}
	l->has_ff = oj_int(lc, "fulfil_from", what, &l->ff_given);
}

/* The elements of an array of lines (at most its size), read. */
int
order_read_lines(JsonbContainer *c, OrderLine *lines)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (tok == WJB_ELEM)
		{
			order_read_line(&e, n + 1, &lines[n]);
			n++;
		}
	return n;
}

/* "lines": at least one line. */
static void
read_lines(Order *o, JsonbContainer *root)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(root, "lines", &buf);
	JsonbContainer *c = oj_array(v);
	int			n;

	if (!oj_absent(v) && c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order \"lines\" must be an array"),
				 errdetail("Got %s.", oj_value_text(v))));
	n = c == NULL ? 0 : JsonContainerSize(c);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order has no lines"),
				 errhint("Give \"lines\": [{\"upc\": \"...\", \"qty\": n}, ...].")));
	o->lines = palloc0(sizeof(OrderLine) * n);
	o->nlines = order_read_lines(c, o->lines);
}

/* "holds": hold ids; "coupons": codes. */
static void
read_holds_coupons(Order *o, JsonbContainer *root)
{
	JsonbValue	buf;
	JsonbValue *v;
	JsonbContainer *c;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;

	v = oj_key(root, "holds", &buf);
	if (!oj_absent(v))
	{
		if ((c = oj_array(v)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("order \"holds\" must be an array"),
					 errdetail("Got %s.", oj_value_text(v))));
		o->holds = palloc0(sizeof(OrderHold) * (JsonContainerSize(c) + 1));
		it = JsonbIteratorInit(c);
		while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			char	   *t = NULL;

			if (tok != WJB_ELEM)
				continue;
			if (e.type == jbvNumeric)
				t = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(e.val.numeric)));
			if (t == NULL || strlen(t) < 1 || strlen(t) > 18 || strspn(t, "0123456789") != strlen(t))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("holds must be hold ids (whole numbers)"),
						 errdetail("Got %s.", oj_value_text(&e))));
			o->holds[o->nholds++].hold_id = strtoll(t, NULL, 10);
		}
	}
	v = oj_key(root, "coupons", &buf);
	if (!oj_absent(v))
	{
		if ((c = oj_array(v)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("order \"coupons\" must be an array"),
					 errdetail("Got %s.", oj_value_text(v))));
		o->coupons = palloc0(sizeof(char *) * (JsonContainerSize(c) + 1));
		it = JsonbIteratorInit(c);
		while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			if (e.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("coupons must be coupon codes (text)"),
						 errdetail("Got %s.", oj_value_text(&e))));
			icos_check_text(e.val.string.val, e.val.string.len, TF_COUPON,
							psprintf("coupon %d", o->ncoupons + 1));
			o->coupons[o->ncoupons++] = pnstrdup(e.val.string.val, e.val.string.len);
		}
	}
}

/* "payments": each {"method", "amount", "reference"?}. */
static void
read_payments(Order *o, JsonbContainer *root)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(root, "payments", &buf);
	JsonbContainer *c;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;

	if (oj_absent(v))
		return;
	if ((c = oj_array(v)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order \"payments\" must be an array"),
				 errdetail("Got %s.", oj_value_text(v))));
	o->pay = palloc0(sizeof(OrderPayment) * (JsonContainerSize(c) + 1));
	it = JsonbIteratorInit(c);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		oj_payment(&e, psprintf("payment %d", o->npay + 1), &o->pay[o->npay]);
		o->npay++;
	}
}

/* "external_ref": the caller's own key of the order, 1 to 100 characters. */
static void
read_external_ref(Order *o, JsonbContainer *root)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(root, "external_ref", &buf);

	if (oj_absent(v))
		return;
	if (v->type != jbvString || v->val.string.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order \"external_ref\" must be text of 1 to %d characters",
						icos_text_limit(TF_EXTERNAL_REF)),
				 errdetail("Got %s.", oj_value_text(v))));
	icos_check_text(v->val.string.val, v->val.string.len, TF_EXTERNAL_REF, NULL);
	o->external_ref = pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * "metadata": the caller's own object, stored and shown as given; its JSON
 * text (as jsonb prints it) is checked as stored text of kind metadata
 * (22001 over 4096 characters, IC003 a card number).
 */
static void
read_metadata(Order *o, JsonbContainer *root)
{
	JsonbValue	buf;
	JsonbValue *v = oj_key(root, "metadata", &buf);
	JsonbContainer *c;
	char	   *t;

	if (oj_absent(v))
		return;
	if ((c = oj_object(v)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order \"metadata\" must be a JSON object"),
				 errdetail("Got %s.", oj_value_text(v)),
				 errhint("Give your own keys and values, for example {\"cart_id\": \"c-1041\"}.")));
	o->metadata = JsonbValueToJsonb(v);
	t = JsonbToCString(NULL, &o->metadata->root, VARSIZE(o->metadata));
	icos_check_text(t, strlen(t), TF_METADATA, NULL);
}

/* Read the whole document into o (zeroed here). */
void
order_read(Jsonb *doc, Order *o)
{
	static const char *const keys[] = {"store", "channel", "customer", "lines", "delivery",
	"payments", "holds", "coupons", "external_ref", "metadata", NULL};
	JsonbValue	root;
	JsonbContainer *rc = &doc->root;
	char	   *ch;
	int			i;

	memset(o, 0, sizeof(*o));
	o->doc = doc;
	if (JB_ROOT_IS_SCALAR(doc))
		JsonbExtractScalar(rc, &root);
	else
	{
		root.type = jbvBinary;
		root.val.binary.data = rc;
		root.val.binary.len = VARSIZE(doc) - VARHDRSZ;
	}
	oj_check_keys(&root, keys, "order");
	if (!oj_int(rc, "store", "order", &o->store))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("order needs \"store\", the selling location")));
	ch = oj_text(rc, "channel", "order");
	if ((i = read_word(ch, order_channels)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown channel \"%s\"", ch ? ch : ""),
				 errhint("The channel is one of store, phone, web or pos.")));
	o->channel = order_channels[i];
	read_customer(o, rc);
	read_delivery(o, rc);
	read_lines(o, rc);
	read_holds_coupons(o, rc);
	read_payments(o, rc);
	read_external_ref(o, rc);
	read_metadata(o, rc);
}
