/*-------------------------------------------------------------------------
 *
 * refcheck.c
 *	  Foreign keys of the order tables, checked by an index probe instead of
 *	  a locking query.
 *
 * A declarative foreign key checks every inserted row by running
 * SELECT 1 FROM ONLY parent WHERE key = $1 FOR KEY SHARE through SPI: an
 * executor start, run and end per row, and a row lock on the parent.  An
 * order of three lines paid once is 14 rows referring to 7 parents (the
 * store, three products, the store serving each line, the order itself three
 * ways), and those checks were a sixth of the server's instructions per
 * order.  Worse, every order of a store locks the same store row and the
 * same best-selling products' rows: with many tills selling at once each
 * lock becomes a new multixact of all the current lockers.
 *
 * The same guarantee, that no row refers to a parent that does not exist,
 * is kept here the other way round, with table locks that only the rare
 * deletion of a parent pays:
 *
 *	- icos._ref_check, an AFTER INSERT OR UPDATE OF <columns> row trigger on
 *	  the referring table (where a foreign key puts its own), probes the
 *	  parent's unique index for the key with SnapshotSelf: rows committed by
 *	  now, and this transaction's own rows, this statement's included (the
 *	  placement writes an order and its lines in one statement).  It takes no
 *	  row lock.  Missing: 23503, worded as a foreign key words it.
 *	- icos._ref_guard, an AFTER DELETE OR UPDATE OF <key> row trigger on the
 *	  parent, first takes a SHARE lock on the referring table, then looks for
 *	  a row still referring to the old key, seeing everything committed by
 *	  then.  Found: 23503.  As a BEFORE TRUNCATE statement trigger it refuses
 *	  to empty a parent while the referring table has rows.
 *
 * Why no row can be left referring to nothing: a writer of the referring
 * table holds ROW EXCLUSIVE on it from the start of its statement to the end
 * of its transaction, and SHARE conflicts with that.  If the deletion's lock
 * is granted first, the writer's statement cannot start until the deletion
 * has committed or rolled back, so the writer's probe sees the parent gone,
 * or back.  If the writer is first, the deletion waits for it to end; the
 * writer's probe saw the parent (a deletion not yet committed does not hide
 * it), and the deletion's look-up, made after the writer committed, sees the
 * writer's row and refuses.  Neither side uses the transaction's snapshot,
 * so this holds under REPEATABLE READ and SERIALIZABLE too.
 *
 * As with a foreign key's triggers, none fires for the logical replication
 * apply worker (session_replication_role = replica): the origin node checked
 * the row.  Probes ignore privileges and row-level security, as a foreign
 * key's checks do (they run as the table's owner with row security off).
 *
 * A key is probed once per transaction.  A till sale names the same store
 * five times and the same order five times (the order's store, each line's
 * store, each line's, the payment's and the event's order), so a successful
 * probe is remembered for the rest of the transaction, by parent index and
 * key bytes, and a later row of the transaction with the same key skips its
 * probe.  The answer cannot have become false since, by the argument above:
 * the probe was made by a writer of a referring table, which holds ROW
 * EXCLUSIVE on it until the transaction ends, so another transaction's
 * deletion or re-keying of the parent, whose guard waits for SHARE on that
 * table, cannot commit before this one ends, and sees this transaction's
 * rows when it does (in whichever referring table the later row is: every
 * reference to the parent has its guard).  What the lock argument does not
 * cover empties the cache:
 *
 *	- this transaction's own deletion, re-keying or truncation of a parent:
 *	  icos._ref_guard forgets everything whenever it fires, and
 *	  icos._ref_forget, a statement trigger on the parent enabled ALWAYS,
 *	  does too when a superuser's session_replication_role = replica kept
 *	  the guard from firing (a later row must not trust a key this
 *	  transaction deleted, even when no row referred to it then);
 *	- the abort of a subtransaction (ROLLBACK TO, an exception block): the
 *	  parent row the probe found may have been written in it, and the lock
 *	  on the referring table may have been taken in it and now be released;
 *	- the end of the transaction (the cache belongs to one local transaction
 *	  id), and any relcache invalidation (the index may be another one now).
 *
 * The apply worker fires no guard, so it can delete a parent unseen, as it
 * could before: then the earlier row whose probe found the parent refers to
 * nothing too, whether or not the later row probes.  A failed probe is never
 * remembered: every missing key is probed again and reported.  The cache
 * holds REF_SEEN_MAX keys, the newest replacing the oldest; a sale needs
 * five.
 *
 * A restore loads each table by COPY, in an order pg_dump chooses from
 * declarative foreign keys only: order lines may come before their orders.
 * So a check trigger probes nothing for the rows of a top-level COPY FROM
 * into its own table by a role that owns the table (or a superuser): the
 * roles that could disable the trigger anyway, since no other role may
 * write these tables (the order API is SECURITY DEFINER).  Such a load is
 * checked afterwards, all references at once, by icos.verify_references()
 * (docs/backup.md).  Every other write, the order API's included, probes.
 *
 * Trigger arguments, four per reference: the constraint's name (for
 * messages), the other table (in the trigger's schema), the other table's
 * columns and this table's columns, each a comma-separated list in the same
 * order.  A guard keeps one reference; a table's check trigger keeps all of
 * its references, checked in the order given, so that a row written costs
 * one trigger event (PostgreSQL fetches the row again for each) rather than
 * one per reference.  What a trigger needs (relations, attribute numbers,
 * the index, its equality functions) is worked out once per backend and
 * dropped when a relation changes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

#define REF_MAX_KEYS 4
#define REF_MAX_REFS 4			/* references one check trigger keeps */

