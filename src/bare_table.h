/*-------------------------------------------------------------------------
 *
 * bare_table.h
 *	  Insert-only tables written as COPY writes them (table_tuple_insert)
 *	  by the triggers that keep the sales and "also bought" rollups
 *	  (sales_delta.c, also_bought.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_BARE_TABLE_H
#define ICOS_BARE_TABLE_H

#include "utils/rel.h"

extern bool bare_table_check(Relation rel, int natts, const char *const *names, const Oid *types);
extern void bare_table_insert(Relation rel, const Datum *values, int natts);

#endif							/* ICOS_BARE_TABLE_H */
