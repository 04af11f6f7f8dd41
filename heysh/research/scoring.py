"""Fit each candidate model on the fit split and score every split's pairs."""

from __future__ import annotations

import logging
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
    """

    name: str
    fit: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    fit_seconds: float
    score_seconds: float
    pairs_per_second: float


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
        else scorer.score(fit_pairs)
    )  # type: ignore[attr-defined]
    calibration = scorer.score(pairs_of(corpus, splits.calibration))  # type: ignore[attr-defined]

    started = time.perf_counter()
    test = scorer.score(pairs_of(corpus, splits.test))  # type: ignore[attr-defined]
    score_seconds = time.perf_counter() - started
    rate = len(splits.test) / score_seconds if score_seconds > 0 else float("inf")
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
    )
