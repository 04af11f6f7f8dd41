"""The one interface every relevance model implements.

A scorer sees *pairs*: a domain (id and description) and a document text. It
returns raw scores where higher means more relevant; a ``CalibratedScorer``
(see ``heysh.models.calibration``) maps them to calibrated 0-10 scores, so
thresholds mean the same across models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class ScoringPairs:
    """Parallel sequences: pair ``i`` is (``domain_ids[i]``, ``texts[i]``).

    ``descriptions[i]`` describes ``domain_ids[i]``; repeating it per pair keeps
    the interface flat while costing only a reference per pair.
    """

    domain_ids: Sequence[str]
    descriptions: Sequence[str]
    texts: Sequence[str]

    def __post_init__(self) -> None:
        n = len(self.texts)
        if len(self.domain_ids) != n or len(self.descriptions) != n:
            raise ValueError(
                f"ScoringPairs needs equally long sequences, got "
                f"{len(self.domain_ids)} domain ids, {len(self.descriptions)} "
                f"descriptions and {n} texts"
            )

    def __len__(self) -> int:
        return len(self.texts)


@runtime_checkable
class RelevanceScorer(Protocol):
    """A relevance model before calibration.

    Attributes:
        name: Short stable identifier, used in reports and the registry
            (``lexical``, ``embedding-similarity``, ``embedding-classifier``...).
    """

    name: str

    def fit(self, pairs: ScoringPairs, labels: np.ndarray) -> None:
        """Learn from labelled pairs of the fit split (a no-op for zero-shot).

        Args:
            pairs: The fit split's pairs.
            labels: Shape ``(len(pairs),)``, 1 relevant and 0 not.
        """
        ...

    def raw_scores(self, pairs: ScoringPairs) -> np.ndarray:
        """Score pairs; shape ``(len(pairs),)``, float64, higher is more relevant."""
        ...
