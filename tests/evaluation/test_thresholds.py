"""Tests for heysh.evaluation.thresholds."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pytest

from heysh.domain import DomainConfig
from heysh.errors import ConfigError, DataError, TargetsUnreachableError
from heysh.evaluation.certify import approve_side_evidence
from heysh.evaluation.sweep import operating_point, threshold_grid
from heysh.evaluation.thresholds import (
    EmpiricalChoice,
    Targets,
    ThresholdChoice,
    empirical_thresholds,
    realised_rates,
    tune_domains,
    tune_thresholds,
)

Sample = tuple[np.ndarray, np.ndarray]


def test_targets_defaults_are_five_percent_at_95() -> None:
    """Default targets: 5% false approvals, 5% false rejections, 95% confidence."""
    assert Targets() == Targets(false_approve=0.05, false_reject=0.05, confidence=0.95)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"false_approve": 0.0},
            TargetsUnreachableError,
            "false_approve target 0 cannot be certified.*0.01, which needs 299",
        ),
        ({"false_reject": 0}, TargetsUnreachableError, "false_reject target 0"),
        (
            {"confidence": 1.0},
            TargetsUnreachableError,
            "confidence 1 cannot be reached",
        ),
        ({"false_approve": 1.0}, ConfigError, "strictly between 0 and 1, got 1.0"),
        ({"false_reject": -0.1}, ConfigError, "strictly between 0 and 1, got -0.1"),
        ({"false_approve": float("nan")}, ConfigError, "must be a number"),
        ({"confidence": 0.0}, ConfigError, "confidence must be strictly between"),
        ({"confidence": 1.2}, ConfigError, "got 1.2"),
    ],
)
def test_targets_out_of_range_raise(
    kwargs: dict[str, float], error: type[Exception], message: str
) -> None:
    """Impossible targets are TargetsUnreachableError, nonsense ones ConfigError."""
    with pytest.raises(error, match=message):
        Targets(**kwargs)


def test_targets_per_side_confidence_splits_delta() -> None:
    """delta_split divides 1 - confidence (Bonferroni)."""
    assert Targets(confidence=0.9).per_side_confidence(4) == pytest.approx(0.975)
    with pytest.raises(ConfigError, match="delta_split must be at least 1, got 0"):
        Targets().per_side_confidence(0)


def _assert_valid_choice(choice: ThresholdChoice, targets: Targets) -> None:
    """Targets hold on calibration; off sides are None; thresholds are ordered."""
    point = choice.calibration
    assert point.far <= targets.false_approve
    assert point.frr <= targets.false_reject
    for cert in (choice.approve, choice.reject):
        assert cert.certified == (cert.threshold is not None)
        if cert.certified:
            assert cert.upper_bound <= cert.target
            assert cert.empirical_rate <= cert.target
    assert choice.approve.threshold == choice.approve_threshold
    assert choice.reject.threshold == choice.reject_threshold
    reject, approve = choice.reject_threshold, choice.approve_threshold
    if reject is not None:
        assert reject < choice.relevance_threshold
    if approve is not None:
        assert choice.relevance_threshold <= approve
    if reject is not None and approve is not None:
        assert reject < approve
    DomainConfig.model_validate({"use_ai_controller": True, **choice.config_fields()})


@pytest.mark.parametrize("seed", range(40))
def test_tune_thresholds_random_data_meets_targets_on_calibration(
    seed: int, calibrated: Callable[..., Sample]
) -> None:
    """On random (tied) data the chosen pair meets both targets where it was chosen."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 3000))
    shape = float(rng.uniform(0.2, 1.5))
    scores, labels = calibrated(rng, n, shape=shape, decimals=int(rng.integers(0, 3)))
    fit_scores, fit_labels = calibrated(rng, n, shape=shape)
    targets = Targets(
        false_approve=float(rng.uniform(0.01, 0.2)),
        false_reject=float(rng.uniform(0.01, 0.2)),
        confidence=float(rng.uniform(0.8, 0.99)),
    )

    choice = tune_thresholds(
        scores,
        labels,
        targets=targets,
        start_scores=fit_scores,
        start_labels=fit_labels,
        delta_split=int(rng.integers(1, 4)),
    )

    _assert_valid_choice(choice, targets)
    assert choice.calibration == operating_point(
        scores, labels, choice.reject_threshold, choice.approve_threshold
    )


