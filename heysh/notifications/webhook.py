"""Notifications posted as signed JSON to an HTTP endpoint."""

from __future__ import annotations

import json
import logging
import os
import time
from urllib.parse import urlsplit

import httpx

from heysh.notifications.errors import (
    NotificationDeliveryError,
    NotificationRejectedError,
)
from heysh.notifications.message import Notification
from heysh.notifications.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_payload,
)

_logger = logging.getLogger(__name__)

# Statuses a later attempt may get past: timeout, too many requests, and 5xx.
_TRANSIENT_4XX = frozenset({408, 425, 429})


def endpoint_label(url: str) -> str:
    """The scheme and host of a URL, for messages; paths may hold tokens.

    >>> endpoint_label("https://hooks.example.com/T000/B000/secret")
    'https://hooks.example.com'
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (
        f":{parts.port}" if parts.port else ""
    )


class WebhookChannel:
    """POSTs ``Notification.to_payload()`` as JSON, signed with HMAC-SHA256.

    Headers: ``X-Heysh-Signature: sha256=<hex>`` over ``<timestamp>.<body>``,
    ``X-Heysh-Timestamp`` (Unix seconds), ``X-Heysh-Delivery`` (the same on
    every retry of one event) and ``X-Heysh-Event``. Receivers check them with
    ``heysh.notifications.signing.verify_signature``.

    Args:
        url: The ``http``/``https`` endpoint. Redirects are not followed.
        secret_env_var: Name of the environment variable holding the shared
            secret; read at every send, so a rotated secret needs no restart.
        timeout_s: Connect and read timeout per request.
    """

    kind = "webhook"

    def __init__(
        self, url: str, secret_env_var: str, *, timeout_s: float = 10.0
    ) -> None:
        self.url = url
        self.secret_env_var = secret_env_var
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return (
            f"WebhookChannel(url={endpoint_label(self.url)!r}, "
            f"secret_env_var={self.secret_env_var!r})"
        )

    def send(self, notification: Notification) -> None:
        """Post the notification once.

        Raises:
            NotificationDeliveryError: Connection failed, timed out, or the
                endpoint answered 408, 425, 429 or 5xx.
            NotificationRejectedError: The secret variable is unset, or the
                endpoint answered another non-2xx status (e.g. 401 for a
                wrong secret, 404 for a wrong URL, 3xx for a moved endpoint).
        """
        secret = os.environ.get(self.secret_env_var, "")
        if not secret:
            raise NotificationRejectedError(
                f"webhook secret variable {self.secret_env_var} is not set or empty; "
                "set it in the worker's environment"
            )
        body = json.dumps(
            notification.to_payload(), ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "heysh-webhook/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign_payload(secret, timestamp, body),
            DELIVERY_HEADER: notification.delivery_id,
            EVENT_HEADER: notification.event,
        }
        target = endpoint_label(self.url)
        try:
            response = httpx.post(
                self.url,
                content=body,
                headers=headers,
                timeout=self.timeout_s,
                follow_redirects=False,
            )
        except httpx.TransportError as err:
            raise NotificationDeliveryError(
                f"webhook {target} unreachable: {type(err).__name__}: {err}"
            ) from err
        _raise_for_status(response.status_code, target)
        _logger.debug(
            "webhook_delivered",
            extra={"endpoint": target, "status": response.status_code},
        )


def _raise_for_status(status: int, target: str) -> None:
    if 200 <= status < 300:
        return
    if status >= 500 or status in _TRANSIENT_4XX:
        raise NotificationDeliveryError(
            f"webhook {target} answered {status}; will retry"
        )
    hint = {
        401: "the receiver rejected the signature: check the shared secret",
        403: "the receiver rejected the signature: check the shared secret",
        404: "check the webhook URL",
    }.get(status, "fix the webhook configuration")
    if 300 <= status < 400:
        hint = "the endpoint moved; configure its final URL"
    raise NotificationRejectedError(f"webhook {target} answered {status}; {hint}")
