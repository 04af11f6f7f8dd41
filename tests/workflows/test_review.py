"""DocumentReviewWorkflow against a real Temporal dev server and embedded stores.

Thresholds are chosen per test so that the path under test is taken whatever
the (real, lexical) model scores; the recorded score is then checked against
the model's own score of the same text.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from heysh.client import document_id_for, list_pending, review_history
from heysh.documents import normalise_text
from heysh.errors import ConfigError, DocumentError, PermissionDeniedError
from heysh.models.base import ScoringPairs
from heysh.workflows.review import review_workflow_id
from tests.review_stack import ReviewStack

pytestmark = pytest.mark.integration

HISTORIES = Path(__file__).parent / "histories"

BUSINESS_TEXT = (
    "Quarterly profits at the bank rose 12% as company results beat forecasts.\n"
    "Shares climbed on the stock market after the merger with a rival lender was "
    "approved by regulators. Analysts said trade and economic indicators point "
    "to further growth."
)
ALWAYS_APPROVE = {
    "relevance_threshold": 0.0,
    "auto_approve_threshold": 0.0,
    "auto_reject_threshold": None,
    "use_ai_controller": True,
}
ALWAYS_REJECT = {
    "relevance_threshold": 10.0,
    "auto_approve_threshold": None,
    "auto_reject_threshold": 9.999,
    "use_ai_controller": True,
}
POOL = ["ann", "bob"]
MEMBERS = {
    "ann": "controller",
    "bob": "controller",
    "uma": "contributor",
    "ada": "admin",
}


def gray_zone(**overrides: object) -> dict[str, object]:
    """A config that sends every document to a human controller."""
    return {
        "relevance_threshold": 5.0,
        "auto_approve_threshold": None,
        "auto_reject_threshold": None,
        "controller_pool": POOL,
        **overrides,
    }


def model_score(stack: ReviewStack, description: str, body: bytes) -> float:
    """What the stack's model scores for this body, computed directly."""
    text = normalise_text(body.decode("utf-8"))
    pairs = ScoringPairs(["d"], [description], [text])
    return float(stack.model.score(pairs)[0])


def save_history(stack: ReviewStack, domain_id: str, doc_id: str, name: str) -> None:
    """Write the review's history for the replay tests when asked to."""
    if os.environ.get("HEYSH_RECORD_HISTORIES") == "1":
        (HISTORIES / f"{name}.json").write_text(stack.history_json(domain_id, doc_id))


def test_review_high_score_auto_approves_indexes_and_notifies(
    stack: ReviewStack,
) -> None:
    """A document at or above auto-approve is approved, indexed, linked, announced."""
    domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor", "ada": "admin"})
    body = BUSINESS_TEXT.encode()

    submitted = stack.submit(domain, body, filename="bank.txt")
    result = stack.result(domain, submitted.doc_id)

    assert submitted.doc_id == hashlib.sha256(body).hexdigest()
    assert submitted.workflow_id == f"review-{domain}-{submitted.doc_id}"
    assert (result.outcome, result.decided_by) == ("approved", "thresholds")
    description = stack.stores.metadata.get_domain(domain)["description"]
    assert result.score == pytest.approx(
        model_score(stack, description, body), abs=1e-9
    )
    decision = stack.stores.metadata.get_decision(domain, submitted.doc_id)
    assert (decision.outcome, decision.decided_by) == ("approved", "thresholds")
    assert (decision.model_name, decision.model_version) == ("lexical-test", "1")
    assert decision.score == pytest.approx(result.score)
    assert dict(decision.thresholds) == {
        "relevance_threshold": 0.0,
        "auto_approve_threshold": 0.0,
        "auto_reject_threshold": None,
    }
    assert (
        stack.stores.metadata.get_document(domain, submitted.doc_id).status
        == "approved"
    )
    vector = stack.stores.vectors.get(domain, submitted.doc_id)
    assert len(vector.vector) == 384
    assert vector.metadata["title"].startswith("Quarterly profits at the bank")
    node = stack.stores.graph.get_document(submitted.doc_id)
    assert {"profits", "bank"} <= set(node.topics)
    assert (node.uploader, node.reviewer) == ("uma", "thresholds")
    sent = stack.sender.for_doc(submitted.doc_id)
    assert [(n.event, n.recipients) for n in sent] == [
        ("document_approved", ("ada", "uma"))
    ]
    assert sent[0].summary.startswith("Quarterly profits at the bank rose 12%")
    save_history(stack, domain, submitted.doc_id, "auto_approve")


