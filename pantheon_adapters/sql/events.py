"""Turn events: the durable, gap-free sequence clients replay from (FR-RT-003)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, select, tuple_

from pantheon_adapters.sql.tables import turn_events
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.errors import Conflict
from pantheon_core.ids import StepId, TurnId

# Rows per INSERT: SQLite binds at most 32 766 parameters per statement (6 a row here).


def _row(event: TurnEvent) -> dict[str, Any]:
    return {"turn_id": event.turn_id, "seq": event.seq, "type": event.type.value,
            "step_id": event.step_id, "ts": event.ts, "data": dict(event.data)}


def _event(row: Row[Any]) -> TurnEvent:
    return TurnEvent(type=EventType(row.type), seq=row.seq, turn_id=TurnId(row.turn_id),
                     ts=row.ts, data=dict(row.data),
                     step_id=None if row.step_id is None else StepId(row.step_id))


class SqlEventRepository:
    """``EventRepository`` over ``turn_events``, keyed by ``(turn_id, seq)``.

    ``append`` writes a batch in one ``INSERT … ON CONFLICT DO NOTHING`` (no savepoint: a
    turn's runner appends every half second, and a savepoint is two more round trips). A
    ``(turn_id, seq)`` that is already stored raises ``Conflict(code="duplicate_event")``,
    stores nothing of the batch (the rows it did store are deleted again), and leaves the
    unit of work usable. ``alone`` (the unit of work writes nothing else): on PostgreSQL the
    INSERT runs on its own, committed at once, without BEGIN and COMMIT round trips.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def append(self, events: Sequence[TurnEvent], *, alone: bool = False) -> None:
        if not events:
            return
        stored = await self._tx.insert_new(turn_events, [_row(event) for event in events],
                                           turn_events.c.turn_id, turn_events.c.seq,
                                           alone=alone)
        if len(stored) == len(events):
            return
        if stored:
            await self._tx.execute(delete(turn_events).where(
                tuple_(turn_events.c.turn_id, turn_events.c.seq).in_(
                    [(row.turn_id, row.seq) for row in stored])), alone=alone)
        first = events[0]
        raise Conflict("These turn events are already stored.", code="duplicate_event",
                       details={"turn_id": first.turn_id,
                                "seqs": [event.seq for event in events]})

    async def list_after(self, turn_id: TurnId, *, after: int,
                         limit: int = 10_000) -> Sequence[TurnEvent]:
        rows = await self._tx.rows(
            select(turn_events)
            .where(turn_events.c.turn_id == turn_id, turn_events.c.seq > after)
            .order_by(turn_events.c.seq).limit(limit)
        )
        return [_event(row) for row in rows]
