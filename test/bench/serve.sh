#!/usr/bin/env bash
# Benchmark of `icos serve`, the agent toolbar (docs/toolbar.md):
#   1. a product look-up (GET /api/products/{upc}) and an order placement
#      (POST /api/orders: 3 lines carried out, paid in cash) at 50 concurrent
#      agents (ICOS_BENCH_CLIENTS; the issue's figure is 50).  Each agent
#      holds a browser session through the server and a libpq connection of
#      the same employee over TCP, and makes its calls through the two in
#      turn, the direct one sending the SQL the server sends (serve_load.c):
#      both paths are timed at the same moments of the same run.  The median
#      latency of each, the time the HTTP path adds at the median (target
#      <= 1 ms) and the ratio of the medians; the median of
#      ICOS_BENCH_ROUNDS rounds (default 5) of ICOS_BENCH_SECONDS (default
#      10).  GET /api/session, which the server answers without the
#      database, times the HTTP path alone at the same concurrency.  Run
#      twice (ICOS_BENCH_THINK_MS, default "0 1000"): as a closed loop, every
#      agent calling again at once, which saturates a small machine so that
#      the run queue, not the server, sets the latency; and with each agent
#      pausing about a second between calls as an agent does (0.5 to 1.5 s,
#      not timed), the server's cost per call on a machine that is busy but
#      not saturated;
#   2. the look-up's document alone: icos.product_info(upc) and its text, as the
#      server sends it, against the PL/pgSQL body of 0.2.0 it replaced (the
#      same SQL functions, the document built with jsonb_agg inside
#      jsonb_build_object), in one session, 7 interleaved rounds of 100
#      calls on 100 benchmark products; the median per call of each (and
#      the two documents compared, equal as text, for all 200);
#   3. memory: the server's private resident memory (RssAnon) with no
#      session and with 100 idle logged-in sessions; the difference per
#      session (each also holds one PostgreSQL backend, not counted here).
set -u
. "$(dirname "$0")/../../src/tools/common.sh"
SECS=${ICOS_BENCH_SECONDS:-10}
THINKS=${ICOS_BENCH_THINK_MS:-0 1000}
ROUNDS=${ICOS_BENCH_ROUNDS:-5}
CLIENTS=${ICOS_BENCH_CLIENTS:-50}
IDLE=100
DB=icos_bench
W=$RUNDIR/bench-serve
rm -rf "$W"; mkdir -p "$W"
ICOS=$PG_BINDIR/icos
PASSWORD=Bench-Agent-9901

if [ "$(psql -X -At -d $DB -c "SELECT to_regclass('bench.products') IS NOT NULL")" != t ]; then
	say "loading the catalogue of the ordering benchmarks"
	psql -q -X -d $DB -v ON_ERROR_STOP=1 -f "$(dirname "$0")/orders_catalogue.sql" >/dev/null || exit 1
fi
psql -X -At -d $DB -c "SELECT upc FROM bench.products ORDER BY n" >"$W/upcs" || exit 1
if [ "$(psql -X -At -d $DB -c "SELECT count(*) FROM icos.employee WHERE employee_id = 9901")" = 0 ]; then
	# the login of an earlier run outlives its database (roles are cluster-wide)
	psql -q -X -d $DB -c 'DROP ROLE IF EXISTS emp_9901' || exit 1
	ICOS_PASSWORD=$PASSWORD "$ICOS" --dsn "dbname=$DB" employee add --id 9901 \
		--name 'Bench Agent' --store 10 --position agent >/dev/null || exit 1
fi
cc -O2 -Wall -D_GNU_SOURCE -I"$(pg_config --includedir)" -I"$(dirname "$0")/../../src/cli" -o "$W/serve_load" \
	"$(dirname "$0")/serve_load.c" -L"$(pg_config --libdir)" -lpq -lpthread || exit 1

# 2. the look-up's document alone (first: no load is running)
psql -X -q -At -d $DB -v ON_ERROR_STOP=1 -v reference="$(dirname "$0")/../pgtap/product_info_020.psql" \
	>"$W/product_info.txt" <<'SQL' || exit 1
SET client_min_messages = warning;
\i :reference
CREATE TEMP TABLE t(impl text, round int, us float8);
DO $$
DECLARE
	codes icos.upc[] := ARRAY(SELECT upc FROM bench.products ORDER BY n LIMIT 100);
	t0 timestamptz;
	doc text;
	len bigint;
	impl text;
BEGIN
	FOR r IN 0..7 LOOP			-- round 0 warms both up and is not kept
		FOREACH impl IN ARRAY CASE WHEN r % 2 = 0 THEN ARRAY['C', 'plpgsql'] ELSE ARRAY['plpgsql', 'C'] END LOOP
			len := 0;
			t0 := clock_timestamp();
			FOR i IN 1..100 LOOP
				IF impl = 'C' THEN
					doc := icos.product_info(codes[i])::text;
				ELSE
					doc := pg_temp.product_info_020(codes[i])::text;
				END IF;
				len := len + length(doc);
			END LOOP;
			IF r > 0 THEN
				INSERT INTO t VALUES (impl, r, extract(epoch FROM clock_timestamp() - t0) * 1e6 / 100);
			END IF;
		END LOOP;
	END LOOP;
	IF EXISTS (SELECT FROM bench.products b
				WHERE icos.product_info(b.upc)::text IS DISTINCT FROM pg_temp.product_info_020(b.upc)::text) THEN
		RAISE EXCEPTION 'the C and PL/pgSQL documents differ';
	END IF;
