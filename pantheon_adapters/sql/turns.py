"""Turns: the send, its roster snapshot, and where its run has got to."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Row, Select, and_, bindparam, or_, select, update

from pantheon_adapters.sql.tables import turns
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.turns import AgentSnapshot, Turn, TurnStatus
from pantheon_core.ids import AgentId, DirectSessionId, RoomId, RoomSessionId, TurnId, UserId


def _row(turn: Turn) -> dict[str, Any]:
    return {"id": turn.id, "room_id": turn.room_id, "user_id": turn.user_id,
            "session_id": turn.session_id, "direct_session_id": turn.direct_session_id,
            "mode": turn.mode.value, "status": turn.status.value, "message": turn.message,
            "roster": [agent.to_dict() for agent in turn.roster],
            "selected": list(turn.selected), "created_at": turn.created_at,
            "finished_at": turn.finished_at, "last_seq": turn.last_seq,
            "credits": turn.credits, "error_code": turn.error_code,
            "error_message": turn.error_message, "heartbeat_at": turn.heartbeat_at,
            "cancel_requested_at": turn.cancel_requested_at}


def _turn(row: Row[Any]) -> Turn:
    return Turn(id=TurnId(row.id), user_id=UserId(row.user_id), mode=TurnMode(row.mode),
                status=TurnStatus(row.status), message=row.message,
                roster=tuple(AgentSnapshot.from_dict(item) for item in row.roster),
                selected=tuple(AgentId(agent_id) for agent_id in row.selected),
                created_at=row.created_at,
                room_id=None if row.room_id is None else RoomId(row.room_id),
                session_id=None if row.session_id is None else RoomSessionId(row.session_id),
                direct_session_id=(None if row.direct_session_id is None
                                   else DirectSessionId(row.direct_session_id)),
                finished_at=row.finished_at, last_seq=row.last_seq,
                credits=Decimal(row.credits), error_code=row.error_code,
                error_message=row.error_message, heartbeat_at=row.heartbeat_at,
                cancel_requested_at=row.cancel_requested_at)


@functools.cache
def _conversation_page(session: bool, direct: bool, before: bool,
                       after: bool) -> Select[Any]:
    """A page of a conversation's turns, newest first (every timeline page), built once per
    shape; binds ``session_id``, ``direct_session_id``, ``before``, ``after``, ``limit``."""
    statement = select(turns)
    if session:
        statement = statement.where(turns.c.session_id == bindparam("session_id"))
    if direct:
        statement = statement.where(turns.c.direct_session_id == bindparam("direct_session_id"))
    if before:
        statement = statement.where(turns.c.created_at < bindparam("before"))
    if after:
        statement = statement.where(turns.c.created_at > bindparam("after"))
    return (statement.order_by(turns.c.created_at.desc(), turns.c.id.desc())
            .limit(bindparam("limit", type_=Integer)))


class SqlTurnRepository:
    """``TurnRepository`` over ``turns``.

    - The roster snapshot is stored with :meth:`AgentSnapshot.to_dict` and read back with
      ``from_dict``, so it round-trips exactly; ``credits`` is exact (see ``ExactDecimal``).
    - ``get(for_update=True)`` locks the row as :class:`SqlRoomRepository` does: ``FOR
      UPDATE`` on PostgreSQL, an ``IMMEDIATE`` transaction on SQLite.
    - ``touch`` is one ``UPDATE … RETURNING`` of ``last_seq`` and ``heartbeat_at`` only, so
      it never overwrites a ``cancel_requested_at`` another unit of work committed.
    - Listings are newest first, ties broken by id (descending); ``list_stale`` and
      ``list_running_for_user`` are oldest first.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, turn: Turn) -> None:
        await self._tx.execute(turns.insert().values(_row(turn)))

    async def get(self, turn_id: TurnId, *, for_update: bool = False) -> Turn | None:
        statement = select(turns).where(turns.c.id == turn_id)
        if for_update:
            statement = statement.with_for_update()
        row = await self._tx.first(statement, lock=for_update)
        return None if row is None else _turn(row)

    async def list_for_room(self, room_id: RoomId, *, limit: int) -> Sequence[Turn]:
        rows = await self._tx.rows(
            select(turns).where(turns.c.room_id == room_id)
            .order_by(turns.c.created_at.desc(), turns.c.id.desc()).limit(limit)
        )
        return [_turn(row) for row in rows]

    async def list_for_conversation(self, *, session_id: RoomSessionId | None = None,
                                    direct_session_id: DirectSessionId | None = None,
                                    limit: int, before: datetime | None = None,
                                    after: datetime | None = None) -> Sequence[Turn]:
        if session_id is None and direct_session_id is None:
            raise ValueError("Name a room session or a direct session.")
        statement = _conversation_page(session_id is not None, direct_session_id is not None,
                                       before is not None, after is not None)
        rows = await self._tx.rows(statement, params={
            "session_id": session_id, "direct_session_id": direct_session_id,
            "before": before, "after": after, "limit": limit})
        return [_turn(row) for row in rows]

    async def touch(self, turn_id: TurnId, *, last_seq: int,
                    heartbeat_at: datetime) -> Turn | None:
        row = await self._tx.first(
            update(turns).where(turns.c.id == turn_id)
            .values(last_seq=last_seq, heartbeat_at=heartbeat_at).returning(*turns.c)
        )
        return None if row is None else _turn(row)

    async def list_running_for_user(self, user_id: UserId) -> Sequence[Turn]:
        rows = await self._tx.rows(
            select(turns).where(turns.c.user_id == user_id,
                                turns.c.status == TurnStatus.RUNNING.value)
            .order_by(turns.c.created_at, turns.c.id)
        )
        return [_turn(row) for row in rows]

    async def list_stale(self, *, heartbeat_before: datetime) -> Sequence[Turn]:
        quiet = or_(turns.c.heartbeat_at < heartbeat_before,
                    and_(turns.c.heartbeat_at.is_(None), turns.c.created_at < heartbeat_before))
        rows = await self._tx.rows(
            select(turns).where(turns.c.status == TurnStatus.RUNNING.value, quiet)
            .order_by(turns.c.created_at, turns.c.id)
        )
        return [_turn(row) for row in rows]

    async def update(self, turn: Turn) -> None:
        await self._tx.execute(update(turns).where(turns.c.id == turn.id).values(_row(turn)))
