#!/usr/bin/env bash
# Cache-invalidation benchmark of zenml_rbac in a throwaway PostgreSQL 15
# cluster: what a committed catalog change costs the sessions whose cache it
# does not concern, and the one it does.
#   (a) one session warm over 2,000 users, a statement of 20,000 checks right
#       after another session committed an unrelated tenant role grant (a user
#       of another organization), against the same right after an ordinary
#       write; time and cache loads per statement
#   (b) pgbench readers (three rbac_can checks for a random user) while one
#       writer commits unrelated grants at 50, 200, 800 per second, against
#       the same writer writing an ordinary table
#   (c) the same with readers reading a protected table under row-level
#       security while the writer inserts rows of that table in another
#       organization's tenant (each registers a resource)
#   (d) a grant to one of the warm users: the next statement and a single
#       check of that user
# Every number is a median of interleaved repetitions, every ratio against a
# baseline measured in the same run; report on stdout, progress on stderr.
# Timings are reported, never asserted; exits non-zero only if a check fails
# (an answer changed, a pgbench transaction failed, a writer wrote elsewhere
# than meant).
#   usage: bash test/bench/invalidation.sh                 (after make install; about 10 minutes on 2 cores)
#          BENCH_QUICK=1 bash test/bench/invalidation.sh   (6 s runs, 1 round: about 3 minutes)
# Knobs: the BENCH_* variables below.  BENCH_SERVER=existing runs against the
# server the PG* variables point at instead, as a superuser (databases
# bench_inv and bench_inv_other, dropped and recreated; roles bench_inv_owner
# and bench_inv_app created if missing and left in place; needs dblink).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# -t: a cluster in a temporary directory even as root.  Autovacuum off:
# the script vacuums the written tables before every run instead, so no
# run gets a vacuum in the middle.  The report alone to stdout.
. "$here/lib.sh"
run_in_virtualenv "$here/invalidation.sh" -t -v 15 -o shared_buffers=256MB -o max_wal_size=4GB -o checkpoint_timeout=30min -o autovacuum=off

# ---------------------------------------------------------------- knobs
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_REPS:=1}" "${BENCH_INVAL_SECONDS:=6}" "${BENCH_INVAL_STATEMENTS:=50}"
fi
: "${BENCH_REPS:=3}"                  # rounds of (b) and (c): one run of each writer mode per rate; medians of these
: "${BENCH_INVAL_SECONDS:=10}"        # pgbench -T of every run of (b) and (c)
: "${BENCH_INVAL_SKIP:=2}"            # seconds at the start of a run not counted (the readers warm their caches)
: "${BENCH_INVAL_RATES:=50 200 800}"  # writer commits per second (pgbench --rate)
: "${BENCH_INVAL_CLIENTS:=2}"         # reader clients (pgbench -c and -j)
: "${BENCH_INVAL_MODES:=plain catalog control}"   # writer modes (below); "clean" adds a diagnostic to (b)
: "${BENCH_INVAL_STATEMENTS:=200}"    # (a), (d): statements timed after each kind of change
: "${BENCH_INVAL_WARM:=2000}"         # (a), (d): users the warm session checks ...
: "${BENCH_INVAL_ROWS:=20000}"        # ... in a statement of this many checks
: "${BENCH_INVAL_READERS:=4000}"      # (b), (c): users the readers pick from (organization A)
: "${BENCH_INVAL_USERS:=8000}"        # users of both organizations (half each)
: "${BENCH_INVAL_TENANTS:=100}"       # tenants of both organizations
: "${BENCH_INVAL_TEAMS:=20}"          # teams (every user in one)
: "${BENCH_INVAL_ROLES_PER_USER:=5}"  # tenant roles per user ...
: "${BENCH_INVAL_TEAM_ROLES:=5}"      # ... and per team
: "${BENCH_INVAL_RESOURCES:=2000}"    # registered resources of the fixture, 2 shares each
: "${BENCH_INVAL_ITEMS:=20}"          # (c): rows of the protected table per tenant of A
: "${BENCH_INVAL_CONNINFO:=}"         # (a), (d): libpq parameters of the changing session's dblink connection
                                      # (dbname is added); default: the server's unix socket, the current user
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c client_min_messages=warning"
pgbench=/usr/lib/postgresql/15/bin/pgbench
[ -x "$pgbench" ] || pgbench=pgbench

# ---------------------------------------------------------------- helpers
t_start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say() { printf '[%4ds] %s\n' $(($(date +%s) - t_start)) "$*" >&2; }
calc() { awk "BEGIN {printf \"%s\", $1}"; }
f0() { awk -v v="$1" 'BEGIN {printf "%.0f", v}'; }
f1() { awk -v v="$1" 'BEGIN {printf "%.1f", v}'; }
f2() { awk -v v="$1" 'BEGIN {printf "%.2f", v}'; }
ms() { awk -v v="$1" 'BEGIN {printf (v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f"), v}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {r = a / b; printf (r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx"), r}'; }
verdict() { if awk "BEGIN {exit !($1)}"; then echo met; else echo MISSED; fi; }
n() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
mean() { tr ' ' '\n' | grep -v '^$' | awk '{s += $1} END {printf "%.6g", NR ? s / NR : 0}'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }
failures=()
fail() { failures+=("$*"); say "CHECK FAILED: $*"; }

