from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from pantheon_core.ports.repositories import (
    AgentRepository,
    AppSettingRepository,
    AuditRepository,
    CredentialRepository,
    EventRepository,
    FileRepository,
    JobRunRepository,
    LedgerRepository,
    PaymentEventRepository,
    PricingRepository,
    RetentionRepository,
    RollupRepository,
    RoomRepository,
    SessionRepository,
    StepRepository,
    ToolUsageRepository,
    TurnRepository,
    UsageRepository,
    UserRepository,
    WalletRepository,
)


class UnitOfWork(Protocol):
    """One transaction over every repository.

    Used as ``async with uow_factory() as uow: ...; await uow.commit()``. Leaving
    the block without ``commit`` (or by an exception) rolls everything back, so a
    use case that raises changes nothing.
    """

    @property
    def users(self) -> UserRepository: ...
    @property
    def rooms(self) -> RoomRepository: ...
    @property
    def agents(self) -> AgentRepository: ...
    @property
    def turns(self) -> TurnRepository: ...
    @property
    def credentials(self) -> CredentialRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def steps(self) -> StepRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def usage(self) -> UsageRepository: ...
    @property
    def pricing(self) -> PricingRepository: ...
    @property
    def settings(self) -> AppSettingRepository: ...
    @property
    def files(self) -> FileRepository: ...
    @property
    def job_runs(self) -> JobRunRepository: ...
    @property
    def tool_usage(self) -> ToolUsageRepository: ...
    @property
    def wallets(self) -> WalletRepository: ...
    @property
    def ledger(self) -> LedgerRepository: ...
    @property
    def payment_events(self) -> PaymentEventRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def rollups(self) -> RollupRepository: ...
    @property
    def retention(self) -> RetentionRepository: ...

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
