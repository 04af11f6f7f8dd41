"""Blind audit sampling through the real review workflow and a Temporal dev server."""

from __future__ import annotations

import faulthandler
import math
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields

import pytest

from heysh.cli.main import main
from heysh.errors import DataError, PermissionDeniedError
from heysh.feedback.audits import (
    BlindAuditTask,
    audit_text,
    label_audit,
    pending_audits,
)
from heysh.feedback.export import human_label_records
from tests.review_stack import ReviewStack

pytestmark = pytest.mark.integration

AUDITORS = {"ann": "controller", "bob": "controller", "uma": "contributor"}
ALWAYS_REJECT = {
    "relevance_threshold": 10.0,
    "auto_approve_threshold": None,
    "auto_reject_threshold": 9.999,
    "use_ai_controller": True,
}
ALWAYS_APPROVE = {
    "relevance_threshold": 0.0,
    "auto_approve_threshold": 0.0,
    "auto_reject_threshold": None,
    "use_ai_controller": True,
}


def submit_all(stack: ReviewStack, domain: str, bodies: list[bytes]) -> list[str]:
    """Submit every body, wait for every result; return the document ids."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        submitted = list(pool.map(lambda b: stack.submit(domain, b), bodies))
    doc_ids = [s.doc_id for s in submitted]
    for doc_id in doc_ids:
        try:
            result = stack.result(domain, doc_id, timeout_s=180)
        except TimeoutError:
            dump = stack.settings.home / "stall-threads.txt"
            with open(dump, "w") as out:
                faulthandler.dump_traceback(out, all_threads=True)
            raise AssertionError(
                f"review {doc_id} stalled; threads in {dump}"
            ) from None
        assert result.decided_by == "thresholds"
    return doc_ids


def test_audit_sampling_sends_configured_fraction_within_binomial_noise(
    stack: ReviewStack,
) -> None:
    """Of 200 automatic decisions at fraction 0.25, 50 +- 3 sigma are audited."""
    n, fraction = 200, 0.25
    domain = stack.add_domain(
        {
            **ALWAYS_REJECT,
            "audit_fraction": fraction,
            "controller_pool": ["ann", "bob"],
        },
        AUDITORS,
    )
    bodies = [f"Automatic decision number {i} on rugby.".encode() for i in range(n)]

    doc_ids = submit_all(stack, domain, bodies)
    audits = stack.stores.metadata.list_audits(domain)

    sigma = math.sqrt(n * fraction * (1 - fraction))
    assert abs(len(audits) - n * fraction) <= 3 * sigma, len(audits)
    assert {a.doc_id for a in audits} <= set(doc_ids)
    assert {a.automatic_outcome for a in audits} == {"rejected"}
    assert {a.thresholds["audit_fraction"] for a in audits} == {fraction}
    counts = Counter(a.controller for a in audits)
    assert set(counts) == {"ann", "bob"}
    assert abs(counts["ann"] - counts["bob"]) <= 1
    # The automatic outcome stands for every document, audited or not.
    assert {stack.stores.metadata.get_decision(domain, d).outcome for d in doc_ids} == {
        "rejected"
    }


def test_audit_fraction_zero_audits_nothing_and_one_audits_every_automatic(
    stack: ReviewStack,
) -> None:
    """Fraction 0 sends no audit; fraction 1 audits each automatic decision."""
    never = stack.add_domain({**ALWAYS_APPROVE, "audit_fraction": 0.0}, AUDITORS)
    always = stack.add_domain({**ALWAYS_APPROVE, "audit_fraction": 1.0}, AUDITORS)
    bodies = [f"Audit-fraction check {i} about markets.".encode() for i in range(5)]

    submit_all(stack, never, bodies)
    submit_all(stack, always, bodies)

    assert stack.stores.metadata.list_audits(never) == []
    audits = stack.stores.metadata.list_audits(always)
    assert len(audits) == 5
    assert {a.automatic_outcome for a in audits} == {"approved"}
    # No pool in the config: the domain's controllers audit, round-robin.
    assert Counter(a.controller for a in audits).keys() == {"ann", "bob"}


def test_audit_gray_zone_controller_decision_is_never_audited(
    stack: ReviewStack,
) -> None:
    """A human decision is a label already: it is not sampled even at fraction 1."""
    domain = stack.add_domain(
        {
            "relevance_threshold": 5.0,
            "auto_approve_threshold": None,
            "auto_reject_threshold": None,
            "controller_pool": ["ann"],
            "audit_fraction": 1.0,
        },
        AUDITORS,
    )
    submitted = stack.submit(domain, b"A gray-zone note on interest rates.")
    stack.wait_for_stage(domain, submitted.doc_id, "awaiting_decision")

    stack.decide(domain, submitted.doc_id, "ann", True)
    result = stack.result(domain, submitted.doc_id)

    assert result.decided_by == "ann"
    assert stack.stores.metadata.get_audit(domain, submitted.doc_id) is None


def test_audit_pending_view_is_blind_and_only_assignee_or_admin_labels(
    stack_env: ReviewStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pending view holds no score or outcome; others' labels are refused."""
    stack = stack_env
    domain = stack.add_domain(
        {**ALWAYS_APPROVE, "audit_fraction": 1.0, "controller_pool": ["ann", "bob"]},
        {**AUDITORS, "ada": "admin"},
    )
    bodies = [f"Blind audit document {i} on shares.".encode() for i in range(4)]
    submit_all(stack, domain, bodies)
    metadata = stack.stores.metadata
    audits = {a.doc_id: a for a in metadata.list_audits(domain)}
    ann_doc = next(d for d, a in audits.items() if a.controller == "ann")
    bob_doc = next(d for d, a in audits.items() if a.controller == "bob")

    tasks = pending_audits(metadata, "ann", domain_id=domain)
    assert [f.name for f in fields(BlindAuditTask)] == [
        "domain_id",
        "doc_id",
        "filename",
        "requested_at",
    ]
    assert ann_doc in {t.doc_id for t in tasks}
    assert main(["audit", "pending", "--as", "ann", "--domain", domain]) == 0
    printed = capsys.readouterr().out
    assert ann_doc in printed
    score = f"{audits[ann_doc].score:.2f}"
    assert score not in printed
    assert not re.search(r"approv|reject|score|model|thresh", printed, re.I)
    assert "Blind audit document" in audit_text(
        metadata, stack.stores.blobs, domain, ann_doc, "ann"
    )

    with pytest.raises(PermissionDeniedError, match="only the assigned controller"):
        label_audit(metadata, domain, ann_doc, "bob", approve=False)
    with pytest.raises(PermissionDeniedError, match="uma is a contributor"):
        label_audit(metadata, domain, ann_doc, "uma", approve=False)
    with pytest.raises(PermissionDeniedError, match="eve is not a member"):
        audit_text(metadata, stack.stores.blobs, domain, ann_doc, "eve")
    assert metadata.get_audit(domain, ann_doc).label_outcome is None
    assert (
        main(["audit", "label", ann_doc, "--domain", domain, "--as", "bob", "--reject"])
        == 1
    )
    assert "only the assigned controller" in capsys.readouterr().err

    assert (
        main(["audit", "label", ann_doc, "--domain", domain, "--as", "ann", "--reject"])
        == 0
    )
    label_audit(metadata, domain, bob_doc, "ada", approve=True)
    with pytest.raises(DataError, match="already labelled rejected by ann"):
        label_audit(metadata, domain, ann_doc, "ann", approve=True)

    labelled = {r["id"]: r for r in human_label_records(metadata, domain_id=domain)}
    assert {d: (r["label"], r["source"]) for d, r in labelled.items()} == {
        ann_doc: (0, "audit"),
        bob_doc: (1, "audit"),
    }
    assert ann_doc not in {t.doc_id for t in pending_audits(metadata, "ann")}
