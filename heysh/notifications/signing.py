"""HMAC-SHA256 signatures of webhook bodies, for senders and receivers.

The signed message is ``<timestamp>.<body>``: a receiver that checks the
signature and rejects old timestamps cannot be fed a replayed request.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Heysh-Signature"
TIMESTAMP_HEADER = "X-Heysh-Timestamp"
DELIVERY_HEADER = "X-Heysh-Delivery"
EVENT_HEADER = "X-Heysh-Event"

_PREFIX = "sha256="


def sign_payload(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``.

    Args:
        secret: The shared secret.
        timestamp: Unix seconds as sent in ``X-Heysh-Timestamp``.
        body: The exact request body.

    Returns:
        ``sha256=<hex digest>``.

    >>> sign_payload("k", "1700000000", b"{}")[:15]
    'sha256=c6ef4734'
    """
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256)
    return _PREFIX + digest.hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """Return whether a request is authentic and recent.

    Args:
        secret: The shared secret.
        timestamp: The ``X-Heysh-Timestamp`` header.
        body: The raw request body.
        signature: The ``X-Heysh-Signature`` header.
        tolerance_s: Largest accepted clock difference, in seconds.
        now: The current Unix time; defaults to the clock.

    >>> sig = sign_payload("k", "100", b"x")
    >>> verify_signature("k", "100", b"x", sig, now=150)
    True
    >>> verify_signature("k", "100", b"x", sig, now=1000)
    False
    """
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    expected = sign_payload(secret, timestamp, body)
    return hmac.compare_digest(expected, signature)
