"""Streamed text is gathered into one ``step_delta`` per ``delta_interval`` (the recorder).

A step's first chunk goes out at once; later chunks within the interval wait for the next
chunk past it, the next flush, or the next other event, and always come before that event.
Nothing is lost or reordered: the deltas of a step joined are exactly the chunks joined.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.turns import Turn, TurnStatus
from pantheon_core.engine.recorder import TurnRecorder
from pantheon_core.ids import TurnId, UserId, new_id
from tests.fakes import FakeClock, FakeUnitOfWork, Store

INTERVAL = timedelta(milliseconds=100)


class Published:
    """A ``TurnEvents`` that keeps what was published."""

    def __init__(self) -> None:
        self.events: list[TurnEvent] = []

    async def publish(self, event: TurnEvent) -> None:
        self.events.append(event)

    async def subscribe(self, turn_id: TurnId, *, after: int,
                        wait_s: float) -> AsyncIterator[TurnEvent]:  # pragma: no cover
        for event in self.events:
            yield event

    async def request_cancel(self, turn_id: TurnId) -> None:  # pragma: no cover
        pass

    async def cancel_requested(self, turn_id: TurnId) -> bool:
        return False

    def texts(self) -> list[str]:
        return [e.data["text"] for e in self.events if e.type is EventType.STEP_DELTA]


def recorder(interval: timedelta = INTERVAL) -> tuple[TurnRecorder, Published, FakeClock, Store]:
    clock, store, published = FakeClock(datetime(2026, 11, 27, 9, tzinfo=UTC)), Store(), \
        Published()
    turn = Turn(id=TurnId(new_id()), user_id=UserId(new_id()), mode=TurnMode.DIRECT,
                status=TurnStatus.RUNNING, message="Hi", roster=(), selected=(),
                created_at=clock.now(), heartbeat_at=clock.now())
    store.turns[turn.id] = turn
    return (TurnRecorder(turn, uow=lambda: FakeUnitOfWork(store), events=published,
                         clock=clock, delta_interval=interval), published, clock, store)


async def test_the_first_chunk_goes_out_at_once_and_the_rest_are_gathered() -> None:
    rec, published, clock, _ = recorder()
    await rec.delta("s1", "Hello")
    assert published.texts() == ["Hello"]
    for word in (" there", ",", " how"):
        clock.advance(milliseconds=20)
        await rec.delta("s1", word)
    assert published.texts() == ["Hello"]  # 60 ms after the first: still gathering
    clock.advance(milliseconds=50)
    await rec.delta("s1", " are")  # 110 ms: the interval has passed
    assert published.texts() == ["Hello", " there, how are"]
    assert [e.seq for e in published.events] == [1, 2]


async def test_another_event_releases_the_gathered_text_before_itself() -> None:
    rec, published, _clock, _ = recorder()
    await rec.delta("s1", "a")
    await rec.delta("s1", "b")
    await rec.delta("s1", "c")
    await rec.emit(EventType.STEP_COMPLETED, {"status": "ok"}, step_id="s1")
    assert [(e.type, e.data.get("text")) for e in published.events] == [
        (EventType.STEP_DELTA, "a"), (EventType.STEP_DELTA, "bc"),
        (EventType.STEP_COMPLETED, None)]


async def test_a_new_step_releases_the_previous_steps_text_and_starts_at_once() -> None:
    rec, published, _clock, _ = recorder()
    await rec.delta("s1", "a")
    await rec.delta("s1", "b")
    await rec.delta("s2", "x")
    assert [(e.step_id, e.data["text"]) for e in published.events] == [
        ("s1", "a"), ("s1", "b"), ("s2", "x")]


async def test_a_flush_releases_gathered_text_and_persists_it() -> None:
    rec, published, _clock, store = recorder()
    await rec.delta("s1", "a")
    await rec.delta("s1", "b")
    assert rec.has_pending
    await rec.flush()
    assert published.texts() == ["a", "b"]
    stored = [e for (turn_id, _), e in sorted(store.events.items()) if turn_id == rec.turn.id]
    assert [e.data["text"] for e in stored] == ["a", "b"]
    assert not rec.has_pending


async def test_joined_deltas_are_the_chunks_joined_whatever_the_timing() -> None:
    rec, published, clock, _ = recorder()
    chunks = [f"w{i} " for i in range(200)]
    for i, chunk in enumerate(chunks):
        clock.advance(milliseconds=(i * 37) % 90)
        await rec.delta("s1", chunk)
    await rec.release_delta()
    assert "".join(published.texts()) == "".join(chunks)
    assert len(published.texts()) < len(chunks) / 2
    assert [e.seq for e in published.events] == list(range(1, len(published.events) + 1))


async def test_a_zero_interval_sends_every_chunk() -> None:
    rec, published, _clock, _ = recorder(timedelta(0))
    for chunk in ("a", "b", "c"):
        await rec.delta("s1", chunk)
    assert published.texts() == ["a", "b", "c"]
