"""Fixtures shared by the research, tracking, notebook and CLI tests.

Imported by each of those folders' conftest.py. Every test gets its own
HEYSH_HOME (a fresh MLflow store and registry); the embedding cache is shared
across the session so a text is embedded once per test run.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from heysh.config import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASETS_ROOT = (REPO_ROOT / ".." / "shared" / "datasets").resolve()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The labelled collections of ../shared/datasets."""
    assert (DATASETS_ROOT / "README.md").is_file(), (
        f"the shared datasets must be at {DATASETS_ROOT}"
    )
    return DATASETS_ROOT


@pytest.fixture(scope="session")
def session_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the whole run."""
    return tmp_path_factory.mktemp("heysh-cache")


@pytest.fixture
def heysh_env(
    tmp_path: Path, session_cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """A fresh HEYSH_HOME with its own MLflow store, for this test alone."""
    import mlflow

    home = tmp_path / "home"
    monkeypatch.setenv("HEYSH_HOME", str(home))
    monkeypatch.setenv("HEYSH_CACHE_ROOT", str(session_cache_root))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = load_settings()
    yield settings
    # MLflow keeps the tracking URI and an active run per process; reset both so
    # the next test starts clean.
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri("")


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def run_heysh(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 900,
) -> CliRun:
    """Run the installed ``heysh`` command in a subprocess."""
    import os

    heysh = Path(sys.executable).with_name("heysh")
    completed = subprocess.run(
        [str(heysh), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO_ROOT,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)
