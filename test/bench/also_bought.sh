#!/usr/bin/env bash
# Benchmarks of "also bought" (docs/customers.md), on the bench cluster:
#   1. icos.also_bought(upc, 5) over ICOS_BENCH_LINES order lines (default
#      5,000,000; three lines an order, 2,000 products), all folded, then with
#      300 orders pending (not folded): median and 95th percentile of 200
#      calls on different products.  Target: median under 5 ms.
#   2. The maintenance trigger on order lines, C (src/also_bought.c) versus
#      the PL/pgSQL trigger it replaced, versus no trigger: 200,000 lines
#      inserted into scratch tables of the bench schema, interleaved round
#      by round; the cost per line of each trigger.
# The data is generated with INSERT ... SELECT straight into the tables (as
# superuser) with the order-line triggers off; icos.rollup_baskets() then
# folds every order.
set -u
. "$(dirname "$0")/../../src/tools/common.sh"
LINES=${ICOS_BENCH_LINES:-5000000}
DB=icos_bench
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $DB "$@"; }

say "generating $LINES order lines (2000 products, three lines an order)"
t0=$(date +%s)
q <<SQL || exit 1
SET client_min_messages = warning;
INSERT INTO icos.store (store_id, name, kind) VALUES (9700, 'Bench basket store', 'store') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS bench.bproducts(n int PRIMARY KEY, upc icos.upc NOT NULL);
TRUNCATE bench.bproducts;
INSERT INTO bench.bproducts
SELECT n, (d || (10 - (SELECT sum(substr(d, i, 1)::int * CASE WHEN i % 2 = 0 THEN 3 ELSE 1 END)
					   FROM generate_series(1, 12) i) % 10) % 10)::icos.upc
FROM (SELECT n, '5097' || lpad(n::text, 8, '0') AS d FROM generate_series(1, 2000) n) x;
INSERT INTO icos.product (upc, name, price) SELECT upc, 'Bench basket item ' || n, 9.99 FROM bench.bproducts
ON CONFLICT DO NOTHING;
ALTER TABLE icos.order_line DISABLE TRIGGER USER;
CREATE TABLE bench.borders AS
SELECT n, icos.next_order_code() AS code FROM generate_series(1, ($LINES + 2) / 3) n;
INSERT INTO icos.orders (code, store_id, channel, status, placed_at, delivery_method, promised_date, updated_at)
SELECT code, 9700, 'pos', 'completed', now(), 'carry', current_date, now() FROM bench.borders;
-- Products drawn with a skew (the low numbers sell most), so pairs repeat.
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, consumed_qty, returned_qty,
							 unit_price_pence, discount_pence, net_pence)
SELECT 9700, o.code, ln, p.upc, 1, 9700, 'fulfilled', 1, 0, 999, 0, 999
FROM bench.borders o
CROSS JOIN generate_series(1, 3) ln
JOIN bench.bproducts p ON p.n = 1 + ((o.n::bigint * 7919 + ln * 104729) % 2000) * ((o.n::bigint * ln) % 7 + 1) / 7
WHERE (o.n - 1) * 3 + ln <= $LINES;
ALTER TABLE icos.order_line ENABLE TRIGGER USER;
ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER basket_delta_ins;
ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER basket_delta_upd;
INSERT INTO icos.basket_delta (code, store_id) SELECT code, 9700 FROM bench.borders;
ANALYZE icos.orders; ANALYZE icos.order_line;
SQL
say "data loaded in $(( $(date +%s) - t0 ))s; folding every order"
t0=$(date +%s)
folded=$(q -c 'SELECT icos.rollup_baskets()') || exit 1
# What autovacuum does after a fold: the fold deleted every pending row.
q -c 'VACUUM ANALYZE icos.basket_delta' -c 'ANALYZE icos.basket_pair' -c 'ANALYZE icos.basket_seen' || exit 1
say "folded in $(( $(date +%s) - t0 ))s: $folded"

# 200 calls, one per product (every 10th), in one session: median and p95.
calls() {
	q <<'SQL'
CREATE TEMP TABLE t(ms float8);
DO $$
DECLARE
	u icos.upc;
	t0 timestamptz;
BEGIN
	FOR u IN SELECT p.upc FROM bench.bproducts p WHERE p.n % 10 = 1 ORDER BY p.n LOOP
		t0 := clock_timestamp();
		PERFORM count(*) FROM icos.also_bought(u, 5);
		INSERT INTO t VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
	END LOOP;
END
$$;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) || '|'
	   || round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2) || '|' || count(*) FROM t;
