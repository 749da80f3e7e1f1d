#!/usr/bin/env bash
# make demo: build, install and show icos working on throwaway local
# PostgreSQL clusters under .run/: head office and two store nodes linked by
# logical replication.  Safe to run again: the clusters are recreated each
# time.  `make demo-stop` stops them.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh

PORT=${ICOS_DEMO_PORT:-55450}
DB=icos_demo
# Head office and two store nodes, each its own cluster: demo (head office,
# PORT), demo_s1 (London Oxford Street, PORT+1), demo_s2 (Leeds, PORT+2).
NODES="demo demo_s1 demo_s2"
node_port() { case $1 in demo) echo "$PORT" ;; demo_s1) echo $((PORT + 1)) ;; demo_s2) echo $((PORT + 2)) ;; esac; }
node_dsn() { echo "host=$(cluster_host "$1") port=$(node_port "$1") user=postgres dbname=$DB"; }
HEARTBEATS=$RUNDIR/demo-heartbeats.pids

# in_step_at_hq CLUSTER NODE_ID: a heartbeat at the store, then wait until
# head office has it (and so everything the store committed before it).
in_step_at_hq() {
	local beat
	beat=$(psql -X -At -v ON_ERROR_STOP=1 "$(node_dsn "$1")" -c 'SELECT icos.heartbeat() IS NULL' \
		-c 'SELECT beat_at FROM icos.node_heartbeat WHERE node_id = icos.current_node()' | tail -1) || return 1
	[ "$(psql -X -At "$(node_dsn demo)" -c "SELECT icos.wait_for_heartbeat($2, '$beat')")" = t ]
}

stop_heartbeats() {
	[ -f "$HEARTBEATS" ] || return 0
	while read -r pid; do kill "$pid" 2>/dev/null; done <"$HEARTBEATS"
	rm -f "$HEARTBEATS"
}

if [ "${1:-}" = stop ]; then
	stop_heartbeats
	for n in $NODES; do cluster_stop "$n"; done
	say "demo clusters stopped (their files stay in $RUNDIR; make demo starts afresh)"
	exit 0
fi

ensure_packages
build_and_install
ICOS=$PG_BINDIR/icos
# Every run starts from new clusters: a previous run's subscriptions and
# slots would otherwise reconnect to the databases being recreated.
stop_heartbeats
say "starting head office (port $PORT) and two store nodes (ports $((PORT + 1)), $((PORT + 2)))"
for n in $NODES; do
	cluster_destroy "$n"
	cluster_start "$n" "$(node_port "$n")"
	psql -q -X -h "$(cluster_host "$n")" -p "$(node_port "$n")" -U postgres -d postgres \
		-c "CREATE DATABASE $DB" || die "could not create $DB on $n"
	psql -q -X -v ON_ERROR_STOP=1 "$(node_dsn "$n")" -c 'CREATE EXTENSION icos' ||
		die "CREATE EXTENSION failed on $n"
done
HQ=$(node_dsn demo) S1=$(node_dsn demo_s1) S2=$(node_dsn demo_s2)
export PGHOST PGPORT=$PORT PGUSER=postgres PGDATABASE=$DB
PGHOST=$(cluster_host demo)

# Every demo employee's password is "demo"; only its SCRAM verifier is sent.
VERIFIER=$(ICOS_PASSWORD=demo perl src/tools/scram-verifier.pl) || die "could not compute a verifier"
for part in src/demo/[0-9]*; do
	say "$(sed -n '1s/^[-#]* *//p' "$part")"
	case "$part" in
	*_stock.sql)		# every node receives the stock of its own stores
		for n in $NODES; do
			psql -X -q -v ON_ERROR_STOP=1 -f "$part" "$(node_dsn "$n")" ||
				die "demo step $part failed on $n"
		done
		in_step_at_hq demo_s1 1 && in_step_at_hq demo_s2 2 ||
			die "the stores' stock did not reach head office" ;;
	*.sql)
		psql -X -q -v ON_ERROR_STOP=1 -v verifier="$VERIFIER" \
			-v hq="$HQ" -v s1="$S1" -v s2="$S2" -f "$part" ||
			die "demo step $part failed" ;;
	*.sh)
		( . "$part" ) || die "demo step $part failed" ;;
	esac
done

# Heartbeats keep the nodes answering each other's stock requests while the
# demo stays up (make demo-stop ends them).
for n in $NODES; do
	nohup "$ICOS" --dsn "$(node_dsn "$n")" node heartbeat --every 5 >/dev/null 2>&1 &
	echo $! >>"$HEARTBEATS"
done

cat <<EOT

Head office and both stores are still running, in step (a heartbeat every 5 s).
  Head office:           psql -h $PGHOST -p $PORT -U postgres $DB
  London Oxford Street:  psql -h $(cluster_host demo_s1) -p $((PORT + 1)) -U postgres $DB
  Leeds Trinity:         psql -h $(cluster_host demo_s2) -p $((PORT + 2)) -U postgres $DB
  As an employee (password "demo"), e.g. Priya at her store's database:
                         psql "host=127.0.0.1 port=$((PORT + 1)) dbname=$DB user=emp_101"
  The client (any employee, password "demo"):
            PGHOST=127.0.0.1 PGPORT=$((PORT + 1)) PGDATABASE=$DB PGUSER=emp_101 PGPASSWORD=demo \\
            $ICOS till --store 10       (or: icos order show CODE)
  Links:    $ICOS --dsn "$HQ" node status
  Stop it:  make demo-stop
EOT
