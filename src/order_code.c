/*-------------------------------------------------------------------------
 *
 * order_code.c
 *	  The icos.order_code type (text and binary I/O) and the order-code
 *	  generator: icos.next_order_code(), icos.order_code_node(),
 *	  icos.current_node().
 *
 * The type stores the permuted 55-bit value as an int8 passed by value, so
 * its comparison, hashing and sort support are the int8 ones (declared in
 * SQL as LANGUAGE internal); only I/O lives here.  The arithmetic is in
 * src/core/ordercode.c.
 *
 * The generator must cost little more than nextval() itself, so it neither
 * runs SQL nor switches user: the node id, the expanded key and the OID of
 * the node-local sequence are loaded once per backend by reading the tables
 * directly (internal access, so the caller needs no privilege on the key),
 * kept in static storage, and dropped by a relcache callback when the node
 * or key table changes (their triggers send the invalidation, see
 * icos_config_changed) so that icos.init_node takes effect at once in every
 * backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ordercode.h"

/*
 * Soft input errors (pg_input_is_valid) exist from PostgreSQL 16 on; before
 * that an input error is always thrown.
 */
#if PG_VERSION_NUM >= 160000
#define oc_input_error(escontext, ...) errsave(escontext, __VA_ARGS__)
#else
#define oc_input_error(escontext, ...) \
	do { (void) (escontext); ereport(ERROR, __VA_ARGS__); } while (0)
#endif

#define OC_SCHEMA		"icos"
#define OC_NODE_TABLE	"node"
#define OC_KEY_TABLE	"order_code_key"
#define OC_SEQUENCE		"order_code_seq"
#define OC_ADMIN_ROLE	"icos_admin"

/* Longest input echoed whole in an error message (bytes), else clipped. */
#define OC_ECHO_MAX		40

PG_FUNCTION_INFO_V1(order_code_in);
PG_FUNCTION_INFO_V1(order_code_out);
PG_FUNCTION_INFO_V1(order_code_recv);
PG_FUNCTION_INFO_V1(order_code_send);
PG_FUNCTION_INFO_V1(order_code_is_valid);
PG_FUNCTION_INFO_V1(next_order_code);
PG_FUNCTION_INFO_V1(order_code_node);
PG_FUNCTION_INFO_V1(current_node);
PG_FUNCTION_INFO_V1(order_code_new_key);
PG_FUNCTION_INFO_V1(icos_config_changed);

/* ----------
 * Text and binary I/O
 * ----------
 */

/* The input as shown in an error message: clipped when very long. */
static char *
echo_input(const char *str, size_t len)
{
	int			keep;

	if (len <= OC_ECHO_MAX)
		return pstrdup(str);
	keep = pg_mbcharcliplen(str, (int) Min(len, (size_t) OC_ECHO_MAX * MAX_MULTIBYTE_CHAR_LEN),
							OC_ECHO_MAX - 8);
	return psprintf("%.*s...", keep, str);
}

/*
 * Parse str (NUL-terminated, len bytes) into *result; on a malformed code
 * raise 22P02 (or save it into escontext) and return false.
 */
