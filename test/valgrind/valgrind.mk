# make valgrind: the pg_regress suite against a server under valgrind
# memcheck (minutes; not part of make test; docs/reliability.md).
# Included by the top Makefile.
.PHONY: valgrind
valgrind:
	@bash test/valgrind/run.sh
