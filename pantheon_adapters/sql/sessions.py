"""Conversations: room sessions and direct (1:1) sessions, each with its memory."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, select, update

from pantheon_adapters.sql.tables import direct_sessions, room_sessions
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.sessions import DirectSession, Memory, RoomSession
from pantheon_core.domain.turns import AgentSnapshot
from pantheon_core.ids import AgentId, DirectSessionId, RoomId, RoomSessionId, UserId


def _memory_row(memory: Memory) -> dict[str, Any]:
    return {"memory_summary": memory.summary,
            "memory_summary_through": memory.summary_through}


def _memory(row: Row[Any]) -> Memory:
    return Memory(summary=row.memory_summary, summary_through=row.memory_summary_through)


def _room_row(session: RoomSession) -> dict[str, Any]:
    return {"id": session.id, "room_id": session.room_id, "user_id": session.user_id,
            "title": session.title, "created_at": session.created_at,
            "updated_at": session.updated_at, **_memory_row(session.memory)}


def _room_session(row: Row[Any]) -> RoomSession:
    return RoomSession(id=RoomSessionId(row.id), room_id=RoomId(row.room_id),
                       user_id=UserId(row.user_id), title=row.title,
                       created_at=row.created_at, updated_at=row.updated_at,
                       memory=_memory(row))


def _direct_row(session: DirectSession) -> dict[str, Any]:
    return {"id": session.id, "user_id": session.user_id, "agent": session.agent.to_dict(),
            "source_agent_id": session.source_agent_id, "title": session.title,
            "created_at": session.created_at, "updated_at": session.updated_at,
            "deleted_at": session.deleted_at, **_memory_row(session.memory)}


def _direct_session(row: Row[Any]) -> DirectSession:
    return DirectSession(
        id=DirectSessionId(row.id), user_id=UserId(row.user_id),
        agent=AgentSnapshot.from_dict(row.agent), title=row.title, created_at=row.created_at,
        updated_at=row.updated_at,
        source_agent_id=None if row.source_agent_id is None else AgentId(row.source_agent_id),
        memory=_memory(row), deleted_at=row.deleted_at,
    )


@functools.cache
def _sessions_of_room() -> Select[Any]:
    """A room's sessions, newest first (every timeline page), built once: binds ``room_id``
    and ``limit``."""
    return (select(room_sessions).where(room_sessions.c.room_id == bindparam("room_id"))
            .order_by(room_sessions.c.created_at.desc(), room_sessions.c.id.desc())
            .limit(bindparam("limit", type_=Integer)))


class SqlSessionRepository:
    """``SessionRepository`` over ``room_sessions`` and ``direct_sessions``.

    A direct session's agent is stored with :meth:`AgentSnapshot.to_dict`. Room sessions
    list newest (by creation) first; direct sessions most recently updated first, the live
    ones or (``deleted=True``) the deleted ones; ties broken by id (descending).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add_room_session(self, session: RoomSession) -> None:
        await self._tx.execute(room_sessions.insert().values(_room_row(session)))

    async def get_room_session(self, session_id: RoomSessionId) -> RoomSession | None:
        row = await self._tx.first(select(room_sessions)
                                   .where(room_sessions.c.id == session_id))
        return None if row is None else _room_session(row)

    async def latest_room_session(self, room_id: RoomId) -> RoomSession | None:
        found = await self.list_room_sessions(room_id, limit=1)
        return found[0] if found else None

    async def list_room_sessions(self, room_id: RoomId, *, limit: int) -> Sequence[RoomSession]:
        rows = await self._tx.rows(_sessions_of_room(),
                                   params={"room_id": room_id, "limit": limit})
        return [_room_session(row) for row in rows]

    async def update_room_session(self, session: RoomSession) -> None:
        await self._tx.execute(update(room_sessions).where(room_sessions.c.id == session.id)
                               .values(_room_row(session)))

    async def add_direct_session(self, session: DirectSession) -> None:
        await self._tx.execute(direct_sessions.insert().values(_direct_row(session)))

    async def get_direct_session(self, session_id: DirectSessionId) -> DirectSession | None:
        row = await self._tx.first(select(direct_sessions)
                                   .where(direct_sessions.c.id == session_id))
        return None if row is None else _direct_session(row)

    async def list_direct_sessions(self, user_id: UserId, *,
                                   deleted: bool = False) -> Sequence[DirectSession]:
        state = (direct_sessions.c.deleted_at.is_not(None) if deleted
                 else direct_sessions.c.deleted_at.is_(None))
        rows = await self._tx.rows(
            select(direct_sessions)
            .where(direct_sessions.c.user_id == user_id, state)
            .order_by(direct_sessions.c.updated_at.desc(), direct_sessions.c.id.desc())
        )
        return [_direct_session(row) for row in rows]

    async def update_direct_session(self, session: DirectSession) -> None:
        await self._tx.execute(update(direct_sessions)
                               .where(direct_sessions.c.id == session.id)
                               .values(_direct_row(session)))
