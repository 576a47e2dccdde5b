"""Throwaway PostgreSQL databases and Redis keyspaces for integration tests.

``PANTHEON_TEST_POSTGRES_URL`` / ``PANTHEON_TEST_REDIS_URL`` name the servers. Unset:
those tests skip with the reason. Set but unreachable: they skip locally, and fail
under ``CI=true`` (CI must never go green by skipping the real databases).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

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
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {exc}")
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
