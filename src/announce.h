/*-------------------------------------------------------------------------
 *
 * announce.h
 *	  Order events announced by a background worker (announce.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_ANNOUNCE_H
#define ICOS_ANNOUNCE_H

#include "postgres.h"

extern void announce_init(void);
extern PGDLLEXPORT void icos_announcer_main(Datum main_arg) pg_attribute_noreturn();

#endif							/* ICOS_ANNOUNCE_H */
