"""The metadata store contract, run against every adapter in ``metadata_harness``."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest

from heysh.errors import DataError
from heysh.stores.base import DecisionRow, DocumentRow, MetadataStore, VoteRow

UNICODE = "Åsa öppnar dörren 🚀👩‍🔬 مرحبا بالعالم שלום עולם"
MEGABYTE_TEXT = UNICODE * (1_000_000 // len(UNICODE.encode()) + 1)


def document(domain: str, doc_id: str = "doc", **changes) -> DocumentRow:
    values = dict(
        doc_id=doc_id,
        domain_id=domain,
        uploader="ann",
        filename="rapport.pdf",
        content_sha256="ab" * 32,
        size_bytes=1234,
        status="pending",
    )
    return DocumentRow(**{**values, **changes})


def decision(domain: str, outcome: str = "approved", **changes) -> DecisionRow:
    values = dict(
        doc_id="doc",
        domain_id=domain,
        outcome=outcome,
        decided_by="thresholds",
        score=9.1,
        model_name="minilm",
        model_version="3",
        thresholds={"auto_approve": 8.5, "auto_reject": 4.0},
    )
    return DecisionRow(**{**values, **changes})


def in_parallel(function, arguments) -> list:
    """Run ``function`` once per argument, each in its own thread, all started
    together."""
    arguments = list(arguments)
    start = threading.Barrier(len(arguments))

    def call(argument):
        start.wait(timeout=60)
        return function(argument)

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(call, arguments))


def test_metadata_contract_adapter_satisfies_protocol(metadata_harness):
    """Check that the adapter implements every MetadataStore method."""
    assert isinstance(metadata_harness.store, MetadataStore)


def test_metadata_domain_upsert_twice_keeps_one_updated_domain(metadata_harness, uid):
    """Check a second domain upsert replaces its fields and keeps one row."""
    store = metadata_harness.store
    store.upsert_domain(f"{uid}-d", "Old", "old text", '{"a": 1}')
    store.upsert_domain(f"{uid}-d", "Ny domän 🚀", "", '{"a": 2}', language="sv")

    domain = store.get_domain(f"{uid}-d")
    ids = [d["domain_id"] for d in store.list_domains()]

    assert {
        k: domain[k]
        for k in ("domain_id", "name", "description", "config_json", "language")
    } == {
        "domain_id": f"{uid}-d",
        "name": "Ny domän 🚀",
        "description": "",
        "config_json": '{"a": 2}',
        "language": "sv",
    }
    assert ids.count(f"{uid}-d") == 1
    assert domain["created_at"].tzinfo is not None
    assert store.get_domain(f"{uid}-missing") is None


def test_metadata_membership_is_one_role_per_user(metadata_harness, uid):
    """Check roles are set, replaced, listed and removed per (domain, user)."""
    store = metadata_harness.store
    domain = f"{uid}-d"
    store.set_membership(domain, "bo", "contributor")
    store.set_membership(domain, "ann", "controller")
    store.set_membership(domain, "bo", "admin")
    store.set_membership(f"{uid}-other", "cy", "admin")
    store.remove_membership(domain, "ann")
    store.remove_membership(domain, "never-a-member")

    assert store.list_members(domain) == [("bo", "admin")]
    assert (store.get_role(domain, "bo"), store.get_role(domain, "ann")) == (
        "admin",
        None,
    )
    with pytest.raises(DataError, match="role 'owner' is not one of"):
        store.set_membership(domain, "dan", "owner")


def test_metadata_document_upsert_twice_keeps_one_row_and_created_at(
    metadata_harness, uid
):
    """Check a document re-upsert replaces fields but not its creation time."""
    store = metadata_harness.store
    created = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    store.upsert_document(document(f"{uid}-d", created_at=created))
    store.upsert_document(document(f"{uid}-d", status="stored", flags=("large",)))

    assert store.get_document(f"{uid}-d", "doc") == document(
        f"{uid}-d", status="stored", flags=("large",), created_at=created
    )
    assert store.get_document(f"{uid}-other", "doc") is None


def test_metadata_document_round_trips_unicode_and_empty_field(metadata_harness, uid):
    """Check Unicode ids and names and an empty language come back unchanged."""
    store = metadata_harness.store
    created = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
    row = document(
        f"{uid}-åäö",
        doc_id="dok-🚀-שלום",
        uploader="Åsa",
        filename=UNICODE + ".txt",
        language="",
        flags=("מסמך", "åäö"),
        created_at=created,
    )

    store.upsert_document(row)

    assert store.get_document(f"{uid}-åäö", "dok-🚀-שלום") == row


def test_metadata_timestamps_come_back_in_utc(metadata_harness, uid):
    """Check an aware timestamp in another zone is stored and returned as UTC."""
    store = metadata_harness.store
    stockholm_summer = datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    store.upsert_document(document(f"{uid}-d", created_at=stockholm_summer))

    stored = store.get_document(f"{uid}-d", "doc").created_at

    assert stored == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_metadata_set_status_of_unknown_document_raises(metadata_harness, uid):
    """Check a status change for a document never stored is a DataError."""
    store = metadata_harness.store
    store.upsert_document(document(f"{uid}-d"))
    store.set_document_status(f"{uid}-d", "doc", "approved")

    with pytest.raises(DataError, match="it was never stored"):
        store.set_document_status(f"{uid}-d", "ghost", "approved")
    assert store.get_document(f"{uid}-d", "doc").status == "approved"


def test_metadata_decision_is_recorded_once(metadata_harness, uid):
    """Check a second decision for a document changes nothing."""
    store = metadata_harness.store
    first = decision(
        f"{uid}-d",
        reason=MEGABYTE_TEXT,
        decided_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    store.record_decision(first)
    store.record_decision(decision(f"{uid}-d", outcome="rejected", decided_by="ann"))

    assert store.get_decision(f"{uid}-d", "doc") == first
    assert store.get_decision(f"{uid}-d", "other") is None


def test_metadata_decision_keeps_the_scoring_models_usage(metadata_harness, uid):
    """Check an LLM judge's tokens and cost come back with the decision."""
    store = metadata_harness.store
    billed = decision(
        f"{uid}-d",
        decided_at=datetime(2026, 12, 1, tzinfo=UTC),
        tokens_in=1234,
        tokens_out=56,
        cost_usd=0.001514,
    )
    local = decision(f"{uid}-d", doc_id="local")
    store.record_decision(billed)
    store.record_decision(local)

    assert store.get_decision(f"{uid}-d", "doc") == billed
    got = store.get_decision(f"{uid}-d", "local")
    assert (got.tokens_in, got.tokens_out, got.cost_usd) == (0, 0, 0.0)


