# make soak: mixed traffic for minutes, then the invariants (test/soak;
# docs/reliability.md).  Included by the top Makefile, after PGXS.
test/soak/soak: test/soak/soak.c
	$(CC) -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra $(if $(WERROR),-Werror) \
		-pthread -I$(includedir) -o $@ $< -L$(libdir) -lpq
EXTRA_CLEAN += test/soak/soak
.PHONY: soak
soak:
	@bash test/soak/run.sh
