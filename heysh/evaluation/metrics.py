"""Ranking and calibration metrics of 0-10 relevance scores against 0/1 labels.

Ranking metrics (ROC-AUC, PR-AUC) need both classes: when the labels hold only
relevant or only non-relevant documents they return ``nan`` (there is nothing to
rank), never an exception, so a sweep over many small domains can carry on and
report the gap. Calibration metrics (ECE, Brier) are defined for one class too.
Every metric raises :class:`heysh.errors.DataError` on empty or malformed input.

Scores are probabilities times 10: a calibrated 8 means about 80% relevant, so
calibration metrics compare ``score / 10`` with the labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heysh.constants import SCORE_MAX
from heysh.errors import DataError
from heysh.evaluation._validation import FloatArray, IntArray, as_labels, as_scores

__all__ = [
    "PrecisionRecallCurve",
    "ReliabilityBins",
    "brier_score",
    "expected_calibration_error",
    "pr_auc",
    "precision_recall_curve",
    "reliability_bins",
    "roc_auc",
]


def _checked(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[IntArray, FloatArray]:
    y_score = as_scores(scores)
    y_true = as_labels(labels, y_score.shape[0])
    if y_score.size == 0:
        raise DataError("no documents: labels and scores are empty")
    return y_true, y_score


def roc_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Return the area under the ROC curve: P(relevant outscores non-relevant).

    Ties count one half (the Mann-Whitney U statistic with mid-ranks), which is
    what the trapezoidal ROC area gives as well.

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        scores: Shape ``(n,)``, calibrated scores on 0-10.

    Returns:
        The area in [0, 1], or ``nan`` when either class is absent.

    Raises:
        heysh.errors.DataError: if the inputs are empty or malformed.

    >>> roc_auc([0, 0, 1, 1], [1.0, 4.0, 3.5, 8.0])
    0.75
    """
    y_true, y_score = _checked(labels, scores)
    n_pos = int(y_true.sum())
    n_neg = y_true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")

    # Mid-ranks: a group of tied scores shares the mean of the ranks it spans.
    _, inverse, counts = np.unique(y_score, return_inverse=True, return_counts=True)
    upper_rank = np.cumsum(counts)
    mid_rank = upper_rank - (counts - 1) / 2.0
    rank_sum = float(mid_rank[inverse][y_true == 1].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


@dataclass(frozen=True)
class PrecisionRecallCurve:
    """Precision and recall at every distinct score, highest threshold first.

    Attributes:
        precision: Shape ``(m,)``, precision when approving scores >= threshold.
        recall: Shape ``(m,)``, non-decreasing recall at the same thresholds.
        thresholds: Shape ``(m,)``, the distinct scores in decreasing order.
    """

    precision: FloatArray
    recall: FloatArray
    thresholds: FloatArray


def precision_recall_curve(
    labels: npt.ArrayLike, scores: npt.ArrayLike
) -> PrecisionRecallCurve:
    """Return precision and recall at every distinct score used as a threshold.

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not; at least one relevant.
        scores: Shape ``(n,)``, calibrated scores on 0-10.

    Returns:
        The curve, highest threshold first.

    Raises:
        heysh.errors.DataError: if the inputs are empty or malformed, or no
            document is relevant (recall is undefined).
    """
    y_true, y_score = _checked(labels, scores)
    n_pos = int(y_true.sum())
    if n_pos == 0:
        raise DataError("precision-recall needs at least one relevant document")

    order = np.argsort(-y_score, kind="stable")
    sorted_scores = y_score[order]
    # The last position of each run of tied scores closes one threshold.
    ends = np.flatnonzero(np.diff(sorted_scores, append=-np.inf) != 0)
    true_pos = np.cumsum(y_true[order])[ends].astype(np.float64)
    predicted = (ends + 1).astype(np.float64)
    return PrecisionRecallCurve(
        precision=true_pos / predicted,
        recall=true_pos / n_pos,
        thresholds=sorted_scores[ends],
    )


def pr_auc(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Return the average precision: precision averaged over recall steps.

    ``sum_k (recall_k - recall_{k-1}) * precision_k`` over distinct thresholds,
    highest first (no interpolation), the same definition as scikit-learn's
    ``average_precision_score``.

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        scores: Shape ``(n,)``, calibrated scores on 0-10.

    Returns:
        Average precision in [0, 1], or ``nan`` when either class is absent.

    Raises:
        heysh.errors.DataError: if the inputs are empty or malformed.

    >>> round(pr_auc([0, 0, 1, 1], [1.0, 4.0, 3.5, 8.0]), 4)
    0.8333
    """
    y_true, _ = _checked(labels, scores)
    n_pos = int(y_true.sum())
    if n_pos == 0 or n_pos == y_true.size:
        return float("nan")
    curve = precision_recall_curve(labels, scores)
    recall_steps = np.diff(curve.recall, prepend=0.0)
    return float(np.sum(recall_steps * curve.precision))


@dataclass(frozen=True)
class ReliabilityBins:
    """Equal-width bins of predicted probability with what happened in each.

    Attributes:
        edges: Shape ``(n_bins + 1,)``, bin edges on the probability scale 0-1.
        counts: Shape ``(n_bins,)``, documents per bin.
        mean_confidence: Shape ``(n_bins,)``, mean ``score / 10`` per bin;
            ``nan`` for an empty bin.
        accuracy: Shape ``(n_bins,)``, share relevant per bin; ``nan`` when empty.
    """

    edges: FloatArray
    counts: IntArray
    mean_confidence: FloatArray
    accuracy: FloatArray


def reliability_bins(
    labels: npt.ArrayLike, scores: npt.ArrayLike, n_bins: int = 10
) -> ReliabilityBins:
    """Group documents into equal-width probability bins.

    Bin ``i`` holds probabilities in ``[i / n_bins, (i + 1) / n_bins)``; the
    last bin also holds exactly 1.0 (a score of 10).

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        scores: Shape ``(n,)``, calibrated scores on 0-10.
        n_bins: Number of bins, at least 1.

    Returns:
        Counts, mean confidence and accuracy per bin.

    Raises:
        heysh.errors.DataError: if the inputs are empty or malformed, or
            ``n_bins`` is below 1.
    """
    if n_bins < 1:
        raise DataError(f"n_bins must be at least 1, got {n_bins}")
    y_true, y_score = _checked(labels, scores)
    probability = y_score / SCORE_MAX

    # Bin on the score scale, where the default edges (0, 1, ..., 10) are exact.
    index = np.floor(y_score * (n_bins / SCORE_MAX)).astype(np.int64)
    index = np.minimum(index, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    confidence_sum = np.bincount(index, weights=probability, minlength=n_bins)
    relevant_sum = np.bincount(index, weights=y_true, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.where(counts > 0, confidence_sum / counts, np.nan)
        accuracy = np.where(counts > 0, relevant_sum / counts, np.nan)
    return ReliabilityBins(
        edges=np.linspace(0.0, 1.0, n_bins + 1),
        counts=counts.astype(np.int64),
        mean_confidence=mean_confidence,
        accuracy=accuracy,
    )


def expected_calibration_error(
    labels: npt.ArrayLike, scores: npt.ArrayLike, n_bins: int = 10
) -> float:
    """Return the expected calibration error of ``score / 10`` as a probability.

    ``sum_bins (n_bin / n) * |accuracy_bin - confidence_bin|`` over equal-width
    bins (see :func:`reliability_bins`); empty bins contribute nothing. Defined
    when only one class is present.

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        scores: Shape ``(n,)``, calibrated scores on 0-10.
        n_bins: Number of equal-width bins on 0-1.

    Returns:
        The ECE in [0, 1]; 0 is perfectly calibrated at this resolution.

    Raises:
        heysh.errors.DataError: if the inputs are empty or malformed.

    >>> round(expected_calibration_error([0, 1, 1, 1], [5.0, 5.0, 9.0, 9.0]), 6)
    0.05
    """
    bins = reliability_bins(labels, scores, n_bins)
    filled = bins.counts > 0
    gaps = np.abs(bins.accuracy[filled] - bins.mean_confidence[filled])
    weights = bins.counts[filled] / bins.counts.sum()
    return float(np.sum(weights * gaps))


def brier_score(labels: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Return the Brier score: mean squared error of ``score / 10`` against 0/1.

    Defined when only one class is present. Lower is better; 0.25 is what a
    constant score of 5 earns on balanced data.

    Args:
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        scores: Shape ``(n,)``, calibrated scores on 0-10.

    Returns:
        The score in [0, 1].

    Raises:
        heysh.errors.DataError: if the inputs are empty or malformed.

    >>> round(brier_score([0, 1], [2.0, 7.0]), 6)
    0.065
    """
    y_true, y_score = _checked(labels, scores)
    errors = y_score / SCORE_MAX - y_true
    return float(np.mean(errors * errors))
