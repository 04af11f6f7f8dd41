"""The webhook channel against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from heysh.errors import ConfigError
from heysh.notifications import (
    Notification,
    NotificationDeliveryError,
    NotificationRejectedError,
    WebhookChannel,
    send_notification,
)

SECRET_VAR = "HEYSH_TEST_WEBHOOK_SECRET"
SUMMARY = "Rapporten om åäö 🚀 مرحبا שלום is about river ecology."


@pytest.fixture
def notification() -> Notification:
    return Notification(
        event="document_approved",
        domain_id="ekologi",
        doc_id="doc-1",
        recipients=["ann", "bo"],
        subject="Approved: Rapport",
        summary=SUMMARY,
        outcome="approved",
        extra={"score": 9.1},
    )


@pytest.fixture
def channel(webhook_receiver, monkeypatch) -> WebhookChannel:
    monkeypatch.setenv(SECRET_VAR, webhook_receiver.secret)
    return WebhookChannel(webhook_receiver.url, SECRET_VAR, timeout_s=5)


def test_webhook_channel_posts_signed_json_the_receiver_verifies(
    channel, webhook_receiver, notification
):
    """Check the receiver's own HMAC check accepts the request and gets the payload."""
    before = int(time.time())

    send_notification(channel, notification)

    [(headers, payload)] = webhook_receiver.received
    assert payload == {
        "version": 1,
        "delivery_id": notification.delivery_id,
        "event": "document_approved",
        "domain_id": "ekologi",
        "doc_id": "doc-1",
        "recipients": ["ann", "bo"],
        "subject": "Approved: Rapport",
        "summary": SUMMARY,
        "outcome": "approved",
        "extra": {"score": 9.1},
    }
    assert before <= int(headers["X-Heysh-Timestamp"]) <= time.time() + 1
    assert (headers["X-Heysh-Delivery"], headers["X-Heysh-Event"]) == (
        notification.delivery_id,
        "document_approved",
    )
    assert webhook_receiver.rejected == 0


def test_webhook_channel_wrong_secret_is_rejected_without_retry(
    channel, webhook_receiver, notification, monkeypatch
):
    """Check a receiver refusing the signature gives a non-retryable ConfigError."""
    monkeypatch.setenv(SECRET_VAR, "not-the-receivers-secret")

    with pytest.raises(
        NotificationRejectedError,
        match="answered 401; the receiver rejected the signature",
    ) as info:
        send_notification(channel, notification)

    assert isinstance(info.value, ConfigError)
    assert (webhook_receiver.rejected, webhook_receiver.received) == (1, [])


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (500, NotificationDeliveryError, "answered 500; will retry"),
        (503, NotificationDeliveryError, "answered 503; will retry"),
        (429, NotificationDeliveryError, "answered 429; will retry"),
        (404, NotificationRejectedError, "answered 404; check the webhook URL"),
        (400, NotificationRejectedError, "answered 400; fix the webhook configuration"),
        (301, NotificationRejectedError, "answered 301; the endpoint moved"),
    ],
)
def test_webhook_channel_status_decides_whether_to_retry(
    channel, webhook_receiver, notification, status, error, message
):
    """Check 5xx and 429 are retryable and other non-2xx statuses are not."""
    webhook_receiver.status = status

    with pytest.raises(error, match=message):
        channel.send(notification)


def test_webhook_channel_connection_refused_is_retryable(notification, monkeypatch):
    """Check a closed port gives a retryable NotificationDeliveryError."""
    monkeypatch.setenv(SECRET_VAR, "any-secret")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = WebhookChannel(f"http://127.0.0.1:{port}/hook", SECRET_VAR, timeout_s=5)

    with pytest.raises(
        NotificationDeliveryError,
        match=f"webhook http://127.0.0.1:{port} unreachable: ConnectError",
    ):
        channel.send(notification)


def test_webhook_channel_unset_secret_sends_nothing(
    webhook_receiver, notification, monkeypatch
):
    """Check a missing secret variable is a ConfigError and nothing is posted."""
    monkeypatch.delenv(SECRET_VAR, raising=False)
    channel = WebhookChannel(webhook_receiver.url, SECRET_VAR)

    with pytest.raises(
        NotificationRejectedError,
        match=f"webhook secret variable {SECRET_VAR} is not set",
    ):
        channel.send(notification)
    assert (webhook_receiver.received, webhook_receiver.rejected) == ([], 0)


def test_webhook_channel_never_logs_secret_or_summary(
    channel, webhook_receiver, notification, caplog
):
    """Check neither the secret nor the document summary reaches any log record."""
    caplog.set_level(logging.DEBUG)

    send_notification(channel, notification)

    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "notification_sent" in logged
    assert webhook_receiver.received
    assert webhook_receiver.secret not in logged
    assert "river ecology" not in logged
    assert webhook_receiver.secret not in repr(channel)
