"""Steps: each agent answer (or manager plan, or synthesis) of a turn, with its usage."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, bindparam, select, update

from pantheon_adapters.sql.tables import turn_steps
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.steps import Step, StepKind, StepStatus, StepUsage
from pantheon_core.errors import Conflict
from pantheon_core.ids import AgentId, StepId, TurnId


def _row(step: Step) -> dict[str, Any]:
    usage = step.usage
    return {"id": step.id, "turn_id": step.turn_id, "index": step.index,
            "kind": step.kind.value, "agent_id": step.agent_id, "agent_name": step.agent_name,
            "model_alias": step.model_alias.value, "model": step.model,
            "provider": step.provider, "status": step.status.value, "content": step.content,
            "instruction": step.instruction, "started_at": step.started_at,
            "finished_at": step.finished_at, "error_code": step.error_code,
            "error_message": step.error_message, "calls": usage.calls,
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "cached_tokens": usage.cached_tokens, "credits": usage.credits,
            "provider_cost_usd": usage.provider_cost_usd, "data": dict(step.data)}


def _step(row: Row[Any]) -> Step:
    usage = StepUsage(calls=row.calls, prompt_tokens=row.prompt_tokens,
                      completion_tokens=row.completion_tokens, cached_tokens=row.cached_tokens,
                      credits=Decimal(row.credits),
                      provider_cost_usd=Decimal(row.provider_cost_usd))
    index = row._mapping["index"]  # ``row.index`` is the tuple method: a Row is a tuple
    return Step(id=StepId(row.id), turn_id=TurnId(row.turn_id), index=index,
                kind=StepKind(row.kind),
                agent_id=None if row.agent_id is None else AgentId(row.agent_id),
                agent_name=row.agent_name, model_alias=ModelAlias(row.model_alias),
                model=row.model, provider=row.provider, status=StepStatus(row.status),
                started_at=row.started_at, content=row.content, instruction=row.instruction,
                finished_at=row.finished_at, error_code=row.error_code,
                error_message=row.error_message, usage=usage, data=dict(row.data))


@functools.cache
def _of_turns() -> Select[Any]:
    """The steps of the turns ``:turn_ids`` (every timeline page), built once."""
    return select(turn_steps).where(
        turn_steps.c.turn_id.in_(bindparam("turn_ids", expanding=True)))


class SqlStepRepository:
    """``StepRepository`` over ``turn_steps``.

    ``(turn_id, index)`` is unique: adding a second step at a taken index raises
    ``Conflict(code="duplicate_step")`` and leaves the unit of work usable (the INSERT skips
    a clash instead of failing, so no savepoint is needed).
    ``list_for_turns`` returns the turns in the order their ids were given, each turn's
    steps by index.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def add(self, step: Step) -> None:
        if not await self._tx.insert_new(turn_steps, [_row(step)], turn_steps.c.id):
            raise Conflict(f"Turn {step.turn_id} already has a step {step.index}.",
                           code="duplicate_step",
                           details={"turn_id": step.turn_id, "index": step.index})

    async def update(self, step: Step) -> None:
        await self._tx.execute(update(turn_steps).where(turn_steps.c.id == step.id)
                               .values(_row(step)))

    async def list_for_turns(self, turn_ids: Sequence[TurnId]) -> Sequence[Step]:
        if not turn_ids:
            return []
        rows = await self._tx.rows(_of_turns(), params={"turn_ids": list(turn_ids)})
        rank = {turn_id: i for i, turn_id in reversed(list(enumerate(turn_ids)))}
        return sorted((_step(row) for row in rows), key=lambda s: (rank[s.turn_id], s.index))
