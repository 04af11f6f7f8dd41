"""Tests of the promotion gate's paired comparison."""

from __future__ import annotations

import numpy as np
import pytest

from heysh.tracking.gate import compare_paired


def _labelled(seed: int, n_docs: int = 400, domains: int = 3):
    rng = np.random.default_rng(seed)
    documents = np.repeat(np.arange(n_docs), domains)
    labels = (rng.random(n_docs * domains) < 0.3).astype(int)
    return rng, documents, labels


def test_compare_paired_same_model_has_interval_around_zero() -> None:
    """Two identical score vectors differ by exactly nothing."""
    rng, documents, labels = _labelled(0)
    scores = np.clip(labels * 6 + rng.normal(2, 2, labels.size), 0, 10)

    comparison = compare_paired(labels, scores, scores.copy(), documents)

    assert comparison.delta == 0.0
    assert comparison.interval == (0.0, 0.0)
    assert not comparison.challenger_is_better


def test_compare_paired_clearly_better_challenger_wins() -> None:
    """A challenger with much less noise has an interval entirely above zero."""
    rng, documents, labels = _labelled(1)
    sharp = np.clip(labels * 8 + rng.normal(1, 0.5, labels.size), 0, 10)
    blurred = np.clip(labels * 3 + rng.normal(3.5, 2.5, labels.size), 0, 10)

    comparison = compare_paired(labels, sharp, blurred, documents)

    assert comparison.delta > 0
    assert comparison.interval[0] > 0
    assert comparison.challenger_is_better


def test_compare_paired_worse_challenger_is_not_better() -> None:
    """Swapping the roles puts the interval below zero."""
    rng, documents, labels = _labelled(2)
    sharp = np.clip(labels * 8 + rng.normal(1, 0.5, labels.size), 0, 10)
    blurred = np.clip(labels * 3 + rng.normal(3.5, 2.5, labels.size), 0, 10)

    comparison = compare_paired(labels, blurred, sharp, documents)

    assert comparison.interval[1] < 0
    assert not comparison.challenger_is_better


def test_compare_paired_brier_values_match_hand_computation() -> None:
    """Brier scores and their difference equal a hand calculation."""
    labels = np.array([1, 0, 1, 0])
    documents = np.array([0, 1, 2, 3])

    comparison = compare_paired(
        labels, np.array([9.0, 1, 9, 1]), np.array([6.0, 4, 6, 4]), documents
    )

    assert comparison.challenger_brier == pytest.approx(0.01)
    assert comparison.production_brier == pytest.approx(0.16)
    assert comparison.delta == pytest.approx(0.15)
    assert comparison.n_documents == 4


def test_compare_paired_resamples_documents_not_pairs() -> None:
    """Pairs of one document move together: fewer documents give a wider interval."""
    rng = np.random.default_rng(3)
    n, per_document = 1200, 12
    documents = np.arange(n) // per_document
    labels = (rng.random(n) < 0.3).astype(int)
    # The challenger's errors are shared by all pairs of a document.
    document_error = rng.normal(0, 2.0, n // per_document)[documents]
    challenger = np.clip(labels * 6 + 2 + document_error, 0, 10)
    production = np.clip(labels * 6 + rng.normal(2, 2.0, n), 0, 10)

    per_pair = compare_paired(labels, challenger, production, np.arange(n))
    clustered = compare_paired(labels, challenger, production, documents)

    width = lambda c: c.interval[1] - c.interval[0]  # noqa: E731 - a local one-liner
    assert per_pair.delta == pytest.approx(clustered.delta)
    assert clustered.n_documents == 100
    assert width(clustered) > width(per_pair)
