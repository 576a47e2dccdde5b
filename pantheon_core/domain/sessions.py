"""Conversations: room sessions and direct (1:1) sessions, each with its own memory.

A room holds sessions; memory and timeline are per session, so a user can start a
fresh one. A direct session talks to one agent whose definition it owns, and its
memory is separate from every room (FR-DIRECT-002).

Memory is the recent turns verbatim plus a rolling ``summary`` of the older ones:
turns created at or before ``summary_through`` are folded into it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pantheon_core.domain.text import check_text
from pantheon_core.domain.trash import TrashKind, check_restorable, restorable_until
from pantheon_core.domain.turns import AgentSnapshot
from pantheon_core.errors import InvalidInput
from pantheon_core.ids import AgentId, DirectSessionId, RoomId, RoomSessionId, UserId

MAX_TITLE = 120


def clean_title(value: str, *, default: str) -> str:
    title = " ".join(value.split()) if isinstance(value, str) else ""
    check_text(title, field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"Titles are at most {MAX_TITLE} characters.", code="invalid_title",
                           details={"max_length": MAX_TITLE})
    return title or default


@dataclass(frozen=True, slots=True)
class Memory:
    summary: str = ""
    summary_through: datetime | None = None

    def folded(self, summary: str, through: datetime) -> Memory:
        return Memory(summary=summary, summary_through=through)


@dataclass(frozen=True, slots=True)
class RoomSession:
    id: RoomSessionId
    room_id: RoomId
    user_id: UserId
    title: str
    created_at: datetime
    updated_at: datetime
    memory: Memory = Memory()

    def with_memory(self, memory: Memory, now: datetime) -> RoomSession:
        return replace(self, memory=memory, updated_at=now)

    def touched(self, now: datetime) -> RoomSession:
        return replace(self, updated_at=now)


@dataclass(frozen=True, slots=True)
class DirectSession:
    id: DirectSessionId
    user_id: UserId
    agent: AgentSnapshot
    title: str
    created_at: datetime
    updated_at: datetime
    source_agent_id: AgentId | None = None
    memory: Memory = Memory()
    deleted_at: datetime | None = None

    def with_memory(self, memory: Memory, now: datetime) -> DirectSession:
        return replace(self, memory=memory, updated_at=now)

    def touched(self, now: datetime) -> DirectSession:
        return replace(self, updated_at=now)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def restorable_until(self) -> datetime | None:
        return restorable_until(self.deleted_at)

    def soft_deleted(self, now: datetime) -> DirectSession:
        """Into the trash: hidden, with its turns and files, restorable for 7 days."""
        return replace(self, deleted_at=now, updated_at=now)

    def restored(self, now: datetime) -> DirectSession:
        """Back from the trash within 7 days (``direct_session_not_deleted``,
        ``restore_window_expired``)."""
        check_restorable(TrashKind.DIRECT_SESSION, self.id, self.deleted_at, now)
        return replace(self, deleted_at=None, updated_at=now)
