/*-------------------------------------------------------------------------
 *
 * soak.c
 *	  make soak's traffic generator: many clients sending the mixed traffic
 *	  of a trading day to one or more icos nodes for a fixed time, then a
 *	  table of throughput, p50/p99 latency per operation and errors by
 *	  SQLSTATE.
 *
 * Every client thread has one connection per target.  A target is
 * "CONNINFO|STORE|CHANNEL": the node, the selling store and the channel
 * its orders are taken in (store/pos at a store node, web/phone at head
 * office).  Operations, by weight:
 *
 *	 order      place_order (card for web/phone, cash at a till), after
 *				pricing the basket with price_basket ("price" in the
 *				table); every acknowledged code is written to --codes
 *	 enquiry    icos.order of a code this target acknowledged earlier
 *	 edit       edit_order: a new address, or one line cancelled
 *	 cancel     cancel_order of a home-delivery order
 *	 stock      icos.availability of a product in every store
 *	 report     (with --reporter) sales_report of today by category
 *	 promotion  (with --admin) head office changes a promotion's priority
 *	 rollup     (with --admin) the scheduled icos.rollup_sales(), every 5 s
 *				from the first client
 *
 * Then the sell-out phase (--sellout-seconds, default 30; 0 leaves it out):
 * --sellout-clients threads (default 16) race for a few hot products at
 * the till targets (channel store or pos) until they run out, and go on
 * racing for whatever comes in:
 *
 *	 sellout sale     a carried-out till sale (channel pos) of 1 to 3 lines
 *					  of the hot products (now and then one product on two
 *					  lines)
 *	 sellout hold     hold_stock of a hot product; each client keeps up to
 *					  4 holds and releases the oldest ("sellout release"),
 *					  and all of them when the phase ends (store nodes do not
 *					  replicate holds, so head office's invariants could not
 *					  account for them)
 *	 sellout receipt  (with --admin) head office receives a few units of a
 *					  hot product at one of its own node's till stores
 *
 * At a sell-out the only refusal the stock engine may give is IC001: a
 * deadlock (40P01) or anything else there is unexpected.
 *
 * Business refusals (IC001 not enough stock, IC002 no longer changeable)
 * are counted as expected; any other error is unexpected and makes the
 * exit status 1.  Every SQLSTATE seen is counted per operation in the
 * table.  Invariants are checked afterwards by test/soak/run.sh with the
 * --codes file.
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define MAX_TARGETS 16
#define MAX_UPCS	512
#define MAX_STATES	16

typedef enum op
{
	OP_ORDER,
	OP_PRICE,
	OP_ENQUIRY,
	OP_EDIT,
	OP_CANCEL,
	OP_STOCK,
	OP_REPORT,
	OP_PROMOTION,
	OP_ROLLUP,
	OP_SELLOUT_SALE,
	OP_SELLOUT_HOLD,
	OP_SELLOUT_RELEASE,
	OP_SELLOUT_RECEIPT,
	N_OPS
} op;

static const char *const op_names[N_OPS] = {
	"order", "price", "enquiry", "edit", "cancel", "stock", "report", "promotion",
	"rollup", "sellout sale", "sellout hold", "sellout release", "sellout receipt"
};

/*
 * price is not drawn on its own: every order prices its basket first; the
 * sell-out operations belong to their own phase (sellout_main)
 */
static const int op_weight[N_OPS] = {40, 0, 20, 10, 3, 20, 5, 2, 0, 0, 0, 0, 0};

/* The hot products of the sell-out phase: the first few of the catalogue. */
#define N_HOT 3

typedef struct target
{
	const char *conninfo;
	int			store;
	const char *channel;
	char		upcs[MAX_UPCS][16];
	int			nupcs;
	/* codes acknowledged through this target (ring of the latest) */
	pthread_mutex_t lock;
	char		codes[4096][16];
	bool		home[4096];
	long		ncodes;
} target;

typedef struct state_count
{
	char		state[6];
	long		n;
} state_count;

typedef struct op_stats
{
	double	   *ms;				/* latencies of successful calls */
	long		n,
				cap;
	state_count errors[MAX_STATES];
	int			nerrors;
} op_stats;

