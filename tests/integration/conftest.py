"""Fixtures the repository contract tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes import FakeUnitOfWork, Store
from tests.integration.contract import Factory
from tests.integration.sql_databases import migrated_database


@pytest.fixture(params=["fake", "sqlite", "postgres"])
async def uow(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    """A unit-of-work factory over an empty store or a freshly migrated database."""
    if request.param == "fake":
        store = Store()
        yield lambda: FakeUnitOfWork(store)
        return
    url = request.getfixturevalue(f"{request.param}_url")
    async with migrated_database(url) as database:
        yield database.unit_of_work


@pytest.fixture
def is_fake(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.callspec.params.get("uow") == "fake")
