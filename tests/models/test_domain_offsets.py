"""Tests of per-domain logit offsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heysh.models._domain_offsets import (
    apply_offsets,
    fit_domain_offsets,
    fit_shift,
    offsets_help,
)


def _logits_and_labels(
    domain_shift: float, seed: int
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Two domains whose true logits differ by +/- ``domain_shift``."""
    rng = np.random.default_rng(seed)
    n = 4000
    logits = rng.normal(0, 1.5, n)
    domains = ["a" if i % 2 else "b" for i in range(n)]
    true = logits + np.where(np.array(domains) == "a", domain_shift, -domain_shift)
    labels = (rng.random(n) < 1 / (1 + np.exp(-true))).astype(float)
    halves = rng.random(n) < 0.5
    return logits, labels, domains, halves


def test_fit_shift_without_penalty_matches_log_odds() -> None:
    """On zero logits the shift is the log-odds of the base rate."""
    labels = np.array([1.0] * 3 + [0.0] * 7)

    assert fit_shift(np.zeros(10), labels) == pytest.approx(math.log(3 / 7), abs=1e-6)


def test_fit_domain_offsets_recovers_domain_shifts() -> None:
    """Offsets estimated on plenty of data are close to the true +/-1.5."""
    logits, labels, domains, _ = _logits_and_labels(1.5, seed=0)

    shift, offsets = fit_domain_offsets(logits, labels, domains)

    assert shift + offsets["a"] == pytest.approx(1.5, abs=0.2)
    assert shift + offsets["b"] == pytest.approx(-1.5, abs=0.2)


def test_offsets_help_when_domains_differ() -> None:
    """The two-fold check keeps offsets when domains have different base rates."""
    logits, labels, domains, halves = _logits_and_labels(1.5, seed=1)

    helps, loss_with, loss_without = offsets_help(logits, labels, domains, halves)

    assert helps
    assert loss_with < loss_without - 0.02


def test_offsets_do_not_help_when_domains_agree() -> None:
    """With no domain effect, held-out log-loss does not improve beyond noise."""
    logits, labels, domains, halves = _logits_and_labels(0.0, seed=2)

    _, loss_with, loss_without = offsets_help(logits, labels, domains, halves)

    assert loss_with > loss_without - 0.002


def test_apply_offsets_leaves_unknown_domains_alone() -> None:
    """A domain without an offset keeps its logit."""
    shifted = apply_offsets(np.array([1.0, 1.0]), ["seen", "new"], {"seen": -0.5})

    np.testing.assert_array_equal(shifted, [0.5, 1.0])
