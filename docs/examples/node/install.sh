#!/bin/sh
# Installs the Node example's one dependency, node-postgres ("pg"), with npm
# from the package registry npm is configured for, into node_modules beside
# this script.  No lock file is written (.npmrc), so none names a registry.
set -e
cd "$(dirname "$0")"
[ -f node_modules/pg/package.json ] && exit 0
npm install --no-package-lock --no-audit --no-fund --loglevel=error
