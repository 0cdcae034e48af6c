#!/usr/bin/env bash
# Runs the pg_regress suite against a server under valgrind memcheck, with
# PostgreSQL's own suppressions, and sorts every error report: those whose
# faulting frame is in zenml_rbac's code (must be none), and those inside
# PostgreSQL that merely have our code further up the stack.
#   usage: make valgrind      (as root, after make install; takes a while)
#   VALGRIND_REGRESS="rls attacks" to run only those regress files;
#   VALGRIND_SUPP=/path/valgrind.supp to use a suppressions file you have;
#   otherwise it is taken from PostgreSQL's source package (apt-get source).
set -euo pipefail
cd "$(dirname "$0")/.."
bindir=$(pg_config --bindir)
work=$(mktemp -d /tmp/zenml_rbac_valgrind.XXXX)
chown postgres "$work"
port=${VALGRIND_PORT:-5497}
as_pg() { runuser -u postgres -- "$@"; }

# PostgreSQL's suppressions (src/tools/valgrind.supp) for the installed
# server's version, from Debian's source package, cached between runs.
supp=${VALGRIND_SUPP:-}
if [ -z "$supp" ]; then
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/zenml_rbac
    version=$(pg_config --version | awk '{print $2}')
    supp=$cache/valgrind-${version%%.*}.supp
    if [ ! -s "$supp" ]; then
        src=$(mktemp -d /tmp/zenml_rbac_pgsrc.XXXX)
        mkdir -p "$src/lists/partial" "$src/cache/archives/partial" "$cache"
        # the main archive's source (a security update's may be gone from
        # the mirror); the suppressions change little between minor releases
        awk 'NF == 0 {exit} /^Types:/ {print "Types: deb-src"; next} {print}' \
            /etc/apt/sources.list.d/debian.sources > "$src/src.sources"
        apt=(-o "Dir::Etc::SourceList=$src/src.sources" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State::Lists=$src/lists" -o "Dir::Cache=$src/cache")
        apt-get -qq "${apt[@]}" update 2>/dev/null
        (cd "$src" && apt-get -qq "${apt[@]}" source --download-only "postgresql-${version%%.*}" >/dev/null 2>&1) ||
            { echo "could not fetch PostgreSQL's source package: set VALGRIND_SUPP" >&2; exit 1; }
        ls "$src"/postgresql-*.dsc
        tar -xOf "$src"/postgresql-*.orig.tar.* --wildcards '*/src/tools/valgrind.supp' > "$supp"
        rm -rf "$src"
    fi
fi
echo "suppressions: $supp"
cp "$supp" "$work/valgrind.supp"     # the server runs as postgres
chown postgres "$work/valgrind.supp"

as_pg "$bindir/initdb" -D "$work/data" -A trust >/dev/null
as_pg bash -c "valgrind --quiet --trace-children=yes --error-limit=no --num-callers=40 \
    --read-var-info=no --suppressions=$work/valgrind.supp --log-file=$work/vg.%p.log \
    $bindir/postgres -D $work/data -p $port -k $work -c max_connections=20 >$work/server.log 2>&1 &"
for _ in $(seq 120); do
    PGHOST=$work PGPORT=$port PGUSER=postgres psql -X -qAtc 'select 1' >/dev/null 2>&1 && break
    sleep 1   # waiting for a server to accept connections, not synchronizing a test
done
PGHOST=$work PGPORT=$port PGUSER=postgres psql -X -qAtc 'select 1' >/dev/null ||
    { echo "the server under valgrind did not start:"; cat "$work"/server.log "$work"/vg.*.log; exit 1; }
status=0
PGHOST=$work PGPORT=$port PGUSER=postgres make -s installcheck ISOLATION= TAP_TESTS= \
    ${VALGRIND_REGRESS:+REGRESS="$VALGRIND_REGRESS"} || status=$?
as_pg "$bindir/pg_ctl" -D "$work/data" -m fast stop >/dev/null || true

# An error is ours when its first frame outside valgrind's and libc's
# wrappers is in our library or one of our source files.
ours_re="zenml_rbac\\.so|\\((${ours_files:-$(cd src && ls *.c | paste -sd'|')}):[0-9]+\\)"
perl -e '
    my ($ours_re, $ours_out, $theirs_out) = @ARGV[0..2];
    my ($ours, $theirs) = (0, 0);
    open my $o, ">", $ours_out or die; open my $t, ">", $theirs_out or die;
    local $/ = "";
    for my $file (@ARGV[3..$#ARGV]) {
        open my $fh, "<", $file or die;
        my $text = do { local $/; <$fh> };
        for my $block (split /^==\d+==\s*\n/m, $text) {
            my @frames = $block =~ /^==\d+==\s+(?:at|by) 0x[0-9A-F]+: (.*)$/mg;
            next unless @frames;
            my ($culprit) = grep { !/vgpreload|libc\.so|ld-linux/ } @frames;
            if (defined $culprit && $culprit =~ /$ours_re/) { $ours++; print $o $block, "\n"; }
            elsif (grep { /$ours_re/ } @frames) { $theirs++; print $t $block, "\n"; }
        }
    }
    print "valgrind errors in zenml_rbac code: $ours\n";
    print "valgrind errors inside PostgreSQL with zenml_rbac on the stack: $theirs\n";
    exit($ours ? 1 : 0);
' "$ours_re" "$work/ours.txt" "$work/postgres.txt" "$work"/vg.*.log || status=$?
echo "regress exit status: $status (logs: $work; ours.txt, postgres.txt)"
[ "$status" -eq 0 ]
