"""Fixtures of the stack tests: a throwaway HEYSH_HOME and free ports."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from heysh.config import Settings, load_settings
from tests.temporal_server import free_port


@pytest.fixture
def stack_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings with a fresh home and a free Temporal port, also in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEYSH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HEYSH_TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    yield load_settings()


@pytest.fixture
def sleeper() -> list[str]:
    """A command that runs until signalled (a Python sleep, not a shell)."""
    return [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def stubborn() -> list[str]:
    """A command that ignores SIGTERM, so only SIGKILL stops it."""
    return [
        sys.executable,
        "-c",
        "import signal, time, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(600)",
    ]
