"""A content-addressed store of text embeddings in one SQLite file.

Embeddings are keyed by ``sha256(model id, window settings, text)`` (see
:func:`embedding_key`), so a key names exactly one vector and any process that
computes it computes the same one. Several processes (notebook kernels, AI
workers on one host) may share the file: it runs in WAL mode with a busy
timeout, and writes are ``INSERT OR IGNORE``, so concurrent writers of the same
key cannot conflict.

Nothing touches the disk until the first ``get_many`` or ``put_many``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heysh.errors import ModelError
from heysh.sqlite_wal import switch_to_wal

_logger = logging.getLogger(__name__)

# SQLite's default limit on host parameters per statement is 32,766 since 3.32;
# 500 keeps old builds working and costs nothing measurable.
_KEYS_PER_QUERY = 500

# Seconds a writer waits for another process's transaction before failing.
_BUSY_TIMEOUT_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key TEXT PRIMARY KEY,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL
) WITHOUT ROWID
"""


def embedding_key(
    model_id: str, text: str, *, max_words: int, overlap_words: int
) -> str:
    """Return the cache key of ``text`` embedded by ``model_id`` with these windows.

    Args:
        model_id: The embedding model's stable identifier.
        text: The text as the encoder embeds it.
        max_words: Words per window.
        overlap_words: Words shared by consecutive windows.

    Returns:
        64 hexadecimal characters.

    >>> len(embedding_key("m", "hello", max_words=160, overlap_words=32))
    64
    """
    digest = hashlib.sha256()
    for part in (model_id, f"w{max_words}o{overlap_words}", text):
        encoded = part.encode("utf-8")
        # Length-prefixed parts: ("ab", "c") and ("a", "bc") hash differently.
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


def embedding_cache_path(home: Path) -> Path:
    """Return where heysh keeps the shared embedding cache under ``home``."""
    return home / "cache" / "embeddings.sqlite"


class EmbeddingCache:
    """Float32 vectors in a SQLite file, looked up by :func:`embedding_key`.

    Safe to share between threads of a process and between processes. Each
    process opens its own connection on first use (a fork gets a fresh one).

    Args:
        path: The SQLite file; it and its folder are created on first use.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._connection_pid: int | None = None

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._path

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Return the stored vectors of those ``keys`` that are present.

        Args:
            keys: Keys from :func:`embedding_key`; duplicates are fine.

        Returns:
            Key to a read-only float32 vector, for the keys found only.
        """
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        if not unique:
            return found
        with self._lock:
            connection = self._connect()
            for start in range(0, len(unique), _KEYS_PER_QUERY):
                chunk = unique[start : start + _KEYS_PER_QUERY]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, dim, blob in rows:
                    vector = np.frombuffer(blob, dtype="<f4")
                    if vector.shape != (dim,):
                        raise ModelError(
                            f"embedding cache {self._path} holds a corrupt vector "
                            f"for key {key} ({vector.size} values, {dim} expected); "
                            "delete the file to rebuild it"
                        )
                    found[key] = vector
        return found

    def put_many(
        self, items: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]]
    ) -> int:
        """Store vectors; a key already present keeps its vector.

        Args:
            items: Key to 1-D vector, as a mapping or pairs; stored as float32.

        Returns:
            How many items were offered (present keys included).
        """
        pairs = items.items() if isinstance(items, Mapping) else items
        rows: list[tuple[str, int, bytes]] = []
        for key, vector in pairs:
            flat = np.asarray(vector, dtype="<f4")
            if flat.ndim != 1:
                raise ModelError(
                    f"embedding for key {key} has shape {flat.shape}; "
                    "the cache stores 1-D vectors"
                )
            rows.append((key, int(flat.shape[0]), flat.tobytes()))
        if not rows:
            return 0
        with self._lock:
            connection = self._connect()
            with connection:
                connection.executemany(
                    "INSERT OR IGNORE INTO embeddings (key, dim, vector) "
                    "VALUES (?, ?, ?)",
                    rows,
                )
        _logger.debug("embeddings_cached", extra={"count": len(rows)})
        return len(rows)

    def __len__(self) -> int:
        with self._lock:
            (count,) = (
                self._connect().execute("SELECT COUNT(*) FROM embeddings").fetchone()
            )
        return int(count)

    def close(self) -> None:
        """Close this process's connection; the next call reopens it."""
        with self._lock:
            if self._connection is not None and self._connection_pid == os.getpid():
                self._connection.close()
            self._connection = None
            self._connection_pid = None

    def __getstate__(self) -> dict[str, Any]:
        # A connection cannot cross a pickle; the copy reconnects on first use.
        return {"path": self._path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]  # re-run the constructor

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self._path)!r})"

    def _connect(self) -> sqlite3.Connection:
        """Return this process's connection, opening the file on first use."""
        if self._connection is not None and self._connection_pid == os.getpid():
            return self._connection
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self._path, timeout=_BUSY_TIMEOUT_S, check_same_thread=False
            )
            connection.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
            switch_to_wal(connection, _BUSY_TIMEOUT_S)  # the pragma ignores the timeout
            connection.execute("PRAGMA synchronous = NORMAL")
            with connection:
                connection.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise ModelError(
                f"cannot open the embedding cache {self._path}: {err}; check that "
                "the folder is writable or pass no cache"
            ) from err
        self._connection = connection
        self._connection_pid = os.getpid()
        _logger.debug("embedding_cache_opened", extra={"path": str(self._path)})
        return connection
