#!/usr/bin/env bash
# Audit-log benchmark of zenml_rbac in a throwaway PostgreSQL 15 cluster:
# tenant role changes per second (zenml_rbac.grant_tenant_role /
# revoke_tenant_role, run by pgbench as the superuser, i.e. the system) with
# the audit trigger on against the same workload with the catalog table's
# audit_capture trigger disabled, one and two concurrent sessions, with
# synchronous_commit on and off.  Runs are interleaved; the report gives
# medians and the ratio audited / unaudited of the same series, then checks
# that the chain verifies and holds exactly one event per audited change.
# Exits non-zero if a check fails (timings are reported, never asserted).
#   usage: bash test/bench/audit.sh                 (after make install; about 7 min)
#          BENCH_QUICK=1 bash test/bench/audit.sh   (3 s runs, 3 rounds: ~1.5 min)
# Knobs: see test/bench/README.md.  BENCH_SERVER=existing runs against the
# server the PG* variables point at instead (database bench_audit, dropped and
# recreated; its trigger is re-enabled on exit).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# -t: a cluster in a temporary directory even as root (no clash with a
# cluster 15/regress of another run).  pg_virtualenv turns fsync off;
# it is turned back on here: the commit's WAL flush is part of what the
# chain lock serializes.  pg_virtualenv's messages go to stderr, the
# report alone to stdout.
. "$here/lib.sh"
run_in_virtualenv "$here/audit.sh" -t -v 15 -o fsync=on -o shared_buffers=256MB -o max_wal_size=4GB -o checkpoint_timeout=30min

# ---------------------------------------------------------------- knobs
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_REPS:=3}" "${BENCH_AUDIT_SECONDS:=3}"
fi
: "${BENCH_REPS:=5}"                 # rounds (one audited + one unaudited run each); medians of these
: "${BENCH_AUDIT_SECONDS:=10}"       # pgbench -T of every run
: "${BENCH_AUDIT_CLIENTS:=1 2}"      # pgbench -c values (each client its own organization)
: "${BENCH_AUDIT_SYNC:=on off}"      # synchronous_commit values
: "${BENCH_AUDIT_CHANGES:=1}"        # 1: each transaction grants or revokes (toggles);
                                     # 2: each transaction grants, then revokes
: "${BENCH_AUDIT_WARMUP:=2}"         # seconds of the untimed warm-up run of each mode
: "${BENCH_AUDIT_WAITS:=0}"          # 1: sample the pgbench backends' wait events during every timed run
case $BENCH_AUDIT_CHANGES in 1|2) ;; *) echo "audit.sh: BENCH_AUDIT_CHANGES must be 1 or 2" >&2; exit 2 ;; esac
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c client_min_messages=warning"
pgbench=/usr/lib/postgresql/15/bin/pgbench
[ -x "$pgbench" ] || pgbench=pgbench

# ---------------------------------------------------------------- helpers
t_start=$(date +%s)
say() { printf '[%4ds] %s\n' $(($(date +%s) - t_start)) "$*" >&2; }
calc() { awk "BEGIN {printf \"%s\", $1}"; }
f0() { awk -v v="$1" 'BEGIN {printf "%.0f", v}'; }
f2() { awk -v v="$1" 'BEGIN {printf "%.2f", v}'; }
n() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
failures=()
fail() { failures+=("$*"); say "CHECK FAILED: $*"; }

