/*
 * flatjson.c: libFuzzer target for src/core/flatjson.c (the toolbar's login
 * request reader).  Invariants: it stays inside the input and the output
 * buffer (AddressSanitizer), the output is NUL-terminated and empty unless
 * the status is FJ_OK, and a value found is the same whatever the size of a
 * buffer large enough for it.
 */
#include <string.h>

#include "flatjson.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size ? size : 1);
	static const char *keys[] = {"user", "password", "a"};

	/* an exact-size copy, so that reading one byte too far is caught */
	memcpy(text, data, size);
	for (int k = 0; k < 3; k++)
	{
		char	   *small = malloc(8);
		char	   *large = malloc(4096);
		FjStatus	s1 = fj_get_string(text, size, keys[k], small, 8);
		FjStatus	s2 = fj_get_string(text, size, keys[k], large, 4096);

		CHECK(memchr(small, '\0', 8) != NULL, "small output not terminated");
		CHECK(memchr(large, '\0', 4096) != NULL, "large output not terminated");
		CHECK(s1 == FJ_OK || small[0] == '\0', "status %d with output", (int) s1);
		CHECK(s2 == FJ_OK || large[0] == '\0', "status %d with output", (int) s2);
		if (s1 == FJ_OK)
			CHECK(s2 == FJ_OK && strcmp(small, large) == 0, "buffers disagree");
		if (s2 == FJ_OK)
			CHECK(s1 == FJ_OK || s1 == FJ_TOO_LONG, "small buffer status %d", (int) s1);
		if (s1 == FJ_MALFORMED || s2 == FJ_MALFORMED)
			CHECK(s1 == s2, "malformed for one buffer only: %d %d", (int) s1, (int) s2);
		free(small);
		free(large);
	}
	free(text);
	return 0;
}
