"""Typed identifiers. Ids are random UUID4 strings, generated in core."""

from __future__ import annotations

import uuid
from typing import NewType

UserId = NewType("UserId", str)
RoomId = NewType("RoomId", str)
AgentId = NewType("AgentId", str)
TurnId = NewType("TurnId", str)
MagicLinkId = NewType("MagicLinkId", str)
SessionId = NewType("SessionId", str)
ApiTokenId = NewType("ApiTokenId", str)
RoomSessionId = NewType("RoomSessionId", str)
DirectSessionId = NewType("DirectSessionId", str)
StepId = NewType("StepId", str)
CallId = NewType("CallId", str)


def new_id() -> str:
    return str(uuid.uuid4())
FileId = NewType("FileId", str)
JobRunId = NewType("JobRunId", str)
ToolCallId = NewType("ToolCallId", str)
