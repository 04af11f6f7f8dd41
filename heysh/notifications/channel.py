"""The channel interface, the log channel, and sending through a channel."""

from __future__ import annotations

import logging
import time
from typing import Protocol, runtime_checkable

from heysh.notifications.message import Notification

_logger = logging.getLogger(__name__)


@runtime_checkable
class NotificationChannel(Protocol):
    """Delivers notifications to one destination.

    ``send`` raises ``NotificationDeliveryError`` for a transient failure
    (retry later) and ``NotificationRejectedError`` (a ``ConfigError``) when
    retrying cannot help.
    """

    kind: str

    def send(self, notification: Notification) -> None: ...


class LogChannel:
    """Writes one INFO line per notification: ids and counts, never text.

    For local runs and domains that have not configured a channel.
    """

    kind = "log"

    def send(self, notification: Notification) -> None:
        """Log the notification's event, ids, outcome and recipient count."""
        _logger.info(
            "notification_logged",
            extra={
                "event": notification.event,
                "domain_id": notification.domain_id,
                "doc_id": notification.doc_id,
                "outcome": notification.outcome,
                "recipients": len(notification.recipients),
            },
        )


def send_notification(channel: NotificationChannel, notification: Notification) -> None:
    """Deliver ``notification`` through ``channel``, logging the delivery.

    Raises:
        NotificationDeliveryError: Transient failure; the caller should retry.
        NotificationRejectedError: Permanent failure (a ``ConfigError``).
    """
    started = time.perf_counter()
    channel.send(notification)
    _logger.info(
        "notification_sent",
        extra={
            "channel": channel.kind,
            "event": notification.event,
            "domain_id": notification.domain_id,
            "doc_id": notification.doc_id,
            "delivery_id": notification.delivery_id,
            "recipients": len(notification.recipients),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
