"""What scoring a domain's documents cost, per model, from the recorded decisions.

Each decision carries the tokens and list-price cost its scoring model billed
(zero for local models), so the spend of an LLM judge in production is read
back from the metadata store rather than estimated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from heysh.stores.base import MetadataStore

# Decisions made without scoring the document: nothing was billed.
_UNSCORED_DECIDERS = frozenset({"input-check"})


@dataclass(frozen=True)
class ModelCost:
    """One model's scoring of a domain's documents in a window.

    Attributes:
        model: ``name@version`` as recorded with the decisions.
        documents: Decided documents this model scored.
        tokens_in: Prompt tokens billed, summed.
        tokens_out: Completion tokens billed, summed.
        cost_usd: List-price cost, summed.
    """

    model: str
    documents: int
    tokens_in: int
    tokens_out: int
    cost_usd: float

    @property
    def cost_per_1k_documents(self) -> float:
        """List-price cost of scoring 1,000 documents at this window's rate."""
        return 1000.0 * self.cost_usd / self.documents if self.documents else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {**asdict(self), "cost_per_1k_documents": self.cost_per_1k_documents}


def scoring_cost(
    metadata: MetadataStore,
    domain_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ModelCost]:
    """Sum the recorded scoring usage of the domain's decisions, per model.

    Args:
        metadata: The metadata store.
        domain_id: The domain.
        since: Inclusive start of the window on ``decided_at``.
        until: Exclusive end of the window.

    Returns:
        One entry per model, most expensive first, then by name.
    """
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for decision in metadata.list_decisions(domain_id, since=since, until=until):
        if decision.decided_by in _UNSCORED_DECIDERS or not decision.model_name:
            continue
        model = f"{decision.model_name}@{decision.model_version or '?'}"
        entry = sums[model]
        entry[0] += 1
        entry[1] += decision.tokens_in
        entry[2] += decision.tokens_out
        entry[3] += decision.cost_usd
    costs = [
        ModelCost(model, int(n), int(tokens_in), int(tokens_out), float(cost))
        for model, (n, tokens_in, tokens_out, cost) in sums.items()
    ]
    return sorted(costs, key=lambda c: (-c.cost_usd, c.model))
