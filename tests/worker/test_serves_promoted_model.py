"""The production AI worker serves a promoted cross-encoder through the alias.

A tiny cross-encoder is fine-tuned on CPU on a real AG News slice, logged and
registered, and promoted by the promotion gate (moving ``production``); then
``python -m heysh.worker`` (the AI worker alone) is started against a real
Temporal dev server, and ``assess_document_relevance`` must come back scored
by that version, with the score the in-memory scorer gives the same pair.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from heysh.activities import contracts as c
from heysh.config import Settings
from heysh.constants import AI_PROCESSING_QUEUE, REGISTERED_MODEL_NAME
from heysh.models.base import ScoringPairs
from heysh.models.calibration import CalibratedScorer
from heysh.models.factory import build_scorer
from heysh.models.pyfunc import log_scorer_model
from heysh.stores.factory import open_blob_store, store_urls
from heysh.tracking.promotion import promote_challenger
from heysh.tracking.registry import get_version_by_alias, register_model
from heysh.tracking.setup import configure_tracking, ensure_experiment
from tests.models.conftest import read_label_collection
from tests.temporal_server import TemporalDevServer
from tests.worker.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

# Small enough for a shared 2-core CPU: three fits of a few steps each.
TINY_CROSS_ENCODER = {
    "cv_folds": 2,
    "epochs": 1,
    "batch_size": 8,
    "max_pairs": 16,
    "max_length": 64,
    "max_words": 48,
    "overlap_words": 8,
    "max_windows": 1,
    "device": "cpu",
}
DESCRIPTION = "Sports news: matches, results, players, teams and tournaments."
TEXT = "The home side won the cup final after a late goal by their captain."


@workflow.defn(sandboxed=False)
class AssessWorkflow:
    """Calls assess_document_relevance on the AI queue (tests only)."""

    @workflow.run
    async def run(
        self, queue: str, request: c.AssessRelevanceInput
    ) -> c.AssessRelevanceResult:
        return await workflow.execute_activity(
            c.ASSESS_DOCUMENT_RELEVANCE,
            request,
            task_queue=queue,
            result_type=c.AssessRelevanceResult,
            start_to_close_timeout=timedelta(seconds=120),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )


@pytest.fixture(scope="module")
def promoted(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, CalibratedScorer, str, str]]:
    """A heysh home whose registry's production alias is a tiny cross-encoder."""
    home = tmp_path_factory.mktemp("serve") / "home"
    # The store under this home only, whatever MLFLOW_TRACKING_URI another
    # test left in the environment (mlflow.set_tracking_uri exports it).
    settings = Settings(home=home, mlflow_tracking_uri=None)
    data = read_label_collection("ag-news", 10, seed=3)
    scorer = build_scorer("cross-encoder", **TINY_CROSS_ENCODER)
    scorer.fit(data.pairs, data.labels)

    configure_tracking(settings.tracking_uri, settings.artifact_root)
    experiment = ensure_experiment("serve-test", settings.artifact_root)
    try:
        with mlflow.start_run(experiment_id=experiment):
            info = log_scorer_model(scorer)
        registered = register_model(
            info.model_uri,
            REGISTERED_MODEL_NAME,
            alias="challenger",
            tags={"model_kind": "cross-encoder"},
        )
        report = promote_challenger(
            REGISTERED_MODEL_NAME, artifact_root=settings.artifact_root
        )
        production = get_version_by_alias(REGISTERED_MODEL_NAME, "production")
    finally:
        mlflow.set_tracking_uri("")
    assert report.promoted, report.reason
    assert production is not None and production.version == registered.version
    yield home, scorer, registered.version, settings.tracking_uri


async def _assess(address: str, queue: str, request: c.AssessRelevanceInput) -> Any:
    client = await Client.connect(address)
    own_queue = f"serve-test-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=own_queue, workflows=[AssessWorkflow]):
        return await client.execute_workflow(
            AssessWorkflow.run,
            args=[queue, request],
            id=f"serve-{uuid.uuid4().hex[:8]}",
            task_queue=own_queue,
        )


def test_ai_worker_serves_the_promoted_cross_encoder(
    promoted: tuple[Path, CalibratedScorer, str, str],
    temporal_server: TemporalDevServer,
    tmp_path: Path,
) -> None:
    """The AI worker scores with production's cross-encoder, as the scorer does."""
    home, scorer, version, tracking_uri = promoted
    suffix = f"-{uuid.uuid4().hex[:6]}"
    blobs = open_blob_store(store_urls(Settings(home=home)).blobs)
    key = c.text_blob_key("served-1")
    blobs.put(key, TEXT.encode("utf-8"))
    worker = WorkerProcess(
        home,
        temporal_server.address,
        suffix,
        "ai-processing",
        tmp_path / "ai-worker.log",
        {"MLFLOW_TRACKING_URI": tracking_uri},
    )
    request = c.AssessRelevanceInput(
        doc_id="served-1",
        domain_id="ag-news:sports",
        domain_description=DESCRIPTION,
        text_key=key,
    )
    worker.start(ready_timeout_s=300)
    try:
        result = asyncio.run(
            _assess(temporal_server.address, AI_PROCESSING_QUEUE + suffix, request)
        )
    finally:
        worker.stop()

    expected = scorer.score(ScoringPairs(["ag-news:sports"], [DESCRIPTION], [TEXT]))
    assert result.model_name == REGISTERED_MODEL_NAME
    assert result.model_version == version
    assert f"version {version}" in result.rationale
    assert result.score == pytest.approx(float(expected[0]), abs=1e-6)
    assert np.isfinite(result.score)
