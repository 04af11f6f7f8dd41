"""AI-processing activities: batched relevance, topics with embeddings, summaries."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from heysh.activities import contracts as c
from heysh.activities.ai import (
    LLM_REJECTED_ERROR,
    LLM_RETRYABLE_ERROR,
    MAX_SCORED_CHARS,
    AiActivities,
    LoadedModel,
)
from heysh.models.base import ScoringPairs
from heysh.models.llm_anthropic import ClaudeJudge
from heysh.models.llm_client import LlmNotConfiguredError, LlmRequestRejectedError
from heysh.stores.factory import Stores
from tests.llm.conftest import API_KEY
from tests.llm.mock_servers import AnthropicMockServer
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


# --- LLM judges as the production model: retry advice reaches Temporal ---------

JUDGE_DESCRIPTION = "Energy markets: oil prices, gas supply and power stations."


@pytest.fixture
def claude_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicMockServer]:
    """An Anthropic-protocol server on 127.0.0.1; ANTHROPIC_* point at it."""
    with AnthropicMockServer(api_key=API_KEY) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server
        assert server.problems == [], f"malformed requests: {server.problems}"


class JudgeModel:
    """Serves a production-configured Claude judge and records each call's time."""

    def __init__(self, *, stream: bool = False) -> None:
        self.judge = ClaudeJudge(
            client_retries=0, on_parse_failure="raise", stream=stream
        )
        self.call_times: list[float] = []

    def current(self) -> LoadedModel:
        def score(pairs: ScoringPairs) -> np.ndarray:
            self.call_times.append(time.monotonic())
            return self.judge.raw_scores(pairs)

        return LoadedModel("claude-judge", "3", score)


def _judge_request(stores: Stores, doc_id: str = "j") -> c.AssessRelevanceInput:
    return c.AssessRelevanceInput(
        doc_id=doc_id,
        domain_id="energy",
        domain_description=JUDGE_DESCRIPTION,
        text_key=put_text(stores, doc_id, "Oil prices rose as gas supply fell."),
    )


def _assess_error(activities: AiActivities, request: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        asyncio.run(
            ActivityEnvironment().run(activities.assess_document_relevance, request)
        )
    return caught.value


def test_assess_judge_rate_limited_retries_after_the_providers_delay(
    stores: Stores, claude_server: AnthropicMockServer
) -> None:
    """A 429 with retry-after 2 is retryable with next_retry_delay of 2 seconds."""
    claude_server.script("rate_limited")
    activities = make_activities(stores, JudgeModel())

    error = _assess_error(activities, _judge_request(stores))

    assert error.type == LLM_RETRYABLE_ERROR
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=2)
    assert "claude-judge version 3" in str(error)


@pytest.mark.parametrize("stream", [False, True])
def test_assess_judge_overloaded_is_retryable_without_delay_advice(
    stores: Stores, claude_server: AnthropicMockServer, stream: bool
) -> None:
    """A 529, or an overload inside a stream, is retryable under the policy."""
    claude_server.script("stream_overloaded" if stream else "overloaded")
    activities = make_activities(stores, JudgeModel(stream=stream))

    error = _assess_error(activities, _judge_request(stores))

    assert error.type == LLM_RETRYABLE_ERROR
    assert not error.non_retryable
    assert error.next_retry_delay is None


def test_assess_judge_unauthorized_is_non_retryable(
    stores: Stores, claude_server: AnthropicMockServer
) -> None:
    """A 401 fails the activity for good, saying to check the key."""
    claude_server.script("unauthorized")
    activities = make_activities(stores, JudgeModel())

    error = _assess_error(activities, _judge_request(stores))

    assert error.type == LLM_REJECTED_ERROR
    assert error.non_retryable
    assert "check the API key" in str(error)


