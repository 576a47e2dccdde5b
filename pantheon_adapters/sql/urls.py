"""Database URLs: the async driver the app runs on, and the sync one migrations run on.

People paste ``postgres://…``, ``postgresql://…`` or ``sqlite:///…``; Pantheon runs
PostgreSQL on psycopg 3 (which is both sync and async under one driver name) and
SQLite on aiosqlite in the app and the standard ``sqlite3`` module in migrations.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def _parse(url: str | URL) -> URL:
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return make_url(url)


def async_url(url: str | URL) -> URL:
    """``url`` with the async driver Pantheon uses for its backend."""
    parsed = _parse(url)
    return parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.get_backend_name(), parsed.drivername))


def sync_url(url: str | URL) -> URL:
    """``url`` with a synchronous driver, for Alembic and other blocking tools."""
    parsed = _parse(url)
    return parsed.set(drivername=_SYNC_DRIVERS.get(parsed.get_backend_name(), parsed.drivername))


def sqlite_file(url: str | URL) -> str | None:
    """The file path of a SQLite URL (``None`` for other backends and in-memory databases)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database
