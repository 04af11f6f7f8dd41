"""SQLAlchemy metadata store specifics: SQLite setup, migrations, processes."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from heysh.errors import ConfigError, DataError, StoreUnavailableError
from heysh.stores import _sql_tables
from heysh.stores.base import DecisionRow, DocumentRow
from heysh.stores.metadata_sql import SqlMetadataStore
from tests.sqlite_writer import rollback_journal_writer

MIGRATIONS = Path(_sql_tables.__file__).parent / "migrations"

CLAIMER = """
import json, sys
from heysh.stores.metadata_sql import SqlMetadataStore
store = SqlMetadataStore(sys.argv[1])
worker = sys.argv[2]
claims = {f"{worker}-{i}": store.next_round_robin_index("d", 3, f"{worker}-{i}")
          for i in range(10)}
store.close()
print(json.dumps(claims))
"""


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'sub' / 'heysh.db'}"


def test_sql_metadata_sqlite_uses_wal_and_creates_parent_folder(sqlite_url, tmp_path):
    """Check the SQLite file is created in a new folder and left in WAL mode."""
    SqlMetadataStore(sqlite_url).close()

    with sqlite3.connect(tmp_path / "sub" / "heysh.db") as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        version = conn.execute(
            "SELECT version_num FROM heysh_alembic_version"
        ).fetchall()

    assert (mode, version) == ("wal", [("0003",)])


def test_sql_metadata_migrated_schema_matches_table_definitions(sqlite_url, tmp_path):
    """Check the Alembic migration creates exactly the columns the queries use."""
    store = SqlMetadataStore(sqlite_url)
    store.close()
    engine = sa.create_engine(sqlite_url)
    inspector = sa.inspect(engine)

    migrated = {
        table: {(c["name"], c["nullable"]) for c in inspector.get_columns(table)}
        for table in inspector.get_table_names()
        if table != "heysh_alembic_version"
    }
    declared = {
        table.name: {(c.name, c.nullable) for c in table.columns}
        for table in _sql_tables.metadata.sorted_tables
    }
    primary_keys = {
        t: inspector.get_pk_constraint(t)["constrained_columns"] for t in migrated
    }
    engine.dispose()

    assert migrated == declared
    assert primary_keys == {
        t.name: [c.name for c in t.primary_key.columns]
        for t in _sql_tables.metadata.sorted_tables
    }


def test_sql_metadata_round_robin_is_fair_across_processes(sqlite_url):
    """Check 3 processes claiming 10 keys each share one round-robin sequence."""
    SqlMetadataStore(sqlite_url).close()  # Migrate once, outside the race.

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, sqlite_url, f"w{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    claims = {}
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        claims.update(json.loads(out))
    store = SqlMetadataStore(sqlite_url)
    again = {key: store.next_round_robin_index("d", 3, key) for key in claims}
    store.close()

    assert Counter(claims.values()) == {0: 10, 1: 10, 2: 10}
    assert again == claims


def test_sql_metadata_upgrade_keeps_decisions_written_before_usage_was_recorded(
    tmp_path,
):
    """Check a 0002 database migrates with its decisions, their usage read as 0."""
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0002")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO decisions (domain_id, doc_id, outcome, decided_by, score, "
                "model_name, model_version, thresholds, reason, decided_at) VALUES "
                "('d', 'old', 'approved', 'thresholds', 9.5, 'minilm', '3', '{}', "
                "'', '2026-11-30 10:00:00.000000')"
            )
        )
    engine.dispose()

    store = SqlMetadataStore(url)
    old = store.get_decision("d", "old")
    store.record_decision(
        DecisionRow("new", "d", "rejected", "thresholds", 1.0, "judge", "1", {},
                    tokens_in=900, tokens_out=40, cost_usd=0.0011)
    )  # fmt: skip
    new = store.get_decision("d", "new")
    store.close()

    assert (old.outcome, old.score, old.model_name) == ("approved", 9.5, "minilm")
    assert (old.tokens_in, old.tokens_out, old.cost_usd) == (0, 0, 0.0)
    assert (new.tokens_in, new.tokens_out, new.cost_usd) == (900, 40, 0.0011)


def test_sql_metadata_two_processes_migrate_a_new_database_once(tmp_path):
    """Check two processes opening a fresh database together both succeed."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    script = (
        "import sys; from heysh.stores.metadata_sql import SqlMetadataStore; "
        "SqlMetadataStore(sys.argv[1]).close(); print('ok')"
    )

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [w.communicate(timeout=120) for w in workers]

    assert [out for out, _ in results] == ["ok\n", "ok\n"], [err for _, err in results]


