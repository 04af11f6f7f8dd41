"""deployments/versions.env is the one record of server and base-image versions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deployments.files import (
    COMPOSE_FILE,
    DOCKER_DIR,
    VERSIONS_FILE,
    load_compose,
    read_versions,
)

# Compose image repository -> how versions.env spells its tag.
EXPECTED_TAGS = {
    "temporalio/auto-setup": "{TEMPORAL_VERSION}",
    "temporalio/ui": "{TEMPORAL_UI_VERSION}",
    "postgres": "{POSTGRES_VERSION}",
    "semitechnologies/weaviate": "{WEAVIATE_VERSION}",
    "neo4j": "{NEO4J_VERSION}-community",
    "ghcr.io/mlflow/mlflow": "v{MLFLOW_VERSION}",
    "prom/prometheus": "v{PROMETHEUS_VERSION}",
}
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
# PostgreSQL numbers releases major.minor since version 10.
_POSTGRES = re.compile(r"^\d+\.\d+$")


def test_versions_file_pins_exact_versions() -> None:
    """Every version is a full release (x.y.z; PostgreSQL x.y), never floating."""
    versions = read_versions()
    keys = [k for k in versions if k.endswith("_VERSION")]
    loose = [
        k
        for k in keys
        if not (_POSTGRES if k == "POSTGRES_VERSION" else _SEMVER).match(versions[k])
    ]

    assert len(keys) >= 10
    assert loose == []


def test_versions_file_meets_the_required_major_lines() -> None:
    """The pinned lines are the ones the integration tests run."""
    versions = read_versions()

    assert versions["TEMPORAL_VERSION"].startswith("1.29.")
    assert versions["TEMPORAL_UI_VERSION"].startswith("2.")
    assert versions["POSTGRES_VERSION"].startswith("15.")
    assert versions["WEAVIATE_VERSION"].startswith("1.35.")
    assert versions["NEO4J_VERSION"].startswith("5.26.")
    assert versions["PYTHON_VERSION"].startswith("3.11.")


def test_read_versions_rejects_a_malformed_line(tmp_path: Path) -> None:
    """A line that is not KEY=VALUE is an error naming the line, not ignored."""
    bad = tmp_path / "versions.env"
    bad.write_text("# ok\nNEO4J_VERSION=5.26.30\nWEAVIATE_VERSION = 1.35.2\n")

    with pytest.raises(ValueError, match=r"versions.env:3: expected KEY=VALUE"):
        read_versions(bad)


def test_compose_image_tags_equal_versions_file() -> None:
    """Every image in the compose file is pinned to the tag versions.env gives."""
    versions = read_versions()
    expected = {repo: tag.format(**versions) for repo, tag in EXPECTED_TAGS.items()}
    found: dict[str, set[str]] = {}
    for service in load_compose(COMPOSE_FILE)["services"].values():
        if "build" in service:
            continue  # heysh's own images, built from deployments/docker
        repository, _, tag = service["image"].rpartition(":")
        found.setdefault(repository, set()).add(tag)

    assert {repo: tags for repo, tags in found.items()} == {
        repo: {tag} for repo, tag in expected.items()
    }


@pytest.mark.parametrize(
    "dockerfile", sorted(DOCKER_DIR.glob("*.Dockerfile")), ids=lambda p: p.name
)
def test_dockerfile_arg_defaults_equal_versions_file(dockerfile: Path) -> None:
    """Each version ARG in a Dockerfile defaults to the value in versions.env."""
    versions = read_versions()
    args = dict(
        re.findall(r"^ARG ([A-Z_]+)=(\S+)$", dockerfile.read_text(), re.MULTILINE)
    )
    pinned = {k: v for k, v in args.items() if k in versions}

    assert pinned, f"{dockerfile.name} declares no version ARG"
    assert pinned == {k: versions[k] for k in pinned}


@pytest.mark.parametrize(
    "dockerfile", sorted(DOCKER_DIR.glob("*.Dockerfile")), ids=lambda p: p.name
)
def test_dockerfile_base_images_use_pinned_args(dockerfile: Path) -> None:
    """Every FROM uses versioned ARGs (or an earlier stage), never :latest."""
    text = dockerfile.read_text()
    stages: set[str] = set()
    for image, stage in re.findall(r"^FROM (\S+)(?: AS (\S+))?$", text, re.MULTILINE):
        if image not in stages:
            assert re.search(r":\S*\$\{[A-Z_]+_(VERSION|RELEASE)\}", image), image
            assert "latest" not in image
        if stage:
            stages.add(stage)
    assert VERSIONS_FILE.name in text  # the header points readers to the source


def test_test_servers_run_the_pinned_versions() -> None:
    """The servers the integration tests build run the versions deployments pin."""
    repo = Path(__file__).resolve().parents[2]
    versions = read_versions()
    pom = (repo / "scripts" / "servers" / "neo4j-embedded" / "pom.xml").read_text()
    weaviate_script = (repo / "scripts" / "servers" / "weaviate.sh").read_text()

    assert f"<neo4j.version>{versions['NEO4J_VERSION']}</neo4j.version>" in pom
    assert "deployments/versions.env" in weaviate_script
    assert 'WEAVIATE_VERSION="v$(sed' in weaviate_script
