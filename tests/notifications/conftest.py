"""Real local servers on 127.0.0.1 for the notification channels."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

WEBHOOK_SECRET = "test-webhook-secret-9f2c"
SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-password-71ad"


@dataclass
class WebhookReceiver:
    """A webhook endpoint that checks signatures with its own HMAC code.

    Attributes:
        url: Where to post.
        secret: The secret it verifies with.
        status: The status it answers a correctly signed request with.
        received: ``(headers, parsed JSON body)`` of every accepted request.
        rejected: How many requests failed the signature check (answered 401).
    """

    url: str
    secret: str
    status: int = 204
    received: list[tuple[dict[str, str], Any]] = field(default_factory=list)
    rejected: int = 0


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers.get("X-Heysh-Timestamp", "")
            expected = (
                "sha256="
                + hmac.new(
                    receiver.secret.encode(),
                    f"{timestamp}.".encode() + body,
                    hashlib.sha256,
                ).hexdigest()
            )
            if not hmac.compare_digest(
                expected, self.headers.get("X-Heysh-Signature", "")
            ):
                receiver.rejected += 1
                self.send_response(401)
            else:
                receiver.received.append((dict(self.headers), json.loads(body)))
                self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # Keep test output quiet.
            pass

    return Handler


@pytest.fixture
def webhook_receiver() -> WebhookReceiver:
    """An HTTP server on 127.0.0.1 verifying heysh webhook signatures."""
    receiver = WebhookReceiver(url="", secret=WEBHOOK_SECRET)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/heysh"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailSink:
    """An aiosmtpd handler keeping messages; RCPT replies can be forced."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.rcpt_reply: str | None = None

    # aiosmtpd calls hooks by these exact names.
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    """A running SMTP server and what a client needs to use it."""

    host: str
    port: int
    sink: MailSink
    ca_file: str | None
    username: str = SMTP_USER
    password: str = SMTP_PASSWORD


@pytest.fixture(scope="session")
def certificate_authority(tmp_path_factory) -> tuple[trustme.CA, str]:
    """A throwaway CA and its PEM file, for STARTTLS on 127.0.0.1."""
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def _start_smtp(sink: MailSink, tls_context: ssl.SSLContext | None) -> Controller:
    kwargs: dict[str, Any] = {"authenticator": _authenticate, "auth_require_tls": True}
    if tls_context is not None:
        kwargs["tls_context"] = tls_context
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp_server(certificate_authority) -> SmtpServer:
    """An SMTP server on 127.0.0.1 offering STARTTLS and AUTH after it."""
    ca, ca_file = certificate_authority
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    sink = MailSink()
    controller = _start_smtp(sink, context)
    yield SmtpServer("127.0.0.1", controller.port, sink, ca_file)
    controller.stop()


@pytest.fixture
def plain_smtp_server() -> SmtpServer:
    """An SMTP server on 127.0.0.1 without STARTTLS."""
    sink = MailSink()
    controller = _start_smtp(sink, None)
    yield SmtpServer("127.0.0.1", controller.port, sink, None)
    controller.stop()