db=bench_audit
max_clients=$(tr ' ' '\n' <<<"$BENCH_AUDIT_CLIENTS" | grep -v '^$' | sort -n | tail -1)
work=$(mktemp -d)
trigger_state=""
cleanup() {
    # leave the catalog table audited, whatever happened
    if [ "$trigger_state" = off ]; then
        q -d "$db" -c "ALTER TABLE zenml_rbac.tenant_role_assignment ENABLE TRIGGER audit_capture" >&2 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------- fixture
say "fixture: $max_clients organization(s), each with one tenant and one member user"
q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -d "$db" -f - <<EOF >/dev/null
CREATE EXTENSION zenml_rbac;
CREATE SCHEMA bench;
-- One row per pgbench client (client_id from 0): an organization of its own,
-- so the management functions' organization locks never meet.
CREATE TABLE bench.audit_slot (
    client_id int  PRIMARY KEY,
    org       uuid NOT NULL,
    tenant    uuid NOT NULL,
    principal uuid NOT NULL
);
DO \$\$
DECLARE
    o uuid;
    t uuid;
    u uuid;
BEGIN
    FOR i IN 0 .. $max_clients - 1 LOOP
        o := zenml_rbac.create_organization('bench-audit-org-' || i);
        t := zenml_rbac.create_tenant(o, 'tenant-' || i);
        u := zenml_rbac.create_user('bench-audit-user-' || i);
        PERFORM zenml_rbac.set_org_role(o, u, 'org_viewer');
        INSERT INTO bench.audit_slot VALUES (i, o, t, u);
    END LOOP;
END
\$\$;
-- BENCH_AUDIT_WAITS=1: what pgbench's backends are doing, sampled every 10 ms
-- for the given seconds; one line per state: 'wait_event_type:wait_event'
-- (CPU when running and not waiting, idle between statements) and its count.
CREATE FUNCTION bench.sample_waits(secs float8) RETURNS TABLE (what text, samples bigint)
LANGUAGE plpgsql AS \$\$
DECLARE
    seen text[] := '{}';
    stop timestamptz := clock_timestamp() + secs * interval '1 s';
BEGIN
    WHILE clock_timestamp() < stop LOOP
        PERFORM pg_stat_clear_snapshot();
        seen := seen || ARRAY(
            SELECT CASE WHEN a.state <> 'active' THEN 'idle'
                        WHEN a.wait_event IS NULL THEN 'CPU'
                        ELSE a.wait_event_type || ':' || a.wait_event END
              FROM pg_stat_activity a
             WHERE a.application_name = 'pgbench' AND a.datname = current_database());
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN QUERY SELECT w, count(*) FROM unnest(seen) w GROUP BY w ORDER BY count(*) DESC;
END
\$\$;
EOF
[ "$(q -d "$db" -c "SELECT current_setting('is_superuser')")" = on ] \
    || { echo "audit.sh: needs a superuser (it disables the audit trigger for the baseline)" >&2; exit 2; }
[ -z "$(q -d "$db" -c "SELECT zenml_rbac.current_principal()")" ] \
    || { echo "audit.sh: the session must act as the system (no principal)" >&2; exit 2; }

# The pgbench script: client :client_id changes its own user's role in its own tenant.
script=$work/change.sql
if [ "$BENCH_AUDIT_CHANGES" = 1 ]; then
    cat >"$script" <<'EOF'
-- one change per transaction: grant viewer if the user lacks it, else revoke it
SELECT CASE WHEN EXISTS (SELECT 1 FROM zenml_rbac.tenant_role_assignment a
                          WHERE a.tenant_id = s.tenant AND a.principal_id = s.principal)
            THEN zenml_rbac.revoke_tenant_role(s.tenant, s.principal, 'viewer')
            ELSE zenml_rbac.grant_tenant_role(s.tenant, s.principal, 'viewer') END
  FROM bench.audit_slot s WHERE s.client_id = :client_id;
EOF
else
    cat >"$script" <<'EOF'
-- two changes per transaction: grant viewer, then revoke it
BEGIN;
SELECT zenml_rbac.grant_tenant_role(s.tenant, s.principal, 'viewer')
  FROM bench.audit_slot s WHERE s.client_id = :client_id;
SELECT zenml_rbac.revoke_tenant_role(s.tenant, s.principal, 'viewer')
  FROM bench.audit_slot s WHERE s.client_id = :client_id;
END;
EOF
fi

# ---------------------------------------------------------------- one run
set_trigger() {   # on | off
    [ "$trigger_state" = "$1" ] && return
    if [ "$1" = on ]; then
        q -d "$db" -c "ALTER TABLE zenml_rbac.tenant_role_assignment ENABLE TRIGGER audit_capture"
    else
        trigger_state=off   # before the ALTER: cleanup re-enables even if we die right after it
        q -d "$db" -c "ALTER TABLE zenml_rbac.tenant_role_assignment DISABLE TRIGGER audit_capture"
    fi
    trigger_state=$1
    local en
    en=$(q -d "$db" -c "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_capture'
                         AND tgrelid = 'zenml_rbac.tenant_role_assignment'::regclass")
    [ "$en" = "$( [ "$1" = on ] && echo O || echo D)" ] || fail "trigger audit_capture is '$en' after turning it $1"
}
# chain head seq | rows inserted + deleted in the catalog table so far
counters() {
    # pgbench's backends flush their statistics as they exit: wait for them
    local _
    for _ in $(seq 1 100); do
        [ "$(q -d "$db" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                             AND backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ] && break
        sleep 0.1
    done
    q -d "$db" -c "SELECT (SELECT seq FROM zenml_rbac.audit_head()),
                          (SELECT n_tup_ins + n_tup_del FROM pg_stat_user_tables
                            WHERE relid = 'zenml_rbac.tenant_role_assignment'::regclass)"
}

runs=$work/runs   # kind|round|clients|sync|mode|tps|xacts|latency ms|events|changes
: >"$runs"
audited_changes=0 audited_events=0 unaudited_events=0
# $1 kind (warmup|timed) $2 round $3 clients $4 synchronous_commit $5 mode (audited|unaudited) $6 seconds
run() {
    local kind=$1 round=$2 c=$3 sync=$4 mode=$5 secs=$6 out before after tps xacts failed lat events changes
    set_trigger "$( [ "$mode" = audited ] && echo on || echo off)"
    before=$(counters)
    out=$work/pgbench.out
    if [ "$kind" = timed ] && [ "$BENCH_AUDIT_WAITS" = 1 ]; then
        q -d "$db" -c "SELECT '$c|$sync|$mode|' || what || '|' || samples FROM bench.sample_waits($secs - 0.5)" \
            >>"$work/waits" &
        sampler=$!
    fi
    if ! PGOPTIONS="$PGOPTIONS -c synchronous_commit=$sync" \
         "$pgbench" -n -M prepared -f "$script" -T "$secs" -c "$c" -j "$c" "$db" >"$out" 2>"$work/pgbench.err"; then
        cat "$out" "$work/pgbench.err" >&2
        echo "audit.sh: pgbench failed" >&2
        exit 1
    fi
    if [ "$kind" = timed ] && [ "$BENCH_AUDIT_WAITS" = 1 ]; then
        wait "$sampler"
    fi
    after=$(counters)
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
    xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")
    [ -n "$tps" ] && [ -n "$xacts" ] || { cat "$out" >&2; echo "audit.sh: cannot read pgbench's output" >&2; exit 1; }
    [ "${failed:-0}" = 0 ] || fail "$kind run ($c clients, $sync, $mode): $failed failed transactions"
    events=$((${after%%|*} - ${before%%|*}))
    changes=$((${after##*|} - ${before##*|}))
    # every transaction changes the catalog table BENCH_AUDIT_CHANGES times
    [ "$changes" = $((xacts * BENCH_AUDIT_CHANGES)) ] \
        || fail "$kind run ($c clients, $sync, $mode): $changes rows changed for $xacts transactions"
    if [ "$mode" = audited ]; then
        audited_changes=$((audited_changes + changes))
        audited_events=$((audited_events + events))
        [ "$events" = "$changes" ] || fail "$kind run ($c clients, $sync, audited): $events events for $changes changes"
    else
        unaudited_events=$((unaudited_events + events))
        [ "$events" = 0 ] || fail "$kind run ($c clients, $sync, unaudited): $events events written"
    fi
    echo "$kind|$round|$c|$sync|$mode|$tps|$xacts|$lat|$events|$changes" >>"$runs"
    say "  $mode, $c client(s), synchronous_commit=$sync: $(f0 "$tps") tps, $xacts transactions, $events events"
}

# ---------------------------------------------------------------- measurements
start_seq=$(counters)
start_seq=${start_seq%%|*}
say "warm-up: ${BENCH_AUDIT_WARMUP} s of each mode"
for mode in audited unaudited; do
    run warmup 0 "$max_clients" on "$mode" "$BENCH_AUDIT_WARMUP"
done
for c in $BENCH_AUDIT_CLIENTS; do
    for sync in $BENCH_AUDIT_SYNC; do
        say "$c client(s), synchronous_commit=$sync: $BENCH_REPS rounds of ${BENCH_AUDIT_SECONDS} s audited + ${BENCH_AUDIT_SECONDS} s unaudited"
        for r in $(seq 1 "$BENCH_REPS"); do
            # A B in odd rounds, B A in even ones: neither mode always goes first
            if [ $((r % 2)) = 1 ]; then order="audited unaudited"; else order="unaudited audited"; fi
            for mode in $order; do
                run timed "$r" "$c" "$sync" "$mode" "$BENCH_AUDIT_SECONDS"
            done
        done
    done
done
set_trigger on

say "checks"
verify=$(q -d "$db" -c "SELECT valid, events_checked, coalesce(chain::text, ''), coalesce(broken_seq::text, ''), coalesce(problem, '')
                         FROM zenml_rbac.verify_audit_log()")
IFS='|' read -r v_valid v_checked v_chain v_seq v_problem <<<"$verify"
[ "$v_valid" = t ] || fail "verify_audit_log(): not valid: chain $v_chain, seq $v_seq: $v_problem"
IFS='|' read -r log_total log_kind log_ins log_del log_head <<<"$(q -d "$db" -c "
    SELECT count(*), count(*) FILTER (WHERE object_kind = 'tenant_role_assignment'),
           count(*) FILTER (WHERE object_kind = 'tenant_role_assignment' AND operation = 'INSERT'),
           count(*) FILTER (WHERE object_kind = 'tenant_role_assignment' AND operation = 'DELETE'),
           (SELECT seq FROM zenml_rbac.audit_head())
      FROM zenml_rbac.audit_log WHERE seq > $start_seq")"
[ "$log_total" = "$audited_changes" ] \
    || fail "audit_log holds $log_total events after the fixture, for $audited_changes audited changes"
[ "$log_kind" = "$log_total" ] || fail "$((log_total - log_kind)) events of other tables during the runs"
[ "$v_checked" = "$log_head" ] || fail "verify_audit_log() checked $v_checked events, the chain's head is $log_head"
say "done"

# ---------------------------------------------------------------- report
exec > "${BENCH_REPORT:-/dev/stdout}"
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD -- "$here/../../src" 2>/dev/null || commit+=" (src/ modified)"
sel() {   # $1 field (6 tps, 8 latency, 9 events), then clients sync mode: the timed runs' values
    awk -F'|' -v f="$1" -v c="$2" -v s="$3" -v m="$4" \
        '$1 == "timed" && $3 == c && $4 == s && $5 == m {printf "%s ", $f}' "$runs"
}
events_per_s() {   # events x tps / transactions of each run
    awk -F'|' -v c="$1" -v s="$2" '$1 == "timed" && $3 == c && $4 == s && $5 == "audited" && $7 > 0 {printf "%s ", $9 * $6 / $7}' "$runs"
}
round_ratios() {   # audited / unaudited tps, round by round
    awk -F'|' -v c="$1" -v s="$2" '$1 == "timed" && $3 == c && $4 == s {t[$2 "/" $5] = $6; r[$2] = 1}
        END {for (k = 1; k in r; k++) printf "%s ", t[k "/audited"] / t[k "/unaudited"]}' "$runs"
}
declare -A tpsA tpsB latA latB
for c in $BENCH_AUDIT_CLIENTS; do
    for sync in $BENCH_AUDIT_SYNC; do
        tpsA[$c/$sync]=$(sel 6 "$c" "$sync" audited | median)
        tpsB[$c/$sync]=$(sel 6 "$c" "$sync" unaudited | median)
        latA[$c/$sync]=$(sel 8 "$c" "$sync" audited | median)
        latB[$c/$sync]=$(sel 8 "$c" "$sync" unaudited | median)
    done
done
per_xact=$( [ "$BENCH_AUDIT_CHANGES" = 1 ] && echo "one grant or revoke (they alternate)" || echo "a grant and its revoke" )

cat <<EOF

# zenml_rbac audit benchmark
$(q -d "$db" -c "SELECT 'zenml_rbac ' || extversion FROM pg_extension WHERE extname = 'zenml_rbac'") (commit $commit), $(q -d postgres -c "SELECT split_part(version(), ' on ', 1)"), $(nproc) CPU(s): $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
server: ${BENCH_SERVER}, fsync=$(q -d postgres -c "SHOW fsync"), wal_sync_method=$(q -d postgres -c "SHOW wal_sync_method"); $(date -u +%Y-%m-%dT%H:%MZ)
command: $(env | grep '^BENCH_' | grep -Ev '^BENCH_(SERVER|REPORT)=' | sort | tr '\n' ' ')bash test/bench/audit.sh (ran $(($(date +%s) - t_start)) s)

pgbench -M prepared, ${BENCH_AUDIT_SECONDS} s per run, as the superuser (the system); each transaction is
${per_xact} of role viewer for the client's own user in the client's own tenant of its own
organization.  Audited: as installed; unaudited: the same with
\`ALTER TABLE zenml_rbac.tenant_role_assignment DISABLE TRIGGER audit_capture\`.  Each round runs
both, A B in odd rounds and B A in even ones; every number is the median of ${BENCH_REPS} rounds.
TPS = transactions (commits) per second; events/s = audit events appended per second.

| clients | synchronous_commit | audited TPS | unaudited TPS | audited / unaudited | events/s | latency ms audited / unaudited |
|--------:|--------------------|------------:|--------------:|--------------------:|---------:|-------------------------------:|
EOF
for c in $BENCH_AUDIT_CLIENTS; do
    for sync in $BENCH_AUDIT_SYNC; do
        printf '| %s | %s | %s | %s | %s | %s | %s / %s |\n' "$c" "$sync" \
            "$(n "$(f0 "${tpsA[$c/$sync]}")")" "$(n "$(f0 "${tpsB[$c/$sync]}")")" \
            "$(f2 "$(calc "${tpsA[$c/$sync]} / ${tpsB[$c/$sync]}")")" \
            "$(n "$(f0 "$(events_per_s "$c" "$sync" | median)")")" \
            "$(f2 "${latA[$c/$sync]}")" "$(f2 "${latB[$c/$sync]}")"
    done
done

echo
echo "Derived (from the medians above):"
echo
for sync in $BENCH_AUDIT_SYNC; do
    c1=$(tr ' ' '\n' <<<"$BENCH_AUDIT_CLIENTS" | grep -v '^$' | sort -n | head -1)
    line="- synchronous_commit=$sync: auditing adds $(f0 "$(calc "(1e6 / ${tpsA[$c1/$sync]} - 1e6 / ${tpsB[$c1/$sync]}) / $BENCH_AUDIT_CHANGES")") µs per change with $c1 client(s)"
    for c in $BENCH_AUDIT_CLIENTS; do
        [ "$c" = "$c1" ] && continue
        line+="; $c clients / $c1: audited $(f2 "$(calc "${tpsA[$c/$sync]} / ${tpsA[$c1/$sync]}")")x, unaudited $(f2 "$(calc "${tpsB[$c/$sync]} / ${tpsB[$c1/$sync]}")")x"
    done
    echo "$line"
done

if [ "$BENCH_AUDIT_WAITS" = 1 ]; then
    echo
    echo "What pgbench's backends were doing (pg_stat_activity every 10 ms, all rounds; % of samples):"
    echo
    echo "| clients | synchronous_commit | mode | CPU | Lock:object (chain lock) | LWLock:WALWrite | IO:WALSync | Client:ClientRead + idle | other |"
    echo "|--------:|--------------------|------|----:|----:|----:|----:|----:|-----|"
    for c in $BENCH_AUDIT_CLIENTS; do
        for sync in $BENCH_AUDIT_SYNC; do
            for mode in audited unaudited; do
                awk -F'|' -v c="$c" -v s="$sync" -v m="$mode" '$1 == c && $2 == s && $3 == m {n[$4] += $5; t += $5}
                    END {
                        if (!t) exit
                        p = "CPU Lock:object LWLock:WALWrite IO:WALSync"
                        k = split(p, ks, " ")
                        printf "| %s | %s | %s |", c, s, m
                        for (i = 1; i <= k; i++) {printf " %.0f |", 100 * n[ks[i]] / t; done[ks[i]] = 1}
                        printf " %.0f |", 100 * (n["Client:ClientRead"] + n["idle"]) / t
                        done["Client:ClientRead"] = done["idle"] = 1
                        o = ""
                        for (w in n) if (!(w in done) && 100 * n[w] / t >= 0.5) o = o sprintf("%s%s %.0f", o == "" ? "" : ", ", w, 100 * n[w] / t)
                        printf " %s |\n", o
                    }' "$work/waits"
            done
        done
    done
fi

echo
echo "## Checks"
echo
echo "- verify_audit_log(): valid=$v_valid, events_checked=$v_checked${v_problem:+, chain $v_chain, seq $v_seq: $v_problem} (the chain's head: seq $log_head)"
echo "- audited runs (warm-up included): $audited_changes catalog changes (rows inserted + deleted in tenant_role_assignment, pg_stat_user_tables), $audited_events events appended (audit_head() before and after each run)"
echo "- audit_log after the fixture: $log_total events, $log_kind of them tenant_role_assignment ($log_ins INSERT = grants, $log_del DELETE = revokes)"
echo "- unaudited runs: $unaudited_events events appended"
if [ ${#failures[@]} -eq 0 ]; then
    echo "- every run: rows changed = transactions x $BENCH_AUDIT_CHANGES, no failed transaction; one event per audited change, none unaudited"
else
    printf -- '- FAILED: %s\n' "${failures[@]}"
fi

echo
echo "Samples in run order (tps; round ratios audited / unaudited):"
echo
echo '```'
for c in $BENCH_AUDIT_CLIENTS; do
    for sync in $BENCH_AUDIT_SYNC; do
        printf '%s client(s), sync %-3s  audited %s\n' "$c" "$sync" "$(sel 6 "$c" "$sync" audited | xargs printf '%.0f ')"
        printf '%s client(s), sync %-3s  unaudit %s\n' "$c" "$sync" "$(sel 6 "$c" "$sync" unaudited | xargs printf '%.0f ')"
        printf '%s client(s), sync %-3s  ratios  %s\n' "$c" "$sync" "$(round_ratios "$c" "$sync" | xargs printf '%.2f ')"
    done
done
echo '```'

[ ${#failures[@]} -eq 0 ]
