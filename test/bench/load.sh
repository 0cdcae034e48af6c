#!/usr/bin/env bash
# Mixed-workload benchmark of zenml_rbac in a throwaway PostgreSQL 15
# cluster: pgbench runs the workload of the load test (test/t/workload/:
# RLS reads as random principals, rbac_can checks, tenant role grants and
# revokes, shares, rows written through RLS, every change ledgered) against
# the protected table, and the very same scripts against a copy of the
# database where the table is not protected (same rows; unprotect()), with
# 1 and 2 clients, interleaved.  Reports TPS, the ratio with RLS / without,
# and per-script latencies; then checks both databases (audit chain valid,
# one event per ledgered change, rbac_can = effective_permissions).
# Exits non-zero if a check fails (timings are reported, never asserted).
#   usage: bash test/bench/load.sh                 (after make install; about 2.5 minutes)
#          BENCH_QUICK=1 bash test/bench/load.sh   (3 s runs, 1 round: under a minute)
# Knobs: see test/bench/README.md.  BENCH_SERVER=existing runs against the
# server the PG* variables point at instead (databases bench_load_rls and
# bench_load_plain, dropped and recreated; the role fixture_app is created
# if missing and left in place).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wl=$(cd "$here/../t/workload" && pwd)

# -t: a cluster in a temporary directory even as root.  pg_virtualenv
# turns fsync off; it is turned back on: the catalog changes' commits
# flush WAL as they would in production.  The report alone to stdout.
. "$here/lib.sh"
run_in_virtualenv "$here/load.sh" -t -v 15 -o fsync=on -o shared_buffers=256MB -o max_wal_size=4GB -o checkpoint_timeout=30min

# ---------------------------------------------------------------- knobs
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_REPS:=1}" "${BENCH_LOAD_SECONDS:=3}"
fi
: "${BENCH_REPS:=3}"                 # rounds (one run of each mode per client count); medians of these
: "${BENCH_LOAD_SECONDS:=10}"        # pgbench -T of every run
: "${BENCH_LOAD_CLIENTS:=1 2}"       # pgbench -c (and -j) values
: "${BENCH_LOAD_ROWS:=1000}"         # rows of the models table per tenant (3 tenants), besides the fixture's 8
: "${BENCH_LOAD_MIX:=read=5 check=3 role=2 share=2 model=1}"   # script=weight
: "${BENCH_LOAD_WARMUP:=2}"          # seconds of the untimed warm-up run of each mode
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c client_min_messages=warning"
pgbench=/usr/lib/postgresql/15/bin/pgbench
[ -x "$pgbench" ] || pgbench=pgbench

# ---------------------------------------------------------------- helpers
t_start=$(date +%s)
say() { printf '[%4ds] %s\n' $(($(date +%s) - t_start)) "$*" >&2; }
f0() { awk -v v="$1" 'BEGIN {printf "%.0f", v}'; }
f2() { awk -v v="$1" 'BEGIN {printf "%.2f", v}'; }
n() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
failures=()
fail() { failures+=("$*"); say "CHECK FAILED: $*"; }

rls=bench_load_rls
plain=bench_load_plain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts=()
names=()
for sw in $BENCH_LOAD_MIX; do
    s=${sw%%=*}
    [ -f "$wl/$s.sql" ] || { echo "load.sh: no script $wl/$s.sql" >&2; exit 2; }
    scripts+=(-f "$wl/$s.sql@${sw#*=}")
    names+=("$s")
done

# ---------------------------------------------------------------- fixture
say "fixture: test/t/fixture.sql, $BENCH_LOAD_ROWS rows per tenant written through RLS, the workload"
q -d postgres -c "DROP DATABASE IF EXISTS $plain" -c "DROP DATABASE IF EXISTS $rls" -c "CREATE DATABASE $rls"
q -d "$rls" -c "CREATE EXTENSION zenml_rbac"
fixture=$work/fixture.sql
if [ "$(q -d postgres -c "SELECT count(*) FROM pg_roles WHERE rolname = 'fixture_app'")" = 1 ]; then
    # an existing server that already ran the fixture: the role is there
    grep -v '^CREATE ROLE fixture_app' "$here/../t/fixture.sql" >"$fixture"
else
    cp "$here/../t/fixture.sql" "$fixture"
