"""Usage records: one append-only row per LLM call attempt (FR-BILL-001/002, AT-008)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pantheon_core.ids import (
    AgentId,
    CallId,
    DirectSessionId,
    RoomId,
    StepId,
    TurnId,
    UserId,
)


class CallStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class LlmCall:
    """The 17 fields of FR-BILL-002, plus what makes a row explain itself."""

    id: CallId
    user_id: UserId
    room_id: RoomId | None
    direct_session_id: DirectSessionId | None
    turn_id: TurnId
    step_id: StepId
    agent_id: AgentId | None
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int  # 0 when the provider did not report it (FR-BILL-006)
    total_tokens: int
    provider_cost_usd: Decimal
    credits_burned: Decimal
    latency_ms: int
    status: CallStatus
    pricing_version: str
    request_id: str
    created_at: datetime
    purpose: str = "worker"
    attempt: int = 1
    model_alias: str = ""
    cached_tokens_reported: bool = True
    generation_id: str | None = None
    error_code: str | None = None


UsageGrouping = Literal["model", "day"]


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Sums over the LLM calls that share one key: a model (its alias; the provider's model
    id where the alias is empty) or a UTC day (``YYYY-MM-DD``)."""

    key: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    credits: Decimal = Decimal(0)
    provider_cost_usd: Decimal = Decimal(0)
