"""Throwaway PostgreSQL databases and Redis keyspaces for integration tests.

``PANTHEON_TEST_POSTGRES_URL`` / ``PANTHEON_TEST_REDIS_URL`` name the servers. Unset:
those tests skip with the reason. Set but unreachable: they skip locally, and fail
under ``CI=true`` (CI must never go green by skipping the real databases).

Every name is random, so test processes running side by side (``pytest -n``) never share a
database or a key.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    import psycopg

POSTGRES_ENV = "PANTHEON_TEST_POSTGRES_URL"
REDIS_ENV = "PANTHEON_TEST_REDIS_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the real services must be reachable)", pytrace=False)
    pytest.skip(reason)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new, empty database on the test server: yields its URL, drops it afterwards."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        unavailable(f"{POSTGRES_ENV} is not set")
    assert base is not None
    import psycopg

    name = f"pantheon_test_{uuid.uuid4().hex[:12]}"
    admin_url = base.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            _tune_for_tests(conn, name)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {exc}")
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tune_for_tests(conn: psycopg.Connection[Any], name: str) -> None:
    """A commit in a throwaway database returns without waiting for its WAL to reach the
    disk: what other sessions see is unchanged, only a server crash could lose the last
    commits, and the database is dropped anyway."""
    conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


_sqlite_template: str | None = None  # this test process's migrated SQLite file
_template_lock = threading.Lock()


def _migrated_sqlite_template() -> str:
    """A SQLite file migrated to head, once per test process (:func:`drop_templates`)."""
    global _sqlite_template
    with _template_lock:
        if _sqlite_template is None:
            from pantheon_adapters.sql import migrate

            path = Path(tempfile.mkdtemp(prefix="pantheon-template-")) / "pantheon.db"
            migrate.upgrade(f"sqlite+aiosqlite:///{path}", "head")
            # the migration's last connection has closed: its write-ahead log is merged
            assert not path.with_name(path.name + "-wal").exists()
            _sqlite_template = str(path)
        return _sqlite_template


def drop_templates() -> None:
    """Remove what :func:`copy_migrated` copied from (at the end of the test session)."""
    global _sqlite_template
    with _template_lock:
        if _sqlite_template is not None:
            shutil.rmtree(Path(_sqlite_template).parent, ignore_errors=True)
            _sqlite_template = None


def copy_migrated(url: str) -> bool:
    """Make a SQLite database that does not exist yet a copy of one migrated to head (a file
    copy takes a millisecond, migrating ~0.1 s). Returns whether it copied; anything else is
    left as it is. PostgreSQL gains nothing here: ``CREATE DATABASE … TEMPLATE`` of a
    migrated database takes as long as migrating an empty one."""
    from pantheon_adapters.sql.urls import sqlite_file

    path = sqlite_file(url) if url.startswith("sqlite") else None
    if path is None or Path(path).exists() or not Path(path).parent.is_dir():
        return False
    shutil.copyfile(_migrated_sqlite_template(), path)
    return True


@contextmanager
def throwaway_redis_prefix() -> Iterator[tuple[str, str]]:
    """``(redis_url, key_prefix)``: a unique prefix whose keys are deleted afterwards."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        unavailable(f"{REDIS_ENV} is not set")
    assert url is not None
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_ENV} is unreachable: {exc}")
    prefix = f"pantheon-test:{uuid.uuid4().hex[:12]}:"
    try:
        yield url, prefix
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()
