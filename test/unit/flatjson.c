/*
 * flatjson.c: unit tests of src/core/flatjson.c, the reader of the
 * toolbar's login request ({"user": ..., "password": ...}).
 */
#include <string.h>

#include "flatjson.h"
#include "tap.h"

static FjStatus
get(const char *text, const char *key, char *out, size_t outcap)
{
	return fj_get_string(text, strlen(text), key, out, outcap);
}

int
main(void)
{
	char		out[16];
	char		big[64];

	ok(get("{\"user\": \"emp_101\", \"password\": \"s3cret\"}", "user", out, sizeof(out)) == FJ_OK &&
	   strcmp(out, "emp_101") == 0, "a member is found");
	ok(get("{\"user\": \"emp_101\", \"password\": \"s3cret\"}", "password", out, sizeof(out)) == FJ_OK &&
	   strcmp(out, "s3cret") == 0, "a second member is found");
	ok(get(" {\"a\":1,\"b\":true,\"c\":null,\"d\":-1.5e3,\"user\":\"x\"} \n", "user", out, sizeof(out)) == FJ_OK &&
	   strcmp(out, "x") == 0, "scalar members and white space are skipped");
	ok(get("{\"user\": \"a\\\"b\\\\c\\/d\\n\"}", "user", out, sizeof(out)) == FJ_OK &&
	   strcmp(out, "a\"b\\c/d\n") == 0, "escapes are undone");
	ok(get("{\"user\": \"\\u00a3\\u20ac\\ud83d\\ude00\"}", "user", big, sizeof(big)) == FJ_OK &&
	   strcmp(big, "\xc2\xa3\xe2\x82\xac\xf0\x9f\x98\x80") == 0, "\\u escapes become UTF-8, surrogate pairs joined");
	ok(get("{\"\\u0075ser\": \"y\"}", "user", out, sizeof(out)) == FJ_OK &&
	   strcmp(out, "y") == 0, "a key is compared unescaped");
	ok(get("{\"user\": \"emp\"}", "password", out, sizeof(out)) == FJ_MISSING && out[0] == '\0',
	   "a missing member is FJ_MISSING");
	ok(get("{}", "user", out, sizeof(out)) == FJ_MISSING, "an empty object has no member");
	ok(get("{\"user\": 101}", "user", out, sizeof(out)) == FJ_NOT_STRING, "a number is not a string");
	ok(get("{\"user\": \"0123456789abcdef\"}", "user", out, sizeof(out)) == FJ_TOO_LONG &&
	   out[0] == '\0', "a value that does not fit is FJ_TOO_LONG and nothing is copied");
	ok(get("{\"user\": \"0123456789abcde\"}", "user", out, sizeof(out)) == FJ_OK &&
	   strlen(out) == 15, "a value of outcap - 1 bytes fits");
	ok(get("{\"user\": \"a\", \"user\": \"b\"}", "user", out, sizeof(out)) == FJ_MALFORMED,
	   "a key given twice is refused");
	ok(get("{\"user\": \"a\\u0000b\"}", "user", out, sizeof(out)) == FJ_MALFORMED, "\\u0000 is refused");
	ok(get("{\"user\": \"a\tb\"}", "user", out, sizeof(out)) == FJ_MALFORMED, "a raw control character is refused");
	ok(get("{\"user\": \"\\udc00\"}", "user", out, sizeof(out)) == FJ_MALFORMED, "a lone low surrogate is refused");
	ok(get("{\"user\": \"\\ud800x\"}", "user", out, sizeof(out)) == FJ_MALFORMED, "a lone high surrogate is refused");
	ok(get("{\"user\": \"a\"} x", "user", out, sizeof(out)) == FJ_MALFORMED && out[0] == '\0',
	   "trailing text is refused, and the value read before it is not given");
	ok(get("{\"user\": \"a\",}", "user", out, sizeof(out)) == FJ_MALFORMED, "a trailing comma is refused");
	ok(get("{\"user\": {\"a\": 1}}", "user", out, sizeof(out)) == FJ_MALFORMED, "nesting is refused");
	ok(get("{\"x\": 01}", "user", out, sizeof(out)) == FJ_MALFORMED, "a number with a leading zero is refused");
	ok(get("[\"user\"]", "user", out, sizeof(out)) == FJ_MALFORMED, "an array is refused");
	ok(get("{\"user\": \"abc", "user", out, sizeof(out)) == FJ_MALFORMED, "an unterminated string is refused");
	ok(get("", "user", out, sizeof(out)) == FJ_MALFORMED, "empty text is refused");
	ok(fj_get_string("{\"user\": \"ab\"}", 11, "user", out, sizeof(out)) == FJ_MALFORMED,
	   "the length given is respected (no reading past it)");
	return done_testing();
}
