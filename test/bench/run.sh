#!/usr/bin/env bash
# Benchmarks of zenml_rbac in a throwaway PostgreSQL 15 cluster: warm checks
# against a trivial built-in and against plain SQL, then a large catalog
# (cold first check, warm throughput, cache memory).  Prints a report whose
# numbers are medians and ratios to a baseline measured in the same run.
#   usage: bash test/bench/run.sh                 (after make install; ~1 min on 2 cores)
#          BENCH_QUICK=1 bash test/bench/run.sh   (smaller sizes, ~15 s)
# Sizes: see test/bench/README.md.  BENCH_SERVER=existing runs against the
# server the PG* variables point at instead (databases bench_small, bench_scale).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# Settings: the 1M-row tables must fit in shared_buffers (a larger table
# is scanned through a small ring and would time the kernel's page copies).
# pg_virtualenv's own messages go to stderr; the report alone to stdout.
. "$here/lib.sh"
run_in_virtualenv "$here/run.sh" -v 15 -o shared_buffers=512MB -o max_wal_size=4GB -o checkpoint_timeout=30min

# ---------------------------------------------------------------- sizes
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_REPS:=3}" "${BENCH_ROWS:=200000}" "${BENCH_PLAIN_ROWS:=5000}"
    : "${BENCH_USERS:=10000}" "${BENCH_TENANTS:=100}" "${BENCH_RESOURCES:=10000}" "${BENCH_TEAMS:=20}"
fi
: "${BENCH_REPS:=5}"               # repetitions; every reported number is their median
: "${BENCH_ROWS:=1000000}"         # checks per warm-check query
: "${BENCH_PLAIN_ROWS:=20000}"     # checks per plain-SQL comparison query
: "${BENCH_PAIRS:=1000}"           # distinct principal/tenant pairs the rows cycle through
: "${BENCH_SMALL_USERS:=100}"      # small catalog: 1 organization
: "${BENCH_SMALL_TENANTS:=10}"
: "${BENCH_ORGS:=4}"               # large catalog
: "${BENCH_TENANTS:=1000}"
: "${BENCH_USERS:=100000}"
: "${BENCH_ROLES_PER_USER:=5}"     # tenant role assignments = users x this
: "${BENCH_TEAMS:=100}"            # every user is in one team
: "${BENCH_TEAM_ROLES:=10}"        # tenant roles per team
: "${BENCH_RESOURCES:=100000}"
: "${BENCH_GRANTS_PER_RESOURCE:=5}" # resource grants = resources x this
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c max_parallel_workers_per_gather=0 -c client_min_messages=warning"

# ---------------------------------------------------------------- helpers
t_start=$(date +%s)
say() { printf '[%4ds] %s\n' $(($(date +%s) - t_start)) "$*" >&2; }
field() { awk -F'|' -v k="$2" '$1 == k {print $'"$3"'}' <<<"$1"; }
calc() { awk "BEGIN {printf \"%s\", $1}"; }
ms() { awk -v v="$1" 'BEGIN {printf (v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f"), v}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {r = a / b; printf (r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx"), r}'; }
ns_per() { awk -v v="$1" -v n="$2" 'BEGIN {printf "%.0f ns", v * 1e6 / n}'; }
verdict() { if awk "BEGIN {exit !($1)}"; then echo met; else echo MISSED; fi; }
row() { printf '| %-58s | %10s | %9s | %9s | %-15s | %-6s |\n' "$@"; }
head_row() {
    row "what" "median ms" "per check" "ratio" "target" ""
    printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "-----------:" "----------:" "----------:" \
        "-----------------" "--------"
}
n() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

new_db() {
    q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
    q -d "$1" -c "CREATE EXTENSION zenml_rbac" -f "$here/common.sql"
}

# $1 db, then orgs tenants users roles_per_user teams team_roles resources grants_per_resource
load_catalog() {
    local db=$1
    shift
    q -d "$db" -v orgs="$1" -v tenants="$2" -v users="$3" -v roles_per_user="$4" \
        -v teams="$5" -v team_roles="$6" -v resources="$7" -v grants_per_resource="$8" \
        -f "$here/fixture.sql" \
        -v pairs="$BENCH_PAIRS" -v rows="$BENCH_ROWS" -v plain_rows="$BENCH_PLAIN_ROWS" \
        -f "$here/rows.sql"
}

