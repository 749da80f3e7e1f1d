/*
 * promo_eval.c: libFuzzer target for the basket evaluator
 * (src/core/promo_eval.c), the engine behind icos.price_basket.
 *
 * The input is decoded into a basket (1 to 8 lines over 6 items, prices and
 * quantities from small to the limits) and up to 6 promotions of every kind,
 * whose rules are written as JSON and compiled like head office's rows, with
 * restrictions (stores, channels, coupons, dates, a per-order limit) and
 * sometimes a tiny search budget, by the general search or (half of the
 * inputs) the packing search wherever it applies.  Invariants of the result:
 *	- each line's gross is price x quantity, its net is gross - discount,
 *	  no line discount is negative and no line net is negative;
 *	- the lines add up to the totals: gross, discount, total = gross -
 *	  discount, 0 <= discount <= gross;
 *	- each line's promotion amounts add up to its discount and the applied
 *	  list adds up to the total discount; every applied promotion was
 *	  given, applied at least once and at most max_per_order times; the
 *	  lists are sorted by promotion id;
 *	- the result does not depend on the order of the lines nor on the order
 *	  of the promotions (a permutation of each, chosen by the input);
 *	- best price: the item promotions (all kinds but spend_threshold) give
 *	  together at least what any one of them gives alone, when neither
 *	  search ran out of budget;
 *	- and exactly the best: on baskets of up to 10 units, an exact answer's
 *	  item discount, and the amount of every item promotion, equal the
 *	  subset brute force of test/unit/promo_brute.h over the promotions in
 *	  scope (window, store, channel, coupon);
 *	- nothing leaks.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "promo.h"
#include "fuzz.h"
#include "../unit/promo_brute.h"

#define MAXL 8
#define MAXP 6

static const promo_alloc A = {fuzz_alloc, fuzz_free, NULL};

/* Item codes in the generated rules are item ids ("1" .. "6"). */
static bool
ids_resolver(void *ctx, const char *code, size_t len, int64_t *id,
			 char *msg, size_t msgsize)
{
	(void) ctx;
	if (len == 1 && code[0] >= '1' && code[0] <= '6')
	{
		*id = code[0] - '0';
		return true;
	}
	snprintf(msg, msgsize, "Not an item id.");
	return false;
}

/* Pounds text of an amount in pence. */
static void
money(char *buf, size_t size, int64_t pence)
{
	snprintf(buf, size, "%" PRId64 ".%02d", pence / 100, (int) (pence % 100));
}

static int64_t
fuzz_money(fuzz_reader *in)
{
	uint8_t		b = fuzz_u8(in);

	if (b == 255)
		return PROMO_MAX_MONEY - (int64_t) fuzz_u64(in, 2);
	if (b >= 200)
		return (int64_t) fuzz_u64(in, 4) % PROMO_MAX_MONEY;
	return (int64_t) b * 7 + (int64_t) fuzz_u8(in) % 7;
}

/* A match: {"all": true}, one or two item ids, or a category. */
static void
fuzz_match(fuzz_reader *in, char *buf, size_t size)
{
	uint8_t		b = fuzz_u8(in);
	int			x = 1 + b / 4 % 6,
				y = 1 + b / 24 % 6;

	switch (b % 4)
	{
		case 0:
			snprintf(buf, size, "{\"all\": true}");
			break;
		case 1:
			snprintf(buf, size, "{\"upc\": [\"%d\"]}", x);
			break;
		case 2:
			if (x == y)
				snprintf(buf, size, "{\"upc\": [\"%d\"]}", x);
			else
				snprintf(buf, size, "{\"upc\": [\"%d\", \"%d\"]}", x, y);
			break;
		default:
			snprintf(buf, size, "{\"category\": [%d]}", b / 4 % 3 == 2 ? 100 : x / 3);
			break;
	}
}

