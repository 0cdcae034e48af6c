#!/usr/bin/env bash
# Builds, installs and tests zenml_rbac against one PostgreSQL major whose
# packages are installed where this runs (the host, or a chroot of
# test/lib/chroot.sh), in a throwaway cluster.  Run by test/run.sh from a
# copy of the checkout that the postgres user can enter; its last line is
# "N passed, N failed".
#   usage: bash test/lib/run_major.sh MAJOR
set -euo pipefail
cd "$(dirname "$0")/../.."
major=${1:?usage: run_major.sh MAJOR}
bindir=/usr/lib/postgresql/$major/bin
[ -x "$bindir/pg_config" ] || { echo "PostgreSQL $major is not installed here"; echo "0 passed, 1 failed"; exit 1; }
# every pg_config, psql and pg_regress the suites call is this major's
export PATH="$bindir:$PATH"
export PG_CONFIG=$bindir/pg_config
. test/lib/setup.sh
build_and_install
summary=$(mktemp)
status=0
# -t: a cluster of its own under /tmp, whatever else this machine runs
ZENML_RBAC_SUMMARY=$summary pg_virtualenv -t -v "$major" bash test/lib/suites.sh || status=$?
cat "$summary" 2>/dev/null || echo "0 passed, 1 failed"
rm -f "$summary"
exit $status
