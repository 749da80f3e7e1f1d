#!/usr/bin/env bash
# make bench: benchmarks measured side by side on one throwaway cluster.
# Prints markdown tables of medians and ratios; copy the latest run into
# docs/performance.md together with the command that produced it.
#   ICOS_BENCH  which benchmark files of test/bench/ to run (default: all)
#   ICOS_BENCH_PORT  port of the throwaway cluster (default 55460)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. src/tools/common.sh

PORT=${ICOS_BENCH_PORT:-55460}
BENCHES=${ICOS_BENCH:-types orders callgrind reports promotions replication serve also_bought customers}

ensure_packages
build_and_install
cluster_start bench "$PORT" "synchronous_commit = on" "max_connections = 200"
trap 'cluster_stop bench' EXIT
export PGHOST PGPORT=$PORT PGUSER=postgres
PGHOST=$(cluster_host bench)

say "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(postgres --version)"
psql -q -X -d postgres -c 'SET client_min_messages = warning' \
	-c 'DROP DATABASE IF EXISTS icos_bench' -c 'CREATE DATABASE icos_bench' || die "createdb failed"
psql -q -X -d icos_bench -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION icos' -f test/bench/lib.sql ||
	die "bench setup failed"
status=0
for b in $BENCHES; do
	say "benchmark: $b"
	if [ -f "test/bench/$b.sh" ]; then
		bash "test/bench/$b.sh" || status=1
	else
		psql -q -X -d icos_bench -v ON_ERROR_STOP=1 -f "test/bench/$b.sql" || status=1
	fi
done
exit $status
