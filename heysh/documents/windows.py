"""Split long texts into overlapping windows so every part gets scored."""

from __future__ import annotations

import re

_WORD = re.compile(r"\S+")


def split_into_windows(
    text: str, *, max_words: int = 160, overlap_words: int = 32
) -> list[str]:
    """Split ``text`` into windows of at most ``max_words`` words.

    Models with an input limit (MiniLM reads 256 word pieces, about 160-190
    English words) score every window, so a long document is judged on all of
    its text rather than a silently truncated head.

    Args:
        text: Any text; empty text gives one empty window.
        max_words: Words per window.
        overlap_words: Words shared by consecutive windows, so a sentence cut at
            a boundary is still seen whole once.

    Returns:
        At least one window; one window when the text is short enough.

    >>> split_into_windows("a b c d e", max_words=3, overlap_words=1)
    ['a b c', 'c d e']
    """
    if overlap_words >= max_words:
        raise ValueError(
            f"overlap_words ({overlap_words}) must be below max_words ({max_words})"
        )
    words = _WORD.findall(text)
    if len(words) <= max_words:
        return [" ".join(words)]
    step = max_words - overlap_words
    windows = []
    for start in range(0, len(words), step):
        windows.append(" ".join(words[start : start + max_words]))
        if start + max_words >= len(words):
            break
    return windows
