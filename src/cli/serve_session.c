/*-------------------------------------------------------------------------
 *
 * serve_session.c
 *		The toolbar's browser sessions: login, look-up, logout, idle expiry
 *		and the slow-down of failed logins.
 *
 * A login opens a libpq connection with the employee's own role name and
 * password (the password goes to libpq and is then wiped: it is never kept
 * or logged), so the database's roles and row-level security apply to
 * everything the session does.  The connection must have used the password:
 * a server that let the role in without asking (trust) would let anyone be
 * anyone, so such a login is refused.
 *
 * A session is identified by a 256-bit random token (the cookie) and
 * carries a second one for the X-Icos-CSRF header.  Sessions idle for
 * serve_settings.idle_timeout seconds end: their connection is closed.
 *
 * Failed logins are slowed down per login name and per client address: the
 * n-th consecutive failure waits 0.5 s * 2^(n-1), at most 8 s, before the
 * answer, and a login attempt while such a wait is running waits it out.
 * A success clears the name's count; 15 minutes without failure forget it.
 *
 * src/cli/serve_session.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "serve.h"
#include "serve_sql.h"

static pthread_mutex_t sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static Session *sessions = NULL;
static int	nsessions = 0;
static int	nlogging_in = 0;		/* logins between the check and the session */

/* ---- random tokens ---- */

bool
serve_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[64];
	size_t		got = 0;

	if (nbytes > sizeof(buf))
		return false;
	while (got < nbytes)
	{
		ssize_t		n = getrandom(buf + got, nbytes - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t) n;
	}
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
	memset(buf, 0, sizeof(buf));
	return true;
}

/* Compare two tokens in time independent of where they differ. */
bool
serve_token_equal(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);
	unsigned char diff = la != lb;

	if (la != SERVE_TOKEN_HEX || lb != SERVE_TOKEN_HEX)
		return false;
	for (size_t i = 0; i < SERVE_TOKEN_HEX; i++)
		diff |= (unsigned char) (a[i] ^ b[i]);
	return diff == 0;
}

/* ---- failed-login slow-down ---- */

#define FAIL_SLOTS 1024
#define FAIL_FORGET 900			/* seconds without failure */
#define FAIL_MAX_DELAY_MS 8000

typedef struct FailSlot
{
	char		key[SERVE_USER_MAX + 2];	/* "u:name" or "a:address" */
	int			failures;
	struct timespec last;		/* the last failure */
} FailSlot;

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static FailSlot fail_slots[FAIL_SLOTS];

static long
delay_ms(int failures)
{
	long		d = 500;

	if (failures <= 0)
		return 0;
	for (int i = 1; i < failures && d < FAIL_MAX_DELAY_MS; i++)
		d *= 2;
	return d < FAIL_MAX_DELAY_MS ? d : FAIL_MAX_DELAY_MS;
}

static long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* The slot of a key (fail_lock held); with create, the oldest is reused. */
static FailSlot *
fail_slot(const char *key, bool create, const struct timespec *now)
{
	FailSlot   *oldest = &fail_slots[0];

	for (int i = 0; i < FAIL_SLOTS; i++)
	{
		FailSlot   *f = &fail_slots[i];

		if (f->key[0] != '\0' && now->tv_sec - f->last.tv_sec > FAIL_FORGET)
			f->key[0] = '\0';
		if (f->key[0] != '\0' && strcmp(f->key, key) == 0)
			return f;
		if (f->key[0] == '\0' ||
			(oldest->key[0] != '\0' && f->last.tv_sec < oldest->last.tv_sec))
			oldest = f;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	return oldest;
}

/* How long, in ms, an attempt for these keys must still wait. */
static long
fail_wait(const char *ukey, const char *akey)
{
	struct timespec now;
	long		wait = 0;
	const char *keys[2] = {ukey, akey};

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&fail_lock);
	for (int k = 0; k < 2; k++)
	{
		FailSlot   *f = fail_slot(keys[k], false, &now);

		if (f)
		{
			long		left = delay_ms(f->failures) - ms_between(&f->last, &now);

			if (left > wait)
				wait = left;
		}
	}
	pthread_mutex_unlock(&fail_lock);
	return wait;
}

