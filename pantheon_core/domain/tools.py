"""The two tools agents may use (FR-TOOL-001) and what each use leaves behind (FR-TOOL-007).

Every tool call a model asks for becomes one :class:`ToolCallRecord` — ``allowed`` (it ran),
``denied`` (the agent lacks the permission or the tool does not exist; refused server-side,
FR-TOOL-005) or ``error`` (it was allowed but failed). Every successful ``read_file`` also
leaves a :class:`FileAccess`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pantheon_core.ids import (
    AgentId,
    DirectSessionId,
    FileId,
    RoomId,
    StepId,
    ToolCallId,
    TurnId,
    UserId,
)

WEB_SEARCH = "web_search"
READ_FILE = "read_file"
TOOL_NAMES: tuple[str, ...] = (WEB_SEARCH, READ_FILE)
MAX_ARGUMENTS_SUMMARY = 300


class ToolCallStatus(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    id: ToolCallId
    user_id: UserId
    turn_id: TurnId
    step_id: StepId
    agent_id: AgentId | None
    room_id: RoomId | None
    direct_session_id: DirectSessionId | None
    tool: str  # as the model named it (may be a made-up name when denied)
    arguments_summary: str
    status: ToolCallStatus
    latency_ms: int
    credits: Decimal
    pricing_version: str
    created_at: datetime
    round: int = 1
    result_summary: str = ""
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"call_id": self.id, "tool": self.tool, "arguments": self.arguments_summary,
                "status": self.status.value, "latency_ms": self.latency_ms,
                "credits": str(self.credits), "round": self.round,
                "result": self.result_summary,
                "error": None if self.error_code is None else {
                    "code": self.error_code, "message": self.error_message}}


@dataclass(frozen=True, slots=True)
class FileAccess:
    id: str
    file_id: FileId
    user_id: UserId
    turn_id: TurnId
    step_id: StepId
    agent_id: AgentId | None
    tool_call_id: ToolCallId
    chars_returned: int
    created_at: datetime
    page_from: int | None = None
    page_to: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "chars": self.chars_returned,
                "page_from": self.page_from, "page_to": self.page_to,
                "tool_call_id": self.tool_call_id}


def summarize_arguments(raw: str) -> str:
    """The arguments as stored for analytics: one line, at most 300 characters."""
    text = " ".join(raw.split())
    return text if len(text) <= MAX_ARGUMENTS_SUMMARY else text[: MAX_ARGUMENTS_SUMMARY - 1] + "…"
