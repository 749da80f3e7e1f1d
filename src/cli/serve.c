/*-------------------------------------------------------------------------
 *
 * serve.c
 *		icos serve --listen ADDR:PORT: the agent toolbar's HTTP server.
 *
 * libmicrohttpd parses HTTP; this file applies the rules every request
 * passes before it reaches a route (docs/toolbar.md, "Security"):
 *	- bodies at most SERVE_BODY_MAX bytes (413), headers at most
 *	  SERVE_HEADER_MEMORY bytes (libmicrohttpd answers 431);
 *	- every /api/ request but POST /api/login needs a live session cookie
 *	  (401), every non-GET request the session's X-Icos-CSRF token (403);
 *	- POST bodies are application/json (415), so a cross-site form cannot
 *	  post a login;
 *	- every response carries a restrictive Content-Security-Policy and is
 *	  not cached.
 * The page (web/) is compiled into the program (serve_assets.c).
 *
 * One thread per HTTP connection: a request waits for its database call
 * without holding up the others.  SIGINT and SIGTERM stop the server; the
 * main thread meanwhile ends idle sessions every few seconds.
 *
 * src/cli/serve.c
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "promo.h"
#include "serve.h"

#define SERVE_BODY_MAX (256 * 1024)
#define SERVE_HEADER_MEMORY (32 * 1024)
#define SERVE_COOKIE "icos_session"

ServeSettings serve_settings;

static const char csp[] =
"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/* One HTTP request while its body arrives */
typedef struct Request
{
	StrBuf		body;
	bool		too_large;
} Request;

static void
add_common_headers(struct MHD_Response *r, const char *content_type)
{
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (content_type)
		MHD_add_response_header(r, "Content-Type", content_type);
}

/*
 * Queue a response; extra headers are name/value pairs.  The body is copied,
 * or with MHD_RESPMEM_MUST_FREE handed over (libmicrohttpd frees it).
 */
static enum MHD_Result
respond(struct MHD_Connection *c, int status, const char *content_type,
		const char *body, size_t len, enum MHD_ResponseMemoryMode mode,
		const char *const *extra)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *) body, mode);
	if (r == NULL)
	{
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *) body);
		return MHD_NO;
	}
	add_common_headers(r, content_type);
	for (int i = 0; extra && extra[i]; i += 2)
		MHD_add_response_header(r, extra[i], extra[i + 1]);
	ret = MHD_queue_response(c, (unsigned int) status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The answer of a route: its body (an 80 kB look-up) is not copied again. */
static enum MHD_Result
respond_api(struct MHD_Connection *c, ApiResponse *a, const char *const *extra)
{
	enum MHD_Result ret = respond(c, a->status, a->content_type, a->body.data,
								  a->body.len, MHD_RESPMEM_MUST_FREE, extra);

	a->body.data = NULL;
	a->body.len = a->body.cap = 0;
	return ret;
}

static enum MHD_Result
respond_error(struct MHD_Connection *c, int status, const char *sqlstate,
			  const char *message, const char *detail, const char *hint)
{
	ApiResponse a;

	sb_init(&a.body);
	api_error(&a, status, sqlstate, message, detail, hint);
	return respond_api(c, &a, NULL);
}

/* The client's address, for the failed-login slow-down and the log. */
static void
client_address(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, len, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, (socklen_t) len);
}

