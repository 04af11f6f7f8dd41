"""Open every store from its configured URL, choosing the adapter by scheme.

Each store kind has a registry from URL scheme to an opener: a callable, or a
``"module:callable"`` string imported only when that scheme is used (so a
worker without ``weaviate-client`` installed can still use the embedded
index). An opener takes the full URL and returns the adapter. Server adapters
register themselves by adding one entry, e.g.::

    VECTOR_ADAPTERS["weaviate"] = "heysh.stores.vector_weaviate:open_weaviate_index"

Embedded URLs carry a path after ``scheme://``: three slashes for an absolute
path (``lance:///srv/heysh/vectors``), two for one relative to the working
directory (``lance://.heysh/vectors``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from heysh.config import Settings
from heysh.errors import ConfigError, HeyshError, StoreUnavailableError
from heysh.stores.base import (
    Archive,
    BlobStore,
    KnowledgeGraph,
    MetadataStore,
    VectorIndex,
)

_logger = logging.getLogger(__name__)

Opener = Callable[[str], Any] | str


def path_from_url(url: str) -> Path:
    """Return the filesystem path of an embedded store URL.

    Raises:
        ConfigError: The URL has no path.

    >>> path_from_url("lance:///srv/heysh/vectors")
    PosixPath('/srv/heysh/vectors')
    >>> path_from_url("kuzu://graph")
    PosixPath('graph')
    """
    _, _, rest = url.partition("://")
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    if not rest:
        raise ConfigError(f"{url!r} names no folder; write scheme:///absolute/path")
    return Path(unquote(rest)).expanduser()


def _open_lance(url: str) -> VectorIndex:
    from heysh.stores.vector_lance import LanceVectorIndex

    return LanceVectorIndex(path_from_url(url))


def _open_kuzu(url: str) -> KnowledgeGraph:
    from heysh.stores.graph_kuzu import KuzuKnowledgeGraph

    return KuzuKnowledgeGraph(path_from_url(url))


def _open_sql(url: str) -> MetadataStore:
    from heysh.stores.metadata_sql import SqlMetadataStore

    return SqlMetadataStore(url)


def _open_folder_archive(url: str) -> Archive:
    from heysh.stores.archive_folder import FolderArchive

    return FolderArchive(path_from_url(url))


def _open_folder_blobs(url: str) -> BlobStore:
    from heysh.stores.blob_folder import FolderBlobStore

    return FolderBlobStore(path_from_url(url))


METADATA_ADAPTERS: dict[str, Opener] = {
    "sqlite": _open_sql,
    "postgresql": _open_sql,
    "postgresql+psycopg": _open_sql,
    "postgres": _open_sql,
}
VECTOR_ADAPTERS: dict[str, Opener] = {
    "lance": _open_lance,
    "weaviate": "heysh.stores.vector_weaviate:open_weaviate_index",
}
GRAPH_ADAPTERS: dict[str, Opener] = {
    "kuzu": _open_kuzu,
    **{
        scheme: "heysh.stores.graph_neo4j:open_neo4j_graph"
        for scheme in ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
    },
}
ARCHIVE_ADAPTERS: dict[str, Opener] = {"file": _open_folder_archive}
BLOB_ADAPTERS: dict[str, Opener] = {"file": _open_folder_blobs}


@dataclass
class Stores:
    """The five stores one process uses; close them with :meth:`close`."""

    metadata: MetadataStore
    vectors: VectorIndex
    graph: KnowledgeGraph
    blobs: BlobStore
    archive: Archive

    def close(self) -> None:
        """Close every store that can be closed, even if one of them fails."""
        _close_all([self.archive, self.blobs, self.graph, self.vectors, self.metadata])

    def __enter__(self) -> Stores:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True)
class StoreUrls:
    """The URL of every store, defaults filled in from ``Settings.home``."""

    metadata: str
    vectors: str
    graph: str
    blobs: str
    archive: str


def store_urls(settings: Settings) -> StoreUrls:
    """Return the configured store URLs, embedded defaults under ``home``.

    The blob store has no setting yet (``HEYSH_BLOB_URL`` is honoured once
    ``Settings`` has a ``blob_url`` field) and lives in ``<home>/blobs``.
    """
    home = settings.home.expanduser().resolve()
    return StoreUrls(
        metadata=settings.metadata_url or f"sqlite:///{home / 'heysh.db'}",
        vectors=settings.vector_url or f"lance://{home / 'vectors'}",
        graph=settings.graph_url or f"kuzu://{home / 'graph'}",
        blobs=getattr(settings, "blob_url", None) or f"file://{home / 'blobs'}",
        archive=settings.archive_url or f"file://{home / 'archive'}",
    )


def open_stores(settings: Settings) -> Stores:
    """Open every store named in ``settings``, failing early and clearly.

    Each store is opened (and, for servers, contacted) here, so a wrong or
    unreachable URL stops a worker at start-up instead of failing its first
    document. A process that needs only some stores opens just those, e.g.
    ``open_metadata_store(store_urls(settings).metadata)``: the embedded graph
    admits one process, the storage worker.

    Raises:
        ConfigError: A URL is malformed, has an unknown scheme, or needs an
            extra that is not installed; the message names the variable.
        StoreUnavailableError: A store cannot be reached or opened; the
            message names the variable.
    """
    urls = store_urls(settings)
    plan: list[tuple[str, dict[str, Opener], str, str]] = [
        ("metadata", METADATA_ADAPTERS, urls.metadata, "HEYSH_METADATA_URL"),
        ("vectors", VECTOR_ADAPTERS, urls.vectors, "HEYSH_VECTOR_URL"),
        ("graph", GRAPH_ADAPTERS, urls.graph, "HEYSH_GRAPH_URL"),
        ("blobs", BLOB_ADAPTERS, urls.blobs, "HEYSH_BLOB_URL"),
        ("archive", ARCHIVE_ADAPTERS, urls.archive, "HEYSH_ARCHIVE_URL"),
    ]
    opened: dict[str, Any] = {}
    try:
        for name, registry, url, variable in plan:
            opened[name] = open_store(registry, url, variable)
    except BaseException:
        _close_all(list(opened.values())[::-1])
        raise
    _logger.info(
        "stores_opened", extra={name: redact_url(url) for name, _, url, _ in plan}
    )
    return Stores(**opened)


def open_store(registry: dict[str, Opener], url: str, variable: str) -> Any:
    """Open one store with the adapter that ``registry`` gives for the scheme.

    Args:
        registry: One of the ``*_ADAPTERS`` dicts of this module.
        url: The store URL.
        variable: The environment variable the URL came from, for messages.

    Raises:
        ConfigError: Bad URL, unknown scheme or missing extra.
        StoreUnavailableError: The adapter could not reach or open its store.
    """
    shown = redact_url(url)
    scheme, separator, _ = url.partition("://")
    scheme = scheme.lower()
    if not separator or not scheme:
        raise ConfigError(
            f"{variable}={shown!r} is not a URL; expected scheme://..., with scheme "
            f"one of {sorted(registry)}"
        )
    opener = registry.get(scheme)
    if opener is None:
        raise ConfigError(
            f"{variable}={shown!r} has unknown scheme {scheme!r}; use one of "
            f"{sorted(registry)}"
        )
    open_adapter = _resolve(opener, variable, scheme)
    try:
        return open_adapter(url)
    except ConfigError as err:
        raise ConfigError(f"{variable}={shown!r}: {_scrub(str(err), url)}") from err
    except StoreUnavailableError as err:
        raise StoreUnavailableError(
            f"{variable}={shown!r}: {_scrub(str(err), url)}"
        ) from err
    except HeyshError:
        raise
    except Exception as err:  # Any driver error at open means unavailable.
        raise StoreUnavailableError(
            f"{variable}={shown!r}: cannot open the store: {type(err).__name__}: "
            f"{_scrub(str(err), url)}"
        ) from err


def open_metadata_store(
    url: str, variable: str = "HEYSH_METADATA_URL"
) -> MetadataStore:
    """Open the metadata store at ``url`` (see :func:`open_store`)."""
    store: MetadataStore = open_store(METADATA_ADAPTERS, url, variable)
    return store


def open_vector_index(url: str, variable: str = "HEYSH_VECTOR_URL") -> VectorIndex:
    """Open the vector index at ``url`` (see :func:`open_store`)."""
    store: VectorIndex = open_store(VECTOR_ADAPTERS, url, variable)
    return store


def open_knowledge_graph(url: str, variable: str = "HEYSH_GRAPH_URL") -> KnowledgeGraph:
    """Open the knowledge graph at ``url`` (see :func:`open_store`)."""
    store: KnowledgeGraph = open_store(GRAPH_ADAPTERS, url, variable)
    return store


def open_archive(url: str, variable: str = "HEYSH_ARCHIVE_URL") -> Archive:
    """Open the archive at ``url`` (see :func:`open_store`)."""
    store: Archive = open_store(ARCHIVE_ADAPTERS, url, variable)
    return store


def open_blob_store(url: str, variable: str = "HEYSH_BLOB_URL") -> BlobStore:
    """Open the blob store at ``url`` (see :func:`open_store`)."""
    store: BlobStore = open_store(BLOB_ADAPTERS, url, variable)
    return store


def redact_url(url: str) -> str:
    """Hide the password of a URL so that it can be logged or shown.

    >>> redact_url("postgresql+psycopg://heysh:s3cret@db:5432/heysh")
    'postgresql+psycopg://heysh:***@db:5432/heysh'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if not password:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _scrub(message: str, url: str) -> str:
    """Remove a URL's password from a message that may quote the URL."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return message
    return message.replace(password, "***") if password else message


def _resolve(opener: Opener, variable: str, scheme: str) -> Callable[[str], Any]:
    if callable(opener):
        return opener
    module_name, _, attribute = opener.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(
            f"{variable} uses {scheme}://, whose adapter cannot be imported ({err}); "
            "install the storage extra: pip install 'heysh[storage-worker]'"
        ) from err
    for part in attribute.split("."):
        target = getattr(target, part)
    resolved: Callable[[str], Any] = target
    return resolved


def _close_all(stores: list[Any]) -> None:
    for store in stores:
        close = getattr(store, "close", None)
        if close is None:
            continue
        try:
            close()
        except Exception:  # Keep closing the others; this one is logged.
            _logger.exception(
                "store_close_failed", extra={"store": type(store).__name__}
            )
