#!/usr/bin/env bash
# Replication latency (docs/replication.md): head office and two store
# nodes, three clusters on this machine linked with `icos node add-store`.
# pgbench sells at both stores (till sales, 1-2 lines, rate-limited to
# ICOS_BENCH_RATE orders/s in all, default 200) while a probe receives one
# unit of a probe product at store 1 every 200 ms.  Measured:
#   order -> HQ      from the order's transaction start at the store
#                    (placed_at) to its arrival at HQ (apply-time trigger)
#   stock -> store 2 from the probe's ledger row at store 1 to the arrival
#                    at store 2 of head office's availability row carrying it
#                    (store 1 -> HQ -> store 2: two hops)
# Median and p99 (target p99 < 1 s).  Then WAL records and bytes per order
# of each kind at head office and at a store; then (ICOS_BENCH_REPLICATION
# unset) head office's decoding CPU with and without hubs, and the latency
# through hubs (hubs_bench).  Arrival times are taken by triggers
# in a bench schema enabled ALWAYS (they fire in the apply worker); all
# clusters share this machine's clock.
set -u
. "$(dirname "$0")/../../src/tools/common.sh"
. "$(dirname "$0")/../../src/tools/fleet.sh"
SECS=${ICOS_BENCH_SECONDS:-20}
RATE=${ICOS_BENCH_RATE:-200}
W=$RUNDIR/bench-repl
rm -rf "$W"; mkdir -p "$W"
PART=${ICOS_BENCH_REPLICATION:-all}

# bench.products: products 0-100 with valid codes
products_sql() {
	cat <<'SQL'
CREATE TABLE bench.products (n int PRIMARY KEY, upc icos.upc NOT NULL);
INSERT INTO bench.products
SELECT n, (d || (10 - (SELECT sum(substr(d, i, 1)::int * CASE WHEN i % 2 = 0 THEN 3 ELSE 1 END)
					   FROM generate_series(1, 12) i) % 10) % 10)::icos.upc
FROM (SELECT n, '5099999' || lpad(n::text, 5, '0') AS d FROM generate_series(0, 100) n) x;
INSERT INTO icos.product (upc, name, category_id, price) SELECT upc, 'Bench item ' || n, 1, 1.00 + n % 20 FROM bench.products;
SQL
}

# latency_row LABEL TARGET_MS QUERY: the SQL of one markdown row of a
# latency table (count, median, p99, max, target met) over QUERY's column ms
latency_row() {
	cat <<SQL
SELECT format('| $1 | %s | %s | %s | %s | p99 < $2: %s |', count(*),
			  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
			  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
			  round(max(ms)::numeric, 1),
			  CASE WHEN percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) < $2 THEN 'met' ELSE 'missed' END)
  FROM ($3) x \g (tuples_only)
SQL
}

