/*-------------------------------------------------------------------------
 *
 * announce.c
 *	  Order events announced with NOTIFY icos_order_events, without making
 *	  the transactions that write them take NOTIFY's commit lock
 *	  (docs/integration.md, "Order events").
 *
 * Every row that lands in icos.order_event is announced to the listeners of
 * channel icos_order_events after the writing transaction commits, and
 * never for one rolled back.  The plain way, a NOTIFY in the writing
 * transaction, costs every order: PostgreSQL serialises the commits of
 * notifying transactions (PreCommit_Notify takes a lock of the whole
 * cluster and holds it until the commit record is flushed), so the group
 * commit that lets many orders share one WAL flush is lost.  Measured, it
 * took about 40% of web-order throughput (docs/performance.md).
 *
 * So, when icos is in shared_preload_libraries, the writer only queues the
 * payloads in shared memory and a background worker of the database, the
 * announcer, sends the NOTIFYs in a transaction of its own, many events a
 * commit:
 *
 *	trigger (each row)	 the payload is built and kept in the transaction's
 *						 list; a subtransaction rolled back drops its own
 *	PRE_COMMIT			 the list is copied into the database's queue as one
 *						 batch marked "reserved" (errors are still allowed
 *						 here: space is taken before the commit, so an event
 *						 is never lost for want of it)
 *	COMMIT / ABORT		 the batch is marked "committed" or "cancelled" and
 *						 the announcer's latch is set
 *	announcer			 sends the committed batches in queue order, skips the
 *						 cancelled ones, and stops at the first reserved one
 *						 until its writer has finished
 *
 * The announcer is a dynamic background worker: the first writer that
 * finds none running for its database starts one, and it exits after a
 * second without work (so DROP DATABASE, which waits up to five seconds for
 * other sessions to leave, is not held up).  Whenever the queue cannot be
 * used (icos not preloaded, every queue taken by other databases, the batch
 * too large, the queue full, or no worker can be started), the writer falls
 * back to NOTIFY in its own transaction: slower, never silent.
 *
 * The notification is the doorbell; the log is what a consumer reads.  An
 * event committed just before a crash may go unannounced (the queue is in
 * memory); a consumer that reconnects catches up from the log, as it must
 * after any disconnect.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "announce.h"

#define ANNOUNCE_CHANNEL	"icos_order_events"

/* Databases that can have a queue at once, and each queue's size. */
#define ANNOUNCE_DATABASES	8
#define ANNOUNCE_QUEUE_SIZE (128 * 1024)

/* A batch larger than this goes by NOTIFY in its own transaction. */
#define ANNOUNCE_BATCH_MAX	(ANNOUNCE_QUEUE_SIZE / 4)

/* The announcer leaves after this long without work (ms). */
#define ANNOUNCER_IDLE_MS	1000

/* A writer starts no second announcer within this long of the first (ms). */
#define ANNOUNCER_LAUNCH_MS 1000

/* A batch's state, in its header. */
#define BATCH_RESERVED	1
#define BATCH_COMMITTED 2
#define BATCH_CANCELLED 3
#define BATCH_PAD		4		/* the unused end of the queue before a wrap */

/*
 * A batch in the queue: this header, then the payloads, each ending with a
 * NUL, then padding to MAXALIGN.  size counts all of it.
 */
typedef struct BatchHeader
{
	uint32		size;
	uint32		state;
} BatchHeader;

#define BATCH_HEADER_SIZE	MAXALIGN(sizeof(BatchHeader))

/* The queue of one database. */
typedef struct AnnounceQueue
{
	LWLock	   *lock;
	Oid			dboid;			/* InvalidOid: the queue is free */
	int			announcer;		/* pgprocno of the announcer, or -1 */
	TimestampTz launched_at;	/* last start requested, 0 if none pending */
	TimestampTz failed_at;		/* last failed start, 0 if none */
	uint64		head;			/* bytes ever reserved */
	uint64		tail;			/* bytes ever consumed */
	char		data[ANNOUNCE_QUEUE_SIZE];
} AnnounceQueue;

typedef struct AnnounceShared
{
	LWLock	   *lock;			/* taking and freeing queues */
	AnnounceQueue queues[ANNOUNCE_DATABASES];
} AnnounceShared;

