"""Sends and turns, as the API shows them: the turn record and its durable snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.turns import MAX_MESSAGE, Turn, TurnStatus
from pantheon_core.usecases.conversation import TurnView
from pantheon_http.schemas.base import RequestModel

CREDITS_HELP = "Credits as an exact decimal string, e.g. `\"0.450000\"`."


class MessageIn(RequestModel):
    content: str = Field(description=f"The message, 1-{MAX_MESSAGE} characters. In manual "
                                     "mode it must @tag at least one agent.",
                         examples=["@Ana what are the launch risks?"])


class RoomMessageIn(MessageIn):
    session_id: str | None = Field(None, description="The room session to post in "
                                                     "(default: the room's latest).")


class TurnErrorOut(BaseModel):
    code: str = Field(examples=["interrupted"])
    message: str


class TurnOut(BaseModel):
    id: str
    room_id: str | None
    session_id: str | None = Field(description="The room session, for room turns.")
    direct_session_id: str | None = Field(description="The direct session, for direct turns.")
    mode: TurnMode = Field(description="The mode the turn runs in, fixed when it started.")
    status: TurnStatus
    message: str
    created_at: datetime
    finished_at: datetime | None
    credits: str = Field(description=CREDITS_HELP)
    error: TurnErrorOut | None = Field(description="Why the turn failed, when it did.")
    last_seq: int = Field(description="The last event seq stored so far.")
    cancel_requested_at: datetime | None

    @classmethod
    def of(cls, turn: Turn) -> TurnOut:
        error = None if turn.error_code is None else TurnErrorOut(
            code=turn.error_code, message=turn.error_message or "")
        return cls(id=turn.id, room_id=turn.room_id, session_id=turn.session_id,
                   direct_session_id=turn.direct_session_id, mode=turn.mode, status=turn.status,
                   message=turn.message, created_at=turn.created_at, finished_at=turn.finished_at,
                   credits=str(turn.credits), error=error, last_seq=turn.last_seq,
                   cancel_requested_at=turn.cancel_requested_at)


class TurnAccepted(BaseModel):
    """A send was accepted: its turn runs in the background."""

    turn: TurnOut
    stream_url: str = Field(description="Its events, as SSE or NDJSON.",
                            examples=["/api/v1/turns/0b6f…/events"])
    snapshot_url: str = Field(description="Its durable snapshot.",
                              examples=["/api/v1/turns/0b6f…"])


class SnapshotStepOut(BaseModel):
    """A step as its events fold: labels from ``step_started``, the content streamed so
    far, and (once done) the outcome from ``step_completed``."""

    model_config = ConfigDict(extra="allow")

    step_id: str
    status: str = Field(description="`running`, `ok` or `failed`.")
    content: str
    index: int | None = None
    kind: str | None = Field(None, description="`plan`, `worker`, `synthesis` or `direct`.")
    agent_id: str | None = None
    agent_name: str | None = None
    model_alias: str | None = None
    model: str | None = None
    provider: str | None = None
    mode: str | None = None
    instruction: str | None = None
    credits: str | None = Field(None, description=CREDITS_HELP)
    usage: dict[str, Any] | None = None
    error: TurnErrorOut | None = None
    tool_calls: list[dict[str, Any]] | None = Field(
        None, description="The step's tool calls so far, from `tool_started` (`status` "
                          "`running`) and `tool_completed` (the call's record) events.")
    data: dict[str, Any] | None = None


class TimelineOut(BaseModel):
    """The fold of the turn's events (what a client that watched live would show)."""

    model_config = ConfigDict(extra="allow")

    turn_id: str
    status: str
    last_seq: int
    mode: str | None = None
    roster: list[dict[str, Any]] | None = Field(None, description="The roster snapshot.")
    steps: list[SnapshotStepOut]
    outcome: dict[str, Any] = Field(description="The terminal event's data, once it ended.")


class TurnSnapshot(BaseModel):
    turn: TurnOut
    timeline: TimelineOut

    @classmethod
    def of(cls, view: TurnView) -> TurnSnapshot:
        return cls(turn=TurnOut.of(view.turn),
                   timeline=TimelineOut.model_validate(view.timeline.to_dict()))