typedef struct client
{
	int			id;
	unsigned int seed;
	PGconn	   *conn[MAX_TARGETS];
	PGconn	   *admin;
	PGconn	   *reporter;
	op_stats	stats[N_OPS];
	/* the sell-out phase's holds not released yet: hold id and target */
	char		holds[4][32];
	int			hold_target[4];
	int			nholds;
} client;

static target targets[MAX_TARGETS];
static int	ntargets;
static const char *admin_conninfo;
static const char *reporter_conninfo;
static double deadline;
static FILE *codes_out;
static pthread_mutex_t codes_lock = PTHREAD_MUTEX_INITIALIZER;
static int	npromotions;
static char hot[N_HOT][16];
static int	nhot;
/* till targets of the sell-out phase, and those of head office's node */
static int	tills[MAX_TARGETS];
static int	ntills;
static int	hq_tills[MAX_TARGETS];
static int	nhq_tills;

static void
die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fputs("soak: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static PGconn *
connect_or_die(const char *conninfo)
{
	PGconn	   *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect to \"%s\": %s", conninfo, PQerrorMessage(c));
	return c;
}

static void
record_ok(op_stats *s, double ms)
{
	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->ms = realloc(s->ms, s->cap * sizeof(double));
		if (!s->ms)
			die("out of memory");
	}
	s->ms[s->n++] = ms;
}

/* Count n errors of SQLSTATE state. */
static void
record_errors(op_stats *s, const char *state, long n)
{
	int			i;

	for (i = 0; i < s->nerrors; i++)
		if (strcmp(s->errors[i].state, state) == 0)
		{
			s->errors[i].n += n;
			return;
		}
	if (s->nerrors < MAX_STATES)
	{
		snprintf(s->errors[s->nerrors].state, sizeof(s->errors[0].state), "%s", state);
		s->errors[s->nerrors++].n = n;
	}
}

/*
 * Run one parameterised statement, timing it.  Returns the result on
 * success (caller clears it), NULL after recording the error.
 */
static PGresult *
timed(client *cl, op o, PGconn *conn, const char *sql, int nparams,
	  const char *const *params)
{
	double		t0 = now_ms();
	PGresult   *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
	{
		record_ok(&cl->stats[o], now_ms() - t0);
		return r;
	}
	{
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (state == NULL)
			state = PQstatus(conn) == CONNECTION_OK ? "?????" : "conn!";
		record_errors(&cl->stats[o], state, 1);
		if (strcmp(state, "IC001") != 0 && strcmp(state, "IC002") != 0)
			fprintf(stderr, "soak: %s: %s", op_names[o], PQerrorMessage(conn));
	}
	PQclear(r);
	if (PQstatus(conn) != CONNECTION_OK)
		PQreset(conn);
	return NULL;
}

static int
pick(client *cl, int n)
{
	return (int) (rand_r(&cl->seed) % (unsigned) n);
}