/* What one reference needs, worked out once per backend. */
typedef struct RefInfo
{
	int			arg;			/* its first argument in the trigger's */
	Oid			other;			/* the other table */
	Oid			other_owner;	/* whose rights the guard's look-up uses */
	int			nkeys;
	AttrNumber	this_att[REF_MAX_KEYS];
	AttrNumber	other_att[REF_MAX_KEYS];
	char	   *this_cols;		/* "a, b" for messages */
	Oid			index;			/* parent's unique index on the key (check) */
	FmgrInfo	eq[REF_MAX_KEYS];	/* its equality functions */
	Oid			collation[REF_MAX_KEYS];
	int16		typlen[REF_MAX_KEYS];	/* the key's types, to compare bytes */
	bool		typbyval[REF_MAX_KEYS];
	SPIPlanPtr	plan;			/* referring rows with a key (guard) */
} RefInfo;

/* A trigger's references: one for a guard, one or more for a check. */
typedef struct RefTrigger
{
	Oid			tgoid;			/* hash key */
	bool		valid;
	int			nrefs;
	RefInfo		refs[REF_MAX_REFS];
} RefTrigger;

static HTAB *ref_infos = NULL;

/* A key a probe of this transaction found (see the header comment). */
typedef struct RefSeen
{
	Oid			index;
	Datum		key[REF_MAX_KEYS];
	bool		copied[REF_MAX_KEYS];	/* key[k] is a copy in ref_seen_cxt */
} RefSeen;

#define REF_SEEN_MAX 16

#if PG_VERSION_NUM >= 170000
#define REF_LXID (MyProc->vxid.lxid)
#else
#define REF_LXID (MyProc->lxid)
#endif

static RefSeen ref_seen[REF_SEEN_MAX];
static int	ref_nseen = 0;
static int	ref_seen_next = 0;	/* the slot the next key replaces when full */
static LocalTransactionId ref_seen_lxid = InvalidLocalTransactionId;
static MemoryContext ref_seen_cxt = NULL;	/* keys passed by reference */
static bool ref_seen_copied = false;

/* Forgets every remembered probe. */
static void
ref_forget_all(void)
{
	ref_nseen = 0;
	ref_seen_next = 0;
	if (ref_seen_copied)
	{
		MemoryContextReset(ref_seen_cxt);
		ref_seen_copied = false;
	}
}

/* Whether a probe of this transaction found the key in r's index. */
static bool
ref_seen_has(const RefInfo *r, const Datum *key)
{
	int			i;
	int			k;

	if (ref_seen_lxid != REF_LXID)
	{
		ref_forget_all();
		ref_seen_lxid = REF_LXID;
		return false;
	}
	for (i = 0; i < ref_nseen; i++)
	{
		if (ref_seen[i].index != r->index)
			continue;
		for (k = 0; k < r->nkeys; k++)
			if (!datumIsEqual(ref_seen[i].key[k], key[k], r->typbyval[k], r->typlen[k]))
				break;
		if (k == r->nkeys)
			return true;
	}
	return false;
}