static AnnounceShared *announce_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* One event of the writing transaction, not yet queued. */
typedef struct PendingEvent
{
	struct PendingEvent *next;
	SubTransactionId subid;
	char		payload[FLEXIBLE_ARRAY_MEMBER];
} PendingEvent;

/* The writing transaction's events, in TopTransactionContext, oldest first. */
static PendingEvent *pending_head = NULL;
static PendingEvent *pending_tail = NULL;
static Size pending_bytes = 0;

/* This transaction announces its events itself (it wrote too many to queue). */
static bool notify_here = false;

/* The batch this transaction reserved at PRE_COMMIT, if any. */
static AnnounceQueue *reserved_queue = NULL;
static uint64 reserved_at = 0;

static bool callbacks_registered = false;

/* ---- shared memory ---- */

static Size
announce_shmem_size(void)
{
	return MAXALIGN(sizeof(AnnounceShared));
}

static void
announce_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(announce_shmem_size());
	RequestNamedLWLockTranche("icos_announce", ANNOUNCE_DATABASES + 1);
}

static void
announce_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	announce_shared = ShmemInitStruct("icos announce", announce_shmem_size(), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("icos_announce");

		announce_shared->lock = &locks[0].lock;
		for (int i = 0; i < ANNOUNCE_DATABASES; i++)
		{
			AnnounceQueue *q = &announce_shared->queues[i];

			q->lock = &locks[i + 1].lock;
			q->dboid = InvalidOid;
			q->announcer = -1;
			q->launched_at = 0;
			q->failed_at = 0;
			q->head = 0;
			q->tail = 0;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

void
announce_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = announce_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = announce_shmem_startup;
}

/*
 * The queue of this database: found, or a free one taken when create is
 * true.  NULL when icos is not preloaded or every queue is taken.
 */
static AnnounceQueue *
queue_of_database(Oid dboid, bool create)
{
	AnnounceQueue *free_queue = NULL;

	if (announce_shared == NULL)
		return NULL;
	LWLockAcquire(announce_shared->lock, create ? LW_EXCLUSIVE : LW_SHARED);
	for (int i = 0; i < ANNOUNCE_DATABASES; i++)
	{
		AnnounceQueue *q = &announce_shared->queues[i];

		if (q->dboid == dboid)
		{
			LWLockRelease(announce_shared->lock);
			return q;
		}
		if (q->dboid == InvalidOid && free_queue == NULL)
			free_queue = q;
	}
	if (create && free_queue != NULL)
	{
		/* A free queue is empty, with no announcer: see announcer_leave. */
		LWLockAcquire(free_queue->lock, LW_EXCLUSIVE);
		free_queue->dboid = dboid;
		free_queue->launched_at = 0;
		free_queue->failed_at = 0;
		LWLockRelease(free_queue->lock);
	}
	else
		free_queue = NULL;
	LWLockRelease(announce_shared->lock);
	return free_queue;
}

/* ---- the writer ---- */

static void
pending_reset(void)
{
	pending_head = pending_tail = NULL;
	pending_bytes = 0;
	notify_here = false;
	reserved_queue = NULL;
	reserved_at = 0;
}

/* NOTIFY each pending event in this transaction: the way without a queue. */
static void
pending_notify_here(void)
{
	for (PendingEvent *e = pending_head; e != NULL; e = e->next)
		Async_Notify(ANNOUNCE_CHANNEL, e->payload);
	pending_head = pending_tail = NULL;
	pending_bytes = 0;
}

/* Ask the postmaster for an announcer of this database. */
static bool
start_announcer(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "icos");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "icos_announcer_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "icos announcer for database %u", MyDatabaseId);
	snprintf(worker.bgw_type, BGW_MAXLEN, "icos announcer");
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	worker.bgw_notify_pid = 0;
	return RegisterDynamicBackgroundWorker(&worker, NULL);
}

/* The queue this backend found last; checked again under its lock. */
static AnnounceQueue *writer_queue = NULL;

/*
 * Reserve a batch for the pending events in the queue (its lock held).
 * Returns false when it is full.
 */
