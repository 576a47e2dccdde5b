"""Property tests of the wallet rules: over any sequence of grants, reservations, settlements,
burns, releases, expiries, adjustments and refunds, the balances equal the ledger's sums and
never go below zero; plan credits are spent first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pantheon_core.domain.wallets import (
    Bucket,
    Change,
    EntryKind,
    InsufficientCredits,
    LedgerEntry,
    Wallet,
    adjust,
    balances,
    expire_plan,
    grant,
    open_holds,
    refund,
    release,
    reserve,
    settle,
    start_period,
)
from pantheon_core.ids import UserId

T0 = datetime(2026, 11, 1, tzinfo=UTC)
amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(500), places=6)

operation = st.one_of(
    st.tuples(st.just("grant"), st.sampled_from(list(Bucket)), amounts),
    st.tuples(st.just("period"), amounts),
    st.tuples(st.just("reserve"), amounts),
    st.tuples(st.just("settle"), st.integers(0, 20), amounts),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("expire"), st.integers(0, 40)),
    st.tuples(st.just("adjust"), st.sampled_from(list(Bucket)),
              st.decimals(min_value=Decimal(-300), max_value=Decimal(300), places=6)),
    st.tuples(st.just("refund"), st.sampled_from(list(Bucket)), amounts),
)


def run(ops: list[tuple[Any, ...]]) -> tuple[Wallet, list[LedgerEntry]]:
    wallet = Wallet(user_id=UserId("u1"))
    ledger: list[LedgerEntry] = []
    now = T0
    for n, op in enumerate(ops):
        now += timedelta(days=1)
        change: Change | None = None
        kind = op[0]
        try:
            if kind == "grant":
                change = grant(wallet, op[1], op[2], key=f"g{n}", now=now)
            elif kind == "period":
                change = start_period(wallet, plan_id="pro", amount=op[1],
                                      period_end=now + timedelta(days=10), key=f"p{n}",
                                      now=now, reference=f"in_{n}")
            elif kind == "reserve":
                change = reserve(wallet, op[1], reservation_id=f"r{n}", now=now)
            elif kind in ("settle", "release"):
                holds = open_holds(ledger)
                if holds:
                    rid = sorted(holds)[int(op[1]) % len(holds)]
                    change = (settle(wallet, holds[rid], op[2], key=f"b{n}", now=now)
                              if kind == "settle" else release(wallet, holds[rid], now=now))
            elif kind == "expire":
                change = expire_plan(wallet, now=now + timedelta(days=int(op[1])))
            elif kind == "adjust":
                if op[2] != 0:
                    change = adjust(wallet, op[2], key=f"a{n}", now=now, note="fix",
                                    actor_id=None, bucket=op[1])
            elif kind == "refund":
                change = refund(wallet, op[2], key=f"f{n}", now=now, reference="ch",
                                bucket=op[1])
        except InsufficientCredits:
            change = None
        if change is not None:
            ledger.extend(change.entries)
            wallet = change.wallet
        sums = balances(ledger)
        assert wallet.plan_balance == sums[Bucket.PLAN]
        assert wallet.topup_balance == sums[Bucket.TOPUP]
        assert wallet.plan_balance >= 0 and wallet.topup_balance >= 0
    return wallet, ledger


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=40))
def test_balances_equal_the_ledger_and_never_go_below_zero(ops: list[tuple[Any, ...]]) -> None:
    _wallet, ledger = run(ops)
    keys = [e.idempotency_key for e in ledger]
    assert len(keys) == len(set(keys))  # every entry has its own idempotency key
    assert all(e.amount != 0 for e in ledger)


@settings(max_examples=200, deadline=None)
@given(plan=amounts, topup=amounts, spend=amounts)
def test_plan_credits_are_spent_first(plan: Decimal, topup: Decimal, spend: Decimal) -> None:
    wallet = grant(Wallet(user_id=UserId("u1")), Bucket.PLAN, plan, key="p", now=T0).wallet
    wallet = grant(wallet, Bucket.TOPUP, topup, key="t", now=T0).wallet
    if spend > wallet.available:
        with pytest.raises(InsufficientCredits):
            reserve(wallet, spend, reservation_id="r", now=T0)
        return
    held = reserve(wallet, spend, reservation_id="r", now=T0)
    after = settle(held.wallet, list(held.entries), spend, key="b", now=T0).wallet
    assert after.plan_balance == max(plan - spend, Decimal(0))
    assert after.topup_balance == topup - max(spend - plan, Decimal(0))


def test_settle_releases_the_hold_and_burns_the_actual_cost() -> None:
    wallet = grant(Wallet(user_id=UserId("u1")), Bucket.TOPUP, Decimal(10), key="t", now=T0).wallet
    held = reserve(wallet, Decimal(3), reservation_id="r", now=T0)
    assert held.wallet.available == Decimal(7)
    done = settle(held.wallet, list(held.entries), Decimal("0.45"), key="burn:c1", now=T0)
    assert done.wallet.available == Decimal("9.55")
    assert [e.kind for e in done.entries] == [EntryKind.RELEASE, EntryKind.BURN]


def test_a_burn_above_the_bound_is_capped_at_what_is_left() -> None:
    wallet = grant(Wallet(user_id=UserId("u1")), Bucket.TOPUP, Decimal(1), key="t", now=T0).wallet
    held = reserve(wallet, Decimal("0.5"), reservation_id="r", now=T0)
    done = settle(held.wallet, list(held.entries), Decimal(5), key="b", now=T0)
    assert done.wallet.available == 0
    assert "capped" in done.entries[-1].note


def test_a_new_period_expires_the_old_plan_credits() -> None:
    wallet = Wallet(user_id=UserId("u1"))
    first = start_period(wallet, plan_id="starter", amount=Decimal(495), key="in_1", now=T0,
                         period_end=T0 + timedelta(days=30), reference="in_1")
    spent = reserve(first.wallet, Decimal(95), reservation_id="r", now=T0).wallet
    second = start_period(spent, plan_id="pro", amount=Decimal(1980), key="in_2",
                          now=T0 + timedelta(days=30), period_end=T0 + timedelta(days=60),
                          reference="in_2")
    assert [e.kind for e in second.entries] == [EntryKind.EXPIRE, EntryKind.GRANT]
    assert second.wallet.plan_balance == Decimal(1980) and second.wallet.plan_id == "pro"
    expired = expire_plan(second.wallet, now=T0 + timedelta(days=61))
    assert expired.wallet.plan_balance == 0
