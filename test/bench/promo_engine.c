/*-------------------------------------------------------------------------
 *
 * promo_engine.c
 *	  The promotion engine alone, outside the server: prices one basket
 *	  against one set of promotions with promo_evaluate, as price_basket
 *	  does (candidates in canonical order, a reused 4 MB arena), and
 *	  prints the answer's summary and the time a pricing takes.
 *	  test/bench/promotions.sh dumps its dense instances for it and runs it
 *	  plain and under callgrind (docs/performance.md).
 *
 *	  promo_engine FILE [CALLS]
 *
 * FILE has one record a line, fields separated by '|':
 *	  P|id|priority|kind|max_per_order|rule JSON
 *	  L|line|item (GTIN-14 number)|unit price (pence)|qty|category,...
 * (the dense benchmark's promotions have no window, store, channel or
 * coupon).  Prints
 *	  promotions N lines N discount P approximate B gap P nodes N
 *	  applied N not_applied N median MS p99 MS
 * CALLS (default 200) pricings are timed one by one.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promo.h"

#define ARENA_SIZE	(4 * 1024 * 1024)
#define MAX_CATS	16

static void *
heap_alloc(void *ctx, size_t size)
{
	(void) ctx;
	return malloc(size ? size : 1);
}

static void
heap_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

static const promo_alloc heap = {heap_alloc, heap_free, NULL};

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* The engine's canonical order, as the server's promotion index keeps it. */
static int
cmp_canonical(const void *a, const void *b)
{
	const promo_def *x = a,
			   *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void
die(const char *what, const char *detail)
{
	fprintf(stderr, "promo_engine: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

int
main(int argc, char **argv)
{
	FILE	   *f;
	int			calls = argc > 2 ? atoi(argv[2]) : 200;
	promo_def  *defs = NULL;
	promo_line *lines = NULL;
	size_t		ndefs = 0,
				nlines = 0,
				cap_defs = 0,
				cap_lines = 0;
	char	   *buf = NULL;
	size_t		bufsize = 0;
	promo_basket basket;
	unsigned char *arena_buf;
	double	   *ms;
	promo_result res;
	promo_error err;
	int			i;

	if (argc < 2 || calls < 1)
		die("usage: promo_engine FILE [CALLS]", NULL);
	if ((f = fopen(argv[1], "r")) == NULL)
		die("cannot open", argv[1]);
	while (getline(&buf, &bufsize, f) > 0)
	{
		char	   *fld[6];
		int			n = 0;
		char	   *p = buf;

		buf[strcspn(buf, "\n")] = '\0';
		/* six fields; the last (a rule's JSON) is the rest of the line */
		while (n < 5 && p != NULL)
		{
			fld[n++] = p;
			p = strchr(p, '|');
			if (p != NULL)
				*p++ = '\0';
		}
		if (p != NULL)
			fld[n++] = p;
		if (buf[0] == 'P' && n == 6)
		{
			promo_def  *d;
			promo_rule *rule;

			if (ndefs == cap_defs)
			{
				cap_defs = cap_defs ? 2 * cap_defs : 256;
				defs = realloc(defs, cap_defs * sizeof(promo_def));
			}
			d = &defs[ndefs++];
			memset(d, 0, sizeof(*d));
			d->id = atoi(fld[1]);
			d->priority = atoi(fld[2]);
			d->max_per_order = atoi(fld[4]);
			if (promo_rule_compile(fld[3], fld[5], strlen(fld[5]), NULL, NULL,
								   &heap, &rule, &err) != PROMO_OK)
				die("a rule does not compile", err.msg);
			d->rule = rule;
		}
		else if (buf[0] == 'L' && n == 6)
		{
			promo_line *l;
			int64_t    *cats = malloc(MAX_CATS * sizeof(int64_t));
			size_t		nc = 0;
			char	   *c = fld[5];

			if (nlines == cap_lines)
			{
				cap_lines = cap_lines ? 2 * cap_lines : 64;
				lines = realloc(lines, cap_lines * sizeof(promo_line));
			}
			l = &lines[nlines++];
			l->line = atoi(fld[1]);
			l->item = strtoll(fld[2], NULL, 10);
			l->unit_price = strtoll(fld[3], NULL, 10);
			l->qty = strtoll(fld[4], NULL, 10);
			while (*c != '\0' && nc < MAX_CATS)
			{
				cats[nc++] = strtoll(c, &c, 10);
				if (*c == ',')
					c++;
			}
			l->categories = cats;
			l->ncategories = nc;
		}
		else if (buf[0] != '\0')
			die("a line is neither a promotion nor a basket line", buf);
	}
	fclose(f);
	if (ndefs > 0)
		qsort(defs, ndefs, sizeof(promo_def), cmp_canonical);

	memset(&basket, 0, sizeof(basket));
	basket.store = 1;
	basket.channel = "store";
	basket.lines = lines;
	basket.nlines = nlines;
	arena_buf = malloc(ARENA_SIZE);
	ms = malloc(calls * sizeof(double));
	for (i = 0; i < calls; i++)
	{
		promo_arena arena;
		promo_alloc hooks;
		double		t0;

		promo_arena_init(&arena, arena_buf, ARENA_SIZE);
		hooks = promo_arena_hooks(&arena);
		t0 = now_ms();
		if (promo_evaluate(&basket, defs, ndefs, NULL, &hooks, &res, &err) != PROMO_OK)
			die("pricing failed", err.msg);
		ms[i] = now_ms() - t0;
	}
	qsort(ms, calls, sizeof(double), cmp_double);
	printf("promotions %zu lines %zu discount %lld approximate %s gap %lld nodes %llu "
		   "applied %zu not_applied %zu median %.3f p99 %.3f\n",
		   ndefs, nlines, (long long) res.discount, res.approximate ? "true" : "false",
		   (long long) res.gap, (unsigned long long) res.nodes, res.napplied,
		   res.nnot_applied, ms[calls / 2], ms[(calls * 99) / 100]);
	return 0;
}
