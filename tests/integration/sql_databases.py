"""Real databases for integration tests: migrated to head, disposed afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pantheon_adapters.sql import migrate
from pantheon_adapters.sql.database import Database


@asynccontextmanager
async def migrated_database(url: str) -> AsyncIterator[Database]:
    """A :class:`Database` on ``url`` after ``upgrade head``, run in a worker thread while
    this test's event loop runs, as bootstrap does."""
    await asyncio.to_thread(migrate.upgrade, url, "head")
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
