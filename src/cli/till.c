/*-------------------------------------------------------------------------
 *
 * till.c
 *		icos till --store N: a till for a barcode scanner.
 *
 * Reads standard input a line at a time, so it works on a terminal (a
 * scanner types the code and Enter) and with piped input.  A line of
 * digits is a product code; anything else is a command (see till_help).
 * The server does all the work: icos.product_info looks up a scan,
 * icos.price_basket prices the sale (when the server has it; list prices
 * otherwise), icos.place_order places it with channel "pos" and
 * icos.receipt prints it.  The client keeps only the sale being rung up.
 *
 * Exit status: 0 at "quit" or end of input; 1 when the connection is lost,
 * or input ends while a sale with lines is still open (it is not placed).
 *
 * src/cli/till.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icos.h"

typedef struct TillLine
{
	char	   *upc;			/* canonical code, as the server printed it */
	char	   *name;
	int64_t		price;			/* list price in pence */
	int			qty;
	bool		voided;
} TillLine;

typedef struct TillPayment
{
	char	   *method;
	int64_t		amount;			/* pence tendered */
	char	   *reference;		/* or NULL */
} TillPayment;

typedef struct Sale
{
	TillLine   *lines;
	int			nlines;
	int			linecap;
	TillPayment *payments;
	int			npayments;
	int			paycap;
	char	   *customer;		/* JSON for place_order's "customer", or NULL */
	char	   *customer_label;
	char	   *delivery;		/* JSON for "delivery", or NULL for carry */
	char	   *delivery_label;
} Sale;

typedef struct Till
{
	PGconn	   *conn;
	int			store;
	char		store_text[16];
	bool		has_price_basket;
	Sale		sale;
} Till;

static const char *const payment_methods[] = {
	"cash", "visa", "credit_card", "debit_card", "cheque", "gift_card", NULL
};

static void
till_help(void)
{
	fputs("Scan or type a product code to add a line.  Commands:\n"
		  "  qty N                                set the quantity of the last line\n"
		  "  void [LINE]                          remove the last line, or line LINE\n"
		  "  customer EMAIL|PHONE                 find a registered customer\n"
		  "  customer new NAME;EMAIL;PHONE        a new customer (e-mail or phone may be empty)\n"
		  "  delivery carry                       taken away now (the default)\n"
		  "  delivery collect STORE               collected from store STORE\n"
		  "  delivery home LINE1;TOWN;POSTCODE [YYYY-MM-DD]\n"
		  "                                       delivered to the customer's home\n"
		  "  pay METHOD AMOUNT [REFERENCE]        cash, visa, credit_card, debit_card, cheque\n"
		  "                                       or gift_card; change is given for cash\n"
		  "  total                                the sale so far\n"
		  "  finish                               place the order and print the receipt\n"
		  "  cancel                               abandon the sale\n"
		  "  help                                 this text\n"
		  "  quit                                 leave the till\n",
		  stdout);
}

static void
sale_clear(Sale *s)
{
	for (int i = 0; i < s->nlines; i++)
	{
		free(s->lines[i].upc);
		free(s->lines[i].name);
	}
	for (int i = 0; i < s->npayments; i++)
	{
		free(s->payments[i].method);
		free(s->payments[i].reference);
	}
	free(s->lines);
	free(s->payments);
	free(s->customer);
	free(s->customer_label);
	free(s->delivery);
	free(s->delivery_label);
	memset(s, 0, sizeof(*s));
}

static int
active_lines(const Sale *s)
{
	int			n = 0;

	for (int i = 0; i < s->nlines; i++)
		n += !s->lines[i].voided;
	return n;
}

static bool
sale_open(const Sale *s)
{
	return active_lines(s) > 0 || s->npayments > 0 || s->customer || s->delivery;
}

/* Lost the server: nothing more can be done. */
static void
check_connection(Till *t)
{
	if (PQstatus(t->conn) == CONNECTION_BAD)
	{
		fputs("icos: the connection to the server was lost; the open sale was not placed\n",
			  stderr);
		exit(EXIT_REFUSED);
	}
}

static PGresult *
till_query(Till *t, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = run_query(t->conn, sql, nparams, params);

	if (res == NULL)
		check_connection(t);
	return res;
}

