"""Fixtures for LLM tests: protocol servers on 127.0.0.1 and their environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from heysh.models.judge_attacks import (
    AttackCase,
    load_adversarial_set,
    packaged_adversarial_set,
)
from tests.llm.mock_servers import AnthropicMockServer, OpenAIMockServer

API_KEY = "test-key-not-a-secret"
ADVERSARIAL_SET = packaged_adversarial_set()


@pytest.fixture
def anthropic_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicMockServer]:
    """An Anthropic-protocol server; ANTHROPIC_* variables point at it.

    The test fails at teardown if any request it received was malformed.
    """
    with AnthropicMockServer(api_key=API_KEY, slow_s=1.5) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server
        assert server.problems == [], f"malformed requests: {server.problems}"


@pytest.fixture
def openai_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIMockServer]:
    """An OpenAI-protocol server; OPENAI_* variables point at it (``/v1``).

    The test fails at teardown if any request it received was malformed.
    """
    with OpenAIMockServer(api_key=API_KEY, slow_s=1.5) as server:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        yield server
        assert server.problems == [], f"malformed requests: {server.problems}"


@pytest.fixture(scope="session")
def attack_cases() -> list[AttackCase]:
    """The hand-written adversarial set (13 attack documents with controls)."""
    return load_adversarial_set(ADVERSARIAL_SET)
