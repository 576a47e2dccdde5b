"""Direct (1:1) chat sessions, as the API shows them (FR-DIRECT-001..003)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.sessions import MAX_TITLE, DirectSession
from pantheon_http.schemas.agents import ALIASES, ToolsIn, ToolsOut
from pantheon_http.schemas.base import RequestModel


class DirectAgentIn(RequestModel):
    name: str = Field(description="The agent's name.", examples=["Ana"])
    model_alias: str = Field(description=f"One of {', '.join(ALIASES)}.",
                             json_schema_extra={"enum": [*ALIASES]}, examples=["deepseek"])
    role_prompt: str = ""
    tools: ToolsIn = Field(default_factory=ToolsIn, description="Off unless turned on.")


class DirectSessionCreate(RequestModel):
    """Either a room agent to copy (``room_id`` + ``agent_id``) or a fresh ``agent``."""

    room_id: str | None = Field(None, description="With `agent_id`: copy this room's agent.")
    agent_id: str | None = Field(None, description="The room agent's id or name.")
    agent: DirectAgentIn | None = Field(None, description="Or define a fresh agent.")
    title: str | None = Field(None, description=f"At most {MAX_TITLE} characters "
                                                "(default: \"Chat with <name>\").")


class DirectAgentOut(BaseModel):
    id: str
    name: str
    handle: str = Field(examples=["@Ana"])
    model_alias: ModelAlias
    role_prompt: str
    tools: ToolsOut


class DirectSessionOut(BaseModel):
    id: str
    title: str
    agent: DirectAgentOut = Field(description="The session's own copy of the agent.")
    source_agent_id: str | None = Field(description="The room agent it was copied from.")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(None, description="Set while in the 7-day trash.")
    restorable_until: datetime | None = Field(
        None, description="Deleted chats: restore before this.")

    @classmethod
    def of(cls, session: DirectSession) -> DirectSessionOut:
        agent = session.agent
        return cls(id=session.id, title=session.title,
                   agent=DirectAgentOut(id=agent.agent_id, name=agent.name,
                                        handle=f"@{agent.name}", model_alias=agent.model_alias,
                                        role_prompt=agent.role_prompt,
                                        tools=ToolsOut(**agent.tools.as_dict())),
                   source_agent_id=session.source_agent_id, created_at=session.created_at,
                   updated_at=session.updated_at, deleted_at=session.deleted_at,
                   restorable_until=session.restorable_until())


class DirectSessionList(BaseModel):
    sessions: list[DirectSessionOut] = Field(description="Most recently active first (with "
                                                         "`deleted=true`: the 7-day trash).")
