#!/usr/bin/env bash
# Benchmarks of the ordering core, with pgbench on the bench cluster:
#   1. place_order, 8 clients, -M prepared, as a ratio of pgbench's built-in
#      tpcb-like transaction on the same instance:
#      - till sale: 3 lines carried out, paid in cash (target >= 0.75);
#      - web order: a named returning customer given by her details with an
#        address, home delivery, 3 lines the server finds in a store of this
#        node, a card payment with a reference (target >= 0.5);
#      - phone order: the same from the call centre, one of its 3 lines
#        from a store of another node (a reservation request): reported;
#   2. hot product: 16 clients all ordering one UPC versus 16 clients each
#      ordering its own UPC (target: hot >= 0.5x spread), then proves nothing
#      was oversold: verify_stock() is empty and units sold + available equal
#      the units received;
#   3. an order changed: a web order placed, a line added (edit_order) and
#      the order cancelled (cancel_order), one transaction, against a
#      tpcb-like run next to it, twice: reported;
#   4. memory: one backend places 1,000 and then ICOS_BENCH_MEMORY_ORDERS
#      web orders (default 100,000), each its own transaction; its private
#      resident memory (RssAnon) after the first 1,000 and at the end.
# Runs are interleaved, the order of the workloads turning round by round.
# Each ratio is taken per round (a tpcb-like run and the order runs next to
# it, so all saw the same load on a shared machine) and the median of the
# rounds' ratios is reported (ICOS_BENCH_ROUNDS rounds, default 9); the hot
# product case keeps the mean of two pairs.
set -u
. "$(dirname "$0")/../../src/tools/common.sh"
SECS=${ICOS_BENCH_SECONDS:-15}
ROUNDS=${ICOS_BENCH_ROUNDS:-9}
DB=icos_bench
W=$RUNDIR/bench-work
rm -rf "$W"; mkdir -p "$W"

psql -q -X -d postgres -c 'SET client_min_messages = warning' \
	-c 'DROP DATABASE IF EXISTS icos_tpcb' -c 'CREATE DATABASE icos_tpcb' || exit 1
pgbench -q -i -s 16 icos_tpcb >/dev/null 2>&1 || { echo "pgbench -i failed"; exit 1; }

say "loading the catalogue: 600 stores, 20,000 products, 200 of them stocked in store 10"
psql -q -X -d $DB -v ON_ERROR_STOP=1 -f "$(dirname "$0")/orders_catalogue.sql" >/dev/null || exit 1

# The product codes are inlined as an array constant, so each call costs
# place_order and not a look-up of the benchmark's own table; statements are
# prepared once per connection (-M prepared), as a till or web application
# with a connection pool sends them, for tpcb-like alike.
upcs=$(psql -X -At -d $DB -c "SELECT string_agg(quote_literal(upc::text), ',' ORDER BY n) FROM bench.products")
cat >"$W/place_order.sql" <<EOT
\\set a random(1, 200)
\\set b random(1, 200)
\\set c random(1, 200)
SELECT icos.place_order(jsonb_build_object(
	'store', 10, 'channel', 'pos',
	'lines', jsonb_build_array(
		jsonb_build_object('upc', (ARRAY[$upcs])[:a], 'qty', 1),
		jsonb_build_object('upc', (ARRAY[$upcs])[:b], 'qty', 2),
		jsonb_build_object('upc', (ARRAY[$upcs])[:c], 'qty', 1)),
	'delivery', jsonb_build_object('method', 'carry'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'cash', 'amount', 500.00))));
EOT
# The web order (web_order.sh).
. "$(dirname "$0")/web_order.sh"
web_order_script "$upcs" >"$W/web.sql"
# The phone order: its third line from the store of node 7 (603).
cat >"$W/phone.sql" <<EOT
\\set a random(1, 200)
\\set b random(1, 200)
\\set c random(1, 200)
\\set k random(1, 10000)
SELECT icos.place_order(jsonb_build_object(
	'store', 602, 'channel', 'phone',
	'customer', jsonb_build_object('name', 'Bench Customer ' || :k, 'email', 'customer' || :k || '@example.com'),
	'lines', jsonb_build_array(
		jsonb_build_object('upc', (ARRAY[$upcs])[:a], 'qty', 1),
		jsonb_build_object('upc', (ARRAY[$upcs])[:b], 'qty', 2),
		jsonb_build_object('upc', (ARRAY[$upcs])[:c], 'qty', 1, 'fulfil_from', 603)),
	'delivery', jsonb_build_object('method', 'home'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'visa', 'amount', 1.00, 'reference', 'auth ' || :k))));