db=bench_inv
other=bench_inv_other
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
half_users=$((BENCH_INVAL_USERS / 2))
if [ $((BENCH_INVAL_WARM > half_users || BENCH_INVAL_READERS > half_users)) = 1 ]; then
    echo "invalidation.sh: BENCH_INVAL_WARM and BENCH_INVAL_READERS must be <= BENCH_INVAL_USERS / 2" >&2
    exit 2
fi

# the library every session loads: the run is void if it is replaced meanwhile
lib=$(q -d postgres -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")/zenml_rbac.so
lib_id() { if [ -r "$lib" ]; then echo "sha256 $(sha256sum "$lib" | cut -c1-12), modified $(date -u -r "$lib" +%Y-%m-%dT%H:%M:%SZ)"; else echo "not readable here"; fi; }
lib_start=$(lib_id)

# ---------------------------------------------------------------- fixture
say "fixture: 2 organizations, $BENCH_INVAL_USERS users, $BENCH_INVAL_TENANTS tenants, $BENCH_INVAL_TEAMS teams (fixture.sql), then invalidation_fixture.sql"
q -d postgres -c "DROP DATABASE IF EXISTS $other" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -d "$db" -c "CREATE EXTENSION zenml_rbac" -c "CREATE EXTENSION dblink" -f "$here/common.sql" \
    -v orgs=2 -v tenants="$BENCH_INVAL_TENANTS" -v users="$BENCH_INVAL_USERS" \
    -v roles_per_user="$BENCH_INVAL_ROLES_PER_USER" -v teams="$BENCH_INVAL_TEAMS" \
    -v team_roles="$BENCH_INVAL_TEAM_ROLES" -v resources="$BENCH_INVAL_RESOURCES" -v grants_per_resource=2 \
    -f "$here/fixture.sql" \
    -v warm="$BENCH_INVAL_WARM" -v rows="$BENCH_INVAL_ROWS" -v readers="$BENCH_INVAL_READERS" \
    -v items="$BENCH_INVAL_ITEMS" -f "$here/invalidation_fixture.sql" >/dev/null
[ "$(q -d "$db" -c "SELECT current_setting('is_superuser')")" = on ] \
    || { echo "invalidation.sh: needs a superuser (the changes are made as the system)" >&2; exit 2; }
# the control: the same catalog in another database (relcache invalidations
# reach only the backends of the database they were committed in)
has_mode() { [[ " $BENCH_INVAL_MODES " == *" $1 "* ]]; }
has_mode plain && has_mode catalog || { echo "invalidation.sh: BENCH_INVAL_MODES must include plain and catalog" >&2; exit 2; }
if has_mode control; then
    q -d postgres -c "CREATE DATABASE $other TEMPLATE $db"
fi
IFS='|' read -r c_tenants c_users c_teams c_assign c_resources <<<"$(q -d "$db" -c "
    SELECT (SELECT count(*) FROM zenml_rbac.tenant), (SELECT count(*) FROM zenml_rbac.principal WHERE kind = 'user'),
           (SELECT count(*) FROM zenml_rbac.principal WHERE kind = 'team'),
           (SELECT count(*) FROM zenml_rbac.tenant_role_assignment), (SELECT count(*) FROM zenml_rbac.resource)")"

# ---------------------------------------------------------------- (a) and (d): one warm session
# One psql session runs every statement; the changes are committed by a
# second session it drives through dblink (each dblink() call returns once
# the change is committed).  Every change is followed by one timed
# top-level statement, which accepts the invalidations committed before it:
#   plain      an ordinary write: a row of inv.plain_roles toggled
#   unrelated  a user of organization B gains or loses viewer in a tenant of B
#   affecting  a warm user (of A) gains or loses viewer in a tenant of A the
#              checked rows never name (the answers stay the same)
#   control    the unrelated kind of change, committed in the copy of the
#              database (with the control mode): the same work next door, no
#              invalidation for this session
# The kinds take turns, in a rotating order; the changed user differs from
# statement to statement.  Then single checks: after a change of a
# warm user, that user's next check (one rbac_can, clock_timestamp() around
# it), then the same check once more, warm.
say "(a), (d): warm-up, then $BENCH_INVAL_STATEMENTS statements of $BENCH_INVAL_ROWS checks after each kind of change, $BENCH_INVAL_STATEMENTS single checks"
a_sql=$work/a.sql
kinds=(plain unrelated affecting)
has_mode control && kinds+=(control)
{
    # the other session: by default over the server's first unix socket as
    # the current user (peer authentication of the server's OS user)
    for c in "w:$db" "o:$other"; do
        [ "${c#*:}" = "$other" ] && ! has_mode control && continue
        echo "SELECT dblink_connect('${c%%:*}', coalesce(nullif(:'conninfo', ''), format('host=%s port=%s user=%s',
            split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user))
            || ' dbname=${c#*:} options=''-c jit=off -c client_min_messages=warning''') \\g /dev/null"
    done
    # the library, the catalog queries, the vocabulary, then every warm user
    echo "SELECT 'warmup', 0, ms, loads, allowed FROM inv.timed();"
    echo "SELECT 'warmup', 1, ms, loads, allowed FROM inv.timed();"
    for r in $(seq 1 "$BENCH_INVAL_STATEMENTS"); do
        for i in $(seq 0 $((${#kinds[@]} - 1))); do
            kind=${kinds[$(((r + i) % ${#kinds[@]}))]}
            conn=w fn=$kind
            case $kind in
                plain | unrelated) arg=$(((r * 37) % half_users)) ;;
                affecting) arg=$(((r * 53 + 7) % BENCH_INVAL_WARM)) ;;
                control) arg=$(((r * 37 + 1) % half_users)) conn=o fn=unrelated ;;
            esac
            echo "SELECT x FROM dblink('$conn', 'SELECT inv.$fn($arg)') AS t(x text) \\g /dev/null"
            echo "SELECT '$kind', $arg, ms, loads, allowed FROM inv.timed();"
        done
    done
    for r in $(seq 1 "$BENCH_INVAL_STATEMENTS"); do
        k=$(((r * 31 + 11) % BENCH_INVAL_WARM))
        echo "SELECT x FROM dblink('w', 'SELECT inv.affecting($k)') AS t(x text) \\g /dev/null"
        echo "SELECT 'one_after', $k, us, loads, allowed FROM inv.one($k);"
        echo "SELECT 'one_warm', $k, us, loads, allowed FROM inv.one($k);"
    done
    # reload what the single checks' changes left stale, then loops of warm checks
    echo "SELECT 'warmup', 2, ms, loads, allowed FROM inv.timed();"
    for r in 1 2 3 4 5; do
        echo "SELECT 'loop', $r, us, loads, 0 FROM inv.loop($BENCH_INVAL_ROWS);"
    done
} >"$a_sql"
a_out=$(q -d "$db" -v conninfo="$BENCH_INVAL_CONNINFO" -f "$a_sql")
a_res=$work/a.res   # kind|arg|ms or us|loads|allowed
echo "$a_out" >"$a_res"
expected_tbl=$(awk -F'|' -v q="'" '$1 ~ /^(plain|unrelated|affecting|control)$/ {printf "(%s%s%s, %s),", q, $1, q, $2}' "$a_res")
expected=$(q -d "$db" -c "SELECT c || ':' || n || ':' || inv.expected(c, n) FROM (VALUES ${expected_tbl%,}) v(c, n)" | sort -u)
sel_a() { awk -F'|' -v k="$1" -v f="$2" '$1 == k {printf "%s ", $f}' "$a_res"; }
warm_allowed=$(awk -F'|' '$1 == "warmup" {print $5}' "$a_res" | sort -u)
[ -n "$warm_allowed" ] || fail "(a) no result from the warm session"
[ "$(wc -l <<<"$warm_allowed")" = 1 ] || fail "(a) the warm-up passes answered differently: $warm_allowed"
for kind in "${kinds[@]}"; do
    bad=$(awk -F'|' -v k="$kind" -v a="$warm_allowed" '$1 == k && $5 != a' "$a_res" | wc -l)
    [ "$bad" = 0 ] || fail "(a) $bad statements after a $kind change answered otherwise than the warm-up ($warm_allowed allowed)"
done
bad=$(awk -F'|' '$1 == "one_after" || $1 == "one_warm" {print $5}' "$a_res" | sort -u | tr '\n' ' ')
[ "$bad" = "t " ] || fail "(d) single checks answered: $bad (every one should be allowed)"
# measured loads against the model, statement by statement
declare -A exp_loads
while IFS=: read -r c nn e; do exp_loads[$c:$nn]=$e; done <<<"$expected"
agree=0 disagree=0 disagree_list=""
while IFS='|' read -r kind arg val loads allowed; do
    case $kind in plain|unrelated|affecting|control) ;; *) continue ;; esac
    if [ "${exp_loads[$kind:$arg]}" = "$loads" ]; then
        agree=$((agree + 1))
    else
        disagree=$((disagree + 1))
        [ $disagree -le 5 ] && disagree_list+=" $kind($arg): $loads loaded, ${exp_loads[$kind:$arg]} expected;"
    fi
done <"$a_res"
# the model over every possible unrelated change (every user of B) and every warm user
IFS='|' read -r m_med m_mean m_p95 m_max m_100 m_all m_n m_teams <<<"$(q -d "$db" -c "
    WITH e AS (SELECT inv.expected_loads(p) AS n FROM inv.other)
    SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n), round(avg(n), 1),
           percentile_disc(0.95) WITHIN GROUP (ORDER BY n), max(n),
           count(*) FILTER (WHERE n >= 100), count(*) FILTER (WHERE n >= (SELECT count(*) FROM inv.warm)),
           count(*), (SELECT count(*) FROM zenml_rbac.principal WHERE kind = 'team' AND org_id = bench.id('org', 0))
      FROM e")"
say "  after an ordinary write $(f2 "$(sel_a plain 3 | median)") ms, after an unrelated grant $(f2 "$(sel_a unrelated 3 | median)") ms ($(sel_a unrelated 4 | median) loads), after a grant to a warm user $(f2 "$(sel_a affecting 3 | median)") ms"

# ---------------------------------------------------------------- (b) and (c): pgbench
# Readers: BENCH_INVAL_CLIENTS pgbench clients, unthrottled.  Each warms its
# cache in its first transaction, then notes (pid, time, transactions so far,
# cache_stats().loads) in inv.reader_loads, and again every 500th (b) / 100th
# (c) transaction (a plain insert outside the measured statements, in every
# mode alike).  A reader's rate and loads per transaction come from its notes
# taken after BENCH_INVAL_SKIP seconds, so its warm-up never counts.
cat >"$work/read_checks.sql" <<'EOF'
\set u random(0, :readers - 1)
\set n :n + 1
\if :n = 1
SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t1, 'model', 'read')) FROM inv.reader;
INSERT INTO inv.reader_loads SELECT pg_backend_pid(), clock_timestamp(), :n, loads FROM zenml_rbac.cache_stats();
\endif
SELECT zenml_rbac.rbac_can(p, t1, 'model', 'read'), zenml_rbac.rbac_can(p, t2, 'pipeline', 'update'),
       zenml_rbac.rbac_can(p, t3, 'artifact', 'delete')
  FROM inv.reader WHERE u = :u;