/* The basket as price_basket's input (and the lines of place_order). */
static void
append_lines_json(const Sale *s, StrBuf *sb)
{
	bool		first = true;

	sb_append(sb, "[");
	for (int i = 0; i < s->nlines; i++)
	{
		if (s->lines[i].voided)
			continue;
		sb_append(sb, first ? "" : ", ");
		sb_append(sb, "{\"upc\": ");
		sb_json_string(sb, s->lines[i].upc);
		sb_printf(sb, ", \"qty\": %d}", s->lines[i].qty);
		first = false;
	}
	sb_append(sb, "]");
}

static int64_t
paid_so_far(const Sale *s)
{
	int64_t		paid = 0;

	for (int i = 0; i < s->npayments; i++)
		paid += s->payments[i].amount;
	return paid;
}

/*
 * The sale's total in pence, from icos.price_basket when the server has
 * it, else from list prices.  With show, print the priced lines.  Returns
 * false when the server refused.
 */
static bool
sale_total(Till *t, bool show, int64_t *total)
{
	Sale	   *s = &t->sale;
	StrBuf		basket;
	PGresult   *res;
	const char *params[1];
	static const Column columns[] = {
		{"Line", COL_NUM}, {"UPC", COL_TEXT}, {"Product", COL_TEXT}, {"Qty", COL_NUM},
		{"Unit price", COL_MONEY}, {"Discount", COL_MONEY}, {"Net", COL_MONEY},
		{"Offers", COL_TEXT}
	};

	*total = 0;
	if (active_lines(s) == 0)
		return true;

	if (!t->has_price_basket)
	{
		const char **cells = xmalloc(sizeof(char *) * 8 * (size_t) s->nlines);
		char	  (*text)[4][MONEY_BUFLEN] = xmalloc(sizeof(*text) * (size_t) s->nlines);
		int			r = 0;

		for (int i = 0; i < s->nlines; i++)
		{
			const TillLine *l = &s->lines[i];

			if (l->voided)
				continue;
			*total += l->price * l->qty;
			snprintf(text[r][0], MONEY_BUFLEN, "%d", i + 1);
			snprintf(text[r][1], MONEY_BUFLEN, "%d", l->qty);
			snprintf(text[r][2], MONEY_BUFLEN, "%lld.%02lld",
					 (long long) (l->price / 100), (long long) (l->price % 100));
			snprintf(text[r][3], MONEY_BUFLEN, "%lld.%02lld",
					 (long long) (l->price * l->qty / 100), (long long) (l->price * l->qty % 100));
			cells[r * 8 + 0] = text[r][0];
			cells[r * 8 + 1] = l->upc;
			cells[r * 8 + 2] = l->name;
			cells[r * 8 + 3] = text[r][1];
			cells[r * 8 + 4] = text[r][2];
			cells[r * 8 + 5] = "0.00";
			cells[r * 8 + 6] = text[r][3];
			cells[r * 8 + 7] = NULL;
			r++;
		}
		if (show)
			print_table(columns, 8, r, cells);
		free(cells);
		free(text);
		return true;
	}

	sb_init(&basket);
	sb_printf(&basket, "{\"store\": %d, \"channel\": \"pos\", \"lines\": ", t->store);
	append_lines_json(s, &basket);
	sb_append(&basket, "}");
	params[0] = basket.data;
	res = till_query(t,
					 "SELECT (icos.price_basket($1::jsonb)->>'total')::numeric(12,2)::text",
					 1, params);
	if (res == NULL || !parse_money(PQgetvalue(res, 0, 0), total))
	{
		PQclear(res);
		sb_free(&basket);
		return false;
	}
	PQclear(res);
	if (show)
	{
		/* price_basket numbers the lines it was given; map back to till lines */
		StrBuf		map;
		const char *p2[2];
		bool		first = true;

		sb_init(&map);
		sb_append(&map, "[");
		for (int i = 0; i < s->nlines; i++)
		{
			if (s->lines[i].voided)
				continue;
			sb_printf(&map, "%s{\"till_line\": %d, \"name\": ", first ? "" : ", ", i + 1);
			sb_json_string(&map, s->lines[i].name);
			sb_append(&map, "}");
			first = false;
		}
		sb_append(&map, "]");
		p2[0] = basket.data;
		p2[1] = map.data;
		res = till_query(t,
						 "WITH b AS (SELECT icos.price_basket($1::jsonb) AS j)"
						 "SELECT m.e->>'till_line', l->>'upc', m.e->>'name', l->>'qty',"
						 "       (l->>'unit_price')::numeric(12,2)::text,"
						 "       (l->>'discount')::numeric(12,2)::text,"
						 "       (l->>'net')::numeric(12,2)::text,"
						 "       (SELECT pg_catalog.string_agg(coalesce(a->>'name', 'offer ' || (p->>'id')), ', ')"
						 "          FROM pg_catalog.jsonb_array_elements(l->'promotions') p"
						 "          LEFT JOIN pg_catalog.jsonb_array_elements(b.j->'applied') a"
						 "                 ON a->>'id' = p->>'id')"
						 "  FROM b, pg_catalog.jsonb_array_elements(b.j->'lines') l"
						 "  JOIN pg_catalog.jsonb_array_elements($2::jsonb) WITH ORDINALITY AS m(e, n)"
						 "    ON m.n = (l->>'line')::int"
						 " ORDER BY (l->>'line')::int",
						 2, p2);
		sb_free(&map);
		if (res == NULL)
		{
			sb_free(&basket);
			return false;
		}
		print_result_table(res, columns, 8);
		PQclear(res);
	}
	sb_free(&basket);
	return true;
}

