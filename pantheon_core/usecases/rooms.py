"""Room use cases (FR-ROOM-001..006, FR-DATA-002)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pantheon_core.actor import Actor
from pantheon_core.domain.agents import Agent
from pantheon_core.domain.modes import DEFAULT_MODE, parse_mode
from pantheon_core.domain.rooms import Room, clean_description, clean_room_name
from pantheon_core.domain.trash import TrashKind
from pantheon_core.errors import NotFound
from pantheon_core.ids import RoomId, new_id
from pantheon_core.usecases.access import owned_room, resolve_room_ref
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.trash import missing_for_restore


@dataclass(frozen=True, slots=True)
class RoomDetail:
    room: Room
    agents: Sequence[Agent]


class CreateRoom(UseCase):
    """Create a room owned by the actor.

    - The name is required (collapsed whitespace, at most 100 characters).
    - The initial mode is the room's *current* mode (default roundtable); nothing is pending.
    """

    async def __call__(self, actor: Actor, *, name: str, description: str = "",
                       mode: str | None = None) -> Room:
        owner = actor.require_user()
        now = self.deps.clock.now()
        room = Room(
            id=RoomId(new_id()), owner_id=owner, name=clean_room_name(name),
            description=clean_description(description),
            current_mode=DEFAULT_MODE if mode is None else parse_mode(mode), pending_mode=None,
            created_at=now, updated_at=now,
        )
        async with self.deps.uow() as uow:
            await uow.rooms.add(room)
            await uow.commit()
        return room


class ListRooms(UseCase):
    """The actor's live rooms, or with ``deleted`` the ones in the 7-day trash."""

    async def __call__(self, actor: Actor, *, deleted: bool = False) -> Sequence[Room]:
        owner = actor.require_user()
        async with self.deps.uow() as uow:
            return await uow.rooms.list_for_owner(owner, deleted=deleted)


class GetRoom(UseCase):
    """One of the actor's live rooms with its active agents in position order."""

    async def __call__(self, actor: Actor, room_id: str) -> RoomDetail:
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id)
            return RoomDetail(room, await uow.agents.list_active(room.id))


class FindRoom(UseCase):
    """A room by id or unambiguous name, for people typing at a CLI."""

    async def __call__(self, actor: Actor, ref: str, *, include_deleted: bool = False) -> Room:
        async with self.deps.uow() as uow:
            return await resolve_room_ref(uow, actor, ref, include_deleted=include_deleted)


class UpdateRoom(UseCase):
    """Rename a room or change its description. The mode has its own use case."""

    async def __call__(self, actor: Actor, room_id: str, *, name: str | None = None,
                       description: str | None = None) -> Room:
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            room = room.updated(self.deps.clock.now(), name=name, description=description)
            await uow.rooms.update(room)
            await uow.commit()
        return room


class RequestMode(UseCase):
    """Set the room's mode for the next send (FR-ROOM-004).

    Only ``pending_mode`` changes; ``current_mode`` and any running turn are untouched.
    """

    async def __call__(self, actor: Actor, room_id: str, mode: str) -> Room:
        wanted = parse_mode(mode)
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            room = room.request_mode(wanted, self.deps.clock.now())
            await uow.rooms.update(room)
            await uow.commit()
        return room


class DeleteRoom(UseCase):
    """Soft-delete a room: it leaves every listing and can be restored for 7 days. Its
    agents, conversations and files follow it: hidden with it, back with it, purged with it."""

    async def __call__(self, actor: Actor, room_id: str) -> Room:
        async with self.deps.uow() as uow:
            room = await owned_room(uow, actor, room_id, for_update=True)
            room = room.soft_deleted(self.deps.clock.now())
            await uow.rooms.update(room)
            await uow.commit()
        return room


class RestoreRoom(UseCase):
    """Bring back a soft-deleted room, with its agents, conversations and files, within 7
    days; later: ``410 restore_window_expired`` (also once the purge has removed it)."""

    async def __call__(self, actor: Actor, room_id: str) -> Room:
        async with self.deps.uow() as uow:
            try:
                room = await owned_room(uow, actor, room_id, for_update=True,
                                        include_deleted=True)
            except NotFound as missing:
                raise await missing_for_restore(uow, actor, TrashKind.ROOM, room_id,
                                                missing) from None
            room = room.restored(self.deps.clock.now())
            await uow.rooms.update(room)
            await uow.commit()
        return room
