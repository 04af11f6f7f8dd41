"""Tests for heysh.evaluation.certify (and the binomial helpers it exports)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import scipy.special
import scipy.stats

from heysh.errors import ConfigError, DataError
from heysh.evaluation.certify import (
    approve_side_evidence,
    approve_start_index,
    binomial_p_value,
    binomial_upper_bound,
    certify_approve_side,
    certify_reject_side,
    labels_needed,
    reject_side_evidence,
    zero_error_sample_size,
)
from heysh.evaluation.sweep import threshold_grid

Sample = tuple[np.ndarray, np.ndarray]


def test_binomial_upper_bound_zero_errors_has_closed_form() -> None:
    """With k = 0 the bound is 1 - (1 - confidence) ** (1 / n)."""
    for n in (1, 10, 59, 1000):
        assert binomial_upper_bound(0, n, 0.95) == pytest.approx(
            1 - 0.05 ** (1 / n), rel=1e-12
        )


def test_binomial_upper_bound_random_counts_match_beta_quantile() -> None:
    """The bound is the Beta(k + 1, n - k) quantile at the confidence."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 2000))
        k = int(rng.integers(0, n))
        confidence = float(rng.uniform(0.5, 0.999))

        expected = scipy.stats.beta.ppf(confidence, k + 1, n - k)

        assert binomial_upper_bound(k, n, confidence) == pytest.approx(
            expected, rel=1e-9
        )


@pytest.mark.parametrize(("k", "n"), [(0, 0), (5, 5)])
def test_binomial_upper_bound_no_information_is_one(k: int, n: int) -> None:
    """No documents, or only errors, bound the rate by 1."""
    assert binomial_upper_bound(k, n, 0.95) == 1.0


