"""Input checks shared by the evaluation modules: scores, labels and grids."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from heysh.constants import SCORE_MAX, SCORE_MIN
from heysh.errors import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def as_scores(scores: npt.ArrayLike, name: str = "scores") -> FloatArray:
    """Return ``scores`` as a 1-D float array of finite values on 0-10.

    Args:
        scores: Calibrated scores, shape ``(n,)``.
        name: What to call the array in error messages.

    Returns:
        The scores as ``float64``; a view when no conversion was needed.

    Raises:
        heysh.errors.DataError: if not 1-D, not finite or outside 0-10.
    """
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1:
        raise DataError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        return array
    low, high = float(array.min()), float(array.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise DataError(f"{name} contain NaN or infinite values; score every document")
    if low < SCORE_MIN or high > SCORE_MAX:
        raise DataError(
            f"{name} must lie on {SCORE_MIN:g}-{SCORE_MAX:g}, got min {low:g} and "
            f"max {high:g}; calibrate the model's scores first"
        )
    return array


def as_labels(labels: npt.ArrayLike, n_expected: int, name: str = "labels") -> IntArray:
    """Return ``labels`` as a 1-D int array of 0 (not relevant) and 1 (relevant).

    Args:
        labels: Relevance labels, shape ``(n,)``; booleans are accepted.
        n_expected: The number of scores the labels belong to.
        name: What to call the array in error messages.

    Returns:
        The labels as ``int64``.

    Raises:
        heysh.errors.DataError: if the shape is wrong or a value is not 0 or 1.
    """
    array = np.asarray(labels)
    if array.ndim != 1 or array.shape[0] != n_expected:
        raise DataError(
            f"{name} must have shape ({n_expected},) like the scores, got {array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise DataError(f"{name} must be numbers 0 or 1, got dtype {array.dtype}")
    as_int = array.astype(np.int64)
    bad = (as_int != array) | ((as_int != 0) & (as_int != 1))
    if bool(np.any(bad)):
        first = array[np.argmax(bad)].item()
        raise DataError(f"{name} must be 0 or 1, found {first!r}")
    return as_int


def as_grid(grid: npt.ArrayLike) -> FloatArray:
    """Return a threshold grid as a strictly increasing 1-D float array on 0-10.

    Raises:
        heysh.errors.DataError: if empty, not 1-D, not increasing or off 0-10.
    """
    array = as_scores(grid, name="grid")
    if array.size == 0:
        raise DataError("grid is empty; use threshold_grid() for the default 0-10 grid")
    if array.size > 1 and not bool(np.all(np.diff(array) > 0)):
        raise DataError("grid must be strictly increasing with no repeated threshold")
    return array
