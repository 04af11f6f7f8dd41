"""The order of a controller's review queue: by arrival or by uncertainty.

``DomainConfig.review_order`` picks it per domain. ``arrival`` keeps the
oldest review first. ``uncertainty`` puts first the documents whose score is
closest to the domain's ``relevance_threshold``: the model is least sure of
those, so a controller's label there teaches the next tuning the most.
Reviews without a score yet go last, in arrival order; ties keep arrival
order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from heysh.domain import DomainConfig, validate_domain_config
from heysh.errors import ConfigError
from heysh.stores.base import MetadataStore

_logger = logging.getLogger(__name__)

__all__ = [
    "REVIEW_ORDERS",
    "OrderedReview",
    "order_by_uncertainty",
    "pending_in_review_order",
]

REVIEW_ORDERS = ("arrival", "uncertainty")

T = TypeVar("T")


@dataclass(frozen=True)
class OrderedReview:
    """A pending review with its score and the order its domain uses."""

    review: Any
    score: float | None
    order: str


def order_by_uncertainty(
    items: Sequence[T],
    score_of: Callable[[T], float | None],
    relevance_threshold: float,
) -> list[T]:
    """Return ``items`` with the score closest to the threshold first.

    Args:
        items: In arrival order.
        score_of: The item's score (``None``: not scored yet, goes last).
        relevance_threshold: The domain's relevance threshold.

    >>> order_by_uncertainty([9.0, None, 5.5, 2.0], lambda s: s, 5.0)
    [5.5, 2.0, 9.0, None]
    """

    def key(indexed: tuple[int, T]) -> tuple[int, float, int]:
        index, item = indexed
        score = score_of(item)
        if score is None:
            return (1, 0.0, index)
        return (0, abs(score - relevance_threshold), index)

    return [item for _, item in sorted(enumerate(items), key=key)]


async def pending_in_review_order(
    client: Any,
    metadata: MetadataStore,
    controller: str,
    *,
    domain_id: str | None = None,
) -> list[OrderedReview]:
    """Return ``controller``'s pending reviews, each domain in its own order.

    Domains are listed in the order of their oldest pending review; within a
    domain, reviews follow its ``review_order``. Scores come from each
    review's ``status`` query.
    """
    from heysh.client import get_status, list_pending

    reviews = await list_pending(client, controller, domain_id=domain_id)
    by_domain: dict[str, list[Any]] = {}
    for review in reviews:
        by_domain.setdefault(review.domain_id, []).append(review)
    ordered: list[OrderedReview] = []
    for domain, items in by_domain.items():
        config = _config_of(metadata, domain)
        scores = {}
        for review in items:
            status = await get_status(client, review.domain_id, review.doc_id)
            scores[review.doc_id] = status.score
        order = config.review_order if config else "arrival"
        if order == "uncertainty" and config is not None:
            items = order_by_uncertainty(
                items, _score_lookup(scores), config.relevance_threshold
            )
        ordered.extend(OrderedReview(r, scores[r.doc_id], order) for r in items)
    return ordered


def _score_lookup(scores: dict[str, float | None]) -> Callable[[Any], float | None]:
    def score_of(review: Any) -> float | None:
        return scores[review.doc_id]

    return score_of


def _config_of(metadata: MetadataStore, domain_id: str) -> DomainConfig | None:
    domain = metadata.get_domain(domain_id)
    if domain is None:
        return None
    try:
        return validate_domain_config(json.loads(domain.get("config_json") or "{}"))
    except (ConfigError, ValueError) as err:
        _logger.warning(
            "review_order_config_unreadable",
            extra={"domain_id": domain_id, "error": str(err)},
        )
        return None
