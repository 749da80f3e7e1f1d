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
