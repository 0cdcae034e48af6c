# Run inside pg_virtualenv by test/run.sh: every suite against the throwaway
# cluster, tallied into one "N passed, N failed" line.
set -uo pipefail
passed=0
failed=0
log=$(mktemp -d)

tally_regress() {     # pg_regress / pg_isolation_regress output (TAP-like since 16)
    local ok bad
    ok=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$1" || true)
    bad=$(grep -cE '\.\.\. FAILED|^not ok [0-9]+ ' "$1" || true)
    passed=$((passed + ok)); failed=$((failed + bad))
    echo "  $2: $ok passed, $bad failed"
}

tally_tap() {         # TAP streams (pgTAP through pg_prove, Perl through prove)
    local ok bad
    ok=$(grep -cE '^[[:space:]]*ok [0-9]' "$1" || true)
    bad=$(grep -cE '^[[:space:]]*not ok [0-9]' "$1" || true)
    # a script that died before its plan completed counts as one failure
    if grep -qE '^Result: FAIL' "$1" && [ "$bad" -eq 0 ]; then bad=1; fi
    passed=$((passed + ok)); failed=$((failed + bad))
    echo "  $2: $ok passed, $bad failed"
}

echo "== pg_regress"
make -s installcheck ISOLATION= TAP_TESTS= > "$log/regress" 2>&1
cat "$log/regress"
tally_regress "$log/regress" "regress"
if [ -f regression.diffs ]; then cat regression.diffs; fi

echo "== isolation"
make -s installcheck REGRESS= TAP_TESTS= > "$log/isolation" 2>&1
cat "$log/isolation"
tally_regress "$log/isolation" "isolation"
if [ -f test/isolation/regression.diffs ]; then cat test/isolation/regression.diffs; fi

echo "== pgTAP"
psql -X -q -c "DROP DATABASE IF EXISTS zenml_rbac_tap" -c "CREATE DATABASE zenml_rbac_tap" >/dev/null
psql -X -q -d zenml_rbac_tap -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION zenml_rbac" >/dev/null
pg_prove -v -d zenml_rbac_tap test/pgtap/*.sql > "$log/pgtap" 2>&1
grep -E '^(not ok|Result|Files=)|^test/' "$log/pgtap" || true
tally_tap "$log/pgtap" "pgTAP"

shopt -s nullglob
perl_tests=(test/t/*.pl)
if [ ${#perl_tests[@]} -gt 0 ]; then
    echo "== Perl cluster tests"
    # PostgreSQL::Test::Cluster runs initdb, which refuses root
    chmod -R a+rwX . 2>/dev/null || true
    runas=""
    [ "$(id -u)" -eq 0 ] && runas="runuser -u postgres --"
    $runas make -s prove_installcheck PROVE_FLAGS=-v > "$log/perl" 2>&1
    grep -E '^(not ok|Result|Files=)|^test/' "$log/perl" || true
    tally_tap "$log/perl" "Perl"
fi

echo "== README examples"
# the SQL of "Getting started", with its commented results checked
if bash test/readme.sh > "$log/readme" 2>&1; then
    passed=$((passed + 1)); echo "  readme: ok"
else
    failed=$((failed + 1)); echo "  readme: FAILED"; tail -20 "$log/readme"
fi

echo "== application through pgbouncer"
# 50 principals, one pool of 8 connections, pgbouncer in transaction mode;
# prints TAP and "Result: PASS|FAIL"
bash test/app/run.sh > "$log/app" 2>&1 || true
grep -E '^((not )?ok|Result|1\.\.|#)' "$log/app" || true
tally_tap "$log/app" "app"

echo "== fuzz corpus"
# the committed corpus through every libFuzzer harness (ASan+UBSan, their
# properties checked), and the planted bugs the harnesses must catch
for target in replay selftest; do
    if make -s -C test/fuzz "$target" > "$log/fuzz_$target" 2>&1; then
        passed=$((passed + 1)); echo "  fuzz $target: ok"
    else
        failed=$((failed + 1)); echo "  fuzz $target: FAILED"; tail -20 "$log/fuzz_$target"
    fi
done

echo "$passed passed, $failed failed" > "${ZENML_RBAC_SUMMARY:-/dev/stdout}"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