def test_review_low_score_auto_rejects_and_archives(stack: ReviewStack) -> None:
    """A document at or below auto-reject is rejected and archived, never indexed."""
    domain = stack.add_domain(ALWAYS_REJECT, {"uma": "contributor"})
    body = b"The football team won the cup final after extra time."

    submitted = stack.submit(domain, body, filename="cup.txt")
    result = stack.result(domain, submitted.doc_id)

    assert (result.outcome, result.decided_by) == ("rejected", "thresholds")
    archived = stack.stores.archive.retrieve(domain, submitted.doc_id)
    assert archived[0] == body
    assert archived[1]["filename"] == "cup.txt"
    assert archived[1]["decided_by"] == "thresholds"
    assert stack.stores.vectors.get(domain, submitted.doc_id) is None
    assert stack.stores.graph.get_document(submitted.doc_id) is None
    assert (
        stack.stores.metadata.get_document(domain, submitted.doc_id).status
        == "rejected"
    )
    save_history(stack, domain, submitted.doc_id, "auto_reject")


def test_review_sampled_automatic_decision_requests_blind_audit(
    stack: ReviewStack,
) -> None:
    """At audit fraction 1 an auto-reject is audited; the outcome stands."""
    domain = stack.add_domain(
        {**ALWAYS_REJECT, "audit_fraction": 1.0},
        {"uma": "contributor", "ann": "controller"},
    )
    body = b"The tennis final went to five sets before the champion won."

    submitted = stack.submit(domain, body, filename="final.txt")
    result = stack.result(domain, submitted.doc_id)
    audit = stack.stores.metadata.get_audit(domain, submitted.doc_id)

    assert (result.outcome, result.decided_by) == ("rejected", "thresholds")
    assert audit is not None
    assert (audit.controller, audit.automatic_outcome, audit.label_outcome) == (
        "ann",
        "rejected",
        None,
    )
    assert audit.score == result.score
    assert audit.thresholds["audit_fraction"] == 1.0
    assert audit.thresholds["decided_by"] == "thresholds"
    save_history(stack, domain, submitted.doc_id, "auto_reject_audited")


def test_review_gray_zone_is_decided_by_assigned_controller(stack: ReviewStack) -> None:
    """A gray-zone document waits for its round-robin controller, who decides."""
    domain = stack.add_domain(gray_zone(), MEMBERS)
    submitted = stack.submit(domain, b"Gray zone: " + BUSINESS_TEXT.encode())

    waiting = stack.wait_for_stage(domain, submitted.doc_id, "awaiting_decision")
    pending = stack.run(list_pending(stack.client, "ann", domain_id=domain))
    decided = stack.decide(domain, submitted.doc_id, "ann", True, "clearly business")
    result = stack.result(domain, submitted.doc_id)

    assert waiting.assigned_controller == "ann"
    assert [(p.doc_id, p.domain_id) for p in pending] == [(submitted.doc_id, domain)]
    assert (decided.outcome, decided.decided_by) == ("approved", "ann")
    assert (result.outcome, result.decided_by, result.reason) == (
        "approved",
        "ann",
        "clearly business",
    )
    decision = stack.stores.metadata.get_decision(domain, submitted.doc_id)
    assert (decision.decided_by, decision.model_name) == ("ann", "lexical-test")
    assert stack.stores.graph.get_document(submitted.doc_id).reviewer == "ann"
    events = [n.event for n in stack.sender.for_doc(submitted.doc_id)]
    assert events == ["review_requested", "document_approved"]
    assert stack.run(list_pending(stack.client, "ann", domain_id=domain)) == []
    save_history(stack, domain, submitted.doc_id, "gray_zone_controller")


