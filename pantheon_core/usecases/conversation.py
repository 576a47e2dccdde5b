"""Reading turns: the durable snapshot, the event stream, the timeline; and cancelling.

A client resuming from any ``seq`` receives exactly the events it missed, then the
live tail (FR-RT-004): events come from the database log, then from the live
fan-out, with no gaps and no duplicates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import anyio

from pantheon_core.actor import Actor
from pantheon_core.domain.events import EventType, Timeline, TurnEvent, fold
from pantheon_core.domain.steps import Step, StepStatus
from pantheon_core.domain.turns import Turn, TurnStatus
from pantheon_core.engine.steps import completed_data, terminal_data, total_credits
from pantheon_core.errors import Conflict, InvalidInput, not_found
from pantheon_core.ids import DirectSessionId, RoomSessionId, TurnId
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.access import owned_room
from pantheon_core.usecases.admission import Admission
from pantheon_core.usecases.deps import Deps, UseCase
from pantheon_core.usecases.direct import owned_direct
from pantheon_core.usecases.turns import room_session_for


async def owned_turn(uow: UnitOfWork, actor: Actor, turn_id: str, *,
                     for_update: bool = False) -> Turn:
    turn = await uow.turns.get(TurnId(turn_id), for_update=for_update)
    if turn is None or turn.user_id != actor.user_id:
        raise not_found("turn", turn_id)
    return turn


async def replay(deps: Deps, turn_id: TurnId, after: int, *,
                 follow: bool, live_first: bool = False) -> AsyncIterator[TurnEvent]:
    """Events with ``seq > after`` in order, ending with the terminal event; with
    ``follow`` it waits for live ones, otherwise it stops at what exists now.

    ``live_first``: for a turn this process has just created, whose events are all still
    in the live fan-out (none is durable yet): start there, and read the database only if
    the fan-out cannot give the next event (the usual loop below)."""
    last = after
    if live_first:
        async for event in deps.events.subscribe(turn_id, after=last,
                                                 wait_s=deps.engine.stream_wait_s):
            yield event
            last = event.seq
            if event.is_terminal:
                return
    while True:
        async with deps.uow() as uow:
            stored = await uow.events.list_after(turn_id, after=last)
            turn = await uow.turns.get(turn_id)
        for event in stored:
            yield event
            last = event.seq
            if event.is_terminal:
                return
        if turn is None or (turn.is_finished and last >= turn.last_seq):
            return
        if follow and _orphaned(deps, turn):
            # Nobody is running it any more: end it, then read its terminal event.
            now = deps.clock.now()
            await fail_if_orphaned(deps, turn.id, now - _stale_after(deps), now)
            continue
        live = 0
        async for event in deps.events.subscribe(turn_id, after=last,
                                                 wait_s=deps.engine.stream_wait_s if follow
                                                 else 0.0):
            yield event
            last, live = event.seq, live + 1
            if event.is_terminal:
                return
        if not follow:
            return
        if live == 0:  # nothing live here (yet): poll the durable log at the flush pace
            await anyio.sleep(deps.engine.flush_interval_s)


def _stale_after(deps: Deps) -> timedelta:
    return timedelta(seconds=deps.engine.stale_after_s)


def _orphaned(deps: Deps, turn: Turn) -> bool:
    beat = turn.heartbeat_at or turn.created_at
    return not turn.is_finished and deps.clock.now() - beat > _stale_after(deps)


@dataclass(frozen=True, slots=True)
class TurnView:
    turn: Turn
    timeline: Timeline


class GetTurn(UseCase):
    """The durable snapshot of one of the actor's turns: steps with content so far."""

    async def __call__(self, actor: Actor, turn_id: str) -> TurnView:
        async with self.deps.uow() as uow:
            turn = await owned_turn(uow, actor, turn_id)
        events = [e async for e in replay(self.deps, turn.id, 0, follow=False)]
        return TurnView(turn, fold(turn.id, events))


class StreamTurnEvents(UseCase):
    """The turn's events after ``after``, then live until its terminal event."""

    async def __call__(self, actor: Actor, turn_id: str, *,
                       after: int = 0) -> AsyncIterator[TurnEvent]:
        if after < 0:
            raise InvalidInput("'after' must be 0 or more.", code="invalid_after")
        async with self.deps.uow() as uow:
            turn = await owned_turn(uow, actor, turn_id)
        return replay(self.deps, turn.id, after, follow=True)

    def of_new_turn(self, actor: Actor, turn: Turn) -> AsyncIterator[TurnEvent]:
        """The whole stream of ``turn``, which the actor's send has just created: no
        database read to find it, and its events from the live fan-out first."""
        if turn.user_id != actor.user_id:
            raise not_found("turn", turn.id)
        return replay(self.deps, turn.id, 0, follow=True, live_first=True)


