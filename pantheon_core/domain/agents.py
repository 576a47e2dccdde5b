"""Agents and the roster of a room (FR-AGENT-001..005).

An agent's name is its tag handle (``@Name``), so it must be taggable: a letter,
then letters, digits, ``_`` or ``-``. Names are unique in a room regardless of case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from pantheon_core.domain.text import check_text
from pantheon_core.domain.trash import TrashKind, check_restorable, restorable_until
from pantheon_core.errors import Conflict, InvalidInput
from pantheon_core.ids import AgentId, RoomId

MAX_AGENT_NAME = 32
MAX_ROLE_PROMPT = 4000
MAX_AGENTS_PER_ROOM = 12
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class ModelAlias(StrEnum):
    """The model aliases users pick from; each maps to a provider model id by data."""

    LLAMA = "llama"
    QWEN = "qwen"
    DEEPSEEK = "deepseek"
    GPT_OSS = "gpt_oss"
    PREMIUM = "premium"


class Tool(StrEnum):
    WEB_SEARCH = "web_search"
    FILES = "files"


def parse_alias(value: str) -> ModelAlias:
    try:
        return ModelAlias(value.strip().lower())
    except (ValueError, AttributeError):
        allowed = [a.value for a in ModelAlias]
        raise InvalidInput(f"Unknown model alias {value!r}; choose one of {', '.join(allowed)}.",
                           code="unknown_model_alias", details={"allowed": allowed}) from None


def clean_agent_name(value: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise InvalidInput("An agent needs a name.", code="invalid_agent_name",
                           details={"max_length": MAX_AGENT_NAME})
    if len(name) > MAX_AGENT_NAME or not _NAME.match(name):
        raise InvalidInput(
            f"Agent name {name!r} must be 1-{MAX_AGENT_NAME} characters: a letter, then letters, "
            "digits, '_' or '-' (it is the @tag handle).",
            code="invalid_agent_name", details={"max_length": MAX_AGENT_NAME},
        )
    return name


def clean_role_prompt(value: str) -> str:
    text = check_text(value.strip(), field="role_prompt") if isinstance(value, str) else ""
    if len(text) > MAX_ROLE_PROMPT:
        raise InvalidInput(f"Role prompts are at most {MAX_ROLE_PROMPT} characters "
                           f"(this one has {len(text)}).", code="role_prompt_too_long",
                           details={"max_length": MAX_ROLE_PROMPT, "length": len(text)})
    return text


def name_key(name: str) -> str:
    """The case-insensitive identity of a name (what must be unique in a room)."""
    return name.casefold()


@dataclass(frozen=True, slots=True)
class ToolPermissions:
    web_search: bool = False
    files: bool = False

    def allows(self, tool: Tool) -> bool:
        return self.web_search if tool is Tool.WEB_SEARCH else self.files

    def as_dict(self) -> dict[str, bool]:
        return {"web_search": self.web_search, "files": self.files}


@dataclass(frozen=True, slots=True)
class Agent:
    id: AgentId
    room_id: RoomId
    name: str
    model_alias: ModelAlias
    role_prompt: str
    tools: ToolPermissions
    position: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    def edited(self, now: datetime, *, name: str | None = None,
               model_alias: ModelAlias | None = None, role_prompt: str | None = None,
               tools: ToolPermissions | None = None) -> Agent:
        return replace(
            self,
            name=self.name if name is None else clean_agent_name(name),
            model_alias=self.model_alias if model_alias is None else model_alias,
            role_prompt=self.role_prompt if role_prompt is None else clean_role_prompt(role_prompt),
            tools=self.tools if tools is None else tools,
            updated_at=now,
        )

    def removed(self, now: datetime) -> Agent:
        return replace(self, deleted_at=now, updated_at=now)

    def restorable_until(self) -> datetime | None:
        return restorable_until(self.deleted_at)

    def restored(self, now: datetime, *, position: int) -> Agent:
        """Back from the trash within 7 days, at ``position`` (``agent_not_deleted``,
        ``restore_window_expired``)."""
        check_restorable(TrashKind.AGENT, self.id, self.deleted_at, now)
        return replace(self, deleted_at=None, position=position, updated_at=now)


class Roster:
    """The active agents of one room, in position order, and the rules that span them."""

    def __init__(self, agents: Iterable[Agent]) -> None:
        self.agents: list[Agent] = sorted(agents, key=lambda a: (a.position, a.created_at))

    def __len__(self) -> int:
        return len(self.agents)

    def find(self, ref: str) -> Agent | None:
        """An active agent by id, or by name regardless of case (names are the tag handles)."""
        key = name_key(ref.strip())
        return next((a for a in self.agents if a.id == ref or name_key(a.name) == key), None)

    def next_position(self) -> int:
        return len(self.agents)

    def ensure_room_for_one_more(self) -> None:
        if len(self.agents) >= MAX_AGENTS_PER_ROOM:
            raise Conflict(f"A room holds at most {MAX_AGENTS_PER_ROOM} agents.",
                           code="agent_limit_reached", details={"max_agents": MAX_AGENTS_PER_ROOM})

    def ensure_name_free(self, name: str, *, except_id: AgentId | None = None) -> None:
        key = name_key(name)
        for agent in self.agents:
            if agent.id != except_id and name_key(agent.name) == key:
                raise Conflict(f"This room already has an agent called {agent.name!r} "
                               "(names are case-insensitive).", code="duplicate_agent_name",
                               details={"name": name, "existing": agent.name})

    def reordered(self, ordered_ids: Sequence[AgentId], now: datetime) -> list[Agent]:
        """Agents numbered 0..n-1 in ``ordered_ids`` order; it must list each agent once."""
        current = {a.id: a for a in self.agents}
        if len(ordered_ids) != len(current) or set(ordered_ids) != set(current):
            raise InvalidInput("The new order must list every agent of the room exactly once.",
                               code="invalid_agent_order",
                               details={"expected_ids": [a.id for a in self.agents]})
        return [replace(current[aid], position=i, updated_at=now)
                for i, aid in enumerate(ordered_ids)]

    def moved(self, agent_id: AgentId, position: int, now: datetime) -> list[Agent]:
        """Move one agent to ``position`` (clamped), shifting the others."""
        ids = [a.id for a in self.agents if a.id != agent_id]
        ids.insert(max(0, min(position, len(ids))), agent_id)
        return self.reordered(ids, now)

    def without(self, agent_id: AgentId, now: datetime) -> list[Agent]:
        """The remaining agents, renumbered without gaps."""
        rest = [a for a in self.agents if a.id != agent_id]
        return [a if a.position == i else replace(a, position=i, updated_at=now)
                for i, a in enumerate(rest)]
