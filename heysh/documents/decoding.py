"""Turn uploaded bytes into text, or refuse them with a reason.

Nothing is silently lost: bytes that are not valid UTF-8 are decoded as
cp1252 (a superset of Latin-1 for printable text, the usual culprit) and the
fallback is flagged; binary content is refused with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heysh.errors import DocumentError

# 50 MB: far above any text document we expect, well below worker memory.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024

# Share of control characters (other than tab, newline, carriage return, form
# feed) above which bytes are treated as binary rather than text.
_BINARY_CONTROL_SHARE = 0.10
_ALLOWED_CONTROLS = {9, 10, 12, 13}


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from bytes, with what was unusual about it."""

    text: str
    encoding: str
    flags: tuple[str, ...] = field(default=())


def decode_document_bytes(
    raw: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> DecodedText:
    """Decode an uploaded document.

    Args:
        raw: The document exactly as uploaded.
        max_bytes: Largest accepted size in bytes.

    Returns:
        The text; ``flags`` names any fallback (``non_utf8_decoded_as_cp1252``,
        ``utf8_bom_removed``) or ``empty_text``.

    Raises:
        DocumentError: if the document is larger than ``max_bytes`` or looks
            binary (NUL bytes or many control characters).

    >>> decode_document_bytes("Kärnkraft".encode("cp1252")).flags
    ('non_utf8_decoded_as_cp1252',)
    """
    if len(raw) > max_bytes:
        raise DocumentError(
            f"document is {len(raw):,} bytes, above the limit of {max_bytes:,}; "
            "split it or raise the limit (HEYSH_MAX_DOCUMENT_BYTES)"
        )
    if _looks_binary(raw):
        raise DocumentError(
            "document looks binary (NUL bytes or more than 10% control "
            "characters); upload its text, for example extracted from the PDF"
        )

    flags: list[str] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        flags.append("utf8_bom_removed")
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # cp1252 leaves five byte values undefined; Latin-1 maps every byte, so
        # it is the last resort that never fails.
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"
        flags.append(f"non_utf8_decoded_as_{encoding.replace('-', '')}")
    if not text.strip():
        flags.append("empty_text")
    return DecodedText(text=text, encoding=encoding, flags=tuple(flags))


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:65536]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in _ALLOWED_CONTROLS)
    return controls / len(sample) > _BINARY_CONTROL_SHARE
