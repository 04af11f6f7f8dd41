"""The embedded knowledge graph on Kùzu: documents, domains, topics, users.

Node tables ``Document``, ``Domain``, ``Topic`` and ``User``; relationship
tables ``IN_DOMAIN`` (Document→Domain), ``HAS_TOPIC`` (Document→Topic),
``UPLOADED`` and ``REVIEWED`` (User→Document). Upserts are ``MERGE``-based
and run in one transaction that first removes the document's relationships,
so a re-upsert replaces its topic set, uploader and reviewer.

Warning:
    Kùzu admits one process per database file; a second process fails to
    open it. The embedded graph is owned by the storage worker process: run
    one storage worker per graph folder, and point other processes (CLI,
    notebooks) at it only while no worker runs. Within the process, every
    call goes through one lock shared by all instances on the same folder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import kuzu

from heysh.errors import DataError, StoreUnavailableError
from heysh.stores.base import GraphDocument

_logger = logging.getLogger(__name__)

_DB_FILE = "graph.kuzu"

_SCHEMA = (
    "CREATE NODE TABLE IF NOT EXISTS Document("
    "id STRING, domain_id STRING, title STRING, PRIMARY KEY(id))",
    "CREATE NODE TABLE IF NOT EXISTS Domain(id STRING, PRIMARY KEY(id))",
    "CREATE NODE TABLE IF NOT EXISTS Topic(name STRING, PRIMARY KEY(name))",
    "CREATE NODE TABLE IF NOT EXISTS User(id STRING, PRIMARY KEY(id))",
    "CREATE REL TABLE IF NOT EXISTS IN_DOMAIN(FROM Document TO Domain)",
    "CREATE REL TABLE IF NOT EXISTS HAS_TOPIC(FROM Document TO Topic)",
    "CREATE REL TABLE IF NOT EXISTS UPLOADED(FROM User TO Document)",
    "CREATE REL TABLE IF NOT EXISTS REVIEWED(FROM User TO Document)",
)

# Clearing a document's relationships before writing the new ones.
_DETACH = (
    "MATCH (d:Document {id: $id})-[r:IN_DOMAIN]->(:Domain) DELETE r",
    "MATCH (d:Document {id: $id})-[r:HAS_TOPIC]->(:Topic) DELETE r",
    "MATCH (:User)-[r:UPLOADED]->(d:Document {id: $id}) DELETE r",
    "MATCH (:User)-[r:REVIEWED]->(d:Document {id: $id}) DELETE r",
)


@dataclass
class _SharedDatabase:
    database: kuzu.Database
    connection: kuzu.Connection
    lock: threading.RLock
    users: int


# Kùzu's file lock is per process, so a second Database on the same file in
# this process would open and race the first; every instance shares one.
_OPEN: dict[Path, _SharedDatabase] = {}
_OPEN_GUARD = threading.Lock()


def _acquire(folder: Path, buffer_pool_mb: int, max_threads: int) -> _SharedDatabase:
    with _OPEN_GUARD:
        shared = _OPEN.get(folder)
        if shared is None:
            folder.mkdir(parents=True, exist_ok=True)
            database = kuzu.Database(
                str(folder / _DB_FILE),
                buffer_pool_size=buffer_pool_mb * 1024 * 1024,
                max_num_threads=max_threads,
            )
            try:
                connection = kuzu.Connection(database)
                for statement in _SCHEMA:
                    connection.execute(statement)
            except BaseException:
                database.close()
                raise
            shared = _SharedDatabase(database, connection, threading.RLock(), 0)
            _OPEN[folder] = shared
        shared.users += 1
        return shared


def _release(folder: Path) -> None:
    with _OPEN_GUARD:
        shared = _OPEN.get(folder)
        if shared is None:
            return
        shared.users -= 1
        if shared.users == 0:
            with shared.lock:
                shared.connection.close()
                shared.database.close()
            del _OPEN[folder]


def _normalise_topics(topics: Sequence[str]) -> list[str]:
    """Strip, drop empty and de-duplicate topics, sorted.

    >>> _normalise_topics([" ml ", "", "AI", "ml"])
    ['AI', 'ml']
    """
    if isinstance(topics, str):
        raise DataError(f"topics must be a list of strings, got the string {topics!r}")
    cleaned = set()
    for topic in topics:
        if not isinstance(topic, str):
            raise DataError(f"topic {topic!r} is not a string")
        if topic.strip():
            cleaned.add(topic.strip())
    return sorted(cleaned)


class KuzuKnowledgeGraph:
    """A ``KnowledgeGraph`` in a local folder, with no server.

    Args:
        path: Folder holding the database file (``graph.kuzu``); created if
            missing.
        buffer_pool_mb: Kùzu's page cache. Its own default is most of the
            machine's memory, too much for a worker sharing a host.
        max_threads: Threads one query may use.

    Raises:
        StoreUnavailableError: The database cannot be opened, typically
            because another process holds it.
    """

    def __init__(
        self, path: str | Path, *, buffer_pool_mb: int = 256, max_threads: int = 2
    ) -> None:
        self._folder = Path(path).expanduser().resolve()
        try:
            self._shared = _acquire(self._folder, buffer_pool_mb, max_threads)
        except (RuntimeError, OSError) as err:
            raise StoreUnavailableError(
                f"cannot open the knowledge graph in {self._folder}: {err}. Only one "
                "process may open an embedded graph; it belongs to the storage worker"
            ) from err
        self._closed = False
        _logger.info("knowledge_graph_opened", extra={"path": str(self._folder)})

    @contextmanager
    def _connection(self) -> Iterator[kuzu.Connection]:
        if self._closed:
            raise StoreUnavailableError(
                f"the knowledge graph in {self._folder} was closed"
            )
        with self._shared.lock:
            yield self._shared.connection

    def _rows(self, query: str, parameters: dict[str, Any]) -> list[list[Any]]:
        with self._connection() as conn:
            # One statement gives one result; a list comes only from several.
            result = cast(kuzu.QueryResult, conn.execute(query, parameters))
            rows: list[list[Any]] = []
            while result.has_next():
                rows.append(list(result.get_next()))
            return rows

    def upsert_document(self, document: GraphDocument) -> None:
        """Create or replace a document with its domain, topics, uploader, reviewer.

        Empty ``uploader`` or ``reviewer`` means none. Topics are stripped and
        de-duplicated; empty ones are dropped.

        Raises:
            DataError: An id is empty, or a field or topic is not a string.
        """
        for name in ("doc_id", "domain_id"):
            value = getattr(document, name)
            if not isinstance(value, str) or not value:
                raise DataError(f"{name} must be a non-empty string, got {value!r}")
        for name in ("title", "uploader", "reviewer"):
            value = getattr(document, name)
            if not isinstance(value, str):
                raise DataError(f"{name} must be a string, got {value!r}")
        topics = _normalise_topics(document.topics)
        key = {"id": document.doc_id}
        with self._connection() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                conn.execute(
                    "MERGE (d:Document {id: $id}) "
                    "SET d.domain_id = $domain, d.title = $title",
                    {**key, "domain": document.domain_id, "title": document.title},
                )
                for statement in _DETACH:
                    conn.execute(statement, key)
                conn.execute(
                    "MERGE (m:Domain {id: $domain}) WITH m "
                    "MATCH (d:Document {id: $id}) CREATE (d)-[:IN_DOMAIN]->(m)",
                    {**key, "domain": document.domain_id},
                )
                if topics:
                    conn.execute(
                        "MATCH (d:Document {id: $id}) UNWIND $topics AS name "
                        "MERGE (t:Topic {name: name}) CREATE (d)-[:HAS_TOPIC]->(t)",
                        {**key, "topics": topics},
                    )
                for user, rel in (
                    (document.uploader, "UPLOADED"),
                    (document.reviewer, "REVIEWED"),
                ):
                    if user:
                        conn.execute(
                            f"MERGE (u:User {{id: $user}}) WITH u "
                            f"MATCH (d:Document {{id: $id}}) CREATE (u)-[:{rel}]->(d)",
                            {**key, "user": user},
                        )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        _logger.debug(
            "graph_document_upserted",
            extra={
                "doc_id": document.doc_id,
                "domain_id": document.domain_id,
                "topics": len(topics),
            },
        )

    def get_document(self, doc_id: str) -> GraphDocument | None:
        """Return the document with its topics sorted, or ``None`` if absent."""
        key = {"id": doc_id}
        with self._connection():
            found = self._rows(
                "MATCH (d:Document {id: $id}) RETURN d.domain_id, d.title", key
            )
            if not found:
                return None
            topics = self._rows(
                "MATCH (:Document {id: $id})-[:HAS_TOPIC]->(t:Topic) RETURN t.name", key
            )
            uploader = self._rows(
                "MATCH (u:User)-[:UPLOADED]->(:Document {id: $id}) RETURN u.id", key
            )
            reviewer = self._rows(
                "MATCH (u:User)-[:REVIEWED]->(:Document {id: $id}) RETURN u.id", key
            )
        domain_id, title = found[0]
        return GraphDocument(
            doc_id=doc_id,
            domain_id=domain_id,
            title=title or "",
            topics=tuple(sorted(row[0] for row in topics)),
            uploader=uploader[0][0] if uploader else "",
            reviewer=reviewer[0][0] if reviewer else "",
        )

    def related_documents(self, doc_id: str, limit: int = 10) -> list[tuple[str, int]]:
        """Documents of the same domain sharing topics with ``doc_id``.

        Returns:
            ``(doc_id, shared_topics)``, most shared first, ties by doc id;
            empty for an unknown document.
        """
        if limit < 1:
            raise DataError(f"limit ({limit}) must be at least 1")
        rows = self._rows(
            "MATCH (a:Document {id: $id})-[:HAS_TOPIC]->(t:Topic)<-[:HAS_TOPIC]-"
            "(b:Document) WHERE b.id <> a.id AND b.domain_id = a.domain_id "
            "RETURN b.id AS doc, count(DISTINCT t) AS shared "
            "ORDER BY shared DESC, doc LIMIT $limit",
            {"id": doc_id, "limit": limit},
        )
        return [(row[0], int(row[1])) for row in rows]

    def domain_topics(self, domain_id: str) -> list[tuple[str, int]]:
        """A domain's topics with their document counts, most frequent first
        (ties by topic name)."""
        rows = self._rows(
            "MATCH (m:Domain {id: $domain})<-[:IN_DOMAIN]-(d:Document)"
            "-[:HAS_TOPIC]->(t:Topic) "
            "RETURN t.name AS topic, count(DISTINCT d) AS n ORDER BY n DESC, topic",
            {"domain": domain_id},
        )
        return [(row[0], int(row[1])) for row in rows]

    def count_documents(self) -> int:
        """Number of documents in the graph, all domains together."""
        return int(self._rows("MATCH (d:Document) RETURN count(d)", {})[0][0])

    def close(self) -> None:
        """Release this handle; the database closes with its last handle."""
        if not self._closed:
            self._closed = True
            _release(self._folder)