hubs_bench() {
	local base=$((${ICOS_BENCH_PORT:-55460} + 4)) rate=${ICOS_BENCH_HUB_RATE:-40}
	local hd=bench_hq_direct hh=bench_hq_hubs hubs=bench_hubs edge=bench_edge c n h db
	local conf=("shared_buffers = 16MB" "jit = off" "max_worker_processes = 64"
		"max_logical_replication_workers = 48" "max_replication_slots = 48" "max_wal_senders = 48"
		"wal_receiver_status_interval = 1s")
	local -A port=([$hd]=$base [$hh]=$((base + 1)) [$hubs]=$((base + 2)) [$edge]=$((base + 3)))
	hdsn() { echo "host=$(cluster_host "$1") port=${port[$1]} user=postgres dbname=$2"; }
	hq() { psql -q -X -v ON_ERROR_STOP=1 "$(hdsn "$1" icos)" "${@:2}"; }
	trap "for c in $hd $hh $hubs $edge; do cluster_destroy \$c; done" EXIT
	for c in $hd $hh $hubs $edge; do
		cluster_destroy "$c"
		cluster_start "$c" "${port[$c]}" "${conf[@]}" || die "could not start $c"
	done
	# the databases: icos at each head office, hub101 and hub102, and in the
	# edge cluster d1..d12 (direct) and h1..h12 (under the hubs)
	for c in $hd $hh; do
		psql -q -X -h "$(cluster_host $c)" -p "${port[$c]}" -U postgres -d postgres -c "CREATE DATABASE icos" &&
			hq $c -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION icos' || die "set-up of $c failed"
		{
			cat <<'SQL'
INSERT INTO icos.store (store_id, name, kind, node_id)
SELECT n, 'Store ' || n, 'store', n FROM generate_series(1, 12) n
UNION ALL SELECT 90, 'Head office shop', 'store', 0;
INSERT INTO icos.category (category_id, name) VALUES (1, 'Bench');
CREATE SCHEMA bench;
SQL
			products_sql
			echo "SELECT count(icos.receive_stock(90, upc, 1000000, 'bench stock')) FROM bench.products WHERE n > 0;"
		} | hq $c >/dev/null || die "catalogue of $c failed"
	done
	for db in $hubs:hub101 $hubs:hub102 $(for n in $(seq 1 12); do echo "$edge:d$n $edge:h$n"; done); do
		c=${db%%:*} db=${db#*:}
		psql -q -X -h "$(cluster_host "$c")" -p "${port[$c]}" -U postgres -d postgres -c "CREATE DATABASE $db" &&
			psql -q -X -v ON_ERROR_STOP=1 "$(hdsn "$c" "$db")" -c 'SET client_min_messages = warning' \
				-c 'CREATE EXTENSION icos' || die "set-up of $db failed"
	done

	say "linking 12 stores to head office directly, and 12 under 2 hubs to the other"
	local icos=$PG_BINDIR/icos
	{
		"$icos" --dsn "$(hdsn $hd icos)" node init-hq &&
			"$icos" --dsn "$(hdsn $hh icos)" node init-hq || exit 1
		for n in $(seq 1 12); do
			"$icos" node add-store --hq "$(hdsn $hd icos)" --store-dsn "$(hdsn $edge d$n)" --store "$n" || exit 1
		done
		for h in 101 102; do
			"$icos" node add-hub --hq "$(hdsn $hh icos)" --hub-dsn "$(hdsn $hubs hub$h)" --node $h --name "Hub $h" || exit 1
		done
		for n in $(seq 1 12); do
			h=$((n <= 6 ? 101 : 102))
			"$icos" node add-store --hq "$(hdsn $hh icos)" --hub-dsn "$(hdsn $hubs hub$h)" \
				--store-dsn "$(hdsn $edge h$n)" --store "$n" || exit 1
		done
	} >"$W/hubs-link.log" 2>&1 || { tail -20 "$W/hubs-link.log"; die "linking failed"; }
	[ "$(hq $hd -At -c 'SELECT count(*) FROM pg_replication_slots')" = 12 ] || die "direct head office should hold 12 slots"
	[ "$(hq $hh -At -c 'SELECT count(*) FROM pg_replication_slots')" = 2 ] || die "hub head office should hold 2 slots"

	upcs=$(hq $hd -At -c "SELECT string_agg(quote_literal(upc::text), ',' ORDER BY n) FROM bench.products WHERE n > 0")
	cat >"$W/hq-sell.sql" <<EOT
\set a random(1, 100)
\set b random(1, 100)
SELECT icos.place_order(jsonb_build_object('store', 90, 'channel', 'pos',
	'lines', jsonb_build_array(jsonb_build_object('upc', (ARRAY[$upcs])[:a], 'qty', 1),
							   jsonb_build_object('upc', (ARRAY[$upcs])[:b], 'qty', 1)),
	'delivery', jsonb_build_object('method', 'carry'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'cash', 'amount', 100.00))));
EOT
	# walsender CPU ticks at a head office, and its WAL position
	ticks() {
		local pids
		pids=$(hq "$1" -At -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_replication")
		for p in $pids; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s + 0}'
	}
	local -A t0 l0 o0
	sleep 2
	for c in $hd $hh; do
		t0[$c]=$(ticks $c)
		l0[$c]=$(hq $c -At -c 'SELECT pg_current_wal_lsn()')
		o0[$c]=$(hq $c -At -c 'SELECT count(*) FROM icos.orders')
	done
	say "selling at $rate orders/s at each head office for $SECS s"
	for c in $hd $hh; do
		pgbench -n -c 2 -j 1 -R "$rate" -T "$SECS" -f "$W/hq-sell.sql" "$(hdsn $c icos)" >"$W/pgbench-$c.log" 2>&1 &
	done
	wait
	# every subscriber has confirmed everything before the figures are taken
	for c in $hd $hh; do
		for _ in $(seq 1 300); do
			[ "$(hq $c -At -c "SELECT bool_and(confirmed_flush_lsn >= pg_current_wal_lsn() - 1024) FROM pg_replication_slots")" = t ] && break
			sleep 0.2
		done
	done
	local hz
	hz=$(getconf CLK_TCK)
	echo
	echo "| head office | slots | orders | WAL per order | walsender CPU s | walsender CPU ms per order |"
	echo "|---|---:|---:|---:|---:|---:|"
	local -A per
	for c in $hd $hh; do
		local orders wal cpu
		orders=$(( $(hq $c -At -c 'SELECT count(*) FROM icos.orders') - ${o0[$c]} ))
		wal=$(hq $c -At -c "SELECT pg_size_pretty((pg_wal_lsn_diff(pg_current_wal_lsn(), '${l0[$c]}') / $orders)::bigint)")
		cpu=$(awk -v a="$(ticks $c)" -v b="${t0[$c]}" -v hz="$hz" 'BEGIN {printf "%.2f", (a - b) / hz}')
		per[$c]=$(awk -v s="$cpu" -v o="$orders" 'BEGIN {printf "%.3f", s * 1000 / o}')
		echo "| ${c#bench_hq_} | $(hq $c -At -c 'SELECT count(*) FROM pg_replication_slots') | $orders | $wal | $cpu | ${per[$c]} |"
	done
	echo
	awk -v d="${per[$hd]}" -v h="${per[$hh]}" 'BEGIN {
		if (h > 0) printf "head office decodes %.1fx less per order under 2 hubs (target: at least 4x)\n", d / h
		else print "head office walsenders used no measurable CPU under hubs" }'
	for n in 12; do
		[ "$(psql -X -At "$(hdsn $edge h$n)" -c 'SELECT count(*) FROM icos.stock_availability WHERE store_id = 90')" -gt 0 ] ||
			die "availability did not reach the store under a hub"
	done
	hub_latency
}

