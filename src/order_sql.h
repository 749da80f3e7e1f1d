/*-------------------------------------------------------------------------
 *
 * order_sql.h
 *	  The kept statements of the order engine and the product look-up
 *	  (src/order_sql.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_ORDER_SQL_H
#define ICOS_ORDER_SQL_H

#include "executor/spi.h"

typedef enum OrderSqlId
{
	OS_ANY_STORE,
	OS_HOLD,
	OS_TAKE_HOLD,
	OS_RESERVE,
	OS_CONSUME,
	OS_REQUEST,
	OS_REFUSAL,
	OS_EXTREF,
	OS_WRITE,
	OS_LOCK,
	OS_LINES,
	OS_CHECK,
	OS_LOG,
	OS_EDIT_REQUEST,
	OS_LINES_UPDATE,
	OS_LINES_INSERT,
	OS_ORDER_UPDATE,
	OS_STATUS,
	OS_PAY,
	OS_PAY_NETS,
	OS_REMOTE,
	OS_REMOTE_READY,
	OS_HAND_OVER_LINES,
	OS_DOC,
	OS_PRODUCT_INFO,
	OS_AVAILABILITY,
	OS_COUNT
} OrderSqlId;

extern Oid	order_upc_type(Oid *code_type);
extern void order_require_sql_version(void);
extern SPIPlanPtr order_plan(OrderSqlId id);
extern Datum order_run(OrderSqlId id, Datum *values, const char *nulls, bool *isnull);

#endif							/* ICOS_ORDER_SQL_H */
