#!/usr/bin/env bash
# Builds and installs zenml_rbac, then runs test/demo.sql in a throwaway
# PostgreSQL 15 cluster: two users of two tenants see different rows of the
# same table under row-level security.
#   usage: bash test/demo.sh          (as root on a fresh machine: installs packages)
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh
ensure_packages
build_and_install >/dev/null
exec pg_virtualenv -t -v 15 psql -X -q -v ON_ERROR_STOP=1 -f test/demo.sql
