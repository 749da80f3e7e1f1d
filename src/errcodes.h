/*-------------------------------------------------------------------------
 *
 * errcodes.h
 *	  The SQLSTATEs of icos's business refusals (docs/api.md), for C code.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_ERRCODES_H
#define ICOS_ERRCODES_H

#define ERRCODE_ICOS_NOT_ENOUGH_STOCK	MAKE_SQLSTATE('I','C','0','0','1')
#define ERRCODE_ICOS_NOT_CHANGEABLE		MAKE_SQLSTATE('I','C','0','0','2')
#define ERRCODE_ICOS_PAYMENT			MAKE_SQLSTATE('I','C','0','0','3')
#define ERRCODE_ICOS_UNKNOWN			MAKE_SQLSTATE('I','C','0','0','4')
#define ERRCODE_ICOS_INVALID_RULE		MAKE_SQLSTATE('I','C','0','0','5')
#define ERRCODE_ICOS_REF_REUSED			MAKE_SQLSTATE('I','C','0','0','6')

#endif							/* ICOS_ERRCODES_H */
