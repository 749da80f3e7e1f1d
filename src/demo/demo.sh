#!/usr/bin/env bash
# make demo: build, install and show icos working on throwaway local
# PostgreSQL clusters under .run/: head office and two store nodes linked by
# logical replication.  Safe to run again: the clusters are recreated each
# time.  `make demo-stop` stops them.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh
. src/tools/fleet.sh

# Head office (cluster "demo") and the store nodes London Oxford Street
# (demo_s1) and Leeds Trinity (demo_s2) on ports PORT, PORT+1, PORT+2.
PORT=${ICOS_DEMO_PORT:-55450}
FLEET=demo FLEET_PORT=$PORT FLEET_DB=icos_demo
DB=$FLEET_DB
# The agent toolbar (icos serve, docs/toolbar.md) on TOOLBAR_PORT.
TOOLBAR_PORT=${ICOS_DEMO_TOOLBAR_PORT:-$((PORT + 5))}
toolbar_stop() {
	local f=$RUNDIR/demo-toolbar.pid
	[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	rm -f "$f"
}

if [ "${1:-}" = stop ]; then
	toolbar_stop
	fleet_stop
	say "demo clusters stopped (their files stay in $RUNDIR; make demo starts afresh)"
	exit 0
fi

ensure_packages
build_and_install
ICOS=$PG_BINDIR/icos
say "starting head office (port $PORT) and two store nodes (ports $((PORT + 1)), $((PORT + 2)))"
fleet_create
HQ=$(fleet_dsn 0) S1=$(fleet_dsn 1) S2=$(fleet_dsn 2)
export PGHOST PGPORT=$PORT PGUSER=postgres PGDATABASE=$DB
PGHOST=$(cluster_host demo)

# Every demo employee's password is "demo" (src/demo/30_people.sh).
export ICOS_PASSWORD=demo
for part in src/demo/[0-9]*; do
	say "$(sed -n '1s/^[-#]* *//p' "$part")"
	case "$part" in
	*_stock.sql)		# every node receives the stock of its own stores
		for n in 0 1 2; do
			psql -X -q -v ON_ERROR_STOP=1 -f "$part" "$(fleet_dsn $n)" ||
				die "demo step $part failed on node $n"
		done
		fleet_in_step 1 0 && fleet_in_step 2 0 ||
			die "the stores' stock did not reach head office" ;;
	*.sql)
		psql -X -q -v ON_ERROR_STOP=1 \
			-v hq="$HQ" -v s1="$S1" -v s2="$S2" -f "$part" ||
			die "demo step $part failed" ;;
	*.sh)
		( . "$part" ) || die "demo step $part failed" ;;
	esac
done

# Heartbeats keep the nodes answering each other's stock requests while the
# demo stays up (make demo-stop ends them).
fleet_heartbeats_start 5

# The toolbar works on London Oxford Street's database, over TCP with SCRAM.
toolbar_stop
nohup "$ICOS" serve --listen "127.0.0.1:$TOOLBAR_PORT" \
	--dsn "host=127.0.0.1 port=$((PORT + 1)) dbname=$DB" >"$RUNDIR/demo-toolbar.log" 2>&1 &
echo $! >"$RUNDIR/demo-toolbar.pid"
for _ in $(seq 50); do
	grep -q 'the toolbar is at' "$RUNDIR/demo-toolbar.log" && break
	sleep 0.1
done
grep -q 'the toolbar is at' "$RUNDIR/demo-toolbar.log" ||
	die "the toolbar did not start: $(cat "$RUNDIR/demo-toolbar.log")"
tv=$(psql -X -At "$S1" -c "SELECT upc FROM icos.product WHERE name = 'Vista 55in 4K LED television'")

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
  The agent toolbar in a browser: http://127.0.0.1:$TOOLBAR_PORT/
            log in as emp_101 (Priya, London Oxford Street), password "demo"
            (scan the television: $tv and Enter; log: $RUNDIR/demo-toolbar.log)
  Stop it:  make demo-stop
EOT
