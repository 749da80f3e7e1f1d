/*-------------------------------------------------------------------------
 *
 * serve_sql.h
 *	  The statements of icos serve that its benchmark also sends directly
 *	  over libpq (test/bench/serve_load.c): one text for both, so the
 *	  benchmark compares the same SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ICOS_SERVE_SQL_H
#define ICOS_SERVE_SQL_H

/* who the session is (serve_session.c), run once as a session starts */
#define SERVE_SQL_SESSION_INFO \
	"SELECT pg_catalog.jsonb_build_object(" \
	"  'user', current_user::text, 'employee', e.employee_id," \
	"  'name', e.full_name, 'store', e.store_id, 'store_name', s.name," \
	"  'position', e.position)::text" \
	"  FROM (SELECT 1) one" \
	"  LEFT JOIN icos.employee e ON e.role_name = current_user" \
	"  LEFT JOIN icos.store s ON s.store_id = e.store_id"

/* GET /api/products/{upc} */
#define SERVE_SQL_PRODUCT "SELECT icos.product_info($1)"

/* POST /api/orders */
#define SERVE_SQL_PLACE \
	"SELECT pg_catalog.jsonb_build_object('code'," \
	"       icos.place_order($1::jsonb)::text)"

#endif							/* ICOS_SERVE_SQL_H */
