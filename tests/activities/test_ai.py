"""AI-processing activities: batched relevance, topics with embeddings, summaries."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import numpy as np
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from heysh.activities import contracts as c
from heysh.activities.ai import MAX_SCORED_CHARS, AiActivities, LoadedModel
from heysh.models.base import ScoringPairs
from heysh.stores.factory import Stores
from tests.review_stack import fast_test_model, shared_encoder


class CountingModel:
    """Wraps a real model and records the size of every call."""

    def __init__(self, model: LoadedModel) -> None:
        self.inner = model
        self.batch_sizes: list[int] = []

    def current(self) -> LoadedModel:
        def score(pairs: ScoringPairs) -> np.ndarray:
            self.batch_sizes.append(len(pairs))
            return self.inner.score(pairs)

        return LoadedModel(self.inner.name, self.inner.version, score)

    def for_override(self, model_uri: str) -> LoadedModel:
        raise AssertionError(f"unexpected override {model_uri}")


@pytest.fixture
def model() -> CountingModel:
    return CountingModel(fast_test_model())


def put_text(stores: Stores, doc_id: str, text: str) -> str:
    key = c.text_blob_key(doc_id)
    stores.blobs.put(key, text.encode("utf-8"))
    return key


def make_activities(stores: Stores, model: Any, **kwargs: Any) -> AiActivities:
    return AiActivities(
        blobs=stores.blobs, models=model, encoder=shared_encoder(), **kwargs
    )


def test_assess_concurrent_documents_are_scored_in_few_model_calls(
    stores: Stores, model: CountingModel
) -> None:
    """Forty concurrent assessments share model calls and get the model's own scores."""
    activities = make_activities(stores, model, batch_max_size=64, batch_wait_s=0.05)
    texts = [
        f"Bank {i} reported quarterly profits and market gains." for i in range(20)
    ]
    texts += [f"Striker {i} scored twice in the cup final." for i in range(20)]
    requests = [
        c.AssessRelevanceInput(
            doc_id=f"d{i}",
            domain_id="news",
            domain_description="Business news: company results.",
            text_key=put_text(stores, f"d{i}", text),
        )
        for i, text in enumerate(texts)
    ]
    env = ActivityEnvironment()

    async def assess_all() -> list[c.AssessRelevanceResult]:
        return await asyncio.gather(
            *(env.run(activities.assess_document_relevance, r) for r in requests)
        )

    results = asyncio.run(assess_all())

    expected = model.inner.score(
        ScoringPairs(["news"] * 40, ["Business news: company results."] * 40, texts)
    )
    assert sum(model.batch_sizes) == 40
    assert len(model.batch_sizes) <= 3
    assert [r.score for r in results] == pytest.approx(list(expected), abs=1e-12)
    assert {(r.model_name, r.model_version) for r in results} == {("lexical-test", "1")}


