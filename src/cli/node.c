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
 * Wait until everything FROM committed so far has reached TO: FROM beats,
 * and TO waits for the beat (heartbeats are applied in commit order).
 */
static bool
beat_reaches(PGconn *from, PGconn *to, const char *from_what, const char *to_what, int timeout)
{
	char	   *at = query_value(from, "SELECT icos.heartbeat() ->> 'at'", 0, NULL);
	char	   *id = query_value(from, "SELECT node_id::text FROM icos.node", 0, NULL);
	char		secs[16];
	const char *p3[3] = {id, at, secs};
	char	   *ok = NULL;
	bool		done;

	snprintf(secs, sizeof(secs), "%d", timeout);
	if (at != NULL && id != NULL)
		ok = query_value(to, "SELECT icos.wait_for_heartbeat($1::int, $2::timestamptz, "
						 "make_interval(secs => $3::int))::text", 3, p3);
	done = ok != NULL && strcmp(ok, "true") == 0;
	if (ok != NULL && !done)
		fprintf(stderr, "icos: %s's changes did not reach %s within %d seconds\n"
				"HINT: Run icos node status at head office to see the links on the way; "
				"the command can be run again once they are up.\n", from_what, to_what, timeout);
	free(at);
	free(id);
	free(ok);
	return done;
}

