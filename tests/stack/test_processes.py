"""Tests of heysh.stack.processes: detached processes, stopped by pid."""

from __future__ import annotations

import os
import time
from pathlib import Path

from heysh.stack.processes import (
    is_running,
    spawn,
    start_time_of,
    stop_processes,
)


def _wait_for_text(path: Path, text: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_spawn_writes_output_to_log_and_runs_detached(tmp_path: Path) -> None:
    """A spawned process logs stdout and stderr to its file, in its own session."""
    log = tmp_path / "logs" / "echo.log"
    command = [
        "python3",
        "-c",
        "import sys, os; print('out'); print('err', file=sys.stderr); "
        "print(os.getsid(0) == os.getpid())",
    ]

    pid = spawn(command, env=dict(os.environ), log_path=log)
    deadline = time.monotonic() + 30
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert sorted(log.read_text().split()) == ["True", "err", "out"]


def test_stop_processes_running_process_stopped_by_sigterm(
    tmp_path: Path, sleeper: list[str]
) -> None:
    """A process that honours SIGTERM is reported stopped and is gone afterwards."""
    pid = spawn(sleeper, env=dict(os.environ), log_path=tmp_path / "s.log")
    started = start_time_of(pid)

    results = stop_processes([(pid, started)], grace_s=20)

    assert results == ["stopped"]
    assert not is_running(pid, started)


def test_stop_processes_sigterm_ignored_killed_after_grace(
    tmp_path: Path, stubborn: list[str]
) -> None:
    """A process that ignores SIGTERM is killed once the grace period is over."""
    log = tmp_path / "stubborn.log"
    pid = spawn(stubborn, env=dict(os.environ), log_path=log)
    _wait_for_text(log, "ready")
    started = start_time_of(pid)
    begun = time.monotonic()

    results = stop_processes([(pid, started)], grace_s=1.0)

    assert results == ["killed"]
    assert not is_running(pid, started)
    assert time.monotonic() - begun >= 1.0


def test_stop_processes_other_start_time_left_alone(
    tmp_path: Path, sleeper: list[str]
) -> None:
    """A pid whose start time differs from the record (recycled) is not signalled."""
    pid = spawn(sleeper, env=dict(os.environ), log_path=tmp_path / "s.log")
    started = start_time_of(pid)
    assert started is not None

    results = stop_processes([(pid, started + 1)], grace_s=1.0)

    assert results == ["not running"]
    assert is_running(pid, started)
    assert stop_processes([(pid, started)], grace_s=20) == ["stopped"]


def test_is_running_exited_process_false(tmp_path: Path) -> None:
    """A process that exited (and was reaped) no longer counts as running."""
    pid = spawn(
        ["python3", "-c", "pass"], env=dict(os.environ), log_path=tmp_path / "p.log"
    )
    deadline = time.monotonic() + 30
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert not is_running(pid)
    assert start_time_of(pid) is None