def test_assess_long_document_scores_its_head_and_says_so(
    stores: Stores, model: CountingModel
) -> None:
    """Text beyond MAX_SCORED_CHARS is not scored, and the rationale names the cut."""
    activities = make_activities(stores, model)
    text = "market " * (MAX_SCORED_CHARS // 7 + 1000)
    request = c.AssessRelevanceInput(
        doc_id="long",
        domain_id="news",
        domain_description="Markets.",
        text_key=put_text(stores, "long", text),
    )

    result = asyncio.run(
        ActivityEnvironment().run(activities.assess_document_relevance, request)
    )

    assert result.rationale == (
        f"lexical-test version 1 scored {MAX_SCORED_CHARS:,} characters against the "
        f"domain description (the first {MAX_SCORED_CHARS:,} of {len(text):,})"
    )


def test_assess_missing_text_is_non_retryable(
    stores: Stores, model: CountingModel
) -> None:
    """A text key with nothing behind it is invalid input, not a transient error."""
    activities = make_activities(stores, model)
    request = c.AssessRelevanceInput(
        doc_id="x", domain_id="news", domain_description="d", text_key="texts/none"
    )

    with pytest.raises(ApplicationError, match="no document text under blob key"):
        asyncio.run(
            ActivityEnvironment().run(activities.assess_document_relevance, request)
        )


def test_assess_model_returning_nan_fails_retryably(stores: Stores) -> None:
    """A model that returns NaN fails the attempt so that Temporal retries it."""

    class NanModel:
        def current(self) -> LoadedModel:
            return LoadedModel("broken", "7", lambda pairs: np.full(len(pairs), np.nan))

    activities = make_activities(stores, NanModel())
    request = c.AssessRelevanceInput(
        doc_id="n",
        domain_id="news",
        domain_description="d",
        text_key=put_text(stores, "n", "text"),
    )

    with pytest.raises(RuntimeError, match="model broken version 7 returned scores"):
        asyncio.run(
            ActivityEnvironment().run(activities.assess_document_relevance, request)
        )


@pytest.mark.model
def test_extract_topics_returns_topics_title_and_unit_embedding(
    stores: Stores, model: CountingModel
) -> None:
    """Topics are frequent content words; the embedding is MiniLM's unit vector."""
    activities = make_activities(stores, model)
    text = "OPEC cuts oil output\nOil prices rose after OPEC cut oil output again."
    request = c.ExtractTopicsInput(
        doc_id="t", domain_id="news", text_key=put_text(stores, "t", text), max_topics=3
    )

    result = asyncio.run(
        ActivityEnvironment().run(activities.extract_document_topics, request)
    )

    assert result.title == "OPEC cuts oil output"
    assert result.topics == ["oil", "opec", "output"]
    assert len(result.embedding) == 384
    assert float(np.linalg.norm(result.embedding)) == pytest.approx(1.0, abs=1e-4)
    direct = shared_encoder().encode([text])[0]
    assert result.embedding == pytest.approx(list(direct), abs=1e-6)


def test_generate_summary_returns_leading_sentences(
    stores: Stores, model: CountingModel
) -> None:
    """The notification summary is the document's leading sentences."""
    activities = make_activities(stores, model)
    text = "Oil rose. Gold fell sharply today. Stocks were flat at the close."
    request = c.GenerateSummaryInput(
        doc_id="s", domain_id="news", text_key=put_text(stores, "s", text), max_chars=40
    )

    result = asyncio.run(
        ActivityEnvironment().run(activities.generate_summary_for_notification, request)
    )

    assert (result.summary, result.method) == (
        "Oil rose. Gold fell sharply today.",
        "offline-lead",
    )


def test_agent_task_without_llm_module_is_non_retryable(
    stores: Stores, model: CountingModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without heysh.ai.agent the agent activity fails at once, naming the cause."""
    import heysh.ai

    # Hide the module both ways: a package attribute left by an earlier import
    # (doctest collection imports every module) would bypass sys.modules.
    monkeypatch.setitem(sys.modules, "heysh.ai.agent", None)
    monkeypatch.delattr(heysh.ai, "agent", raising=False)
    activities = make_activities(stores, model, llm_factory=lambda name: object())
    request = c.AgentTaskInput(prompt="Classify", input={"x": 1}, output_schema={})

    with pytest.raises(ApplicationError, match="no LLM configured") as info:
        asyncio.run(
            ActivityEnvironment().run(activities.execute_ai_agent_activity, request)
        )

    assert info.value.non_retryable
    assert info.value.type == c.NO_LLM_ERROR


def test_agent_task_without_configured_llm_is_non_retryable(
    stores: Stores, model: CountingModel
) -> None:
    """With no provider key the agent activity fails at once, saying what to set."""
    activities = make_activities(stores, model, llm_factory=lambda name: None)
    request = c.AgentTaskInput(prompt="Classify", input={"x": 1}, output_schema={})

    with pytest.raises(ApplicationError, match="set ANTHROPIC_API_KEY") as info:
        asyncio.run(
            ActivityEnvironment().run(activities.execute_ai_agent_activity, request)
        )

    assert info.value.type == c.NO_LLM_ERROR


def test_agent_task_returns_the_agents_validated_output(
    stores: Stores, model: CountingModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The activity passes prompt, input and schema to the agent; returns its answer."""
    from heysh.ai import agent

    calls: list[tuple[Any, ...]] = []
    llm = object()

    def fake_detailed(instructions: str, input: Any, schema: Any, *, llm: Any) -> Any:
        calls.append((instructions, input, schema, llm))
        return agent.AgentResult(
            output={"label": "yes"},
            model="claude-x",
            tokens_in=10,
            tokens_out=2,
            cost_usd=0.0,
            calls=1,
        )

    monkeypatch.setattr(agent, "run_agent_task_detailed", fake_detailed)
    activities = make_activities(stores, model, llm_factory=lambda name: llm)
    request = c.AgentTaskInput(
        prompt="Classify", input={"x": 1}, output_schema={"type": "object"}, model="m"
    )

    result = asyncio.run(
        ActivityEnvironment().run(activities.execute_ai_agent_activity, request)
    )

    assert result == c.AgentTaskResult(
        output={"label": "yes"}, model_name="claude-x", model_version="claude-x"
    )
    assert calls == [("Classify", {"x": 1}, {"type": "object"}, llm)]


def test_agent_task_invalid_schema_is_non_retryable(
    stores: Stores, model: CountingModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent error that a retry cannot fix ends the activity without retries."""
    from heysh.ai import agent

    def bad_schema(*args: Any, **kwargs: Any) -> Any:
        raise agent.AgentSchemaError("output_schema is not a JSON schema")

    monkeypatch.setattr(agent, "run_agent_task_detailed", bad_schema)
    activities = make_activities(stores, model, llm_factory=lambda name: object())
    request = c.AgentTaskInput(prompt="Classify", input={}, output_schema={"type": 3})

    with pytest.raises(ApplicationError, match="agent task failed for good") as info:
        asyncio.run(
            ActivityEnvironment().run(activities.execute_ai_agent_activity, request)
        )

    assert info.value.non_retryable