TOKENS_RULE = "must be a whole number from 0 to 2147483647, got"
COST_RULE = "cost_usd must be a finite number of dollars from 0 to 1,000,000, got"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tokens_in": -1}, f"tokens_in {TOKENS_RULE} -1"),
        ({"tokens_in": 2**31}, f"tokens_in {TOKENS_RULE} 2147483648"),
        ({"tokens_out": 2.5}, f"tokens_out {TOKENS_RULE} 2.5"),
        ({"tokens_out": True}, f"tokens_out {TOKENS_RULE} True"),
        ({"cost_usd": float("nan")}, f"{COST_RULE} nan"),
        ({"cost_usd": -0.01}, f"{COST_RULE} -0.01"),
        ({"cost_usd": 1e308}, f"{COST_RULE} 1e+308"),
        ({"cost_usd": "0.5"}, f"{COST_RULE} '0.5'"),
        ({"cost_usd": None}, f"{COST_RULE} None"),
        ({"cost_usd": True}, f"{COST_RULE} True"),
    ],
)
def test_metadata_decision_with_impossible_usage_is_refused(
    metadata_harness, uid, changes, message
):
    """Check negative or non-finite usage is a DataError and nothing is written."""
    store = metadata_harness.store

    with pytest.raises(DataError, match=re.escape(message)):
        store.record_decision(decision(f"{uid}-d", **changes))
    assert store.get_decision(f"{uid}-d", "doc") is None


