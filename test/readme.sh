#!/usr/bin/env bash
# Runs the SQL blocks of the README's "Getting started" in a new database of
# the cluster at $PGHOST/$PGPORT (test/lib/suites.sh runs it inside
# pg_virtualenv): every statement must succeed, and a SELECT whose comment
# begins with a result ("-- true", "-- false", "-- 3") must return exactly
# that, so the README cannot drift from what the code does.
set -euo pipefail
cd "$(dirname "$0")/.."
db=zenml_rbac_readme
script=$(mktemp)
trap 'rm -f "$script"' EXIT

perl -ne '
    if (/^## Getting started/) { $section = 1; next }
    if (/^## /) { $section = 0 }
    next unless $section;
    if (/^```sql$/) { $block = 1; $blocks++; next }
    if (/^```$/) { $block = 0; next }
    next unless $block;
    if (/^(SELECT .*?);\s+-- (true|false|\d+)\b/) {
        $checks++;
        print "SELECT ($1) IS NOT DISTINCT FROM $2 AS readme_ok \\gset\n";
        print "\\if :readme_ok\n\\else\n";
        print "DO \$\$BEGIN RAISE EXCEPTION \x27README.md line $.: the result is not %\x27, \x27$2\x27; END\$\$;\n";
        print "\\endif\n";
    } else {
        print;
    }
    END {
        die "README.md: no sql block under Getting started\n" unless $blocks;
        die "README.md: no commented result under Getting started\n" unless $checks;
        print STDERR "README Getting started: $blocks blocks, $checks commented results\n";
    }
' README.md > "$script"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS app_pool" -c "CREATE DATABASE $db"
status=0
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$script" > /dev/null || status=$?
psql -X -q -d postgres -c "DROP DATABASE $db" -c "DROP ROLE IF EXISTS app_pool"
if [ "$status" -ne 0 ]; then
    echo "README Getting started: FAILED"
    exit 1
fi
echo "README Getting started: ok"
