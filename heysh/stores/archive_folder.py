"""Rejected documents archived in a local folder, one subfolder per domain.

Each document is a body file plus a JSON manifest holding its metadata,
written atomically; ids are encoded into safe file names.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from heysh.errors import DataError, StoreUnavailableError
from heysh.stores._folder import (
    MANIFEST_SUFFIX,
    ManifestedFiles,
    decode_name,
    encode_name,
    resolve_inside,
)

_logger = logging.getLogger(__name__)


class FolderArchive:
    """An ``Archive`` in a local folder.

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
                f"cannot create archive folder {self._root}: {err}"
            ) from err
        self._files = ManifestedFiles(self._root)

    def _manifest_path(self, domain_id: str, doc_id: str) -> Path:
        return resolve_inside(
            self._root,
            encode_name(domain_id, "domain_id"),
            encode_name(doc_id, "doc_id") + MANIFEST_SUFFIX,
        )

    def archive(
        self, domain_id: str, doc_id: str, body: bytes, metadata: Mapping[str, Any]
    ) -> None:
        """Archive a document; archiving it again replaces body and metadata.

        Args:
            metadata: JSON values only (strings, numbers, booleans, None,
                lists, dicts with string keys); they come back unchanged.

        Raises:
            DataError: An id is empty or ``.``/``..``, or metadata is not JSON.
        """
        if not isinstance(body, bytes | bytearray | memoryview):
            raise DataError(f"archived body must be bytes, got {type(body).__name__}")
        if not isinstance(metadata, Mapping):
            raise DataError(
                f"metadata must be a mapping, got {type(metadata).__name__}"
            )
        path = self._manifest_path(domain_id, doc_id)
        fields = {"domain_id": domain_id, "doc_id": doc_id, "metadata": dict(metadata)}
        self._files.write(path, bytes(body), fields)
        _logger.info(
            "document_archived",
            extra={"domain_id": domain_id, "doc_id": doc_id, "size_bytes": len(body)},
        )

    def retrieve(
        self, domain_id: str, doc_id: str
    ) -> tuple[bytes, dict[str, Any]] | None:
        """Return ``(body, metadata)`` of an archived document, or ``None``."""
        found = self._files.read(self._manifest_path(domain_id, doc_id))
        if found is None:
            return None
        body, manifest = found
        return body, manifest["metadata"]

    def list_ids(self, domain_id: str) -> list[str]:
        """Return the ids archived in a domain, sorted."""
        folder = resolve_inside(self._root, encode_name(domain_id, "domain_id"))
        if not folder.is_dir():
            return []
        names = (p.name for p in folder.iterdir() if p.name.endswith(MANIFEST_SUFFIX))
        return sorted(
            decode_name(name[: -len(MANIFEST_SUFFIX)])
            for name in names
            if not name.startswith(".")
        )