def test_review_decision_by_wrong_actor_is_refused_and_not_recorded(
    stack: ReviewStack,
) -> None:
    """Contributors, other controllers and other domains' controllers cannot decide."""
    domain = stack.add_domain(gray_zone(), MEMBERS)
    other_domain = stack.add_domain(
        gray_zone(controller_pool=["carl"]), {"carl": "controller"}
    )
    body = b"Markets: the central bank held interest rates as inflation eased."
    submitted = stack.submit(domain, body)
    stack.wait_for_stage(
        domain, submitted.doc_id, "awaiting_decision", assigned_controller="ann"
    )

    with pytest.raises(PermissionDeniedError, match="uma is a contributor"):
        stack.decide(domain, submitted.doc_id, "uma", True)
    with pytest.raises(PermissionDeniedError, match="only the assigned controller"):
        stack.decide(domain, submitted.doc_id, "bob", True)
    with pytest.raises(PermissionDeniedError, match="carl is not a member"):
        stack.decide(domain, submitted.doc_id, "carl", True)
    with pytest.raises(PermissionDeniedError, match="carl is not a member"):
        stack.vote(domain, submitted.doc_id, "carl", True)
    status = stack.status(domain, submitted.doc_id)
    vote = stack.vote(domain, submitted.doc_id, "uma", False)
    decided = stack.decide(domain, submitted.doc_id, "ada", False, "off topic")
    result = stack.result(domain, submitted.doc_id)

    assert other_domain != domain
    assert (status.stage, status.outcome) == ("awaiting_decision", "")
    assert (vote.votes_for, vote.votes_against) == (0, 1)
    assert (decided.outcome, decided.decided_by) == ("rejected", "ada")
    assert (result.outcome, result.decided_by) == ("rejected", "ada")
    votes = stack.stores.metadata.list_votes(domain, submitted.doc_id)
    assert [(v.voter, v.role, v.approve) for v in votes] == [
        ("uma", "contributor", False)
    ]
    decision = stack.stores.metadata.get_decision(domain, submitted.doc_id)
    assert (decision.outcome, decision.decided_by, decision.reason) == (
        "rejected",
        "ada",
        "off topic",
    )
    assert stack.stores.archive.retrieve(domain, submitted.doc_id)[0] == body
    with pytest.raises(PermissionDeniedError, match="not waiting for a controller"):
        stack.decide(domain, submitted.doc_id, "ann", True)
    trail = stack.run(review_history(stack.client, domain, submitted.doc_id))
    assert [(e.kind, e.name, e.detail) for e in trail if e.kind != "activity"] == [
        ("started", "", ""),
        ("update", "vote", "uma: reject"),
        ("update", "decide", "ada: reject"),
        ("completed", "", ""),
    ]
    assert Counter(e.name for e in trail if e.kind == "activity") == {
        "store_document_metadata": 1,
        "assess_document_relevance": 1,
        "get_next_controller": 1,
        "record_review_vote": 1,
        "record_review_decision": 1,
        "archive_rejected_document": 1,
        "notify_stakeholders": 2,
    }
    save_history(stack, domain, submitted.doc_id, "gray_zone_refusals_votes_admin")


def test_review_undecided_document_escalates_to_next_controller(
    stack: ReviewStack,
) -> None:
    """After the escalation timeout the document moves to the next controller."""
    domain = stack.add_domain(gray_zone(escalation_timeout_s=2.0), MEMBERS)
    submitted = stack.submit(domain, b"Oil prices and the economy: a short note.")
    first = stack.wait_for_stage(domain, submitted.doc_id, "awaiting_decision")

    started = time.monotonic()
    second = stack.wait_for_stage(
        domain, submitted.doc_id, "awaiting_decision", timeout_s=30, escalation_round=1
    )
    waited_s = time.monotonic() - started
    with pytest.raises(PermissionDeniedError, match="only the assigned controller"):
        stack.decide(domain, submitted.doc_id, first.assigned_controller, True)
    stack.decide(domain, submitted.doc_id, second.assigned_controller, True)
    result = stack.result(domain, submitted.doc_id)

    assert (first.assigned_controller, first.escalation_round) == ("ann", 0)
    assert second.assigned_controller == "bob"
    assert waited_s < 15
    assert (result.outcome, result.decided_by) == ("approved", "bob")
    requested = [
        n.recipients
        for n in stack.sender.for_doc(submitted.doc_id)
        if n.event == "review_requested"
    ]
    assert requested == [("ann",), ("bob",)]
    save_history(stack, domain, submitted.doc_id, "gray_zone_escalation")


