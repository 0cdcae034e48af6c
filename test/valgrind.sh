#!/usr/bin/env bash
# Runs the pg_regress suite against a server running under valgrind memcheck
# and reports every error whose stack passes through zenml_rbac.so.
#   usage: bash test/valgrind.sh      (after make install; takes several minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
bindir=$(pg_config --bindir)
work=$(mktemp -d /tmp/zenml_rbac_valgrind.XXXX)
chown postgres "$work"
port=${VALGRIND_PORT:-5497}
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$bindir/initdb" -D "$work/data" -A trust >/dev/null
as_pg bash -c "valgrind --quiet --trace-children=yes --error-limit=no --num-callers=30 \
    --read-var-info=no --log-file=$work/vg.%p.log \
    $bindir/postgres -D $work/data -p $port -k $work -c max_connections=20 >$work/server.log 2>&1 &"
for _ in $(seq 120); do
    PGHOST=$work PGPORT=$port PGUSER=postgres psql -X -qAtc 'select 1' >/dev/null 2>&1 && break
    sleep 1   # waiting for a server to accept connections, not synchronizing a test
done
status=0
PGHOST=$work PGPORT=$port PGUSER=postgres make -s installcheck ISOLATION= || status=$?
as_pg "$bindir/pg_ctl" -D "$work/data" -m fast stop >/dev/null || true
# an error block is reported if any frame of it is in our library
ours=$(awk 'FNR==1{blk=""} /^==[0-9]+== *$/{if (blk ~ /zenml_rbac/) {print blk; n++} blk=""; next} {blk=blk"\n"$0} END{}' "$work"/vg.*.log | tee "$work/ours.txt" | grep -c "^==.*== [A-Z]" || true)
echo "regress exit status: $status"
echo "valgrind errors through zenml_rbac.so: $ours (logs: $work)"
[ "$status" -eq 0 ] && [ "$ours" -eq 0 ]
