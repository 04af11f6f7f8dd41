"""Split documents into fit, calibration and test sets, reproducibly.

A document's split depends only on the seed and its split key (its id, or the
id of the first exact duplicate of its text), hashed with SHA-256. So splits
are the same on every machine and Python version, a document keeps its split
when others are added or removed, and all pairs of a document share it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from heysh.data.corpus import LabelledCorpus
from heysh.errors import ConfigError

SPLIT_NAMES = ("fit", "calibration", "test")
DEFAULT_FRACTIONS = (0.4, 0.3, 0.3)

# 2**64: the first 8 bytes of a digest as an integer, scaled into [0, 1).
_SCALE = float(2**64)


def assign_splits(
    split_keys: np.ndarray | Sequence[str],
    *,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> np.ndarray:
    """Assign each key to ``"fit"``, ``"calibration"`` or ``"test"``.

    Args:
        split_keys: Shape ``(n_docs,)``; equal keys always get the same split.
        fractions: Expected shares of fit, calibration and test; non-negative,
            summing to 1. Realised shares vary binomially around them.
        seed: Changes the assignment as a whole.

    Returns:
        Shape ``(n_docs,)``, object array of split names.

    Raises:
        ConfigError: if ``fractions`` are not three non-negative numbers
            summing to 1.

    >>> list(assign_splits(["a", "b", "a"], seed=0)) == list(
    ...     assign_splits(["a", "b", "a"], seed=0))
    True
    """
    fit, calibration = _check_fractions(fractions)[:2]
    positions = np.array(
        [_unit_interval(seed, str(key)) for key in split_keys], dtype=np.float64
    )
    splits = np.full(len(positions), SPLIT_NAMES[2], dtype=object)
    splits[positions < fit + calibration] = SPLIT_NAMES[1]
    splits[positions < fit] = SPLIT_NAMES[0]
    return splits


def assign_corpus_splits(
    corpus: LabelledCorpus,
    *,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> np.ndarray:
    """Split a corpus by document, keeping exact duplicates together.

    Args:
        corpus: The labelled corpus.
        fractions: Shares of fit, calibration and test.
        seed: Split seed.

    Returns:
        Shape ``(n_docs,)``, object array of split names; the split of pair
        ``i`` is ``result[corpus.pair_doc[i]]``.
    """
    return assign_splits(corpus.split_keys(), fractions=fractions, seed=seed)


def _unit_interval(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(f) for f in fractions)
    if len(values) != 3 or min(values) < 0 or abs(sum(values) - 1.0) > 1e-9:
        raise ConfigError(
            f"split fractions {tuple(fractions)} must be three non-negative "
            "shares (fit, calibration, test) summing to 1, e.g. (0.4, 0.3, 0.3)"
        )
    return values[0], values[1], values[2]
