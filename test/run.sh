#!/usr/bin/env bash
# make test: every test layer against throwaway clusters.
#
#   unit       server-free C unit tests of src/core (TAP)
#   fuzz       a short libFuzzer run of each test/fuzz target (TAP)
#   regress    pg_regress: sql/*.sql against expected/*.out
#   isolation  pg_isolation_regress: test/isolation/specs/*.spec
#   pgtap      pg_prove: test/pgtap/*.sql (pgTAP)
#   tap        prove: test/t/*.pl (PostgreSQL::Test::Cluster)
#
# Counts one per unit/pgTAP/TAP assertion and one per pg_regress or isolation
# file, and ends with the line "N passed, N failed".  Environment:
#   ICOS_TEST_LAYERS  which layers to run (default: all, in the order above)
#   ICOS_TEST_PORT    port of the throwaway cluster (default 55432)
#   ICOS_TESTS        only run files whose name matches this extended regex
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. src/tools/common.sh

# TAP tests run as the cluster owner and read the tree: when it cannot (a
# checkout under /root, say), run everything from a readable copy.
if ! owner_can_read "$TOP/test/run.sh"; then
	copy=/tmp/icos-src-$(printf %s "$TOP" | md5sum | cut -c1-8)
	say "the cluster owner cannot read $TOP: testing a copy in $copy"
	rm -rf "$copy"
	mkdir -p "$copy"
	tar -C "$TOP" --exclude=./.run --exclude=./.git -cf - . | tar -C "$copy" -xf -
	chmod -R a+rX "$copy"
	exec bash "$copy/test/run.sh" "$@"
fi

LAYERS=${ICOS_TEST_LAYERS:-unit fuzz regress isolation pgtap tap}
PORT=${ICOS_TEST_PORT:-55432}
FILTER=${ICOS_TESTS:-.}
PGXS_DIR=$(dirname "$(pg_config --pgxs)")/..
OUT=$RUNDIR/test-output

ensure_packages
build_and_install

rm -rf "$OUT"
make_rundir "$OUT"
cluster_destroy test
cluster_start test "$PORT"
export PGHOST PGPORT=$PORT PGUSER=postgres
PGHOST=$(cluster_host test)
trap 'cluster_stop test' EXIT

passed=0
failed=0
failures=""
tally() {			# tally LAYER PASSED FAILED
	passed=$((passed + $2))
	failed=$((failed + $3))
	[ "$3" -gt 0 ] && failures="$failures $1"
	printf '%-10s %5d passed, %d failed\n' "$1:" "$2" "$3"
}

# Count TAP lines in a log; a stream that ended badly (exit status) without
# a failing assertion still counts as one failure.
tap_tally() {			# tap_tally LAYER LOG STATUS
	local ok notok
	ok=$(grep -cE '^[[:space:]]*ok [0-9]' "$2")
	notok=$(grep -cE '^[[:space:]]*not ok [0-9]' "$2")
	[ "$3" -ne 0 ] && [ "$notok" -eq 0 ] && notok=1
	tally "$1" "$ok" "$notok"
}

files() {			# files GLOB...: matching files, filtered by ICOS_TESTS
	local f
	for f in "$@"; do
		[ -e "$f" ] && basename "$f" | grep -qE "$FILTER" && echo "$f"
	done
}

