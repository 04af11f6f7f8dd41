"""The threshold-proposal part of the metadata store contract, on every adapter."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from heysh.errors import DataError
from heysh.stores.base import ThresholdProposalRow

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
CONFIG = {"relevance_threshold": 7.0, "controller_pool": ["ann"]}


def proposal(domain: str, proposal_id: str, **changes) -> ThresholdProposalRow:
    values = dict(
        proposal_id=proposal_id,
        domain_id=domain,
        current={"auto_reject_threshold": 4.0, "auto_approve_threshold": 8.5},
        proposed={"auto_reject_threshold": 3.5, "auto_approve_threshold": None},
        evidence={"bounds": {"false_reject_bound": 0.041}, "note": "Åsa 🚀"},
        evidence_run_id="run-1",
        proposed_by="nightly",
        proposed_at=T0,
    )
    return ThresholdProposalRow(**{**values, **changes})


def test_threshold_proposal_add_then_get_round_trips(metadata_harness, uid):
    """Check a stored proposal comes back field for field, pending."""
    store = metadata_harness.store
    row = proposal(f"{uid}-d", f"{uid}-p1")

    created = store.add_threshold_proposal(row)
    stored = store.get_threshold_proposal(f"{uid}-p1")

    assert created is True
    assert stored == row
    assert stored.status == "proposed"
    assert stored.proposed_at == T0
    assert store.get_threshold_proposal(f"{uid}-missing") is None


def test_threshold_proposal_added_twice_is_stored_once(metadata_harness, uid):
    """Check adding an existing proposal id changes nothing and reports it."""
    store = metadata_harness.store
    store.add_threshold_proposal(proposal(f"{uid}-d", f"{uid}-p1"))

    again = store.add_threshold_proposal(
        proposal(f"{uid}-d", f"{uid}-p1", proposed_by="someone-else")
    )

    assert again is False
    rows = store.list_threshold_proposals(f"{uid}-d")
    assert [(r.proposal_id, r.proposed_by) for r in rows] == [(f"{uid}-p1", "nightly")]


def test_threshold_proposal_newer_supersedes_pending_of_same_domain(
    metadata_harness, uid
):
    """Check a new proposal supersedes the domain's pending one, not others'."""
    store = metadata_harness.store
    store.add_threshold_proposal(proposal(f"{uid}-d", f"{uid}-p1"))
    store.add_threshold_proposal(proposal(f"{uid}-other", f"{uid}-o1"))
    later = T0 + timedelta(days=1)

    store.add_threshold_proposal(
        proposal(f"{uid}-d", f"{uid}-p2", proposed_at=later, proposed_by="ada")
    )

    old = store.get_threshold_proposal(f"{uid}-p1")
    assert (old.status, old.decided_by, old.decided_at, old.note) == (
        "superseded",
        "ada",
        later,
        f"superseded by {uid}-p2",
    )
    assert store.get_threshold_proposal(f"{uid}-p2").status == "proposed"
    assert store.get_threshold_proposal(f"{uid}-o1").status == "proposed"


def test_threshold_proposal_list_filters_and_orders_oldest_first(metadata_harness, uid):
    """Check listing filters by domain and status, oldest first."""
    store = metadata_harness.store
    store.add_threshold_proposal(proposal(f"{uid}-d", f"{uid}-b", proposed_at=T0))
    store.add_threshold_proposal(
        proposal(f"{uid}-d", f"{uid}-a", proposed_at=T0 + timedelta(hours=1))
    )
    store.add_threshold_proposal(proposal(f"{uid}-e", f"{uid}-c", proposed_at=T0))

    in_d = store.list_threshold_proposals(f"{uid}-d")
    pending_d = store.list_threshold_proposals(f"{uid}-d", status="proposed")
    everything = [
        r.proposal_id
        for r in store.list_threshold_proposals()
        if r.proposal_id.startswith(uid)
    ]

    assert [r.proposal_id for r in in_d] == [f"{uid}-b", f"{uid}-a"]
    assert [r.proposal_id for r in pending_d] == [f"{uid}-a"]
    assert sorted(everything) == [f"{uid}-a", f"{uid}-b", f"{uid}-c"]


def test_threshold_proposal_applied_writes_config_and_record(metadata_harness, uid):
    """Check applying records who and when and replaces the domain's config."""
    store = metadata_harness.store
    store.upsert_domain(f"{uid}-d", "D", "desc", json.dumps(CONFIG))
    store.add_threshold_proposal(proposal(f"{uid}-d", f"{uid}-p1"))
    new_config = json.dumps({**CONFIG, "auto_reject_threshold": 3.5})
    when = T0 + timedelta(hours=3)

    decided = store.decide_threshold_proposal(
        f"{uid}-p1",
        "applied",
        "ada",
        note="ok",
        config_json=new_config,
        decided_at=when,
    )

    assert (decided.status, decided.decided_by, decided.decided_at, decided.note) == (
        "applied",
        "ada",
        when,
        "ok",
    )
    assert store.get_threshold_proposal(f"{uid}-p1") == decided
    assert store.get_domain(f"{uid}-d")["config_json"] == new_config


def test_threshold_proposal_decided_twice_is_refused(metadata_harness, uid):
    """Check a proposal that is no longer pending cannot be decided again."""
    store = metadata_harness.store
    store.add_threshold_proposal(proposal(f"{uid}-d", f"{uid}-p1"))
    store.decide_threshold_proposal(f"{uid}-p1", "rejected", "ada", note="no")

    with pytest.raises(DataError, match=r"is rejected \(by ada at .*not pending"):
        store.decide_threshold_proposal(f"{uid}-p1", "applied", "bob")

    assert store.get_threshold_proposal(f"{uid}-p1").decided_by == "ada"


def test_threshold_proposal_apply_to_missing_domain_changes_nothing(
    metadata_harness, uid
):
    """Check a failed config write leaves the proposal pending (one transaction)."""
    store = metadata_harness.store
    store.add_threshold_proposal(proposal(f"{uid}-gone", f"{uid}-p1"))

    with pytest.raises(DataError, match="no longer exists"):
        store.decide_threshold_proposal(
            f"{uid}-p1", "applied", "ada", config_json=json.dumps(CONFIG)
        )

    stored = store.get_threshold_proposal(f"{uid}-p1")
    assert (stored.status, stored.decided_by, stored.decided_at) == (
        "proposed",
        None,
        None,
    )


def test_threshold_proposal_unknown_or_bad_status_is_refused(metadata_harness, uid):
    """Check deciding an unknown proposal or with an unknown status fails."""
    store = metadata_harness.store
    store.add_threshold_proposal(proposal(f"{uid}-d", f"{uid}-p1"))

    with pytest.raises(DataError, match="no threshold proposal"):
        store.decide_threshold_proposal(f"{uid}-nope", "applied", "ada")
    with pytest.raises(DataError, match="'applied' or 'rejected', got 'superseded'"):
        store.decide_threshold_proposal(f"{uid}-p1", "superseded", "ada")
    with pytest.raises(DataError, match="must have status 'proposed'"):
        store.add_threshold_proposal(
            proposal(f"{uid}-d", f"{uid}-p2", status="applied")
        )

    assert store.get_threshold_proposal(f"{uid}-p1").status == "proposed"
