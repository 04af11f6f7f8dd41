#!/usr/bin/env bash
# Weaviate built with the Go toolchain from its Go module at a pinned release,
# running on 127.0.0.1 for the integration tests.
#
# Usage: scripts/servers/weaviate.sh {start|stop|restart|status|url|build}
#   build    go install weaviate-server@$WEAVIATE_VERSION into the cache, once
#            (about 6 minutes on 2 cores; the log is kept in the cache)
#   start    build if needed, start, wait for /v1/.well-known/ready; prints
#            weaviate://127.0.0.1:HTTP_PORT?grpc_port=GRPC_PORT on stdout
#   stop     stop the server by the pid in the pid file
#
# Environment: HEYSH_SERVER_CACHE (cache root), HEYSH_WEAVIATE_HTTP_PORT (58080),
# HEYSH_WEAVIATE_GRPC_PORT (50051).
#
# Warning: Weaviate 1.35.2 binds its gRPC port and its cluster data port to
# every interface (both are ":PORT" in its source, with no setting for the
# address); REST, gossip and Raft are bound to 127.0.0.1 here. Anonymous access
# is on: use this only as a throw-away test server.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# One pinned version for tests and deployments: deployments/versions.env.
WEAVIATE_VERSION="v$(sed -n 's/^WEAVIATE_VERSION=//p' "$(dirname "$0")/../../deployments/versions.env")"
HOST=127.0.0.1
HTTP_PORT="${HEYSH_WEAVIATE_HTTP_PORT:-58080}"
GRPC_PORT="${HEYSH_WEAVIATE_GRPC_PORT:-50051}"
CACHE="$HEYSH_SERVER_CACHE/weaviate"
BIN="$CACHE/$WEAVIATE_VERSION/bin/weaviate-server"
PID_FILE="$CACHE/weaviate.pid"
LOG_FILE="$CACHE/weaviate.log"
DATA_DIR="$CACHE/data-$HTTP_PORT"

weaviate_url() {
    echo "weaviate://$HOST:$HTTP_PORT?grpc_port=$GRPC_PORT"
}

build() {
    if [[ -x "$BIN" ]]; then
        return 0
    fi
    command -v go >/dev/null || die "go not found: install the Go toolchain (https://go.dev/doc/install) to build Weaviate"
    local build_log="$CACHE/build-$WEAVIATE_VERSION.log" t0
    mkdir -p "$(dirname "$BIN")"
    log "building weaviate-server $WEAVIATE_VERSION with go install (log: $build_log); this takes minutes"
    t0="$(now_s)"
    if ! GOBIN="$(dirname "$BIN")" GOFLAGS=-buildvcs=false \
        go install "github.com/weaviate/weaviate/cmd/weaviate-server@$WEAVIATE_VERSION" \
        >"$build_log" 2>&1; then
        grep -v '^go: downloading' "$build_log" | tail -n 40 >&2
        die "go install of weaviate-server $WEAVIATE_VERSION failed (log: $build_log)"
    fi
    log "weaviate-server built in $(elapsed_s "$t0")s"
}

start() {
    mkdir -p "$CACHE"
    if pid_alive "$PID_FILE"; then
        log "weaviate already running (pid $(head -n 1 "$PID_FILE"))"
        weaviate_url
        return 0
    fi
    ensure_port_free "$HOST" "$HTTP_PORT" weaviate
    ensure_port_free "$HOST" "$GRPC_PORT" weaviate
    build
    local t0
    t0="$(now_s)"
    mkdir -p "$DATA_DIR"
    log "starting weaviate $WEAVIATE_VERSION on $HOST:$HTTP_PORT (gRPC $GRPC_PORT)"
    : >"$LOG_FILE"
    # Ports next to the HTTP port so that two instances with different
    # HEYSH_WEAVIATE_HTTP_PORT do not collide on Weaviate's defaults.
    env \
        PERSISTENCE_DATA_PATH="$DATA_DIR" \
        AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
        DEFAULT_VECTORIZER_MODULE=none \
        ENABLE_MODULES= \
        CLUSTER_HOSTNAME=node1 \
        CLUSTER_BIND_ADDR="$HOST" \
        CLUSTER_ADVERTISE_ADDR="$HOST" \
        CLUSTER_GOSSIP_BIND_PORT=$((HTTP_PORT + 1)) \
        CLUSTER_DATA_BIND_PORT=$((HTTP_PORT + 2)) \
        RAFT_PORT=$((HTTP_PORT + 3)) \
        RAFT_INTERNAL_RPC_PORT=$((HTTP_PORT + 4)) \
        RAFT_BOOTSTRAP_EXPECT=1 \
        RAFT_JOIN=node1 \
        GRPC_PORT="$GRPC_PORT" \
        GO_PROFILING_DISABLE=true \
        DISABLE_TELEMETRY=true \
        PROMETHEUS_MONITORING_ENABLED=false \
        QUERY_DEFAULTS_LIMIT=25 \
        LOG_LEVEL=warning \
        setsid "$BIN" --host "$HOST" --port "$HTTP_PORT" --scheme http \
        >>"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"

    local deadline=$((SECONDS + 180))
    until curl -fsS -o /dev/null "http://$HOST:$HTTP_PORT/v1/.well-known/ready" 2>/dev/null; do
        if ! pid_alive "$PID_FILE"; then
            tail -n 40 "$LOG_FILE" >&2 || true
            die "weaviate exited before it was ready (log: $LOG_FILE)"
        fi
        if (( SECONDS >= deadline )); then
            tail -n 40 "$LOG_FILE" >&2 || true
            die "weaviate was not ready within 180s (log: $LOG_FILE)"
        fi
        sleep 0.2
    done
    wait_for_port "$HOST" "$GRPC_PORT" 60 "$PID_FILE" weaviate "$LOG_FILE"
    log "weaviate ready in $(elapsed_s "$t0")s"
    weaviate_url
}

case "${1:-start}" in
    start) start ;;
    stop) stop_by_pid "$PID_FILE" weaviate 60 ;;
    restart) stop_by_pid "$PID_FILE" weaviate 60; start ;;
    status) pid_alive "$PID_FILE" && echo running || { echo stopped; exit 1; } ;;
    url) weaviate_url ;;
    build) build ;;
    *) die "usage: $0 {start|stop|restart|status|url|build}" ;;
esac
