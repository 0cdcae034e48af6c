#!/usr/bin/env bash
# Real-application test: 50 principals through one pool of 8 connections to
# pgbouncer in transaction pooling mode (test/app/pool_test.py), against the
# cluster named by PGHOST/PGPORT/PGUSER/PGPASSWORD (a superuser; as set by
# pg_virtualenv).  Starts pgbouncer on a free port of 127.0.0.1, runs the test,
# stops pgbouncer, prints TAP and a last "Result: PASS|FAIL" line.
#   usage: pg_virtualenv -v 15 bash test/app/run.sh
#   knobs: APP_TEST_SECONDS (20), APP_TEST_MAX_TXNS, APP_TEST_SEED
set -euo pipefail
cd "$(dirname "$0")/../.."

python=/usr/bin/python3          # Debian's, with python3-psycopg (psycopg 3)
pgbouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
if ! $python -c 'import psycopg' 2>/dev/null || [ ! -x "$pgbouncer" ]; then
    echo "1..0 # SKIP needs $python with python3-psycopg and pgbouncer (apt-get install python3-psycopg pgbouncer)"
    exit 0
fi

dir=$(mktemp -d /tmp/zenml_rbac_app.XXXXXX)
pidfile=$dir/pgbouncer.pid
cleanup() {
    local pid
    if [ -s "$pidfile" ]; then
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

random_hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
port=$($python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export BOUNCER_PORT=$port
export APP_DB=zenml_rbac_app APP_ROLE=zenml_rbac_app_pool APP_PASSWORD=$(random_hex)
export BOUNCER_ADMIN=zenml_rbac_bouncer_admin BOUNCER_ADMIN_PASSWORD=$(random_hex)

# pgbouncer reaches the server over TCP with the pool role's password (a
# socket directory in PGHOST would mean peer authentication)
server_host=${PGHOST:-localhost}
case $server_host in /*) server_host=127.0.0.1 ;; esac

cat > "$dir/userlist.txt" <<EOF
"$APP_ROLE" "$APP_PASSWORD"
"$BOUNCER_ADMIN" "$BOUNCER_ADMIN_PASSWORD"
EOF
cat > "$dir/pgbouncer.ini" <<EOF
[databases]
$APP_DB = host=$server_host port=${PGPORT:-5432} dbname=$APP_DB user=$APP_ROLE password=$APP_PASSWORD

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = $BOUNCER_ADMIN
pool_mode = transaction
default_pool_size = 8
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
logfile = $dir/pgbouncer.log
log_connections = 0
log_disconnections = 0
pidfile = $pidfile
EOF
chmod 600 "$dir/userlist.txt" "$dir/pgbouncer.ini"

runas=()
if [ "$(id -u)" -eq 0 ]; then          # pgbouncer refuses to run as root
    chown -R postgres: "$dir"
    runas=(runuser -u postgres --)
fi
"${runas[@]}" "$pgbouncer" -d -q "$dir/pgbouncer.ini"
# wait until it accepts connections
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

status=0
$python test/app/pool_test.py > "$dir/tap" || status=$?
cat "$dir/tap"
plan=$(sed -nE 's/^1\.\.([0-9]+).*/\1/p' "$dir/tap" | head -1)
ran=$(grep -cE '^(not )?ok [0-9]' "$dir/tap" || true)
if [ "$status" -ne 0 ] || [ -z "$plan" ] || [ "$ran" -ne "$plan" ]; then
    echo "# pgbouncer log (last lines):"
    tail -n 20 "$dir/pgbouncer.log" 2>/dev/null | sed 's/^/#   /' || true
    echo "Result: FAIL"
    exit 1
fi
echo "Result: PASS"
