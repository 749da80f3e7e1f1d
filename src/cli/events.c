/*-------------------------------------------------------------------------
 *
 * events.c
 *		icos events [--since TIME | --limit N] [--store N] [--follow]:
 *		the order event log, and with --follow each event as it comes.
 *
 * icos.order_event is the log; NOTIFY icos_order_events (payload
 * {"code", "kind", "at", "store"}, sent when the writing transaction
 * commits) is the doorbell.  --follow LISTENs before it reads the log, so no
 * event falls between the two; on a notification it reads the announced
 * event from the log (row security applies: an agent sees only the events
 * of the orders it may read).  When the connection is lost it reconnects,
 * LISTENs again and reads the log from a little before the newest event it
 * printed (OVERLAP_S), skipping what it already printed: an event committed
 * while it was away is printed late, never lost, unless it was written
 * more than OVERLAP_S before the newest one printed.  What it printed is
 * remembered by time, not by number: every event within twice that of the
 * newest, however many a peak brings.
 *
 * src/cli/events.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icos.h"

#define CHANNEL		"icos_order_events"
/* how far (seconds) before the newest event printed a catch-up reads again */
#define OVERLAP_S	300
/* how long the connection may stay silent before it is checked */
#define CHECK_MS	30000
/* longest wait between two attempts to reconnect */
#define MAX_RETRY_S 10
#define STR(x)		#x
#define XSTR(x)		STR(x)

#define UTC_FORMAT "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"

/*
 * The events of the window ($1 store or all, $2 from when or all, the
 * newest $3 or all) and those the notifications $4 (a JSON array of
 * payloads) announce, oldest first.  A payload not of the trigger's shape
 * (anyone may NOTIFY the channel) is ignored.
 */
static const char events_sql[] =
"WITH ev AS ("
"  (SELECT e.* FROM icos.order_event e"
"    WHERE ($1::int IS NULL OR e.store_id = $1::int)"
"      AND ($2::timestamptz IS NULL OR e.at >= $2::timestamptz)"
"      AND ($3::int IS NOT NULL OR $2::timestamptz IS NOT NULL)"
"    ORDER BY e.at DESC, e.store_id DESC, e.event_id DESC LIMIT $3::int)"
"  UNION ALL"
"  SELECT e.* FROM pg_catalog.json_array_elements_text(coalesce($4::json, '[]')) p(x)"
"    JOIN icos.order_event e"
"      ON e.at = (p.x::json ->> 'at')::timestamptz"
"     AND e.store_id = (p.x::json ->> 'store')::int"
"     AND e.code::text = p.x::json ->> 'code'"
"   WHERE p.x ~ '^\\{\"code\": \"[0-9A-Z-]{1,40}\", \"kind\": \"[a-z_]{1,20}\", "
"\"at\": \"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z\", "
"\"store\": [0-9]{1,9}\\}$'"
"     AND ($1::int IS NULL OR e.store_id = $1::int))"
"SELECT e.store_id || '/' || e.code::text || '/' || e.event_id,"
"       pg_catalog.to_char(e.at AT TIME ZONE 'UTC', " UTC_FORMAT "),"
"       pg_catalog.to_char(e.at, 'YYYY-MM-DD HH24:MI:SS'),"
"       e.store_id, e.code, e.kind, coalesce(e.note, ''),"
"       pg_catalog.jsonb_build_object('code', e.code, 'kind', e.kind,"
"           'at', pg_catalog.to_char(e.at AT TIME ZONE 'UTC', " UTC_FORMAT "),"
"           'store', e.store_id, 'event_id', e.event_id, 'note', e.note)"
"  FROM ev e ORDER BY e.at, e.store_id, e.event_id";

/* An event printed: its key (store/code/id) and when it was written */
typedef struct Seen
{
	char	   *key;			/* NULL: a free slot */
	long long	at;				/* microseconds since 1970 (UTC) */
} Seen;

typedef struct Follow
{
	const char *store;			/* --store, or NULL */
	char		floor[40];		/* never catch up from before this (UTC) */
	char		newest[40];		/* UTC "at" of the newest event printed */
	long long	newest_us;
	Seen	   *seen;			/* open addressing, a power of two of slots */
	size_t		seen_cap;
	size_t		seen_n;
	long		printed;
} Follow;

/* "YYYY-MM-DDTHH:MI:SS.USZ" (UTC_FORMAT) in microseconds since 1970 */
static long long
utc_us(const char *s)
{
	int			y,
				m,
				d,
				h,
				mi,
				sec;
	long		us;
	long long	era,
				yoe,
				doy,
				days;

	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%ldZ", &y, &m, &d, &h, &mi, &sec, &us) != 7)
		return 0;
	/* days since 1970-01-01 of a Gregorian date (H. Hinnant's days_from_civil) */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	return ((days * 24 + h) * 60 + mi) * 60000000LL + sec * 1000000LL + us;
}

