"""Pair bookkeeping shared by scorers: distinct texts, their embeddings, row dots.

Pairs repeat texts (a document is judged against every domain) and
descriptions (a domain judges every document). Scorers work on the distinct
values plus an index per pair, so 300,000 pairs over 20,000 documents cost
20,000 embeddings, not 300,000.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heysh.models.base import ScoringPairs
from heysh.models.embeddings import TextEncoder

# Pairs per chunk in row-wise products: 8,192 x 769 float32 is about 25 MB.
PAIRS_PER_CHUNK = 8192


def unique_with_index(values: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Return the distinct values in first-seen order and each value's position.

    >>> unique_with_index(["b", "a", "b"])
    (['b', 'a'], array([0, 1, 0]))
    """
    positions: dict[str, int] = {}
    index = np.fromiter(
        (positions.setdefault(v, len(positions)) for v in values),
        dtype=np.int64,
        count=len(values),
    )
    return list(positions), index


def embed_pairs(
    encoder: TextEncoder, pairs: ScoringPairs
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Embed the distinct texts and descriptions of ``pairs``.

    Returns:
        ``(text_vectors, text_index, description_vectors, description_index)``:
        pair ``i`` is ``text_vectors[text_index[i]]`` against
        ``description_vectors[description_index[i]]``.
    """
    texts, text_index = unique_with_index(pairs.texts)
    descriptions, description_index = unique_with_index(pairs.descriptions)
    return (
        encoder.encode(texts),
        text_index,
        encoder.encode(descriptions),
        description_index,
    )


def rowwise_cosine(
    a: np.ndarray, a_index: np.ndarray, b: np.ndarray, b_index: np.ndarray
) -> np.ndarray:
    """Dot products ``a[a_index[i]] . b[b_index[i]]`` of unit vectors, in chunks.

    Returns:
        Shape ``(len(a_index),)``, float64.
    """
    out = np.empty(len(a_index), dtype=np.float64)
    for start in range(0, len(a_index), PAIRS_PER_CHUNK):
        stop = start + PAIRS_PER_CHUNK
        out[start:stop] = np.einsum(
            "ij,ij->i", a[a_index[start:stop]], b[b_index[start:stop]]
        )
    return out
