"""Document bodies as files in a local folder, keyed by slash-separated keys.

A key such as ``domain/doc-id/original`` becomes nested folders; each part
is encoded into a safe file name, so no key can reach outside the root. Each
body has a JSON manifest beside it (SHA-256, size, time of writing).
"""

from __future__ import annotations

import logging
from pathlib import Path

from heysh.errors import DataError, StoreUnavailableError
from heysh.stores._folder import (
    MANIFEST_SUFFIX,
    ManifestedFiles,
    encode_name,
    resolve_inside,
)

_logger = logging.getLogger(__name__)


class FolderBlobStore:
    """A ``BlobStore`` in a local folder (shared storage when workers are many).

    Args:
        root: The folder; created if missing.

    Raises:
        StoreUnavailableError: The folder cannot be created.
    """

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).expanduser().resolve()
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreUnavailableError(
                f"cannot create blob folder {self._root}: {err}"
            ) from err
        self._files = ManifestedFiles(self._root)

    def _manifest_path(self, key: str) -> Path:
        if not isinstance(key, str) or not key:
            raise DataError(f"blob key must be a non-empty string, got {key!r}")
        parts = key.split("/")
        if any(part == "" for part in parts):
            raise DataError(
                f"blob key {key!r} has an empty part (a leading, trailing or double "
                "slash); use keys like 'domain/doc-id'"
            )
        names = [encode_name(part, "blob key part") for part in parts]
        names[-1] += MANIFEST_SUFFIX
        return resolve_inside(self._root, *names)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically, replacing any earlier body.

        Raises:
            DataError: The key is empty, has an empty part, or a ``.``/``..`` part.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise DataError(f"blob data must be bytes, got {type(data).__name__}")
        self._files.write(self._manifest_path(key), bytes(data), {"key": key})
        _logger.debug("blob_stored", extra={"size_bytes": len(data)})

    def get(self, key: str) -> bytes:
        """Return the body stored under ``key``.

        Raises:
            DataError: Nothing is stored under ``key``, or the body was altered.
        """
        found = self._files.read(self._manifest_path(key))
        if found is None:
            raise DataError(f"no blob is stored under key {key!r}")
        return found[0]

    def exists(self, key: str) -> bool:
        """Return whether a body is stored under ``key``."""
        return self._manifest_path(key).is_file()
