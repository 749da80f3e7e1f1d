-- icos 0.3.0: the errors of this database by SQLSTATE (src/error_counts.c),
-- for monitoring refusals by kind (docs/monitoring.md).
CREATE FUNCTION icos.error_counts()
RETURNS TABLE(sqlstate text, errors bigint)
AS 'MODULE_PATHNAME', 'error_counts'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION icos.error_counts() IS
'The errors that ended a statement of this database (its sessions and workers) since the server started, one row per SQLSTATE (IC001 out of stock, 22023 a bad document, IC002 a change not allowed now...): every error that ended a statement and was written to the server log; those caught on the way (an EXCEPTION block) are not counted.  A row with sqlstate NULL counts errors of any database beyond the 256 (database, SQLSTATE) pairs the server keeps.  Needs icos in shared_preload_libraries (55000 otherwise).';
REVOKE ALL ON FUNCTION icos.error_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION icos.error_counts() TO icos_reporter, icos_admin;