static const char *
fuzz_rule(fuzz_reader *in, char *json, size_t size)
{
	char		m1[64],
				m2[64],
				m3[64],
				p1[32],
				p2[32];
	int			pct = 1 + (int) fuzz_below(in, 100);
	int			q1 = 1 + (int) fuzz_below(in, 5);
	int			q2 = 1 + (int) fuzz_below(in, 4);

	fuzz_match(in, m1, sizeof(m1));
	money(p1, sizeof(p1), fuzz_money(in));
	money(p2, sizeof(p2), 1 + fuzz_money(in) % (PROMO_MAX_MONEY - 1));
	switch (fuzz_u8(in) % 8)
	{
		case 0:
			snprintf(json, size, "{\"target\": %s, \"percent\": %d}", m1, pct);
			return "percent_off";
		case 1:
			snprintf(json, size, "{\"target\": %s, \"amount\": %s}", m1, p2);
			return "amount_off";
		case 2:
			snprintf(json, size, "{\"target\": %s, \"price\": %s}", m1, p1);
			return "fixed_price";
		case 3:
			snprintf(json, size, "{\"target\": %s, \"qty\": %d, \"price\": %s}", m1, q1 + 1, p1);
			return "multibuy";
		case 4:
			fuzz_match(in, m2, sizeof(m2));
			snprintf(json, size, "{\"buy\": %s, \"get\": %s, \"buy_qty\": %d, \"get_qty\": %d, \"percent\": %d}",
					 m1, m2, q1, q2, pct);
			return "buy_get";
		case 5:
			snprintf(json, size, "{\"buy\": %s, \"buy_qty\": %d, \"get_qty\": %d, \"percent\": %d}",
					 m1, q1, q2, pct);
			return "buy_get";
		case 6:
			fuzz_match(in, m2, sizeof(m2));
			fuzz_match(in, m3, sizeof(m3));
			if (q2 % 2)
				snprintf(json, size, "{\"items\": [%s, %s, %s], \"price\": %s}", m1, m2, m3, p1);
			else
				snprintf(json, size, "{\"items\": [%s, %s], \"price\": %s}", m1, m2, p1);
			return "bundle";
		default:
			if (q2 % 2)
				snprintf(json, size, "{\"target\": %s, \"min_spend\": %s, \"amount\": %s}", m1, p1, p2);
			else
				snprintf(json, size, "{\"target\": %s, \"min_spend\": %s, \"percent\": %d}", m1, p1, pct);
			return "spend_threshold";
	}
}

typedef struct fuzz_case
{
	promo_basket basket;
	promo_line	lines[MAXL];
	int64_t		cats[MAXL][2];
	promo_def	promos[MAXP];
	promo_rule *rules[MAXP];
	size_t		npromos;
	promo_options opts;
} fuzz_case;

static const int32_t stores_a[] = {1, 3};
static const int32_t stores_b[] = {2};
static const char *const channels_a[] = {"store", "web"};
static const char *const channels_b[] = {"phone"};
static const char *const coupons[] = {"save10", "OTHER"};

static void
decode(fuzz_reader *in, fuzz_case *fc)
{
	size_t		i,
				n;
	uint8_t		b;
	promo_error err;

	memset(fc, 0, sizeof(*fc));
	b = fuzz_u8(in);
	fc->basket.at = 1000;
	fc->basket.store = 1 + b % 3;
	fc->basket.channel = (b / 3) % 2 ? "web" : "store";
	fc->basket.coupons = coupons;
	fc->basket.ncoupons = (b / 6) % 3;
	if (b >= 240)
		fc->opts.budget = 1 + fuzz_u8(in) % 64;
	else
		fc->opts.budget = 5000;
	/* half of the inputs force the packing search where it applies */
	fc->opts.method = (b / 18) % 2 ? PROMO_METHOD_PACK : PROMO_METHOD_AUTO;

	n = 1 + fuzz_u8(in) % MAXL;
	for (i = 0; i < n; i++)
	{
		promo_line *l = &fc->lines[i];
		uint8_t		q = fuzz_u8(in);

		l->line = (int32_t) i + 1;
		l->item = 1 + fuzz_u8(in) % 6;
		l->unit_price = fuzz_money(in);
		l->qty = q == 255 ? 1 + (int64_t) fuzz_u64(in, 3) % PROMO_MAX_QTY : 1 + q % 5;
		fc->cats[i][0] = l->item / 3;	/* category 0, 1 or 2 */
		fc->cats[i][1] = 100;			/* under category 100 */
		l->categories = fc->cats[i];
		l->ncategories = 2;
	}
	fc->basket.lines = fc->lines;
	fc->basket.nlines = n;

	n = fuzz_u8(in) % (MAXP + 1);
	for (i = 0; i < n && fuzz_remaining(in) > 0; i++)
	{
		char		json[512];
		const char *kind = fuzz_rule(in, json, sizeof(json));
		promo_def  *d = &fc->promos[fc->npromos];
		promo_status st;
		uint8_t		r = fuzz_u8(in);

		st = promo_rule_compile(kind, json, strlen(json), ids_resolver, NULL,
								&A, &fc->rules[fc->npromos], &err);
		CHECK(st == PROMO_OK, "generated %s rule %s refused: %s", kind, json, err.msg);
		d->id = 10 + (int32_t) i;
		d->rule = fc->rules[fc->npromos];
		d->priority = r % 3;
		d->max_per_order = (r / 3) % 3;
		switch ((r / 9) % 7)
		{
			case 1:
				d->stores = (r / 63) % 2 ? stores_a : stores_b;
				d->nstores = (r / 63) % 2 ? 2 : 1;
				break;
			case 2:
				d->channels = (r / 63) % 2 ? channels_a : channels_b;
				d->nchannels = (r / 63) % 2 ? 2 : 1;
				break;
			case 3:
				d->coupon = (r / 63) % 2 ? "SAVE10" : "nothing";
				break;
			case 4:
				d->has_start = true;
				d->starts_at = (r / 63) % 2 ? 1000 : 1001;
				break;
			case 5:
				d->has_end = true;
				d->ends_at = (r / 63) % 2 ? 1000 : 1001;
				break;
			default:
				break;
		}
		fc->npromos++;
	}
}

