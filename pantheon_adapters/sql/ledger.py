"""The credit ledger: append-only, signed entries, one idempotency key each (DESIGN §5)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Row, Select, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from pantheon_adapters.sql.errors import is_unique_violation
from pantheon_adapters.sql.tables import credit_transactions
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.wallets import Bucket, EntryKind, LedgerEntry, credits
from pantheon_core.errors import Conflict
from pantheon_core.ids import UserId

ledger = credit_transactions


def _row(entry: LedgerEntry) -> dict[str, Any]:
    return {"id": entry.id, "user_id": entry.user_id, "kind": entry.kind.value,
            "bucket": entry.bucket.value, "amount": entry.amount,
            "idempotency_key": entry.idempotency_key, "created_at": entry.created_at,
            "reference": entry.reference, "reservation_id": entry.reservation_id,
            "note": entry.note, "actor_id": entry.actor_id}


def _entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(id=row.id, user_id=UserId(row.user_id), kind=EntryKind(row.kind),
                       bucket=Bucket(row.bucket), amount=Decimal(row.amount),
                       idempotency_key=row.idempotency_key, created_at=row.created_at,
                       reference=row.reference, reservation_id=row.reservation_id,
                       note=row.note, actor_id=row.actor_id)


class SqlLedgerRepository:
    """``LedgerRepository`` over ``credit_transactions``.

    ``append`` writes a batch in multi-row ``INSERT``s inside a savepoint: an idempotency
    key that is already stored (or twice in the batch) raises
    ``Conflict(code="duplicate_ledger_entry")``, stores nothing of the batch and leaves the
    unit of work usable. The table refuses ``UPDATE`` and ``DELETE`` (migration 0004's
    triggers), so this repository has neither. Orders: ``list_for_user`` newest first,
    the others oldest first, ties broken by id.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def append(self, entries: Sequence[LedgerEntry]) -> None:
        if not entries:
            return
        try:
            async with self._tx.savepoint():
                await self._tx.insert_many(ledger, [_row(e) for e in entries])
        except IntegrityError as exc:
            if is_unique_violation(exc, "idempotency_key"):
                raise Conflict("This ledger entry is already recorded.",
                               code="duplicate_ledger_entry",
                               details={"idempotency_keys": [e.idempotency_key
                                                             for e in entries]}) from exc
            raise

    async def has_key(self, idempotency_key: str) -> bool:
        row = await self._tx.first(select(ledger.c.id)
                                   .where(ledger.c.idempotency_key == idempotency_key))
        return row is not None

    async def list_for_user(self, user_id: UserId, *, limit: int = 50,
                            before: tuple[datetime, str] | None = None,
                            kinds: Sequence[EntryKind] | None = None) -> Sequence[LedgerEntry]:
        statement = select(ledger).where(ledger.c.user_id == user_id)
        if before is not None:
            at, entry_id = before
            statement = statement.where(or_(ledger.c.created_at < at,
                                            and_(ledger.c.created_at == at,
                                                 ledger.c.id < entry_id)))
        if kinds is not None:
            statement = statement.where(ledger.c.kind.in_([EntryKind(k).value for k in kinds]))
        rows = await self._tx.rows(
            statement.order_by(ledger.c.created_at.desc(), ledger.c.id.desc()).limit(limit))
        return [_entry(row) for row in rows]

    async def all_for_user(self, user_id: UserId) -> Sequence[LedgerEntry]:
        rows = await self._tx.rows(select(ledger).where(ledger.c.user_id == user_id)
                                   .order_by(ledger.c.created_at, ledger.c.id))
        return [_entry(row) for row in rows]

    async def reservation(self, reservation_id: str) -> Sequence[LedgerEntry]:
        rows = await self._tx.rows(select(ledger).where(ledger.c.reservation_id == reservation_id)
                                   .order_by(ledger.c.created_at, ledger.c.id))
        return [_entry(row) for row in rows]

    async def open_reservations(self, *, older_than: datetime) -> Sequence[LedgerEntry]:
        released = ledger.alias("released")
        rows = await self._tx.rows(
            select(ledger)
            .where(ledger.c.kind == EntryKind.RESERVE.value,
                   ledger.c.reservation_id.is_not(None),
                   ledger.c.created_at < older_than,
                   ~select(released.c.id)
                   .where(released.c.reservation_id == ledger.c.reservation_id,
                          released.c.kind == EntryKind.RELEASE.value)
                   .exists())
            .order_by(ledger.c.created_at, ledger.c.id))
        return [_entry(row) for row in rows]

    async def held_for_user(self, user_id: UserId, *, since: datetime) -> Decimal:
        row = await self._tx.first(
            select(func.sum(ledger.c.amount))
            .where(ledger.c.user_id == user_id, _held(since)))
        return _spent(None if row is None else row[0])

    async def burned_between(self, user_id: UserId, start: datetime, end: datetime) -> Decimal:
        row = await self._tx.first(
            select(func.sum(ledger.c.amount))
            .where(ledger.c.user_id == user_id, _burned(start, end)))
        return _spent(None if row is None else row[0])

    async def burned_and_held(self, user_id: UserId, *, start: datetime, end: datetime,
                              held_since: datetime) -> tuple[Decimal, Decimal]:
        """One scan of the user's burns and holds from the earlier bound on (the
        ``(user_id, created_at)`` index), each summed with ``FILTER`` (SQLite 3.30+)."""
        row = await self._tx.first(_burned_and_held(), params={
            "user_id": user_id, "start": start, "end": end, "held_since": held_since,
            "lower": min(start, held_since)})
        assert row is not None  # an aggregate without GROUP BY: always one row
        return _spent(row.burned), _spent(row.held)


@functools.cache
def _burned_and_held() -> Select[Any]:
    """What the wallet page reads on every visit, built once; binds ``user_id``, ``start``,
    ``end``, ``held_since`` and ``lower`` (the earlier of the two bounds)."""
    return (select(func.sum(ledger.c.amount).filter(
                       _burned(bindparam("start"), bindparam("end"))).label("burned"),
                   func.sum(ledger.c.amount).filter(_held(bindparam("held_since"))).label("held"))
            .where(ledger.c.user_id == bindparam("user_id"),
                   ledger.c.kind.in_([EntryKind.BURN.value, EntryKind.RESERVE.value]),
                   ledger.c.created_at >= bindparam("lower")))


def _burned(start: datetime | BindParameter[Any],
            end: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    return and_(ledger.c.kind == EntryKind.BURN.value, ledger.c.created_at >= start,
                ledger.c.created_at < end)


def _held(since: datetime | BindParameter[Any]) -> ColumnElement[bool]:
    """``reserve`` entries from ``since`` on whose reservation has no ``release`` (the
    correlated ``NOT EXISTS`` last, so that only such entries pay for it)."""
    released = ledger.alias("released")
    return and_(ledger.c.kind == EntryKind.RESERVE.value, ledger.c.created_at >= since,
                ledger.c.reservation_id.is_not(None),
                ~select(released.c.id)
                .where(released.c.reservation_id == ledger.c.reservation_id,
                       released.c.kind == EntryKind.RELEASE.value)
                .exists())


def _spent(total: Decimal | None) -> Decimal:
    """A sum of (negative) entries as credits spent: a positive number, 0 for none."""
    return credits(0 - Decimal(total or 0))
