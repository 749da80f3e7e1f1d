#!/usr/bin/env bash
# make soak: ICOS_SOAK_SECONDS (default 600) of a trading day's mixed traffic
# against head office and two store nodes linked by logical replication,
# loaded with the demo's catalogue, promotions and staff; then the nodes are
# brought in step and the invariants checked.  Prints the soak table
# (throughput, p50/p99 per operation, errors by SQLSTATE) and the
# invariants; exits non-zero on an unexpected error or a broken invariant.
#   ICOS_SOAK_SECONDS  length of the run (default 600)
#   ICOS_SOAK_CLIENTS  client threads (default 8)
#   ICOS_SOAK_PORT     head office's port; the stores take the next two (55480)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh
. src/tools/fleet.sh

FLEET=soak FLEET_PORT=${ICOS_SOAK_PORT:-55480} FLEET_DB=icos_soak
SECS=${ICOS_SOAK_SECONDS:-600}
CLIENTS=${ICOS_SOAK_CLIENTS:-8}
W=$RUNDIR/soak-work

ensure_packages
build_and_install
make -s -C "$TOP" test/soak/soak PG_CONFIG="$PG_BINDIR/pg_config" || die "could not build the soak driver"
rm -rf "$W"; mkdir -p "$W"
say "head office and two store nodes (ports $FLEET_PORT to $((FLEET_PORT + 2)))"
fleet_create "max_connections = 200" >"$W/setup.log" 2>&1 || { cat "$W/setup.log"; die "could not start the nodes"; }
trap 'fleet_stop' EXIT
HQ=$(fleet_dsn 0) S1=$(fleet_dsn 1) S2=$(fleet_dsn 2)

say "loading the demo catalogue, promotions and staff at head office; linking the stores"
export ICOS_PASSWORD=soak
cat src/demo/20_catalogue.sql src/demo/25_promotions.sql |
	psql -X -q -v ON_ERROR_STOP=1 "$HQ" >>"$W/setup.log" 2>&1 ||
	{ tail -20 "$W/setup.log"; die "could not load the demo catalogue"; }
(
	export ICOS_DEMO_QUIET=1
	. src/demo/30_people.sh
	fleet_employees_add <<'EOT'
401|Manchester till|11|agent
950|Head office analyst|1|reporter
EOT
) >>"$W/setup.log" 2>&1 || { tail -20 "$W/setup.log"; die "could not add the staff"; }
fleet_link 'London Oxford Street' 'Leeds Trinity' >>"$W/setup.log" 2>&1 ||
	{ tail -20 "$W/setup.log"; die "could not link the stores"; }
fleet_logins 1 101 && fleet_logins 2 301 || die "could not create the stores' logins"
say "every node receives stock for its own stores"
for n in 0 1 2; do
	{
		cat src/demo/36_stock.sql
		echo '\o /dev/null'
		echo "SELECT count(icos.receive_stock(s.store_id, p.upc, 500, 'soak stock'))
			  FROM icos.store s CROSS JOIN icos.product p
			  WHERE s.kind IN ('store', 'warehouse') AND s.node_id = icos.current_node()
				AND NOT p.made_to_order;"
	} | psql -X -q -v ON_ERROR_STOP=1 "$(fleet_dsn $n)" >>"$W/setup.log" 2>&1 ||
		{ tail -20 "$W/setup.log"; die "stock at node $n failed"; }
done
fleet_in_step 1 0 && fleet_in_step 2 0 || die "the stores are not in step with head office"
# The scheduler of every node: heartbeats answer cross-store stock requests.
fleet_heartbeats_start 2

say "soak: $CLIENTS clients for ${SECS}s over both stores and head office's channels"
tcp() { echo "host=127.0.0.1 port=$(fleet_port "$1") dbname=$FLEET_DB user=emp_$2 password=soak"; }
test/soak/soak --seconds "$SECS" --clients "$CLIENTS" --codes "$W/codes.tsv" \
	--target "$(tcp 1 101)|10|pos" \
	--target "$(tcp 2 301)|12|store" \
	--target "$(tcp 0 401)|11|store" \
	--target "$(tcp 0 111)|1|web" \
	--target "$(tcp 0 201)|2|phone" \
	--admin "$(tcp 0 900)" --reporter "$(tcp 0 950)" | tee "$W/soak.md"
soak_status=${PIPESTATUS[0]}

say "bringing the nodes in step (every request answered, every answer applied)"
fleet_heartbeats_stop
for round in 1 2 3; do
	for n in 0 1 2; do
		psql -X -q -At "$(fleet_dsn $n)" -c 'SELECT icos.heartbeat()' >/dev/null || die "heartbeat at node $n failed"
	done
	fleet_in_step 0 1 && fleet_in_step 0 2 && fleet_in_step 1 0 && fleet_in_step 2 0 ||
		die "the nodes did not come in step (round $round)"
done

say "invariants at head office, which holds every node's orders"
psql -X "$HQ" -v codes="$W/codes.tsv" -f test/soak/invariants.sql | tee "$W/invariants.txt"
for n in 1 2; do
	printf ' %-57s | %7s | %10s\n' "verify_stock() at store node $n" 1 \
		"$(psql -X -At "$(fleet_dsn $n)" -c 'SELECT count(*) FROM icos.verify_stock()')" |
		tee -a "$W/invariants.txt"
done
for n in 0 1 2; do
	printf ' %-57s | %7s | %10s\n' "replication apply errors at node $n" 1 \
		"$(psql -X -At "$(fleet_dsn $n)" -c 'SELECT coalesce(sum(apply_error_count + sync_error_count), 0) FROM pg_stat_subscription_stats')" |
		tee -a "$W/invariants.txt"
done
pending=$(psql -X -At "$HQ" -c "SELECT count(*) FROM icos.order_line WHERE remote_status = 'pending'")
printf ' %-57s | %7s | %10s\n' "order lines still waiting for another node" 1 "$pending" | tee -a "$W/invariants.txt"
broken=$(awk -F'|' 'NR > 2 && $3 + 0 > 0 { n++ } END { print n + 0 }' "$W/invariants.txt")
[ "$broken" = 0 ] || { echo "soak: $broken invariant(s) broken"; exit 1; }
exit "$soak_status"