# Visibility through the hubs, at the head office with hubs (the other one
# idle): till sales at 4 stores, 2 under each hub, ICOS_BENCH_HUB_LATENCY_RATE
# orders/s in all (default 100), while head office changes a probe
# product's price every 200 ms.  Measured: a store's order from its
# transaction start (placed_at) to its arrival at head office (store -> hub
# -> head office), and a price change from head office's commit to its
# arrival at store 12 (head office -> hub 102 -> store).  Arrivals are taken
# by bench triggers enabled ALWAYS; one clock.
hub_latency() {
	local lrate=${ICOS_BENCH_HUB_LATENCY_RATE:-100} n s
	local sellers=(1 2 7 8)
	hq $hh <<'SQL' >/dev/null || die "latency set-up at head office failed"
CREATE TABLE bench.order_arrival (code icos.order_code PRIMARY KEY, placed_at timestamptz, arrived timestamptz);
CREATE FUNCTION bench.order_arrived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench.order_arrival VALUES (NEW.code, NEW.placed_at, pg_catalog.clock_timestamp());
	RETURN NULL;
END $$;
CREATE TRIGGER order_arrived AFTER INSERT ON icos.orders FOR EACH ROW WHEN (NEW.store_id <> 90)
	EXECUTE FUNCTION bench.order_arrived();
ALTER TABLE icos.orders ENABLE ALWAYS TRIGGER order_arrived;
CREATE TABLE bench.price_sent (price numeric PRIMARY KEY, at timestamptz);
CREATE TABLE bench.price_arrived (price numeric, arrived timestamptz);
SQL
	psql -q -X -v ON_ERROR_STOP=1 "$(hdsn $edge h12)" >/dev/null <<'SQL' || die "latency set-up at store 12 failed"
CREATE SCHEMA bench;
CREATE TABLE bench.price_arrived (upc icos.upc, price numeric, arrived timestamptz);
CREATE FUNCTION bench.price_arrived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench.price_arrived VALUES (NEW.upc, NEW.price, pg_catalog.clock_timestamp());
	RETURN NULL;
END $$;
CREATE TRIGGER price_arrived AFTER UPDATE ON icos.product FOR EACH ROW
	WHEN (OLD.price IS DISTINCT FROM NEW.price) EXECUTE FUNCTION bench.price_arrived();
ALTER TABLE icos.product ENABLE ALWAYS TRIGGER price_arrived;
SQL
	for n in "${sellers[@]}"; do
		psql -q -X -v ON_ERROR_STOP=1 "$(hdsn $edge h$n)" \
			-c "SELECT count(icos.receive_stock($n, upc, 1000000, 'bench stock')) FROM icos.product" >/dev/null ||
			die "stock at store $n failed"
		sed "s/'store', 90/'store', $n/" "$W/hq-sell.sql" >"$W/sell-h$n.sql"
	done
	local probe
	probe=$(hq $hh -At -c 'SELECT upc FROM bench.products WHERE n = 0')
	sleep 2
	say "hubs: selling at $lrate orders/s at stores ${sellers[*]} for $SECS s, a price change at head office every 200 ms"
	for n in "${sellers[@]}"; do
		pgbench -n -c 1 -j 1 -R $((lrate / ${#sellers[@]})) -T "$SECS" -f "$W/sell-h$n.sql" "$(hdsn $edge h$n)" \
			>"$W/pgbench-h$n.log" 2>&1 &
	done
	{
		for s in $(seq 1 $((SECS * 5))); do
			echo "BEGIN; UPDATE icos.product SET price = 2 + $s / 100.0 WHERE upc = '$probe';"
			echo "INSERT INTO bench.price_sent VALUES (2 + $s / 100.0, clock_timestamp()); COMMIT;"
			echo "SELECT pg_sleep(0.2);"
		done
	} | hq $hh >/dev/null
	wait
	sleep 3
	for n in "${sellers[@]}"; do
		grep -qi 'aborted\|error' "$W/pgbench-h$n.log" && { grep -i error "$W/pgbench-h$n.log" | head -3; die "pgbench at store $n failed"; }
	done
	psql -X -At "$(hdsn $edge h12)" -c "COPY (SELECT price, arrived FROM bench.price_arrived WHERE upc = '$probe') TO STDOUT" \
		>"$W/price_arrived.txt"
	hq $hh <<SQL
\copy bench.price_arrived FROM '$W/price_arrived.txt'
\pset footer off
\pset format unaligned
\echo
\echo '| through a hub | count | median ms | p99 ms | max ms | target |'
\echo '|---|---:|---:|---:|---:|---|'
$(latency_row "a store''s order visible at head office" 2000 "SELECT extract(epoch FROM arrived - placed_at) * 1000 AS ms FROM bench.order_arrival")
$(latency_row "a price change visible at a store under a hub" 2000 "SELECT extract(epoch FROM a.arrived - s.at) * 1000 AS ms FROM bench.price_sent s JOIN bench.price_arrived a USING (price)")
SQL
	local placed=0
	for n in "${sellers[@]}"; do
		placed=$((placed + $(psql -X -At "$(hdsn $edge h$n)" -c 'SELECT count(*) FROM icos.orders')))
	done
	echo "orders placed at the 4 stores: $placed; arrived at head office: $(hq $hh -At -c 'SELECT count(*) FROM bench.order_arrival')"
	[ "$placed" = "$(hq $hh -At -c 'SELECT count(*) FROM bench.order_arrival')" ] || die "head office is missing orders"
}

if [ "$PART" = hubs ]; then
	hubs_bench
	exit 0
fi


# Head office and the two stores: clusters bench_repl, bench_repl_s1 and
# bench_repl_s2 on the three ports after the bench cluster's, made afresh
# every run (a previous run's subscriptions would reconnect).
FLEET=bench_repl FLEET_PORT=$((${ICOS_BENCH_PORT:-55460} + 1)) FLEET_DB=icos_repl
declare -A NODE=([hq]=0 [s1]=1 [s2]=2)
dsn() { fleet_dsn "${NODE[$1]}"; }
q() { local n=$1; shift; psql -q -X -v ON_ERROR_STOP=1 "$(dsn "$n")" "$@"; }

fleet_create "max_connections = 100" "wal_receiver_status_interval = 1s" >/dev/null ||
	die "could not start the bench nodes"
trap 'for n in 0 1 2; do cluster_destroy "$(fleet_cluster $n)"; done' EXIT
for n in hq s1 s2; do
	q "$n" -c 'CREATE SCHEMA bench' || die "setup of $n failed"
done

say "head office: stores 1 (node 1) and 2 (node 2), 100 products"
q hq <<'SQL' || die "catalogue load failed"
INSERT INTO icos.store (store_id, name, kind, node_id) VALUES (1, 'Leeds', 'store', 1), (2, 'York', 'store', 2),
	(8, 'Warehouse', 'warehouse', 0), (9, 'Website', 'web', 0);
INSERT INTO icos.category (category_id, name) VALUES (1, 'Bench');
SQL
products_sql | q hq || die "catalogue load failed"
q hq <<'SQL' || die "catalogue load failed"
-- arrival of the stores' orders
CREATE TABLE bench.order_arrival (code icos.order_code PRIMARY KEY, placed_at timestamptz, arrived timestamptz);
CREATE FUNCTION bench.order_arrived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench.order_arrival VALUES (NEW.code, NEW.placed_at, pg_catalog.clock_timestamp());
	RETURN NULL;
END $$;
CREATE TRIGGER order_arrived AFTER INSERT ON icos.orders FOR EACH ROW EXECUTE FUNCTION bench.order_arrived();
ALTER TABLE icos.orders ENABLE ALWAYS TRIGGER order_arrived;
SQL
fleet_link Leeds York >"$W/link.log" 2>&1 || { cat "$W/link.log"; die "linking the stores failed"; }

# stock at the stores (products 1-100), the probe product 0 at store 1
probe=$(q hq -At -c 'SELECT upc FROM bench.products WHERE n = 0')
for s in 1 2; do
	q s$s -c "SELECT count(icos.receive_stock($s, upc, 1000000, 'bench stock')) FROM icos.product WHERE upc <> '$probe'" >/dev/null
done
q s2 <<'SQL' || die "probe set-up failed"
CREATE TABLE bench.stock_arrival (store_id int, upc icos.upc, on_hand int, arrived timestamptz);
CREATE FUNCTION bench.stock_arrived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench.stock_arrival VALUES (NEW.store_id, NEW.upc, NEW.on_hand, pg_catalog.clock_timestamp());
	RETURN NULL;
END $$;
CREATE TRIGGER stock_arrived AFTER INSERT OR UPDATE ON icos.stock_availability
	FOR EACH ROW WHEN (NEW.store_id = 1) EXECUTE FUNCTION bench.stock_arrived();
ALTER TABLE icos.stock_availability ENABLE ALWAYS TRIGGER stock_arrived;
SQL

# till sales of two random products (codes inlined: no lookup per order)
upcs=$(q hq -At -c "SELECT string_agg(quote_literal(upc::text), ',' ORDER BY n) FROM bench.products WHERE n BETWEEN 1 AND 100")
for s in 1 2; do
	cat >"$W/sell$s.sql" <<EOT
\set a random(1, 100)
\set b random(1, 100)
SELECT icos.place_order(jsonb_build_object('store', $s, 'channel', 'pos',
	'lines', jsonb_build_array(jsonb_build_object('upc', (ARRAY[$upcs])[:a], 'qty', 1),
							   jsonb_build_object('upc', (ARRAY[$upcs])[:b], 'qty', 1)),
	'delivery', jsonb_build_object('method', 'carry'),
	'payments', jsonb_build_array(jsonb_build_object('method', 'cash', 'amount', 100.00))));
EOT
done

say "selling at $RATE orders/s over both stores for $SECS s, probing store 1's stock every 200 ms"
q s1 -c "SELECT icos.receive_stock(1, '$probe', 1, 'probe')" >/dev/null
sleep 1
for s in 1 2; do
	pgbench -n -c 4 -j 2 -R $((RATE / 2)) -T "$SECS" -f "$W/sell$s.sql" "$(dsn s$s)" >"$W/pgbench$s.log" 2>&1 &
done
{
	for _ in $(seq 1 $((SECS * 5))); do
		echo "SELECT icos.receive_stock(1, '$probe', 1, 'probe');"
		echo "SELECT pg_sleep(0.2);"
	done
} | q s1 >/dev/null
wait
sleep 3
for s in 1 2; do
	grep -E '^(tps|latency average|number of transactions actually)' "$W/pgbench$s.log" | sed "s/^/  store $s: /"
	grep -qi 'aborted\|error' "$W/pgbench$s.log" && { grep -i error "$W/pgbench$s.log" | head -3; die "pgbench at store $s failed"; }
done

# Bring the probe's commit times to HQ's database and compute there.
q s1 -At -c "COPY (SELECT at, sum(d_on_hand) OVER (ORDER BY movement_id) FROM icos.stock_movement
				WHERE store_id = 1 AND upc = '$probe') TO STDOUT" >"$W/probe_sent.txt"
q s2 -At -c "COPY (SELECT on_hand, arrived FROM bench.stock_arrival WHERE upc = '$probe') TO STDOUT" >"$W/probe_arrived.txt"
q hq <<SQL
CREATE TABLE bench.probe_sent (at timestamptz, on_hand int);
CREATE TABLE bench.probe_arrived (on_hand int, arrived timestamptz);
\copy bench.probe_sent FROM '$W/probe_sent.txt'
\copy bench.probe_arrived FROM '$W/probe_arrived.txt'
\pset footer off
\pset format unaligned
\echo
\echo '| measure | count | median ms | p99 ms | max ms | target |'
\echo '|---|---:|---:|---:|---:|---|'
$(latency_row "order visible at HQ" 1000 "SELECT extract(epoch FROM arrived - placed_at) * 1000 AS ms FROM bench.order_arrival")
$(latency_row "stock change at store 1 visible at store 2" 1000 "SELECT extract(epoch FROM a.arrived - s.at) * 1000 AS ms FROM bench.probe_sent s JOIN bench.probe_arrived a USING (on_hand)")
SQL
orders_hq=$(q hq -At -c "SELECT count(*) FROM icos.orders")
orders_st=$(( $(q s1 -At -c "SELECT count(*) FROM icos.orders") + $(q s2 -At -c "SELECT count(*) FROM icos.orders") ))
echo
echo "orders at the stores: $orders_st; at head office: $orders_hq"
[ "$orders_hq" = "$orders_st" ] || die "head office is missing orders"

# WAL per order of each kind at head office and at store 1 (pg_walinspect
# over each cluster's WAL between two positions): N orders of the kind one
# after the other, then every node in step (requests answered), divided by
# N.  The heartbeats that bring the nodes in step are counted too (a few
# records).  Each kind is measured twice, side by side: with head office's
# availability trigger as in 0.2.0, and as now.
N=${ICOS_BENCH_WAL_ORDERS:-200}
for n in hq s1; do q $n -c 'CREATE EXTENSION IF NOT EXISTS pg_walinspect' || die "pg_walinspect is missing"; done
q hq -c "SELECT count(icos.receive_stock(8, upc, 1000000, 'bench stock')) FROM icos.product WHERE upc <> '$probe'" >/dev/null ||
	die "stock at the warehouse failed"
u1=$(q hq -At -c 'SELECT upc FROM bench.products WHERE n = 1')
u2=$(q hq -At -c 'SELECT upc FROM bench.products WHERE n = 2')
settle() {
	fleet_in_step 0 1 && fleet_in_step 1 0 && fleet_in_step 0 1 && fleet_in_step 0 2 || die "the nodes did not get in step"
}
till_sql="SELECT icos.place_order('{\"store\": 1, \"channel\": \"pos\", \"lines\": [{\"upc\": \"$u1\", \"qty\": 1}, {\"upc\": \"$u2\", \"qty\": 1}], \"delivery\": {\"method\": \"carry\"}, \"payments\": [{\"method\": \"cash\", \"amount\": 10}]}');"
web_sql="SELECT icos.place_order('{\"store\": 9, \"channel\": \"web\", \"customer\": {\"name\": \"Web Customer\", \"email\": \"web@example.com\"}, \"lines\": [{\"upc\": \"$u1\", \"qty\": 1, \"fulfil_from\": 8}, {\"upc\": \"$u2\", \"qty\": 1, \"fulfil_from\": 8}], \"delivery\": {\"method\": \"home\", \"address\": {\"line1\": \"1 High St\", \"town\": \"Leeds\", \"postcode\": \"LS1 1AA\"}}, \"payments\": [{\"method\": \"visa\", \"amount\": 5.00, \"reference\": \"auth 1\"}]}');"
phone_sql="SELECT icos.place_order('{\"store\": 9, \"channel\": \"phone\", \"customer\": {\"name\": \"Phone Customer\", \"email\": \"phone@example.com\"}, \"lines\": [{\"upc\": \"$u1\", \"qty\": 1, \"fulfil_from\": 1}], \"delivery\": {\"method\": \"home\", \"address\": {\"line1\": \"2 Low St\", \"town\": \"Leeds\", \"postcode\": \"LS1 1AA\"}}, \"payments\": [{\"method\": \"visa\", \"amount\": 2.00, \"reference\": \"auth 2\"}]}');"
# the 0.2.0 form of the trigger, to measure side by side
now_derive=$(q hq -At -c "SELECT pg_get_functiondef('icos._availability_derive()'::regprocedure)")
old_derive=$(awk '/^CREATE FUNCTION icos._availability_derive\(\)/ {p = 1; sub(/^CREATE/, "CREATE OR REPLACE")}
	p {print} p && /^\$\$;/ {exit}' "$TOP/src/sql/0.2.0/70_replication.sql")
wal_rows() {
	local kind=$1 at=$2 sql=$3 form=$4 n i
	local -A l0
	settle
	for n in hq s1; do l0[$n]=$(q $n -At -c 'SELECT pg_current_wal_flush_lsn()'); done
	for i in $(seq 1 "$N"); do echo "$sql"; done | q "$at" >/dev/null || die "$kind orders failed"
	settle
	for n in hq s1; do
		q $n -At -c "SELECT format('| %s | %s | %s | %s | %s | %s |', '$kind', '$form',
			CASE '$n' WHEN 'hq' THEN 'head office' ELSE 'store 1' END,
			round(sum(count)::numeric / $N, 1), round(sum(combined_size)::numeric / $N),
			round(sum(fpi_size)::numeric / $N))
			FROM pg_get_wal_stats('${l0[$n]}', pg_current_wal_flush_lsn())"
	done
}
say "WAL per order: $N orders of each kind, one after the other"
echo
echo "| order | availability trigger | node | WAL records | WAL bytes | of which full pages |"
echo "|---|---|---|---:|---:|---:|"
for kind in till web phone; do
	case $kind in
		till) at=s1 sql=$till_sql label="till sale at store 1" ;;
		web) at=hq sql=$web_sql label="web order at head office" ;;
		phone) at=hq sql=$phone_sql label="phone order at head office, served by store 1" ;;
	esac
	echo "$old_derive" | q hq >/dev/null || die "installing the 0.2.0 trigger failed"
	wal_rows "$label" "$at" "$sql" "0.2.0"
	echo "$now_derive;" | q hq >/dev/null || die "restoring the trigger failed"
	wal_rows "$label" "$at" "$sql" "now"
done
[ "$PART" = latency ] || [ "$PART" = wal ] ||
	{ trap - EXIT; for n in 0 1 2; do cluster_destroy "$(fleet_cluster $n)"; done; hubs_bench; }
