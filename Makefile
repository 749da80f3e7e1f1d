# icos: PGXS build.  `make demo` and `make test` are the two commands a
# newcomer needs; see README.md.  A DBA's `make && make install` and
# `make installcheck` (against a running server, as PGHOST/PGPORT/PGUSER
# say) work as for any PGXS extension; see docs/development.md.

EXTENSION  = icos
PG_CONFIG ?= pg_config

# Versions are the directories of src/sql; the newest is the one built.
VERSIONS   := $(shell ls src/sql | sort -V)
EXTVERSION := $(lastword $(VERSIONS))
CTLVERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" icos.control)
ifneq ($(EXTVERSION),$(CTLVERSION))
$(error icos.control says default_version $(CTLVERSION) but the newest src/sql directory is $(EXTVERSION))
endif
PAIRS       = $(join $(addsuffix --,$(filter-out $(lastword $(VERSIONS)),$(VERSIONS))),$(wordlist 2,99,$(VERSIONS)))
SQL_SCRIPTS = $(foreach v,$(VERSIONS),icos--$(v).sql) $(foreach p,$(PAIRS),icos--$(p).sql)
SQL_SRCS    = $(wildcard src/sql/*/*.sql)
DATA_built  = $(SQL_SCRIPTS)

MODULE_big  = icos
CORE_SRCS   = $(sort $(wildcard src/core/*.c))
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)) $(CORE_SRCS))
PG_CPPFLAGS = -Isrc -Isrc/core -DICOS_VERSION='"$(EXTVERSION)"'
PG_CFLAGS  += -Wall -Wextra -Wno-unused-parameter
ifdef WERROR
PG_CFLAGS  += -Werror
endif

# Exported symbols: only what the extension scripts name, with their
# pg_finfo_ records, and the magic block (src/tools/exports.sh writes the
# list from src/sql at build time; PGXS makes it a version script).  PG15's
# PGDLLEXPORT is empty on Linux, so without the list every non-static
# function would be exported.  -Bsymbolic binds icos's own calls to its own
# functions: another library loaded first into the backend (contrib isn has
# an upc_in) cannot take them over.  `make check-exports` compares nm -D.
SHLIB_EXPORTS = icos_exports.txt
SHLIB_LINK   += -Wl,-Bsymbolic

# make installcheck: pg_regress (sql/, expected/), pg_isolation_regress
# (test/isolation) and prove (test/t) against the running server.
REGRESS        = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS   = --load-extension=icos
ISOLATION      = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=icos
TAP_TESTS      = 1
PROVE_TESTS    = $(sort $(wildcard test/t/*.pl))

EXTRA_CLEAN = $(SQL_SCRIPTS) icos--*.sql.tmp icos_exports.txt icos_exports.list \
              results regression.diffs regression.out output_iso tmp_check \
              test/unit/*.bin

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: every object is rebuilt when any of
# icos's headers changes (a struct that grew must not meet an old object).
$(OBJS): $(wildcard src/*.h src/core/*.h)

# After PGXS, which sets them: the test databases, and the TAP tests' own
# modules (IcosCrash.pm).
CONTRIB_TESTDB   = icos_regress
ISOLATION_TESTDB = icos_isolation
PG_PROVE_FLAGS  += -I $(srcdir)/test/t

$(SQL_SCRIPTS) &: $(SQL_SRCS) src/tools/build-sql.sh
	sh src/tools/build-sql.sh src/sql .

icos_exports.txt: $(SQL_SRCS) $(wildcard src/*.c) src/tools/exports.sh
	sh src/tools/exports.sh $(SQL_SRCS) -- $(wildcard src/*.c) >$@.tmp
	mv $@.tmp $@

.PHONY: check-exports
check-exports: $(shlib) icos_exports.txt
	@sh src/tools/check-exports.sh $(shlib) icos_exports.txt

# Server-free unit tests of the C cores (TAP output, run by `make test`).
UNIT_SRCS = $(sort $(wildcard test/unit/*.c))
UNIT_BINS = $(UNIT_SRCS:.c=.bin)
test/unit/%.bin: test/unit/%.c $(CORE_SRCS) $(wildcard src/core/*.h)
	$(CC) -O1 -g -Wall -Wextra $(if $(WERROR),-Werror) -Isrc/core -o $@ $< $(CORE_SRCS)
unit: $(UNIT_BINS)

.PHONY: demo demo-stop test bench unit
demo:
	@bash src/demo/demo.sh
demo-stop:
	@bash src/demo/demo.sh stop
test:
	@bash test/run.sh
bench:
	@bash test/bench/run.sh

# The client, the icos command: src/cli/Makefile (PGXS PROGRAM), built,
# installed into pg_config's bindir and cleaned with the extension.
.PHONY: cli install-cli clean-cli
all: cli
cli:
	$(MAKE) -C src/cli PG_CONFIG=$(PG_CONFIG)
install: install-cli
install-cli: cli
	$(MAKE) -C src/cli PG_CONFIG=$(PG_CONFIG) install
clean: clean-cli
clean-cli:
	$(MAKE) -C src/cli PG_CONFIG=$(PG_CONFIG) clean

# Longer runs that are not part of installcheck, each in its own file.
include test/soak/soak.mk
include test/fuzz/fuzz.mk
include test/valgrind/valgrind.mk
