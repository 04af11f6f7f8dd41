"""Fixtures for relevance-model tests: the real encoder, small real data, fakes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from heysh.models.base import ScoringPairs
from heysh.models.calibration import CalibratedScorer
from heysh.models.embeddings import SentenceEncoder

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"


@dataclass(frozen=True)
class LabelledPairs:
    """Pairs of a labelled slice and their 0/1 labels."""

    pairs: ScoringPairs
    labels: np.ndarray


def read_label_collection(name: str, n_docs: int, *, seed: int = 0) -> LabelledPairs:
    """Pair ``n_docs`` random documents of a label collection with every domain."""
    folder = DATASETS / name
    if not (folder / "documents.jsonl").exists():
        pytest.skip(f"the shared dataset {name} is not at {folder}")
    with (folder / "documents.jsonl").open(encoding="utf-8") as handle:
        documents = [json.loads(line) for line in handle]
    with (folder / "domains.jsonl").open(encoding="utf-8") as handle:
        domains = [json.loads(line) for line in handle]
    chosen = np.random.default_rng(seed).permutation(len(documents))[:n_docs]
    ids, descriptions, texts, labels = [], [], [], []
    for index in chosen:
        document = documents[index]
        text = f"{document['title'] or ''}\n{document['text']}".strip()
        for domain in domains:
            ids.append(domain["domain_id"])
            descriptions.append(domain["description"])
            texts.append(text)
            labels.append(
                int(bool(set(document["labels"]) & set(domain["relevant_labels"])))
            )
    return LabelledPairs(ScoringPairs(ids, descriptions, texts), np.array(labels))


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    """The real MiniLM encoder on CPU, shared by every model test (no disk cache)."""
    return SentenceEncoder(device="cpu")


@pytest.fixture(scope="session")
def ag_news_fit() -> LabelledPairs:
    """150 AG News documents against its 4 domains: a small, real fit split."""
    return read_label_collection("ag-news", 150, seed=0)


@pytest.fixture(scope="session")
def fitted_classifier(
    encoder: SentenceEncoder, ag_news_fit: LabelledPairs
) -> CalibratedScorer:
    """The embedding classifier, calibrated on the AG News fit slice."""
    from heysh.models.factory import build_scorer

    scorer = build_scorer("embedding-classifier", encoder=encoder)
    return scorer.fit(ag_news_fit.pairs, ag_news_fit.labels)


class KeywordEncoder:
    """A cheap stand-in for MiniLM with known geometry, for unit tests of scorers.

    Each topic word adds its own axis; other words add small hashed noise. The
    texts it embeds are recorded so tests can check what was asked for.
    """

    TOPICS = ("oil", "football", "bank", "film", "space", "health")

    def __init__(self, dim: int = 16) -> None:
        self.dim = dim
        self.model_id = "test:keyword-encoder"
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                if word in self.TOPICS:
                    out[row, self.TOPICS.index(word)] += 1.0
                else:
                    seed = int.from_bytes(
                        hashlib.sha256(word.encode()).digest()[:4], "little"
                    )
                    out[row] += 0.05 * np.random.default_rng(seed).standard_normal(
                        self.dim
                    )
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


@pytest.fixture
def keyword_encoder() -> KeywordEncoder:
    """A fresh :class:`KeywordEncoder`."""
    return KeywordEncoder()