/* Remembers that a probe found the key (ref_seen_has was just asked). */
static void
ref_seen_add(const RefInfo *r, const Datum *key)
{
	RefSeen    *e;
	int			k;

	if (ref_seen_lxid != REF_LXID)
	{
		ref_forget_all();
		ref_seen_lxid = REF_LXID;
	}
	if (ref_nseen < REF_SEEN_MAX)
		e = &ref_seen[ref_nseen++];
	else
	{
		e = &ref_seen[ref_seen_next];
		ref_seen_next = (ref_seen_next + 1) % REF_SEEN_MAX;
		for (k = 0; k < REF_MAX_KEYS; k++)
			if (e->copied[k])
				pfree(DatumGetPointer(e->key[k]));
	}
	e->index = r->index;
	for (k = 0; k < REF_MAX_KEYS; k++)
		e->copied[k] = false;
	for (k = 0; k < r->nkeys; k++)
	{
		if (r->typbyval[k])
			e->key[k] = key[k];
		else
		{
			MemoryContext old = MemoryContextSwitchTo(ref_seen_cxt);

			e->key[k] = datumCopy(key[k], false, r->typlen[k]);
			MemoryContextSwitchTo(old);
			e->copied[k] = true;
			ref_seen_copied = true;
		}
	}
}

static void
ref_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	RefTrigger *t;

	ref_forget_all();
	if (ref_infos == NULL)
		return;
	hash_seq_init(&status, ref_infos);
	while ((t = hash_seq_search(&status)) != NULL)
		t->valid = false;
}

static void
ref_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		ref_forget_all();
}

/* Split "a, b" into column numbers of a relation. */
static int
ref_columns(Relation rel, const char *list, AttrNumber *atts, const char *tgname)
{
	char	   *copy = pstrdup(list);
	List	   *names;
	ListCell   *lc;
	int			n = 0;

	if (!SplitIdentifierString(copy, ',', &names) || list_length(names) < 1 ||
		list_length(names) > REF_MAX_KEYS)
		elog(ERROR, "trigger \"%s\": bad column list \"%s\"", tgname, list);
	foreach(lc, names)
	{
		AttrNumber	att = SPI_fnumber(RelationGetDescr(rel), lfirst(lc));

		if (att <= 0)
			elog(ERROR, "trigger \"%s\": table \"%s\" has no column \"%s\"", tgname,
				 RelationGetRelationName(rel), (char *) lfirst(lc));
		atts[n++] = att;
	}
	return n;
}

/*
 * The unique index of the parent whose key columns are exactly the key, in
 * order, and its equality functions.
 */
static void
ref_find_index(Relation parent, RefInfo *r, const char *tgname)
{
	List	   *indexes = RelationGetIndexList(parent);
	ListCell   *lc;

	r->index = InvalidOid;
	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = idx->rd_index;
		bool		match = form->indisunique && form->indisvalid && form->indimmediate &&
			form->indnkeyatts == r->nkeys && RelationGetIndexPredicate(idx) == NIL &&
			idx->rd_rel->relam == BTREE_AM_OID;
		int			i;

		for (i = 0; match && i < r->nkeys; i++)
			match = form->indkey.values[i] == r->other_att[i];
		if (match)
		{
			for (i = 0; i < r->nkeys; i++)
			{
				Oid			op = get_opfamily_member(idx->rd_opfamily[i], idx->rd_opcintype[i],
													 idx->rd_opcintype[i], BTEqualStrategyNumber);

				if (!OidIsValid(op))
					elog(ERROR, "trigger \"%s\": no equality operator for the key", tgname);
				fmgr_info_cxt(get_opcode(op), &r->eq[i], TopMemoryContext);
				r->collation[i] = idx->rd_indcollation[i];
			}
			r->index = RelationGetRelid(idx);
		}
		index_close(idx, AccessShareLock);
		if (OidIsValid(r->index))
			break;
	}
	list_free(indexes);
	if (!OidIsValid(r->index))
		elog(ERROR, "trigger \"%s\": table \"%s\" has no unique index on the key", tgname,
			 RelationGetRelationName(parent));
}

/*
 * One reference of a trigger, from its four arguments starting at arg.
 * check: this table refers to the other (icos._ref_check); else the other
 * refers to this one (icos._ref_guard).
 */