static size_t
seen_slot(const Seen *tab, size_t cap, const char *key)
{
	unsigned long h = 2166136261u;	/* FNV-1a */

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
		if (tab[i].key == NULL || strcmp(tab[i].key, key) == 0)
			return i;
}

static bool
already_seen(const Follow *f, const char *key)
{
	return f->seen_cap > 0 && f->seen[seen_slot(f->seen, f->seen_cap, key)].key != NULL;
}

/*
 * Make room for one more key: forget the events written more than twice
 * OVERLAP_S before the newest (no catch-up reads them again), and size the
 * table for those kept.
 */
static void
seen_make_room(Follow *f)
{
	long long	cutoff = f->newest_us - 2LL * OVERLAP_S * 1000000;
	size_t		keep = 0,
				cap = 1024;
	Seen	   *tab;

	if ((f->seen_n + 1) * 2 <= f->seen_cap)
		return;
	for (size_t i = 0; i < f->seen_cap; i++)
		keep += f->seen[i].key != NULL && f->seen[i].at >= cutoff;
	while (cap < 4 * (keep + 1))
		cap *= 2;
	tab = xmalloc(cap * sizeof(Seen));
	memset(tab, 0, cap * sizeof(Seen));
	for (size_t i = 0; i < f->seen_cap; i++)
	{
		if (f->seen[i].key != NULL && f->seen[i].at >= cutoff)
			tab[seen_slot(tab, cap, f->seen[i].key)] = f->seen[i];
		else
			free(f->seen[i].key);
	}
	free(f->seen);
	f->seen = tab;
	f->seen_cap = cap;
	f->seen_n = keep;
}

static void
remember(Follow *f, const char *key, const char *at)
{
	long long	at_us = utc_us(at);
	size_t		i;

	/* the fixed UTC format sorts as text */
	if (strcmp(at, f->newest) > 0)
	{
		snprintf(f->newest, sizeof(f->newest), "%s", at);
		f->newest_us = at_us;
	}
	seen_make_room(f);
	i = seen_slot(f->seen, f->seen_cap, key);
	if (f->seen[i].key == NULL)
	{
		f->seen[i].key = xstrdup(key);
		f->seen[i].at = at_us;
		f->seen_n++;
	}
}

static void
print_event(const PGresult *res, int row)
{
	if (opts.json)
	{
		printf("%s\n", PQgetvalue(res, row, 7));
		return;
	}
	printf("%s  %5s  %-14s  %-9s  ", PQgetvalue(res, row, 2), PQgetvalue(res, row, 3),
		   PQgetvalue(res, row, 4), PQgetvalue(res, row, 5));
	/* a note on one line */
	for (const char *p = PQgetvalue(res, row, 6); *p; p++)
		putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
	putchar('\n');
}

/*
 * Read events (events_sql's parameters) and print those not printed yet.
 * Returns false when the query failed (reported).
 */
