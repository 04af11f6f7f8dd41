"""The feedback report: audits, drift, agreement and scoring cost per domain.

``heysh feedback report`` prints it. The recent window is ``[since, until)``
(by default the last :data:`DEFAULT_RECENT_DAYS` days); the drift reference
is a score file when given, else the domain's decisions before ``since``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy.typing as npt

from heysh.feedback.agreement import Agreement, AgreementReport, agreement_report
from heysh.feedback.audit_report import AuditReport, RateCheck, audit_report
from heysh.feedback.drift import DriftCheck, domain_drift
from heysh.feedback.scoring_cost import ModelCost, scoring_cost
from heysh.stores.base import MetadataStore

_logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_RECENT_DAYS", "DomainFeedback", "feedback_report", "render_text"]

DEFAULT_RECENT_DAYS = 7


@dataclass(frozen=True)
class DomainFeedback:
    """One domain's audits, drift, agreement and what scoring it cost."""

    domain_id: str
    since: datetime
    until: datetime | None
    audits: AuditReport
    drift: DriftCheck
    agreement: AgreementReport
    scoring: tuple[ModelCost, ...] = ()

    @property
    def alarm(self) -> bool:
        """Whether audits or drift alarm."""
        return self.audits.alarm or self.drift.alarm

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "domain_id": self.domain_id,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "alarm": self.alarm,
            "audits": self.audits.to_dict(),
            "drift": self.drift.to_dict(),
            "agreement": self.agreement.to_dict(),
            "scoring": [cost.to_dict() for cost in self.scoring],
        }


def feedback_report(
    metadata: MetadataStore,
    *,
    domain_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    reference_scores: npt.ArrayLike | None = None,
    confidence: float = 0.95,
    now: datetime | None = None,
) -> list[DomainFeedback]:
    """Build the report for one domain, or for every domain.

    Args:
        metadata: The metadata store.
        domain_id: Only this domain.
        since: Start of the recent window (default: ``now`` minus seven days).
        until: End of the recent window (default: open).
        reference_scores: Drift reference (default: decisions before
            ``since``).
        confidence: Coverage of the audit intervals.
        now: The current time (for tests).
    """
    start = since or (now or datetime.now(UTC)) - timedelta(days=DEFAULT_RECENT_DAYS)
    domains = (
        [domain_id]
        if domain_id is not None
        else [str(d["domain_id"]) for d in metadata.list_domains()]
    )
    reports = []
    for domain in domains:
        reports.append(
            DomainFeedback(
                domain_id=domain,
                since=start,
                until=until,
                audits=audit_report(
                    metadata, domain, since=start, until=until, confidence=confidence
                ),
                drift=domain_drift(
                    metadata,
                    domain,
                    recent_since=start,
                    recent_until=until,
                    reference_scores=reference_scores,
                ),
                agreement=agreement_report(metadata, domain, since=start, until=until),
                scoring=tuple(scoring_cost(metadata, domain, since=start, until=until)),
            )
        )
    _logger.info(
        "feedback_report",
        extra={"domains": len(reports), "alarms": sum(r.alarm for r in reports)},
    )
    return reports


def render_text(reports: list[DomainFeedback]) -> str:
    """Render the report for a terminal."""
    lines: list[str] = []
    for report in reports:
        window = f"{report.since:%Y-%m-%d %H:%M} .. " + (
            f"{report.until:%Y-%m-%d %H:%M}" if report.until else "now"
        )
        flag = "  ALARM" if report.alarm else ""
        lines.append(f"domain {report.domain_id}  ({window}){flag}")
        audits = report.audits
        lines.append(
            f"  audits: {audits.labelled} labelled of {audits.requested} requested "
            f"({audits.confidence:.0%} Clopper-Pearson intervals)"
        )
        lines += [_rate_line(audits.false_approve), _rate_line(audits.false_reject)]
        lines.append("  " + _drift_line(report.drift))
        agreement = report.agreement
        if not agreement.model_vs_humans and not agreement.between_controllers:
            lines.append("  agreement: no human labels in the window")
        for item in agreement.model_vs_humans + agreement.between_controllers:
            lines += _agreement_lines(item)
        lines += _scoring_lines(report.scoring)
    return "\n".join(lines)


def _rate_line(check: RateCheck) -> str:
    name = check.side.replace("_", "-")
    if check.n == 0:
        return f"    {name}: no audited documents (target {check.target:g})"
    verdict = "ALARM: lower bound above target" if check.alarm else "ok"
    return (
        f"    {name}: {check.errors}/{check.n} = {check.rate:.3f} "
        f"[{check.lower:.3f}, {check.upper:.3f}] target {check.target:g}: {verdict}"
    )


def _drift_line(check: DriftCheck) -> str:
    if check.ks_p_value is None or check.psi is None:
        return (
            f"drift: insufficient data ({check.n_reference} reference, "
            f"{check.n_recent} recent scores; 30 each needed)"
        )
    return (
        f"drift: {check.verdict.upper() if check.alarm else check.verdict}; KS "
        f"{check.ks_statistic:.3f} (p={check.ks_p_value:.2g}), PSI {check.psi:.3f}; "
        f"mean {check.reference_mean:.2f} -> {check.recent_mean:.2f} "
        f"({check.n_reference} reference, {check.n_recent} recent)"
    )


def _agreement_lines(item: Agreement, max_listed: int = 10) -> list[str]:
    kappa = "undefined" if item.kappa is None else f"{item.kappa:.3f}"
    (rr, ra), (ar, aa) = item.confusion
    lines = [
        f"  agreement {item.first} vs {item.second}: n={item.n} kappa={kappa}; "
        f"confusion [[{rr}, {ra}], [{ar}, {aa}]] (rows {item.first} reject/approve)"
    ]
    for d in item.disagreements[:max_listed]:
        score = "" if d.score is None else f" score {d.score:.2f}"
        lines.append(
            f"    disagree {d.doc_id[:12]}: {item.first}={d.first_label} "
            f"{item.second}={d.second_label}{score}"
        )
    if len(item.disagreements) > max_listed:
        lines.append(f"    ... {len(item.disagreements) - max_listed} more")
    return lines


def _scoring_lines(costs: tuple[ModelCost, ...]) -> list[str]:
    if not costs:
        return ["  scoring: no scored decisions in the window"]
    return [
        f"  scoring {c.model}: {c.documents} documents, {c.tokens_in:,} tokens in, "
        f"{c.tokens_out:,} out, ${c.cost_usd:.4f} (${c.cost_per_1k_documents:.3f} "
        "per 1,000 documents)"
        for c in costs
    ]
