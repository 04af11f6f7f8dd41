"""Tests of the TF-IDF lexical scorer."""

from __future__ import annotations

import numpy as np
import pytest

from heysh.errors import ModelError
from heysh.models.base import ScoringPairs
from heysh.models.lexical import LexicalScorer

OIL = "Oil prices and crude output: OPEC, refineries and the barrel price."
FOOTBALL = "Football: league matches, goals and transfers of players."
DOCS = [
    "Crude oil prices rose as OPEC cut output and refineries bought more.",
    "The league leaders scored three goals and signed two new players.",
    "A museum opened its new wing for modern paintings.",
]


def _grid(descriptions: list[str], texts: list[str]) -> ScoringPairs:
    pairs = [(d, t) for d in descriptions for t in texts]
    return ScoringPairs(
        [d[:8] for d, _ in pairs], [d for d, _ in pairs], [t for _, t in pairs]
    )


def test_lexical_ranks_on_topic_documents_first() -> None:
    """Each description scores its own document above the others."""
    pairs = _grid([OIL, FOOTBALL], DOCS)
    scorer = LexicalScorer()
    scorer.fit(pairs)

    scores = scorer.raw_scores(pairs).reshape(2, 3)

    assert scores[0, 0] > max(scores[0, 1], scores[0, 2])
    assert scores[1, 1] > max(scores[1, 0], scores[1, 2])
    assert scores[0, 2] == 0.0
    assert np.all((scores >= 0) & (scores <= 1))


def test_lexical_folds_swedish_accents() -> None:
    """Räntor with and without diacritics score the same against a description."""
    description = "Räntor och lån: Riksbanken, bolåneräntor och inflation."
    texts = [
        "Riksbanken höjer räntor på bolån.",
        "Riksbanken hojer rantor pa bolan.",
        "Fotboll, ishockey, helgens matcher.",
    ]
    pairs = ScoringPairs(["sv:ranta"] * 3, [description] * 3, texts)
    scorer = LexicalScorer()
    scorer.fit(pairs)

    scores = scorer.raw_scores(pairs)

    assert scores[0] == pytest.approx(scores[1], abs=1e-6)
    assert scores[0] > 0.1
    assert scores[2] == 0.0


def test_lexical_empty_document_scores_zero() -> None:
    """An empty text shares no term with the description."""
    pairs = ScoringPairs(["oil", "oil"], [OIL, OIL], [DOCS[0], ""])
    scorer = LexicalScorer()
    scorer.fit(pairs)

    assert scorer.raw_scores(pairs)[1] == 0.0


def test_lexical_state_round_trip_scores_the_same() -> None:
    """A scorer rebuilt from its state gives identical raw scores."""
    pairs = _grid([OIL, FOOTBALL], DOCS)
    scorer = LexicalScorer()
    scorer.fit(pairs)

    restored = LexicalScorer.from_state(scorer.to_state())

    np.testing.assert_array_equal(restored.raw_scores(pairs), scorer.raw_scores(pairs))


def test_lexical_unfitted_raises() -> None:
    """Scoring before fit is an error that says to fit."""
    with pytest.raises(ModelError, match="LexicalScorer is not fitted; call fit"):
        LexicalScorer().raw_scores(_grid([OIL], DOCS))


def test_lexical_fit_without_words_raises() -> None:
    """A fit split with no words at all cannot build a vocabulary."""
    with pytest.raises(ModelError, match="cannot fit on 1 distinct texts"):
        LexicalScorer().fit(ScoringPairs(["a"], [""], [""]))
