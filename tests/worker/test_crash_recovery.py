"""A storage worker killed mid-activity and restarted writes nothing twice."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from heysh.config import Settings
from heysh.stores.factory import (
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
    "relevance_threshold": 0.0, "auto_approve_threshold": 0.0,
    "auto_reject_threshold": None, "use_ai_controller": True,
}


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
            f"SELECT count(*) FROM {table} WHERE doc_id = ?", (doc_id,)  # noqa: S608 - fixed table names
        ).fetchone()
    return int(count)


def test_storage_worker_killed_mid_index_leaves_one_row_vector_and_node(
    temporal_server: TemporalDevServer, tmp_path: Path, fast_model: Any, encoder: Any
) -> None:
    """SIGKILL after the vector write: the retry on a new worker duplicates nothing."""
    home = tmp_path / "home"
    urls = store_urls(Settings(home=home))
    # Only SQLite and the blob folder in this process: the storage worker child
    # holds the embedded graph's lock.
    shared = SimpleNamespace(metadata=open_metadata_store(urls.metadata),
                             blobs=open_blob_store(urls.blobs))
    stack = ReviewStack(temporal_server.address, home, model=fast_model,
                        encoder=encoder, worker_types="ai-processing,general",
                        stores=shared)
    first = WorkerProcess(
        home, temporal_server.address, stack.suffix, "storage",
        tmp_path / "storage-1.log",
        {"HEYSH_TEST_PAUSE_AFTER_WRITE": "index_to_weaviate=300"},
    )
    second = WorkerProcess(home, temporal_server.address, stack.suffix, "storage",
                           tmp_path / "storage-2.log")
    try:
        first.start()
        domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})
        options = ReviewOptions(task_queue_suffix=stack.suffix, storage_timeout_s=5.0)
        submitted = stack.submit(domain, b"Bank profits rose; shares gained.",
                                 options=options)
        first.wait_for_log("test_pause_after_write")
        first.signal(signal.SIGKILL)
        killed_code = first.wait()
        second.start()
        result = stack.result(domain, submitted.doc_id,
                              timeout_s=120)
        history = stack.run(stack.client.get_workflow_handle(
            submitted.workflow_id).fetch_history())
    finally:
        first.stop()
        second.stop()
        stack.close()
        shared.metadata.close()

    assert killed_code == -signal.SIGKILL
    assert result.outcome == "approved"
    assert activity_attempts(history, "index_to_weaviate") == [2]
    assert activity_attempts(history, "store_document_metadata") == [1]
    database = home.resolve() / "heysh.db"
    assert count_rows(database, "documents", submitted.doc_id) == 1
    assert count_rows(database, "decisions", submitted.doc_id) == 1
    vectors = open_vector_index(urls.vectors)
    graph = open_knowledge_graph(urls.graph)
    try:
        assert vectors.count(domain) == 1
        assert vectors.get(domain, submitted.doc_id) is not None
        assert graph.count_documents() == 1
        assert graph.get_document(submitted.doc_id).domain_id == domain
    finally:
        vectors.close()
        graph.close()