\if :n % 500 = 0
INSERT INTO inv.reader_loads SELECT pg_backend_pid(), clock_timestamp(), :n, loads FROM zenml_rbac.cache_stats();
\endif
EOF
cat >"$work/read_rls.sql" <<'EOF'
\set u random(0, :readers - 1)
\set n :n + 1
\if :n = 1
BEGIN;
SET LOCAL ROLE bench_inv_app;
SELECT inv.warm_rls();
COMMIT;
INSERT INTO inv.reader_loads SELECT pg_backend_pid(), clock_timestamp(), :n, loads FROM zenml_rbac.cache_stats();
\endif
BEGIN;
SET LOCAL ROLE bench_inv_app;
SELECT zenml_rbac.set_principal(p) FROM inv.reader WHERE u = :u;
SELECT count(*), max(name) FROM inv.items WHERE tenant_id = (SELECT t1 FROM inv.reader WHERE u = :u);
COMMIT;
\if :n % 100 = 0
INSERT INTO inv.reader_loads SELECT pg_backend_pid(), clock_timestamp(), :n, loads FROM zenml_rbac.cache_stats();
\endif
EOF
# Writers: one pgbench client at --rate, as the superuser.
cat >"$work/write_grant.sql" <<'EOF'
\set j random(0, :others - 1)
SELECT inv.unrelated(:j);
EOF
cat >"$work/write_clean.sql" <<'EOF'
\set j random(0, :others_clean - 1)
SELECT inv.unrelated_clean(:j);
EOF
cat >"$work/write_plain.sql" <<'EOF'
\set j random(0, :others - 1)
SELECT inv.plain(:j);
EOF
for t in items items_plain; do
    cat >"$work/write_$t.sql" <<EOF
