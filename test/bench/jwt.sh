#!/usr/bin/env bash
# Token verification speed: authenticate_jwt() with RS256, ES256 and HS256
# tokens against authenticate() with an API key, in one session, each a DO
# loop of BENCH_CALLS calls, kinds interleaved, in a throwaway cluster.
# Prints calls per second, medians, and the ratio to the API key; asserts
# nothing about time.  Tokens come from test/t/JwtMint.pm (openssl CLI).
#   usage: bash test/bench/jwt.sh     (after make install; about a minute)
#   BENCH_REPS (default 5), BENCH_CALLS (default 2000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${BENCH_SERVER:-}" ]; then
    BENCH_SERVER=pg_virtualenv exec pg_virtualenv -t -v 15 bash "$here/jwt.sh"
fi
: "${BENCH_REPS:=5}" "${BENCH_CALLS:=2000}"
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c client_min_messages=warning"
. "$here/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# keys, their JWKS and one valid token per algorithm (an hour to live)
perl -I "$here/../t" -MJwtMint -e '
    my $m = JwtMint->new;
    my @keys = ($m->rsa_key(kid => "r1"), $m->ec_key(kid => "e1"), $m->hmac_key(kid => "h1"));
    my %claims = (iss => "https://idp.bench", sub => "bench-user", aud => "zenml", exp => time + 3600, iat => time);
    open my $f, ">", "$ARGV[0]/jwks.json" or die; print $f $m->jwks(@keys); close $f;
    for my $k (@keys) {
        open my $t, ">", "$ARGV[0]/$k->{alg}.token" or die; print $t $m->token($k, {%claims}); close $t;
    }' "$work"

q -d postgres -c "DROP DATABASE IF EXISTS bench_jwt" -c "CREATE DATABASE bench_jwt"
q -d bench_jwt -v jwks="$(cat "$work/jwks.json")" <<'SQL'
CREATE EXTENSION zenml_rbac;
CREATE TABLE ids AS SELECT zenml_rbac.create_organization('o') AS org;
ALTER TABLE ids ADD u uuid, ADD sa uuid, ADD key text;
UPDATE ids SET u = zenml_rbac.create_user('u'), sa = zenml_rbac.create_service_account(org, 'sa');
UPDATE ids SET key = zenml_rbac.create_api_key(sa);
SELECT zenml_rbac.register_identity_provider('bench', 'https://idp.bench', 'zenml', :'jwks'::jsonb);
SELECT zenml_rbac.link_external_identity(u, 'https://idp.bench', 'bench-user') FROM ids;
SQL

# one timed loop: $1 is the SQL expression authenticating once
run() {
    q -d bench_jwt -v calls="$BENCH_CALLS" -v call="$1" <<'SQL' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
SELECT format('DO $do$ BEGIN FOR i IN 1..%s LOOP PERFORM %s; END LOOP; END $do$', :'calls', :'call') AS loop \gset
BEGIN;
:loop;
\timing on
:loop;
\timing off
COMMIT;
SQL
}

declare -A samples calls
calls[key]="zenml_rbac.authenticate((SELECT key FROM ids))"
for alg in RS256 ES256 HS256; do
    calls[$alg]="zenml_rbac.authenticate_jwt('$(cat "$work/$alg.token")')"
done
kinds=(key RS256 ES256 HS256)
for r in $(seq 1 "$BENCH_REPS"); do
    for i in 0 1 2 3; do
        kind=${kinds[$(( (i + r) % 4 ))]}
        samples[$kind]="${samples[$kind]:-} $(run "${calls[$kind]}")"
    done
done

echo "$BENCH_CALLS authentications per loop, one session, median of $BENCH_REPS (commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)):"
base=$(median <<<"${samples[key]}")
for kind in "${kinds[@]}"; do
    m=$(median <<<"${samples[$kind]}")
    awk -v k="$kind" -v m="$m" -v b="$base" -v n="$BENCH_CALLS" \
        'BEGIN {printf "  %-6s %8.1f ms  %8.0f per second  %5.2fx the API key'"'"'s time\n", (k == "key" ? "APIkey" : k), m, n / m * 1000, m / b}'
done