static bool
read_events(PGconn *conn, Follow *f, const char *since, const char *limit,
			const char *payloads)
{
	const char *params[4] = {f->store, since, limit, payloads};
	PGresult   *res = run_query(conn, events_sql, 4, params);
	/* the first read of the log holds each event once: no check needed */
	bool		check = f->printed > 0 || payloads != NULL;

	if (res == NULL)
		return false;
	for (int i = 0; i < PQntuples(res); i++)
	{
		if (check && already_seen(f, PQgetvalue(res, i, 0)))
			continue;
		print_event(res, i);
		remember(f, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		f->printed++;
	}
	PQclear(res);
	fflush(stdout);
	return true;
}

/* LISTEN, then read what the log holds from "since" (a timestamptz). */
static bool
listen_and_catch_up(PGconn *conn, Follow *f, const char *since, const char *limit)
{
	PGresult   *res = run_query(conn, "LISTEN " CHANNEL, 0, NULL);

	if (res == NULL)
		return false;
	PQclear(res);
	return read_events(conn, f, since, limit, NULL);
}

/* After a lost connection: keep trying, waiting longer each time. */
static void
reconnect(PGconn *conn)
{
	unsigned	wait_s = 1;

	fputs("icos: lost the connection to the database server; reconnecting\n", stderr);
	for (;;)
	{
		PQreset(conn);
		if (PQstatus(conn) == CONNECTION_OK)
		{
			fputs("icos: reconnected\n", stderr);
			return;
		}
		fprintf(stderr, "icos: could not reconnect (next try in %u s): %s", wait_s,
				PQerrorMessage(conn));
		sleep(wait_s);
		if (wait_s < MAX_RETRY_S)
			wait_s = wait_s * 2 > MAX_RETRY_S ? MAX_RETRY_S : wait_s * 2;
	}
}

/*
 * The catch-up point after a reconnection: OVERLAP_S before the newest event
 * printed, but not before the start (--since, or when the command started:
 * the events --limit left out stay out).
 */
static bool
catch_up_from(PGconn *conn, const Follow *f, char *buf, size_t len)
{
	const char *params[2] = {f->newest, f->floor};
	PGresult   *res = run_query(conn, "SELECT greatest($1::timestamptz - interval '"
								XSTR(OVERLAP_S) " seconds', $2::timestamptz)::text", 2, params);

	if (res == NULL)
		return false;
	snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/*
 * Wait for notifications and print the events they announce; reconnect and
 * catch up from the log whenever the connection is lost.  Never returns.
 */
static void
follow(PGconn *conn, Follow *f)
{
	StrBuf		payloads;

	sb_init(&payloads);
	for (;;)
	{
		PGnotify   *n;
		int			count = 0;
		bool		ok = true;

		/* notifications libpq holds already (read with a query's result) */
		sb_reset(&payloads);
		sb_append(&payloads, "[");
		while ((n = PQnotifies(conn)) != NULL)
		{
			if (strcmp(n->relname, CHANNEL) == 0)
			{
				if (count++ > 0)
					sb_append(&payloads, ",");
				sb_json_string(&payloads, n->extra);
			}
			PQfreemem(n);
		}
		sb_append(&payloads, "]");
		if (count > 0)
			ok = read_events(conn, f, NULL, NULL, payloads.data);
		else
		{
			struct pollfd pfd = {.fd = PQsocket(conn),.events = POLLIN};
			int			ready = pfd.fd < 0 ? -1 : poll(&pfd, 1, CHECK_MS);

			if (ready == 0)
			{
				/* quiet for a while: is the server still there? */
				PGresult   *res = run_query(conn, "SELECT 1", 0, NULL);

				ok = res != NULL;
				PQclear(res);
			}
			else
				ok = (ready > 0 && PQconsumeInput(conn) == 1) ||
					(ready < 0 && errno == EINTR);
		}
		for (unsigned wait_s = 1; !ok || PQstatus(conn) != CONNECTION_OK;)
		{
			char		since[64];

			if (PQstatus(conn) != CONNECTION_OK)
				reconnect(conn);
			else
			{
				/* the server refused a query (reported): try again later */
				fprintf(stderr, "icos: trying again in %u s\n", wait_s);
				sleep(wait_s);
				wait_s = wait_s * 2 > MAX_RETRY_S ? MAX_RETRY_S : wait_s * 2;
			}
			ok = catch_up_from(conn, f, since, sizeof(since)) &&
				listen_and_catch_up(conn, f, since, NULL);
		}
	}
}

int
cmd_events(int argc, char **argv)
{
	const char *since = NULL,
			   *limit = NULL,
			   *store = NULL;
	bool		follow_flag = false;
	const OptSpec specs[] = {
		{"since", true, &since, NULL},
		{"limit", true, &limit, NULL},
		{"store", true, &store, NULL},
		{"follow", false, NULL, &follow_flag},
		{"json", false, NULL, &opts.json},
		{NULL}
	};
	Follow	   *f;
	PGconn	   *conn;
	PGresult   *res;
	bool		ok;

	parse_command_args("events", argc, argv, specs, NULL, 0, 0);
	if (since && limit)
		usage_error("events: give --since or --limit, not both");
	if (limit && parse_int_arg("events", "--limit", limit) < 1)
		usage_error("events: --limit must be at least 1");
	if (store)
		parse_int_arg("events", "--store", store);
	if (since == NULL && limit == NULL)
		limit = "20";

	conn = connect_or_exit();
	if (!require_function(conn, "icos._order_event_announce()", "order event announcements",
						  "0.3.0"))
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	f = xmalloc(sizeof(Follow));
	memset(f, 0, sizeof(Follow));
	f->store = store;

	/* the start: --since, else now */
	res = run_query(conn, "SELECT pg_catalog.to_char(coalesce($1::timestamptz, "
					"pg_catalog.clock_timestamp()) AT TIME ZONE 'UTC', " UTC_FORMAT ")",
					1, (const char *const *) &since);
	if (res == NULL)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	snprintf(f->floor, sizeof(f->floor), "%s", PQgetvalue(res, 0, 0));
	snprintf(f->newest, sizeof(f->newest), "%s", f->floor);
	f->newest_us = utc_us(f->newest);
	PQclear(res);

	if (follow_flag)
		ok = listen_and_catch_up(conn, f, since, limit);
	else
		ok = read_events(conn, f, since, limit, NULL);
	if (!ok)
	{
		disconnect(conn);
		return EXIT_REFUSED;
	}
	if (!follow_flag)
	{
		if (f->printed == 0 && !opts.json)
			printf("No order events.\n");
		disconnect(conn);
		return EXIT_OK;
	}
	follow(conn, f);
	return EXIT_OK;				/* not reached */
}
