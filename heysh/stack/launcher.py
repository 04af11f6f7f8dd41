"""Bring the local stack up, report on it, and take it down.

The stack is one Temporal dev server and one ``heysh worker`` process per
worker type, all on 127.0.0.1, all recorded in ``<home>/stack/stack.json``.
The embedded stores (SQLite metadata, lancedb vectors, kuzu graph, folder
blobs and archive under ``HEYSH_HOME``) need no process: the workers open them.

``start_stack`` is idempotent: what already runs is kept, what is missing is
started. ``stop_stack`` stops the workers first (they finish in-flight
activities within their grace period), then the server, each by process id.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from heysh.config import Settings
from heysh.errors import ConfigError
from heysh.stack import processes
from heysh.stack.state import (
    ProcessRecord,
    StackPaths,
    StackState,
    read_state,
    remove_state,
    write_state,
)
from heysh.stack.temporal_dev import (
    DEFAULT_PRAGMA_PROFILE,
    LOCAL_HOST,
    DevServerOptions,
    dev_server_command,
    is_port_free,
    is_temporal_serving,
    split_local_address,
    wait_for_temporal,
)

_logger = logging.getLogger(__name__)

TEMPORAL = "temporal"
WORKER_TYPES = ("ai-processing", "storage", "general")
DEFAULT_HEALTH_PORTS = (8080, 8081, 8082)
DEFAULT_UI_PORT = 8233
# Lines of a failed process's log quoted in the error message.
_LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class StackOptions:
    """What ``start_stack`` starts.

    Attributes:
        ui_port: Temporal Web UI port on 127.0.0.1; 0 runs headless.
        worker_types: One worker process per type, in this order.
        health_ports: The health port of each worker, in the same order.
        pragma_profile: SQLite settings of the dev server (see
            ``heysh.stack.temporal_dev.SQLITE_PRAGMA_PROFILES``).
        start_timeout_s: Seconds each process gets to become ready; the AI
            worker loads its model first.
        extra_env: Added to every worker's environment (for example
            ``HEYSH_ENABLE_YARDSTICK=1``).
    """

    ui_port: int = DEFAULT_UI_PORT
    worker_types: tuple[str, ...] = WORKER_TYPES
    health_ports: tuple[int, ...] = DEFAULT_HEALTH_PORTS
    pragma_profile: str = DEFAULT_PRAGMA_PROFILE
    start_timeout_s: float = 240.0
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.health_ports) != len(self.worker_types):
            raise ConfigError(
                f"{len(self.worker_types)} worker types {list(self.worker_types)} "
                f"need as many health ports, got {list(self.health_ports)}"
            )
        unknown = [t for t in self.worker_types if t not in WORKER_TYPES]
        if unknown:
            raise ConfigError(
                f"unknown worker types {unknown}; use a subset of {list(WORKER_TYPES)}"
            )


@dataclass(frozen=True)
class ComponentStatus:
    """One process of the stack as seen now."""

    name: str
    pid: int
    port: int
    running: bool
    ready: bool
    detail: str
    log: str


@dataclass(frozen=True)
class StackReport:
    """The outcome of ``start_stack`` or ``stack_status``.

    Attributes:
        state: What ``stack.json`` records; None when nothing is recorded.
        components: Each recorded process, running or not.
        started: Names of processes this call started (empty for a status).
    """

    state: StackState | None
    components: list[ComponentStatus]
    started: list[str] = field(default_factory=list)

    @property
    def is_up(self) -> bool:
        """Whether every recorded process runs and is ready."""
        return bool(self.components) and all(
            c.running and c.ready for c in self.components
        )


def paths_for(settings: Settings) -> StackPaths:
    """Return the stack's paths under the resolved ``settings.home``."""
    return StackPaths(settings.home.expanduser().resolve())