def test_review_ai_controller_decides_gray_zone_at_relevance_threshold(
    stack: ReviewStack,
) -> None:
    """With use_ai_controller the AI decides gray-zone documents at relevance."""
    approve_all = stack.add_domain(
        {
            "relevance_threshold": 0.0,
            "auto_approve_threshold": None,
            "auto_reject_threshold": None,
            "use_ai_controller": True,
        },
        {"uma": "contributor"},
    )
    reject_all = stack.add_domain(
        {
            "relevance_threshold": 10.0,
            "auto_approve_threshold": None,
            "auto_reject_threshold": None,
            "use_ai_controller": True,
        },
        {"uma": "contributor"},
    )
    body = b"Tennis: the champion lost in straight sets."

    approved = stack.result(approve_all, stack.submit(approve_all, body).doc_id)
    rejected = stack.result(reject_all, stack.submit(reject_all, body).doc_id)

    assert (approved.outcome, approved.decided_by) == ("approved", "ai-controller")
    assert (rejected.outcome, rejected.decided_by) == ("rejected", "ai-controller")
    assert approved.reason == "gray zone; score at or above relevance threshold 0.0"
    assert rejected.score < 10.0
    save_history(stack, approve_all, document_id_for(body), "ai_controller")


def test_submit_same_body_twice_starts_one_review(stack: ReviewStack) -> None:
    """Resubmitting a body to a domain, during or after its review, starts nothing."""
    domain = stack.add_domain(gray_zone(), MEMBERS)
    body = b"Merger talks between two airlines collapsed on Friday."

    first = stack.submit(domain, body)
    during = stack.submit(domain, body, filename="again.txt")
    stack.wait_for_stage(domain, first.doc_id, "awaiting_decision")
    stack.decide(domain, first.doc_id, "ann", True)
    stack.result(domain, first.doc_id)
    after = stack.submit(domain, body)
    query = f'WorkflowId = "{first.workflow_id}"'
    runs = stack.run(_count_workflows(stack, query))

    assert (first.already_existed, during.already_existed, after.already_existed) == (
        False,
        True,
        True,
    )
    assert first.workflow_id == during.workflow_id == after.workflow_id
    assert runs == 1
    assert len(stack.sender.for_doc(first.doc_id)) == 2


async def _count_workflows(stack: ReviewStack, query: str) -> int:
    return len([w async for w in stack.client.list_workflows(query)])


def test_review_ten_megabyte_document_keeps_body_out_of_history(
    stack: ReviewStack,
) -> None:
    """A 10 MB document is reviewed; its history stays far below the body's size."""
    domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})
    line = b"Company results and market news from the trading floor, item %07d.\n"
    body = b"".join(line % i for i in range(10 * 1024 * 1024 // len(line % 0) + 1))

    submitted = stack.submit(domain, body, filename="big.txt")
    result = stack.result(domain, submitted.doc_id, timeout_s=120)
    history = stack.history_json(domain, submitted.doc_id)

    assert len(body) >= 10 * 1024 * 1024
    assert result.outcome == "approved"
    assert len(history) < 200_000
    row = stack.stores.metadata.get_document(domain, submitted.doc_id)
    assert row.size_bytes == len(body)
    assert stack.stores.blobs.get(f"documents/{submitted.doc_id}") == body


@pytest.mark.parametrize(
    ("body", "outcome", "flag", "reason"),
    [
        (b"", "refused_input", "empty_text", "document has no text"),
        (b"   \n\t  <p> </p>", "refused_input", "empty_text", "document has no text"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20,
            "refused_input",
            "binary",
            "document looks binary",
        ),
        (
            "Räntan höjdes; kronan stärktes mot euron.".encode("cp1252"),
            "approved",
            "non_utf8_decoded_as_cp1252",
            "",
        ),
    ],
    ids=["empty", "whitespace-markup", "binary", "cp1252"],
)
def test_review_bad_input_gets_recorded_outcome(
    stack: ReviewStack, body: bytes, outcome: str, flag: str, reason: str
) -> None:
    """Empty, binary and mis-encoded documents each end with a recorded decision."""
    domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})

    submitted = stack.submit(domain, body)
    result = stack.result(domain, submitted.doc_id)

    assert result.outcome == outcome
    assert result.reason.startswith(reason)
    decision = stack.stores.metadata.get_decision(domain, submitted.doc_id)
    assert (decision.outcome, decision.reason) == (outcome, result.reason)
    row = stack.stores.metadata.get_document(domain, submitted.doc_id)
    assert flag in row.flags
    assert row.status == outcome
    if outcome == "refused_input":
        assert decision.decided_by == "input-check"
        assert result.score is None
        events = [
            (n.event, n.recipients) for n in stack.sender.for_doc(submitted.doc_id)
        ]
        assert events == [("document_refused_input", ("uma",))]
    if flag == "binary":
        save_history(stack, domain, submitted.doc_id, "refused_binary")