def test_agent_task_llm_not_configured_is_non_retryable(stores: Stores) -> None:
    """A factory that finds no API key gives the NoLlmConfigured failure."""

    def no_key(model: str) -> Any:
        raise LlmNotConfiguredError("ANTHROPIC_API_KEY is not set")

    activities = make_activities(stores, None, llm_factory=no_key)
    request = c.AgentTaskInput(prompt="p", input={}, output_schema={"type": "object"})

    with pytest.raises(ApplicationError, match="ANTHROPIC_API_KEY is not set") as err:
        asyncio.run(
            ActivityEnvironment().run(activities.execute_ai_agent_activity, request)
        )

    assert err.value.type == c.NO_LLM_ERROR
    assert err.value.non_retryable


def test_agent_task_rate_limited_carries_retry_after(
    stores: Stores, claude_server: AnthropicMockServer
) -> None:
    """An agent task's 429 becomes a retryable failure with the provider's delay."""
    from heysh.models.llm_anthropic import AnthropicClient

    claude_server.script("rate_limited")
    activities = make_activities(
        stores,
        None,
        llm_factory=lambda model: AnthropicClient(
            api_key=API_KEY,
            model=model or "claude-haiku-5-5",
            base_url=claude_server.url,
        ),
    )
    request = c.AgentTaskInput(
        prompt="Say hello.",
        input={"name": "Ann"},
        output_schema={
            "type": "object",
            "properties": {"greeting": {"type": "string"}},
            "required": ["greeting"],
        },
    )

    with pytest.raises(ApplicationError) as err:
        asyncio.run(
            ActivityEnvironment().run(activities.execute_ai_agent_activity, request)
        )

    assert err.value.type == LLM_RETRYABLE_ERROR
    assert err.value.next_retry_delay == timedelta(seconds=2)


def test_assess_failing_model_fails_only_its_own_activities(stores: Stores) -> None:
    """In one batch, a failing override model does not fail the other model's work."""

    class TwoModels:
        def current(self) -> LoadedModel:
            return LoadedModel("good", "1", lambda pairs: np.full(len(pairs), 4.0))

        def for_override(self, model_uri: str) -> LoadedModel:
            def fail(pairs: ScoringPairs) -> np.ndarray:
                raise LlmRequestRejectedError("invalid x-api-key", kind="auth")

            return LoadedModel("bad", "9", fail)

    activities = make_activities(stores, TwoModels(), batch_wait_s=0.2)
    good = _judge_request(stores, "g")
    bad = dataclasses.replace(
        _judge_request(stores, "b"), model_override="models:/bad/9"
    )

    async def both() -> list[Any]:
        env = ActivityEnvironment()
        return await asyncio.gather(
            env.run(activities.assess_document_relevance, good),
            env.run(activities.assess_document_relevance, bad),
            return_exceptions=True,
        )

    good_result, bad_result = asyncio.run(both())

    assert activities.scoring.batches == 1
    assert good_result.score == 4.0
    assert isinstance(bad_result, ApplicationError)
    assert bad_result.type == LLM_REJECTED_ERROR
    assert "bad version 9" in str(bad_result)


@workflow.defn(sandboxed=False)
class AssessOnceWorkflow:
    """Runs assess_document_relevance with a fast retry policy (tests only)."""

    @workflow.run
    async def run(self, request: c.AssessRelevanceInput) -> c.AssessRelevanceResult:
        return await workflow.execute_activity(
            c.ASSESS_DOCUMENT_RELEVANCE,
            request,
            result_type=c.AssessRelevanceResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100),
                backoff_coefficient=1.0,
                maximum_attempts=3,
            ),
        )


