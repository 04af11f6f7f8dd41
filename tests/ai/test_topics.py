"""Offline topic extraction and titles."""

from __future__ import annotations

import pytest

from heysh.ai.topics import derive_title, extract_topics


def test_extract_topics_ranks_by_frequency_then_first_occurrence() -> None:
    """Most frequent content words first; ties keep the order of appearance."""
    text = "Wheat and corn exports. Corn prices rose; wheat stocks fell. Corn!"

    topics = extract_topics(text, max_topics=4)

    assert topics == ["corn", "wheat", "exports", "prices"]


def test_extract_topics_drops_stop_words_numbers_and_short_tokens() -> None:
    """English and Swedish function words, digits and 1-2 letter words are no topics."""
    text = "Det är en ny bank och the bank is in it 2024 ok Räntan räntan"

    topics = extract_topics(text)

    assert topics == ["bank", "räntan"]


def test_extract_topics_keeps_hyphenated_words_whole() -> None:
    """Hyphenated compounds stay one topic."""
    assert extract_topics("state-owned state-owned firms") == ["state-owned", "firms"]


def test_extract_topics_empty_text_gives_no_topics() -> None:
    """Empty text has no topics."""
    assert extract_topics("") == []


def test_extract_topics_rejects_non_positive_limit() -> None:
    """A limit below one is a programming error, named in the message."""
    with pytest.raises(ValueError, match="max_topics must be positive, got 0"):
        extract_topics("text", max_topics=0)


def test_derive_title_uses_first_non_empty_line_cut_at_a_word() -> None:
    """The title is the first line, cut at a word boundary with an ellipsis."""
    text = "\n\n  Central bank raises interest rates for the third time  \nBody"

    assert derive_title(text, max_chars=30) == "Central bank raises interest…"
    assert derive_title(text) == "Central bank raises interest rates for the third time"
    assert derive_title("   \n ") == ""