static bool
parse_order_code(const char *str, size_t len, int64 *result, Node *escontext)
{
	OcParseResult r;
	const char *hint = "Check the code on the receipt and type it again.";
	char	   *shown;

	oc_parse(str, len, &r);
	if (r.status == OC_OK)
	{
		*result = (int64) r.value;
		return true;
	}

	shown = echo_input(str, len);
	switch (r.status)
	{
		case OC_ERR_CHECK:
			oc_input_error(escontext,
						   errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("order code \"%s\" is not valid", shown),
						   errdetail("The check character does not match; the code was probably mistyped."),
						   errhint("%s", hint));
			break;
		case OC_ERR_EMPTY:
			oc_input_error(escontext,
						   errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("order code \"%s\" is not valid", shown),
						   errdetail("The code is empty."),
						   errhint("Type the 12 characters of the code on the receipt (three groups of four)."));
			break;
		case OC_ERR_LENGTH:
			oc_input_error(escontext,
						   errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						   errmsg("order code \"%s\" is not valid", shown),
						   errdetail("An order code has 12 characters, but this one has %zu.",
									 r.n_symbols),
						   errhint("%s", hint));
			break;
		case OC_ERR_U:
			{
				int			pos = pg_mbstrlen_with_len(str, (int) r.err_offset) + 1;

				oc_input_error(escontext,
							   errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							   errmsg("order code \"%s\" is not valid", shown),
							   errdetail("The letter U (character %d) is never used in order codes.", pos),
							   errhint("%s", hint));
			}
			break;
		case OC_ERR_SYMBOL:
			{
				const char *p = str + r.err_offset;
				int			pos = pg_mbstrlen_with_len(str, (int) r.err_offset) + 1;
				unsigned char ch = (unsigned char) *p;

				if (ch < 0x20 || ch == 0x7f)
					oc_input_error(escontext,
								   errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
								   errmsg("order code \"%s\" is not valid", shown),
								   errdetail("Character %d is a control character (code %d); an order code has only letters, digits, hyphens and spaces.",
											 pos, (int) ch),
								   errhint("%s", hint));
				else
					oc_input_error(escontext,
								   errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
								   errmsg("order code \"%s\" is not valid", shown),
								   errdetail("Character %d, \"%.*s\", cannot appear in an order code; an order code has only the digits 0-9, the letters A-Z except U, hyphens and spaces.",
											 pos, pg_mblen(p), p),
								   errhint("%s", hint));
			}
			break;
		case OC_OK:
			break;
	}
	return false;
}

Datum
order_code_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int64		value;
	Node	   *escontext = NULL;

#if PG_VERSION_NUM >= 160000
	escontext = fcinfo->context;
#endif
	if (!parse_order_code(str, strlen(str), &value, escontext))
		PG_RETURN_NULL();
	PG_RETURN_INT64(value);
}

Datum
order_code_out(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_INT64(0);
	char	   *buf = palloc(OC_TEXT_LEN + 1);

	if (value < 0 || (uint64) value >= OC_VALUE_LIMIT)
		elog(ERROR, "order code value " INT64_FORMAT " is out of range", value);
	oc_format((uint64) value, buf);
	PG_RETURN_CSTRING(buf);
}

Datum
order_code_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		value = pq_getmsgint64(buf);

	if (value < 0 || (uint64) value >= OC_VALUE_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("order code value " INT64_FORMAT " in binary input is out of range", value),
				 errdetail("An order code is a value from 0 to " INT64_FORMAT ".",
						   (int64) (OC_VALUE_LIMIT - 1))));
	PG_RETURN_INT64(value);
}

Datum
order_code_send(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_INT64(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, value);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* icos.order_code_is_valid(text): never raises. */
Datum
order_code_is_valid(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	OcParseResult r;

	oc_parse(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &r);
	PG_RETURN_BOOL(r.status == OC_OK);
}

/* ----------
 * Per-backend configuration: node id, key, sequence
 * ----------
 */
typedef struct OcConfig
{
	bool		valid;
	Oid			node_rel;
	Oid			key_rel;
	Oid			seq_rel;
	int			node_id;
	OcKey		key;
} OcConfig;

static OcConfig oc_config;
static bool oc_callback_registered = false;
static uint64 oc_inval_count = 0;

static void
oc_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == oc_config.node_rel ||
		relid == oc_config.key_rel || relid == oc_config.seq_rel)
	{
		oc_config.valid = false;
		oc_inval_count++;
	}
}

static Oid
oc_lookup_rel(Oid nsp, const char *name, char relkind)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid) || get_rel_relkind(relid) != relkind)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the icos order code configuration is incomplete"),
				 errdetail("The %s \"%s.%s\" is missing.",
						   relkind == RELKIND_SEQUENCE ? "sequence" : "table",
						   OC_SCHEMA, name),
				 errhint("Reinstall the extension with DROP EXTENSION icos and CREATE EXTENSION icos, or restore the database from a dump.")));
	return relid;
}

static int
oc_attnum(Relation rel, const char *name, Oid typid)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0 &&
			att->atttypid == typid)
			return i + 1;
	}
	elog(ERROR, "table \"%s\" has no column \"%s\" of the expected type",
		 RelationGetRelationName(rel), name);
	return 0;					/* keep compiler quiet */
}

