"""Storage workers as separate processes: killed mid-activity, and stopped by SIGTERM.

The AI and general workers run in this process (module fixture); storage
workers run as ``python -m heysh.worker`` children, which hold the embedded
graph's lock, so this process opens only SQLite and the blob folder while
they run.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from heysh.config import Settings
from heysh.stores.factory import (
    StoreUrls,
    open_blob_store,
    open_knowledge_graph,
    open_metadata_store,
    open_vector_index,
    store_urls,
)
from heysh.workflows.review import ReviewOptions
from tests.review_stack import ReviewStack
from tests.temporal_server import TemporalDevServer
from tests.worker.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

ALWAYS_APPROVE = {
    "relevance_threshold": 0.0,
    "auto_approve_threshold": 0.0,
    "auto_reject_threshold": None,
    "use_ai_controller": True,
}
PAUSE_ENV = "HEYSH_TEST_PAUSE_AFTER_WRITE"


@dataclass
class SplitStack:
    """In-process AI and general workers sharing a home with storage children."""

    stack: ReviewStack
    home: Path
    urls: StoreUrls
    address: str
    logs: Path

    def storage_worker(self, name: str, pauses: str = "") -> WorkerProcess:
        extra = {PAUSE_ENV: pauses} if pauses else {}
        return WorkerProcess(
            self.home,
            self.address,
            self.stack.suffix,
            "storage",
            self.logs / f"{name}.log",
            extra,
        )

    def graph_count(self) -> int:
        graph = open_knowledge_graph(self.urls.graph)
        try:
            return graph.count_documents()
        finally:
            graph.close()


@pytest.fixture(scope="module")
def split(
    temporal_server: TemporalDevServer,
    tmp_path_factory: pytest.TempPathFactory,
    fast_model: Any,
    encoder: Any,
) -> Iterator[SplitStack]:
    root = tmp_path_factory.mktemp("split")
    home = root / "home"
    urls = store_urls(Settings(home=home))
    shared = SimpleNamespace(
        metadata=open_metadata_store(urls.metadata), blobs=open_blob_store(urls.blobs)
    )
    stack = ReviewStack(
        temporal_server.address,
        home,
        model=fast_model,
        encoder=encoder,
        worker_types="ai-processing,general",
        stores=shared,
    )
    yield SplitStack(stack, home, urls, temporal_server.address, root)
    stack.close()
    shared.metadata.close()


def activity_attempts(history: Any, activity_type: str) -> list[int]:
    """The attempt number of each recorded start of ``activity_type``."""
    names = {}
    attempts = []
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            names[event.event_id] = attrs.activity_type.name
        if event.HasField("activity_task_started_event_attributes"):
            attrs = event.activity_task_started_event_attributes
            if names.get(attrs.scheduled_event_id) == activity_type:
                attempts.append(attrs.attempt)
    return attempts


def count_rows(database: Path, table: str, doc_id: str) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            f"SELECT count(*) FROM {table} WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
    return int(count)


def fetch_history(stack: ReviewStack, workflow_id: str) -> Any:
    return stack.run(stack.client.get_workflow_handle(workflow_id).fetch_history())


def wait_for_count(path: Path, text: str, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not appear {count} times in {path}")


def test_storage_worker_killed_mid_index_leaves_one_row_vector_and_node(
    split: SplitStack,
) -> None:
    """SIGKILL after the vector write: the retry on a new worker duplicates nothing."""
    stack = split.stack
    graph_before = split.graph_count()
    first = split.storage_worker("killed", "index_to_weaviate=300")
    second = split.storage_worker("restarted")
    try:
        first.start()
        domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})
        options = ReviewOptions(task_queue_suffix=stack.suffix, storage_timeout_s=5.0)
        submitted = stack.submit(
            domain, b"Bank profits rose; shares gained.", options=options
        )
        first.wait_for_log("test_pause_after_write")
        first.signal(signal.SIGKILL)
        killed_code = first.wait()
        second.start()
        result = stack.result(domain, submitted.doc_id, timeout_s=120)
        history = fetch_history(stack, submitted.workflow_id)
    finally:
        first.stop()
        second.stop()

    assert killed_code == -signal.SIGKILL
    assert result.outcome == "approved"
    assert activity_attempts(history, "index_to_weaviate") == [2]
    assert activity_attempts(history, "store_document_metadata") == [1]
    database = split.home.resolve() / "heysh.db"
    assert count_rows(database, "documents", submitted.doc_id) == 1
    assert count_rows(database, "decisions", submitted.doc_id) == 1
    vectors = open_vector_index(split.urls.vectors)
    try:
        assert vectors.count(domain) == 1
    finally:
        vectors.close()
    assert split.graph_count() == graph_before + 1


def test_sigterm_lets_in_flight_activities_finish_and_exits_zero(
    split: SplitStack,
) -> None:
    """Activities running at SIGTERM complete on their first attempt; exit code 0."""
    stack = split.stack
    pause_s = 6.0
    worker = split.storage_worker(
        "terminated", f"index_to_weaviate={pause_s},update_neo4j_graph={pause_s}"
    )
    try:
        worker.start()
        domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})
        submitted = stack.submit(domain, b"Exporters gained as the currency fell.")
        wait_for_count(worker.log_path, "test_pause_after_write", 2)
        paused_at = time.monotonic()
        worker.signal(signal.SIGTERM)
        # The signal is handled asynchronously: give the worker a moment (well
        # inside the pause) to start draining before asking /ready.
        ready_while_stopping = worker.ready()
        deadline = time.monotonic() + pause_s / 2
        while ready_while_stopping[0] == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            ready_while_stopping = worker.ready()
        exit_code = worker.wait(timeout_s=60)
        exited_after_s = time.monotonic() - paused_at
        # Nothing is left for a storage worker: notification runs in this process.
        result = stack.result(domain, submitted.doc_id, timeout_s=60)
        history = fetch_history(stack, submitted.workflow_id)
    finally:
        worker.stop()

    log = worker.log_path.read_text()
    assert exit_code == 0
    assert ready_while_stopping[0] in (0, 503)
    assert exited_after_s >= pause_s - 1.5
    assert "workers_stopping" in log
    assert "workers_stopped" in log
    assert result.outcome == "approved"
    assert activity_attempts(history, "index_to_weaviate") == [1]
    assert activity_attempts(history, "update_neo4j_graph") == [1]