def test_tune_thresholds_clean_data_certifies_both_sides(
    calibrated: Callable[..., Sample],
) -> None:
    """With 3,000 calibrated documents both sides are certified per-domain."""
    rng = np.random.default_rng(11)
    scores, labels = calibrated(rng, 3000)
    fit_scores, fit_labels = calibrated(rng, 3000)

    choice = tune_thresholds(
        scores, labels, start_scores=fit_scores, start_labels=fit_labels
    )

    assert choice.approve.certified and choice.reject.certified
    assert choice.scope == "per-domain"
    assert choice.automation > 0.5
    assert choice.relevance_threshold == 5.0
    assert choice.approve.confidence == pytest.approx(0.95)


def test_tune_thresholds_too_few_documents_switches_sides_off() -> None:
    """Thirty documents cannot certify 5%: both sides None, labels estimated."""
    scores = np.array([9.5] * 15 + [0.5] * 15)
    labels = np.array([1] * 15 + [0] * 15)

    choice = tune_thresholds(scores, labels, start_scores=scores, start_labels=labels)

    assert (choice.reject_threshold, choice.approve_threshold) == (None, None)
    assert choice.automation == 0.0
    assert choice.approve.labels_needed == 88  # (59 - 15) / (15 / 30)
    assert choice.reject.labels_needed == 88
    assert "switched off" in choice.approve.note


def test_tune_thresholds_overlapping_sides_pick_most_decided_pair() -> None:
    """Certified approve 2..9 and reject 0..8 overlap; (1, 2) decides all 400."""
    scores = np.array([1.0] * 200 + [9.0] * 200)
    labels = np.array([0] * 200 + [1] * 200)
    grid = threshold_grid(1.0)

    choice = tune_thresholds(
        scores, labels, grid=grid, start_scores=scores, start_labels=labels
    )

    assert choice.approve.certified_thresholds == tuple(float(g) for g in range(2, 10))
    assert choice.reject.certified_thresholds == tuple(float(g) for g in range(0, 9))
    assert (choice.reject_threshold, choice.approve_threshold) == (1.0, 2.0)
    assert choice.automation == 1.0
    assert choice.relevance_threshold == 2.0


def test_tune_thresholds_no_valid_pair_switches_weaker_side_off() -> None:
    """Approve certified only at 0 and reject at 0..4.9: approving all wins."""
    scores = np.array([5.0] * 980 + [0.0] * 20)
    labels = np.array([1] * 980 + [0] * 20)
    fit_scores = np.zeros(1000)

    choice = tune_thresholds(
        scores, labels, start_scores=fit_scores, start_labels=labels
    )

    assert (choice.reject_threshold, choice.approve_threshold) == (None, 0.0)
    assert choice.reject.certified is False
    assert choice.reject.labels_needed == 0
    assert "Switched off anyway" in choice.reject.note
    assert choice.relevance_threshold == 0.0
    assert choice.automation == 1.0


def test_tune_thresholds_tie_prefers_both_sides_on() -> None:
    """Approving all ties with (0, 0.1), which decides as much: both sides stay on."""
    scores = np.array([5.0] * 980 + [0.0] * 20)
    labels = np.array([1] * 980 + [0] * 20)

    choice = tune_thresholds(scores, labels, start_scores=scores, start_labels=labels)

    assert choice.approve.certified_thresholds[0] == 0.0
    assert (choice.reject_threshold, choice.approve_threshold) == (0.0, 0.1)
    assert choice.automation == 1.0


def test_tune_thresholds_delta_split_is_stricter() -> None:
    """Splitting delta over 10 models certifies a subset at confidence 0.995."""
    rng = np.random.default_rng(5)
    scores = np.round(rng.uniform(0, 10, 2000), 1)
    labels = (rng.uniform(size=2000) < scores / 10).astype(int)

    one = tune_thresholds(scores, labels, start_scores=scores, start_labels=labels)
    ten = tune_thresholds(
        scores, labels, start_scores=scores, start_labels=labels, delta_split=10
    )

    assert ten.reject.confidence == pytest.approx(0.995)
    assert set(ten.reject.certified_thresholds) < set(one.reject.certified_thresholds)