catalog_counts() {
    q -d "$1" -c "SELECT (SELECT count(*) FROM zenml_rbac.organization), (SELECT count(*) FROM zenml_rbac.tenant),
        (SELECT count(*) FROM zenml_rbac.principal WHERE kind = 'user'), (SELECT count(*) FROM zenml_rbac.principal WHERE kind = 'team'),
        (SELECT count(*) FROM zenml_rbac.tenant_role_assignment), (SELECT count(*) FROM zenml_rbac.resource),
        (SELECT count(*) FROM zenml_rbac.resource_grant), (SELECT count(DISTINCT p) FROM bench.pairs),
        (SELECT count(DISTINCT (p, t)) FROM bench.pairs)"
}
describe() {   # $1: orgs|tenants|users|teams|assignments|resources|grants|pair principals|pairs
    IFS='|' read -r o t u tm a r g pp pr <<<"$1"
    echo "$(n "$o") org(s), $(n "$t") tenants, $(n "$u") users, $(n "$tm") teams, $(n "$a") tenant role"
    echo "assignments (a user holds $2 roles itself and $3 through its team), $(n "$r") resources, $(n "$g") grants;"
    echo "the checked rows cycle through $(n "$pr") principal/tenant pairs of $(n "$pp") users"
}

# ---------------------------------------------------------------- small catalog
say "small catalog: loading"
new_db bench_small
load_catalog bench_small 1 "$BENCH_SMALL_TENANTS" "$BENCH_SMALL_USERS" 3 2 2 100 2
q -d bench_small -f "$here/plain.sql"
small_counts=$(catalog_counts bench_small)

say "1. warm checks: $BENCH_REPS x (floor, uuid_eq, rbac_can on $BENCH_ROWS rows; rbac_can, authorize() on $BENCH_PLAIN_ROWS rows)"
warm=$(q -d bench_small -v reps="$BENCH_REPS" -f "$here/warm.sql")

# ---------------------------------------------------------------- large catalog
say "large catalog: loading $BENCH_USERS users, $BENCH_TENANTS tenants, $((BENCH_USERS * BENCH_ROLES_PER_USER)) + $((BENCH_TEAMS * BENCH_TEAM_ROLES)) role assignments, $((BENCH_RESOURCES * BENCH_GRANTS_PER_RESOURCE)) grants"
load_start=$(date +%s)
new_db bench_scale
load_catalog bench_scale "$BENCH_ORGS" "$BENCH_TENANTS" "$BENCH_USERS" "$BENCH_ROLES_PER_USER" \
    "$BENCH_TEAMS" "$BENCH_TEAM_ROLES" "$BENCH_RESOURCES" "$BENCH_GRANTS_PER_RESOURCE"
load_secs=$(($(date +%s) - load_start))
scale_counts=$(catalog_counts bench_scale)

say "2a. cold checks: $BENCH_REPS new sessions per catalog"
cold_small="" cold_scale=""
for r in $(seq 1 "$BENCH_REPS"); do
    k1=$(((r * 197) % BENCH_PAIRS))
    k2=$(((k1 + 1) % BENCH_PAIRS))
    cold_small+=$(q -d bench_small -v k1=$k1 -v k2=$k2 -f "$here/cold.sql")$'\n'
    cold_scale+=$(q -d bench_scale -v k1=$k1 -v k2=$k2 -f "$here/cold.sql")$'\n'
done
pick() { awk -F'|' -v k="$2" '$1 == k {printf "%s ", $2}' <<<"$1" | median; }

say "2b. warm checks: $BENCH_REPS new sessions per catalog, in turn"
ws_small="" ws_scale="" load_scale="" cache_small="" cache_scale=""
for r in $(seq 1 "$BENCH_REPS"); do
    out=$(q -d bench_small -f "$here/warm_one.sql")
    ws_small+="$(field "$out" rbac_can 2) "
    cache_small=$(field "$out" cache 2)"|"$(field "$out" cache 3)
    out=$(q -d bench_scale -f "$here/warm_one.sql")
    ws_scale+="$(field "$out" rbac_can 2) "
    cache_scale=$(field "$out" cache 2)"|"$(field "$out" cache 3)
    load_scale+="$(calc "($(field "$out" rbac_can 4) - $(field "$out" rbac_can 2)) / ($(field "$out" cache 2) - 1)") "
