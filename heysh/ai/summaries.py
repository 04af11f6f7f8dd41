"""Offline summaries for notifications: the document's leading sentences.

No model and no network. A lead summary is what a notification needs: enough
to recognise the document, short enough for an email subject area. It is
deterministic, so a retried activity returns the same summary.
"""

from __future__ import annotations

import re

# A sentence ends at ., ! or ? followed by whitespace, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def summarise_lead(text: str, *, max_chars: int = 400) -> str:
    """Return the leading whole sentences of ``text`` within ``max_chars``.

    When even the first sentence is longer than ``max_chars`` it is cut at a
    word boundary and ends with an ellipsis.

    Args:
        text: Normalised document text; empty text gives an empty summary.
        max_chars: Largest length of the summary in characters (at least 20).

    Returns:
        Sentences joined by single spaces.

    >>> summarise_lead("Oil rose. Gold fell. Stocks were flat.", max_chars=20)
    'Oil rose. Gold fell.'
    """
    if max_chars < 20:
        raise ValueError(f"max_chars must be at least 20, got {max_chars}")
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    summary = ""
    for sentence in sentences:
        candidate = f"{summary} {sentence}".strip()
        if len(candidate) > max_chars:
            break
        summary = candidate
    if summary or not sentences:
        return summary
    first = sentences[0][: max_chars - 1]
    if " " in first:
        first = first[: first.rindex(" ")]
    return first.rstrip(" ,;:-") + "…"
