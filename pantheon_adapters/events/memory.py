"""In-process turn events: one replay buffer per turn, kept a while after the turn ends."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio

from pantheon_core.domain.events import TurnEvent
from pantheon_core.ids import TurnId

KEEP_FINISHED_S = 600.0


@dataclass
class _Buffer:
    events: list[TurnEvent] = field(default_factory=list)
    changed: anyio.Event = field(default_factory=anyio.Event)
    finished_at: float | None = None

    def pulse(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()


class InProcessTurnEvents:
    """``TurnEvents`` for a single process: every event of a running turn stays buffered,
    so any subscriber can replay from any seq; buffers of finished turns are dropped
    ``keep_finished_s`` after their terminal event."""

    def __init__(self, *, keep_finished_s: float = KEEP_FINISHED_S) -> None:
        self._buffers: dict[TurnId, _Buffer] = {}
        self._waiting: dict[TurnId, anyio.Event] = {}  # subscribers ahead of a turn's start
        self._cancelled: set[TurnId] = set()
        self._keep = keep_finished_s
        self._next_prune = 0.0

    async def publish(self, event: TurnEvent) -> None:
        self._prune()
        buffer = self._buffers.setdefault(event.turn_id, _Buffer())
        appeared = self._waiting.pop(event.turn_id, None)
        if appeared is not None:
            appeared.set()
        last = buffer.events[-1].seq if buffer.events else 0
        if event.seq <= last:
            return  # a duplicate: the sequence is already past it
        if event.seq != last + 1:
            buffer.events.clear()  # a gap: what we hold is no longer a prefix; start over
        buffer.events.append(event)
        if event.is_terminal:
            buffer.finished_at = time.monotonic()
            self._cancelled.discard(event.turn_id)
        buffer.pulse()

    async def subscribe(self, turn_id: TurnId, *, after: int,
                        wait_s: float) -> AsyncIterator[TurnEvent]:
        last = after
        while True:
            buffer = self._buffers.get(turn_id)
            if buffer is None:
                # The turn may be about to start: wait for its first event, briefly.
                if wait_s <= 0 or not await self._appears(turn_id, wait_s):
                    return
                continue
            # Taken before yielding: an event published while the consumer holds a
            # yielded one must still wake the wait below, not be noticed only later.
            changed = buffer.changed
            events = [e for e in buffer.events if e.seq > last]
            if events and events[0].seq != last + 1:
                return  # the buffer no longer holds what comes next
            for event in events:
                yield event
                last = event.seq
                if event.is_terminal:
                    return
            if wait_s <= 0:
                return
            with anyio.move_on_after(wait_s) as waited:
                await changed.wait()
            if waited.cancelled_caught:
                return

    async def _appears(self, turn_id: TurnId, wait_s: float) -> bool:
        appeared = self._waiting.setdefault(turn_id, anyio.Event())
        with anyio.move_on_after(wait_s):
            await appeared.wait()
        if not appeared.is_set() and self._waiting.get(turn_id) is appeared:
            del self._waiting[turn_id]
        return appeared.is_set()

    async def request_cancel(self, turn_id: TurnId) -> None:
        self._cancelled.add(turn_id)

    async def cancel_requested(self, turn_id: TurnId) -> bool:
        return turn_id in self._cancelled

    def _prune(self) -> None:
        """Drop buffers of long-finished turns; at most once a second, not on every publish."""
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + 1.0
        cutoff = now - self._keep
        for turn_id in [t for t, b in self._buffers.items()
                        if b.finished_at is not None and b.finished_at < cutoff]:
            del self._buffers[turn_id]
