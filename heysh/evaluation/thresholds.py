"""Choose a domain's (reject, approve) thresholds under certified error targets.

:func:`tune_thresholds` certifies each side on a calibration split (see
:mod:`heysh.evaluation.certify`), switches off a side it cannot certify (its
documents go to a controller; a best effort is never presented as
certified), and among certified thresholds picks the non-overlapping pair that
automates most. :func:`tune_domains` does this per domain and falls back to a
guarantee on all domains' calibration data together, labelled ``pooled``.
:func:`empirical_thresholds` is the naive baseline without any bound, and
:func:`realised_rates` measures any choice on held-out documents.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from heysh.constants import SCORE_MAX
from heysh.errors import ConfigError, DataError, TargetsUnreachableError
from heysh.evaluation._counting import (
    count_at_or_above,
    count_at_or_below,
    sort_classes,
)
from heysh.evaluation._validation import (
    FloatArray,
    IntArray,
    as_grid,
    as_labels,
    as_scores,
)
from heysh.evaluation.certify import (
    SideCertificate,
    SideEvidence,
    StartRule,
    approve_side_evidence,
    reject_side_evidence,
    zero_error_sample_size,
)
from heysh.evaluation.sweep import OperatingPoint, operating_point, threshold_grid

__all__ = [
    "DEFAULT_RELEVANCE_THRESHOLD",
    "EmpiricalChoice",
    "Targets",
    "ThresholdChoice",
    "empirical_thresholds",
    "realised_rates",
    "tune_domains",
    "tune_thresholds",
]

_logger = logging.getLogger(__name__)

DEFAULT_RELEVANCE_THRESHOLD = 5.0

DomainSplits = tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]


@dataclass(frozen=True)
class Targets:
    """The error rates a domain accepts and how sure the guarantee must be.

    Attributes:
        false_approve: Highest acceptable share of non-relevant documents among
            the auto-approved, in (0, 1).
        false_reject: Highest acceptable share of relevant documents that are
            auto-rejected, in (0, 1).
        confidence: Probability, per side, that the certified rate holds, in
            (0, 1).

    Raises:
        heysh.errors.TargetsUnreachableError: for a rate of 0 or a confidence
            of 1, which no finite number of labels can certify.
        heysh.errors.ConfigError: for values that are not numbers in range.

    >>> Targets(false_approve=0.02).false_approve
    0.02
    """

    false_approve: float = 0.05
    false_reject: float = 0.05
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for name in ("false_approve", "false_reject"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"{name} target must be a number, got {value!r}")
            if value == 0:
                raise TargetsUnreachableError(
                    f"{name} target 0 cannot be certified with any finite number of "
                    f"labels (at confidence {self.confidence}); choose a target "
                    "above 0, e.g. 0.01, which needs "
                    f"{_zero_error_size_or_unknown(0.01, self.confidence)} "
                    "error-free documents"
                )
            if not 0 < value < 1:
                raise ConfigError(
                    f"{name} target must be strictly between 0 and 1, got {value}"
                )
        value = self.confidence
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"confidence must be a number, got {value!r}")
        if value == 1:
            raise TargetsUnreachableError(
                "confidence 1 cannot be reached with any finite number of labels; "
                "choose a confidence below 1, e.g. 0.95"
            )
        if not 0 < value < 1:
            raise ConfigError(
                f"confidence must be strictly between 0 and 1, got {value}"
            )

    def per_side_confidence(self, delta_split: int = 1) -> float:
        """Return the confidence each side is tested at.

        ``1 - (1 - confidence) / delta_split``: a Bonferroni split when the
        winner among ``delta_split`` models is tuned on the same calibration
        split.

        Raises:
            heysh.errors.ConfigError: if ``delta_split`` is below 1.

        >>> round(Targets(confidence=0.95).per_side_confidence(5), 6)
        0.99
        """
        if isinstance(delta_split, bool) or not isinstance(delta_split, int):
            raise ConfigError(f"delta_split must be an integer, got {delta_split!r}")
        if delta_split < 1:
            raise ConfigError(f"delta_split must be at least 1, got {delta_split}")
        return 1.0 - (1.0 - self.confidence) / delta_split


def _zero_error_size_or_unknown(target: float, confidence: float) -> str:
    if 0 < confidence < 1:
        return str(zero_error_sample_size(target, confidence))
    return "several hundred"


@dataclass(frozen=True)
class ThresholdChoice:
    """A domain's tuned thresholds, with the guarantee behind each side.

    Attributes:
        reject_threshold: Scores at or below are auto-rejected; ``None`` when the
            reject side is not certified (those documents go to a controller).
        approve_threshold: Scores at or above are auto-approved; ``None`` when
            the approve side is not certified.
        relevance_threshold: Recommended line between relevant and not for the
            AI controller, with ``reject < relevance <= approve``.
        approve: The approve side's certificate.
        reject: The reject side's certificate.
        calibration: The pair's rates on this domain's calibration split.
        targets: The targets tuned for.
        delta_split: The Bonferroni divisor applied to ``1 - confidence``.
        scope: ``"per-domain"``, ``"pooled"``, or for a mix which side is which,
            e.g. ``"approve: per-domain; reject: pooled"``.
    """

    reject_threshold: float | None
    approve_threshold: float | None
    relevance_threshold: float
    approve: SideCertificate
    reject: SideCertificate
    calibration: OperatingPoint
    targets: Targets
    delta_split: int
    scope: str

    @property
    def automation(self) -> float:
        """Share of calibration documents decided without a human."""
        return self.calibration.automation

    @property
    def far(self) -> float:
        """False-approve rate on the calibration split."""
        return self.calibration.far

    @property
    def frr(self) -> float:
        """False-reject rate on the calibration split."""
        return self.calibration.frr

    def config_fields(self) -> dict[str, float | None]:
        """Return the fields to set on a :class:`heysh.domain.DomainConfig`."""
        return {
            "auto_reject_threshold": self.reject_threshold,
            "auto_approve_threshold": self.approve_threshold,
            "relevance_threshold": self.relevance_threshold,
        }

    def describe(self) -> str:
        """Return a short readable report: thresholds, rates and both notes."""
        point = self.calibration
        return "\n".join(
            [
                f"reject <= {self.reject_threshold}, approve >= "
                f"{self.approve_threshold}, relevance {self.relevance_threshold:g} "
                f"({self.scope})",
                f"calibration: automation {point.automation:.1%}, FAR "
                f"{point.far:.2%}, FRR {point.frr:.2%}, to humans "
                f"{point.human_workload} of {point.n}",
                self.approve.note,
                self.reject.note,
            ]
        )


@dataclass(frozen=True)
class EmpiricalChoice:
    """The naive choice: most automation with empirical rates within targets.

    No finite-sample bound backs it; it is the baseline that certification is
    compared with, never a production setting.

    Attributes:
        reject_threshold: Auto-reject at or below; ``None`` = side off.
        approve_threshold: Auto-approve at or above; ``None`` = side off.
        calibration: The pair's rates on the data it was chosen on.
        targets: The targets.
    """

    reject_threshold: float | None
    approve_threshold: float | None
    calibration: OperatingPoint
    targets: Targets


def _most_decided(
    r_values: FloatArray, a_values: FloatArray, decided: IntArray
) -> tuple[int, int]:
    """Return the (row, column) of the valid pair that decides most documents.

    ``r_values`` and ``a_values`` hold reject and approve thresholds, ``-inf``
    and ``+inf`` for a side that is off. Ties go to a pair with both sides on,
    then to the lower approve threshold, then to the higher reject threshold.
    """
    valid = r_values[:, None] < a_values[None, :]
    scored = np.where(valid, decided, -1)
    rows, cols = np.nonzero(scored == scored.max())
    one_sided = np.isinf(r_values[rows]) | np.isinf(a_values[cols])
    pick = np.lexsort((-r_values[rows], a_values[cols], one_sided))[0]
    return int(rows[pick]), int(cols[pick])


def _choose_pair(
    approve: SideEvidence, reject: SideEvidence, scores: FloatArray, labels: IntArray
) -> tuple[int | None, int | None]:
    """Return the grid positions of the certified pair that automates most.

    When the best certified thresholds of both sides do not overlap they are
    the answer. Otherwise every certified reject/approve combination with
    ``reject < approve`` (either side may be off) is scored by documents
    decided on ``scores`` (ties broken by :func:`_most_decided`).
    """
    best_approve, best_reject = approve.best_index(), reject.best_index()
    if (
        best_approve is None
        or best_reject is None
        or approve.grid[best_reject] < approve.grid[best_approve]
    ):
        return best_reject, best_approve

    grid = approve.grid
    classes = sort_classes(scores, labels, allow_empty=True)
    approve_idx = np.flatnonzero(approve.usable)
    reject_idx = np.flatnonzero(reject.usable)
    approved, _ = count_at_or_above(classes, grid[approve_idx])
    rejected, _ = count_at_or_below(classes, grid[reject_idx])
    # Append "side off" as +inf (approve) and -inf (reject), deciding nothing.
    a_values = np.append(grid[approve_idx], np.inf)
    r_values = np.append(grid[reject_idx], -np.inf)
    decided = np.append(rejected, 0)[:, None] + np.append(approved, 0)[None, :]
    row, col = _most_decided(r_values, a_values, decided)
    chosen_reject = int(reject_idx[row]) if row < reject_idx.size else None
    chosen_approve = int(approve_idx[col]) if col < approve_idx.size else None
    return chosen_reject, chosen_approve


def _relevance_between(
    preferred: float | None,
    reject: float | None,
    approve: float | None,
    grid: FloatArray,
) -> float:
    """Return ``preferred`` (default 5.0) moved into ``(reject, approve]``.

    Below the interval it moves to the next grid point above ``reject`` (capped
    at ``approve``); above it, to ``approve``.
    """
    value = DEFAULT_RELEVANCE_THRESHOLD if preferred is None else preferred
    if not (math.isfinite(value) and 0 <= value <= SCORE_MAX):
        raise ConfigError(f"relevance_threshold must lie on 0-10, got {value}")
    high = SCORE_MAX if approve is None else approve
    if value > high:
        return high
    if reject is not None and value <= reject:
        above = grid[grid > reject]
        value = min(high, float(above[0])) if above.size else high
        if value <= reject:
            raise DataError(
                f"no relevance threshold fits above reject threshold {reject} and at "
                f"or below {high}; lower the grid's highest reject threshold"
            )
    return float(value)


def _scope_of(approve: SideCertificate, reject: SideCertificate) -> str:
    if approve.scope == reject.scope:
        return approve.scope
    return f"approve: {approve.scope}; reject: {reject.scope}"


def _assemble(
    approve: SideEvidence,
    reject: SideEvidence,
    scores: FloatArray,
    labels: IntArray,
    *,
    targets: Targets,
    delta_split: int,
    relevance_threshold: float | None,
) -> ThresholdChoice:
    """Pick the pair, build both certificates and the calibration report."""
    reject_index, approve_index = _choose_pair(approve, reject, scores, labels)
    approve_cert = approve.certificate(approve_index)
    reject_cert = reject.certificate(reject_index)
    if approve_index is None and approve.best_index() is not None:
        approve_cert = _switched_off(approve_cert, "reject")
    if reject_index is None and reject.best_index() is not None:
        reject_cert = _switched_off(reject_cert, "approve")
    reject_value, approve_value = reject_cert.threshold, approve_cert.threshold
    choice = ThresholdChoice(
        reject_threshold=reject_value,
        approve_threshold=approve_value,
        relevance_threshold=_relevance_between(
            relevance_threshold, reject_value, approve_value, approve.grid
        ),
        approve=approve_cert,
        reject=reject_cert,
        calibration=operating_point(scores, labels, reject_value, approve_value),
        targets=targets,
        delta_split=delta_split,
        scope=_scope_of(approve_cert, reject_cert),
    )
    for cert in (approve_cert, reject_cert):
        if not cert.certified:
            _logger.warning(
                "side_switched_off",
                extra={
                    "side": cert.side,
                    "scope": cert.scope,
                    "n": cert.n,
                    "k": cert.k,
                    "labels_needed": cert.labels_needed,
                },
            )
    _logger.info(
        "thresholds_chosen",
        extra={
            "reject": reject_value,
            "approve": approve_value,
            "automation": round(choice.automation, 4),
            "scope": choice.scope,
            "n_calibration": choice.calibration.n,
        },
    )
    return choice


def _switched_off(cert: SideCertificate, other: str) -> SideCertificate:
    """Return ``cert`` as off: certified, but the other side automates more."""
    return SideCertificate(
        threshold=None,
        upper_bound=cert.upper_bound,
        empirical_rate=cert.empirical_rate,
        n=cert.n,
        k=cert.k,
        confidence=cert.confidence,
        method=cert.method,
        certified=False,
        labels_needed=0,
        note=(
            f"{cert.note} Switched off anyway: every certified {cert.side} "
            f"threshold overlaps the {other} side, which decides more documents."
        ),
        side=cert.side,
        target=cert.target,
        scope=cert.scope,
        certified_thresholds=cert.certified_thresholds,
        candidate_threshold=cert.candidate_threshold,
    )


def _evidence(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    grid: FloatArray,
    *,
    targets: Targets,
    confidence: float,
    start_scores: npt.ArrayLike | None,
    start_labels: npt.ArrayLike | None,
    start_rule: StartRule,
    scope: str,
    decision_line: float | None = None,
) -> tuple[SideEvidence, SideEvidence]:
    approve = approve_side_evidence(
        scores,
        labels,
        grid,
        target=targets.false_approve,
        confidence=confidence,
        start_scores=start_scores,
        start_labels=start_labels,
        start_rule=start_rule,
        scope=scope,
    )
    reject = reject_side_evidence(
        scores,
        labels,
        grid,
        target=targets.false_reject,
        confidence=confidence,
        scope=scope,
    )
    if decision_line is not None:
        approve = dataclasses.replace(approve, decision_line=decision_line)
        reject = dataclasses.replace(reject, decision_line=decision_line)
    return approve, reject


def tune_thresholds(
    calib_scores: npt.ArrayLike,
    calib_labels: npt.ArrayLike,
    *,
    targets: Targets | None = None,
    grid: npt.ArrayLike | None = None,
    start_scores: npt.ArrayLike | None = None,
    start_labels: npt.ArrayLike | None = None,
    relevance_threshold: float | None = None,
    delta_split: int = 1,
    start_rule: StartRule = "zero-error",
) -> ThresholdChoice:
    """Certify both sides on calibration data and pick the most automating pair.

    Args:
        calib_scores: Shape ``(n,)``, calibrated scores of the calibration
            split, used for nothing else.
        calib_labels: Shape ``(n,)``, 1 relevant, 0 not.
        targets: Error targets and confidence; ``Targets()`` by default.
        grid: Candidate thresholds; ``threshold_grid(0.1)`` by default.
        start_scores: Fit-split scores that set where the approve-side test
            starts (see :func:`heysh.evaluation.certify.approve_start_index`);
            without them it starts at the top of the grid.
        start_labels: Fit-split labels matching ``start_scores``.
        relevance_threshold: Preferred relevance line (default 5.0), moved into
            ``(reject, approve]`` if needed.
        delta_split: Number of models compared on this calibration split; each
            side is tested at ``1 - (1 - confidence) / delta_split``.
        start_rule: How the fit split picks the approve side's first threshold
            (see :func:`heysh.evaluation.certify.approve_start_index`).

    Returns:
        The thresholds (``None`` for a side that cannot be certified), both
        certificates and the calibration rates; scope ``"per-domain"``.

    Raises:
        heysh.errors.DataError: on malformed scores, labels or grid.
        heysh.errors.ConfigError: on a bad ``delta_split`` or relevance line.
    """
    targets = Targets() if targets is None else targets
    thresholds = threshold_grid() if grid is None else as_grid(grid)
    confidence = targets.per_side_confidence(delta_split)
    scores = as_scores(calib_scores, name="calib_scores")
    labels = as_labels(calib_labels, scores.size, name="calib_labels")
    approve, reject = _evidence(
        scores,
        labels,
        thresholds,
        targets=targets,
        confidence=confidence,
        start_scores=start_scores,
        start_labels=start_labels,
        start_rule=start_rule,
        scope="per-domain",
    )
    return _assemble(
        approve,
        reject,
        scores,
        labels,
        targets=targets,
        delta_split=delta_split,
        relevance_threshold=relevance_threshold,
    )


def _checked_splits(
    domain: str, parts: DomainSplits
) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
    """Check one domain's calibration and fit arrays; return them as arrays."""
    if len(parts) != 4:
        raise DataError(
            f"domain {domain!r}: expected (calib_scores, calib_labels, fit_scores, "
            f"fit_labels), got {len(parts)} items"
        )
    calib_scores = as_scores(parts[0], name=f"{domain} calib_scores")
    fit_scores = as_scores(parts[2], name=f"{domain} fit_scores")
    return (
        calib_scores,
        as_labels(parts[1], calib_scores.size, name=f"{domain} calib_labels"),
        fit_scores,
        as_labels(parts[3], fit_scores.size, name=f"{domain} fit_labels"),
    )