static bool
same_result(const promo_result *x, const promo_result *y)
{
	size_t		i,
				j,
				k;

	if (x->gross != y->gross || x->discount != y->discount || x->total != y->total ||
		x->approximate != y->approximate || x->napplied != y->napplied ||
		x->nnot_applied != y->nnot_applied || x->nlines != y->nlines)
		return false;
	for (i = 0; i < x->napplied; i++)
		if (x->applied[i].id != y->applied[i].id ||
			x->applied[i].times != y->applied[i].times ||
			x->applied[i].amount != y->applied[i].amount)
			return false;
	for (i = 0; i < x->nnot_applied; i++)
		if (x->not_applied[i].id != y->not_applied[i].id ||
			x->not_applied[i].reason != y->not_applied[i].reason ||
			x->not_applied[i].other != y->not_applied[i].other ||
			strcmp(x->not_applied[i].detail, y->not_applied[i].detail) != 0)
			return false;
	for (i = 0; i < x->nlines; i++)
	{
		for (j = 0; j < y->nlines && y->lines[j].line != x->lines[i].line; j++)
			;
		if (j == y->nlines || x->lines[i].discount != y->lines[j].discount ||
			x->lines[i].npromos != y->lines[j].npromos)
			return false;
		for (k = 0; k < x->lines[i].npromos; k++)
			if (x->lines[i].promos[k].id != y->lines[j].promos[k].id ||
				x->lines[i].promos[k].amount != y->lines[j].promos[k].amount)
				return false;
	}
	return true;
}

static void
check_result(const fuzz_case *fc, const promo_result *res)
{
	size_t		i,
				j,
				k;
	int64_t		gross = 0,
				discount = 0,
				applied = 0;

	CHECK(res->nlines == fc->basket.nlines, "%zu result lines for %zu", res->nlines, fc->basket.nlines);
	for (i = 0; i < res->nlines; i++)
	{
		const promo_line_result *lr = &res->lines[i];
		const promo_line *in = &fc->basket.lines[i];
		int64_t		sum = 0;

		CHECK(lr->line == in->line, "result line %zu is %d, input %d", i, lr->line, in->line);
		CHECK(lr->gross == in->unit_price * in->qty, "line %d gross %lld", lr->line, (long long) lr->gross);
		CHECK(lr->discount >= 0, "line %d discount %lld", lr->line, (long long) lr->discount);
		CHECK(lr->net == lr->gross - lr->discount && lr->net >= 0,
			  "line %d gross %lld discount %lld net %lld", lr->line, (long long) lr->gross,
			  (long long) lr->discount, (long long) lr->net);
		for (k = 0; k < lr->npromos; k++)
		{
			CHECK(lr->promos[k].amount > 0, "line %d promotion %d amount %lld", lr->line,
				  lr->promos[k].id, (long long) lr->promos[k].amount);
			CHECK(k == 0 || lr->promos[k - 1].id < lr->promos[k].id, "line %d promotions unsorted", lr->line);
			sum += lr->promos[k].amount;
		}
		CHECK(sum == lr->discount, "line %d promotions add to %lld, discount %lld",
			  lr->line, (long long) sum, (long long) lr->discount);
		gross += lr->gross;
		discount += lr->discount;
	}
	CHECK(gross == res->gross, "lines gross %lld, total gross %lld", (long long) gross, (long long) res->gross);
	CHECK(discount == res->discount, "lines discount %lld, total discount %lld",
		  (long long) discount, (long long) res->discount);
	CHECK(res->total == res->gross - res->discount, "total %lld", (long long) res->total);
	CHECK(res->discount >= 0 && res->discount <= res->gross, "discount %lld of gross %lld",
		  (long long) res->discount, (long long) res->gross);

	for (i = 0; i < res->napplied; i++)
	{
		const promo_applied *ap = &res->applied[i];
		const promo_def *d = NULL;

		for (j = 0; j < fc->npromos; j++)
			if (fc->promos[j].id == ap->id)
				d = &fc->promos[j];
		CHECK(d != NULL, "applied promotion %d was not given", ap->id);
		CHECK(i == 0 || res->applied[i - 1].id < ap->id, "applied list unsorted");
		CHECK(ap->times >= 1 && (d->max_per_order == 0 || ap->times <= d->max_per_order),
			  "promotion %d applied %lld times (limit %d)", ap->id, (long long) ap->times,
			  d->max_per_order);
		CHECK(ap->amount > 0, "promotion %d applied for %lld", ap->id, (long long) ap->amount);
		applied += ap->amount;
	}
	CHECK(applied == res->discount, "applied promotions add to %lld, discount %lld",
		  (long long) applied, (long long) res->discount);
	for (i = 1; i < res->nnot_applied; i++)
		CHECK(res->not_applied[i - 1].id < res->not_applied[i].id ||
			  (res->not_applied[i - 1].id == res->not_applied[i].id &&
			   res->not_applied[i - 1].reason <= res->not_applied[i].reason),
			  "not_applied list unsorted at %zu", i);
}

