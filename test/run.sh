#!/usr/bin/env bash
# Runs every test suite of zenml_rbac (pg_regress, isolation, pgTAP, Perl
# cluster tests) against a freshly built and installed extension, in a
# throwaway PostgreSQL 15 cluster.  Ends with "N passed, N failed".
#   usage: bash test/run.sh          (as root on a fresh machine: installs packages)
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh
ensure_packages
build_and_install
exec pg_virtualenv -v 15 bash test/lib/suites.sh
