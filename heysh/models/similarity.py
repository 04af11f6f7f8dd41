"""A zero-shot scorer: cosine similarity of description and document embeddings."""

from __future__ import annotations

from typing import Any

import numpy as np

from heysh.models._pairs import embed_pairs, rowwise_cosine
from heysh.models.base import ScoringPairs
from heysh.models.embeddings import TextEncoder


class EmbeddingSimilarityScorer:
    """Cosine of the domain description's and the document's embeddings.

    Documents longer than one encoder window are embedded whole (windows
    averaged, see :class:`~heysh.models.embeddings.SentenceEncoder`). Raw
    scores lie in [-1, 1]; an empty document scores 0.

    Args:
        encoder: Shared encoder; scorers built on one encoder embed each text once.
    """

    name = "embedding-similarity"
    is_supervised = False

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder

    def fit(self, pairs: ScoringPairs, labels: np.ndarray | None = None) -> None:
        """Do nothing: the scorer is zero-shot (calibration still uses the labels)."""

    def raw_scores(self, pairs: ScoringPairs) -> np.ndarray:
        """Cosine similarities; shape ``(len(pairs),)``, float64 in [-1, 1]."""
        texts, text_index, descriptions, description_index = embed_pairs(
            self.encoder, pairs
        )
        scores = rowwise_cosine(texts, text_index, descriptions, description_index)
        clipped: np.ndarray = np.clip(scores, -1.0, 1.0)
        return clipped

    def to_state(self) -> dict[str, Any]:
        """Return the (empty) state: everything lives in the encoder."""
        return {}

    @classmethod
    def from_state(
        cls, state: dict[str, Any], encoder: TextEncoder
    ) -> EmbeddingSimilarityScorer:
        """Rebuild the scorer on ``encoder``."""
        return cls(encoder)
