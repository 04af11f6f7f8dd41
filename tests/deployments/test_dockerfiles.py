"""The worker images: lint-clean, pinned, non-root, health-checked, one type each."""

from __future__ import annotations

import http.server
import importlib.metadata
import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from packaging.requirements import Requirement

from tests.deployments.files import (
    DOCKER_DIR,
    REPO_ROOT,
    WORKERS,
    dockerfile_env,
    dockerignore_allows,
)

DOCKERFILES = {
    image: DOCKER_DIR / f"{image}.Dockerfile" for _, _, image in WORKERS.values()
}
WORKER_TYPE_OF_IMAGE = {image: wtype for wtype, (_, _, image) in WORKERS.items()}


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_dockerfiles_exist_for_every_worker_type() -> None:
    """Each of the three worker types has its Dockerfile in deployments/docker."""
    missing = [str(p) for p in DOCKERFILES.values() if not p.is_file()]

    assert missing == []


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_hadolint_finds_nothing(image: str, hadolint: Path) -> None:
    """hadolint reports no finding at all, not even style or info, on the Dockerfile."""
    result = subprocess.run(
        [str(hadolint), "--no-fail", "--format", "json", str(DOCKERFILES[image])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_hadolint_flags_a_bad_dockerfile(hadolint: Path, tmp_path: Path) -> None:
    """The lint is live: an unpinned, root, apt-get-without-pins file is reported."""
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y curl\n"
    )

    result = subprocess.run(
        [str(hadolint), "--no-fail", "--format", "json", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert {"DL3007", "DL3008"} <= codes


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_dockerfile_runs_as_numeric_non_root_user(image: str) -> None:
    """The last USER is numeric and not 0, so Kubernetes runAsNonRoot can verify it."""
    users = [
        args for keyword, args in _instructions(DOCKERFILES[image]) if keyword == "USER"
    ]

    assert users, "no USER instruction"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert gid == "" or (gid.isdigit() and int(gid) != 0)


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_dockerfile_sets_its_worker_type_and_health_check(image: str) -> None:
    """WORKER_TYPES names the image's one type; HEALTHCHECK probes /health."""
    instructions = _instructions(DOCKERFILES[image])
    env_text = " ".join(args for keyword, args in instructions if keyword == "ENV")
    health = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    entrypoint = [args for keyword, args in instructions if keyword == "ENTRYPOINT"]

    assert re.findall(r"WORKER_TYPES=(\S+)", env_text) == [WORKER_TYPE_OF_IMAGE[image]]
    assert "HEYSH_HEALTH_PORT=8080" in env_text
    assert len(health) == 1 and '"/health"' in health[0]
    assert entrypoint == ['["heysh", "worker"]']


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_dockerfile_bakes_in_no_secret(image: str) -> None:
    """No ENV or ARG names a key, password, token or secret."""
    pattern = re.compile(r"(API_KEY|PASSWORD|TOKEN|SECRET)", re.IGNORECASE)
    offending = [
        f"{keyword} {args}"
        for keyword, args in _instructions(DOCKERFILES[image])
        if keyword in {"ENV", "ARG"} and pattern.search(args)
    ]

    assert offending == []


@pytest.mark.parametrize("image", ["storage-worker", "general-worker"])
def test_slim_images_install_neither_torch_nor_jupyterlab(image: str) -> None:
    """The slim images' extra pulls in neither torch nor JupyterLab, transitively.

    Starts from pyproject.toml's ``heysh[<image>]`` and walks the installed
    distributions' requirement metadata; every one on the way must be installed.
    """
    closure = _dependency_closure(image)

    assert "torch" not in closure
    assert "jupyterlab" not in closure
    assert "psycopg" in closure  # both slim workers talk to the metadata database


def test_ai_image_extra_includes_torch() -> None:
    """The closure walk can see torch: heysh[ai-worker] pulls it in."""
    assert "torch" in _dependency_closure("ai-worker")


def _project_requirements(extra: str) -> list[Requirement]:
    """``heysh[extra]``'s direct requirements as pyproject.toml states them."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    requirements: list[Requirement] = [Requirement(r) for r in project["dependencies"]]
    pending, expanded = [extra], set()
    while pending:
        name = pending.pop()
        if name in expanded:
            continue
        expanded.add(name)
        for text in optional[name]:
            requirement = Requirement(text)
            if requirement.name == project["name"]:
                pending.extend(requirement.extras)
            else:
                requirements.append(requirement)
    return requirements


def _dependency_closure(extra: str) -> set[str]:
    """Normalised names of every distribution ``heysh[extra]`` needs here."""
    seen: set[str] = set()
    pending = [(r.name, frozenset(r.extras)) for r in _project_requirements(extra)]
    visited: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, wanted = pending.pop()
        key = (_normalise(name), wanted)
        if key in visited:
            continue
        visited.add(key)
        seen.add(key[0])
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(
                f"{name} is not installed, so the closure is unknown; "
                "run scripts/bootstrap.sh dev"
            )
        for text in requires:
            requirement = Requirement(text)
            environments = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(env) for env in environments
            ):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return seen


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ----------------------------------------------------------------------------
# The health check script the images run.

HEALTHCHECK = DOCKER_DIR / "healthcheck.py"


class _Handler(http.server.BaseHTTPRequestHandler):
    statuses: ClassVar[dict[str, int]] = {"/health": 200, "/ready": 503}

    def do_GET(self) -> None:  # http.server's method name
        status = self.statuses.get(self.path, 404)
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"no")

    def log_message(self, format: str, *args: object) -> None:  # base signature
        return


@pytest.fixture
def health_server() -> Iterator[int]:
    """A worker-like health server on 127.0.0.1: /health 200, /ready 503."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _run_healthcheck(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        env={"HEYSH_HEALTH_PORT": str(port), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=REPO_ROOT,
    )


def test_healthcheck_passes_when_health_answers_200(health_server: int) -> None:
    """Exit status 0 when /health on HEYSH_HEALTH_PORT answers 200."""
    result = _run_healthcheck(health_server)

    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_when_endpoint_answers_503(health_server: int) -> None:
    """Exit status 1, naming the status, when the probed path answers 503."""
    result = _run_healthcheck(health_server, "/ready")

    assert result.returncode == 1
    assert "answered 503, expected 200" in result.stderr


def test_healthcheck_fails_when_nothing_listens() -> None:
    """Exit status 1, saying unreachable, when no server listens on the port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]

    result = _run_healthcheck(free_port)

    assert result.returncode == 1
    assert "unreachable" in result.stderr


# ----------------------------------------------------------------------------
# The build context.


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_dockerignore_sends_every_file_the_dockerfile_copies(image: str) -> None:
    """Each COPY source from the context passes the root .dockerignore."""
    sources = [
        args.split()[:-1]
        for keyword, args in _instructions(DOCKERFILES[image])
        if keyword == "COPY" and not args.startswith("--from")
    ]
    flat = [source for group in sources for source in group]

    assert flat
    assert [s for s in flat if not dockerignore_allows(s)] == []


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".venv/bin/python",
        "heysh/__pycache__/config.cpython-311.pyc",
        "tests/conftest.py",
        ".heysh/heysh.db",
        "deployments/k8s/namespace.yaml",
    ],
)
def test_dockerignore_keeps_local_state_out_of_the_build(path: str) -> None:
    """Secrets (.env), virtualenvs, caches, local data and tests never reach a build."""
    assert not dockerignore_allows(path)


@pytest.mark.parametrize("image", sorted(DOCKERFILES))
def test_dockerfile_env_reads_the_final_stage(image: str) -> None:
    """dockerfile_env gives the runtime variables a worker test should start with."""
    env = dockerfile_env(DOCKERFILES[image])

    assert env["WORKER_TYPES"] == WORKER_TYPE_OF_IMAGE[image]
    assert env["HEYSH_HOME"] == "/var/lib/heysh"
    assert env["HEYSH_LOG_FORMAT"] == "json"
    assert "UV_COMPILE_BYTECODE" not in env  # a build-stage variable
