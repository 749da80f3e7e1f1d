BEGIN;
SELECT plan(1);
SELECT has_schema('icos');
SELECT * FROM finish();
ROLLBACK;