layer_unit() {
	local log=$OUT/unit.log status=0 b
	make -s unit >"$log" 2>&1 || { cat "$log"; tally unit 0 1; return; }
	: >"$log"
	for b in $(files test/unit/*.bin); do
		"$b" >>"$log" 2>&1 || status=1
	done
	[ $status -ne 0 ] && grep -B2 -A8 'not ok' "$log"
	tap_tally unit "$log" $status
}

regress_tally() {		# regress_tally LAYER OUTDIR LOG
	local ok bad
	ok=$(grep -cE '\.\.\. ok' "$3")
	bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$3")
	if [ "$bad" -gt 0 ] && [ -f "$2/regression.diffs" ]; then
		echo "---- $2/regression.diffs ----"
		cat "$2/regression.diffs"
	fi
	tally "$1" "$ok" "$bad"
}

layer_regress() {
	local tests log=$OUT/regress.log
	tests=$(files sql/*.sql | xargs -r -n1 basename | sed 's/\.sql$//')
	[ -z "$tests" ] && return
	mkdir -p "$OUT/regress"
	"$PGXS_DIR/test/regress/pg_regress" --inputdir=. --outputdir="$OUT/regress" \
		--bindir="$PG_BINDIR" --dbname=icos_regress --load-extension=icos \
		$tests >"$log" 2>&1
	grep -E '\.\.\. ' "$log"
	regress_tally regress "$OUT/regress" "$log"
}

layer_isolation() {
	local specs log=$OUT/isolation.log
	specs=$(files test/isolation/specs/*.spec | xargs -r -n1 basename | sed 's/\.spec$//')
	[ -z "$specs" ] && return
	mkdir -p "$OUT/isolation"
	"$PGXS_DIR/test/isolation/pg_isolation_regress" --inputdir=test/isolation \
		--outputdir="$OUT/isolation" --bindir="$PG_BINDIR" \
		--dbname=icos_isolation --load-extension=icos $specs >"$log" 2>&1
	grep -E '\.\.\. ' "$log"
	regress_tally isolation "$OUT/isolation" "$log"
}

layer_pgtap() {
	local tests log=$OUT/pgtap.log status=0
	tests=$(files test/pgtap/*.sql)
	[ -z "$tests" ] && return
	psql -q -X -d postgres -c 'SET client_min_messages = warning' -c 'DROP DATABASE IF EXISTS icos_pgtap' -c 'CREATE DATABASE icos_pgtap' &&
	psql -q -X -d icos_pgtap -v ON_ERROR_STOP=1 \
		-c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION icos' || { tally pgtap 0 1; return; }
	pg_prove --verbose --ext .sql -d icos_pgtap $tests >"$log" 2>&1 || status=$?
	grep -E '^(not ok|.*\.sql \.\.|Failed)' "$log" | grep -v '^ok' | head -50
	[ $status -ne 0 ] && grep -B3 -A12 'not ok' "$log" | head -80
	tap_tally pgtap "$log" $status
}

layer_tap() {
	local tests log=$OUT/tap.log status=0
	tests=$(files test/t/*.pl)
	[ -z "$tests" ] && return
	make_rundir "$OUT/tap"
	as_owner env TESTDIR="$OUT/tap" PG_REGRESS="$PGXS_DIR/test/regress/pg_regress" \
		ICOS_TOP="$TOP" prove --verbose -I "$PGXS_DIR/test/perl" -I test/t $tests \
		>"$log" 2>&1 || status=$?
	grep -E '^t/|\.pl \.\.' "$log" | head -50
	[ $status -ne 0 ] && { grep -B3 -A12 'not ok' "$log" | head -80; tail -20 "$log"; }
	tap_tally tap "$log" $status
}

# ---- fuzz layer: test/fuzz/run.sh --short (see docs/reliability.md) ----
layer_fuzz() {
	local log=$OUT/fuzz.log status=0 targets
	targets=$(files test/fuzz/*.c | xargs -r -n1 basename | sed 's/\.c$//')
	[ -z "$targets" ] && return
	bash test/fuzz/run.sh --short $targets >"$log" 2>&1 || status=$?
	grep -E '^(not )?ok [0-9]' "$log"
	[ $status -ne 0 ] && grep -vE '^(not )?ok [0-9]' "$log" | tail -40
	tap_tally fuzz "$log" $status
}
# ---- end of fuzz layer ----

for layer in $LAYERS; do
	say "layer: $layer"
	"layer_$layer"
done

echo
[ -n "$failures" ] && echo "failing layers:$failures (logs in $OUT)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