static bool
is_json(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

	return ct && strncasecmp(ct, "application/json", 16) == 0 &&
		(ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

/* Set-Cookie for a session; Secure when the proxy in front speaks TLS. */
static void
session_cookie(struct MHD_Connection *c, const char *token, char *buf, size_t len)
{
	const char *proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
	bool		secure = proto && strcasecmp(proto, "https") == 0;

	if (token)
		snprintf(buf, len, SERVE_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
				 token, secure ? "; Secure" : "");
	else
		snprintf(buf, len, SERVE_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
				 secure ? "; Secure" : "");
}

static void *
json_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static void
json_free(void *ctx, void *ptr)
{
	free(ptr);
}

/*
 * The user and password of a login request, a JSON object read with the
 * strict reader of src/core; false when the body is not such an object or a
 * value is not a string that fits.  The decoded strings are wiped.
 */
static bool
read_login(const char *body, size_t len, char *user, size_t ucap,
		   char *password, size_t pcap)
{
	promo_alloc a = {json_alloc, json_free, NULL};
	promo_json_doc doc;
	promo_error err;
	bool		ok = false;

	if (promo_json_parse(body, len, &a, &doc, &err) != PROMO_OK)
		return false;
	if (doc.nnodes > 0 && doc.nodes[0].type == PROMO_JSON_OBJECT)
	{
		long		u = promo_json_member(&doc, 0, "user");
		long		p = promo_json_member(&doc, 0, "password");
		const promo_json_node *un = u >= 0 ? &doc.nodes[u] : NULL;
		const promo_json_node *pn = p >= 0 ? &doc.nodes[p] : NULL;

		/* strings without a NUL (\u0000), not empty, that fit */
		ok = un && pn && un->type == PROMO_JSON_STRING && pn->type == PROMO_JSON_STRING &&
			un->len > 0 && pn->len > 0 && un->len < ucap && pn->len < pcap &&
			strlen(un->str) == un->len && strlen(pn->str) == pn->len;
		if (ok)
		{
			memcpy(user, un->str, un->len + 1);
			memcpy(password, pn->str, pn->len + 1);
		}
	}
	for (size_t i = 0; i < doc.nnodes; i++)
		if (doc.nodes[i].type == PROMO_JSON_STRING)
			memset((char *) doc.nodes[i].str, 0, doc.nodes[i].len);
	promo_json_free(&doc, &a);
	return ok;
}

static enum MHD_Result
handle_login(struct MHD_Connection *c, Request *req)
{
	char		user[SERVE_USER_MAX];
	char	   *password = xmalloc(SERVE_PASSWORD_MAX);
	char		client[INET6_ADDRSTRLEN + 1];
	bool		ok;
	Session    *s;
	StrBuf		why;
	int			retry_after;
	LoginResult lr;
	enum MHD_Result ret;

	if (!is_json(c))
	{
		free(password);
		return respond_error(c, 415, "22023", "a login is sent as application/json",
							 NULL, NULL);
	}
	ok = read_login(req->body.data, req->body.len, user, sizeof(user),
					password, SERVE_PASSWORD_MAX);
	/* the body held the password: wipe it */
	memset(req->body.data, 0, req->body.len);
	if (!ok)
	{
		memset(password, 0, SERVE_PASSWORD_MAX);
		free(password);
		return respond_error(c, 400, "22023", "a login needs a user and a password",
							 "The body must be a JSON object such as "
							 "{\"user\": \"emp_101\", \"password\": \"...\"}.", NULL);
	}
	client_address(c, client, sizeof(client));
	sb_init(&why);
	lr = session_login(user, password, client, &s, &why, &retry_after);
	memset(password, 0, SERVE_PASSWORD_MAX);
	free(password);

	switch (lr)
	{
		case LOGIN_OK:
			{
				char		cookie[256];
				const char *extra[] = {"Set-Cookie", cookie, NULL};
				ApiResponse a;

				fprintf(stderr, "icos serve: %s logged in from %s\n", s->user, client);
				session_cookie(c, s->token, cookie, sizeof(cookie));
				sb_init(&a.body);
				a.status = 200;
				a.content_type = "application/json";
				sb_append(&a.body, "{\"csrf\": ");
				sb_json_string(&a.body, s->csrf);
				sb_append(&a.body, ", \"session\": ");
				sb_append(&a.body, s->info);
				sb_append(&a.body, "}");
				session_release(s);
				ret = respond_api(c, &a, extra);
				break;
			}
		case LOGIN_BAD_CREDENTIALS:
			{
				char		secs[16];
				const char *extra[] = {"Retry-After", secs, NULL};
				ApiResponse a;

				fprintf(stderr, "icos serve: failed login for %s from %s\n", user, client);
				snprintf(secs, sizeof(secs), "%d", retry_after);
				sb_init(&a.body);
				api_error(&a, 401, "28P01", "wrong login name or password", NULL,
						  "Check the login name (emp_ and your employee number) and the password; "
						  "each failed attempt makes the next one wait longer.");
				ret = respond_api(c, &a, extra);
				break;
			}
		case LOGIN_NO_PASSWORD_CHECK:
			fprintf(stderr, "icos serve: refused a login: the database server let %s in "
					"without a password; it must ask for one (scram-sha-256 in pg_hba.conf)\n",
					user);
			ret = respond_error(c, 503, "28000", "the toolbar cannot check passwords here",
								"The database server let the login in without a password.",
								"Ask the administrator to make the toolbar connect over TCP "
								"with scram-sha-256 authentication.");
			break;
		case LOGIN_FULL:
			ret = respond_error(c, 503, "53300", "too many toolbar sessions",
								NULL, "Try again in a few minutes, or ask the administrator "
								"to raise --max-sessions.");
			break;
		default:
			fprintf(stderr, "icos serve: could not connect for %s: %s", user, why.data);
			ret = respond_error(c, 503, "08006", "could not connect to the database",
								why.data[0] ? why.data : NULL,
								"Try again in a minute; if it persists, tell the administrator.");
			break;
	}
	sb_free(&why);
	return ret;
}

static const char *
query_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *) ctx,
									   MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result
handle_api(struct MHD_Connection *c, const char *method, const char *url, Request *req)
{
	const char *path = url + strlen("/api/");
	Session    *s;
	ApiResponse a;
	bool		get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (strcmp(path, "login") == 0 && strcmp(method, "POST") == 0)
		return handle_login(c, req);

	s = session_find(MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SERVE_COOKIE));
	if (s == NULL)
		return respond_error(c, 401, NULL, "not logged in",
							 "There is no session, or it ended after a time without use.",
							 "Log in again.");
	if (!get)
	{
		const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Icos-CSRF");

		if (token == NULL || !serve_token_equal(token, s->csrf))
		{
			session_release(s);
			return respond_error(c, 403, NULL, "missing or wrong X-Icos-CSRF header",
								 "Every request that changes something must carry the token "
								 "the login returned.", NULL);
		}
		if (req->body.len > 0 && !is_json(c))
		{
			session_release(s);
			return respond_error(c, 415, "22023", "a request body is sent as application/json",
								 NULL, NULL);
		}
	}

	if (strcmp(path, "logout") == 0)
	{
		char		cookie[256];
		const char *extra[] = {"Set-Cookie", cookie, NULL};

		if (strcmp(method, "POST") != 0)
		{
			session_release(s);
			return respond_error(c, 405, NULL, "method not allowed on this resource",
								 method, NULL);
		}
		fprintf(stderr, "icos serve: %s logged out\n", s->user);
		session_end(s);
		session_release(s);
		session_cookie(c, NULL, cookie, sizeof(cookie));
		return respond(c, 200, "application/json", "{}", 2, MHD_RESPMEM_PERSISTENT, extra);
	}

	sb_init(&a.body);
	api_dispatch(s, strcmp(method, "HEAD") == 0 ? "GET" : method, path, query_arg, c,
				 req->body.data, &a);
	session_release(s);
	return respond_api(c, &a, NULL);
}

