"""Blind audits: who audits a sampled automatic decision, what they see, their label.

The review workflow samples automatic decisions (auto-approve and
auto-reject by thresholds, and AI-controller decisions in the gray zone) with
probability ``DomainConfig.audit_fraction`` and records an audit request
assigned round-robin to a controller of the domain (the ``request_audit``
storage activity). The review does not wait for the label: the automatic
outcome stands, and the label only feeds the audit report and the exported
labels.

Blindness is a property of what this module returns: :class:`BlindAuditTask`
has no score, automatic outcome, model or thresholds, so ``heysh audit
pending`` cannot show them. It is not an access control: a controller who
looks the document up with ``heysh status`` sees its review.

Only the assigned controller or an admin of the domain may label an audit,
and an audit is labelled once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from heysh.activities.contracts import text_blob_key
from heysh.domain import Role, can_decide
from heysh.errors import DataError, PermissionDeniedError
from heysh.stores.base import AuditRow, BlobStore, MetadataStore

_logger = logging.getLogger(__name__)

__all__ = [
    "AuditLabel",
    "BlindAuditTask",
    "audit_pool",
    "audit_text",
    "label_audit",
    "pending_audits",
]


@dataclass(frozen=True)
class BlindAuditTask:
    """What a controller sees of a pending audit: the document, nothing decided."""

    domain_id: str
    doc_id: str
    filename: str
    requested_at: datetime | None


@dataclass(frozen=True)
class AuditLabel:
    """A recorded audit label."""

    domain_id: str
    doc_id: str
    label_outcome: str
    labelled_by: str


def audit_pool(controller_pool: Iterable[str], members: Mapping[str, str]) -> list[str]:
    """Return who audits a domain's decisions, in round-robin order.

    The domain's ``controller_pool`` when it has one, else its members with
    the controller role, else its admins (sorted by user id).

    >>> audit_pool([], {"zoe": "admin", "bo": "controller", "al": "contributor"})
    ['bo']
    >>> audit_pool(["ann"], {"bo": "controller"})
    ['ann']
    """
    pool = list(controller_pool)
    if pool:
        return pool
    for role in (Role.CONTROLLER.value, Role.ADMIN.value):
        chosen = sorted(user for user, r in members.items() if r == role)
        if chosen:
            return chosen
    return []


def pending_audits(
    metadata: MetadataStore, controller: str, *, domain_id: str | None = None
) -> list[BlindAuditTask]:
    """Return the audits waiting for ``controller``'s label, oldest first.

    Args:
        metadata: The metadata store.
        controller: The assigned controller.
        domain_id: Only this domain.

    Returns:
        Blind tasks: no score, no automatic outcome.
    """
    tasks = []
    for audit in metadata.list_audits(domain_id, controller=controller, labelled=False):
        document = metadata.get_document(audit.domain_id, audit.doc_id)
        tasks.append(
            BlindAuditTask(
                domain_id=audit.domain_id,
                doc_id=audit.doc_id,
                filename=document.filename if document else "",
                requested_at=audit.requested_at,
            )
        )
    return tasks


def audit_text(
    metadata: MetadataStore,
    blobs: BlobStore,
    domain_id: str,
    doc_id: str,
    actor: str,
) -> str:
    """Return an audited document's text for the controller who labels it.

    Raises:
        DataError: The document has no audit request or no stored text.
        PermissionDeniedError: ``actor`` is neither the assigned controller
            nor an admin of the domain.
    """
    _check_may_label(metadata, _audit_of(metadata, domain_id, doc_id), actor)
    key = text_blob_key(doc_id)
    if not blobs.exists(key):
        raise DataError(f"document {doc_id!r} has no stored text under {key!r}")
    return blobs.get(key).decode("utf-8")


def label_audit(
    metadata: MetadataStore,
    domain_id: str,
    doc_id: str,
    actor: str,
    approve: bool,
) -> AuditLabel:
    """Record ``actor``'s blind label of an audited document.

    Args:
        metadata: The metadata store.
        domain_id: The document's domain.
        doc_id: The audited document.
        actor: Who labels: the assigned controller or an admin.
        approve: Whether the document belongs in the domain.

    Returns:
        The recorded label.

    Raises:
        DataError: The document has no audit request, or it is labelled
            already.
        PermissionDeniedError: ``actor`` may not label this audit; nothing is
            recorded.
    """
    audit = _audit_of(metadata, domain_id, doc_id)
    _check_may_label(metadata, audit, actor)
    outcome = "approved" if approve else "rejected"
    metadata.record_audit_label(domain_id, doc_id, outcome, actor)
    _logger.info(
        "audit_label_recorded",
        extra={"domain_id": domain_id, "doc_id": doc_id, "labelled_by": actor},
    )
    return AuditLabel(domain_id, doc_id, outcome, actor)


def _audit_of(metadata: MetadataStore, domain_id: str, doc_id: str) -> AuditRow:
    audit = metadata.get_audit(domain_id, doc_id)
    if audit is None:
        raise DataError(
            f"document {doc_id!r} in domain {domain_id!r} was not sampled for "
            "audit; see `heysh audit pending --as USER`"
        )
    return audit


def _check_may_label(metadata: MetadataStore, audit: AuditRow, actor: str) -> None:
    role = _role_of(metadata, audit.domain_id, actor)
    allowed, reason = can_decide(actor, role, audit.controller)
    if not allowed:
        _logger.warning(
            "audit_label_refused",
            extra={"domain_id": audit.domain_id, "doc_id": audit.doc_id, "by": actor},
        )
        raise PermissionDeniedError(
            reason.replace("may decide", "may label this audit")
        )


def _role_of(metadata: MetadataStore, domain_id: str, actor: str) -> Role | None:
    """The actor's stored role; pool members without one count as controllers."""
    stored = metadata.get_role(domain_id, actor)
    if stored:
        return Role(stored)
    domain = metadata.get_domain(domain_id) or {}
    try:
        pool = json.loads(domain.get("config_json") or "{}").get("controller_pool")
    except ValueError:
        pool = None
    return Role.CONTROLLER if actor in (pool or ()) else None
