"""Wallets and the credit ledger (FR-BILL-*, DESIGN §5): exact, append-only, never overdrawn.

A wallet has two buckets: **plan** credits (granted per billing period, expiring at its end)
and **top-up** credits (never expiring). Every change is a :class:`LedgerEntry` — signed,
in one bucket, with an idempotency key — and a wallet's balances are always the sums of its
entries (the wallet row caches them; reconciliation checks it). Spending takes plan credits
first.

Charging a call is two moves:

    reserve(R, estimate)      -estimate, split plan-first            kind "reserve"
    settle(R, actual)         +each reserved part back               kind "release"
                              -actual, split plan-first             kind "burn"

so a crash between the two leaves only a reservation, which a sweep releases. The functions
here are pure: they take a wallet and return the entries and the wallet after them; callers
persist both in one transaction while holding the wallet's lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pantheon_core.errors import InvalidInput, PaymentRequired
from pantheon_core.ids import UserId, new_id

ZERO = Decimal(0)
PLACES = Decimal("0.000001")
MAX_GRANT = Decimal(1_000_000)


def credits(value: Decimal | int | str) -> Decimal:
    """An amount of credits, exactly, at 6 places (half-up)."""
    return Decimal(value).quantize(PLACES, rounding=ROUND_HALF_UP)


class Bucket(StrEnum):
    PLAN = "plan"
    TOPUP = "topup"


class EntryKind(StrEnum):
    GRANT = "grant"  # plan credits of a period, a top-up pack, a welcome grant
    EXPIRE = "expire"  # plan credits left at the end of their period
    RESERVE = "reserve"  # held before a call
    RELEASE = "release"  # a hold given back when the call is settled (or swept)
    BURN = "burn"  # what a call actually cost
    ADJUST = "adjust"  # an admin's correction, up or down
    REFUND = "refund"  # credits taken back because a payment was refunded


class InsufficientCredits(PaymentRequired):
    """402: the wallet cannot cover what is asked (DESIGN §5)."""

    code = "insufficient_credits"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: str
    user_id: UserId
    kind: EntryKind
    bucket: Bucket
    amount: Decimal  # signed: + adds to the bucket, - takes from it
    idempotency_key: str
    created_at: datetime
    reference: str = ""  # what it is for: a call id, an invoice id, a checkout session…
    reservation_id: str | None = None
    note: str = ""
    actor_id: str | None = None  # who did it, for admin adjustments and grants

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind.value, "bucket": self.bucket.value,
                "amount": str(self.amount), "idempotency_key": self.idempotency_key,
                "created_at": self.created_at.isoformat(), "reference": self.reference,
                "reservation_id": self.reservation_id, "note": self.note}


@dataclass(frozen=True, slots=True)
class Wallet:
    user_id: UserId
    plan_balance: Decimal = ZERO
    topup_balance: Decimal = ZERO
    plan_id: str | None = None  # the subscribed plan; None: no subscription
    period_end: datetime | None = None  # when the plan bucket expires
    updated_at: datetime | None = None
    stripe_customer_id: str | None = None
    subscription_id: str | None = None
    subscription_status: str | None = None
    monthly_cap: Decimal | None = None  # admins' cap on credits burned per calendar month
    allowed_models: tuple[str, ...] | None = None  # admins' per-user model policy
    entries: int = 0  # ledger entries so far (for reporting)

    @property
    def available(self) -> Decimal:
        return self.plan_balance + self.topup_balance

    def balance_of(self, bucket: Bucket) -> Decimal:
        return self.plan_balance if bucket is Bucket.PLAN else self.topup_balance

    def applying(self, entries: Iterable[LedgerEntry], now: datetime) -> Wallet:
        """The wallet after ``entries`` (which must be its own)."""
        plan, topup, count = self.plan_balance, self.topup_balance, self.entries
        for entry in entries:
            if entry.user_id != self.user_id:
                raise ValueError("an entry of another wallet")
            if entry.bucket is Bucket.PLAN:
                plan += entry.amount
            else:
                topup += entry.amount
            count += 1
        return replace(self, plan_balance=plan, topup_balance=topup, entries=count,
                       updated_at=now)


@dataclass(frozen=True, slots=True)
class Change:
    """What one operation does: the entries to append, and the wallet afterwards."""

    wallet: Wallet
    entries: tuple[LedgerEntry, ...] = field(default_factory=tuple)


def _entry(wallet: Wallet, kind: EntryKind, bucket: Bucket, amount: Decimal, key: str,
           now: datetime, **extra: Any) -> LedgerEntry:
    return LedgerEntry(id=new_id(), user_id=wallet.user_id, kind=kind, bucket=bucket,
                       amount=credits(amount), idempotency_key=key, created_at=now, **extra)


def _change(wallet: Wallet, entries: Sequence[LedgerEntry], now: datetime) -> Change:
    kept = tuple(e for e in entries if e.amount != 0)
    return Change(wallet.applying(kept, now), kept)


def _positive(amount: Decimal, what: str) -> Decimal:
    amount = credits(amount)
    if amount <= 0 or amount > MAX_GRANT:
        raise InvalidInput(f"{what} must be more than 0 and at most {MAX_GRANT} credits.",
                           code="invalid_credits", details={"max": str(MAX_GRANT)})
    return amount


def grant(wallet: Wallet, bucket: Bucket, amount: Decimal, *, key: str, now: datetime,
          reference: str = "", note: str = "", actor_id: str | None = None) -> Change:
    amount = _positive(amount, "A grant")
    return _change(wallet, [_entry(wallet, EntryKind.GRANT, bucket, amount, key, now,
                                   reference=reference, note=note, actor_id=actor_id)], now)


def start_period(wallet: Wallet, *, plan_id: str, amount: Decimal, period_end: datetime,
                 key: str, now: datetime, reference: str) -> Change:
    """A new billing period: what is left of the old plan credits expires, the period's
    credits are granted (FR-PLAN-001)."""
    entries = []
    if wallet.plan_balance > 0:
        entries.append(_entry(wallet, EntryKind.EXPIRE, Bucket.PLAN, -wallet.plan_balance,
                              f"{key}:expire", now, reference=reference,
                              note="the previous period's plan credits"))
    entries.append(_entry(wallet, EntryKind.GRANT, Bucket.PLAN, _positive(amount, "A plan"),
                          key, now, reference=reference, note=f"plan {plan_id}"))
    change = _change(wallet, entries, now)
    return Change(replace(change.wallet, plan_id=plan_id, period_end=period_end), change.entries)


def expire_plan(wallet: Wallet, *, now: datetime) -> Change:
    """Plan credits past their period's end expire (no-op otherwise)."""
    if wallet.period_end is None or now < wallet.period_end or wallet.plan_balance <= 0:
        return Change(wallet)
    key = f"expire:{wallet.user_id}:{wallet.period_end.isoformat()}:{wallet.entries}"
    return _change(wallet, [_entry(wallet, EntryKind.EXPIRE, Bucket.PLAN, -wallet.plan_balance,
                                   key, now, note="the period ended")], now)


