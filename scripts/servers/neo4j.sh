#!/usr/bin/env bash
# Neo4j Community (embedded DBMS with the Bolt connector) on 127.0.0.1 for the
# integration tests, built with Maven from scripts/servers/neo4j-embedded/.
#
# Usage: scripts/servers/neo4j.sh {start|stop|restart|status|url|build}
#   build    mvn package once into the cache; rebuilt only when the pom or the
#            Java source changes (the cache key is their sha256)
#   start    build if needed, start the server, wait for "READY"; prints the
#            Bolt URL on stdout
#   stop     stop the server by the pid in the pid file (clean shutdown)
#
# Environment: HEYSH_SERVER_CACHE (cache root), HEYSH_NEO4J_PORT (57687),
# HEYSH_NEO4J_HEAP (512m), NEO4J_PASSWORD (unset: authentication off; set:
# user "neo4j" with that password; it is read by the Java program, never
# written anywhere).
set -euo pipefail
source "$(dirname "$0")/_common.sh"

HOST=127.0.0.1
PORT="${HEYSH_NEO4J_PORT:-57687}"
HEAP="${HEYSH_NEO4J_HEAP:-512m}"
SRC_DIR="$(cd "$(dirname "$0")/neo4j-embedded" && pwd)"
CACHE="$HEYSH_SERVER_CACHE/neo4j"
PID_FILE="$CACHE/neo4j.pid"
LOG_FILE="$CACHE/neo4j.log"
HOME_DIR="$CACHE/home-$PORT"

bolt_url() {
    echo "bolt://$HOST:$PORT"
}

source_key() {
    (cd "$SRC_DIR" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum) \
        | sha256sum | cut -c1-16
}

# build: prints the directory that holds heysh-neo4j-server.jar and lib/.
build() {
    local key dest work t0
    key="$(source_key)"
    dest="$CACHE/build-$key"
    if [[ -s "$dest/heysh-neo4j-server.jar" ]]; then
        echo "$dest"
        return 0
    fi
    command -v java >/dev/null || die "java not found: install a Java 17 runtime (apt-get install -y openjdk-17-jdk-headless)"
    command -v mvn >/dev/null || die "mvn not found: apt-get install -y maven"
    log "building the embedded Neo4j server with Maven (cache key $key)"
    t0="$(now_s)"
    work="$CACHE/work-$key"
    rm -rf "$work"
    mkdir -p "$work"
    cp -r "$SRC_DIR/pom.xml" "$SRC_DIR/src" "$work/"
    (cd "$work" && mvn -q -B -Dstyle.color=never package) >&2 || die "mvn package failed in $work"
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    cp -r "$work/target/heysh-neo4j-server.jar" "$work/target/lib" "$dest.tmp/"
    mv "$dest.tmp" "$dest"
    rm -rf "$work"
    log "built in $(elapsed_s "$t0")s: $dest"
    echo "$dest"
}

start() {
    mkdir -p "$CACHE"
    if pid_alive "$PID_FILE"; then
        log "neo4j already running (pid $(head -n 1 "$PID_FILE"))"
        bolt_url
        return 0
    fi
    ensure_port_free "$HOST" "$PORT" neo4j
    local dir t0
    dir="$(build)"
    t0="$(now_s)"
    log "starting neo4j on $HOST:$PORT (home $HOME_DIR)"
    : >"$LOG_FILE"
    # setsid: the server must outlive this script and the shell that ran it.
    setsid java "-Xmx$HEAP" -XX:+UseSerialGC -jar "$dir/heysh-neo4j-server.jar" \
        "$HOME_DIR" "$HOST" "$PORT" >>"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"

    local deadline=$((SECONDS + 180))
    until grep -q "^READY " "$LOG_FILE"; do
        if ! pid_alive "$PID_FILE"; then
            tail -n 40 "$LOG_FILE" >&2 || true
            die "neo4j exited before it was ready (log: $LOG_FILE)"
        fi
        if (( SECONDS >= deadline )); then
            tail -n 40 "$LOG_FILE" >&2 || true
            die "neo4j was not ready within 180s (log: $LOG_FILE)"
        fi
        sleep 0.2
    done
    log "neo4j ready in $(elapsed_s "$t0")s"
    bolt_url
}

case "${1:-start}" in
    start) start ;;
    stop) stop_by_pid "$PID_FILE" neo4j 90 ;;
    restart) stop_by_pid "$PID_FILE" neo4j 90; start ;;
    status) pid_alive "$PID_FILE" && echo running || { echo stopped; exit 1; } ;;
    url) bolt_url ;;
    build) build ;;
    *) die "usage: $0 {start|stop|restart|status|url|build}" ;;
esac
