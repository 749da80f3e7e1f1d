-- icos 0.2.0: privileges of the reporting objects (60_reports.sql).  Runs
-- after 90_security.sql, which has already revoked PUBLIC's EXECUTE on every
-- internal and SECURITY DEFINER function of the schema, ours included.
--
--   icos_reporter  reads the report views and the rollup, runs reports
--   icos_manager   runs reports on its own store (sales_report enforces it)
--   icos_admin     also schedules the rollup and sets the reporting time zone
--
-- Nobody but the extension owner writes the rollup, its deltas or its
-- state: the trigger and the fold run as the owner.

REVOKE ALL ON icos.sales_rollup, icos.sales_delta, icos.sales_rollup_state, icos.sales_lines,
	icos.category_path
	FROM PUBLIC;

GRANT SELECT ON icos.sales_lines, icos.sales_rollup, icos.sales_rollup_state TO icos_reporter;
GRANT SELECT ON icos.category_path TO icos_agent, icos_reporter;
-- icos.sales_lines runs as its reader (security_invoker) and formats money.
GRANT EXECUTE ON FUNCTION icos._pounds(bigint) TO icos_reporter;

GRANT EXECUTE ON FUNCTION icos.sales_report(timestamptz, timestamptz, text, int, text)
	TO icos_reporter, icos_manager, icos_admin;
GRANT EXECUTE ON FUNCTION icos.rollup_sales(), icos.rebuild_sales_rollup() TO icos_admin;
GRANT SELECT, UPDATE (time_zone) ON icos.sales_rollup_state TO icos_admin;
