"""Rooms and their mode, as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pantheon_core.domain.modes import RoomMode
from pantheon_core.domain.rooms import MAX_ROOM_DESCRIPTION, MAX_ROOM_NAME, Room
from pantheon_core.usecases.rooms import RoomDetail
from pantheon_http.schemas.agents import AgentOut
from pantheon_http.schemas.base import RequestModel

MODES = [m.value for m in RoomMode]
_MODE_HELP = ("`manual` runs only @tagged agents; `roundtable` runs every agent in order; "
              "`orchestrator` lets a manager model plan. Applies from the next send.")


class RoomCreate(RequestModel):
    name: str = Field(description=f"1-{MAX_ROOM_NAME} characters; whitespace is collapsed.",
                      examples=["Launch review"])
    description: str = Field("", description=f"At most {MAX_ROOM_DESCRIPTION} characters.")
    mode: str | None = Field(None, description=f"One of {', '.join(MODES)}; default roundtable.",
                             json_schema_extra={"enum": [*MODES, None]})


class RoomPatch(RequestModel):
    name: str | None = Field(None, description=f"1-{MAX_ROOM_NAME} characters.")
    description: str | None = Field(None, description=f"At most {MAX_ROOM_DESCRIPTION} characters.")


class ModeChange(RequestModel):
    mode: str = Field(description=f"One of {', '.join(MODES)}. {_MODE_HELP}",
                      json_schema_extra={"enum": [*MODES]}, examples=["manual"])


def mode_note(room: Room) -> str:
    """What the next send will do, in words: ``"manual applies on next send"``."""
    if room.pending_mode is not None:
        return f"{room.pending_mode.value} applies on next send"
    return f"{room.current_mode.value} is active"


class RoomOut(BaseModel):
    id: str
    name: str
    description: str
    current_mode: RoomMode = Field(description="The mode the last send ran in.")
    pending_mode: RoomMode | None = Field(description="Chosen mode, applied at the next send.")
    mode_note: str = Field(examples=["roundtable applies on next send"])
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    restorable_until: datetime | None = Field(description="Deleted rooms: restore before this.")

    @classmethod
    def of(cls, room: Room) -> RoomOut:
        return cls(id=room.id, name=room.name, description=room.description,
                   current_mode=room.current_mode, pending_mode=room.pending_mode,
                   mode_note=mode_note(room), created_at=room.created_at,
                   updated_at=room.updated_at, deleted_at=room.deleted_at,
                   restorable_until=room.restorable_until())


class RoomDetailOut(RoomOut):
    agents: list[AgentOut] = Field(description="Active agents, in position order.")

    @classmethod
    def of_detail(cls, detail: RoomDetail) -> RoomDetailOut:
        room = RoomOut.of(detail.room)
        return cls(**room.model_dump(), agents=[AgentOut.of(a) for a in detail.agents])


class RoomList(BaseModel):
    rooms: list[RoomOut]