/*
 * Read the single row of a configuration table into slot values; returns
 * the number of rows seen (stopping at two).
 */
static int
oc_read_single_row(Oid relid, Snapshot snapshot, int natts, const int *attnums,
				   Datum *values, bool *isnull)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int			rows = 0;

	while (rows < 2 && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		if (rows++ == 0)
		{
			int			i;

			for (i = 0; i < natts; i++)
				values[i] = slot_getattr(slot, attnums[i], &isnull[i]);
			/* materialise what we keep before the slot moves on */
			for (i = 0; i < natts; i++)
				if (!isnull[i] && TupleDescAttr(slot->tts_tupleDescriptor, attnums[i] - 1)->attlen == -1)
					values[i] = PointerGetDatum(PG_DETOAST_DATUM_COPY(values[i]));
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return rows;
}

/*
 * The snapshot to read the configuration with.  Outside parallel mode, the
 * latest one, taken after the tables are locked (and invalidations thereby
 * processed), so a load can never cache a value older than an invalidation
 * it has already seen.  In parallel mode only the active snapshot may be
 * used; *cacheable says whether what it shows may be cached: in a worker,
 * which lives for one query, yes; in the leader, no.
 */
static Snapshot
oc_config_snapshot(bool *cacheable)
{
	if (!IsInParallelMode())
	{
		*cacheable = true;
		return RegisterSnapshot(GetLatestSnapshot());
	}
	*cacheable = IsParallelWorker();
	return RegisterSnapshot(GetActiveSnapshot());
}

static void
oc_load_once(OcConfig *cfg, bool *cacheable)
{
	Oid			nsp = get_namespace_oid(OC_SCHEMA, true);
	Relation	rel;
	int			node_att[1];
	int			key_att[1];
	Datum		values[1];
	bool		isnull[1];
	Snapshot	snapshot;
	int			rows;
	bytea	   *raw;

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", OC_SCHEMA),
				 errhint("Install the extension with CREATE EXTENSION icos.")));
	cfg->node_rel = oc_lookup_rel(nsp, OC_NODE_TABLE, RELKIND_RELATION);
	cfg->key_rel = oc_lookup_rel(nsp, OC_KEY_TABLE, RELKIND_RELATION);
	cfg->seq_rel = oc_lookup_rel(nsp, OC_SEQUENCE, RELKIND_SEQUENCE);

	/* lock both tables first: that processes pending invalidations */
	rel = table_open(cfg->node_rel, AccessShareLock);
	node_att[0] = oc_attnum(rel, "node_id", INT4OID);
	table_close(rel, NoLock);
	rel = table_open(cfg->key_rel, AccessShareLock);
	key_att[0] = oc_attnum(rel, "key", BYTEAOID);
	table_close(rel, NoLock);

	snapshot = oc_config_snapshot(cacheable);

	rows = oc_read_single_row(cfg->node_rel, snapshot, 1, node_att, values, isnull);
	if (rows != 1 || isnull[0])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this database has no node id"),
				 errdetail("The table icos.node must hold exactly one row."),
				 errhint("Set the node id with icos.init_node(node_id, kind, name).")));
	cfg->node_id = DatumGetInt32(values[0]);
	if (cfg->node_id < 0 || cfg->node_id > OC_MAX_NODE)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node id %d is out of range", cfg->node_id),
				 errhint("Set a node id from 0 to %d with icos.init_node(node_id, kind, name).", OC_MAX_NODE)));

	rows = oc_read_single_row(cfg->key_rel, snapshot, 1, key_att, values, isnull);
	if (rows != 1 || isnull[0])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this database has no order code key"),
				 errdetail("The table icos.order_code_key must hold exactly one row."),
				 errhint("Restore the key from a backup of this deployment; a new key would change every future order code.")));
	raw = DatumGetByteaPP(values[0]);
	if (VARSIZE_ANY_EXHDR(raw) != OC_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the order code key has %d bytes instead of %d",
						(int) VARSIZE_ANY_EXHDR(raw), OC_KEY_BYTES)));
	oc_key_expand(&cfg->key, (const uint8_t *) VARDATA_ANY(raw));

	UnregisterSnapshot(snapshot);
}

