/*
 * promo_rule.c: unit tests of the promotion core's JSON reader, money
 * conversion and rule compiler (src/core/promo_json.c, promo_rule.c).
 *
 * Every allocation goes through counting hooks, and the test ends by
 * checking that every one was freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promo.h"
#include "tap.h"

static long live = 0;
static long fail_after = -1;	/* make the Nth allocation fail */

static void *
t_alloc(void *ctx, size_t size)
{
	(void) ctx;
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	live++;
	return malloc(size ? size : 1);
}

static void
t_free(void *ctx, void *p)
{
	(void) ctx;
	live--;
	free(p);
}

static const promo_alloc A = {t_alloc, t_free, NULL};

static promo_status
compile(const char *kind, const char *json, promo_rule **r, promo_error *err)
{
	return promo_rule_compile(kind, json, strlen(json), NULL, NULL, &A, r, err);
}

/* Compile and expect an error whose message is exactly msg. */
static void
rule_error(const char *kind, const char *json, const char *msg)
{
	promo_rule *r;
	promo_error err;
	promo_status st = compile(kind, json, &r, &err);

	ok(st == PROMO_ERULE && strcmp(err.msg, msg) == 0 && r == NULL,
	   "%s %s: %s", kind, json, st == PROMO_OK ? "(accepted)" : err.msg);
}

static void
json_error(const char *text, size_t pos, const char *msg)
{
	promo_json_doc doc;
	promo_error err;
	promo_status st = promo_json_parse(text, strlen(text), &A, &doc, &err);

	ok(st == PROMO_EJSON && err.pos == pos && strstr(err.msg, msg) != NULL,
	   "JSON %s rejected at %zu (%s)", text, pos, st == PROMO_OK ? "accepted" : err.msg);
	if (st == PROMO_OK)
		promo_json_free(&doc, &A);
}

static void
money(const char *s, int64_t expect)
{
	int64_t		v = -1;
	bool		okv = promo_money_from_text(s, strlen(s), &v);

	if (expect < 0)
		ok(!okv, "money \"%s\" rejected", s);
	else
		ok(okv && v == expect, "money \"%s\" = %lld pence", s, (long long) v);
}

static bool
resolve_test(void *ctx, const char *code, size_t len, int64_t *id,
			 char *msg, size_t msgsize)
{
	(void) ctx;
	if (len == 3 && memcmp(code, "abc", 3) == 0)
	{
		*id = 42;
		return true;
	}
	snprintf(msg, msgsize, "no such product");
	return false;
}

