"""Conversations as the API shows them: room sessions, and timelines of messages.

A timeline entry is one turn: the user's message, then every step as its own
message, labelled with its agent, model alias, mode and step kind (UI-005,
FR-MODE-005), with its status and credits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.sessions import MAX_TITLE, RoomSession
from pantheon_core.domain.steps import Step, StepKind, StepStatus
from pantheon_core.usecases.conversation import TimelineEntry, TimelinePage
from pantheon_http.schemas.base import RequestModel
from pantheon_http.schemas.turns import CREDITS_HELP, TurnErrorOut, TurnOut


class SessionCreate(RequestModel):
    title: str | None = Field(None, description=f"At most {MAX_TITLE} characters "
                                                "(default: the date).")


class SessionOut(BaseModel):
    id: str
    room_id: str
    title: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, session: RoomSession) -> SessionOut:
        return cls(id=session.id, room_id=session.room_id, title=session.title,
                   created_at=session.created_at, updated_at=session.updated_at)


class SessionList(BaseModel):
    sessions: list[SessionOut] = Field(description="Newest first.")


class UserMessageOut(BaseModel):
    type: Literal["user"] = "user"
    turn_id: str
    mode: TurnMode
    content: str
    created_at: datetime


class StepMessageOut(BaseModel):
    type: Literal["step"] = "step"
    turn_id: str
    step_id: str
    index: int
    kind: StepKind = Field(description="`plan`, `worker`, `synthesis` or `direct`.")
    agent_name: str = Field(description="The agent, or `Manager` for plan and synthesis.")
    agent_id: str | None
    model_alias: str
    model: str
    provider: str
    mode: TurnMode
    status: StepStatus
    content: str
    credits: str = Field(description=CREDITS_HELP)
    usage: dict[str, Any] = Field(description="Calls, tokens, credits and provider cost.")
    error: TurnErrorOut | None
    instruction: str | None = Field(description="The manager's instruction (orchestrator).")
    data: dict[str, Any] = Field(
        description="Kind-specific: the routing plan, a fallback…; for steps that used tools, "
                    "`tool_calls` (each call's record: `call_id`, `tool`, `arguments`, "
                    "`status` `allowed|denied|error`, `result`, `error`, `credits`) and "
                    "`files_read`.")
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, step: Step, mode: TurnMode) -> StepMessageOut:
        error = None if step.error_code is None else TurnErrorOut(
            code=step.error_code, message=step.error_message or "")
        return cls(turn_id=step.turn_id, step_id=step.id, index=step.index, kind=step.kind,
                   agent_name=step.agent_name, agent_id=step.agent_id,
                   model_alias=step.model_alias.value, model=step.model, provider=step.provider,
                   mode=mode, status=step.status, content=step.content,
                   credits=str(step.usage.credits), usage=step.usage.to_dict(), error=error,
                   instruction=step.instruction, data=dict(step.data),
                   started_at=step.started_at, finished_at=step.finished_at)


MessageOut = Annotated[UserMessageOut | StepMessageOut, Field(discriminator="type")]


class TimelineEntryOut(BaseModel):
    turn: TurnOut
    messages: list[MessageOut] = Field(description="The user's message, then each step.")

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryOut:
        turn = entry.turn
        user = UserMessageOut(turn_id=turn.id, mode=turn.mode, content=turn.message,
                              created_at=turn.created_at)
        steps = [StepMessageOut.of(step, turn.mode) for step in entry.steps]
        return cls(turn=TurnOut.of(turn), messages=[user, *steps])


class TimelinePageOut(BaseModel):
    entries: list[TimelineEntryOut] = Field(description="Oldest first within the page.")
    next_before: datetime | None = Field(
        description="Pass as `before` for the previous (older) page; null on the oldest.")

    @classmethod
    def of(cls, page: TimelinePage) -> TimelinePageOut:
        return cls(entries=[TimelineEntryOut.of(e) for e in page.entries],
                   next_before=page.next_before)
