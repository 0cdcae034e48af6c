#!/usr/bin/env bash
# Row-level security benchmark of zenml_rbac in a throwaway PostgreSQL 15
# cluster: count(*) on a protected 1,000,000-row table against the table
# owner's query with the equivalent WHERE, against plain-SQL policies over
# ordinary role tables (best practice and naive), the selective case (1
# tenant of 1,000), and prepared statements reused across principals.
# Prints a report whose numbers are medians and ratios to baselines measured
# in the same session, interleaved; exits non-zero if an answer is wrong.
#   usage: bash test/bench/rls.sh                 (after make install; ~1.5 min on 2 cores)
#          BENCH_QUICK=1 bash test/bench/rls.sh   (smaller sizes, ~20 s)
# Sizes: see test/bench/README.md.  BENCH_SERVER=existing runs against the
# server the PG* variables point at instead (database bench_rls, roles bench_rls_*).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${BENCH_SERVER:-}" ]; then
    # The tables (about 700 MB with indexes) must fit in shared_buffers.
    # pg_virtualenv's own messages go to stderr; the report alone to stdout.
    report=$(mktemp)
    status=0
    BENCH_SERVER=pg_virtualenv BENCH_REPORT=$report pg_virtualenv -v 15 \
        -o shared_buffers=1GB -o max_wal_size=4GB -o checkpoint_timeout=30min \
        bash "$here/rls.sh" >&2 || status=$?
    cat "$report"
    rm -f "$report"
    exit $status
fi

# ---------------------------------------------------------------- sizes
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_REPS:=3}" "${BENCH_RLS_ROWS:=200000}" "${BENCH_RLS_NAIVE_ROWS:=20000}" "${BENCH_RLS_WIDE_ROWS:=200000}"
fi
: "${BENCH_REPS:=7}"                  # repetitions; every reported number is their median
: "${BENCH_RLS_ROWS:=1000000}"        # rows of the protected table and its copies
: "${BENCH_RLS_TENANTS:=50}"          # tenants they are spread over
: "${BENCH_RLS_MEMBER:=5}"            # tenants alice (and carol) are members of
: "${BENCH_RLS_MANY:=45}"             # tenants `many` is a member of
: "${BENCH_RLS_SHARES:=20}"           # rows shared with carol, one per tenant outside hers
: "${BENCH_RLS_NAIVE_ROWS:=100000}"   # rows of the copy the per-row policy is timed on
: "${BENCH_RLS_WIDE_ROWS:=1000000}"   # selective case: rows ...
: "${BENCH_RLS_WIDE_TENANTS:=1000}"   # ... over this many tenants
: "${BENCH_RLS_FILLER_USERS:=10000}"  # other users in the plain-SQL role tables (5 memberships each)
if [ $((BENCH_RLS_MANY > BENCH_RLS_TENANTS || 10 + BENCH_RLS_MEMBER + BENCH_RLS_SHARES > BENCH_RLS_TENANTS
        || BENCH_RLS_MEMBER + 3 > BENCH_RLS_TENANTS)) = 1 ]; then
    echo "rls.sh: need BENCH_RLS_MANY, 10 + BENCH_RLS_MEMBER + BENCH_RLS_SHARES and BENCH_RLS_MEMBER + 3 <= BENCH_RLS_TENANTS" >&2
    exit 2
fi
# Parallel query stays at its default; JIT is off as in run.sh (its compile
# time, tens of ms, would land on some plans and not others).
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c client_min_messages=warning"

# ---------------------------------------------------------------- helpers
t_start=$(date +%s)
say() { printf '[%4ds] %s\n' $(($(date +%s) - t_start)) "$*" >&2; }
. "$here/lib.sh"
calc() { awk "BEGIN {printf \"%s\", $1}"; }
ms() { awk -v v="$1" 'BEGIN {printf (v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f"), v}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {r = a / b; printf (r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx"), r}'; }
verdict() { if awk "BEGIN {exit !($1)}"; then echo met; else echo MISSED; fi; }
n() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }
failures=()
fail() { failures+=("$*"); say "CHECK FAILED: $*"; }

