"""docker-compose.multi-queue.yml: valid Compose, and fit for the guide's commands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from heysh.workflows.review import ReviewOptions
from tests.deployments.files import (
    COMPOSE_FILE,
    CPU_OVERRIDE_FILE,
    DEPLOYMENTS,
    REPO_ROOT,
    WORKERS,
    is_reset,
    load_compose,
)

REQUIRED_SERVICES = {
    "temporal",
    "temporal-postgresql",
    "temporal-ui",
    "weaviate",
    "neo4j",
    "postgres",
    "mlflow",
    "ai-worker",
    "storage-worker",
    "general-worker",
    "prometheus",
}
# Start-to-close timeout of each queue's activities, as the workflow sets them.
ACTIVITY_TIMEOUT_S = {
    "ai-processing": ReviewOptions().ai_timeout_s,
    "storage": ReviewOptions().storage_timeout_s,
    "general": ReviewOptions().general_timeout_s,
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed multi-queue compose file."""
    return load_compose(COMPOSE_FILE)


def _validate(check_jsonschema: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_matches_compose_spec_schema(check_jsonschema: Path) -> None:
    """The file validates against the Compose specification's JSON schema."""
    result = _validate(check_jsonschema, COMPOSE_FILE)

    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_rejects_an_invalid_file(
    check_jsonschema: Path, tmp_path: Path
) -> None:
    """The schema check is live: an unknown service key fails validation."""
    bad = tmp_path / "bad.yml"
    bad.write_text("services:\n  web:\n    image: nginx:1.27\n    replicass: 2\n")

    result = _validate(check_jsonschema, bad)

    assert result.returncode == 1
    assert "replicass" in result.stdout


def test_compose_has_every_service_of_the_guide(compose: dict[str, Any]) -> None:
    """Temporal with its PostgreSQL and UI, the stores, MLflow, workers, Prometheus."""
    assert set(compose["services"]) == REQUIRED_SERVICES


def test_compose_sets_no_container_name(compose: dict[str, Any]) -> None:
    """No fixed container names, so --scale works and projects can coexist."""
    named = [n for n, s in compose["services"].items() if "container_name" in s]

    assert named == []


def test_compose_workers_publish_no_host_port(compose: dict[str, Any]) -> None:
    """Worker services publish no port, so `--scale general-worker=5` has no clash."""
    publishing = [
        service
        for service, _, _ in WORKERS.values()
        if compose["services"][service].get("ports")
    ]

    assert publishing == []


def test_compose_host_ports_are_loopback_and_distinct(compose: dict[str, Any]) -> None:
    """Every published port binds 127.0.0.1 and no host port is used twice."""
    host_ports: list[str] = []
    for service in compose["services"].values():
        for mapping in service.get("ports", []):
            host_ip, host_port, _container = str(mapping).split(":")
            assert host_ip == "127.0.0.1", mapping
            host_ports.append(host_port)

    assert len(host_ports) == len(set(host_ports))
    assert "8088" in host_ports  # the Temporal Web UI


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_compose_worker_runs_its_type_from_its_image(
    compose: dict[str, Any], worker_type: str
) -> None:
    """Each worker service builds its own Dockerfile and sets WORKER_TYPES to it."""
    service_name, _, image = WORKERS[worker_type]
    service = compose["services"][service_name]
    dockerfile = (
        DEPLOYMENTS / service["build"]["context"] / service["build"]["dockerfile"]
    )

    assert dockerfile.resolve() == (DEPLOYMENTS / "docker" / f"{image}.Dockerfile")
    assert (DEPLOYMENTS / service["build"]["context"]).resolve() == REPO_ROOT
    assert service["environment"]["WORKER_TYPES"] == worker_type
    assert service["environment"]["HEYSH_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert service["environment"]["HEYSH_HEALTH_PORT"] == "8080"
    assert "/health" in service["healthcheck"]["test"]
    assert service["depends_on"]["temporal"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_compose_stop_grace_exceeds_activity_timeout(
    compose: dict[str, Any], worker_type: str
) -> None:
    """Docker waits longer than the worker's grace, itself the activity timeout."""
    service = compose["services"][WORKERS[worker_type][0]]
    stop_grace_s = _seconds(service["stop_grace_period"])
    worker_grace_s = float(service["environment"]["HEYSH_WORKER_SHUTDOWN_GRACE_S"])

    assert worker_grace_s >= ACTIVITY_TIMEOUT_S[worker_type]
    assert stop_grace_s > worker_grace_s


def test_compose_ai_worker_reserves_one_nvidia_gpu(compose: dict[str, Any]) -> None:
    """The AI worker reserves one NVIDIA GPU through deploy.resources.reservations."""
    devices = compose["services"]["ai-worker"]["deploy"]["resources"]["reservations"][
        "devices"
    ]

    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


def test_compose_cpu_override_only_resets_the_gpu_reservation() -> None:
    """docker-compose.cpu.yml drops the AI worker's devices and changes nothing else."""
    override = load_compose(CPU_OVERRIDE_FILE)
    devices = override["services"]["ai-worker"]["deploy"]["resources"]["reservations"][
        "devices"
    ]

    assert list(override) == ["services"]
    assert list(override["services"]) == ["ai-worker"]
    assert is_reset(devices) and devices.value == []


def test_compose_references_only_defined_services_and_volumes(
    compose: dict[str, Any],
) -> None:
    """depends_on names real services; named volumes are declared at the top."""
    services = set(compose["services"])
    declared = set(compose.get("volumes", {}))
    unknown_services, unknown_volumes = [], []
    for name, service in compose["services"].items():
        unknown_services += [
            f"{name}->{d}" for d in service.get("depends_on", {}) if d not in services
        ]
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOYMENTS / source).exists(), volume
            elif source not in declared:
                unknown_volumes.append(f"{name}:{source}")

    assert unknown_services == []
    assert unknown_volumes == []


def test_compose_secrets_come_from_the_environment(compose: dict[str, Any]) -> None:
    """LLM keys pass through from the shell; passwords are ${VAR}s with defaults."""
    ai_env = compose["services"]["ai-worker"]["environment"]
    text = COMPOSE_FILE.read_text()

    assert ai_env["ANTHROPIC_API_KEY"] is None
    assert ai_env["OPENAI_API_KEY"] is None
    assert re.findall(r"sk-[A-Za-z0-9]{10,}", text) == []
    for password in re.findall(r"PASSWORD: (\S+)", text):
        assert password == "temporal" or password.startswith("${HEYSH_"), password


def test_compose_config_accepts_both_files(compose_v2: list[str]) -> None:
    """Docker Compose v2 itself loads the file alone and with the CPU override."""
    for files in ([COMPOSE_FILE], [COMPOSE_FILE, CPU_OVERRIDE_FILE]):
        args = [part for f in files for part in ("-f", str(f))]

        result = subprocess.run(
            [*compose_v2, *args, "config", "--quiet"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert result.returncode == 0, result.stderr


def _seconds(duration: str) -> float:
    """Seconds in a Compose duration such as ``90s``, ``2m`` or ``1m30s``."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Compose duration: {duration!r}")
    return sum(float(n) * units[u] for n, u in parts)
