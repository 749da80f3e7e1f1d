-- icos 0.3.0: privileges of the objects this version adds.  As in 0.2.0,
-- PUBLIC may execute nothing that is SECURITY DEFINER and nothing internal
-- (name starting with "_"); this file comes last, so it covers every
-- function the files before it create.  Grants by role follow.
DO $revoke$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace = 'icos'::regnamespace
			   AND (p.prosecdef OR p.proname LIKE '\_%')
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$revoke$;