/* "Total £49.00  Paid £30.00  Due £19.00" (or change for cash) */
static void
print_balance(Till *t)
{
	int64_t		total,
				paid = paid_so_far(&t->sale);
	char		a[MONEY_BUFLEN],
				b[MONEY_BUFLEN],
				c[MONEY_BUFLEN];

	if (!sale_total(t, false, &total))
		return;
	if (paid == 0)
		printf("Total %s\n", format_pence(total, a, sizeof(a)));
	else if (paid >= total)
		printf("Total %s  Paid %s  Change %s\n", format_pence(total, a, sizeof(a)),
			   format_pence(paid, b, sizeof(b)), format_pence(paid - total, c, sizeof(c)));
	else
		printf("Total %s  Paid %s  Due %s\n", format_pence(total, a, sizeof(a)),
			   format_pence(paid, b, sizeof(b)), format_pence(total - paid, c, sizeof(c)));
}

static void
till_scan(Till *t, const char *code)
{
	const char *params[1] = {code};
	PGresult   *res;
	TillLine   *l;
	int64_t		price;
	char		money[MONEY_BUFLEN];

	res = till_query(t,
					 "SELECT d->>'upc', d->>'name', (d->>'price')::numeric(12,2)::text,"
					 "       (SELECT pg_catalog.string_agg(coalesce(o->>'description', o->>'name', o::text), '; ')"
					 "          FROM pg_catalog.jsonb_array_elements(d->'offers') o),"
					 "       coalesce((d->>'active')::boolean, true)"
					 "  FROM (SELECT icos.product_info($1) AS d) s",
					 1, params);
	if (res == NULL)
	{
		printf("Not added: %s\n", code);
		return;
	}
	if (!parse_money(PQgetvalue(res, 0, 2), &price))
	{
		printf("Not added: the price of %s is not set\n", PQgetvalue(res, 0, 0));
		PQclear(res);
		return;
	}
	if (t->sale.nlines == t->sale.linecap)
	{
		t->sale.linecap = t->sale.linecap ? t->sale.linecap * 2 : 16;
		t->sale.lines = xrealloc(t->sale.lines, sizeof(TillLine) * t->sale.linecap);
	}
	l = &t->sale.lines[t->sale.nlines++];
	l->upc = xstrdup(PQgetvalue(res, 0, 0));
	l->name = xstrdup(PQgetvalue(res, 0, 1));
	l->price = price;
	l->qty = 1;
	l->voided = false;
	printf("%3d  %s  %s  %s\n", t->sale.nlines, l->upc, l->name,
		   format_pence(price, money, sizeof(money)));
	if (!PQgetisnull(res, 0, 3))
		printf("     Offer: %s\n", PQgetvalue(res, 0, 3));
	if (strcmp(PQgetvalue(res, 0, 4), "f") == 0)
		printf("     Note: this product is withdrawn from sale\n");
	PQclear(res);
	print_balance(t);
}