class CancelTurn(UseCase):
    """Ask the engine to stop a running turn; steps already done keep their results."""

    async def __call__(self, actor: Actor, turn_id: str) -> Turn:
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            turn = await owned_turn(uow, actor, turn_id, for_update=True)
            if turn.is_finished:
                raise Conflict(f"This turn already ended ({turn.status.value}).",
                               code="turn_not_running", details={"status": turn.status.value})
            turn = replace(turn, cancel_requested_at=turn.cancel_requested_at or now)
            await uow.turns.update(turn)
            await uow.commit()
        await self.deps.events.request_cancel(turn.id)
        return turn


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    turn: Turn
    steps: Sequence[Step]


@dataclass(frozen=True, slots=True)
class TimelinePage:
    entries: Sequence[TimelineEntry]  # oldest first within the page
    next_before: datetime | None  # pass as ``before`` for the previous (older) page


class ListTimeline(UseCase):
    """A conversation's turns with every step as its own message, newest page first.

    Room: ``room_id`` (+ ``session_id``, default the latest session). Direct:
    ``direct_session_id``.
    """

    async def __call__(self, actor: Actor, *, room_id: str | None = None,
                       session_id: str | None = None, direct_session_id: str | None = None,
                       limit: int = 20, before: datetime | None = None) -> TimelinePage:
        limit = max(1, min(limit, 100))
        async with self.deps.uow() as uow:
            room_session: RoomSessionId | None = None
            direct: DirectSessionId | None = None
            if direct_session_id is not None:
                direct = (await owned_direct(uow, actor, direct_session_id)).id
            elif room_id is not None:
                room = await owned_room(uow, actor, room_id)
                if session_id is None:
                    latest = await uow.sessions.latest_room_session(room.id)
                    if latest is None:
                        return TimelinePage((), None)
                    room_session = latest.id
                else:
                    room_session = (await room_session_for(uow, room, session_id,
                                                           self.deps.clock.now())).id
            else:
                raise InvalidInput("Name a room or a direct session.", code="conversation_required")
            turns = await uow.turns.list_for_conversation(
                session_id=room_session, direct_session_id=direct, limit=limit + 1, before=before)
            page = list(turns[:limit])
            steps = await uow.steps.list_for_turns([t.id for t in page])
        by_turn: dict[str, list[Step]] = {}
        for step in steps:
            by_turn.setdefault(step.turn_id, []).append(step)
        entries = [TimelineEntry(t, by_turn.get(t.id, [])) for t in reversed(page)]
        more = len(turns) > limit
        return TimelinePage(entries, page[-1].created_at if more and page else None)


class SweepInterruptedTurns(UseCase):
    """Fail turns left ``running`` by a process that died (no heartbeat for a while).

    Each open step gets a failed ``step_completed`` (``interrupted``) and the turn a
    ``turn_failed``, continuing its event sequence, so streams end instead of hanging.
    """

    async def __call__(self, *, stale_after: timedelta | None = None) -> int:
        now = self.deps.clock.now()
        bound = now - (stale_after or timedelta(seconds=self.deps.engine.stale_after_s))
        async with self.deps.uow() as uow:
            stale = await uow.turns.list_stale(heartbeat_before=bound)
        swept = 0
        for candidate in stale:
            swept += await fail_if_orphaned(self.deps, candidate.id, bound, now)
        return swept


async def fail_if_orphaned(deps: Deps, turn_id: TurnId, bound: datetime, now: datetime) -> int:
    """Fail one running turn whose heartbeat is older than ``bound``; 1 if it did."""
    async with deps.uow() as uow:
        turn = await uow.turns.get(turn_id, for_update=True)
        beat = (turn.heartbeat_at or turn.created_at) if turn else None
        if turn is None or turn.is_finished or beat is None or beat >= bound:
            return 0
        steps = await uow.steps.list_for_turns([turn.id])
        timeline = fold(turn.id, await uow.events.list_after(turn.id, after=0))
        so_far = {v.step_id: v.content for v in timeline.steps}
        # The turn row's last_seq lags the event log between heartbeats: continue the log.
        seq, events = max(turn.last_seq, timeline.last_seq), []
        message = "The process running this turn stopped; it was interrupted."
        for step in (s for s in steps if s.status is StepStatus.RUNNING):
            failed = step.failed(now, content=so_far.get(step.id, step.content), usage=step.usage,
                                 code="interrupted", message=message)
            await uow.steps.update(failed)
            seq += 1
            events.append(TurnEvent(EventType.STEP_COMPLETED, seq, turn.id, now,
                                    completed_data(failed), step_id=step.id))
        seq += 1
        events.append(TurnEvent(EventType.TURN_FAILED, seq, turn.id, now,
                                terminal_data(TurnStatus.FAILED, steps, ("interrupted", message))))
        await uow.events.append(events)
        await uow.turns.update(turn.finished(TurnStatus.FAILED, now, credits=total_credits(steps),
                                             last_seq=seq, error_code="interrupted",
                                             error_message=message))
        await uow.commit()
    admission = Admission(deps)
    await admission.release(admission.ticket_for(turn.user_id, turn.id))
    for event in events:
        await deps.events.publish(event)
    return 1