int
main(void)
{
	promo_json_doc doc;
	promo_error err;
	promo_rule *r;
	promo_status st;

	/* ---------------- JSON reader */
	{
		const char *t = "{\"a\": [1, -2.5e3, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {\"c\": null}, \"d\": true}";

		st = promo_json_parse(t, strlen(t), &A, &doc, &err);
		ok(st == PROMO_OK && doc.nnodes == 12, "well-formed document parses into 12 nodes (%zu)", doc.nnodes);
		if (st == PROMO_OK)
		{
			long		a = promo_json_member(&doc, 0, "a");
			long		d = promo_json_member(&doc, 0, "d");

			ok(a == 2 && doc.nodes[a].type == PROMO_JSON_ARRAY && doc.nodes[a].count == 3,
			   "member a is the 3-element array");
			ok(doc.nodes[a + 2].len == 6 && memcmp(doc.nodes[a + 2].str, "-2.5e3", 6) == 0,
			   "numbers keep their source text");
			ok(strcmp(doc.nodes[a + 3].str, "x\xc3\xa9\xf0\x9f\x98\x80") == 0,
			   "\\u escapes and surrogate pairs decode to UTF-8");
			ok(d >= 0 && doc.nodes[d].type == PROMO_JSON_TRUE, "member after a nested object is found");
			ok(promo_json_member(&doc, 0, "zz") == -1, "missing member is -1");
			promo_json_free(&doc, &A);
		}
	}
	json_error("{\"a\": 1,}", 8, "object key");
	json_error("[1, 2", 5, "end of input");
	json_error("[01]", 2, "',' or ']' expected");
	json_error("{\"a\" 1}", 5, "':' expected");
	json_error("[1.]", 3, "digit expected after decimal point");
	json_error("\"a\tb\"", 2, "control character");
	json_error("\"\\ud800\"", 1, "unpaired high surrogate");
	json_error("\"\\x\"", 1, "bad escape");
	json_error("[NaN]", 1, "unexpected character");
	json_error("[true] x", 7, "trailing characters");
	json_error("\"\xc3\x28\"", 1, "invalid UTF-8");
	{
		char		deep[200];
		int			i;

		for (i = 0; i < 40; i++)
			deep[i] = '[';
		deep[40] = '\0';
		json_error(deep, 32, "nesting too deep");
	}
	{
		const char *t = "{\n  \"a\": [1,\n  2 x]}";

		st = promo_json_parse(t, strlen(t), &A, &doc, &err);
		ok(st == PROMO_EJSON && err.line == 3 && err.column == 5,
		   "error position has line 3 column 5 (got %d:%d)", err.line, err.column);
	}
	{
		const char *t = "[1,2,3]";

		fail_after = 1;
		st = promo_json_parse(t, strlen(t), &A, &doc, &err);
		fail_after = -1;
		ok(st == PROMO_ENOMEM && live == 0, "allocation failure reported, nothing leaked");
	}
	{
		char		buf[4096];
		promo_arena arena;
		promo_alloc aa;
		const char *t = "{\"target\": {\"all\": true}, \"percent\": 10}";

		promo_arena_init(&arena, buf, sizeof(buf));
		aa = promo_arena_hooks(&arena);
		st = promo_rule_compile("percent_off", t, strlen(t), NULL, NULL, &aa, &r, &err);
		ok(st == PROMO_OK && r->percent_bp == 1000 && arena.used > 0 && arena.used <= sizeof(buf),
		   "a rule compiles from a caller's arena (%zu bytes)", arena.used);
		promo_arena_init(&arena, buf, 64);
		st = promo_rule_compile("percent_off", t, strlen(t), NULL, NULL, &aa, &r, &err);
		ok(st == PROMO_ENOMEM, "a too small arena gives PROMO_ENOMEM");
	}

	/* ---------------- money */
	money("49.99", 4999);
	money("0", 0);
	money("10", 1000);
	money("0.5", 50);
	money("5.00", 500);
	money("49.990", 4999);
	money("4.999e1", 4999);
	money("1E2", 10000);
	money("1e-2", 1);
	money("9999999999.99", INT64_C(999999999999));
	money("10000000000.00", -1);
	money("49.999", -1);
	money("1e-3", -1);
	money("-1.00", -1);
	money("-0", -1);
	money("NaN", -1);
	money("1.", -1);
	money(".5", -1);
	money("01.5", -1);
	money(" 1.5", -1);
	money("1.5 ", -1);
	money("1e", -1);
	money("", -1);
	ok(promo_percent_of(1, 2500) == 0 && promo_percent_of(2, 2500) == 1 &&
	   promo_percent_of(999, 3333) == 333 && promo_percent_of(INT64_C(100000000000000), 10000) == INT64_C(100000000000000),
	   "percent_of rounds half up without overflow");

	/* ---------------- rules that compile */
	st = compile("percent_off", "{\"target\": {\"upc\": [\"036000291452\", \"0036000291452\", \"96385074\"]}, \"percent\": 25}", &r, &err);
	ok(st == PROMO_OK && r->kind == PROMO_PERCENT_OFF && r->percent_bp == 2500 &&
	   r->target.kind == PROMO_MATCH_UPC && r->target.nids == 2 &&
	   r->target.ids[0] == INT64_C(96385074) && r->target.ids[1] == INT64_C(36000291452),
	   "percent_off: codes normalised to GTIN-14 numbers, sorted, deduplicated");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("amount_off", "{\"target\": {\"category\": [7, 3, 7]}, \"amount\": \"5.00\"}", &r, &err);
	ok(st == PROMO_OK && r->amount == 500 && r->target.kind == PROMO_MATCH_CATEGORY &&
	   r->target.nids == 2 && r->target.ids[0] == 3, "amount_off: money as a string, categories sorted");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("fixed_price", "{\"price\": 9.99, \"target\": {\"all\": true}}", &r, &err);
	ok(st == PROMO_OK && r->price == 999 && r->target.kind == PROMO_MATCH_ALL, "fixed_price, any key order");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("multibuy", "{\"target\": {\"all\": true}, \"qty\": 3, \"price\": 10.00}", &r, &err);
	ok(st == PROMO_OK && r->qty == 3 && r->price == 1000, "multibuy 3 for 10.00");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("buy_get", "{\"buy\": {\"category\": [1]}, \"buy_qty\": 1, \"get_qty\": 1, \"percent\": 12.5}", &r, &err);
	ok(st == PROMO_OK && r->get_is_buy && r->percent_bp == 1250 && r->get.kind == PROMO_MATCH_CATEGORY &&
	   r->get.ids == r->target.ids, "buy_get: get defaults to buy");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("buy_get", "{\"buy\": {\"category\": [1]}, \"get\": {\"category\": [2]}, \"buy_qty\": 2, \"get_qty\": 1, \"percent\": 100}", &r, &err);
	ok(st == PROMO_OK && !r->get_is_buy && r->get.ids[0] == 2 && r->target.ids[0] == 1 && r->buy_qty == 2,
	   "buy_get with a different get match");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("bundle", "{\"items\": [{\"upc\": [\"036000291452\"]}, {\"category\": [4]}, {\"all\": true}], \"price\": 3.50}", &r, &err);
	ok(st == PROMO_OK && r->nitems == 3 && r->items[0].ids[0] == INT64_C(36000291452) &&
	   r->items[1].ids[0] == 4 && r->items[2].kind == PROMO_MATCH_ALL && r->price == 350, "bundle of three matches");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("spend_threshold", "{\"target\": {\"all\": true}, \"min_spend\": 50, \"amount\": 10}", &r, &err);
	ok(st == PROMO_OK && r->min_spend == 5000 && r->amount == 1000 && r->percent_bp == 0, "spend_threshold with amount");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = compile("spend_threshold", "{\"target\": {\"all\": true}, \"min_spend\": \"20.00\", \"percent\": 5}", &r, &err);
	ok(st == PROMO_OK && r->percent_bp == 500 && r->amount == 0, "spend_threshold with percent");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);
	st = promo_rule_compile("percent_off", "{\"target\": {\"upc\": [\"abc\"]}, \"percent\": 5}", 42,
							resolve_test, NULL, &A, &r, &err);
	ok(st == PROMO_OK && r->target.ids[0] == 42, "a caller's resolver supplies the ids");
	if (st == PROMO_OK)
		promo_rule_free(r, &A);

	/* ---------------- invalid rules: each message */
	rule_error("percent_of", "{}", "unknown promotion kind \"percent_of\"; the kinds are percent_off, amount_off, fixed_price, multibuy, buy_get, bundle and spend_threshold");
	rule_error("percent_off", "[]", "the rule must be a JSON object with the keys of kind percent_off");
	rule_error("percent_off", "{\"target\": {\"all\": true}}", "key \"percent\" is required for kind percent_off");
	rule_error("percent_off", "{\"target\": {\"all\": true}, \"percent\": 0}", "key \"percent\" must be a number between 0 and 100 (more than 0, at most 2 decimal places)");
	rule_error("percent_off", "{\"target\": {\"all\": true}, \"percent\": 100.5}", "key \"percent\" must be a number between 0 and 100 (more than 0, at most 2 decimal places)");
	rule_error("percent_off", "{\"target\": {\"all\": true}, \"percent\": \"25\"}", "key \"percent\" must be a number between 0 and 100 (more than 0, at most 2 decimal places)");
	rule_error("percent_off", "{\"target\": {\"all\": true}, \"percent\": 25, \"pecent\": 1}", "unknown key \"pecent\" for kind percent_off");
	rule_error("percent_off", "{\"target\": {\"all\": true}, \"percent\": 25, \"percent\": 1}", "duplicate key \"percent\"");
	rule_error("percent_off", "{\"target\": {\"all\": false}, \"percent\": 25}", "key \"target\": \"all\" must be true");
	rule_error("percent_off", "{\"target\": {\"sku\": [1]}, \"percent\": 25}", "key \"target\": unknown match \"sku\"; use \"upc\", \"category\" or \"all\"");
	rule_error("percent_off", "{\"target\": {\"upc\": [\"1\"], \"all\": true}, \"percent\": 25}", "key \"target\" must be a match: {\"upc\": [codes]}, {\"category\": [ids]} or {\"all\": true}");
	rule_error("percent_off", "{\"target\": {\"upc\": []}, \"percent\": 25}", "key \"target\": \"upc\" must be a non-empty array of product codes (strings)");
	rule_error("percent_off", "{\"target\": {\"upc\": [36000291452]}, \"percent\": 25}", "key \"target\": \"upc\" must be a non-empty array of product codes (strings)");
	rule_error("percent_off", "{\"target\": {\"upc\": [\"036000291453\"]}, \"percent\": 25}", "key \"target\": product code \"036000291453\" is not valid: the check digit should be 2");
	rule_error("percent_off", "{\"target\": {\"category\": [1.5]}, \"percent\": 25}", "key \"target\": category ids must be whole numbers from 0 to 2147483647");
	rule_error("percent_off", "{\"target\": {\"category\": [2147483648]}, \"percent\": 25}", "key \"target\": category ids must be whole numbers from 0 to 2147483647");
	rule_error("amount_off", "{\"target\": {\"all\": true}, \"amount\": 0}", "key \"amount\" must be an amount of money greater than 0 with at most 2 decimal places, such as 5.00");
	rule_error("amount_off", "{\"target\": {\"all\": true}, \"amount\": \"4.999\"}", "key \"amount\" must be an amount of money greater than 0 with at most 2 decimal places, such as 5.00");
	rule_error("fixed_price", "{\"target\": {\"all\": true}, \"price\": -1}", "key \"price\" must be an amount of money (0 or more) with at most 2 decimal places, such as 9.99");
	rule_error("multibuy", "{\"target\": {\"all\": true}, \"qty\": 1, \"price\": 1}", "key \"qty\" must be a whole number from 2 to 1000");
	rule_error("multibuy", "{\"target\": {\"all\": true}, \"qty\": 2.0, \"price\": 1}", "key \"qty\" must be a whole number from 2 to 1000");
	rule_error("multibuy", "{\"target\": {\"all\": true}, \"qty\": 3}", "key \"price\" is required for kind multibuy");
	rule_error("buy_get", "{\"buy\": {\"all\": true}, \"buy_qty\": 0, \"get_qty\": 1, \"percent\": 50}", "key \"buy_qty\" must be a whole number from 1 to 1000");
	rule_error("buy_get", "{\"buy\": {\"all\": true}, \"buy_qty\": 1, \"get\": 5, \"get_qty\": 1, \"percent\": 50}", "key \"get\" must be a match: {\"upc\": [codes]}, {\"category\": [ids]} or {\"all\": true}");
	rule_error("buy_get", "{\"target\": {\"all\": true}, \"buy_qty\": 1, \"get_qty\": 1, \"percent\": 50}", "unknown key \"target\" for kind buy_get");
	rule_error("bundle", "{\"items\": [{\"all\": true}], \"price\": 1}", "key \"items\" must be an array of 2 to 16 matches, one per item of the bundle");
	rule_error("bundle", "{\"items\": [{\"all\": true}, {\"upc\": \"x\"}], \"price\": 1}", "key \"items[1]\": \"upc\" must be a non-empty array of product codes (strings)");
	rule_error("spend_threshold", "{\"target\": {\"all\": true}, \"min_spend\": 50}", "kind spend_threshold needs exactly one of key \"amount\" and key \"percent\"");
	rule_error("spend_threshold", "{\"target\": {\"all\": true}, \"min_spend\": 50, \"amount\": 1, \"percent\": 2}", "kind spend_threshold needs exactly one of key \"amount\" and key \"percent\"");
	rule_error("spend_threshold", "{\"target\": {\"all\": true}, \"min_spend\": \"lots\", \"amount\": 1}", "key \"min_spend\" must be an amount of money (0 or more) with at most 2 decimal places, such as 9.99");
	{
		const char *t = "{\"target\": {\"all\": true}, \"percent\": 250}";

		st = compile("percent_off", t, &r, &err);
		ok(st == PROMO_ERULE && err.pos == (size_t) (strstr(t, "250") - t) &&
		   err.line == 1 && err.column == (int) err.pos + 1,
		   "rule error points at the bad value (offset %zu)", err.pos);
	}
	st = compile("percent_off", "{\"target\": {\"all\": true}, \"percent\": 25", &r, &err);
	ok(st == PROMO_EJSON && strstr(err.msg, "end of input") != NULL, "malformed rule JSON is PROMO_EJSON: %s", err.msg);
	st = promo_rule_compile("percent_off", "{\"target\": {\"upc\": [\"zzz\"]}, \"percent\": 5}", 42,
							resolve_test, NULL, &A, &r, &err);
	ok(st == PROMO_ERULE && strcmp(err.msg, "key \"target\": product code \"zzz\" is not valid: no such product") == 0,
	   "a resolver's refusal is reported: %s", err.msg);
	{
		int			n;
		bool		all_ok = true;
		const char *t = "{\"items\": [{\"upc\": [\"036000291452\"]}, {\"category\": [4]}], \"price\": 3.50}";

		for (n = 0; n < 8; n++)
		{
			fail_after = n;
			st = compile("bundle", t, &r, &err);
			fail_after = -1;
			if (st == PROMO_OK)
				promo_rule_free(r, &A);
			else if (st != PROMO_ENOMEM)
				all_ok = false;
		}
		ok(all_ok && live == 0, "every allocation failure point is clean (live %ld)", live);
	}
	ok(live == 0, "every allocation was freed (live %ld)", live);
	return done_testing();
}