def test_sql_metadata_opens_while_another_program_writes_the_file(tmp_path):
    """Check opening waits for a rollback-journal writer instead of failing.

    The WAL switch ignores the busy timeout; without retries it fails at once
    with "database is locked" (seen when two processes created a fresh file).
    """
    path = tmp_path / "shared.db"
    with rollback_journal_writer(path, release_after_s=0.5):
        store = SqlMetadataStore(f"sqlite:///{path}", busy_timeout_s=10)

    store.upsert_domain("d", name="D", description="a domain", config_json="{}")
    journal_mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    store.close()

    assert journal_mode == "wal"


def test_sql_metadata_open_gives_up_after_the_busy_timeout(tmp_path):
    """Check a writer that never finishes makes opening fail with the reason."""
    path = tmp_path / "held.db"
    with (
        rollback_journal_writer(path, release_after_s=None),
        pytest.raises(StoreUnavailableError, match="database is locked"),
    ):
        SqlMetadataStore(f"sqlite:///{path}", busy_timeout_s=0.3)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "in-memory SQLite metadata database is not supported"),
        ("sqlite:///:memory:", "in-memory SQLite metadata database is not supported"),
        (
            "sqlite:///file::memory:?uri=true",
            "in-memory SQLite metadata database is not supported",
        ),
        (
            "sqlite:///file:db1?mode=memory&cache=shared&uri=true",
            "in-memory SQLite metadata database is not supported",
        ),
        ("sqlite:///file:/tmp/x.db?mode=ro&uri=true", "URI filenames"),
        ("mysql://u@h/db", "scheme 'mysql' is not supported"),
        ("not a url", "metadata URL is not a database URL"),
    ],
)
def test_sql_metadata_unsupported_url_raises_config_error(url, message):
    """Check a URL heysh cannot use is a ConfigError saying what to write."""
    with pytest.raises(ConfigError, match=message):
        SqlMetadataStore(url)


def test_sql_metadata_unreachable_postgres_raises_store_unavailable():
    """Check a PostgreSQL URL nobody listens on fails at open, hiding the password."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://heysh:s3cret@127.0.0.1:{port}/heysh"
    started = time.monotonic()

    with pytest.raises(
        StoreUnavailableError, match=r"heysh:\*\*\*@127\.0\.0\.1"
    ) as info:
        SqlMetadataStore(url, connect_timeout_s=3)

    assert "s3cret" not in str(info.value)
    assert "refused" in str(info.value).lower()
    assert time.monotonic() - started < 10


def test_sql_metadata_naive_timestamp_raises_data_error(sqlite_url):
    """Check a timestamp without a zone is refused rather than guessed."""
    store = SqlMetadataStore(sqlite_url)
    row = DocumentRow(
        "doc",
        "d",
        "ann",
        "f",
        "00",
        1,
        "pending",
        created_at=datetime(2024, 1, 1, 12, 0),
    )

    with pytest.raises(
        DataError, match="created_at 2024-01-01T12:00:00 has no time zone"
    ):
        store.upsert_document(row)
    assert store.get_document("d", "doc") is None
    store.close()


def test_sql_metadata_non_finite_score_raises_data_error(sqlite_url):
    """Check a NaN score is refused instead of stored."""
    store = SqlMetadataStore(sqlite_url)
    row = DecisionRow("doc", "d", "approved", "thresholds", float("nan"), "m", "1", {})

    with pytest.raises(DataError, match="decision score must be finite, got nan"):
        store.record_decision(row)
    assert store.get_decision("d", "doc") is None
    store.close()


def test_sql_metadata_path_under_a_file_is_store_unavailable(tmp_path):
    """Check a database path whose folder cannot be made names the folder."""
    (tmp_path / "plain-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'plain-file' / 'sub' / 'heysh.db'}"

    with pytest.raises(StoreUnavailableError, match="cannot create its folder"):
        SqlMetadataStore(url)
