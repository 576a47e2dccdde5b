"""Provider events already processed, so each is applied once (FR-BILL-005)."""

from __future__ import annotations

from datetime import datetime

from pantheon_adapters.sql.tables import payment_events
from pantheon_adapters.sql.tx import Tx


class SqlPaymentEventRepository:
    """``PaymentEventRepository`` over ``payment_events``, keyed by the provider's event id.

    ``claim`` is ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (a row back: inserted; the
    driver's rowcount is not reliable for an INSERT): on PostgreSQL a second transaction
    claiming the same id waits for the first to end, then inserts nothing (``False``) if it
    committed, or the row (``True``) if it rolled back; on SQLite writers queue anyway
    (see :class:`Tx`).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def claim(self, event_id: str, *, kind: str, now: datetime) -> bool:
        inserted = await self._tx.first(
            self._tx.insert(payment_events)
            .values(event_id=event_id, kind=kind, processed_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(payment_events.c.event_id)
        )
        return inserted is not None
