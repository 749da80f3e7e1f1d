#!/usr/bin/env bash
# Run the libFuzzer targets of test/fuzz (see docs/reliability.md).
#
#   test/fuzz/run.sh SECONDS [TARGET...]   each target for SECONDS (make fuzz)
#   test/fuzz/run.sh --short [TARGET...]   each target for 2 s (make test)
#
# Targets default to every test/fuzz/*.c.  Each run starts from the committed
# seed corpus test/fuzz/corpus/TARGET (read only) plus a working corpus in
# $RUNDIR/fuzz/TARGET/corpus, which a long run keeps and later runs reuse
# (the short run of make test starts from the seeds alone, in
# $RUNDIR/fuzz-short).  A crash, leak, sanitizer report, timeout or broken
# invariant saves the input as crash-* (or leak-*, timeout-*) in that
# directory and fails the target.
# Prints one TAP line per target and exits non-zero if any failed.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh

short=false
if [ "${1:-}" = --short ]; then
	short=true
	seconds=${ICOS_FUZZ_SHORT_SECONDS:-2}
else
	seconds=${1:-60}
fi
shift
case $seconds in '' | *[!0-9]*) die "seconds must be a whole number, not '$seconds'" ;; esac

# clang and its runtime libraries (libFuzzer, sanitizers): Debian 12 ships
# them as clang (clang-14) and libclang-rt-14-dev.
ensure_packages clang libclang-rt-14-dev
command -v "${CLANG:-clang}" >/dev/null || die "${CLANG:-clang} not found"

targets="$*"
[ -z "$targets" ] && targets=$(ls test/fuzz/*.c | xargs -n1 basename | sed 's/\.c$//')
bins=""
for t in $targets; do
	[ -f "test/fuzz/$t.c" ] || die "no fuzz target test/fuzz/$t.c"
	bins="$bins test/fuzz/$t.fuzz"
done
make -s $bins || die "building the fuzz targets failed"

n=0
failed=0
for t in $targets; do
	n=$((n + 1))
	if $short; then
		dir=$RUNDIR/fuzz-short/$t
		rm -rf "$dir"
	else
		dir=$RUNDIR/fuzz/$t
	fi
	mkdir -p "$dir/corpus" test/fuzz/corpus/"$t"
	rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
	log=$dir/fuzz.log
	status=0
	"test/fuzz/$t.fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 -artifact_prefix="$dir/" \
		"$dir/corpus" "test/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+.*(DONE|INITED)' "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	seed=$(sed -n 's/.*Seed: \([0-9]*\).*/\1/p' "$log" | head -1)
	if [ $status -eq 0 ]; then
		echo "ok $n - fuzz $t: ${runs:-?} runs in ${seconds}s, coverage ${cov:-?} edges, no failure (seed $seed)"
	else
		failed=$((failed + 1))
		artifact=$(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null | head -1)
		echo "not ok $n - fuzz $t: failed after ${runs:-?} runs (seed $seed), input saved as ${artifact:-none}"
		grep -E -A12 'invariant failed|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' "$log" |
			head -40 | sed 's/^/# /'
		echo "# reproduce: make test/fuzz/$t.fuzz && test/fuzz/$t.fuzz ${artifact:-<input>}"
	fi
done
echo "1..$n"
[ $failed -eq 0 ]
