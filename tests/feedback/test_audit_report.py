"""Observed error rates on audit labels against the certified bounds."""

from __future__ import annotations

import pytest

from heysh.feedback.audit_report import (
    audit_report,
    check_audits,
    clopper_pearson_interval,
)
from heysh.stores.base import AuditRow, DecisionRow

TARGETS = {
    "relevance_threshold": 5.0,
    "auto_approve_threshold": 8.0,
    "auto_reject_threshold": 2.0,
    "false_approve_target": 0.05,
    "false_reject_target": 0.05,
    "audit_fraction": 0.1,
    "decided_by": "thresholds",
}


def audits(outcome: str, n: int, wrong: int, start: int = 0) -> list[AuditRow]:
    """``n`` labelled audits of automatic ``outcome``, ``wrong`` of them wrong."""
    other = "rejected" if outcome == "approved" else "approved"
    return [
        AuditRow(
            f"d{start + i}",
            "news",
            outcome,
            9.0 if outcome == "approved" else 1.0,
            "m",
            "1",
            TARGETS,
            "ann",
            label_outcome=other if i < wrong else outcome,
            labelled_by="ann",
        )
        for i in range(n)
    ]


def test_clopper_pearson_interval_matches_known_values_and_edges():
    """The interval is exact: 0/0 is [0, 1]; 0/n starts at 0; n/n ends at 1."""
    assert clopper_pearson_interval(0, 0, 0.95) == (0.0, 1.0)
    assert clopper_pearson_interval(0, 10, 0.95)[0] == 0.0
    assert clopper_pearson_interval(10, 10, 0.95)[1] == 1.0
    lower, upper = clopper_pearson_interval(10, 100, 0.95)
    assert (round(lower, 4), round(upper, 4)) == (0.0490, 0.1762)


def test_check_audits_false_approve_alarms_when_lower_bound_exceeds_target():
    """12 wrong of 100 audited approvals: the interval lies above 5%, alarm."""
    report = check_audits(audits("approved", 100, 12), domain_id="news")

    check = report.false_approve
    assert (check.errors, check.n, check.rate) == (12, 100, 0.12)
    assert check.lower > 0.05
    assert check.alarm and report.alarm


def test_check_audits_rate_above_target_with_wide_interval_does_not_alarm():
    """1 wrong of 10 (10%) cannot be told from 5% with so few labels: no alarm."""
    report = check_audits(audits("approved", 10, 1))

    assert report.false_approve.rate == pytest.approx(0.1)
    assert report.false_approve.lower < 0.05
    assert not report.alarm


def test_check_audits_false_reject_counts_gray_zone_relevant_at_audit_rate():
    """Relevant gray-zone decisions join the denominator at the audit fraction."""
    rows = audits("rejected", 40, 8) + audits("approved", 30, 0, start=100)

    without_gray = check_audits(rows)
    with_gray = check_audits(rows, gray_zone_relevant=600)

    assert (without_gray.false_reject.errors, without_gray.false_reject.n) == (8, 38)
    assert without_gray.false_reject.alarm
    assert (with_gray.false_reject.errors, with_gray.false_reject.n) == (8, 98)
    assert not with_gray.false_reject.alarm


def test_audit_report_reads_store_and_ignores_unlabelled_and_ai_controller(metadata):
    """Only labelled threshold decisions count towards the approve side."""
    for row in audits("approved", 50, 10):
        metadata.record_audit_request(row)
        metadata.record_audit_label("news", row.doc_id, row.label_outcome, "ann")
    ai = {**TARGETS, "decided_by": "ai-controller"}
    for i in range(5):
        metadata.record_audit_request(
            AuditRow(f"ai{i}", "news", "approved", 6.0, "m", "1", ai, "ann")
        )
        metadata.record_audit_label("news", f"ai{i}", "rejected", "ann")
    metadata.record_audit_request(
        AuditRow("open", "news", "approved", 9.0, "m", "1", TARGETS, "bob")
    )
    metadata.record_decision(
        DecisionRow("g1", "news", "approved", "ann", 6.0, "m", "1", TARGETS)
    )

    report = audit_report(metadata, "news")

    assert (report.requested, report.labelled) == (56, 55)
    assert (report.false_approve.errors, report.false_approve.n) == (10, 50)
    assert report.false_approve.alarm