static bool
queue_reserve(AnnounceQueue *q, Size size)
{
	uint64		at = q->head;
	Size		offset = at % ANNOUNCE_QUEUE_SIZE;
	Size		pad = offset + size > ANNOUNCE_QUEUE_SIZE ? ANNOUNCE_QUEUE_SIZE - offset : 0;
	BatchHeader *h;
	char	   *p;

	if (q->head + pad + size - q->tail > ANNOUNCE_QUEUE_SIZE)
		return false;
	if (pad > 0)
	{
		h = (BatchHeader *) (q->data + offset);
		h->size = pad;
		h->state = BATCH_PAD;
		at += pad;
		offset = 0;
	}
	h = (BatchHeader *) (q->data + offset);
	h->size = size;
	h->state = BATCH_RESERVED;
	p = q->data + offset + BATCH_HEADER_SIZE;
	for (PendingEvent *e = pending_head; e != NULL; e = e->next)
	{
		Size		len = strlen(e->payload) + 1;

		memcpy(p, e->payload, len);
		p += len;
	}
	/* zeros to the end: empty strings, which the announcer skips */
	memset(p, 0, q->data + offset + size - p);
	q->head = at + size;
	reserved_queue = q;
	reserved_at = at;
	return true;
}

/*
 * PRE_COMMIT: copy the pending events into the database's queue as one
 * reserved batch, starting an announcer if none runs; or, when the queue
 * cannot be used, NOTIFY them in this transaction.
 */
static void
pending_reserve(void)
{
	AnnounceQueue *q = NULL;
	Size		size = BATCH_HEADER_SIZE + MAXALIGN(pending_bytes);
	bool		launch = false;
	bool		queued = false;

	/* Twice: the queue found last may have been freed by its announcer. */
	for (int attempt = 0; attempt < 2 && size <= ANNOUNCE_BATCH_MAX; attempt++)
	{
		if (writer_queue == NULL)
			writer_queue = queue_of_database(MyDatabaseId, true);
		q = writer_queue;
		if (q == NULL)
			break;				/* every queue taken by other databases */
		LWLockAcquire(q->lock, LW_EXCLUSIVE);
		if (q->dboid != MyDatabaseId)
		{
			LWLockRelease(q->lock);
			writer_queue = NULL;
			continue;
		}
		if (q->announcer >= 0)
			queued = queue_reserve(q, size);	/* false: full, the announcer is behind */
		else
		{
			TimestampTz now = GetCurrentTimestamp();

			/* None runs: start one, unless that failed a moment ago. */
			if (q->failed_at == 0 ||
				TimestampDifferenceExceeds(q->failed_at, now, ANNOUNCER_LAUNCH_MS))
			{
				queued = queue_reserve(q, size);
				if (queued && (q->launched_at == 0 ||
							   TimestampDifferenceExceeds(q->launched_at, now, ANNOUNCER_LAUNCH_MS)))
				{
					q->launched_at = now;
					launch = true;
				}
			}
		}
		LWLockRelease(q->lock);
		break;
	}

	if (launch && !start_announcer())
	{
		LWLockAcquire(q->lock, LW_EXCLUSIVE);
		q->failed_at = GetCurrentTimestamp();
		q->launched_at = 0;
		((BatchHeader *) (q->data + reserved_at % ANNOUNCE_QUEUE_SIZE))->state = BATCH_CANCELLED;
		LWLockRelease(q->lock);
		reserved_queue = NULL;
		queued = false;
		ereport(LOG,
				(errmsg("icos could not start the order event announcer"),
				 errdetail("Every background worker slot is taken; order events are announced by the transactions that write them until one is free."),
				 errhint("Raise max_worker_processes.")));
	}
	if (!queued)
		pending_notify_here();
}

/* COMMIT or ABORT after PRE_COMMIT: settle the reserved batch. */
static void
reserved_settle(bool committed)
{
	AnnounceQueue *q = reserved_queue;
	int			announcer;

	LWLockAcquire(q->lock, LW_EXCLUSIVE);
	((BatchHeader *) (q->data + reserved_at % ANNOUNCE_QUEUE_SIZE))->state =
		committed ? BATCH_COMMITTED : BATCH_CANCELLED;
	announcer = q->announcer;
	LWLockRelease(q->lock);
	/* A stale number only wakes another process for nothing. */
	if (announcer >= 0)
		SetLatch(&ProcGlobal->allProcs[announcer].procLatch);
}

