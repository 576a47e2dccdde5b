"""Steps: each agent answer (or manager plan / synthesis) is its own timeline message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.ids import AgentId, StepId, TurnId


class StepKind(StrEnum):
    PLAN = "plan"
    WORKER = "worker"
    SYNTHESIS = "synthesis"
    DIRECT = "direct"


class StepStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


MANAGER_NAME = "Manager"


@dataclass(frozen=True, slots=True)
class StepUsage:
    """What a step's LLM calls (every attempt) added up to."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    credits: Decimal = Decimal(0)
    provider_cost_usd: Decimal = Decimal(0)

    def plus(self, *, prompt_tokens: int, completion_tokens: int, cached_tokens: int,
             credits: Decimal, cost_usd: Decimal) -> StepUsage:
        return StepUsage(self.calls + 1, self.prompt_tokens + prompt_tokens,
                         self.completion_tokens + completion_tokens,
                         self.cached_tokens + cached_tokens, self.credits + credits,
                         self.provider_cost_usd + cost_usd)

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cached_tokens": self.cached_tokens,
                "credits": str(self.credits), "provider_cost_usd": str(self.provider_cost_usd)}


@dataclass(frozen=True, slots=True)
class Step:
    id: StepId
    turn_id: TurnId
    index: int
    kind: StepKind
    agent_id: AgentId | None  # None for the manager's plan and synthesis
    agent_name: str
    model_alias: ModelAlias
    model: str
    provider: str
    status: StepStatus
    started_at: datetime
    content: str = ""
    instruction: str | None = None
    finished_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    usage: StepUsage = StepUsage()
    data: Mapping[str, Any] = field(default_factory=dict)

    def completed(self, now: datetime, *, content: str, usage: StepUsage,
                  data: Mapping[str, Any] | None = None) -> Step:
        return replace(self, status=StepStatus.OK, content=content, usage=usage, finished_at=now,
                       data=dict(data if data is not None else self.data))

    def failed(self, now: datetime, *, content: str, usage: StepUsage, code: str,
               message: str, data: Mapping[str, Any] | None = None) -> Step:
        return replace(self, status=StepStatus.FAILED, content=content, usage=usage,
                       finished_at=now, error_code=code, error_message=message,
                       data=dict(data if data is not None else self.data))