END
$$;
SELECT impl, percentile_disc(0.5) WITHIN GROUP (ORDER BY us) FROM t GROUP BY impl ORDER BY impl;
SQL
awk -F'|' '{m[$1] = $2} END {
	print "| icos.product_info(upc)::text, 600 stores, one session | median per call |"
	print "|---|---|"
	printf "| PL/pgSQL body of 0.2.0 | %.3f ms |\n", m["plpgsql"] / 1000
	printf "| written in jsonb binary form (src/product_info.c) | %.3f ms |\n", m["C"] / 1000
	printf "| ratio | %.1fx |\n", m["plpgsql"] / m["C"] }' "$W/product_info.txt"
echo

TCP="host=127.0.0.1 port=$PGPORT dbname=$DB"
"$ICOS" serve --listen 127.0.0.1:0 --dsn "$TCP" --max-sessions 300 >"$W/serve.out" 2>"$W/serve.log" &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null' EXIT
for _ in $(seq 100); do
	grep -q 'the toolbar is at' "$W/serve.out" && break
	sleep 0.1
done
HTTP_PORT=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$W/serve.out")
[ -n "$HTTP_PORT" ] || { cat "$W/serve.log"; echo "icos serve did not start"; exit 1; }

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

run() {			# run lookup|place|session ROUND (THINK set): files THINK-PATH-CALL-ROUND.txt
	local out=$W/$THINK-$1-$2.out
	if [ "$1" = session ]; then
		SERVE_LOAD_THINK_MS=$THINK "$W/serve_load" http 127.0.0.1 "$HTTP_PORT" emp_9901 "$PASSWORD" \
			$CLIENTS "$SECS" session "$W/upcs" >"$out"
	else
		SERVE_LOAD_THINK_MS=$THINK "$W/serve_load" pair 127.0.0.1 "$HTTP_PORT" emp_9901 "$PASSWORD" \
			"$TCP user=emp_9901 password=$PASSWORD" $CLIENTS "$SECS" "$1" "$W/upcs" >"$out"
	fi || { echo "load failed: $1"; exit 1; }
	for path in http libpq; do
		sed -n "s/^$path //p" "$out" >"$W/$THINK-$path-$1-$2.txt"
	done
}

for THINK in $THINKS; do
	for r in $(seq "$ROUNDS"); do
		run lookup $r
		run place $r
		[ "$THINK" = 0 ] && run session $r
		echo "round $r of $ROUNDS done (pause between calls: $THINK ms)"
	done

	echo
	if [ "$THINK" = 0 ]; then pause="calling again at once"; else pause="pausing about $THINK ms between calls"; fi
	echo "| call ($CLIENTS agents, $pause) | libpq median | HTTP median | added at the median | HTTP / libpq | HTTP p90 | calls (HTTP) | errors |"
	echo "|---|---|---|---|---|---|---|---|"
	for call in lookup place; do
		pq=$(cat "$W"/$THINK-libpq-$call-*.txt | field median_us | median)
		ht=$(cat "$W"/$THINK-http-$call-*.txt | field median_us | median)
		p90=$(cat "$W"/$THINK-http-$call-*.txt | field p90_us | median)
		calls=$(cat "$W"/$THINK-http-$call-*.txt | field calls | awk '{s += $1} END {print s}')
		errs=$(cat "$W"/$THINK-http-$call-*.txt "$W"/$THINK-libpq-$call-*.txt | field errors | awk '{s += $1} END {print s}')
		awk -v c="$call" -v pq="$pq" -v ht="$ht" -v p90="$p90" -v n="$calls" -v e="$errs" 'BEGIN {
			printf "| %s | %.2f ms | %.2f ms | %.2f ms | %.2f | %.2f ms | %d | %d |\n",
				c == "lookup" ? "product look-up" : "order placement",
				pq / 1000, ht / 1000, (ht - pq) / 1000, ht / pq, p90 / 1000, n, e }'
	done
	if [ "$THINK" = 0 ]; then
		ht=$(cat "$W"/0-http-session-*.txt | field median_us | median)
		p90=$(cat "$W"/0-http-session-*.txt | field p90_us | median)
		calls=$(cat "$W"/0-http-session-*.txt | field calls | awk '{s += $1} END {print s}')
		awk -v ht="$ht" -v p90="$p90" -v n="$calls" 'BEGIN {
			printf "| GET /api/session (no database call) | - | %.2f ms | - | - | %.2f ms | %d | 0 |\n",
				ht / 1000, p90 / 1000, n }'
	fi
done

# Memory: a fresh server (the sessions of the runs above stay until they
# expire) with one session, then with IDLE more.
kill $SERVE_PID; wait $SERVE_PID 2>/dev/null
"$ICOS" serve --listen 127.0.0.1:0 --dsn "$TCP" --max-sessions 300 >"$W/serve.out" 2>"$W/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do
	grep -q 'the toolbar is at' "$W/serve.out" && break
	sleep 0.1
done
HTTP_PORT=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$W/serve.out")
"$W/serve_load" idle 127.0.0.1 "$HTTP_PORT" emp_9901 "$PASSWORD" 1 || exit 1
rss0=$(awk '/RssAnon/ {print $2}' /proc/$SERVE_PID/status)
"$W/serve_load" idle 127.0.0.1 "$HTTP_PORT" emp_9901 "$PASSWORD" $IDLE || exit 1
rss1=$(awk '/RssAnon/ {print $2}' /proc/$SERVE_PID/status)
echo
echo "| server memory (RssAnon) | 1 session | $((IDLE + 1)) idle sessions | per idle session |"
echo "|---|---|---|---|"
awk -v a="$rss0" -v b="$rss1" -v n="$IDLE" 'BEGIN {
	printf "| icos serve | %d kB | %d kB | %.1f kB |\n", a, b, (b - a) / n }'
