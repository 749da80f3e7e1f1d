/*-------------------------------------------------------------------------
 *
 * serve_routes.c
 *		The toolbar's JSON API: each route is one SQL call on the session's
 *		own connection (API.md, "Client"; docs/toolbar.md).
 *
 * No business rule lives here: path segments, query arguments and request
 * bodies go to the icos.* functions as text parameters, the functions check
 * them, and their answer (a jsonb document, or rows made into a JSON array)
 * is the response body, in jsonb's text output as the backend writes it (a
 * ::text cast would copy an 80 kB look-up twice more).  A refusal becomes
 * {"sqlstate", "message", "detail", "hint"} with the HTTP status of its
 * SQLSTATE: 422 for a business refusal (class IC, 23), 400 for malformed
 * input (class 22), 403 for a role that may not (42501), 409 for a conflict
 * to retry (class 40).
 *
 * src/cli/serve_routes.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "serve_sql.h"

void
api_error(ApiResponse *out, int status, const char *sqlstate,
		  const char *message, const char *detail, const char *hint)
{
	out->status = status;
	out->content_type = "application/json";
	sb_reset(&out->body);
	sb_append(&out->body, "{\"sqlstate\": ");
	if (sqlstate)
		sb_json_string(&out->body, sqlstate);
	else
		sb_append(&out->body, "null");
	sb_append(&out->body, ", \"message\": ");
	sb_json_string(&out->body, message);
	sb_append(&out->body, ", \"detail\": ");
	if (detail)
		sb_json_string(&out->body, detail);
	else
		sb_append(&out->body, "null");
	sb_append(&out->body, ", \"hint\": ");
	if (hint)
		sb_json_string(&out->body, hint);
	else
		sb_append(&out->body, "null");
	sb_append(&out->body, "}");
}

/* The HTTP status of a SQLSTATE. */
static int
status_of(const char *sqlstate)
{
	if (strcmp(sqlstate, "42501") == 0)
		return 403;
	if (strncmp(sqlstate, "22", 2) == 0)
		return 400;
	if (strncmp(sqlstate, "IC", 2) == 0 || strncmp(sqlstate, "23", 2) == 0)
		return 422;
	if (strncmp(sqlstate, "40", 2) == 0)
		return 409;
	if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57014") == 0 ||
		strcmp(sqlstate, "57P01") == 0)
		return 503;
	return 500;
}

/*
 * Run one statement whose one value is the response body.  On a refusal
 * the error document; on a lost connection the session ends (the agent logs
 * in again: the password is not kept to reconnect with).
 */
