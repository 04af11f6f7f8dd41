"""Tests for heysh.evaluation.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from heysh.errors import DataError
from heysh.evaluation.metrics import (
    brier_score,
    expected_calibration_error,
    pr_auc,
    precision_recall_curve,
    reliability_bins,
    roc_auc,
)

SEEDS = range(12)


def _random_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores with many ties (rounded to 0.5) and labels of both classes."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    scores = np.round(rng.uniform(0, 10, n) * 2) / 2
    labels = (rng.uniform(size=n) < scores / 10).astype(int)
    labels[:2] = [0, 1]
    return labels, scores


def _ece_by_loop(labels: np.ndarray, scores: np.ndarray, n_bins: int) -> float:
    """Reference ECE: one Python loop over bins [i/n, (i+1)/n), last bin closed."""
    probability = scores / 10
    total = 0.0
    for i in range(n_bins):
        low, high = i / n_bins, (i + 1) / n_bins
        if i == n_bins - 1:
            in_bin = (probability >= low) & (probability <= high)
        else:
            in_bin = (probability >= low) & (probability < high)
        if in_bin.any():
            gap = abs(labels[in_bin].mean() - probability[in_bin].mean())
            total += in_bin.sum() / labels.size * gap
    return total


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_random_data_with_ties_matches_sklearn(seed: int) -> None:
    """ROC-AUC equals scikit-learn's on tied random scores."""
    labels, scores = _random_case(seed)

    assert roc_auc(labels, scores) == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_pr_auc_random_data_with_ties_matches_sklearn(seed: int) -> None:
    """Average precision equals scikit-learn's on tied random scores."""
    labels, scores = _random_case(seed)

    assert pr_auc(labels, scores) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_brier_score_random_data_matches_sklearn(seed: int) -> None:
    """The Brier score of score/10 equals scikit-learn's brier_score_loss."""
    labels, scores = _random_case(seed)

    assert brier_score(labels, scores) == pytest.approx(
        brier_score_loss(labels, scores / 10), abs=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_bins", [1, 7, 10, 20])
def test_ece_random_data_matches_bin_loop(seed: int, n_bins: int) -> None:
    """The vectorised ECE equals a per-bin loop, including scores on bin edges."""
    labels, scores = _random_case(seed)

    assert expected_calibration_error(labels, scores, n_bins) == pytest.approx(
        _ece_by_loop(labels, scores, n_bins), abs=1e-12
    )


def test_ece_hand_example_equals_worked_value() -> None:
    """Bins 2 and 9: |0 - 0.2| * 2/5 + |2/3 - 0.9| * 3/5 = 0.08 + 0.14 = 0.22."""
    labels = [0, 0, 1, 1, 0]
    scores = [2.0, 2.0, 9.0, 9.0, 9.0]

    assert expected_calibration_error(labels, scores) == pytest.approx(0.22, abs=1e-12)


def test_roc_auc_hand_example_counts_ties_as_half() -> None:
    """Pairs (pos, neg): (5,1) win, (5,5) tie, (9,1) win, (9,5) win -> 3.5 / 4."""
    labels = [0, 0, 1, 1]
    scores = [1.0, 5.0, 5.0, 9.0]

    assert roc_auc(labels, scores) == pytest.approx(0.875, abs=1e-12)


def test_roc_auc_all_scores_tied_is_one_half() -> None:
    """A constant score ranks nothing: the area is exactly 0.5."""
    assert roc_auc([0, 1, 0, 1, 1], [5.0] * 5) == 0.5


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1, 1]])
def test_ranking_metrics_one_class_return_nan(labels: list[int]) -> None:
    """ROC-AUC and PR-AUC are nan when only one class is present."""
    scores = [1.0, 5.0, 9.0]

    assert math.isnan(roc_auc(labels, scores))
    assert math.isnan(pr_auc(labels, scores))


def test_calibration_metrics_one_class_are_defined() -> None:
    """ECE and Brier stay numbers with one class: all relevant at 8 -> 0.2, 0.04."""
    labels = [1, 1, 1]
    scores = [8.0, 8.0, 8.0]

    assert expected_calibration_error(labels, scores) == pytest.approx(0.2, abs=1e-12)
    assert brier_score(labels, scores) == pytest.approx(0.04, abs=1e-12)


def test_reliability_bins_score_ten_lands_in_last_bin() -> None:
    """A score of 10 goes to the last bin, a score of 0 to the first."""
    bins = reliability_bins([1, 0, 1], [10.0, 0.0, 9.5], n_bins=10)

    assert bins.counts.tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins.accuracy[9] == 1.0
    assert bins.mean_confidence[9] == pytest.approx(0.975, abs=1e-12)
    assert math.isnan(bins.accuracy[4])


def test_precision_recall_curve_hand_example_groups_ties() -> None:
    """Tied scores form one threshold; precision and recall match a hand count."""
    curve = precision_recall_curve([1, 0, 1, 1, 0], [9.0, 9.0, 7.0, 3.0, 1.0])

    assert curve.thresholds.tolist() == [9.0, 7.0, 3.0, 1.0]
    assert curve.precision.tolist() == pytest.approx([0.5, 2 / 3, 0.75, 0.6])
    assert curve.recall.tolist() == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0])


def test_precision_recall_curve_no_relevant_raises() -> None:
    """Recall needs a relevant document."""
    with pytest.raises(DataError, match="at least one relevant"):
        precision_recall_curve([0, 0], [1.0, 2.0])


@pytest.mark.parametrize(
    "metric", [roc_auc, pr_auc, expected_calibration_error, brier_score]
)
def test_metrics_empty_input_raise(metric: object) -> None:
    """Every metric refuses empty input with a DataError."""
    with pytest.raises(DataError, match="no documents"):
        metric([], [])  # type: ignore[operator]


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([0, 2], [1.0, 2.0], "must be 0 or 1, found 2"),
        ([0, 0.5], [1.0, 2.0], "must be 0 or 1, found 0.5"),
        ([0, 1, 1], [1.0, 2.0], r"must have shape \(2,\)"),
        ([0, 1], [1.0, 11.0], "must lie on 0-10, got min 1 and max 11"),
        ([0, 1], [-0.5, 2.0], "must lie on 0-10"),
        ([0, 1], [np.nan, 2.0], "NaN or infinite"),
        (["a", "b"], [1.0, 2.0], "must be numbers 0 or 1"),
        ([[0, 1]], [[1.0, 2.0]], "must be 1-D"),
    ],
)
def test_metrics_malformed_input_raise(
    labels: object, scores: object, message: str
) -> None:
    """Malformed labels or scores raise a DataError that names the problem."""
    with pytest.raises(DataError, match=message):
        brier_score(labels, scores)  # type: ignore[arg-type]


def test_reliability_bins_zero_bins_raise() -> None:
    """n_bins below 1 is refused."""
    with pytest.raises(DataError, match="n_bins must be at least 1, got 0"):
        reliability_bins([0, 1], [1.0, 2.0], n_bins=0)


def test_metrics_boolean_labels_accepted() -> None:
    """Boolean labels mean the same as 0/1."""
    scores = [1.0, 4.0, 6.0, 9.0]

    assert roc_auc([False, True, False, True], scores) == roc_auc([0, 1, 0, 1], scores)
