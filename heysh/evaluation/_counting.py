"""Class-wise sorted scores and the threshold counts read off them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heysh.errors import DataError
from heysh.evaluation._validation import FloatArray, IntArray, as_labels, as_scores


@dataclass(frozen=True)
class SortedClasses:
    """Scores sorted once per class: all documents and the relevant ones."""

    all_scores: FloatArray
    relevant_scores: FloatArray


def sort_classes(
    scores: npt.ArrayLike, labels: npt.ArrayLike, *, allow_empty: bool = False
) -> SortedClasses:
    """Check scores and labels, then sort all scores and the relevant ones.

    Raises:
        heysh.errors.DataError: on malformed input, or empty input unless
            ``allow_empty``.
    """
    checked_scores = as_scores(scores)
    checked_labels = as_labels(labels, checked_scores.shape[0])
    if checked_scores.size == 0 and not allow_empty:
        raise DataError("no documents: scores and labels are empty")
    # Sorting values is several times faster than argsort plus a gather.
    return SortedClasses(
        all_scores=np.sort(checked_scores),
        relevant_scores=np.sort(checked_scores[checked_labels == 1]),
    )


def count_at_or_above(
    classes: SortedClasses, thresholds: FloatArray
) -> tuple[IntArray, IntArray]:
    """Return (documents, non-relevant documents) scoring ``>= threshold``."""
    n = classes.all_scores.size
    n_rel = classes.relevant_scores.size
    above = n - np.searchsorted(classes.all_scores, thresholds, side="left")
    rel_above = n_rel - np.searchsorted(classes.relevant_scores, thresholds, "left")
    return above.astype(np.int64), (above - rel_above).astype(np.int64)


def count_at_or_below(
    classes: SortedClasses, thresholds: FloatArray
) -> tuple[IntArray, IntArray]:
    """Return (documents, relevant documents) scoring ``<= threshold``."""
    below = np.searchsorted(classes.all_scores, thresholds, side="right")
    rel_below = np.searchsorted(classes.relevant_scores, thresholds, side="right")
    return below.astype(np.int64), rel_below.astype(np.int64)
