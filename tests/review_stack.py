"""Test harness: real embedded stores, in-process workers and a real Temporal server.

A :class:`ReviewStack` runs on its own event loop in a background thread, so
synchronous tests can share one stack per module: they call ``stack.run(coro)``
or the helpers below, which block until the coroutine is done. Every stack
gets its own task-queue suffix, so stacks never pick up each other's work.
"""

from __future__ import annotations

import asyncio
import faulthandler
import functools
import json
import threading
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from heysh import client as heysh_client
from heysh.activities.ai import LoadedModel
from heysh.config import Settings
from heysh.notifications import Notification
from heysh.stores.factory import Stores, open_stores
from heysh.worker.model_source import ModelSource
from heysh.worker.runner import WorkerStack
from heysh.workflows.review import ReviewOptions, ReviewResult, ReviewStatus

T = TypeVar("T")

DATASETS = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"


class LoopThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 120.0) -> T:
        """Run ``coro`` on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class RecordingSender:
    """A notification sender that keeps every notification it was given."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self._lock = threading.Lock()

    def __call__(self, domain: dict[str, Any], notification: Notification) -> str:
        with self._lock:
            self.sent.append(notification)
        return "recording"

    def for_doc(self, doc_id: str) -> list[Notification]:
        with self._lock:
            return [n for n in self.sent if n.doc_id == doc_id]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every record of a JSON Lines file."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@functools.cache
def shared_encoder() -> Any:
    """The bundled MiniLM encoder, loaded once per test session."""
    from heysh.models.embeddings import SentenceEncoder

    encoder = SentenceEncoder()
    encoder.encode(["warm up"])
    return encoder


@functools.cache
def fast_test_model() -> LoadedModel:
    """The lexical CalibratedScorer, fitted on 100 bbc-news documents (seconds)."""
    from heysh.models.base import ScoringPairs
    from heysh.models.factory import build_scorer

    domains = read_jsonl(DATASETS / "bbc-news" / "domains.jsonl")
    docs = read_jsonl(DATASETS / "bbc-news" / "documents.jsonl")[::22][:100]
    ids, descriptions, texts, labels = [], [], [], []
    for domain in domains:
        for doc in docs:
            ids.append(domain["domain_id"])
            descriptions.append(domain["description"])
            texts.append(doc["text"])
            labels.append(
                int(bool(set(domain["relevant_labels"]) & set(doc["labels"])))
            )
    scorer = build_scorer("lexical")
    scorer.fit(ScoringPairs(ids, descriptions, texts), np.array(labels))
    return LoadedModel("lexical-test", "1", scorer.score)


class ReviewStack:
    """Stores, workers of all three types and a client, for workflow tests.

    Args:
        server_address: The Temporal dev server.
        home: heysh home for the embedded stores.
        model: The model the AI worker serves.
        encoder: The encoder for document embeddings.
        worker_types: Which workers run in this process.
    """

    def __init__(
        self,
        server_address: str,
        home: Path,
        *,
        model: LoadedModel,
        encoder: Any,
        worker_types: str = "ai-processing,storage,general",
        stores: Any = None,
        model_source: Any = None,
        **setting_overrides: Any,
    ) -> None:
        """Open the stores (unless given) and start the workers."""
        self.suffix = f"-test-{uuid.uuid4().hex[:8]}"
        self.settings = Settings(
            home=home,
            temporal_address=server_address,
            task_queue_suffix=self.suffix,
            worker_types=worker_types,
            health_host="127.0.0.1",
            health_port=0,
            worker_shutdown_grace_s=10.0,
            model_batch_wait_ms=2.0,
            **setting_overrides,
        )
        self.options = ReviewOptions(task_queue_suffix=self.suffix)
        self.loop = LoopThread()
        self.sender = RecordingSender()
        self._owns_stores = stores is None
        self.stores: Stores = (
            stores if stores is not None else open_stores(self.settings)
        )
        self.model = model
        self.workers = WorkerStack(
            self.settings,
            stores=self.stores,
            encoder=encoder,
            model_source=model_source or ModelSource.fixed(model, encoder=encoder),
            send=self.sender,
        )
        self.loop.run(self.workers.start())
        self.client = self.workers.client

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 120.0) -> T:
        return self.loop.run(coro, timeout_s)

    def close(self) -> None:
        self.loop.run(self.workers.shutdown(), timeout_s=60)
        if self._owns_stores:
            self.stores.close()
        self.loop.close()

    # --- domains ------------------------------------------------------------------

    def add_domain(
        self,
        config: dict[str, Any],
        members: dict[str, str],
        *,
        description: str = "Business and economy news: company results, markets, "
        "mergers and takeovers, trade and economic indicators.",
        prefix: str = "news",
    ) -> str:
        """Create a uniquely named domain with ``config`` and ``members``."""
        domain_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.stores.metadata.upsert_domain(
            domain_id, prefix.title(), description, json.dumps(config)
        )
        for user, role in members.items():
            self.stores.metadata.set_membership(domain_id, user, role)
        return domain_id

    # --- reviews ------------------------------------------------------------------

    def submit(
        self,
        domain_id: str,
        body: bytes,
        *,
        filename: str = "doc.txt",
        uploader: str = "uma",
        options: ReviewOptions | None = None,
    ) -> heysh_client.SubmitResult:
        return self.run(
            heysh_client.submit_document(
                self.client,
                self.stores,
                domain_id,
                body,
                filename,
                uploader,
                options=options or self.options,
            )
        )

    def result(
        self, domain_id: str, doc_id: str, timeout_s: float = 60.0
    ) -> ReviewResult:
        return self.run(
            heysh_client.wait_for_result(self.client, domain_id, doc_id), timeout_s
        )

    def status(self, domain_id: str, doc_id: str) -> ReviewStatus:
        return self.run(heysh_client.get_status(self.client, domain_id, doc_id))

    def wait_for_stage(
        self,
        domain_id: str,
        doc_id: str,
        stage: str,
        timeout_s: float = 60.0,
        **expected: Any,
    ) -> ReviewStatus:
        """Poll the status query until ``stage`` (and ``expected`` fields) hold."""
        deadline = time.monotonic() + timeout_s
        status = self.status(domain_id, doc_id)
        while time.monotonic() < deadline:
            if status.stage == stage and all(
                getattr(status, k) == v for k, v in expected.items()
            ):
                return status
            time.sleep(0.1)
            status = self.status(domain_id, doc_id)
        dump = self.settings.home / "stall-threads.txt"
        with open(dump, "w") as out:
            faulthandler.dump_traceback(out, all_threads=True)
        raise AssertionError(
            f"review never reached {stage} {expected}: {status}; threads in {dump}"
        )

    def decide(
        self, domain_id: str, doc_id: str, actor: str, approve: bool, comment: str = ""
    ) -> Any:
        return self.run(
            heysh_client.decide(self.client, domain_id, doc_id, actor, approve, comment)
        )

    def vote(self, domain_id: str, doc_id: str, actor: str, approve: bool) -> Any:
        return self.run(
            heysh_client.vote(self.client, domain_id, doc_id, actor, approve)
        )

    def history_json(self, domain_id: str, doc_id: str) -> str:
        from heysh.workflows.review import review_workflow_id

        handle = self.client.get_workflow_handle(review_workflow_id(domain_id, doc_id))
        history = self.run(handle.fetch_history())
        return history.to_json()
