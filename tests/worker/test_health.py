"""The worker's /health, /ready and /metrics endpoints."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from heysh.activities.ai import LoadedModel
from heysh.worker.health import HealthServer
from heysh.worker.runner import WorkerStack
from tests.review_stack import ReviewStack

pytestmark = pytest.mark.integration

ALWAYS_APPROVE = {
    "relevance_threshold": 0.0,
    "auto_approve_threshold": 0.0,
    "auto_reject_threshold": None,
    "use_ai_controller": True,
}


def http_get(port: int, path: str) -> tuple[int, str]:
    """GET ``path`` on 127.0.0.1:``port``; (status, body) also for errors."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


class GatedModelSource:
    """A model source whose load waits until the test opens the gate."""

    def __init__(self, model: LoadedModel) -> None:
        self.gate = threading.Event()
        self.model = model
        self.is_loaded = False

    def load(self) -> LoadedModel:
        self.gate.wait(timeout=60)
        self.is_loaded = True
        return self.model

    def current(self) -> LoadedModel:
        return self.model

    def for_override(self, model_uri: str) -> LoadedModel:
        raise AssertionError("no override expected")


def test_health_live_and_ready_when_temporal_and_model_are_up(
    stack: ReviewStack,
) -> None:
    """/health is 200; /ready is 200 with every check ok on a running stack."""
    port = stack.workers.health_port

    health = http_get(port, "/health")
    ready = http_get(port, "/ready")
    missing = http_get(port, "/nothing")

    assert health == (200, '{"status": "alive"}')
    assert ready[0] == 200
    assert json.loads(ready[1]) == {
        "ready": True,
        "checks": {"worker": "ok", "temporal": "ok", "model": "ok"},
    }
    assert missing[0] == 404


def test_metrics_expose_heysh_and_temporal_sdk_metrics(stack: ReviewStack) -> None:
    """/metrics has the four heysh metrics and the Temporal SDK's worker metrics."""
    domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})
    submitted = stack.submit(domain, b"Metrics test: bank results beat forecasts.")
    stack.result(domain, submitted.doc_id)

    status, text = http_get(stack.workers.health_port, "/metrics")

    assert status == 200
    assert f'heysh_decisions_total{{domain="{domain}",outcome="approved"}} 1.0' in text
    assert 'heysh_relevance_score_bucket{le="10.0"}' in text
    assert "heysh_model_latency_seconds_count" in text
    assert 'heysh_model_info{name="lexical-test",version="1"} 1.0' in text
    sdk_names = {
        line.split("{")[0].split(" ")[0]
        for line in text.splitlines()
        if line.startswith("temporal_")
    }
    assert {
        "temporal_worker_task_slots_available",
        "temporal_activity_execution_latency_count",
    } <= sdk_names


def test_ready_is_503_with_reason_until_model_loaded(stack: ReviewStack) -> None:
    """An AI worker answers /ready 503 naming the model while it loads, then 200."""
    source = GatedModelSource(stack.model)
    settings = stack.settings.model_copy(update={"worker_types": "ai-processing"})
    workers = WorkerStack(
        settings, stores=stack.stores, encoder=object(), model_source=source
    )
    starting = asyncio.run_coroutine_threadsafe(workers.start(), stack.loop.loop)
    deadline = time.monotonic() + 30
    while workers.health is None and time.monotonic() < deadline:
        time.sleep(0.05)

    while_loading = http_get(workers.health_port, "/ready")
    source.gate.set()
    starting.result(timeout=60)
    after_loading = http_get(workers.health_port, "/ready")
    stack.run(workers.shutdown())

    assert while_loading[0] == 503
    checks = json.loads(while_loading[1])["checks"]
    assert checks["model"] == "no model loaded yet"
    assert checks["worker"] == "starting"
    assert after_loading[0] == 200


def test_health_server_reports_failed_checks_as_503_json() -> None:
    """A failing readiness check gives 503 and a JSON body naming it."""
    server = HealthServer(
        "127.0.0.1",
        0,
        readiness=lambda: (False, {"temporal": "unreachable: refused", "worker": "ok"}),
        sdk_metrics_url=None,
    )
    server.start()
    try:
        ready = http_get(server.port, "/ready")
        metrics = http_get(server.port, "/metrics")
    finally:
        server.stop()

    assert ready[0] == 503
    assert json.loads(ready[1]) == {
        "ready": False,
        "checks": {"temporal": "unreachable: refused", "worker": "ok"},
    }
    assert metrics[0] == 200
    assert "# TYPE heysh_relevance_score histogram" in metrics[1]
