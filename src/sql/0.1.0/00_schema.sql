-- icos 0.1.0: product codes (icos.upc) and order codes (icos.order_code).
-- The schema itself is created by CREATE EXTENSION (icos.control names it).

COMMENT ON SCHEMA icos IS 'icos: integrated customer ordering service';
