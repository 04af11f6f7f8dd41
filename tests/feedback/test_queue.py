"""Review queue order: arrival, or uncertainty (closest to the threshold first)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import numpy as np
import pytest

from heysh.activities.ai import LoadedModel
from heysh.client import list_pending
from heysh.feedback.queue import order_by_uncertainty, pending_in_review_order
from heysh.models.base import ScoringPairs
from tests.review_stack import ReviewStack, shared_encoder
from tests.temporal_server import TemporalDevServer

THRESHOLD = 5.0
# Scores in arrival order: the farthest from the threshold arrives first.
SCORES = [0.5, 9.0, 2.0, 7.5, 5.4]


def stated_score(pairs: ScoringPairs) -> np.ndarray:
    """A scorer that reads each text's ``score N`` (0 without): the queue is tested."""
    found = [re.search(r"score (\d+(?:\.\d+)?)", t) for t in pairs.texts]
    return np.array([float(m.group(1)) if m else 0.0 for m in found])


@pytest.fixture(scope="module")
def stack(
    temporal_server: TemporalDevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReviewStack]:
    """A review stack whose model scores each document as its text states."""
    review_stack = ReviewStack(
        temporal_server.address,
        tmp_path_factory.mktemp("heysh"),
        model=LoadedModel("stated", "1", stated_score),
        encoder=shared_encoder(),
    )
    yield review_stack
    review_stack.close()


def test_order_by_uncertainty_puts_closest_first_and_unscored_last():
    """Distance to the threshold orders; ties and unscored keep arrival order."""
    items = [("a", 9.0), ("b", None), ("c", 4.0), ("d", 6.0), ("e", 5.2)]

    ordered = order_by_uncertainty(items, lambda item: item[1], 5.0)

    assert [name for name, _ in ordered] == ["e", "c", "d", "a", "b"]


@pytest.mark.integration
def test_pending_follows_each_domains_review_order(stack: ReviewStack) -> None:
    """An uncertainty domain lists closest-first; an arrival domain oldest-first."""
    config = {
        "relevance_threshold": THRESHOLD,
        "auto_approve_threshold": None,
        "auto_reject_threshold": None,
        "controller_pool": ["quinn"],
    }
    members = {"quinn": "controller", "uma": "contributor"}
    by_uncertainty = stack.add_domain(
        {**config, "review_order": "uncertainty"}, members
    )
    by_arrival = stack.add_domain(config, members)
    submitted: dict[str, list[str]] = {by_uncertainty: [], by_arrival: []}
    for score in SCORES:
        for domain in submitted:
            body = f"A pending document with score {score}.".encode()
            doc_id = stack.submit(domain, body).doc_id
            stack.wait_for_stage(domain, doc_id, "awaiting_decision")
            submitted[domain].append(doc_id)
    deadline = time.monotonic() + 30
    while len(stack.run(list_pending(stack.client, "quinn"))) < 2 * len(SCORES):
        assert time.monotonic() < deadline, "visibility never listed every review"
        time.sleep(0.2)

    uncertain = stack.run(
        pending_in_review_order(
            stack.client, stack.stores.metadata, "quinn", domain_id=by_uncertainty
        )
    )
    oldest = stack.run(
        pending_in_review_order(
            stack.client, stack.stores.metadata, "quinn", domain_id=by_arrival
        )
    )

    assert [r.score for r in uncertain] == [5.4, 7.5, 2.0, 9.0, 0.5]
    assert {r.order for r in uncertain} == {"uncertainty"}
    assert [r.review.doc_id for r in oldest] == submitted[by_arrival]
    assert [r.score for r in oldest] == SCORES
    assert {r.order for r in oldest} == {"arrival"}
