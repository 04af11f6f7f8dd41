"""Start detached processes with a log file, and stop them by process id.

The stack's processes outlive the ``heysh stack up`` command that started
them, so they run in their own session and are afterwards known only by the
process id (and start time) recorded in ``stack.json``. The start time guards
against a recycled process id: a pid whose start time differs is another
program and is never signalled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_logger = logging.getLogger(__name__)

_POLL_S = 0.1


def spawn(command: Sequence[str], *, env: Mapping[str, str], log_path: Path) -> int:
    """Start ``command`` detached, stdout and stderr appended to ``log_path``.

    Args:
        command: Program and arguments.
        env: The complete environment of the new process.
        log_path: Log file; created with its folder if missing.

    Returns:
        The new process id.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            start_new_session=True,
        )
    _logger.debug("process_spawned", extra={"pid": process.pid, "log": str(log_path)})
    return process.pid


def start_time_of(pid: int) -> int | None:
    """Return the process's start time in clock ticks since boot, or None.

    None means the process does not exist, is a zombie, or the platform has
    no ``/proc`` (then callers fall back to the pid alone).
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after it are plain.
    fields = stat.rsplit(")", 1)[-1].split()
    state, start_ticks = fields[0], fields[19]
    if state in ("Z", "X"):
        return None
    return int(start_ticks)


def is_running(pid: int, start_time: int | None = None) -> bool:
    """Return whether ``pid`` is alive and, if given, started at ``start_time``."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    if not Path("/proc").is_dir():
        return True
    current = start_time_of(pid)
    if current is None:
        return False
    return start_time is None or current == start_time


def stop_processes(
    targets: Sequence[tuple[int, int | None]], *, grace_s: float
) -> list[str]:
    """Stop processes together: SIGTERM to all, wait up to ``grace_s``, SIGKILL.

    Args:
        targets: ``(pid, start_time)`` pairs (see :func:`start_time_of`); a
            pid whose start time differs is another program and is left alone.
        grace_s: Seconds the processes get to exit after SIGTERM.

    Returns:
        Per target, in order: ``"not running"``, ``"stopped"`` (exited after
        SIGTERM) or ``"killed"`` (needed SIGKILL).
    """
    results = ["not running" if not is_running(*t) else "stopped" for t in targets]
    running = [t for t, r in zip(targets, results, strict=True) if r == "stopped"]
    for pid, _ in running:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while any(is_running(*t) for t in running) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    for index, target in enumerate(targets):
        if results[index] == "stopped" and is_running(*target):
            _logger.warning(
                "process_killed", extra={"pid": target[0], "grace_s": grace_s}
            )
            _signal(target[0], signal.SIGKILL)
            _wait_gone(*target, timeout_s=10.0)
            results[index] = "killed"
    return results


def _wait_gone(pid: int, start_time: int | None, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_running(pid, start_time):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so it is not a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
