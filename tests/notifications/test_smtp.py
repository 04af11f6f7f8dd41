"""The e-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import logging
import socket

import pytest

from heysh.notifications import (
    Notification,
    NotificationDeliveryError,
    NotificationRejectedError,
    SmtpChannel,
    send_notification,
)

USER_VAR, PASSWORD_VAR = "HEYSH_TEST_SMTP_USER", "HEYSH_TEST_SMTP_PASSWORD"
SENDER = "heysh@example.org"
SUMMARY = "Rapporten om åäö 🚀 مرحبا שלום is about river ecology."


def notification(**changes) -> Notification:
    values = dict(
        event="review_requested",
        domain_id="ekologi",
        doc_id="doc-1",
        recipients=("ann@example.org", "bo@example.org"),
        subject="Please review: Rapport",
        summary=SUMMARY,
        outcome="pending",
    )
    return Notification(**{**values, **changes})


@pytest.fixture
def channel(smtp_server, monkeypatch) -> SmtpChannel:
    """A channel using STARTTLS (trusting the test CA) and a login."""
    monkeypatch.setenv(USER_VAR, smtp_server.username)
    monkeypatch.setenv(PASSWORD_VAR, smtp_server.password)
    return SmtpChannel(
        smtp_server.host,
        smtp_server.port,
        SENDER,
        True,
        USER_VAR,
        PASSWORD_VAR,
        timeout_s=10,
        ca_file=smtp_server.ca_file,
    )


def test_smtp_channel_delivers_over_starttls_with_login(channel, smtp_server):
    """Check the server receives one e-mail with sender, recipients, subject, text."""
    send_notification(channel, notification())

    [(mail_from, rcpt_tos, raw)] = smtp_server.sink.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert (mail_from, rcpt_tos) == (SENDER, ["ann@example.org", "bo@example.org"])
    assert (message["From"], message["To"], message["Subject"]) == (
        SENDER,
        "ann@example.org, bo@example.org",
        "Please review: Rapport",
    )
    assert message.get_content().replace("\r\n", "\n") == (
        f"{SUMMARY}\n\nOutcome: pending\nDocument: doc-1\nDomain: ekologi\n"
    )


def test_smtp_channel_wrong_password_is_rejected_without_retry(
    channel, smtp_server, monkeypatch, caplog
):
    """Check refused credentials are a non-retryable error that never shows them."""
    monkeypatch.setenv(PASSWORD_VAR, "wrong-password-3b")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(
        NotificationRejectedError,
        match=f"refused the login from {USER_VAR}/{PASSWORD_VAR}",
    ) as info:
        channel.send(notification())

    assert "wrong-password-3b" not in str(info.value) + caplog.text
    assert smtp_server.sink.messages == []


def test_smtp_channel_connection_refused_is_retryable():
    """Check a closed port gives a retryable NotificationDeliveryError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = SmtpChannel("127.0.0.1", port, SENDER, use_starttls=False, timeout_s=5)

    with pytest.raises(
        NotificationDeliveryError, match="unreachable: ConnectionRefused"
    ):
        channel.send(notification())


def test_smtp_channel_starttls_unsupported_is_rejected(plain_smtp_server):
    """Check STARTTLS asked of a server without it is a configuration error."""
    channel = SmtpChannel(
        plain_smtp_server.host,
        plain_smtp_server.port,
        SENDER,
        use_starttls=True,
        timeout_s=5,
    )

    with pytest.raises(NotificationRejectedError, match="does not support STARTTLS"):
        channel.send(notification())
    assert plain_smtp_server.sink.messages == []


def test_smtp_channel_untrusted_certificate_is_rejected(smtp_server):
    """Check a server certificate from an untrusted CA stops delivery."""
    channel = SmtpChannel(
        smtp_server.host, smtp_server.port, SENDER, use_starttls=True, timeout_s=5
    )

    with pytest.raises(
        NotificationRejectedError, match=r"TLS with SMTP server .* failed"
    ):
        channel.send(notification())
    assert smtp_server.sink.messages == []


def test_smtp_channel_plain_relay_without_login_delivers(plain_smtp_server):
    """Check a local relay without TLS or login can be used when configured so."""
    channel = SmtpChannel(
        plain_smtp_server.host,
        plain_smtp_server.port,
        SENDER,
        use_starttls=False,
        timeout_s=5,
    )

    channel.send(notification(recipients=["cy@example.org"]))

    assert [m[1] for m in plain_smtp_server.sink.messages] == [["cy@example.org"]]


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        ("451 Try again later", NotificationDeliveryError, r"temporary\); will retry"),
        (
            "550 No such user",
            NotificationRejectedError,
            "check the addresses and sender",
        ),
    ],
)
def test_smtp_channel_refused_recipients_retry_only_on_4xx(
    plain_smtp_server, reply, error, message
):
    """Check a 4xx recipient refusal is retryable and a 5xx one is not."""
    plain_smtp_server.sink.rcpt_reply = reply
    channel = SmtpChannel(
        plain_smtp_server.host,
        plain_smtp_server.port,
        SENDER,
        use_starttls=False,
        timeout_s=5,
    )

    with pytest.raises(error, match=message):
        channel.send(notification())


def test_smtp_channel_recipients_that_are_not_addresses_are_rejected(plain_smtp_server):
    """Check user ids passed as recipients are refused before connecting."""
    channel = SmtpChannel(
        plain_smtp_server.host, plain_smtp_server.port, SENDER, use_starttls=False
    )

    with pytest.raises(
        NotificationRejectedError,
        match=r"1 recipient\(s\) are not e-mail "
        r"addresses \(first: 'bo'\)",
    ):
        channel.send(notification(recipients=["ann@example.org", "bo"]))
    assert plain_smtp_server.sink.messages == []


def test_smtp_channel_without_recipients_sends_nothing_and_warns(
    plain_smtp_server, caplog
):
    """Check a notification with no recipients is skipped with a warning."""
    channel = SmtpChannel(
        plain_smtp_server.host, plain_smtp_server.port, SENDER, use_starttls=False
    )

    channel.send(notification(recipients=()))

    assert plain_smtp_server.sink.messages == []
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "notification_skipped_no_recipients"
    ]


def test_smtp_channel_subject_line_breaks_cannot_add_headers(plain_smtp_server):
    """Check a subject with CR/LF stays one header and injects no Bcc."""
    channel = SmtpChannel(
        plain_smtp_server.host, plain_smtp_server.port, SENDER, use_starttls=False
    )

    channel.send(notification(subject="Hello\r\nBcc: eve@example.org"))

    [(_, rcpt_tos, raw)] = plain_smtp_server.sink.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert (message["Subject"], message["Bcc"]) == ("Hello Bcc: eve@example.org", None)
    assert rcpt_tos == ["ann@example.org", "bo@example.org"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"use_starttls": False, "username_env": "U", "password_env": "P"},
            "would be sent in clear text",
        ),
        ({"username_env": "U"}, "need both username_env and password_env"),
        ({"sender": "heysh"}, "SMTP sender 'heysh' is not an address"),
    ],
)
def test_smtp_channel_unsafe_configuration_raises(kwargs, message):
    """Check clear-text credentials, half credentials and a bad sender are refused."""
    with pytest.raises(NotificationRejectedError, match=message):
        SmtpChannel(**{"host": "127.0.0.1", "port": 25, "sender": SENDER, **kwargs})
