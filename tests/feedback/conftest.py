"""Fixtures of the feedback tests: embedded stores, and a review stack per module."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from heysh.stores.blob_folder import FolderBlobStore
from heysh.stores.metadata_sql import SqlMetadataStore, normalise_database_url
from tests.review_stack import ReviewStack, fast_test_model, shared_encoder
from tests.temporal_server import TemporalDevServer

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[SqlMetadataStore]:
    """A fresh metadata store: SQLite, and PostgreSQL when CI provides a server.

    PostgreSQL gets a database of its own per test, dropped afterwards.
    """
    if request.param == "sqlite":
        store = SqlMetadataStore(f"sqlite:///{tmp_path / 'heysh.db'}")
        yield store
        store.close()
        return
    url = os.environ.get("HEYSH_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HEYSH_TEST_POSTGRES_URL is not set; CI sets it")
    server = normalise_database_url(url)
    name = f"heysh_feedback_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = SqlMetadataStore(server.set(database=name).render_as_string(False))
    yield store
    store.close()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}"'))
    admin.dispose()


@pytest.fixture
def blobs(tmp_path: Path) -> FolderBlobStore:
    """A fresh folder blob store."""
    return FolderBlobStore(tmp_path / "blobs")


@pytest.fixture(scope="session")
def bbc_news() -> Path:
    """The shared bbc-news collection (skips when the datasets are absent)."""
    folder = DATASETS / "bbc-news"
    if not (folder / "documents.jsonl").is_file():
        pytest.skip(f"shared datasets not found at {DATASETS.resolve()}")
    return folder


@pytest.fixture(scope="module")
def stack(
    temporal_server: TemporalDevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReviewStack]:
    """Embedded stores and all three workers in this process, own task queues."""
    review_stack = ReviewStack(
        temporal_server.address,
        tmp_path_factory.mktemp("heysh"),
        model=fast_test_model(),
        encoder=shared_encoder(),
    )
    yield review_stack
    review_stack.close()


@pytest.fixture
def stack_env(stack: ReviewStack, monkeypatch: pytest.MonkeyPatch) -> ReviewStack:
    """The stack, with HEYSH_HOME pointing the CLI at its stores."""
    monkeypatch.setenv("HEYSH_HOME", str(stack.settings.home))
    for name in ("HEYSH_METADATA_URL", "HEYSH_BLOB_URL"):
        monkeypatch.delenv(name, raising=False)
    return stack
