"""The notification record every channel delivers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class Notification:
    """One event about one document, for a set of recipients.

    Attributes:
        event: What happened, e.g. ``document_approved`` or ``review_requested``.
        domain_id: The document's domain.
        doc_id: The document.
        recipients: User ids or e-mail addresses, as the channel expects
            (the e-mail channel needs addresses).
        subject: One line for people; line breaks are replaced by spaces.
        summary: A short text about the document (may quote it: never logged).
        outcome: ``approved``, ``rejected``, ``pending`` or empty.
        extra: Further JSON values the receiver may use (score, links, ...).
    """

    event: str
    domain_id: str
    doc_id: str
    recipients: tuple[str, ...] = ()
    subject: str = ""
    summary: str = ""
    outcome: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Accept any sequence of recipients but keep the record immutable.
        object.__setattr__(self, "recipients", tuple(self.recipients))

    @property
    def delivery_id(self) -> str:
        """A stable id of this event, the same on every retry, for de-duplication.

        >>> Notification("approved", "d", "x").delivery_id == (
        ...     Notification("approved", "d", "x", subject="other").delivery_id)
        True
        """
        key = "\x1f".join((self.event, self.domain_id, self.doc_id))
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def to_payload(self) -> dict[str, Any]:
        """Return the JSON object a webhook receives."""
        return {
            "version": PAYLOAD_VERSION,
            "delivery_id": self.delivery_id,
            "event": self.event,
            "domain_id": self.domain_id,
            "doc_id": self.doc_id,
            "recipients": list(self.recipients),
            "subject": self.subject,
            "summary": self.summary,
            "outcome": self.outcome,
            "extra": dict(self.extra),
        }

    def one_line_subject(self) -> str:
        """The subject without line breaks (they would split a mail header).

        >>> Notification("e", "d", "x", subject="a\\r\\nBcc: x").one_line_subject()
        'a Bcc: x'
        """
        subject = self.subject or f"heysh: {self.event} ({self.doc_id})"
        return " ".join(subject.split())
