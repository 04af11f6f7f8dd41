"""Behavioural tests of the local scorers: invariance, direction, minimum function.

The supervised classifier is trained on a slice of AG News (World, Sports,
Business, Sci/Tech); the hand-written domains below are not AG News domains,
so the classifier must generalise from descriptions it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from heysh.models.base import ScoringPairs
from heysh.models.calibration import CalibratedScorer
from heysh.models.embeddings import SentenceEncoder
from heysh.models.factory import build_scorer

pytestmark = pytest.mark.model

# Largest change of a calibrated 0-10 score allowed under case and whitespace edits.
INVARIANCE_TOLERANCE = 0.5


@dataclass(frozen=True)
class HandWrittenDomain:
    domain_id: str
    description: str
    on_topic: str
    off_topic: str
    more_on_topic: str


DOMAINS = [
    HandWrittenDomain(
        "test:astronomy",
        "Astronomy and space: planets, stars, galaxies, telescopes, space missions.",
        "Astronomers using a space telescope found a planet orbiting a distant star.",
        "The bakery sells fresh bread and cakes every morning.",
        "The telescope also imaged two galaxies, and a space mission will visit the "
        "planet's star.",
    ),
    HandWrittenDomain(
        "test:health",
        "Health and medicine: diseases, hospitals, doctors, drugs and treatments.",
        "Doctors at the hospital tested a new drug treatment for the heart disease.",
        "The band released a new album and announced a world tour.",
        "Hospitals reported that the treatment cut deaths from the disease by half.",
    ),
    HandWrittenDomain(
        "test:football",
        "Football: matches, goals, players, clubs and league results.",
        "The club won the league match with two late goals from its best players.",
        "Astronomers found a new planet with a powerful telescope.",
        "The players celebrated as the club moved top of the league after the match.",
    ),
    HandWrittenDomain(
        "test:elections",
        "Elections and politics: voters, candidates, parties, parliament, campaigns.",
        "Voters backed the opposition party as its candidate won the election.",
        "Whisk the eggs with sugar and bake the cake for forty minutes.",
        "The party now holds a majority in parliament after voters rejected the "
        "government's candidates.",
    ),
]


def _pairs(items: list[tuple[HandWrittenDomain, str]]) -> ScoringPairs:
    return ScoringPairs(
        [d.domain_id for d, _ in items],
        [d.description for d, _ in items],
        [text for _, text in items],
    )


@pytest.fixture(scope="module")
def scorers(
    encoder: SentenceEncoder, ag_news_fit, fitted_classifier: CalibratedScorer
) -> dict[str, CalibratedScorer]:
    """The three kinds, calibrated on the AG News slice, sharing one encoder."""
    fitted = {"embedding-classifier": fitted_classifier}
    for kind in ("lexical", "embedding-similarity"):
        fitted[kind] = build_scorer(kind, encoder=encoder).fit(
            ag_news_fit.pairs, ag_news_fit.labels
        )
    return fitted


@pytest.mark.parametrize(
    "kind", ["lexical", "embedding-similarity", "embedding-classifier"]
)
def test_scores_invariant_to_case_and_whitespace(
    scorers: dict[str, CalibratedScorer], ag_news_fit, kind: str
) -> None:
    """Upper-casing a document and re-spacing it move no score by more than 0.5."""
    texts = list(dict.fromkeys(ag_news_fit.pairs.texts))[:12]
    domain_ids = ag_news_fit.pairs.domain_ids[:4]
    descriptions = ag_news_fit.pairs.descriptions[:4]
    variants = [
        lambda t: t,
        str.upper,
        lambda t: "  " + "\n\n".join(t.split(" ")) + " \t",
    ]
    scores = []
    for variant in variants:
        items = [
            (d, s, variant(t))
            for t in texts
            for d, s in zip(domain_ids, descriptions, strict=True)
        ]
        pairs = ScoringPairs(*map(list, zip(*items, strict=True)))
        scores.append(scorers[kind].score(pairs))

    assert len(scores[0]) == 48
    for changed in scores[1:]:
        assert np.abs(changed - scores[0]).max() <= INVARIANCE_TOLERANCE


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.domain_id)
def test_similarity_rises_when_on_topic_sentences_are_added(
    scorers: dict[str, CalibratedScorer], domain: HandWrittenDomain
) -> None:
    """Appending on-topic sentences to an off-topic document raises its similarity."""
    pairs = _pairs(
        [
            (domain, domain.off_topic),
            (domain, f"{domain.off_topic} {domain.on_topic} {domain.more_on_topic}"),
        ]
    )
    scorer = scorers["embedding-similarity"]

    raw = scorer.raw_scores(pairs)
    calibrated = scorer.score(pairs)

    assert raw[1] > raw[0] + 0.1
    assert calibrated[1] >= calibrated[0]


@pytest.mark.parametrize(
    "kind", ["lexical", "embedding-similarity", "embedding-classifier"]
)
def test_models_rank_on_topic_above_off_topic(
    scorers: dict[str, CalibratedScorer], kind: str
) -> None:
    """For each hand-written domain the on-topic sentence outranks the off-topic one.

    Raw scores must order strictly; calibrated scores may tie on a flat
    isotonic step but never reverse.
    """
    scorer = scorers[kind]
    items = [(d, text) for d in DOMAINS for text in (d.on_topic, d.off_topic)]

    raw = scorer.raw_scores(_pairs(items)).reshape(len(DOMAINS), 2)
    calibrated = scorer.score(_pairs(items)).reshape(len(DOMAINS), 2)

    assert (raw[:, 0] > raw[:, 1]).all(), raw
    assert (calibrated[:, 0] >= calibrated[:, 1]).all(), calibrated
