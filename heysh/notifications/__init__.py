"""Telling uploaders, controllers and admins what happened to a document.

A domain's notification config (``{"type": "webhook" | "email" | "log", ...}``)
becomes a channel with :func:`build_channel`; :func:`send_notification`
delivers a :class:`Notification` and raises ``NotificationDeliveryError``
(retry) or ``NotificationRejectedError`` (a ``ConfigError``: do not retry).
"""

from heysh.notifications.channel import (
    LogChannel,
    NotificationChannel,
    send_notification,
)
from heysh.notifications.config import build_channel
from heysh.notifications.errors import (
    NotificationDeliveryError,
    NotificationRejectedError,
)
from heysh.notifications.message import Notification
from heysh.notifications.signing import sign_payload, verify_signature
from heysh.notifications.smtp import SmtpChannel
from heysh.notifications.webhook import WebhookChannel

__all__ = [
    "LogChannel",
    "Notification",
    "NotificationChannel",
    "NotificationDeliveryError",
    "NotificationRejectedError",
    "SmtpChannel",
    "WebhookChannel",
    "build_channel",
    "send_notification",
    "sign_payload",
    "verify_signature",
]
