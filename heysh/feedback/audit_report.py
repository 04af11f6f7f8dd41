"""Observed error rates on blind audit labels, checked against the certified bounds.

Two rates, each with a two-sided Clopper-Pearson interval at ``confidence``:

- **False approve**: among audited auto-approvals by thresholds, the share a
  controller labelled not relevant. This is exactly the quantity the
  approve threshold was certified for (non-relevant share among the
  auto-approved).
- **False reject**: the certified rate is the share of *all* relevant
  documents that score at or below the reject threshold. Audits sample the
  automatic decisions at rate ``f`` (the audit fraction recorded with each
  audit), while gray-zone documents decided by a controller are all
  labelled. So the relevant documents are counted at one common rate: every
  audited relevant document once, and ``f`` times each relevant gray-zone
  controller decision (rounded). The errors are the audited auto-rejects
  labelled relevant. With an AI controller the gray zone is audited too and
  needs no scaling.

**Alarm rule**: a side alarms when the *lower* end of its interval exceeds
its target, i.e. when the audits show, at confidence ``(1 + confidence) / 2``
one-sided, that the true rate is above the bound the thresholds promised. A
point estimate above the target with an interval still reaching below it is
reported but does not alarm: so few labels cannot tell it from noise. The
targets are those recorded with each audit (``false_approve_target`` and
``false_reject_target`` of the domain config when the decision was made).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from heysh.evaluation._binomial import binomial_upper_bound
from heysh.feedback.export import AUTOMATIC_DECIDERS
from heysh.stores.base import AuditRow, MetadataStore

_logger = logging.getLogger(__name__)

__all__ = [
    "AuditReport",
    "RateCheck",
    "audit_report",
    "check_audits",
    "clopper_pearson_interval",
]

DEFAULT_TARGET = 0.05


@dataclass(frozen=True)
class RateCheck:
    """One side's observed rate on audits, its interval, target and verdict.

    Attributes:
        side: ``false_approve`` or ``false_reject``.
        errors: Audited errors on this side.
        n: Documents the rate is over.
        rate: ``errors / n`` (``None`` without documents).
        lower: Lower end of the two-sided Clopper-Pearson interval.
        upper: Upper end of the interval.
        target: The certified bound.
        alarm: Whether ``lower > target``.
    """

    side: str
    errors: int
    n: int
    rate: float | None
    lower: float
    upper: float
    target: float
    alarm: bool


@dataclass(frozen=True)
class AuditReport:
    """A domain's audits: how many, how many labelled, and both rate checks."""

    domain_id: str
    requested: int
    labelled: int
    confidence: float
    false_approve: RateCheck
    false_reject: RateCheck

    @property
    def alarm(self) -> bool:
        """Whether either side alarms."""
        return self.false_approve.alarm or self.false_reject.alarm

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {**asdict(self), "alarm": self.alarm}


