"""Rooms: owned by one user, hold a mode state, soft-deleted with a restore window."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pantheon_core.domain.modes import ModeState, RoomMode
from pantheon_core.domain.text import check_text
from pantheon_core.domain.trash import TrashKind, check_restorable
from pantheon_core.domain.trash import restorable_until as _until
from pantheon_core.errors import Conflict, InvalidInput
from pantheon_core.ids import RoomId, UserId

MAX_ROOM_NAME = 100
MAX_ROOM_DESCRIPTION = 2000


def clean_room_name(value: str) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    check_text(name, field="room_name")
    if not name:
        raise InvalidInput("A room needs a name.", code="invalid_room_name",
                           details={"max_length": MAX_ROOM_NAME})
    if len(name) > MAX_ROOM_NAME:
        raise InvalidInput(f"Room names are at most {MAX_ROOM_NAME} characters.",
                           code="invalid_room_name",
                           details={"max_length": MAX_ROOM_NAME, "length": len(name)})
    return name


def clean_description(value: str) -> str:
    text = check_text(value.strip(), field="description") if isinstance(value, str) else ""
    if len(text) > MAX_ROOM_DESCRIPTION:
        raise InvalidInput(f"Room descriptions are at most {MAX_ROOM_DESCRIPTION} characters.",
                           code="description_too_long",
                           details={"max_length": MAX_ROOM_DESCRIPTION, "length": len(text)})
    return text


@dataclass(frozen=True, slots=True)
class Room:
    id: RoomId
    owner_id: UserId
    name: str
    description: str
    current_mode: RoomMode
    pending_mode: RoomMode | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def modes(self) -> ModeState:
        return ModeState(self.current_mode, self.pending_mode)

    def restorable_until(self) -> datetime | None:
        return _until(self.deleted_at)

    def updated(self, now: datetime, *, name: str | None = None,
                description: str | None = None) -> Room:
        return replace(
            self,
            name=self.name if name is None else clean_room_name(name),
            description=self.description if description is None else clean_description(description),
            updated_at=now,
        )

    def request_mode(self, mode: RoomMode, now: datetime) -> Room:
        """Record ``mode`` as pending; it takes effect at the next send (FR-ROOM-004)."""
        state = self.modes.request(mode)
        return replace(self, pending_mode=state.pending, updated_at=now)

    def start_send(self, now: datetime) -> tuple[RoomMode, Room]:
        """Resolve the mode for a new turn and clear the pending one (FR-ROOM-005)."""
        effective, state = self.modes.resolve_at_send()
        return effective, replace(self, current_mode=state.current, pending_mode=state.pending,
                                  updated_at=now)

    def soft_deleted(self, now: datetime) -> Room:
        if self.deleted_at is not None:
            raise Conflict("This room is already deleted.", code="room_already_deleted",
                           details={"restorable_until": _iso(self.restorable_until())})
        return replace(self, deleted_at=now, updated_at=now)

    def restored(self, now: datetime) -> Room:
        """Back from the trash within 7 days (``room_not_deleted``, ``restore_window_expired``)."""
        check_restorable(TrashKind.ROOM, self.id, self.deleted_at, now)
        return replace(self, deleted_at=None, updated_at=now)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