done

say "2c. cache of one session that checks every user of the large catalog"
out=$(q -d bench_scale -f "$here/touch_all.sql")
all_ms=$(field "$out" touch_all 2)
all_users=$(field "$out" touch_all 3)
cp_all=$(field "$out" cache 2)
cb_all=$(field "$out" cache 3)
cap_setting=$(field "$out" cap 2)
cap_most=$(field "$out" cap 3)
cap_bytes=$(field "$out" cap 4)
say "done"

# ---------------------------------------------------------------- report
exec > "${BENCH_REPORT:-/dev/stdout}"
floor=$(field "$warm" floor 2)
uuid_eq=$(field "$warm" uuid_eq 2)
can=$(field "$warm" rbac_can 2)
one_pair=$(field "$warm" rbac_one_pair 2)
can_plain=$(field "$warm" rbac_can_plain_rows 2)
authorize=$(field "$warm" authorize 2)
IFS='|' read -r _ agree_can _ agree_diff agree_n _ <<<"$(grep '^agreement' <<<"$warm")"
w_small=$(median <<<"$ws_small")
w_scale=$(median <<<"$ws_scale")
l_scale=$(median <<<"$load_scale")
first_small=$(pick "$cold_small" first)
first_scale=$(pick "$cold_scale" first)
again_scale=$(pick "$cold_scale" again)
next_small=$(pick "$cold_small" next_cold)
next_scale=$(pick "$cold_scale" next_cold)
IFS='|' read -r cp_small cb_small <<<"$cache_small"
IFS='|' read -r cp_scale cb_scale <<<"$cache_scale"

commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$here" diff --quiet HEAD -- "$here/../../src" 2>/dev/null || commit+=" (src/ modified)"

cat <<EOF

# zenml_rbac benchmark
$(q -d bench_small -c "SELECT 'zenml_rbac ' || extversion FROM pg_extension WHERE extname = 'zenml_rbac'") (commit $commit), $(q -d postgres -c "SELECT split_part(version(), ' on ', 1)"), $(nproc) CPU(s): $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
server: ${BENCH_SERVER}; every number is the median of ${BENCH_REPS} runs; jit off, no parallel workers; $(date -u +%Y-%m-%dT%H:%MZ)
command: $(env | grep '^BENCH_' | grep -Ev '^BENCH_(SERVER|REPORT)=' | sort | tr '\n' ' ')bash test/bench/run.sh (ran $(($(date +%s) - t_start)) s, cluster setup not counted)

## 1. Warm checks, one session (ratio: to the uuid_eq query)
small catalog: $(describe "$small_counts" 3 2)

EOF
head_row
row "floor: same scan and count, no function call" "$(ms "$floor")" "$(ns_per "$floor" "$BENCH_ROWS")" "$(ratio "$floor" "$uuid_eq")" "" ""
row "baseline: uuid_eq(p, t) x $(n "$BENCH_ROWS")" "$(ms "$uuid_eq")" "$(ns_per "$uuid_eq" "$BENCH_ROWS")" "1.00x" "" ""
row "rbac_can(p, t, 'model', 'read') x $(n "$BENCH_ROWS")" "$(ms "$can")" "$(ns_per "$can" "$BENCH_ROWS")" "$(ratio "$can" "$uuid_eq")" "<= 3x" "$(verdict "$can / $uuid_eq <= 3")"
row "  the same, one pair on every row (RLS-like: memo hit)" "$(ms "$one_pair")" "$(ns_per "$one_pair" "$BENCH_ROWS")" "$(ratio "$one_pair" "$uuid_eq")" "" ""
cat <<EOF

