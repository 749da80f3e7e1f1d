/*
 * serve_load.c: the load of the toolbar benchmark (test/bench/serve.sh).
 *
 * N client threads (agents), each with its own session, make one kind of
 * call for S seconds and time each call; the median and 90th percentile of
 * all calls are printed.  In "pair" mode each agent holds two sessions, one
 * through `icos serve` (HTTP keep-alive, the session's cookie and CSRF
 * token) and one straight to the database over libpq sending the very SQL
 * the server sends, and makes its calls through the two in turn (which goes
 * first alternating), so both paths see the same machine at the same
 * moments: the difference of the medians is what the HTTP server adds per
 * call, free of the machine's drift from one minute to the next.  The call
 * "session" (GET /api/session, answered without the database) times the
 * HTTP path alone.
 *
 *   serve_load pair HOST PORT USER PASSWORD CONNINFO CLIENTS SECONDS lookup|place UPCFILE
 *   serve_load http HOST PORT USER PASSWORD CLIENTS SECONDS lookup|place|session UPCFILE
 *   serve_load idle HOST PORT USER PASSWORD SESSIONS   (log in, leave them idle)
 *
 * Output, one line per path ("http", "libpq"):
 * "PATH calls=N errors=E median_us=M p90_us=P".
 *
 * SERVE_LOAD_THINK_MS in the environment (default 0) makes each session
 * pause between its calls, as an agent does while she reads and types: a
 * pause drawn evenly from half to one and a half times that, not timed
 * (and one before the first call, so that sessions start apart).  0 is a
 * closed loop: every session calls again at once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libpq-fe.h"
#include "serve_sql.h"

static const char *host, *user, *password, *conninfo, *call;
static int	port, seconds,
			think_ms;
static char **upcs;
static int	nupcs;

/* The calls of one path (HTTP or libpq) */
typedef struct Timings
{
	long	   *lat;			/* microseconds */
	long		n,
				cap,
				errors;
} Timings;

typedef struct Worker
{
	pthread_t	thread;
	unsigned	seed;
	Timings		http,
				pq;
} Worker;

static long
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

/* An agent's pause between two calls (SERVE_LOAD_THINK_MS). */
static void
think(Worker *w)
{
	if (think_ms > 0)
	{
		long		us = think_ms * 500L + (long) (rand_r(&w->seed) % (think_ms * 1000L + 1));

		usleep((useconds_t) us);
	}
}

static void
record(Timings *t, bool ok, long us)
{
	if (!ok)
	{
		t->errors++;
		return;
	}
	if (t->n == t->cap)
	{
		t->cap = t->cap ? t->cap * 2 : 4096;
		t->lat = realloc(t->lat, sizeof(long) * t->cap);
	}
	t->lat[t->n++] = us;
}

static const char *
pick(Worker *w)
{
	return upcs[rand_r(&w->seed) % nupcs];
}

static void
place_doc(Worker *w, char *buf, size_t len)
{
	snprintf(buf, len,
			 "{\"store\": 10, \"channel\": \"pos\", \"lines\": ["
			 "{\"upc\": \"%s\", \"qty\": 1}, {\"upc\": \"%s\", \"qty\": 2}, {\"upc\": \"%s\", \"qty\": 1}],"
			 " \"delivery\": {\"method\": \"carry\"},"
			 " \"payments\": [{\"method\": \"cash\", \"amount\": 500.00}]}",
			 pick(w), pick(w), pick(w));
}

/* ---- HTTP ---- */

