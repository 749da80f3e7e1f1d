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

PG_MODULE_MAGIC;
