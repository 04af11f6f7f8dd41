"""Tests of the scorer registry and factory."""

from __future__ import annotations

import re

import pytest

from heysh.errors import ModelError
from heysh.models import factory
from heysh.models.classifier import EmbeddingClassifierScorer
from heysh.models.factory import SCORER_KINDS, ScorerKind, build_scorer
from heysh.models.lexical import LexicalScorer


def test_build_scorer_unknown_kind_lists_known_kinds() -> None:
    """An unknown kind names every registered kind, the built-in three included."""
    known = ", ".join(sorted(SCORER_KINDS))

    with pytest.raises(
        ModelError,
        match=rf"unknown scorer kind 'bm25'; known kinds: {re.escape(known)}$",
    ):
        build_scorer("bm25")
    assert {"lexical", "embedding-similarity", "embedding-classifier"} <= set(
        SCORER_KINDS
    )


def test_build_scorer_unknown_parameter_names_accepted_ones() -> None:
    """A parameter the scorer does not take is refused with the accepted list."""
    with pytest.raises(
        ModelError,
        match=r"'lexical' does not take alpha; it takes cv_folds, max_features",
    ):
        build_scorer("lexical", alpha=1.0)


def test_build_scorer_routes_calibration_and_scorer_parameters(keyword_encoder) -> None:
    """cv_folds goes to calibration, seed to both, the rest to the scorer."""
    scorer = build_scorer(
        "embedding-classifier",
        encoder=keyword_encoder,
        cv_folds=3,
        seed=7,
        max_negatives_per_positive=4,
    )

    assert isinstance(scorer.scorer, EmbeddingClassifierScorer)
    assert (scorer.cv_folds, scorer.seed) == (3, 7)
    assert (scorer.scorer.seed, scorer.scorer.max_negatives_per_positive) == (7, 4)
    assert scorer.scorer.encoder is keyword_encoder


def test_build_scorer_embedding_kinds_share_the_default_encoder() -> None:
    """Without an explicit encoder, embedding scorers share one (not loaded yet)."""
    similarity = build_scorer("embedding-similarity")
    classifier = build_scorer("embedding-classifier")

    assert similarity.scorer.encoder is classifier.scorer.encoder
    assert similarity.scorer.encoder is factory.shared_encoder()


def test_registering_a_kind_makes_it_buildable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new entry in SCORER_KINDS is built like the built-in kinds."""
    monkeypatch.setitem(
        SCORER_KINDS,
        "lexical-small",
        ScorerKind(
            "heysh.models.lexical:LexicalScorer", uses_encoder=False, summary="t"
        ),
    )

    scorer = build_scorer("lexical-small", max_features=10)

    assert isinstance(scorer.scorer, LexicalScorer)
    assert scorer.scorer.max_features == 10


def test_unimportable_kind_raises_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind whose module is missing fails with the import path in the message."""
    monkeypatch.setitem(
        SCORER_KINDS,
        "ghost",
        ScorerKind("heysh.models.ghost:GhostScorer", uses_encoder=False, summary="t"),
    )

    with pytest.raises(
        ModelError, match=r"cannot import scorer class heysh\.models\.ghost"
    ):
        build_scorer("ghost")
