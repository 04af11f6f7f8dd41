"""Webhook signatures: a known vector, and what a receiver must reject."""

from __future__ import annotations

import pytest

from heysh.notifications.signing import sign_payload, verify_signature

# Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac k
KNOWN = "sha256=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"


def test_sign_payload_matches_an_independent_hmac():
    """Check the signature equals one computed by openssl over timestamp.body."""
    assert sign_payload("k", "1700000000", b"{}") == KNOWN


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now", "accepted"),
    [
        ("k", "1700000000", b"{}", 1700000100, True),
        ("k", "1700000000", b"{}", 1700000301, False),  # Replayed 301 s later.
        ("k", "1700000000", b"{}", 1699999699, False),  # From the future.
        ("k", "1700000000", b'{"a":1}', 1700000000, False),  # Body changed.
        ("k", "1700000001", b"{}", 1700000001, False),  # Timestamp changed.
        ("other", "1700000000", b"{}", 1700000000, False),  # Wrong secret.
        ("k", "soon", b"{}", 1700000000, False),  # Not a timestamp.
    ],
)
def test_verify_signature_rejects_replays_and_tampering(
    secret, timestamp, body, now, accepted
):
    """Check only the original, recent, correctly keyed request is accepted."""
    assert verify_signature(secret, timestamp, body, KNOWN, now=now) is accepted