/* Count a failure; returns the delay it imposes, in ms. */
static long
fail_record(const char *ukey, const char *akey)
{
	struct timespec now;
	long		d = 0;
	const char *keys[2] = {ukey, akey};

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&fail_lock);
	for (int k = 0; k < 2; k++)
	{
		FailSlot   *f = fail_slot(keys[k], true, &now);

		f->failures++;
		f->last = now;
		if (delay_ms(f->failures) > d)
			d = delay_ms(f->failures);
	}
	pthread_mutex_unlock(&fail_lock);
	return d;
}

static void
fail_clear(const char *ukey)
{
	struct timespec now;
	FailSlot   *f;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&fail_lock);
	f = fail_slot(ukey, false, &now);
	if (f)
		f->key[0] = '\0';
	pthread_mutex_unlock(&fail_lock);
}

static void
sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};

	while (ms > 0 && nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/* ---- sessions ---- */

static void
session_free(Session *s)
{
	PQfinish(s->conn);
	pthread_mutex_destroy(&s->lock);
	free(s->info);
	memset(s, 0, sizeof(*s));
	free(s);
}

/* Unlink a session (sessions_lock held); true when it can be freed now. */
static bool
unlink_session(Session *s)
{
	for (Session **p = &sessions; *p; p = &(*p)->next)
	{
		if (*p == s)
		{
			*p = s->next;
			nsessions--;
			break;
		}
	}
	s->ended = true;
	return s->refs == 0;
}

/*
 * Who is logged in, as the login answer shows it: the role and, for an
 * employee, her number, name, store and position (icos.employee, which the
 * employee may read).
 */
static char *
session_info(PGconn *conn)
{
	PGresult   *res = PQexec(conn, SERVE_SQL_SESSION_INFO);
	char	   *info = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		info = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return info;
}

/* The connection of a login and its session (not yet in the list). */
static LoginResult
connect_as(const char *user, const char *password, const char *ukey,
		   const char *akey, Session **out, StrBuf *why, int *retry_after)
{
	const char *keywords[8];
	const char *values[8];
	int			n;
	long		wait;
	PGconn	   *conn;
	Session    *s;

	/* The base conninfo first: user and password given after it win. */
	n = 0;
	keywords[n] = "dbname";
	values[n++] = serve_settings.dsn;
	keywords[n] = "host";		/* -h and -p as for every command */
	values[n++] = opts.host;
	keywords[n] = "port";
	values[n++] = opts.port;
	keywords[n] = "user";
	values[n++] = user;
	keywords[n] = "password";
	values[n++] = password;
	keywords[n] = "fallback_application_name";
	values[n++] = "icos serve";
	keywords[n] = "client_encoding";
	values[n++] = "UTF8";
	keywords[n] = NULL;
	values[n] = NULL;
	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL)
		return LOGIN_FAILED;
	if (PQstatus(conn) == CONNECTION_BAD)
	{
		const char *msg = PQerrorMessage(conn);
		/* PostgreSQL says the same for an unknown role and a wrong password */
		bool		auth = strstr(msg, "authentication failed") != NULL ||
			strstr(msg, "no password supplied") != NULL ||
			strstr(msg, "not permitted to log in") != NULL;

		PQfinish(conn);
		if (!auth)
		{
			sb_append(why, msg);
			return LOGIN_FAILED;
		}
		wait = fail_record(ukey, akey);
		*retry_after = (int) ((wait + 999) / 1000);
		sleep_ms(wait);
		return LOGIN_BAD_CREDENTIALS;
	}
	if (!PQconnectionUsedPassword(conn))
	{
		PQfinish(conn);
		return LOGIN_NO_PASSWORD_CHECK;
	}

	/*
	 * libpq keeps the password to reconnect with; a session never
	 * reconnects (a lost connection ends it), so wipe libpq's copy.
	 */
	{
		char	   *kept = PQpass(conn);

		if (kept)
			memset(kept, 0, strlen(kept));
	}
	fail_clear(ukey);

	s = xmalloc(sizeof(Session));
	memset(s, 0, sizeof(*s));
	if (!serve_random_hex(s->token, SERVE_TOKEN_HEX / 2) ||
		!serve_random_hex(s->csrf, SERVE_TOKEN_HEX / 2))
	{
		PQfinish(conn);
		free(s);
		sb_append(why, "no random numbers from the operating system");
		return LOGIN_FAILED;
	}
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->conn = conn;
	s->info = session_info(conn);
	if (s->info == NULL)
		s->info = xstrdup("{}");
	pthread_mutex_init(&s->lock, NULL);
	s->last_used = time(NULL);
	s->refs = 1;
	*out = s;
	return LOGIN_OK;
}