fi
q -d "$rls" -f "$fixture" >/dev/null
q -d "$rls" -v rows="$BENCH_LOAD_ROWS" >/dev/null <<'SQL'
-- more rows of public.models, written (and registered) by their owners
SET ROLE fixture_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM fx WHERE name = 'u2'));
INSERT INTO models (tenant_id, name)
SELECT (SELECT id FROM fx WHERE name = t), 'bulk-' || t || '-' || g
  FROM unnest(ARRAY['prod', 'dev']) t, generate_series(1, :rows) g;
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM fx WHERE name = 'u8'));
INSERT INTO models (tenant_id, name)
SELECT (SELECT id FROM fx WHERE name = 'main'), 'bulk-main-' || g FROM generate_series(1, :rows) g;
COMMIT;
RESET ROLE;
SQL
# the copy: same rows, same catalog, the table unprotected
q -d postgres -c "CREATE DATABASE $plain TEMPLATE $rls"
q -d "$plain" -c "SELECT zenml_rbac.unprotect('public.models')" >/dev/null
for db in $rls $plain; do
    q -d "$db" -f "$wl/setup.sql" >/dev/null
    q -d "$db" -c "VACUUM ANALYZE"
done
[ "$(q -d "$rls" -c "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.models'::regclass")|$(q -d "$plain" -c "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.models'::regclass")" = "t|f" ] \
    || { echo "load.sh: expected RLS on in $rls and off in $plain" >&2; exit 1; }
rows_total=$(q -d "$rls" -c "SELECT count(*) FROM public.models")
cells=$(q -d "$rls" -c "SELECT count(*) FROM workload.cell")

# ---------------------------------------------------------------- one run
runs=$work/runs   # kind|round|clients|mode|tps|xacts|failed|lat ms|script:tps:lat ...
: >"$runs"
# $1 kind (warmup|timed) $2 round $3 clients $4 mode (rls|plain) $5 seconds
run() {
    local kind=$1 round=$2 c=$3 mode=$4 secs=$5 db out tps xacts failed lat per
    db=$( [ "$mode" = rls ] && echo $rls || echo $plain )
    out=$work/pgbench.out
    if ! "$pgbench" -n -M prepared "${scripts[@]}" -T "$secs" -c "$c" -j "$c" "$db" >"$out" 2>"$work/pgbench.err"; then
        cat "$out" "$work/pgbench.err" >&2
        fail "$kind run ($c clients, $mode): pgbench failed"
        return
    fi
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
    xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")
    [ "${failed:-0}" = 0 ] || fail "$kind run ($c clients, $mode): $failed failed transactions"
    # per script: name:tps:latency
    per=$(awk '/^SQL script [0-9]+: / {s = $4; sub(/.*\//, "", s); sub(/\.sql$/, "", s)}
               / - [0-9]+ transactions .* tps = / {t = $0; sub(/.*tps = /, "", t); sub(/\).*/, "", t)}
               / - latency average = / && s != "" {printf "%s:%s:%s ", s, t, $5; s = ""}' "$out")
    # pgbench reports per script only when there are several
    [ -n "$per" ] || per="${names[0]}:$tps:$lat"
    echo "$kind|$round|$c|$mode|$tps|$xacts|$failed|$lat|$per" >>"$runs"
    say "  $mode, $c client(s): $(f0 "$tps") tps, $xacts transactions"
}

# ---------------------------------------------------------------- measurements
say "warm-up: ${BENCH_LOAD_WARMUP} s of each mode"
for mode in rls plain; do
    run warmup 0 2 "$mode" "$BENCH_LOAD_WARMUP"
done
for c in $BENCH_LOAD_CLIENTS; do
    say "$c client(s): $BENCH_REPS rounds of ${BENCH_LOAD_SECONDS} s with RLS + ${BENCH_LOAD_SECONDS} s without"
    for r in $(seq 1 "$BENCH_REPS"); do
        # A B in odd rounds, B A in even ones
        if [ $((r % 2)) = 1 ]; then order="rls plain"; else order="plain rls"; fi
        for mode in $order; do
            run timed "$r" "$c" "$mode" "$BENCH_LOAD_SECONDS"
        done
    done
done

say "checks"
declare -A verify checks sweep
for db in $rls $plain; do
    verify[$db]=$(q -d "$db" -c "SELECT valid || ' (' || events_checked || ' events)' || coalesce(': ' || problem, '') FROM zenml_rbac.verify_audit_log()")
    [[ ${verify[$db]} == true* ]] || fail "$db: verify_audit_log(): ${verify[$db]}"
    while IFS='|' read -r name problems detail; do
        [ "$problems" = 0 ] || fail "$db: $name: $problems problems ($detail)"
        checks[$db]+="  - $name: $problems problems ($detail)"$'\n'
    done <<<"$(q -d "$db" -c "SELECT * FROM workload.checks()")"
    while IFS='|' read -r level cells_ allowed dis; do
        [ "$dis" = 0 ] || fail "$db: rbac_can and effective_permissions disagree on $dis $level cells"
        sweep[$db]+="$level: $dis disagreements in $cells_ cells ($allowed allowed); "
    done <<<"$(q -d "$db" -c "SELECT * FROM workload.sweep()")"
done
say "done"

