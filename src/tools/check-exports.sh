#!/bin/sh
# check-exports.sh LIBRARY LIST: the library's dynamic symbol table defines
# exactly the symbols of LIST (src/tools/exports.sh), no more and no fewer.
# TAP output; exits non-zero on a difference.
set -eu
lib=$1
list=$2
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
grep -v '^#' "$list" | sort -u >"$want"
# Defined dynamic symbols, less the linker's version node (local: * leaves none).
nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort -u >"$have"
echo "1..2"
extra=$(comm -13 "$want" "$have")
if [ -z "$extra" ]; then
	echo "ok 1 - $lib exports nothing its SQL does not name"
else
	echo "not ok 1 - $lib exports symbols its SQL does not name:"
	echo "$extra" | sed 's/^/#   /'
fi
missing=$(comm -23 "$want" "$have")
if [ -z "$missing" ]; then
	echo "ok 2 - $lib defines every symbol its SQL names ($(wc -l <"$want") symbols)"
else
	echo "not ok 2 - $lib lacks symbols its SQL names:"
	echo "$missing" | sed 's/^/#   /'
fi
[ -z "$extra" ] && [ -z "$missing" ]