static void
ref_info_one(TriggerData *td, RefInfo *r, int arg, bool check)
{
	Trigger    *tg = td->tg_trigger;
	Relation	rel = td->tg_relation;
	Relation	other;
	int			n;
	int			i;

	r->arg = arg;
	r->other = get_relname_relid(tg->tgargs[arg + 1], RelationGetNamespace(rel));
	if (!OidIsValid(r->other))
		elog(ERROR, "trigger \"%s\": no table \"%s\"", tg->tgname, tg->tgargs[arg + 1]);
	other = table_open(r->other, AccessShareLock);
	r->other_owner = RelationGetForm(other)->relowner;
	r->nkeys = ref_columns(other, tg->tgargs[arg + 2], r->other_att, tg->tgname);
	n = ref_columns(rel, tg->tgargs[arg + 3], r->this_att, tg->tgname);
	if (n != r->nkeys)
		elog(ERROR, "trigger \"%s\": the column lists differ in length", tg->tgname);
	for (i = 0; i < n; i++)
		if (TupleDescAttr(RelationGetDescr(rel), r->this_att[i] - 1)->atttypid !=
			TupleDescAttr(RelationGetDescr(other), r->other_att[i] - 1)->atttypid)
			elog(ERROR, "trigger \"%s\": key column types differ", tg->tgname);
	for (i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), r->this_att[i] - 1);

		r->typlen[i] = att->attlen;
		r->typbyval[i] = att->attbyval;
	}
	if (r->this_cols)
		pfree(r->this_cols);
	r->this_cols = MemoryContextStrdup(TopMemoryContext, tg->tgargs[arg + 3]);
	if (check)
		ref_find_index(other, r, tg->tgname);
	if (r->plan)
		SPI_freeplan(r->plan);
	r->plan = NULL;
	table_close(other, AccessShareLock);
}

/*
 * The trigger's references, worked out if needed: four arguments each, and
 * a guard has exactly one.
 */
static RefTrigger *
ref_info(TriggerData *td, bool check)
{
	Trigger    *tg = td->tg_trigger;
	RefTrigger *t;
	bool		found;

	if (ref_infos == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RefTrigger);
		ref_seen_cxt = AllocSetContextCreate(TopMemoryContext, "icos foreign key probes",
											 ALLOCSET_SMALL_SIZES);
		ref_infos = hash_create("icos foreign keys", 16, &ctl, HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(ref_relcache_callback, (Datum) 0);
		RegisterSubXactCallback(ref_subxact_callback, NULL);
	}
	t = hash_search(ref_infos, &tg->tgoid, HASH_ENTER, &found);
	if (!found)
	{
		int			j;

		t->valid = false;
		for (j = 0; j < REF_MAX_REFS; j++)
		{
			t->refs[j].this_cols = NULL;
			t->refs[j].plan = NULL;
		}
	}
	if (!t->valid)
	{
		int			j;

		if (tg->tgnargs < 4 || tg->tgnargs % 4 != 0 || tg->tgnargs > 4 * REF_MAX_REFS ||
			(!check && tg->tgnargs != 4))
			elog(ERROR, "trigger \"%s\" needs 4 arguments per reference (at most %d references; a guard keeps one)",
				 tg->tgname, REF_MAX_REFS);
		t->nrefs = tg->tgnargs / 4;
		for (j = 0; j < t->nrefs; j++)
			ref_info_one(td, &t->refs[j], 4 * j, check);
		t->valid = true;
	}
	return t;
}

/* The key of a row; false when a column is null (refers to nothing). */
static bool
ref_key(TriggerData *td, HeapTuple tuple, const AttrNumber *atts, int nkeys, Datum *key)
{
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		bool		isnull;

		key[i] = heap_getattr(tuple, atts[i], RelationGetDescr(td->tg_relation), &isnull);
		if (isnull)
			return false;
	}
	return true;
}

/* Whether an UPDATE left the key as it was, by its bytes, as RI does. */
static bool
ref_unchanged(TriggerData *td, const AttrNumber *atts, int nkeys)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	int			i;

	for (i = 0; i < nkeys; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, atts[i] - 1);
		bool		oldnull;
		bool		newnull;
		Datum		oldval = heap_getattr(td->tg_trigtuple, atts[i], desc, &oldnull);
		Datum		newval = heap_getattr(td->tg_newtuple, atts[i], desc, &newnull);

		if (oldnull != newnull)
			return false;
		if (!oldnull && !datumIsEqual(oldval, newval, attr->attbyval, attr->attlen))
			return false;
	}
	return true;
}