Plain SQL, same $(n "$BENCH_PLAIN_ROWS") rows for both (ratio: to rbac_can; answers agree on $agree_n of $agree_n pairs: $([ "$agree_diff" = 0 ] && echo yes || echo "NO, $agree_diff differ"), $agree_can allowed)

EOF
head_row
row "baseline: rbac_can x $(n "$BENCH_PLAIN_ROWS")" "$(ms "$can_plain")" "$(ns_per "$can_plain" "$BENCH_PLAIN_ROWS")" "1.00x" "" ""
row "plain.authorize() (LANGUAGE sql) x $(n "$BENCH_PLAIN_ROWS")" "$(ms "$authorize")" "$(ns_per "$authorize" "$BENCH_PLAIN_ROWS")" "$(ratio "$authorize" "$can_plain")" ">= 100x" "$(verdict "$authorize / $can_plain >= 100")"
row "  the same, scaled to $(n "$BENCH_ROWS") checks" "$(ms "$(calc "$authorize * $BENCH_ROWS / $BENCH_PLAIN_ROWS")")" "" "$(ratio "$(calc "$authorize * $BENCH_ROWS / $BENCH_PLAIN_ROWS")" "$can")" "" ""
cat <<EOF

## 2. Large catalog (ratio: to the same measurement on the small catalog)
large catalog, loaded in ${load_secs} s: $(describe "$scale_counts" "$BENCH_ROLES_PER_USER" "$BENCH_TEAM_ROLES")

Cold checks: the principal is not in the backend cache yet.  "First check" and
"next unseen" come from $BENCH_REPS new sessions per catalog; "in bulk" is
(first pass - warm pass) / principals loaded, in the warm-check sessions below.
EOF
echo
head_row
row "baseline: first check of a session, small catalog" "$(ms "$first_small")" "" "1.00x" "" ""
row "first check of a session, large catalog" "$(ms "$first_scale")" "" "$(ratio "$first_scale" "$first_small")" "<= 5 ms" "$(verdict "$first_scale <= 5")"
row "  same check again (cached), large catalog" "$(ms "$again_scale")" "" "" "" ""
row "baseline: next unseen principal, same session, small" "$(ms "$next_small")" "" "1.00x" "" ""
row "next unseen principal, same session, large catalog" "$(ms "$next_scale")" "" "$(ratio "$next_scale" "$next_small")" "" ""
row "loading a principal in bulk, large catalog" "$(ms "$l_scale")" "" "" "" ""
row "  every user, one query ($(n "$all_users") users, $(ms "$all_ms") ms)" "$(ms "$(calc "$all_ms / $all_users")")" "" "" "" ""
cat <<EOF

Warm checks, $(n "$BENCH_ROWS") per query, each catalog in its own new session, in turn

EOF
head_row
row "baseline: rbac_can, small catalog" "$(ms "$w_small")" "$(ns_per "$w_small" "$BENCH_ROWS")" "1.00x" "" ""
row "rbac_can, large catalog" "$(ms "$w_scale")" "$(ns_per "$w_scale" "$BENCH_ROWS")" "$(ratio "$w_scale" "$w_small")" "~1 (0.8-1.25)" "$(verdict "$w_scale / $w_small >= 0.8 && $w_scale / $w_small <= 1.25")"
cat <<EOF

Backend cache after the warm checks (zenml_rbac.cache_stats())

| catalog | principals cached | memory_bytes | per principal |
|---------|------------------:|-------------:|--------------:|
| small   | $(n "$cp_small") | $(n "$cb_small") | $(n "$((cb_small / (cp_small > 0 ? cp_small : 1)))") |
| large   | $(n "$cp_scale") | $(n "$cb_scale") | $(n "$((cb_scale / (cp_scale > 0 ? cp_scale : 1)))") |
| large, every user checked | $(n "$cp_all") | $(n "$cb_all") | $(n "$((cb_all / (cp_all > 0 ? cp_all : 1)))") |

Cap (zenml_rbac.principal_cache_entries = $(n "$cap_setting")): checking every user
again, one check at a time, the cache held at most $(n "$cap_most") principals and
$(n "$cap_bytes") bytes: $([ "$cap_most" -le "$cap_setting" ] && echo "within the cap" || echo "OVER THE CAP").
EOF
