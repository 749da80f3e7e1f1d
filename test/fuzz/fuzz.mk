# Fuzzing (test/fuzz; docs/reliability.md).  Included by the top Makefile.
# libFuzzer targets of the server-free cores, built with clang and
# AddressSanitizer + UndefinedBehaviorSanitizer.  `make fuzz` runs each for
# FUZZ_SECONDS (FUZZ_TARGETS picks some); a short run of each is the fuzz
# layer of `make test`.
CLANG        ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_CFLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -Wall -Wextra $(if $(WERROR),-Werror) -Isrc/core -Itest/fuzz
FUZZ_BINS     = $(patsubst %.c,%.fuzz,$(sort $(wildcard test/fuzz/*.c)))
FUZZ_CORE     = $(patsubst src/core/%.c,test/fuzz/obj/%.o,$(CORE_SRCS))

test/fuzz/obj/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p test/fuzz/obj
	$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<
test/fuzz/%.fuzz: test/fuzz/%.c test/fuzz/fuzz.h $(FUZZ_CORE)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CORE)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz:
	@bash test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

EXTRA_CLEAN += test/fuzz/*.fuzz test/fuzz/obj