LoginResult
session_login(const char *user, const char *password, const char *client,
			  Session **out, StrBuf *why, int *retry_after)
{
	char		ukey[SERVE_USER_MAX + 2];
	char		akey[SERVE_USER_MAX + 2];
	int			n;
	long		wait;
	LoginResult lr;

	*out = NULL;
	*retry_after = 0;
	snprintf(ukey, sizeof(ukey), "u:%s", user);
	snprintf(akey, sizeof(akey), "a:%s", client);
	if ((wait = fail_wait(ukey, akey)) > 0)
		sleep_ms(wait);

	/* a place among the sessions, held while the login runs */
	pthread_mutex_lock(&sessions_lock);
	n = nsessions + nlogging_in;
	if (n < serve_settings.max_sessions)
		nlogging_in++;
	pthread_mutex_unlock(&sessions_lock);
	if (n >= serve_settings.max_sessions)
		return LOGIN_FULL;
	lr = connect_as(user, password, ukey, akey, out, why, retry_after);
	pthread_mutex_lock(&sessions_lock);
	nlogging_in--;
	if (lr == LOGIN_OK)
	{
		(*out)->next = sessions;
		sessions = *out;
		nsessions++;
	}
	pthread_mutex_unlock(&sessions_lock);
	return lr;
}

/*
 * The live session of a cookie, with a reference the caller gives back with
 * session_release(); NULL when there is none or it has expired.
 */
Session *
session_find(const char *token)
{
	time_t		now = time(NULL);
	Session    *found = NULL;
	Session    *expired = NULL;

	if (token == NULL || strlen(token) != SERVE_TOKEN_HEX)
		return NULL;
	pthread_mutex_lock(&sessions_lock);
	for (Session *s = sessions; s; s = s->next)
	{
		if (serve_token_equal(s->token, token))
		{
			if (s->refs == 0 && now - s->last_used >= serve_settings.idle_timeout)
			{
				if (unlink_session(s))
					expired = s;
			}
			else
			{
				s->refs++;
				s->last_used = now;
				found = s;
			}
			break;
		}
	}
	pthread_mutex_unlock(&sessions_lock);
	if (expired)
		session_free(expired);
	return found;
}

void
session_release(Session *s)
{
	bool		free_it;

	pthread_mutex_lock(&sessions_lock);
	s->refs--;
	s->last_used = time(NULL);
	free_it = s->ended && s->refs == 0;
	pthread_mutex_unlock(&sessions_lock);
	if (free_it)
		session_free(s);
}

/* Logout: the session ends when its last request is done. */
void
session_end(Session *s)
{
	pthread_mutex_lock(&sessions_lock);
	unlink_session(s);
	pthread_mutex_unlock(&sessions_lock);
}

/* End the sessions idle too long; returns how many ended. */
int
session_sweep(void)
{
	time_t		now = time(NULL);
	Session    *gone = NULL;
	int			n = 0;

	pthread_mutex_lock(&sessions_lock);
	for (Session *s = sessions, *next; s; s = next)
	{
		next = s->next;
		if (s->refs == 0 && now - s->last_used >= serve_settings.idle_timeout)
		{
			unlink_session(s);
			s->next = gone;
			gone = s;
			n++;
		}
	}
	pthread_mutex_unlock(&sessions_lock);
	while (gone)
	{
		Session    *next = gone->next;

		session_free(gone);
		gone = next;
	}
	return n;
}

/* At shutdown (no request running any more). */
void
session_end_all(void)
{
	pthread_mutex_lock(&sessions_lock);
	while (sessions)
	{
		Session    *s = sessions;

		sessions = s->next;
		session_free(s);
	}
	nsessions = 0;
	pthread_mutex_unlock(&sessions_lock);
}

int
session_count(void)
{
	int			n;

	pthread_mutex_lock(&sessions_lock);
	n = nsessions;
	pthread_mutex_unlock(&sessions_lock);
	return n;
}
