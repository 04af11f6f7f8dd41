"""Opening stores from settings: defaults, schemes, and errors at open time."""

from __future__ import annotations

import socket

import pytest

from heysh.config import load_settings
from heysh.errors import ConfigError, StoreUnavailableError
from heysh.stores import factory
from heysh.stores.archive_folder import FolderArchive
from heysh.stores.blob_folder import FolderBlobStore
from heysh.stores.graph_kuzu import KuzuKnowledgeGraph
from heysh.stores.metadata_sql import SqlMetadataStore
from heysh.stores.vector_lance import LanceVectorIndex


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings with home in a temporary folder and no store URLs set."""
    for name in ("METADATA", "VECTOR", "GRAPH", "ARCHIVE", "BLOB"):
        monkeypatch.delenv(f"HEYSH_{name}_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return load_settings(home=tmp_path / "home")


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_store_urls_default_to_embedded_stores_under_home(settings, tmp_path):
    """Check every URL defaults to an embedded store inside Settings.home."""
    home = (tmp_path / "home").resolve()

    assert factory.store_urls(settings) == factory.StoreUrls(
        metadata=f"sqlite:///{home}/heysh.db",
        vectors=f"lance://{home}/vectors",
        graph=f"kuzu://{home}/graph",
        blobs=f"file://{home}/blobs",
        archive=f"file://{home}/archive",
    )


def test_open_stores_defaults_open_every_embedded_adapter(settings, tmp_path):
    """Check the defaults open the five embedded adapters, which then work."""
    with factory.open_stores(settings) as stores:
        kinds = [
            type(s)
            for s in (
                stores.metadata,
                stores.vectors,
                stores.graph,
                stores.blobs,
                stores.archive,
            )
        ]
        stores.blobs.put("d/doc", b"body")
        body = stores.blobs.get("d/doc")

    assert kinds == [
        SqlMetadataStore,
        LanceVectorIndex,
        KuzuKnowledgeGraph,
        FolderBlobStore,
        FolderArchive,
    ]
    assert body == b"body"
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == [
        "archive",
        "blobs",
        "graph",
        "heysh.db",
        "vectors",
    ]


@pytest.mark.parametrize(
    ("field", "url", "message"),
    [
        (
            "vector_url",
            "faiss:///x",
            r"HEYSH_VECTOR_URL='faiss:///x' has unknown scheme "
            r"'faiss'; use one of \[.*'lance'",
        ),
        ("graph_url", "/srv/graph", r"HEYSH_GRAPH_URL='/srv/graph' is not a URL"),
        (
            "archive_url",
            "s3://bucket/x",
            r"HEYSH_ARCHIVE_URL='s3://bucket/x' has unknown",
        ),
        ("metadata_url", "sqlite://", r"HEYSH_METADATA_URL='sqlite://': an in-memory"),
        ("vector_url", "lance://", r"HEYSH_VECTOR_URL='lance://': 'lance://' names no"),
    ],
)
def test_open_stores_bad_url_raises_config_error_naming_the_variable(
    settings, field, url, message
):
    """Check a wrong URL fails at open with a ConfigError naming its variable."""
    bad = settings.model_copy(update={field: url})

    with pytest.raises(ConfigError, match=message):
        factory.open_stores(bad)


def test_open_stores_unreachable_database_names_variable_and_hides_password(settings):
    """Check an unreachable server is a StoreUnavailableError at open, not later."""
    url = f"postgresql+psycopg://heysh:s3cret@127.0.0.1:{closed_port()}/heysh"
    bad = settings.model_copy(update={"metadata_url": url})

    with pytest.raises(StoreUnavailableError, match="HEYSH_METADATA_URL=") as info:
        factory.open_stores(bad)

    assert "s3cret" not in str(info.value)
    assert "***" in str(info.value)


def test_open_stores_failure_closes_the_stores_already_opened(settings, monkeypatch):
    """Check a store failing to open releases those opened before it."""
    closed = []

    class Recorder:
        def close(self):
            closed.append("vectors")

    def failing(url):
        raise StoreUnavailableError("graph down")

    monkeypatch.setitem(factory.VECTOR_ADAPTERS, "fake", lambda url: Recorder())
    monkeypatch.setitem(factory.GRAPH_ADAPTERS, "fake", failing)
    bad = settings.model_copy(
        update={"vector_url": "fake://v", "graph_url": "fake://g"}
    )

    with pytest.raises(
        StoreUnavailableError, match="HEYSH_GRAPH_URL='fake://g': graph down"
    ):
        factory.open_stores(bad)
    assert closed == ["vectors"]


def test_open_store_string_adapter_is_imported_lazily(monkeypatch):
    """Check a "module:callable" registration is imported only when used."""
    monkeypatch.setitem(factory.VECTOR_ADAPTERS, "pathy", "pathlib:PurePosixPath")
    monkeypatch.setitem(factory.VECTOR_ADAPTERS, "gone", "heysh.no_such_module:open")

    opened = factory.open_vector_index("pathy://x")

    assert str(opened) == "pathy:/x"
    with pytest.raises(
        ConfigError,
        match=r"HEYSH_VECTOR_URL uses gone://, whose adapter "
        r"cannot be imported .*heysh\[storage-worker\]",
    ):
        factory.open_vector_index("gone://x")


def test_open_store_driver_error_becomes_store_unavailable(monkeypatch):
    """Check an adapter's own exception is wrapped, naming the variable, no password."""

    def broken(url):
        raise ConnectionResetError(f"peer reset talking to {url}")

    monkeypatch.setitem(factory.GRAPH_ADAPTERS, "broken", broken)

    with pytest.raises(StoreUnavailableError) as info:
        factory.open_knowledge_graph("broken://u:pw-7f1@h")

    assert str(info.value) == (
        "HEYSH_GRAPH_URL='broken://u:***@h': cannot open the store: "
        "ConnectionResetError: peer reset talking to broken://u:***@h"
    )


def test_path_from_url_reads_absolute_and_relative_paths():
    """Check three slashes give an absolute path and two a relative one."""
    assert (
        factory.path_from_url("kuzu:///srv/g"),
        factory.path_from_url("kuzu://g/h"),
        factory.path_from_url("file:///a%20b"),
    ) == (factory.Path("/srv/g"), factory.Path("g/h"), factory.Path("/a b"))
