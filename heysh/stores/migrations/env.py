"""Alembic environment for heysh's metadata database.

heysh runs these migrations itself when a ``SqlMetadataStore`` opens, passing
its own connection in ``config.attributes["connection"]``; the Alembic command
line works too, with ``-x url=...`` or ``sqlalchemy.url`` set. Logging is left
to the entry point (no ``fileConfig`` here).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from heysh.stores._sql_tables import VERSION_TABLE


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite alters tables by copying them.
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Upgrade through the caller's connection, or one made from the URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or (
        context.config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError(
            "no database URL: pass -x url=... or set sqlalchemy.url for alembic"
        )
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run_on(conn)
    finally:
        engine.dispose()


# Alembic imports this file inside its environment; a plain import (such as
# pytest collecting doctests) must not try to migrate anything.
if hasattr(context, "config"):
    if context.is_offline_mode():
        raise RuntimeError("heysh migrations run online only; pass a database URL")
    run_migrations_online()
