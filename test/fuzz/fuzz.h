/*
 * fuzz.h: helpers shared by the libFuzzer targets in test/fuzz.
 *
 * CHECK(cond, fmt, ...) states an invariant: when it does not hold, the
 * target prints what failed and aborts, which libFuzzer reports as a crash
 * and saves the input that caused it (see docs/reliability.md).
 *
 * A fuzz_reader hands out the bytes of a fuzz input as small integers; past
 * the end it returns zeros, so every input decodes to something.
 */
#ifndef ICOS_FUZZ_H
#define ICOS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed at %s:%d: %s\n", \
					__FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

typedef struct fuzz_reader
{
	const uint8_t *p;
	size_t		len;
	size_t		pos;
} fuzz_reader;

static inline void
fuzz_reader_init(fuzz_reader *r, const uint8_t *data, size_t size)
{
	r->p = data;
	r->len = size;
	r->pos = 0;
}

static inline uint8_t
fuzz_u8(fuzz_reader *r)
{
	return r->pos < r->len ? r->p[r->pos++] : 0;
}

static inline uint64_t
fuzz_u64(fuzz_reader *r, int nbytes)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < nbytes; i++)
		v |= (uint64_t) fuzz_u8(r) << (8 * i);
	return v;
}

/* A number in 0 .. n - 1 (n >= 1) from one or two bytes. */
static inline uint32_t
fuzz_below(fuzz_reader *r, uint32_t n)
{
	if (n <= 256)
		return fuzz_u8(r) % n;
	return (uint32_t) fuzz_u64(r, 2) % n;
}

static inline size_t
fuzz_remaining(const fuzz_reader *r)
{
	return r->len - r->pos;
}

/*
 * A counting allocator for the cores' allocation hooks (each target is one
 * translation unit, so these are per target): fuzz_live is the number of
 * blocks not yet freed, for leak checks; allocation number fuzz_fail_at
 * (counted in fuzz_nalloc) returns NULL, to drive the out-of-memory paths;
 * -1 never fails.
 */
static long fuzz_live;
static long fuzz_nalloc;
static long fuzz_fail_at = -1;

static inline void *
fuzz_alloc(void *ctx, size_t size)
{
	void	   *p;

	(void) ctx;
	if (fuzz_nalloc++ == fuzz_fail_at)
		return NULL;
	p = malloc(size ? size : 1);
	if (p)
		fuzz_live++;
	return p;
}

static inline void
fuzz_free(void *ctx, void *p)
{
	(void) ctx;
	if (p)
	{
		fuzz_live--;
		free(p);
	}
}

#endif							/* ICOS_FUZZ_H */