def tune_domains(
    scores_by_domain: Mapping[str, DomainSplits],
    targets: Targets | None = None,
    grid: npt.ArrayLike | None = None,
    delta_split: int = 1,
    relevance_threshold: float | None = None,
    start_rule: StartRule = "zero-error",
    decision_line: float | None = None,
) -> dict[str, ThresholdChoice]:
    """Tune every domain, certifying a side on pooled data where it must.

    A side that cannot be certified on its own domain's calibration split is
    tested on the calibration splits of all domains together (calibrated
    scores mean the same in every domain, so one threshold can serve all).
    Such a side is labelled ``pooled``: its guarantee holds for the pooled
    documents, not for this domain alone. A side that fails both stays off.

    Args:
        scores_by_domain: Domain id -> ``(calib_scores, calib_labels,
            fit_scores, fit_labels)``; the fit split only sets the approve
            side's starting threshold and may be empty.
        targets: Error targets and confidence; ``Targets()`` by default.
        grid: Candidate thresholds; ``threshold_grid(0.1)`` by default.
        delta_split: Bonferroni divisor, as in :func:`tune_thresholds`.
        relevance_threshold: Preferred relevance line, as in
            :func:`tune_thresholds`.
        start_rule: As in :func:`tune_thresholds`.
        decision_line: When set (the evaluation job uses
            :data:`~heysh.evaluation.certify.DECISION_LINE`, 5.0), approve only at
            or above it and reject only below it.

    Returns:
        Domain id -> its choice.

    Raises:
        heysh.errors.DataError: if there are no domains or data are malformed.
    """
    if not scores_by_domain:
        raise DataError("tune_domains needs at least one domain")
    targets = Targets() if targets is None else targets
    thresholds = threshold_grid() if grid is None else as_grid(grid)
    confidence = targets.per_side_confidence(delta_split)
    arrays = {
        domain: _checked_splits(domain, parts)
        for domain, parts in scores_by_domain.items()
    }
    pooled: tuple[SideEvidence, SideEvidence] | None = None

    choices: dict[str, ThresholdChoice] = {}
    for domain, (scores, labels, fit_scores, fit_labels) in arrays.items():
        approve, reject = _evidence(
            scores,
            labels,
            thresholds,
            targets=targets,
            confidence=confidence,
            start_scores=fit_scores,
            start_labels=fit_labels,
            start_rule=start_rule,
            scope="per-domain",
            decision_line=decision_line,
        )
        needs_pool = approve.best_index() is None or reject.best_index() is None
        if needs_pool and len(arrays) > 1:
            if pooled is None:
                pooled = _evidence(
                    np.concatenate([parts[0] for parts in arrays.values()]),
                    np.concatenate([parts[1] for parts in arrays.values()]),
                    thresholds,
                    targets=targets,
                    confidence=confidence,
                    start_scores=np.concatenate([p[2] for p in arrays.values()]),
                    start_labels=np.concatenate([p[3] for p in arrays.values()]),
                    start_rule=start_rule,
                    scope="pooled",
                    decision_line=decision_line,
                )
            if approve.best_index() is None and pooled[0].best_index() is not None:
                approve = pooled[0]
                _logger.warning(
                    "side_certified_pooled", extra={"domain": domain, "side": "approve"}
                )
            if reject.best_index() is None and pooled[1].best_index() is not None:
                reject = pooled[1]
                _logger.warning(
                    "side_certified_pooled", extra={"domain": domain, "side": "reject"}
                )
        choices[domain] = _assemble(
            approve,
            reject,
            scores,
            labels,
            targets=targets,
            delta_split=delta_split,
            relevance_threshold=relevance_threshold,
        )
    return choices


