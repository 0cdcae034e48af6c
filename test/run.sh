#!/usr/bin/env bash
# Runs every test suite of zenml_rbac (pg_regress, isolation, pgTAP, Perl
# cluster tests, the README examples, the pgbouncer application test, the
# fuzz corpus) on every PostgreSQL major it supports: 15 on this Debian 12
# machine, 17 (Debian trixie) and 18 (Debian sid) in debootstrap chroots
# (test/lib/chroot.sh), never through the host's apt sources.  Ends with
# "N passed, N failed" over all of them.
#   usage: bash test/run.sh            all supported majors (as root: installs what it needs)
#          bash test/run.sh 17         one major (or several: 15 18)
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh
. test/lib/chroot.sh

SUPPORTED="15 17 18"
HOST_MAJOR=15                        # Debian 12's PostgreSQL
majors=${*:-$SUPPORTED}
for m in $majors; do
    case " $SUPPORTED " in
        *" $m "*) ;;
        *) echo "PostgreSQL $m is not supported (supported: $SUPPORTED)" >&2; exit 2 ;;
    esac
done

need_host=false
need_chroot=false
for m in $majors; do
    if [ "$m" = "$HOST_MAJOR" ]; then need_host=true; else need_chroot=true; fi
done
if $need_host; then ensure_packages clang libclang-rt-14-dev; fi    # clang: the fuzzers' corpus replay
if $need_chroot; then PACKAGES=debootstrap ensure_packages; fi

# Each major tests a copy of the checkout in a directory every user can
# enter: the Perl cluster tests run as postgres, and a clone may sit in a
# home directory closed to others.
scratch=/var/tmp/zenml_rbac-test
mkdir -p "$scratch"
chmod 755 "$scratch"
copy_tree() {
    rm -rf "$1"
    mkdir -p "$1"
    tar --exclude=./.git --exclude='*.o' --exclude='*.bc' --exclude='*.so' \
        --exclude=./results --exclude=./tmp_check --exclude=./test/fuzz/build -cf - . |
        tar -xf - -C "$1"
    chmod -R a+rwX "$1"
}

passed=0
failed=0
report=""
for m in $majors; do
    work=$scratch/$m
    copy_tree "$work"
    log=$work/run.log
    echo "== PostgreSQL $m"
    status=0
    if [ "$m" = "$HOST_MAJOR" ]; then
        (cd "$work" && bash test/lib/run_major.sh "$m") > "$log" 2>&1 || status=$?
    elif ensure_chroot "$m"; then
        run_in_chroot "$m" "$work" bash test/lib/run_major.sh "$m" > "$log" 2>&1 || status=$?
    else
        echo "could not build the PostgreSQL $m chroot" > "$log"
        status=1
    fi
    grep -E '^  [a-zA-Z][a-zA-Z ]*: [0-9]+ passed, [0-9]+ failed$|^  fuzz |^  readme: ' "$log" || true
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    if [ -z "$line" ]; then
        line="0 passed, 1 failed"
    elif [ "$status" -ne 0 ] && [ "${line#* passed, }" = "0 failed" ]; then
        line="${line%% passed*} passed, 1 failed"
    fi
    if [ "${line#* passed, }" != "0 failed" ]; then
        # what failed: pg_regress diffs, TAP failures, or the end of the log
        grep -E '^[-+][^-+]|FAILED|^not ok|^#   Failed' "$log" | head -80 || true
        tail -20 "$log"
    fi
    p=${line%% passed*}
    f=${line#* passed, }
    f=${f%% failed*}
    passed=$((passed + p))
    failed=$((failed + f))
    report="$report  PostgreSQL $m: $line (log: $log)\n"
done
printf "%b" "$report"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
