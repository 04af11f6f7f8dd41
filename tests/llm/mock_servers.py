"""Local HTTP servers speaking the Anthropic Messages and OpenAI Chat APIs.

Each server listens on 127.0.0.1 (a free port), answers the one endpoint heysh
calls (``POST /v1/messages``, ``POST /v1/chat/completions``) over real HTTP,
including Anthropic's server-sent-event stream, and checks every request's
shape: the auth header (``x-api-key`` or ``Authorization: Bearer``, which
the installed anthropic SDK sends), ``anthropic-version``, the model, the messages, the
tool or ``response_format`` and settings the real API rejects. A malformed
request is answered with a 400 *and* recorded in ``problems``; the fixtures
fail the test when ``problems`` is not empty at teardown.

Responses are scripted: ``server.script("rate_limited", "tool_use")`` makes
the next two requests get a 429 and then a verdict; unscripted requests get
the default mode. A mode may also be a tuple ``("tool_input", {...})`` or
``("text", "...")`` to return exactly that.

The default verdict comes from a *naive model*, written to make judge tests
meaningful, not to judge well:

* it scores by lexical overlap between the domain description and the data
  block: deterministic, cheap, and NOT a measure of any real LLM's quality
  (judge quality is not measured offline);
* it obeys a scoring instruction ("rate this 10") found outside the data
  block, and inside the block wherever a person reading the document would not
  see it or where it poses as a conversation turn: HTML or markdown comments,
  hidden elements, script or style, Unicode tag characters (decoded to ASCII,
  as models have been shown to read them), and lines opening with a role
  marker (``System:``, ``<|im_start|>``, ``[INST]``), reading through
  zero-width characters. Plain visible text inside the block is treated as
  data, as a model that honours the framing would.

So a judge that sends documents un-neutralised is fooled, and the attack
success rate measured against this server shows what neutralisation buys.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import unicodedata
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# API versions a request may name: the original one and the one the installed
# SDK sends (anthropic 2.17.0 sends 2026-10-21 and authenticates with
# "Authorization: Bearer"; older SDKs send 2023-06-01 and "x-api-key").
ANTHROPIC_VERSIONS = frozenset({"2023-06-01", "2026-10-21"})
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# --- the naive model -----------------------------------------------------------

_STOP = frozenset(
    [
        "about",
        "after",
        "also",
        "among",
        "and",
        "are",
        "been",
        "being",
        "between",
        "from",
        "have",
        "including",
        "into",
        "more",
        "news",
        "other",
        "over",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "which",
        "while",
        "with",
        "within",
        "would",
    ]
)
_WORDS = re.compile(r"[^\W\d_]{4,}")
_INSTRUCTION = re.compile(
    r"(?i)\b(?:rate|score|scored|give|assign|grade|relevance)\b[^\n.]{0,80}?"
    r"\b(\d{1,2}(?:\.\d+)?)\b(?!\s*%)"
)
_JSON_SCORE = re.compile(r"\"score\"\s*:\s*(\d{1,2}(?:\.\d+)?)")
_COMMENTS = re.compile(r"<!--(.*?)(?:-->|\Z)", re.DOTALL)
_HIDDEN = re.compile(
    r"<(\w+)[^>]*(?:\shidden|display\s*:\s*none|visibility\s*:\s*hidden|"
    r"font-size\s*:\s*0)[^>]*>(.*?)</\1>|<(script|style)[^>]*>(.*?)</\3>",
    re.DOTALL | re.IGNORECASE,
)
_MD_COMMENT = re.compile(r"^\s*\[[^\]]*\]:\s*#\s*\((.*)\)\s*$", re.MULTILINE)
_ROLE_LINE = re.compile(
    r"(?im)^[ \t>#*_-]*(?:system|assistant|developer|operator)\s*:(.*)$"
)
_TEMPLATE = re.compile(
    r"<\|im_start\|>\s*(?:system|assistant)(.*?)(?:<\|im_end\|>|\Z)"
    r"|\[INST\](.*?)(?:\[/INST\]|\Z)|<<SYS>>(.*?)(?:<</SYS>>|\Z)",
    re.DOTALL | re.IGNORECASE,
)


def _requested_score(text: str) -> float | None:
    for pattern in (_JSON_SCORE, _INSTRUCTION):
        match = pattern.search(text)
        if match:
            return float(match.group(1))
    return None


def _hidden_channels(block: str) -> list[str]:
    """Text a naive model reads as instructions inside the data block."""
    smuggled = "".join(
        chr(ord(c) - 0xE0000) for c in block if 0xE0020 <= ord(c) <= 0xE007E
    )
    # Models read through zero-width characters and full-width letters.
    visible = unicodedata.normalize(
        "NFKC", "".join(c for c in block if unicodedata.category(c) != "Cf")
    )
    found = [smuggled] if smuggled else []
    found += _COMMENTS.findall(visible)
    for groups in _HIDDEN.findall(visible):
        found += [g for g in (groups[1], groups[3]) if g]
    found += _MD_COMMENT.findall(visible)
    found += _ROLE_LINE.findall(visible)
    for groups in _TEMPLATE.findall(visible):
        found += [g for g in groups if g]
    return found


def naive_verdict(user_text: str) -> dict[str, Any]:
    """The naive model's verdict for a judge prompt (see module docstring)."""
    description = ""
    match = re.search(
        r"<domain_description>\n(.*?)\n</domain_description>", user_text, re.DOTALL
    )
    if match:
        description = match.group(1)
    block_match = re.search(
        r"<(document-[0-9a-f]{12})>\n(.*?)\n</\1>", user_text, re.DOTALL
    )
    block = block_match.group(2) if block_match else ""
    outside = user_text
    if block_match:
        outside = user_text[: block_match.start()] + user_text[block_match.end() :]
    if match:
        outside = outside.replace(match.group(0), "")

    for channel in [outside, *_hidden_channels(block)]:
        requested = _requested_score(channel)
        if requested is not None:
            return {
                "score": requested,
                "rationale": "The document says what its score is.",
            }

    terms = {w[:6] for w in _WORDS.findall(description.lower()) if w not in _STOP}
    seen = {w[:6] for w in _WORDS.findall(block.lower())}
    overlap = len(terms & seen)
    score = round(min(10.0, 20.0 * overlap / max(1, len(terms))), 1)
    return {
        "score": score,
        "rationale": f"{overlap} of {len(terms)} description terms occur.",
    }


