"""The turn's event log: numbers events, publishes them live, persists them in batches.

Events reach live subscribers at once (``TurnEvents``) and the database every
``flush_interval_s`` (a heartbeat of the turn, too). Streamed text is the exception to
"at once": a step's first chunk is an event straight away, later chunks are gathered into
one ``step_delta`` per ``delta_interval`` (a provider sends a chunk every few tokens; an
event for each costs a fan-out, a frame on every stream and a row, for no visible gain).
Gathered text goes out with the next chunk past that interval, the next flush (the
runner's ticker) or the next other event, whichever is first, and always before that event.

A step's outcome, its usage records and the events up to its ``step_completed`` are
written in ONE transaction, so usage rows and outcomes never disagree (FR-BILL-001).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import anyio

from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.domain.steps import Step
from pantheon_core.domain.turns import Turn
from pantheon_core.errors import Unavailable
from pantheon_core.ports.clock import Clock
from pantheon_core.ports.turn_events import TurnEvents
from pantheon_core.ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("pantheon.engine")


class TurnRecorder:
    def __init__(self, turn: Turn, *, uow: UnitOfWorkFactory, events: TurnEvents,
                 clock: Clock, heartbeat_interval: timedelta = timedelta(seconds=5),
                 delta_interval: timedelta = timedelta(0)) -> None:
        self.turn = turn
        self._delta_interval = delta_interval
        self._delta_step: str | None = None  # the step whose text is being gathered
        self._delta_text: list[str] = []
        self._delta_at: datetime | None = None  # when that step's last delta went out
        self._beat = heartbeat_interval
        self._uow = uow
        self._events = events
        self._clock = clock
        self._seq = turn.last_seq
        self._pending: list[TurnEvent] = []
        self._new_steps: dict[str, Step] = {}
        self._lock = anyio.Lock()
        self.cancel_seen = False

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def has_pending(self) -> bool:
        return bool(self._pending or self._new_steps or self._delta_text)

    async def delta(self, step_id: str, text: str) -> None:
        """Stream ``text`` of ``step_id``: at once if it is the step's first chunk or
        ``delta_interval`` has passed since its last delta, else gathered for the next."""
        if self._delta_step != step_id:
            await self.release_delta()
            self._delta_step, self._delta_at = step_id, None
        self._delta_text.append(text)
        now = self._clock.now()
        if self._delta_at is None or now - self._delta_at >= self._delta_interval:
            await self.release_delta()

    async def release_delta(self) -> None:
        """Emit the gathered text, if any, as one ``step_delta``."""
        if not self._delta_text or self._delta_step is None:
            return
        text, self._delta_text = "".join(self._delta_text), []
        self._delta_at = self._clock.now()
        await self._emit(EventType.STEP_DELTA, {"text": text}, step_id=self._delta_step)

    async def emit(self, kind: EventType, data: Mapping[str, Any], *,
                   step_id: str | None = None) -> TurnEvent:
        """Emit an event (after any gathered text, which comes before it)."""
        await self.release_delta()
        return await self._emit(kind, data, step_id=step_id)

    async def _emit(self, kind: EventType, data: Mapping[str, Any], *,
                    step_id: str | None) -> TurnEvent:
        self._seq += 1
        event = TurnEvent(type=kind, seq=self._seq, turn_id=self.turn.id, ts=self._clock.now(),
                          data=dict(data), step_id=step_id)  # type: ignore[arg-type]
        self._pending.append(event)
        try:
            await self._events.publish(event)
        except Unavailable:
            # Live fan-out is the fast path; subscribers catch up from the durable log.
            log.warning("turn %s: live publish of seq %s failed", self.turn.id, event.seq)
        return event

    async def step_started(self, step: Step, data: Mapping[str, Any]) -> None:
        self._new_steps[step.id] = step
        await self.emit(EventType.STEP_STARTED, data, step_id=step.id)

    async def step_finished(self, step: Step, data: Mapping[str, Any]) -> None:
        """The step's outcome and its events (its usage rows were written as each call and
        tool call ended, with their charges)."""
        await self.emit(EventType.STEP_COMPLETED, data, step_id=step.id)
        await self.flush(finished_step=step)

    async def flush(self, *, finished_step: Step | None = None,
                    finished_turn: Turn | None = None, heartbeat: bool = False) -> None:
        """Persist what is pending. The turn row (heartbeat, last_seq, and noticing a
        cancel request) is touched only when ``heartbeat`` asks or one is due."""
        await self.release_delta()
        async with self._lock:
            events, self._pending = self._pending, []
            new_steps, self._new_steps = list(self._new_steps.values()), {}
            now = self._clock.now()
            async with self._uow() as uow:
                for step in new_steps:
                    await uow.steps.add(step)
                if finished_step is not None:
                    await uow.steps.update(finished_step)
                beat = finished_turn is None and (
                    heartbeat or now - (self.turn.heartbeat_at or now) >= self._beat)
                if events:
                    # Most flushes store only events: then as a write of its own.
                    await uow.events.append(events, alone=not (
                        new_steps or finished_step or finished_turn or beat))
                if finished_turn is not None:
                    self.turn = replace(finished_turn, last_seq=self._seq, heartbeat_at=now)
                    await uow.turns.update(self.turn)
                elif beat:
                    stored = await uow.turns.touch(self.turn.id, last_seq=self._seq,
                                                   heartbeat_at=now)
                    if stored is not None:
                        self.turn = replace(self.turn, heartbeat_at=now, last_seq=self._seq)
                        self.cancel_seen = self.cancel_seen or \
                            stored.cancel_requested_at is not None
                await uow.commit()
        if await self._events.cancel_requested(self.turn.id):
            self.cancel_seen = True

    def stamp(self) -> datetime:
        return self._clock.now()