static int
http_connect(void)
{
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	int			one = 1;
	struct sockaddr_in sa = {0};

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0)
	{
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * One request on a keep-alive connection; returns the status, the body in
 * body (up to len), the cookie into cookie when given.
 */
static int
http_call(int fd, const char *method, const char *path, const char *cookie_hdr,
		  const char *csrf, const char *body, char *out, size_t len, char *cookie)
{
	static __thread char *buf;
	const size_t bufsize = 4 << 20;
	size_t		have = 0;
	char	   *end;
	long		clen;
	int			status;
	int			n;

	if (buf == NULL)
		buf = malloc(bufsize);
	n = snprintf(buf, bufsize,
							 "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%s%s"
							 "Content-Length: %zu\r\n\r\n%s",
							 method, path, host,
							 cookie_hdr ? "Cookie: " : "", cookie_hdr ? cookie_hdr : "",
							 cookie_hdr ? "\r\n" : "",
							 csrf ? "X-Icos-CSRF: " : "", csrf ? csrf : "", csrf ? "\r\n" : "",
							 body ? "Content-Type: application/json\r\n" : "",
							 body ? strlen(body) : 0, body ? body : "");

	if (write(fd, buf, (size_t) n) != n)
		return -1;
	for (;;)
	{
		ssize_t		r = read(fd, buf + have, bufsize - 1 - have);

		if (r <= 0)
			return -1;
		have += (size_t) r;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	status = atoi(buf + 9);
	{
		char	   *cl = strcasestr(buf, "\r\nContent-Length:");

		clen = cl && cl < end ? atol(cl + 17) : 0;
	}
	if (cookie)
	{
		char	   *sc = strstr(buf, "icos_session=");

		if (sc && sc < end)
			sscanf(sc, "icos_session=%64[0-9a-f]", cookie);
	}
	while ((long) (have - (size_t) (end + 4 - buf)) < clen)
	{
		ssize_t		r = read(fd, buf + have, bufsize - 1 - have);

		if (r <= 0)
			return -1;
		have += (size_t) r;
		buf[have] = '\0';
	}
	if (out)
		snprintf(out, len, "%s", end + 4);
	return status;
}

static int
http_login(int fd, char *cookie_hdr, char *csrf)
{
	char		body[512],
				answer[4096],
				cookie[65] = "";
	char	   *c;

	snprintf(body, sizeof(body), "{\"user\": \"%s\", \"password\": \"%s\"}", user, password);
	if (http_call(fd, "POST", "/api/login", NULL, NULL, body, answer, sizeof(answer), cookie) != 200)
		return -1;
	snprintf(cookie_hdr, 100, "icos_session=%s", cookie);
	c = strstr(answer, "\"csrf\": \"");
	if (!c)
		return -1;
	sscanf(c + 9, "%64[0-9a-f]", csrf);
	return 0;
}

/* An agent's HTTP session: a keep-alive connection, logged in */
typedef struct HttpSession
{
	int			fd;
	char		cookie[100],
				csrf[65];
} HttpSession;

static void
http_open(HttpSession *h)
{
	h->fd = http_connect();
	if (http_login(h->fd, h->cookie, h->csrf) != 0)
	{
		fprintf(stderr, "login failed\n");
		exit(1);
	}
}

/* the session's database connection closes with it */
static void
http_close(HttpSession *h)
{
	http_call(h->fd, "POST", "/api/logout", h->cookie, h->csrf, NULL, NULL, 0, NULL);
	close(h->fd);
}

static void
http_once(Worker *w, HttpSession *h)
{
	char		path[128],
				doc[1024];
	long		t0 = now_us();
	int			st;

	if (strcmp(call, "lookup") == 0)
	{
		snprintf(path, sizeof(path), "/api/products/%s", pick(w));
		st = http_call(h->fd, "GET", path, h->cookie, NULL, NULL, NULL, 0, NULL);
	}
	else if (strcmp(call, "session") == 0)
		st = http_call(h->fd, "GET", "/api/session", h->cookie, NULL, NULL, NULL, 0, NULL);
	else
	{
		place_doc(w, doc, sizeof(doc));
		st = http_call(h->fd, "POST", "/api/orders", h->cookie, h->csrf, doc, NULL, 0, NULL);
	}
	if (st < 0)
	{
		fprintf(stderr, "connection lost\n");
		exit(1);
	}
	record(&w->http, st == 200, now_us() - t0);
}

/* ---- libpq: the SQL icos serve sends (serve_sql.h) ---- */

static void
pq_once(Worker *w, PGconn *conn)
{
	char		doc[1024];
	const char *params[1];
	long		t0 = now_us();
	PGresult   *res;

	if (strcmp(call, "lookup") == 0)
	{
		params[0] = pick(w);
		res = PQexecParams(conn, SERVE_SQL_PRODUCT, 1, NULL, params, NULL, NULL, 0);
	}
	else
	{
		place_doc(w, doc, sizeof(doc));
		params[0] = doc;
		res = PQexecParams(conn, SERVE_SQL_PLACE, 1, NULL, params, NULL, NULL, 0);
	}
	record(&w->pq, PQresultStatus(res) == PGRES_TUPLES_OK, now_us() - t0);
	PQclear(res);
}

/* An agent: HTTP calls alone, or (conninfo set) HTTP and libpq in turn */
static void *
worker(void *arg)
{
	Worker	   *w = arg;
	HttpSession h;
	PGconn	   *conn = NULL;
	long		stop;
	bool		http_first = (w->seed & 1) != 0;

	http_open(&h);
	if (conninfo)
	{
		conn = PQconnectdb(conninfo);
		if (PQstatus(conn) != CONNECTION_OK)
		{
			fprintf(stderr, "%s", PQerrorMessage(conn));
			exit(1);
		}
		/*
		 * As a browser session starts (serve_session.c).  Besides being the
		 * same work, a backend's first statements set how its heap behaves
		 * later: without this one, the direct backend grew its heap by 460
		 * kB and gave it back at every 80 kB look-up (brk up and down, about
		 * 94 page faults, 1.2 ms more a call; docs/performance.md), and the
		 * server's backends did not.
		 */
		PQclear(PQexec(conn, SERVE_SQL_SESSION_INFO));
	}
	think(w);					/* sessions start apart, as agents do */
	stop = now_us() + seconds * 1000000L;
	while (now_us() < stop)
	{
		if (conn == NULL || http_first)
		{
			http_once(w, &h);
			think(w);
		}
		if (conn)
		{
			pq_once(w, conn);
			think(w);
			if (!http_first)
			{
				http_once(w, &h);
				think(w);
			}
			http_first = !http_first;
		}
	}
	http_close(&h);
	if (conn)
		PQfinish(conn);
	return NULL;
}

static int
cmp_long(const void *a, const void *b)
{
	long		x = *(const long *) a,
				y = *(const long *) b;

	return x < y ? -1 : x > y;
}

static void
load_upcs(const char *file)
{
	FILE	   *f = fopen(file, "r");
	char		line[64];

	if (!f)
	{
		perror(file);
		exit(1);
	}
	while (fgets(line, sizeof(line), f))
	{
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		upcs = realloc(upcs, sizeof(char *) * (nupcs + 1));
		upcs[nupcs++] = strdup(line);
	}
	fclose(f);
}

static void
report(const char *name, Worker *w, int clients, Timings *(*of) (Worker *))
{
	long		total = 0,
				errors = 0,
				k = 0;
	long	   *all;

	for (int i = 0; i < clients; i++)
	{
		total += of(&w[i])->n;
		errors += of(&w[i])->errors;
	}
	all = malloc(sizeof(long) * (total ? total : 1));
	for (int i = 0; i < clients; i++)
		for (long j = 0; j < of(&w[i])->n; j++)
			all[k++] = of(&w[i])->lat[j];
	qsort(all, (size_t) total, sizeof(long), cmp_long);
	printf("%s calls=%ld errors=%ld median_us=%ld p90_us=%ld\n", name, total, errors,
		   total ? all[total / 2] : 0, total ? all[total * 9 / 10] : 0);
	free(all);
}

static Timings *
http_of(Worker *w)
{
	return &w->http;
}

static Timings *
pq_of(Worker *w)
{
	return &w->pq;
}

int
main(int argc, char **argv)
{
	int			clients;
	int			a;
	Worker	   *w;

	think_ms = getenv("SERVE_LOAD_THINK_MS") ? atoi(getenv("SERVE_LOAD_THINK_MS")) : 0;

	if (argc == 7 && strcmp(argv[1], "idle") == 0)
	{
		host = argv[2];
		port = atoi(argv[3]);
		user = argv[4];
		password = argv[5];
		for (int i = 0; i < atoi(argv[6]); i++)
		{
			int			fd = http_connect();
			char		cookie[100],
						csrf[65];

			if (http_login(fd, cookie, csrf) != 0)
			{
				fprintf(stderr, "login %d failed\n", i);
				return 1;
			}
			close(fd);
		}
		return 0;
	}
	if (argc == 11 && strcmp(argv[1], "pair") == 0 &&
		(strcmp(argv[9], "lookup") == 0 || strcmp(argv[9], "place") == 0))
		conninfo = argv[6];
	else if (!(argc == 10 && strcmp(argv[1], "http") == 0))
	{
		fprintf(stderr, "usage: see the head of serve_load.c\n");
		return 2;
	}
	host = argv[2];
	port = atoi(argv[3]);
	user = argv[4];
	password = argv[5];
	a = conninfo ? 7 : 6;
	clients = atoi(argv[a]);
	seconds = atoi(argv[a + 1]);
	call = argv[a + 2];
	load_upcs(argv[a + 3]);

	w = calloc((size_t) clients, sizeof(Worker));
	for (int i = 0; i < clients; i++)
	{
		w[i].seed = (unsigned) (i * 7919 + 17);
		pthread_create(&w[i].thread, NULL, worker, &w[i]);
	}
	for (int i = 0; i < clients; i++)
		pthread_join(w[i].thread, NULL);
	report("http", w, clients, http_of);
	if (conninfo)
		report("libpq", w, clients, pq_of);
	return 0;
}
