"""The store interfaces every adapter implements, embedded or server.

All writes are upserts keyed by document id, so an activity retried after a
crash writes nothing twice. Methods are synchronous; activities call them from
a thread (Temporal runs sync activities in an executor), so adapters are
thread-safe.

Errors every adapter raises (``heysh.errors``): ``DataError`` for input that
will never be stored (non-retryable), ``StoreUnavailableError`` for a store
that cannot be reached now (retryable). The contract suite in
``tests/stores/`` pins the behaviour described here for every adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class VectorRecord:
    """One document's vector and flat metadata in the vector index.

    ``metadata`` values are strings, numbers or booleans; an empty string is
    a legitimate value and must round-trip unchanged.
    """

    doc_id: str
    domain_id: str
    vector: Sequence[float]
    text: str = ""
    metadata: Mapping[str, str | int | float | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorHit:
    """A search result; ``similarity`` is cosine similarity, higher is closer."""

    doc_id: str
    domain_id: str
    similarity: float
    metadata: Mapping[str, str | int | float | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchFailure:
    """One object of a batch write that was not stored, and why."""

    doc_id: str
    reason: str


@runtime_checkable
class VectorIndex(Protocol):
    """Nearest-neighbour search over document vectors, isolated per domain."""

    def upsert(self, record: VectorRecord) -> None:
        """Insert or replace the record keyed by ``(domain_id, doc_id)``.

        Raises ``DataError`` for a record that
        ``heysh.stores.validation.find_vector_record_problem`` refuses (empty
        ids, a vector of the wrong length, non-finite or all zero, metadata
        that is not flat strings, numbers and booleans).
        """
        ...

    def upsert_batch(self, records: Sequence[VectorRecord]) -> list[BatchFailure]:
        """Write many records; return every record that failed (empty if none).

        Valid records are stored even when others fail; each invalid record is
        reported once, by ``doc_id``, never dropped silently. A document given
        twice is stored once, from its later record.
        """
        ...

    def get(self, domain_id: str, doc_id: str) -> VectorRecord | None:
        """The stored record (vector possibly rounded to 32-bit floats)."""
        ...

    def delete(self, domain_id: str, doc_id: str) -> None: ...

    def search(
        self, domain_id: str, vector: Sequence[float], limit: int = 10
    ) -> list[VectorHit]:
        """Nearest documents of ``domain_id`` only, closest first (ties by id).

        Raises ``DataError`` for an invalid query vector or ``limit`` below 1.
        """
        ...

    def count(self, domain_id: str | None = None) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class GraphDocument:
    """A document's place in the knowledge graph."""

    doc_id: str
    domain_id: str
    title: str = ""
    topics: Sequence[str] = ()
    uploader: str = ""
    reviewer: str = ""


@runtime_checkable
class KnowledgeGraph(Protocol):
    """Documents linked to domains, topics, uploaders and reviewers."""

    def upsert_document(self, document: GraphDocument) -> None:
        """Create or replace a document, keyed by ``doc_id`` alone.

        A re-upsert replaces the domain, title, topic set, uploader and
        reviewer. Topics are stripped, de-duplicated and empty ones dropped;
        an empty uploader or reviewer means none.
        """
        ...

    def get_document(self, doc_id: str) -> GraphDocument | None:
        """The document with ``topics`` as a sorted tuple, or ``None``."""
        ...

    def related_documents(self, doc_id: str, limit: int = 10) -> list[tuple[str, int]]:
        """Documents of the same domain sharing topics with ``doc_id``:
        ``(doc_id, shared_topics)``, most shared first, ties by doc id."""
        ...

    def domain_topics(self, domain_id: str) -> list[tuple[str, int]]:
        """A domain's topics with their document counts, most frequent first,
        ties by topic."""
        ...

    def count_documents(self) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class DocumentRow:
    """A stored document's metadata; the body lives in the blob store."""

    doc_id: str
    domain_id: str
    uploader: str
    filename: str
    content_sha256: str
    size_bytes: int
    status: str
    language: str = ""
    flags: Sequence[str] = ()
    created_at: datetime | None = None


@dataclass(frozen=True)
class DecisionRow:
    """A decision with its provenance: who or what decided, on what basis."""

    doc_id: str
    domain_id: str
    outcome: str  # approved | rejected | refused_input
    decided_by: str  # a user id, "ai-controller" or "thresholds"
    score: float | None
    model_name: str
    model_version: str
    thresholds: Mapping[str, Any]
    reason: str = ""
    decided_at: datetime | None = None
    # What an LLM judge billed for scoring the document (0 for a local model).
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class VoteRow:
    doc_id: str
    domain_id: str
    voter: str
    role: str
    approve: bool
    comment: str = ""
    voted_at: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    """A blind audit of an automatic decision, and its label once given.

    ``automatic_outcome``, ``score`` and ``thresholds`` (the thresholds, error
    targets and audit fraction in force) are what the audit checks; they are
    never shown to the labelling controller. ``label_outcome`` is ``approved``
    or ``rejected`` once labelled, else ``None``.
    """

    doc_id: str
    domain_id: str
    automatic_outcome: str
    score: float | None
    model_name: str
    model_version: str
    thresholds: Mapping[str, Any]
    controller: str
    requested_at: datetime | None = None
    label_outcome: str | None = None
    labelled_by: str | None = None
    labelled_at: datetime | None = None