@pytest.mark.parametrize(
    ("preferred", "expected"), [(None, 5.0), (3.0, 5.5), (9.5, 8.0), (6.5, 6.5)]
)
def test_tune_thresholds_relevance_is_moved_into_gray_zone(
    preferred: float | None, expected: float
) -> None:
    """The relevance line lands in (reject, approve]; 5.5 is the grid point above 3.1.

    Thirty half-relevant documents at exactly 5.5 make both 5.5 thresholds fail.
    """
    scores = np.array([3.1] * 300 + [8.0] * 300 + [5.5] * 30)
    labels = np.array([0] * 300 + [1] * 300 + [0, 1] * 15)
    grid = [0.0, 3.1, 5.5, 8.0, 10.0]

    choice = tune_thresholds(
        scores,
        labels,
        grid=grid,
        start_scores=scores,
        start_labels=labels,
        relevance_threshold=preferred,
    )

    assert (choice.reject_threshold, choice.approve_threshold) == (3.1, 8.0)
    assert choice.relevance_threshold == expected


def test_tune_thresholds_logs_switched_off_side(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An uncertified side is a WARNING with its counts."""
    with caplog.at_level(logging.INFO, logger="heysh.evaluation.thresholds"):
        tune_thresholds([9.0, 1.0], [1, 0])

    events = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert ("WARNING", "side_switched_off") in events
    assert ("INFO", "thresholds_chosen") in events


def test_tune_thresholds_mismatched_labels_raise() -> None:
    """Labels must match the scores one to one."""
    with pytest.raises(DataError, match=r"calib_labels must have shape \(2,\)"):
        tune_thresholds([1.0, 2.0], [1])


def test_tune_thresholds_describe_lists_every_number() -> None:
    """describe() shows thresholds, calibration rates and both notes."""
    choice = tune_thresholds([9.0, 1.0], [1, 0])

    text = choice.describe()

    assert text.startswith("reject <= None, approve >= None, relevance 5 (per-domain)")
    assert "to humans 2 of 2" in text
    assert choice.approve.note in text and choice.reject.note in text


def _domains(
    rng: np.random.Generator, sizes: dict[str, int], draw: Callable[..., Sample]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    out = {}
    for name, n in sizes.items():
        cal = draw(rng, n)
        fit = draw(rng, n)
        out[name] = (cal[0], cal[1], fit[0], fit[1])
    return out


def test_tune_domains_small_domain_falls_back_to_pooled(
    calibrated: Callable[..., Sample],
) -> None:
    """A 40-document domain borrows pooled certificates, labelled pooled."""
    rng = np.random.default_rng(8)
    data = _domains(rng, {"big": 3000, "small": 40}, calibrated)

    choices = tune_domains(data)

    big, small = choices["big"], choices["small"]
    assert big.scope == "per-domain"
    assert small.scope == "pooled"
    assert small.approve.scope == small.reject.scope == "pooled"
    pooled_approve = approve_side_evidence(
        np.concatenate([data["big"][0], data["small"][0]]),
        np.concatenate([data["big"][1], data["small"][1]]),
        threshold_grid(),
        target=0.05,
        confidence=0.95,
        start_scores=np.concatenate([data["big"][2], data["small"][2]]),
    )
    assert small.approve.certified_thresholds == tuple(
        float(g) for g in pooled_approve.grid[pooled_approve.certified]
    )
    assert small.calibration.n == 40


def test_tune_domains_pooled_failure_keeps_side_off() -> None:
    """When pooled data cannot certify either, the side stays off per-domain."""
    data = {
        "a": (np.array([9.0, 1.0]), np.array([1, 0]), np.array([]), np.array([])),
        "b": (np.array([8.0, 2.0]), np.array([1, 0]), np.array([]), np.array([])),
    }

    choices = tune_domains(data)

    for choice in choices.values():
        assert (choice.reject_threshold, choice.approve_threshold) == (None, None)
        assert choice.scope == "per-domain"


def test_tune_domains_mixed_scope_names_each_side() -> None:
    """A domain certifying only its reject side shows a mixed scope."""
    rng = np.random.default_rng(21)
    big_scores = rng.beta(0.3, 0.3, 4000) * 10
    big_labels = (rng.uniform(size=4000) < big_scores / 10).astype(int)
    # "mixed" separates perfectly, so its reject side certifies per-domain; but
    # its fit split sets the approve start at 9.9, where its calibration split
    # has no documents, so its approve side fails per-domain and uses the pool.
    mixed_scores = np.array([7.0] * 300 + [0.5] * 300)
    mixed_labels = np.array([1] * 300 + [0] * 300)
    data = {
        "big": (big_scores, big_labels, big_scores, big_labels),
        "mixed": (mixed_scores, mixed_labels, np.array([9.9] * 10), np.ones(10)),
    }

    choices = tune_domains(data)

    mixed = choices["mixed"]
    assert mixed.reject.scope == "per-domain"
    assert mixed.approve.scope == "pooled"
    assert mixed.scope == "approve: pooled; reject: per-domain"


def test_tune_domains_empty_raises() -> None:
    """At least one domain is needed."""
    with pytest.raises(DataError, match="at least one domain"):
        tune_domains({})


def test_tune_domains_wrong_tuple_raises() -> None:
    """Each domain needs four arrays."""
    with pytest.raises(DataError, match="domain 'x': expected"):
        tune_domains({"x": (np.array([1.0]), np.array([1]))})  # type: ignore[dict-item]


def _best_empirical_by_loop(
    scores: np.ndarray, labels: np.ndarray, grid: np.ndarray, targets: Targets
) -> int:
    """Most documents decided by any pair (or side off) within targets, by loop."""
    options_a = [None, *grid]
    options_r = [None, *grid]
    best = 0
    for r in options_r:
        for a in options_a:
            if r is not None and a is not None and not r < a:
                continue
            point = operating_point(scores, labels, r, a)
            if point.far <= targets.false_approve and point.frr <= targets.false_reject:
                best = max(best, point.approved + point.rejected)
    return best


@pytest.mark.parametrize("seed", range(15))
def test_empirical_thresholds_random_data_match_exhaustive_search(seed: int) -> None:
    """The empirical choice decides as many documents as the best feasible pair."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 200))
    scores = np.round(rng.uniform(0, 10, n) * 2) / 2
    labels = (rng.uniform(size=n) < scores / 10).astype(int)
    grid = threshold_grid(0.5)
    targets = Targets(false_approve=0.1, false_reject=0.1)

    choice = empirical_thresholds(scores, labels, targets, grid)

    point = choice.calibration
    assert point.far <= 0.1 and point.frr <= 0.1
    assert point.approved + point.rejected == _best_empirical_by_loop(
        scores, labels, grid, targets
    )


def test_realised_rates_accepts_choices_and_pairs() -> None:
    """A ThresholdChoice, an EmpiricalChoice and a tuple give the same point."""
    scores = np.array([1.0] * 200 + [9.0] * 200)
    labels = np.array([0] * 200 + [1] * 200)
    test_scores = np.array([1.0, 2.0, 5.0, 9.0])
    test_labels = np.array([1, 0, 1, 0])
    tuned = tune_thresholds(
        scores,
        labels,
        grid=threshold_grid(1.0),
        start_scores=scores,
        start_labels=labels,
    )
    empirical = EmpiricalChoice(1.0, 2.0, tuned.calibration, Targets())

    from_choice = realised_rates(tuned, test_scores, test_labels)
    from_empirical = realised_rates(empirical, test_scores, test_labels)
    from_pair = realised_rates((1.0, 2.0), test_scores, test_labels)

    assert from_choice == from_empirical == from_pair
    assert (from_pair.approved, from_pair.false_approved) == (3, 2)
    assert (from_pair.rejected, from_pair.false_rejected) == (1, 1)
    assert from_pair.frr == 0.5
    assert from_pair.rejected_relevant_share == 1.0
    assert from_pair.human_workload == 0


def test_tune_domains_decision_line_keeps_approve_above_and_reject_below() -> None:
    """On perfectly separated scores the line stops approve at 0.1 / reject at 9.9."""
    rng = np.random.default_rng(7)
    labels = (rng.random(400) < 0.5).astype(int)
    scores = np.where(labels == 1, 10.0, 0.0)
    parts = {"d": (scores, labels, scores, labels)}

    free = tune_domains(parts, grid=threshold_grid(0.1))["d"]
    lined = tune_domains(parts, grid=threshold_grid(0.1), decision_line=5.0)["d"]

    assert free.approve_threshold is not None and free.approve_threshold < 5.0
    assert lined.approve_threshold == 5.0
    assert lined.reject_threshold == pytest.approx(4.9)
    assert lined.reject_threshold < lined.relevance_threshold <= lined.approve_threshold


def test_empirical_thresholds_no_documents_turns_both_sides_off() -> None:
    """A domain with no calibration documents gets no thresholds, not a crash."""
    choice = empirical_thresholds([], [])

    assert (choice.reject_threshold, choice.approve_threshold) == (None, None)
    assert choice.calibration.n == 0
