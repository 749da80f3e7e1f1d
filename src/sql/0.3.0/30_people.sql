-- icos 0.3.0: customers without races.  A customer given by details is
-- found or created by one statement (src/order_customer.c): INSERT ... ON
-- CONFLICT on the key that identifies her, so a new customer's concurrent
-- orders make one customer row; found, her name, e-mail, phone and
-- addresses are never overwritten.  The JSON reading rules the customer
-- functions share with the order engine are its C functions
-- (src/order_json.c, src/order_read.c).

-- A customer known only by phone is matched by it like an e-mail address:
-- one such customer per phone number per registering node (the top bits of
-- customer_id, as customer_email_key: head office receives every node's
-- customers, so a key over all nodes would stop replication there).
ALTER TABLE icos.customer ADD COLUMN phone_only boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN icos.customer.phone_only IS
	'Registered with a phone number and no e-mail address: the customer a phone-only order of her node matches (customer_phone_key)';
-- Customers registered before 0.3.0 may share a phone: the first of each
-- such group (lowest id) becomes the one matched; the same rows on every
-- node, so a node and head office agree.
UPDATE icos.customer c SET phone_only = true
 WHERE c.email IS NULL AND c.phone IS NOT NULL
   AND c.customer_id = (SELECT min(c2.customer_id) FROM icos.customer c2
						 WHERE c2.email IS NULL AND c2.phone = c.phone
						   AND (c2.customer_id >> 40) = (c.customer_id >> 40));
CREATE UNIQUE INDEX customer_phone_key ON icos.customer (phone, (customer_id >> 40)) WHERE phone_only;
COMMENT ON INDEX icos.customer_phone_key IS
	'One customer known only by phone per phone number among those a node registered (customer_id >> 40 is the node)';

CREATE OR REPLACE FUNCTION icos._norm_phone(p_phone text) RETURNS text
AS 'MODULE_PATHNAME', 'norm_phone'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._norm_phone(text) IS
	'A phone number without spaces, brackets, dots and hyphens (src/order_json.c)';

CREATE FUNCTION icos._email(p_email text) RETURNS text
AS 'MODULE_PATHNAME', 'customer_email'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._email(text) IS
	'A customer''s e-mail address as stored: checked as text of kind email (22001, IC003), lower-cased, name@domain without spaces or invisible characters (22023); the rule of place_order, upsert_customer and update_customer (src/order_json.c)';

CREATE FUNCTION icos._phone(p_phone text) RETURNS text
AS 'MODULE_PATHNAME', 'customer_phone'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION icos._phone(text) IS
	'A customer''s phone number as stored: checked as text of kind phone (22001, IC003), without spaces, brackets, dots and hyphens, 6 to 15 digits with an optional leading + (22023); the rule of place_order, upsert_customer and update_customer (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._json_text(p_obj jsonb, p_key text, p_what text) RETURNS text
AS 'MODULE_PATHNAME', 'json_text'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._json_text(jsonb, text, text) IS
	'The text value of a key, trimmed of spaces (null when absent or blank); 22023 when it is not a JSON string (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._address(p_addr jsonb, p_what text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'json_address'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION icos._address(jsonb, text) IS
	'Validates and normalises an address object (line1, line2, town, postcode; postcode in capitals): 22023 when malformed, 22001 when a field is over its limit, IC003 for a card number (src/order_json.c)';

CREATE OR REPLACE FUNCTION icos._upsert_customer(p_customer jsonb, p_store int) RETURNS bigint
AS 'MODULE_PATHNAME', 'upsert_customer_c'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION icos._upsert_customer(jsonb, int) IS
	'The customer of these details (keys name, email, phone, address): found among this node''s customers by e-mail, else phone, and left unchanged; else created (registered at p_store, with her address) by the same statement, which concurrent calls cannot duplicate (src/order_customer.c)';

COMMENT ON FUNCTION icos.upsert_customer(jsonb) IS
	'Finds a customer (by e-mail, else phone) or registers a new one, and returns her id; keys name, email, phone, address.  A customer found is not changed (icos.update_customer changes customers)';
