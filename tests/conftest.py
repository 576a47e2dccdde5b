from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeApp, fake_app
from tests.services import throwaway_postgres, throwaway_redis_prefix


@pytest.fixture
def app() -> FakeApp:
    """Core use cases wired to in-memory fakes."""
    return fake_app()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'pantheon.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database (``postgresql+psycopg://``), dropped afterwards."""
    with throwaway_postgres() as url:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database Pantheon supports: the test runs once per backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'pantheon.db'}"
    else:
        with throwaway_postgres() as url:
            yield url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def redis_keyspace() -> Iterator[tuple[str, str]]:
    """``(redis_url, key_prefix)`` on the test Redis; the prefix's keys are deleted afterwards."""
    with throwaway_redis_prefix() as pair:
        yield pair
