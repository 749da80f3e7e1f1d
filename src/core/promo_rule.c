/*-------------------------------------------------------------------------
 *
 * promo_rule.c
 *	  Validate a promotion's kind and rule JSON and compile it into a
 *	  promo_rule: exact pence, percentages in hundredths, matches as sorted
 *	  id arrays.  Every error names the key at fault and says what it must
 *	  be, so the SQL layer can raise IC005 with the message unchanged.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtin.h"
#include "promo.h"

static const char *const promo_kind_names[] = {
	"percent_off", "amount_off", "fixed_price", "multibuy", "buy_get",
	"bundle", "spend_threshold"
};

#define NKINDS (sizeof(promo_kind_names) / sizeof(promo_kind_names[0]))

/* Keys each kind accepts (NULL-terminated). */
static const char *const keys_percent_off[] = {"target", "percent", NULL};
static const char *const keys_amount_off[] = {"target", "amount", NULL};
static const char *const keys_fixed_price[] = {"target", "price", NULL};
static const char *const keys_multibuy[] = {"target", "qty", "price", NULL};
static const char *const keys_buy_get[] = {"buy", "buy_qty", "get", "get_qty",
"percent", NULL};
static const char *const keys_bundle[] = {"items", "price", NULL};
static const char *const keys_spend[] = {"target", "min_spend", "amount",
"percent", NULL};

static const char *const *const promo_kind_keys[] = {
	keys_percent_off, keys_amount_off, keys_fixed_price, keys_multibuy,
	keys_buy_get, keys_bundle, keys_spend
};

bool
promo_kind_from_name(const char *name, promo_kind *kind)
{
	size_t		k;

	for (k = 0; k < NKINDS; k++)
	{
		if (strcmp(name, promo_kind_names[k]) == 0)
		{
			*kind = (promo_kind) k;
			return true;
		}
	}
	return false;
}

const char *
promo_kind_name(promo_kind kind)
{
	return (size_t) kind < NKINDS ? promo_kind_names[kind] : "unknown";
}

/* Compilation state: temporaries are freed whatever happens. */
#define MAX_MATCHES (PROMO_MAX_BUNDLE_ITEMS + 2)

typedef struct rcomp
{
	const promo_alloc *a;
	promo_json_doc doc;
	promo_error *err;
	promo_upc_resolver resolve;
	void	   *resolve_ctx;
	promo_kind	kind;
	promo_rule	r;
	promo_match matches[MAX_MATCHES];	/* target, get, items... */
	int64_t    *idbufs[MAX_MATCHES];
	int			nmatches;
	promo_status status;
} rcomp;

