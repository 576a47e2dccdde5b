"""Real databases for integration tests: migrated to head, disposed afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pantheon_adapters.sql import migrate
from pantheon_adapters.sql.database import Database
from tests.services import copy_migrated


@asynccontextmanager
async def migrated_database(url: str) -> AsyncIterator[Database]:
    """A :class:`Database` on ``url`` after ``upgrade head``, run in a worker thread while
    this test's event loop runs, as bootstrap does. A SQLite file not made yet is first a
    copy of one already migrated (:func:`copy_migrated`): the upgrade then has nothing to do."""
    await asyncio.to_thread(copy_migrated, url)
    await asyncio.to_thread(migrate.upgrade, url, "head")
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
