"""The production knowledge graph on a Neo4j server, through the ``neo4j`` driver.

The same graph as the embedded Kùzu adapter: ``(:Document {id, domain_id,
title})``, ``(:Domain {id})``, ``(:Topic {name})``, ``(:User {id})``, joined by
``IN_DOMAIN``, ``HAS_TOPIC``, ``UPLOADED`` and ``REVIEWED``.

Uniqueness constraints on the four keys are created at start-up
(``IF NOT EXISTS``, so every worker may run them). Writes are ``MERGE`` on
those keys inside managed transactions (``session.execute_write``): the
driver retries a transaction that fails with a transient error, deadlocks
included, or on a lost connection, for up to ``retry_timeout_s``. A document's
upsert (one Cypher statement) first bumps its ``version`` property, which
takes the node's write lock for the rest of the transaction, so concurrent
upserts of one document run one after the other and the last one's
relationships are the only ones left.

The driver keeps a connection pool and replaces connections broken by a
server restart; reads also run as managed transactions, so they are retried
the same way.

URL: ``bolt://HOST:7687`` or ``neo4j://HOST:7687`` (``+s`` / ``+ssc`` for TLS),
with credentials as the URL's user and password or as arguments, and an
optional ``?database=NAME``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import neo4j
from neo4j import GraphDatabase, ManagedTransaction
from neo4j.exceptions import (
    AuthError,
    ConfigurationError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from heysh.errors import ConfigError, DataError, StoreUnavailableError
from heysh.stores.base import GraphDocument

_logger = logging.getLogger(__name__)

SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

_CONSTRAINTS = (
    "CREATE CONSTRAINT heysh_document_id IF NOT EXISTS "
    "FOR (n:Document) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT heysh_domain_id IF NOT EXISTS "
    "FOR (n:Domain) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT heysh_topic_name IF NOT EXISTS "
    "FOR (n:Topic) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT heysh_user_id IF NOT EXISTS FOR (n:User) REQUIRE n.id IS UNIQUE",
)

# An upsert is one statement (one round trip). Its first clause changes a
# property on every call, which takes the document's write lock before the old
# relationships are read and deleted.
_UPSERT_DOCUMENT = """
MERGE (d:Document {id: $id})
SET d.version = coalesce(d.version, 0) + 1, d.domain_id = $domain, d.title = $title
WITH d
OPTIONAL MATCH (d)-[old:IN_DOMAIN|HAS_TOPIC]->()
DELETE old
WITH DISTINCT d
OPTIONAL MATCH (d)<-[old:UPLOADED|REVIEWED]-()
DELETE old
WITH DISTINCT d
MERGE (m:Domain {id: $domain})
CREATE (d)-[:IN_DOMAIN]->(m)
FOREACH (name IN $topics | MERGE (t:Topic {name: name}) CREATE (d)-[:HAS_TOPIC]->(t))
FOREACH (user IN $uploaders | MERGE (u:User {id: user}) CREATE (u)-[:UPLOADED]->(d))
FOREACH (user IN $reviewers | MERGE (u:User {id: user}) CREATE (u)-[:REVIEWED]->(d))
"""


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


def split_neo4j_url(url: str) -> tuple[str, str | None, str | None, str | None]:
    """Split a Neo4j URL into ``(driver_uri, user, password, database)``.

    Raises:
        ConfigError: The scheme is not a Neo4j one or the host is missing.

    >>> split_neo4j_url("bolt://neo4j:pw@127.0.0.1:57687?database=heysh")
    ('bolt://127.0.0.1:57687', 'neo4j', 'pw', 'heysh')
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- parsing the port validates it.
    except ValueError as err:
        raise ConfigError(f"invalid Neo4j URL: {err}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError(
            f"expected {'|'.join(SCHEMES)}://HOST:PORT, got scheme {parts.scheme!r} "
            f"and host {parts.hostname!r}"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"database"}
    if unknown:
        raise ConfigError(
            f"unknown Neo4j URL parameters {sorted(unknown)}; known: database"
        )
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:  # IPv6 literal.
        netloc = f"[{parts.hostname}]" + (
            "" if parts.port is None else f":{parts.port}"
        )
    uri = urlunsplit((parts.scheme, netloc, "", "", ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return uri, user, password, query.get("database")


class Neo4jKnowledgeGraph:
    """A ``KnowledgeGraph`` on a Neo4j server.

    Args:
        url: ``bolt://HOST:PORT`` or ``neo4j://HOST:PORT`` (see the module
            docstring); credentials in the URL are used unless ``user`` and
            ``password`` are given.
        user: User name; with neither this nor a URL user, no authentication.
        password: The user's password.
        retry_timeout_s: How long the driver retries a transaction on transient
            errors and lost connections before giving up.

    Raises:
        ConfigError: The URL is invalid or the credentials are refused.
        StoreUnavailableError: The server cannot be reached, or the
            constraints cannot be created.
    """

    def __init__(
        self,
        url: str,
        user: str | None = None,
        password: str | None = None,
        *,
        retry_timeout_s: float = 90.0,
    ) -> None:
        uri, url_user, url_password, database = split_neo4j_url(url)
        user = user if user is not None else url_user
        password = password if password is not None else url_password
        auth = (user, password or "") if user else None
        self._uri = uri
        self._database = database
        self._closed = False
        try:
            self._driver = GraphDatabase.driver(
                uri,
                auth=auth,
                max_transaction_retry_time=retry_timeout_s,
                connection_acquisition_timeout=retry_timeout_s,
                max_connection_pool_size=50,
            )
        except (ConfigurationError, ValueError) as err:
            raise ConfigError(
                f"invalid Neo4j driver settings for {uri}: {err}"
            ) from err
        try:
            self._driver.verify_connectivity()
            self._create_constraints()
        except AuthError as err:
            self._driver.close()
            raise ConfigError(f"Neo4j at {uri} refused the credentials: {err}") from err
        except (DriverError, Neo4jError, OSError) as err:
            self._driver.close()
            raise StoreUnavailableError(
                f"cannot reach Neo4j at {uri}: {type(err).__name__}: {err}"
            ) from err
        _logger.info(
            "knowledge_graph_opened", extra={"server": uri, "database": database or ""}
        )

    def _session(self) -> neo4j.Session:
        if self._closed:
            raise StoreUnavailableError(
                f"the knowledge graph at {self._uri} was closed"
            )
        return self._driver.session(database=self._database)

    def _create_constraints(self) -> None:
        with self._session() as session:
            for statement in _CONSTRAINTS:
                # Schema statements cannot share a transaction with each other.
                session.execute_write(_run_statement, statement)

    def _write(self, work: Any, *args: Any) -> Any:
        try:
            with self._session() as session:
                return session.execute_write(work, *args)
        except (ServiceUnavailable, SessionExpired) as err:
            raise StoreUnavailableError(
                f"Neo4j at {self._uri} stayed unreachable: {err}"
            ) from err

    def _read(self, query: str, **parameters: Any) -> list[neo4j.Record]:
        def work(tx: ManagedTransaction) -> list[neo4j.Record]:
            return list(tx.run(query, parameters))

        try:
            with self._session() as session:
                return session.execute_read(work)
        except (ServiceUnavailable, SessionExpired) as err:
            raise StoreUnavailableError(
                f"Neo4j at {self._uri} stayed unreachable: {err}"
            ) from err

    # Writes.

    def upsert_document(self, document: GraphDocument) -> None:
        """Create or replace a document with its domain, topics, uploader, reviewer.

        Empty ``uploader`` or ``reviewer`` means none. Topics are stripped and
        de-duplicated; empty ones are dropped.

        Raises:
            DataError: An id is empty or a topic is not a string.
            StoreUnavailableError: The server stayed unreachable.
        """
        for name in ("doc_id", "domain_id"):
            value = getattr(document, name)
            if not isinstance(value, str) or not value:
                raise DataError(f"{name} must be a non-empty string, got {value!r}")
        topics = _normalise_topics(document.topics)
        self._write(_upsert_document, document, topics)
        _logger.debug(
            "graph_document_upserted",
            extra={
                "doc_id": document.doc_id,
                "domain_id": document.domain_id,
                "topics": len(topics),
            },
        )

    # Reads.

    def get_document(self, doc_id: str) -> GraphDocument | None:
        """Return the document with its topics sorted, or ``None`` if absent."""
        rows = self._read(
            "MATCH (d:Document {id: $id}) "
            "OPTIONAL MATCH (d)-[:HAS_TOPIC]->(t:Topic) "
            "WITH d, collect(t.name) AS topics "
            "OPTIONAL MATCH (up:User)-[:UPLOADED]->(d) "
            "OPTIONAL MATCH (rev:User)-[:REVIEWED]->(d) "
            "RETURN d.domain_id AS domain, d.title AS title, topics, "
            "up.id AS uploader, rev.id AS reviewer LIMIT 1",
            id=doc_id,
        )
        if not rows:
            return None
        row = rows[0]
        return GraphDocument(
            doc_id=doc_id,
            domain_id=row["domain"],
            title=row["title"] or "",
            topics=tuple(sorted(row["topics"])),
            uploader=row["uploader"] or "",
            reviewer=row["reviewer"] or "",
        )

    def related_documents(self, doc_id: str, limit: int = 10) -> list[tuple[str, int]]:
        """Documents of the same domain sharing topics with ``doc_id``.

        Returns:
            ``(doc_id, shared_topics)``, most shared first, ties by doc id;
            empty for an unknown document.

        Raises:
            DataError: ``limit`` is below 1.
        """
        if limit < 1:
            raise DataError(f"limit ({limit}) must be at least 1")
        rows = self._read(
            "MATCH (a:Document {id: $id})-[:HAS_TOPIC]->(t:Topic)<-[:HAS_TOPIC]-"
            "(b:Document) WHERE b.id <> a.id AND b.domain_id = a.domain_id "
            "RETURN b.id AS doc, count(DISTINCT t) AS shared "
            "ORDER BY shared DESC, doc LIMIT $limit",
            id=doc_id,
            limit=limit,
        )
        return [(row["doc"], int(row["shared"])) for row in rows]

    def domain_topics(self, domain_id: str) -> list[tuple[str, int]]:
        """A domain's topics with their document counts, most frequent first
        (ties by topic name)."""
        rows = self._read(
            "MATCH (:Domain {id: $domain})<-[:IN_DOMAIN]-(d:Document)"
            "-[:HAS_TOPIC]->(t:Topic) "
            "RETURN t.name AS topic, count(DISTINCT d) AS n ORDER BY n DESC, topic",
            domain=domain_id,
        )
        return [(row["topic"], int(row["n"])) for row in rows]

    def count_documents(self) -> int:
        """Number of documents in the graph, all domains together."""
        return int(self._read("MATCH (d:Document) RETURN count(d) AS n")[0]["n"])

    def close(self) -> None:
        """Close the driver's connections; later calls raise
        ``StoreUnavailableError``."""
        if not self._closed:
            self._closed = True
            self._driver.close()


def _run_statement(tx: ManagedTransaction, statement: str) -> None:
    tx.run(statement).consume()


def _upsert_document(
    tx: ManagedTransaction, document: GraphDocument, topics: list[str]
) -> None:
    """One upsert as a transaction function; the driver may run it again."""
    tx.run(
        _UPSERT_DOCUMENT,
        id=document.doc_id,
        domain=document.domain_id,
        title=document.title,
        topics=topics,
        uploaders=[document.uploader] if document.uploader else [],
        reviewers=[document.reviewer] if document.reviewer else [],
    ).consume()


def open_neo4j_graph(url: str) -> Neo4jKnowledgeGraph:
    """Open the graph at a ``bolt://`` or ``neo4j://`` URL (the factory's opener)."""
    return Neo4jKnowledgeGraph(url)