/* The discount of item promotions (every kind but spend_threshold). */
static int64_t
item_discount(const fuzz_case *fc, const promo_result *res)
{
	int64_t		sum = 0;
	size_t		i,
				j;

	for (i = 0; i < res->napplied; i++)
		for (j = 0; j < fc->npromos; j++)
			if (fc->promos[j].id == res->applied[i].id &&
				fc->promos[j].rule->kind != PROMO_SPEND_THRESHOLD)
				sum += res->applied[i].amount;
	return sum;
}

/* Each item promotion alone gives no more than all of them together. */
static void
check_singles(const fuzz_case *fc, const promo_result *all)
{
	size_t		p;
	int64_t		together = item_discount(fc, all);

	if (all->approximate)
		return;
	for (p = 0; p < fc->npromos; p++)
	{
		promo_result one;
		promo_error err;
		int64_t		alone;

		if (fc->promos[p].rule->kind == PROMO_SPEND_THRESHOLD)
			continue;
		CHECK(promo_evaluate(&fc->basket, &fc->promos[p], 1, &fc->opts, &A, &one, &err) == PROMO_OK,
			  "promotion %d alone refused: %s", fc->promos[p].id, err.msg);
		alone = item_discount(fc, &one);
		CHECK(one.approximate || alone <= together,
			  "promotion %d alone gives %lld, all together only %lld", fc->promos[p].id,
			  (long long) alone, (long long) together);
		promo_result_free(&one, &A);
	}
}

