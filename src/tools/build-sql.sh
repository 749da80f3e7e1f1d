#!/bin/sh
# Assemble the extension scripts from src/sql/<version>/*.sql.
#
# Each version directory holds the SQL that version adds, split by area and
# applied in file-name order.  For every version V this writes
#   icos--V.sql        the full install script: every version up to V, in order
#   icos--U--V.sql     the upgrade script from the previous version U: V's files
# so a fresh install and an upgraded one run exactly the same statements.
# A released version's directory is never edited again; changes go into the
# next version's directory (CREATE OR REPLACE, ALTER ...).
set -eu
src=$1
out=$2
versions=$(ls "$src" | sort -V)
prev=""
for v in $versions; do
	full="$out/icos--$v.sql"
	{
		echo "-- icos $v: generated from src/sql by src/tools/build-sql.sh; do not edit"
		printf '%s\n' '\echo Use "CREATE EXTENSION icos" to load this file. \quit'
		for u in $versions; do
			cat "$src/$u"/*.sql
			[ "$u" = "$v" ] && break
		done
	} >"$full.tmp"
	mv "$full.tmp" "$full"
	if [ -n "$prev" ]; then
		up="$out/icos--$prev--$v.sql"
		{
			echo "-- icos $prev -> $v: generated from src/sql/$v by src/tools/build-sql.sh; do not edit"
			printf '%s\n' '\echo Use "ALTER EXTENSION icos UPDATE" to load this file. \quit'
			cat "$src/$v"/*.sql
		} >"$up.tmp"
		mv "$up.tmp" "$up"
	fi
	prev=$v
done
