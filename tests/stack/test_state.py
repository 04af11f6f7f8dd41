"""Tests of heysh.stack.state: the stack's paths and its stack.json record."""

from __future__ import annotations

from pathlib import Path

import pytest

from heysh.errors import ConfigError
from heysh.stack.state import (
    ProcessRecord,
    StackPaths,
    StackState,
    read_state,
    remove_state,
    write_state,
)


def test_stack_paths_layout_under_home(tmp_path: Path) -> None:
    """The database, record and logs live where docs/local-stack.md says."""
    paths = StackPaths(tmp_path)

    assert paths.temporal_db == tmp_path / "temporal" / "temporal.db"
    assert paths.state_file == tmp_path / "stack" / "stack.json"
    assert paths.log_of("worker-storage") == (
        tmp_path / "stack" / "logs" / "worker-storage.log"
    )


def test_write_state_then_read_state_round_trips(tmp_path: Path) -> None:
    """What is written is read back field for field."""
    paths = StackPaths(tmp_path)
    state = StackState(
        temporal_address="127.0.0.1:7233",
        ui_url="http://127.0.0.1:8233",
        processes=[
            ProcessRecord("temporal", 11, 500, "/l/t.log", 7233),
            ProcessRecord("worker-general", 12, None, "/l/g.log", 8082, "general"),
        ],
        started_at="2026-12-04T17:00:00+00:00",
    )

    write_state(paths, state)

    assert read_state(paths) == state
    assert state.record("worker-general") == state.processes[1]
    assert state.record("worker-ai-processing") is None


def test_read_state_missing_file_none(tmp_path: Path) -> None:
    """No stack.json means nothing was started."""
    paths = StackPaths(tmp_path)
    write_state(paths, StackState("127.0.0.1:1", ""))
    remove_state(paths)

    assert read_state(paths) is None


def test_read_state_corrupt_file_raises_config_error(tmp_path: Path) -> None:
    """A damaged stack.json is a clear error naming the file and the way out."""
    paths = StackPaths(tmp_path)
    paths.state_file.parent.mkdir(parents=True)
    paths.state_file.write_text("{not json")

    with pytest.raises(ConfigError, match=r"stack\.json is unreadable .*delete it"):
        read_state(paths)


def test_read_state_unknown_fields_raises_config_error(tmp_path: Path) -> None:
    """A record from another heysh version is refused with a way out."""
    paths = StackPaths(tmp_path)
    paths.state_file.parent.mkdir(parents=True)
    paths.state_file.write_text('{"temporal_address": "x", "ui_url": "", "colour": 1}')

    with pytest.raises(ConfigError, match=r"unexpected fields .*another heysh version"):
        read_state(paths)