def empirical_thresholds(
    calib_scores: npt.ArrayLike,
    calib_labels: npt.ArrayLike,
    targets: Targets | None = None,
    grid: npt.ArrayLike | None = None,
) -> EmpiricalChoice:
    """Return the most automating pair whose empirical rates meet the targets.

    No bound: this is what tuning on point estimates would pick, kept as the
    baseline. A side is off (``None``) when no threshold meets its target or
    switching it off automates as much. Ties go to the lower approve and higher
    reject threshold.

    Args:
        calib_scores: Shape ``(n,)``, calibrated scores on 0-10.
        calib_labels: Shape ``(n,)``, 1 relevant, 0 not.
        targets: Error targets; the confidence is not used.
        grid: Candidate thresholds; ``threshold_grid(0.1)`` by default.

    Returns:
        The pair and its rates on these documents.

    With no documents (a domain absent from a small calibration split) both
    sides are off: nothing can be shown to meet a target.

    Raises:
        heysh.errors.DataError: on malformed input.

    >>> choice = empirical_thresholds([1, 2, 8, 9, 9], [0, 0, 1, 1, 0], grid=[2, 8])
    >>> choice.reject_threshold, choice.approve_threshold
    (2.0, None)
    """
    targets = Targets() if targets is None else targets
    thresholds = threshold_grid() if grid is None else as_grid(grid)
    if np.asarray(calib_scores).size == 0 and np.asarray(calib_labels).size == 0:
        nothing = realised_rates((None, None), [], [])
        return EmpiricalChoice(None, None, nothing, targets)
    classes = sort_classes(calib_scores, calib_labels)
    n_relevant = classes.relevant_scores.size
    approved, false_approved = count_at_or_above(classes, thresholds)
    rejected, false_rejected = count_at_or_below(classes, thresholds)

    # Feasible sides, with "off" appended as +inf / -inf deciding nothing.
    # Rates exactly as OperatingPoint defines them, so the report agrees.
    far = np.divide(
        false_approved, approved, out=np.zeros(approved.shape), where=approved > 0
    )
    frr = false_rejected / n_relevant if n_relevant else np.zeros(thresholds.shape)
    far_ok = far <= targets.false_approve
    frr_ok = frr <= targets.false_reject
    a_values = np.append(thresholds[far_ok], np.inf)
    r_values = np.append(thresholds[frr_ok], -np.inf)
    decided = (
        np.append(rejected[frr_ok], 0)[:, None]
        + np.append(approved[far_ok], 0)[None, :]
    )
    row, col = _most_decided(r_values, a_values, decided)
    reject, approve = float(r_values[row]), float(a_values[col])
    reject_value = None if math.isinf(reject) else reject
    approve_value = None if math.isinf(approve) else approve
    return EmpiricalChoice(
        reject_threshold=reject_value,
        approve_threshold=approve_value,
        calibration=operating_point(
            calib_scores, calib_labels, reject_value, approve_value
        ),
        targets=targets,
    )


def realised_rates(
    choice_or_pair: ThresholdChoice
    | EmpiricalChoice
    | tuple[float | None, float | None],
    test_scores: npt.ArrayLike,
    test_labels: npt.ArrayLike,
) -> OperatingPoint:
    """Return what a choice does to held-out labelled documents.

    Args:
        choice_or_pair: A tuned choice, or ``(reject, approve)`` thresholds
            (``None`` = side off).
        test_scores: Shape ``(n,)``, calibrated scores on 0-10.
        test_labels: Shape ``(n,)``, 1 relevant, 0 not.

    Returns:
        Automation, FAR, FRR, rejected-relevant share, human workload, counts.

    Raises:
        heysh.errors.DataError: on malformed input or reject >= approve.

    >>> realised_rates((2.0, 8.0), [1, 5, 8, 9], [0, 1, 1, 0]).far
    0.5
    """
    if isinstance(choice_or_pair, ThresholdChoice | EmpiricalChoice):
        reject = choice_or_pair.reject_threshold
        approve = choice_or_pair.approve_threshold
    else:
        reject, approve = choice_or_pair
    return operating_point(test_scores, test_labels, reject, approve)