/* "(a, b)=(1, x)" of a key, for messages. */
static char *
ref_key_text(TriggerData *td, HeapTuple tuple, const RefInfo *r, const AttrNumber *atts)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	appendStringInfo(&s, "(%s)=(", r->this_cols);
	for (i = 0; i < r->nkeys; i++)
	{
		char	   *v = SPI_getvalue(tuple, RelationGetDescr(td->tg_relation), atts[i]);

		appendStringInfo(&s, "%s%s", i ? ", " : "", v ? v : "null");
	}
	appendStringInfoChar(&s, ')');
	return s.data;
}

/*
 * Whether the parent has the key: one probe of its unique index.  The
 * parent and its index stay locked ACCESS SHARE to the end of the
 * transaction, as a foreign key's query leaves them (that lock keeps
 * neither deletions nor writes out, only DDL): the next probe then finds
 * the lock already held instead of taking it again.
 */
static bool
ref_probe(const RefInfo *r, const Datum *key)
{
	Relation	parent = table_open(r->other, AccessShareLock);
	Relation	index = index_open(r->index, AccessShareLock);
	ScanKeyData skey[REF_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found;
	int			i;

	for (i = 0; i < r->nkeys; i++)
		ScanKeyEntryInitializeWithInfo(&skey[i], 0, i + 1, BTEqualStrategyNumber,
									   InvalidOid, r->collation[i],
									   (FmgrInfo *) &r->eq[i], key[i]);
	slot = table_slot_create(parent, NULL);
	scan = index_beginscan(parent, index, SnapshotSelf, r->nkeys, 0);
	index_rescan(scan, skey, r->nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(parent, NoLock);
	return found;
}

/*
 * Whether the row comes from a top-level COPY FROM into the trigger's own
 * table by its owner or a superuser: a restore's data load, checked by
 * icos.verify_references() once every table is in (see the header comment).
 */
static bool
ref_copy_load(TriggerData *td)
{
	PlannedStmt *ps;
	CopyStmt   *copy;
	Oid			relid = RelationGetRelid(td->tg_relation);

	if (ActivePortal == NULL || ActivePortal->commandTag != CMDTAG_COPY ||
		list_length(ActivePortal->stmts) != 1)
		return false;
	ps = linitial_node(PlannedStmt, ActivePortal->stmts);
	if (ps->commandType != CMD_UTILITY || ps->utilityStmt == NULL ||
		!IsA(ps->utilityStmt, CopyStmt))
		return false;
	copy = (CopyStmt *) ps->utilityStmt;
	if (!copy->is_from || copy->relation == NULL ||
		RangeVarGetRelid(copy->relation, NoLock, true) != relid)
		return false;
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(RelationRelationId, relid, GetUserId());
#else
	return pg_class_ownercheck(relid, GetUserId());
#endif
}

PG_FUNCTION_INFO_V1(ref_check);

/*
 * icos._ref_check(): AFTER INSERT OR UPDATE OF <columns> FOR EACH ROW on
 * the referring table.  A key with a null column refers to nothing and
 * passes (MATCH SIMPLE).
 */
Datum
ref_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	RefTrigger *t;
	int			j;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		elog(ERROR, "icos._ref_check must be an AFTER INSERT OR UPDATE row trigger");
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && ref_copy_load(td))
		return PointerGetDatum(NULL);
	t = ref_info(td, true);
	for (j = 0; j < t->nrefs; j++)
	{
		RefInfo    *r = &t->refs[j];
		HeapTuple	tuple;
		Datum		key[REF_MAX_KEYS];

		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		{
			if (ref_unchanged(td, r->this_att, r->nkeys))
				continue;
			tuple = td->tg_newtuple;
		}
		else
			tuple = td->tg_trigtuple;
		if (!ref_key(td, tuple, r->this_att, r->nkeys, key) || ref_seen_has(r, key))
			continue;
		if (ref_probe(r, key))
			ref_seen_add(r, key);
		else
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("insert or update on table \"%s\" violates foreign key constraint \"%s\"",
							RelationGetRelationName(td->tg_relation),
							td->tg_trigger->tgargs[r->arg]),
					 errdetail("Key %s is not present in table \"%s\".",
							   ref_key_text(td, tuple, r, r->this_att),
							   td->tg_trigger->tgargs[r->arg + 1]),
					 errtableconstraint(td->tg_relation, td->tg_trigger->tgargs[r->arg])));
	}
	return PointerGetDatum(NULL);
}

/*
 * Whether the referring table has a row (with this key; any row when key is
 * NULL), seen after locking that table SHARE: every writer of it has ended.
 */
