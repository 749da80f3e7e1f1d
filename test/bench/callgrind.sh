#!/usr/bin/env bash
# Server instructions per order, counted by callgrind: a measure the load on
# a shared machine does not move, for comparing changes to the placement
# path.  Runs of the same build agree to about 1% (25K instructions): the
# order codes are random, so index pages split at different orders; parts of
# the profile (ExecConstraints, ref_check) repeat to 0.1%.
#
# A throwaway cluster gets the benchmark's catalogue (orders_catalogue.sql:
# 600 stores, 20,000 products, 200 with stock in store 10), is stopped, and
# a single-user backend under valgrind --tool=callgrind places N1 and then
# N2 till sales of 3 lines (the statement of test/bench/orders.sh, products
# chosen by a fixed rule).
# The difference of the two totals divided by N2 - N1 is the cost of one
# order without the backend's start-up and first-use caches.  Single-user
# mode parses and plans the statement each time (about 0.2M instructions
# that a prepared statement does not pay) and commits without waiting.
#   ICOS_CG_N1, ICOS_CG_N2  orders of the two runs (default 240 and 440: by
#                   240 orders every product has been bought, so neither run
#                   counts the first-use caches the other does not)
#   ICOS_CG_ORDER  till (default): the till sale of orders.sh; web: its web
#                   order (a returning customer by details, home delivery,
#                   3 lines the server finds, a card payment with a reference)
#   ICOS_CG_TOGGLE  count only inside this function (valgrind
#                   --toggle-collect), e.g. stock_fast_lines: the cost of
#                   one part; callgrind_annotate --inclusive=yes on
#                   $RUNDIR/bench-cg-work/callgrind.N2 then shows its callees
set -u
. "$(dirname "$0")/../../src/tools/common.sh"
N1=${ICOS_CG_N1:-240}
N2=${ICOS_CG_N2:-440}
ORDER=${ICOS_CG_ORDER:-till}
PORT=$((${ICOS_BENCH_PORT:-55460} + 10))
W=$RUNDIR/bench-cg-work
ensure_packages valgrind
command -v valgrind >/dev/null || die "valgrind not found"

cluster_destroy bench-cg
cluster_start bench-cg "$PORT" "fsync = off" "synchronous_commit = off"
rm -rf "$W"; make_rundir "$W"
PGHOST=$(cluster_host bench-cg) PGPORT=$PORT PGUSER=postgres
export PGHOST PGPORT PGUSER
psql -q -X -d postgres -c 'CREATE DATABASE icos_cg' || die "createdb failed"
psql -q -X -d icos_cg -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION icos' -c 'CREATE SCHEMA bench' \
	-f "$(dirname "$0")/orders_catalogue.sql" >/dev/null || die "loading the catalogue failed"
# The scripts of N1 and N2 orders: the statement of orders.sh, one per
# line, products chosen by a fixed rule.
for n in "$N1" "$N2"; do
	if [ "$ORDER" = web ]; then
	psql -X -At -d icos_cg -v n="$n" >"$W/orders.$n.sql" <<'SQL' || die "writing the orders failed"
WITH p AS (SELECT array_agg(upc::text ORDER BY n) AS u FROM bench.products)
SELECT format('SELECT icos.place_order(jsonb_build_object(''store'', 601, ''channel'', ''web'','
	' ''customer'', jsonb_build_object(''name'', ''Bench Customer %s'', ''email'', ''customer%s@example.com'','
	' ''phone'', ''+4477009%s'', ''address'', jsonb_build_object(''line1'', ''customer%s High Street'','
	' ''town'', ''Leeds'', ''postcode'', ''LS1 1AA'')),'
	' ''lines'', jsonb_build_array(jsonb_build_object(''upc'', %L, ''qty'', 1),'
	' jsonb_build_object(''upc'', %L, ''qty'', 2), jsonb_build_object(''upc'', %L, ''qty'', 1)),'
	' ''delivery'', jsonb_build_object(''method'', ''home''),'
	' ''payments'', jsonb_build_array(jsonb_build_object(''method'', ''visa'', ''amount'', 1.00, ''reference'', ''auth %s''))));',
	k, k, lpad(k::text, 5, '0'), k,
	u[1 + (i * 7) % 200], u[1 + (i * 13 + 5) % 200], u[1 + (i * 29 + 11) % 200], k)
FROM p, generate_series(0, :n - 1) i, LATERAL (SELECT 1 + (i * 7919) % 10000 AS k) c;
SQL
	continue
	fi
	psql -X -At -d icos_cg -v n="$n" >"$W/orders.$n.sql" <<'SQL' || die "writing the orders failed"
WITH p AS (SELECT array_agg(upc::text ORDER BY n) AS u FROM bench.products)
SELECT format('SELECT icos.place_order(jsonb_build_object(''store'', 10, ''channel'', ''pos'','
	' ''lines'', jsonb_build_array(jsonb_build_object(''upc'', %L, ''qty'', 1),'
	' jsonb_build_object(''upc'', %L, ''qty'', 2), jsonb_build_object(''upc'', %L, ''qty'', 1)),'
	' ''delivery'', jsonb_build_object(''method'', ''carry''),'
	' ''payments'', jsonb_build_array(jsonb_build_object(''method'', ''cash'', ''amount'', 500.00))));',
	u[1 + (i * 7) % 200], u[1 + (i * 13 + 5) % 200], u[1 + (i * 29 + 11) % 200])
FROM p, generate_series(0, :n - 1) i;
SQL
done
chmod a+r "$W"/orders.*.sql
cluster_stop bench-cg

count() {				# count N: total instructions of a backend placing N orders
	local n=$1 out=$W/callgrind.$1
	as_owner valgrind --tool=callgrind --callgrind-out-file="$out" \
		${ICOS_CG_TOGGLE:+--toggle-collect="$ICOS_CG_TOGGLE"} \
		"$PG_BINDIR/postgres" --single -D "$RUNDIR/bench-cg/data" icos_cg \
		<"$W/orders.$n.sql" >"$W/log.$n" 2>&1 || die "the single-user backend failed (see $W/log.$n)"
	[ "$(grep -c 'place_order = "' "$W/log.$n")" = "$n" ] ||
		die "not every order was placed (see $W/log.$n)"
	awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

say "callgrind: a backend placing $N1 and then $N2 orders ($ORDER)"
i1=$(count "$N1")
i2=$(count "$N2")
echo ""
echo "| benchmark | orders | instructions | per order |"
echo "|---|---:|---:|---:|"
echo "| place_order, $ORDER, 3 lines, 1 payment (single-user backend) | $N1, $N2 | $i1, $i2 | $(( (i2 - i1) / (N2 - N1) )) |"
cluster_destroy bench-cg
