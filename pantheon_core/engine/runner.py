"""Running a turn from start to its one terminal event.

The loop walks the turn graph (``graph.py``); a ticker beside it flushes events to
the database, keeps the heartbeat fresh and notices cancel requests. Whatever
happens — provider faults, cancellation, a bug — the turn ends ``completed``,
``partial``, ``failed`` or ``cancelled`` with a terminal event: never a hang.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio

from pantheon_core.domain.events import EventType
from pantheon_core.domain.manager import MANAGER_MODEL_KEY, manager_alias
from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.sessions import Memory
from pantheon_core.domain.steps import Step, StepKind, StepStatus
from pantheon_core.domain.turns import Turn, TurnStatus
from pantheon_core.domain.wallets import InsufficientCredits
from pantheon_core.engine import prompts
from pantheon_core.engine.calls import ModelCaller
from pantheon_core.engine.charging import CreditMeter
from pantheon_core.engine.context import PastTurn, truncate_to
from pantheon_core.engine.graph import Node, initial_nodes
from pantheon_core.engine.memory import MemoryKeeper, load_history
from pantheon_core.engine.recorder import TurnRecorder
from pantheon_core.engine.steps import OpenStep, StepRunner, terminal_data, total_credits
from pantheon_core.engine.tools import Toolkit
from pantheon_core.errors import Unavailable
from pantheon_core.ports.chat_model import ChatMessage
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.deps import Deps

log = logging.getLogger("pantheon.engine")
# Waits before loading a new turn again when the database is busy or briefly away (a full
# pool under load): ~8 s in all, then the turn is left to the stale-turn sweep.
PREPARE_RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0, 4.0)
SUMMARY_MAX_TOKENS = 500
INTERRUPTED = ("interrupted", "The server stopped while this turn was running.")


@dataclass
class _Prepared:
    runner: StepRunner
    memory: MemoryKeeper
    stopped: tuple[str, str] | None = None  # why the turn stopped early (credits ran out)


class TurnRunner:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def run(self, turn: Turn) -> None:
        """Run ``turn``, just created by a send and still ``running``, to its end."""
        turn_id = turn.id
        prepared = await self._prepare_patiently(turn)
        runner, recorder = prepared.runner, prepared.runner.recorder
        await recorder.emit(EventType.TURN_STARTED, _started(runner.turn))
        failure: BaseException | None = None
        interrupted = False
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._tick, recorder, group.cancel_scope)
                try:
                    await self._walk(runner, prepared.memory)
                except InsufficientCredits as exc:  # the steps done stand; the rest do not run
                    prepared.stopped = (exc.code, exc.message)
                except Exception as exc:  # a bug must end the turn with turn_failed, not hang it
                    log.exception("turn %s crashed", turn_id)
                    failure = exc
                group.cancel_scope.cancel()
        except anyio.get_cancelled_exc_class():
            # The process is stopping (shutdown cancelled this task): the turn still ends
            # with its terminal event, as interrupted, before the cancellation goes on.
            interrupted = True
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await self._finish(prepared, failure=failure, interrupted=interrupted,
                                   cancelled=recorder.cancel_seen and failure is None
                                   and not interrupted)

    async def _prepare_patiently(self, turn: Turn) -> _Prepared:
        """``_prepare`` (reads only), tried again while the database answers ``Unavailable``.
        If it never does, the error propagates: the turn, still ``running`` with no heartbeat,
        is ended as ``interrupted`` by the stale-turn sweep, so its stream still ends."""
        for delay in PREPARE_RETRY_DELAYS_S:
            try:
                return await self._prepare(turn)
            except Unavailable as exc:
                log.warning("turn %s: cannot load it yet (%s); again in %s s",
                            turn.id, exc.code, delay)
                await anyio.sleep(delay)
        return await self._prepare(turn)

    async def _prepare(self, turn: Turn) -> _Prepared:
        async with self.deps.uow() as uow:
            pricing = await uow.pricing.current()
            manager = manager_alias(await uow.settings.get(MANAGER_MODEL_KEY))
            stored = await _memory_of(uow, turn)
            history = await load_history(uow, turn, stored)
        meter = CreditMeter(self.deps, turn.user_id)
        recorder = TurnRecorder(
            turn, uow=self.deps.uow, events=self.deps.events, clock=self.deps.clock,
            heartbeat_interval=timedelta(seconds=self.deps.engine.heartbeat_interval_s),
            delta_interval=timedelta(seconds=self.deps.engine.delta_interval_s))
        runner = StepRunner(turn=turn, pricing=pricing, manager_alias=manager,
                            recorder=recorder, policy=self.deps.engine,
                            caller=ModelCaller(self.deps.chat, self.deps.clock, self.deps.engine,
                                               meter=meter),
                            provider=self.deps.chat.provider,
                            toolkit=Toolkit(self.deps, turn, pricing, meter=meter),
                            tool_policy=self.deps.tools)
        summary_alias = turn.roster[0].model_alias if turn.mode is TurnMode.DIRECT else manager

        async def summarize(previous: str, older: Sequence[PastTurn], step: OpenStep) -> str | None:
            text = "\n\n".join(f"{'User' if m.role == 'user' else 'Agents'}: {m.content}"
                               for t in older for m in t.as_messages())
            body = (f"Earlier summary:\n{previous}\n\n" if previous else "") + \
                f"Conversation to fold in:\n{text}"
            messages = [ChatMessage("system", prompts.SUMMARY_SYSTEM),
                        ChatMessage("user", truncate_to(body, runner.budget(summary_alias)))]
            result = await runner.call(step, messages, purpose="summary", alias=summary_alias,
                                       stream=False, max_tokens=SUMMARY_MAX_TOKENS)
            return result.text.strip() if result.ok and result.text.strip() else None

        keeper = MemoryKeeper(stored, history, self.deps.engine.memory_budget_tokens, summarize)
        return _Prepared(runner, keeper)

    async def _walk(self, runner: StepRunner, memory: MemoryKeeper) -> None:
        queue: deque[Node] = deque(initial_nodes(runner.turn))
        while queue:
            queue.extend(await queue.popleft().run(runner, memory))

    async def _tick(self, recorder: TurnRecorder, scope: anyio.CancelScope) -> None:
        policy, clock = self.deps.engine, self.deps.clock
        last_beat = clock.now()
        while True:
            await anyio.sleep(policy.flush_interval_s)
            beat_due = (clock.now() - last_beat).total_seconds() >= policy.heartbeat_interval_s
            if recorder.has_pending or beat_due:
                await recorder.flush(heartbeat=beat_due)
                if beat_due:
                    last_beat = clock.now()
            # The fast path for a cancel request, every tick (the database flag is read
            # with the heartbeat, for requests made where the live fan-out did not reach).
            if await self.deps.events.cancel_requested(recorder.turn.id):
                recorder.cancel_seen = True
            if recorder.cancel_seen:
                scope.cancel()
                return

    async def _finish(self, prepared: _Prepared, *, cancelled: bool,
                      failure: BaseException | None, interrupted: bool = False) -> None:
        runner, recorder = prepared.runner, prepared.runner.recorder
        if runner.current is not None:
            code, message = (("cancelled", "The turn was cancelled.") if cancelled else
                             (INTERRUPTED if interrupted else prepared.stopped or
                              ("internal_error", "The step stopped unexpectedly.")))
            await runner.close(runner.current, content=runner.current.text_so_far,
                               error=(code, message))
        status, error = outcome(runner.finished, cancelled=cancelled, failure=failure,
                                interrupted=interrupted, stopped=prepared.stopped)
        await recorder.emit(EventType.TURN_COMPLETED if error is None else EventType.TURN_FAILED,
                            terminal_data(status, runner.finished, error))
        turn = recorder.turn.finished(status, recorder.stamp(),
                                      credits=total_credits(runner.finished),
                                      last_seq=recorder.seq,
                                      error_code=error[0] if error else None,
                                      error_message=error[1] if error else None)
        await recorder.flush(finished_turn=turn)
        if prepared.memory.updated is not None:
            await self._store_memory(turn, prepared.memory.updated)

    async def _store_memory(self, turn: Turn, memory: Memory) -> None:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            if turn.session_id is not None:
                session = await uow.sessions.get_room_session(turn.session_id)
                if session is not None:
                    await uow.sessions.update_room_session(session.with_memory(memory, now))
            elif turn.direct_session_id is not None:
                direct = await uow.sessions.get_direct_session(turn.direct_session_id)
                if direct is not None:
                    await uow.sessions.update_direct_session(direct.with_memory(memory, now))
            await uow.commit()


def outcome(steps: Sequence[Step], *, cancelled: bool, failure: BaseException | None,
            interrupted: bool = False, stopped: tuple[str, str] | None = None,
            ) -> tuple[TurnStatus, tuple[str, str] | None]:
    """How a turn ended, from its steps (answers are every step but the plan)."""
    if cancelled:
        return TurnStatus.CANCELLED, ("cancelled", "The turn was cancelled.")
    if interrupted:
        return TurnStatus.FAILED, INTERRUPTED
    if stopped is not None:
        return TurnStatus.FAILED, stopped
    if failure is not None:
        return TurnStatus.FAILED, ("internal_error", "The turn stopped on an internal error.")
    answers = [s for s in steps if s.kind is not StepKind.PLAN]
    failed = [s for s in steps if s.status is StepStatus.FAILED]
    if not any(s.status is StepStatus.OK for s in answers):
        first = failed[0] if failed else None
        code = first.error_code if first and first.error_code else "no_answer"
        reasons = "; ".join(f"{s.agent_name}: {s.error_message}" for s in failed) or \
            "no step produced an answer"
        return TurnStatus.FAILED, (code, f"Every step failed ({reasons}).")
    return (TurnStatus.PARTIAL if failed else TurnStatus.COMPLETED), None


def _started(turn: Turn) -> dict[str, Any]:
    return {"mode": turn.mode.value, "room_id": turn.room_id, "session_id": turn.session_id,
            "direct_session_id": turn.direct_session_id, "message": turn.message,
            "roster": [{"agent_id": a.agent_id, "name": a.name,
                        "model_alias": a.model_alias.value, "tools": a.tools.as_dict()}
                       for a in turn.roster],
            "selected": list(turn.selected)}


async def _memory_of(uow: UnitOfWork, turn: Turn) -> Memory:
    if turn.session_id is not None:
        session = await uow.sessions.get_room_session(turn.session_id)
        return session.memory if session is not None else Memory()
    if turn.direct_session_id is not None:
        direct = await uow.sessions.get_direct_session(turn.direct_session_id)
        return direct.memory if direct is not None else Memory()
    return Memory()
