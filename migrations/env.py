"""Alembic environment: migrations run on a synchronous engine built from the Config's URL.

Sync drivers (``sqlite3``, psycopg 3 in sync mode) keep this free of event loops, so it
runs in a worker thread while the app's loop runs elsewhere. SQLite runs with foreign
keys off (batch mode rebuilds tables) and with transactional DDL (``BEGIN`` emitted by
SQLAlchemy), so a failing migration leaves nothing half-done.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from pantheon_adapters.sql.migrate import URL_ATTRIBUTE
from pantheon_adapters.sql.sqlite import configure_sqlite
from pantheon_adapters.sql.tables import metadata
from pantheon_adapters.sql.urls import sqlite_file, sync_url


def _url() -> str:
    config = context.config
    url = config.attributes.get(URL_ATTRIBUTE) or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("No database URL: pass one through pantheon_adapters.sql.migrate.")
    return str(url)


def _migrate(**where: Any) -> None:
    """Run the pending migrations in one transaction; batch mode keeps them SQLite-safe."""
    context.configure(target_metadata=metadata, render_as_batch=True, compare_type=True, **where)
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    _migrate(url=sync_url(_url()), literal_binds=True)


def run_online() -> None:
    url = sync_url(_url())
    engine = create_engine(url, poolclass=NullPool)
    if url.get_backend_name() == "sqlite":
        configure_sqlite(engine, foreign_keys=False, wal=sqlite_file(url) is not None)
    try:
        with engine.connect() as connection:
            _migrate(connection=connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