BEGIN;
SET LOCAL ROLE bench_inv_app;
SELECT zenml_rbac.set_principal(inv.writer());
INSERT INTO inv.$t (tenant_id, name) VALUES (inv.writes_b(), 'written');
COMMIT;
EOF
done

runs=$work/runs   # part|round|rate|mode|reader tps|reader xacts|loads per xact|writer tps|writer xacts|writer lag ms|events
: >"$runs"
audit_seq() { q -d "$1" -c "SELECT coalesce((SELECT seq FROM zenml_rbac.audit_head()), 0)"; }
# $1 part (b|c) $2 round $3 rate $4 mode (plain|catalog|control|clean)
run() {
    local part=$1 round=$2 rate=$3 mode=$4 wdb=$db wscript reader t0 s0 s1 rtps rx loads wtps wx lag events rf wf
    case $part/$mode in
        b/plain) wscript=write_plain ;;
        b/clean) wscript=write_clean ;;
        b/*) wscript=write_grant ;;
        c/plain) wscript=write_items_plain ;;
        c/*) wscript=write_items ;;
    esac
    [ "$mode" = control ] && wdb=$other
    reader=$( [ "$part" = b ] && echo read_checks || echo read_rls )
    # same starting state for every run: no dead rows from the previous one
    q -d "$db" -c "TRUNCATE inv.reader_loads" -c "VACUUM inv.plain_roles, inv.items, inv.items_plain, inv.reader_loads,
        zenml_rbac.tenant_role_assignment, zenml_rbac.resource, zenml_rbac.audit_log"
    [ "$mode" = control ] && q -d "$other" -c "VACUUM inv.items, zenml_rbac.tenant_role_assignment, zenml_rbac.resource, zenml_rbac.audit_log"
    s0=$(audit_seq "$wdb")
    t0=$(q -d "$db" -c "SELECT clock_timestamp()")
    "$pgbench" -n -M prepared -f "$work/$wscript.sql" -D others="$half_users" -D others_clean="$n_clean" -R "$rate" \
        -T "$BENCH_INVAL_SECONDS" -c 1 -j 1 "$wdb" >"$work/w.out" 2>"$work/w.err" &
    local wpid=$!
    rf=0 wf=0
    "$pgbench" -n -M prepared -f "$work/$reader.sql" -D n=0 -D readers="$BENCH_INVAL_READERS" -P 1 \
        -T "$BENCH_INVAL_SECONDS" -c "$BENCH_INVAL_CLIENTS" -j "$BENCH_INVAL_CLIENTS" "$db" \
        >"$work/r.out" 2>"$work/r.err" || rf=1
    wait "$wpid" || wf=1
    if [ $rf = 1 ] || [ $wf = 1 ]; then
        cat "$work/r.out" "$work/r.err" "$work/w.out" "$work/w.err" >&2
        echo "invalidation.sh: pgbench failed ($part, $rate/s, $mode)" >&2
        exit 1
    fi
    s1=$(audit_seq "$wdb")
    events=$((s1 - s0))
    # readers: each one's notes after the skipped start (and after its warm-up)
    IFS='|' read -r rtps loads nreaders <<<"$(q -d "$db" -c "
        WITH p AS (SELECT pid, (max(n) - min(n))::numeric AS dn, max(loads) - min(loads) AS dl,
                          extract(epoch FROM max(at) - min(at)) AS dt
                     FROM inv.reader_loads WHERE at >= '$t0'::timestamptz + interval '$BENCH_INVAL_SKIP s'
                    GROUP BY pid HAVING count(*) >= 2 AND max(at) > min(at))
        SELECT coalesce(round(sum(dn / dt), 1), 0), coalesce(round(sum(dl) / nullif(sum(dn), 0), 4), 0), count(*) FROM p")"
    rx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/r.out")
    wtps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/w.out")
    wx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/w.out")
    lag=$(sed -n 's/^rate limit schedule lag: avg \([0-9.]*\) .*/\1/p' "$work/w.out")
    for f in "$work/r.out" "$work/w.out"; do
        local failed
        failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$f")
        [ "${failed:-0}" = 0 ] || fail "($part) $rate/s $mode: $failed failed transactions ($(basename "$f"))"
    done
    [ "$nreaders" = "$BENCH_INVAL_CLIENTS" ] \
        || fail "($part) $rate/s $mode: $nreaders of $BENCH_INVAL_CLIENTS readers noted progress after ${BENCH_INVAL_SKIP} s (runs too short?)"
    # each catalog change appends one audit event; the ordinary writes none
    if [ "$mode" = plain ]; then
        [ "$events" = 0 ] || fail "($part) $rate/s plain: $events audit events (expected none)"
    else
        [ "$events" = "$wx" ] || fail "($part) $rate/s $mode: $events audit events for $wx writer transactions"
    fi
    echo "$part|$round|$rate|$mode|$rtps|$rx|$loads|$wtps|$wx|${lag:-}|$events" >>"$runs"
    say "  ($part) $rate/s $mode: readers $(f0 "$rtps") tps, $loads loads/xact; writer $(f0 "$wtps")/s ($wx commits, lag ${lag:-?} ms)"
}

