"""Turns, each carrying the roster snapshot it runs on as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, update

from pantheon_adapters.sql.tables import turns
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.modes import RoomMode
from pantheon_core.domain.turns import AgentSnapshot, Turn, TurnStatus
from pantheon_core.ids import AgentId, RoomId, TurnId, UserId


def _row(turn: Turn) -> dict[str, Any]:
    return {"id": turn.id, "room_id": turn.room_id, "user_id": turn.user_id,
            "mode": turn.mode.value, "status": turn.status.value, "message": turn.message,
            "roster": [agent.to_dict() for agent in turn.roster],
            "selected": list(turn.selected), "created_at": turn.created_at,
            "finished_at": turn.finished_at}


def _turn(row: Row[Any]) -> Turn:
    return Turn(id=TurnId(row.id), room_id=RoomId(row.room_id), user_id=UserId(row.user_id),
                mode=RoomMode(row.mode), status=TurnStatus(row.status), message=row.message,
                roster=tuple(AgentSnapshot.from_dict(item) for item in row.roster),
                selected=tuple(AgentId(agent_id) for agent_id in row.selected),
                created_at=row.created_at, finished_at=row.finished_at)


class SqlTurnRepository:
    """``TurnRepository`` over ``turns``. The roster snapshot is stored with
    :meth:`AgentSnapshot.to_dict` and read back with ``from_dict``, so it round-trips
    exactly. ``list_for_room`` is newest first, ties broken by id (descending)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, turn: Turn) -> None:
        await self._tx.execute(turns.insert().values(_row(turn)))

    async def get(self, turn_id: TurnId) -> Turn | None:
        row = await self._tx.first(select(turns).where(turns.c.id == turn_id))
        return None if row is None else _turn(row)

    async def list_for_room(self, room_id: RoomId, *, limit: int) -> Sequence[Turn]:
        rows = await self._tx.rows(
            select(turns).where(turns.c.room_id == room_id)
            .order_by(turns.c.created_at.desc(), turns.c.id.desc()).limit(limit)
        )
        return [_turn(row) for row in rows]

    async def update(self, turn: Turn) -> None:
        await self._tx.execute(update(turns).where(turns.c.id == turn.id).values(_row(turn)))
