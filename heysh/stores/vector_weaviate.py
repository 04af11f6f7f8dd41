"""The production vector index on a Weaviate server, through ``weaviate-client`` v4.

One collection (``HeyshDocument`` unless the URL names another) holds every
domain. Vectors come from heysh (no vectorizer module); the distance is cosine.

Isolation between domains is Weaviate multi-tenancy, one tenant per domain,
rather than a ``domain_id`` filter on one shared index. Why:

- Each tenant is its own shard with its own HNSW graph, so a search can only
  ever walk one domain's vectors: isolation does not depend on every query
  remembering a filter, and no escaping of domain ids is involved.
- A filtered HNSW search over a shared graph loses recall and speed when the
  filter is selective (a small domain among large ones); a tenant's search
  costs what that domain holds.
- A domain can later be deleted, deactivated or offloaded as one unit.

The costs, accepted: a domain's tenant is created at its first write (the
collection enables automatic tenant creation, so concurrent first writers do
not race), ``count()`` over all domains asks each tenant, and each tenant uses
a few files on the server. Tenant names allow only ``[A-Za-z0-9_-]{1,64}``:
a domain id of that alphabet up to 62 characters becomes ``n-<id>``, any
other ``h-<sha256 prefix>``; the two prefixes keep the mapping one-to-one.

An object's UUID is ``uuid5`` of ``(domain_id, doc_id)``, so writing the same
document twice, from any process, replaces one object. Metadata is stored as a
JSON string so that its keys need not be valid Weaviate property names and its
types (int, float, bool, empty string) round-trip exactly.

Weaviate itself does not fix a vector length per collection (each tenant's
index takes the length of its first vector), so the collection's length is
recorded in its description at creation, and every record is checked against
it before it is sent.

Every operation is idempotent, so one that fails on a dropped connection (a
server restart) is retried on a fresh connection until ``retry_timeout_s``
runs out, then raises ``StoreUnavailableError``.

URL: ``weaviate://HOST:PORT?grpc_port=50051`` with optional ``grpc_host``,
``secure=true`` (TLS for HTTP and gRPC), ``collection=Name`` and an API key as
the URL's password (``weaviate://:KEY@host:443?secure=true``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import weaviate
from weaviate.classes.config import (
    Configure,
    DataType,
    Property,
    Tokenization,
    VectorDistances,
)
from weaviate.classes.data import DataObject
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.classes.query import MetadataQuery
from weaviate.exceptions import (
    UnexpectedStatusCodeError,
    WeaviateBaseError,
    WeaviateClosedClientError,
    WeaviateConnectionError,
    WeaviateGRPCUnavailableError,
    WeaviateStartUpError,
    WeaviateTimeoutError,
)

from heysh.errors import ConfigError, DataError, StoreUnavailableError
from heysh.stores.base import BatchFailure, VectorHit, VectorRecord
from heysh.stores.validation import find_vector_record_problem, split_valid_records

_logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "HeyshDocument"
_VECTOR = "default"
# Fixed namespace for object UUIDs: changing it would orphan every stored object.
_UUID_NAMESPACE = uuid.UUID("5b0d4e52-4f2a-5c1e-9a57-6865797368a1")
_TENANT_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,62}")
_COLLECTION_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*")
_DIMENSION_NOTE = re.compile(r"heysh vector index; dimension=(\d+)")
# A gRPC batch request is capped (10 MB by default on both sides): send at most
# this many objects or about this many bytes of text per request.
_BATCH_OBJECTS = 200
_BATCH_BYTES = 6_000_000
# Messages of errors that mean "the server is not reachable right now".
_UNREACHABLE_HINTS = (
    "unavailable",
    "connection refused",
    "failed to connect",
    "connection reset",
    "socket closed",
    "broken pipe",
    "server disconnected",
    "deadline exceeded",
    "connecterror",
)

T = TypeVar("T")


@dataclass(frozen=True)
class WeaviateAddress:
    """Where a Weaviate server listens, parsed from a ``weaviate://`` URL."""

    http_host: str
    http_port: int
    grpc_host: str
    grpc_port: int
    secure: bool
    collection: str
    api_key: str | None

    @classmethod
    def from_url(cls, url: str) -> WeaviateAddress:
        """Parse ``weaviate://HOST:PORT?grpc_port=N`` (see the module docstring).

        Raises:
            ConfigError: The scheme, host, a port or the collection is invalid.

        >>> WeaviateAddress.from_url("weaviate://127.0.0.1:58080?grpc_port=50051")
        ... # doctest: +NORMALIZE_WHITESPACE
        WeaviateAddress(http_host='127.0.0.1', http_port=58080,
            grpc_host='127.0.0.1', grpc_port=50051, secure=False,
            collection='HeyshDocument', api_key=None)
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as err:
            raise ConfigError(f"invalid Weaviate URL: {err}") from None
        if parts.scheme != "weaviate" or not parts.hostname:
            raise ConfigError(
                "expected weaviate://HOST:PORT?grpc_port=N, got a URL with scheme "
                f"{parts.scheme!r} and host {parts.hostname!r}"
            )
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"grpc_port", "grpc_host", "secure", "collection"}
        if unknown:
            raise ConfigError(
                f"unknown Weaviate URL parameters {sorted(unknown)}; known: "
                "grpc_port, grpc_host, secure, collection"
            )
        secure = query.get("secure", "false").lower() in {"1", "true", "yes"}
        collection = query.get("collection", DEFAULT_COLLECTION)
        if not _COLLECTION_NAME.fullmatch(collection):
            raise ConfigError(
                f"collection {collection!r} is not a Weaviate collection name: start "
                "with an upper-case letter, then letters, digits or underscores"
            )
        grpc_port = query.get("grpc_port", "50051")
        if not grpc_port.isdigit() or not 0 < int(grpc_port) < 65536:
            raise ConfigError(f"grpc_port ({grpc_port!r}) must be a port number")
        return cls(
            http_host=parts.hostname,
            http_port=port or (443 if secure else 8080),
            grpc_host=query.get("grpc_host", parts.hostname),
            grpc_port=int(grpc_port),
            secure=secure,
            collection=collection,
            api_key=unquote(parts.password) if parts.password else None,
        )


def object_uuid(domain_id: str, doc_id: str) -> uuid.UUID:
    """The Weaviate object UUID of a document, the same in every process.

    >>> str(object_uuid("news", "doc-1")) == str(object_uuid("news", "doc-1"))
    True
    >>> object_uuid("a", "b-c") == object_uuid("a-b", "c")
    False
    """
    return uuid.uuid5(_UUID_NAMESPACE, json.dumps([domain_id, doc_id]))


def tenant_name(domain_id: str) -> str:
    """The tenant that holds ``domain_id``'s documents.

    >>> tenant_name("news")
    'n-news'
    >>> tenant_name("x' OR '1'='1")
    'h-cf43bed622b2aeea8e1ec83ed062ec403f1086e9aa835102'
    """
    if _TENANT_ALPHABET.fullmatch(domain_id):
        return f"n-{domain_id}"
    return "h-" + hashlib.sha256(domain_id.encode()).hexdigest()[:48]


def _is_unreachable(err: BaseException) -> bool:
    if isinstance(
        err,
        WeaviateConnectionError
        | WeaviateGRPCUnavailableError
        | WeaviateTimeoutError
        | WeaviateClosedClientError
        | httpx.TransportError,
    ):
        return True
    text = f"{type(err).__name__} {err}".lower()
    return any(hint in text for hint in _UNREACHABLE_HINTS)


def _is_tenant_missing(err: BaseException) -> bool:
    return "tenant not found" in str(err)


class WeaviateVectorIndex:
    """A ``VectorIndex`` on a Weaviate server, one tenant per domain.

    Args:
        url: ``weaviate://HOST:PORT?grpc_port=N`` (see the module docstring).
        retry_timeout_s: How long an operation keeps retrying while the server
            is unreachable (a restart) before raising ``StoreUnavailableError``.

    Raises:
        ConfigError: The URL is invalid, or the collection exists without
            multi-tenancy (it was not created by heysh).
        StoreUnavailableError: The server cannot be reached (HTTP or gRPC).
    """

    def __init__(self, url: str, *, retry_timeout_s: float = 60.0) -> None:
        self._address = WeaviateAddress.from_url(url)
        self._retry_timeout_s = retry_timeout_s
        self._lock = threading.Lock()
        self._generation = 0  # Bumped by each reconnect.
        self._closed = False
        self._dimension: int | None = None
        self._client = self._connect()
        try:
            self._dimension = self._read_dimension()
        except BaseException:
            self._client.close()
            raise
        _logger.info(
            "vector_index_opened",
            extra={
                "server": f"{self._address.http_host}:{self._address.http_port}",
                "collection": self._address.collection,
                "dimension": self._dimension,
            },
        )

    # Connection.

    def _connect(self) -> weaviate.WeaviateClient:
        address = self._address
        try:
            return weaviate.connect_to_custom(
                http_host=address.http_host,
                http_port=address.http_port,
                http_secure=address.secure,
                grpc_host=address.grpc_host,
                grpc_port=address.grpc_port,
                grpc_secure=address.secure,
                auth_credentials=(
                    Auth.api_key(address.api_key) if address.api_key else None
                ),
                additional_config=AdditionalConfig(
                    timeout=Timeout(init=10, query=60, insert=120)
                ),
            )
        except (WeaviateStartUpError, WeaviateBaseError, httpx.HTTPError) as err:
            raise StoreUnavailableError(
                f"cannot reach Weaviate at {address.http_host}:{address.http_port} "
                f"(gRPC {address.grpc_host}:{address.grpc_port}): {err}"
            ) from err

    def _call(self, operation: str, action: Callable[[], T]) -> T:
        """Run ``action``, reconnecting and retrying while the server is away.

        Every operation of this class is idempotent, so a retry after a lost
        reply writes nothing twice.
        """
        if self._closed:
            raise StoreUnavailableError("the Weaviate vector index was closed")
        deadline = time.monotonic() + self._retry_timeout_s
        delay_s = 0.2
        while True:
            generation = self._generation
            try:
                return action()
            except Exception as err:
                if not _is_unreachable(err):
                    raise
                if time.monotonic() + delay_s > deadline:
                    raise StoreUnavailableError(
                        f"Weaviate {operation} failed for "
                        f"{self._retry_timeout_s:.0f}s: {type(err).__name__}: {err}"
                    ) from err
                _logger.warning(
                    "weaviate_unreachable_retrying",
                    extra={"operation": operation, "error": type(err).__name__},
                )
                time.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)
                self._reconnect(generation)

    def _reconnect(self, failed_generation: int) -> None:
        """Replace the client, unless another thread already replaced the one
        that failed. The client recovers from a restart by itself; this is for
        a connection it gave up on."""
        with self._lock:
            if self._generation != failed_generation:
                return
            old = self._client
            try:
                self._client = self._connect()
            except StoreUnavailableError:
                return  # Still down; the caller's next attempt fails and waits.
            self._generation += 1
            old.close()

    @property
    def _collection(self) -> Any:  # weaviate's Collection is generic over models.
        return self._client.collections.use(self._address.collection)

    # Collection and dimension.

    @property
    def dimension(self) -> int | None:
        """The vector length of this index, or ``None`` before the first write."""
        return self._dimension

    def _known_dimension(self) -> int | None:
        """The vector length, asking the server while this instance knows none
        (another process may have created the collection since)."""
        if self._dimension is None:
            self._dimension = self._read_dimension()
        return self._dimension

    def _read_dimension(self) -> int | None:
        def read() -> int | None:
            if not self._client.collections.exists(self._address.collection):
                return None
            config = self._collection.config.get()
            if not config.multi_tenancy_config.enabled:
                raise ConfigError(
                    f"Weaviate collection {self._address.collection!r} exists without "
                    "multi-tenancy, so heysh did not create it; name another with "
                    "?collection=... in the URL"
                )
            match = _DIMENSION_NOTE.search(config.description or "")
            return int(match.group(1)) if match else None

        return self._call("read_collection", read)

    def _ensure_collection(self, dimension: int) -> int:
        """Create the collection for vectors of ``dimension`` if it is missing."""
        if self._dimension is not None:
            return self._dimension

        def create() -> None:
            if self._client.collections.exists(self._address.collection):
                return
            try:
                self._client.collections.create(
                    self._address.collection,
                    description=f"heysh vector index; dimension={dimension}",
                    vector_config=Configure.Vectors.self_provided(
                        name=_VECTOR,
                        vector_index_config=Configure.VectorIndex.hnsw(
                            distance_metric=VectorDistances.COSINE
                        ),
                    ),
                    multi_tenancy_config=Configure.multi_tenancy(
                        enabled=True,
                        auto_tenant_creation=True,
                        auto_tenant_activation=True,
                    ),
                    properties=[
                        Property(
                            name="doc_id",
                            data_type=DataType.TEXT,
                            tokenization=Tokenization.FIELD,
                        ),
                        Property(
                            name="domain_id",
                            data_type=DataType.TEXT,
                            tokenization=Tokenization.FIELD,
                        ),
                        Property(
                            name="body",
                            data_type=DataType.TEXT,
                            index_filterable=False,
                            index_searchable=False,
                        ),
                        Property(
                            name="metadata_json",
                            data_type=DataType.TEXT,
                            index_filterable=False,
                            index_searchable=False,
                        ),
                    ],
                )
                _logger.info(
                    "weaviate_collection_created",
                    extra={
                        "collection": self._address.collection,
                        "dimension": dimension,
                    },
                )
            except UnexpectedStatusCodeError as err:
                # Another writer created it first; its dimension is read below.
                if "already exists" not in str(err):
                    raise

        self._call("create_collection", create)
        self._dimension = self._read_dimension()
        if self._dimension is None:
            raise StoreUnavailableError(
                f"Weaviate collection {self._address.collection!r} has no heysh "
                "dimension note in its description; it was not created by heysh"
            )
        return self._dimension

    # Writes.

    def upsert(self, record: VectorRecord) -> None:
        """Insert or replace one document's vector, text and metadata.

        Raises:
            DataError: The record is invalid (see ``heysh.stores.validation``)
                or the server refused it.
            StoreUnavailableError: The server stayed unreachable.
        """
        problem = find_vector_record_problem(record, self._known_dimension())
        if problem is not None:
            raise DataError(
                f"cannot index document {record.doc_id!r} of domain "
                f"{record.domain_id!r}: {problem}"
            )
        failures = self._write([record])
        if failures:
            raise DataError(
                f"Weaviate refused document {record.doc_id!r} of domain "
                f"{record.domain_id!r}: {failures[0].reason}"
            )

    def upsert_batch(self, records: Sequence[VectorRecord]) -> list[BatchFailure]:
        """Insert or replace many records; return every one that was not stored.

        Invalid records are reported without being sent. Valid records go to
        the server in requests of at most 200 objects (or about 6 MB of text),
        one tenant per request; each object the server refuses is reported
        with the server's reason. A request that fails whole for any reason
        but an unreachable server is sent again one record at a time, so that
        exactly the failing records are reported. Nothing is dropped silently.

        Raises:
            StoreUnavailableError: The server stayed unreachable.
        """
        valid, failures = split_valid_records(records, self._known_dimension())
        if valid:
            failures.extend(self._write(valid))
        if failures:
            _logger.warning(
                "vector_batch_rejected_records",
                extra={
                    "rejected": len(failures),
                    "stored": len(valid) - len(failures),
                    "doc_ids": [failure.doc_id for failure in failures][:20],
                },
            )
        return failures

    def _write(self, records: Sequence[VectorRecord]) -> list[BatchFailure]:
        dimension = self._ensure_collection(len(records[0].vector))
        by_domain: dict[str, list[VectorRecord]] = defaultdict(list)
        failures: list[BatchFailure] = []
        for record in records:
            # Only when another process created the collection meanwhile with
            # another length do records checked against none fail here.
            if len(record.vector) != dimension:
                failures.append(
                    BatchFailure(
                        doc_id=record.doc_id,
                        reason=f"vector has {len(record.vector)} dimensions; this "
                        f"index holds {dimension}",
                    )
                )
                continue
            by_domain[record.domain_id].append(record)
        for domain_id, domain_records in by_domain.items():
            for chunk in _chunks(domain_records):
                failures.extend(self._write_chunk(domain_id, chunk))
        return failures

    def _write_chunk(
        self, domain_id: str, records: Sequence[VectorRecord]
    ) -> list[BatchFailure]:
        objects = [
            DataObject(
                properties={
                    "doc_id": r.doc_id,
                    "domain_id": r.domain_id,
                    "body": r.text,
                    "metadata_json": json.dumps(dict(r.metadata), ensure_ascii=False),
                },
                vector={_VECTOR: [float(x) for x in r.vector]},
                uuid=object_uuid(r.domain_id, r.doc_id),
            )
            for r in records
        ]
        tenant = tenant_name(domain_id)

        def send() -> Any:
            collection = self._collection.with_tenant(tenant)
            return collection.data.insert_many(objects)

        try:
            result = self._call("insert_many", send)
        except (WeaviateBaseError, ValueError) as err:
            # The whole request failed for a reason other than reachability
            # (every object refused, one the client cannot encode, ...): send
            # each record alone so that exactly the failing ones are reported.
            if len(records) > 1:
                return [
                    failure
                    for record in records
                    for failure in self._write_chunk(domain_id, [record])
                ]
            return [
                BatchFailure(
                    doc_id=records[0].doc_id, reason=f"{type(err).__name__}: {err}"
                )
            ]
        return [
            BatchFailure(doc_id=records[index].doc_id, reason=error.message)
            for index, error in sorted(result.errors.items())
        ]

    def delete(self, domain_id: str, doc_id: str) -> None:
        """Remove a document; deleting one that is absent does nothing."""
        if self._known_dimension() is None:
            return

        def delete() -> None:
            try:
                self._collection.with_tenant(tenant_name(domain_id)).data.delete_by_id(
                    object_uuid(domain_id, doc_id)
                )
            except UnexpectedStatusCodeError as err:
                if not _is_tenant_missing(err):
                    raise

        self._call("delete", delete)

    # Reads.

    def get(self, domain_id: str, doc_id: str) -> VectorRecord | None:
        """Return the stored record (vector as 32-bit floats), or ``None``."""
        if self._known_dimension() is None:
            return None

        def fetch() -> Any:
            collection = self._collection.with_tenant(tenant_name(domain_id))
            try:
                return collection.query.fetch_object_by_id(
                    object_uuid(domain_id, doc_id), include_vector=True
                )
            except WeaviateBaseError as err:
                if _is_tenant_missing(err):
                    return None
                raise

        found = self._call("get", fetch)
        if found is None:
            return None
        properties = found.properties
        return VectorRecord(
            doc_id=properties["doc_id"],
            domain_id=properties["domain_id"],
            vector=[float(x) for x in found.vector[_VECTOR]],
            text=properties.get("body") or "",
            metadata=json.loads(properties.get("metadata_json") or "{}"),
        )

    def search(
        self, domain_id: str, vector: Sequence[float], limit: int = 10
    ) -> list[VectorHit]:
        """Return ``domain_id``'s documents closest to ``vector`` by cosine.

        The search runs inside the domain's tenant only. HNSW is approximate:
        on large domains a true neighbour can be missed (Weaviate's default
        ``ef`` keeps recall high; the benchmark measures it).

        Raises:
            DataError: ``vector`` is invalid or ``limit`` is below 1.
        """
        if limit < 1:
            raise DataError(f"limit ({limit}) must be at least 1")
        dimension = self._known_dimension()
        probe = VectorRecord(doc_id="query", domain_id=domain_id or "?", vector=vector)
        problem = find_vector_record_problem(probe, dimension)
        if problem is not None:
            raise DataError(f"cannot search with this query vector: {problem}")
        if dimension is None:
            return []
        query = [float(x) for x in vector]

        def near() -> list[Any]:
            collection = self._collection.with_tenant(tenant_name(domain_id))
            try:
                response = collection.query.near_vector(
                    query,
                    target_vector=_VECTOR,
                    limit=limit,
                    return_properties=["doc_id", "domain_id", "metadata_json"],
                    return_metadata=MetadataQuery(distance=True),
                )
            except WeaviateBaseError as err:
                if _is_tenant_missing(err):
                    return []
                raise
            return list(response.objects)

        hits = [
            VectorHit(
                doc_id=found.properties["doc_id"],
                domain_id=found.properties["domain_id"],
                similarity=1.0 - float(found.metadata.distance),
                metadata=json.loads(found.properties.get("metadata_json") or "{}"),
            )
            for found in self._call("search", near)
        ]
        hits.sort(key=lambda hit: (-hit.similarity, hit.doc_id))
        return hits

    def count(self, domain_id: str | None = None) -> int:
        """Number of documents in one domain, or in every domain together."""
        if self._known_dimension() is None:
            return 0

        def count_tenant(tenant: str) -> int:
            try:
                result = self._collection.with_tenant(tenant).aggregate.over_all(
                    total_count=True
                )
            except WeaviateBaseError as err:
                if _is_tenant_missing(err):
                    return 0
                raise
            return int(result.total_count or 0)

        if domain_id is not None:
            return self._call("count", lambda: count_tenant(tenant_name(domain_id)))

        def count_all() -> int:
            tenants = self._collection.tenants.get()
            return sum(count_tenant(name) for name in tenants)

        return self._call("count", count_all)

    def close(self) -> None:
        """Close the connection; later calls raise ``StoreUnavailableError``."""
        if not self._closed:
            self._closed = True
            self._client.close()


def _chunks(records: Sequence[VectorRecord]) -> list[list[VectorRecord]]:
    """Split records into requests of at most ``_BATCH_OBJECTS`` objects and
    about ``_BATCH_BYTES`` bytes of text and metadata."""
    chunks: list[list[VectorRecord]] = [[]]
    size = 0
    for record in records:
        # Characters times 4 bounds the UTF-8 size without encoding the text.
        record_size = 4 * len(record.text) + 8 * len(record.vector) + 512
        if chunks[-1] and (
            len(chunks[-1]) >= _BATCH_OBJECTS or size + record_size > _BATCH_BYTES
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(record)
        size += record_size
    return chunks


def open_weaviate_index(url: str) -> WeaviateVectorIndex:
    """Open the index at a ``weaviate://`` URL (the factory's opener)."""
    return WeaviateVectorIndex(url)