async def _run_on_temporal(
    address: str, activities: AiActivities, request: c.AssessRelevanceInput
) -> c.AssessRelevanceResult:
    client = await Client.connect(address)
    queue = f"ai-test-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[AssessOnceWorkflow],
        activities=activities.activities(),
    ):
        return await client.execute_workflow(
            AssessOnceWorkflow.run,
            request,
            id=f"assess-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


def test_temporal_retries_rate_limited_judge_after_retry_after(
    stores: Stores, claude_server: AnthropicMockServer, temporal_server: Any
) -> None:
    """On a real server the retry waits the 2 s the provider asked, not 0.1 s."""
    claude_server.script("rate_limited")
    model = JudgeModel()
    activities = make_activities(stores, model)

    result = asyncio.run(
        _run_on_temporal(temporal_server.address, activities, _judge_request(stores))
    )

    assert result.model_name == "claude-judge"
    assert len(model.call_times) == 2
    assert model.call_times[1] - model.call_times[0] >= 1.9
    assert len(claude_server.requests) == 2


def test_temporal_does_not_retry_unauthorized_judge(
    stores: Stores, claude_server: AnthropicMockServer, temporal_server: Any
) -> None:
    """On a real server a 401 fails the workflow after a single attempt."""
    claude_server.script("unauthorized")
    model = JudgeModel()
    activities = make_activities(stores, model)

    with pytest.raises(WorkflowFailureError) as failure:
        asyncio.run(
            _run_on_temporal(
                temporal_server.address, activities, _judge_request(stores)
            )
        )

    cause = failure.value.cause.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == LLM_REJECTED_ERROR
    assert len(model.call_times) == 1


class FixedModel:
    """Always serves one loaded model."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model

    def current(self) -> LoadedModel:
        return self.model

    def for_override(self, model_uri: str) -> LoadedModel:
        raise AssertionError(f"unexpected override {model_uri}")


def test_assess_judge_served_as_pyfunc_records_tokens_and_cost(
    stores: Stores, claude_server: AnthropicMockServer, tmp_path: Path
) -> None:
    """A judge served as an MLflow pyfunc reports each document's tokens and cost."""
    import mlflow.pyfunc

    from heysh.activities.metrics import LLM_COST, LLM_TOKENS
    from heysh.models.factory import build_scorer
    from heysh.models.llm_costs import cost_usd
    from heysh.models.pyfunc import RelevancePyfuncModel, save_scorer
    from heysh.worker.model_source import _pyfunc_scorer, _usage_reader

    texts = [
        "Oil prices rose as gas supply fell.",
        "Power stations burned more gas.",
        "The choir sang Bach on Sunday.",
        "Swifts nest under roof tiles.",
    ]
    pairs = ScoringPairs(["energy"] * 4, [JUDGE_DESCRIPTION] * 4, texts)
    judge = build_scorer("claude-judge", client_retries=0).fit(
        pairs, np.array([1, 1, 0, 0])
    )
    save_scorer(judge, tmp_path / "scorer")
    mlflow.pyfunc.save_model(
        str(tmp_path / "model"),
        python_model=RelevancePyfuncModel(),
        artifacts={"scorer": str(tmp_path / "scorer")},
    )
    scorer = _pyfunc_scorer(mlflow.pyfunc.load_model(str(tmp_path / "model")))
    model = LoadedModel("heysh-relevance", "7", scorer, usage=_usage_reader(scorer))
    activities = make_activities(stores, FixedModel(model))
    cost = LLM_COST.labels(model="heysh-relevance")
    tokens_in = LLM_TOKENS.labels(model="heysh-relevance", direction="in")
    cost_before, tokens_before = cost._value.get(), tokens_in._value.get()

    result = asyncio.run(
        ActivityEnvironment().run(
            activities.assess_document_relevance, _judge_request(stores)
        )
    )

    assert result.tokens_in > 0
    assert result.tokens_out > 0
    expected = cost_usd(judge.scorer.client.model, result.tokens_in, result.tokens_out)
    assert result.cost_usd == pytest.approx(expected)
    assert result.cost_usd > 0
    assert cost._value.get() == pytest.approx(cost_before + result.cost_usd)
    assert tokens_in._value.get() == tokens_before + result.tokens_in
