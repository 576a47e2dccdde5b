"""Rooms, with the row lock that serialises everything that changes one room."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, select, update

from pantheon_adapters.sql.tables import rooms
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.modes import RoomMode
from pantheon_core.domain.rooms import Room
from pantheon_core.ids import RoomId, UserId


def _row(room: Room) -> dict[str, Any]:
    return {"id": room.id, "owner_id": room.owner_id, "name": room.name,
            "description": room.description, "current_mode": room.current_mode.value,
            "pending_mode": None if room.pending_mode is None else room.pending_mode.value,
            "created_at": room.created_at, "updated_at": room.updated_at,
            "deleted_at": room.deleted_at}


def _room(row: Row[Any]) -> Room:
    return Room(id=RoomId(row.id), owner_id=UserId(row.owner_id), name=row.name,
                description=row.description, current_mode=RoomMode(row.current_mode),
                pending_mode=None if row.pending_mode is None else RoomMode(row.pending_mode),
                created_at=row.created_at, updated_at=row.updated_at, deleted_at=row.deleted_at)


@functools.cache
def _room_by_id(for_update: bool) -> Select[Any]:
    """Built once (most requests read their room): binds ``room_id``."""
    statement = select(rooms).where(rooms.c.id == bindparam("room_id"))
    return statement.with_for_update() if for_update else statement


@functools.cache
def _rooms_of_owner(deleted: bool) -> Select[Any]:
    """The room list, built once: binds ``owner_id``."""
    state = rooms.c.deleted_at.is_not(None) if deleted else rooms.c.deleted_at.is_(None)
    return (select(rooms).where(rooms.c.owner_id == bindparam("owner_id"), state)
            .order_by(rooms.c.updated_at.desc(), rooms.c.id.desc()))


class SqlRoomRepository:
    """``RoomRepository`` over ``rooms``.

    ``get(for_update=True)`` locks the row until the unit of work ends: ``SELECT … FOR
    UPDATE`` on PostgreSQL; on SQLite, which has one writer at a time, the unit of work's
    transaction is begun ``IMMEDIATE`` when this is its first statement (see :class:`Tx`).
    Listings are most recently updated first, ties broken by id (descending).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, room: Room) -> None:
        await self._tx.execute(rooms.insert().values(_row(room)))

    async def get(self, room_id: RoomId, *, for_update: bool = False) -> Room | None:
        row = await self._tx.first(_room_by_id(for_update), lock=for_update,
                                   params={"room_id": room_id})
        return None if row is None else _room(row)

    async def list_for_owner(self, owner_id: UserId, *, deleted: bool) -> Sequence[Room]:
        rows = await self._tx.rows(_rooms_of_owner(deleted), params={"owner_id": owner_id})
        return [_room(row) for row in rows]

    async def update(self, room: Room) -> None:
        await self._tx.execute(update(rooms).where(rooms.c.id == room.id).values(_row(room)))
