"""The OpenAI-compatible judge against a local Chat Completions server."""

from __future__ import annotations

import math

import pytest

from heysh.models.base import ScoringPairs
from heysh.models.llm_client import (
    LlmRequestRejectedError,
    LlmRetryableError,
)
from heysh.models.llm_judge import PROMPT_VERSION, judge_texts
from heysh.models.llm_openai import OpenAIJudge, is_strict_compatible
from tests.llm.conftest import API_KEY
from tests.llm.mock_servers import OpenAIMockServer

ENERGY = "Energy markets: oil prices, gas supply, electricity and power stations."
ON_TOPIC = "Oil prices rose as gas supply fell and power stations burned more oil."
OFF_TOPIC = "The choir sang Bach in the cathedral on Sunday evening."


def _judge(**kwargs: object) -> OpenAIJudge:
    params: dict[str, object] = {
        "client_retries": 0,
        "max_concurrency": 1,
        "model": "gpt-5.4-mini",
    }
    params.update(kwargs)
    return OpenAIJudge(**params)  # type: ignore[arg-type]


def test_openai_judge_json_schema_verdict(openai_server: OpenAIMockServer) -> None:
    """A JSON answer is scored; the request uses a strict json_schema format."""
    result = judge_texts(_judge(), ENERGY, [ON_TOPIC, OFF_TOPIC])

    assert [v.score for v in result.verdicts] == [10.0, 0.0]
    verdict = result.verdicts[0]
    assert verdict.cost_usd == pytest.approx(
        (verdict.tokens_in * 0.75 + verdict.tokens_out * 4.50) / 1e6
    )
    body = openai_server.requests[-1]["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["max_completion_tokens"] == 300
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert openai_server.requests[-1]["key_ok"] is True


def test_openai_judge_json_object_mode_for_plain_servers(
    openai_server: OpenAIMockServer,
) -> None:
    """json_object mode puts the schema in the system prompt (which says JSON)."""
    verdict = judge_texts(
        _judge(response_format="json_object", token_limit_param="max_tokens"),
        ENERGY,
        [ON_TOPIC],
    ).verdicts[0]

    body = openai_server.requests[-1]["body"]
    assert verdict.score == 10.0
    assert body["response_format"] == {"type": "json_object"}
    assert '"required": ["score", "rationale"]' in body["messages"][0]["content"]
    assert body["max_tokens"] == 300


def test_openai_judge_unpriced_self_hosted_model_costs_nan(
    openai_server: OpenAIMockServer,
) -> None:
    """A self-hosted model without a listed price has cost nan, not zero."""
    verdict = judge_texts(_judge(model="llama-local"), ENERGY, [ON_TOPIC]).verdicts[0]

    assert verdict.score == 10.0
    assert math.isnan(verdict.cost_usd)


@pytest.mark.parametrize("mode", ["prose_json", "code_fence"])
def test_openai_judge_wrapped_json_parsed(
    openai_server: OpenAIMockServer, mode: str
) -> None:
    """Prose-wrapped and fenced JSON answers are read."""
    openai_server.script(mode)

    verdict = judge_texts(_judge(), ENERGY, [OFF_TOPIC]).verdicts[0]

    assert (verdict.score, verdict.failure) == (0.0, None)


@pytest.mark.parametrize(
    ("mode", "failure"),
    [
        ("malformed", "no_json"),
        ("missing_score", "missing_score"),
        ("out_of_range", "score_out_of_range"),
        ("refusal", "refusal"),
    ],
)
def test_openai_judge_bad_answers_counted(
    openai_server: OpenAIMockServer, mode: str, failure: str
) -> None:
    """Malformed, incomplete, out-of-range and refused answers are named failures."""
    openai_server.script(mode)

    batch = _judge(parse_retries=0).judge_pairs(
        ScoringPairs(["e"], [ENERGY], [ON_TOPIC])
    )

    assert math.isnan(batch.verdicts[0].score)
    assert batch.failures == {failure: 1}


@pytest.mark.parametrize(
    ("mode", "kind", "retry_after"),
    [
        ("rate_limited", "rate_limited", 2.0),
        ("overloaded", "overloaded", None),
        ("server_error", "server_error", None),
    ],
)
def test_openai_judge_transient_errors_retryable(
    openai_server: OpenAIMockServer, mode: str, kind: str, retry_after: float | None
) -> None:
    """429 (with retry-after), 529 and 500 raise retryable errors."""
    openai_server.script(mode)

    with pytest.raises(LlmRetryableError) as caught:
        judge_texts(_judge(), ENERGY, [ON_TOPIC])

    assert (caught.value.kind, caught.value.retry_after_s) == (kind, retry_after)
    assert len(openai_server.requests) == 1


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("unauthorized", "authentication"),
        ("invalid_request", "invalid_request"),
        ("quota", "insufficient_quota"),
    ],
)
def test_openai_judge_permanent_errors_not_retryable(
    openai_server: OpenAIMockServer, mode: str, kind: str
) -> None:
    """401, 400 and an exhausted quota (a 429) raise non-retryable errors."""
    openai_server.script(mode)

    with pytest.raises(LlmRequestRejectedError) as caught:
        judge_texts(_judge(client_retries=2), ENERGY, [ON_TOPIC])

    assert caught.value.kind == kind
    assert len(openai_server.requests) == 1


def test_openai_judge_timeout_retryable(openai_server: OpenAIMockServer) -> None:
    """A slow server raises a retryable timeout."""
    openai_server.script("slow")

    with pytest.raises(LlmRetryableError, match="timed out"):
        judge_texts(_judge(timeout_s=0.3), ENERGY, [ON_TOPIC])


def test_openai_judge_state_round_trip(openai_server: OpenAIMockServer) -> None:
    """State names env variables, not values, and restores a working judge."""
    state = _judge(response_format="json_object").to_state()
    restored = OpenAIJudge.from_state(state)

    assert state["provider"] == "openai" and state["prompt_version"] == PROMPT_VERSION
    assert (state["api_key_env"], state["base_url_env"]) == (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    )
    assert API_KEY not in repr(state)
    assert restored.raw_scores(ScoringPairs(["e"], [ENERGY], [ON_TOPIC]))[0] == 10.0
    assert openai_server.requests[-1]["body"]["response_format"] == {
        "type": "json_object"
    }


def test_openai_judge_from_state_rejects_other_provider(
    openai_server: OpenAIMockServer,
) -> None:
    """Anthropic state cannot be restored as an OpenAI judge."""
    state = {**_judge().to_state(), "provider": "anthropic"}

    with pytest.raises(Exception, match="provider 'anthropic', not 'openai'"):
        OpenAIJudge.from_state(state)


def test_is_strict_compatible_nested() -> None:
    """Strict mode needs every nested object closed and fully required."""
    closed = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    nested_open = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {}}}
        },
        "required": ["items"],
        "additionalProperties": False,
    }

    assert is_strict_compatible(closed) is True
    assert is_strict_compatible(nested_open) is False