db=bench_rls
# ---------------------------------------------------------------- fixture
say "loading: $BENCH_RLS_ROWS rows x 3 copies + $BENCH_RLS_NAIVE_ROWS, $BENCH_RLS_WIDE_ROWS wide rows x 2 (protect() registers each row of the two protected tables)"
q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
load_start=$(date +%s)
q -d "$db" -c "CREATE EXTENSION zenml_rbac" -f "$here/common.sql" -f "$here/rls_common.sql" \
    -v rows="$BENCH_RLS_ROWS" -v tenants="$BENCH_RLS_TENANTS" -v member="$BENCH_RLS_MEMBER" \
    -v many="$BENCH_RLS_MANY" -v shares="$BENCH_RLS_SHARES" -v naive_rows="$BENCH_RLS_NAIVE_ROWS" \
    -v wide_rows="$BENCH_RLS_WIDE_ROWS" -v wide_tenants="$BENCH_RLS_WIDE_TENANTS" \
    -v filler_users="$BENCH_RLS_FILLER_USERS" \
    -f "$here/rls_fixture.sql" -f "$here/rls_queries.sql" >/dev/null
load_secs=$(($(date +%s) - load_start))

# ---------------------------------------------------------------- measurements
scenarios=(member shares many selective)
declare -A med samples expect what
for par in default 0; do
    for s in "${scenarios[@]}"; do
        say "measuring: scenario $s, parallel workers per gather: $par, $BENCH_REPS rounds"
        opts=$PGOPTIONS
        [ "$par" = 0 ] && opts+=" -c max_parallel_workers_per_gather=0"
        out=$(PGOPTIONS=$opts q -d "$db" -v scenario="$s" -v reps="$BENCH_REPS" -f "$here/rls_run.sql")
        while IFS='|' read -r kind name a b; do
            case $kind in
                m) med[$par/$s/$name]=$a; samples[$par/$s/$name]=$b ;;
                c) expect[$s/$name]=$b
                   [ "$a" = "$b" ] || fail "scenario $s, $name (parallel $par): count $a, expected $b" ;;
            esac
        done <<<"$out"
    done
done
while IFS='|' read -r s name w; do what[$s/$name]=$w; done \
    <<<"$(q -d "$db" -c "SELECT scenario, name, what FROM bench.rls_q")"

say "plans"
plans=""
for s in "${scenarios[@]}"; do
    plans+="#### scenario $s: $(q -d "$db" -c "SELECT principal || ', ' || about FROM bench.rls_scenario WHERE scenario = '$s'")"$'\n\n'
    plans+=$(q -d "$db" -v scenario="$s" -f "$here/rls_plans.sql")$'\n\n'
done
# The selective case must use the tenant index.
sel_plan=$(q -d "$db" -v scenario=selective -f "$here/rls_plans.sql" | awk '/^### zenml_rbac:/ {p = 1; next} /^###/ {p = 0} p')
sel_index=met
grep -Eq '(Index|Index Only|Bitmap Index) Scan (using|on) items_wide_tenant' <<<"$sel_plan" \
    || { sel_index=MISSED; fail "selective case: the zenml_rbac policy's plan does not scan the tenant index"; }

say "prepared statements across principals"
prepared=$(q -d "$db" -f "$here/rls_prepared.sql")
while IFS='|' read -r kind c who a b; do
    [ "$kind" = p ] || continue
    [ "$a" = "$b" ] || fail "prepared statement, $c, $who: count $a, expected $b"
done <<<"$prepared"
say "done"

# ---------------------------------------------------------------- report
exec > "${BENCH_REPORT:-/dev/stdout}"
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD -- "$here/../../src" 2>/dev/null || commit+=" (src/ modified)"
about() { q -d "$db" -c "SELECT principal || ', ' || about FROM bench.rls_scenario WHERE scenario = '$1'"; }

