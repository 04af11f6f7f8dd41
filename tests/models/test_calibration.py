"""Tests of isotonic calibration and of cross-fitted calibrated scorers."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from heysh.errors import ModelError
from heysh.models.base import ScoringPairs
from heysh.models.calibration import CalibratedScorer, IsotonicCalibrator


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores and labels drawn from a known model: P(relevant) = sigmoid(2s)."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(0.0, 1.5, n)
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-2.0 * raw))).astype(int)
    return raw, labels


class RecordingScorer:
    """Scores a text by a fixed table and records what each fit and score saw."""

    name = "recording"

    def __init__(self, is_supervised: bool) -> None:
        self.is_supervised = is_supervised
        self.fits: list[set[str]] = []
        self.scored: list[tuple[set[str], list[str]]] = []

    def fit(self, pairs: ScoringPairs, labels: np.ndarray) -> None:
        self.fits.append(set(pairs.texts))

    def raw_scores(self, pairs: ScoringPairs) -> np.ndarray:
        self.scored.append((self.fits[-1], list(pairs.texts)))
        return np.array([float(t.split()[-1]) for t in pairs.texts])


class MemorisingScorer:
    """Perfect on its training texts, uninformative (0.5) on any other text."""

    name = "memorising"
    is_supervised = True

    def __init__(self) -> None:
        self.memory: dict[tuple[str, str], float] = {}

    def fit(self, pairs: ScoringPairs, labels: np.ndarray) -> None:
        self.memory = {
            (d, t): float(y)
            for d, t, y in zip(pairs.domain_ids, pairs.texts, labels, strict=True)
        }

    def raw_scores(self, pairs: ScoringPairs) -> np.ndarray:
        return np.array(
            [
                self.memory.get((d, t), 0.5)
                for d, t in zip(pairs.domain_ids, pairs.texts, strict=True)
            ]
        )


def _pairs(
    n_docs: int, n_domains: int = 3, seed: int = 0
) -> tuple[ScoringPairs, np.ndarray]:
    """Every document against every domain; a document's text ends in its raw score."""
    rng = np.random.default_rng(seed)
    ids, descriptions, texts = [], [], []
    for doc in range(n_docs):
        for domain in range(n_domains):
            ids.append(f"d{domain}")
            descriptions.append(f"domain {domain}")
            texts.append(f"document {doc} {doc / n_docs:.6f}")
    labels = (rng.random(len(ids)) < 0.3).astype(int)
    return ScoringPairs(ids, descriptions, texts), labels


