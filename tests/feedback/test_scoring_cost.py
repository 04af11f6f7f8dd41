"""Scoring cost per model, summed from the usage recorded with each decision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from heysh.feedback.scoring_cost import scoring_cost
from heysh.stores.base import DecisionRow

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
EARLIER = datetime(2026, 11, 1, tzinfo=UTC)


def decided(doc_id: str, model: str, tokens: tuple[int, int], cost: float, **kw):
    return DecisionRow(
        doc_id=doc_id,
        domain_id=kw.pop("domain_id", "news"),
        outcome=kw.pop("outcome", "approved"),
        decided_by=kw.pop("decided_by", "thresholds"),
        score=5.0,
        model_name=model,
        model_version="2",
        thresholds={},
        decided_at=kw.pop("decided_at", NOON),
        tokens_in=tokens[0],
        tokens_out=tokens[1],
        cost_usd=cost,
    )


def test_scoring_cost_sums_per_model_most_expensive_first(metadata):
    """Each model's documents, tokens and cost are summed; unscored ones left out."""
    for row in [
        decided("a", "judge", (1000, 50), 0.00125),
        decided("b", "judge", (800, 40), 0.001, decided_by="ann"),
        decided("c", "minilm", (0, 0), 0.0),
        decided("d", "", (0, 0), 0, outcome="refused_input", decided_by="input-check"),
        decided("e", "judge", (5000, 5), 0.005, domain_id="other"),
        decided("f", "judge", (700, 7), 0.0007, decided_at=EARLIER),
    ]:  # fmt: skip
        metadata.record_decision(row)

    costs = scoring_cost(metadata, "news", since=datetime(2026, 11, 30, tzinfo=UTC))

    assert [(c.model, c.documents, c.tokens_in, c.tokens_out) for c in costs] == [
        ("judge@2", 2, 1800, 90),
        ("minilm@2", 1, 0, 0),
    ]
    assert costs[0].cost_usd == pytest.approx(0.00225)
    assert costs[0].cost_per_1k_documents == pytest.approx(1.125)
    assert costs[1].cost_per_1k_documents == 0.0
