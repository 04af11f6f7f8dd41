"""The provider-neutral LLM call: request, response, errors and retry advice.

Every hosted or self-hosted model heysh talks to sits behind ``LlmClient``:
one structured call (a system prompt, messages and the JSON schema the answer
must follow) returning the structured payload, any text, and token counts.
The relevance judge, the agent task and the LLM topic and summary variants all
use it, so each provider adapter is written and tested once.

Errors are split by what a retry can fix. ``LlmRetryableError`` (rate limit,
overload, server error, timeout, lost connection) carries the provider's
retry-after so the Temporal activity can pass it on as ``next_retry_delay``;
``LlmRequestRejectedError`` (bad key, no permission, invalid request) will fail
the same way again and must not be retried.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from heysh.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from heysh.config import Settings

_logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class ChatMessage:
    """One turn of the conversation sent to the model.

    Attributes:
        role: ``user`` or ``assistant`` (the system prompt is separate).
        content: Plain text of the turn.
    """

    role: str
    content: str


@dataclass(frozen=True)
class StructuredRequest:
    """A call whose answer must be one JSON object following ``output_schema``.

    Attributes:
        system: System prompt: the task and the rules; never user content.
        messages: The conversation, starting and ending with a user turn.
        output_name: Name of the tool (Anthropic) or schema (OpenAI) that
            carries the answer; letters, digits, ``_`` and ``-`` only.
        output_description: One sentence telling the model what the object is.
        output_schema: JSON schema of the answer (an ``object`` schema).
        max_tokens: Upper bound on generated tokens.
    """

    system: str
    messages: tuple[ChatMessage, ...]
    output_name: str
    output_description: str
    output_schema: Mapping[str, Any]  # Any: JSON schema values are arbitrary JSON.
    max_tokens: int = 512


@dataclass(frozen=True)
class StructuredResponse:
    """What the model returned, before heysh validates it.

    Attributes:
        payload: The structured answer when the provider delivered one through
            its structured channel (a tool call's input, or message content
            that is one JSON object); ``None`` otherwise.
        text: Any free text the model wrote (prose, code fences, refusals).
        model: Model id the provider reports having used.
        tokens_in: Prompt tokens billed.
        tokens_out: Generated tokens billed.
        latency_s: Wall-clock seconds of the call.
        stop_reason: The provider's stop reason (``end_turn``, ``tool_use``,
            ``max_tokens``, ``refusal``, ``stop``, ``length``...).
    """

    payload: dict[str, Any] | None  # Any: arbitrary JSON from the model.
    text: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    stop_reason: str | None = None


@runtime_checkable
class LlmClient(Protocol):
    """A configured model of one provider that answers structured requests.

    Attributes:
        provider: ``anthropic`` or ``openai`` (any OpenAI-compatible server).
        model: The model id requests are sent with.
    """

    provider: str
    model: str

    def complete_structured(self, request: StructuredRequest) -> StructuredResponse:
        """Send one request.

        Raises:
            LlmRetryableError: the call may succeed later.
            LlmRequestRejectedError: the call will fail again as sent.
        """
        ...


class LlmError(ModelError):
    """A call to an LLM provider failed.

    Attributes:
        retryable: Whether the same call may succeed later.
        kind: Short machine-readable cause, e.g. ``rate_limited``.
        status_code: HTTP status, or ``None`` when no response came back (a
            timeout) or the error arrived inside a stream (HTTP 200).
    """

    retryable = False

    def __init__(self, message: str, *, kind: str, status_code: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code


class LlmRetryableError(LlmError):
    """Rate limit (429), overload (529), server error, timeout or lost connection.

    Attributes:
        retry_after_s: Seconds the provider asked us to wait, or ``None``. The
            Temporal activity raises its retryable failure with
            ``next_retry_delay`` set to this value when present.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ):
        super().__init__(message, kind=kind, status_code=status_code)
        self.retry_after_s = retry_after_s


class LlmRequestRejectedError(LlmError):
    """Authentication (401), permission (403), invalid request (400) and the like.

    Retrying sends the same request to the same verdict, so this is
    non-retryable: the activity maps it to a non-retryable failure.
    """


class LlmNotConfiguredError(ConfigError):
    """No LLM provider is configured, or its API key is missing.

    Non-retryable: a retry cannot create an API key.
    """


