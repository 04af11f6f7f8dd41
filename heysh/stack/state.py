"""The local stack's files, and ``stack.json``, the record of its processes.

Layout under ``HEYSH_HOME`` (``.heysh`` by default)::

    temporal/temporal.db     the dev server's SQLite database (survives restarts)
    stack/stack.json         what runs: process ids, start times, ports
    stack/logs/<name>.log    each process's stdout and stderr
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from heysh.errors import ConfigError

STATE_VERSION = 1


@dataclass(frozen=True)
class StackPaths:
    """The stack's files under one home folder.

    Args:
        home: The resolved ``HEYSH_HOME``.
    """

    home: Path

    @property
    def temporal_db(self) -> Path:
        return self.home / "temporal" / "temporal.db"

    @property
    def state_file(self) -> Path:
        return self.home / "stack" / "stack.json"

    @property
    def logs_dir(self) -> Path:
        return self.home / "stack" / "logs"

    def log_of(self, name: str) -> Path:
        """Return the log file of the process called ``name``."""
        return self.logs_dir / f"{name}.log"


@dataclass(frozen=True)
class ProcessRecord:
    """One process of the stack.

    Attributes:
        name: ``temporal`` or ``worker-<type>``.
        pid: Process id.
        start_time: Start time in clock ticks since boot, to recognise a
            recycled pid; None where the platform does not tell.
        log: Its log file.
        port: The port it serves: Temporal's gRPC port, or a worker's
            health port.
        worker_type: The worker type, empty for Temporal.
    """

    name: str
    pid: int
    start_time: int | None
    log: str
    port: int
    worker_type: str = ""


@dataclass(frozen=True)
class StackState:
    """What ``heysh stack up`` started, as written to ``stack.json``."""

    temporal_address: str
    ui_url: str
    processes: list[ProcessRecord] = field(default_factory=list)
    started_at: str = ""
    version: int = STATE_VERSION

    def record(self, name: str) -> ProcessRecord | None:
        """Return the process called ``name``, or None."""
        return next((p for p in self.processes if p.name == name), None)


def read_state(paths: StackPaths) -> StackState | None:
    """Return the recorded stack, or None if nothing was recorded.

    Raises:
        ConfigError: The file exists but cannot be understood; the message
            says how to recover.
    """
    try:
        raw: dict[str, Any] = json.loads(paths.state_file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"{paths.state_file} is unreadable ({err}); stop the processes it "
            "named by hand and delete it"
        ) from err
    try:
        processes = [ProcessRecord(**p) for p in raw.pop("processes", [])]
        return StackState(processes=processes, **raw)
    except TypeError as err:
        raise ConfigError(
            f"{paths.state_file} has unexpected fields ({err}); it was written by "
            "another heysh version: stop its processes by hand and delete it"
        ) from err


def write_state(paths: StackPaths, state: StackState) -> None:
    """Write ``stack.json`` atomically (a crash leaves the old or the new file)."""
    paths.state_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = paths.state_file.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2) + "\n")
    os.replace(temporary, paths.state_file)


def remove_state(paths: StackPaths) -> None:
    """Delete ``stack.json`` if it exists."""
    paths.state_file.unlink(missing_ok=True)
