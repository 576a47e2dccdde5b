"""Loading what an actor owns. Someone else's room is "not found", never "forbidden"."""

from __future__ import annotations

from pantheon_core.actor import Actor
from pantheon_core.domain.agents import Agent, Roster
from pantheon_core.domain.rooms import Room
from pantheon_core.errors import Conflict, not_found
from pantheon_core.ids import RoomId
from pantheon_core.ports.unit_of_work import UnitOfWork


async def owned_room(uow: UnitOfWork, actor: Actor, room_id: str, *, for_update: bool = False,
                     include_deleted: bool = False) -> Room:
    user_id = actor.require_user()
    room = await uow.rooms.get(RoomId(room_id), for_update=for_update)
    if room is None or room.owner_id != user_id or (room.is_deleted and not include_deleted):
        raise not_found("room", room_id)
    return room


async def resolve_room_ref(uow: UnitOfWork, actor: Actor, ref: str, *,
                           include_deleted: bool = False) -> Room:
    """A room by id, or by name (case-insensitive) when the name is unambiguous."""
    user_id = actor.require_user()
    room = await uow.rooms.get(RoomId(ref))
    if room is not None and room.owner_id == user_id and (include_deleted or not room.is_deleted):
        return room
    pool = list(await uow.rooms.list_for_owner(user_id, deleted=False))
    if include_deleted:
        pool += await uow.rooms.list_for_owner(user_id, deleted=True)
    matches = [r for r in pool if r.name.casefold() == ref.strip().casefold()]
    if len(matches) > 1:
        raise Conflict(f"{len(matches)} rooms are called {ref!r}; use the room id.",
                       code="ambiguous_room", details={"ids": [r.id for r in matches]})
    if not matches:
        raise not_found("room", ref)
    return matches[0]


async def roster_of(uow: UnitOfWork, room: Room) -> Roster:
    return Roster(await uow.agents.list_active(room.id))


def agent_in(roster: Roster, ref: str) -> Agent:
    """An active agent of the roster by id or by name (case-insensitive), or ``agent_not_found``."""
    agent = roster.find(ref)
    if agent is None:
        raise not_found("agent", ref)
    return agent
