/*-------------------------------------------------------------------------
 *
 * error_counts.h
 *	  The errors of each database by SQLSTATE (src/error_counts.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_ERROR_COUNTS_H
#define ICOS_ERROR_COUNTS_H

extern void error_counts_init(void);

#endif							/* ICOS_ERROR_COUNTS_H */