EOT
# The order changed: placed as on the web, a fourth line added, cancelled.
cat >"$W/edit.sql" <<EOT
\\set a random(1, 200)
\\set b random(1, 200)
\\set c random(1, 200)
\\set d random(1, 200)
\\set k random(1, 10000)
SELECT icos.place_order(jsonb_build_object(
	'store', 601, 'channel', 'web',
	'customer', jsonb_build_object('name', 'Bench Customer ' || :k, 'email', 'customer' || :k || '@example.com'),
	'lines', jsonb_build_array(
		jsonb_build_object('upc', (ARRAY[$upcs])[:a], 'qty', 1),
		jsonb_build_object('upc', (ARRAY[$upcs])[:b], 'qty', 2),
		jsonb_build_object('upc', (ARRAY[$upcs])[:c], 'qty', 1)),
	'delivery', jsonb_build_object('method', 'home'))) AS code \\gset
SELECT icos.edit_order(:code, jsonb_build_object('add_lines',
	jsonb_build_array(jsonb_build_object('upc', (ARRAY[$upcs])[:d], 'qty', 1)))) IS NOT NULL;
SELECT icos.cancel_order(:code, 'bench: changed, then cancelled') IS NOT NULL;
EOT
cat >"$W/hot.sql" <<EOT
SELECT icos.place_order(jsonb_build_object('store', 10, 'channel', 'pos',
	'lines', jsonb_build_array(jsonb_build_object('upc', (ARRAY[$upcs])[1], 'qty', 1)),
	'delivery', jsonb_build_object('method', 'carry'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'cash', 'amount', 100.00))));
EOT
cat >"$W/spread.sql" <<EOT
SELECT icos.place_order(jsonb_build_object('store', 10, 'channel', 'pos',
	'lines', jsonb_build_array(jsonb_build_object('upc', (ARRAY[$upcs])[1 + :client_id], 'qty', 1)),
	'delivery', jsonb_build_object('method', 'carry'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'cash', 'amount', 100.00))));
EOT

# Throughput between checkpoints, as a server tuned for the peak runs
# (checkpoints minutes apart): no checkpoint during the benchmark, one before
# it, then an unmeasured warm-up run of each workload, so that neither
# measured run pays the full-page images of the first writes after a
# checkpoint (random order codes make those heavy for orders: a leaf page of
# each index per order until every leaf has been written once).  A
# checkpoint starting in the middle of a run would otherwise make that run,
# whichever case it measures, the slow one of its round.
psql -q -X -d postgres -c "ALTER SYSTEM SET max_wal_size = '16GB'" \
	-c "ALTER SYSTEM SET checkpoint_timeout = '1h'" -c "SELECT pg_reload_conf()" >/dev/null ||
	die "could not set the checkpoint settings"
trap 'psql -q -X -d postgres -c "ALTER SYSTEM RESET max_wal_size" \
	-c "ALTER SYSTEM RESET checkpoint_timeout" -c "SELECT pg_reload_conf()" >/dev/null' EXIT

tps() {				# tps DB CLIENTS SCRIPT|builtin
	local db=$1 c=$2 s=$3 out
	if [ "$s" = builtin ]; then
		out=$(pgbench -n -M prepared -c "$c" -j 2 -T "$SECS" -b tpcb-like "$db" 2>&1)
	else
		out=$(pgbench -n -M prepared -c "$c" -j 2 -T "$SECS" -f "$s" "$db" 2>&1)
	fi
	# An aborted run measures nothing: say so and stop.
	if echo "$out" | grep -q 'aborted'; then
		echo "$out" | grep -iE 'error' | head -3 >&2
		die "pgbench run of $s aborted"
	fi
	echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

psql -q -X -d postgres -c CHECKPOINT || die "checkpoint failed"
say "warm-up: one unmeasured run of each workload"
SECS=5 tps icos_tpcb 8 builtin >/dev/null
SECS=5 tps $DB 8 "$W/place_order.sql" >/dev/null
SECS=5 tps $DB 8 "$W/web.sql" >/dev/null
SECS=5 tps $DB 8 "$W/phone.sql" >/dev/null
SECS=5 tps $DB 8 "$W/edit.sql" >/dev/null
say "place_order vs tpcb-like, 8 clients, ${SECS}s each, $ROUNDS interleaved rounds; load: $(cut -d' ' -f1-3 /proc/loadavg)"
ts=""; ps=""; ws=""; hs=""
for r in $(seq 1 "$ROUNDS"); do
	# the order of the workloads turns round by round, so that none always
	# runs in another's wake (its autovacuum, its dirty buffers)
	for i in 0 1 2 3; do
		case $(( (i + r) % 4 )) in
			0) t=$(tps icos_tpcb 8 builtin) ;;
			1) p=$(tps $DB 8 "$W/place_order.sql") ;;
			2) w=$(tps $DB 8 "$W/web.sql") ;;
			3) h=$(tps $DB 8 "$W/phone.sql") ;;
		esac
	done
	ts="$ts $t"; ps="$ps $p"; ws="$ws $w"; hs="$hs $h"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
