"""Error classification, retry advice and client configuration."""

from __future__ import annotations

import email.utils
import time

import pytest

from heysh.config import load_settings
from heysh.models.llm_anthropic import AnthropicClient
from heysh.models.llm_client import (
    LlmRequestRejectedError,
    LlmRetryableError,
    RetryPolicy,
    classify_http_error,
    configured_llm_client,
    parse_retry_after,
    read_base_url,
)
from heysh.models.llm_openai import OpenAIClient


def test_parse_retry_after_http_date() -> None:
    """An HTTP-date retry-after becomes the seconds until that date."""
    when = email.utils.formatdate(time.time() + 30, usegmt=True)

    assert parse_retry_after({"Retry-After": when}) == pytest.approx(30, abs=2)


def test_parse_retry_after_garbage_ignored() -> None:
    """An unreadable retry-after gives None rather than an error."""
    assert parse_retry_after({"retry-after": "soon"}) is None


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (429, "rate_limit_error", ("rate_limited", True)),
        (529, "overloaded_error", ("overloaded", True)),
        (200, "overloaded_error", ("overloaded", True)),
        (503, None, ("server_error", True)),
        (500, "api_error", ("server_error", True)),
        (401, "authentication_error", ("authentication", False)),
        (403, "permission_error", ("permission", False)),
        (400, "invalid_request_error", ("invalid_request", False)),
        (413, "request_too_large", ("request_too_large", False)),
    ],
)
def test_classify_http_error_cases(
    status: int, error_type: str | None, expected: tuple[str, bool]
) -> None:
    """Each status and error type maps to the right kind and retryability."""
    err = classify_http_error(
        status_code=status,
        error_type=error_type,
        message="m",
        headers={"retry-after": "4"},
    )

    assert (err.kind, err.retryable) == expected
    assert isinstance(
        err, LlmRetryableError if expected[1] else LlmRequestRejectedError
    )
    if expected[1]:
        assert err.retry_after_s == 4.0


def test_retry_policy_gives_up_on_rejection_at_once() -> None:
    """A rejected request is not retried, whatever the policy allows."""
    calls: list[int] = []

    def rejected() -> None:
        calls.append(1)
        raise LlmRequestRejectedError("bad key", kind="authentication")

    with pytest.raises(LlmRequestRejectedError, match="bad key"):
        RetryPolicy(max_retries=5, sleep=lambda _: None).call(rejected)

    assert len(calls) == 1


def test_retry_policy_backoff_capped() -> None:
    """Backoff doubles per attempt with jitter and never exceeds the cap."""
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=3.0)
    err = LlmRetryableError("x", kind="server_error")

    delays = [policy.delay_for(n, err) for n in (1, 2, 3, 4)]

    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0
    assert delays[2] <= 3.0 and delays[3] <= 3.0
    assert (
        policy.delay_for(
            1, LlmRetryableError("x", kind="rate_limited", retry_after_s=90)
        )
        == 3.0
    )


def test_configured_llm_client_prefers_anthropic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With both keys set, the Anthropic client is configured."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("OPENAI_API_KEY", "o")

    client = configured_llm_client(load_settings(), model="claude-haiku-4-5")

    assert isinstance(client, AnthropicClient)
    assert client.model == "claude-haiku-4-5"


def test_configured_llm_client_openai_then_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An OpenAI key alone gives the OpenAI client; no key gives None."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("HEYSH_ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "o")

    assert isinstance(configured_llm_client(load_settings()), OpenAIClient)

    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("HEYSH_OPENAI_API_KEY", raising=False)
    assert configured_llm_client(load_settings()) is None


def test_read_base_url_unset_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset or empty base-URL variable means the provider's default."""
    monkeypatch.setenv("HEYSH_TEST_EMPTY_URL", "  ")

    assert read_base_url("HEYSH_TEST_EMPTY_URL") is None
    assert read_base_url("") is None
