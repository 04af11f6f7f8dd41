"""Tests of heysh.stack.launcher: up, status and down of the local stack.

The Temporal-only tests start a real dev server but no workers, so they take
seconds; the complete stack is exercised in test_stack_e2e.py.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from heysh.config import Settings
from heysh.errors import ConfigError
from heysh.stack import StackOptions, stack_status, start_stack, stop_stack
from heysh.stack.launcher import paths_for, worker_environment
from heysh.stack.processes import is_running
from heysh.stack.state import read_state

TEMPORAL_ONLY = StackOptions(ui_port=0, worker_types=(), health_ports=())


def test_stack_options_ports_mismatch_raises_config_error() -> None:
    """Each worker type needs its own health port."""
    with pytest.raises(
        ConfigError,
        match=r"3 worker types .* need as many health "
        r"ports, got \[8080\]",
    ):
        StackOptions(health_ports=(8080,))


def test_stack_options_unknown_worker_type_raises_config_error() -> None:
    """Only the three known worker types can be started."""
    with pytest.raises(ConfigError, match=r"unknown worker types \['gpu'\]"):
        StackOptions(worker_types=("gpu",), health_ports=(1,))


def test_worker_environment_sets_type_port_and_local_host(
    stack_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker gets its type, health port on 127.0.0.1, home and address."""
    monkeypatch.setenv("HEYSH_WORKER_TYPES", "general")

    env = worker_environment(
        stack_settings,
        Path("/h"),
        "127.0.0.1:7",
        "storage",
        9001,
        {"HEYSH_ENABLE_YARDSTICK": "1"},
    )

    assert {
        k: env[k]
        for k in (
            "HEYSH_HOME",
            "HEYSH_TEMPORAL_ADDRESS",
            "WORKER_TYPES",
            "HEYSH_HEALTH_HOST",
            "HEYSH_HEALTH_PORT",
            "HEYSH_ENABLE_YARDSTICK",
        )
    } == {
        "HEYSH_HOME": "/h",
        "HEYSH_TEMPORAL_ADDRESS": "127.0.0.1:7",
        "WORKER_TYPES": "storage",
        "HEYSH_HEALTH_HOST": "127.0.0.1",
        "HEYSH_HEALTH_PORT": "9001",
        "HEYSH_ENABLE_YARDSTICK": "1",
    }
    assert "HEYSH_WORKER_TYPES" not in env


def test_stop_stack_nothing_recorded_returns_empty(stack_settings: Settings) -> None:
    """Stopping a stack that was never started does nothing and says so."""
    assert stop_stack(stack_settings) == []
    assert stack_status(stack_settings).components == []


def test_start_stack_temporal_port_taken_raises_config_error(
    stack_settings: Settings,
) -> None:
    """A port held by another program is a clear error; nothing is recorded."""
    port = int(stack_settings.temporal_address.rsplit(":", 1)[1])
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()

        with pytest.raises(
            ConfigError,
            match=f"port {port} on 127.0.0.1 is taken by "
            "another program not started by this stack",
        ):
            start_stack(stack_settings, TEMPORAL_ONLY)

    assert read_state(paths_for(stack_settings)) is None


@pytest.mark.integration
def test_start_stack_twice_second_starts_nothing_then_stop(
    stack_settings: Settings,
) -> None:
    """Up is idempotent; down stops the server by pid and forgets it."""
    first = start_stack(stack_settings, TEMPORAL_ONLY)
    try:
        second = start_stack(stack_settings, TEMPORAL_ONLY)
        status = stack_status(stack_settings)
    finally:
        results = stop_stack(stack_settings)
    record = first.state.record("temporal") if first.state else None
    assert record is not None

    assert first.started == ["temporal"]
    assert second.started == []
    assert second.state == first.state
    assert status.is_up
    assert [(c.name, c.detail) for c in status.components] == [("temporal", "serving")]
    assert paths_for(stack_settings).temporal_db.exists()
    assert results == [("temporal", "stopped")]
    assert not is_running(record.pid, record.start_time)
    assert read_state(paths_for(stack_settings)) is None


@pytest.mark.integration
def test_start_stack_after_crash_restarts_missing_process(
    stack_settings: Settings,
) -> None:
    """A recorded process that died is started again by the next up."""
    first = start_stack(stack_settings, TEMPORAL_ONLY)
    old = first.state.record("temporal") if first.state else None
    assert old is not None
    stop_stack(stack_settings)
    # Put back the record of the now-dead server, as a crash would leave it.
    from heysh.stack.state import write_state

    write_state(paths_for(stack_settings), first.state)  # type: ignore[arg-type]
    try:
        status = stack_status(stack_settings)
        again = start_stack(stack_settings, TEMPORAL_ONLY)
    finally:
        stop_stack(stack_settings)
    new = again.state.record("temporal") if again.state else None

    assert [(c.running, c.detail) for c in status.components] == [
        (False, "not running")
    ]
    assert again.started == ["temporal"]
    assert new is not None and new.pid != old.pid
