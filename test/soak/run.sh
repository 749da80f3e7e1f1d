#!/usr/bin/env bash
# make soak: mixed traffic of a trading day for ICOS_SOAK_SECONDS (default
# 600) against a throwaway cluster loaded with the demo catalogue, then the
# invariant checks.  Prints the soak table (throughput, p50/p99 per
# operation, errors by SQLSTATE) and the invariants; exits non-zero on an
# unexpected error or a broken invariant.
#   ICOS_SOAK_SECONDS  length of the run (default 600)
#   ICOS_SOAK_CLIENTS  client threads (default 8)
#   ICOS_SOAK_PORT     port of the throwaway cluster (default 55480)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh

PORT=${ICOS_SOAK_PORT:-55480}
SECS=${ICOS_SOAK_SECONDS:-600}
CLIENTS=${ICOS_SOAK_CLIENTS:-8}
DB=icos_soak
W=$RUNDIR/soak-work

ensure_packages
build_and_install
make -s -C "$TOP" test/soak/soak PG_CONFIG="$PG_BINDIR/pg_config" || die "could not build the soak driver"
cluster_destroy soak
cluster_start soak "$PORT" "max_connections = 200"
trap 'cluster_stop soak' EXIT
export PGHOST PGPORT=$PORT PGUSER=postgres
PGHOST=$(cluster_host soak)
rm -rf "$W"; mkdir -p "$W"; chmod 777 "$W"

say "loading the demo catalogue, employees and stock"
psql -q -X -d postgres -c "CREATE DATABASE $DB" || die "createdb failed"
VERIFIER=$(ICOS_PASSWORD=soak perl src/tools/scram-verifier.pl) || die "could not compute a verifier"
{
	echo 'CREATE EXTENSION icos;'
	cat src/demo/20_catalogue.sql src/demo/30_people.sql
	cat <<'SQL'
\o /dev/null
SELECT icos.create_employee(950, 'Head office analyst', 1, 'reporter', :'verifier');
SELECT count(icos.receive_stock(s.store_id, p.upc, 500, 'soak stock'))
FROM icos.store s CROSS JOIN icos.product p
WHERE s.kind IN ('store', 'warehouse') AND NOT p.made_to_order;
\o
SQL
} | psql -X -q -d $DB -v ON_ERROR_STOP=1 -v verifier="$VERIFIER" >/dev/null || die "soak setup failed"

say "soak: $CLIENTS clients for ${SECS}s (till, store, web and phone orders; enquiries, edits, cancels, stock, reports, promotion changes)"
sock="host=$PGHOST port=$PORT dbname=$DB"
test/soak/soak --seconds "$SECS" --clients "$CLIENTS" --codes "$W/codes.tsv" \
	--target "$sock user=emp_101|10|pos" \
	--target "$sock user=emp_301|12|store" \
	--target "$sock user=emp_111|1|web" \
	--target "$sock user=emp_201|2|phone" \
	--admin "$sock user=emp_900" --reporter "$sock user=emp_950" | tee "$W/soak.md"
soak_status=${PIPESTATUS[0]}

say "invariants"
psql -X -d $DB -v codes="$W/codes.tsv" -f test/soak/invariants.sql | tee "$W/invariants.txt"
broken=$(awk -F'|' 'NR > 2 && $3 + 0 > 0 { n++ } END { print n + 0 }' "$W/invariants.txt")
[ "$broken" = 0 ] || { echo "soak: $broken invariant(s) broken"; exit 1; }
exit "$soak_status"
