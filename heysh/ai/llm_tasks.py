"""LLM variants of topic extraction and notification summaries.

The offline variants (``heysh.ai.topics``, ``heysh.ai.summaries``) need no
model; these ask the configured LLM instead, through ``run_agent_task``, so
the answer is schema-validated and repaired once like any agent task. The
document is untrusted: it is neutralised like a judged document (hidden
markup and invisible characters removed) and framed as data. Summaries are
written in the document's own language; the model reports which language that
was, so a notification can be labelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from heysh.ai.agent import run_agent_task_detailed
from heysh.models.llm_client import LlmClient
from heysh.models.llm_judge import neutralise_document

_logger = logging.getLogger(__name__)

# Head of the document sent to the model: enough to find its topics and lead,
# bounded so a huge upload does not become a huge bill.
MAX_DOCUMENT_CHARS = 12_000

_TOPIC_INSTRUCTIONS = """\
List the main topics of the document in the input: up to {n} short key \
phrases (one to four words each), most central first, in the document's own \
language. Name subjects, not the document's form ("annual report" only if \
that is its subject)."""

_SUMMARY_INSTRUCTIONS = """\
Write a summary of the document in the input for a notification: what it is \
about and its main point, at most {max_chars} characters, plain text, no \
greeting. Write it in the same language as the document{hint}. Also give the \
ISO 639-1 code of the language you wrote in."""


@dataclass(frozen=True)
class LlmSummary:
    """A notification summary from an LLM.

    Attributes:
        summary: Plain text, at most the requested number of characters.
        language: ISO 639-1 code of the language it is written in.
        model: The model that wrote it.
    """

    summary: str
    language: str
    model: str


def _document_input(text: str) -> str:
    neutral = neutralise_document(text).text
    if len(neutral) > MAX_DOCUMENT_CHARS:
        neutral = neutral[:MAX_DOCUMENT_CHARS] + "\n[document cut here]"
    return neutral


def extract_topics_with_llm(
    text: str, *, llm: LlmClient | None, max_topics: int = 8
) -> list[str]:
    """Topics of a document as short key phrases, from the configured LLM.

    Args:
        text: Normalised document text.
        llm: The configured model; ``None`` raises ``LlmNotConfiguredError``
            (callers fall back to ``heysh.ai.topics.extract_topics``).
        max_topics: Most topics returned (1 or more).

    Returns:
        Distinct phrases (case-insensitively), most central first.

    Raises:
        LlmNotConfiguredError, AgentOutputInvalidError, LlmRetryableError,
        LlmRequestRejectedError: as ``heysh.ai.agent.run_agent_task``.
    """
    if max_topics < 1:
        raise ValueError(f"max_topics must be at least 1, got {max_topics}")
    if not text.strip():
        return []
    schema = {
        "type": "object",
        "properties": {
            "topics": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 80},
                "minItems": 1,
                "maxItems": max_topics,
            },
        },
        "required": ["topics"],
        "additionalProperties": False,
    }
    result = run_agent_task_detailed(
        _TOPIC_INSTRUCTIONS.format(n=max_topics),
        _document_input(text),
        schema,
        llm=llm,
        max_tokens=300,
    )
    topics: list[str] = []
    seen: set[str] = set()
    for topic in result.output["topics"]:
        cleaned = " ".join(topic.split())
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            topics.append(cleaned)
    _logger.info(
        "topics_extracted_with_llm",
        extra={"topics": len(topics), "model": result.model},
    )
    return topics


def summarise_with_llm(
    text: str,
    *,
    llm: LlmClient | None,
    max_chars: int = 400,
    language_hint: str | None = None,
) -> LlmSummary:
    """A short notification summary in the document's language.

    Args:
        text: Normalised document text.
        llm: The configured model; ``None`` raises ``LlmNotConfiguredError``
            (callers fall back to ``heysh.ai.summaries.summarise_lead``).
        max_chars: Longest summary in characters (at least 20).
        language_hint: The document's ISO 639-1 code when known (a domain's
            language, e.g. ``sv``); the model is told it.

    Raises:
        LlmNotConfiguredError, AgentOutputInvalidError, LlmRetryableError,
        LlmRequestRejectedError: as ``heysh.ai.agent.run_agent_task``.
    """
    if max_chars < 20:
        raise ValueError(f"max_chars must be at least 20, got {max_chars}")
    if not text.strip():
        return LlmSummary(summary="", language=language_hint or "", model="")
    hint = f" (its language code is {language_hint})" if language_hint else ""
    schema = {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "minLength": 1, "maxLength": max_chars},
            "language": {"type": "string", "pattern": "^[a-z]{2}$"},
        },
        "required": ["summary", "language"],
        "additionalProperties": False,
    }
    result = run_agent_task_detailed(
        _SUMMARY_INSTRUCTIONS.format(max_chars=max_chars, hint=hint),
        _document_input(text),
        schema,
        llm=llm,
        max_tokens=400,
    )
    summary = " ".join(result.output["summary"].split())
    return LlmSummary(
        summary=summary, language=result.output["language"], model=result.model
    )
