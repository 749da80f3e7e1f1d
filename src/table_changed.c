/*-------------------------------------------------------------------------
 *
 * table_changed.c
 *	  icos._table_changed(): the trigger that tells every backend a table
 *	  its per-backend caches were filled from has changed.
 *
 * Two caches follow tables this way: price_basket's promotion index and
 * product cache (src/promotion.c: icos.promotion, icos.category,
 * icos.product) and the placement look-ups (src/lookup.c: icos.store,
 * icos.employee, icos.change_rule, icos.product).  A row change sends no
 * invalidation of its own, so this trigger sends a relcache invalidation of
 * the table: this backend processes it at the end of the command, the
 * others once the transaction commits (and a rollback sends it again), and
 * each cache's relcache callback marks what it read from the table stale.
 * It fires per statement, and per row in replica sessions, where the
 * logical replication apply worker fires no statement trigger (see
 * src/sql/0.2.0/42_lookup_cache.sql and 50_promotions.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/inval.h"

PG_FUNCTION_INFO_V1(table_changed);

Datum
table_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icos._table_changed() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
