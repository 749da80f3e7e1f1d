#!/usr/bin/env bash
# make valgrind: the pg_regress suite (sql/*.sql) against a server running
# under valgrind memcheck (see docs/reliability.md).
#
# The server is a throwaway cluster "valgrind" on port ICOS_TEST_PORT + 3
# (default 55435).  Every server process runs under memcheck with
# test/valgrind/postgresql.supp, --leak-check=no (the server frees memory
# by memory context, not one by one), --track-origins=yes and
# --error-exitcode=128, so that a backend with a memory error exits as if it
# had crashed and the test that ran it fails.  Logs, one per process, go to
# $RUNDIR/valgrind/logs; the summary at the end counts the errors and shows
# in full those whose stack passes through icos.so.  ICOS_TESTS filters the
# sql/ files as in make test.  Takes many minutes.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh

PORT=$(( ${ICOS_TEST_PORT:-55432} + 3 ))
FILTER=${ICOS_TESTS:-.}
OUT=$RUNDIR/valgrind-run
PGXS_DIR=$(dirname "$(pg_config --pgxs)")/..
SUPP=$TOP/test/valgrind/postgresql.supp

ensure_packages valgrind
command -v valgrind >/dev/null || die "valgrind not found"
build_and_install

# Shutting down under valgrind can take longer than pg_ctl's default minute.
vg_stop() {
	[ -f "$RUNDIR/valgrind/data/postmaster.pid" ] || return 0
	as_owner pg_ctl -D "$RUNDIR/valgrind/data" -m fast -w -t 600 stop >/dev/null 2>&1 || true
}

vg_stop
cluster_destroy valgrind
rm -rf "$OUT"
make_rundir "$OUT"
make_rundir "$OUT/logs"
# valgrind runs as the cluster owner, who may not read the checkout (root's)
cp "$SUPP" "$OUT/postgresql.supp"
chmod a+r "$OUT/postgresql.supp"
SUPP=$OUT/postgresql.supp
# initdb and the configuration, then stop: the real start is under valgrind
cluster_start valgrind "$PORT" "jit = off" "max_connections = 20" \
	"shared_buffers = 64MB" "log_min_messages = warning" "log_line_prefix = '%m %p '"
cluster_stop valgrind
data=$RUNDIR/valgrind/data

say "starting PostgreSQL under valgrind on port $PORT (slow)"
as_owner valgrind --tool=memcheck --leak-check=no --track-origins=yes \
	--error-exitcode=128 --trace-children=yes --num-callers=40 --fullpath-after= \
	--suppressions="$SUPP" --gen-suppressions=all \
	--error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
	--log-file="$OUT/logs/%p.log" \
	postgres -D "$data" >"$OUT/postmaster.log" 2>&1 &
trap vg_stop EXIT

export PGHOST PGPORT=$PORT PGUSER=postgres
PGHOST=$(cluster_host valgrind)
for i in $(seq 1 600); do
	pg_isready -q && break
	sleep 1
done
pg_isready -q || { tail -20 "$OUT/postmaster.log"; die "the server did not start under valgrind"; }

tests=$(ls sql/*.sql | xargs -n1 basename | sed 's/\.sql$//' | grep -E "$FILTER")
say "running pg_regress ($(echo $tests | wc -w) files) against it"
start=$(date +%s)
status=0
"$PGXS_DIR/test/regress/pg_regress" --inputdir=. --outputdir="$OUT/regress" \
	--bindir="$PG_BINDIR" --dbname=icos_regress --load-extension=icos \
	$tests >"$OUT/regress.log" 2>&1 || status=$?
grep -E '\.\.\. ' "$OUT/regress.log"
elapsed=$(( $(date +%s) - start ))
vg_stop
trap - EXIT

# ---- summary ----
errors=0
icos_errors=0
procs=0
: >"$OUT/icos-errors.txt"
for f in "$OUT"/logs/*.log; do
	n=$(grep -c 'VALGRINDERROR-BEGIN' "$f")
	[ "$n" -gt 0 ] || continue
	procs=$((procs + 1))
	errors=$((errors + n))
	# one error per BEGIN..END block; attribute it to icos when icos.so is on its stack
	awk -v file="$(basename "$f")" '
		/VALGRINDERROR-BEGIN/ { block = ""; inb = 1; next }
		/VALGRINDERROR-END/ { if (block ~ /icos\.so|\/src\/(core\/)?[a-z_]+\.c:/) print "==== " file "\n" block; inb = 0; next }
		inb { block = block $0 "\n" }' "$f" >>"$OUT/icos-errors.txt"
done
icos_errors=$(grep -c '^==== ' "$OUT/icos-errors.txt")
echo
echo "valgrind: pg_regress took ${elapsed}s; $(ls "$OUT"/logs | wc -l) server processes ran under memcheck"
echo "valgrind: $errors unsuppressed error(s) in $procs process(es), $icos_errors with icos.so on the stack"
if [ "$icos_errors" -gt 0 ]; then
	echo "---- errors attributable to icos (full list: $OUT/icos-errors.txt) ----"
	head -150 "$OUT/icos-errors.txt"
fi
if [ "$errors" -gt "$icos_errors" ]; then
	echo "---- other errors: see the VALGRINDERROR blocks in $OUT/logs/*.log"
	grep -l VALGRINDERROR-BEGIN "$OUT"/logs/*.log | head -5
fi
[ $status -ne 0 ] && { echo "pg_regress failed under valgrind: $OUT/regress/regression.diffs"; head -60 "$OUT/regress/regression.diffs" 2>/dev/null; }
[ $status -eq 0 ] && [ "$errors" -eq 0 ]