static TillLine *
last_line(Till *t)
{
	for (int i = t->sale.nlines - 1; i >= 0; i--)
		if (!t->sale.lines[i].voided)
			return &t->sale.lines[i];
	return NULL;
}

/* A whole number from the till's input, within [min, max] */
static bool
till_number(const char *text, int min, int max, int *out)
{
	char	   *end;
	long		v;

	if (!isdigit((unsigned char) text[0]))
		return false;
	v = strtol(text, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return false;
	*out = (int) v;
	return true;
}

static void
till_qty(Till *t, const char *arg)
{
	TillLine   *l = last_line(t);
	int			qty;
	char		money[MONEY_BUFLEN];

	if (l == NULL)
	{
		printf("No line to change: scan a product first.\n");
		return;
	}
	if (!till_number(arg, 1, 9999, &qty))
	{
		printf("Quantity must be a whole number from 1 to 9999: qty N\n");
		return;
	}
	l->qty = qty;
	printf("%3d  %s  %s  %d x %s\n", (int) (l - t->sale.lines) + 1, l->upc, l->name, qty,
		   format_pence(l->price, money, sizeof(money)));
	print_balance(t);
}

static void
till_void(Till *t, const char *arg)
{
	TillLine   *l;
	int			n;

	if (arg[0] == '\0')
		l = last_line(t);
	else if (till_number(arg, 1, t->sale.nlines, &n) && !t->sale.lines[n - 1].voided)
		l = &t->sale.lines[n - 1];
	else
	{
		printf("No line %s to void.\n", arg);
		return;
	}
	if (l == NULL)
	{
		printf("No line to void.\n");
		return;
	}
	l->voided = true;
	printf("Voided line %d (%s).\n", (int) (l - t->sale.lines) + 1, l->name);
	print_balance(t);
}

/* Split s in place at ';' into at most max trimmed fields; returns count */
static int
split_fields(char *s, char **fields, int max)
{
	int			n = 0;

	while (n < max)
	{
		char	   *semi = strchr(s, ';');
		char	   *end;

		if (semi)
			*semi = '\0';
		while (isspace((unsigned char) *s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char) end[-1]))
			*--end = '\0';
		fields[n++] = s;
		if (!semi)
			return n;
		s = semi + 1;
	}
	return -1;					/* too many fields */
}