def start_stack(settings: Settings, options: StackOptions | None = None) -> StackReport:
    """Start whatever part of the stack is not running, and wait until it is ready.

    Args:
        settings: ``home`` and ``temporal_address`` (its port is the server's
            gRPC port on 127.0.0.1).
        options: Ports, worker types, SQLite profile; defaults suit one
            stack per machine.

    Returns:
        The stack's state and the names of the processes started now.

    Raises:
        ConfigError: A port is taken by something else, the address is not
            local, or a process failed to start (its log's last lines are
            quoted). Processes started by this call are stopped again.
    """
    options = options or StackOptions()
    paths = paths_for(settings)
    _, temporal_port = split_local_address(settings.temporal_address)
    state = read_state(paths) or StackState(
        temporal_address=f"{LOCAL_HOST}:{temporal_port}",
        ui_url="",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    started: list[ProcessRecord] = []
    try:
        state = _ensure_temporal(
            settings, options, paths, state, temporal_port, started
        )
        for worker_type, port in zip(
            options.worker_types, options.health_ports, strict=True
        ):
            state = _ensure_worker(
                settings, options, paths, state, worker_type, port, started
            )
        for record in started:
            if record.worker_type:
                _wait_worker_ready(record, options.start_timeout_s)
    except BaseException:
        _stop_records(started, grace_s=10.0)
        _forget(paths, state, {r.name for r in started})
        raise
    _logger.info(
        "stack_up",
        extra={
            "started": ",".join(r.name for r in started),
            "address": state.temporal_address,
        },
    )
    return StackReport(
        state=state, components=_inspect(state), started=[r.name for r in started]
    )


def stop_stack(
    settings: Settings, *, grace_s: float | None = None
) -> list[tuple[str, str]]:
    """Stop every recorded process by pid: workers first, then Temporal.

    Args:
        settings: ``home`` (where ``stack.json`` is) and the workers' shutdown
            grace, to which ten seconds are added before SIGKILL.
        grace_s: Override of that grace period in seconds.

    Returns:
        ``(name, result)`` per process, where result is ``stopped``,
        ``killed`` or ``not running``. Empty when nothing was recorded.
    """
    paths = paths_for(settings)
    state = read_state(paths)
    if state is None:
        return []
    grace = grace_s if grace_s is not None else settings.worker_shutdown_grace_s + 10.0
    workers = [p for p in state.processes if p.worker_type]
    servers = [p for p in state.processes if not p.worker_type]
    results = list(
        zip([w.name for w in workers], _stop_records(workers, grace), strict=True)
    )
    results += list(
        zip([s.name for s in servers], _stop_records(servers, 30.0), strict=True)
    )
    remove_state(paths)
    _logger.info("stack_down", extra={n: r for n, r in results})
    return results


def stack_status(settings: Settings) -> StackReport:
    """Return each recorded process: running, ready, and why not."""
    state = read_state(paths_for(settings))
    if state is None:
        return StackReport(state=None, components=[])
    return StackReport(state=state, components=_inspect(state))


def tail_of(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """Return the last ``lines`` lines of a log file ('' if it is missing)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# --- starting -------------------------------------------------------------------


def _ensure_temporal(
    settings: Settings,
    options: StackOptions,
    paths: StackPaths,
    state: StackState,
    port: int,
    started: list[ProcessRecord],
) -> StackState:
    record = state.record(TEMPORAL)
    if record is not None and processes.is_running(record.pid, record.start_time):
        return state
    if not is_port_free(port):
        what = (
            "a Temporal server"
            if is_temporal_serving(f"{LOCAL_HOST}:{port}")
            else ("another program")
        )
        raise ConfigError(
            f"port {port} on {LOCAL_HOST} is taken by {what} not started by this "
            f"stack (home {paths.home}); stop it, or set HEYSH_TEMPORAL_ADDRESS to "
            f"{LOCAL_HOST}:<free port>"
        )
    if options.ui_port and not is_port_free(options.ui_port):
        raise ConfigError(
            f"Temporal UI port {options.ui_port} on {LOCAL_HOST} is taken; choose "
            "another with --ui-port (0 runs without the UI)"
        )
    server = DevServerOptions(
        port=port,
        ui_port=options.ui_port,
        db_path=paths.temporal_db,
        pragma_profile=options.pragma_profile,
        namespace=settings.temporal_namespace,
    )
    paths.temporal_db.parent.mkdir(parents=True, exist_ok=True)
    log = paths.log_of(TEMPORAL)
    pid = processes.spawn(
        dev_server_command(server), env=dict(os.environ), log_path=log
    )
    new = ProcessRecord(
        name=TEMPORAL,
        pid=pid,
        start_time=processes.start_time_of(pid),
        log=str(log),
        port=port,
    )
    started.append(new)
    state = _remember(
        paths,
        replace(state, temporal_address=server.address, ui_url=server.ui_url),
        new,
    )
    try:
        wait_for_temporal(
            server.address,
            options.start_timeout_s,
            is_alive=lambda: processes.is_running(pid, new.start_time),
        )
    except ConfigError as err:
        raise ConfigError(f"{err}; last lines of {log}:\n{tail_of(log)}") from None
    return state


def _ensure_worker(
    settings: Settings,
    options: StackOptions,
    paths: StackPaths,
    state: StackState,
    worker_type: str,
    port: int,
    started: list[ProcessRecord],
) -> StackState:
    name = f"worker-{worker_type}"
    record = state.record(name)
    if record is not None and processes.is_running(record.pid, record.start_time):
        return state
    if not is_port_free(port):
        raise ConfigError(
            f"health port {port} for the {worker_type} worker is taken on "
            f"{LOCAL_HOST}; choose others with --health-ports"
        )
    env = worker_environment(
        settings,
        paths.home,
        state.temporal_address,
        worker_type,
        port,
        options.extra_env,
    )
    log = paths.log_of(name)
    command = [sys.executable, "-m", "heysh.cli.main", "worker"]
    pid = processes.spawn(command, env=env, log_path=log)
    new = ProcessRecord(
        name=name,
        pid=pid,
        start_time=processes.start_time_of(pid),
        log=str(log),
        port=port,
        worker_type=worker_type,
    )
    started.append(new)
    return _remember(paths, state, new)


def worker_environment(
    settings: Settings,
    home: Path,
    address: str,
    worker_type: str,
    port: int,
    extra_env: Mapping[str, str],
) -> dict[str, str]:
    """Return the environment of one worker process of the stack.

    The current environment, with home, Temporal address, worker type and
    health port (on 127.0.0.1) set for this worker.
    """
    env = {k: v for k, v in os.environ.items() if k != "HEYSH_WORKER_TYPES"}
    env.update(
        {
            "HEYSH_HOME": str(home),
            "HEYSH_TEMPORAL_ADDRESS": address,
            "HEYSH_TEMPORAL_NAMESPACE": settings.temporal_namespace,
            "WORKER_TYPES": worker_type,
            "HEYSH_HEALTH_HOST": LOCAL_HOST,
            "HEYSH_HEALTH_PORT": str(port),
        }
    )
    env.update(extra_env)
    return env


def _wait_worker_ready(record: ProcessRecord, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    detail = "no answer yet"
    while time.monotonic() < deadline:
        if not processes.is_running(record.pid, record.start_time):
            raise ConfigError(
                f"the {record.worker_type} worker exited at start; last lines of "
                f"{record.log}:\n{tail_of(Path(record.log))}"
            )
        ready, detail = probe_ready(record.port)
        if ready:
            return
        time.sleep(0.5)
    raise ConfigError(
        f"the {record.worker_type} worker was not ready within {timeout_s:.0f}s "
        f"({detail}); see {record.log}"
    )


def probe_ready(port: int, timeout_s: float = 8.0) -> tuple[bool, str]:
    """Ask a worker's ``/ready``; return (ready, failed checks or error)."""
    url = f"http://{LOCAL_HOST}:{port}/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status == 200, "ready"
    except urllib.error.HTTPError as err:
        try:
            checks = json.loads(err.read() or b"{}").get("checks", {})
        except ValueError:
            checks = {}
        failed = ", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
        return False, failed or f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return False, f"no answer on port {port} ({err})"


# --- state ----------------------------------------------------------------------


def _remember(
    paths: StackPaths, state: StackState, record: ProcessRecord
) -> StackState:
    kept = [p for p in state.processes if p.name != record.name]
    state = replace(state, processes=[*kept, record])
    write_state(paths, state)
    return state


def _forget(paths: StackPaths, state: StackState, names: set[str]) -> None:
    current = read_state(paths) or state
    kept = [p for p in current.processes if p.name not in names]
    if kept:
        write_state(paths, replace(current, processes=kept))
    else:
        remove_state(paths)


def _stop_records(records: Sequence[ProcessRecord], grace_s: float) -> list[str]:
    return processes.stop_processes(
        [(r.pid, r.start_time) for r in records], grace_s=grace_s
    )


def _inspect(state: StackState) -> list[ComponentStatus]:
    components = []
    for record in state.processes:
        running = processes.is_running(record.pid, record.start_time)
        if not running:
            ready, detail = False, "not running"
        elif record.worker_type:
            ready, detail = probe_ready(record.port)
        else:
            ready = is_temporal_serving(state.temporal_address)
            detail = "serving" if ready else "not answering its health check"
        components.append(
            ComponentStatus(
                name=record.name,
                pid=record.pid,
                port=record.port,
                running=running,
                ready=ready,
                detail=detail,
                log=record.log,
            )
        )
    return components
