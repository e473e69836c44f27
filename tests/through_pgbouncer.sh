#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a PgBouncer (Debian's) in transaction
# pooling mode in front of the PostgreSQL at $PGBOUNCER_TARGET (default 127.0.0.1:5432,
# trust auth), then stops it. .ci/run uses it for the database-facing tests:
#
#     bash tests/through_pgbouncer.sh make test PYTEST_ARGS="tests/bookings"
#
# The test database is made through PgBouncer and left there (pytest --reuse-db): PgBouncer
# keeps its server connections to it, so Django could not drop it at the end. This script
# drops it on the server itself once PgBouncer is gone.
set -euo pipefail

target_host=${PGBOUNCER_TARGET_HOST:-127.0.0.1}
target_port=${PGBOUNCER_TARGET_PORT:-5432}
test_db=${RFR_TEST_DB_NAME:-test_rfr_pgbouncer}
pgbouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$pgbouncer" ] || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }

work=$(mktemp -d /tmp/rfr-pgbouncer.XXXXXX)
chmod 755 "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/pgbouncer.ini" <<EOF
[databases]
* = host=$target_host port=$target_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
pool_mode = transaction
max_client_conn = 1000
; The concurrency tests hold many transactions open at once, each waiting on a lock.
default_pool_size = 60
ignore_startup_parameters = extra_float_digits
EOF
echo '"postgres" ""' >"$work/userlist.txt"
# PgBouncer refuses to run as root; it runs as the database's system user then.
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$work"
    run_as=(-u postgres)
fi
"$pgbouncer" -d "${run_as[@]}" "$work/pgbouncer.ini"

stop() {
    if [ -s "$work/pgbouncer.pid" ]; then
        kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
        for _ in $(seq 50); do [ -e "$work/pgbouncer.pid" ] || break; sleep 0.1; done
    fi
    psql_drop="DROP DATABASE IF EXISTS \"$test_db\" WITH (FORCE)"
    .venv/bin/python -c "import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])" \
        "postgresql://postgres@$target_host:$target_port/postgres" "$psql_drop" || true
    rm -rf "$work"
}
trap stop EXIT

export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/rfr"
export RFR_DB_TRANSACTION_POOLING=on
export RFR_TEST_DB_NAME="$test_db"
echo "PgBouncer $($pgbouncer --version | head -1) on 127.0.0.1:$port (transaction pooling) -> $target_host:$target_port"
"$@"
