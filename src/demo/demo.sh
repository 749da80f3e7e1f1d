#!/usr/bin/env bash
# make demo: build, install and show icos working on a throwaway local
# PostgreSQL that lives under .run/demo.  Safe to run again: the demo
# database is recreated each time.  `make demo-stop` stops the cluster.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh

PORT=${ICOS_DEMO_PORT:-55450}
DB=icos_demo

if [ "${1:-}" = stop ]; then
	cluster_stop demo
	say "demo cluster stopped (its files stay in $RUNDIR/demo; rm -rf it to start afresh)"
	exit 0
fi

ensure_packages
build_and_install
say "starting the demo cluster on port $PORT"
cluster_start demo "$PORT"
export PGHOST PGPORT=$PORT PGUSER=postgres
PGHOST=$(cluster_host demo)

psql -q -X -d postgres -c 'SET client_min_messages = warning' \
	-c "DROP DATABASE IF EXISTS $DB" || die "could not drop $DB"
# Employees' login roles are cluster-wide: drop the last run's before a new one.
psql -q -X -At -d postgres -c "SELECT quote_ident(rolname) FROM pg_roles WHERE rolname ~ '^emp_[0-9]+$'" |
	while read -r role; do psql -q -X -d postgres -c "DROP ROLE $role"; done
psql -q -X -d postgres -c "CREATE DATABASE $DB" || die "could not create $DB"
psql -q -X -d $DB -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION icos' || die "CREATE EXTENSION failed"

# Every demo employee's password is "demo"; only its SCRAM verifier is sent.
VERIFIER=$(ICOS_PASSWORD=demo perl src/tools/scram-verifier.pl) || die "could not compute a verifier"
export PGDATABASE=$DB
for part in src/demo/[0-9]*; do
	say "$(sed -n '1s/^[-#]* *//p' "$part")"
	case "$part" in
	*.sql)
		psql -X -q -v ON_ERROR_STOP=1 -v verifier="$VERIFIER" -f "$part" ||
			die "demo step $part failed" ;;
	*.sh)
		( . "$part" ) || die "demo step $part failed" ;;
	esac
done

cat <<EOT

The demo cluster is still running.
  Connect:  psql -h $PGHOST -p $PORT -U postgres $DB
  As an employee (password "demo"):
            psql "host=127.0.0.1 port=$PORT dbname=$DB user=emp_101"
  The client (any employee, password "demo"):
            PGHOST=127.0.0.1 PGPORT=$PORT PGDATABASE=$DB PGUSER=emp_101 PGPASSWORD=demo \\
            $PG_BINDIR/icos order show CODE      (or: icos till --store 10)
  Stop it:  make demo-stop
EOT