@pytest.mark.parametrize("seed", range(40))
def test_calibrator_random_input_is_monotone_within_0_10(seed: int) -> None:
    """For random scores and labels the map never decreases and stays in [0, 10]."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=200) * rng.uniform(0.1, 10)
    labels = (rng.random(200) < rng.uniform(0.05, 0.95)).astype(int)
    grid = np.linspace(raw.min() - 5, raw.max() + 5, 2001)

    calibrated = IsotonicCalibrator().fit(raw, labels).predict(grid)

    assert np.all(np.diff(calibrated) >= 0)
    assert calibrated.min() >= 0.0
    assert calibrated.max() <= 10.0


def test_calibrator_score_means_share_relevant_on_known_model() -> None:
    """Of test items scored about 2, 5 or 8, about 20%, 50%, 80% are relevant.

    Tolerance 0.04: with 200,000 test items each one-point bin holds over 7,000,
    so sampling error is below 0.01 and the rest allows for isotonic fit error.
    """
    fit_raw, fit_labels = _synthetic(50_000, seed=1)
    test_raw, test_labels = _synthetic(200_000, seed=2)
    calibrator = IsotonicCalibrator().fit(fit_raw, fit_labels)

    scores = calibrator.predict(test_raw)

    for centre in (2.0, 5.0, 8.0):
        in_bin = np.abs(scores - centre) <= 0.5
        assert in_bin.sum() > 5000
        assert test_labels[in_bin].mean() == pytest.approx(centre / 10, abs=0.04)


def test_calibrator_single_class_maps_to_constant_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """All-negative labels give a constant 0 map and a WARNING saying so."""
    with caplog.at_level(logging.WARNING, logger="heysh.models.calibration"):
        calibrator = IsotonicCalibrator().fit(np.arange(10.0), np.zeros(10))

    np.testing.assert_array_equal(
        calibrator.predict(np.array([-5.0, 3.0, 50.0])), [0, 0, 0]
    )
    assert [r.getMessage() for r in caplog.records] == ["calibration_single_class"]


def test_calibrator_constant_scores_map_to_base_rate() -> None:
    """Identical raw scores map every score to 10 times the share relevant."""
    calibrator = IsotonicCalibrator().fit(
        np.full(8, 0.3), np.array([1, 0, 0, 0, 1, 0, 0, 0])
    )

    np.testing.assert_allclose(
        calibrator.predict(np.array([-1.0, 0.3, 9.0])), [2.5] * 3
    )


def test_calibrator_state_round_trip_predicts_the_same() -> None:
    """from_state(to_state()) gives identical predictions."""
    raw, labels = _synthetic(2000, seed=3)
    calibrator = IsotonicCalibrator().fit(raw, labels)
    grid = np.linspace(-6, 6, 101)

    restored = IsotonicCalibrator.from_state(calibrator.to_state())

    np.testing.assert_array_equal(restored.predict(grid), calibrator.predict(grid))


def test_calibrator_from_state_rejects_decreasing_knots() -> None:
    """A state whose knots decrease is refused."""
    state = {"knots_x": np.array([0.0, 1.0]), "knots_y": np.array([5.0, 2.0])}

    with pytest.raises(ModelError, match="non-decreasing"):
        IsotonicCalibrator.from_state(state)


@pytest.mark.parametrize(
    ("raw", "labels", "message"),
    [
        (np.array([0.1, 0.2]), np.array([1]), r"expected 2 labels"),
        (np.array([0.1, np.nan]), np.array([1, 0]), r"1 non-finite values"),
        (np.array([0.1, 0.2]), np.array([1, 2]), r"labels must be 0 or 1, found 2"),
        (np.array([]), np.array([]), r"cannot calibrate on no scores"),
    ],
)
def test_calibrator_bad_input_raises_model_error(
    raw: np.ndarray, labels: np.ndarray, message: str
) -> None:
    """Mismatched, non-finite, non-binary or empty input is refused clearly."""
    with pytest.raises(ModelError, match=message):
        IsotonicCalibrator().fit(raw, labels)


def test_calibrator_predict_before_fit_raises() -> None:
    """Predicting with an unfitted calibrator is an error, not zeros."""
    with pytest.raises(ModelError, match="not fitted"):
        IsotonicCalibrator().predict(np.array([1.0]))


def test_calibrated_scorer_supervised_scores_every_pair_out_of_fold() -> None:
    """Each fit-split pair is scored by a fit that never saw its document."""
    pairs, labels = _pairs(40)
    scorer = RecordingScorer(is_supervised=True)

    CalibratedScorer(scorer, cv_folds=4).fit(pairs, labels)

    fold_scores = scorer.scored[:4]
    scored_texts = [t for _, texts in fold_scores for t in texts]
    assert len(scorer.fits) == 5
    assert sorted(scored_texts) == sorted(pairs.texts)
    for trained_on, texts in fold_scores:
        assert trained_on.isdisjoint(texts)
    assert scorer.fits[-1] == set(pairs.texts)


def test_calibrated_scorer_zero_shot_fits_once_on_raw_scores() -> None:
    """A zero-shot scorer is fitted once and calibrated on its own raw scores."""
    pairs, labels = _pairs(20)
    scorer = RecordingScorer(is_supervised=False)

    calibrated = CalibratedScorer(scorer).fit(pairs, labels)

    assert len(scorer.fits) == 1
    assert calibrated.fit_report_["cv_folds"] == 0
    assert calibrated.fit_report_["out_of_fold"] is False


def test_calibrated_scorer_memorising_model_is_not_trusted_on_new_text() -> None:
    """A scorer perfect only in-sample scores new documents at the base rate.

    Calibrating on in-sample scores would map its 0.5 for unseen text between
    the learned 0 and 10; cross-fitting teaches the calibrator that 0.5 means
    the base rate.
    """
    pairs, labels = _pairs(60, seed=4)
    new = ScoringPairs(["d0", "d1"], ["domain 0", "domain 1"], ["unseen a", "unseen b"])

    scores = (
        CalibratedScorer(MemorisingScorer(), cv_folds=5).fit(pairs, labels).score(new)
    )

    np.testing.assert_allclose(scores, [10 * labels.mean()] * 2)


def test_calibrated_scorer_too_few_documents_raises() -> None:
    """Cross-fitting on a single document is refused with the counts."""
    pairs = ScoringPairs(["a", "b"], ["A", "B"], ["same text 1", "same text 1"])

    with pytest.raises(ModelError, match=r"need at least 2 documents.*got 1 documents"):
        CalibratedScorer(MemorisingScorer()).fit(pairs, np.array([1, 0]))


def test_calibrated_scorer_score_before_fit_raises() -> None:
    """Scoring before fitting names the scorer and what to do."""
    pairs, _ = _pairs(2)

    with pytest.raises(ModelError, match="'memorising' is not calibrated; call fit"):
        CalibratedScorer(MemorisingScorer()).score(pairs)
