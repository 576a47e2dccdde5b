from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeApp, fake_app
from tests.services import drop_templates, throwaway_postgres, throwaway_redis_prefix


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what importing and collecting built (modules, classes, the routers and schemas
    they hold: ~100k objects that live as long as the process) out of the garbage
    collector's reach, so that each full collection during the run walks only what the
    tests made: it halves the time spent collecting."""
    gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the migrated templates this test process copied databases from."""
    drop_templates()


_FASTAPI_CALLABLE_CACHES = ("_is_gen_callable_cached", "_is_async_gen_callable_cached",
                            "_is_coroutine_callable_cached")


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Let each test's FastAPI app be garbage once the test is over.

    FastAPI memoises, per endpoint function, whether it is a coroutine or a generator, in
    module-level LRU caches of 4096 entries. A server has one app; a test process builds one
    per test, and an endpoint defined inside ``create_app`` (the docs page) closes over its
    app, so every app of the session stayed alive: millions of objects (~1 GB by the end of
    a run) that every full garbage collection walked again. Emptying the caches costs a few
    re-checks of the next app's endpoints."""
    models = sys.modules.get("fastapi.dependencies.models")
    for name in _FASTAPI_CALLABLE_CACHES:
        cache_clear = getattr(getattr(models, name, None), "cache_clear", None)
        if cache_clear is not None:
            cache_clear()


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
