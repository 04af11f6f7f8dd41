"""The Anthropic Messages API behind ``LlmClient``: structured output by tool use.

The answer is requested as a call to one tool whose input schema is the
answer's JSON schema, with ``tool_choice`` forcing that tool. Forced tool use
is incompatible with thinking, and Claude Haiku 5.5 thinks adaptively by
default, so thinking is switched off explicitly; sampling parameters
(``temperature``...) are not sent, since Haiku 5.5 rejects non-default ones
(https://platform.claude.com/docs/en/models/haiku-5-5/migration-guide, read
2026-12-04).

Retries: in the Temporal activity path the SDK's own retries are off
(``max_retries=0``). The SDK would otherwise retry 429/529 inside one activity
attempt with its own backoff: invisible in the workflow history, stretching
the attempt towards its start-to-close timeout, and multiplying with
Temporal's retries. With them off, each failure surfaces as an
``LlmRetryableError`` carrying the retry-after, and Temporal's retry policy
decides when to try again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anthropic

from heysh.models.llm_client import (
    LlmRetryableError,
    StructuredRequest,
    StructuredResponse,
    classify_http_error,
    read_api_key,
    read_base_url,
)
from heysh.models.llm_judge import PROMPT_VERSION, HostedJudge, ParseFailurePolicy

_logger = logging.getLogger(__name__)

# The newest Haiku in the installed SDK's model list
# (anthropic.types.model_param.ModelParam, SDK 2.17.0): claude-haiku-5-5.
DEFAULT_CLAUDE_MODEL = "claude-haiku-5-5"
ANTHROPIC_API_KEY_ENV = "ANTHROPIC_API_KEY"
ANTHROPIC_BASE_URL_ENV = "ANTHROPIC_BASE_URL"


class AnthropicClient:
    """An ``LlmClient`` for Claude models through the ``anthropic`` SDK.

    Args:
        api_key: The API key (from the environment; never logged or saved).
        model: Claude model id; defaults to the current Haiku.
        base_url: API root; ``None`` lets the SDK read ``ANTHROPIC_BASE_URL``
            and fall back to the public endpoint.
        timeout_s: Per-request timeout.
        max_retries: SDK-level retries; keep 0 in activities (module docstring).
        stream: Receive the answer as server-sent events. An error reported
            inside the stream (``overloaded_error`` after HTTP 200) is mapped
            like the same error as an HTTP status.
    """

    provider = "anthropic"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_CLAUDE_MODEL,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 0,
        stream: bool = False,
    ) -> None:
        self.model = model
        self.stream = stream
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def complete_structured(self, request: StructuredRequest) -> StructuredResponse:
        """Send ``request`` forcing the answer tool; see ``LlmClient``.

        Raises:
            LlmRetryableError: 429 (with retry-after), 529 or an overload in
                the stream, 5xx, timeout or lost connection.
            LlmRequestRejectedError: 400, 401, 403, 404, 413.
        """
        kwargs: dict[str, Any] = {  # Any: the SDK's keyword arguments.
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": [
                {"role": m.role, "content": m.content} for m in request.messages
            ],
            "tools": [
                {
                    "name": request.output_name,
                    "description": request.output_description,
                    "input_schema": dict(request.output_schema),
                }
            ],
            "tool_choice": {"type": "tool", "name": request.output_name},
            "thinking": {"type": "disabled"},
        }
        started = time.perf_counter()
        try:
            if self.stream:
                with self._client.messages.stream(**kwargs) as events:
                    message = events.get_final_message()
            else:
                message = self._client.messages.create(**kwargs)
        except anthropic.APIStatusError as err:
            raise _mapped(err) from err
        except anthropic.APITimeoutError as err:
            raise LlmRetryableError(
                f"Anthropic request for {self.model} timed out", kind="timeout"
            ) from err
        except anthropic.APIConnectionError as err:
            raise LlmRetryableError(
                f"Anthropic connection failed for {self.model}", kind="connection"
            ) from err
        latency_s = time.perf_counter() - started
        return _response(message, request.output_name, latency_s)


def _mapped(err: anthropic.APIStatusError) -> Exception:
    error_type = getattr(err, "type", None)
    if error_type is None and isinstance(err.body, dict):
        error_type = (err.body.get("error") or {}).get("type")
    detail = getattr(err, "api_message", None) or ""
    return classify_http_error(
        status_code=err.status_code,
        error_type=error_type,
        message=(
            f"Anthropic API returned {err.status_code} {error_type or ''}: "
            f"{detail[:200]}"
        ).strip(),
        headers=dict(err.response.headers),
    )


def _response(
    message: Any,
    tool_name: str,
    latency_s: float,  # Any: anthropic.types.Message.
) -> StructuredResponse:
    payload: dict[str, Any] | None = None
    texts: list[str] = []
    for block in message.content:
        # Blocks are chosen by type, never by position: newer models may put a
        # thinking block first.
        if block.type == "tool_use" and block.name == tool_name:
            if isinstance(block.input, dict):
                payload = dict(block.input)
        elif block.type == "text":
            texts.append(block.text)
    usage = message.usage
    return StructuredResponse(
        payload=payload,
        text="\n".join(texts),
        model=message.model,
        tokens_in=int(usage.input_tokens or 0),
        tokens_out=int(usage.output_tokens or 0),
        latency_s=latency_s,
        stop_reason=message.stop_reason,
    )


class ClaudeJudge(HostedJudge):
    """The Claude relevance judge, scorer kind ``claude-judge``.

    Args:
        model: Claude model id; defaults to the current Haiku.
        api_key_env: Environment variable holding the API key.
        base_url_env: Environment variable holding the API root (tests and
            proxies); unset means the public endpoint.
        timeout_s: Per-request timeout.
        stream: Receive answers as server-sent events.
        max_concurrency: Calls in flight when judging a batch.
        client_retries: Client-side retries per call (batch evaluation); a
            loaded (production) judge uses 0.
        parse_retries: Extra calls for a pair whose answer did not parse.
        on_parse_failure: ``midpoint``, ``raise`` or ``nan`` (``LlmJudge``).
        max_document_chars: Head of each document that is sent.
        prompt_version: Must equal the current ``PROMPT_VERSION``.

    Raises:
        LlmNotConfiguredError: if ``api_key_env`` is unset.
    """

    provider = "anthropic"

    def __init__(
        self,
        *,
        model: str = DEFAULT_CLAUDE_MODEL,
        api_key_env: str = ANTHROPIC_API_KEY_ENV,
        base_url_env: str = ANTHROPIC_BASE_URL_ENV,
        timeout_s: float = 60.0,
        stream: bool = False,
        max_concurrency: int = 4,
        client_retries: int = 2,
        parse_retries: int = 1,
        on_parse_failure: ParseFailurePolicy = "midpoint",
        max_document_chars: int = 12_000,
        prompt_version: str = PROMPT_VERSION,
    ) -> None:
        client = AnthropicClient(
            api_key=read_api_key(api_key_env),
            model=model,
            base_url=read_base_url(base_url_env),
            timeout_s=timeout_s,
            max_retries=0,
            stream=stream,
        )
        super().__init__(
            client,
            name="claude-judge",
            settings={
                "model": model,
                "api_key_env": api_key_env,
                "base_url_env": base_url_env,
                "timeout_s": timeout_s,
                "stream": stream,
            },
            prompt_version=prompt_version,
            max_document_chars=max_document_chars,
            max_concurrency=max_concurrency,
            client_retries=client_retries,
            parse_retries=parse_retries,
            on_parse_failure=on_parse_failure,
        )
