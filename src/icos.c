/*-------------------------------------------------------------------------
 *
 * icos.c
 *	  Module entry point of the icos extension.
 *
 * Each SQL-visible concern lives in a file of its own (upc.c, order_code.c,
 * ...); the server-free parsing and evaluation cores are in src/core so they
 * can be unit-tested and fuzzed outside the server.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "announce.h"
#include "error_counts.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Loaded by shared_preload_libraries, icos reserves the shared memory in
 * which order events wait for their announcer (announce.c) and errors are
 * counted (error_counts.c); loaded by a session, it needs nothing.
 */
void
_PG_init(void)
{
	announce_init();
	error_counts_init();
}
