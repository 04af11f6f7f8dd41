"""A zero-shot lexical baseline: TF-IDF cosine between description and document.

Why this baseline: it is the cheapest scorer that reads the domain
description, it needs no weights, and any learned model that does not beat it
is not earning its cost. Choices, each a common default for short queries
against documents:

* sublinear term frequency (``1 + log tf``), so a word repeated 20 times does
  not swamp the rest;
* word unigrams and bigrams, so "interest rates" counts as a phrase;
* lower-casing and accent folding (``strip_accents="unicode"``), so Swedish
  "räntor" and a hurriedly typed "rantor" match and the tokenizer's Unicode
  word pattern keeps å, ä, ö words whole; no stop-word list, since one list
  would be wrong for the other language (IDF discounts common words anyway);
* the vocabulary and IDF are fitted on the fit split's distinct texts and
  descriptions, without labels, so the scorer is zero-shot.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from heysh.errors import ModelError
from heysh.models._pairs import PAIRS_PER_CHUNK, unique_with_index
from heysh.models.base import ScoringPairs

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

_logger = logging.getLogger(__name__)


class LexicalScorer:
    """TF-IDF cosine similarity of the domain description and the document.

    Args:
        max_features: Largest vocabulary kept (most frequent terms); bounds
            memory on large fit splits.
        min_df: Documents a term must occur in to be kept.

    Raw scores are cosines in [0, 1]; a document sharing no term with the
    description scores 0.
    """

    name = "lexical"
    is_supervised = False

    def __init__(self, *, max_features: int = 262_144, min_df: int = 1) -> None:
        self.max_features = max_features
        self.min_df = min_df
        self.vectorizer_: TfidfVectorizer | None = None

    def fit(self, pairs: ScoringPairs, labels: np.ndarray | None = None) -> None:
        """Fit vocabulary and IDF on the distinct texts and descriptions (no labels).

        Raises:
            ModelError: if the fit texts hold no words at all.
        """
        from sklearn.feature_extraction.text import TfidfVectorizer

        corpus = list(dict.fromkeys([*pairs.texts, *pairs.descriptions]))
        vectorizer = TfidfVectorizer(
            lowercase=True,
            strip_accents="unicode",
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=self.min_df,
            max_features=self.max_features,
            dtype=np.float32,
        )
        try:
            vectorizer.fit(corpus)
        except ValueError as err:
            raise ModelError(
                f"lexical scorer cannot fit on {len(corpus)} distinct texts: {err}"
            ) from err
        self.vectorizer_ = vectorizer
        _logger.debug(
            "lexical_fitted",
            extra={"texts": len(corpus), "vocabulary": len(vectorizer.vocabulary_)},
        )

    def raw_scores(self, pairs: ScoringPairs) -> np.ndarray:
        """Cosine of TF-IDF vectors; shape ``(len(pairs),)``, float64 in [0, 1].

        Raises:
            ModelError: if the scorer has not been fitted.
        """
        if self.vectorizer_ is None:
            raise ModelError("LexicalScorer is not fitted; call fit() first")
        texts, text_index = unique_with_index(pairs.texts)
        descriptions, description_index = unique_with_index(pairs.descriptions)
        # TF-IDF rows are L2-normalised, so a dot product is the cosine.
        text_matrix = self.vectorizer_.transform(texts).tocsr()
        description_matrix = self.vectorizer_.transform(descriptions).tocsr()
        out = np.empty(len(pairs), dtype=np.float64)
        for start in range(0, len(pairs), PAIRS_PER_CHUNK):
            stop = start + PAIRS_PER_CHUNK
            products = text_matrix[text_index[start:stop]].multiply(
                description_matrix[description_index[start:stop]]
            )
            out[start:stop] = np.asarray(products.sum(axis=1)).ravel()
        return np.clip(out, 0.0, 1.0)

    def to_state(self) -> dict[str, Any]:
        """Return the fitted vectorizer and settings, for saving with joblib."""
        if self.vectorizer_ is None:
            raise ModelError("LexicalScorer is not fitted; nothing to save")
        return {
            "max_features": self.max_features,
            "min_df": self.min_df,
            "vectorizer": self.vectorizer_,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], encoder: object = None) -> LexicalScorer:
        """Rebuild a fitted scorer from :meth:`to_state` output (no encoder needed)."""
        scorer = cls(max_features=state["max_features"], min_df=state["min_df"])
        scorer.vectorizer_ = state["vectorizer"]
        return scorer
