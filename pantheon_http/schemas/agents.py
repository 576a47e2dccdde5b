"""Agents, as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pantheon_core.domain.agents import (
    MAX_AGENT_NAME,
    MAX_AGENTS_PER_ROOM,
    MAX_ROLE_PROMPT,
    Agent,
    ModelAlias,
)
from pantheon_http.schemas.base import RequestModel

ALIASES = [a.value for a in ModelAlias]
_NAME_HELP = (f"The @tag handle: 1-{MAX_AGENT_NAME} characters, a letter then letters, digits, "
              "'_' or '-'; unique in the room regardless of case.")
_ALIAS_HELP = f"One of {', '.join(ALIASES)}."
_PROMPT_HELP = f"At most {MAX_ROLE_PROMPT} characters."


class ToolsIn(RequestModel):
    web_search: bool = False
    files: bool = False


class ToolsPatch(RequestModel):
    web_search: bool | None = None
    files: bool | None = None


class AgentCreate(RequestModel):
    name: str = Field(description=_NAME_HELP, examples=["Ana"])
    model_alias: str = Field(description=_ALIAS_HELP, json_schema_extra={"enum": [*ALIASES]},
                             examples=["deepseek"])
    role_prompt: str = Field("", description=_PROMPT_HELP)
    tools: ToolsIn = Field(default_factory=ToolsIn, description="Off unless turned on.")
    position: int | None = Field(
        None, description=f"0-based place in the order (default: last). "
                          f"A room holds at most {MAX_AGENTS_PER_ROOM} agents.")


class AgentPatch(RequestModel):
    name: str | None = Field(None, description=_NAME_HELP)
    model_alias: str | None = Field(None, description=_ALIAS_HELP,
                                    json_schema_extra={"enum": [*ALIASES, None]})
    role_prompt: str | None = Field(None, description=_PROMPT_HELP)
    tools: ToolsPatch | None = None
    position: int | None = Field(None, description="Move to this 0-based place; others shift.")


class AgentOrder(RequestModel):
    agent_ids: list[str] = Field(description="Every active agent of the room, exactly once.")


class ToolsOut(BaseModel):
    web_search: bool
    files: bool


class AgentOut(BaseModel):
    id: str
    room_id: str
    name: str
    handle: str = Field(examples=["@Ana"])
    model_alias: ModelAlias
    role_prompt: str
    tools: ToolsOut
    position: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(None, description="Set while in the 7-day trash.")
    restorable_until: datetime | None = Field(
        None, description="Removed agents: restore before this.")

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        return cls(id=agent.id, room_id=agent.room_id, name=agent.name, handle=f"@{agent.name}",
                   model_alias=agent.model_alias, role_prompt=agent.role_prompt,
                   tools=ToolsOut(**agent.tools.as_dict()), position=agent.position,
                   created_at=agent.created_at, updated_at=agent.updated_at,
                   deleted_at=agent.deleted_at, restorable_until=agent.restorable_until())


class AgentList(BaseModel):
    agents: list[AgentOut]