n_clean=$(q -d "$db" -c "SELECT count(*) FROM inv.other_clean")
declare -A part_modes
for part in b c; do
    modes=""
    for m in plain catalog control clean; do
        if has_mode $m && { [ $part = b ] || [ $m != clean ]; }; then modes+="$m "; fi
    done
    modes=${modes% }
    part_modes[$part]=$modes
    say "($part) $BENCH_REPS round(s) of ${BENCH_INVAL_SECONDS} s runs: rates $BENCH_INVAL_RATES, writer modes $modes"
    for r in $(seq 1 "$BENCH_REPS"); do
        for rate in $BENCH_INVAL_RATES; do
            # the modes in a rotating order: none always runs first
            read -r -a ms_ <<<"$modes"
            nm=${#ms_[@]}
            for i in $(seq 0 $((nm - 1))); do
                run "$part" "$r" "$rate" "${ms_[$(((r - 1 + i) % nm))]}"
            done
        done
    done
done

say "checks"
[ "$(lib_id)" = "$lib_start" ] || fail "$lib changed during the run ($lib_start, now $(lib_id)): the numbers mix two builds"
verify=""
for d in $db $(has_mode control && echo $other); do
    v=$(q -d "$d" -c "SELECT valid || ' (' || events_checked || ' events)' || coalesce(': ' || problem, '') FROM zenml_rbac.verify_audit_log()")
    [[ $v == true* ]] || fail "$d: verify_audit_log(): $v"
    verify+="$d: $v; "
done
say "done"

# ---------------------------------------------------------------- report
exec >"${BENCH_REPORT:-/dev/stdout}"
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD -- "$here/../../src" 2>/dev/null || commit+=" (src/ modified)"
sel() {   # $1 field, $2 part, $3 rate, $4 mode: the runs' values
    awk -F'|' -v f="$1" -v p="$2" -v r="$3" -v m="$4" '$1 == p && $3 == r && $4 == m {printf "%s ", $f}' "$runs"
}
round_ratios() {   # $1 part, $2 rate, $3 mode: reader tps / plain's, round by round
    awk -F'|' -v p="$1" -v r="$2" -v m="$3" '$1 == p && $3 == r {t[$2 "/" $4] = $5; k[$2] = 1}
        END {for (i = 1; i in k; i++) printf "%.2f ", t[i "/" m] / t[i "/plain"]}' "$runs"
}

cat <<EOF

# zenml_rbac cache-invalidation benchmark
$(q -d "$db" -c "SELECT 'zenml_rbac ' || extversion FROM pg_extension WHERE extname = 'zenml_rbac'") (commit $commit), $(q -d postgres -c "SELECT split_part(version(), ' on ', 1)"), $(nproc) CPU(s): $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
server: ${BENCH_SERVER}, fsync=$(q -d postgres -c "SHOW fsync"), autovacuum=$(q -d postgres -c "SHOW autovacuum"); jit off; $(date -u +%Y-%m-%dT%H:%MZ)
load average (1, 5, 15 min) of the machine at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg)
command: $(env | grep '^BENCH_' | grep -Ev '^BENCH_(SERVER|REPORT)=' | sort | tr '\n' ' ')bash test/bench/invalidation.sh (ran $(($(date +%s) - t_start)) s)
library: $lib ($lib_start)