static void
till_customer(Till *t, char *arg)
{
	StrBuf		sb;

	if (strncmp(arg, "new ", 4) == 0)
	{
		char	   *f[3];
		int			n = split_fields(arg + 4, f, 3);

		if (n < 1 || f[0][0] == '\0')
		{
			printf("Usage: customer new NAME;EMAIL;PHONE\n");
			return;
		}
		sb_init(&sb);
		sb_append(&sb, "{\"name\": ");
		sb_json_string(&sb, f[0]);
		if (n >= 2 && f[1][0])
		{
			sb_append(&sb, ", \"email\": ");
			sb_json_string(&sb, f[1]);
		}
		if (n >= 3 && f[2][0])
		{
			sb_append(&sb, ", \"phone\": ");
			sb_json_string(&sb, f[2]);
		}
		sb_append(&sb, "}");
		free(t->sale.customer);
		free(t->sale.customer_label);
		t->sale.customer = sb.data;
		t->sale.customer_label = xstrdup(f[0]);
		printf("New customer: %s (registered when the sale is finished)\n", f[0]);
		return;
	}
	if (arg[0] == '\0')
	{
		printf("Usage: customer EMAIL|PHONE, or customer new NAME;EMAIL;PHONE\n");
		return;
	}
	{
		const char *params[1] = {arg};
		PGresult   *res = till_query(t,
									 "SELECT c.customer_id, c.name,"
									 "       concat_ws(', ', c.email, c.phone)"
									 "  FROM icos.customer c"
									 " WHERE pg_catalog.lower(c.email) = pg_catalog.lower($1)"
									 "    OR c.phone = pg_catalog.regexp_replace($1, '[[:space:]().-]', '', 'g')"
									 " ORDER BY c.customer_id LIMIT 2",
									 1, params);

		if (res == NULL)
			return;
		if (PQntuples(res) == 0)
			printf("No customer found for %s; register one with: customer new NAME;EMAIL;PHONE\n",
				   arg);
		else if (PQntuples(res) > 1)
			printf("More than one customer has %s; use their e-mail address.\n", arg);
		else
		{
			sb_init(&sb);
			sb_printf(&sb, "{\"id\": %s}", PQgetvalue(res, 0, 0));
			free(t->sale.customer);
			free(t->sale.customer_label);
			t->sale.customer = sb.data;
			t->sale.customer_label = xstrdup(PQgetvalue(res, 0, 1));
			printf("Customer: %s (%s)\n", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		}
		PQclear(res);
	}
}

static void
set_delivery(Sale *s, char *json, const char *label)
{
	free(s->delivery);
	free(s->delivery_label);
	s->delivery = json;
	s->delivery_label = xstrdup(label);
	printf("Delivery: %s\n", label);
}

static void
till_delivery(Till *t, char *arg)
{
	StrBuf		sb;

	if (strcmp(arg, "carry") == 0)
	{
		set_delivery(&t->sale, NULL, "taken away now");
		return;
	}
	if (strncmp(arg, "collect ", 8) == 0)
	{
		int			store;
		const char *params[1];
		PGresult   *res;

		if (!till_number(arg + 8, 0, 2147483647, &store))
		{
			printf("Usage: delivery collect STORE (a store number)\n");
			return;
		}
		params[0] = arg + 8;
		res = till_query(t, "SELECT s.name FROM icos.store s WHERE s.store_id = $1::int",
						 1, params);
		if (res == NULL)
			return;
		if (PQntuples(res) == 0)
			printf("There is no store %d.\n", store);
		else
		{
			StrBuf		label;

			sb_init(&sb);
			sb_printf(&sb, "{\"method\": \"collect\", \"collect_store\": %d}", store);
			sb_init(&label);
			sb_printf(&label, "collect from store %d (%s)", store, PQgetvalue(res, 0, 0));
			set_delivery(&t->sale, sb.data, label.data);
			sb_free(&label);
		}
		PQclear(res);
		return;
	}
	if (strncmp(arg, "home ", 5) == 0)
	{
		char	   *rest = arg + 5;
		char	   *date = NULL;
		char	   *sp = strrchr(rest, ' ');
		char	   *f[3];
		StrBuf		label;

		if (sp && is_date(sp + 1))
		{
			date = sp + 1;
			*sp = '\0';
		}
		if (split_fields(rest, f, 3) != 3 || !f[0][0] || !f[1][0] || !f[2][0])
		{
			printf("Usage: delivery home LINE1;TOWN;POSTCODE [YYYY-MM-DD]\n");
			return;
		}
		sb_init(&sb);
		sb_append(&sb, "{\"method\": \"home\", \"address\": {\"line1\": ");
		sb_json_string(&sb, f[0]);
		sb_append(&sb, ", \"town\": ");
		sb_json_string(&sb, f[1]);
		sb_append(&sb, ", \"postcode\": ");
		sb_json_string(&sb, f[2]);
		sb_append(&sb, "}");
		if (date)
		{
			sb_append(&sb, ", \"date\": ");
			sb_json_string(&sb, date);
		}
		sb_append(&sb, "}");
		sb_init(&label);
		sb_printf(&label, "home, %s, %s, %s%s%s", f[0], f[1], f[2],
				  date ? ", on " : "", date ? date : "");
		set_delivery(&t->sale, sb.data, label.data);
		sb_free(&label);
		return;
	}
	printf("Usage: delivery carry | delivery collect STORE | "
		   "delivery home LINE1;TOWN;POSTCODE [YYYY-MM-DD]\n");
}

static void
till_pay(Till *t, char *arg)
{
	char	   *method = arg;
	char	   *amount_text;
	char	   *reference = NULL;
	int64_t		amount,
				total,
				due;
	bool		known = false;
	TillPayment *p;
	char		a[MONEY_BUFLEN],
				b[MONEY_BUFLEN];

	amount_text = strchr(arg, ' ');
	if (amount_text == NULL)
	{
		printf("Usage: pay METHOD AMOUNT [REFERENCE]\n");
		return;
	}
	*amount_text++ = '\0';
	while (*amount_text == ' ')
		amount_text++;
	reference = strchr(amount_text, ' ');
	if (reference)
	{
		*reference++ = '\0';
		while (*reference == ' ')
			reference++;
		if (*reference == '\0')
			reference = NULL;
	}
	for (int i = 0; payment_methods[i]; i++)
		known = known || strcmp(method, payment_methods[i]) == 0;
	if (!known)
	{
		printf("Unknown payment method \"%s\": use cash, visa, credit_card, debit_card, "
			   "cheque or gift_card.\n", method);
		return;
	}
	if (!parse_money(amount_text, &amount) || amount <= 0)
	{
		printf("The amount must be pounds and pence above zero, like 12.50.\n");
		return;
	}
	if (active_lines(&t->sale) == 0)
	{
		printf("Nothing to pay for yet: scan a product first.\n");
		return;
	}
	if (!sale_total(t, false, &total))
		return;
	due = total - paid_so_far(&t->sale);
	if (due <= 0)
	{
		printf("Nothing is due.\n");
		return;
	}
	if (amount > due && strcmp(method, "cash") != 0)
	{
		printf("Only %s is due: a %s payment cannot be more than that.\n",
			   format_pence(due, a, sizeof(a)), method);
		return;
	}
	if (t->sale.npayments == t->sale.paycap)
	{
		t->sale.paycap = t->sale.paycap ? t->sale.paycap * 2 : 4;
		t->sale.payments = xrealloc(t->sale.payments, sizeof(TillPayment) * t->sale.paycap);
	}
	p = &t->sale.payments[t->sale.npayments++];
	p->method = xstrdup(method);
	p->amount = amount;
	p->reference = reference ? xstrdup(reference) : NULL;
	printf("Paid %s by %s.\n", format_pence(amount, a, sizeof(a)), method);
	if (amount > due)
		printf("Change: %s\n", format_pence(amount - due, b, sizeof(b)));
	else if (amount < due)
		printf("Still due: %s\n", format_pence(due - amount, b, sizeof(b)));
	else
		printf("Fully paid.\n");
}

static void
till_total(Till *t)
{
	int64_t		total;

	if (active_lines(&t->sale) == 0)
		printf("No lines yet.\n");
	else if (sale_total(t, true, &total))
		print_balance(t);
	if (t->sale.customer_label)
		printf("Customer: %s\n", t->sale.customer_label);
	printf("Delivery: %s\n", t->sale.delivery_label ? t->sale.delivery_label : "taken away now");
}

static void
till_finish(Till *t)
{
	Sale	   *s = &t->sale;
	StrBuf		order;
	const char *params[1];
	PGresult   *res;
	char	   *code;

	if (active_lines(s) == 0)
	{
		printf("Nothing to sell: scan a product first.\n");
		return;
	}
	sb_init(&order);
	sb_printf(&order, "{\"store\": %d, \"channel\": \"pos\", \"lines\": ", t->store);
	append_lines_json(s, &order);
	if (s->customer)
		sb_printf(&order, ", \"customer\": %s", s->customer);
	if (s->delivery)
		sb_printf(&order, ", \"delivery\": %s", s->delivery);
	else
		sb_append(&order, ", \"delivery\": {\"method\": \"carry\"}");
	sb_append(&order, ", \"payments\": [");
	for (int i = 0; i < s->npayments; i++)
	{
		const TillPayment *p = &s->payments[i];

		sb_append(&order, i ? ", " : "");
		sb_append(&order, "{\"method\": ");
		sb_json_string(&order, p->method);
		sb_printf(&order, ", \"amount\": %lld.%02lld", (long long) (p->amount / 100),
				  (long long) (p->amount % 100));
		if (p->reference)
		{
			sb_append(&order, ", \"reference\": ");
			sb_json_string(&order, p->reference);
		}
		sb_append(&order, "}");
	}
	sb_append(&order, "]}");

	params[0] = order.data;
	res = till_query(t, "SELECT icos.place_order($1::jsonb)::text", 1, params);
	sb_free(&order);
	if (res == NULL)
	{
		printf("The sale was not placed; correct it and finish again, or cancel.\n");
		return;
	}
	code = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	printf("Order placed: %s\n\n", code);
	if (!print_receipt(t->conn, code, false))
		check_connection(t);
	putchar('\n');
	free(code);
	sale_clear(s);
}

/*
 * One line of input.  Returns false at "quit".
 */
static bool
till_line(Till *t, char *line)
{
	char	   *cmd,
			   *arg,
			   *end;

	/* trim */
	while (isspace((unsigned char) *line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char) end[-1]))
		*--end = '\0';
	if (line[0] == '\0')
		return true;

	if (isdigit((unsigned char) line[0]))
	{
		till_scan(t, line);
		return true;
	}

	cmd = line;
	arg = cmd;
	while (*arg && !isspace((unsigned char) *arg))
		arg++;
	if (*arg)
	{
		*arg++ = '\0';
		while (isspace((unsigned char) *arg))
			arg++;
	}

	if (strcmp(cmd, "qty") == 0)
		till_qty(t, arg);
	else if (strcmp(cmd, "void") == 0)
		till_void(t, arg);
	else if (strcmp(cmd, "customer") == 0)
		till_customer(t, arg);
	else if (strcmp(cmd, "delivery") == 0)
		till_delivery(t, arg);
	else if (strcmp(cmd, "pay") == 0)
		till_pay(t, arg);
	else if (strcmp(cmd, "total") == 0)
		till_total(t);
	else if (strcmp(cmd, "finish") == 0)
		till_finish(t);
	else if (strcmp(cmd, "cancel") == 0)
	{
		printf(sale_open(&t->sale) ? "Sale cancelled.\n" : "No sale to cancel.\n");
		sale_clear(&t->sale);
	}
	else if (strcmp(cmd, "help") == 0)
		till_help();
	else if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "exit") == 0)
		return false;
	else
		printf("Unknown command \"%s\": type help for the list.\n", cmd);
	return true;
}

