/*-------------------------------------------------------------------------
 *
 * stock_slots.h
 *	  Server-free arithmetic of split stock rows.
 *
 * The stock of one product in one store is kept in N slot rows that are
 * reserved from independently, so that a product everybody is buying does
 * not serialise on one row lock.  These functions decide which slot a
 * backend tries first, which slot to wait for, and how a quantity is spread
 * over or drained from several slots.  They know nothing about PostgreSQL
 * and are unit-tested in test/unit/stock_slots.c.
 *
 * A "level" is whatever counter the caller is taking from or adding to: the
 * available quantity (on hand minus reserved) for a reservation, the
 * reserved quantity for a release.  Negative levels are treated as empty.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_STOCK_SLOTS_H
#define ICOS_STOCK_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

/* Largest number of slots one stock row may be split into. */
#define STOCK_MAX_SLOTS 64

/* Slots used when the setting icos.stock_slots is absent or invalid. */
#define STOCK_DEFAULT_SLOTS 8

/*
 * The slot a backend tries first: its process id modulo the number of slots,
 * so that concurrent backends start on different rows.
 */
extern int	stock_preferred_slot(long pid, int nslots);

/*
 * Parse a setting for the number of slots; returns STOCK_DEFAULT_SLOTS for
 * NULL, empty or malformed text, and clamps to 1..STOCK_MAX_SLOTS.
 */
extern int	stock_parse_slots(const char *text);

/*
 * The first slot, walking from pref in rotation, whose level covers qty, or
 * -1 when no single slot does.
 */
extern int	stock_pick_slot(const int64_t *level, int nslots, int pref,
							int64_t qty);

/*
 * Take qty from the levels, fullest slots first, so that the touched slots
 * end up as even as possible.  take[i] receives the amount to take from slot
 * i (0 for untouched slots).  Returns false, with take[] all zero, when the
 * levels add up to less than qty.
 */
extern bool stock_level_take(const int64_t *level, int nslots, int64_t qty,
							 int64_t *take);

/*
 * Add qty to the levels, emptiest slots first (water filling).  add[i]
 * receives the amount for slot i.  Ties go to the lower slot number.
 */
extern void stock_level_add(const int64_t *level, int nslots, int64_t qty,
							int64_t *add);

#endif							/* ICOS_STOCK_SLOTS_H */