def _split(wallet: Wallet, amount: Decimal) -> list[tuple[Bucket, Decimal]]:
    """``amount`` taken plan-first, never more than a bucket holds."""
    from_plan = min(amount, max(wallet.plan_balance, ZERO))
    return [(Bucket.PLAN, from_plan), (Bucket.TOPUP, amount - from_plan)]


def reserve(wallet: Wallet, amount: Decimal, *, reservation_id: str, now: datetime,
            reference: str = "") -> Change:
    """Hold ``amount`` (an upper bound of a call's cost), or ``insufficient_credits``."""
    amount = credits(amount)
    if amount < 0:
        raise ValueError("a negative reservation")
    if amount > wallet.available:
        raise InsufficientCredits(
            f"Not enough credits: this needs up to {amount} and {wallet.available} are left.",
            details={"needed": str(amount), "available": str(wallet.available)})
    entries = [_entry(wallet, EntryKind.RESERVE, bucket, -part,
                      f"reserve:{reservation_id}:{bucket.value}", now, reference=reference,
                      reservation_id=reservation_id) for bucket, part in _split(wallet, amount)]
    return _change(wallet, entries, now)


def release(wallet: Wallet, held: Sequence[LedgerEntry], *, now: datetime,
            note: str = "") -> Change:
    """Give back a reservation's holds (``held``: its ``reserve`` entries)."""
    entries = [_entry(wallet, EntryKind.RELEASE, e.bucket, -e.amount,
                      f"release:{e.reservation_id}:{e.bucket.value}", now,
                      reference=e.reference, reservation_id=e.reservation_id, note=note)
               for e in held if e.kind is EntryKind.RESERVE]
    return _change(wallet, entries, now)


