"""OpenAI-compatible chat APIs behind ``LlmClient``: structured output as JSON.

Works with OpenAI's Chat Completions endpoint and with servers that copy it
(vLLM, llama.cpp's server, Ollama, LiteLLM...), so GPT-class hosted models
and self-hosted open models can be judges. The answer is requested with
``response_format``: ``json_schema`` (strict where the schema allows it) by
default, or ``json_object`` for servers without schema-guided decoding; in
both cases heysh validates the answer itself. Retries follow the same rule as
the Anthropic adapter: none in the SDK on the activity path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Literal

import openai

from heysh.models.llm_client import (
    LlmRequestRejectedError,
    LlmRetryableError,
    StructuredRequest,
    StructuredResponse,
    classify_http_error,
    read_api_key,
    read_base_url,
)
from heysh.models.llm_judge import PROMPT_VERSION, HostedJudge, ParseFailurePolicy

# A small current GPT model with a listed price (see llm_costs).
DEFAULT_OPENAI_MODEL = "gpt-5.4-mini"
OPENAI_API_KEY_ENV = "OPENAI_API_KEY"
OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"

ResponseFormat = Literal["json_schema", "json_object"]


class OpenAIClient:
    """An ``LlmClient`` for any OpenAI-compatible Chat Completions server.

    Args:
        api_key: The API key or token (from the environment; never saved).
        model: Model id as the server knows it.
        base_url: API root including ``/v1``; ``None`` lets the SDK read
            ``OPENAI_BASE_URL`` and fall back to OpenAI.
        timeout_s: Per-request timeout.
        max_retries: SDK-level retries; keep 0 in activities.
        response_format: ``json_schema`` or ``json_object`` (see module doc).
        token_limit_param: ``max_completion_tokens`` (OpenAI's current name)
            or ``max_tokens`` for older servers.
    """

    provider = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_OPENAI_MODEL,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 0,
        response_format: ResponseFormat = "json_schema",
        token_limit_param: str = "max_completion_tokens",
    ) -> None:
        if response_format not in ("json_schema", "json_object"):
            raise ValueError(
                f"response_format must be 'json_schema' or 'json_object', got "
                f"{response_format!r}"
            )
        self.model = model
        self.response_format = response_format
        self.token_limit_param = token_limit_param
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def complete_structured(self, request: StructuredRequest) -> StructuredResponse:
        """Send ``request`` asking for one JSON object; see ``LlmClient``.

        Raises:
            LlmRetryableError: 429 (not quota), 5xx, 529, timeout, connection.
            LlmRequestRejectedError: 400, 401, 403, 404 and exhausted quota.
        """
        schema = dict(request.output_schema)
        system = request.system
        if self.response_format == "json_schema":
            response_format: dict[str, Any] = {  # Any: JSON payload.
                "type": "json_schema",
                "json_schema": {
                    "name": request.output_name,
                    "description": request.output_description,
                    "schema": schema,
                    "strict": is_strict_compatible(schema),
                },
            }
        else:
            # JSON mode needs the word JSON in the prompt, and has no schema.
            response_format = {"type": "json_object"}
            system += (
                "\n\nReply with one JSON object that follows this JSON schema:\n"
                + json.dumps(schema, ensure_ascii=False)
            )
        messages = [{"role": "system", "content": system}] + [
            {"role": m.role, "content": m.content} for m in request.messages
        ]
        params: dict[str, Any] = {  # Any: plain JSON request parameters.
            "model": self.model,
            "messages": messages,
            "response_format": response_format,
            self.token_limit_param: request.max_tokens,
        }
        started = time.perf_counter()
        try:
            completion = self._client.chat.completions.create(**params)
        except openai.APIStatusError as err:
            raise _mapped(err) from err
        except openai.APITimeoutError as err:
            raise LlmRetryableError(
                f"OpenAI-compatible request for {self.model} timed out", kind="timeout"
            ) from err
        except openai.APIConnectionError as err:
            raise LlmRetryableError(
                f"OpenAI-compatible connection failed for {self.model}",
                kind="connection",
            ) from err
        return _response(completion, time.perf_counter() - started, self.model)


def is_strict_compatible(schema: Mapping[str, Any]) -> bool:
    """Whether OpenAI's strict structured outputs accept ``schema`` as is.

    Strict mode needs every object to list all its properties as required and
    to forbid additional properties.

    >>> is_strict_compatible({"type": "object", "properties": {"a": {"type": "string"}},
    ...                       "required": ["a"], "additionalProperties": False})
    True
    >>> is_strict_compatible({"type": "object", "properties": {"a": {}}})
    False
    """
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties", True) is not False:
            return False
        if set(schema.get("required", [])) != set(properties):
            return False
        if not all(is_strict_compatible(p) for p in properties.values()):
            return False
    items = schema.get("items")
    if isinstance(items, Mapping) and not is_strict_compatible(items):
        return False
    for key in ("anyOf", "allOf", "oneOf"):
        if not all(is_strict_compatible(s) for s in schema.get(key, [])):
            return False
    return True


def _mapped(err: openai.APIStatusError) -> Exception:
    code = getattr(err, "code", None)
    error_type = getattr(err, "type", None)
    if err.status_code == 429 and code == "insufficient_quota":
        # Out of credit, not throttled: waiting does not help.
        return LlmRequestRejectedError(
            "OpenAI-compatible API returned 429 insufficient_quota; add credit "
            "or use another key",
            kind="insufficient_quota",
            status_code=429,
        )
    if err.status_code == 529 and error_type is None:
        error_type = "overloaded_error"
    return classify_http_error(
        status_code=err.status_code,
        error_type=error_type,
        message=(
            f"OpenAI-compatible API returned {err.status_code} "
            f"{error_type or ''} {code or ''}"
        ).strip(),
        headers=dict(err.response.headers),
    )


def _response(
    completion: Any,
    latency_s: float,
    requested_model: str,  # Any: ChatCompletion.
) -> StructuredResponse:
    choice = completion.choices[0] if completion.choices else None
    text = ""
    stop_reason = None
    if choice is not None:
        text = choice.message.content or ""
        stop_reason = choice.finish_reason
        if getattr(choice.message, "refusal", None):
            stop_reason = "refusal"
    payload = None
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        payload = decoded
    usage = completion.usage
    return StructuredResponse(
        payload=payload,
        text=text,
        model=completion.model or requested_model,
        tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
        tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
        latency_s=latency_s,
        stop_reason=stop_reason,
    )


class OpenAIJudge(HostedJudge):
    """A judge on any OpenAI-compatible server, scorer kind ``openai-judge``.

    Args:
        model: Model id as the server knows it.
        api_key_env: Environment variable holding the key or token.
        base_url_env: Environment variable holding the API root including
            ``/v1`` (a self-hosted server); unset means OpenAI.
        timeout_s: Per-request timeout.
        response_format: ``json_schema`` or ``json_object``.
        token_limit_param: ``max_completion_tokens`` or ``max_tokens``.
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

    provider = "openai"

    def __init__(
        self,
        *,
        model: str = DEFAULT_OPENAI_MODEL,
        api_key_env: str = OPENAI_API_KEY_ENV,
        base_url_env: str = OPENAI_BASE_URL_ENV,
        timeout_s: float = 60.0,
        response_format: ResponseFormat = "json_schema",
        token_limit_param: str = "max_completion_tokens",
        max_concurrency: int = 4,
        client_retries: int = 2,
        parse_retries: int = 1,
        on_parse_failure: ParseFailurePolicy = "midpoint",
        max_document_chars: int = 12_000,
        prompt_version: str = PROMPT_VERSION,
    ) -> None:
        client = OpenAIClient(
            api_key=read_api_key(api_key_env),
            model=model,
            base_url=read_base_url(base_url_env),
            timeout_s=timeout_s,
            max_retries=0,
            response_format=response_format,
            token_limit_param=token_limit_param,
        )
        super().__init__(
            client,
            name="openai-judge",
            settings={
                "model": model,
                "api_key_env": api_key_env,
                "base_url_env": base_url_env,
                "timeout_s": timeout_s,
                "response_format": response_format,
                "token_limit_param": token_limit_param,
            },
            prompt_version=prompt_version,
            max_document_chars=max_document_chars,
            max_concurrency=max_concurrency,
            client_retries=client_retries,
            parse_retries=parse_retries,
            on_parse_failure=on_parse_failure,
        )
