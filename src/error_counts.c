/*-------------------------------------------------------------------------
 *
 * error_counts.c
 *	  icos.error_counts(): the errors of this database's sessions (and
 *	  workers) since the server started, by SQLSTATE.
 *
 * A refused call (IC001 out of stock, 22023 a bad document, IC002 a change
 * not allowed now...) changes nothing and leaves no row, and PostgreSQL
 * counts only rolled-back transactions, whatever rolled them back.  At a
 * Christmas peak a DBA wants the refusals by kind: how many orders found
 * the stock gone, how many documents a web shop sent wrong.
 *
 * Loaded by shared_preload_libraries, icos keeps a small table in shared
 * memory, one counter per (database, SQLSTATE), and counts in the hook
 * every error report passes on its way to the server log (emit_log_hook):
 * errors that reached the client, or ended the statement at least.  An
 * error caught on the way (a PL/pgSQL EXCEPTION block, a subtransaction the
 * engine retries) is not reported and not counted, and neither is one the
 * server does not log (log_min_messages above error).  The table holds
 * ERROR_COUNT_SLOTS pairs; reports beyond them are counted as "other"
 * (sqlstate NULL) of no database.
 *
 * src/error_counts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/elog.h"

#include "error_counts.h"

PG_FUNCTION_INFO_V1(error_counts);

#define ERROR_COUNT_SLOTS 256

typedef struct ErrorCountSlot
{
	Oid			dboid;
	int			sqlerrcode;
	uint64		count;
} ErrorCountSlot;

typedef struct ErrorCountTable
{
	slock_t		mutex;
	int			nslots;			/* slots in use */
	uint64		dropped;		/* reports when every slot was in use */
	ErrorCountSlot slots[ERROR_COUNT_SLOTS];
} ErrorCountTable;

static ErrorCountTable *table = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

static void
error_counts_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ErrorCountTable)));
}

static void
error_counts_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	table = ShmemInitStruct("icos error counts", sizeof(ErrorCountTable), &found);
	if (!found)
	{
		SpinLockInit(&table->mutex);
		table->nslots = 0;
		table->dropped = 0;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Count an error of a database session.  It runs while the error is being
 * reported, so it does nothing that could fail: a spinlock and a scan of at
 * most ERROR_COUNT_SLOTS integers.
 */
static void
error_counts_emit(ErrorData *edata)
{
	if (table != NULL && edata->elevel == ERROR && OidIsValid(MyDatabaseId))
	{
		int			i;

		SpinLockAcquire(&table->mutex);
		for (i = 0; i < table->nslots; i++)
			if (table->slots[i].sqlerrcode == edata->sqlerrcode &&
				table->slots[i].dboid == MyDatabaseId)
				break;
		if (i < table->nslots)
			table->slots[i].count++;
		else if (i < ERROR_COUNT_SLOTS)
		{
			table->slots[i].dboid = MyDatabaseId;
			table->slots[i].sqlerrcode = edata->sqlerrcode;
			table->slots[i].count = 1;
			table->nslots++;
		}
		else
			table->dropped++;
		SpinLockRelease(&table->mutex);
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
error_counts_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = error_counts_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = error_counts_shmem_startup;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = error_counts_emit;
}

/* icos.error_counts(): this database's counters, and those dropped */
Datum
error_counts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ErrorCountSlot copy[ERROR_COUNT_SLOTS];
	int			n;
	uint64		dropped;

	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("icos counts errors only when it is loaded at server start"),
				 errhint("Add icos to shared_preload_libraries in postgresql.conf and restart the server.")));

	InitMaterializedSRF(fcinfo, 0);
	SpinLockAcquire(&table->mutex);
	n = table->nslots;
	memcpy(copy, table->slots, sizeof(ErrorCountSlot) * n);
	dropped = table->dropped;
	SpinLockRelease(&table->mutex);

	for (int i = 0; i < n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if (copy[i].dboid != MyDatabaseId)
			continue;
		values[0] = CStringGetTextDatum(unpack_sql_state(copy[i].sqlerrcode));
		values[1] = Int64GetDatum((int64) copy[i].count);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (dropped > 0)
	{
		Datum		values[2] = {(Datum) 0, Int64GetDatum((int64) dropped)};
		bool		nulls[2] = {true, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
