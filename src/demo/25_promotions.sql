-- This week's promotions from head office
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- Promotions are rows with a JSON rule, written by head office with plain
-- SQL; the rule is validated as it is written.  They run Monday to Sunday.
INSERT INTO icos.promotion (promotion_id, name, kind, rule, starts_at, ends_at, priority)
SELECT id, name, kind, rule::jsonb, date_trunc('week', now()), date_trunc('week', now()) + interval '7 days', prio
FROM (VALUES
	(1, 'Televisions: buy one, get 25% off another', 'buy_get',
	 '{"buy": {"category": [41]}, "buy_qty": 1, "get_qty": 1, "percent": 25}', 10),
	(2, 'Meal deal: sandwich, drink and snack for 5.00', 'bundle',
	 '{"items": [{"category": [24]}, {"category": [23]}, {"category": [25]}], "price": 5.00}', 5),
	(3, 'Bakery: 3 for 4.00', 'multibuy',
	 '{"target": {"category": [21]}, "qty": 3, "price": 4.00}', 0),
	(4, 'Home: spend 50.00, save 10.00', 'spend_threshold',
	 '{"target": {"category": [3]}, "min_spend": 50.00, "amount": 10.00}', 0),
	(5, 'Small appliances: 20% off', 'percent_off',
	 '{"target": {"category": [43]}, "percent": 20}', 0)
) v(id, name, kind, rule, prio);
\pset footer off
SELECT day, name, description FROM icos.offers(current_date) ORDER BY promotion_id;
\echo 'A rule head office gets wrong is refused as it is written, naming the bad key:'
\set ON_ERROR_STOP 0
INSERT INTO icos.promotion (promotion_id, name, kind, rule)
VALUES (6, 'Typo', 'percent_off', '{"target": {"category": [43]}, "percentage": 20}');
\set ON_ERROR_STOP 1
