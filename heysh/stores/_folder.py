"""Safe file names and crash-safe body-plus-manifest writes for folder stores.

A stored object is two files: a body named after its content hash and a JSON
manifest naming that body. Both are written to a temporary file and renamed
into place (``os.replace`` is atomic on POSIX and Windows), body first, so a
reader sees either the old object or the new one, never half of each.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from heysh.errors import DataError

_SAFE = frozenset(string.ascii_letters + string.digits + "-_.")
# Leaves room for the body suffix ("@<16 hex>.body") within 255-byte names.
MAX_ENCODED_NAME = 200
# "@" never occurs in an encoded name, so these suffixes cannot collide with a
# folder or file named after an id ("a@manifest.json" versus folder "a.json").
MANIFEST_SUFFIX = "@manifest.json"
_BODY_SUFFIX = ".body"


def encode_name(value: str, what: str) -> str:
    """Turn any non-empty string into one safe, reversible file name.

    Characters outside ``A-Z a-z 0-9 - _ .`` become ``%XX`` (UTF-8 bytes), and
    so does a leading dot, so no name is hidden, ``.`` or ``..``, and none
    contains a path separator.

    Args:
        value: The id or key segment.
        what: What ``value`` is, for the error message.

    Raises:
        DataError: ``value`` is empty, is ``.`` or ``..``, or is too long.

    >>> encode_name("Rapport 2024/åäö", "doc_id")
    'Rapport%202024%2F%C3%A5%C3%A4%C3%B6'
    >>> encode_name(".env", "doc_id")
    '%2Eenv'
    """
    if not isinstance(value, str) or not value:
        raise DataError(f"{what} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise DataError(f"{what} {value!r} would escape the store folder")
    encoded = "".join(
        ch if ch in _SAFE else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in value
    )
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    if len(encoded) > MAX_ENCODED_NAME:
        raise DataError(
            f"{what} is too long for a file name ({len(encoded)} characters once "
            f"encoded, at most {MAX_ENCODED_NAME}); use a shorter id"
        )
    return encoded


def decode_name(name: str) -> str:
    """Invert :func:`encode_name`.

    >>> decode_name("%2Eenv")
    '.env'
    """
    return unquote(name, errors="strict")


def resolve_inside(root: Path, *names: str) -> Path:
    """Join encoded names under ``root``, refusing anything that leaves it."""
    path = root.joinpath(*names)
    if os.path.commonpath([root, os.path.normpath(path)]) != str(root):
        raise DataError(f"{'/'.join(names)!r} would escape the store folder")
    return path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(folder: Path) -> None:
    # Makes the rename itself durable; not possible on Windows.
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class ManifestedFiles:
    """Body-and-manifest pairs under one folder, written atomically.

    Writes are serialised by a lock inside the process; concurrent writers in
    several processes cannot corrupt an object, but may leave an unreferenced
    old body behind.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def write(self, manifest_path: Path, body: bytes, fields: dict[str, Any]) -> None:
        """Store ``body`` and a manifest holding ``fields`` plus hash, size, time.

        Raises:
            DataError: ``fields`` cannot be written as JSON.
        """
        digest = hashlib.sha256(body).hexdigest()
        stem = manifest_path.name[: -len(MANIFEST_SUFFIX)]
        body_path = manifest_path.with_name(f"{stem}@{digest[:16]}{_BODY_SUFFIX}")
        manifest = {
            **fields,
            "body_file": body_path.name,
            "sha256": digest,
            "size_bytes": len(body),
            "stored_at": datetime.now(UTC).isoformat(),
        }
        try:
            encoded = json.dumps(manifest, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as err:
            raise DataError(f"metadata cannot be stored as JSON: {err}") from None

        with self._lock:
            previous = self._read_manifest(manifest_path)
            atomic_write(body_path, body)
            atomic_write(manifest_path, encoded)
            if previous is not None and previous["body_file"] != body_path.name:
                manifest_path.with_name(previous["body_file"]).unlink(missing_ok=True)

    def read(self, manifest_path: Path) -> tuple[bytes, dict[str, Any]] | None:
        """Return ``(body, manifest)``, or ``None`` if nothing is stored there.

        Raises:
            DataError: The body does not match the hash in its manifest.
        """
        # A writer may replace the manifest and remove the old body between
        # our two reads; the manifest read again then names the new body.
        for _ in range(3):
            manifest = self._read_manifest(manifest_path)
            if manifest is None:
                return None
            try:
                body = manifest_path.with_name(manifest["body_file"]).read_bytes()
            except FileNotFoundError:
                continue
            if hashlib.sha256(body).hexdigest() != manifest["sha256"]:
                raise DataError(
                    f"stored body of {manifest_path.name} does not match its recorded "
                    "SHA-256; the file was changed outside heysh"
                )
            return body, manifest
        raise DataError(f"{manifest_path.name} names a body file that is missing")

    @staticmethod
    def _read_manifest(manifest_path: Path) -> dict[str, Any] | None:
        try:
            raw = manifest_path.read_bytes()
        except FileNotFoundError:
            return None
        manifest: dict[str, Any] = json.loads(raw)
        return manifest