say "hot product vs spread products, 16 clients, ${SECS}s each, interleaved twice"
s1=$(tps $DB 16 "$W/spread.sql"); h1=$(tps $DB 16 "$W/hot.sql")
s2=$(tps $DB 16 "$W/spread.sql"); h2=$(tps $DB 16 "$W/hot.sql")
say "an order changed (placed, a line added, cancelled) vs tpcb-like, 8 clients, twice"
et1=$(tps icos_tpcb 8 builtin); e1=$(tps $DB 8 "$W/edit.sql")
e2=$(tps $DB 8 "$W/edit.sql"); et2=$(tps icos_tpcb 8 builtin)

# Memory: one backend (one psql session) places the web orders, each
# statement its own transaction; its private resident memory is read from
# /proc/self/status after the first 1,000 and after all of them.
MEM_ORDERS=${ICOS_BENCH_MEMORY_ORDERS:-100000}
say "memory: one backend placing 1,000 and then $MEM_ORDERS more web orders"
psql -q -X -d $DB -v ON_ERROR_STOP=1 -c "CREATE OR REPLACE FUNCTION bench.rss_anon_kb() RETURNS bigint
	LANGUAGE sql AS \$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\\s+(\\d+)'))[1]::bigint \$\$" ||
	die "memory function setup failed"
psql -X -At -d $DB -v n="$MEM_ORDERS" >"$W/memory.sql" <<'SQL' || die "writing the memory run failed"
WITH p AS (SELECT array_agg(upc::text ORDER BY n) AS u FROM bench.products)
SELECT line FROM (
	SELECT i, CASE WHEN i = 1001 THEN 'SELECT ''rss '' || bench.rss_anon_kb();' ELSE '' END
		|| format('SELECT icos.place_order(jsonb_build_object(''store'', 601, ''channel'', ''web'','
		' ''customer'', jsonb_build_object(''name'', ''Bench Customer %s'', ''email'', ''customer%s@example.com'','
		' ''address'', jsonb_build_object(''line1'', ''customer%s High Street'', ''town'', ''Leeds'', ''postcode'', ''LS1 1AA'')),'
		' ''lines'', jsonb_build_array(jsonb_build_object(''upc'', %L, ''qty'', 1),'
		' jsonb_build_object(''upc'', %L, ''qty'', 2), jsonb_build_object(''upc'', %L, ''qty'', 1)),'
		' ''delivery'', jsonb_build_object(''method'', ''home''),'
		' ''payments'', jsonb_build_array(jsonb_build_object(''method'', ''visa'', ''amount'', 1.00, ''reference'', ''auth %s''))));',
		k, k, k, u[1 + (i * 7) % 200], u[1 + (i * 13 + 5) % 200], u[1 + (i * 29 + 11) % 200], k) AS line
	FROM p, generate_series(1, 1000 + :n) i, LATERAL (SELECT 1 + (i * 7919) % 10000 AS k) c
	UNION ALL SELECT 2000000000, 'SELECT ''rss '' || bench.rss_anon_kb();') x
ORDER BY i;
SQL
mem=$(psql -X -At -q -v ON_ERROR_STOP=1 -d $DB -f "$W/memory.sql" | sed -n 's/^rss //p' | tr '\n' ' ') ||
	die "the memory run failed"
rm -f "$W/memory.sql"
mem_before=$(echo "$mem" | awk '{print $1}'); mem_after=$(echo "$mem" | awk '{print $2}')

