"""Turns: one user message and the agent steps it causes, with a frozen roster.

At turn start the room's active roster is copied into the turn (the *roster
snapshot*, FR-AGENT-004); everything that runs the turn reads only the snapshot,
so edits to the room apply from the next send (FR-AGENT-005).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pantheon_core.domain.agents import Agent, ModelAlias, ToolPermissions, name_key
from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.text import check_text
from pantheon_core.errors import Conflict, InvalidInput
from pantheon_core.ids import AgentId, DirectSessionId, RoomId, RoomSessionId, TurnId, UserId

MAX_MESSAGE = 32_000


class TurnStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The turn status machine as data: a turn starts running and ends exactly once.
TURN_TRANSITIONS: dict[TurnStatus, frozenset[TurnStatus]] = {
    TurnStatus.RUNNING: frozenset(
        {TurnStatus.COMPLETED, TurnStatus.PARTIAL, TurnStatus.FAILED, TurnStatus.CANCELLED}
    ),
    TurnStatus.COMPLETED: frozenset(),
    TurnStatus.PARTIAL: frozenset(),
    TurnStatus.FAILED: frozenset(),
    TurnStatus.CANCELLED: frozenset(),
}


def advance(status: TurnStatus, to: TurnStatus) -> TurnStatus:
    if to not in TURN_TRANSITIONS[status]:
        raise Conflict(f"A {status.value} turn cannot become {to.value}.",
                       code="invalid_turn_transition",
                       details={"from": status.value, "to": to.value})
    return to


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """An agent as it was when a turn started."""

    agent_id: AgentId
    name: str
    model_alias: ModelAlias
    role_prompt: str
    tools: ToolPermissions
    position: int

    @classmethod
    def of(cls, agent: Agent) -> AgentSnapshot:
        return cls(agent.id, agent.name, agent.model_alias, agent.role_prompt, agent.tools,
                   agent.position)

    def to_dict(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "name": self.name,
                "model_alias": self.model_alias.value, "role_prompt": self.role_prompt,
                "tools": self.tools.as_dict(), "position": self.position}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentSnapshot:
        tools = data.get("tools") or {}
        return cls(AgentId(data["agent_id"]), data["name"], ModelAlias(data["model_alias"]),
                   data.get("role_prompt", ""),
                   ToolPermissions(bool(tools.get("web_search")), bool(tools.get("files"))),
                   int(data["position"]))


def clean_message(value: str) -> str:
    text = check_text(value.strip(), field="message") if isinstance(value, str) else ""
    if not text:
        raise InvalidInput("The message is empty.", code="empty_message")
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(f"Messages are at most {MAX_MESSAGE} characters.",
                           code="message_too_long",
                           details={"max_length": MAX_MESSAGE, "length": len(text)})
    return text


# A tag is '@' not preceded by a word character (so e-mail addresses are not tags).
_TAG = re.compile(r"(?<![\w@])@([A-Za-z][A-Za-z0-9_-]*)")


def tagged_agents(message: str, roster: Sequence[AgentSnapshot]) -> list[AgentSnapshot]:
    """The roster agents tagged in ``message``, in first-tag order, each once (FR-MODE-001).

    Tags match names case-insensitively; trailing ``-``/``_`` (as in ``@Ana-``) is
    tolerated when the longer handle names no agent.
    """
    by_key = {name_key(a.name): a for a in roster}
    found: dict[AgentId, AgentSnapshot] = {}
    for match in _TAG.finditer(message):
        handle = match.group(1)
        while handle and name_key(handle) not in by_key and handle[-1] in "-_":
            handle = handle[:-1]
        agent = by_key.get(name_key(handle))
        if agent is not None and agent.agent_id not in found:
            found[agent.agent_id] = agent
    return list(found.values())


@dataclass(frozen=True, slots=True)
class Turn:
    """One send and everything it caused, in a room session or a direct session.

    ``last_seq`` is the last event sequence number persisted; ``heartbeat_at`` is
    refreshed while a process runs the turn, so a sweep can tell orphans apart.
    """

    id: TurnId
    user_id: UserId
    mode: TurnMode
    status: TurnStatus
    message: str
    roster: tuple[AgentSnapshot, ...]
    selected: tuple[AgentId, ...]
    created_at: datetime
    room_id: RoomId | None = None
    session_id: RoomSessionId | None = None
    direct_session_id: DirectSessionId | None = None
    finished_at: datetime | None = None
    last_seq: int = 0
    credits: Decimal = Decimal(0)
    error_code: str | None = None
    error_message: str | None = None
    heartbeat_at: datetime | None = None
    cancel_requested_at: datetime | None = None

    @property
    def is_finished(self) -> bool:
        return self.status is not TurnStatus.RUNNING

    def finished(self, status: TurnStatus, now: datetime, *, credits: Decimal,
                 last_seq: int, error_code: str | None = None,
                 error_message: str | None = None) -> Turn:
        return replace(self, status=advance(self.status, status), finished_at=now,
                       credits=credits, last_seq=last_seq, error_code=error_code,
                       error_message=error_message, heartbeat_at=now)