Catalog (fixture.sql, set-based): 2 organizations A and B, $(n "$c_users") users (half each), $(n "$c_tenants") tenants,
$(n "$c_teams") teams (every user in one of its organization's), $(n "$c_assign") tenant role assignments (each user
${BENCH_INVAL_ROLES_PER_USER} of its own: admin, editor, viewer in turn; each team ${BENCH_INVAL_TEAM_ROLES}), $(n "$c_resources") resources.
Unrelated change: a user of B gains or loses viewer in a tenant of B (grant_tenant_role / revoke_tenant_role
as the system, one tenant_role_assignment row, one commit).  Ordinary write: the same toggle of a row of an
ordinary table.

## (a) One session warm over $(n "$BENCH_INVAL_WARM") users of A

Each statement: count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, 'model', 'read')) over $(n "$BENCH_INVAL_ROWS") rows cycling
through the warm users (EXPLAIN ANALYZE execution time), right after another session committed the change.
$(n "$BENCH_INVAL_STATEMENTS") statements after each kind of change, the kinds in turn; loads = cache_stats().loads after - before.

| statement right after | median ms | mean ms | per check | ratio (medians) | loads: median / mean / max | target | |
|-----------------------|----------:|--------:|----------:|----------------:|---------------------------:|--------|--|
EOF
p_med=$(sel_a plain 3 | median)
u_med=$(sel_a unrelated 3 | median)
a_med=$(sel_a affecting 3 | median)
lstat() { echo "$(sel_a "$1" 4 | median) / $(f1 "$(sel_a "$1" 4 | mean)") / $(sel_a "$1" 4 | maxof)"; }
printf '| baseline: an ordinary write | %s | %s | %s | 1.00x | %s | | |\n' "$(ms "$p_med")" "$(ms "$(sel_a plain 3 | mean)")" \
    "$(f0 "$(calc "$p_med * 1e6 / $BENCH_INVAL_ROWS")") ns" "$(lstat plain)"
