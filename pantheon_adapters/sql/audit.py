"""The audit log of admin writes and refused admin attempts (DESIGN §6): append-only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select

from pantheon_adapters.sql.tables import audit_events
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.audit import AuditEvent, AuditOutcome


def _row(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "created_at": event.created_at, "actor_id": event.actor_id,
            "actor_label": event.actor_label, "role": event.role, "action": event.action,
            "target": event.target, "outcome": AuditOutcome(event.outcome).value,
            "before": dict(event.before), "after": dict(event.after), "reason": event.reason,
            "request_id": event.request_id, "client": event.client}


def _event(row: Row[Any]) -> AuditEvent:
    return AuditEvent(id=row.id, created_at=row.created_at, actor_id=row.actor_id,
                      actor_label=row.actor_label, role=row.role, action=row.action,
                      target=row.target, outcome=AuditOutcome(row.outcome),
                      before=dict(row.before), after=dict(row.after), reason=row.reason,
                      request_id=row.request_id, client=row.client)


class SqlAuditRepository:
    """``AuditRepository`` over ``audit_events``.

    The database refuses UPDATE and DELETE of the log (triggers, migration 0005), so this
    only inserts and reads. ``before`` / ``after`` are JSON objects and round-trip as dicts.
    ``action`` filters by prefix, case-sensitively on both databases (``LIKE`` narrows, an
    exact ``substr`` comparison decides: SQLite's ``LIKE`` ignores ASCII case).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, event: AuditEvent) -> None:
        await self._tx.execute(audit_events.insert().values(_row(event)))

    async def list(self, *, actor: str | None = None, action: str | None = None,
                   target: str | None = None, outcome: str | None = None,
                   since: datetime | None = None, until: datetime | None = None,
                   before: tuple[datetime, str] | None = None,
                   limit: int = 100) -> Sequence[AuditEvent]:
        table = audit_events
        statement = select(table)
        if actor is not None:
            statement = statement.where(or_(table.c.actor_id == actor,
                                            func.lower(table.c.actor_label) == actor.lower()))
        if action is not None:
            statement = statement.where(
                table.c.action.startswith(action, autoescape=True),
                func.substr(table.c.action, 1, len(action)) == action)
        if target is not None:
            statement = statement.where(func.lower(table.c.target) == target.lower())
        if outcome is not None:
            statement = statement.where(table.c.outcome == outcome)
        if since is not None:
            statement = statement.where(table.c.created_at >= since)
        if until is not None:
            statement = statement.where(table.c.created_at < until)
        if before is not None:
            at, event_id = before
            statement = statement.where(or_(table.c.created_at < at,
                                            and_(table.c.created_at == at,
                                                 table.c.id < event_id)))
        rows = await self._tx.rows(
            statement.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit))
        return [_event(row) for row in rows]