def settle(wallet: Wallet, held: Sequence[LedgerEntry], actual: Decimal, *, key: str,
           now: datetime, reference: str = "") -> Change:
    """Release the holds and burn the actual cost, plan-first. The burn never takes more than
    the wallet then holds: an actual cost above the reservation's bound is cut to what is
    left (the cut is in the entry's note), so a wallet never goes below zero."""
    released = release(wallet, held, now=now)
    after = released.wallet
    actual = credits(actual)
    burned = min(actual, max(after.available, ZERO))
    note = "" if burned == actual else f"cost {actual}, capped at the {burned} left"
    burns = [_entry(after, EntryKind.BURN, bucket, -part, f"{key}:{bucket.value}", now,
                    reference=reference, note=note) for bucket, part in _split(after, burned)]
    change = _change(after, burns, now)
    return Change(change.wallet, released.entries + change.entries)


def adjust(wallet: Wallet, amount: Decimal, *, key: str, now: datetime, note: str,
           actor_id: str | None, bucket: Bucket = Bucket.TOPUP) -> Change:
    """An admin's correction; a negative one takes at most what the bucket holds."""
    amount = credits(amount)
    if amount == 0 or abs(amount) > MAX_GRANT:
        raise InvalidInput("An adjustment must be non-zero and within ±1 000 000 credits.",
                           code="invalid_credits")
    if amount < 0:
        amount = -min(-amount, max(wallet.balance_of(bucket), ZERO))
    return _change(wallet, [_entry(wallet, EntryKind.ADJUST, bucket, amount, key, now,
                                   note=note, actor_id=actor_id)], now)


def refund(wallet: Wallet, amount: Decimal, *, key: str, now: datetime, reference: str,
           bucket: Bucket) -> Change:
    """Take back refunded credits — at most what the bucket still holds (spent credits of a
    refunded payment are not clawed into debt)."""
    taken = min(credits(amount), max(wallet.balance_of(bucket), ZERO))
    return _change(wallet, [_entry(wallet, EntryKind.REFUND, bucket, -taken, key, now,
                                   reference=reference, note=f"refund of {credits(amount)}")],
                   now)


def balances(entries: Iterable[LedgerEntry]) -> dict[Bucket, Decimal]:
    """The bucket balances a ledger adds up to."""
    totals = {Bucket.PLAN: ZERO, Bucket.TOPUP: ZERO}
    for entry in entries:
        totals[entry.bucket] += entry.amount
    return totals


def open_holds(entries: Iterable[LedgerEntry]) -> dict[str, list[LedgerEntry]]:
    """Reservations without a release yet: ``{reservation_id: its reserve entries}``."""
    held: dict[str, list[LedgerEntry]] = {}
    released: set[str] = set()
    for entry in entries:
        if entry.reservation_id is None:
            continue
        if entry.kind is EntryKind.RESERVE:
            held.setdefault(entry.reservation_id, []).append(entry)
        elif entry.kind is EntryKind.RELEASE:
            released.add(entry.reservation_id)
    return {rid: parts for rid, parts in held.items() if rid not in released}
