"""The embedded vector index on LanceDB: cosine search isolated per domain.

One Lance table holds every domain; each search is pre-filtered to one
domain, and each write is a ``merge_insert`` keyed by ``(domain_id, doc_id)``.
The table is created at the first write with that record's vector length.

Warning:
    Lance resolves concurrent commits optimistically, but heysh serialises
    writes with a lock inside one process only. The embedded index is owned by
    the storage worker process; other processes (CLI, notebooks) should read
    it, not write it, while a worker runs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import pyarrow as pa

from heysh.errors import DataError, StoreUnavailableError
from heysh.stores.base import BatchFailure, VectorHit, VectorRecord
from heysh.stores.validation import find_vector_record_problem, split_valid_records

_logger = logging.getLogger(__name__)

_TABLE = "documents"
_KEY = ["domain_id", "doc_id"]

# One write lock per index folder, shared by every instance in this process.
_LOCKS: dict[Path, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.RLock())


def _sql_string(value: str) -> str:
    """Quote ``value`` as a SQL string literal for a Lance filter.

    >>> _sql_string("o'brien")
    "'o''brien'"
    """
    if "\x00" in value:
        raise DataError("ids must not contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def _schema(dimension: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("domain_id", pa.string(), nullable=False),
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("text", pa.large_string(), nullable=False),
            pa.field("metadata_json", pa.large_string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dimension), nullable=False),
        ]
    )


class LanceVectorIndex:
    """A ``VectorIndex`` in a local folder, with no server.

    Args:
        path: Folder of the Lance database; created if missing.

    Raises:
        StoreUnavailableError: The folder cannot be created or opened.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path).expanduser().resolve()
        self._lock = _lock_for(self._path)
        try:
            self._path.mkdir(parents=True, exist_ok=True)
            # Interval 0: every read sees writes committed by other handles.
            self._db = lancedb.connect(
                str(self._path), read_consistency_interval=timedelta(0)
            )
            self._table = self._open_table()
        except OSError as err:
            raise StoreUnavailableError(
                f"cannot open the vector index folder {self._path}: {err}"
            ) from err
        self._closed = False
        _logger.info("vector_index_opened", extra={"path": str(self._path)})

    def _open_table(self) -> Any:
        if _TABLE in self._db.list_tables().tables:
            return self._db.open_table(_TABLE)
        return None

    @property
    def dimension(self) -> int | None:
        """The vector length of this index, or ``None`` before the first write."""
        if self._table is None:
            return None
        return int(self._table.schema.field("vector").type.list_size)

    # Writes.

    def upsert(self, record: VectorRecord) -> None:
        """Insert or replace one document's vector, text and metadata.

        Raises:
            DataError: The record is invalid (see ``heysh.stores.validation``).
        """
        self._check_open()
        with self._lock:
            problem = find_vector_record_problem(record, self._ensure_table_handle())
            if problem is not None:
                raise DataError(
                    f"cannot index document {record.doc_id!r} of domain "
                    f"{record.domain_id!r}: {problem}"
                )
            self._merge([record])

    def upsert_batch(self, records: Sequence[VectorRecord]) -> list[BatchFailure]:
        """Insert or replace many records; return each invalid one with its reason.

        Valid records are written in one merge even when others fail.

        Raises:
            StoreUnavailableError: The write itself failed (nothing was stored).
        """
        self._check_open()
        with self._lock:
            valid, failures = split_valid_records(records, self._ensure_table_handle())
            if valid:
                self._merge(valid)
        if failures:
            _logger.warning(
                "vector_batch_rejected_records",
                extra={
                    "rejected": len(failures),
                    "stored": len(valid),
                    "doc_ids": [f.doc_id for f in failures][:20],
                },
            )
        return failures

    def _ensure_table_handle(self) -> int | None:
        # Another instance on the same folder may have created the table.
        if self._table is None:
            self._table = self._open_table()
        return self.dimension

    def _merge(self, records: Sequence[VectorRecord]) -> None:
        dimension = self.dimension or len(records[0].vector)
        rows = [
            {
                "domain_id": r.domain_id,
                "doc_id": r.doc_id,
                "text": r.text,
                "metadata_json": json.dumps(dict(r.metadata), ensure_ascii=False),
                "vector": [float(x) for x in r.vector],
            }
            for r in records
        ]
        data = pa.Table.from_pylist(rows, schema=_schema(dimension))
        try:
            if self._table is None:
                self._table = self._db.create_table(
                    _TABLE, schema=_schema(dimension), exist_ok=True
                )
            (
                self._table.merge_insert(_KEY)
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(data)
            )
        except (OSError, RuntimeError) as err:
            raise StoreUnavailableError(
                f"writing {len(rows)} vectors to {self._path} failed: {err}"
            ) from err
        _logger.debug("vectors_upserted", extra={"count": len(rows)})

    def delete(self, domain_id: str, doc_id: str) -> None:
        """Remove a document; deleting one that is absent does nothing."""
        self._check_open()
        with self._lock:
            if self._ensure_table_handle() is None:
                return
            self._table.delete(_match(domain_id, doc_id))

    # Reads.

    def get(self, domain_id: str, doc_id: str) -> VectorRecord | None:
        """Return the stored record (vector as 32-bit floats), or ``None``."""
        self._check_open()
        if self._ensure_table_handle() is None:
            return None
        rows = self._table.search().where(_match(domain_id, doc_id)).limit(1).to_list()
        if not rows:
            return None
        row = rows[0]
        return VectorRecord(
            doc_id=row["doc_id"],
            domain_id=row["domain_id"],
            vector=[float(x) for x in row["vector"]],
            text=row["text"],
            metadata=json.loads(row["metadata_json"]),
        )

    def search(
        self, domain_id: str, vector: Sequence[float], limit: int = 10
    ) -> list[VectorHit]:
        """Return ``domain_id``'s documents closest to ``vector`` by cosine.

        Exact search: the domain filter runs before the nearest-neighbour scan,
        so a domain never sees another's documents and never gets fewer than
        ``limit`` hits while it holds more.

        Raises:
            DataError: ``vector`` is invalid or ``limit`` is below 1.
        """
        self._check_open()
        if limit < 1:
            raise DataError(f"limit ({limit}) must be at least 1")
        dimension = self._ensure_table_handle()
        probe = VectorRecord(doc_id="query", domain_id=domain_id or "?", vector=vector)
        problem = find_vector_record_problem(probe, dimension)
        if problem is not None:
            raise DataError(f"cannot search with this query vector: {problem}")
        if dimension is None:
            return []
        rows = (
            self._table.search([float(x) for x in vector])
            .distance_type("cosine")
            .where(f"domain_id = {_sql_string(domain_id)}", prefilter=True)
            .select(["domain_id", "doc_id", "metadata_json", "_distance"])
            .limit(limit)
            .to_list()
        )
        hits = [
            VectorHit(
                doc_id=row["doc_id"],
                domain_id=row["domain_id"],
                similarity=1.0 - float(row["_distance"]),
                metadata=json.loads(row["metadata_json"]),
            )
            for row in rows
        ]
        hits.sort(key=lambda hit: (-hit.similarity, hit.doc_id))
        return hits

    def count(self, domain_id: str | None = None) -> int:
        """Number of documents in one domain, or in the whole index."""
        self._check_open()
        if self._ensure_table_handle() is None:
            return 0
        if domain_id is None:
            return int(self._table.count_rows())
        return int(self._table.count_rows(f"domain_id = {_sql_string(domain_id)}"))

    def close(self) -> None:
        """Release the table; later calls raise ``StoreUnavailableError``."""
        self._closed = True
        self._table = None

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailableError(f"the vector index at {self._path} was closed")


def _match(domain_id: str, doc_id: str) -> str:
    return f"domain_id = {_sql_string(domain_id)} AND doc_id = {_sql_string(doc_id)}"