row() { printf '| %-78s | %9s | %8s | %8s | %9s | %8s | %-26s | %-6s |\n' "$@"; }
head_row() {
    row "query (count(*) as ...)" "median ms" "x owner" "x zenml" "no par. ms" "x owner" "target" ""
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..80})" "----------:" "---------:" "---------:" \
        "----------:" "---------:" "----------------------------" "--------"
}
# $1 scenario, $2 name, $3 target text, $4 verdict expression over r (x owner) and z (x zenml_rbac)
line() {
    local s=$1 name=$2 target=${3:-} cond=${4:-} sc d z0 v="" m
    sc=$(q -d "$db" -c "SELECT scale FROM bench.rls_q WHERE scenario = '$s' AND name = '$name'")
    d=$(calc "${med[default/$s/$name]} * $sc")
    z0=$(calc "${med[0/$s/$name]} * $sc")
    if [ "${cond:0:1}" = = ]; then
        v=${cond:1}
    elif [ -n "$cond" ]; then
        v=$(verdict "$(sed "s|r|($d / ${med[default/$s/owner]})|g; s|z|($d / ${med[default/$s/zenml_rbac]})|g" <<<"$cond")")
    fi
    m=$(ms "$d")
    [ "$sc" != 1 ] && m="~$m"
    row "${what[$s/$name]}" "$m" "$(ratio "$d" "${med[default/$s/owner]}")" "$(ratio "$d" "${med[default/$s/zenml_rbac]}")" \
        "$( [ "$sc" != 1 ] && echo "~")$(ms "$z0")" "$(ratio "$z0" "${med[0/$s/owner]}")" "$target" "$v"
}
table() {   # $1 scenario, then name|target|condition ...
    local s=$1
    shift
    echo
    echo "$(about "$s"): $(n "${expect[$s/owner]}") rows visible"
    echo
    head_row
    for spec in "$@"; do
        IFS='|' read -r name target cond <<<"$spec"
        line "$s" "$name" "$target" "$cond"
    done
}

cat <<EOF

# zenml_rbac row-level security benchmark
$(q -d "$db" -c "SELECT 'zenml_rbac ' || extversion FROM pg_extension WHERE extname = 'zenml_rbac'") (commit $commit), $(q -d postgres -c "SELECT split_part(version(), ' on ', 1)"), $(nproc) CPU(s): $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
server: ${BENCH_SERVER}; every number is the median of ${BENCH_REPS} interleaved runs in one session (EXPLAIN ANALYZE execution time, TIMING OFF); jit off; $(date -u +%Y-%m-%dT%H:%MZ)
command: $(env | grep '^BENCH_' | grep -Ev '^BENCH_(SERVER|REPORT)=' | sort | tr '\n' ' ')bash test/bench/rls.sh (ran $(($(date +%s) - t_start)) s, loading ${load_secs} s)

Tables: $(n "$BENCH_RLS_ROWS") rows (uuid id, uuid tenant_id, name, created_at) over $BENCH_RLS_TENANTS tenants, each
tenant's rows spread over the whole heap; primary key (id) and an index on (tenant_id); VACUUM ANALYZE
after loading.  rls.items is protected with zenml_rbac.protect(); identical copies carry the plain-SQL
policies (each TO its own role) and one copy is indexed on (tenant_id, id) instead of (tenant_id).
"median ms": parallel query at its default (max_parallel_workers_per_gather = 2); "no par.": the same
queries with max_parallel_workers_per_gather = 0, a separate interleaved series.  "x owner" and
"x zenml": ratio of medians to the owner's query and to zenml_rbac's policy of the same series.
EOF

echo
echo "## 1. A member of ${BENCH_RLS_MEMBER} of ${BENCH_RLS_TENANTS} tenants"
table member \
    "owner||" \
    "owner_shape||" \
    "zenml_rbac|<= 1.3x owner|r <= 1.3" \
    "bp_in|zenml_rbac clearly faster|z >= 1.3" \
    "bp_any|zenml_rbac clearly faster|z >= 1.3" \
    "bp_shares||" \
    "naive_exists||" \
    "naive_fn|orders of magnitude|z >= 100" \
    "owner_cov||" \
    "zenml_rbac_cov||" \
    "p1||" \
    "p2||" \
    "p2_cov||"
cat <<EOF

