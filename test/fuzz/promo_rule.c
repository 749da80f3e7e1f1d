/*
 * promo_rule.c: libFuzzer target for the promotion rule compiler
 * (src/core/promo_json.c, src/core/promo_rule.c), which validates the rule
 * JSON head office writes into icos.promotion.
 *
 * Input: byte 0 picks the kind (one of the seven, or an unknown name),
 * byte 1 makes allocation number byte1 fail when below 16, the rest is the
 * rule JSON.  Invariants:
 *	- no read outside the text (the text is an exact-size copy), no leak:
 *	  every allocation is freed by promo_rule_free / promo_json_free, on
 *	  success, on a rule error and on an allocation failure alike;
 *	- an error has a message and a position inside the text;
 *	- an accepted rule is within the documented limits: percent 0..100%,
 *	  money 0..PROMO_MAX_MONEY, quantities 1..PROMO_MAX_GROUP_QTY, at most
 *	  PROMO_MAX_MATCH_IDS ids per match, ids sorted without duplicates;
 *	- the JSON reader's node array is a well-formed tree (every subtree
 *	  ends after it starts and inside the array, objects alternate string
 *	  keys and values, strings are NUL-terminated);
 *	- the money reader accepts only 0..PROMO_MAX_MONEY pence.
 */
#include <string.h>

#include "promo.h"
#include "fuzz.h"

static const promo_alloc A = {fuzz_alloc, fuzz_free, NULL};

static const char *const kinds[] = {
	"percent_off", "amount_off", "fixed_price", "multibuy", "buy_get",
	"bundle", "spend_threshold", "two_for_one"
};

static void
check_error(const promo_error *err, size_t len)
{
	CHECK(err->msg[0] != '\0' && strlen(err->msg) < sizeof(err->msg), "empty message");
	CHECK(err->pos <= len, "error position %zu of %zu", err->pos, len);
	CHECK(err->line >= 0 && err->column >= 0, "line %d column %d", err->line, err->column);
}

static void
check_match(const promo_match *m)
{
	size_t		i;

	if (m->kind == PROMO_MATCH_ALL)
	{
		CHECK(m->nids == 0, "match all with %zu ids", m->nids);
		return;
	}
	CHECK(m->kind == PROMO_MATCH_UPC || m->kind == PROMO_MATCH_CATEGORY, "match kind %d", (int) m->kind);
	CHECK(m->nids >= 1 && m->nids <= PROMO_MAX_MATCH_IDS, "%zu ids", m->nids);
	for (i = 1; i < m->nids; i++)
		CHECK(m->ids[i - 1] < m->ids[i], "ids not sorted at %zu", i);
}

static void
check_rule(const promo_rule *r, const char *kind)
{
	size_t		i;

	CHECK(strcmp(promo_kind_name(r->kind), kind) == 0, "kind %s for %s",
		  promo_kind_name(r->kind), kind);
	CHECK(r->percent_bp >= 0 && r->percent_bp <= 10000, "percent %d", r->percent_bp);
	CHECK(r->amount >= 0 && r->amount <= PROMO_MAX_MONEY, "amount %lld", (long long) r->amount);
	CHECK(r->price >= 0 && r->price <= PROMO_MAX_MONEY, "price %lld", (long long) r->price);
	CHECK(r->min_spend >= 0 && r->min_spend <= PROMO_MAX_MONEY, "min_spend %lld", (long long) r->min_spend);
	switch (r->kind)
	{
		case PROMO_MULTIBUY:
			CHECK(r->qty >= 1 && r->qty <= PROMO_MAX_GROUP_QTY, "qty %d", r->qty);
			check_match(&r->target);
			break;
		case PROMO_BUY_GET:
			CHECK(r->buy_qty >= 1 && r->buy_qty <= PROMO_MAX_GROUP_QTY &&
				  r->get_qty >= 1 && r->get_qty <= PROMO_MAX_GROUP_QTY,
				  "buy %d get %d", r->buy_qty, r->get_qty);
			check_match(&r->target);
			check_match(&r->get);
			break;
		case PROMO_BUNDLE:
			CHECK(r->nitems >= 1 && r->nitems <= PROMO_MAX_BUNDLE_ITEMS, "%zu items", r->nitems);
			for (i = 0; i < r->nitems; i++)
				check_match(&r->items[i]);
			break;
		default:
			check_match(&r->target);
			break;
	}
}

