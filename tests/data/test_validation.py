"""Tests for heysh.data.validation: can a corpus support an evaluation."""

from __future__ import annotations

import pytest

from heysh.data.files import load_pairs_file
from heysh.data.validation import validate_corpus
from heysh.errors import DataError


@pytest.fixture
def corpus_without_positive(jsonl_writer):
    """Two domains; 'sport' has no relevant document."""
    rows = [
        {"id": "a", "domain": "energy", "text": "Wind.", "label": 1},
        {"id": "a", "domain": "sport", "text": "Wind.", "label": 0},
        {"id": "b", "domain": "energy", "text": "Tea.", "label": 0},
        {"id": "b", "domain": "sport", "text": "Tea.", "label": 0},
    ]
    return load_pairs_file(jsonl_writer("p.jsonl", rows))


def test_validate_corpus_domain_without_relevant_raises(corpus_without_positive):
    """A domain with no relevant document is named with its counts."""
    with pytest.raises(
        DataError,
        match=r"1 domain\(s\) have no relevant document: sport \(0 relevant of 2\)",
    ):
        validate_corpus(corpus_without_positive)


def test_validate_corpus_positive_not_required_passes(corpus_without_positive):
    """With require_positive=False the same corpus is accepted."""
    assert validate_corpus(corpus_without_positive, require_positive=False) is None


def test_validate_corpus_no_pairs_raises(jsonl_writer):
    """A corpus whose documents are all empty has no pairs and is refused."""
    corpus = load_pairs_file(
        jsonl_writer("p.jsonl", [{"id": "a", "domain": "x", "text": "", "label": 1}])
    )

    with pytest.raises(DataError, match="has no \\(document, domain\\) pairs"):
        validate_corpus(corpus)


def test_validate_corpus_demo_corpus_passes(small_demo_corpus):
    """The demo corpus has relevant documents in every domain."""
    assert validate_corpus(small_demo_corpus) is None
