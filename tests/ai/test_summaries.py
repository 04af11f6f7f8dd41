"""Offline lead summaries for notifications."""

from __future__ import annotations

import pytest

from heysh.ai.summaries import summarise_lead


def test_summarise_lead_keeps_whole_sentences_within_limit() -> None:
    """Sentences are added while they fit; the next one is left out whole."""
    text = "Oil rose. Gold fell sharply. Stocks were flat at the close."

    assert summarise_lead(text, max_chars=28) == "Oil rose. Gold fell sharply."
    assert summarise_lead(text, max_chars=400) == text


def test_summarise_lead_treats_line_breaks_as_sentence_ends() -> None:
    """A headline line without a full stop is its own sentence."""
    text = "Bank results beat forecasts\nProfits rose 12%. Shares gained."

    assert summarise_lead(text, max_chars=50) == (
        "Bank results beat forecasts Profits rose 12%."
    )


def test_summarise_lead_cuts_an_overlong_first_sentence_at_a_word() -> None:
    """A first sentence longer than the limit is cut at a word, with an ellipsis."""
    text = "The committee discussed the budget for the coming fiscal year at length."

    summary = summarise_lead(text, max_chars=30)

    assert summary == "The committee discussed the…"
    assert len(summary) <= 30


def test_summarise_lead_empty_text_gives_empty_summary() -> None:
    """No text, no summary."""
    assert summarise_lead("") == ""


def test_summarise_lead_rejects_tiny_limit() -> None:
    """Limits below 20 characters are refused with the value received."""
    with pytest.raises(ValueError, match="max_chars must be at least 20, got 5"):
        summarise_lead("text", max_chars=5)
