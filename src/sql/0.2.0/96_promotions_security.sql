-- icos 0.2.0: privileges of the promotion objects (50_promotions.sql).  Runs
-- after 90_security.sql, which has already revoked PUBLIC's EXECUTE on every
-- internal and SECURITY DEFINER function of the schema (and granted
-- icos.price_basket to agents and reporters).
--
--   icos_agent, icos_manager, icos_reporter   read promotions and the diary
--   icos_admin                                also maintains promotions with plain SQL
--
-- icos.price_basket runs as its caller (it is not SECURITY DEFINER): it reads
-- icos.product, icos.category and icos.promotion, which these roles may read.

REVOKE ALL ON icos.promotion FROM PUBLIC;
GRANT SELECT ON icos.promotion TO icos_agent, icos_reporter;
GRANT INSERT, UPDATE, DELETE ON icos.promotion TO icos_admin;

-- price_basket is granted to agents and reporters by 90_security.sql; it is
-- not SECURITY DEFINER, so that file's sweep did not take it from PUBLIC.
REVOKE ALL ON FUNCTION icos.price_basket(jsonb), icos.offers(date, date, int),
	icos.promotion_description(text, jsonb, text, int)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION icos.offers(date, date, int), icos.promotion_description(text, jsonb, text, int)
	TO icos_agent, icos_reporter;
-- The diary's helpers run as the reader.
GRANT EXECUTE ON FUNCTION icos._promotion_money(jsonb), icos._promotion_percent(jsonb),
	icos._promotion_match_text(jsonb)
	TO icos_agent, icos_reporter;