static enum MHD_Result
handle_asset(struct MHD_Connection *c, const char *method, const char *url)
{
	const char *name = strcmp(url, "/") == 0 ? "/index.html" : url;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond_error(c, 405, NULL, "method not allowed on this resource",
							 method, NULL);
	for (const WebAsset *w = web_assets; w->path; w++)
	{
		if (strcmp(w->path, name) == 0)
			return respond(c, MHD_HTTP_OK, w->content_type, (const char *) w->data, w->len,
						   MHD_RESPMEM_PERSISTENT, NULL);
	}
	return respond_error(c, 404, NULL, "no such resource", url, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
		   const char *method, const char *version, const char *upload_data,
		   size_t *upload_data_size, void **con_cls)
{
	Request    *req = *con_cls;

	if (req == NULL)
	{
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

		if (cl && strtoull(cl, NULL, 10) > SERVE_BODY_MAX)
			return respond_error(c, 413, NULL, "request body too large", NULL, NULL);
		req = xmalloc(sizeof(Request));
		sb_init(&req->body);
		req->too_large = false;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (req->body.len + *upload_data_size > SERVE_BODY_MAX)
			return MHD_NO;		/* chunked past the limit: drop the connection */
		sb_appendn(&req->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strlen(req->body.data) != req->body.len)
		return respond_error(c, 400, "22021", "the request body holds a NUL byte", NULL, NULL);
	if (strncmp(url, "/api/", 5) == 0)
		return handle_api(c, method, url, req);
	return handle_asset(c, method, url);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Request    *req = *con_cls;

	if (req)
	{
		memset(req->body.data, 0, req->body.len);
		sb_free(&req->body);
		free(req);
		*con_cls = NULL;
	}
}

/*
 * Each answer goes out at once: without TCP_NODELAY a body written after
 * its headers waits for the browser's delayed acknowledgement (40 ms).
 */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	int			one = 1;

	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* "127.0.0.1:8080", "[::1]:8080", "localhost:8080" */
static bool
resolve_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char		host[256];
	const char *colon = strrchr(text, ':');
	const char *port;
	size_t		hlen;
	struct addrinfo hints,
			   *ai;

	if (colon == NULL || colon[1] == '\0')
		return false;
	port = colon + 1;
	hlen = (size_t) (colon - text);
	if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']')
	{
		text++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return false;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return true;
}

int
cmd_serve(int argc, char **argv)
{
	const char *listen = NULL;
	const char *idle = "900";
	const char *max_sessions = "100";
	const OptSpec specs[] = {
		{"listen", true, &listen, NULL},
		{"idle-timeout", true, &idle, NULL},
		{"max-sessions", true, &max_sessions, NULL},
		{NULL}
	};
	struct sockaddr_storage ss;
	socklen_t	sslen;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t	stop;
	char		host[INET6_ADDRSTRLEN + 1];

	parse_command_args("serve", argc, argv, specs, NULL, 0, 0);
	if (listen == NULL)
		usage_error("serve: --listen ADDR:PORT is required");
	if (!resolve_listen(listen, &ss, &sslen))
		usage_error("serve: --listen needs ADDR:PORT (e.g. 127.0.0.1:8080), not \"%s\"", listen);
	serve_settings.dsn = opts.dsn;
	serve_settings.idle_timeout = parse_int_arg("serve", "--idle-timeout", idle);
	serve_settings.max_sessions = parse_int_arg("serve", "--max-sessions", max_sessions);
	if (serve_settings.idle_timeout < 1 || serve_settings.max_sessions < 1)
		usage_error("serve: --idle-timeout and --max-sessions must be at least 1");

	/* The signals that stop the server go to the main thread alone. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
						 MHD_USE_AUTO | MHD_USE_ERROR_LOG |
						 (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
						 0, NULL, NULL, on_request, NULL,
						 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
						 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) SERVE_HEADER_MEMORY,
						 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 512,
						 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
						 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
						 MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
						 MHD_OPTION_END);
	if (d == NULL)
	{
		fprintf(stderr, "icos: serve: could not listen on %s: %s\n", listen,
				errno ? strerror(errno) : "libmicrohttpd refused");
		return EXIT_REFUSED;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, host, sizeof(host));
	printf("icos serve: the toolbar is at http://%s%s%s:%u/ (sessions end after %d s idle)\n",
		   ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "",
		   info ? (unsigned) info->port : 0u, serve_settings.idle_timeout);
	fflush(stdout);

	for (;;)
	{
		struct timespec every = {5, 0};
		int			sig = sigtimedwait(&stop, NULL, &every);

		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (session_sweep() > 0)
			fprintf(stderr, "icos serve: ended idle sessions; %d open\n", session_count());
	}
	MHD_stop_daemon(d);
	session_end_all();
	fprintf(stderr, "icos serve: stopped\n");
	return EXIT_OK;
}
