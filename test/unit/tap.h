/*
 * tap.h: a minimal TAP producer for the server-free unit tests of src/core.
 * Each check prints "ok N - name" or "not ok N - name"; done_testing()
 * prints the plan and returns the exit status.
 */
#ifndef ICOS_TAP_H
#define ICOS_TAP_H

#include <stdio.h>

static int	tap_count = 0;
static int	tap_failed = 0;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static inline int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static inline int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list		ap;

	tap_count++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
		printf("#   failed at %s line %d\n", file, line);
	return pass;
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