int
cmd_till(int argc, char **argv)
{
	const char *store = NULL;
	const OptSpec specs[] = {{"store", true, &store, NULL}, {NULL}};
	Till		t;
	PGresult   *res;
	const char *params[1];
	char	   *line = NULL;
	size_t		cap = 0;
	bool		interactive = isatty(STDIN_FILENO);
	bool		quit = false;
	int			status = EXIT_OK;

	parse_command_args("till", argc, argv, specs, NULL, 0, 0);
	if (store == NULL)
		usage_error("till: --store N is required");
	if (opts.json)
		usage_error("till: --json is not available for the till");
	memset(&t, 0, sizeof(t));
	t.store = parse_int_arg("till", "--store", store);
	snprintf(t.store_text, sizeof(t.store_text), "%d", t.store);
	t.conn = connect_or_exit();

	params[0] = t.store_text;
	res = run_query(t.conn, "SELECT s.name FROM icos.store s WHERE s.store_id = $1::int",
					1, params);
	if (res == NULL)
	{
		disconnect(t.conn);
		return EXIT_REFUSED;
	}
	if (PQntuples(res) == 0)
	{
		fprintf(stderr, "icos: there is no store %d\n", t.store);
		PQclear(res);
		disconnect(t.conn);
		return EXIT_REFUSED;
	}
	printf("Till open at store %d, %s.  Scan a product, or type help.\n",
		   t.store, PQgetvalue(res, 0, 0));
	PQclear(res);
	t.has_price_basket = function_exists(t.conn, "icos.price_basket(jsonb)");

	for (;;)
	{
		ssize_t		n;

		if (interactive)
		{
			fputs("till> ", stdout);
			fflush(stdout);
		}
		fflush(stdout);
		n = getline(&line, &cap, stdin);
		if (n < 0)
			break;
		if (!till_line(&t, line))
		{
			quit = true;
			break;
		}
	}
	if (!quit && interactive)
		putchar('\n');
	if (active_lines(&t.sale) > 0)
	{
		fprintf(stderr, "icos: the till was closed with a sale open; it was not placed\n");
		status = quit ? EXIT_OK : EXIT_REFUSED;
	}
	free(line);
	sale_clear(&t.sale);
	disconnect(t.conn);
	return status;
}
