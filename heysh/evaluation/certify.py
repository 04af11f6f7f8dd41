"""Finite-sample certificates for the false-approve and false-reject rates.

The method is Learn-then-Test (Angelopoulos, Bates, Candès, Jordan and Lei,
2021, "Learn then Test: Calibrating Predictive Algorithms to Achieve Risk
Control", arXiv:2110.01052) with fixed-sequence testing. For one side, every
grid threshold is a null hypothesis "this threshold's error rate is above the
target". Each is tested with the exact binomial tail
``p = P(Bin(n, target) <= k)`` (the one-sided Clopper-Pearson test), in an
order fixed before the calibration data are seen, stopping at the first
``p > delta``. Every threshold passed before that stop is certified, and the
probability that any certified threshold in fact misses the target is at most
``delta = 1 - confidence`` (the family-wise error), for each side.

- Approve side: the false-approve rate at threshold ``a`` is the non-relevant
  share among documents scoring ``>= a``; ``n`` counts those documents, ``k``
  the non-relevant among them. The sequence walks from strict (high) to loose.
  The top thresholds hold too few documents to pass, so the walk starts at a
  threshold picked from *other* data (the fit split), see
  :func:`approve_start_index`.
- Reject side: the false-reject rate at ``r`` is the share of relevant
  documents scoring ``<= r``; ``n`` is every relevant document, ``k`` those
  scoring ``<= r``. The walk goes from the lowest threshold up.

The guarantee assumes calibration documents are exchangeable with the
documents the thresholds will decide (same domain, same period), and that the
calibration split was used for nothing but this test.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from heysh.errors import ConfigError, DataError
from heysh.evaluation._binomial import (
    MAX_LABELS,
    binomial_p_value,
    binomial_upper_bound,
    check_rate,
    labels_needed,
    p_values_of,
    passes,
    zero_error_sample_size,
)
from heysh.evaluation._counting import (
    count_at_or_above,
    count_at_or_below,
    sort_classes,
)
from heysh.evaluation._validation import BoolArray, FloatArray, IntArray, as_grid

__all__ = [
    "METHOD",
    "SideCertificate",
    "SideEvidence",
    "StartRule",
    "approve_side_evidence",
    "approve_start_index",
    "binomial_p_value",
    "binomial_upper_bound",
    "certify_approve_side",
    "certify_reject_side",
    "labels_needed",
    "reject_side_evidence",
    "zero_error_sample_size",
]

_logger = logging.getLogger(__name__)

METHOD = (
    "Learn-then-Test fixed-sequence testing with exact binomial (Clopper-Pearson) "
    "p-values; family-wise error <= 1 - confidence per side"
)

Side = Literal["approve", "reject"]
StartRule = Literal["zero-error", "min-p-value"]


def approve_start_index(
    grid: npt.ArrayLike,
    n_calibration: int,
    start_scores: npt.ArrayLike | None,
    start_labels: npt.ArrayLike | None = None,
    *,
    target: float,
    confidence: float,
    rule: StartRule = "zero-error",
) -> int:
    """Pick where the approve-side sequence starts, from data other than calibration.

    The fit split's counts at each threshold, scaled by
    ``n_calibration / n_fit``, predict the calibration counts. Two rules:

    - ``"zero-error"``: the highest threshold predicted to hold at least
      :func:`zero_error_sample_size` calibration documents, the fewest that
      could pass.
    - ``"min-p-value"``: the threshold whose predicted p-value (documents
      rounded down, errors rounded up) is smallest, the highest on ties; it
      needs ``start_labels``. On simulated calibrated scores with 1,000
      calibration documents it certified the approve side in 97% of draws
      against 72% for ``"zero-error"``, whose start often holds too few
      documents to survive one error.

    Choosing the start from the fit split keeps the test order independent of
    the calibration data, which the guarantee requires.

    Args:
        grid: Shape ``(n_grid,)``, increasing thresholds.
        n_calibration: Calibration documents that will be tested.
        start_scores: Fit-split scores, or ``None`` (or empty) to start at the
            top of the grid.
        start_labels: Fit-split labels; required by ``"min-p-value"``.
        target: The false-approve target in (0, 1).
        confidence: The per-side confidence in (0, 1).
        rule: ``"zero-error"`` or ``"min-p-value"``.

    Returns:
        A position in ``grid``: the top when there is no fit data; with
        ``"zero-error"``, 0 (the loosest threshold, with the most documents)
        when no threshold is predicted to have enough.

    Raises:
        heysh.errors.ConfigError: for an unknown rule, or ``"min-p-value"``
            without labels.
        heysh.errors.DataError: on malformed fit data.

    >>> fit = [9.5] * 20 + [8.5] * 40 + [6.0] * 40
    >>> approve_start_index([5.0, 8.0, 9.0], 100, fit, target=0.05, confidence=0.95)
    1
    """
    if rule not in ("zero-error", "min-p-value"):
        raise ConfigError(
            f"start rule must be 'zero-error' or 'min-p-value', got {rule!r}"
        )
    thresholds = as_grid(grid)
    top = thresholds.size - 1
    if start_scores is None:
        return top
    if start_labels is None:
        if rule == "min-p-value":
            raise ConfigError("start rule 'min-p-value' needs start_labels")
        start_labels = np.zeros(np.size(start_scores), dtype=np.int64)
    classes = sort_classes(start_scores, start_labels, allow_empty=True)
    n_fit = classes.all_scores.size
    if n_fit == 0:
        return top
    above, non_relevant = count_at_or_above(classes, thresholds)
    scale = n_calibration / n_fit
    if rule == "zero-error":
        predicted = above * scale
        bar = zero_error_sample_size(target, confidence)
        eligible = np.flatnonzero(predicted >= bar)
        return int(eligible[-1]) if eligible.size else 0
    predicted_n = np.floor(above * scale).astype(np.int64)
    predicted_k = np.ceil(non_relevant * scale).astype(np.int64)
    p_values = p_values_of(predicted_k, predicted_n, target)
    return int(top - np.argmin(p_values[::-1]))


@dataclass(frozen=True)
class SideCertificate:
    """What can be guaranteed about one side (approve or reject) of a domain.

    When ``certified`` is true, ``threshold`` is set and, with probability at
    least ``confidence``, its error rate on future documents like the
    calibration ones is at most ``target``. When false, ``threshold`` is
    ``None`` (the side is switched off and its documents go to a controller)
    and ``n``, ``k``, ``empirical_rate`` and ``upper_bound`` describe
    ``candidate_threshold``, the threshold that needs the fewest new labels.

    Attributes:
        threshold: The certified threshold in use, or ``None`` (side off).
        upper_bound: Clopper-Pearson upper bound on the error rate at
            ``confidence``.
        empirical_rate: ``k / n`` on the calibration split (0 when ``n`` is 0).
        n: Tested documents: auto-approved ones (approve side) or relevant ones
            (reject side).
        k: Errors among them: non-relevant approved, or relevant rejected.
        confidence: Per-side confidence actually used (after any Bonferroni
            split).
        method: How the certificate was obtained.
        certified: Whether the side may decide without a human.
        labels_needed: 0 when certified; otherwise about how many more labelled
            calibration documents (of any class, at today's mix) would certify
            ``candidate_threshold`` at today's error rate, or ``None`` if no
            number would (or there is nothing to estimate from).
        note: One readable paragraph with every number above.
        side: ``"approve"`` or ``"reject"``.
        target: The error-rate target.
        scope: ``"per-domain"`` or ``"pooled"`` (certified on every domain's
            calibration data together: the guarantee is for the pooled
            documents, not for this domain alone).
        certified_thresholds: Every threshold the sequence certified, increasing.
        candidate_threshold: The threshold ``n`` and ``k`` describe.
    """

    threshold: float | None
    upper_bound: float
    empirical_rate: float
    n: int
    k: int
    confidence: float
    method: str
    certified: bool
    labels_needed: int | None
    note: str
    side: Side
    target: float
    scope: str
    certified_thresholds: tuple[float, ...]
    candidate_threshold: float | None


_RATE_NAME = {"approve": "false-approve rate", "reject": "false-reject rate"}
_TESTED = {"approve": "auto-approved", "reject": "relevant"}
_ERRORS = {"approve": "not relevant", "reject": "auto-rejected"}


# Calibrated scores put 50% relevance at 5.0: the tuner of the evaluation job
# never auto-approves below it nor auto-rejects at or above it.
DECISION_LINE = 5.0


@dataclass(frozen=True)
class SideEvidence:
    """The whole fixed-sequence test of one side, before a threshold is chosen.

    Attributes:
        side: ``"approve"`` or ``"reject"``.
        grid: Shape ``(n_grid,)``, the thresholds.
        n: Shape ``(n_grid,)``, tested documents per threshold.
        k: Shape ``(n_grid,)``, errors per threshold.
        p_values: Shape ``(n_grid,)``, ``P(Bin(n, target) <= k)``.
        tested: Shape ``(n_grid,)``, thresholds the sequence reached.
        certified: Shape ``(n_grid,)``, thresholds it passed.
        start_index: Where the sequence started.
        target: The error-rate target.
        confidence: Per-side confidence.
        n_calibration: Calibration documents of every class.
        scope: ``"per-domain"`` or ``"pooled"``.
        decision_line: When set, only approve thresholds at or above it and
            reject thresholds below it are usable (see :attr:`usable`).
    """

    side: Side
    grid: FloatArray
    n: IntArray
    k: IntArray
    p_values: FloatArray
    tested: BoolArray
    certified: BoolArray
    start_index: int
    target: float
    confidence: float
    n_calibration: int
    scope: str
    decision_line: float | None = None

    @property
    def usable(self) -> BoolArray:
        """Certified thresholds on the right side of ``decision_line``, if set.

        A certified subset stays certified, so dropping thresholds keeps the
        guarantee. Without this, data the model separates perfectly certifies
        every threshold alike and the most automating one (approve at 0.1)
        would auto-approve documents the model itself calls unlikely relevant.
        """
        if self.decision_line is None:
            return self.certified
        if self.side == "approve":
            return self.certified & (self.grid >= self.decision_line)
        return self.certified & (self.grid < self.decision_line)

    def best_index(self) -> int | None:
        """Return the usable certified threshold with the most automation, if any.

        The lowest usable approve threshold, or the highest usable reject one.
        """
        passed = np.flatnonzero(self.usable)
        if passed.size == 0:
            return None
        return int(passed[0] if self.side == "approve" else passed[-1])

    def certificate(self, index: int | None = None) -> SideCertificate:
        """Return the certificate for the threshold at ``index``.

        Args:
            index: A certified grid position; ``None`` takes :meth:`best_index`,
                and an uncertified certificate (side off) when nothing passed.

        Raises:
            heysh.errors.DataError: if ``index`` was not certified.
        """
        if index is None:
            index = self.best_index()
        if index is None:
            return self._uncertified()
        if not self.certified[index]:
            raise DataError(
                f"{self.side} threshold {self.grid[index]} was not certified; "
                f"certified: {self._certified_list()}"
            )
        n, k = int(self.n[index]), int(self.k[index])
        threshold = float(self.grid[index])
        bound = binomial_upper_bound(k, n, self.confidence)
        note = (
            f"{self.side} threshold {threshold:g} certified ({self.scope}): "
            f"{_RATE_NAME[self.side]} <= {self.target:.2%} with "
            f"{self.confidence:.2%} confidence; on calibration {k} of {n} "
            f"{_TESTED[self.side]} documents were {_ERRORS[self.side]} "
            f"({_rate(k, n):.2%}, upper bound {bound:.2%}); certified thresholds: "
            f"{self._certified_list()}."
        )
        return SideCertificate(
            threshold=threshold,
            upper_bound=bound,
            empirical_rate=_rate(k, n),
            n=n,
            k=k,
            confidence=self.confidence,
            method=METHOD,
            certified=True,
            labels_needed=0,
            note=note,
            side=self.side,
            target=self.target,
            scope=self.scope,
            certified_thresholds=tuple(float(t) for t in self.grid[self.certified]),
            candidate_threshold=threshold,
        )

    def _certified_list(self) -> str:
        values = self.grid[self.certified]
        return f"{values[0]:g}..{values[-1]:g}" if values.size else "none"

    def _uncertified(self) -> SideCertificate:
        index, extra_total, extra_tested = self._cheapest_candidate()
        n, k = int(self.n[index]), int(self.k[index])
        candidate = float(self.grid[index])
        bound = binomial_upper_bound(k, n, self.confidence)
        start = float(self.grid[self.start_index])
        if n == 0:
            advice = (
                f"no {_TESTED[self.side]} calibration documents to estimate from; "
                f"at least {zero_error_sample_size(self.target, self.confidence)} "
                "are needed even with no errors"
            )
        elif extra_total is None:
            advice = (
                "no number of labels would certify it at the observed error rate; "
                "a better model is needed"
            )
        else:
            advice = (
                f"about {extra_total} more labelled calibration documents "
                f"({extra_tested} more {_TESTED[self.side]}) would certify it if "
                "the error rate holds"
            )
        note = (
            f"{self.side} side not certified ({self.scope}): the sequence stopped "
            f"at its first threshold {start:g} (p = "
            f"{self.p_values[self.start_index]:.3g} > "
            f"{1 - self.confidence:.3g}). Best candidate {candidate:g}: {k} of {n} "
            f"{_TESTED[self.side]} calibration documents {_ERRORS[self.side]} "
            f"({_rate(k, n):.2%}, upper bound {bound:.2%} against target "
            f"{self.target:.2%}); {advice}. The side is switched off: these "
            "documents go to a controller."
        )
        return SideCertificate(
            threshold=None,
            upper_bound=bound,
            empirical_rate=_rate(k, n),
            n=n,
            k=k,
            confidence=self.confidence,
            method=METHOD,
            certified=False,
            labels_needed=extra_total,
            note=note,
            side=self.side,
            target=self.target,
            scope=self.scope,
            certified_thresholds=(),
            candidate_threshold=candidate,
        )

    def _cheapest_candidate(self) -> tuple[int, int | None, int | None]:
        """Return (index, more labels in all, more tested docs) of the cheapest.

        Candidates are ranked by an estimate on a geometric grid of totals;
        only the winner gets the exact :func:`labels_needed`.
        """
        estimate = _estimate_total_labels(
            self.n, self.k, self.n_calibration, self.target, self.confidence
        )
        if not np.isfinite(estimate).any():
            return self.start_index, None, None
        # On ties prefer the threshold that automates more.
        order = np.arange(self.grid.size)
        ranked = order if self.side == "approve" else order[::-1]
        index = int(ranked[np.argmin(estimate[ranked])])
        n, k = int(self.n[index]), int(self.k[index])
        extra_tested = labels_needed(k, n, self.target, self.confidence)
        if extra_tested is None:
            return index, None, None
        share = n / self.n_calibration
        return index, math.ceil(extra_tested / share), extra_tested


def _rate(k: int, n: int) -> float:
    return k / n if n else 0.0


def _estimate_total_labels(
    n: IntArray, k: IntArray, n_calibration: int, target: float, confidence: float
) -> FloatArray:
    """Approximate more labels (all classes) per threshold; inf where hopeless."""
    estimate = np.full(n.shape, np.inf)
    usable = (n > 0) & (k < target * n)
    if n_calibration == 0 or not usable.any():
        return estimate
    rate = k[usable] / n[usable]
    first = zero_error_sample_size(target, confidence)
    totals = np.unique(np.ceil(first * 1.05 ** np.arange(300))).astype(np.int64)
    totals = totals[totals <= MAX_LABELS]
    if totals.size == 0:
        # Even error-free data would need more than MAX_LABELS labels.
        return estimate
    errors = np.ceil(rate[:, None] * totals[None, :]).astype(np.int64)
    tested = np.broadcast_to(totals[None, :], errors.shape)
    passing = passes(errors, tested, target, 1.0 - confidence)
    reached = passing.any(axis=1)
    needed = totals[np.argmax(passing, axis=1)].astype(np.float64)
    extra = np.maximum(needed - n[usable], 0) * (n_calibration / n[usable])
    estimate[usable] = np.where(reached, extra, np.inf)
    return estimate


def _sequence(
    side: Side,
    grid: FloatArray,
    n: IntArray,
    k: IntArray,
    start_index: int,
    *,
    target: float,
    confidence: float,
    n_calibration: int,
    scope: str,
) -> SideEvidence:
    """Run the fixed-sequence test from ``start_index`` in the side's direction."""
    check_rate(target, "target")
    check_rate(confidence, "confidence")
    p_values = p_values_of(k, n, target)
    if side == "approve":
        order = np.arange(start_index, -1, -1)
    else:
        order = np.arange(start_index, grid.size)
    passing = p_values[order] <= 1.0 - confidence
    n_passed = int(np.argmin(passing)) if not passing.all() else order.size
    certified = np.zeros(grid.size, dtype=np.bool_)
    certified[order[:n_passed]] = True
    tested = np.zeros(grid.size, dtype=np.bool_)
    tested[order[: n_passed + 1]] = True
    _logger.debug(
        "side_tested",
        extra={
            "side": side,
            "start": float(grid[start_index]),
            "certified": int(certified.sum()),
            "scope": scope,
        },
    )
    return SideEvidence(
        side=side,
        grid=grid,
        n=n,
        k=k,
        p_values=p_values,
        tested=tested,
        certified=certified,
        start_index=start_index,
        target=target,
        confidence=confidence,
        n_calibration=n_calibration,
        scope=scope,
    )


def approve_side_evidence(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    grid: npt.ArrayLike,
    *,
    target: float,
    confidence: float,
    start_scores: npt.ArrayLike | None = None,
    start_labels: npt.ArrayLike | None = None,
    start_index: int | None = None,
    start_rule: StartRule = "zero-error",
    scope: str = "per-domain",
) -> SideEvidence:
    """Test every approve threshold of ``grid`` on calibration data.

    Args:
        scores: Shape ``(n,)``, calibration scores on 0-10.
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        grid: Shape ``(n_grid,)``, increasing thresholds.
        target: False-approve target in (0, 1).
        confidence: Per-side confidence in (0, 1).
        start_scores: Fit-split scores that choose the start (see
            :func:`approve_start_index`); never the calibration scores.
        start_labels: Fit-split labels; the ``"min-p-value"`` rule needs them.
        start_index: An explicit start position, chosen without calibration
            data; overrides ``start_scores``.
        start_rule: How the fit split picks the start; see
            :func:`approve_start_index`.
        scope: Recorded in the certificate.

    Returns:
        The evidence; ``.certificate()`` picks the lowest certified threshold.

    Raises:
        heysh.errors.DataError: on malformed input or a start outside the grid.
    """
    thresholds = as_grid(grid)
    classes = sort_classes(scores, labels, allow_empty=True)
    n_calibration = int(classes.all_scores.size)
    if start_index is None:
        start_index = approve_start_index(
            thresholds,
            n_calibration,
            start_scores,
            start_labels,
            target=target,
            confidence=confidence,
            rule=start_rule,
        )
    elif not 0 <= start_index < thresholds.size:
        raise DataError(
            f"start_index {start_index} is outside the grid of {thresholds.size}"
        )
    approved, false_approved = count_at_or_above(classes, thresholds)
    return _sequence(
        "approve",
        thresholds,
        approved,
        false_approved,
        start_index,
        target=target,
        confidence=confidence,
        n_calibration=n_calibration,
        scope=scope,
    )


def reject_side_evidence(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    grid: npt.ArrayLike,
    *,
    target: float,
    confidence: float,
    scope: str = "per-domain",
) -> SideEvidence:
    """Test every reject threshold of ``grid``, from the lowest up.

    Args:
        scores: Shape ``(n,)``, calibration scores on 0-10.
        labels: Shape ``(n,)``, 1 relevant, 0 not.
        grid: Shape ``(n_grid,)``, increasing thresholds.
        target: False-reject target in (0, 1).
        confidence: Per-side confidence in (0, 1).
        scope: Recorded in the certificate.

    Returns:
        The evidence; ``.certificate()`` picks the highest certified threshold.

    Raises:
        heysh.errors.DataError: on malformed input.
    """
    thresholds = as_grid(grid)
    classes = sort_classes(scores, labels, allow_empty=True)
    _, relevant_rejected = count_at_or_below(classes, thresholds)
    n_relevant = np.full(thresholds.size, classes.relevant_scores.size, np.int64)
    return _sequence(
        "reject",
        thresholds,
        n_relevant,
        relevant_rejected,
        0,
        target=target,
        confidence=confidence,
        n_calibration=int(classes.all_scores.size),
        scope=scope,
    )


def certify_approve_side(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    grid: npt.ArrayLike,
    *,
    target: float,
    confidence: float,
    start_scores: npt.ArrayLike | None = None,
    start_labels: npt.ArrayLike | None = None,
    start_index: int | None = None,
    start_rule: StartRule = "zero-error",
) -> SideCertificate:
    """Certify the lowest approve threshold whose false-approve rate holds.

    See :func:`approve_side_evidence` for the arguments.

    Returns:
        The certificate of the lowest certified threshold, or an uncertified
        one (``threshold=None``) with the labels needed.

    >>> cert = certify_approve_side([9.0] * 60 + [2.0] * 40, [1] * 60 + [0] * 40,
    ...                             [2.0, 9.0], target=0.05, confidence=0.95)
    >>> cert.threshold, cert.k, cert.n
    (9.0, 0, 60)
    """
    return approve_side_evidence(
        scores,
        labels,
        grid,
        target=target,
        confidence=confidence,
        start_scores=start_scores,
        start_labels=start_labels,
        start_index=start_index,
        start_rule=start_rule,
    ).certificate()


def certify_reject_side(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    grid: npt.ArrayLike,
    *,
    target: float,
    confidence: float,
) -> SideCertificate:
    """Certify the highest reject threshold whose false-reject rate holds.

    See :func:`reject_side_evidence` for the arguments.

    Returns:
        The certificate of the highest certified threshold, or an uncertified
        one (``threshold=None``) with the labels needed.
    """
    return reject_side_evidence(
        scores, labels, grid, target=target, confidence=confidence
    ).certificate()
