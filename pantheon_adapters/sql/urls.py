"""Database URLs: the async driver the app runs on, and the sync one migrations run on.

People paste ``postgres://…``, ``postgresql://…`` or ``sqlite:///…``. The app runs
PostgreSQL on asyncpg and SQLite on aiosqlite; migrations and other blocking tools run on
psycopg 3 and the standard ``sqlite3`` module. asyncpg: measured in ``bench/api_load``
(200 clients, each streaming a turn, on 2 cores), it took a read's server CPU from 9.2 to
6.8 ms and its p95 from 790 to 107 ms against psycopg's async mode, whose every statement
registers and removes an event-loop reader.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
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