def test_metadata_concurrent_decisions_keep_exactly_one(metadata_harness, uid):
    """Check 20 racing decisions for one document leave exactly one of them."""
    store = metadata_harness.store
    rows = [
        decision(
            f"{uid}-d",
            outcome=f"o{i}",
            decided_by=f"u{i}",
            score=None,
            decided_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
        for i in range(20)
    ]

    in_parallel(store.record_decision, rows)

    assert store.get_decision(f"{uid}-d", "doc") in rows


def test_metadata_vote_is_one_per_voter_and_replaced(metadata_harness, uid):
    """Check a repeated vote replaces the voter's earlier vote."""
    store = metadata_harness.store
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    vote = VoteRow("doc", f"{uid}-d", "ann", "controller", True, "", voted_at=t0)
    store.record_vote(vote)
    store.record_vote(
        VoteRow(
            "doc",
            f"{uid}-d",
            "bo",
            "contributor",
            True,
            "👍",
            voted_at=t0 + timedelta(minutes=1),
        )
    )
    store.record_vote(
        VoteRow(
            "doc",
            f"{uid}-d",
            "ann",
            "controller",
            False,
            "åäö",
            voted_at=t0 + timedelta(minutes=2),
        )
    )

    assert store.list_votes(f"{uid}-d", "doc") == [
        VoteRow(
            "doc",
            f"{uid}-d",
            "bo",
            "contributor",
            True,
            "👍",
            voted_at=t0 + timedelta(minutes=1),
        ),
        VoteRow(
            "doc",
            f"{uid}-d",
            "ann",
            "controller",
            False,
            "åäö",
            voted_at=t0 + timedelta(minutes=2),
        ),
    ]


def test_metadata_concurrent_votes_of_one_voter_keep_one(metadata_harness, uid):
    """Check 20 racing votes by one voter leave one vote."""
    store = metadata_harness.store
    votes = [
        VoteRow("doc", f"{uid}-d", "ann", "controller", i % 2 == 0, f"c{i}")
        for i in range(20)
    ]

    in_parallel(store.record_vote, votes)

    assert len(store.list_votes(f"{uid}-d", "doc")) == 1


@pytest.mark.parametrize("pool_size", [1, 2, 5, 10])
def test_metadata_round_robin_concurrent_claims_are_a_fair_permutation(
    metadata_harness, uid, pool_size
):
    """Check 50 racing claims give each controller exactly 50/len(pool) of them."""
    store = metadata_harness.store
    keys = [f"wf-{i}" for i in range(50)]

    indices = in_parallel(
        lambda key: store.next_round_robin_index(f"{uid}-d", pool_size, key), keys
    )
    again = [store.next_round_robin_index(f"{uid}-d", pool_size, key) for key in keys]

    assert Counter(indices) == {i: 50 // pool_size for i in range(pool_size)}
    assert again == indices


def test_metadata_round_robin_same_key_racing_takes_one_position(metadata_harness, uid):
    """Check 20 racing claims with one key get one index and advance the pool once."""
    store = metadata_harness.store
    domain = f"{uid}-d"
    first = store.next_round_robin_index(domain, 4, "wf-0")

    same = in_parallel(
        lambda _: store.next_round_robin_index(domain, 4, "wf-1"), range(20)
    )
    following = store.next_round_robin_index(domain, 4, "wf-2")

    assert (first, set(same), following) == (0, {1}, 2)
    assert store.next_round_robin_index(f"{uid}-other", 4, "wf-1") == 0


@pytest.mark.parametrize(
    ("pool_size", "key", "message"),
    [(0, "k", "pool_size \\(0\\) must be at least 1"), (3, "", "claim_key must be")],
)
def test_metadata_round_robin_bad_arguments_raise(
    metadata_harness, uid, pool_size, key, message
):
    """Check an empty pool or claim key is a DataError."""
    with pytest.raises(DataError, match=message):
        metadata_harness.store.next_round_robin_index(f"{uid}-d", pool_size, key)


def test_metadata_restart_loses_nothing_and_accepts_writes(metadata_harness, uid):
    """Check rows and the round-robin position survive a restart."""
    domain = f"{uid}-d"
    store = metadata_harness.store
    store.upsert_domain(domain, "D", "", "{}")
    store.set_membership(domain, "ann", "admin")
    store.upsert_document(document(domain))
    store.record_decision(decision(domain, decided_at=datetime(2024, 1, 1, tzinfo=UTC)))
    claims = [store.next_round_robin_index(domain, 3, f"wf-{i}") for i in range(4)]

    before_restart = metadata_harness.store
    store = metadata_harness.restart_server()
    store.record_vote(VoteRow("doc", domain, "ann", "admin", True))

    assert store is not before_restart
    assert claims == [0, 1, 2, 0]
    assert store.get_domain(domain)["name"] == "D"
    assert store.get_role(domain, "ann") == "admin"
    assert store.get_document(domain, "doc") is not None
    assert store.get_decision(domain, "doc").outcome == "approved"
    assert store.next_round_robin_index(domain, 3, "wf-1") == 1
    assert store.next_round_robin_index(domain, 3, "wf-4") == 1
    assert [v.voter for v in store.list_votes(domain, "doc")] == ["ann"]
