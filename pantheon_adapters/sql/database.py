"""The database handle bootstrap holds: one async engine, units of work, a probe."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pantheon_adapters.sql.pool import ping_when_idle
from pantheon_adapters.sql.sqlite import configure_sqlite
from pantheon_adapters.sql.unit_of_work import SqlUnitOfWork
from pantheon_adapters.sql.urls import async_url, sqlite_file
from pantheon_core.ports.unit_of_work import UnitOfWork

PING_IDLE_S = 10.0  # a pooled connection idle this long is pinged before it is reused


class Database:
    """An async SQLAlchemy engine for ``url`` (SQLite or PostgreSQL, any URL spelling).

    Building it connects to nothing; the first unit of work does. SQLite connections get
    foreign keys, a busy timeout and (for a file) WAL, and SQLAlchemy decides when
    transactions begin (see :mod:`pantheon_adapters.sql.sqlite`). PostgreSQL connections
    that sat in the pool for ``ping_idle_s`` or more are checked before reuse, as a managed
    server may drop idle ones (:mod:`pantheon_adapters.sql.pool`); connecting gives up
    after ``connect_timeout_s`` and waiting for a pooled connection after ``pool_timeout_s``
    (a unit of work then answers 503 ``database_unavailable`` instead of queueing for minutes).

    The pool keeps up to ``pool_size`` PostgreSQL connections open and, by default, opens no
    more (``max_overflow``): an overflow connection is closed as soon as it is returned, so
    under a load that keeps more than ``pool_size`` units of work busy every moment past it
    would open a new connection (a new server process) per unit of work — the pool waits for
    a free connection instead.
    """

    def __init__(self, url: str | URL, *, echo: bool = False, connect_timeout_s: float = 10.0,
                 pool_timeout_s: float = 30.0, ping_idle_s: float = PING_IDLE_S,
                 pool_size: int = 15, max_overflow: int = 0) -> None:
        self.url = async_url(url)
        if self.url.get_backend_name() == "sqlite":
            self.engine: AsyncEngine = create_async_engine(self.url, echo=echo)
            configure_sqlite(self.engine.sync_engine, wal=sqlite_file(self.url) is not None)
        else:
            self.engine = create_async_engine(
                self.url, echo=echo, pool_timeout=pool_timeout_s, pool_size=pool_size,
                max_overflow=max_overflow,
                connect_args={"timeout": connect_timeout_s})
            ping_when_idle(self.engine.sync_engine, ping_idle_s)

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work (a ``UnitOfWorkFactory``: core calls this once per use case)."""
        return SqlUnitOfWork(self.engine)

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
