"""SQLite connection setup: foreign keys, WAL, a busy timeout, and who decides BEGIN.

The ``sqlite3`` module's legacy transaction handling starts transactions late and
never for SELECT, which breaks SQLite's serialisable isolation. Here the module's
handling is switched off and SQLAlchemy's ``begin`` event emits ``BEGIN`` itself:
``BEGIN IMMEDIATE`` when the connection's :data:`BEGIN_MODE` execution option asks for
it (a transaction that is going to write, see :class:`~pantheon_adapters.sql.tx.Tx`),
plain ``BEGIN`` otherwise. An immediate transaction takes SQLite's single write lock up
front, waiting up to the busy timeout for it, so two writers that read-then-write queue
instead of failing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

BEGIN_MODE = "pantheon_sqlite_begin"
IMMEDIATE = "IMMEDIATE"
DEFERRED = "DEFERRED"
BUSY_TIMEOUT_MS = 30_000
_BEGIN = {IMMEDIATE: "BEGIN IMMEDIATE", DEFERRED: "BEGIN"}


def configure_sqlite(engine: Engine, *, foreign_keys: bool = True, wal: bool = True) -> None:
    """Install the connect and begin hooks on a (sync, or an async engine's sync) engine.

    Migrations pass ``foreign_keys=False``: Alembic's batch mode rebuilds tables, which
    enforced foreign keys would turn into cascading deletes.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_MODE, DEFERRED)
        conn.exec_driver_sql(_BEGIN[mode])
