"""Activities of the storage queue: metadata, decisions, votes, audits, index, graph.

Every write is an upsert keyed by document id (or a write-once record), so an
activity retried after a worker crash writes nothing twice. Activities are
synchronous and run in the worker's thread pool, since the store clients are.
Invalid input raises a non-retryable ``ApplicationError``; a store that is
down raises normally, so Temporal retries with backoff.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from heysh.activities import contracts as c
from heysh.activities.metrics import DECISIONS
from heysh.documents import decode_document_bytes, normalise_text
from heysh.documents.decoding import MAX_DOCUMENT_BYTES
from heysh.domain import validate_domain_config
from heysh.errors import ConfigError, DataError, DocumentError
from heysh.feedback.audits import audit_pool
from heysh.stores.base import (
    Archive,
    AuditRow,
    BlobStore,
    DecisionRow,
    DocumentRow,
    GraphDocument,
    KnowledgeGraph,
    MetadataStore,
    VectorIndex,
    VectorRecord,
    VoteRow,
)

# Characters of the document text kept with its vector; the full text stays
# in the blob store.
MAX_INDEXED_TEXT_CHARS = 20_000

# Document statuses written to the metadata store.
STATUS_UNDER_REVIEW = "under_review"
STATUS_REFUSED = "refused_input"
_OUTCOMES = ("approved", "rejected", "refused_input")


class StorageActivities:
    """The storage activities, holding the stores they write to.

    Args:
        metadata: Documents, domains, decisions and votes.
        vectors: The vector index of approved documents.
        graph: The knowledge graph of approved documents.
        blobs: Uploaded bodies and their normalised texts.
        archive: Rejected documents.
        max_document_bytes: Larger documents are refused (recorded outcome).
        pause_after_write_s: Testing only: seconds to sleep right after the
            write of the named activities, so a test can kill the worker
            between the write and the completion (``HEYSH_TEST_PAUSE_AFTER_WRITE``
            in ``python -m heysh.worker``).
    """

    def __init__(
        self,
        *,
        metadata: MetadataStore,
        vectors: VectorIndex,
        graph: KnowledgeGraph,
        blobs: BlobStore,
        archive: Archive,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        pause_after_write_s: Mapping[str, float] | None = None,
    ) -> None:
        self._metadata = metadata
        self._vectors = vectors
        self._graph = graph
        self._blobs = blobs
        self._archive = archive
        self._max_document_bytes = max_document_bytes
        self._pause_after_write_s = dict(pause_after_write_s or {})

    def activities(self) -> list[Callable[..., Any]]:
        """Every activity of the storage queue, for a Worker."""
        return [
            self.store_document_metadata,
            self.record_review_decision,
            self.record_review_vote,
            self.request_audit,
            self.index_to_weaviate,
            self.update_neo4j_graph,
            self.archive_rejected_document,
        ]

    @activity.defn(name=c.STORE_DOCUMENT_METADATA)
    def store_document_metadata(
        self, request: c.StoreDocumentMetadataInput
    ) -> c.StoreDocumentMetadataResult:
        """Decode the uploaded body, keep its text, and write the document row.

        Empty, binary and oversized documents are stored with status
        ``refused_input`` and a reason; they are not an error.
        """
        with _invalid_on_data_error():
            domain, config = self._load_domain(request.domain_id)
            body = self._read_blob(request.blob_key)
            sha256 = hashlib.sha256(body).hexdigest()
            if sha256 != request.doc_id:
                raise _invalid(
                    f"doc_id {request.doc_id!r} is not the SHA-256 of the body under "
                    f"{request.blob_key!r} ({sha256}); submit through heysh.client"
                )
            refusal, encoding, flags, text = self._decode(body)
            text_key = ""
            if not refusal:
                text_key = c.text_blob_key(request.doc_id)
                self._blobs.put(text_key, text.encode("utf-8"))
            self._metadata.upsert_document(
                DocumentRow(
                    doc_id=request.doc_id,
                    domain_id=request.domain_id,
                    uploader=request.uploader,
                    filename=request.filename,
                    content_sha256=sha256,
                    size_bytes=len(body),
                    status=STATUS_REFUSED if refusal else STATUS_UNDER_REVIEW,
                    language=str(domain.get("language") or ""),
                    flags=tuple(flags),
                )
            )
        activity.logger.info(
            "document_stored",
            extra={
                "doc_id": request.doc_id,
                "domain_id": request.domain_id,
                "size_bytes": len(body),
                "flags": ",".join(flags),
                "refused": bool(refusal),
            },
        )
        return c.StoreDocumentMetadataResult(
            doc_id=request.doc_id,
            size_bytes=len(body),
            encoding=encoding,
            flags=flags,
            refusal_reason=refusal,
            text_key=text_key,
            text_chars=len(text),
            domain_name=str(domain.get("name") or ""),
            domain_description=str(domain.get("description") or ""),
            domain_config=config,
        )

    @activity.defn(name=c.RECORD_REVIEW_DECISION)
    def record_review_decision(
        self, request: c.RecordDecisionInput
    ) -> c.RecordDecisionResult:
        """Record the decision with its provenance and set the document's status.

        Write-once: a retried call finds the first decision and keeps it.
        """
        if request.outcome not in _OUTCOMES:
            raise _invalid(
                f"outcome {request.outcome!r} is not one of {', '.join(_OUTCOMES)}"
            )
        if not request.decided_by:
            raise _invalid("decided_by is empty; every decision names its actor")
        with _invalid_on_data_error():
            existing = self._metadata.get_decision(request.domain_id, request.doc_id)
            if existing is None:
                self._metadata.record_decision(
                    DecisionRow(
                        doc_id=request.doc_id,
                        domain_id=request.domain_id,
                        outcome=request.outcome,
                        decided_by=request.decided_by,
                        score=request.score,
                        model_name=request.model_name,
                        model_version=request.model_version,
                        thresholds=dict(request.thresholds),
                        reason=request.reason,
                        tokens_in=request.tokens_in,
                        tokens_out=request.tokens_out,
                        cost_usd=request.cost_usd,
                    )
                )
            recorded = existing or self._metadata.get_decision(
                request.domain_id, request.doc_id
            )
            outcome = recorded.outcome if recorded else request.outcome
            self._metadata.set_document_status(
                request.domain_id, request.doc_id, outcome
            )
        if existing is None:
            DECISIONS.labels(outcome=outcome, domain=request.domain_id).inc()
        return c.RecordDecisionResult(
            doc_id=request.doc_id, outcome=outcome, newly_recorded=existing is None
        )

    @activity.defn(name=c.RECORD_REVIEW_VOTE)
    def record_review_vote(self, request: c.RecordVoteInput) -> c.RecordVoteResult:
        """Record a vote (a repeated vote by the same voter replaces the earlier)."""
        with _invalid_on_data_error():
            self._metadata.record_vote(
                VoteRow(
                    doc_id=request.doc_id,
                    domain_id=request.domain_id,
                    voter=request.voter,
                    role=request.role,
                    approve=request.approve,
                    comment=request.comment,
                )
            )
            votes = self._metadata.list_votes(request.domain_id, request.doc_id)
        votes_for = sum(1 for v in votes if v.approve)
        return c.RecordVoteResult(
            doc_id=request.doc_id,
            voter=request.voter,
            votes_for=votes_for,
            votes_against=len(votes) - votes_for,
        )

    @activity.defn(name=c.REQUEST_AUDIT)
    def request_audit(self, request: c.RequestAuditInput) -> c.RequestAuditResult:
        """Assign a sampled automatic decision to a controller for a blind label.

        The auditor is chosen round-robin from the domain's controller pool
        (else its controllers, else its admins, else the snapshot's pool;
        see ``heysh.feedback.audits.audit_pool``). Write-once: a retried call
        finds the first request and keeps it. A domain with nobody to audit
        records nothing and returns an empty controller.
        """
        with _invalid_on_data_error():
            existing = self._metadata.get_audit(request.domain_id, request.doc_id)
            if existing is not None:
                return c.RequestAuditResult(
                    doc_id=request.doc_id,
                    controller=existing.controller,
                    newly_requested=False,
                )
            domain = self._metadata.get_domain(request.domain_id) or {}
            members = dict(self._metadata.list_members(request.domain_id))
            pool = audit_pool(_stored_pool(domain), members) or list(
                request.fallback_pool
            )
            if not pool:
                activity.logger.warning(
                    "audit_without_auditor",
                    extra={"domain_id": request.domain_id, "doc_id": request.doc_id},
                )
                return c.RequestAuditResult(
                    doc_id=request.doc_id, controller="", newly_requested=False
                )
            index = self._metadata.next_round_robin_index(
                request.domain_id, len(pool), request.claim_key
            )
            inserted = self._metadata.record_audit_request(
                AuditRow(
                    doc_id=request.doc_id,
                    domain_id=request.domain_id,
                    automatic_outcome=request.automatic_outcome,
                    score=request.score,
                    model_name=request.model_name,
                    model_version=request.model_version,
                    thresholds=dict(request.thresholds),
                    controller=pool[index],
                )
            )
            recorded = self._metadata.get_audit(request.domain_id, request.doc_id)
        controller = recorded.controller if recorded else pool[index]
        activity.logger.info(
            "audit_requested",
            extra={
                "domain_id": request.domain_id,
                "doc_id": request.doc_id,
                "controller": controller,
            },
        )
        return c.RequestAuditResult(
            doc_id=request.doc_id, controller=controller, newly_requested=inserted
        )

    @activity.defn(name=c.INDEX_TO_WEAVIATE)
    def index_to_weaviate(self, request: c.IndexDocumentInput) -> c.IndexDocumentResult:
        """Upsert the approved document's vector into the configured vector index.

        Named after the production adapter; it writes to whichever
        ``VectorIndex`` is configured (the embedded one by default).
        """
        if not request.embedding:
            raise _invalid("embedding is empty; extract_document_topics provides it")
        metadata: dict[str, str | int | float | bool] = {
            "title": request.title,
            "topics": "; ".join(request.topics),
            "uploader": request.uploader,
            "decided_by": request.decided_by,
        }
        if request.score is not None:
            metadata["score"] = float(request.score)
        with _invalid_on_data_error():
            text = self._read_blob(request.text_key).decode("utf-8")
            self._vectors.upsert(
                VectorRecord(
                    doc_id=request.doc_id,
                    domain_id=request.domain_id,
                    vector=list(request.embedding),
                    text=text[:MAX_INDEXED_TEXT_CHARS],
                    metadata=metadata,
                )
            )
        self._pause_after_write(c.INDEX_TO_WEAVIATE)
        return c.IndexDocumentResult(
            doc_id=request.doc_id, dimensions=len(request.embedding)
        )

    @activity.defn(name=c.UPDATE_NEO4J_GRAPH)
    def update_neo4j_graph(self, request: c.UpdateGraphInput) -> c.UpdateGraphResult:
        """Upsert the document's node and its links in the configured graph.

        Named after the production adapter; it writes to whichever
        ``KnowledgeGraph`` is configured (the embedded one by default).
        """
        with _invalid_on_data_error():
            self._graph.upsert_document(
                GraphDocument(
                    doc_id=request.doc_id,
                    domain_id=request.domain_id,
                    title=request.title,
                    topics=tuple(request.topics),
                    uploader=request.uploader,
                    reviewer=request.reviewer,
                )
            )
        self._pause_after_write(c.UPDATE_NEO4J_GRAPH)
        return c.UpdateGraphResult(doc_id=request.doc_id, topics=len(request.topics))

    @activity.defn(name=c.ARCHIVE_REJECTED_DOCUMENT)
    def archive_rejected_document(
        self, request: c.ArchiveDocumentInput
    ) -> c.ArchiveDocumentResult:
        """Copy the rejected document's body and decision into the archive."""
        with _invalid_on_data_error():
            body = self._read_blob(request.blob_key)
            self._archive.archive(
                request.domain_id,
                request.doc_id,
                body,
                {
                    "filename": request.filename,
                    "uploader": request.uploader,
                    "decided_by": request.decided_by,
                    "score": request.score,
                    "reason": request.reason,
                },
            )
        self._pause_after_write(c.ARCHIVE_REJECTED_DOCUMENT)
        return c.ArchiveDocumentResult(doc_id=request.doc_id, size_bytes=len(body))

    def _load_domain(self, domain_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        domain = self._metadata.get_domain(domain_id)
        if domain is None:
            raise _invalid(
                f"domain {domain_id!r} does not exist; create it before submitting "
                "documents to it"
            )
        try:
            raw = json.loads(domain.get("config_json") or "{}")
            config = validate_domain_config(raw)
        except (ConfigError, ValueError) as err:
            raise _invalid(
                f"domain {domain_id!r} has an invalid config: {err}"
            ) from None
        return domain, config.model_dump(mode="json")

    def _read_blob(self, key: str) -> bytes:
        if not key or not self._blobs.exists(key):
            raise _invalid(f"no blob under key {key!r}; upload the document first")
        return self._blobs.get(key)

    def _decode(self, body: bytes) -> tuple[str, str, list[str], str]:
        """Return (refusal reason or "", encoding, flags, normalised text)."""
        try:
            decoded = decode_document_bytes(body, max_bytes=self._max_document_bytes)
        except DocumentError as err:
            flag = "too_large" if len(body) > self._max_document_bytes else "binary"
            return str(err), "", [flag], ""
        flags = list(decoded.flags)
        text = normalise_text(decoded.text)
        if not text:
            if "empty_text" not in flags:
                flags.append("empty_text")
            return (
                "document has no text (empty, or only whitespace and mark-up); "
                "upload a document with content",
                decoded.encoding,
                flags,
                "",
            )
        return "", decoded.encoding, flags, text

    def _pause_after_write(self, name: str) -> None:
        seconds = self._pause_after_write_s.get(name)
        if not seconds:
            return
        activity.logger.warning("test_pause_after_write", extra={"seconds": seconds})
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.1)


def _stored_pool(domain: Mapping[str, Any]) -> list[str]:
    """The controller pool of a stored domain's config (empty if unreadable)."""
    try:
        pool = json.loads(domain.get("config_json") or "{}").get("controller_pool")
    except ValueError:
        return []
    return [str(user) for user in pool or ()]


@contextmanager
def _invalid_on_data_error() -> Iterator[None]:
    """Turn a store's refusal of bad data into a non-retryable failure."""
    try:
        yield
    except (DataError, ConfigError) as err:
        raise _invalid(str(err)) from err


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=c.INVALID_INPUT_ERROR, non_retryable=True)
