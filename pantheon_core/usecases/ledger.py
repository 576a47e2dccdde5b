"""Opening, checking and changing wallets inside a unit of work: the one place that appends to
the ledger, so a wallet row and its entries always move together (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.plans import allowed_models, check_models
from pantheon_core.domain.wallets import (
    Bucket,
    Change,
    InsufficientCredits,
    Wallet,
    expire_plan,
    grant,
)
from pantheon_core.errors import Conflict
from pantheon_core.ids import UserId
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.deps import Deps


async def apply(uow: UnitOfWork, change: Change) -> Wallet:
    """Append the change's entries and store the wallet after them (same transaction)."""
    if change.entries:
        await uow.ledger.append(change.entries)
        await uow.wallets.update(change.wallet)
    return change.wallet


async def open_wallet(uow: UnitOfWork, deps: Deps, user_id: UserId, *,
                      lock: bool = True) -> Wallet:
    """The user's wallet, locked for this transaction: created on first use with the welcome
    grant, and with plan credits past their period expired."""
    now = deps.clock.now()
    wallet = await uow.wallets.get(user_id, for_update=lock)
    if wallet is None:
        try:
            await uow.wallets.add(Wallet(user_id=user_id, updated_at=now))
        except Conflict:  # a concurrent first use created it (and waited for us): use that
            wallet = await uow.wallets.get(user_id, for_update=lock)
            if wallet is None:
                raise
        else:
            wallet = Wallet(user_id=user_id, updated_at=now)
            welcome = deps.billing.welcome_credits
            if welcome > 0:
                wallet = await apply(uow, grant(wallet, Bucket.TOPUP, welcome,
                                                key=f"welcome:{user_id}", now=now,
                                                note="welcome credits"))
    return await apply(uow, expire_plan(wallet, now=now))


async def read_wallet(uow: UnitOfWork, deps: Deps, user_id: UserId) -> Wallet:
    """The user's wallet as it stands, for a reader: read without a lock when it exists and
    has nothing to expire (the usual case: on PostgreSQL no transaction at all); otherwise
    ``open_wallet`` (which locks, creates or expires — the caller commits)."""
    wallet = await uow.wallets.get(user_id)
    if wallet is not None and not expire_plan(wallet, now=deps.clock.now()).entries:
        return wallet
    return await open_wallet(uow, deps, user_id)


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else \
        start.replace(month=start.month + 1)


async def check_cap(uow: UnitOfWork, wallet: Wallet, now: datetime,
                    more: Decimal = Decimal(0)) -> None:
    """``credit_cap_reached`` when the month's burns (plus ``more``) pass the admin's cap."""
    if wallet.monthly_cap is None:
        return
    start = month_start(now)
    burned = await uow.ledger.burned_between(wallet.user_id, start, next_month(start))
    if burned + more > wallet.monthly_cap or burned >= wallet.monthly_cap:
        raise InsufficientCredits(
            f"This account's monthly limit of {wallet.monthly_cap} credits is reached "
            f"({burned} used this month).", code="credit_cap_reached",
            details={"cap": str(wallet.monthly_cap), "used": str(burned)})


async def check_can_send(uow: UnitOfWork, deps: Deps, user_id: UserId,
                         models: Iterable[ModelAlias]) -> Wallet:
    """Before a turn is created: the models are allowed, and the wallet can pay for
    something — else ``model_not_allowed`` (403) / ``insufficient_credits`` (402), and
    nothing runs."""
    wallet = await open_wallet(uow, deps, user_id)
    check_models(models, allowed_models(wallet.plan_id, wallet.allowed_models))
    if wallet.available <= 0:
        raise InsufficientCredits(
            "Your wallet is empty: buy a top-up or subscribe to a plan to keep chatting.",
            details={"available": str(wallet.available)})
    await check_cap(uow, wallet, deps.clock.now())
    return wallet