def clopper_pearson_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Return the two-sided Clopper-Pearson interval of a binomial rate.

    Args:
        k: Errors observed.
        n: Documents observed.
        confidence: Two-sided coverage in (0, 1).

    Returns:
        ``(lower, upper)``; ``(0.0, 1.0)`` when ``n`` is 0.

    >>> [round(x, 4) for x in clopper_pearson_interval(5, 50, 0.95)]
    [0.0333, 0.2181]
    """
    one_sided = 1.0 - (1.0 - confidence) / 2.0
    upper = binomial_upper_bound(k, n, one_sided)
    lower = 1.0 - binomial_upper_bound(n - k, n, one_sided)
    return max(0.0, lower), upper


def check_audits(
    audits: Sequence[AuditRow],
    *,
    gray_zone_relevant: int = 0,
    confidence: float = 0.95,
    domain_id: str = "",
    default_targets: tuple[float, float] = (DEFAULT_TARGET, DEFAULT_TARGET),
) -> AuditReport:
    """Check a domain's audits against the targets recorded with them.

    Args:
        audits: The domain's audits (labelled or not).
        gray_zone_relevant: Gray-zone documents a controller approved in the
            same period (see the module docstring).
        confidence: Two-sided coverage of each interval.
        domain_id: Named in the report.
        default_targets: ``(false_approve, false_reject)`` for audits recorded
            without targets.

    Returns:
        The report.
    """
    labelled = [a for a in audits if a.label_outcome in ("approved", "rejected")]
    fa_target = _target(labelled, "false_approve_target", default_targets[0])
    fr_target = _target(labelled, "false_reject_target", default_targets[1])

    approved = [a for a in labelled if _auto(a) and a.automatic_outcome == "approved"]
    fa_errors = sum(1 for a in approved if a.label_outcome == "rejected")

    relevant = [a for a in labelled if a.label_outcome == "approved"]
    fr_errors = sum(
        1 for a in relevant if _auto(a) and a.automatic_outcome == "rejected"
    )
    fraction = _audit_fraction(labelled)
    n_relevant = len(relevant) + round(fraction * gray_zone_relevant)
    return AuditReport(
        domain_id=domain_id,
        requested=len(audits),
        labelled=len(labelled),
        confidence=confidence,
        false_approve=_rate(
            "false_approve", fa_errors, len(approved), fa_target, confidence
        ),
        false_reject=_rate(
            "false_reject", fr_errors, n_relevant, fr_target, confidence
        ),
    )


def audit_report(
    metadata: MetadataStore,
    domain_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    confidence: float = 0.95,
) -> AuditReport:
    """Check a domain's audits requested in ``[since, until)``.

    Targets missing from old audit rows default to the domain config's.
    """
    audits = metadata.list_audits(domain_id, since=since, until=until)
    decisions = metadata.list_decisions(domain_id, since=since, until=until)
    gray_relevant = sum(
        1
        for d in decisions
        if d.outcome == "approved"
        and d.decided_by not in AUTOMATIC_DECIDERS
        and d.decided_by != "input-check"
    )
    report = check_audits(
        audits,
        gray_zone_relevant=gray_relevant,
        confidence=confidence,
        domain_id=domain_id,
        default_targets=_config_targets(metadata, domain_id),
    )
    _logger.info(
        "audit_report",
        extra={
            "domain_id": domain_id,
            "labelled": report.labelled,
            "alarm": report.alarm,
        },
    )
    return report


def _auto(audit: AuditRow) -> bool:
    """Whether the audited decision was made by thresholds (a certified side)."""
    return str(audit.thresholds.get("decided_by", "thresholds")) == "thresholds"


def _rate(side: str, k: int, n: int, target: float, confidence: float) -> RateCheck:
    lower, upper = clopper_pearson_interval(k, n, confidence)
    return RateCheck(
        side=side,
        errors=k,
        n=n,
        rate=k / n if n else None,
        lower=lower,
        upper=upper,
        target=target,
        alarm=n > 0 and lower > target,
    )


def _target(audits: Sequence[AuditRow], key: str, default: float) -> float:
    """The most common target recorded with the audits (the default if none)."""
    values = Counter(
        float(a.thresholds[key]) for a in audits if a.thresholds.get(key) is not None
    )
    return values.most_common(1)[0][0] if values else default


def _audit_fraction(audits: Sequence[AuditRow]) -> float:
    values = [
        float(a.thresholds["audit_fraction"])
        for a in audits
        if a.thresholds.get("audit_fraction") is not None
    ]
    return sum(values) / len(values) if values else 0.0


def _config_targets(metadata: MetadataStore, domain_id: str) -> tuple[float, float]:
    import json

    domain = metadata.get_domain(domain_id) or {}
    try:
        raw = json.loads(domain.get("config_json") or "{}")
    except ValueError:
        raw = {}
    return (
        float(raw.get("false_approve_target") or DEFAULT_TARGET),
        float(raw.get("false_reject_target") or DEFAULT_TARGET),
    )
