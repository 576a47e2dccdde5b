from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from pantheon_core.domain.events import TurnEvent
from pantheon_core.ids import TurnId


class TurnEvents(Protocol):
    """Live fan-out of turn events, with a replay buffer per turn.

    In-process by default; Redis when configured, so a client can reconnect to any
    API process. The durable record is the event log in the database; this port
    is the fast path for what is happening now.

    ``subscribe`` yields events with ``seq > after`` in order, first those still
    buffered, then live ones; for a turn with nothing published yet it waits (up to
    ``wait_s``) for the first event, since a client may connect before the turn's
    runner has started. It never skips: if the buffer no longer holds the
    next seq, it returns, and so it does after a terminal event or after ``wait_s``
    seconds without a new event. The caller then consults the durable log and
    subscribes again from where it is.
    """

    async def publish(self, event: TurnEvent) -> None: ...

    def subscribe(self, turn_id: TurnId, *, after: int,
                  wait_s: float) -> AsyncIterator[TurnEvent]: ...

    async def request_cancel(self, turn_id: TurnId) -> None:
        """Tell whichever process runs the turn to stop it (best effort, fast path)."""
        ...

    async def cancel_requested(self, turn_id: TurnId) -> bool: ...