/*
 * Make oc_config valid (or, in a parallel leader, fill *cfg for this call
 * only).  Returns the configuration to use.
 */
static const OcConfig *
oc_get_config(OcConfig *transient)
{
	MemoryContext tmp;
	MemoryContext old;

	if (oc_config.valid)
		return &oc_config;

	if (!oc_callback_registered)
	{
		CacheRegisterRelcacheCallback(oc_relcache_callback, (Datum) 0);
		oc_callback_registered = true;
	}

	tmp = AllocSetContextCreate(CurrentMemoryContext, "icos order code config",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(tmp);
	for (;;)
	{
		uint64		seen = oc_inval_count;
		OcConfig	cfg;
		bool		cacheable;

		memset(&cfg, 0, sizeof(cfg));
		oc_load_once(&cfg, &cacheable);
		if (!cacheable)
		{
			*transient = cfg;
			MemoryContextSwitchTo(old);
			MemoryContextDelete(tmp);
			return transient;
		}
		/* an invalidation that arrived while loading means: load again */
		if (seen == oc_inval_count)
		{
			cfg.valid = true;
			oc_config = cfg;
			break;
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return &oc_config;
}

/* ----------
 * Generator and decoder
 * ----------
 */
static void
oc_nextval_context(void *arg)
{
	if (geterrcode() == ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED)
		errcontext("issuing a new order code: this database has issued every order code its sequence allows");
	else
		errcontext("issuing a new order code");
}

Datum
next_order_code(PG_FUNCTION_ARGS)
{
	OcConfig	transient;
	const OcConfig *cfg = oc_get_config(&transient);
	ErrorContextCallback errcb;
	int64		seq;

	errcb.callback = oc_nextval_context;
	errcb.arg = NULL;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	seq = nextval_internal(cfg->seq_rel, false);
	error_context_stack = errcb.previous;

	/* locking the sequence may have processed a configuration change */
	if (!cfg->valid && cfg == &oc_config)
		cfg = oc_get_config(&transient);

	if (seq < 1 || (uint64) seq > OC_MAX_SEQ)
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("order code sequence value " INT64_FORMAT " is out of range", seq),
				 errdetail("The sequence icos.order_code_seq must stay between 1 and " INT64_FORMAT ".",
						   (int64) OC_MAX_SEQ)));

	PG_RETURN_INT64((int64) oc_permute(&cfg->key, oc_plain((unsigned) cfg->node_id, (uint64) seq)));
}

/* Superusers and members of icos_admin may decode codes. */
static bool
oc_is_admin(void)
{
	Oid			admin;

	if (superuser())
		return true;
	admin = get_role_oid(OC_ADMIN_ROLE, true);
	return OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
}

Datum
order_code_node(PG_FUNCTION_ARGS)
{
	int64		value = PG_GETARG_INT64(0);
	OcConfig	transient;
	const OcConfig *cfg;

	if (!oc_is_admin())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to find the node that issued an order code"),
				 errdetail("Only superusers and members of the role \"%s\" may decode order codes.",
						   OC_ADMIN_ROLE),
				 errhint("Ask an administrator of the deployment to look the code up.")));

	cfg = oc_get_config(&transient);
	PG_RETURN_INT32((int32) oc_plain_node(oc_unpermute(&cfg->key, (uint64) value)));
}

Datum
current_node(PG_FUNCTION_ARGS)
{
	OcConfig	transient;

	PG_RETURN_INT32(oc_get_config(&transient)->node_id);
}

/* icos._new_order_code_key(): 16 bytes from the strong random source. */
Datum
order_code_new_key(PG_FUNCTION_ARGS)
{
	bytea	   *key = palloc(VARHDRSZ + OC_KEY_BYTES);

	SET_VARSIZE(key, VARHDRSZ + OC_KEY_BYTES);
	if (!pg_strong_random(VARDATA(key), OC_KEY_BYTES))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random order code key")));
	PG_RETURN_BYTEA_P(key);
}

/*
 * Statement trigger on icos.node and icos.order_code_key: plain DML sends no
 * relcache invalidation, so send one; every backend (this one at the next
 * command, others when the transaction commits) then reloads its cached
 * configuration.
 */
Datum
icos_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "icos_config_changed: not called by the trigger manager");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
