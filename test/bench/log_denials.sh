#!/usr/bin/env bash
# zenml_rbac.log_denials must not slow allowed checks: 1,000,000 allowed
# rbac_can() calls with the setting off and on, interleaved, in a throwaway
# cluster.  Prints medians and the on/off ratio; asserts nothing about time.
#   usage: bash test/bench/log_denials.sh     (after make install; ~1 minute)
#   BENCH_REPS (default 7), BENCH_ROWS (default 1000000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${BENCH_SERVER:-}" ]; then
    BENCH_SERVER=pg_virtualenv exec pg_virtualenv -t -v 15 bash "$here/log_denials.sh"
fi
: "${BENCH_REPS:=7}" "${BENCH_ROWS:=1000000}"
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c max_parallel_workers_per_gather=0 -c client_min_messages=warning"
. "$here/lib.sh"

q -d postgres -c "DROP DATABASE IF EXISTS bench_denials" -c "CREATE DATABASE bench_denials"
q -d bench_denials <<'SQL'
CREATE EXTENSION zenml_rbac;
CREATE TABLE ids AS SELECT zenml_rbac.create_organization('o') AS org;
ALTER TABLE ids ADD t uuid, ADD u uuid;
UPDATE ids SET t = zenml_rbac.create_tenant(org, 't'), u = zenml_rbac.create_user('u');
SELECT zenml_rbac.set_org_role(org, u, 'org_viewer'), zenml_rbac.grant_tenant_role(t, u, 'viewer') FROM ids;
SQL

# one timed query: allowed checks only (the count proves it), setting $1
run() {
    q -d bench_denials -v rows="$BENCH_ROWS" -v setting="$1" <<'SQL' | tail -1
SET zenml_rbac.log_denials = :setting;
SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(u, t, 'pipeline', 'read')) FROM ids, generate_series(1, 1000) g;  -- warm
\timing on
SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(u, t, 'pipeline', 'read')) = :rows AS all_allowed
  FROM ids, generate_series(1, :rows) g \gset
\timing off
\if :all_allowed
\else
\warn 'not every check was allowed'
\quit 1
\endif
SQL
}
ms() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }

off="" on=""
for r in $(seq 1 "$BENCH_REPS"); do
    if [ $((r % 2)) = 1 ]; then
        off="$off $(run off | ms)"; on="$on $(run on | ms)"
    else
        on="$on $(run on | ms)"; off="$off $(run off | ms)"
    fi
done
m_off=$(median <<<"$off")
m_on=$(median <<<"$on")
echo "$BENCH_ROWS allowed rbac_can() calls, median of $BENCH_REPS:"
echo "  log_denials off: $m_off ms   (samples:$off)"
echo "  log_denials on:  $m_on ms   (samples:$on)"
awk -v a="$m_on" -v b="$m_off" 'BEGIN {printf "  on / off: %.3fx\n", a / b}'
