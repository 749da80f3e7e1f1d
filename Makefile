# icos: PGXS build.  `make demo` and `make test` are the two commands a
# newcomer needs; see README.md.

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
DATA_built  = $(SQL_SCRIPTS)

MODULE_big  = icos
CORE_SRCS   = $(sort $(wildcard src/core/*.c))
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)) $(CORE_SRCS))
PG_CPPFLAGS = -Isrc -Isrc/core
PG_CFLAGS  += -Wall -Wextra -Wno-unused-parameter
ifdef WERROR
PG_CFLAGS  += -Werror
endif

EXTRA_CLEAN = $(SQL_SCRIPTS) icos--*.sql.tmp results regression.diffs regression.out \
              test/unit/*.bin

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(SQL_SCRIPTS) &: $(wildcard src/sql/*/*.sql) src/tools/build-sql.sh
	sh src/tools/build-sql.sh src/sql .

# Server-free unit tests of the C cores (TAP output, run by `make test`).
UNIT_SRCS = $(sort $(wildcard test/unit/*.c))
UNIT_BINS = $(UNIT_SRCS:.c=.bin)
test/unit/%.bin: test/unit/%.c $(CORE_SRCS) $(wildcard src/core/*.h)
	$(CC) -O1 -g -Wall -Wextra -Werror -Isrc/core -o $@ $< $(CORE_SRCS)
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

# ---- client: the icos command (src/cli) -----------------------------------
# Built with `make`, installed by `make install` into pg_config's bindir
# (add that directory to PATH; see docs/client.md), removed by `make clean`.
CLI_SRCS    = $(sort $(wildcard src/cli/*.c))
CLI_HDRS    = $(wildcard src/cli/*.h)
CLI_CFLAGS  = -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -g \
              -Wall -Wextra -Werror
CLI_LIBPQ_I = $(shell $(PG_CONFIG) --includedir)
CLI_LIBPQ_L = $(shell $(PG_CONFIG) --libdir)

src/cli/icos: $(CLI_SRCS) $(CLI_HDRS)
	$(CC) $(CLI_CFLAGS) -I$(CLI_LIBPQ_I) -o $@ $(CLI_SRCS) -L$(CLI_LIBPQ_L) -lpq

all: src/cli/icos

install: install-cli
.PHONY: install-cli
install-cli: src/cli/icos
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) src/cli/icos '$(DESTDIR)$(bindir)/icos'

EXTRA_CLEAN += src/cli/icos
# ---- end of client section --------------------------------------------------

# ---- make soak: mixed traffic for minutes, then the invariants (test/soak) --
test/soak/soak: test/soak/soak.c
	$(CC) $(CLI_CFLAGS) -pthread -I$(CLI_LIBPQ_I) -o $@ $< -L$(CLI_LIBPQ_L) -lpq
EXTRA_CLEAN += test/soak/soak
.PHONY: soak
soak:
	@bash test/soak/run.sh
# ---- end of soak section ------------------------------------------------------

# ---- fuzzing and valgrind (test/fuzz, test/valgrind; docs/reliability.md) ---
# libFuzzer targets of the server-free cores, built with clang and
# AddressSanitizer + UndefinedBehaviorSanitizer.  `make fuzz` runs each for
# FUZZ_SECONDS (FUZZ_TARGETS picks some); a short run of each is the fuzz
# layer of `make test`.  `make valgrind` runs the pg_regress suite against a
# server under valgrind memcheck (minutes; not part of `make test`).
CLANG        ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_CFLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -Wall -Wextra -Werror -Isrc/core -Itest/fuzz
FUZZ_BINS     = $(patsubst %.c,%.fuzz,$(sort $(wildcard test/fuzz/*.c)))
FUZZ_CORE     = $(patsubst src/core/%.c,test/fuzz/obj/%.o,$(CORE_SRCS))

test/fuzz/obj/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p test/fuzz/obj
	$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<
test/fuzz/%.fuzz: test/fuzz/%.c test/fuzz/fuzz.h $(FUZZ_CORE)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CORE)

.PHONY: fuzz fuzz-build valgrind
fuzz-build: $(FUZZ_BINS)
fuzz:
	@bash test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
valgrind:
	@bash test/valgrind/run.sh

EXTRA_CLEAN += test/fuzz/*.fuzz test/fuzz/obj
# ---- end of fuzzing and valgrind section -------------------------------------
