#!/usr/bin/env bash
# Start, stop or describe every real server the integration tests use.
#
# Usage: scripts/servers/all.sh {start|stop|env}
#   start    start PostgreSQL, Neo4j and Weaviate (in parallel; each is cached
#            after its first install or build) and print the export lines
#   stop     stop all three by their pid files
#   env      print the export lines without starting anything
#
# The export lines go to stdout, for `eval "$(scripts/servers/all.sh start)"`:
#   export HEYSH_TEST_POSTGRES_URL=postgresql+psycopg://...
#   export HEYSH_TEST_NEO4J_URL=bolt://...
#   export HEYSH_TEST_WEAVIATE_URL=weaviate://...
# If a server fails to start, its error and log tail go to stderr, its line is
# left out, the others are still printed, and the exit status is 1.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
DIR="$(cd "$(dirname "$0")" && pwd)"

SERVERS=(postgres neo4j weaviate)

var_name() {
    echo "HEYSH_TEST_${1^^}_URL"
}

print_env() {
    local name
    for name in "${SERVERS[@]}"; do
        echo "export $(var_name "$name")='$("$DIR/$name.sh" url)'"
    done
}

start_all() {
    local tmp name failed=0 t0
    tmp="$(mktemp -d)"
    t0="$(now_s)"
    declare -A pids
    for name in "${SERVERS[@]}"; do
        "$DIR/$name.sh" start >"$tmp/$name.url" 2>"$tmp/$name.err" &
        pids[$name]=$!
    done
    for name in "${SERVERS[@]}"; do
        if wait "${pids[$name]}"; then
            cat "$tmp/$name.err" >&2
            echo "export $(var_name "$name")='$(tail -n 1 "$tmp/$name.url")'"
        else
            cat "$tmp/$name.err" >&2
            log "$name failed to start; $(var_name "$name") is not set"
            failed=1
        fi
    done
    rm -rf "$tmp"
    log "all servers handled in $(elapsed_s "$t0")s"
    return "$failed"
}

stop_all() {
    local name status=0
    for name in "${SERVERS[@]}"; do
        "$DIR/$name.sh" stop || status=1
    done
    return "$status"
}

case "${1:-}" in
    start) start_all ;;
    stop) stop_all ;;
    env) print_env ;;
    *) die "usage: $0 {start|stop|env}" ;;
esac
