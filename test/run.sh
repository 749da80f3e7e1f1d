#!/usr/bin/env bash
# make test: every test layer against throwaway clusters.
#
#   exports    icos.so exports exactly the symbols its SQL names (make check-exports)
#   unit       server-free C unit tests of src/core (TAP)
#   fuzz       a short libFuzzer run of each test/fuzz target (TAP)
#   regress    pg_regress: sql/*.sql against expected/*.out   } make installcheck,
#   isolation  pg_isolation_regress: test/isolation/specs      } one kind at a time,
#   tap        prove: test/t/*.pl (PostgreSQL::Test::Cluster)  } against the cluster
#   pgtap      pg_prove: test/pgtap/*.sql (pgTAP)
#
# A layer passes or fails by its exit status.  The counts are one per
# unit/pgTAP/TAP assertion and one per pg_regress or isolation file, and the
# run ends with the line "N passed, N failed".  Environment:
#   ICOS_TEST_LAYERS  which layers to run (default: all, in the order above)
#   ICOS_TEST_PORT    port of the throwaway cluster (default 55432)
#   ICOS_TESTS        only run files whose name matches this extended regex
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. src/tools/common.sh

# The tests run as the cluster owner and write into the tree (results,
# output_iso, tmp_check, as make installcheck does).  As root, whose
# clusters belong to "postgres", everything runs from a copy postgres owns.
if [ "$(id -u)" = 0 ] && [ -z "${ICOS_TEST_COPY:-}" ]; then
	copy=/tmp/icos-src-$(printf %s "$TOP" | md5sum | cut -c1-8)
	say "testing a copy the cluster owner can write: $copy"
	[ -d "$copy/.run" ] && for d in "$copy"/.run/*/data; do
		[ -f "$d/PG_VERSION" ] && as_owner pg_ctl -D "$d" -m fast -w stop >/dev/null 2>&1
	done
	rm -rf "$copy"
	mkdir -p "$copy"
	tar -C "$TOP" --exclude=./.run --exclude=./.git -cf - . | tar -C "$copy" -xf -
	chown -R postgres: "$copy"
	ICOS_TEST_COPY=$TOP exec bash "$copy/test/run.sh" "$@"
fi

LAYERS=${ICOS_TEST_LAYERS:-exports unit fuzz regress isolation tap pgtap}
PORT=${ICOS_TEST_PORT:-55432}
FILTER=${ICOS_TESTS:-.}
OUT=$RUNDIR/test-output

ensure_packages
build_and_install

rm -rf "$OUT"
make_rundir "$OUT"
# The clusters the TAP tests make run icos as production does, preloaded
# (README.md, "Install"); 035_order_events.pl also tries one without.
echo "$ICOS_SERVER_CONF" >"$OUT/preload.conf"
export TEMP_CONFIG=$OUT/preload.conf
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

# Count TAP lines in a log.  The exit status decides: a stream that ended
# badly without a failing assertion still counts as one failure, and a
# successful one has none (a "not ok" marked TODO does not fail).
tap_tally() {			# tap_tally LAYER LOG STATUS
	local ok notok
	ok=$(grep -cE '^[[:space:]]*ok [0-9]' "$2")
	notok=$(grep -cE '^[[:space:]]*not ok [0-9]' "$2")
	if [ "$3" -eq 0 ]; then
		notok=0
	elif [ "$notok" -eq 0 ]; then
		notok=1
	fi
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

# make installcheck for one kind of test (the others emptied), as the
# cluster owner; its exit status decides.  Counts are read from the log.
installcheck() {		# installcheck LOG VAR=VALUE...
	local log=$1
	shift
	as_owner make -s -C "$TOP" installcheck PG_CONFIG="$PG_BINDIR/pg_config" \
		REGRESS= ISOLATION= TAP_TESTS= "$@" >"$log" 2>&1
}

# A layer of pg_regress-style files: one count per file.
regress_tally() {		# regress_tally LAYER LOG STATUS DIFFS
	local ok bad
	ok=$(grep -cE '^(ok|test) .*\.\.\. ok|^ok [0-9]|\.\.\. ok' "$2")
	bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]' "$2")
	if [ "$3" -eq 0 ]; then
		bad=0
	else
		[ "$bad" -eq 0 ] && bad=1
		[ -f "$4" ] && { echo "---- $4 ----"; cat "$4"; }
		tail -5 "$2"
	fi
	tally "$1" "$ok" "$bad"
}

layer_exports() {
	local log=$OUT/exports.log status=0
	make -s -C "$TOP" check-exports PG_CONFIG="$PG_BINDIR/pg_config" >"$log" 2>&1 || status=$?
	grep -E '^(not )?ok [0-9]' "$log"
	[ $status -ne 0 ] && grep -v '^ok' "$log"
	tap_tally exports "$log" $status
}

layer_regress() {
	local tests log=$OUT/regress.log status=0
	tests=$(files sql/*.sql | xargs -r -n1 basename | sed 's/\.sql$//')
	[ -z "$tests" ] && return
	installcheck "$log" REGRESS="$(echo $tests)" || status=$?
	grep -E '\.\.\. ' "$log"
	regress_tally regress "$log" $status "$TOP/regression.diffs"
}

layer_isolation() {
	local specs log=$OUT/isolation.log status=0
	specs=$(files test/isolation/specs/*.spec | xargs -r -n1 basename | sed 's/\.spec$//')
	[ -z "$specs" ] && return
	installcheck "$log" ISOLATION="$(echo $specs)" || status=$?
	grep -E '\.\.\. ' "$log"
	regress_tally isolation "$log" $status "$TOP/output_iso/regression.diffs"
}

layer_tap() {
	local tests log=$OUT/tap.log status=0
	tests=$(files test/t/*.pl)
	[ -z "$tests" ] && return
	installcheck "$log" TAP_TESTS=1 PROVE_TESTS="$(echo $tests)" PROVE_FLAGS=--verbose || status=$?
	grep -E '^t/|\.pl \.\.' "$log" | head -50
	[ $status -ne 0 ] && { grep -B3 -A12 'not ok' "$log" | head -80; tail -20 "$log"; }
	tap_tally tap "$log" $status
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
