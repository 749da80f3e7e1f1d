/*-------------------------------------------------------------------------
 *
 * bare_table.c
 *	  Insert-only tables written as COPY writes them.
 *
 * The triggers that keep the sales and "also bought" rollups append a row
 * for every order line written, so they store it directly
 * (table_tuple_insert) rather than through an INSERT.  That is only right
 * while an INSERT would do nothing besides storing the row: no index,
 * trigger, rule, row-level security, CHECK, default or generated column,
 * and exactly the columns the caller writes.  bare_table_check says whether
 * a relation is still of that shape; its callers check it again after every
 * relcache invalidation and fall back to a kept INSERT when it is not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "executor/tuptable.h"
#include "utils/relcache.h"

#include "bare_table.h"

/*
 * Whether rows may be stored in rel directly: a plain table of exactly
 * these natts columns (names and types, none dropped), and nothing an
 * INSERT would do besides storing the row.
 */
bool
bare_table_check(Relation rel, int natts, const char *const *names, const Oid *types)
{
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *indexes;
	bool		bare;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->trigdesc != NULL ||
		rel->rd_rules != NULL || rel->rd_rel->relrowsecurity || desc->natts != natts ||
		(desc->constr != NULL && (desc->constr->num_check > 0 || desc->constr->num_defval > 0 ||
								  desc->constr->has_generated_stored)))
		return false;
	for (int i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->atttypid != types[i] ||
			strcmp(NameStr(att->attname), names[i]) != 0)
			return false;
	}
	indexes = RelationGetIndexList(rel);
	bare = indexes == NIL;
	list_free(indexes);
	return bare;
}

/* Store one row of natts non-null values in rel, which bare_table_check accepted. */
void
bare_table_insert(Relation rel, const Datum *values, int natts)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);

	memcpy(slot->tts_values, values, sizeof(Datum) * natts);
	memset(slot->tts_isnull, 0, sizeof(bool) * natts);
	ExecStoreVirtualTuple(slot);
	table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
	ExecDropSingleTupleTableSlot(slot);
}