problems=$(psql -X -At -d $DB -c 'SELECT count(*) FROM icos.verify_stock()')
# Every unit received is either still on hand or left in a sold line, and
# every reserved unit belongs to a line: nothing oversold, nothing lost.
oversold=$(psql -X -At -d $DB -c "
	WITH sold AS (
		SELECT l.upc, sum(l.consumed_qty - l.returned_qty) AS gone, sum(l.reserved_qty) AS held
		FROM icos.order_line l WHERE l.fulfil_from = 10 GROUP BY l.upc)
	SELECT count(*) FROM icos.stock s JOIN bench.products b ON b.upc = s.upc
	LEFT JOIN sold ON sold.upc = s.upc
	WHERE s.store_id = 10 AND (s.available < 0
		OR s.on_hand + coalesce(sold.gone, 0) <> 1000000
		OR s.reserved <> coalesce(sold.held, 0))")

awk -v ts="$ts" -v ps="$ps" -v ws="$ws" -v hs="$hs" -v s1="$s1" -v s2="$s2" \
	-v h1="$h1" -v h2="$h2" -v e1="$e1" -v e2="$e2" -v et1="$et1" -v et2="$et2" -v problems="$problems" -v oversold="$oversold" \
	-v mb="$mem_before" -v ma="$mem_after" -v mn="$MEM_ORDERS" \
	-v l0="$(cut -d' ' -f1-3 /proc/loadavg)" -v l1="$load_after" '
	# one workload against tpcb-like: tps and ratio per round, median ratio
	function row(name, xs, target,    n, i, j, v, x, r, xr, rr, m) {
		n = split(ts, t, " "); split(xs, x, " ");
		xr = ""; rr = "";
		for (i = 1; i <= n; i++) {
			r[i] = x[i] / t[i];
			xr = xr (i > 1 ? ", " : "") sprintf("%.0f", x[i]);
			rr = rr (i > 1 ? ", " : "") sprintf("%.2f", r[i]);
		}
		for (i = 2; i <= n; i++) { v = r[i]; for (j = i - 1; j >= 1 && r[j] > v; j--) r[j + 1] = r[j]; r[j + 1] = v; }
		m = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2;
		printf "| place_order 8 clients | %s | %s | %s | %.2f | %s |\n", name, xr, rr, m,
			target == 0 ? "reported" : sprintf(">= %.2f: %s", target, (m >= target ? "met" : "MISSED"));
	}
	BEGIN {
	n = split(ts, t, " "); tr = "";
	for (i = 1; i <= n; i++) tr = tr (i > 1 ? ", " : "") sprintf("%.0f", t[i]);
	s = (s1 + s2) / 2; h = (h1 + h2) / 2;
	print "";
	printf "load average (1, 5, 15 min): %s after the rounds, %s at the end\n", l1, l0;
	print "";
	print "| benchmark | case | tps per round | ratio per round | ratio (median) | target |";
	print "|---|---|---|---|---:|---|";
	printf "| place_order 8 clients | tpcb-like (reference) | %s | | 1.00 | reference |\n", tr;
	row("till sale: 3 lines carried out, cash", ps, 0.75);
	row("web order: returning customer by details, home, 3 lines, card with reference", ws, 0.5);
	row("phone order: as web, one line from another node (request)", hs, 0);
	printf "| hot product 16 clients | 16 different UPCs (reference) | %.0f, %.0f | | 1.00 | reference |\n", s1, s2;
	printf "| hot product 16 clients | one UPC for all | %.0f, %.0f | | %.2f (means) | >= 0.5: %s |\n", h1, h2, h / s, (h / s >= 0.5 ? "met" : "MISSED");
	printf "| order changed 8 clients | place (web, 3 lines) + edit_order adding a line + cancel_order, one transaction; tpcb-like next to it | %.0f, %.0f (tpcb-like %.0f, %.0f) | %.2f, %.2f | %.2f (means) | reported |\n", e1, e2, et1, et2, e1 / et1, e2 / et2, (e1 + e2) / (et1 + et2);
	printf "| invariants after the runs | verify_stock() rows; products oversold or miscounted | %d; %d | | | 0; 0: %s |\n", problems, oversold, (problems == 0 && oversold == 0 ? "met" : "MISSED");
	printf "| memory of one backend | RssAnon after 1,000 web orders; after %d more | %d kB; %d kB | | %+d kB | no growth |\n", mn, mb, ma, ma - mb;
}'
[ "$problems" = 0 ] && [ "$oversold" = 0 ]