static void
announce_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (pending_head != NULL)
				pending_reserve();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (pending_head != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that wrote order events"),
						 errdetail("Order events are announced when the transaction that writes them commits, which a prepared transaction does not do.")));
			break;
		case XACT_EVENT_COMMIT:
			if (reserved_queue != NULL)
				reserved_settle(true);
			pending_reset();
			break;
		case XACT_EVENT_ABORT:
			if (reserved_queue != NULL)
				reserved_settle(false);
			pending_reset();
			break;
		default:
			break;
	}
}

/* Events of a subtransaction rolled back are dropped; committed, they pass to its parent. */
static void
announce_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	PendingEvent **link = &pending_head;

	if (pending_head == NULL ||
		(event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB))
		return;
	pending_tail = NULL;
	while (*link != NULL)
	{
		PendingEvent *e = *link;

		if (e->subid == mySubid && event == SUBXACT_EVENT_ABORT_SUB)
		{
			pending_bytes -= strlen(e->payload) + 1;
			*link = e->next;
			pfree(e);
			continue;
		}
		if (e->subid == mySubid)
			e->subid = parentSubid;
		pending_tail = e;
		link = &e->next;
	}
}

/* The payload of API.md: {"code": ..., "kind": ..., "at": ... (UTC), "store": n}. */
static char *
event_payload(HeapTuple tuple, TupleDesc desc)
{
	StringInfoData buf;
	char	   *code = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "code"));
	char	   *kind = SPI_getvalue(tuple, desc, SPI_fnumber(desc, "kind"));
	bool		isnull;
	Datum		at = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "at"), &isnull);
	Datum		store = SPI_getbinval(tuple, desc, SPI_fnumber(desc, "store_id"), &isnull);
	struct pg_tm tm;
	fsec_t		fsec;

	/* Both NOT NULL, like code and kind; "at" in UTC whatever the session's TimeZone. */
	if (code == NULL || kind == NULL ||
		timestamp2tm(DatumGetTimestampTz(at), NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("an order event cannot be announced: its code, kind or time is missing or out of range")));

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"code\": ");
	escape_json(&buf, code);
	appendStringInfoString(&buf, ", \"kind\": ");
	escape_json(&buf, kind);
	appendStringInfo(&buf, ", \"at\": \"%04d-%02d-%02dT%02d:%02d:%02d.%06dZ\", \"store\": %d}",
					 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
					 (int) fsec, DatumGetInt32(store));
	return buf.data;
}

PG_FUNCTION_INFO_V1(icos_order_event_announce);

/*
 * Trigger AFTER INSERT ON icos.order_event FOR EACH ROW (enabled ALWAYS, so
 * the apply worker's rows are announced too).
 */
Datum
icos_order_event_announce(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	char	   *payload;
	PendingEvent *e;
	Size		len;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("icos._order_event_announce() must be an AFTER INSERT trigger for each row")));

	payload = event_payload(trigdata->tg_trigtuple, trigdata->tg_relation->rd_att);

	len = strlen(payload) + 1;

	/*
	 * Not preloaded: the plain way, a NOTIFY in this transaction.  So too a
	 * transaction that writes more events than one batch may hold (a
	 * restore): at the top level, where nothing can roll back part of them,
	 * what it kept so far goes first, and the rest straight after, rather
	 * than keeping every payload twice.
	 */
	if (!notify_here && announce_shared != NULL &&
		pending_bytes + len > ANNOUNCE_BATCH_MAX && GetCurrentTransactionNestLevel() == 1)
	{
		pending_notify_here();
		notify_here = true;		/* the rest too, so they keep their order */
	}
	if (announce_shared == NULL || notify_here)
	{
		Async_Notify(ANNOUNCE_CHANNEL, payload);
		pfree(payload);
		return PointerGetDatum(NULL);
	}

	if (!callbacks_registered)
	{
		RegisterXactCallback(announce_xact_callback, NULL);
		RegisterSubXactCallback(announce_subxact_callback, NULL);
		callbacks_registered = true;
	}
	e = MemoryContextAlloc(TopTransactionContext, offsetof(PendingEvent, payload) + len);
	e->next = NULL;
	e->subid = GetCurrentSubTransactionId();
	memcpy(e->payload, payload, len);
	pfree(payload);
	if (pending_tail != NULL)
		pending_tail->next = e;
	else
		pending_head = e;
	pending_tail = e;
	pending_bytes += len;
	return PointerGetDatum(NULL);
}

/* ---- the announcer ---- */

static AnnounceQueue *my_queue = NULL;

