"""Tests for heysh.evaluation.sweep."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from heysh.errors import DataError
from heysh.evaluation.sweep import (
    OperatingPoint,
    SweepResult,
    operating_point,
    sweep_threshold_pairs,
    threshold_grid,
)


def _brute_force(
    scores: np.ndarray, labels: np.ndarray, grid: np.ndarray
) -> dict[str, np.ndarray]:
    """Rates of every valid pair with plain Python counting, nan elsewhere."""
    size = grid.size
    out = {
        name: np.full((size, size), np.nan)
        for name in ("automation", "far", "frr", "rrs", "human", "human_share")
    }
    n = len(scores)
    n_relevant = sum(int(y) for y in labels)
    for i, reject in enumerate(grid):
        for j, approve in enumerate(grid):
            if not reject < approve:
                continue
            approved = [y for s, y in zip(scores, labels, strict=True) if s >= approve]
            rejected = [y for s, y in zip(scores, labels, strict=True) if s <= reject]
            false_approved = sum(1 for y in approved if y == 0)
            false_rejected = sum(1 for y in rejected if y == 1)
            decided = len(approved) + len(rejected)
            out["automation"][i, j] = decided / n
            out["far"][i, j] = false_approved / len(approved) if approved else 0.0
            out["frr"][i, j] = false_rejected / n_relevant if n_relevant else 0.0
            out["rrs"][i, j] = false_rejected / len(rejected) if rejected else 0.0
            out["human"][i, j] = n - decided
            out["human_share"][i, j] = (n - decided) / n
    return out


def _assert_matches_brute_force(
    sweep: SweepResult, scores: np.ndarray, labels: np.ndarray
) -> None:
    expected = _brute_force(scores, labels, sweep.grid)
    pairs = {
        "automation": sweep.automation,
        "far": sweep.far,
        "frr": sweep.frr,
        "rrs": sweep.rejected_relevant_share,
        "human": sweep.human_workload,
        "human_share": sweep.human_share,
    }
    for name, actual in pairs.items():
        np.testing.assert_allclose(
            np.ma.filled(actual.astype(float), np.nan),
            expected[name],
            rtol=0,
            atol=1e-12,
            err_msg=name,
        )


def _tied_case(seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Scores on a 0.5 lattice, so many sit exactly on grid thresholds."""
    rng = np.random.default_rng(seed)
    scores = np.round(rng.uniform(0, 10, n) * 2) / 2
    labels = (rng.uniform(size=n) < scores / 10).astype(int)
    return scores, labels


@pytest.mark.parametrize("seed", range(25))
def test_sweep_random_tied_scores_match_brute_force(seed: int) -> None:
    """Every pair of a 0.5 grid equals a Python loop when scores sit on thresholds."""
    scores, labels = _tied_case(seed)
    grid = threshold_grid(0.5)

    sweep = sweep_threshold_pairs(scores, labels, grid)

    _assert_matches_brute_force(sweep, scores, labels)


@pytest.mark.parametrize("seed", range(3))
def test_sweep_default_grid_matches_brute_force(seed: int) -> None:
    """The 101-point grid equals a Python loop, with scores on a 0.1 lattice."""
    rng = np.random.default_rng(100 + seed)
    scores = np.round(rng.uniform(0, 10, 60), 1)
    labels = rng.integers(0, 2, 60)

    sweep = sweep_threshold_pairs(scores, labels, threshold_grid())

    _assert_matches_brute_force(sweep, scores, labels)


def test_sweep_counts_hand_example() -> None:
    """Per-threshold counts of a five-document example match a hand count."""
    scores = [1.0, 2.0, 5.0, 8.0, 8.0]
    labels = [0, 1, 0, 1, 0]

    sweep = sweep_threshold_pairs(scores, labels, [2.0, 8.0])

    assert (sweep.n, sweep.n_relevant) == (5, 2)
    assert sweep.approved.tolist() == [4, 2]
    assert sweep.false_approved.tolist() == [2, 1]
    assert sweep.rejected.tolist() == [2, 5]
    assert sweep.false_rejected.tolist() == [1, 2]
    assert sweep.automation[0, 1] == pytest.approx(0.8)
    assert sweep.far[0, 1] == pytest.approx(0.5)
    assert sweep.frr[0, 1] == pytest.approx(0.5)
    assert sweep.rejected_relevant_share[0, 1] == pytest.approx(0.5)
    assert sweep.human_workload[0, 1] == 1


def test_sweep_invalid_pairs_are_masked() -> None:
    """Exactly the pairs with reject >= approve are masked, in every rate."""
    grid = threshold_grid(1.0)

    sweep = sweep_threshold_pairs([3.0, 7.0], [0, 1], grid)

    expected_mask = grid[:, None] >= grid[None, :]
    np.testing.assert_array_equal(sweep.valid, ~expected_mask)
    for rates in (sweep.automation, sweep.far, sweep.frr, sweep.human_workload):
        np.testing.assert_array_equal(np.ma.getmaskarray(rates), expected_mask)