/* Whether a promotion is in scope for the basket (the engine's scoping). */
static bool
in_scope(const fuzz_case *fc, const promo_def *d)
{
	size_t		i;
	bool		found;

	if ((d->has_start && fc->basket.at < d->starts_at) ||
		(d->has_end && fc->basket.at >= d->ends_at))
		return false;
	if (d->stores)
	{
		found = false;
		for (i = 0; i < d->nstores; i++)
			found |= d->stores[i] == fc->basket.store;
		if (!found)
			return false;
	}
	if (d->channels)
	{
		found = false;
		for (i = 0; i < d->nchannels; i++)
			found |= strcmp(d->channels[i], fc->basket.channel) == 0;
		if (!found)
			return false;
	}
	if (d->coupon)
	{
		found = false;
		for (i = 0; i < fc->basket.ncoupons; i++)
			found |= strcasecmp(d->coupon, fc->basket.coupons[i]) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* On small baskets: the item discounts equal the subset brute force's. */
static void
check_brute_force(const fuzz_case *fc, const promo_result *res)
{
	static dp_state s;
	promo_def	scoped[MAXP];
	int64_t		want[MAXP];
	int			nscoped = 0,
				p;
	size_t		i,
				j;
	int64_t		units = 0,
				best;

	if (res->approximate)
		return;
	for (i = 0; i < fc->basket.nlines; i++)
		units += fc->lines[i].qty;
	if (units > DP_UNITS)
		return;
	s.nu = 0;
	for (i = 0; i < fc->basket.nlines; i++)
		for (j = 0; j < (size_t) fc->lines[i].qty; j++)
		{
			s.u[s.nu].price = fc->lines[i].unit_price;
			s.u[s.nu].item = fc->lines[i].item;
			s.u[s.nu].cat = fc->cats[i][0];
			s.u[s.nu].root = fc->cats[i][1];
			s.nu++;
		}
	for (i = 0; i < fc->npromos; i++)
		if (in_scope(fc, &fc->promos[i]))
			scoped[nscoped++] = fc->promos[i];
	best = dp_solve(&s, scoped, nscoped, want);
	CHECK(item_discount(fc, res) == best, "item discount %lld, brute force %lld",
		  (long long) item_discount(fc, res), (long long) best);
	for (p = 0; p < nscoped; p++)
	{
		int64_t		got = 0;

		if (scoped[p].rule->kind == PROMO_SPEND_THRESHOLD)
			continue;
		for (i = 0; i < res->napplied; i++)
			if (res->applied[i].id == scoped[p].id)
				got = res->applied[i].amount;
		CHECK(got == want[p], "promotion %d gets %lld, brute force %lld (the tie rule)",
			  scoped[p].id, (long long) got, (long long) want[p]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fuzz_case fc,
				shuffled;
	fuzz_reader in;
	promo_result res,
				res2;
	promo_error err;
	promo_status st;
	size_t		i;
	int64_t		gross = 0;

	fuzz_live = 0;
	fuzz_reader_init(&in, data, size);
	decode(&in, &fc);

	st = promo_evaluate(&fc.basket, fc.promos, fc.npromos, &fc.opts, &A, &res, &err);
	for (i = 0; i < fc.basket.nlines; i++)	/* at most 8 x 10^18: no overflow */
		gross += fc.lines[i].unit_price * fc.lines[i].qty;
	if (gross > PROMO_MAX_BASKET_GROSS)
	{
		/* documented limit: refused, with a message, nothing allocated */
		CHECK(st == PROMO_EINPUT && err.msg[0] != '\0', "gross %lld gives status %d",
			  (long long) gross, (int) st);
		for (i = 0; i < fc.npromos; i++)
			promo_rule_free(fc.rules[i], &A);
		CHECK(fuzz_live == 0, "%ld allocations leaked on a refused basket", fuzz_live);
		return 0;
	}
	CHECK(st == PROMO_OK, "evaluate refused a valid basket: %s", err.msg);
	check_result(&fc, &res);
	check_singles(&fc, &res);
	check_brute_force(&fc, &res);

	/* the same basket with lines and promotions in another order */
	shuffled = fc;
	shuffled.basket.lines = shuffled.lines;
	for (i = 0; i < fc.basket.nlines; i++)
		shuffled.lines[i].categories = shuffled.cats[i];
	for (i = fc.basket.nlines; i > 1; i--)
	{
		size_t		j = fuzz_u8(&in) % i;
		promo_line	t = shuffled.lines[i - 1];

		shuffled.lines[i - 1] = shuffled.lines[j];
		shuffled.lines[j] = t;
	}
	for (i = fc.npromos; i > 1; i--)
	{
		size_t		j = fuzz_u8(&in) % i;
		promo_def	t = shuffled.promos[i - 1];

		shuffled.promos[i - 1] = shuffled.promos[j];
		shuffled.promos[j] = t;
	}
	st = promo_evaluate(&shuffled.basket, shuffled.promos, shuffled.npromos,
						&shuffled.opts, &A, &res2, &err);
	CHECK(st == PROMO_OK, "evaluate refused the shuffled basket: %s", err.msg);
	check_result(&shuffled, &res2);
	CHECK(same_result(&res, &res2),
		  "order matters: total %lld/%lld discount %lld/%lld approximate %d/%d",
		  (long long) res.total, (long long) res2.total, (long long) res.discount,
		  (long long) res2.discount, res.approximate, res2.approximate);

	promo_result_free(&res, &A);
	promo_result_free(&res2, &A);
	for (i = 0; i < fc.npromos; i++)
		promo_rule_free(fc.rules[i], &A);
	CHECK(fuzz_live == 0, "%ld allocations leaked", fuzz_live);
	return 0;
}
