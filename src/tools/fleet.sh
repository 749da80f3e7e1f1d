# A fleet for make demo and make soak: head office and two store nodes as
# three throwaway clusters on this machine, linked by logical replication
# with the icos client.  Sourced after common.sh, with FLEET (the cluster
# name of head office; the stores are ${FLEET}_s1 and ${FLEET}_s2),
# FLEET_PORT (head office's port; the stores take the next two) and
# FLEET_DB (the database on every node) set.  Nodes are numbered as icos
# numbers them: 0 is head office, 1 and 2 the stores.

fleet_cluster() { if [ "$1" = 0 ]; then echo "$FLEET"; else echo "${FLEET}_s$1"; fi; }
fleet_port() { echo $((FLEET_PORT + $1)); }
fleet_dsn() {
	echo "host=$(cluster_host "$(fleet_cluster "$1")") port=$(fleet_port "$1") user=postgres dbname=$FLEET_DB"
}

# fleet_create [postgresql.conf lines...]: new clusters, each with the
# database and the extension.  Always new: a previous run's subscriptions
# and slots would otherwise reconnect to the databases being recreated.
fleet_create() {
	local n c
	fleet_heartbeats_stop
	for n in 0 1 2; do
		c=$(fleet_cluster $n)
		cluster_destroy "$c"
		cluster_start "$c" "$(fleet_port $n)" "$@"
		psql -q -X -h "$(cluster_host "$c")" -p "$(fleet_port $n)" -U postgres -d postgres \
			-c "CREATE DATABASE $FLEET_DB" || die "could not create $FLEET_DB on $c"
		psql -q -X -v ON_ERROR_STOP=1 "$(fleet_dsn $n)" -c 'SET client_min_messages = warning' \
			-c 'CREATE EXTENSION icos' || die "CREATE EXTENSION failed on $c"
	done
}

fleet_stop() {
	local n
	fleet_heartbeats_stop
	for n in 0 1 2; do cluster_stop "$(fleet_cluster $n)"; done
}

# fleet_link NAME1 NAME2: head office and both stores linked, each command
# shown as it runs (head office must already list the stores' node ids).
fleet_link() {
	local icos=$PG_BINDIR/icos
	printf '$ icos node init-hq\n'
	"$icos" --dsn "$(fleet_dsn 0)" node init-hq || return 1
	printf '$ icos node add-store --store 1 --name %s\n' "'$1'"
	"$icos" node add-store --hq "$(fleet_dsn 0)" --store-dsn "$(fleet_dsn 1)" --store 1 --name "$1" || return 1
	printf '$ icos node add-store --store 2 --name %s\n' "'$2'"
	"$icos" node add-store --hq "$(fleet_dsn 0)" --store-dsn "$(fleet_dsn 2)" --store 2 --name "$2"
}

# fleet_in_step FROM TO: a heartbeat at node FROM, then wait (up to 30 s)
# until node TO has it, and so everything FROM committed before it.
fleet_in_step() {
	local beat
	beat=$(psql -X -At -v ON_ERROR_STOP=1 "$(fleet_dsn "$1")" -c "SELECT icos.heartbeat() ->> 'at'") ||
		return 1
	[ "$(psql -X -At "$(fleet_dsn "$2")" -c "SELECT icos.wait_for_heartbeat($1, '$beat')")" = t ]
}

# Heartbeats (which also answer cross-store stock requests) every SECONDS
# on every node, in the background until fleet_heartbeats_stop.
fleet_heartbeats_start() {
	local n
	for n in 0 1 2; do
		nohup "$PG_BINDIR/icos" --dsn "$(fleet_dsn $n)" node heartbeat --every "$1" >/dev/null 2>&1 &
		echo $! >>"$RUNDIR/$FLEET-heartbeats.pids"
	done
}
fleet_heartbeats_stop() {
	local f=$RUNDIR/$FLEET-heartbeats.pids pid
	[ -f "$f" ] || return 0
	while read -r pid; do kill "$pid" 2>/dev/null; done <"$f"
	rm -f "$f"
}

# fleet_employees_add: head office's staff, added with the client as an
# admin would (`icos employee add`, the password from ICOS_PASSWORD: the
# client computes the SCRAM verifier, the password never reaches a server).
# Reads "id|name|store|position" lines.
fleet_employees_add() {
	local id name store position
	while IFS='|' read -r id name store position; do
		[ -z "$id" ] && continue
		"$PG_BINDIR/icos" --dsn "$(fleet_dsn 0)" employee add --id "$id" --name "$name" \
			--store "$store" --position "$position" </dev/null >/dev/null || return 1
	done
}

# fleet_logins N EMPLOYEE_ID...: login roles belong to a cluster, so store
# node N creates its own staff's logins (icos.create_employee_login) with
# the SCRAM verifiers head office holds: the same password everywhere.
fleet_logins() {
	local n=$1 e v
	shift
	for e in "$@"; do
		v=$(psql -X -At -v ON_ERROR_STOP=1 "$(fleet_dsn 0)" \
			-c "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = 'emp_$e'") && [ -n "$v" ] ||
			return 1
		echo "SELECT icos.create_employee_login(:e, :'v')" |
			psql -X -q -v ON_ERROR_STOP=1 -v e="$e" -v v="$v" "$(fleet_dsn "$n")" >/dev/null || return 1
	done
}
