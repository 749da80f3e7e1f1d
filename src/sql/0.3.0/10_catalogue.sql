-- icos 0.3.0: catalogue.  Bounds on what head office may save in a product
-- (docs/changes.md, "Products"): the admin role writes icos.product with
-- plain SQL, so the bounds are table CHECK constraints, refused with 23514
-- naming the constraint.
--
--   product_lead_time_days_check  0 to 3650 days.  A lead time of
--       2147483647 days was accepted, and every later order of the product
--       failed with 22008 (date out of range) computing its promised date.
--   product_name_check            not blank, at most 200 characters.
--   product_description_check     at most 4000 characters.
--
-- A database upgraded from 0.2.0 may already hold a product outside these
-- bounds.  The constraints are then left NOT VALID (new and changed rows are
-- checked all the same) and a warning names them: correct the products and
-- run ALTER TABLE icos.product VALIDATE CONSTRAINT ... yourself.

ALTER TABLE icos.product
	DROP CONSTRAINT product_lead_time_days_check,
	ADD CONSTRAINT product_lead_time_days_check CHECK (lead_time_days >= 0 AND lead_time_days <= 3650) NOT VALID,
	DROP CONSTRAINT product_name_check,
	ADD CONSTRAINT product_name_check
		CHECK (pg_catalog.btrim(name) <> '' AND pg_catalog.length(name) <= 200) NOT VALID,
	ADD CONSTRAINT product_description_check CHECK (pg_catalog.length(description) <= 4000) NOT VALID;

DO $validate$
DECLARE
	c text;
BEGIN
	FOR c IN SELECT unnest(ARRAY['product_lead_time_days_check', 'product_name_check',
								 'product_description_check']) LOOP
		BEGIN
			EXECUTE pg_catalog.format('ALTER TABLE icos.product VALIDATE CONSTRAINT %I', c);
		EXCEPTION WHEN check_violation THEN
			RAISE WARNING USING
				MESSAGE = pg_catalog.format('products break the new constraint %s, left NOT VALID', c),
				DETAIL = 'New and changed products are checked; the existing ones were kept as they are.',
				HINT = pg_catalog.format('Correct them, then run ALTER TABLE icos.product VALIDATE CONSTRAINT %s.', c);
		END;
	END LOOP;
END
$validate$;

COMMENT ON CONSTRAINT product_lead_time_days_check ON icos.product IS
	'A lead time is 0 to 3650 days (ten years): the promised date of an order stays a real date';
COMMENT ON CONSTRAINT product_name_check ON icos.product IS
	'A product name is not blank and at most 200 characters (receipts print the first 40)';
COMMENT ON CONSTRAINT product_description_check ON icos.product IS
	'A product description is at most 4000 characters';
COMMENT ON COLUMN icos.product.lead_time_days IS
	'days to obtain the product when no store has it (supplier or manufacture), 0 to 3650';