def test_sweep_nothing_approved_or_relevant_gives_zero_rates() -> None:
    """With no relevant document and nothing approved or rejected, rates are 0."""
    sweep = sweep_threshold_pairs([5.0, 5.0], [0, 0], [1.0, 9.0])

    assert sweep.far[0, 1] == 0.0
    assert sweep.frr[0, 1] == 0.0
    assert sweep.rejected_relevant_share[0, 1] == 0.0
    assert sweep.automation[0, 1] == 0.0


def test_sweep_at_matches_operating_point() -> None:
    """SweepResult.at and operating_point agree on every valid pair."""
    scores, labels = _tied_case(7)
    grid = threshold_grid(1.0)
    sweep = sweep_threshold_pairs(scores, labels, grid)

    points = [
        (sweep.at(i, j), operating_point(scores, labels, grid[i], grid[j]))
        for i in range(grid.size)
        for j in range(grid.size)
        if sweep.valid[i, j]
    ]

    assert len(points) == 55
    assert all(a == b for a, b in points)


def test_sweep_at_invalid_pair_raises() -> None:
    """Asking for reject >= approve names both thresholds."""
    sweep = sweep_threshold_pairs([3.0, 7.0], [0, 1], [2.0, 8.0])

    with pytest.raises(DataError, match=r"reject threshold 8\.0 must be below approve"):
        sweep.at(1, 0)


def test_sweep_index_of_finds_grid_values_only() -> None:
    """index_of finds 0.3 on the default grid and refuses 0.35."""
    sweep = sweep_threshold_pairs([3.0, 7.0], [0, 1], threshold_grid())

    assert sweep.index_of(0.3) == 3
    with pytest.raises(DataError, match=r"0\.35 is not on the sweep's grid"):
        sweep.index_of(0.35)


def test_sweep_result_is_frozen() -> None:
    """A SweepResult cannot be changed after the sweep."""
    sweep = sweep_threshold_pairs([3.0, 7.0], [0, 1], [2.0, 8.0])

    with pytest.raises(dataclasses.FrozenInstanceError):
        sweep.n = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ([], "grid is empty"),
        ([2.0, 1.0], "strictly increasing"),
        ([1.0, 1.0], "strictly increasing"),
        ([1.0, 12.0], "must lie on 0-10"),
    ],
)
def test_sweep_bad_grid_raises(grid: list[float], message: str) -> None:
    """A grid must be non-empty, strictly increasing and on 0-10."""
    with pytest.raises(DataError, match=message):
        sweep_threshold_pairs([3.0, 7.0], [0, 1], grid)


def test_sweep_empty_scores_raise() -> None:
    """A sweep needs documents."""
    with pytest.raises(DataError, match="no documents"):
        sweep_threshold_pairs([], [], [1.0, 2.0])


def test_threshold_grid_default_has_101_exact_decimals() -> None:
    """The default grid is 0.0, 0.1, ..., 10.0, each the float nearest its decimal."""
    grid = threshold_grid()

    assert grid.size == 101
    assert grid.tolist() == [float(f"{i / 10:.1f}") for i in range(101)]
    assert grid[3] == 0.3
    assert grid[-1] == 10.0


def test_threshold_grid_quarter_step_has_41_points() -> None:
    """A 0.25 step gives 41 points ending in 9.75 and 10."""
    grid = threshold_grid(0.25)

    assert grid.size == 41
    assert grid[-2:].tolist() == [9.75, 10.0]


@pytest.mark.parametrize("step", [0.0, -1.0, 0.3, float("nan"), 11.0])
def test_threshold_grid_bad_step_raises(step: float) -> None:
    """A step must be positive, at most 10 and divide 10 evenly."""
    with pytest.raises(DataError, match="step"):
        threshold_grid(step)


def test_operating_point_sides_off_decide_nothing() -> None:
    """With a side off, none of its documents is decided; both off sends all."""
    scores = [1.0, 5.0, 9.0, 9.5]
    labels = [0, 1, 1, 0]

    approve_only = operating_point(scores, labels, None, 9.0)
    reject_only = operating_point(scores, labels, 1.0, None)
    neither = operating_point(scores, labels, None, None)

    assert approve_only == OperatingPoint(
        reject_threshold=None,
        approve_threshold=9.0,
        n=4,
        n_relevant=2,
        approved=2,
        false_approved=1,
        rejected=0,
        false_rejected=0,
        human_workload=2,
        automation=0.5,
        far=0.5,
        frr=0.0,
        rejected_relevant_share=0.0,
        human_share=0.5,
    )
    assert (reject_only.rejected, reject_only.false_rejected) == (1, 0)
    assert (neither.human_workload, neither.automation) == (4, 0.0)


def test_operating_point_empty_data_gives_zeros() -> None:
    """No held-out documents: every count and rate is 0, nothing raises."""
    point = operating_point([], [], 2.0, 8.0)

    assert (point.n, point.automation, point.far, point.frr) == (0, 0.0, 0.0, 0.0)


def test_operating_point_reject_not_below_approve_raises() -> None:
    """reject must be strictly below approve."""
    with pytest.raises(DataError, match=r"reject threshold 5\.0 must be below approve"):
        operating_point([1.0], [0], 5.0, 5.0)
