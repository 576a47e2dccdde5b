"""The audit log of admin writes (DESIGN §6): append-only."""

from __future__ import annotations

from datetime import datetime

from pantheon_adapters.sql.tables import audit_events
from pantheon_adapters.sql.tx import Tx
from pantheon_core.ids import new_id


class SqlAuditRepository:
    """``AuditRepository`` over ``audit_events``; each record gets a new id."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, *, actor_id: str | None, actor_label: str, action: str,
                  target: str, details: dict[str, str], now: datetime) -> None:
        await self._tx.execute(audit_events.insert().values(
            id=new_id(), actor_id=actor_id, actor_label=actor_label, action=action,
            target=target, details=dict(details), created_at=now))
