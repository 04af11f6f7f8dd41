"""Put a SQLite connection in WAL mode even while other processes open the file.

``PRAGMA journal_mode = WAL`` needs the database to itself for a moment, and
SQLite does not call the busy handler for it: while another connection holds a
write lock on a rollback-journal database (two processes creating a fresh file
together, or a writer that predates WAL), the pragma fails at once with
"database is locked" whatever ``busy_timeout`` says. This module retries it
until the busy timeout has passed, as the busy handler would have.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

_logger = logging.getLogger(__name__)

# Short first sleeps because the lock is usually held for a few milliseconds
# (one CREATE TABLE); the cap keeps a long wait from turning into busy polling.
_FIRST_SLEEP_S = 0.005
_MAX_SLEEP_S = 0.2


def switch_to_wal(connection: Any, timeout_s: float) -> str:
    """Set WAL journal mode, retrying while another connection holds a lock.

    Args:
        connection: A DB-API SQLite connection (``sqlite3.Connection`` or the
            driver connection SQLAlchemy wraps).
        timeout_s: How long to keep trying, normally the busy timeout.

    Returns:
        The journal mode in force afterwards: ``"wal"``, or ``"memory"`` for an
        in-memory database, which has no WAL.

    Raises:
        sqlite3.OperationalError: Still locked after ``timeout_s``, or any
            other SQLite error.
    """
    deadline = time.monotonic() + timeout_s
    sleep_s = _FIRST_SLEEP_S
    while True:
        try:
            cursor = connection.cursor()
            try:
                mode = str(cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            finally:
                cursor.close()
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() >= deadline:
                raise
        else:
            # SQLite answers a refused switch with the old mode, not an error.
            if mode.lower() in ("wal", "memory") or time.monotonic() >= deadline:
                if mode.lower() not in ("wal", "memory"):
                    _logger.warning("sqlite_wal_refused", extra={"journal_mode": mode})
                return mode.lower()
        time.sleep(min(sleep_s, max(0.0, deadline - time.monotonic())))
        sleep_s = min(sleep_s * 2, _MAX_SLEEP_S)