@dataclass(frozen=True)
class ThresholdProposalRow:
    """Thresholds an evaluation proposes for a domain, and what became of them.

    ``current`` and ``proposed`` hold ``DomainConfig`` threshold fields (the
    values in force when proposed, and the proposed ones); ``evidence`` holds
    the bounds, rates and label counts behind them, from the MLflow run
    ``evidence_run_id``. ``status`` is ``proposed`` (pending), ``applied``,
    ``rejected`` or ``superseded`` (a newer proposal for the domain came);
    ``decided_by``, ``decided_at`` and ``note`` say who moved it there, when
    and why.
    """

    proposal_id: str
    domain_id: str
    current: Mapping[str, Any]
    proposed: Mapping[str, Any]
    evidence: Mapping[str, Any]
    evidence_run_id: str
    proposed_by: str
    proposed_at: datetime | None = None
    status: str = "proposed"
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""


@runtime_checkable
class MetadataStore(Protocol):
    """Documents, domains, memberships and roles, decisions, votes, round-robin.

    Backed by SQLAlchemy (SQLite embedded, PostgreSQL in production) with
    Alembic migrations.
    """

    # Domains and memberships.
    def upsert_domain(
        self,
        domain_id: str,
        name: str,
        description: str,
        config_json: str,
        language: str = "en",
    ) -> None: ...
    def get_domain(self, domain_id: str) -> dict[str, Any] | None: ...
    def list_domains(self) -> list[dict[str, Any]]: ...
    def set_membership(self, domain_id: str, user_id: str, role: str) -> None: ...
    def remove_membership(self, domain_id: str, user_id: str) -> None: ...
    def get_role(self, domain_id: str, user_id: str) -> str | None: ...
    def list_members(self, domain_id: str) -> list[tuple[str, str]]: ...

    # Documents, decisions, votes.
    def upsert_document(self, row: DocumentRow) -> None: ...
    def get_document(self, domain_id: str, doc_id: str) -> DocumentRow | None: ...
    def set_document_status(self, domain_id: str, doc_id: str, status: str) -> None:
        """Raises ``DataError`` if the document was never stored."""
        ...

    def record_decision(self, row: DecisionRow) -> None:
        """Idempotent: a second call for the same document replaces nothing."""
        ...

    def get_decision(self, domain_id: str, doc_id: str) -> DecisionRow | None: ...
    def record_vote(self, row: VoteRow) -> None:
        """One vote per (document, voter); a repeated vote replaces the earlier."""
        ...

    def list_votes(self, domain_id: str, doc_id: str) -> list[VoteRow]: ...

    # Decision history, for exports and reports; ``since`` inclusive, ``until``
    # exclusive, oldest first.
    def list_decisions(
        self,
        domain_id: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[DecisionRow]: ...
    def list_domain_votes(
        self,
        domain_id: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[VoteRow]: ...

    # Blind audits of automatic decisions.
    def record_audit_request(self, row: AuditRow) -> bool:
        """Write-once; returns whether this call created the request."""
        ...

    def get_audit(self, domain_id: str, doc_id: str) -> AuditRow | None: ...
    def list_audits(
        self,
        domain_id: str | None = None,
        *,
        controller: str | None = None,
        labelled: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditRow]: ...
    def record_audit_label(
        self,
        domain_id: str,
        doc_id: str,
        outcome: str,
        labelled_by: str,
        labelled_at: datetime | None = None,
    ) -> None:
        """Raises ``DataError`` if there is no such audit or it has a label."""
        ...

    # Threshold proposals from evaluations, applied or rejected by an admin.
    def add_threshold_proposal(self, row: ThresholdProposalRow) -> bool:
        """Store a pending proposal; older pending ones of the domain become
        ``superseded`` in the same transaction. Write-once: an existing
        ``proposal_id`` changes nothing. Returns whether this call stored it."""
        ...

    def get_threshold_proposal(
        self, proposal_id: str
    ) -> ThresholdProposalRow | None: ...
    def list_threshold_proposals(
        self, domain_id: str | None = None, *, status: str | None = None
    ) -> list[ThresholdProposalRow]:
        """Oldest first (ties by id)."""
        ...

    def decide_threshold_proposal(
        self,
        proposal_id: str,
        status: str,
        decided_by: str,
        *,
        note: str = "",
        config_json: str | None = None,
        decided_at: datetime | None = None,
    ) -> ThresholdProposalRow:
        """Move a pending proposal to ``applied`` or ``rejected``; with
        ``config_json`` the domain's config is replaced in the same transaction.
        Raises ``DataError`` if it does not exist or is no longer pending."""
        ...

    # Round-robin: atomically take the next position of the domain's pool.
    def next_round_robin_index(
        self, domain_id: str, pool_size: int, claim_key: str
    ) -> int:
        """Return the pool index for ``claim_key`` (a workflow's claim).

        The same ``claim_key`` always gets the same index (idempotent retry);
        distinct keys get consecutive indices modulo ``pool_size``.
        """
        ...

    def close(self) -> None: ...


@runtime_checkable
class BlobStore(Protocol):
    """Document bodies by key (the workflow carries keys, never bodies).

    Keys are ``/``-separated non-empty parts (``domain/doc-id/original``);
    a ``.`` or ``..`` part, or an empty one, is a ``DataError``.
    """

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes:
        """Raises ``DataError`` if nothing is stored under ``key``."""
        ...

    def exists(self, key: str) -> bool: ...


@runtime_checkable
class Archive(Protocol):
    """Rejected documents, retrievable by id.

    ``metadata`` holds JSON values and comes back from ``retrieve`` unchanged;
    archiving a document again replaces its body and metadata.
    """

    def archive(
        self, domain_id: str, doc_id: str, body: bytes, metadata: Mapping[str, Any]
    ) -> None: ...
    def retrieve(
        self, domain_id: str, doc_id: str
    ) -> tuple[bytes, dict[str, Any]] | None: ...
    def list_ids(self, domain_id: str) -> list[str]: ...