SQL
}
folded_ms=$(calls) || exit 1
say "300 orders pending (placed through the trigger, not folded)"
q <<'SQL' || exit 1
CREATE TABLE bench.bpending AS SELECT n, icos.next_order_code() AS code FROM generate_series(1, 300) n;
INSERT INTO icos.orders (code, store_id, channel, status, placed_at, delivery_method, promised_date, updated_at)
SELECT code, 9700, 'pos', 'completed', now(), 'carry', current_date, now() FROM bench.bpending;
ALTER TABLE icos.order_line DISABLE TRIGGER sales_delta_ins;
INSERT INTO icos.order_line (store_id, code, line, upc, qty, fulfil_from, status, consumed_qty, returned_qty,
							 unit_price_pence, discount_pence, net_pence)
SELECT 9700, o.code, ln, p.upc, 1, 9700, 'fulfilled', 1, 0, 999, 0, 999
FROM bench.bpending o CROSS JOIN generate_series(1, 3) ln
JOIN bench.bproducts p ON p.n = 1 + (o.n * 31 + ln * 577) % 2000;
ALTER TABLE icos.order_line ENABLE ALWAYS TRIGGER sales_delta_ins;
ANALYZE icos.basket_delta;
SQL
pending_ms=$(calls) || exit 1
all_lines=$(q -c 'SELECT count(*) FROM icos.order_line') || exit 1

say "the trigger: C, PL/pgSQL, none; 200,000 lines each, 5 rounds interleaved"
q <<'SQL' >"$RUNDIR/bench-also-bought-trigger" || exit 1
SET client_min_messages = warning;
CREATE TABLE bench.basket_delta (code icos.order_code NOT NULL, store_id int NOT NULL);
CREATE TABLE bench.lines_c (code icos.order_code NOT NULL, store_id int NOT NULL, upc icos.upc NOT NULL);
CREATE TABLE bench.lines_p (LIKE bench.lines_c);
CREATE TABLE bench.lines_none (LIKE bench.lines_c);
-- The PL/pgSQL trigger of before (schema-qualified the same way).
CREATE FUNCTION bench.basket_changed_plpgsql() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		INSERT INTO bench.basket_delta (code, store_id) VALUES (OLD.code, OLD.store_id);
	END IF;
	IF TG_OP <> 'DELETE' THEN
		INSERT INTO bench.basket_delta (code, store_id) VALUES (NEW.code, NEW.store_id);
	END IF;
	RETURN NULL;
END
$$;
-- icos._basket_changed writes to basket_delta of the table's own schema.
CREATE TRIGGER c AFTER INSERT ON bench.lines_c FOR EACH ROW EXECUTE FUNCTION icos._basket_changed();
CREATE TRIGGER p AFTER INSERT ON bench.lines_p FOR EACH ROW EXECUTE FUNCTION bench.basket_changed_plpgsql();
CREATE TABLE bench.lsrc AS
SELECT icos.next_order_code() AS code, 9700 AS store_id, p.upc
FROM generate_series(1, 200000) i JOIN bench.bproducts p ON p.n = 1 + i % 2000;
SELECT name, median_ms FROM bench.compare(jsonb_build_object(
	'c', 'TRUNCATE bench.lines_c, bench.basket_delta; INSERT INTO bench.lines_c SELECT * FROM bench.lsrc',
	'plpgsql', 'TRUNCATE bench.lines_p, bench.basket_delta; INSERT INTO bench.lines_p SELECT * FROM bench.lsrc',
	'none', 'TRUNCATE bench.lines_none, bench.basket_delta; INSERT INTO bench.lines_none SELECT * FROM bench.lsrc'), 5)
ORDER BY 1;
SQL

awk -F'|' -v lines="$all_lines" -v gen="$LINES" -v f="$folded_ms" -v p="$pending_ms" '
	{ ms[$1] = $2 }
	END {
		split(f, a, "|"); split(p, b, "|");
		print "";
		printf "Order lines in the database: %d (of them %s generated here, three an order, 2000 products); icos.also_bought(upc, 5), %d calls (ms).\n\n", lines, gen, a[3];
		print "| case | median ms | p95 ms | target |";
		print "|---|---:|---:|---|";
		printf "| all folded | %.2f | %.2f | median < 5 ms: %s |\n", a[1], a[2], (a[1] < 5 ? "met" : "MISSED");
		printf "| 300 orders pending | %.2f | %.2f | median < 5 ms: %s |\n", b[1], b[2], (b[1] < 5 ? "met" : "MISSED");
		c = ms["c"] - ms["none"]; pl = ms["plpgsql"] - ms["none"];
		print "";
		print "| trigger on 200,000 inserted lines | median ms | trigger cost per line | vs PL/pgSQL |";
		print "|---|---:|---:|---:|";
		printf "| none | %.1f | | |\n", ms["none"];
		printf "| PL/pgSQL (before) | %.1f | %.2f us | 1.00 |\n", ms["plpgsql"], pl * 1000 / 200000;
		printf "| C (src/also_bought.c) | %.1f | %.2f us | %.2f |\n", ms["c"], c * 1000 / 200000, (pl > 0 ? c / pl : 0);
		exit((a[1] < 5 && b[1] < 5) ? 0 : 1);
	}' "$RUNDIR/bench-also-bought-trigger"
