"""Seeded synthetic scores shared by the evaluation tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

Sample = tuple[np.ndarray, np.ndarray]


def draw_calibrated(
    rng: np.random.Generator, n: int, shape: float = 0.3, decimals: int | None = 2
) -> Sample:
    """Draw calibrated scores: p ~ Beta(shape, shape), relevant with probability p.

    Args:
        rng: The generator.
        n: Documents.
        shape: Beta shape; below 1 the scores pile up near 0 and 10 like a
            good model's.
        decimals: Round scores to this many decimals (creates ties); ``None``
            keeps them continuous.

    Returns:
        Scores on 0-10 and 0/1 labels.
    """
    probability = rng.beta(shape, shape, n)
    labels = (rng.uniform(size=n) < probability).astype(np.int64)
    scores = 10.0 * probability
    if decimals is not None:
        scores = np.round(scores, decimals)
    return scores, labels


@pytest.fixture
def calibrated() -> Callable[..., Sample]:
    """Give the calibrated-sample generator to tests."""
    return draw_calibrated
