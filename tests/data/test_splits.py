"""Tests for heysh.data.splits: deterministic, stable, duplicate-aware splits."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest

from heysh.data.splits import assign_corpus_splits, assign_splits
from heysh.errors import ConfigError

KEYS = [f"doc-{i}" for i in range(3000)]


def test_assign_splits_same_seed_same_result():
    """The assignment is a pure function of keys and seed."""
    first = assign_splits(KEYS, seed=7)
    second = assign_splits(list(KEYS), seed=7)

    assert first.tolist() == second.tolist()


def test_assign_splits_other_seed_changes_assignment():
    """A different seed moves a large share of documents."""
    moved = np.mean(assign_splits(KEYS, seed=0) != assign_splits(KEYS, seed=1))

    assert moved > 0.5


def test_assign_splits_adding_documents_keeps_existing_splits():
    """Documents added later do not move the ones already assigned."""
    before = assign_splits(KEYS[:1000])
    after = assign_splits(["new-1", *KEYS[:500], "new-2", *KEYS[500:1000]])

    assert after[[*range(1, 501), *range(502, 1002)]].tolist() == before.tolist()


def test_assign_splits_fractions_realised_approximately():
    """With 3,000 keys, shares lie within 0.03 of 40/30/30."""
    counts = Counter(assign_splits(KEYS).tolist())

    shares = {name: counts[name] / len(KEYS) for name in ("fit", "calibration", "test")}
    assert shares == pytest.approx(
        {"fit": 0.4, "calibration": 0.3, "test": 0.3}, abs=0.03
    )


def test_assign_splits_uses_sha256_of_seed_and_key():
    """The position of a key is sha256('<seed>\\x1f<key>'), not Python's hash()."""
    keys = ["a", "b", "c", "d", "e", "f"]
    expected = []
    for key in keys:
        digest = hashlib.sha256(f"5\x1f{key}".encode()).digest()
        position = int.from_bytes(digest[:8], "big") / 2**64
        expected.append(
            "fit" if position < 0.4 else "calibration" if position < 0.7 else "test"
        )

    assert assign_splits(keys, seed=5).tolist() == expected


def test_assign_splits_single_split_fraction_puts_all_there():
    """Fractions (0, 0, 1) send every document to test."""
    assert set(assign_splits(KEYS[:50], fractions=(0.0, 0.0, 1.0)).tolist()) == {"test"}


@pytest.mark.parametrize("fractions", [(0.5, 0.5, 0.5), (0.5, -0.1, 0.6), (0.5, 0.5)])
def test_assign_splits_bad_fractions_raise(fractions):
    """Fractions must be three non-negative shares summing to 1."""
    with pytest.raises(ConfigError, match="must be three non-negative shares"):
        assign_splits(KEYS[:3], fractions=fractions)


def test_assign_corpus_splits_duplicates_share_first_occurrence_split(demo_corpus):
    """Exact duplicates in the demo corpus land in their first occurrence's split."""
    splits = assign_corpus_splits(demo_corpus)
    keys = demo_corpus.split_keys()
    index = {doc_id: i for i, doc_id in enumerate(demo_corpus.doc_ids)}

    duplicates = [i for i, key in enumerate(keys) if key != demo_corpus.doc_ids[i]]
    assert len(duplicates) >= 6
    assert all(splits[i] == splits[index[keys[i]]] for i in duplicates)