printf '| an unrelated grant or revoke (a user of B) | %s | %s | %s | **%s** | %s | <= 1.2x | %s |\n' "$(ms "$u_med")" "$(ms "$(sel_a unrelated 3 | mean)")" \
    "$(f0 "$(calc "$u_med * 1e6 / $BENCH_INVAL_ROWS")") ns" "$(ratio "$u_med" "$p_med")" "$(lstat unrelated)" "$(verdict "$(f2 "$(calc "$u_med / $p_med")") <= 1.2")"
if has_mode control; then
    c_med=$(sel_a control 3 | median)
    printf '| control: the same kind of grant or revoke, committed in a copy of the database | %s | %s | %s | %s | %s | | |\n' \
        "$(ms "$c_med")" "$(ms "$(sel_a control 3 | mean)")" "$(f0 "$(calc "$c_med * 1e6 / $BENCH_INVAL_ROWS")") ns" \
        "$(ratio "$c_med" "$p_med")" "$(lstat control)"
fi
cat <<EOF

Mean ratio (unrelated / ordinary): $(ratio "$(sel_a unrelated 3 | mean)" "$(sel_a plain 3 | mean)").  Statements after an unrelated change that loaded >= 100 entries:
$(sel_a unrelated 4 | tr ' ' '\n' | awk '$1 >= 100' | wc -l) of $(n "$BENCH_INVAL_STATEMENTS"); the warm-up pass loaded $(awk -F'|' '$1 == "warmup" && $2 == 0 {print $4}' "$a_res") entries (every user, its roles).

Loads against a model of the keys (invalidation_fixture.sql: a user's entry depends on the keys of
itself and its team, predefined roles on none; a change hits its principal's key): equal in $agree of $((agree + disagree)) statements${disagree_list:+; differ:$disagree_list}.
Over all $(n "$m_n") possible unrelated changes (every user of B) the model predicts median $m_med, mean $m_mean,
95th percentile $m_p95, max $m_max loads for this warm session; $m_100 of them ($(calc "$m_100 * 100 / $m_n" | xargs printf '%.1f')%) reload >= 100 entries (their key
is that of one of A's $m_teams teams, on which every member's entry depends), $m_all reload every warm user.

## (b) pgbench readers while a writer commits unrelated grants at a fixed rate

Readers: $BENCH_INVAL_CLIENTS clients (pgbench -M prepared, -c/-j $BENCH_INVAL_CLIENTS), each transaction one statement with three rbac_can
checks for a random user of $(n "$BENCH_INVAL_READERS") of A.  ${BENCH_INVAL_SECONDS} s runs; reader tps and loads/xact (the readers' cache
loads per transaction, cache_stats()) from notes each reader takes after its first transaction (which warms
its cache over all the users) and every 500th, counting those after the first ${BENCH_INVAL_SKIP} s of the run.
Writer: one pgbench client at --rate, as the system:
  plain    toggles a row of an ordinary table (the baseline)
  catalog  grants or revokes viewer for a random user of B (unrelated to every reader)
  control  the same grants in a copy of the database (same work, same commits; its invalidations reach no reader)
$(has_mode clean && echo "  clean    the same grants, for the $(n "$n_clean") users of B whose key is none of A's teams'
           (a diagnostic: only collisions with the readers' own keys are left)")
Medians of ${BENCH_REPS} round(s), the modes in rotating order.

EOF
part_table() {   # $1 part
    local p=$1 rate pt ct m mt extra="" loads="" wr="" row
    local -a pm
    read -r -a pm <<<"${part_modes[$p]}"
    for m in "${pm[@]}"; do
        case $m in plain|catalog) ;; *) extra+=" $m tps | $m / plain |" ;; esac
    done
    printf '| writer commits/s | plain tps | catalog tps | catalog / plain | target | |%s reader loads/xact %s | writer commits/s achieved %s |\n' \
        "$extra" "$(tr ' ' '\n' <<<"${part_modes[$p]}" | paste -sd/ | sed 's|/| / |g')" "$(tr ' ' '\n' <<<"${part_modes[$p]}" | paste -sd/ | sed 's|/| / |g')"
    printf '|---:|---:|---:|---:|---|---|%s---|---|\n' "$(for m in "${pm[@]}"; do case $m in plain|catalog) ;; *) printf -- '---:|---:|' ;; esac; done)"
    for rate in $BENCH_INVAL_RATES; do
        pt=$(sel 5 "$p" "$rate" plain | median)
        ct=$(sel 5 "$p" "$rate" catalog | median)
        row=$(printf '| %s | %s | %s | **%s** | >= 0.9 | %s |' "$rate" "$(n "$(f0 "$pt")")" "$(n "$(f0 "$ct")")" \
            "$(f2 "$(calc "$ct / $pt")")" "$(verdict "$(f2 "$(calc "$ct / $pt")") >= 0.9")")
        loads="" wr=""
        for m in "${pm[@]}"; do
            mt=$(sel 5 "$p" "$rate" "$m" | median)
            case $m in plain|catalog) ;; *) row+=$(printf ' %s | %s |' "$(n "$(f0 "$mt")")" "$(f2 "$(calc "$mt / $pt")")") ;; esac
            loads+="${loads:+ / }$(sel 7 "$p" "$rate" "$m" | median)"
            wr+="${wr:+ / }$(f0 "$(sel 8 "$p" "$rate" "$m" | median)")"
        done
        echo "$row $loads | $wr |"
    done
}
part_table b
cat <<EOF

