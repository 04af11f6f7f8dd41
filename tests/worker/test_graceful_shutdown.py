"""SIGTERM stops a worker gracefully: polling stops, in-flight work completes, exit 0."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from heysh.config import Settings
from heysh.stores.factory import open_blob_store, open_metadata_store, store_urls
from tests.review_stack import ReviewStack
from tests.temporal_server import TemporalDevServer
from tests.worker.test_crash_recovery import ALWAYS_APPROVE, activity_attempts
from tests.worker.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

PAUSE_S = 6.0


def test_sigterm_lets_in_flight_activity_finish_and_exits_zero(
    temporal_server: TemporalDevServer, tmp_path: Path, fast_model: Any, encoder: Any
) -> None:
    """An activity running at SIGTERM completes on its first attempt before exit 0."""
    home = tmp_path / "home"
    urls = store_urls(Settings(home=home))
    shared = SimpleNamespace(metadata=open_metadata_store(urls.metadata),
                             blobs=open_blob_store(urls.blobs))
    stack = ReviewStack(temporal_server.address, home, model=fast_model,
                        encoder=encoder, worker_types="ai-processing,general",
                        stores=shared)
    first = WorkerProcess(
        home, temporal_server.address, stack.suffix, "storage",
        tmp_path / "storage-1.log",
        {"HEYSH_TEST_PAUSE_AFTER_WRITE": f"update_neo4j_graph={PAUSE_S}"},
    )
    second = WorkerProcess(home, temporal_server.address, stack.suffix, "storage",
                           tmp_path / "storage-2.log")
    try:
        first.start()
        domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})
        submitted = stack.submit(domain, b"Exporters gained as the currency weakened.")
        first.wait_for_log("test_pause_after_write")
        paused_at = time.monotonic()
        first.signal(signal.SIGTERM)
        ready_during_shutdown = first.ready()
        exit_code = first.wait(timeout_s=60)
        exited_after_s = time.monotonic() - paused_at
        # Anything the first worker had not picked up runs on a fresh one.
        second.start()
        result = stack.result(domain, submitted.doc_id, timeout_s=120)
        history = stack.run(stack.client.get_workflow_handle(
            submitted.workflow_id).fetch_history())
    finally:
        first.stop()
        second.stop()
        stack.close()
        shared.metadata.close()

    log = first.log_path.read_text()
    assert exit_code == 0
    assert ready_during_shutdown[0] in (0, 503)
    assert exited_after_s >= PAUSE_S - 1.0
    assert "workers_stopping" in log and "workers_stopped" in log
    assert result.outcome == "approved"
    assert activity_attempts(history, "update_neo4j_graph") == [1]
