"""Tests for heysh.data.cleaning: the messy-input pass every loader uses."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from heysh.data.cleaning import REPORT_KEYS, clean_texts, first_occurrence_keys

LONG_TEXT = " ".join(f"word{i}" for i in range(161))


def test_clean_texts_messy_inputs_counts_each_finding():
    """Every kind of mess is counted once per document and nothing is dropped."""
    ids = ["plain", "empty", "entity", "control", "latin", "dup", "long", "binary"]
    inputs = [
        "Plain text.",
        "   ",
        "Caf&eacute; &amp; bar",
        "bell\x07 here",
        "Kärnkraft i Sverige".encode("cp1252"),
        "Plain  text.",
        LONG_TEXT,
        b"\x00\x01\x02binary",
    ]

    result = clean_texts(ids, inputs)

    assert result.report == {
        "documents_in": 8,
        "empty_text": 1,
        "binary_refused": 1,
        "exact_duplicate": 1,
        "non_utf8_decoded": 1,
        "html_entities_decoded": 1,
        "control_characters_removed": 1,
        "long_documents": 1,
        "documents_kept": 6,
    }
    assert list(result.texts[:6]) == [
        "Plain text.",
        "",
        "Café & bar",
        "bell here",
        "Kärnkraft i Sverige",
        "Plain text.",
    ]
    assert result.keep_mask.tolist() == [
        True,
        False,
        True,
        True,
        True,
        True,
        True,
        False,
    ]


def test_clean_texts_duplicate_split_key_is_first_occurrence():
    """An exact duplicate (after normalising) takes the first occurrence's id as key."""
    result = clean_texts(
        ["a", "b", "c", "d"], ["x &amp; y", "other", "x & y", "x &amp; y"]
    )

    assert list(result.split_keys) == ["a", "b", "a", "a"]
    assert result.flags[2] == ("exact_duplicate",)
    assert result.flags[3] == ("html_entities_decoded", "exact_duplicate")
    assert result.report["exact_duplicate"] == 2


def test_clean_texts_empty_documents_not_counted_as_duplicates():
    """Several empty documents are empty, not duplicates of each other."""
    result = clean_texts(["a", "b"], ["", "\n\t"])

    assert result.report["empty_text"] == 2
    assert result.report["exact_duplicate"] == 0
    assert result.report["documents_kept"] == 0


def test_clean_texts_source_flags_counted_and_non_utf8_recognised():
    """Source flags are counted; a non-UTF-8 source flag counts as decoded."""
    result = clean_texts(
        ["a", "b"],
        ["text one", "text two"],
        source_flags=[["non_utf8_decoded_as_latin1"], ["exact_duplicate", "odd"]],
    )

    assert result.report["non_utf8_decoded"] == 1
    assert result.report["source_flag:non_utf8_decoded_as_latin1"] == 1
    assert result.report["source_flag:odd"] == 1
    assert result.flags == [("non_utf8_decoded",), ()]


def test_clean_texts_report_keys_always_present():
    """A clean input still reports every key, with zeros."""
    result = clean_texts(["a"], ["fine"])

    assert list(result.report) == list(REPORT_KEYS)
    assert sum(result.report.values()) == 2  # documents_in and documents_kept


def test_clean_texts_flagged_ids_logged(caplog):
    """The ids behind each finding are logged so an operator can find them."""
    caplog.set_level(logging.INFO, logger="heysh.data.cleaning")

    clean_texts(["a", "b"], ["ok", "x\x07"])

    flagged = [r for r in caplog.records if r.getMessage() == "documents_flagged"]
    assert [(r.flag, r.count, r.example_ids) for r in flagged] == [
        ("control_characters_removed", 1, ["b"])
    ]


def test_clean_texts_lengths_differ_raises():
    """Ids and texts of different lengths are a programming error, reported clearly."""
    with pytest.raises(ValueError, match="got 2 ids, 1 texts"):
        clean_texts(["a", "b"], ["x"])


def test_first_occurrence_keys_unique_texts_map_to_themselves():
    """Documents with distinct texts are their own split keys."""
    keys = first_occurrence_keys(["a", "b"], ["x", "y"])

    assert isinstance(keys, np.ndarray)
    assert keys.tolist() == ["a", "b"]
