"""Tool usage: one append-only row per tool call, and one per file read (FR-TOOL-007)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select

from pantheon_adapters.sql.tables import file_access_events, tool_call_events
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.tools import FileAccess, ToolCallRecord, ToolCallStatus
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


def _call_row(record: ToolCallRecord) -> dict[str, Any]:
    return {"id": record.id, "user_id": record.user_id, "turn_id": record.turn_id,
            "step_id": record.step_id, "agent_id": record.agent_id, "room_id": record.room_id,
            "direct_session_id": record.direct_session_id, "tool": record.tool,
            "arguments_summary": record.arguments_summary, "status": record.status.value,
            "latency_ms": record.latency_ms, "credits": record.credits,
            "pricing_version": record.pricing_version, "round": record.round,
            "result_summary": record.result_summary, "error_code": record.error_code,
            "error_message": record.error_message, "created_at": record.created_at}


def _call(row: Row[Any]) -> ToolCallRecord:
    return ToolCallRecord(
        id=ToolCallId(row.id), user_id=UserId(row.user_id), turn_id=TurnId(row.turn_id),
        step_id=StepId(row.step_id),
        agent_id=None if row.agent_id is None else AgentId(row.agent_id),
        room_id=None if row.room_id is None else RoomId(row.room_id),
        direct_session_id=(None if row.direct_session_id is None
                           else DirectSessionId(row.direct_session_id)),
        tool=row.tool, arguments_summary=row.arguments_summary,
        status=ToolCallStatus(row.status), latency_ms=row.latency_ms,
        credits=Decimal(row.credits), pricing_version=row.pricing_version,
        created_at=row.created_at, round=row.round, result_summary=row.result_summary,
        error_code=row.error_code, error_message=row.error_message)


def _access_row(access: FileAccess) -> dict[str, Any]:
    return {"id": access.id, "file_id": access.file_id, "user_id": access.user_id,
            "turn_id": access.turn_id, "step_id": access.step_id, "agent_id": access.agent_id,
            "tool_call_id": access.tool_call_id, "chars_returned": access.chars_returned,
            "page_from": access.page_from, "page_to": access.page_to,
            "created_at": access.created_at}


def _access(row: Row[Any]) -> FileAccess:
    return FileAccess(
        id=row.id, file_id=FileId(row.file_id), user_id=UserId(row.user_id),
        turn_id=TurnId(row.turn_id), step_id=StepId(row.step_id),
        agent_id=None if row.agent_id is None else AgentId(row.agent_id),
        tool_call_id=ToolCallId(row.tool_call_id), chars_returned=row.chars_returned,
        created_at=row.created_at, page_from=row.page_from, page_to=row.page_to)


class SqlToolUsageRepository:
    """``ToolUsageRepository`` over ``tool_call_events`` and ``file_access_events``.

    Append-only, and without foreign keys, so rows outlive the turns and files they
    describe. ``calls_for_turn`` is by creation time, then round, then id;
    ``file_accesses_for_turn`` by creation time, then id.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add_call(self, record: ToolCallRecord) -> None:
        await self._tx.execute(tool_call_events.insert().values(_call_row(record)))

    async def add_file_access(self, access: FileAccess) -> None:
        await self._tx.execute(file_access_events.insert().values(_access_row(access)))

    async def calls_for_turn(self, turn_id: TurnId) -> Sequence[ToolCallRecord]:
        rows = await self._tx.rows(
            select(tool_call_events).where(tool_call_events.c.turn_id == turn_id)
            .order_by(tool_call_events.c.created_at, tool_call_events.c.round,
                      tool_call_events.c.id)
        )
        return [_call(row) for row in rows]

    async def file_accesses_for_turn(self, turn_id: TurnId) -> Sequence[FileAccess]:
        rows = await self._tx.rows(
            select(file_access_events).where(file_access_events.c.turn_id == turn_id)
            .order_by(file_access_events.c.created_at, file_access_events.c.id)
        )
        return [_access(row) for row in rows]