static int
run(Session *s, ApiResponse *out, const char *content_type, const char *sql,
	int nparams, const char *const *params)
{
	PGresult   *res;

	pthread_mutex_lock(&s->lock);
	res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		PQnfields(res) == 1)
	{
		out->status = 200;
		out->content_type = content_type;
		sb_reset(&out->body);
		if (PQgetisnull(res, 0, 0))
			sb_append(&out->body, "null");
		else
			sb_appendn(&out->body, PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0));
	}
	else
	{
		const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		const char *message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

		if (PQstatus(s->conn) == CONNECTION_BAD)
		{
			session_end(s);
			api_error(out, 401, "08006", "the connection to the database was lost",
					  "The session has ended.", "Log in again.");
		}
		else if (sqlstate && message)
			api_error(out, status_of(sqlstate), sqlstate, message,
					  PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
					  PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
		else
			api_error(out, 500, NULL, "the database gave no answer", NULL, NULL);
	}
	PQclear(res);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The next path segment of *p (up to '/' or the end), copied to seg. */
static bool
segment(const char **p, char *seg, size_t cap)
{
	size_t		n = strcspn(*p, "/");

	if (n == 0 || n >= cap)
		return false;
	memcpy(seg, *p, n);
	seg[n] = '\0';
	*p += n;
	if (**p == '/')
		(*p)++;
	return true;
}

static int
wrong_method(ApiResponse *out, const char *method)
{
	api_error(out, 405, NULL, "method not allowed on this resource",
			  method, NULL);
	return 0;
}

static int
no_route(ApiResponse *out, const char *path)
{
	api_error(out, 404, NULL, "no such resource", path, NULL);
	return 0;
}

/*
 * path is what follows "/api/"; the session is live and, for a non-GET
 * request, its CSRF token checked (serve.c).
 */
static int
route(Session *s, const char *method, const char *path,
	  QueryArg arg, void *ctx, const char *body, ApiResponse *out)
{
	bool		get = strcmp(method, "GET") == 0;
	bool		post = strcmp(method, "POST") == 0;
	char		res1[64],
				key[256],
				action[64];
	const char *p = path;

	if (!segment(&p, res1, sizeof(res1)))
		return no_route(out, path);

	if (strcmp(res1, "session") == 0 && *p == '\0')
	{
		if (!get)
			return wrong_method(out, method);
		/* as the login answered: a reloaded page finds its token again */
		out->status = 200;
		out->content_type = "application/json";
		sb_reset(&out->body);
		sb_append(&out->body, "{\"csrf\": ");
		sb_json_string(&out->body, s->csrf);
		sb_append(&out->body, ", \"session\": ");
		sb_append(&out->body, s->info);
		sb_append(&out->body, "}");
		return 0;
	}
	if (strcmp(res1, "products") == 0 && segment(&p, key, sizeof(key)) && *p == '\0')
	{
		const char *params[1] = {key};

		if (!get)
			return wrong_method(out, method);
		return run(s, out, "application/json",
				   SERVE_SQL_PRODUCT, 1, params);
	}
	if (strcmp(res1, "basket") == 0 && *p == '\0')
	{
		const char *params[1] = {body};

		if (!post)
			return wrong_method(out, method);
		return run(s, out, "application/json",
				   "SELECT icos.price_basket($1::jsonb)", 1, params);
	}
	if (strcmp(res1, "customers") == 0 && *p == '\0')
	{
		const char *params[1] = {arg(ctx, "q")};

		if (!get)
			return wrong_method(out, method);
		return run(s, out, "application/json",
				   "SELECT coalesce(pg_catalog.jsonb_agg(c), '[]')"
				   "  FROM icos.find_customers($1) c", 1, params);
	}
	if (strcmp(res1, "orders") == 0 && *p == '\0')
	{
		const char *params[1] = {body};

		if (!post)
			return wrong_method(out, method);
		return run(s, out, "application/json",
				   SERVE_SQL_PLACE, 1, params);
	}
	if (strcmp(res1, "orders") == 0 && segment(&p, key, sizeof(key)))
	{
		const char *params[2] = {key, NULL};

		if (*p == '\0')
		{
			if (!get)
				return wrong_method(out, method);
			return run(s, out, "application/json",
					   "SELECT icos.order($1)", 1, params);
		}
		if (!segment(&p, action, sizeof(action)) || *p != '\0')
			return no_route(out, path);
		if (strcmp(action, "receipt") == 0)
		{
			if (!get)
				return wrong_method(out, method);
			params[1] = arg(ctx, "reprint");
			return run(s, out, "text/plain; charset=utf-8",
					   "SELECT icos.receipt($1, coalesce($2::boolean, false))", 2, params);
		}
		if (strcmp(action, "edit") == 0)
		{
			if (!post)
				return wrong_method(out, method);
			params[1] = body;
			return run(s, out, "application/json",
					   "SELECT icos.edit_order($1, $2::jsonb)", 2, params);
		}
		if (strcmp(action, "cancel") == 0)
		{
			if (!post)
				return wrong_method(out, method);
			params[1] = body;
			return run(s, out, "application/json",
					   "SELECT icos.cancel_order($1, $2::jsonb->>'reason')", 2, params);
		}
		return no_route(out, path);
	}
	if (strcmp(res1, "offers") == 0 && *p == '\0')
	{
		const char *params[3] = {arg(ctx, "from"), arg(ctx, "to"), arg(ctx, "store")};

		if (!get)
			return wrong_method(out, method);
		return run(s, out, "application/json",
				   "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(o)"
				   "         ORDER BY o.day, o.promotion_id), '[]')"
				   "  FROM icos.offers(coalesce($1::date, CURRENT_DATE), $2::date, $3::int) o",
				   3, params);
	}
	if (strcmp(res1, "reports") == 0 && segment(&p, key, sizeof(key)) &&
		strcmp(key, "sales") == 0 && *p == '\0')
	{
		const char *params[5] = {arg(ctx, "from"), arg(ctx, "to"), arg(ctx, "by"),
		arg(ctx, "store"), arg(ctx, "channel")};

		if (!get)
			return wrong_method(out, method);
		/* dates, both included, as `icos report` takes them */
		return run(s, out, "application/json",
				   "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r)), '[]')"
				   "  FROM icos.sales_report(coalesce($1::date, CURRENT_DATE)::timestamptz,"
				   "       (coalesce($2::date, $1::date, CURRENT_DATE) + 1)::timestamptz,"
				   "       coalesce($3, 'category'), $4::int, $5) r",
				   5, params);
	}
	return no_route(out, path);
}

void
api_dispatch(Session *s, const char *method, const char *path,
			 QueryArg arg, void *ctx, const char *body, ApiResponse *out)
{
	route(s, method, path, arg, ctx, body, out);
}
