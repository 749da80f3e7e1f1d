# Shared shell functions for make demo, make test and make bench.
# Sourced, not executed.  Everything here works as root (clusters run as the
# unprivileged "postgres" user through runuser) and as a normal user with sudo.

PG_MAJOR=${PG_MAJOR:-15}
# ICOS_PG_BINDIR lets a developer build and test against a private copy of
# the PostgreSQL installation (see docs/development.md).
PG_BINDIR=${ICOS_PG_BINDIR:-/usr/lib/postgresql/$PG_MAJOR/bin}
export PATH="$PG_BINDIR:$PATH"
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RUNDIR=${RUNDIR:-$TOP/.run}
# True when the cluster owner can read files under $1 (as root, clusters and
# TAP tests run as "postgres", who may not enter a checkout under /root).
owner_can_read() {
	[ "$(id -u)" != 0 ] || runuser -u postgres -- test -r "$1" 2>/dev/null
}

# A Unix socket path is limited to about 100 bytes, and the cluster owner must
# be able to reach the clusters: otherwise keep them under /tmp.
if [ ${#RUNDIR} -gt 70 ] || ! owner_can_read "$TOP/Makefile"; then
	RUNDIR=/tmp/icos-run-$(printf %s "$TOP" | md5sum | cut -c1-8)
fi

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The operating-system user that owns throwaway clusters.  initdb and
# postgres refuse to run as root, so root hands them to "postgres".
cluster_os_user() {
	if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# Run a command as the cluster owner.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- env PATH="$PATH" "$@"
	else
		"$@"
	fi
}

# Debian packages the build, the tests, the demo and the benchmarks need.
ICOS_PACKAGES="build-essential postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
postgresql-$PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl
libipc-run-perl libpq-dev libmicrohttpd-dev chromium"
# The integration examples (docs/examples, test/t/090_integration.pl) and the
# monitoring test (test/t/091_monitoring.pl).  npm comes with some builds of
# nodejs (NodeSource's conflicts with Debian's npm package): ask for Debian's
# only when there is none.
ICOS_PACKAGES="$ICOS_PACKAGES python3-psycopg nodejs prometheus-postgres-exporter"
command -v npm >/dev/null 2>&1 || ICOS_PACKAGES="$ICOS_PACKAGES npm"

ensure_packages() {
	local missing="" p
	for p in $ICOS_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing Debian packages:$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
		die "apt-get install failed for:$missing"
	# Debian's postgresql package creates and may start a default cluster on
	# port 5432; icos never uses it.
}

build_and_install() {
	say "building and installing the extension"
	make -C "$TOP" -s all WERROR=1 PG_CONFIG="$PG_BINDIR/pg_config" >/dev/null ||
		die "build failed"
	as_root make -C "$TOP" -s install PG_CONFIG="$PG_BINDIR/pg_config" >/dev/null ||
		die "make install failed"
}

# make_rundir DIR: a directory the cluster owner can write.
make_rundir() {
	mkdir -p "$1"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$1"
	# The owner must be able to reach it.
	chmod 755 "$RUNDIR" "$1" 2>/dev/null || true
}

# How icos runs in production, and so in every cluster the tests, the demo
# and the benchmarks start (the TAP tests' own through TEMP_CONFIG).
ICOS_SERVER_CONF="shared_preload_libraries = 'icos'"

# cluster_start NAME PORT [extra postgresql.conf lines...]
# Creates (once) and starts a throwaway cluster in $RUNDIR/NAME, listening on
# 127.0.0.1:PORT and a Unix socket in the same directory.  The cluster's
# superuser is "postgres"; local socket connections are trusted, TCP
# connections need a SCRAM password.
cluster_start() {
	local name=$1 port=$2
	shift 2
	local dir=$RUNDIR/$name
	mkdir -p "$RUNDIR"
	[ "$(id -u)" = 0 ] && chown postgres: "$RUNDIR"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		rm -rf "$dir"
		make_rundir "$dir"
		as_owner initdb -D "$dir/data" -U postgres --auth-local=trust \
			--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log"; die "initdb failed for $name"; }
		{
			echo "port = $port"
			echo "listen_addresses = '127.0.0.1'"
			echo "unix_socket_directories = '$dir'"
			echo "max_connections = 100"
			echo "shared_buffers = 256MB"
			echo "wal_level = logical"
			echo "max_worker_processes = 16"
			echo "max_replication_slots = 16"
			echo "max_wal_senders = 16"
			echo "max_slot_wal_keep_size = 4GB"
			echo "fsync = on"
			echo "log_min_messages = warning"
			echo "password_encryption = 'scram-sha-256'"
			echo "$ICOS_SERVER_CONF"
			for line in "$@"; do echo "$line"; done
		} | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
	fi
	if ! as_owner pg_ctl -D "$dir/data" status >/dev/null 2>&1; then
		as_owner pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
			{ tail -20 "$dir/server.log"; die "could not start cluster $name"; }
	fi
}

cluster_stop() {
	local dir=$RUNDIR/$1
	[ -f "$dir/data/PG_VERSION" ] || return 0
	as_owner pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

cluster_destroy() {
	cluster_stop "$1"
	rm -rf "${RUNDIR:?}/$1"
}

# The Unix socket directory of a cluster; use as PGHOST.
cluster_host() { echo "$RUNDIR/$1"; }
