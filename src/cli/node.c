/*-------------------------------------------------------------------------
 *
 * node.c
 *		icos node: provisioning the replication between head office and
 *		the store databases.
 *
 *	icos node init-hq --dsn HQ
 *	icos node add-hub --hq HQ --hub-dsn HUB --node N --name TEXT
 *	icos node add-store --hq HQ [--hub-dsn HUB] --store-dsn STORE --store N [--name TEXT]
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
 * subscription icos_store_N_to_hq (slot at the store).  A store under a hub
 * links with the hub the same way, and the hub with head office
 * (TreeLink below).
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
 * The new node's row (kind "store" or "hub") and the deployment's order
 * code key.  Returns false (reported) when the database cannot become node
 * N.
 */
static bool
prepare_node(PGconn *hq, PGconn *st, const char *what, const char *node,
			 const char *kind, const char *name)
{
	const char *p2[2] = {node, kind};
	const char *p3[3];
	char	   *same,
			   *key,
			   *codes;
	bool		ok = true;

	same = query_value(st, "SELECT (node_id = $1::int AND kind = $2)::text FROM icos.node", 2, p2);
	if (same == NULL)
		return false;
	if (strcmp(same, "true") != 0)
	{
		codes = query_value(st, "SELECT count(*) FROM icos.orders", 0, NULL);
		if (codes == NULL || strcmp(codes, "0") != 0)
		{
			fprintf(stderr, "icos: %s is another node and already holds %s orders\n"
					"HINT: Give the node id it was set up with (SELECT * FROM icos.node).\n",
					what, codes ? codes : "some");
			ok = false;
		}
		else
		{
			p3[0] = node;
			p3[1] = kind;
			p3[2] = name;
			ok = exec_ok(st, "SELECT icos.init_node($1::int, $2, $3)", 3, p3);
		}
		free(codes);
	}
	free(same);
	if (!ok)
		return false;

	/* the deployment's order code key, before the node issues any code */
	key = query_value(hq, "SELECT key::text FROM icos.order_code_key", 0, NULL);
	if (key == NULL)
		return false;
	p2[0] = key;
	same = query_value(st, "SELECT (key = $1::bytea)::text FROM icos.order_code_key", 1, p2);
	if (same != NULL && strcmp(same, "true") != 0)
		ok = exec_ok(st, "SELECT icos.set_order_code_key($1::bytea)", 1, p2);
	else if (same == NULL)
		ok = false;
	if (ok)
		printf("  %s is node %s (%s), order code key copied from head office\n", what, node, kind);
	free(same);
	free(key);
	return ok;
}

/*
 * One link of the tree, between a parent (head office or a hub) and a child
 * (a store, or a hub under head office).  Names, from the parent's prefix P
 * ("hq" or "hub_H") and the child's C ("store_N" or "hub_N"):
 *	at the child   subscription icos_P_to_N (slot at the parent) to the
 *				   parent's icos_hq or icos_hub and icos_P_route_N
 *	at the parent  subscription icos_C_to_P (slot at the child) to the
 *				   child's icos_C and icos_C_log
 */
typedef struct TreeLink
{
	PGconn	   *parent;
	PGconn	   *child;
	const char *parent_dsn;		/* as the child's server must use it */
	const char *child_dsn;		/* as the parent's server must use it */
	const char *parent_what;
	const char *child_what;
	const char *node;			/* the child's node id */
	char		parent_prefix[32];	/* hq or hub_H */
	char		child_prefix[32];	/* store_N or hub_N */
	int			timeout;
} TreeLink;

static void
tree_link_names(TreeLink *t, const char *parent_hub, bool child_is_hub)
{
	if (parent_hub)
		snprintf(t->parent_prefix, sizeof(t->parent_prefix), "hub_%s", parent_hub);
	else
		snprintf(t->parent_prefix, sizeof(t->parent_prefix), "hq");
	snprintf(t->child_prefix, sizeof(t->child_prefix), "%s_%s", child_is_hub ? "hub" : "store", t->node);
}

/*
 * Publications of the parent, checked, the child subscribes and copies;
 * then the child's, checked, the parent subscribes and copies.
 */
