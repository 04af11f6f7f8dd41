"""deployments/prometheus/prometheus.yml scrapes every worker service's replicas."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deployments.files import COMPOSE_FILE, DEPLOYMENTS, WORKERS, load_compose

PROMETHEUS_FILE = DEPLOYMENTS / "prometheus" / "prometheus.yml"


@pytest.fixture(scope="module")
def jobs() -> dict[str, dict[str, Any]]:
    """Scrape jobs by name."""
    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_prometheus_config_is_mounted_by_compose() -> None:
    """The compose file mounts this very file as Prometheus's configuration."""
    volumes = load_compose(COMPOSE_FILE)["services"]["prometheus"]["volumes"]

    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes


@pytest.mark.parametrize("worker_type", sorted(WORKERS))
def test_prometheus_discovers_every_replica_of_each_worker(
    jobs: dict[str, dict[str, Any]], worker_type: str
) -> None:
    """Each worker service is found by DNS (A records, one per replica) on port 8080."""
    service = WORKERS[worker_type][0]
    job = jobs[service]
    environment = load_compose(COMPOSE_FILE)["services"][service]["environment"]

    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert [(sd["names"], sd["type"], sd["port"]) for sd in job["dns_sd_configs"]] == [
        ([service], "A", int(environment["HEYSH_HEALTH_PORT"]))
    ]


def test_prometheus_scrapes_the_temporal_server(
    jobs: dict[str, dict[str, Any]],
) -> None:
    """Temporal's own metrics endpoint, enabled in the compose file, is scraped."""
    endpoint = load_compose(COMPOSE_FILE)["services"]["temporal"]["environment"][
        "PROMETHEUS_ENDPOINT"
    ]

    assert jobs["temporal-server"]["static_configs"] == [
        {"targets": [f"temporal:{endpoint.rsplit(':', 1)[1]}"]}
    ]
