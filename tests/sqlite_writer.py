"""Another program writing a SQLite file, holding its write lock for a while."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def rollback_journal_writer(
    path: Path, release_after_s: float | None
) -> Iterator[None]:
    """Hold a write lock on ``path`` (rollback journal, not WAL) in the block.

    The lock is released after ``release_after_s`` seconds, or at the end of
    the block when it is None; the writer's table is ``other_program``.
    """
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE IF NOT EXISTS other_program (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other_program VALUES (1)")
    release = None
    if release_after_s is not None:
        release = threading.Timer(release_after_s, writer.execute, args=("COMMIT",))
        release.start()
    try:
        yield
    finally:
        if release is not None:
            release.join()
        writer.close()
