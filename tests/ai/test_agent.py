"""Generic agent tasks against local Anthropic and OpenAI protocol servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from heysh.ai.agent import (
    AgentOutputInvalidError,
    AgentSchemaError,
    run_agent_task,
    run_agent_task_detailed,
)
from heysh.errors import ConfigError, HeyshError
from heysh.models.llm_anthropic import AnthropicClient
from heysh.models.llm_client import LlmNotConfiguredError, LlmRetryableError
from heysh.models.llm_openai import OpenAIClient
from tests.llm.mock_servers import AnthropicMockServer, OpenAIMockServer

KEY = "agent-test-key"
SCHEMA = {
    "type": "object",
    "properties": {
        "priority": {"type": "string", "enum": ["low", "high"]},
        "reasons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["priority", "reasons"],
    "additionalProperties": False,
}


@pytest.fixture
def claude() -> Iterator[tuple[AnthropicClient, AnthropicMockServer]]:
    """A Claude client pointed at a checking Anthropic-protocol server."""
    with AnthropicMockServer(api_key=KEY) as server:
        yield AnthropicClient(api_key=KEY, base_url=server.url), server
        assert server.problems == [], server.problems


@pytest.fixture
def gpt() -> Iterator[tuple[OpenAIClient, OpenAIMockServer]]:
    """An OpenAI-compatible client pointed at a checking server."""
    with OpenAIMockServer(api_key=KEY) as server:
        yield (
            OpenAIClient(
                api_key=KEY, base_url=server.url + "/v1", model="gpt-5.4-mini"
            ),
            server,
        )
        assert server.problems == [], server.problems


def test_run_agent_task_valid_tool_answer_returned(claude) -> None:
    """A schema-valid tool answer is returned as is after one call."""
    client, server = claude
    server.script(("tool_input", {"priority": "high", "reasons": ["outage"]}))

    output = run_agent_task(
        "Triage the ticket.", {"ticket": "Site down"}, SCHEMA, llm=client
    )

    assert output == {"priority": "high", "reasons": ["outage"]}
    body = server.requests[-1]["body"]
    assert body["tools"][0]["input_schema"] == SCHEMA
    assert body["tool_choice"] == {"type": "tool", "name": "submit_result"}
    user = body["messages"][0]["content"]
    assert user.startswith("Instructions:\nTriage the ticket.")
    assert '"ticket": "Site down"' in user


def test_run_agent_task_invalid_answer_repaired_once(claude) -> None:
    """An invalid first answer is sent back with its errors and repaired."""
    client, server = claude
    server.script(
        ("tool_input", {"priority": "urgent", "reasons": []}),
        ("tool_input", {"priority": "high", "reasons": ["outage"]}),
    )

    result = run_agent_task_detailed("Triage.", "Site down", SCHEMA, llm=client)

    assert result.output == {"priority": "high", "reasons": ["outage"]}
    assert result.calls == 2 and result.repaired
    repair = server.requests[-1]["body"]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert "priority: 'urgent' is not one of ['low', 'high']" in repair[2]["content"]
    assert "reasons: [] should be non-empty" in repair[2]["content"]
    assert result.tokens_in > 0 and result.cost_usd > 0


def test_run_agent_task_still_invalid_after_repair_raises(claude) -> None:
    """Two invalid answers raise a non-retryable error listing the problems."""
    client, server = claude
    server.script(
        ("tool_input", {"priority": "urgent", "reasons": ["x"]}),
        ("tool_input", {"priority": "urgent", "reasons": ["x"]}),
    )

    with pytest.raises(AgentOutputInvalidError, match="after one repair") as caught:
        run_agent_task("Triage.", "Site down", SCHEMA, llm=client)

    assert caught.value.errors == ["priority: 'urgent' is not one of ['low', 'high']"]
    assert len(server.requests) == 2


def test_run_agent_task_openai_json_answer(gpt) -> None:
    """An OpenAI-compatible model's JSON (code-fenced) answer is validated."""
    client, server = gpt
    server.script(("text", '```json\n{"priority": "low", "reasons": ["typo"]}\n```'))

    output = run_agent_task("Triage.", "Typo on page", SCHEMA, llm=client)

    assert output == {"priority": "low", "reasons": ["typo"]}
    fmt = server.requests[-1]["body"]["response_format"]
    assert fmt["json_schema"]["schema"] == SCHEMA


def test_run_agent_task_non_object_schema_wrapped(gpt) -> None:
    """A non-object schema is wrapped as {"result": ...} for the call and output."""
    client, server = gpt
    server.script(("json_payload", {"result": ["a", "b"]}))

    output = run_agent_task("List two letters.", "", {"type": "array"}, llm=client)

    assert output == {"result": ["a", "b"]}


def test_run_agent_task_without_llm_is_config_error() -> None:
    """No configured LLM raises a non-retryable configuration error."""
    with pytest.raises(LlmNotConfiguredError, match="no LLM is configured") as caught:
        run_agent_task("Do it.", {}, SCHEMA, llm=None)

    assert isinstance(caught.value, ConfigError) and isinstance(
        caught.value, HeyshError
    )


def test_run_agent_task_invalid_schema_refused(claude) -> None:
    """A schema that is not valid JSON schema is refused before any call."""
    client, server = claude

    with pytest.raises(AgentSchemaError, match="not a valid JSON schema"):
        run_agent_task("Do it.", {}, {"type": "object", "properties": 3}, llm=client)

    assert server.requests == []


def test_run_agent_task_provider_overload_propagates(claude) -> None:
    """A 529 from the provider surfaces as a retryable error for Temporal."""
    client, server = claude
    server.script("overloaded")

    with pytest.raises(LlmRetryableError, match="529"):
        run_agent_task("Do it.", {}, SCHEMA, llm=client)
