"""The metadata store's decision history and audit methods (SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from heysh.errors import DataError
from heysh.stores.base import AuditRow, DecisionRow, VoteRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def audit(doc_id: str, controller: str = "ann", **changes) -> AuditRow:
    values = dict(
        doc_id=doc_id,
        domain_id="news",
        automatic_outcome="approved",
        score=9.0,
        model_name="m",
        model_version="1",
        thresholds={"audit_fraction": 0.02},
        controller=controller,
    )
    return AuditRow(**{**values, **changes})


def test_list_decisions_and_votes_filter_by_domain_and_half_open_window(metadata):
    """``since`` is inclusive, ``until`` exclusive, and other domains are left out."""
    for hour in range(5):
        at = T0 + timedelta(hours=hour)
        for domain in ("news", "sport"):
            metadata.record_decision(
                DecisionRow(
                    f"d{hour}",
                    domain,
                    "approved",
                    "ann",
                    6.0,
                    "m",
                    "1",
                    {},
                    decided_at=at,
                )
            )
            metadata.record_vote(
                VoteRow(f"d{hour}", domain, "bob", "controller", True, voted_at=at)
            )
    since, until = T0 + timedelta(hours=1), T0 + timedelta(hours=3)

    decisions = metadata.list_decisions("news", since=since, until=until)
    votes = metadata.list_domain_votes("news", since=since, until=until)

    assert [d.doc_id for d in decisions] == ["d1", "d2"]
    assert [v.doc_id for v in votes] == ["d1", "d2"]
    assert len(metadata.list_decisions()) == 10
    with pytest.raises(DataError, match=r"since .* has no time zone"):
        metadata.list_decisions(since=datetime(2026, 11, 1))


def test_record_audit_request_is_write_once(metadata):
    """A second request for the same document keeps the first controller."""
    first = metadata.record_audit_request(audit("d1", "ann"))
    second = metadata.record_audit_request(audit("d1", "bob"))

    assert (first, second) == (True, False)
    assert metadata.get_audit("news", "d1").controller == "ann"
    with pytest.raises(DataError, match="controller must be a non-empty string"):
        metadata.record_audit_request(audit("d2", ""))


def test_list_audits_filters_by_controller_and_label_state(metadata):
    """Pending and labelled audits, per controller, are listed separately."""
    for doc_id, controller in (("d1", "ann"), ("d2", "bob"), ("d3", "ann")):
        metadata.record_audit_request(audit(doc_id, controller))
    metadata.record_audit_label("news", "d1", "rejected", "ann")

    pending = metadata.list_audits("news", controller="ann", labelled=False)
    labelled = metadata.list_audits(labelled=True)

    assert [a.doc_id for a in pending] == ["d3"]
    assert [(a.doc_id, a.label_outcome, a.labelled_by) for a in labelled] == [
        ("d1", "rejected", "ann")
    ]
    assert labelled[0].labelled_at is not None


def test_record_audit_label_refuses_unknown_relabel_and_bad_outcome(metadata):
    """Only sampled documents are labelled, once, as approved or rejected."""
    metadata.record_audit_request(audit("d1"))
    metadata.record_audit_label("news", "d1", "approved", "ann")

    with pytest.raises(DataError, match="already labelled approved by ann"):
        metadata.record_audit_label("news", "d1", "rejected", "ada")
    with pytest.raises(DataError, match="has no audit request"):
        metadata.record_audit_label("news", "nope", "rejected", "ann")
    with pytest.raises(DataError, match="is not 'approved' or 'rejected'"):
        metadata.record_audit_label("news", "d1", "maybe", "ann")
    assert metadata.get_audit("news", "d1").label_outcome == "approved"