/* A code acknowledged through target t, or false when there is none yet. */
static bool
some_code(client *cl, target *t, bool want_home, char *code)
{
	bool		found = false;
	int			tries;

	pthread_mutex_lock(&t->lock);
	for (tries = 0; tries < 8 && t->ncodes > 0; tries++)
	{
		long		n = t->ncodes < 4096 ? t->ncodes : 4096;
		long		i = pick(cl, (int) n);

		if (want_home && !t->home[i])
			continue;
		strcpy(code, t->codes[i]);
		found = true;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

static void
do_order(client *cl, int ti)
{
	target	   *t = &targets[ti];
	bool		till = strcmp(t->channel, "pos") == 0 || strcmp(t->channel, "store") == 0;
	bool		home = !till || pick(cl, 4) == 0;
	char		lines[1024],
				basket[1400],
				order[2600],
				customer[256];
	const char *params[1];
	int			nlines = 1 + pick(cl, 4),
				i;
	size_t		len = 0;
	PGresult   *r;
	char		total[32];

	len += snprintf(lines + len, sizeof(lines) - len, "[");
	for (i = 0; i < nlines; i++)
		len += snprintf(lines + len, sizeof(lines) - len, "%s{\"upc\": \"%s\", \"qty\": %d}",
						i ? ", " : "", t->upcs[pick(cl, t->nupcs)], 1 + pick(cl, 2));
	snprintf(lines + len, sizeof(lines) - len, "]");

	snprintf(basket, sizeof(basket),
			 "{\"store\": %d, \"channel\": \"%s\", \"lines\": %s}",
			 t->store, t->channel, lines);
	params[0] = basket;
	r = timed(cl, OP_PRICE, cl->conn[ti],
			  "SELECT (icos.price_basket($1::jsonb)) ->> 'total'", 1, params);
	if (!r)
		return;
	snprintf(total, sizeof(total), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);

	snprintf(customer, sizeof(customer),
			 "{\"name\": \"Soak customer %d\", \"email\": \"soak%d.%d@example.com\", "
			 "\"address\": {\"line1\": \"%d High Street\", \"town\": \"Leeds\", \"postcode\": \"LS1 4AP\"}}",
			 cl->id, cl->id, pick(cl, 200), 1 + pick(cl, 300));
	snprintf(order, sizeof(order),
			 "{\"store\": %d, \"channel\": \"%s\", \"customer\": %s, \"lines\": %s, "
			 "\"delivery\": {\"method\": \"%s\"}, "
			 "\"payments\": [{\"method\": \"%s\", \"amount\": %s%s}]}",
			 t->store, t->channel, customer, lines,
			 home ? "home" : "carry",
			 till ? "cash" : "visa", till ? "9999.00" : total,
			 till ? "" : ", \"reference\": \"AUTH 1\"");
	params[0] = order;
	r = timed(cl, OP_ORDER, cl->conn[ti],
			  "SELECT icos.place_order($1::jsonb)::text", 1, params);
	if (!r)
		return;
	pthread_mutex_lock(&t->lock);
	{
		long		slot = t->ncodes % 4096;

		snprintf(t->codes[slot], sizeof(t->codes[0]), "%s", PQgetvalue(r, 0, 0));
		t->home[slot] = home;
		t->ncodes++;
	}
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_lock(&codes_lock);
	fprintf(codes_out, "%s\t%d\t%d\n", PQgetvalue(r, 0, 0), ti, nlines);
	pthread_mutex_unlock(&codes_lock);
	PQclear(r);
}

static void
do_enquiry(client *cl, int ti)
{
	char		code[16];
	const char *params[1] = {code};
	PGresult   *r;

	if (!some_code(cl, &targets[ti], false, code))
		return;
	r = timed(cl, OP_ENQUIRY, cl->conn[ti],
			  "SELECT icos.order($1::icos.order_code) ->> 'status'", 1, params);
	PQclear(r);
}

static void
do_edit(client *cl, int ti)
{
	char		code[16],
				changes[256];
	const char *params[2] = {code, changes};
	PGresult   *r;

	if (!some_code(cl, &targets[ti], true, code))
		return;
	if (pick(cl, 2) == 0)
		snprintf(changes, sizeof(changes),
				 "{\"address\": {\"line1\": \"%d Station Road\", \"town\": \"York\", \"postcode\": \"YO1 7HH\"}}",
				 1 + pick(cl, 99));
	else
		snprintf(changes, sizeof(changes), "{\"cancel_lines\": [1]}");
	r = timed(cl, OP_EDIT, cl->conn[ti],
			  "SELECT icos.edit_order($1::icos.order_code, $2::jsonb) ->> 'status'", 2, params);
	PQclear(r);
}

static void
do_cancel(client *cl, int ti)
{
	char		code[16];
	const char *params[1] = {code};
	PGresult   *r;

	if (!some_code(cl, &targets[ti], true, code))
		return;
	r = timed(cl, OP_CANCEL, cl->conn[ti],
			  "SELECT icos.cancel_order($1::icos.order_code, 'customer changed their mind') ->> 'status'",
			  1, params);
	PQclear(r);
}

static void
do_stock(client *cl, int ti)
{
	target	   *t = &targets[ti];
	const char *params[1] = {t->upcs[pick(cl, t->nupcs)]};
	PGresult   *r = timed(cl, OP_STOCK, cl->conn[ti],
						  "SELECT sum(available) FROM icos.availability($1::icos.upc)",
						  1, params);

	PQclear(r);
}

static void
do_report(client *cl)
{
	PGresult   *r;

	if (!cl->reporter)
		return;
	r = timed(cl, OP_REPORT, cl->reporter,
			  "SELECT count(*) FROM icos.sales_report(current_date, current_date + 1, 'category')",
			  0, NULL);
	PQclear(r);
}

static void
do_promotion(client *cl)
{
	char		id[16];
	const char *params[1] = {id};
	PGresult   *r;

	if (!cl->admin || npromotions == 0)
		return;
	snprintf(id, sizeof(id), "%d", 1 + pick(cl, npromotions));
	r = timed(cl, OP_PROMOTION, cl->admin,
			  "UPDATE icos.promotion SET priority = (priority + 1) % 10 "
			  "WHERE promotion_id = (SELECT promotion_id FROM icos.promotion "
			  "ORDER BY promotion_id OFFSET $1::int - 1 LIMIT 1)", 1, params);
	PQclear(r);
}

/*
 * The sell-out phase: a till sale of 1 to 3 lines of the hot products, one
 * product on two lines now and then (the engine takes it in one step).
 */
static void
do_sellout_sale(client *cl, int ti)
{
	target	   *t = &targets[ti];
	char		lines[512],
				order[1024];
	const char *params[1] = {order};
	int			nlines = 1 + pick(cl, 3),
				first = pick(cl, nhot),
				i;
	size_t		len = 0;

	len += snprintf(lines + len, sizeof(lines) - len, "[");
	for (i = 0; i < nlines; i++)
		len += snprintf(lines + len, sizeof(lines) - len, "%s{\"upc\": \"%s\", \"qty\": %d}",
						i ? ", " : "",
						hot[pick(cl, 4) == 0 ? first : (first + i) % nhot], 1 + pick(cl, 5));
	snprintf(lines + len, sizeof(lines) - len, "]");
	snprintf(order, sizeof(order),
			 "{\"store\": %d, \"channel\": \"pos\", \"lines\": %s, "
			 "\"delivery\": {\"method\": \"carry\"}, "
			 "\"payments\": [{\"method\": \"cash\", \"amount\": 9999.00}]}",
			 t->store, lines);
	PQclear(timed(cl, OP_SELLOUT_SALE, cl->conn[ti],
				  "SELECT icos.place_order($1::jsonb)::text", 1, params));
}

/* Release the client's oldest hold of the sell-out phase. */
static void
release_oldest_hold(client *cl)
{
	const char *params[1] = {cl->holds[0]};

	PQclear(timed(cl, OP_SELLOUT_RELEASE, cl->conn[cl->hold_target[0]],
				  "SELECT icos.release_hold($1::bigint)", 1, params));
	cl->nholds--;
	memmove(cl->holds[0], cl->holds[1], sizeof(cl->holds[0]) * cl->nholds);
	memmove(&cl->hold_target[0], &cl->hold_target[1], sizeof(int) * cl->nholds);
}

/* A hold of a hot product; the oldest of 4 is released. */
static void
do_sellout_hold(client *cl, int ti)
{
	target	   *t = &targets[ti];
	char		store[16],
				qty[16];
	const char *params[3] = {store, hot[pick(cl, nhot)], qty};
	PGresult   *r;

	snprintf(store, sizeof(store), "%d", t->store);
	snprintf(qty, sizeof(qty), "%d", 1 + pick(cl, 3));
	r = timed(cl, OP_SELLOUT_HOLD, cl->conn[ti],
			  "SELECT icos.hold_stock($1::int, $2::icos.upc, $3::int, '2 minutes')", 3, params);
	if (!r)
		return;
	if (cl->nholds == 4)
		release_oldest_hold(cl);
	snprintf(cl->holds[cl->nholds], sizeof(cl->holds[0]), "%s", PQgetvalue(r, 0, 0));
	cl->hold_target[cl->nholds++] = ti;
	PQclear(r);
}

/* Head office receives a few units of a hot product at one of its stores. */
static void
do_sellout_receipt(client *cl)
{
	char		store[16],
				qty[16];
	const char *params[3] = {store, hot[pick(cl, nhot)], qty};

	if (!cl->admin || nhq_tills == 0)
		return;
	snprintf(store, sizeof(store), "%d", targets[hq_tills[pick(cl, nhq_tills)]].store);
	snprintf(qty, sizeof(qty), "%d", 1 + pick(cl, 8));
	PQclear(timed(cl, OP_SELLOUT_RECEIPT, cl->admin,
				  "SELECT icos.receive_stock($1::int, $2::icos.upc, $3::int, 'soak sell-out restock')",
				  3, params));
}

static void *
sellout_main(void *arg)
{
	client	   *cl = arg;
	int			i;

	for (i = 0; i < ntargets; i++)
		cl->conn[i] = connect_or_die(targets[i].conninfo);
	if (admin_conninfo)
		cl->admin = connect_or_die(admin_conninfo);
	while (now_ms() < deadline)
	{
		int			w = pick(cl, 100),
					ti = tills[pick(cl, ntills)];

		if (w < 70)
			do_sellout_sale(cl, ti);
		else if (w < 90)
			do_sellout_hold(cl, ti);
		else
			do_sellout_receipt(cl);
	}
	while (cl->nholds > 0)
		release_oldest_hold(cl);
	for (i = 0; i < ntargets; i++)
		PQfinish(cl->conn[i]);
	if (cl->admin)
		PQfinish(cl->admin);
	cl->admin = NULL;
	return NULL;
}

/* The stores of the till targets that head office's node holds. */
static void
load_sellout(void)
{
	int			i;

	for (i = 0; i < ntargets; i++)
		if (strcmp(targets[i].channel, "pos") == 0 || strcmp(targets[i].channel, "store") == 0)
			tills[ntills++] = i;
	nhot = targets[0].nupcs < N_HOT ? targets[0].nupcs : N_HOT;
	for (i = 0; i < nhot; i++)
		snprintf(hot[i], sizeof(hot[0]), "%s", targets[0].upcs[i]);
	if (admin_conninfo)
	{
		PGconn	   *c = connect_or_die(admin_conninfo);
		PGresult   *r = PQexec(c, "SELECT store_id FROM icos.store "
							   "WHERE node_id = icos.current_node() AND kind = 'store'");

		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			for (i = 0; i < ntills; i++)
			{
				int			k;

				for (k = 0; k < PQntuples(r); k++)
					if (atoi(PQgetvalue(r, k, 0)) == targets[tills[i]].store)
						hq_tills[nhq_tills++] = tills[i];
			}
		PQclear(r);
		PQfinish(c);
	}
}

/* A weighted random operation against a random target. */
static void
random_op(client *cl, int total)
{
	int			w = pick(cl, total),
				ti = pick(cl, ntargets);
	op			o = 0;

	while (w >= op_weight[o])
		w -= op_weight[o++];
	switch (o)
	{
		case OP_ORDER:
			do_order(cl, ti);
			break;
		case OP_ENQUIRY:
			do_enquiry(cl, ti);
			break;
		case OP_EDIT:
			do_edit(cl, ti);
			break;
		case OP_CANCEL:
			do_cancel(cl, ti);
			break;
		case OP_STOCK:
			do_stock(cl, ti);
			break;
		case OP_REPORT:
			do_report(cl);
			break;
		case OP_PROMOTION:
			do_promotion(cl);
			break;
		case OP_PRICE:
		case OP_ROLLUP:
		case OP_SELLOUT_SALE:
		case OP_SELLOUT_HOLD:
		case OP_SELLOUT_RELEASE:
		case OP_SELLOUT_RECEIPT:
		case N_OPS:
			break;
	}
}

static void *
client_main(void *arg)
{
	client	   *cl = arg;
	int			total = 0,
				i;
	double		next_rollup = 0;

	for (i = 0; i < N_OPS; i++)
		total += op_weight[i];
	for (i = 0; i < ntargets; i++)
		cl->conn[i] = connect_or_die(targets[i].conninfo);
	if (admin_conninfo)
		cl->admin = connect_or_die(admin_conninfo);
	if (reporter_conninfo)
		cl->reporter = connect_or_die(reporter_conninfo);

	while (now_ms() < deadline)
	{
		if (cl->id == 1 && cl->admin && now_ms() >= next_rollup)
		{
			PQclear(timed(cl, OP_ROLLUP, cl->admin, "SELECT icos.rollup_sales()", 0, NULL));
			next_rollup = now_ms() + 5000;
		}
		random_op(cl, total);
	}
	for (i = 0; i < ntargets; i++)
		PQfinish(cl->conn[i]);
	if (cl->admin)
		PQfinish(cl->admin);
	if (cl->reporter)
		PQfinish(cl->reporter);
	return NULL;
}

static void
load_target(target *t)
{
	PGconn	   *c = connect_or_die(t->conninfo);
	PGresult   *r = PQexec(c, "SELECT upc::text FROM icos.product WHERE active "
						   "AND NOT made_to_order ORDER BY upc LIMIT 512");
	int			i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0)
		die("no products at \"%s\": %s", t->conninfo, PQerrorMessage(c));
	for (i = 0; i < PQntuples(r); i++)
		snprintf(t->upcs[i], sizeof(t->upcs[0]), "%s", PQgetvalue(r, i, 0));
	t->nupcs = PQntuples(r);
	PQclear(r);
	PQfinish(c);
	pthread_mutex_init(&t->lock, NULL);
}

/* Run n client threads of fn for the given seconds and wait for them. */
static void
run_clients(void *(*fn) (void *), client *clients, pthread_t *threads, int n,
			unsigned int seed, int seconds)
{
	int			i;

	deadline = now_ms() + seconds * 1000.0;
	for (i = 0; i < n; i++)
	{
		clients[i].id = i + 1;
		clients[i].seed = seed + i;
		if (pthread_create(&threads[i], NULL, fn, &clients[i]) != 0)
			die("cannot start client thread %d", i + 1);
	}
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int			seconds = 60,
				nclients = 8,
				sellout_seconds = 30,
				sellout_clients = 16,
				nall,
				i,
				o;
	const char *codes_path = NULL;
	client	   *clients;
	pthread_t  *threads;
	double		started,
				elapsed;
	long		unexpected = 0;

	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];

		if (strcmp(a, "--seconds") == 0 && i + 1 < argc)
			seconds = atoi(argv[++i]);
		else if (strcmp(a, "--clients") == 0 && i + 1 < argc)
			nclients = atoi(argv[++i]);
		else if (strcmp(a, "--admin") == 0 && i + 1 < argc)
			admin_conninfo = argv[++i];
		else if (strcmp(a, "--reporter") == 0 && i + 1 < argc)
			reporter_conninfo = argv[++i];
		else if (strcmp(a, "--codes") == 0 && i + 1 < argc)
			codes_path = argv[++i];
		else if (strcmp(a, "--sellout-seconds") == 0 && i + 1 < argc)
			sellout_seconds = atoi(argv[++i]);
		else if (strcmp(a, "--sellout-clients") == 0 && i + 1 < argc)
			sellout_clients = atoi(argv[++i]);
		else if (strcmp(a, "--target") == 0 && i + 1 < argc && ntargets < MAX_TARGETS)
		{
			char	   *spec = strdup(argv[++i]),
					   *bar1 = strchr(spec, '|'),
					   *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;

			if (!bar2)
				die("a target is CONNINFO|STORE|CHANNEL, got \"%s\"", argv[i]);
			*bar1 = *bar2 = '\0';
			targets[ntargets].conninfo = spec;
			targets[ntargets].store = atoi(bar1 + 1);
			targets[ntargets].channel = bar2 + 1;
			ntargets++;
		}
		else
		{
			fprintf(stderr, "usage: soak --target 'CONNINFO|STORE|CHANNEL' [--target ...] "
					"[--admin CONNINFO] [--reporter CONNINFO] [--seconds N] [--clients N] [--codes FILE] "
					"[--sellout-seconds N] [--sellout-clients N]\n");
			return 2;
		}
	}
	if (ntargets == 0 || seconds <= 0 || nclients <= 0 || nclients > 256)
		die("give at least one --target, a positive --seconds and 1..256 --clients");
	if (sellout_seconds < 0 || sellout_clients <= 0 || sellout_clients > 256)
		die("give --sellout-seconds 0 or more and 1..256 --sellout-clients");
	codes_out = codes_path ? fopen(codes_path, "w") : fopen("/dev/null", "w");
	if (!codes_out)
		die("cannot write %s: %s", codes_path, strerror(errno));
	for (i = 0; i < ntargets; i++)
		load_target(&targets[i]);
	if (admin_conninfo)
	{
		PGconn	   *c = connect_or_die(admin_conninfo);
		PGresult   *r = PQexec(c, "SELECT count(*) FROM icos.promotion");

		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			npromotions = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
		PQfinish(c);
	}

	load_sellout();
	nall = nclients > sellout_clients ? nclients : sellout_clients;
	clients = calloc(nall, sizeof(client));
	threads = calloc(nall, sizeof(pthread_t));
	if (!clients || !threads)
		die("out of memory");
	started = now_ms();
	run_clients(client_main, clients, threads, nclients, 0x5eed, seconds);
	elapsed = (now_ms() - started) / 1000.0;
	fclose(codes_out);

	/* the sell-out phase */
	if (sellout_seconds > 0 && ntills > 0 && nhot > 0)
	{
		double		sellout_started = now_ms();

		run_clients(sellout_main, clients, threads, sellout_clients, 0x5e11, sellout_seconds);
		elapsed += (now_ms() - sellout_started) / 1000.0;
		printf("sell-out phase: %d clients, %d s, hot products", sellout_clients, sellout_seconds);
		for (i = 0; i < nhot; i++)
			printf(" %s", hot[i]);
		printf(" at %d till target(s), restocked by head office at %d\n\n", ntills, nhq_tills);
	}
	else
		sellout_seconds = 0;

	printf("| operation | calls | per second | p50 ms | p99 ms | errors (SQLSTATE: count) |\n");
	printf("|---|---:|---:|---:|---:|---|\n");
	for (o = 0; o < N_OPS; o++)
	{
		op_stats	all = {0};
		char		errs[256] = "";
		size_t		len = 0;
		int			c,
					e;

		for (c = 0; c < nall; c++)
		{
			op_stats   *s = &clients[c].stats[o];

			for (i = 0; i < s->n; i++)
				record_ok(&all, s->ms[i]);
			for (e = 0; e < s->nerrors; e++)
				record_errors(&all, s->errors[e].state, s->errors[e].n);
		}
		for (e = 0; e < all.nerrors; e++)
		{
			bool		expected = strcmp(all.errors[e].state, "IC001") == 0 ||
				strcmp(all.errors[e].state, "IC002") == 0;

			len += snprintf(errs + len, sizeof(errs) - len, "%s%s: %ld%s",
							e ? ", " : "", all.errors[e].state, all.errors[e].n,
							expected ? "" : " (unexpected)");
			if (!expected)
				unexpected += all.errors[e].n;
		}
		if (all.n == 0 && all.nerrors == 0)
			continue;
		qsort(all.ms, all.n, sizeof(double), cmp_double);
		printf("| %s | %ld | %.1f | %.2f | %.2f | %s |\n", op_names[o], all.n,
			   all.n / (o >= OP_SELLOUT_SALE ? (double) sellout_seconds : elapsed - sellout_seconds),
			   all.n ? all.ms[(long) (all.n * 0.50)] : 0.0,
			   all.n ? all.ms[(long) ((all.n - 1) * 0.99)] : 0.0,
			   len ? errs : "none");
		free(all.ms);
	}
	printf("\n%d clients, %d targets, %.0f s (%d s of them the sell-out phase); unexpected errors: %ld\n",
		   nclients, ntargets, elapsed, sellout_seconds, unexpected);
	return unexpected ? 1 : 0;
}
