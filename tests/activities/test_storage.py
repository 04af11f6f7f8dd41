"""Storage activities on real embedded stores: idempotent writes, recorded refusals."""

from __future__ import annotations

import hashlib

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from heysh.activities import contracts as c
from heysh.activities.storage import StorageActivities
from heysh.stores.factory import Stores


def make_activities(stores: Stores, **kwargs: object) -> StorageActivities:
    return StorageActivities(
        metadata=stores.metadata,
        vectors=stores.vectors,
        graph=stores.graph,
        blobs=stores.blobs,
        archive=stores.archive,
        **kwargs,
    )


def upload(stores: Stores, body: bytes) -> c.StoreDocumentMetadataInput:
    doc_id = hashlib.sha256(body).hexdigest()
    stores.blobs.put(c.body_blob_key(doc_id), body)
    return c.StoreDocumentMetadataInput(
        doc_id=doc_id,
        domain_id="news",
        blob_key=c.body_blob_key(doc_id),
        filename="a.txt",
        uploader="uma",
    )


def test_store_document_metadata_twice_writes_one_row_and_text(
    stores: Stores, domain: str
) -> None:
    """A retried store writes the same row and text again, nothing more."""
    activities = make_activities(stores)
    request = upload(stores, b"Bank <b>profits</b> rose &amp; shares  gained.")
    env = ActivityEnvironment()

    first = env.run(activities.store_document_metadata, request)
    second = env.run(activities.store_document_metadata, request)

    assert first == second
    assert first.refusal_reason == ""
    assert (first.encoding, first.flags, first.size_bytes) == ("utf-8", [], 46)
    assert first.domain_description == "Business news."
    assert first.domain_config["controller_pool"] == ["ann", "bob"]
    assert first.domain_config["auto_reject_threshold"] == 3.0
    assert stores.blobs.get(first.text_key) == b"Bank profits rose & shares gained."
    row = stores.metadata.get_document(domain, request.doc_id)
    assert (row.status, row.uploader, row.size_bytes, row.language) == (
        "under_review",
        "uma",
        46,
        "en",
    )


@pytest.mark.parametrize(
    ("body", "max_bytes", "flag", "reason"),
    [
        (b"", 1000, "empty_text", "document has no text"),
        (b"\x00\x01\x02binary" * 10, 1000, "binary", "document looks binary"),
        (b"x" * 2000, 1000, "too_large", "document is 2,000 bytes, above the limit"),
    ],
    ids=["empty", "binary", "too-large"],
)
def test_store_document_metadata_bad_body_is_refused_not_raised(
    stores: Stores, domain: str, body: bytes, max_bytes: int, flag: str, reason: str
) -> None:
    """Empty, binary and oversized bodies come back with a refusal reason."""
    activities = make_activities(stores, max_document_bytes=max_bytes)
    request = upload(stores, body)

    result = ActivityEnvironment().run(activities.store_document_metadata, request)

    assert result.refusal_reason.startswith(reason)
    assert result.flags == [flag]
    assert result.text_key == ""
    assert (
        stores.metadata.get_document(domain, request.doc_id).status == "refused_input"
    )


def test_store_document_metadata_unknown_domain_is_non_retryable(
    stores: Stores,
) -> None:
    """Submitting to a domain that does not exist fails without retries."""
    activities = make_activities(stores)
    request = upload(stores, b"text")

    with pytest.raises(ApplicationError, match="domain 'news' does not exist") as info:
        ActivityEnvironment().run(activities.store_document_metadata, request)

    assert info.value.non_retryable
    assert info.value.type == c.INVALID_INPUT_ERROR


def test_store_document_metadata_rejects_id_that_is_not_body_hash(
    stores: Stores, domain: str
) -> None:
    """A doc id that is not the SHA-256 of the body is refused as invalid input."""
    activities = make_activities(stores)
    request = upload(stores, b"text")
    forged = c.StoreDocumentMetadataInput(
        doc_id="0" * 64,
        domain_id=domain,
        blob_key=request.blob_key,
        filename="a.txt",
        uploader="uma",
    )

    with pytest.raises(ApplicationError, match="is not the SHA-256 of the body"):
        ActivityEnvironment().run(activities.store_document_metadata, forged)


