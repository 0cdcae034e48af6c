# Sourced by the benchmark scripts: the helpers they all use.

# psql for scripts: quiet, unaligned, fields split by "|", stop on error.
q() { psql -X -q -At -F'|' -v ON_ERROR_STOP=1 "$@"; }

# The median of numbers given on stdin, separated by spaces or newlines.
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Runs SCRIPT again inside a throwaway cluster (pg_virtualenv with the
# options given), unless BENCH_SERVER says a server is already chosen:
# pg_virtualenv's messages go to stderr, the report SCRIPT writes to
# $BENCH_REPORT alone to stdout.  Exits with SCRIPT's status.
run_in_virtualenv() {
    [ -n "${BENCH_SERVER:-}" ] && return 0
    local script=$1 report status=0
    shift
    report=$(mktemp)
    BENCH_SERVER=pg_virtualenv BENCH_REPORT=$report pg_virtualenv "$@" bash "$script" >&2 || status=$?
    cat "$report"
    rm -f "$report"
    exit $status
}