## (c) RLS readers while a writer inserts rows of the protected table in a tenant of B

Readers: each transaction BEGIN; SET LOCAL ROLE bench_inv_app; set_principal(a random user of $(n "$BENCH_INVAL_READERS") of A);
SELECT count(*), max(name) FROM inv.items WHERE tenant_id = <one of its tenants> ($(n "$BENCH_INVAL_ITEMS") rows there, under the
protect() policy); COMMIT.  Writer (bench_inv_app acting as a member of B, one row per commit):
  plain    inserts into an unprotected copy of the table (the baseline)
  catalog  inserts into the protected table in B's tenant writes_b: each row registers a resource (owner: the writer)
  control  the same inserts in a copy of the database
Readers note their progress and loads every 100th transaction.

EOF
part_table c
cat <<EOF

## (d) A change that affects a warm principal

Same session and statements as (a), interleaved with them: right after another session committed a grant or
revoke of viewer for ONE of the warm users (in a tenant of A the rows never name).

| statement right after | median ms | mean ms | ratio to unrelated | ratio to ordinary write | loads: median / mean / max |
|-----------------------|----------:|--------:|-------------------:|------------------------:|---------------------------:|
| an unrelated grant or revoke | $(ms "$u_med") | $(ms "$(sel_a unrelated 3 | mean)") | 1.00x | $(ratio "$u_med" "$p_med") | $(lstat unrelated) |
| a grant or revoke of one warm user | $(ms "$a_med") | $(ms "$(sel_a affecting 3 | mean)") | **$(ratio "$a_med" "$u_med")** | $(ratio "$a_med" "$p_med") | $(lstat affecting) |

Single checks of the changed user (rbac_can(p, its own tenant, 'model', 'read') in a plpgsql function,
clock_timestamp() read before and after; $(n "$BENCH_INVAL_STATEMENTS") users, each right after its change, then once more):

| check | median us | mean us | ratio | loads: median / max |
|-------|----------:|--------:|------:|--------------------:|
| warm: the same check once more | $(f1 "$(sel_a one_warm 3 | median)") | $(f1 "$(sel_a one_warm 3 | mean)") | 1.00x | $(sel_a one_warm 4 | median) / $(sel_a one_warm 4 | maxof) |
| first check after the change | $(f1 "$(sel_a one_after 3 | median)") | $(f1 "$(sel_a one_after 3 | mean)") | **$(ratio "$(sel_a one_after 3 | median)" "$(sel_a one_warm 3 | median)")** | $(sel_a one_after 4 | median) / $(sel_a one_after 4 | maxof) |

A warm check in a loop of $(n "$BENCH_INVAL_ROWS") (a different warm user each time, clock read once per loop): $(f2 "$(sel_a loop 3 | median)") us each
(median of 5 loops, after a warm-up statement; $(sel_a loop 4 | maxof) loads at most).

## Checks

- answers: every statement of (a) and (d) allowed $warm_allowed of $(n "$BENCH_INVAL_ROWS") checks, as the warm-up did; every single check allowed
- audit: each catalog-writer commit of (b) and (c) appended one event, the ordinary writers none; verify_audit_log(): $verify
EOF
if [ ${#failures[@]} -eq 0 ]; then
    echo "- no failed check, no failed pgbench transaction"
else
    printf -- '- FAILED: %s\n' "${failures[@]}"
fi
cat <<EOF

Runs in order (reader tps; loads/xact; writer commits/s), and the round ratios to plain:

\`\`\`
EOF
for p in b c; do
    for rate in $BENCH_INVAL_RATES; do
        for m in ${part_modes[$p]}; do
            printf '(%s) %4s/s %-8s tps %s  loads %s  writer %s\n' "$p" "$rate" "$m" \
                "$(sel 5 "$p" "$rate" "$m" | xargs printf '%.0f ')" "$(sel 7 "$p" "$rate" "$m")" "$(sel 8 "$p" "$rate" "$m" | xargs printf '%.0f ')"
        done
        for m in ${part_modes[$p]}; do
            [ "$m" = plain ] && continue
            printf '(%s) %4s/s %-8s / plain %s\n' "$p" "$rate" "$m" "$(round_ratios "$p" "$rate" "$m")"
        done
    done
done
echo '```'

[ ${#failures[@]} -eq 0 ]