# HTTP statuses a retry can fix. 529 is Anthropic's "overloaded".
RETRYABLE_STATUS_CODES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
# Error types in a response body (or an SSE ``error`` event) a retry can fix.
RETRYABLE_ERROR_TYPES = frozenset(
    {"rate_limit_error", "overloaded_error", "api_error", "timeout_error"}
)


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` or ``retry-after`` headers.

    ``retry-after`` may be seconds or an HTTP date (RFC 9110 section 10.2.3).

    >>> parse_retry_after({"retry-after": "7"})
    7.0
    >>> parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"})
    1.5
    >>> parse_retry_after({}) is None
    True
    """
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_http_error(
    *,
    status_code: int | None,
    error_type: str | None,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> LlmError:
    """Turn a provider's HTTP or in-stream error into a heysh error.

    Args:
        status_code: The HTTP status; 200 for an error event inside a stream.
        error_type: The ``error.type`` of the body (``overloaded_error``...).
        message: A short description safe to log (no prompt, no key).
        headers: Response headers, for ``retry-after``.

    Returns:
        An ``LlmRetryableError`` or an ``LlmRequestRejectedError``.

    >>> err = classify_http_error(status_code=200, error_type="overloaded_error",
    ...                           message="Overloaded")
    >>> err.retryable, err.kind
    (True, 'overloaded')
    """
    retry_after = parse_retry_after(headers)
    if status_code == 429 or error_type == "rate_limit_error":
        return LlmRetryableError(
            message,
            kind="rate_limited",
            status_code=status_code,
            retry_after_s=retry_after,
        )
    if status_code == 529 or error_type == "overloaded_error":
        return LlmRetryableError(
            message,
            kind="overloaded",
            status_code=status_code,
            retry_after_s=retry_after,
        )
    if (
        status_code in RETRYABLE_STATUS_CODES
        or error_type in RETRYABLE_ERROR_TYPES
        or (status_code is not None and status_code >= 500)
    ):
        return LlmRetryableError(
            message,
            kind="server_error",
            status_code=status_code,
            retry_after_s=retry_after,
        )
    kind = {
        400: "invalid_request",
        401: "authentication",
        403: "permission",
        404: "not_found",
        413: "request_too_large",
    }.get(status_code or 0, error_type or "rejected")
    return LlmRequestRejectedError(message, kind=kind, status_code=status_code)


@dataclass
class RetryPolicy:
    """Client-side retries for batch evaluation (not the activity path).

    In a Temporal activity the SDK's and this client-side retry are both off,
    so Temporal's retry policy alone decides, visibly in the workflow history.
    A notebook scoring thousands of pairs has no Temporal around it, so it
    retries a few times here, waiting the provider's retry-after when given
    and otherwise exponential backoff with jitter.

    Attributes:
        max_retries: Retries after the first attempt; 0 disables retrying.
        base_delay_s: First backoff delay; doubled on each retry.
        max_delay_s: Cap on any single wait, including a retry-after.
        sleep: Called to wait (replaced in tests).
    """

    max_retries: int = 2
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay_for(self, attempt: int, error: LlmRetryableError) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if error.retry_after_s is not None:
            return min(self.max_delay_s, error.retry_after_s)
        backoff = self.base_delay_s * 2.0 ** (attempt - 1)
        return float(min(self.max_delay_s, backoff * (0.5 + random.random() / 2)))

    def call(self, fn: Callable[[], T]) -> tuple[T, int]:
        """Run ``fn``, retrying ``LlmRetryableError``; return (result, attempts).

        Raises:
            LlmRetryableError: when every attempt failed retryably.
            LlmRequestRejectedError: at once, never retried.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn(), attempt
            except LlmRetryableError as err:
                if attempt > self.max_retries:
                    raise
                delay = self.delay_for(attempt, err)
                _logger.warning(
                    "llm_call_retrying",
                    extra={"kind": err.kind, "attempt": attempt, "delay_s": delay},
                )
                self.sleep(delay)


NO_RETRIES = RetryPolicy(max_retries=0)


def read_api_key(env_name: str) -> str:
    """The API key in environment variable ``env_name``.

    Keys are read where a client is built and handed straight to the SDK;
    they are never stored on heysh objects, saved with a model or logged.

    Raises:
        LlmNotConfiguredError: naming the variable when it is unset or empty.
    """
    value = os.environ.get(env_name, "").strip()
    if not value:
        raise LlmNotConfiguredError(
            f"no API key in the environment variable {env_name}; set it (or "
            "configure another LLM provider) to use this model"
        )
    return value


def read_base_url(env_name: str) -> str | None:
    """The base URL in environment variable ``env_name``, or ``None`` if unset."""
    if not env_name:
        return None
    return os.environ.get(env_name, "").strip() or None


def configured_llm_client(
    settings: Settings, *, model: str = "", timeout_s: float = 60.0
) -> LlmClient | None:
    """The LLM heysh's settings configure, or ``None`` when there is none.

    Anthropic is used when ``ANTHROPIC_API_KEY`` is set, else an
    OpenAI-compatible server when ``OPENAI_API_KEY`` is set. Base URLs come
    from ``ANTHROPIC_BASE_URL`` / ``OPENAI_BASE_URL`` (read by the SDKs). SDK
    retries are off: callers run inside Temporal activities.

    Args:
        settings: Loaded settings (the keys are ``SecretStr``).
        model: Model id; empty picks the provider's default.
        timeout_s: Per-request timeout.
    """
    if settings.anthropic_api_key is not None:
        from heysh.models.llm_anthropic import DEFAULT_CLAUDE_MODEL, AnthropicClient

        return AnthropicClient(
            api_key=settings.anthropic_api_key.get_secret_value(),
            model=model or DEFAULT_CLAUDE_MODEL,
            timeout_s=timeout_s,
        )
    if settings.openai_api_key is not None:
        from heysh.models.llm_openai import DEFAULT_OPENAI_MODEL, OpenAIClient

        return OpenAIClient(
            api_key=settings.openai_api_key.get_secret_value(),
            model=model or DEFAULT_OPENAI_MODEL,
            timeout_s=timeout_s,
        )
    return None
