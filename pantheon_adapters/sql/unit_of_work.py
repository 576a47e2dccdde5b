"""The SQL unit of work: one connection, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pantheon_adapters.sql.agents import SqlAgentRepository
from pantheon_adapters.sql.app_settings import SqlAppSettingRepository
from pantheon_adapters.sql.audit import SqlAuditRepository
from pantheon_adapters.sql.credentials import SqlCredentialRepository
from pantheon_adapters.sql.events import SqlEventRepository
from pantheon_adapters.sql.files import SqlFileRepository
from pantheon_adapters.sql.job_runs import SqlJobRunRepository
from pantheon_adapters.sql.ledger import SqlLedgerRepository
from pantheon_adapters.sql.payment_events import SqlPaymentEventRepository
from pantheon_adapters.sql.pricing import SqlPricingRepository
from pantheon_adapters.sql.retention import SqlRetentionRepository
from pantheon_adapters.sql.rollups import SqlRollupRepository
from pantheon_adapters.sql.rooms import SqlRoomRepository
from pantheon_adapters.sql.sessions import SqlSessionRepository
from pantheon_adapters.sql.steps import SqlStepRepository
from pantheon_adapters.sql.tool_usage import SqlToolUsageRepository
from pantheon_adapters.sql.turns import SqlTurnRepository
from pantheon_adapters.sql.tx import Tx
from pantheon_adapters.sql.usage import SqlUsageRepository
from pantheon_adapters.sql.users import SqlUserRepository
from pantheon_adapters.sql.wallets import SqlWalletRepository
from pantheon_core.errors import Unavailable


class SqlUnitOfWork:
    """``UnitOfWork`` on one pooled connection of ``engine``.

    ``async with`` takes a connection and opens the transaction (begun at its first
    statement, see :class:`Tx`); ``commit`` makes the work visible; leaving the block
    rolls back whatever was not committed and returns the connection to the pool. A
    unit of work stays usable after ``commit`` (the next statement starts a new
    transaction), and may be entered again after it has been left.
    """

    users: SqlUserRepository
    rooms: SqlRoomRepository
    agents: SqlAgentRepository
    turns: SqlTurnRepository
    credentials: SqlCredentialRepository
    sessions: SqlSessionRepository
    steps: SqlStepRepository
    events: SqlEventRepository
    usage: SqlUsageRepository
    pricing: SqlPricingRepository
    settings: SqlAppSettingRepository
    files: SqlFileRepository
    job_runs: SqlJobRunRepository
    tool_usage: SqlToolUsageRepository
    wallets: SqlWalletRepository
    ledger: SqlLedgerRepository
    payment_events: SqlPaymentEventRepository
    audit: SqlAuditRepository
    rollups: SqlRollupRepository
    retention: SqlRetentionRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._tx: Tx | None = None

    async def _connect(self) -> AsyncConnection:
        """A pooled connection; none within the connect or pool timeout (the server is down or
        every connection is busy) is ``Unavailable`` (503 ``database_unavailable``), not a bug."""
        try:
            return await self._engine.connect()
        except (PoolTimeout, DBAPIError, OSError, TimeoutError) as exc:
            # asyncpg raises OSError (refused, unreachable) and TimeoutError while connecting
            raise Unavailable("The database is not answering right now; try again shortly.",
                              code="database_unavailable") from exc

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._tx is not None:
            raise RuntimeError("This unit of work is already in use.")
        tx = Tx(await self._connect())
        self._tx = tx
        self.users = SqlUserRepository(tx)
        self.rooms = SqlRoomRepository(tx)
        self.agents = SqlAgentRepository(tx)
        self.turns = SqlTurnRepository(tx)
        self.credentials = SqlCredentialRepository(tx)
        self.sessions = SqlSessionRepository(tx)
        self.steps = SqlStepRepository(tx)
        self.events = SqlEventRepository(tx)
        self.usage = SqlUsageRepository(tx)
        self.pricing = SqlPricingRepository(tx)
        self.settings = SqlAppSettingRepository(tx)
        self.files = SqlFileRepository(tx)
        self.job_runs = SqlJobRunRepository(tx)
        self.tool_usage = SqlToolUsageRepository(tx)
        self.wallets = SqlWalletRepository(tx)
        self.ledger = SqlLedgerRepository(tx)
        self.payment_events = SqlPaymentEventRepository(tx)
        self.audit = SqlAuditRepository(tx)
        self.rollups = SqlRollupRepository(tx)
        self.retention = SqlRetentionRepository(tx)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        tx, self._tx = self._active(), None
        try:
            await tx.rollback()
        finally:
            await tx.close()

    async def commit(self) -> None:
        await self._active().commit()

    async def rollback(self) -> None:
        await self._active().rollback()

    def _active(self) -> Tx:
        if self._tx is None:
            raise RuntimeError("Use the unit of work inside 'async with'.")
        return self._tx
