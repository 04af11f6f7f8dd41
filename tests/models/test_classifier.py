"""Tests of the embedding classifier (on a keyword encoder with known geometry)."""

from __future__ import annotations

import numpy as np
import pytest

from heysh.errors import ModelError
from heysh.models import classifier as classifier_module
from heysh.models.base import ScoringPairs
from heysh.models.classifier import EmbeddingClassifierScorer

TOPICS = ("oil", "football", "bank", "film")
FILLER = ["report", "news", "story", "update", "day", "week", "people", "said"]


def _topic_pairs(n_docs: int, seed: int = 0) -> tuple[ScoringPairs, np.ndarray]:
    """Documents about one topic each, against one domain per topic."""
    rng = np.random.default_rng(seed)
    ids, descriptions, texts, labels = [], [], [], []
    for doc in range(n_docs):
        topic = TOPICS[doc % len(TOPICS)]
        words = [topic, *rng.choice(FILLER, size=4), f"doc{doc}"]
        text = " ".join(words)
        for domain in TOPICS:
            ids.append(f"news:{domain}")
            descriptions.append(f"{domain} news")
            texts.append(text)
            labels.append(int(domain == topic))
    return ScoringPairs(ids, descriptions, texts), np.array(labels)


def test_classifier_keeps_at_most_the_negative_ratio(keyword_encoder) -> None:
    """Training uses every positive and at most k negatives per positive."""
    pairs, labels = _topic_pairs(40)
    scorer = EmbeddingClassifierScorer(
        keyword_encoder, max_negatives_per_positive=2, domain_offsets="never"
    )

    scorer.fit(pairs, labels)

    assert scorer.training_rows_ == 40 + 2 * 40


def test_classifier_separates_topics_and_generalises(keyword_encoder) -> None:
    """Relevant pairs outscore others, also for a domain absent from training."""
    pairs, labels = _topic_pairs(60)
    scorer = EmbeddingClassifierScorer(keyword_encoder, domain_offsets="never")
    scorer.fit(pairs, labels)
    unseen = ScoringPairs(
        ["news:space", "news:space"],
        ["space news", "space news"],
        ["space launch report", "film premiere report"],
    )

    seen_scores = scorer.raw_scores(pairs)
    unseen_scores = scorer.raw_scores(unseen)

    assert seen_scores[labels == 1].min() > seen_scores[labels == 0].max()
    assert unseen_scores[0] > unseen_scores[1]


def test_classifier_chunked_scores_equal_one_chunk(
    keyword_encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring in chunks of 7 pairs gives the scores of a single chunk."""
    pairs, labels = _topic_pairs(30)
    scorer = EmbeddingClassifierScorer(keyword_encoder, domain_offsets="never")
    scorer.fit(pairs, labels)
    whole = scorer.raw_scores(pairs)

    monkeypatch.setattr(classifier_module, "PAIRS_PER_CHUNK", 7)
    chunked = scorer.raw_scores(pairs)

    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-9)


def test_classifier_embeds_each_text_once_per_call(keyword_encoder) -> None:
    """Scoring 4 domains x 10 documents embeds 10 texts and 4 descriptions."""
    pairs, labels = _topic_pairs(10)
    scorer = EmbeddingClassifierScorer(keyword_encoder, domain_offsets="never")
    scorer.fit(pairs, labels)
    keyword_encoder.calls.clear()

    scorer.raw_scores(pairs)

    assert sorted(len(call) for call in keyword_encoder.calls) == [4, 10]


def test_classifier_single_class_raises(keyword_encoder) -> None:
    """All-negative training data is refused with the counts."""
    pairs, labels = _topic_pairs(8)

    with pytest.raises(ModelError, match="got 0 relevant of 32"):
        EmbeddingClassifierScorer(keyword_encoder).fit(pairs, np.zeros_like(labels))


def test_classifier_offsets_always_are_learned_and_reported(keyword_encoder) -> None:
    """With offsets forced on, each training domain gets one and the report says so."""
    pairs, labels = _topic_pairs(80)
    scorer = EmbeddingClassifierScorer(keyword_encoder, domain_offsets="always")

    scorer.fit(pairs, labels)

    assert set(scorer.offsets_) == {f"news:{t}" for t in TOPICS}
    assert scorer.offset_report_["decision"] == "used"
    assert scorer.offset_report_["log_loss_with_offsets"] > 0


def test_classifier_state_round_trip_scores_the_same(keyword_encoder) -> None:
    """A classifier rebuilt from its state scores identically."""
    pairs, labels = _topic_pairs(40)
    scorer = EmbeddingClassifierScorer(keyword_encoder, domain_offsets="always")
    scorer.fit(pairs, labels)

    restored = EmbeddingClassifierScorer.from_state(scorer.to_state(), keyword_encoder)

    np.testing.assert_array_equal(restored.raw_scores(pairs), scorer.raw_scores(pairs))


def test_classifier_rejects_unknown_offset_mode(keyword_encoder) -> None:
    """An unknown domain_offsets value names the accepted ones."""
    with pytest.raises(
        ModelError, match="'auto', 'always' or 'never', got 'sometimes'"
    ):
        EmbeddingClassifierScorer(keyword_encoder, domain_offsets="sometimes")  # type: ignore[arg-type]  # on purpose