/* Leaving, for whatever reason: a writer then starts another. */
static void
announcer_detach(int code, Datum arg)
{
	if (my_queue == NULL)
		return;
	LWLockAcquire(my_queue->lock, LW_EXCLUSIVE);
	if (my_queue->announcer == MyProc->pgprocno)
		my_queue->announcer = -1;
	LWLockRelease(my_queue->lock);
	my_queue = NULL;
}

/*
 * Take the committed batches at the front of the queue: their payloads,
 * one after another with their NULs, into buf.  Returns false when the
 * queue is empty.
 */
static bool
announcer_take(StringInfo buf)
{
	AnnounceQueue *q = my_queue;
	bool		empty;

	LWLockAcquire(q->lock, LW_EXCLUSIVE);
	while (q->tail < q->head)
	{
		Size		offset = q->tail % ANNOUNCE_QUEUE_SIZE;
		BatchHeader *h = (BatchHeader *) (q->data + offset);

		if (h->state == BATCH_RESERVED)
			break;				/* its writer is committing: it wakes us */
		if (h->state == BATCH_COMMITTED)
			appendBinaryStringInfo(buf, q->data + offset + BATCH_HEADER_SIZE,
								   h->size - BATCH_HEADER_SIZE);
		q->tail += h->size;
	}
	empty = q->tail == q->head;
	LWLockRelease(q->lock);
	return !empty || buf->len > 0;
}

/* Leave if the queue is still empty; the queue is freed with us. */
static bool
announcer_leave(void)
{
	AnnounceQueue *q = my_queue;
	bool		leave;

	LWLockAcquire(announce_shared->lock, LW_EXCLUSIVE);
	LWLockAcquire(q->lock, LW_EXCLUSIVE);
	leave = q->tail == q->head;
	if (leave)
	{
		q->announcer = -1;
		q->dboid = InvalidOid;
		q->head = q->tail = 0;
	}
	LWLockRelease(q->lock);
	LWLockRelease(announce_shared->lock);
	if (leave)
		my_queue = NULL;
	return leave;
}

/*
 * Send the payloads in buf in one transaction.  A failure (PostgreSQL's
 * notification queue full because a listener stopped reading) loses these
 * announcements, says so in the server log, and leaves the announcer
 * running for the next ones.
 */
static void
announcer_notify(StringInfo buf)
{
	MemoryContext cxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "announcing order events");
	PG_TRY();
	{
		for (int i = 0; i < buf->len; i += strlen(buf->data + i) + 1)
		{
			if (buf->data[i] != '\0')
				Async_Notify(ANNOUNCE_CHANNEL, buf->data + i);
		}
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("icos announcer: order events were not announced"),
				 errdetail("Their rows are in icos.order_event; listeners catch up from the log.")));
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
}

void
icos_announcer_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	StringInfoData buf;
	TimestampTz idle_since;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();

	if (announce_shared == NULL)
		proc_exit(0);			/* started by hand in a server without the queue */
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("icos announcer");

	my_queue = queue_of_database(dboid, false);
	if (my_queue == NULL)
		proc_exit(0);			/* nothing queued for this database */
	LWLockAcquire(my_queue->lock, LW_EXCLUSIVE);
	if (my_queue->dboid != dboid || my_queue->announcer >= 0)
	{
		LWLockRelease(my_queue->lock);
		my_queue = NULL;
		proc_exit(0);			/* another announcer runs */
	}
	my_queue->announcer = MyProc->pgprocno;
	my_queue->launched_at = 0;
	my_queue->failed_at = 0;
	LWLockRelease(my_queue->lock);
	before_shmem_exit(announcer_detach, (Datum) 0);

	initStringInfo(&buf);
	idle_since = GetCurrentTimestamp();
	for (;;)
	{
		long		wait_ms;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		resetStringInfo(&buf);
		if (announcer_take(&buf))
			idle_since = GetCurrentTimestamp();
		if (buf.len > 0)
		{
			announcer_notify(&buf);
			continue;
		}

		wait_ms = ANNOUNCER_IDLE_MS -
			(GetCurrentTimestamp() - idle_since) / 1000;
		if (wait_ms <= 0)
		{
			if (announcer_leave())
				proc_exit(0);
			idle_since = GetCurrentTimestamp();
			wait_ms = ANNOUNCER_IDLE_MS;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
	}
}
