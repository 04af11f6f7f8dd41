"""Clean document text before scoring: entities, tags, odd whitespace."""

from __future__ import annotations

import html
import re

# AG News lost the ampersand of numeric entities: " #36;10 million" is "$10".
_AMPERSANDLESS_ENTITY = re.compile(r"(?<![&\w])#(\d{2,4});")
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def normalise_text(text: str) -> str:
    """Return ``text`` with entities decoded, simple tags and controls removed.

    Line breaks are kept (collapsed to at most one blank line); runs of spaces
    become one space. Angle-bracketed tickers such as ``<MC.T>`` are kept,
    since they are not HTML.

    >>> normalise_text("Caf&#233; <b>open</b>  #36;10 &amp; more")
    'Café open $10 & more'
    """
    text = _AMPERSANDLESS_ENTITY.sub(lambda m: f"&#{m.group(1)};", text)
    text = html.unescape(text)
    text = _TAG.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()