static bool
tree_link(TreeLink *t)
{
	const char *p1[1] = {t->node};
	char		subname[96];
	char		pubs[192];
	char		what[128];
	bool		parent_is_hub = strcmp(t->parent_prefix, "hq") != 0;

	if (!exec_ok(t->parent, "SELECT icos.setup_replication()", 0, NULL) ||
		!exec_ok(t->parent, "SELECT icos.create_publications($1::int)", 1, p1) ||
		!publications_valid(t->parent, t->parent_what, t->node))
		return false;
	printf("  %s publications checked\n", t->parent_what);
	snprintf(subname, sizeof(subname), "icos_%s_to_%s", t->parent_prefix, t->node);
	snprintf(pubs, sizeof(pubs), "%s, icos_%s_route_%s", parent_is_hub ? "icos_hub" : "icos_hq",
			 parent_is_hub ? "hub" : "hq", t->node);
	snprintf(what, sizeof(what), "%s -> %s", t->parent_what, t->child_what);
	if (!subscribe(t->child, subname, t->parent_dsn, pubs, true) ||
		!wait_for_sync(t->child, what, subname, t->timeout))
		return false;

	if (!exec_ok(t->child, "SELECT icos.setup_replication()", 0, NULL) ||
		!exec_ok(t->child, "SELECT icos.create_publications($1::int)", 1, p1) ||
		!publications_valid(t->child, t->child_what, t->node))
		return false;
	printf("  %s publications checked\n", t->child_what);
	snprintf(subname, sizeof(subname), "icos_%s_to_%s", t->child_prefix, t->parent_prefix);
	snprintf(pubs, sizeof(pubs), "icos_%s, icos_%s_log", t->child_prefix, t->child_prefix);
	snprintf(what, sizeof(what), "%s -> %s", t->child_what, t->parent_what);
	return subscribe(t->parent, subname, t->child_dsn, pubs, true) &&
		wait_for_sync(t->parent, what, subname, t->timeout);
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

/*
 * The hub database's node id, checked against head office's tree; malloc'd,
 * or NULL (reported).
 */
static char *
hub_node_id(PGconn *hq, PGconn *hub)
{
	char	   *id = query_value(hub, "SELECT node_id::text FROM icos.node WHERE kind = 'hub'", 0, NULL);
	const char *p1[1];
	char	   *known;

	if (id == NULL)
	{
		fprintf(stderr, "icos: the hub database is not a hub node\n"
				"HINT: Make it one first with icos node add-hub.\n");
		return NULL;
	}
	p1[0] = id;
	known = query_value(hq, "SELECT 1 FROM icos.node_tree WHERE node_id = $1::int AND kind = 'hub'", 1, p1);
	if (known == NULL)
	{
		fprintf(stderr, "icos: head office does not know hub node %s\n"
				"HINT: Run icos node add-hub for it with this head office.\n", id);
		free(id);
		return NULL;
	}
	free(known);
	return id;
}

/*
 * Wait until everything head office committed so far has reached the hub
 * (its heartbeat is applied in commit order).
 */
static bool
hub_caught_up(PGconn *hq, PGconn *hub, int timeout)
{
	char	   *at = query_value(hq, "SELECT icos.heartbeat() ->> 'at'", 0, NULL);
	char	   *hq_id = query_value(hq, "SELECT node_id::text FROM icos.node", 0, NULL);
	char		secs[16];
	const char *p3[3] = {hq_id, at, secs};
	char	   *ok = NULL;

	snprintf(secs, sizeof(secs), "%d", timeout);
	if (at != NULL && hq_id != NULL)
		ok = query_value(hub, "SELECT icos.wait_for_heartbeat($1::int, $2::timestamptz, "
						 "make_interval(secs => $3::int))::text", 3, p3);
	if (ok != NULL && strcmp(ok, "true") != 0)
		fprintf(stderr, "icos: head office's changes did not reach the hub within %d seconds\n"
				"HINT: Run icos node status at head office to see the hub's link.\n", timeout);
	free(at);
	free(hq_id);
	if (ok == NULL || strcmp(ok, "true") != 0)
	{
		free(ok);
		return false;
	}
	free(ok);
	return true;
}

static int
node_add_store(int argc, char **argv)
{
	NodeLink	l = {0};
	const char *name = NULL,
			   *timeout_s = NULL,
			   *hub_dsn = NULL;
	const OptSpec specs[] = {
		NODE_LINK_SPECS(l),
		{"hub-dsn", true, &hub_dsn, NULL},
		{"name", true, &name, NULL},
		{"timeout", true, &timeout_s, NULL},
		{NULL}
	};
	const char *node = l.node;
	char		defname[64];
	int			timeout = 300;
	PGconn	   *hq,
			   *hub = NULL;
	const char *p1[1];
	const char *p5[5];
	char	   *owned,
			   *hq_id = NULL,
			   *hub_id = NULL;
	TreeLink	t = {0};
	int			status = EXIT_REFUSED;

	parse_command_args("node add-store", argc, argv, specs, NULL, 0, 0);
	link_args(&l, "node add-store", true);
	if (timeout_s)
		timeout = parse_int_arg("node add-store", "--timeout", timeout_s);
	snprintf(defname, sizeof(defname), "store node %s", node);

	if (!link_connect(&l))
		goto out;
	hq = l.hq;
	if (!check_icos(hq, "head office") || !check_icos(l.st, "the store database"))
		goto out;
	if (hub_dsn &&
		((hub = connect_to("the hub database", hub_dsn)) == NULL ||
		 !check_icos(hub, "the hub database") ||
		 (hub_id = hub_node_id(hq, hub)) == NULL))
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
	if (hub_id)
		printf("Adding store node %s (stores %s) under hub %s\n", node, owned, hub_id);
	else
		printf("Adding store node %s (stores %s)\n", node, owned);
	free(owned);

	/* 2. head office's tree says where it hangs (releases before 0.3.0 have none) */
	hq_id = query_value(hq, "SELECT node_id::text FROM icos.node", 0, NULL);
	if (hq_id == NULL)
		goto out;
	if (hub_id || function_exists(hq, "icos.attach_node(integer, text, integer, text)"))
	{
		/* without --name, a store attached before keeps its name */
		p5[0] = node;
		p5[1] = "store";
		p5[2] = hub_id ? hub_id : hq_id;
		p5[3] = name ? name : defname;
		p5[4] = name ? "false" : "true";
		if (!exec_ok(hq, "SELECT icos.attach_node($1::int, $2, $3::int, "
					 "coalesce(CASE WHEN $5::boolean THEN (SELECT t.name FROM icos.node_tree t "
					 "WHERE t.node_id = $1::int) END, $4))", 5, p5))
			goto out;
	}

	/* 3. the store database becomes node N with the deployment's key */
	if (!prepare_node(hq, l.st, "the store database", node, "store", name ? name : defname))
		goto out;

	/*
	 * 4. under a hub: the hub's region grew, so head office's route to the
	 * hub and the hub's publications up to head office cover the new store,
	 * once the tree and the store rows have reached the hub
	 */
	if (hub_id)
	{
		p1[0] = hub_id;
		if (!exec_ok(hq, "SELECT icos.refresh_publications($1::int)", 1, p1) ||
			!hub_caught_up(hq, hub, timeout) ||
			!exec_ok(hub, "SELECT icos.setup_replication()", 0, NULL) ||
			!exec_ok(hub, "SELECT icos.refresh_publications($1::int)", 1, p1))
			goto out;
		printf("  head office's and the hub's publications cover the store\n");
	}

	/* 5. the link with its parent, both ways */
	t.parent = hub ? hub : hq;
	t.child = l.st;
	t.parent_dsn = hub ? hub_dsn : l.hq_dsn;
	t.child_dsn = l.store_dsn;
	t.parent_what = hub ? "the hub" : "head office";
	t.child_what = "the store database";
	t.node = node;
	t.timeout = timeout;
	tree_link_names(&t, hub_id, false);
	if (!tree_link(&t))
		goto out;

	if (!exec_ok(l.st, "SELECT icos.heartbeat()", 0, NULL) ||
		(hub && !exec_ok(hub, "SELECT icos.heartbeat()", 0, NULL)) ||
		!exec_ok(hq, "SELECT icos.heartbeat()", 0, NULL))
		goto out;
	printf("Store node %s is in step with %s.\n"
		   "Call SELECT icos.heartbeat() every few seconds on every node "
		   "(or run icos node heartbeat --every 5).\n", node, hub ? "its hub" : "head office");
	status = EXIT_OK;
out:
	free(hq_id);
	free(hub_id);
	if (hub)
		disconnect(hub);
	link_close(&l);
	return status;
}

/* node add-hub: a regional hub under head office. */
static int
node_add_hub(int argc, char **argv)
{
	const char *hq_dsn = NULL,
			   *hub_dsn = NULL,
			   *node_s = NULL,
			   *name = NULL,
			   *timeout_s = NULL;
	const OptSpec specs[] = {
		{"hq", true, &hq_dsn, NULL},
		{"hub-dsn", true, &hub_dsn, NULL},
		{"node", true, &node_s, NULL},
		{"name", true, &name, NULL},
		{"timeout", true, &timeout_s, NULL},
		{NULL}
	};
	char		node[16];
	int			timeout = 300;
	PGconn	   *hq = NULL,
			   *hub = NULL;
	char	   *hq_id = NULL;
	const char *p4[4];
	TreeLink	t = {0};
	int			status = EXIT_REFUSED;

	parse_command_args("node add-hub", argc, argv, specs, NULL, 0, 0);
	if (!hq_dsn || !hub_dsn || !node_s || !name)
		usage_error("node add-hub: --hq, --hub-dsn, --node and --name are all required");
	snprintf(node, sizeof(node), "%d", parse_int_arg("node add-hub", "--node", node_s));
	if (timeout_s)
		timeout = parse_int_arg("node add-hub", "--timeout", timeout_s);

	if ((hq = connect_to("head office", hq_dsn)) == NULL ||
		(hub = connect_to("the hub database", hub_dsn)) == NULL ||
		!check_icos(hq, "head office") || !check_icos(hub, "the hub database") ||
		!require_function(hq, "icos.attach_node(integer, text, integer, text)", "regional hubs", "0.3.0") ||
		!require_function(hub, "icos.attach_node(integer, text, integer, text)", "regional hubs", "0.3.0"))
		goto out;
	hq_id = query_value(hq, "SELECT node_id::text FROM icos.node WHERE kind = 'hq'", 0, NULL);
	if (hq_id == NULL)
	{
		fprintf(stderr, "icos: --hq is not the head office database (node kind hq)\n");
		goto out;
	}
	printf("Adding hub node %s (%s)\n", node, name);

	/* 1. head office's tree, then the hub database's node row and key */
	p4[0] = node;
	p4[1] = "hub";
	p4[2] = hq_id;
	p4[3] = name;
	if (!exec_ok(hq, "SELECT icos.attach_node($1::int, $2, $3::int, $4)", 4, p4) ||
		!prepare_node(hq, hub, "the hub database", node, "hub", name))
		goto out;

	/* 2. head office <-> hub */
	t.parent = hq;
	t.child = hub;
	t.parent_dsn = hq_dsn;
	t.child_dsn = hub_dsn;
	t.parent_what = "head office";
	t.child_what = "the hub";
	t.node = node;
	t.timeout = timeout;
	tree_link_names(&t, NULL, true);
	if (!tree_link(&t) ||
		!exec_ok(hub, "SELECT icos.heartbeat()", 0, NULL) ||
		!exec_ok(hq, "SELECT icos.heartbeat()", 0, NULL))
		goto out;
	printf("Hub node %s is in step with head office.\n"
		   "Next: icos node add-store --hq HQ --hub-dsn HUB --store-dsn STORE --store N for each of its stores; "
		   "call SELECT icos.heartbeat() every few seconds on the hub too.\n", node);
	status = EXIT_OK;
out:
	free(hq_id);
	if (hub)
		disconnect(hub);
	if (hq)
		disconnect(hq);
	return status;
}

/*
 * node status: the links this node (head office, or a hub) has with the
 * nodes under it, in tree order.  At head office a store under a hub is
 * shown as its hub measures it: the hub is reached with the connection
 * string head office's subscription to it uses; when it cannot be reached,
 * the row shows what the store's heartbeats bring through the hub.
 */
#define STATUS_COLS 10
static const char status_sql[] =
	"SELECT CASE WHEN s.parent_node <> n.node_id THEN '└ ' ELSE '' END || s.node_id, "
	"CASE WHEN s.kind = 'hub' THEN 'hub' ELSE s.stores END, s.link_state, "
	"coalesce(round(s.to_store_lag_s, 1) || ' s, ' || pg_size_pretty(s.to_store_lag_bytes), '-'), "
	"coalesce(round(s.from_store_lag_s, 1) || ' s, ' || pg_size_pretty(s.from_store_lag_bytes), '-'), "
	"coalesce(to_char(s.last_heartbeat, 'HH24:MI:SS') || ' (' || round(s.heartbeat_age_s, 1) || ' s ago)', 'never'), "
	"CASE WHEN s.parent_node <> n.node_id THEN '-' ELSE coalesce(s.hq_apply_errors::text, '-') END "
	"|| ' / ' || coalesce(s.store_apply_errors::text, '-'), "
	"coalesce(pg_size_pretty(s.hq_retained_wal_bytes), '-') || ' / ' || "
	"coalesce(pg_size_pretty(s.store_retained_wal_bytes), '-'), "
	"coalesce(s.wal_status, '-'), s.pending_requests, "
	/* hidden: node, parent, the hub's connection string when it is a linked hub */
	"s.node_id, s.parent_node, "
	"(SELECT sub.subconninfo FROM pg_catalog.pg_subscription sub "
	" WHERE s.kind = 'hub' AND s.parent_node = n.node_id AND sub.subname = format('icos_hub_%s_to_hq', s.node_id)) "
	"FROM icos.node_status s CROSS JOIN icos.node n";
/*
 * The view joins the statistics functions, whose row estimates make the
 * planner compile it (JIT) for a second or more per query: not worth it.
 */
static const char status_setup[] = "SET jit = off";
static const char status_json_sql[] =
	"SELECT coalesce(jsonb_agg(to_jsonb(s)), '[]') FROM icos.node_status s";

/* A hub's own status rows, or NULL when it cannot be reached (reported). */
static PGresult *
hub_status(const char *conninfo, const char *hub, bool json)
{
	char		what[64];
	PGconn	   *conn;
	PGresult   *res;

	snprintf(what, sizeof(what), "hub %s", hub);
	if ((conn = connect_to(what, conninfo)) == NULL)
	{
		fprintf(stderr, "icos: the stores under hub %s are shown as their heartbeats reach head office\n", hub);
		return NULL;
	}
	res = exec_ok(conn, status_setup, 0, NULL) ?
		run_query(conn, json ? status_json_sql : status_sql, 0, NULL) : NULL;
	disconnect(conn);
	return res;
}

static int
node_status(int argc, char **argv)
{
	const OptSpec specs[] = {
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	/* for people: lags as "seconds, size"; every figure is in --json */
	static const Column cols[STATUS_COLS] = {
		{"Node", COL_NUM}, {"Stores", COL_TEXT}, {"Link", COL_TEXT},
		{"Lag down", COL_TEXT}, {"Lag up", COL_TEXT},
		{"Last heartbeat", COL_TEXT}, {"Apply errors (parent/node)", COL_TEXT},
		{"WAL kept (parent/node)", COL_TEXT}, {"Slot", COL_TEXT}, {"Pending", COL_NUM}
	};
	PGconn	   *conn;
	PGresult   *res;
	PGresult  **hubs;
	int			n;
	const char **cells;
	StrBuf		byhub;

	parse_command_args("node status", argc, argv, specs, NULL, 0, 0);
	conn = connect_or_exit();
	if (!require_function(conn, "icos.heartbeat()", "replication support", "0.2.0") ||
		!exec_ok(conn, status_setup, 0, NULL))
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (!function_exists(conn, "icos.attach_node(integer, text, integer, text)"))
	{
		/* a release before hubs: the view has no tree columns */
		res = run_query(conn, opts.json ? status_json_sql :
						"SELECT node_id, stores, link_state, '-', '-', '-', '-', '-', wal_status, pending_requests "
						"FROM icos.node_status", 0, NULL);
		if (res == NULL)
		{
			disconnect(conn);
			return EXIT_REFUSED;
		}
		if (opts.json)
			printf("%s\n", PQgetvalue(res, 0, 0));
		else
			print_result_table(res, cols, STATUS_COLS);
		PQclear(res);
		disconnect(conn);
		return EXIT_OK;
	}
	res = run_query(conn, status_sql, 0, NULL);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	n = PQntuples(res);
	hubs = xmalloc(sizeof(PGresult *) * (n + 1));
	sb_init(&byhub);
	sb_append(&byhub, "{");
	for (int r = 0; r < n; r++)
	{
		hubs[r] = NULL;
		if (PQgetisnull(res, r, STATUS_COLS + 2))
			continue;
		hubs[r] = hub_status(PQgetvalue(res, r, STATUS_COLS + 2), PQgetvalue(res, r, STATUS_COLS), opts.json);
		if (hubs[r] && opts.json)
		{
			if (byhub.len > 1)
				sb_append(&byhub, ", ");
			sb_json_string(&byhub, PQgetvalue(res, r, STATUS_COLS));
			sb_printf(&byhub, ": %s", PQgetvalue(hubs[r], 0, 0));
		}
	}
	sb_append(&byhub, "}");

	if (opts.json)
	{
		/* every row as its parent sees it, with "measured_at" the parent */
		const char *p1[1] = {byhub.data};
		PGresult   *j = run_query(conn,
								  "SELECT coalesce(jsonb_agg(coalesce("
								  " (SELECT x FROM jsonb_array_elements($1::jsonb -> s.parent_node::text) x "
								  "   WHERE (x ->> 'node_id')::int = s.node_id), to_jsonb(s)) "
								  " || jsonb_build_object('measured_at', CASE WHEN $1::jsonb ? s.parent_node::text "
								  "    THEN s.parent_node ELSE n.node_id END)), '[]') "
								  "FROM icos.node_status s CROSS JOIN icos.node n", 1, p1);

		if (j)
			printf("%s\n", PQgetvalue(j, 0, 0));
		PQclear(j);
	}
	else if (n == 0)
		printf("No store nodes: add one with icos node add-store.\n");
	else
	{
		cells = xmalloc(sizeof(char *) * STATUS_COLS * n);
		for (int r = 0; r < n; r++)
		{
			const PGresult *src = res;
			int			row = r;

			/* a store under a linked hub: the hub's row for it */
			for (int h = 0; h < n; h++)
			{
				if (hubs[h] == NULL || strcmp(PQgetvalue(res, h, STATUS_COLS), PQgetvalue(res, r, STATUS_COLS + 1)) != 0)
					continue;
				for (int k = 0; k < PQntuples(hubs[h]); k++)
					if (strcmp(PQgetvalue(hubs[h], k, STATUS_COLS), PQgetvalue(res, r, STATUS_COLS)) == 0)
					{
						src = hubs[h];
						row = k;
					}
			}
			for (int c = 0; c < STATUS_COLS; c++)
				cells[r * STATUS_COLS + c] = c == 0 ? PQgetvalue(res, r, 0) : PQgetvalue(src, row, c);
		}
		print_table(cols, STATUS_COLS, n, cells);
		free(cells);
	}
	for (int r = 0; r < n; r++)
		PQclear(hubs[r]);
	free(hubs);
	sb_free(&byhub);
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
	char	   *hub = NULL;

	/* releases before 0.3.0 have no tree: every store is under head office */
	if (function_exists(hq, "icos.attach_node(integer, text, integer, text)"))
		hub = query_value(hq, "SELECT t.parent_node::text FROM icos.node_tree t, icos.node n "
						  "WHERE t.node_id = $1::int AND t.parent_node <> n.node_id", 1, p1);

	if (hub != NULL)
	{
		fprintf(stderr, "icos: store node %s hangs under hub %s; its links are with the hub\n"
				"HINT: Removing or re-seeding a store under a hub is not supported yet "
				"(docs/replication.md, Regional hubs).\n", node, hub);
		free(hub);
		return false;
	}

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
		usage_error("node: give a subcommand: init-hq, add-hub, add-store, status, remove-store, reseed or heartbeat");
	if (strcmp(argv[0], "init-hq") == 0)
		return node_init_hq(argc - 1, argv + 1);
	if (strcmp(argv[0], "add-hub") == 0)
		return node_add_hub(argc - 1, argv + 1);
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
