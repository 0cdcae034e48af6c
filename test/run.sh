#!/usr/bin/env bash
# Runs every test suite of zenml_rbac (pg_regress, isolation, pgTAP, Perl
# cluster tests) against a freshly built and installed extension, in a
# throwaway PostgreSQL 15 cluster.  Ends with "N passed, N failed".
#   usage: bash test/run.sh          (as root on a fresh machine: installs packages)
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh
ensure_packages clang libclang-rt-14-dev     # the fuzzers' corpus replay
build_and_install
# the tally is printed after pg_virtualenv has dropped its cluster, so that
# "N passed, N failed" is the last line
summary=$(mktemp)
status=0
ZENML_RBAC_SUMMARY=$summary pg_virtualenv -v 15 bash test/lib/suites.sh || status=$?
cat "$summary" 2>/dev/null || echo "0 passed, 1 failed"
rm -f "$summary"
exit $status
