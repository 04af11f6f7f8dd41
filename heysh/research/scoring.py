"""Fit each candidate model on the fit split and score every split's pairs."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from heysh.data.corpus import LabelledCorpus
from heysh.models.base import ScoringPairs

_logger = logging.getLogger(__name__)

SPLITS = ("fit", "calibration", "test")


@dataclass(frozen=True)
class SplitIndex:
    """Pair indices of each split; a document's pairs share its split."""

    fit: np.ndarray
    calibration: np.ndarray
    test: np.ndarray

    @classmethod
    def from_document_splits(
        cls, corpus: LabelledCorpus, doc_split: np.ndarray
    ) -> SplitIndex:
        pair_split = doc_split[corpus.pair_doc]
        return cls(*(np.flatnonzero(pair_split == name) for name in SPLITS))

    def of(self, split: str) -> np.ndarray:
        return {"fit": self.fit, "calibration": self.calibration, "test": self.test}[
            split
        ]


@dataclass
class ModelScores:
    """One model's calibrated 0-10 scores on every split, and its costs.

    Attributes:
        fit: Scores of the fit split's pairs (out-of-fold for supervised
            models when the calibrated scorer kept them, else in-sample).
        calibration: Scores of the calibration split's pairs.
        test: Scores of the test split's pairs.
        fit_seconds: Wall time of fitting (including calibration).
        score_seconds: Wall time of scoring the test split.
        pairs_per_second: Test pairs scored per second (one pair is one
            document judged for one domain).
        latency_ms_per_document: Wall milliseconds per test pair while
            scoring the test split (the inverse of ``pairs_per_second``).
        cost_per_1000_usd: List-price cost of scoring 1,000 pairs, from the
            tokens an LLM judge recorded on the test split (``0`` for local
            models, ``nan`` for a judge whose model has no known price).
        tokens_per_document: Mean prompt plus output tokens per test pair
            (``0`` for local models).
        attack_success_rate: Share of prompt-injection cases that raised the
            score (``nan`` until measured).
        attack_cases: Number of cases the rate was measured on.
    """

    name: str
    fit: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    fit_seconds: float
    score_seconds: float
    pairs_per_second: float
    latency_ms_per_document: float = math.nan
    cost_per_1000_usd: float = 0.0
    tokens_per_document: float = 0.0
    attack_success_rate: float = math.nan
    attack_cases: int = 0


def pairs_of(corpus: LabelledCorpus, pair_indices: np.ndarray) -> ScoringPairs:
    """Build the ScoringPairs a scorer reads for the given corpus pairs."""
    descriptions = np.array([d.description for d in corpus.domains], dtype=object)
    domain_ids = np.array([d.domain_id for d in corpus.domains], dtype=object)
    domains = corpus.pair_domain[pair_indices]
    return ScoringPairs(
        domain_ids=domain_ids[domains].tolist(),
        descriptions=descriptions[domains].tolist(),
        texts=corpus.texts[corpus.pair_doc[pair_indices]].tolist(),
    )


def fit_and_score(
    scorer: object, corpus: LabelledCorpus, splits: SplitIndex
) -> ModelScores:
    """Fit ``scorer`` (a CalibratedScorer) on the fit split and score all splits.

    Args:
        scorer: An unfitted ``heysh.models.calibration.CalibratedScorer``.
        corpus: The labelled collection.
        splits: Pair indices per split.

    Returns:
        Calibrated scores per split, with timings.
    """
    name = scorer.name  # type: ignore[attr-defined]  # CalibratedScorer duck type
    fit_pairs = pairs_of(corpus, splits.fit)
    started = time.perf_counter()
    scorer.fit(fit_pairs, corpus.pair_label[splits.fit])  # type: ignore[attr-defined]
    fit_seconds = time.perf_counter() - started

    out_of_fold = getattr(scorer, "fit_scores_", None)
    fit_scores = (
        np.asarray(out_of_fold, dtype=np.float64)
        if out_of_fold is not None
        else scorer.score(fit_pairs)  # type: ignore[attr-defined]
    )
    calibration = scorer.score(pairs_of(corpus, splits.calibration))  # type: ignore[attr-defined]

    started = time.perf_counter()
    test = scorer.score(pairs_of(corpus, splits.test))  # type: ignore[attr-defined]
    score_seconds = time.perf_counter() - started
    rate = len(splits.test) / score_seconds if score_seconds > 0 else float("inf")
    cost, tokens = _llm_usage(scorer)
    _logger.info(
        "model_scored",
        extra={
            "model": name,
            "fit_s": round(fit_seconds, 2),
            "test_pairs": len(splits.test),
            "pairs_per_s": round(rate, 1),
        },
    )
    return ModelScores(
        name=name,
        fit=np.asarray(fit_scores, dtype=np.float64),
        calibration=np.asarray(calibration, dtype=np.float64),
        test=np.asarray(test, dtype=np.float64),
        fit_seconds=fit_seconds,
        score_seconds=score_seconds,
        pairs_per_second=rate,
        latency_ms_per_document=1000 * score_seconds / max(len(splits.test), 1),
        cost_per_1000_usd=cost,
        tokens_per_document=tokens,
    )


def _llm_usage(scorer: object) -> tuple[float, float]:
    """Cost per 1,000 pairs and tokens per pair of the latest LLM batch.

    Read right after the test split is scored, so the batch is the test
    split's. Local models record no batch: they cost nothing per call.
    """
    inner = getattr(scorer, "scorer", scorer)
    batch = getattr(inner, "last_batch", None)
    if batch is None or not batch.verdicts:
        return 0.0, 0.0
    tokens = float((batch.tokens_in + batch.tokens_out).mean())
    return float(batch.cost_per_1000_usd()), tokens
