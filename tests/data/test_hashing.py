"""Tests for heysh.data.hashing: a content hash that notices every change."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from heysh.data.corpus import DomainInfo
from heysh.data.hashing import corpus_content_hash


@pytest.fixture
def corpus(small_demo_corpus):
    """A private copy of the small demo corpus that tests may change."""
    return copy.deepcopy(small_demo_corpus)


def test_corpus_content_hash_same_content_same_hex_digest(corpus, small_demo_corpus):
    """Equal content gives the same 64-character hex digest."""
    digest = corpus_content_hash(corpus)

    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == corpus_content_hash(small_demo_corpus)


def test_corpus_content_hash_document_order_ignored(corpus):
    """Reordering documents (and remapping pairs) keeps the hash."""
    before = corpus_content_hash(corpus)
    order = np.random.default_rng(0).permutation(corpus.n_docs)
    position = np.argsort(order)
    corpus.doc_ids = corpus.doc_ids[order]
    corpus.texts = corpus.texts[order]
    corpus.languages = corpus.languages[order]
    corpus.pair_doc = position[corpus.pair_doc]

    assert corpus_content_hash(corpus) == before


@pytest.mark.parametrize(
    "change",
    ["text", "doc_id", "label", "grade", "hard_negative", "description", "drop_pair"],
)
def test_corpus_content_hash_tiny_change_changes_hash(corpus, change):
    """One character, one label or one pair less gives a different hash."""
    before = corpus_content_hash(corpus)
    if change == "text":
        corpus.texts[5] = corpus.texts[5] + "."
    elif change == "doc_id":
        corpus.doc_ids[5] = corpus.doc_ids[5] + "x"
    elif change == "label":
        corpus.pair_label[10] = 1 - corpus.pair_label[10]
    elif change == "grade":
        corpus.pair_grade[10] += 1
    elif change == "hard_negative":
        corpus.pair_hard_negative[10] = not corpus.pair_hard_negative[10]
    elif change == "description":
        first = corpus.domains[0]
        corpus.domains[0] = DomainInfo(
            first.domain_id, first.name, first.description + " ", first.language
        )
    else:
        corpus.pair_doc = corpus.pair_doc[1:]
        corpus.pair_domain = corpus.pair_domain[1:]
        corpus.pair_label = corpus.pair_label[1:]
        corpus.pair_grade = corpus.pair_grade[1:]
        corpus.pair_hard_negative = corpus.pair_hard_negative[1:]

    assert corpus_content_hash(corpus) != before