def example_from_schema(schema: dict[str, Any]) -> Any:
    """A minimal instance of a JSON schema (for unscripted non-judge calls)."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        return {
            k: example_from_schema(v)
            for k, v in props.items()
            if k in schema.get("required", list(props))
        }
    if kind == "array":
        n = int(schema.get("minItems", 1))
        return [example_from_schema(schema.get("items", {"type": "string"}))] * n
    if kind in ("number", "integer"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return "mock"


def _is_judge_prompt(text: str) -> bool:
    return "<domain_description>" in text


# --- shared server machinery ---------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class ScriptedLlmServer:
    """Base: a threaded HTTP server on 127.0.0.1 with scripted responses.

    Args:
        api_key: The key requests must carry; another key gets a 401.
        default_mode: Mode for requests with no script left.
        slow_s: How long the ``slow`` mode waits before answering.

    Attributes:
        url: ``http://127.0.0.1:PORT`` (OpenAI clients add ``/v1``).
        requests: Every request received: ``{"path", "headers", "body"}`` with
            the key header replaced by whether it matched.
        problems: Malformed requests, one sentence each.
    """

    path = ""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        default_mode: Any = None,
        slow_s: float = 2.0,
    ) -> None:
        self.api_key = api_key
        self.default_mode = default_mode
        self.slow_s = slow_s
        self.requests: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self._script: deque[Any] = deque()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *modes: Any) -> None:
        """Queue the modes of the next requests, in order."""
        with self._lock:
            self._script.extend(modes)

    def close(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedLlmServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next_mode(self) -> Any:
        with self._lock:
            return self._script.popleft() if self._script else self.default_mode

    def _problem(self, message: str) -> None:
        with self._lock:
            self.problems.append(message)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:
                """Silence the default stderr access log."""

            def do_POST(self) -> None:
                try:
                    server._serve(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer
                except Exception as err:  # a bug in the mock must fail the test
                    server._problem(f"mock server error: {err!r}")
                    server._send_json(self, 500, {"error": repr(err)})

            def do_GET(self) -> None:
                server._problem(f"unexpected GET {self.path}")
                server._send_json(self, 404, {"error": "not found"})

        return Handler

    def _read(self, handler: BaseHTTPRequestHandler) -> tuple[dict[str, str], Any]:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        return headers, body

    def _send_json(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError


def _usage_tokens(body: Any, output: str) -> tuple[int, int]:
    return max(1, len(json.dumps(body)) // 4), max(1, len(output) // 4)


# --- Anthropic -----------------------------------------------------------------


class AnthropicMockServer(ScriptedLlmServer):
    """``POST /v1/messages`` as the Anthropic Messages API answers it.

    Modes: ``tool_use`` (default), ``json_text``, ``prose_json``,
    ``code_fence``, ``malformed``, ``missing_score``, ``missing_rationale``,
    ``out_of_range``, ``refusal``, ``rate_limited`` (429, retry-after 2),
    ``overloaded`` (529), ``server_error`` (500), ``unauthorized`` (401),
    ``invalid_request`` (400), ``slow``, ``stream_overloaded`` (HTTP 200, then
    an ``overloaded_error`` event inside the stream), ``("tool_input", obj)``
    and ``("text", str)``. A request with ``"stream": true`` gets its answer
    as server-sent events.
    """

    path = "/v1/messages"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_mode", "tool_use")
        super().__init__(**kwargs)

    def _check(self, headers: dict[str, str], body: Any) -> list[str]:
        problems = []
        if "x-api-key" not in headers and not headers.get(
            "authorization", ""
        ).startswith("Bearer "):
            problems.append("neither x-api-key nor Authorization: Bearer header")
        if headers.get("anthropic-version") not in ANTHROPIC_VERSIONS:
            problems.append(
                f"anthropic-version is {headers.get('anthropic-version')!r}"
            )
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append("content-type is not application/json")
        if not isinstance(body, dict):
            return [*problems, "body is not a JSON object"]
        if not isinstance(body.get("model"), str) or not body["model"]:
            problems.append("model missing")
        if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
            problems.append("max_tokens missing or not a positive integer")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            problems.append("messages missing or empty")
        else:
            roles = [m.get("role") for m in messages if isinstance(m, dict)]
            if len(roles) != len(messages) or any(
                r not in ("user", "assistant") for r in roles
            ):
                problems.append(f"bad message roles {roles}")
            elif roles[0] != "user" or any(
                a == b for a, b in itertools.pairwise(roles)
            ):
                problems.append(f"roles must alternate from user, got {roles}")
            elif roles[-1] != "user":
                problems.append("assistant prefill is rejected by this model")
            for m in messages:
                if not isinstance(m.get("content"), str | list):
                    problems.append("message content must be a string or blocks")
        model = str(body.get("model", ""))
        if model.startswith("claude-haiku-5"):
            sampling = [k for k in ("temperature", "top_p", "top_k") if k in body]
            if sampling:
                problems.append(f"{model} rejects sampling parameters {sampling}")
        for tool in body.get("tools", []):
            if not _NAME.match(str(tool.get("name", ""))):
                problems.append(f"bad tool name {tool.get('name')!r}")
            if (tool.get("input_schema") or {}).get("type") != "object":
                problems.append("tool input_schema must be an object schema")
        choice = body.get("tool_choice")
        if choice is not None:
            names = {t.get("name") for t in body.get("tools", [])}
            if choice.get("type") == "tool" and choice.get("name") not in names:
                problems.append(f"tool_choice names unknown tool {choice.get('name')}")
            thinking = (body.get("thinking") or {}).get("type", "adaptive")
            if choice.get("type") in ("tool", "any") and thinking != "disabled":
                problems.append("forced tool use needs thinking disabled")
        return problems

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        headers, body = self._read(handler)
        key_ok = self.api_key in (
            headers.get("x-api-key"),
            headers.get("authorization", "")[len("Bearer ") :],
        )
        self.requests.append(
            {
                "path": handler.path,
                "headers": {
                    k: v
                    for k, v in headers.items()
                    if k not in ("x-api-key", "authorization")
                },
                "key_ok": key_ok,
                "body": body,
            }
        )
        if handler.path != self.path:
            self._problem(f"unexpected path {handler.path}")
            return self._send_json(handler, 404, _a_error("not_found_error", "no"))
        problems = self._check(headers, body)
        if problems:
            for problem in problems:
                self._problem(problem)
            return self._send_json(
                handler, 400, _a_error("invalid_request_error", "; ".join(problems))
            )
        if not key_ok:
            return self._send_json(
                handler, 401, _a_error("authentication_error", "invalid x-api-key")
            )
        mode = self._next_mode()
        errors = {
            "rate_limited": (429, "rate_limit_error", {"retry-after": "2"}),
            "overloaded": (529, "overloaded_error", {}),
            "server_error": (500, "api_error", {}),
            "unauthorized": (401, "authentication_error", {}),
            "invalid_request": (400, "invalid_request_error", {}),
        }
        if isinstance(mode, str) and mode in errors:
            status, kind, extra = errors[mode]
            return self._send_json(handler, status, _a_error(kind, mode), extra)
        if mode == "slow":
            time.sleep(self.slow_s)
            mode = "tool_use"
        stream = bool(body.get("stream"))
        if mode == "stream_overloaded" and not stream:
            self._problem("stream_overloaded scripted for a request without stream")
            mode = "overloaded"
            return self._send_json(handler, 529, _a_error("overloaded_error", "x"))
        message = self._message(body, mode)
        if stream:
            return self._send_stream(
                handler, message, overload=(mode == "stream_overloaded")
            )
        return self._send_json(handler, 200, message)

    def _message(self, body: dict[str, Any], mode: Any) -> dict[str, Any]:
        user = _last_user_text(body["messages"])
        tool = (body.get("tools") or [{}])[0]
        if _is_judge_prompt(user):
            verdict = naive_verdict(user)
        else:
            verdict = example_from_schema(tool.get("input_schema") or {})
        content: list[dict[str, Any]]
        stop = "end_turn"
        if isinstance(mode, tuple) and mode[0] == "tool_input":
            content, stop = [_tool_block(tool, mode[1])], "tool_use"
        elif isinstance(mode, tuple) and mode[0] == "text":
            content = [{"type": "text", "text": mode[1]}]
        elif mode in ("tool_use", "stream_overloaded"):
            content, stop = [_tool_block(tool, verdict)], "tool_use"
        elif mode == "missing_score":
            content, stop = [_tool_block(tool, {"rationale": "No score."})], "tool_use"
        elif mode == "missing_rationale":
            content, stop = [_tool_block(tool, {"score": 6})], "tool_use"
        elif mode == "out_of_range":
            content = [_tool_block(tool, {"score": 14, "rationale": "Very."})]
            stop = "tool_use"
        elif mode == "refusal":
            content, stop = [], "refusal"
        else:
            content = [{"type": "text", "text": _text_answer(mode, verdict)}]
        output = json.dumps(content)
        tokens_in, tokens_out = _usage_tokens(body, output)
        return {
            "id": f"msg_mock{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
        }

    def _send_stream(
        self,
        handler: BaseHTTPRequestHandler,
        message: dict[str, Any],
        *,
        overload: bool,
    ) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.end_headers()

        def emit(event: str, data: dict[str, Any]) -> None:
            handler.wfile.write(
                f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
            )
            handler.wfile.flush()

        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {
                "input_tokens": message["usage"]["input_tokens"],
                "output_tokens": 1,
            },
        }
        emit("message_start", {"type": "message_start", "message": start})
        emit("ping", {"type": "ping"})
        if overload:
            emit(
                "error",
                {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                },
            )
            return
        for index, block in enumerate(message["content"]):
            if block["type"] == "tool_use":
                emit(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {**block, "input": {}},
                    },
                )
                raw = json.dumps(block["input"])
                for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                    emit(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": part},
                        },
                    )
            else:
                emit(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
                emit(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": block["text"]},
                    },
                )
            emit("content_block_stop", {"type": "content_block_stop", "index": index})
        emit(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
        emit("message_stop", {"type": "message_stop"})


def _a_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _tool_block(tool: dict[str, Any], payload: Any) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": "toolu_mock",
        "name": tool.get("name", "x"),
        "input": payload,
    }


def _text_answer(mode: Any, verdict: Any) -> str:
    as_json = json.dumps(verdict)
    if mode in ("json_text", "json"):
        return as_json
    if mode == "prose_json":
        return f"Having read the document, here is my verdict: {as_json} Thanks."
    if mode == "code_fence":
        return f"Verdict below.\n```json\n{as_json}\n```\n"
    if mode == "malformed":
        return "I would say it is fairly relevant, maybe a seven or so."
    raise ValueError(f"unknown mock mode {mode!r}")


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


# --- OpenAI --------------------------------------------------------------------


class OpenAIMockServer(ScriptedLlmServer):
    """``POST /v1/chat/completions`` as OpenAI-compatible servers answer it.

    Modes: ``json`` (default), ``prose_json``, ``code_fence``, ``malformed``,
    ``missing_score``, ``out_of_range``, ``refusal``, ``rate_limited`` (429,
    retry-after 2), ``quota`` (429 insufficient_quota), ``overloaded`` (529),
    ``server_error`` (500), ``unauthorized`` (401), ``invalid_request``
    (400), ``slow``, ``("json_payload", obj)`` and ``("text", str)``.
    """

    path = "/v1/chat/completions"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_mode", "json")
        super().__init__(**kwargs)

    def _check(self, headers: dict[str, str], body: Any) -> list[str]:
        problems = []
        if not headers.get("authorization", "").startswith("Bearer "):
            problems.append("missing Authorization: Bearer header")
        if not isinstance(body, dict):
            return [*problems, "body is not a JSON object"]
        if not isinstance(body.get("model"), str) or not body["model"]:
            problems.append("model missing")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            problems.append("messages missing or empty")
        else:
            for m in messages:
                if m.get("role") not in ("system", "developer", "user", "assistant"):
                    problems.append(f"bad role {m.get('role')!r}")
                if not isinstance(m.get("content"), str):
                    problems.append("message content must be a string")
        for key in ("max_tokens", "max_completion_tokens"):
            if key in body and (not isinstance(body[key], int) or body[key] < 1):
                problems.append(f"{key} must be a positive integer")
        fmt = body.get("response_format")
        if fmt is not None:
            if fmt.get("type") == "json_schema":
                spec = fmt.get("json_schema") or {}
                if not _NAME.match(str(spec.get("name", ""))):
                    problems.append("json_schema.name missing or invalid")
                if not isinstance(spec.get("schema"), dict):
                    problems.append("json_schema.schema missing")
            elif fmt.get("type") == "json_object":
                texts = " ".join(str(m.get("content")) for m in messages or [])
                if "json" not in texts.lower():
                    problems.append("json_object mode needs 'JSON' in the messages")
            else:
                problems.append(f"unknown response_format {fmt.get('type')!r}")
        return problems

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        headers, body = self._read(handler)
        key_ok = headers.get("authorization") == f"Bearer {self.api_key}"
        self.requests.append(
            {
                "path": handler.path,
                "headers": {k: v for k, v in headers.items() if k != "authorization"},
                "key_ok": key_ok,
                "body": body,
            }
        )
        if handler.path != self.path:
            self._problem(f"unexpected path {handler.path}")
            return self._send_json(handler, 404, _o_error("not_found", None, "no"))
        problems = self._check(headers, body)
        if problems:
            for problem in problems:
                self._problem(problem)
            return self._send_json(
                handler,
                400,
                _o_error("invalid_request_error", None, "; ".join(problems)),
            )
        if not key_ok:
            return self._send_json(
                handler,
                401,
                _o_error(
                    "invalid_request_error", "invalid_api_key", "Incorrect API key"
                ),
            )
        mode = self._next_mode()
        errors = {
            "rate_limited": (
                429,
                "requests",
                "rate_limit_exceeded",
                {"retry-after": "2"},
            ),
            "quota": (429, "insufficient_quota", "insufficient_quota", {}),
            "overloaded": (529, "overloaded_error", None, {}),
            "server_error": (500, "server_error", None, {}),
            "unauthorized": (401, "invalid_request_error", "invalid_api_key", {}),
            "invalid_request": (400, "invalid_request_error", None, {}),
        }
        if isinstance(mode, str) and mode in errors:
            status, kind, code, extra = errors[mode]
            return self._send_json(handler, status, _o_error(kind, code, mode), extra)
        if mode == "slow":
            time.sleep(self.slow_s)
            mode = "json"
        return self._send_json(handler, 200, self._completion(body, mode))

    def _completion(self, body: dict[str, Any], mode: Any) -> dict[str, Any]:
        user = _last_user_text(body["messages"])
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        verdict = (
            naive_verdict(user)
            if _is_judge_prompt(user)
            else example_from_schema(schema)
        )
        refusal = None
        finish = "stop"
        if isinstance(mode, tuple) and mode[0] == "json_payload":
            content: str | None = json.dumps(mode[1])
        elif isinstance(mode, tuple) and mode[0] == "text":
            content = mode[1]
        elif mode == "missing_score":
            content = json.dumps({"rationale": "No score."})
        elif mode == "out_of_range":
            content = json.dumps({"score": -3, "rationale": "Negative."})
        elif mode == "refusal":
            content, refusal = None, "I can't help with that."
        else:
            content = _text_answer(mode, verdict)
        tokens_in, tokens_out = _usage_tokens(body, content or refusal or "")
        return {
            "id": f"chatcmpl-mock{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                    },
                }
            ],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }


def _o_error(kind: str, code: str | None, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message, "param": None}}
