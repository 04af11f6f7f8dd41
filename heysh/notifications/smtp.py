"""Notifications sent as plain-text e-mail through an SMTP server."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from heysh.errors import HeyshError
from heysh.notifications.errors import (
    NotificationDeliveryError,
    NotificationRejectedError,
)
from heysh.notifications.message import Notification

_logger = logging.getLogger(__name__)


class SmtpChannel:
    """Sends one e-mail per notification to its recipients (e-mail addresses).

    Args:
        host: SMTP server host.
        port: SMTP server port (587 for submission with STARTTLS).
        sender: The ``From`` address.
        use_starttls: Upgrade the connection with STARTTLS before anything
            else; required when credentials are used.
        username_env: Name of the variable holding the login, if any.
        password_env: Name of the variable holding the password, if any.
        timeout_s: Socket timeout.
        ca_file: A CA bundle to verify the server with instead of the
            system's (a private CA).

    Raises:
        NotificationRejectedError: Credentials without STARTTLS, or only one
            of the two credential variables named.
    """

    kind = "email"

    def __init__(
        self,
        host: str,
        port: int = 587,
        sender: str = "",
        use_starttls: bool = True,
        username_env: str | None = None,
        password_env: str | None = None,
        *,
        timeout_s: float = 10.0,
        ca_file: str | None = None,
    ) -> None:
        if bool(username_env) != bool(password_env):
            raise NotificationRejectedError(
                "SMTP credentials need both username_env and password_env, or neither"
            )
        if username_env and not use_starttls:
            raise NotificationRejectedError(
                "SMTP credentials would be sent in clear text; set use_starttls: true"
            )
        if "@" not in parseaddr(sender)[1]:
            raise NotificationRejectedError(f"SMTP sender {sender!r} is not an address")
        self.host = host
        self.port = port
        self.sender = sender
        self.use_starttls = use_starttls
        self.username_env = username_env
        self.password_env = password_env
        self.timeout_s = timeout_s
        self.ca_file = ca_file

    def __repr__(self) -> str:
        return (
            f"SmtpChannel(host={self.host!r}, port={self.port}, sender={self.sender!r})"
        )

    def send(self, notification: Notification) -> None:
        """Send the notification as one e-mail to all its recipients.

        A notification without recipients is skipped with a warning.

        Raises:
            NotificationDeliveryError: Connection refused or lost, timeout, or
                a 4xx SMTP reply.
            NotificationRejectedError: Bad credentials, STARTTLS unsupported or
                untrusted, a recipient that is not an address, or a 5xx reply.
        """
        if not notification.recipients:
            _logger.warning(
                "notification_skipped_no_recipients",
                extra={
                    "domain_id": notification.domain_id,
                    "doc_id": notification.doc_id,
                },
            )
            return
        message = self._message(notification)
        credentials = self._credentials()
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.ehlo()
                if self.use_starttls:
                    smtp.starttls(
                        context=ssl.create_default_context(cafile=self.ca_file)
                    )
                    smtp.ehlo()
                if credentials is not None:
                    smtp.login(*credentials)
                refused = smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as err:
            raise NotificationRejectedError(
                f"SMTP server {self.host}:{self.port} refused the login from "
                f"{self.username_env}/{self.password_env} ({err.smtp_code})"
            ) from err
        except smtplib.SMTPNotSupportedError as err:
            raise NotificationRejectedError(
                f"SMTP server {self.host}:{self.port} does not support {err}; "
                "check use_starttls and the port"
            ) from err
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            what = f"refused all {len(codes)} recipients (codes {sorted(set(codes))})"
            raise _reply_error(min(codes), what, self) from err
        except smtplib.SMTPResponseException as err:
            raise _reply_error(
                err.smtp_code, f"answered {err.smtp_code}", self
            ) from err
        except ssl.SSLError as err:
            raise NotificationRejectedError(
                f"TLS with SMTP server {self.host}:{self.port} failed: {err}; "
                "check the server certificate or ca_file"
            ) from err
        except (smtplib.SMTPException, OSError) as err:
            raise NotificationDeliveryError(
                f"SMTP server {self.host}:{self.port} unreachable: "
                f"{type(err).__name__}: {err}"
            ) from err
        if refused:
            _logger.warning(
                "email_recipients_refused",
                extra={"doc_id": notification.doc_id, "refused": len(refused)},
            )

    def _message(self, notification: Notification) -> EmailMessage:
        invalid = [r for r in notification.recipients if "@" not in parseaddr(r)[1]]
        if invalid:
            raise NotificationRejectedError(
                f"{len(invalid)} recipient(s) are not e-mail addresses (first: "
                f"{invalid[0]!r}); resolve user ids to addresses before sending"
            )
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(notification.recipients)
        message["Subject"] = notification.one_line_subject()
        message["Message-ID"] = make_msgid(domain="heysh")
        message["X-Heysh-Delivery"] = notification.delivery_id
        lines = [
            notification.summary,
            "",
            f"Outcome: {notification.outcome or 'pending'}",
            f"Document: {notification.doc_id}",
            f"Domain: {notification.domain_id}",
        ]
        message.set_content("\n".join(lines).strip() + "\n")
        return message

    def _credentials(self) -> tuple[str, str] | None:
        if not self.username_env or not self.password_env:
            return None
        username = os.environ.get(self.username_env, "")
        password = os.environ.get(self.password_env, "")
        missing = [
            name
            for name, value in (
                (self.username_env, username),
                (self.password_env, password),
            )
            if not value
        ]
        if missing:
            raise NotificationRejectedError(
                f"SMTP credential variable(s) {', '.join(missing)} not set; set them "
                "in the worker's environment"
            )
        return username, password


def _reply_error(code: int, what: str, channel: SmtpChannel) -> HeyshError:
    """A 4xx reply is temporary (retry); anything else is permanent."""
    where = f"SMTP server {channel.host}:{channel.port}"
    if 400 <= code < 500:
        return NotificationDeliveryError(f"{where} {what} (temporary); will retry")
    return NotificationRejectedError(f"{where} {what}; check the addresses and sender")
