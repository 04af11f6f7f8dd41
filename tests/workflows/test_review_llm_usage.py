"""An LLM judge's tokens and cost per document reach the decision record.

The AI worker serves a Claude judge that talks to the Anthropic-protocol
server on 127.0.0.1; the review runs on the real Temporal dev server, and the
decision the storage worker writes carries what the judge billed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from heysh.activities.ai import LoadedModel
from heysh.feedback.report import feedback_report, render_text
from heysh.models.base import ScoringPairs
from heysh.models.factory import build_scorer
from heysh.models.llm_costs import cost_usd
from heysh.models.llm_judge import latest_usage
from tests.llm.conftest import API_KEY
from tests.llm.mock_servers import AnthropicMockServer
from tests.review_stack import ReviewStack
from tests.temporal_server import TemporalDevServer

pytestmark = pytest.mark.integration

DESCRIPTION = "Energy markets: oil prices, gas supply and power stations."
ALWAYS_APPROVE = {
    "relevance_threshold": 0.0,
    "auto_approve_threshold": 0.0,
    "auto_reject_threshold": None,
    "use_ai_controller": True,
}


@pytest.fixture(scope="module")
def judge_stack(
    temporal_server: TemporalDevServer,
    tmp_path_factory: pytest.TempPathFactory,
    encoder: Any,
) -> Iterator[ReviewStack]:
    """All three workers, the AI worker scoring with a calibrated Claude judge."""
    with (
        AnthropicMockServer(api_key=API_KEY) as server,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("ANTHROPIC_API_KEY", API_KEY)
        env.setenv("ANTHROPIC_BASE_URL", server.url)
        texts = [
            "Oil prices rose as gas supply fell.",
            "Power stations burned more gas.",
            "The choir sang Bach on Sunday.",
            "Swifts nest under roof tiles.",
        ]
        judge = build_scorer("claude-judge", client_retries=0).fit(
            ScoringPairs(["energy"] * 4, [DESCRIPTION] * 4, texts),
            np.array([1, 1, 0, 0]),
        )
        model = LoadedModel(
            "claude-judge-test", "1", judge.score, usage=lambda: latest_usage(judge)
        )
        stack = ReviewStack(
            temporal_server.address,
            tmp_path_factory.mktemp("heysh-judge"),
            model=model,
            encoder=encoder,
        )
        stack.judge_model = judge.scorer.client.model  # type: ignore[attr-defined]
        yield stack
        stack.close()
        assert server.problems == [], f"malformed requests: {server.problems}"


def test_review_records_the_judges_tokens_and_cost_with_the_decision(
    judge_stack: ReviewStack,
) -> None:
    """The decision holds the judge's tokens and list-price cost for the document."""
    stack = judge_stack
    domain = stack.add_domain(
        ALWAYS_APPROVE, {"uma": "contributor"}, description=DESCRIPTION
    )
    bodies = [
        b"Gas supply fell and oil prices rose sharply this winter.",
        b"A new power station will burn gas from the northern field.",
    ]

    submitted = [stack.submit(domain, body) for body in bodies]
    results = [stack.result(domain, s.doc_id) for s in submitted]
    decisions = [
        stack.stores.metadata.get_decision(domain, s.doc_id) for s in submitted
    ]
    report = feedback_report(
        stack.stores.metadata,
        domain_id=domain,
        since=datetime.now(UTC) - timedelta(hours=1),
    )

    assert [r.outcome for r in results] == ["approved", "approved"]
    for decision in decisions:
        assert decision.model_name == "claude-judge-test"
        assert decision.tokens_in > 0
        assert decision.tokens_out > 0
        expected = cost_usd(stack.judge_model, decision.tokens_in, decision.tokens_out)
        assert decision.cost_usd == pytest.approx(expected)
        assert decision.cost_usd > 0
    [cost] = report[0].scoring
    assert cost.model == "claude-judge-test@1"
    assert cost.documents == 2
    assert cost.tokens_in == sum(d.tokens_in for d in decisions)
    assert cost.cost_usd == pytest.approx(sum(d.cost_usd for d in decisions))
    assert "scoring claude-judge-test@1: 2 documents" in render_text(report)
