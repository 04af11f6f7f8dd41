#!/usr/bin/env bash
# PostgreSQL from Debian's packages on 127.0.0.1 for the integration tests.
#
# Usage: scripts/servers/postgres.sh {start|stop|restart|status|url}
#   start    install postgresql with apt-get if missing, initdb once, start the
#            server, create the database; prints the SQLAlchemy URL on stdout
#   stop     stop the server by the pid in the pid file
#   url      print the URL without starting anything
#
# Environment: HEYSH_SERVER_CACHE (cache root), HEYSH_POSTGRES_PORT (55432),
# HEYSH_POSTGRES_DB (heysh_test).
#
# Authentication is "trust" for connections to 127.0.0.1 only: this is a
# throw-away test server that listens on nothing else. The postgres server
# refuses to run as root, so as root it runs as the Debian "postgres" user.
# That user cannot enter a cache under /root (mode 700); the data directory
# then lives in its home, /var/lib/postgresql/heysh-servers/, and the pid file
# stays in the cache with a link to the log.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

PG_HOST=127.0.0.1
PG_PORT="${HEYSH_POSTGRES_PORT:-55432}"
PG_DB="${HEYSH_POSTGRES_DB:-heysh_test}"
CACHE="$HEYSH_SERVER_CACHE/postgres"
PID_FILE="$CACHE/postgres.pid"

pg_url() {
    echo "postgresql+psycopg://postgres@$PG_HOST:$PG_PORT/$PG_DB"
}

# The newest installed server version's bin directory (Debian bookworm: 15).
pg_bin() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

install_postgres() {
    if pg_bin >/dev/null; then
        return 0
    fi
    [[ "$(id -u)" == 0 ]] || die "postgresql is not installed and apt-get needs root: run 'apt-get install -y postgresql' as root"
    log "installing postgresql from Debian's packages"
    local t0
    t0="$(now_s)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    log "postgresql installed in $(elapsed_s "$t0")s"
    pg_bin >/dev/null || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found"
}

# as_server_user CMD...: run CMD as the user that owns the data directory.
as_server_user() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

data_dir() {
    if [[ "$(id -u)" != 0 ]] || runuser -u postgres -- test -x "$CACHE"; then
        echo "$CACHE/data"
    else
        echo "/var/lib/postgresql/heysh-servers/data-$PG_PORT"
    fi
}

start() {
    mkdir -p "$CACHE"
    if pid_alive "$PID_FILE"; then
        log "postgres already running (pid $(head -n 1 "$PID_FILE"))"
        pg_url
        return 0
    fi
    ensure_port_free "$PG_HOST" "$PG_PORT" postgres
    install_postgres
    local bin data sock log_file t0
    bin="$(pg_bin)"
    data="$(data_dir)"
    sock="$(dirname "$data")/sock-$PG_PORT"

    # The server writes its own log, so it sits beside the data directory;
    # the cache gets a link to it.
    log_file="$(dirname "$data")/postgres-$PG_PORT.log"
    t0="$(now_s)"

    if [[ ! -s "$data/PG_VERSION" ]]; then
        log "initdb into $data"
        mkdir -p "$data" "$sock"
        [[ "$(id -u)" == 0 ]] && chown -R postgres:postgres "$(dirname "$data")"
        as_server_user "$bin/initdb" -D "$data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >&2
    fi
    mkdir -p "$sock"
    [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$sock"
    : >"$log_file"
    [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$log_file"
    [[ "$log_file" == "$CACHE/postgres.log" ]] || ln -sfn "$log_file" "$CACHE/postgres.log"

    log "starting postgres on $PG_HOST:$PG_PORT"
    as_server_user "$bin/pg_ctl" -D "$data" -l "$log_file" -w -t 60 \
        -o "-c listen_addresses=$PG_HOST -p $PG_PORT -k $sock -c fsync=off" \
        start >&2
    head -n 1 "$data/postmaster.pid" >"$PID_FILE"

    if ! as_server_user psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
        as_server_user createdb -h "$PG_HOST" -p "$PG_PORT" -U postgres "$PG_DB"
    fi
    log "postgres ready in $(elapsed_s "$t0")s ($("$bin/postgres" --version))"
    pg_url
}

stop() {
    # SIGTERM is PostgreSQL's "smart" shutdown: it waits for clients to go;
    # SIGINT ("fast") disconnects them, which is what a test teardown wants.
    if pid_alive "$PID_FILE"; then
        kill -INT "$(head -n 1 "$PID_FILE")" 2>/dev/null || true
    fi
    stop_by_pid "$PID_FILE" postgres 60
}

# new_database NAME: create an empty database and print its URL (for a test
# run that must not see data left by earlier runs).
new_database() {
    local name="$1"
    [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name '$name' must be lower-case letters, digits and _"
    as_server_user "$(pg_bin)/psql" -h "$PG_HOST" -p "$PG_PORT" -U postgres -q \
        -c "CREATE DATABASE $name" >/dev/null
    echo "postgresql+psycopg://postgres@$PG_HOST:$PG_PORT/$name"
}

case "${1:-start}" in
    start) start ;;
    new-database) new_database "${2:?usage: $0 new-database NAME}" ;;
    stop) stop ;;
    restart) stop; start ;;
    status) pid_alive "$PID_FILE" && echo running || { echo stopped; exit 1; } ;;
    url) pg_url ;;
    *) die "usage: $0 {start|stop|restart|status|url|new-database NAME}" ;;
esac