def test_binomial_p_value_and_bound_agree_on_random_counts() -> None:
    """p <= 1 - confidence exactly when the upper bound is <= target."""
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(500):
        n = int(rng.integers(1, 500))
        k = int(rng.integers(0, max(1, n // 5)))
        target = float(rng.uniform(0.01, 0.3))
        bound = binomial_upper_bound(k, n, 0.95)
        if abs(bound - target) < 1e-9:
            continue

        assert (binomial_p_value(k, n, target) <= 0.05) == (bound <= target)
        checked += 1
    assert checked > 450


def test_binomial_p_value_equals_binomial_cdf() -> None:
    """The p-value is P(Bin(n, target) <= k)."""
    assert binomial_p_value(3, 100, 0.05) == pytest.approx(
        scipy.stats.binom.cdf(3, 100, 0.05), rel=1e-12
    )


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_binomial_bad_counts_raise(k: int, n: int) -> None:
    """Counts must satisfy 0 <= k <= n."""
    with pytest.raises(DataError, match="need 0 <= k <= n"):
        binomial_upper_bound(k, n, 0.95)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, float("nan")])
def test_binomial_bad_confidence_raises(confidence: float) -> None:
    """Confidence must lie strictly between 0 and 1."""
    with pytest.raises(ConfigError, match="confidence must be strictly between"):
        binomial_upper_bound(1, 10, confidence)


def test_zero_error_sample_size_sanity_values() -> None:
    """Zero errors certify 5% at 95% from 59 documents, 2% from 149."""
    assert zero_error_sample_size(0.05, 0.95) == 59
    assert zero_error_sample_size(0.02, 0.95) == 149
    assert binomial_upper_bound(0, 59, 0.95) <= 0.05 < binomial_upper_bound(0, 58, 0.95)


def test_labels_needed_sanity_values() -> None:
    """With no data: 59 documents for 5% at 95%, 149 for 2%; 19 more after 40."""
    assert labels_needed(0, 0, 0.05, 0.95) == 59
    assert labels_needed(0, 0, 0.02, 0.95) == 149
    assert labels_needed(0, 40, 0.05, 0.95) == 19
    assert labels_needed(0, 100, 0.05, 0.95) == 0


@pytest.mark.parametrize(("k", "n"), [(2, 60), (2, 100), (7, 300), (1, 30), (4, 90)])
def test_labels_needed_matches_definition_by_search(k: int, n: int) -> None:
    """The answer is the smallest N with bound(ceil(k/n * N), N) <= target, less n."""
    target, confidence = 0.05, 0.95
    total = 1
    while binomial_upper_bound(math.ceil(k * total / n), total, confidence) > target:
        total += 1

    assert labels_needed(k, n, target, confidence) == max(0, total - n)


def test_labels_needed_rate_at_target_is_none() -> None:
    """At or above the target no number of labels certifies it."""
    assert labels_needed(5, 100, 0.05, 0.95) is None
    assert labels_needed(9, 100, 0.05, 0.95) is None


def test_labels_needed_beyond_cap_is_none() -> None:
    """A rate just under the target needs more than the cap allows."""
    assert labels_needed(49, 1000, 0.05, 0.95, max_labels=5000) is None


def test_approve_start_index_without_fit_data_starts_at_top() -> None:
    """No fit scores (or none at all) start the sequence at the highest threshold."""
    grid = threshold_grid(1.0)

    assert approve_start_index(grid, 500, None, target=0.05, confidence=0.95) == 10
    assert approve_start_index(grid, 500, [], target=0.05, confidence=0.95) == 10


def test_approve_start_index_scales_fit_counts_to_calibration() -> None:
    """Fit counts 20/60/100 of 100 scaled by 2 predict 40/120/200: start at 8."""
    fit = [9.5] * 20 + [8.5] * 40 + [6.0] * 40
    grid = [5.0, 8.0, 9.0]

    assert approve_start_index(grid, 200, fit, target=0.05, confidence=0.95) == 1
    assert approve_start_index(grid, 300, fit, target=0.05, confidence=0.95) == 2


def test_approve_start_index_too_little_data_starts_at_loosest() -> None:
    """When no threshold is predicted to reach 59 documents, start at index 0."""
    fit = [9.5] * 20 + [8.5] * 40 + [6.0] * 40

    assert (
        approve_start_index([5.0, 8.0, 9.0], 50, fit, target=0.05, confidence=0.95) == 0
    )


def test_approve_start_index_min_p_value_skips_a_noisy_top() -> None:
    """The min-p-value rule starts below a top threshold whose errors are high."""
    fit_scores = np.array([9.5] * 100 + [8.5] * 400 + [3.0] * 500)
    fit_labels = np.array([0] * 10 + [1] * 90 + [1] * 400 + [0] * 500)
    grid = [3.0, 8.0, 9.0]

    zero_error = approve_start_index(
        grid, 1000, fit_scores, fit_labels, target=0.05, confidence=0.95
    )
    min_p = approve_start_index(
        grid,
        1000,
        fit_scores,
        fit_labels,
        target=0.05,
        confidence=0.95,
        rule="min-p-value",
    )

    assert (zero_error, min_p) == (2, 1)


def test_approve_start_index_min_p_value_needs_labels() -> None:
    """The min-p-value rule cannot run on scores alone."""
    with pytest.raises(ConfigError, match="needs start_labels"):
        approve_start_index(
            [1.0, 2.0], 10, [1.0], target=0.05, confidence=0.95, rule="min-p-value"
        )


def test_approve_start_index_unknown_rule_raises() -> None:
    """Only the two documented rules are accepted."""
    with pytest.raises(ConfigError, match="start rule must be"):
        approve_start_index(
            [1.0, 2.0],
            10,
            [1.0],
            target=0.05,
            confidence=0.95,
            rule="best",  # type: ignore[arg-type]  # an invalid rule on purpose
        )


def _approve_example() -> tuple[np.ndarray, np.ndarray]:
    """200 documents: 100 relevant at 9, 60 relevant + 6 not at 7, 34 not at 2."""
    scores = np.array([9.0] * 100 + [7.0] * 66 + [2.0] * 34)
    labels = np.array([1] * 100 + [1] * 60 + [0] * 6 + [0] * 34)
    return scores, labels


def test_approve_sequence_hand_example_certifies_down_to_first_failure() -> None:
    """From 9 down: 0/100 errors pass, 6/166 at 7 fails, so only 9 is certified."""
    scores, labels = _approve_example()
    grid = [2.0, 6.9, 7.0, 9.0]

    evidence = approve_side_evidence(
        scores, labels, grid, target=0.05, confidence=0.95, start_index=3
    )

    assert binomial_p_value(0, 100, 0.05) <= 0.05 < binomial_p_value(6, 166, 0.05)
    assert evidence.n.tolist() == [200, 166, 166, 100]
    assert evidence.k.tolist() == [40, 6, 6, 0]
    assert evidence.certified.tolist() == [False, False, False, True]
    assert evidence.tested.tolist() == [False, False, True, True]
    assert evidence.certificate().threshold == 9.0


@pytest.mark.parametrize(("n", "certified"), [(58, False), (59, True)])
def test_certify_approve_side_zero_errors_boundary_at_59(
    n: int, certified: bool
) -> None:
    """Error-free approvals certify 5% at 95% from 59 documents, not from 58."""
    cert = certify_approve_side([9.0] * n, [1] * n, [9.0], target=0.05, confidence=0.95)

    assert cert.certified is certified
    assert cert.threshold == (9.0 if certified else None)


def test_approve_sequence_stops_even_if_a_later_threshold_would_pass() -> None:
    """Fixed-sequence testing certifies nothing after the first failure."""
    # Threshold 8 has 3 errors in 60 (fails); threshold 5 has 3 in 400 (would pass).
    scores = np.array([9.0] * 60 + [8.0] * 3 + [5.0] * 340 + [1.0] * 100)
    labels = np.array([1] * 60 + [0] * 3 + [1] * 340 + [0] * 100)
    grid = [1.0, 5.0, 8.0, 9.0]

    evidence = approve_side_evidence(
        scores, labels, grid, target=0.05, confidence=0.95, start_index=3
    )

    assert binomial_p_value(3, 403, 0.05) <= 0.05
    assert evidence.certified.tolist() == [False, False, False, True]
    assert evidence.certificate().threshold == 9.0


def test_certify_approve_side_uncertified_reports_labels_needed() -> None:
    """40 error-free approvals of 100 documents: 19 more approvals ~ 48 labels."""
    scores = np.array([9.0] * 40 + [3.0] * 60)
    labels = np.array([1] * 40 + [0] * 60)

    cert = certify_approve_side(
        scores, labels, [3.0, 9.0], target=0.05, confidence=0.95
    )

    assert cert.threshold is None
    assert not cert.certified
    assert (cert.candidate_threshold, cert.n, cert.k) == (9.0, 40, 0)
    assert cert.labels_needed == math.ceil(19 / 0.4)
    assert cert.upper_bound == pytest.approx(1 - 0.05 ** (1 / 40))
    assert "about 48 more labelled calibration documents (19 more auto-approved)" in (
        cert.note
    )
    assert cert.certified_thresholds == ()


def test_certify_approve_side_no_documents_note_says_so() -> None:
    """With no calibration data, nothing is certified and the note says why."""
    cert = certify_approve_side([], [], [3.0, 9.0], target=0.05, confidence=0.95)

    assert (cert.threshold, cert.n, cert.labels_needed) == (None, 0, None)
    assert "at least 59 are needed" in cert.note


def test_reject_sequence_hand_example() -> None:
    """Relevant at 1 (1 doc) and 6 (99 docs): rejecting up to 5.5 passes, 6 fails."""
    scores = np.array([1.0] * 1 + [6.0] * 99 + [0.5] * 50)
    labels = np.array([1] * 100 + [0] * 50)
    grid = threshold_grid(0.5)

    evidence = reject_side_evidence(scores, labels, grid, target=0.05, confidence=0.95)
    cert = evidence.certificate()

    assert binomial_p_value(1, 100, 0.05) <= 0.05
    assert evidence.n.tolist() == [100] * grid.size
    assert cert.threshold == 5.5
    assert (cert.n, cert.k, cert.empirical_rate) == (100, 1, 0.01)
    assert cert.certified_thresholds == tuple(np.arange(0, 6, 0.5))
    assert cert.labels_needed == 0
    assert "reject threshold 5.5 certified (per-domain)" in cert.note


def test_certify_reject_side_no_relevant_cannot_certify() -> None:
    """Without relevant calibration documents the reject side stays off."""
    cert = certify_reject_side(
        [1.0, 2.0], [0, 0], [1.0, 2.0], target=0.05, confidence=0.95
    )

    assert (cert.threshold, cert.certified, cert.n) == (None, False, 0)


def test_side_evidence_certificate_of_uncertified_index_raises() -> None:
    """Asking for the certificate of an untested threshold is refused."""
    scores, labels = _approve_example()
    evidence = approve_side_evidence(
        scores, labels, [2.0, 9.0], target=0.05, confidence=0.95, start_index=1
    )

    with pytest.raises(DataError, match=r"threshold 2\.0 was not certified"):
        evidence.certificate(0)


def test_approve_side_evidence_start_outside_grid_raises() -> None:
    """An explicit start must be a grid position."""
    with pytest.raises(DataError, match="start_index 5 is outside the grid of 2"):
        approve_side_evidence(
            [1.0], [1], [1.0, 2.0], target=0.05, confidence=0.95, start_index=5
        )


def _true_rates(shape: float, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact FAR and FRR per threshold when p ~ Beta(s, s) and P(relevant) = p."""
    x = grid / 10
    tail = 1 - scipy.special.betainc(shape, shape, x)
    tail_mean = 0.5 * (1 - scipy.special.betainc(shape + 1, shape, x))
    with np.errstate(divide="ignore", invalid="ignore"):
        far = np.where(tail > 0, 1 - tail_mean / tail, 0.0)
    frr = scipy.special.betainc(shape + 1, shape, x)
    return far, frr


def test_certificates_control_family_wise_error_in_simulation(
    calibrated: Callable[..., Sample],
) -> None:
    """Over 300 draws a certified threshold misses its target in <= delta of them.

    The naive empirical choice is run on the same draws to show the check can
    fail: it misses far more often.
    """
    rng = np.random.default_rng(2024)
    grid = threshold_grid()
    target, confidence, shape, n = 0.05, 0.9, 0.3, 800
    true_far, true_frr = _true_rates(shape, grid)
    trials = 300
    misses = {"approve": 0, "reject": 0, "naive approve": 0}
    certified = 0

    for _ in range(trials):
        scores, labels = calibrated(rng, n, shape=shape, decimals=None)
        fit_scores, fit_labels = calibrated(rng, n, shape=shape, decimals=None)
        approve = certify_approve_side(
            scores,
            labels,
            grid,
            target=target,
            confidence=confidence,
            start_scores=fit_scores,
            start_labels=fit_labels,
        )
        reject = certify_reject_side(
            scores, labels, grid, target=target, confidence=confidence
        )
        if approve.threshold is not None:
            certified += 1
            misses["approve"] += (
                true_far[np.searchsorted(grid, approve.threshold)] > target
            )
        if reject.threshold is not None:
            misses["reject"] += (
                true_frr[np.searchsorted(grid, reject.threshold)] > target
            )
        approved = np.array([(scores >= g).sum() for g in grid])
        wrong = np.array([((scores >= g) & (labels == 0)).sum() for g in grid])
        naive_ok = np.flatnonzero((approved > 0) & (wrong <= target * approved))
        if naive_ok.size:
            misses["naive approve"] += true_far[naive_ok[0]] > target

    slack = 3 * math.sqrt(0.1 * 0.9 / trials)
    assert certified > trials // 2
    assert misses["approve"] / trials <= 0.1 + slack
    assert misses["reject"] / trials <= 0.1 + slack
    assert misses["naive approve"] / trials > 0.3


def test_certify_approve_side_target_beyond_any_label_budget_is_uncertified() -> None:
    """A 1e-6 target needs millions of labels: no certificate, no crash."""
    scores = np.array([9.0] * 40 + [3.0] * 60)
    labels = np.array([1] * 40 + [0] * 60)

    cert = certify_approve_side(
        scores, labels, [3.0, 9.0], target=1e-6, confidence=0.95
    )

    assert cert.threshold is None
    assert cert.labels_needed is None
