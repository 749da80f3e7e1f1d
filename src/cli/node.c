/*-------------------------------------------------------------------------
 *
 * node.c
 *		icos node: provisioning the replication between head office and
 *		the store databases.
 *
 *	icos node init-hq --dsn HQ
 *	icos node add-store --hq HQ --store-dsn STORE --store N [--name TEXT]
 *	icos node status --dsn HQ
 *	icos node remove-store --hq HQ --store N [--store-dsn STORE]
 *	icos node reseed --hq HQ --store-dsn STORE --store N
 *	icos node heartbeat --dsn DB [--every SECONDS]
 *
 * The publications are made by SQL functions on each side (icos.
 * create_publications) and checked against the extension's description of
 * what flows where (icos.check_publications) before anything subscribes to
 * them.  CREATE SUBSCRIPTION cannot run in a transaction block, hence in no
 * function: the subscriptions are made here.  Names: at store node N the
 * subscription icos_hq_to_N (slot of that name at HQ); at HQ the
 * subscription icos_store_N_to_hq (slot at the store).
 *
 * src/cli/node.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "icos.h"

/* Connect to one side; reports and returns NULL when it fails. */
static PGconn *
connect_to(const char *what, const char *dsn)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {dsn, "icos node", NULL};
	PGconn	   *conn = PQconnectdbParams(keywords, values, 1);

	if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
	{
		fprintf(stderr, "icos: could not connect to %s: %s", what,
				conn ? PQerrorMessage(conn) : "out of memory\n");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Run a statement; true when it worked (errors are reported). */
static bool
exec_ok(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = run_query(conn, sql, nparams, params);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/* First column of the first row of a one-value query, malloc'd, or NULL. */
static char *
query_value(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res = run_query(conn, sql, nparams, params);
	char	   *v = NULL;

	if (res == NULL)
		return NULL;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* Does this database have the icos extension, with replication support? */
static bool
check_icos(PGconn *conn, const char *what)
{
	char	   *wal = query_value(conn, "SELECT pg_catalog.current_setting('wal_level')", 0, NULL);
	bool		ok = true;

	if (!require_function(conn, "icos.create_publications(integer)", "replication support", "0.2.0"))
		ok = false;
	else if (wal == NULL || strcmp(wal, "logical") != 0)
	{
		fprintf(stderr, "icos: %s has wal_level = %s; replication needs logical\n"
				"HINT: Set wal_level = logical (and max_replication_slots, max_wal_senders) "
				"and restart that server; docs/replication.md lists the settings.\n",
				what, wal ? wal : "unknown");
		ok = false;
	}
	free(wal);
	return ok;
}

/* The problems icos.check_publications finds; true when there are none. */
static bool
publications_valid(PGconn *conn, const char *what, const char *node)
{
	const char *params[1] = {node};
	PGresult   *res = run_query(conn,
								"SELECT publication, coalesce(table_name, '-'), problem "
								"FROM icos.check_publications($1::int)", 1, params);
	int			n;

	if (res == NULL)
		return false;
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
		fprintf(stderr, "icos: %s: publication %s, table %s: %s\n", what,
				PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
	if (n > 0)
		fprintf(stderr, "icos: the publications of %s are not what icos expects; nothing was subscribed\n"
				"HINT: Drop the publications named above (DROP PUBLICATION ...) and run the command "
				"again: icos recreates them from icos.replicated_tables() (store node %s).\n", what, node);
	return n == 0;
}

/*
 * Create a subscription unless one of that name exists.  conninfo is the
 * other side's connection string as the subscribing server must use it.
 */
static bool
subscribe(PGconn *conn, const char *subname, const char *conninfo,
		  const char *publications, bool copy_data)
{
	const char *params[1] = {subname};
	char	   *exists = query_value(conn,
									 "SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1", 1, params);
	char	   *lit;
	StrBuf		sql;
	bool		ok;

	if (exists != NULL)
	{
		free(exists);
		printf("  subscription %s exists already\n", subname);
		return true;
	}
	lit = PQescapeLiteral(conn, conninfo, strlen(conninfo));
	if (lit == NULL)
	{
		report_error(conn, NULL);
		return false;
	}
	sb_init(&sql);
	/* never disable_on_error: a publisher restart would disable the link */
	sb_printf(&sql, "CREATE SUBSCRIPTION %s CONNECTION %s PUBLICATION %s "
			  "WITH (copy_data = %s, streaming = on)",
			  subname, lit, publications, copy_data ? "true" : "false");
	PQfreemem(lit);
	ok = exec_ok(conn, sql.data, 0, NULL);
	sb_free(&sql);
	if (ok)
		printf("  subscription %s created\n", subname);
	return ok;
}

/* Wait until every table of the subscription is synchronised, showing progress. */
static bool
wait_for_sync(PGconn *conn, const char *what, const char *subname, int timeout)
{
	const char *params[1] = {subname};
	time_t		start = time(NULL);
	int			last_ready = -1;

	for (;;)
	{
		PGresult   *res = run_query(conn,
									"SELECT count(*) FILTER (WHERE r.srsubstate = 'r'), count(*) "
									"FROM pg_catalog.pg_subscription s "
									"JOIN pg_catalog.pg_subscription_rel r ON r.srsubid = s.oid "
									"WHERE s.subname = $1", 1, params);
		int			ready,
					total;

		if (res == NULL)
			return false;
		ready = atoi(PQgetvalue(res, 0, 0));
		total = atoi(PQgetvalue(res, 0, 1));
		PQclear(res);
		if (ready != last_ready)
		{
			fprintf(stderr, "  %s: initial copy %d of %d tables\n", what, ready, total);
			last_ready = ready;
		}
		if (total > 0 && ready == total)
			return true;
		if (time(NULL) - start > timeout)
		{
			fprintf(stderr, "icos: %s: the initial copy did not finish within %d seconds\n"
					"HINT: Look in that server's log for errors of the logical replication workers; "
					"the subscription keeps trying, run icos node status to follow it.\n",
					what, timeout);
			return false;
		}
		{
			struct timespec pause = {0, 200 * 1000 * 1000};

			nanosleep(&pause, NULL);
		}
	}
}

/* node init-hq: prepare head office. */
static int
node_init_hq(int argc, char **argv)
{
	const OptSpec specs[] = {
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	PGconn	   *conn;
	char	   *kind;

	parse_command_args("node init-hq", argc, argv, specs, NULL, 0, 0);
	conn = connect_or_exit();
	if (!check_icos(conn, "head office"))
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	kind = query_value(conn, "SELECT kind FROM icos.node", 0, NULL);
	if (kind == NULL || strcmp(kind, "hq") != 0)
	{
		fprintf(stderr, "icos: this database is a %s node, not head office\n"
				"HINT: Run init-hq on the head office database (node kind hq).\n",
				kind ? kind : "unknown");
		free(kind);
		disconnect(conn);
		return EXIT_REFUSED;
	}
	free(kind);
	if (!exec_ok(conn, "SELECT icos.setup_replication()", 0, NULL) ||
		!exec_ok(conn, "SELECT icos.heartbeat()", 0, NULL))
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	printf("Head office ready for replication: guards and availability triggers enabled.\n"
		   "Next: icos node add-store --hq HQ --store-dsn STORE --store N for each store node.\n");
	disconnect(conn);
	return EXIT_OK;
}

/*
 * The store side's node row and order code key.  Returns false (reported)
 * when the store database cannot become node N.
 */
static bool
prepare_store(PGconn *hq, PGconn *st, const char *node, const char *name)
{
	const char *p1[1] = {node};
	const char *p3[3];
	char	   *same,
			   *key,
			   *codes;
	bool		ok = true;

	same = query_value(st, "SELECT (node_id = $1::int AND kind = 'store')::text FROM icos.node", 1, p1);
	if (same == NULL)
		return false;
	if (strcmp(same, "true") != 0)
	{
		codes = query_value(st, "SELECT count(*) FROM icos.orders", 0, NULL);
		if (codes == NULL || strcmp(codes, "0") != 0)
		{
			fprintf(stderr, "icos: the store database is another node and already holds %s orders\n"
					"HINT: Give --store the node id it was set up with (SELECT * FROM icos.node).\n",
					codes ? codes : "some");
			ok = false;
		}
		else
		{
			p3[0] = node;
			p3[1] = "store";
			p3[2] = name;
			ok = exec_ok(st, "SELECT icos.init_node($1::int, $2, $3)", 3, p3);
		}
		free(codes);
	}
	free(same);
	if (!ok)
		return false;

	/* the deployment's order code key, before the store issues any code */
	key = query_value(hq, "SELECT key::text FROM icos.order_code_key", 0, NULL);
	if (key == NULL)
		return false;
	p1[0] = key;
	same = query_value(st, "SELECT (key = $1::bytea)::text FROM icos.order_code_key", 1, p1);
	if (same != NULL && strcmp(same, "true") != 0)
		ok = exec_ok(st, "SELECT icos.set_order_code_key($1::bytea)", 1, p1);
	else if (same == NULL)
		ok = false;
	if (ok)
		printf("  store database is node %s, order code key copied from head office\n", node);
	free(same);
	free(key);
	return ok;
}

/*
 * What node add-store, remove-store and reseed share: head office's and the
 * store database's connection strings (--hq, --store-dsn), the store node's
 * id (--store, kept as text for query parameters) and the two connections.
 */
typedef struct NodeLink
{
	const char *hq_dsn;
	const char *store_dsn;
	const char *store;
	char		node[16];
	PGconn	   *hq;
	PGconn	   *st;
} NodeLink;

#define NODE_LINK_SPECS(l) \
	{"hq", true, &(l).hq_dsn, NULL}, \
	{"store-dsn", true, &(l).store_dsn, NULL}, \
	{"store", true, &(l).store, NULL}

/*
 * Checks the link's options after parsing (the store database's only when
 * the command needs it) and sets the node id.
 */
static void
link_args(NodeLink *l, const char *cmd, bool need_store_dsn)
{
	if (!l->hq_dsn || !l->store || (need_store_dsn && !l->store_dsn))
		usage_error(need_store_dsn ? "%s: --hq, --store-dsn and --store are all required"
					: "%s: --hq and --store are required", cmd);
	snprintf(l->node, sizeof(l->node), "%d", parse_int_arg(cmd, "--store", l->store));
}

/* Connects to head office, and to the store database when one was given. */
static bool
link_connect(NodeLink *l)
{
	if ((l->hq = connect_to("head office", l->hq_dsn)) == NULL)
		return false;
	return l->store_dsn == NULL ||
		(l->st = connect_to("the store database", l->store_dsn)) != NULL;
}

static void
link_close(NodeLink *l)
{
	if (l->st)
		disconnect(l->st);
	if (l->hq)
		disconnect(l->hq);
	l->st = l->hq = NULL;
}

static int
node_add_store(int argc, char **argv)
{
	NodeLink	l = {0};
	const char *name = NULL,
			   *timeout_s = NULL;
	const OptSpec specs[] = {
		NODE_LINK_SPECS(l),
		{"name", true, &name, NULL},
		{"timeout", true, &timeout_s, NULL},
		{NULL}
	};
	const char *node = l.node;
	char		subname[64];
	char		pubs[128];
	char		defname[64];
	int			timeout = 300;
	PGconn	   *hq,
			   *st;
	const char *p1[1];
	char	   *owned;
	int			status = EXIT_REFUSED;

	parse_command_args("node add-store", argc, argv, specs, NULL, 0, 0);
	link_args(&l, "node add-store", true);
	if (timeout_s)
		timeout = parse_int_arg("node add-store", "--timeout", timeout_s);
	snprintf(defname, sizeof(defname), "store node %s", node);

	if (!link_connect(&l))
		goto out;
	hq = l.hq;
	st = l.st;
	if (!check_icos(hq, "head office") || !check_icos(st, "the store database"))
		goto out;

	/* 1. head office knows which stores the node serves */
	p1[0] = node;
	owned = query_value(hq, "SELECT string_agg(store_id::text, ', ' ORDER BY store_id) "
						"FROM icos.store WHERE node_id = $1::int", 1, p1);
	if (owned == NULL)
	{
		fprintf(stderr, "icos: head office has no store with node_id %s\n"
				"HINT: At head office, UPDATE icos.store SET node_id = %s WHERE store_id IN (...) "
				"for the stores this database serves, then run the command again.\n", node, node);
		goto out;
	}
	printf("Adding store node %s (stores %s)\n", node, owned);
	free(owned);

	/* 2. the store database becomes node N with the deployment's key */
	if (!prepare_store(hq, st, node, name ? name : defname))
		goto out;

	/* 3. head office publications, checked, then the store subscribes */
	if (!exec_ok(hq, "SELECT icos.setup_replication()", 0, NULL) ||
		!exec_ok(hq, "SELECT icos.create_publications($1::int)", 1, p1) ||
		!publications_valid(hq, "head office", node))
		goto out;
	printf("  head office publications checked\n");
	snprintf(subname, sizeof(subname), "icos_hq_to_%s", node);
	snprintf(pubs, sizeof(pubs), "icos_hq, icos_hq_route_%s", node);
	if (!subscribe(st, subname, l.hq_dsn, pubs, true) ||
		!wait_for_sync(st, "head office -> store", subname, timeout))
		goto out;

	/* 4. store publications (its stores now known), checked, HQ subscribes */
	if (!exec_ok(st, "SELECT icos.setup_replication()", 0, NULL) ||
		!exec_ok(st, "SELECT icos.create_publications($1::int)", 1, p1) ||
		!publications_valid(st, "the store database", node))
		goto out;
	printf("  store publications checked\n");
	snprintf(subname, sizeof(subname), "icos_store_%s_to_hq", node);
	snprintf(pubs, sizeof(pubs), "icos_store_%s, icos_store_%s_log", node, node);
	if (!subscribe(hq, subname, l.store_dsn, pubs, true) ||
		!wait_for_sync(hq, "store -> head office", subname, timeout))
		goto out;

	if (!exec_ok(st, "SELECT icos.heartbeat()", 0, NULL) ||
		!exec_ok(hq, "SELECT icos.heartbeat()", 0, NULL))
		goto out;
	printf("Store node %s is in step with head office.\n"
		   "Call SELECT icos.heartbeat() every few seconds on every node "
		   "(or run icos node heartbeat --every 5).\n", node);
	status = EXIT_OK;
out:
	link_close(&l);
	return status;
}

static int
node_status(int argc, char **argv)
{
	const OptSpec specs[] = {
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	/* for people: lags as "seconds, size"; every figure is in --json */
	static const Column cols[] = {
		{"Node", COL_NUM}, {"Stores", COL_TEXT}, {"Link", COL_TEXT},
		{"HQ -> store lag", COL_TEXT}, {"store -> HQ lag", COL_TEXT},
		{"Last heartbeat", COL_TEXT}, {"Apply errors (HQ/store)", COL_TEXT},
		{"WAL kept (HQ/store)", COL_TEXT}, {"Slot", COL_TEXT}, {"Pending", COL_NUM}
	};
	PGconn	   *conn;
	PGresult   *res;

	parse_command_args("node status", argc, argv, specs, NULL, 0, 0);
	conn = connect_or_exit();
	if (!require_function(conn, "icos.heartbeat()", "replication support", "0.2.0"))
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (opts.json)
		res = run_query(conn, "SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.node_id), '[]') "
						"FROM icos.node_status s", 0, NULL);
	else
		res = run_query(conn,
						"SELECT node_id, stores, link_state, "
						"coalesce(round(to_store_lag_s, 1) || ' s, ' || pg_size_pretty(to_store_lag_bytes), '-'), "
						"coalesce(round(from_store_lag_s, 1) || ' s, ' || pg_size_pretty(from_store_lag_bytes), '-'), "
						"coalesce(to_char(last_heartbeat, 'HH24:MI:SS') || ' (' || round(heartbeat_age_s, 1) || ' s ago)', 'never'), "
						"coalesce(hq_apply_errors::text, '-') || ' / ' || coalesce(store_apply_errors::text, '-'), "
						"coalesce(pg_size_pretty(hq_retained_wal_bytes), '-') || ' / ' || "
						"coalesce(pg_size_pretty(store_retained_wal_bytes), '-'), "
						"coalesce(wal_status, '-'), pending_requests "
						"FROM icos.node_status ORDER BY node_id", 0, NULL);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (opts.json)
		printf("%s\n", PQgetvalue(res, 0, 0));
	else if (PQntuples(res) == 0)
		printf("No store nodes: add one with icos node add-store.\n");
	else
		print_result_table(res, cols, (int) (sizeof(cols) / sizeof(cols[0])));
	PQclear(res);
	disconnect(conn);
	return EXIT_OK;
}

/*
 * Drop a subscription; when its publisher cannot be reached the slot there
 * is left behind (reported) rather than failing.
 */
static bool
unsubscribe(PGconn *conn, const char *subname)
{
	const char *p1[1] = {subname};
	char	   *exists = query_value(conn,
									 "SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1", 1, p1);
	char		sql[256];
	PGresult   *res;

	if (exists == NULL)
		return true;
	free(exists);
	snprintf(sql, sizeof(sql), "DROP SUBSCRIPTION %s", subname);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
	{
		PQclear(res);
		printf("  subscription %s dropped\n", subname);
		return true;
	}
	PQclear(res);
	/* publisher unreachable: detach the slot, then drop */
	snprintf(sql, sizeof(sql), "ALTER SUBSCRIPTION %s DISABLE", subname);
	if (!exec_ok(conn, sql, 0, NULL))
		return false;
	snprintf(sql, sizeof(sql), "ALTER SUBSCRIPTION %s SET (slot_name = NONE)", subname);
	if (!exec_ok(conn, sql, 0, NULL))
		return false;
	snprintf(sql, sizeof(sql), "DROP SUBSCRIPTION %s", subname);
	if (!exec_ok(conn, sql, 0, NULL))
		return false;
	printf("  subscription %s dropped; its publisher was unreachable, so drop the slot %s there "
		   "(SELECT pg_drop_replication_slot('%s')) when it is back\n", subname, subname, subname);
	return true;
}

/* Drop a slot of this server if it exists and is not in use. */
static bool
drop_slot(PGconn *conn, const char *slot)
{
	const char *p1[1] = {slot};

	return exec_ok(conn, "SELECT pg_catalog.pg_drop_replication_slot(slot_name) "
				   "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND NOT active", 1, p1);
}

/* Unlink store node N: subscriptions, slots and publications on both sides. */
static bool
unlink_store(PGconn *hq, PGconn *st, const char *node)
{
	char		name[64];
	const char *p1[1] = {node};

	if (st)
	{
		snprintf(name, sizeof(name), "icos_hq_to_%s", node);
		if (!unsubscribe(st, name))
			return false;
	}
	snprintf(name, sizeof(name), "icos_store_%s_to_hq", node);
	if (!unsubscribe(hq, name))
		return false;
	snprintf(name, sizeof(name), "icos_hq_to_%s", node);
	if (!drop_slot(hq, name))
		return false;
	if (!exec_ok(hq, "SELECT icos.drop_publications($1::int)", 1, p1))
		return false;
	if (st)
	{
		snprintf(name, sizeof(name), "icos_store_%s_to_hq", node);
		if (!drop_slot(st, name) ||
			!exec_ok(st, "SELECT icos.drop_publications($1::int)", 1, p1))
			return false;
	}
	return true;
}

static int
node_remove_store(int argc, char **argv)
{
	NodeLink	l = {0};
	const OptSpec specs[] = {
		NODE_LINK_SPECS(l),
		{NULL}
	};
	int			status = EXIT_REFUSED;

	parse_command_args("node remove-store", argc, argv, specs, NULL, 0, 0);
	link_args(&l, "node remove-store", false);
	if (link_connect(&l) && unlink_store(l.hq, l.st, l.node))
	{
		printf("Store node %s is no longer replicated; its rows stay where they are.\n", l.node);
		status = EXIT_OK;
	}
	link_close(&l);
	return status;
}

/*
 * node reseed: the link was lost (slot invalidated after the store was
 * offline too long) or the store database was restored.  Unlink, drop the
 * copies each side holds of the other's rows (icos.reseed_prepare), and add
 * the store again: the initial copy brings everything back once.
 */
static int
node_reseed(int argc, char **argv)
{
	NodeLink	l = {0};
	const char *timeout_s = NULL;
	const OptSpec specs[] = {
		NODE_LINK_SPECS(l),
		{"timeout", true, &timeout_s, NULL},
		{NULL}
	};
	const char *p1[1] = {l.node};
	bool		ok;
	char	   *args[8];
	int			n = 0;

	parse_command_args("node reseed", argc, argv, specs, NULL, 0, 0);
	link_args(&l, "node reseed", true);
	ok = link_connect(&l) &&
		unlink_store(l.hq, l.st, l.node) &&
		exec_ok(l.hq, "SELECT icos.reseed_prepare($1::int)", 1, p1) &&
		exec_ok(l.st, "SELECT icos.reseed_prepare($1::int)", 1, p1);
	link_close(&l);
	if (!ok)
		return EXIT_REFUSED;
	printf("  copies of the other side's rows removed; copying again\n");
	args[n++] = "--hq";
	args[n++] = (char *) l.hq_dsn;
	args[n++] = "--store-dsn";
	args[n++] = (char *) l.store_dsn;
	args[n++] = "--store";
	args[n++] = l.node;
	if (timeout_s)
	{
		args[n++] = "--timeout";
		args[n++] = (char *) timeout_s;
	}
	return node_add_store(n, args);
}

/* node heartbeat: one beat, or one every N seconds until interrupted. */
static int
node_heartbeat(int argc, char **argv)
{
	const char *every_s = NULL;
	const OptSpec specs[] = {
		{"every", true, &every_s, NULL},
		{NULL}
	};
	int			every = 0;
	PGconn	   *conn;

	parse_command_args("node heartbeat", argc, argv, specs, NULL, 0, 0);
	if (every_s)
		every = parse_int_arg("node heartbeat", "--every", every_s);
	conn = connect_or_exit();
	for (;;)
	{
		char	   *v = query_value(conn, "SELECT icos.heartbeat()::text", 0, NULL);

		if (v == NULL)
		{
			/* the server may be restarting: keep beating when asked to */
			if (every <= 0)
			{
				disconnect(conn);
				return EXIT_REFUSED;
			}
			PQreset(conn);
		}
		else
		{
			if (every <= 0 || opts.json)
				printf("%s\n", v);
			free(v);
		}
		if (every <= 0)
			break;
		fflush(stdout);
		sleep((unsigned) every);
	}
	disconnect(conn);
	return EXIT_OK;
}

int
cmd_node(int argc, char **argv)
{
	if (argc < 1)
		usage_error("node: give a subcommand: init-hq, add-store, status, remove-store, reseed or heartbeat");
	if (strcmp(argv[0], "init-hq") == 0)
		return node_init_hq(argc - 1, argv + 1);
	if (strcmp(argv[0], "add-store") == 0)
		return node_add_store(argc - 1, argv + 1);
	if (strcmp(argv[0], "status") == 0)
		return node_status(argc - 1, argv + 1);
	if (strcmp(argv[0], "remove-store") == 0)
		return node_remove_store(argc - 1, argv + 1);
	if (strcmp(argv[0], "reseed") == 0)
		return node_reseed(argc - 1, argv + 1);
	if (strcmp(argv[0], "heartbeat") == 0)
		return node_heartbeat(argc - 1, argv + 1);
	usage_error("node: unknown subcommand \"%s\"", argv[0]);
}
