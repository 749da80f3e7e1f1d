/*-------------------------------------------------------------------------
 *
 * serve.h
 *		Declarations shared by the files of `icos serve`, the agent toolbar
 *		(docs/toolbar.md).
 *
 * serve.c runs the HTTP server (libmicrohttpd) and applies the security
 * rules every request passes; serve_session.c keeps the browser sessions,
 * each with its own libpq connection as the logged-in employee;
 * serve_routes.c maps each API route onto one SQL call; serve_assets.c
 * (generated from web/) holds the page.
 *
 * src/cli/serve.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_SERVE_H
#define ICOS_SERVE_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "icos.h"

#define SERVE_TOKEN_HEX 64		/* 32 random bytes as hex */
#define SERVE_USER_MAX 64		/* a PostgreSQL role name fits in 63 bytes */
#define SERVE_PASSWORD_MAX 1024

/* A browser session: one employee, one libpq connection */
typedef struct Session
{
	char		token[SERVE_TOKEN_HEX + 1]; /* the cookie */
	char		csrf[SERVE_TOKEN_HEX + 1];	/* the X-Icos-CSRF header */
	char		user[SERVE_USER_MAX];
	char	   *info;			/* JSON: who is logged in (login answer) */
	PGconn	   *conn;
	pthread_mutex_t lock;		/* one request at a time on conn */
	time_t		last_used;
	int			refs;			/* requests using it now */
	bool		ended;			/* logged out or expired: freed at refs 0 */
	struct Session *next;
} Session;

/* Settings of the running server (serve.c) */
typedef struct ServeSettings
{
	const char *dsn;			/* base conninfo: host, port, dbname */
	int			idle_timeout;	/* seconds */
	int			max_sessions;
} ServeSettings;

extern ServeSettings serve_settings;

/* serve_session.c */
typedef enum LoginResult
{
	LOGIN_OK,
	LOGIN_BAD_CREDENTIALS,		/* 401 */
	LOGIN_NO_PASSWORD_CHECK,	/* the database did not ask for the password */
	LOGIN_FULL,					/* too many sessions */
	LOGIN_FAILED				/* the database is unreachable or failed */
} LoginResult;

extern bool serve_random_hex(char *out, size_t nbytes);
extern bool serve_token_equal(const char *a, const char *b);
extern LoginResult session_login(const char *user, const char *password,
								 const char *client, Session **out, StrBuf *why,
								 int *retry_after);
extern Session *session_find(const char *token);
extern void session_release(Session *s);
extern void session_end(Session *s);
extern int	session_sweep(void);
extern void session_end_all(void);
extern int	session_count(void);

/* serve_routes.c: one API request on a session; fills status and body */
typedef struct ApiResponse
{
	int			status;
	const char *content_type;
	StrBuf		body;
} ApiResponse;

typedef const char *(*QueryArg) (void *ctx, const char *name);

extern void api_dispatch(Session *s, const char *method, const char *path,
						 QueryArg arg, void *arg_ctx, const char *body,
						 ApiResponse *out);
extern void api_error(ApiResponse *out, int status, const char *sqlstate,
					  const char *message, const char *detail, const char *hint);

/* serve_assets.c (generated from web/ by web/embed.sh) */
typedef struct WebAsset
{
	const char *path;
	const char *content_type;
	const unsigned char *data;
	size_t		len;
} WebAsset;

extern const WebAsset web_assets[];

#endif							/* ICOS_SERVE_H */
