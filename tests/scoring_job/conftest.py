"""Fixtures of the scoring-job tests: ag-news rows, a counting model, workers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from heysh.activities.ai import LoadedModel
from heysh.models.base import ScoringPairs
from tests.review_stack import DATASETS, ReviewStack, read_jsonl, shared_encoder
from tests.temporal_server import TemporalDevServer

COLLECTION = DATASETS / "ag-news"


@pytest.fixture(scope="session")
def ag_news_domains() -> dict[str, str]:
    """Domain id -> description of the ag-news collection."""
    return {
        d["domain_id"]: d["description"]
        for d in read_jsonl(COLLECTION / "domains.jsonl")
    }


@pytest.fixture(scope="session")
def ag_news_rows(ag_news_domains: dict[str, str]) -> list[dict[str, Any]]:
    """The first 95 non-empty ag-news documents, the i-th paired with domain i mod 4."""
    domains = sorted(ag_news_domains)
    rows: list[dict[str, Any]] = []
    with open(COLLECTION / "documents.jsonl", encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            if doc["text"].strip():
                domain = domains[len(rows) % len(domains)]
                rows.append({"id": doc["id"], "domain": domain, "text": doc["text"]})
            if len(rows) == 95:
                break
    return rows


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """Write ``rows`` as JSON Lines; return ``path``."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class CountingModels:
    """A model provider whose model is word overlap and counts the rows it scored.

    The score is 10 times the share of the text's distinct words that appear in
    the description: cheap, deterministic and different per pair.
    """

    is_loaded = True

    def __init__(self, name: str = "overlap-test", version: str = "7") -> None:
        self.rows_scored = 0
        self.fail_with_nan = False
        # When set: a call that would score past ``hold_after_rows`` rows waits
        # for ``release`` (lets a test look at a job in the middle).
        self.hold_after_rows: int | None = None
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.model = LoadedModel(name, version, self._score)

    def current(self) -> LoadedModel:
        return self.model

    def load(self) -> LoadedModel:
        return self.model

    def for_override(self, model_uri: str) -> LoadedModel:
        raise AssertionError(f"scoring jobs never ask for an override ({model_uri})")

    def _score(self, pairs: ScoringPairs) -> np.ndarray:
        hold = self.hold_after_rows
        if hold is not None and self.rows_scored + len(pairs) > hold:
            self.release.wait(timeout=60)
        with self._lock:
            self.rows_scored += len(pairs)
        if self.fail_with_nan:
            return np.full(len(pairs), np.nan)
        pairs_of = zip(pairs.descriptions, pairs.texts, strict=True)
        return np.array([overlap_score(d, t) for d, t in pairs_of])


def overlap_score(description: str, text: str) -> float:
    """10 x the share of the text's distinct words found in the description."""
    words = set(text.lower().split())
    known = set(description.lower().split())
    return 10.0 * len(words & known) / len(words) if words else 0.0


@pytest.fixture
def models() -> CountingModels:
    """A fresh counting model provider."""
    return CountingModels()


@pytest.fixture(scope="module")
def shared_models() -> CountingModels:
    """The model provider the module's AI worker serves."""
    return CountingModels()


@pytest.fixture(scope="module")
def stack(
    temporal_server: TemporalDevServer,
    tmp_path_factory: pytest.TempPathFactory,
    shared_models: CountingModels,
) -> Iterator[ReviewStack]:
    """AI and general workers in this process on their own task queues."""
    review_stack = ReviewStack(
        temporal_server.address,
        tmp_path_factory.mktemp("heysh"),
        model=shared_models.model,
        encoder=shared_encoder(),
        worker_types="ai-processing,general",
        model_source=shared_models,
    )
    yield review_stack
    review_stack.close()
