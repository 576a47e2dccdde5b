"""The contract of the wallet, ledger, payment-event and audit repositories, run on the fake,
SQLite and PostgreSQL.

Money comes back as the same ``Decimal`` at 6 places; listings keep their documented order;
a duplicate idempotency key is a ``Conflict`` that leaves the unit of work usable. On the
real databases the ledger refuses UPDATE and DELETE, a locked wallet is never overdrawn by
concurrent units of work, and one payment event is claimed once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from pantheon_adapters.sql.database import Database
from pantheon_core.domain.users import User
from pantheon_core.domain.wallets import (
    Bucket,
    EntryKind,
    LedgerEntry,
    Wallet,
    balances,
    credits,
    grant,
    reserve,
    settle,
)
from pantheon_core.errors import Conflict
from pantheon_core.ids import UserId, new_id
from tests.integration.contract import T0, Factory, a_user, seed

PARIS = timezone(timedelta(hours=1))
SMALL, POWER, LARGE = Decimal("0.000001"), Decimal("4180.123456"), Decimal("123456789012.345678")


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def an_entry(user_id: UserId, amount: Decimal | str, *, at: datetime = T0,
             kind: EntryKind = EntryKind.ADJUST, bucket: Bucket = Bucket.TOPUP,
             key: str | None = None, reservation_id: str | None = None,
             **extra: Any) -> LedgerEntry:
    return LedgerEntry(id=new_id(), user_id=user_id, kind=kind, bucket=bucket,
                       amount=credits(Decimal(amount)), idempotency_key=key or f"k:{new_id()}",
                       created_at=at, reservation_id=reservation_id, **extra)


async def users(uow: Factory, count: int = 1) -> list[User]:
    """``count`` stored users (a wallet belongs to a stored user)."""
    found = [a_user(f"user{n}@example.com") for n in range(count)]
    await seed(uow, *found)
    return found


async def appended(uow: Factory, *batches: list[LedgerEntry]) -> None:
    async with uow() as work:
        for batch in batches:
            await work.ledger.append(batch)
        await work.commit()


def database_of(uow: Factory) -> Database:
    database = getattr(uow, "__self__", None)
    assert isinstance(database, Database), "a database-only test ran on the fake"
    return database


# --- wallets -------------------------------------------------------------------------


async def test_a_wallet_round_trips_every_field_exactly(uow: Factory) -> None:
    ada, bob, cy = await users(uow, 3)
    full = Wallet(user_id=ada.id, plan_balance=POWER, topup_balance=SMALL, plan_id="power",
                  period_end=seconds(86_400).astimezone(PARIS),
                  updated_at=T0.astimezone(PARIS), stripe_customer_id="cus_ada",
                  subscription_id="sub_ada", subscription_status="active", monthly_cap=LARGE,
                  allowed_models=("llama", "premium"), entries=7)
    bare = Wallet(user_id=bob.id)
    empty_policy = Wallet(user_id=cy.id, topup_balance=Decimal("-0.5"), allowed_models=())
    async with uow() as work:
        for wallet in (full, bare, empty_policy):
            await work.wallets.add(wallet)
        await work.commit()
    async with uow() as work:
        loaded = await work.wallets.get(ada.id)
        assert await work.wallets.get(bob.id, for_update=True) == bare
        assert await work.wallets.get(UserId(new_id())) is None
        assert await work.wallets.get(UserId(new_id()), for_update=True) is None
        no_models = await work.wallets.get(cy.id)
    assert loaded == full and loaded is not None
    assert str(loaded.plan_balance) == "4180.123456" and str(loaded.topup_balance) == "0.000001"
    assert loaded.monthly_cap == LARGE and isinstance(loaded.monthly_cap, Decimal)
    assert loaded.available == Decimal("4180.123457")
    assert loaded.allowed_models == ("llama", "premium")
    assert isinstance(loaded.allowed_models, tuple)
    assert loaded.period_end is not None and loaded.period_end.utcoffset() is not None
    assert no_models is not None and no_models.allowed_models == ()
    assert no_models.topup_balance == Decimal("-0.5")


async def test_wallet_updates_and_lookups(uow: Factory) -> None:
    owners = await users(uow, 4)
    wallets = [Wallet(user_id=u.id) for u in owners]
    async with uow() as work:
        for wallet in reversed(wallets):
            await work.wallets.add(wallet)
        await work.commit()
    ordered = sorted(wallets, key=lambda w: w.user_id)
    changed = replace(ordered[1], plan_balance=Decimal("495"), plan_id="starter",
                      stripe_customer_id="cus_1", subscription_status="past_due",
                      monthly_cap=Decimal("10.5"), allowed_models=("qwen",), entries=2,
                      updated_at=seconds(5))
    async with uow() as work:
        assert await work.wallets.get(changed.user_id, for_update=True) == ordered[1]
        await work.wallets.update(changed)
        await work.wallets.update(Wallet(user_id=UserId(new_id())))  # not stored: no-op
        await work.commit()
    async with uow() as work:
        assert await work.wallets.get(changed.user_id) == changed
        assert await work.wallets.find_by_customer("cus_1") == changed
        assert await work.wallets.find_by_customer("cus_nobody") is None
        assert await work.wallets.list_all() == [ordered[0], changed, *ordered[2:]]
        assert await work.wallets.list_all(limit=2) == [ordered[0], changed]
        assert await work.wallets.list_all(after=changed.user_id) == ordered[2:]
        assert await work.wallets.list_all(after=ordered[3].user_id) == []
        cleared = replace(changed, monthly_cap=None, allowed_models=None,
                          stripe_customer_id=None)
        await work.wallets.update(cleared)
        await work.commit()
    async with uow() as work:
        assert await work.wallets.get(changed.user_id) == cleared


async def test_a_second_wallet_or_a_taken_customer_is_a_conflict(uow: Factory) -> None:
    ada, bob = await users(uow, 2)
    async with uow() as work:
        await work.wallets.add(Wallet(user_id=ada.id, stripe_customer_id="cus_ada"))
        await work.commit()
    async with uow() as work:
        with pytest.raises(Conflict) as again:
            await work.wallets.add(Wallet(user_id=ada.id))
        assert again.value.code == "wallet_exists"
        with pytest.raises(Conflict) as taken:
            await work.wallets.add(Wallet(user_id=bob.id, stripe_customer_id="cus_ada"))
        assert taken.value.code == "duplicate_stripe_customer"
        await work.wallets.add(Wallet(user_id=bob.id))  # the unit of work is still usable
        with pytest.raises(Conflict) as moved:
            await work.wallets.update(Wallet(user_id=bob.id, stripe_customer_id="cus_ada"))
        assert moved.value.code == "duplicate_stripe_customer"
        await work.wallets.update(Wallet(user_id=bob.id, stripe_customer_id="cus_bob"))
        await work.commit()
    async with uow() as work:
        assert await work.wallets.find_by_customer("cus_bob") == Wallet(
            user_id=bob.id, stripe_customer_id="cus_bob")
        found = await work.wallets.find_by_customer("cus_ada")
        assert found is not None and found.user_id == ada.id


async def test_updating_a_wallet_that_is_not_stored_does_nothing(uow: Factory) -> None:
    ada, bob = await users(uow, 2)
    async with uow() as work:
        await work.wallets.add(Wallet(user_id=ada.id, stripe_customer_id="cus_ada"))
        await work.wallets.update(Wallet(user_id=bob.id, stripe_customer_id="cus_bob"))
        await work.wallets.update(Wallet(user_id=bob.id, stripe_customer_id="cus_ada"))
        await work.wallets.update(Wallet(user_id=ada.id, plan_balance=Decimal("2"),
                                         stripe_customer_id="cus_ada"))  # its own id: fine
        await work.commit()
    async with uow() as work:
        assert await work.wallets.get(bob.id) is None
        stored = await work.wallets.get(ada.id)
        assert stored is not None and stored.plan_balance == Decimal("2")


# --- the ledger ----------------------------------------------------------------------


async def test_ledger_entries_round_trip_every_field_exactly(uow: Factory) -> None:
    ada = UserId(new_id())  # the ledger holds user ids without a foreign key
    full = an_entry(ada, "-4180.123456", at=T0.astimezone(PARIS), kind=EntryKind.RESERVE,
                    bucket=Bucket.PLAN, key="reserve:r1:plan", reservation_id="r1",
                    reference="call-1", note="a hold ✓", actor_id="admin-1")
    tiny = an_entry(ada, SMALL, at=seconds(1), kind=EntryKind.GRANT)
    huge = an_entry(ada, LARGE, at=seconds(2), kind=EntryKind.GRANT)
    await appended(uow, [full, tiny, huge])
    async with uow() as work:
        stored = await work.ledger.all_for_user(ada)
        assert await work.ledger.has_key("reserve:r1:plan")
        assert not await work.ledger.has_key("reserve:r1:topup")
    assert stored == [full, tiny, huge]
    assert [str(e.amount) for e in stored] == ["-4180.123456", "0.000001",
                                               "123456789012.345678"]
    assert stored[0].kind is EntryKind.RESERVE and stored[0].bucket is Bucket.PLAN
    assert all(e.created_at.utcoffset() is not None for e in stored)
    assert balances(stored) == {Bucket.PLAN: Decimal("-4180.123456"),
                                Bucket.TOPUP: LARGE + SMALL}


def cursor(entry: LedgerEntry) -> tuple[datetime, str]:
    return (entry.created_at, entry.id)


async def test_entries_are_listed_newest_first_a_page_at_a_time(uow: Factory) -> None:
    ada, bob = UserId(new_id()), UserId(new_id())
    kinds = [EntryKind.GRANT, EntryKind.BURN, EntryKind.ADJUST, EntryKind.BURN, EntryKind.REFUND]
    entries = [an_entry(ada, str(n + 1), at=seconds(n), kind=kind) for n, kind in enumerate(kinds)]
    tie_a, tie_b = sorted((an_entry(ada, "-1", at=seconds(9), kind=EntryKind.BURN),
                           an_entry(ada, "-2", at=seconds(9), kind=EntryKind.BURN)),
                          key=lambda e: e.id)
    await appended(uow, [entries[3], tie_b, entries[0]], [entries[4], entries[1]],
                   [tie_a, entries[2], an_entry(bob, "7", at=seconds(3))])
    newest = [tie_b, tie_a, *reversed(entries)]
    async with uow() as work:
        assert await work.ledger.list_for_user(ada) == newest
        first = await work.ledger.list_for_user(ada, limit=1)
        assert first == newest[:1]  # the cursor splits entries that share a timestamp
        second = await work.ledger.list_for_user(ada, limit=3, before=cursor(first[-1]))
        assert second == newest[1:4]
        third = await work.ledger.list_for_user(ada, limit=3, before=cursor(second[-1]))
        assert third == newest[4:]
        assert await work.ledger.list_for_user(ada, before=cursor(entries[0])) == []
        burns = await work.ledger.list_for_user(ada, kinds=[EntryKind.BURN])
        assert burns == [tie_b, tie_a, entries[3], entries[1]]
        some = await work.ledger.list_for_user(ada, kinds=[EntryKind.GRANT, EntryKind.REFUND],
                                               before=(seconds(4), ""))
        assert some == [entries[0]]
        assert await work.ledger.list_for_user(ada, kinds=[EntryKind.EXPIRE]) == []
        assert await work.ledger.list_for_user(UserId(new_id())) == []
        assert await work.ledger.all_for_user(ada) == [*entries, tie_a, tie_b]
        assert [e.amount for e in await work.ledger.all_for_user(bob)] == [Decimal(7)]


async def test_a_duplicate_idempotency_key_is_a_conflict_and_stores_nothing(
        uow: Factory) -> None:
    ada = UserId(new_id())
    first = an_entry(ada, "5", key="grant:1")
    await appended(uow, [first])
    later = an_entry(ada, "3", at=seconds(1), key="grant:2")
    async with uow() as work:
        with pytest.raises(Conflict) as clash:
            await work.ledger.append([later, an_entry(ada, "9", key="grant:1")])
        assert clash.value.code == "duplicate_ledger_entry"
        with pytest.raises(Conflict) as twice:
            await work.ledger.append([an_entry(ada, "1", key="dup"),
                                      an_entry(ada, "1", key="dup")])
        assert twice.value.code == "duplicate_ledger_entry"
        assert not await work.ledger.has_key("grant:2")
        assert not await work.ledger.has_key("dup")
        await work.ledger.append([later])  # still usable: this one commits
        await work.ledger.append([])
        await work.commit()
    async with uow() as work:
        assert await work.ledger.all_for_user(ada) == [first, later]


async def test_a_reservation_is_found_and_open_until_released(uow: Factory) -> None:
    ada, bob = UserId(new_id()), UserId(new_id())
    plan = grant(Wallet(user_id=ada), Bucket.PLAN, Decimal("2"), key="g:plan", now=T0)
    topup = grant(plan.wallet, Bucket.TOPUP, Decimal("10"), key="g:topup", now=T0)
    held = reserve(topup.wallet, Decimal("3.5"), reservation_id="r-settled", now=seconds(1),
                   reference="call-1")
    assert len(held.entries) == 2  # 2 plan credits, 1.5 top-up
    later = reserve(held.wallet, Decimal("1"), reservation_id="r-open", now=seconds(2))
    settled = settle(later.wallet, held.entries, Decimal("0.75"), key="burn:call-1",
                     now=seconds(3), reference="call-1")
    recent = reserve(settled.wallet, Decimal("1"), reservation_id="r-recent", now=seconds(60))
    other = an_entry(bob, "-1", at=seconds(0), kind=EntryKind.RESERVE, reservation_id="r-bob",
                     key="reserve:r-bob:topup")
    await appended(uow, [*plan.entries, *topup.entries], list(held.entries), list(later.entries),
                   list(settled.entries), list(recent.entries), [other])
    async with uow() as work:
        of_settled = await work.ledger.reservation("r-settled")
        open_ones = await work.ledger.open_reservations(older_than=seconds(30))
        all_open = await work.ledger.open_reservations(older_than=seconds(61))
        assert await work.ledger.open_reservations(older_than=seconds(0)) == []
        assert await work.ledger.reservation("nope") == []
        stored = await work.ledger.all_for_user(ada)
    releases = [e for e in settled.entries if e.kind is EntryKind.RELEASE]
    assert sorted(of_settled, key=lambda e: e.id) == sorted((*held.entries, *releases),
                                                            key=lambda e: e.id)
    assert [e.created_at for e in of_settled] == [seconds(1), seconds(1), seconds(3), seconds(3)]
    assert open_ones == [other, *later.entries]
    assert all_open == [other, *later.entries, *recent.entries]
    assert balances(stored) == {Bucket.PLAN: recent.wallet.plan_balance,
                                Bucket.TOPUP: recent.wallet.topup_balance}


async def test_burned_between_sums_burns_in_a_half_open_range(uow: Factory) -> None:
    ada, bob = UserId(new_id()), UserId(new_id())
    async with uow() as work:
        nothing = await work.ledger.burned_between(ada, T0, seconds(100))
    assert nothing == 0 and isinstance(nothing, Decimal) and not nothing.is_signed()
    await appended(uow, [
        an_entry(ada, "-0.000001", at=seconds(0), kind=EntryKind.BURN, bucket=Bucket.PLAN),
        an_entry(ada, "-2.5", at=seconds(5), kind=EntryKind.BURN),
        an_entry(ada, "-4", at=seconds(10), kind=EntryKind.BURN),  # the end: excluded
        an_entry(ada, "-100", at=seconds(-1), kind=EntryKind.BURN),  # before the start
        an_entry(ada, "-7", at=seconds(3), kind=EntryKind.RESERVE, reservation_id="r"),
        an_entry(ada, "50", at=seconds(3), kind=EntryKind.GRANT),
        an_entry(bob, "-9", at=seconds(3), kind=EntryKind.BURN),
    ])
    async with uow() as work:
        burned = await work.ledger.burned_between(ada, T0, seconds(10))
        assert await work.ledger.burned_between(ada, seconds(10), seconds(11)) == Decimal(4)
        assert await work.ledger.burned_between(bob, T0, seconds(10)) == Decimal(9)
        assert await work.ledger.burned_between(ada, seconds(20), seconds(30)) == 0
    assert burned == Decimal("2.500001") and str(burned) == "2.500001"


# --- payment events and the audit log ------------------------------------------------


async def test_a_payment_event_is_claimed_once(uow: Factory) -> None:
    async with uow() as work:
        assert await work.payment_events.claim("evt_1", kind="invoice.paid", now=T0)
        assert not await work.payment_events.claim("evt_1", kind="invoice.paid", now=T0)
        await work.commit()
    async with uow() as work:
        assert not await work.payment_events.claim("evt_1", kind="invoice.paid",
                                                   now=seconds(1))
        assert await work.payment_events.claim("evt_2", kind="checkout.session.completed",
                                               now=seconds(1))
        # rolled back: the claim is released with the work it guarded
    async with uow() as work:
        assert await work.payment_events.claim("evt_2", kind="checkout.session.completed",
                                               now=seconds(2))
        await work.commit()


async def test_leaving_without_commit_or_rolling_back_leaves_nothing(uow: Factory) -> None:
    (ada,) = await users(uow)

    async def write_all(work: Any) -> None:
        await work.wallets.add(Wallet(user_id=ada.id, topup_balance=Decimal(5)))
        await work.ledger.append([an_entry(ada.id, "5", key="welcome")])
        assert await work.payment_events.claim("evt", kind="k", now=T0)

    async with uow() as work:
        await write_all(work)
    async with uow() as work:
        await write_all(work)
        await work.rollback()
        await work.commit()
    async with uow() as work:
        assert await work.wallets.get(ada.id) is None
        assert await work.ledger.all_for_user(ada.id) == []
        assert not await work.ledger.has_key("welcome")
        assert await work.payment_events.claim("evt", kind="k", now=T0)


# --- database only: the append-only rule, user deletion, concurrency ----------------


@pytest.fixture
def engine(uow: Factory, is_fake: bool) -> AsyncEngine:
    if is_fake:
        pytest.skip("the fake has no SQL: this is about the database itself")
    return database_of(uow).engine


@pytest.mark.parametrize("statement", [
    "UPDATE credit_transactions SET amount = 0",
    "UPDATE credit_transactions SET note = 'edited' WHERE idempotency_key = 'g'",
    "DELETE FROM credit_transactions",
    "DELETE FROM credit_transactions WHERE idempotency_key = 'g'",
])
async def test_the_ledger_refuses_updates_and_deletes(uow: Factory, engine: AsyncEngine,
                                                      statement: str) -> None:
    ada = UserId(new_id())
    entry = an_entry(ada, "5", key="g")
    await appended(uow, [entry])
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    async with uow() as work:
        assert await work.ledger.all_for_user(ada) == [entry]


async def test_the_ledger_refuses_truncate_on_postgresql(uow: Factory,
                                                         engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    await appended(uow, [an_entry(UserId(new_id()), "5")])
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text("TRUNCATE credit_transactions"))


async def test_deleting_a_user_takes_the_wallet_and_keeps_the_ledger(
        uow: Factory, engine: AsyncEngine) -> None:
    (ada,) = await users(uow)
    entry = an_entry(ada.id, "5")
    async with uow() as work:
        await work.wallets.add(Wallet(user_id=ada.id, topup_balance=Decimal(5), entries=1))
        await work.ledger.append([entry])
        await work.commit()
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": ada.id})
    async with uow() as work:
        assert await work.wallets.get(ada.id) is None
        assert await work.ledger.all_for_user(ada.id) == [entry]


async def test_locked_wallets_are_never_overdrawn_by_concurrent_units(
        uow: Factory, engine: AsyncEngine) -> None:
    """20 units each lock the wallet, read it, and spend 1 credit only if 1 is left: from a
    balance of 5, exactly 5 succeed, and the wallet equals the sum of its ledger."""
    (ada,) = await users(uow)
    opened = grant(Wallet(user_id=ada.id), Bucket.TOPUP, Decimal(5), key="welcome", now=T0)
    async with uow() as work:
        await work.wallets.add(Wallet(user_id=ada.id))
        await work.ledger.append(opened.entries)
        await work.wallets.update(opened.wallet)
        await work.commit()
    outcomes: list[bool] = []

    async def spend(n: int) -> None:
        async with uow() as work:
            wallet = await work.wallets.get(ada.id, for_update=True)
            assert wallet is not None
            await asyncio.sleep(0.005)  # hold the lock while the others ask for it
            enough = wallet.available >= 1
            if enough:
                entry = an_entry(ada.id, "-1", at=seconds(n), kind=EntryKind.BURN,
                                 key=f"spend:{n}")
                await work.ledger.append([entry])
                await work.wallets.update(wallet.applying([entry], seconds(n)))
            await work.commit()
            outcomes.append(enough)

    async with anyio.create_task_group() as group:
        for n in range(20):
            group.start_soon(spend, n)
    assert outcomes.count(True) == 5 and len(outcomes) == 20
    async with uow() as work:
        wallet = await work.wallets.get(ada.id)
        entries = await work.ledger.all_for_user(ada.id)
    assert wallet is not None and wallet.available == 0 and wallet.entries == 6
    totals = balances(entries)
    assert (wallet.plan_balance, wallet.topup_balance) == (totals[Bucket.PLAN],
                                                           totals[Bucket.TOPUP])


async def test_concurrent_claims_of_one_event_let_exactly_one_through(
        uow: Factory, engine: AsyncEngine) -> None:
    outcomes: list[bool] = []

    async def deliver() -> None:
        async with uow() as work:
            claimed = await work.payment_events.claim("evt_once", kind="invoice.paid", now=T0)
            await asyncio.sleep(0.02)  # the winner holds its claim while the others arrive
            await work.commit()
            outcomes.append(claimed)

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(deliver)
    assert sorted(outcomes) == [False] * 9 + [True]


async def test_held_for_user_sums_the_open_holds_since_a_bound(uow: Factory) -> None:
    ada, bob = UserId(new_id()), UserId(new_id())
    granted = grant(Wallet(user_id=ada), Bucket.TOPUP, Decimal("10"), key="g:ada", now=T0)
    settled_hold = reserve(granted.wallet, Decimal("2"), reservation_id="h-settled",
                           now=seconds(1))
    settled = settle(settled_hold.wallet, settled_hold.entries, Decimal("0.5"),
                     key="burn:h-settled", now=seconds(2))
    old = reserve(settled.wallet, Decimal("1.25"), reservation_id="h-old", now=seconds(3))
    recent = reserve(old.wallet, Decimal("0.75"), reservation_id="h-recent", now=seconds(20))
    bobs = an_entry(bob, "-4", at=seconds(20), kind=EntryKind.RESERVE, reservation_id="h-bob",
                    key="reserve:h-bob:topup")
    await appended(uow, list(granted.entries), list(settled_hold.entries), list(settled.entries),
                   list(old.entries), list(recent.entries), [bobs])
    async with uow() as work:
        everything = await work.ledger.held_for_user(ada, since=T0)
        only_recent = await work.ledger.held_for_user(ada, since=seconds(10))
        nobody = await work.ledger.held_for_user(UserId(new_id()), since=T0)
        of_bob = await work.ledger.held_for_user(bob, since=T0)
    assert everything == Decimal("2") and only_recent == Decimal("0.75")
    assert nobody == 0 and isinstance(nobody, Decimal) and not nobody.is_signed()
    assert of_bob == Decimal("4")


@pytest.mark.parametrize(("start", "end", "held_since"), [
    (T0, seconds(25), T0), (seconds(2), seconds(10), seconds(10)),
    (seconds(10), seconds(30), seconds(1)), (seconds(30), seconds(40), seconds(30))])
async def test_burned_and_held_is_both_sums_at_once(uow: Factory, start: datetime,
                                                    end: datetime,
                                                    held_since: datetime) -> None:
    ada, bob = UserId(new_id()), UserId(new_id())
    granted = grant(Wallet(user_id=ada), Bucket.TOPUP, Decimal("10"), key="g:ada", now=T0)
    settled_hold = reserve(granted.wallet, Decimal("2"), reservation_id="h-settled",
                           now=seconds(1))
    settled = settle(settled_hold.wallet, settled_hold.entries, Decimal("0.500001"),
                     key="burn:h-settled", now=seconds(2))
    old = reserve(settled.wallet, Decimal("1.25"), reservation_id="h-old", now=seconds(3))
    recent = reserve(old.wallet, Decimal("0.75"), reservation_id="h-recent", now=seconds(20))
    await appended(uow, list(granted.entries), list(settled_hold.entries), list(settled.entries),
                   list(old.entries), list(recent.entries), [
                       an_entry(ada, "-2.5", at=seconds(12), kind=EntryKind.BURN),
                       an_entry(bob, "-9", at=seconds(12), kind=EntryKind.BURN),
                       an_entry(bob, "-4", at=seconds(20), kind=EntryKind.RESERVE,
                                reservation_id="h-bob", key="reserve:h-bob:topup")])
    async with uow() as work:
        both = await work.ledger.burned_and_held(ada, start=start, end=end,
                                                 held_since=held_since)
        apart = (await work.ledger.burned_between(ada, start, end),
                 await work.ledger.held_for_user(ada, since=held_since))
        nobody = await work.ledger.burned_and_held(UserId(new_id()), start=start, end=end,
                                                   held_since=held_since)
    assert both == apart and [str(v) for v in both] == [str(v) for v in apart]
    assert nobody == (0, 0) and not any(v.is_signed() for v in nobody)