def test_record_review_decision_keeps_the_first_decision(
    stores: Stores, domain: str
) -> None:
    """A second decision for a document changes nothing and reports so."""
    activities = make_activities(stores)
    request = upload(stores, b"Decided once.")
    env = ActivityEnvironment()
    env.run(activities.store_document_metadata, request)
    approve = c.RecordDecisionInput(
        doc_id=request.doc_id,
        domain_id=domain,
        outcome="approved",
        decided_by="thresholds",
        score=9.1,
        model_name="m",
        model_version="3",
        thresholds={
            "relevance_threshold": 7.0,
            "auto_approve_threshold": 8.5,
            "auto_reject_threshold": 4.0,
        },
    )
    reject = c.RecordDecisionInput(
        doc_id=request.doc_id,
        domain_id=domain,
        outcome="rejected",
        decided_by="ann",
        score=9.1,
        model_name="m",
        model_version="3",
        thresholds={},
    )

    first = env.run(activities.record_review_decision, approve)
    second = env.run(activities.record_review_decision, reject)

    assert (first.outcome, first.newly_recorded) == ("approved", True)
    assert (second.outcome, second.newly_recorded) == ("approved", False)
    decision = stores.metadata.get_decision(domain, request.doc_id)
    assert (decision.decided_by, decision.model_version) == ("thresholds", "3")
    assert dict(decision.thresholds) == approve.thresholds
    assert stores.metadata.get_document(domain, request.doc_id).status == "approved"


def test_record_review_decision_unknown_outcome_is_non_retryable(
    stores: Stores, domain: str
) -> None:
    """An outcome outside approved/rejected/refused_input is invalid input."""
    activities = make_activities(stores)
    request = c.RecordDecisionInput(
        doc_id="d",
        domain_id=domain,
        outcome="maybe",
        decided_by="ann",
        score=None,
        model_name="",
        model_version="",
        thresholds={},
    )

    with pytest.raises(ApplicationError, match="outcome 'maybe' is not one of"):
        ActivityEnvironment().run(activities.record_review_decision, request)


def test_index_graph_archive_twice_leave_one_record_each(
    stores: Stores, domain: str
) -> None:
    """Index, graph and archive writes are upserts: repeating them adds nothing."""
    activities = make_activities(stores)
    request = upload(stores, b"Oil output rose as OPEC met in Vienna.")
    env = ActivityEnvironment()
    stored = env.run(activities.store_document_metadata, request)
    index = c.IndexDocumentInput(
        doc_id=request.doc_id,
        domain_id=domain,
        text_key=stored.text_key,
        embedding=[0.6, 0.8, 0.0],
        title="Oil output",
        topics=["oil", "opec"],
        score=8.8,
        uploader="uma",
        decided_by="thresholds",
    )
    graph = c.UpdateGraphInput(
        doc_id=request.doc_id,
        domain_id=domain,
        title="Oil output",
        topics=["oil", "opec"],
        uploader="uma",
        reviewer="thresholds",
    )
    archive = c.ArchiveDocumentInput(
        doc_id=request.doc_id,
        domain_id=domain,
        blob_key=request.blob_key,
        filename="a.txt",
        uploader="uma",
        decided_by="ann",
        score=2.0,
    )

    for _ in range(2):
        env.run(activities.index_to_weaviate, index)
        env.run(activities.update_neo4j_graph, graph)
        env.run(activities.archive_rejected_document, archive)

    assert stores.vectors.count(domain) == 1
    record = stores.vectors.get(domain, request.doc_id)
    assert record.text == "Oil output rose as OPEC met in Vienna."
    assert dict(record.metadata) == {
        "title": "Oil output",
        "topics": "oil; opec",
        "uploader": "uma",
        "decided_by": "thresholds",
        "score": 8.8,
    }
    assert stores.graph.count_documents() == 1
    assert stores.graph.get_document(request.doc_id).topics == ("oil", "opec")
    assert stores.archive.list_ids(domain) == [request.doc_id]
    body, metadata = stores.archive.retrieve(domain, request.doc_id)
    assert body == b"Oil output rose as OPEC met in Vienna."
    assert metadata["decided_by"] == "ann"


def test_record_review_vote_replaces_a_voters_earlier_vote(
    stores: Stores, domain: str
) -> None:
    """Votes are one per voter; the counts reflect the latest votes."""
    activities = make_activities(stores)
    request = upload(stores, b"Vote on me.")
    env = ActivityEnvironment()
    env.run(activities.store_document_metadata, request)

    def vote(voter: str, approve: bool) -> c.RecordVoteResult:
        return env.run(
            activities.record_review_vote,
            c.RecordVoteInput(
                doc_id=request.doc_id,
                domain_id=domain,
                voter=voter,
                role="contributor",
                approve=approve,
            ),
        )

    vote("uma", True)
    vote("ada", False)
    last = vote("uma", False)

    assert (last.votes_for, last.votes_against) == (0, 2)