static bool
ref_referred(TriggerData *td, RefInfo *r, const Datum *key)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;
	bool		found;

	LockRelationOid(r->other, ShareLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (r->plan == NULL)
	{
		Relation	rel = td->tg_relation;
		Relation	other = table_open(r->other, AccessShareLock);
		StringInfoData sql;
		Oid			types[REF_MAX_KEYS];
		int			i;
		SPIPlanPtr	plan;

		initStringInfo(&sql);
		appendStringInfo(&sql, "SELECT 1 FROM ONLY %s x WHERE true",
						 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(other)),
													RelationGetRelationName(other)));
		for (i = 0; i < r->nkeys; i++)
		{
			appendStringInfo(&sql, " AND x.%s OPERATOR(pg_catalog.=) $%d",
							 quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(other),
																	r->other_att[i] - 1)->attname)),
							 i + 1);
			types[i] = TupleDescAttr(RelationGetDescr(rel), r->this_att[i] - 1)->atttypid;
		}
		appendStringInfoString(&sql, " LIMIT 1");
		table_close(other, AccessShareLock);
		plan = SPI_prepare(sql.data, r->nkeys, types);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare \"%s\": %s", sql.data,
				 SPI_result_code_string(SPI_result));
		r->plan = plan;
	}
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(r->other_owner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (key == NULL)
	{
		char	   *sql = psprintf("SELECT 1 FROM ONLY %s LIMIT 1",
								   quote_qualified_identifier(get_namespace_name(get_rel_namespace(r->other)),
															  get_rel_name(r->other)));

		rc = SPI_execute_snapshot(SPI_prepare(sql, 0, NULL), NULL, NULL, GetLatestSnapshot(),
								  InvalidSnapshot, false, false, 1);
	}
	else
		rc = SPI_execute_snapshot(r->plan, (Datum *) key, NULL, GetLatestSnapshot(),
								  InvalidSnapshot, false, false, 1);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reference look-up failed: %s", SPI_result_code_string(rc));
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

PG_FUNCTION_INFO_V1(ref_guard);

/*
 * icos._ref_guard(): AFTER DELETE OR UPDATE OF <key> FOR EACH ROW, and
 * BEFORE TRUNCATE FOR EACH STATEMENT, on the parent.
 */
Datum
ref_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	RefInfo    *r;
	Datum		key[REF_MAX_KEYS];

	if (!CALLED_AS_TRIGGER(fcinfo) || TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		(TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) ? !TRIGGER_FIRED_BEFORE(td->tg_event)
		 : !TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event)))
		elog(ERROR, "icos._ref_guard must be an AFTER DELETE OR UPDATE row trigger or a BEFORE TRUNCATE trigger");

	/*
	 * This transaction may be removing a key a probe of it found: no later
	 * row may trust that probe (see the header comment).
	 */
	ref_forget_all();
	r = &ref_info(td, false)->refs[0];

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		if (ref_referred(td, r, NULL))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot truncate table \"%s\" while table \"%s\" refers to it",
							RelationGetRelationName(td->tg_relation), td->tg_trigger->tgargs[1]),
					 errdetail("Foreign key constraint \"%s\" keeps every row an order refers to.",
							   td->tg_trigger->tgargs[0]),
					 errhint("Empty table \"%s\" first.", td->tg_trigger->tgargs[1])));
		return PointerGetDatum(NULL);
	}
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event) && ref_unchanged(td, r->this_att, r->nkeys))
		return PointerGetDatum(NULL);
	if (!ref_key(td, td->tg_trigtuple, r->this_att, r->nkeys, key))
		return PointerGetDatum(NULL);
	if (ref_referred(td, r, key))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("update or delete on table \"%s\" violates foreign key constraint \"%s\" on table \"%s\"",
						RelationGetRelationName(td->tg_relation), td->tg_trigger->tgargs[0],
						td->tg_trigger->tgargs[1]),
				 errdetail("Key %s is still referenced from table \"%s\".",
						   ref_key_text(td, td->tg_trigtuple, r, r->this_att),
						   td->tg_trigger->tgargs[1])));
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(ref_forget);

/*
 * icos._ref_forget(): AFTER DELETE OR UPDATE OF <key> OR TRUNCATE FOR EACH
 * STATEMENT on the parent, enabled ALWAYS.  Forgets this transaction's
 * probes also when session_replication_role = replica kept icos._ref_guard
 * from firing.
 */
Datum
ref_forget(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		elog(ERROR, "icos._ref_forget must be an AFTER statement trigger");
	ref_forget_all();
	return PointerGetDatum(NULL);
}