# ---------------------------------------------------------------- report
exec > "${BENCH_REPORT:-/dev/stdout}"
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD -- "$here/../../src" 2>/dev/null || commit+=" (src/ modified)"
sel() {   # $1 field, $2 clients, $3 mode: the timed runs' values
    awk -F'|' -v f="$1" -v c="$2" -v m="$3" '$1 == "timed" && $3 == c && $4 == m {printf "%s ", $f}' "$runs"
}
script_sel() {   # $1 script, $2 2 (tps) or 3 (latency), $3 clients, $4 mode
    awk -F'|' -v s="$1" -v k="$2" -v c="$3" -v m="$4" '$1 == "timed" && $3 == c && $4 == m {
            n = split($9, parts, " ")
            for (i = 1; i <= n; i++) {split(parts[i], f, ":"); if (f[1] == s) printf "%s ", f[k]}
        }' "$runs"
}
round_ratios() {
    awk -F'|' -v c="$1" '$1 == "timed" && $3 == c {t[$2 "/" $4] = $5; r[$2] = 1}
        END {for (k = 1; k in r; k++) printf "%s ", t[k "/rls"] / t[k "/plain"]}' "$runs"
}

cat <<EOF

# zenml_rbac mixed-workload benchmark
$(q -d "$rls" -c "SELECT 'zenml_rbac ' || extversion FROM pg_extension WHERE extname = 'zenml_rbac'") (commit $commit), $(q -d postgres -c "SELECT split_part(version(), ' on ', 1)"), $(nproc) CPU(s): $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
server: ${BENCH_SERVER}, fsync=$(q -d postgres -c "SHOW fsync"), synchronous_commit=$(q -d postgres -c "SHOW synchronous_commit"); $(date -u +%Y-%m-%dT%H:%MZ)
command: $(env | grep '^BENCH_' | grep -Ev '^BENCH_(SERVER|REPORT)=' | sort | tr '\n' ' ')bash test/bench/load.sh (ran $(($(date +%s) - t_start)) s)

pgbench -M prepared, ${BENCH_LOAD_SECONDS} s per run, scripts of test/t/workload/ weighted ${BENCH_LOAD_MIX}.
public.models: $(n "$rows_total") rows over 3 tenants; with RLS: protected by zenml_rbac.protect();
without: the same database copied before the workload, zenml_rbac.unprotect('public.models') (same rows,
no policies, no registration triggers).  Every other statement is the same in both.  Each round runs
both, RLS first in odd rounds; every number is the median of ${BENCH_REPS} round(s).

| clients | TPS with RLS | TPS without | with / without |
|--------:|-------------:|------------:|---------------:|
EOF
declare -A tA tB
for c in $BENCH_LOAD_CLIENTS; do
    tA[$c]=$(sel 5 "$c" rls | median)
    tB[$c]=$(sel 5 "$c" plain | median)
    printf '| %s | %s | %s | **%s** |\n' "$c" "$(n "$(f0 "${tA[$c]}")")" "$(n "$(f0 "${tB[$c]}")")" \
        "$(f2 "$(awk -v a="${tA[$c]}" -v b="${tB[$c]}" 'BEGIN {print a / b}')")"
done

echo
echo "Per script (median latency in ms, with RLS / without):"
echo
printf '| script |'; for c in $BENCH_LOAD_CLIENTS; do printf ' %s client(s) |' "$c"; done; echo
printf '|--------|'; for c in $BENCH_LOAD_CLIENTS; do printf -- '----------:|'; done; echo
for s in "${names[@]}"; do
    printf '| %s |' "$s"
    for c in $BENCH_LOAD_CLIENTS; do
        printf ' %s / %s |' "$(f2 "$(script_sel "$s" 3 "$c" rls | median)")" "$(f2 "$(script_sel "$s" 3 "$c" plain | median)")"
    done
    echo
done

echo
echo "## Checks (after all runs, both databases)"
echo
for db in $rls $plain; do
    echo "- $db: verify_audit_log(): ${verify[$db]}; ${sweep[$db]}"
    printf '%s' "${checks[$db]}"
done
echo "- workload.cell: $(n "$cells") cells for check.sql"
if [ ${#failures[@]} -eq 0 ]; then
    echo "- no failed transaction in any run"
else
    printf -- '- FAILED: %s\n' "${failures[@]}"
fi

echo
echo "Samples in run order (tps; round ratios with / without):"
echo
echo '```'
for c in $BENCH_LOAD_CLIENTS; do
    printf '%s client(s)  rls     %s\n' "$c" "$(sel 5 "$c" rls | xargs printf '%.0f ')"
    printf '%s client(s)  plain   %s\n' "$c" "$(sel 5 "$c" plain | xargs printf '%.0f ')"
    printf '%s client(s)  ratios  %s\n' "$c" "$(round_ratios "$c" | xargs printf '%.2f ')"
done
echo '```'

[ ${#failures[@]} -eq 0 ]