~: measured on the first $(n "$BENCH_RLS_NAIVE_ROWS") rows (every tenant alike) and scaled linearly to $(n "$BENCH_RLS_ROWS").
zenml_rbac against the owner's query forced to its own plan shape (owner_shape): $(ratio "${med[default/member/zenml_rbac]}" "${med[default/member/owner_shape]}"), no parallel $(ratio "${med[0/member/zenml_rbac]}" "${med[0/member/owner_shape]}").
EOF

echo
echo "## 2. Shares: the instance arm of the policy at work"
table shares \
    "owner||" \
    "zenml_rbac|<= 1.3x owner|r <= 1.3" \
    "bp_shares||" \
    "owner_cov||" \
    "zenml_rbac_cov||" \
    "p1||" \
    "p2||" \
    "p2_cov||"

echo
echo "## 3. A member of ${BENCH_RLS_MANY} of ${BENCH_RLS_TENANTS} tenants"
table many \
    "owner||" \
    "owner_shape||" \
    "zenml_rbac|<= 1.3x owner|r <= 1.3" \
    "bp_in||" \
    "bp_any||" \
    "p1||" \
    "p2||" \
    "p2_cov||"

echo
echo "## 4. Selective: ${BENCH_RLS_WIDE_TENANTS} tenants, $(n "$BENCH_RLS_WIDE_ROWS") rows"
table selective \
    "owner||" \
    "owner_shape||" \
    "zenml_rbac|tenant index in plan|=$sel_index" \
    "zenml_rbac_noindex||" \
    "owner_cov||" \
    "zenml_rbac_cov||" \
    "p2_cov||"
echo
echo "Each timed run of this section follows an untimed run of the same query: these sub-millisecond"
echo "queries would otherwise time whatever the previous query left in the CPU caches."
echo
echo "zenml_rbac's plan (from section 7):"
echo
echo '```'
printf '%s\n' "$sel_plan"
echo '```'

echo
echo "## 5. Prepared statements reused across principals (role bench_rls_app, one session)"
echo
echo "| case | principal | executions | count | expected | |"
echo "|------|-----------|-----------:|------:|---------:|-|"
# one line per case and principal (their executions alternate with the other principal's)
awk -F'|' '$1 == "p" {
        k = $2 "|" $3
        if (!(k in runs)) order[++n] = k
        runs[k]++
        if (!(k in got) || got[k] == $4) got[k] = $4; else got[k] = got[k] "," $4
        want[k] = $5
        if ($4 != $5) bad[k] = 1
    }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]
            split(k, f, "|")
            printf "| %s | %s | %d | %s | %s | %s |\n", f[1], f[2], runs[k], got[k], want[k], (k in bad) ? "WRONG" : "ok"
        }
    }' <<<"$prepared"
echo
echo "Plan cache (pg_prepared_statements): $(awk -F'|' '$1 == "g" {printf "%s%s under %s: %s generic / %s custom", sep, $3, $2, $4, $5; sep = "; "}' <<<"$prepared")."
echo
echo "The generic plan of q, executed for bob:"
echo
echo '```'
grep -v '^[pg]|' <<<"$prepared"
echo '```'

echo
echo "## 6. Checks"
echo
if [ ${#failures[@]} -eq 0 ]; then
    echo "Every query returned its expected count under both parallel settings; every prepared-statement answer"
    echo "was the current principal's; the selective plan scans the tenant index."
else
    printf -- '- FAILED: %s\n' "${failures[@]}"
fi

echo
echo "## 7. Plans (EXPLAIN ANALYZE, TIMING OFF, COSTS OFF; parallel query at its default)"
echo
echo '```'
printf '%s' "$plans"
echo '```'

echo
echo "Samples (ms, default parallel / no parallel), in run order:"
echo
echo '```'
for s in "${scenarios[@]}"; do
    for name in $(q -d "$db" -c "SELECT name FROM bench.rls_q WHERE scenario = '$s' ORDER BY ord"); do
        printf '%-10s %-18s %s / %s\n' "$s" "$name" "${samples[default/$s/$name]}" "${samples[0/$s/$name]}"
    done
done
echo '```'

[ ${#failures[@]} -eq 0 ]
