"""Readers for the files in deployments/, shared by the deployment tests.

Also usable by the integration tests: ``read_versions()`` gives the server
versions that the compose file pins and the integration servers must match.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = REPO_ROOT / "deployments"
COMPOSE_FILE = DEPLOYMENTS / "docker-compose.multi-queue.yml"
CPU_OVERRIDE_FILE = DEPLOYMENTS / "docker-compose.cpu.yml"
VERSIONS_FILE = DEPLOYMENTS / "versions.env"
DOCKER_DIR = DEPLOYMENTS / "docker"
K8S_DIR = DEPLOYMENTS / "k8s"
CLOUDRUN_DIR = DEPLOYMENTS / "cloudrun"
GUIDE = REPO_ROOT / "docs" / "deployment.md"

# Worker type (WORKER_TYPES value) -> compose service, k8s deployment, image file.
WORKERS = {
    "ai-processing": ("ai-worker", "ai-processing-worker", "ai-worker"),
    "storage": ("storage-worker", "storage-worker", "storage-worker"),
    "general": ("general-worker", "general-worker", "general-worker"),
}

_VERSION_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=([^\s\"'$]+)$")


def read_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    """Parse ``versions.env``: ``KEY=VALUE`` lines, ``#`` comments, blank lines.

    Raises:
        ValueError: naming the line that is neither, so a typo cannot hide a pin.
    """
    versions: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _VERSION_LINE.match(line)
        if match is None:
            raise ValueError(f"{path.name}:{number}: expected KEY=VALUE, got {raw!r}")
        key, value = match.groups()
        if key in versions:
            raise ValueError(f"{path.name}:{number}: {key} is set twice")
        versions[key] = value
    return versions


class _ResetTag:
    """Stands for Compose's ``!reset`` tag when a file is read with PyYAML."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"!reset {self.value!r}"


class _ComposeLoader(yaml.SafeLoader):
    """SafeLoader that also accepts Compose's ``!reset`` and ``!override`` tags."""


def _construct_reset(loader: yaml.SafeLoader, node: yaml.Node) -> _ResetTag:
    if isinstance(node, yaml.SequenceNode):
        return _ResetTag(loader.construct_sequence(node))
    if isinstance(node, yaml.MappingNode):
        return _ResetTag(loader.construct_mapping(node))
    return _ResetTag(loader.construct_scalar(node))


_ComposeLoader.add_constructor("!reset", _construct_reset)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """Load a compose file (anchors and merge keys resolved; ``!reset`` kept)."""
    return yaml.load(path.read_text(), Loader=_ComposeLoader)  # SafeLoader subclass


def is_reset(value: Any) -> bool:
    """Return whether ``value`` is a Compose ``!reset`` tag."""
    return isinstance(value, _ResetTag)


def dockerfile_env(path: Path) -> dict[str, str]:
    """The environment a Dockerfile's final stage sets with ``ENV KEY=VALUE``.

    For tests that start a worker the way its image does (same variables).
    ``$PATH``-style references are kept as written.
    """
    final_stage = re.split(r"^FROM ", path.read_text(), flags=re.MULTILINE)[-1]
    joined = re.sub(r"\\\n\s*", " ", final_stage)
    env: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line[4:])))
    return env


def dockerignore_allows(
    relative_path: str, path: Path = REPO_ROOT / ".dockerignore"
) -> bool:
    """Whether the root .dockerignore sends ``relative_path`` to the build.

    Docker's rules, as far as this file uses them: the last matching pattern
    wins, ``!`` re-includes, a pattern matching a folder covers what is below
    it, and ``**/`` matches at any depth.
    """
    allowed = True
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            pattern = line.removeprefix("!").rstrip("/")
            if _dockerignore_matches(pattern, relative_path):
                allowed = line.startswith("!")
    return allowed


def _dockerignore_matches(pattern: str, relative_path: str) -> bool:
    parts = relative_path.split("/")
    if pattern.startswith("**/"):
        spans = (
            "/".join(parts[i:j])
            for i in range(len(parts))
            for j in range(i + 1, len(parts) + 1)
        )
        return any(fnmatch.fnmatchcase(span, pattern[3:]) for span in spans)
    prefixes = ("/".join(parts[: i + 1]) for i in range(len(parts)))
    return any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty document of a multi-document YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_manifest_files() -> list[Path]:
    """The Kubernetes manifests the guide applies (not the optional ones)."""
    return sorted(K8S_DIR.glob("*.yaml"))


def k8s_objects(kind: str | None = None) -> list[dict[str, Any]]:
    """Every object in deployments/k8s/*.yaml, optionally of one kind."""
    objects = [
        doc for path in k8s_manifest_files() for doc in load_yaml_documents(path)
    ]
    return [o for o in objects if kind is None or o["kind"] == kind]


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``; KeyError if absent."""
    for obj in k8s_objects(kind):
        if obj["metadata"]["name"] == name:
            return obj
    raise KeyError(f"no {kind} named {name} in {K8S_DIR}")


def container_env(container: dict[str, Any]) -> dict[str, Any]:
    """A container's ``env`` as name -> value (or the ``valueFrom`` mapping)."""
    return {
        e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])
    }


# ----------------------------------------------------------------------------
# The guide's commands.


@dataclass(frozen=True)
class GuideCommand:
    """One shell command from a fenced code block of the guide."""

    line: int
    text: str

    @property
    def words(self) -> list[str]:
        """The command split as a POSIX shell would (no expansion)."""
        return shlex.split(self.text, comments=True)


def guide_commands(path: Path = GUIDE) -> Iterator[GuideCommand]:
    """Yield each command of the guide's ``bash``/``sh``/``shell`` code blocks.

    Backslash continuations are joined; ``VAR=value`` prefixes and a leading
    ``$ `` prompt are dropped; comment lines are skipped.
    """
    in_block = False
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            in_block = not in_block and stripped[3:].strip() in {"bash", "sh", "shell"}
            pending = []
            continue
        if not in_block or (not pending and (not stripped or stripped.startswith("#"))):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        text = " ".join(part.strip() for part in pending).removeprefix("$ ")
        pending = []
        yield GuideCommand(start, _drop_env_prefix(text))


def _drop_env_prefix(text: str) -> str:
    words = text.split(" ")
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=\S*$", words[0]):
        words.pop(0)
    return " ".join(words)
