"""Operational rates at every (reject, approve) threshold pair, in one pass.

At a pair ``(r, a)`` with ``r < a``, a document scoring ``>= a`` is
auto-approved, one scoring ``<= r`` is auto-rejected and the rest go to a
human controller. The rates are:

- automation: (auto-approved + auto-rejected) / all documents;
- false-approve rate (FAR): of the auto-approved, the share not relevant
  (0 when nothing is approved);
- false-reject rate (FRR): of the relevant documents, the share auto-rejected
  (0 when no document is relevant);
- rejected-relevant share: of the auto-rejected, the share relevant (0 when
  nothing is rejected); reported, never a target;
- human workload: documents sent to a controller, as a count and a share.

The sweep sorts each class once and counts with ``searchsorted``, so every
pair of a 101-point grid costs about as much as sorting the scores
(``benchmarks/bench_sweep.py`` measures it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from heysh.constants import SCORE_MAX, SCORE_MIN
from heysh.errors import DataError
from heysh.evaluation._counting import (
    count_at_or_above,
    count_at_or_below,
    sort_classes,
)
from heysh.evaluation._validation import BoolArray, FloatArray, IntArray, as_grid

__all__ = [
    "OperatingPoint",
    "SweepResult",
    "operating_point",
    "sweep_threshold_pairs",
    "threshold_grid",
]

MaskedFloat = np.ma.MaskedArray[Any, np.dtype[np.float64]]
MaskedInt = np.ma.MaskedArray[Any, np.dtype[np.int64]]


def threshold_grid(step: float = 0.1) -> FloatArray:
    """Return the thresholds ``0, step, 2 * step, ..., 10`` as exact decimals.

    Each value is rounded to the step's number of decimals, so ``0.3`` is the
    float nearest 0.3 rather than ``3 * 0.1``, and ``grid == 0.3`` works.

    Args:
        step: Spacing on the 0-10 score scale; must divide 10 evenly.

    Returns:
        Shape ``(round(10 / step) + 1,)``, increasing; 101 points by default.

    Raises:
        heysh.errors.DataError: if ``step`` is not positive or does not divide 10.

    >>> threshold_grid(2.5).tolist()
    [0.0, 2.5, 5.0, 7.5, 10.0]
    >>> float(threshold_grid()[3])
    0.3
    """
    if not (math.isfinite(step) and 0 < step <= SCORE_MAX - SCORE_MIN):
        raise DataError(f"step must be in (0, 10], got {step}")
    span = SCORE_MAX - SCORE_MIN
    n_steps = round(span / step)
    if abs(n_steps * step - span) > 1e-9 * span:
        raise DataError(
            f"step {step} does not divide the score range 0-10 evenly; use a step "
            "such as 0.1, 0.25 or 0.5"
        )
    decimals = max(0, -int(Decimal(repr(step)).normalize().as_tuple().exponent))
    grid = np.round(SCORE_MIN + np.arange(n_steps + 1) * step, decimals)
    return grid.astype(np.float64)


@dataclass(frozen=True)
class OperatingPoint:
    """What one (reject, approve) pair does to one set of labelled documents.

    A threshold of ``None`` switches that side off: nothing is auto-approved
    (or auto-rejected) and those documents go to humans.

    Attributes:
        reject_threshold: Scores at or below are auto-rejected; ``None`` = off.
        approve_threshold: Scores at or above are auto-approved; ``None`` = off.
        n: Documents.
        n_relevant: Relevant documents.
        approved: Auto-approved documents.
        false_approved: Auto-approved documents that are not relevant.
        rejected: Auto-rejected documents.
        false_rejected: Auto-rejected documents that are relevant.
        human_workload: Documents sent to a controller.
        automation: ``(approved + rejected) / n``.
        far: ``false_approved / approved``; 0 when nothing is approved.
        frr: ``false_rejected / n_relevant``; 0 when nothing is relevant.
        rejected_relevant_share: ``false_rejected / rejected``; 0 when nothing
            is rejected.
        human_share: ``human_workload / n``.
    """

    reject_threshold: float | None
    approve_threshold: float | None
    n: int
    n_relevant: int
    approved: int
    false_approved: int
    rejected: int
    false_rejected: int
    human_workload: int
    automation: float
    far: float
    frr: float
    rejected_relevant_share: float
    human_share: float


@dataclass(frozen=True)
class SweepResult:
    """Counts and rates for every pair of a threshold grid.

    Per-threshold counts are 1-D, indexed by the position of the threshold in
    ``grid``; pair rates are ``(n_grid, n_grid)`` masked arrays indexed
    ``[reject_index, approve_index]`` and masked where ``grid[r] >= grid[a]``
    (an invalid pair, see ``valid``).

    Attributes:
        grid: Shape ``(n_grid,)``, the thresholds, increasing.
        n: Documents.
        n_relevant: Relevant documents.
        approved: Shape ``(n_grid,)``, documents scoring ``>= grid[a]``.
        false_approved: Shape ``(n_grid,)``, non-relevant among ``approved``.
        rejected: Shape ``(n_grid,)``, documents scoring ``<= grid[r]``.
        false_rejected: Shape ``(n_grid,)``, relevant among ``rejected``.
        valid: Shape ``(n_grid, n_grid)``, true where ``grid[r] < grid[a]``.
        automation: Share decided without a human.
        far: False-approve rate; depends on the approve index only.
        frr: False-reject rate; depends on the reject index only.
        rejected_relevant_share: Relevant share of the auto-rejected.
        human_workload: Documents sent to a controller (a count).
        human_share: ``human_workload / n``.
    """

    grid: FloatArray
    n: int
    n_relevant: int
    approved: IntArray
    false_approved: IntArray
    rejected: IntArray
    false_rejected: IntArray
    valid: BoolArray
    automation: MaskedFloat
    far: MaskedFloat
    frr: MaskedFloat
    rejected_relevant_share: MaskedFloat
    human_workload: MaskedInt
    human_share: MaskedFloat

    def index_of(self, threshold: float) -> int:
        """Return the grid position of ``threshold``.

        Raises:
            heysh.errors.DataError: if the threshold is not on the grid.
        """
        position = int(np.argmin(np.abs(self.grid - threshold)))
        if not math.isclose(self.grid[position], threshold, abs_tol=1e-9):
            raise DataError(f"threshold {threshold} is not on the sweep's grid")
        return position

    def at(self, reject_index: int, approve_index: int) -> OperatingPoint:
        """Return the operating point of one valid pair of grid positions.

        Raises:
            heysh.errors.DataError: if the pair is invalid (reject >= approve).
        """
        if not self.valid[reject_index, approve_index]:
            raise DataError(
                f"reject threshold {self.grid[reject_index]} must be below approve "
                f"threshold {self.grid[approve_index]}"
            )
        return _point(
            float(self.grid[reject_index]),
            float(self.grid[approve_index]),
            n=self.n,
            n_relevant=self.n_relevant,
            approved=int(self.approved[approve_index]),
            false_approved=int(self.false_approved[approve_index]),
            rejected=int(self.rejected[reject_index]),
            false_rejected=int(self.false_rejected[reject_index]),
        )


def _ratio(numerator: IntArray, denominator: IntArray | int) -> FloatArray:
    """Return ``numerator / denominator`` with 0 wherever the denominator is 0."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.broadcast_to(np.asarray(denominator, dtype=np.float64), num.shape)
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def sweep_threshold_pairs(
    scores: npt.ArrayLike, labels: npt.ArrayLike, grid: npt.ArrayLike
) -> SweepResult:
    """Evaluate every (reject, approve) pair of ``grid`` in one vectorised pass.

    Args:
        scores: Shape ``(n,)``, calibrated scores on 0-10.
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        grid: Shape ``(n_grid,)``, increasing thresholds on 0-10, e.g.
            :func:`threshold_grid`.

    Returns:
        Counts per threshold and rates per pair; see :class:`SweepResult`.

    Raises:
        heysh.errors.DataError: if the inputs are empty or malformed.

    >>> sweep = sweep_threshold_pairs([1.0, 5.0, 9.0, 9.0], [0, 1, 1, 0], [2.0, 9.0])
    >>> float(sweep.automation[0, 1]), float(sweep.far[0, 1])
    (0.75, 0.5)
    """
    thresholds = as_grid(grid)
    classes = sort_classes(scores, labels)
    n = int(classes.all_scores.size)
    n_relevant = int(classes.relevant_scores.size)
    approved, false_approved = count_at_or_above(classes, thresholds)
    rejected, false_rejected = count_at_or_below(classes, thresholds)

    # Broadcast to [reject_index, approve_index]; r < a makes the sets disjoint.
    valid = thresholds[:, None] < thresholds[None, :]
    invalid = ~valid
    shape = valid.shape
    decided = rejected[:, None] + approved[None, :]
    human = n - decided
    far = np.broadcast_to(_ratio(false_approved, approved)[None, :], shape)
    frr = np.broadcast_to(_ratio(false_rejected, n_relevant)[:, None], shape)
    rejected_share = np.broadcast_to(_ratio(false_rejected, rejected)[:, None], shape)
    return SweepResult(
        grid=thresholds,
        n=n,
        n_relevant=n_relevant,
        approved=approved,
        false_approved=false_approved,
        rejected=rejected,
        false_rejected=false_rejected,
        valid=valid,
        automation=np.ma.MaskedArray(decided / n, mask=invalid),
        far=np.ma.MaskedArray(far.copy(), mask=invalid),
        frr=np.ma.MaskedArray(frr.copy(), mask=invalid),
        rejected_relevant_share=np.ma.MaskedArray(rejected_share.copy(), mask=invalid),
        human_workload=np.ma.MaskedArray(human, mask=invalid),
        human_share=np.ma.MaskedArray(human / n, mask=invalid),
    )