/* Everything head office committed so far has reached the hub. */
static bool
hub_caught_up(PGconn *hq, PGconn *hub, int timeout)
{
	return beat_reaches(hq, hub, "head office", "the hub", timeout);
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

/*
 * The store node's parent in head office's tree: its hub's node id
 * (malloc'd), or NULL when it hangs under head office (a release before
 * hubs has no tree: every store is under head office).  *failed when the
 * query failed (reported).
 */
static char *
parent_hub(PGconn *hq, const char *node, bool *failed)
{
	const char *p1[1] = {node};
	PGresult   *res;
	char	   *hub = NULL;

	*failed = false;
	if (!function_exists(hq, "icos.attach_node(integer, text, integer, text)"))
		return NULL;
	res = run_query(hq, "SELECT t.parent_node::text FROM icos.node_tree t, icos.node n "
					"WHERE t.node_id = $1::int AND t.parent_node <> n.node_id", 1, p1);
	if (res == NULL)
	{
		*failed = true;
		return NULL;
	}
	if (PQntuples(res) > 0)
		hub = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return hub;
}

/*
 * Connect to hub H: with the connection string given, or else with the one
 * head office's subscription to the hub uses.  NULL when it cannot be
 * reached (reported).
 */
static PGconn *
connect_hub(PGconn *hq, const char *hub, const char *dsn, char **used)
{
	char		what[64];
	char	   *conninfo = NULL;
	PGconn	   *conn;

	snprintf(what, sizeof(what), "hub %s", hub);
	if (dsn == NULL)
	{
		const char *p1[1] = {hub};

		conninfo = query_value(hq, "SELECT subconninfo FROM pg_catalog.pg_subscription "
							   "WHERE subname = format('icos_hub_%s_to_hq', $1::int)", 1, p1);
		if (conninfo == NULL)
		{
			fprintf(stderr, "icos: head office has no subscription to hub %s to take its connection string from\n"
					"HINT: Give the hub's connection string with --from-hub-dsn.\n", hub);
			return NULL;
		}
		dsn = conninfo;
	}
	conn = connect_to(what, dsn);
	if (used && conn)
		*used = xstrdup(dsn);
	free(conninfo);
	return conn;
}

/*
 * Unlink store node N from its parent (head office, or hub H when hub is
 * given): subscriptions, slots and publications on both sides.  A hub that
 * cannot be reached (par NULL) keeps its side; what to drop there when it is
 * back is printed.
 */
static bool
unlink_store(PGconn *hq, PGconn *st, const char *node, const char *hub, PGconn *par)
{
	char		pp[32];
	char		name[96];
	const char *p1[1] = {node};

	if (hub)
		snprintf(pp, sizeof(pp), "hub_%s", hub);
	else
	{
		snprintf(pp, sizeof(pp), "hq");
		par = hq;
	}
	if (st)
	{
		snprintf(name, sizeof(name), "icos_%s_to_%s", pp, node);
		if (!unsubscribe(st, name))
			return false;
	}
	if (par)
	{
		snprintf(name, sizeof(name), "icos_store_%s_to_%s", node, pp);
		if (!unsubscribe(par, name))
			return false;
		snprintf(name, sizeof(name), "icos_%s_to_%s", pp, node);
		if (!drop_slot(par, name) ||
			!exec_ok(par, "SELECT icos.drop_publications($1::int)", 1, p1))
			return false;
	}
	else
		printf("  hub %s could not be reached: when it is back, drop there the subscription "
			   "icos_store_%s_to_%s (ALTER SUBSCRIPTION ... DISABLE, SET (slot_name = NONE), DROP), "
			   "the slot icos_%s_to_%s and the publication icos_hub_route_%s\n",
			   hub, node, pp, pp, node, node);
	if (st)
	{
		snprintf(name, sizeof(name), "icos_store_%s_to_%s", node, pp);
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
	const char *hub_dsn = NULL;
	const OptSpec specs[] = {
		NODE_LINK_SPECS(l),
		{"hub-dsn", true, &hub_dsn, NULL},
		{NULL}
	};
	int			status = EXIT_REFUSED;
	char	   *hub = NULL;
	PGconn	   *par = NULL;
	bool		failed = false;

	parse_command_args("node remove-store", argc, argv, specs, NULL, 0, 0);
	link_args(&l, "node remove-store", false);
	if (link_connect(&l) &&
		((hub = parent_hub(l.hq, l.node, &failed)) != NULL || !failed))
	{
		if (hub)
			par = connect_hub(l.hq, hub, hub_dsn, NULL);
		if (unlink_store(l.hq, l.st, l.node, hub, par))
		{
			printf("Store node %s is no longer replicated; its rows stay where they are.\n", l.node);
			status = EXIT_OK;
		}
	}
	if (par)
		disconnect(par);
	free(hub);
	link_close(&l);
	return status;
}

/*
 * node reseed: the link was lost (slot invalidated after the store was
 * offline too long), the store database was restored, or its hub failed.
 * Unlink from its parent (a hub that cannot be reached keeps its side), drop
 * the copies each side holds of the other's rows (icos.reseed_prepare), and
 * add the store again, under the hub --hub-dsn names or under head office:
 * the initial copies bring everything back once.
 */
static int
node_reseed(int argc, char **argv)
{
	NodeLink	l = {0};
	const char *timeout_s = NULL,
			   *hub_dsn = NULL,
			   *from_hub_dsn = NULL;
	const OptSpec specs[] = {
		NODE_LINK_SPECS(l),
		{"hub-dsn", true, &hub_dsn, NULL},
		{"from-hub-dsn", true, &from_hub_dsn, NULL},
		{"timeout", true, &timeout_s, NULL},
		{NULL}
	};
	const char *p1[1] = {l.node};
	bool		ok,
				failed = false,
				same_hub = false;
	char	   *args[10];
	char	   *hub = NULL;
	PGconn	   *par = NULL,
			   *to = NULL;
	int			n = 0,
				status;

	parse_command_args("node reseed", argc, argv, specs, NULL, 0, 0);
	link_args(&l, "node reseed", true);
	ok = link_connect(&l) &&
		((hub = parent_hub(l.hq, l.node, &failed)) != NULL || !failed);
	if (ok && hub_dsn)
	{
		char	   *to_id;

		ok = (to = connect_to("the hub database", hub_dsn)) != NULL;
		to_id = ok ? query_value(to, "SELECT node_id::text FROM icos.node", 0, NULL) : NULL;
		same_hub = to_id != NULL && hub != NULL && strcmp(to_id, hub) == 0;
		free(to_id);
	}
	if (ok && hub)
		par = connect_hub(l.hq, hub, from_hub_dsn, NULL);

	/*
	 * Head office and a hub keep the store's requests and answers (others
	 * received them through there): while the copy brings them again, they
	 * drop them.
	 */
	ok = ok && exec_ok(l.hq, "SELECT icos.set_apply_upsert(true)", 0, NULL) &&
		(to == NULL || exec_ok(to, "SELECT icos.set_apply_upsert(true)", 0, NULL));
	/*
	 * A hub the store stays under drops what it passed on, before it copies
	 * again (its deletes reach head office before the copy); a hub the store
	 * leaves does so once its publications no longer cover the store.
	 */
	ok = ok && unlink_store(l.hq, l.st, l.node, hub, par) &&
		exec_ok(l.hq, "SELECT icos.reseed_prepare($1::int)", 1, p1) &&
		exec_ok(l.st, "SELECT icos.reseed_prepare($1::int)", 1, p1) &&
		(!same_hub || exec_ok(par, "SELECT icos.reseed_prepare($1::int)", 1, p1));
	if (par)
		disconnect(par);
	par = NULL;
	link_close(&l);
	if (!ok)
	{
		if (to)
			disconnect(to);
		free(hub);
		return EXIT_REFUSED;
	}
	printf("  copies of the other side's rows removed; copying again\n");
	args[n++] = "--hq";
	args[n++] = (char *) l.hq_dsn;
	args[n++] = "--store-dsn";
	args[n++] = (char *) l.store_dsn;
	args[n++] = "--store";
	args[n++] = l.node;
	if (hub_dsn)
	{
		args[n++] = "--hub-dsn";
		args[n++] = (char *) hub_dsn;
	}
	if (timeout_s)
	{
		args[n++] = "--timeout";
		args[n++] = (char *) timeout_s;
	}
	status = node_add_store(n, args);
	/* the copy has reached head office through the hub: duplicates are faults again */
	if ((l.hq = connect_to("head office", l.hq_dsn)) == NULL ||
		(to && status == EXIT_OK && !beat_reaches(to, l.hq, "the hub", "head office", 60)) ||
		(to && !exec_ok(to, "SELECT icos.set_apply_upsert(false)", 0, NULL)) ||
		(l.hq && !exec_ok(l.hq, "SELECT icos.set_apply_upsert(false)", 0, NULL)))
		status = EXIT_REFUSED;
	if (to)
		disconnect(to);
	link_close(&l);
	if (status == EXIT_OK && hub && !same_hub)
	{
		/* the hub it left: head office's route to it and its own filters shrink */
		const char *ph[1] = {hub};

		status = EXIT_REFUSED;
		if ((l.hq = connect_to("head office", l.hq_dsn)) != NULL &&
			exec_ok(l.hq, "SELECT icos.refresh_publications($1::int)", 1, ph))
		{
			status = EXIT_OK;
			if ((par = connect_hub(l.hq, hub, from_hub_dsn, NULL)) == NULL)
				printf("Hub %s was not reached: it still holds the rows it had of store node %s and not yet sent. "
					   "Do not let it reconnect to head office: move its other stores off it the same way "
					   "and add it again as a new hub (docs/replication.md).\n", hub, l.node);
			else if (!hub_caught_up(l.hq, par, 60) ||
					 !exec_ok(par, "SELECT icos.refresh_publications($1::int)", 1, ph) ||
					 !exec_ok(par, "SELECT icos.reseed_prepare($1::int)", 1, p1))
				status = EXIT_REFUSED;
		}
		if (par)
			disconnect(par);
		link_close(&l);
	}
	free(hub);
	return status;
}

/*
 * Disable a subscription and wait until its workers have stopped, so that
 * what it applied is final.  A disabled one is left as it is.
 */
static bool
disable_subscription(PGconn *conn, const char *subname, int timeout)
{
	const char *p1[1] = {subname};
	char		sql[160];
	time_t		start = time(NULL);

	snprintf(sql, sizeof(sql), "ALTER SUBSCRIPTION %s DISABLE", subname);
	if (!exec_ok(conn, sql, 0, NULL))
		return false;
	for (;;)
	{
		char	   *busy = query_value(conn, "SELECT count(*) FROM pg_catalog.pg_stat_subscription "
									   "WHERE subname = $1 AND pid IS NOT NULL", 1, p1);
		bool		idle = busy != NULL && strcmp(busy, "0") == 0;

		free(busy);
		if (busy == NULL)
			return false;
		if (idle)
			return true;
		if (time(NULL) - start > timeout)
		{
			fprintf(stderr, "icos: the workers of subscription %s did not stop within %d seconds\n", subname, timeout);
			return false;
		}
		{
			struct timespec pause = {0, 100 * 1000 * 1000};

			nanosleep(&pause, NULL);
		}
	}
}

/* The subscription's state: "t" enabled, "f" disabled, NULL none (or error). */
static char *
subscription_enabled(PGconn *conn, const char *subname)
{
	const char *p1[1] = {subname};

	return query_value(conn, "SELECT subenabled::text FROM pg_catalog.pg_subscription WHERE subname = $1", 1, p1);
}

/*
 * node move-store: re-home a store node to another parent (a hub, or head
 * office directly) while it keeps selling.  Its rows go up the old way up to
 * a point of the store's WAL and the new way after it: the new parent's slot
 * at the store is made while the old link runs, the old link stops once it
 * has passed the slot's start, and the new subscription starts where the old
 * one stopped (its replication origin is advanced there).  Down, the new
 * parent's subscription copies what the store has (icos.set_apply_upsert
 * makes the copy update it) after the old link has brought everything head
 * office routed that way.  docs/replication.md gives the steps.
 */
static int
node_move_store(int argc, char **argv)
{
	NodeLink	l = {0};
	const char *hub_dsn = NULL,
			   *from_hub_dsn = NULL,
			   *timeout_s = NULL;
	const OptSpec specs[] = {
		NODE_LINK_SPECS(l),
		{"hub-dsn", true, &hub_dsn, NULL},
		{"from-hub-dsn", true, &from_hub_dsn, NULL},
		{"timeout", true, &timeout_s, NULL},
		{NULL}
	};
	int			timeout = 300;
	int			status = EXIT_REFUSED;
	PGconn	   *hq,
			   *st,
			   *oldc = NULL,	/* the old parent when a hub */
			   *newc = NULL;	/* the new parent when a hub */
	PGconn	   *from,
			   *to;
	char	   *hq_id = NULL,
			   *new_hub = NULL,
			   *old_hub = NULL,
			   *y = NULL,
			   *v = NULL,
			   *old_dsn = NULL;
	char		old_pp[32],
				new_pp[32],
				up_old[96],
				up_new[96],
				down_old[96],
				down_new[96],
				pubs[128],
				sql[512];
	const char *p1[1];
	const char *p2[2];
	const char *p4[4];
	const char *node = l.node;

	parse_command_args("node move-store", argc, argv, specs, NULL, 0, 0);
	link_args(&l, "node move-store", true);
	if (timeout_s)
		timeout = parse_int_arg("node move-store", "--timeout", timeout_s);
	if (!link_connect(&l))
		goto out;
	hq = l.hq;
	st = l.st;
	if (!check_icos(hq, "head office") || !check_icos(st, "the store database") ||
		!require_function(hq, "icos.set_apply_upsert(boolean)", "moving a store", "0.3.0") ||
		!require_function(st, "icos.set_apply_upsert(boolean)", "moving a store", "0.3.0"))
		goto out;
	p1[0] = node;
	v = query_value(st, "SELECT (node_id = $1::int AND kind = 'store')::text FROM icos.node", 1, p1);
	if (v == NULL || strcmp(v, "true") != 0)
	{
		fprintf(stderr, "icos: the store database is not store node %s\n"
				"HINT: Give the node id it was added with (SELECT * FROM icos.node there).\n", node);
		goto out;
	}
	free(v);
	v = NULL;
	if ((hq_id = query_value(hq, "SELECT node_id::text FROM icos.node WHERE kind = 'hq'", 0, NULL)) == NULL)
	{
		fprintf(stderr, "icos: --hq is not the head office database (node kind hq)\n");
		goto out;
	}
	if (hub_dsn &&
		((newc = connect_to("the new hub's database", hub_dsn)) == NULL ||
		 !check_icos(newc, "the new hub's database") ||
		 (new_hub = hub_node_id(hq, newc)) == NULL))
		goto out;

	/* the old parent: the one the store still subscribes to */
	if (new_hub)
		snprintf(new_pp, sizeof(new_pp), "hub_%s", new_hub);
	else
		snprintf(new_pp, sizeof(new_pp), "hq");
	snprintf(down_new, sizeof(down_new), "icos_%s_to_%s", new_pp, node);
	p2[0] = node;
	p2[1] = down_new;
	v = query_value(st, "SELECT substring(subname FROM '^icos_(hq|hub_[0-9]+)_to_') FROM pg_catalog.pg_subscription "
					"WHERE subname ~ ('^icos_(hq|hub_[0-9]+)_to_' || $1::int || '$') AND subname <> $2 "
					"ORDER BY subname LIMIT 1", 2, p2);
	if (v == NULL)
	{
		char	   *there = subscription_enabled(st, down_new);

		if (there != NULL)
		{
			free(there);
			if (!exec_ok(st, "SELECT icos.set_apply_upsert(false)", 0, NULL))
				goto out;
			printf("Store node %s hangs under %s already.\n", node,
				   new_hub ? "that hub" : "head office");
			status = EXIT_OK;
		}
		else
			fprintf(stderr, "icos: store node %s is not linked with any parent\n"
					"HINT: Add it with icos node add-store.\n", node);
		goto out;
	}
	snprintf(old_pp, sizeof(old_pp), "%s", v);
	if (strncmp(old_pp, "hub_", 4) == 0)
	{
		old_hub = xstrdup(old_pp + 4);
		if ((oldc = connect_hub(hq, old_hub, from_hub_dsn, &old_dsn)) == NULL)
		{
			fprintf(stderr, "icos: the store's hub %s cannot be reached, so what it holds of the store cannot be handed over\n"
					"HINT: Move a store off a failed hub with icos node reseed --hub-dsn NEW (docs/replication.md).\n",
					old_hub);
			goto out;
		}
	}
	from = oldc ? oldc : hq;
	to = newc ? newc : hq;
	snprintf(up_old, sizeof(up_old), "icos_store_%s_to_%s", node, old_pp);
	snprintf(up_new, sizeof(up_new), "icos_store_%s_to_%s", node, new_pp);
	snprintf(down_old, sizeof(down_old), "icos_%s_to_%s", old_pp, node);
	printf("Moving store node %s from %s to %s\n", node,
		   old_hub ? old_pp : "head office", new_hub ? new_pp : "head office");

	/*
	 * 1. Up: the new parent's slot at the store, then the old link stops
	 * past its start, and everything it brought reaches head office.
	 */
	free(v);
	v = subscription_enabled(to, up_new);
	if (v == NULL)
	{
		char	   *old_on = subscription_enabled(from, up_old);

		p1[0] = up_new;
		if (old_on == NULL)
		{
			fprintf(stderr, "icos: %s has no subscription %s to take the store's position from\n",
					old_hub ? "the old hub" : "head office", up_old);
			goto out;
		}
		if (!exec_ok(st, "SELECT pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput') "
					 "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)", 1, p1) ||
			(strcmp(old_on, "true") == 0 &&
			 (!beat_reaches(st, from, "the store", old_hub ? "the old hub" : "head office", timeout) ||
			  !disable_subscription(from, up_old, timeout))))
		{
			free(old_on);
			goto out;
		}
		free(old_on);
		p1[0] = up_old;
		y = query_value(from, "SELECT pg_catalog.pg_replication_origin_progress('pg_' || oid, true)::text "
						"FROM pg_catalog.pg_subscription WHERE subname = $1", 1, p1);
		if (y == NULL)
		{
			fprintf(stderr, "icos: subscription %s has no applied position\n", up_old);
			goto out;
		}
		if (oldc && !beat_reaches(oldc, hq, "the old hub", "head office", timeout))
			goto out;
		printf("  the store's rows up to %s went the old way; later ones wait in slot %s\n", y, up_new);
	}

	/* 2. The tree, and the filters of every link the store's rows cross */
	/* the store keeps its name */
	p4[0] = node;
	p4[1] = "store";
	p4[2] = new_hub ? new_hub : hq_id;
	p4[3] = "store node ";
	if (!exec_ok(hq, "SELECT icos.attach_node($1::int, $2, $3::int, "
				 "coalesce((SELECT t.name FROM icos.node_tree t WHERE t.node_id = $1::int), $4 || $1))", 4, p4))
		goto out;
	p1[0] = node;
	if (newc)
	{
		const char *ph[1] = {new_hub};

		if (!hub_caught_up(hq, newc, timeout) ||
			!exec_ok(newc, "SELECT icos.setup_replication()", 0, NULL) ||
			!exec_ok(newc, "SELECT icos.create_publications($1::int)", 1, p1) ||
			!publications_valid(newc, "the new hub", node) ||
			!exec_ok(hq, "SELECT icos.refresh_publications($1::int)", 1, ph) ||
			!publications_valid(hq, "head office", new_hub))
			goto out;
	}
	else if (!exec_ok(hq, "SELECT icos.create_publications($1::int)", 1, p1) ||
			 !publications_valid(hq, "head office", node))
		goto out;
	if (oldc)
	{
		const char *ph[1] = {old_hub};

		if (!hub_caught_up(hq, oldc, timeout) ||
			!exec_ok(oldc, "SELECT icos.refresh_publications($1::int)", 1, ph) ||
			!exec_ok(hq, "SELECT icos.refresh_publications($1::int)", 1, ph))
			goto out;
	}

	/*
	 * 2b. A new hub copies the old parent's rows of the store, which stand
	 * still where the old link stopped, before its publications to head
	 * office cover the store: the store's later updates find their rows
	 * there, and head office does not receive the copy.
	 */
	free(v);
	v = NULL;
	if (newc)
	{
		const char *ph[1] = {new_hub};

		/* its publications cover the store once the copy is complete */
		if ((v = query_value(newc, "SELECT (count(*) = 0)::text FROM icos.check_publications($1::int)", 1, ph)) == NULL)
			goto out;
	}
	if (newc && strcmp(v, "false") == 0)
	{
		char		copy[64];
		const char *p2c[2] = {node, new_hub};

		/* what an interrupted run copied goes first (it never went further) */
		snprintf(copy, sizeof(copy), "icos_move_%s", node);
		if (!unsubscribe(newc, copy) ||
			!exec_ok(newc, "SELECT icos.reseed_prepare($1::int)", 1, p1) ||
			!exec_ok(from, "SELECT icos.create_move_publication($1::int, $2::int)", 2, p2c) ||
			!exec_ok(newc, "SELECT icos.set_apply_upsert(true)", 0, NULL) ||
			!subscribe(newc, copy, old_dsn ? old_dsn : l.hq_dsn, copy, true) ||
			!wait_for_sync(newc, "the old parent -> the new hub", copy, timeout) ||
			!unsubscribe(newc, copy) ||
			!exec_ok(newc, "SELECT icos.set_apply_upsert(false)", 0, NULL))
			goto out;
		snprintf(sql, sizeof(sql), "DROP PUBLICATION IF EXISTS %s", copy);
		if (!exec_ok(from, sql, 0, NULL))
			goto out;
		printf("  the new hub has the store's rows\n");
	}
	if (newc)
	{
		const char *ph[1] = {new_hub};

		if (!exec_ok(newc, "SELECT icos.refresh_publications($1::int)", 1, ph) ||
			!publications_valid(newc, "the new hub", new_hub))
			goto out;
	}
	printf("  head office's tree and the filters of the links say the store hangs under %s\n",
		   new_hub ? new_pp : "head office");

	/*
	 * 3. Down: once the old link has brought what head office routed that
	 * way, the new parent's subscription copies and follows; a row the store
	 * has already updates it meanwhile.
	 */
	free(v);
	v = subscription_enabled(st, down_new);
	if (v == NULL)
	{
		char	   *old_on = subscription_enabled(st, down_old);

		if (old_on != NULL && strcmp(old_on, "true") == 0 &&
			!beat_reaches(hq, st, "head office", "the store", timeout))
		{
			free(old_on);
			goto out;
		}
		free(old_on);
		snprintf(pubs, sizeof(pubs), "%s, icos_%s_route_%s", new_hub ? "icos_hub" : "icos_hq",
				 new_hub ? "hub" : "hq", node);
		if (!exec_ok(st, "SELECT icos.set_apply_upsert(true)", 0, NULL) ||
			!disable_subscription(st, down_old, timeout) ||
			!subscribe(st, down_new, hub_dsn ? hub_dsn : l.hq_dsn, pubs, true) ||
			!wait_for_sync(st, new_hub ? "the new hub -> the store" : "head office -> the store", down_new, timeout))
			goto out;
	}

	/* 4. Up: the new subscription starts where the old one stopped */
	free(v);
	v = subscription_enabled(to, up_new);
	if (v == NULL)
	{
		char	   *lit = PQescapeLiteral(to, l.store_dsn, strlen(l.store_dsn));

		if (lit == NULL)
		{
			report_error(to, NULL);
			goto out;
		}
		snprintf(sql, sizeof(sql), "CREATE SUBSCRIPTION %s CONNECTION %s PUBLICATION icos_store_%s, icos_store_%s_log "
				 "WITH (create_slot = false, slot_name = '%s', copy_data = false, enabled = false, streaming = on)",
				 up_new, lit, node, node, up_new);
		PQfreemem(lit);
		p2[0] = up_new;
		p2[1] = y;
		if (!exec_ok(to, sql, 0, NULL) ||
			!exec_ok(to, "SELECT pg_catalog.pg_replication_origin_advance('pg_' || oid, $2::pg_lsn) "
					 "FROM pg_catalog.pg_subscription WHERE subname = $1", 2, p2))
			goto out;
		printf("  subscription %s created, starting after %s\n", up_new, y);
	}
	snprintf(sql, sizeof(sql), "ALTER SUBSCRIPTION %s ENABLE", up_new);
	if (!exec_ok(to, sql, 0, NULL))
		goto out;

	/*
	 * 5. In step: the store's rows reach head office the new way; what the
	 * old parent passed on has reached the store the new way too, so a row
	 * received twice from now on is a fault again.
	 */
	if (!beat_reaches(st, hq, "the store", "head office", timeout) ||
		(oldc && !beat_reaches(oldc, hq, "the old hub", "head office", timeout)) ||
		!beat_reaches(hq, st, "head office", "the store", timeout) ||
		!exec_ok(st, "SELECT icos.set_apply_upsert(false)", 0, NULL))
		goto out;

	/* 6. The old link goes, and the old hub's copies of the store's rows */
	p1[0] = node;
	if (!unsubscribe(st, down_old) || !unsubscribe(from, up_old) ||
		!drop_slot(from, down_old) ||
		!exec_ok(from, "SELECT icos.drop_publications($1::int)", 1, p1))
		goto out;
	if (oldc)
	{
		const char *ph[1] = {old_hub};

		/* and the old hub's heartbeat at the store, which no link renews now */
		if (!exec_ok(oldc, "SELECT icos.reseed_prepare($1::int)", 1, p1) ||
			!exec_ok(st, "BEGIN", 0, NULL))
			goto out;
		if (!exec_ok(st, "SET LOCAL session_replication_role = replica", 0, NULL) ||
			!exec_ok(st, "DELETE FROM icos.node_heartbeat WHERE node_id = $1::int", 1, ph) ||
			!exec_ok(st, "COMMIT", 0, NULL))
		{
			exec_ok(st, "ROLLBACK", 0, NULL);
			goto out;
		}
	}
	status = EXIT_OK;
	printf("Store node %s is in step with %s.\n", node, new_hub ? "its new hub" : "head office");
out:
	free(v);
	free(y);
	free(hq_id);
	free(new_hub);
	free(old_hub);
	free(old_dsn);
	if (oldc)
		disconnect(oldc);
	if (newc)
		disconnect(newc);
	link_close(&l);
	return status;
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
		usage_error("node: give a subcommand: init-hq, add-hub, add-store, move-store, status, remove-store, reseed or heartbeat");
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
	if (strcmp(argv[0], "move-store") == 0)
		return node_move_store(argc - 1, argv + 1);
	if (strcmp(argv[0], "heartbeat") == 0)
		return node_heartbeat(argc - 1, argv + 1);
	usage_error("node: unknown subcommand \"%s\"", argv[0]);
}
