# Shared helpers for the server scripts in scripts/servers/; sourced, not run.
#
# Every server lives under one cache directory so that a second start skips the
# install and build steps:
#   ${HEYSH_SERVER_CACHE:-$HOME/.cache/heysh-servers}/<server>/
# with <server>.pid (the process to stop), <server>.log and whatever the server
# keeps (data, binaries, jars). Messages go to stderr; stdout carries only what
# callers evaluate or read (URLs, export lines).

HEYSH_SERVER_CACHE="${HEYSH_SERVER_CACHE:-$HOME/.cache/heysh-servers}"

log() {
    echo "servers: $*" >&2
}

die() {
    echo "servers: error: $*" >&2
    exit 1
}

# now_s: seconds since the epoch with fractions, for timings in the logs.
now_s() {
    date +%s.%N
}

elapsed_s() {
    awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'
}

# pid_alive FILE: true if FILE names a running process.
pid_alive() {
    local pid_file="$1" pid
    [[ -s "$pid_file" ]] || return 1
    pid="$(head -n 1 "$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# stop_by_pid FILE NAME [TIMEOUT_S]: SIGTERM the process in FILE, wait for it
# to exit, SIGKILL after TIMEOUT_S (default 60), then remove FILE.
stop_by_pid() {
    local pid_file="$1" name="$2" timeout_s="${3:-60}" pid waited=0
    if ! pid_alive "$pid_file"; then
        log "$name is not running"
        rm -f "$pid_file"
        return 0
    fi
    pid="$(head -n 1 "$pid_file")"
    log "stopping $name (pid $pid)"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do
        if (( waited >= timeout_s * 10 )); then
            log "$name (pid $pid) did not stop in ${timeout_s}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$pid_file"
}

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port HOST PORT TIMEOUT_S PID_FILE NAME LOG: wait until the port
# accepts connections; fail early with the log's tail if the process died.
wait_for_port() {
    local host="$1" port="$2" timeout_s="$3" pid_file="$4" name="$5" log_file="$6"
    local deadline=$((SECONDS + timeout_s))
    until port_open "$host" "$port"; do
        if ! pid_alive "$pid_file"; then
            tail -n 40 "$log_file" >&2 || true
            die "$name exited before listening on $host:$port (log: $log_file)"
        fi
        if (( SECONDS >= deadline )); then
            tail -n 40 "$log_file" >&2 || true
            die "$name did not listen on $host:$port within ${timeout_s}s (log: $log_file)"
        fi
        sleep 0.2
    done
}

# ensure_port_free HOST PORT NAME: refuse to start over someone else's server.
ensure_port_free() {
    if port_open "$1" "$2"; then
        die "$1:$2 is already in use by a process this script did not start; stop it or set another port for $3"
    fi
}