def _point(
    reject: float | None,
    approve: float | None,
    *,
    n: int,
    n_relevant: int,
    approved: int,
    false_approved: int,
    rejected: int,
    false_rejected: int,
) -> OperatingPoint:
    human = n - approved - rejected
    return OperatingPoint(
        reject_threshold=reject,
        approve_threshold=approve,
        n=n,
        n_relevant=n_relevant,
        approved=approved,
        false_approved=false_approved,
        rejected=rejected,
        false_rejected=false_rejected,
        human_workload=human,
        automation=(approved + rejected) / n if n else 0.0,
        far=false_approved / approved if approved else 0.0,
        frr=false_rejected / n_relevant if n_relevant else 0.0,
        rejected_relevant_share=false_rejected / rejected if rejected else 0.0,
        human_share=human / n if n else 0.0,
    )


def operating_point(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    reject_threshold: float | None,
    approve_threshold: float | None,
) -> OperatingPoint:
    """Return the rates of one threshold pair on labelled documents.

    Args:
        scores: Shape ``(n,)``, calibrated scores on 0-10; may be empty (every
            count is then 0 and every rate 0).
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        reject_threshold: Scores at or below are auto-rejected; ``None`` = off.
        approve_threshold: Scores at or above are auto-approved; ``None`` = off.

    Returns:
        Counts and rates; see :class:`OperatingPoint`.

    Raises:
        heysh.errors.DataError: if the inputs are malformed or both thresholds
            are set and ``reject_threshold >= approve_threshold``.

    >>> point = operating_point([1.0, 5.0, 9.0, 9.0], [0, 1, 1, 0], None, 9.0)
    >>> point.automation, point.far, point.human_workload
    (0.5, 0.5, 2)
    """
    if (
        reject_threshold is not None
        and approve_threshold is not None
        and not reject_threshold < approve_threshold
    ):
        raise DataError(
            f"reject threshold {reject_threshold} must be below approve threshold "
            f"{approve_threshold}"
        )
    classes = sort_classes(scores, labels, allow_empty=True)
    approve_at = np.inf if approve_threshold is None else approve_threshold
    reject_at = -np.inf if reject_threshold is None else reject_threshold
    approved, false_approved = count_at_or_above(classes, np.array([approve_at]))
    rejected, false_rejected = count_at_or_below(classes, np.array([reject_at]))
    return _point(
        reject_threshold,
        approve_threshold,
        n=int(classes.all_scores.size),
        n_relevant=int(classes.relevant_scores.size),
        approved=int(approved[0]),
        false_approved=int(false_approved[0]),
        rejected=int(rejected[0]),
        false_rejected=int(false_rejected[0]),
    )
