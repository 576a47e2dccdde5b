"""Conversation memory: recent turns verbatim, older ones folded into a rolling summary.

The fold is an LLM call (purpose ``summary``), made lazily by the first step that
needs the memory and metered against that step. The new summary is stored on the
session when the turn ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pantheon_core.domain.sessions import Memory
from pantheon_core.domain.steps import Step, StepKind, StepStatus
from pantheon_core.domain.turns import Turn
from pantheon_core.engine.context import Answer, ConversationMemory, PastTurn, fold_split
from pantheon_core.engine.steps import OpenStep
from pantheon_core.ports.unit_of_work import UnitOfWork

HISTORY_LIMIT = 60
Summarize = Callable[[str, Sequence[PastTurn], OpenStep], Awaitable[str | None]]


@dataclass
class _Dated:
    turn: PastTurn
    created_at: datetime


async def load_history(uow: UnitOfWork, turn: Turn, memory: Memory) -> list[_Dated]:
    """The conversation's turns before this one and after the summary, oldest first."""
    turns = await uow.turns.list_for_conversation(
        session_id=turn.session_id, direct_session_id=turn.direct_session_id,
        limit=HISTORY_LIMIT, before=turn.created_at, after=memory.summary_through)
    steps = await uow.steps.list_for_turns([t.id for t in turns])
    by_turn: dict[str, list[Step]] = {}
    for step in steps:
        by_turn.setdefault(step.turn_id, []).append(step)
    return [_Dated(PastTurn(t.message, _answers(by_turn.get(t.id, []))), t.created_at)
            for t in reversed(turns)]


def _answers(steps: Sequence[Step]) -> tuple[Answer, ...]:
    ok = [s for s in steps if s.status is StepStatus.OK and s.content]
    synthesis = [s for s in ok if s.kind is StepKind.SYNTHESIS]
    chosen = synthesis or [s for s in ok if s.kind in (StepKind.WORKER, StepKind.DIRECT)]
    return tuple(Answer(s.agent_name, s.content) for s in chosen)


class MemoryKeeper:
    """Hands each step the conversation memory, folding old turns once per turn."""

    def __init__(self, stored: Memory, history: Sequence[_Dated], budget: int,
                 summarize: Summarize) -> None:
        self.stored = stored
        self._history = list(history)
        self._budget = budget
        self._summarize = summarize
        self._ready: ConversationMemory | None = None
        self.updated: Memory | None = None

    async def for_step(self, step: OpenStep) -> ConversationMemory:
        if self._ready is None:
            self._ready = await self._prepare(step)
        return self._ready

    async def _prepare(self, step: OpenStep) -> ConversationMemory:
        older, recent = fold_split([d.turn for d in self._history], self._budget)
        summary = self.stored.summary
        if older:
            # If the fold fails, the old summary stays and what does not fit is left out.
            folded = await self._summarize(summary, older, step)
            if folded:
                summary = folded
                through = self._history[len(older) - 1].created_at
                self.updated = self.stored.folded(summary, through)
        return ConversationMemory(summary=summary, recent=tuple(recent))