static void
check_tree(const promo_json_doc *doc, size_t len)
{
	size_t		i;

	CHECK(doc->nnodes >= 1 && doc->nodes[0].next == doc->nnodes, "root spans %zu of %zu",
		  doc->nodes[0].next, doc->nnodes);
	for (i = 0; i < doc->nnodes; i++)
	{
		const promo_json_node *n = &doc->nodes[i];

		CHECK(n->next > i && n->next <= doc->nnodes, "node %zu next %zu", i, n->next);
		CHECK(n->pos < len, "node %zu at %zu of %zu", i, n->pos, len);
		if (n->type == PROMO_JSON_STRING)
			CHECK(n->str[n->len] == '\0', "string %zu not terminated", i);
		if (n->type == PROMO_JSON_OBJECT || n->type == PROMO_JSON_ARRAY)
		{
			size_t		c = i + 1,
						k = 0;

			while (c < n->next)
			{
				if (n->type == PROMO_JSON_OBJECT && k % 2 == 0)
					CHECK(doc->nodes[c].type == PROMO_JSON_STRING, "key %zu of %zu", k, i);
				c = doc->nodes[c].next;
				k++;
			}
			CHECK(c == n->next, "children of %zu overrun", i);
			CHECK(k == (n->type == PROMO_JSON_OBJECT ? 2 * n->count : n->count),
				  "node %zu: %zu children for count %zu", i, k, n->count);
		}
		else
			CHECK(n->next == i + 1, "scalar %zu has children", i);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *kind;
	char	   *text;
	size_t		len;
	promo_rule *rule = NULL;
	promo_json_doc doc;
	promo_error err;
	promo_status st;
	int64_t		pence;

	if (size < 2)
		return 0;
	kind = kinds[data[0] % 8];
	fuzz_fail_at = data[1] < 16 ? data[1] : -1;
	len = size - 2;
	text = malloc(len ? len : 1);
	memcpy(text, data + 2, len);

	fuzz_live = fuzz_nalloc = 0;
	memset(&err, 0, sizeof(err));
	st = promo_rule_compile(kind, text, len, NULL, NULL, &A, &rule, &err);
	if (st == PROMO_OK)
	{
		CHECK(rule != NULL, "no rule");
		check_rule(rule, kind);
		promo_rule_free(rule, &A);
	}
	else
	{
		CHECK(rule == NULL, "a rule on status %d", (int) st);
		CHECK(st == PROMO_ENOMEM || st == PROMO_EJSON || st == PROMO_ERULE,
			  "status %d", (int) st);
		CHECK(st != PROMO_ENOMEM || fuzz_fail_at >= 0, "out of memory without a failing allocation");
		if (st != PROMO_ENOMEM)
			check_error(&err, len);
	}
	CHECK(fuzz_live == 0, "%ld allocations leaked (status %d)", fuzz_live, (int) st);

	fuzz_live = fuzz_nalloc = 0;
	fuzz_fail_at = -1;
	memset(&doc, 0, sizeof(doc));
	st = promo_json_parse(text, len, &A, &doc, &err);
	if (st == PROMO_OK)
		check_tree(&doc, len);
	else
	{
		CHECK(st == PROMO_EJSON, "json status %d", (int) st);
		check_error(&err, len);
	}
	promo_json_free(&doc, &A);
	CHECK(fuzz_live == 0, "json reader leaked %ld allocations", fuzz_live);

	if (promo_money_from_text(text, len, &pence))
		CHECK(pence >= 0 && pence <= PROMO_MAX_MONEY, "money %lld", (long long) pence);

	free(text);
	return 0;
}