static bool rfail(rcomp *c, size_t pos, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

static bool
rfail(rcomp *c, size_t pos, const char *fmt,...)
{
	va_list		ap;
	char		msg[sizeof(c->err->msg)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	promo_set_error(c->err, c->doc.text, c->doc.textlen, pos, "%s", msg);
	c->status = PROMO_ERULE;
	return false;
}

static bool
default_resolver(void *ctx, const char *code, size_t len, int64_t *id,
				 char *msg, size_t msgsize)
{
	gtin_parse_result r;

	(void) ctx;
	if (gtin_parse(code, len, GTIN_KIND_ANY, &r) == GTIN_OK)
	{
		*id = r.value;
		return true;
	}
	if (r.status == GTIN_BAD_CHECK)
		snprintf(msg, msgsize, "the check digit should be %d", r.expected_check);
	else
		snprintf(msg, msgsize, "it is not an 8, 12, 13 or 14 digit product code");
	return false;
}

static int
cmp_int64(const void *x, const void *y)
{
	int64_t		a = *(const int64_t *) x;
	int64_t		b = *(const int64_t *) y;

	return (a > b) - (a < b);
}

/* Parse a <match> at node idx into c->matches[c->nmatches]. */
static bool
parse_match(rcomp *c, size_t idx, const char *key, promo_match **out)
{
	const promo_json_doc *d = &c->doc;
	const promo_json_node *n = &d->nodes[idx];
	const promo_json_node *kn,
			   *vn;
	promo_match *m;
	size_t		i,
				k,
				nids;
	int64_t    *ids;

	if (n->type != PROMO_JSON_OBJECT || n->count != 1)
		return rfail(c, n->pos, "key \"%s\" must be a match: {\"upc\": [codes]}, {\"category\": [ids]} or {\"all\": true}", key);
	kn = &d->nodes[idx + 1];
	vn = &d->nodes[idx + 2];
	m = &c->matches[c->nmatches];
	m->nids = 0;
	m->ids = NULL;
	if (strcmp(kn->str, "all") == 0)
	{
		if (vn->type != PROMO_JSON_TRUE)
			return rfail(c, vn->pos, "key \"%s\": \"all\" must be true", key);
		m->kind = PROMO_MATCH_ALL;
		*out = m;
		c->nmatches++;
		return true;
	}
	if (strcmp(kn->str, "upc") == 0)
		m->kind = PROMO_MATCH_UPC;
	else if (strcmp(kn->str, "category") == 0)
		m->kind = PROMO_MATCH_CATEGORY;
	else
		return rfail(c, kn->pos, "key \"%s\": unknown match \"%s\"; use \"upc\", \"category\" or \"all\"", key, kn->str);
	if (vn->type != PROMO_JSON_ARRAY || vn->count == 0 ||
		vn->count > PROMO_MAX_MATCH_IDS)
		return rfail(c, vn->pos,
					 m->kind == PROMO_MATCH_UPC ?
					 "key \"%s\": \"upc\" must be a non-empty array of product codes (strings)" :
					 "key \"%s\": \"category\" must be a non-empty array of category ids",
					 key);
	nids = vn->count;
	ids = c->a->alloc(c->a->ctx, nids * sizeof(int64_t));
	if (ids == NULL)
	{
		c->status = PROMO_ENOMEM;
		return false;
	}
	c->idbufs[c->nmatches] = ids;
	i = idx + 3;
	for (k = 0; k < nids; k++, i = d->nodes[i].next)
	{
		const promo_json_node *e = &d->nodes[i];

		if (m->kind == PROMO_MATCH_UPC)
		{
			char		why[120];
			char		code[64];

			why[0] = '\0';
			if (e->type != PROMO_JSON_STRING)
				return rfail(c, e->pos, "key \"%s\": \"upc\" must be a non-empty array of product codes (strings)", key);
			snprintf(code, sizeof(code), "%.40s", e->str);
			if (!c->resolve(c->resolve_ctx, e->str, e->len, &ids[k],
							why, sizeof(why)))
				return rfail(c, e->pos, "key \"%s\": product code \"%s\" is not valid: %.110s",
							 key, code, why);
		}
		else
		{
			size_t		j;
			int64_t		v = 0;

			if (e->type != PROMO_JSON_NUMBER || e->str[0] == '-' || e->len > 10)
				return rfail(c, e->pos, "key \"%s\": category ids must be whole numbers from 0 to 2147483647", key);
			for (j = 0; j < e->len; j++)
			{
				if (e->str[j] < '0' || e->str[j] > '9')
					return rfail(c, e->pos, "key \"%s\": category ids must be whole numbers from 0 to 2147483647", key);
				v = v * 10 + (e->str[j] - '0');
			}
			if (v > INT32_MAX)
				return rfail(c, e->pos, "key \"%s\": category ids must be whole numbers from 0 to 2147483647", key);
			ids[k] = v;
		}
	}
	qsort(ids, nids, sizeof(int64_t), cmp_int64);
	for (i = 0, k = 0; k < nids; k++)
		if (k == 0 || ids[k] != ids[i - 1])
			ids[i++] = ids[k];
	m->nids = i;
	m->ids = ids;
	*out = m;
	c->nmatches++;
	return true;
}

static bool
get_money(rcomp *c, long idx, const char *key, bool positive, int64_t *out)
{
	const promo_json_node *n = &c->doc.nodes[idx];

	if ((n->type == PROMO_JSON_NUMBER || n->type == PROMO_JSON_STRING) &&
		promo_money_from_text(n->str, n->len, out) &&
		(!positive || *out > 0))
		return true;
	if (positive)
		return rfail(c, n->pos, "key \"%s\" must be an amount of money greater than 0 with at most 2 decimal places, such as 5.00", key);
	return rfail(c, n->pos, "key \"%s\" must be an amount of money (0 or more) with at most 2 decimal places, such as 9.99", key);
}

static bool
get_percent(rcomp *c, long idx, const char *key, int32_t *bp)
{
	const promo_json_node *n = &c->doc.nodes[idx];
	int64_t		v;

	if (n->type == PROMO_JSON_NUMBER && promo_money_from_text(n->str, n->len, &v) &&
		v > 0 && v <= 10000)
	{
		*bp = (int32_t) v;
		return true;
	}
	return rfail(c, n->pos, "key \"%s\" must be a number between 0 and 100 (more than 0, at most 2 decimal places)", key);
}

static bool
get_count(rcomp *c, long idx, const char *key, int32_t min, int32_t *out)
{
	const promo_json_node *n = &c->doc.nodes[idx];
	int64_t		v = 0;
	size_t		j;
	char		range[40];

	snprintf(range, sizeof(range), " from %d to %d", (int) min,
			 (int) PROMO_MAX_GROUP_QTY);
	if (n->type != PROMO_JSON_NUMBER || n->len > 4)
		return rfail(c, n->pos, "key \"%s\" must be a whole number%s", key, range);
	for (j = 0; j < n->len; j++)
	{
		if (n->str[j] < '0' || n->str[j] > '9')
			return rfail(c, n->pos, "key \"%s\" must be a whole number%s", key, range);
		v = v * 10 + (n->str[j] - '0');
	}
	if (v < min || v > PROMO_MAX_GROUP_QTY)
		return rfail(c, n->pos, "key \"%s\" must be a whole number%s", key, range);
	*out = (int32_t) v;
	return true;
}

static long
require(rcomp *c, const char *key)
{
	long		idx = promo_json_member(&c->doc, 0, key);

	if (idx < 0)
	{
		rfail(c, 0, "key \"%s\" is required for kind %s", key,
			  promo_kind_name(c->kind));
		return -1;
	}
	return idx;
}

static bool
same_match(const promo_match *x, const promo_match *y)
{
	return x->kind == y->kind && x->nids == y->nids &&
		(x->nids == 0 || memcmp(x->ids, y->ids, x->nids * sizeof(int64_t)) == 0);
}

static bool
compile_body(rcomp *c)
{
	const promo_json_doc *d = &c->doc;
	const char *const *allowed = promo_kind_keys[c->kind];
	promo_rule *r = &c->r;
	promo_match *m;
	size_t		i,
				k;
	long		idx;

	if (d->nodes[0].type != PROMO_JSON_OBJECT)
		return rfail(c, 0, "the rule must be a JSON object with the keys of kind %s",
					 promo_kind_name(c->kind));

	/* every key known, none twice */
	i = 1;
	for (k = 0; k < d->nodes[0].count; k++, i = d->nodes[i + 1].next)
	{
		const promo_json_node *kn = &d->nodes[i];
		size_t		j,
					i2;
		bool		known = false;

		for (j = 0; allowed[j]; j++)
			if (strcmp(kn->str, allowed[j]) == 0)
				known = true;
		if (!known)
			return rfail(c, kn->pos, "unknown key \"%s\" for kind %s", kn->str,
						 promo_kind_name(c->kind));
		i2 = d->nodes[i + 1].next;
		for (j = k + 1; j < d->nodes[0].count; j++, i2 = d->nodes[i2 + 1].next)
			if (strcmp(d->nodes[i2].str, kn->str) == 0)
				return rfail(c, d->nodes[i2].pos, "duplicate key \"%s\"", kn->str);
	}

	memset(r, 0, sizeof(*r));
	r->kind = c->kind;
	switch (c->kind)
	{
		case PROMO_PERCENT_OFF:
		case PROMO_AMOUNT_OFF:
		case PROMO_FIXED_PRICE:
		case PROMO_MULTIBUY:
		case PROMO_SPEND_THRESHOLD:
			if ((idx = require(c, "target")) < 0 ||
				!parse_match(c, (size_t) idx, "target", &m))
				return false;
			r->target = *m;
			break;
		case PROMO_BUY_GET:
			if ((idx = require(c, "buy")) < 0 ||
				!parse_match(c, (size_t) idx, "buy", &m))
				return false;
			r->target = *m;
			if ((idx = promo_json_member(d, 0, "get")) >= 0)
			{
				if (!parse_match(c, (size_t) idx, "get", &m))
					return false;
				r->get = *m;
			}
			else
				r->get = r->target;
			r->get_is_buy = same_match(&r->get, &r->target);
			if ((idx = require(c, "buy_qty")) < 0 ||
				!get_count(c, idx, "buy_qty", 1, &r->buy_qty))
				return false;
			if ((idx = require(c, "get_qty")) < 0 ||
				!get_count(c, idx, "get_qty", 1, &r->get_qty))
				return false;
			if ((idx = require(c, "percent")) < 0 ||
				!get_percent(c, idx, "percent", &r->percent_bp))
				return false;
			break;
		case PROMO_BUNDLE:
			if ((idx = require(c, "items")) < 0)
				return false;
			if (d->nodes[idx].type != PROMO_JSON_ARRAY ||
				d->nodes[idx].count < 2 ||
				d->nodes[idx].count > PROMO_MAX_BUNDLE_ITEMS)
				return rfail(c, d->nodes[idx].pos, "key \"%s\" must be an array of 2 to %s matches, one per item of the bundle",
							 "items", "16");
			i = (size_t) idx + 1;
			for (k = 0; k < d->nodes[idx].count; k++, i = d->nodes[i].next)
			{
				char		name[32];

				snprintf(name, sizeof(name), "items[%zu]", k);
				if (!parse_match(c, i, name, &m))
					return false;
			}
			r->nitems = d->nodes[idx].count;
			break;
	}

	switch (c->kind)
	{
		case PROMO_PERCENT_OFF:
			return (idx = require(c, "percent")) >= 0 &&
				get_percent(c, idx, "percent", &r->percent_bp);
		case PROMO_AMOUNT_OFF:
			return (idx = require(c, "amount")) >= 0 &&
				get_money(c, idx, "amount", true, &r->amount);
		case PROMO_FIXED_PRICE:
		case PROMO_BUNDLE:
			return (idx = require(c, "price")) >= 0 &&
				get_money(c, idx, "price", false, &r->price);
		case PROMO_MULTIBUY:
			return (idx = require(c, "qty")) >= 0 &&
				get_count(c, idx, "qty", 2, &r->qty) &&
				(idx = require(c, "price")) >= 0 &&
				get_money(c, idx, "price", false, &r->price);
		case PROMO_BUY_GET:
			return true;
		case PROMO_SPEND_THRESHOLD:
			{
				long		ia = promo_json_member(d, 0, "amount");
				long		ip = promo_json_member(d, 0, "percent");

				if ((idx = require(c, "min_spend")) < 0 ||
					!get_money(c, idx, "min_spend", false, &r->min_spend))
					return false;
				if ((ia < 0) == (ip < 0))
					return rfail(c, 0, "kind spend_threshold needs exactly one of key \"%s\" and key \"%s\"",
								 "amount", "percent");
				if (ia >= 0)
					return get_money(c, ia, "amount", true, &r->amount);
				return get_percent(c, ip, "percent", &r->percent_bp);
			}
	}
	return true;
}

promo_status
promo_rule_compile(const char *kind, const char *json, size_t len,
				   promo_upc_resolver resolve, void *resolve_ctx,
				   const promo_alloc *a, promo_rule **rule, promo_error *err)
{
	rcomp		c;
	promo_status st;
	int			k;

	*rule = NULL;
	memset(&c, 0, sizeof(c));
	c.a = a;
	c.err = err;
	c.resolve = resolve ? resolve : default_resolver;
	c.resolve_ctx = resolve_ctx;
	c.status = PROMO_OK;
	if (kind == NULL || !promo_kind_from_name(kind, &c.kind))
	{
		promo_set_error(err, NULL, 0, 0,
						"unknown promotion kind \"%.40s\"; the kinds are percent_off, amount_off, fixed_price, multibuy, buy_get, bundle and spend_threshold",
						kind ? kind : "(null)");
		return PROMO_ERULE;
	}
	st = promo_json_parse(json, len, a, &c.doc, err);
	if (st != PROMO_OK)
		return st;

	if (compile_body(&c))
	{
		/* one block: the rule, the bundle's matches, then all ids */
		size_t		nitems = c.r.nitems;
		size_t		total_ids = 0;
		size_t		size;
		unsigned char *block;
		promo_match *items;
		int64_t    *ids;
		int			first_item = (c.kind == PROMO_BUNDLE) ? 0 : -1;

		for (k = 0; k < c.nmatches; k++)
			total_ids += c.matches[k].nids;
		size = sizeof(promo_rule) + nitems * sizeof(promo_match) +
			total_ids * sizeof(int64_t);
		block = a->alloc(a->ctx, size);
		if (block == NULL)
			c.status = PROMO_ENOMEM;
		else
		{
			promo_rule *r = (promo_rule *) block;

			items = (promo_match *) (block + sizeof(promo_rule));
			ids = (int64_t *) (block + sizeof(promo_rule) +
							   nitems * sizeof(promo_match));
			*r = c.r;
			for (k = 0; k < c.nmatches; k++)
			{
				promo_match *m = &c.matches[k];

				if (m->nids)
					memcpy(ids, m->ids, m->nids * sizeof(int64_t));
				m->ids = m->nids ? ids : NULL;
				ids += m->nids;
			}
			if (first_item == 0)
			{
				for (k = 0; k < (int) nitems; k++)
					items[k] = c.matches[k];
				r->items = items;
			}
			else
			{
				r->target = c.matches[0];
				if (c.kind == PROMO_BUY_GET)
					r->get = c.nmatches > 1 ? c.matches[1] : c.matches[0];
			}
			*rule = r;
		}
	}
	for (k = 0; k < MAX_MATCHES; k++)
		if (c.idbufs[k] && a->free)
			a->free(a->ctx, c.idbufs[k]);
	promo_json_free(&c.doc, a);
	return c.status;
}

void
promo_rule_free(promo_rule *rule, const promo_alloc *a)
{
	if (rule && a->free)
		a->free(a->ctx, rule);
}
