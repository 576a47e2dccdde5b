"""Use cases on a real database for the credit and payment tests, and ways to read what the
ledger, wallets and usage rows say afterwards (``test_billing_sql.py``)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Table, func, select

from pantheon_adapters.events.memory import InProcessTurnEvents
from pantheon_adapters.sql.database import Database
from pantheon_adapters.tasks.inprocess import InProcessTasks
from pantheon_core.domain.usage import LlmCall
from pantheon_core.domain.wallets import Bucket, LedgerEntry, Wallet, balances
from pantheon_core.ids import UserId
from pantheon_core.ports.payments import Payments
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import BillingPolicy, Deps, EnginePolicy, TopUpPack
from tests.fake_chat import FakeChatModel
from tests.fakes import FAST_ENGINE, AllowAllLimiter, FakeClock, FakeMailer
from tests.integration.sql_databases import migrated_database

WEBHOOK_SECRET = "whsec_test_pantheon_billing_sql"
STRIPE_KEY = "sk_test_pantheon_billing_sql"
POLICY = BillingPolicy(plan_prices={"starter": "price_starter", "pro": "price_pro"},
                       topups=(TopUpPack("pack_500", Decimal(500), "price_pack_500"),))
# Turns here only flush and beat as often as a real server would: 50 turns beating every
# 50 ms would spend the test queueing for SQLite's one writer.
CALM_ENGINE = replace(FAST_ENGINE, flush_interval_s=0.05, heartbeat_interval_s=1.0,
                      first_token_timeout_s=10.0, call_timeout_s=20.0)


@dataclass
class BillingApp:
    database: Database
    clock: FakeClock
    chat: FakeChatModel
    tasks: InProcessTasks
    deps: Deps
    uc: UseCases


@asynccontextmanager
async def billing_app(url: str, *, billing: BillingPolicy = POLICY,
                      payments: Payments | None = None,
                      engine: EnginePolicy = CALM_ENGINE) -> AsyncIterator[BillingApp]:
    """Use cases on a freshly migrated database. The clock starts at the real time (to the
    second), as Stripe signs with the real time and invoices' periods are real times."""
    async with migrated_database(url) as database:
        clock = FakeClock(datetime.fromtimestamp(int(time.time()), tz=UTC))
        chat, tasks = FakeChatModel(), InProcessTasks()
        deps = Deps(uow=database.unit_of_work, clock=clock, mailer=FakeMailer(),
                    limiter=AllowAllLimiter(), chat=chat, events=InProcessTurnEvents(),
                    tasks=tasks, engine=engine, payments=payments, billing=billing)
        try:
            yield BillingApp(database, clock, chat, tasks, deps, UseCases.build(deps))
        finally:
            await tasks.aclose()


async def ledger_of(app: BillingApp, user_id: str) -> Sequence[LedgerEntry]:
    async with app.database.unit_of_work() as uow:
        return await uow.ledger.all_for_user(UserId(user_id))


async def wallet_of(app: BillingApp, user_id: str) -> Wallet:
    async with app.database.unit_of_work() as uow:
        wallet = await uow.wallets.get(UserId(user_id))
    assert wallet is not None, f"no wallet for {user_id}"
    return wallet


async def usage_of(app: BillingApp, user_id: str) -> Sequence[LlmCall]:
    end = app.clock.now() + timedelta(days=1)
    async with app.database.unit_of_work() as uow:
        return await uow.usage.list_between(datetime(1970, 1, 1, tzinfo=UTC), end,
                                            user_id=UserId(user_id))


async def count_rows(app: BillingApp, table: Table) -> int:
    async with app.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table)))
                   .scalar_one())


async def assert_wallet_is_its_ledger(app: BillingApp, user_id: str) -> Wallet:
    """The wallet's buckets equal the sums of its ledger entries, and neither is below 0."""
    wallet = await wallet_of(app, user_id)
    sums = balances(await ledger_of(app, user_id))
    assert (wallet.plan_balance, wallet.topup_balance) == (sums[Bucket.PLAN], sums[Bucket.TOPUP])
    assert wallet.plan_balance >= 0 and wallet.topup_balance >= 0, wallet
    return wallet
