"""LLM call events: one append-only row per call attempt (FR-BILL-001/002, AT-008)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement

from pantheon_adapters.sql.coltypes import utc_day
from pantheon_adapters.sql.tables import llm_call_events
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.usage import CallStatus, LlmCall, UsageGrouping, UsageRow
from pantheon_core.ids import (
    AgentId,
    CallId,
    DirectSessionId,
    RoomId,
    StepId,
    TurnId,
    UserId,
)


def _row(call: LlmCall) -> dict[str, Any]:
    return {"id": call.id, "user_id": call.user_id, "room_id": call.room_id,
            "direct_session_id": call.direct_session_id, "turn_id": call.turn_id,
            "step_id": call.step_id, "agent_id": call.agent_id, "provider": call.provider,
            "model": call.model, "model_alias": call.model_alias, "purpose": call.purpose,
            "attempt": call.attempt, "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens, "cached_tokens": call.cached_tokens,
            "cached_tokens_reported": call.cached_tokens_reported,
            "total_tokens": call.total_tokens, "provider_cost_usd": call.provider_cost_usd,
            "credits_burned": call.credits_burned, "latency_ms": call.latency_ms,
            "status": call.status.value, "error_code": call.error_code,
            "pricing_version": call.pricing_version, "request_id": call.request_id,
            "generation_id": call.generation_id, "created_at": call.created_at}


def _call(row: Row[Any]) -> LlmCall:
    return LlmCall(
        id=CallId(row.id), user_id=UserId(row.user_id),
        room_id=None if row.room_id is None else RoomId(row.room_id),
        direct_session_id=(None if row.direct_session_id is None
                           else DirectSessionId(row.direct_session_id)),
        turn_id=TurnId(row.turn_id), step_id=StepId(row.step_id),
        agent_id=None if row.agent_id is None else AgentId(row.agent_id),
        provider=row.provider, model=row.model, prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens, cached_tokens=row.cached_tokens,
        total_tokens=row.total_tokens, provider_cost_usd=Decimal(row.provider_cost_usd),
        credits_burned=Decimal(row.credits_burned), latency_ms=row.latency_ms,
        status=CallStatus(row.status), pricing_version=row.pricing_version,
        request_id=row.request_id, created_at=row.created_at, purpose=row.purpose,
        attempt=row.attempt, model_alias=row.model_alias,
        cached_tokens_reported=bool(row.cached_tokens_reported),
        generation_id=row.generation_id, error_code=row.error_code,
    )


@functools.cache
def _sums_by(by: str, dialect: str) -> Select[Any]:
    """A user's usage totals per model or UTC day (the usage page), built once per grouping
    and dialect: binds ``user_id``, ``start`` and ``end``."""
    table = llm_call_events
    key: ColumnElement[Any]
    if by == "model":  # '' inlined: the same text in SELECT and GROUP BY on PostgreSQL
        key = func.coalesce(func.nullif(table.c.model_alias, literal_column("''")),
                            table.c.model)
    else:
        key = utc_day(table.c.created_at, dialect)
    return (select(key.label("key"), func.count().label("calls"),
                   func.sum(table.c.prompt_tokens).label("prompt_tokens"),
                   func.sum(table.c.completion_tokens).label("completion_tokens"),
                   func.sum(table.c.cached_tokens).label("cached_tokens"),
                   func.sum(table.c.credits_burned).label("credits"),
                   func.sum(table.c.provider_cost_usd).label("provider_cost_usd"))
            .where(table.c.user_id == bindparam("user_id"),
                   table.c.created_at >= bindparam("start"),
                   table.c.created_at < bindparam("end"))
            .group_by(key))


class SqlUsageRepository:
    """``UsageRepository`` over ``llm_call_events``: append-only, so no update or delete.

    Rows carry their ids without foreign keys, so they outlive purged rooms and turns.
    ``list_for_turn`` is by creation time, then attempt, then id. ``sums_for_user`` is one
    ``GROUP BY`` over the ``(user_id, created_at)`` index: the model key is
    ``coalesce(nullif(model_alias, ''), model)``, the day key the UTC date (``utc_day``);
    sums are exact (``ExactDecimal`` reads the sums of money columns back as ``Decimal``).
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, call: LlmCall) -> None:
        await self._tx.execute(llm_call_events.insert().values(_row(call)))

    async def list_for_turn(self, turn_id: TurnId) -> Sequence[LlmCall]:
        rows = await self._tx.rows(
            select(llm_call_events).where(llm_call_events.c.turn_id == turn_id)
            .order_by(llm_call_events.c.created_at, llm_call_events.c.attempt,
                      llm_call_events.c.id)
        )
        return [_call(row) for row in rows]

    async def list_between(self, start: datetime, end: datetime, *,
                           user_id: UserId | None = None,
                           after: tuple[datetime, str] | None = None,
                           limit: int = 1000) -> Sequence[LlmCall]:
        table = llm_call_events
        query = select(table).where(table.c.created_at >= start, table.c.created_at < end)
        if user_id is not None:
            query = query.where(table.c.user_id == user_id)
        if after is not None:
            at, call_id = after
            query = query.where(or_(table.c.created_at > at,
                                    and_(table.c.created_at == at, table.c.id > call_id)))
        rows = await self._tx.rows(query.order_by(table.c.created_at, table.c.id).limit(limit))
        return [_call(row) for row in rows]

    async def sums_for_user(self, user_id: UserId, start: datetime, end: datetime, *,
                            by: UsageGrouping) -> Sequence[UsageRow]:
        if by not in ("model", "day"):
            raise ValueError(f"Unknown grouping {by!r}: use 'model' or 'day'.")
        rows = await self._tx.rows(_sums_by(by, self._tx.dialect), params={
            "user_id": user_id, "start": start, "end": end})
        # Sorted here: the database's collation may not order by code point (few groups).
        return sorted((UsageRow(
            key=row.key.isoformat() if isinstance(row.key, date) else row.key,
            calls=int(row.calls), prompt_tokens=int(row.prompt_tokens),
            completion_tokens=int(row.completion_tokens), cached_tokens=int(row.cached_tokens),
            credits=Decimal(row.credits), provider_cost_usd=Decimal(row.provider_cost_usd))
            for row in rows), key=lambda row: row.key)