def test_round_robin_fair_for_fifty_concurrent_gray_zone_documents(
    stack: ReviewStack,
) -> None:
    """Fifty documents arriving at once are spread evenly over five controllers."""
    pool = ["c1", "c2", "c3", "c4", "c5"]
    domain = stack.add_domain(
        gray_zone(controller_pool=pool),
        {user: "controller" for user in pool} | {"uma": "contributor"},
    )
    bodies = [
        f"Gray-zone document number {i} about markets.".encode() for i in range(50)
    ]

    with ThreadPoolExecutor(max_workers=10) as pool_executor:
        submitted = list(pool_executor.map(lambda b: stack.submit(domain, b), bodies))
    assigned = [
        stack.wait_for_stage(
            domain, s.doc_id, "awaiting_decision", timeout_s=120
        ).assigned_controller
        for s in submitted
    ]

    assert Counter(assigned) == {user: 10 for user in pool}
    assert len({s.workflow_id for s in submitted}) == 50
    stack.run(_terminate_all(stack, [s.workflow_id for s in submitted]))


async def _terminate_all(stack: ReviewStack, workflow_ids: list[str]) -> None:
    for workflow_id in workflow_ids:
        await stack.client.get_workflow_handle(workflow_id).terminate("test over")


def test_submit_refuses_unknown_domain_and_non_member(stack: ReviewStack) -> None:
    """Only members may upload, and only to domains that exist; nothing starts."""
    domain = stack.add_domain(ALWAYS_APPROVE, {"uma": "contributor"})
    body = b"Should never be reviewed."

    with pytest.raises(ConfigError, match="domain 'nowhere' does not exist"):
        stack.submit("nowhere", body)
    with pytest.raises(PermissionDeniedError, match="eve is not a member of domain"):
        stack.submit(domain, body, uploader="eve")
    with pytest.raises(DocumentError, match="no review of document"):
        stack.status(domain, document_id_for(body))


def test_status_and_decide_of_unknown_document_name_the_document(
    stack: ReviewStack,
) -> None:
    """Asking about a document never submitted says so instead of a raw RPC error."""
    doc_id = document_id_for(b"never submitted")

    with pytest.raises(DocumentError, match=f"no review of document {doc_id}"):
        stack.status("news-none", doc_id)
    with pytest.raises(DocumentError, match=f"no review of document {doc_id}"):
        stack.decide("news-none", doc_id, "ann", True)


def test_review_workflow_id_is_derived_from_domain_and_document() -> None:
    """The workflow id is review-<domain>-<sha256 of the body>."""
    doc_id = document_id_for(b"abc")

    workflow_id = review_workflow_id("reuters:crude", doc_id)

    assert workflow_id == (
        "review-reuters:crude-"
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_recorded_histories_exist_for_every_path() -> None:
    """Every review path has a committed history for the replay tests."""
    names = sorted(p.stem for p in HISTORIES.glob("*.json"))

    assert names == [
        "ai_controller",
        "auto_approve",
        "auto_reject",
        "auto_reject_audited",
        "gray_zone_controller",
        "gray_zone_escalation",
        "gray_zone_refusals_votes_admin",
        "refused_binary",
    ]
    for path in HISTORIES.glob("*.json"):
        assert json.loads(path.read_text())["events"]
