"""The ``TurnEvents`` contract, run against the in-process and the Redis adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import anyio
import pytest
import redis.asyncio

from pantheon_adapters.events.memory import InProcessTurnEvents
from pantheon_adapters.events.redis import KEEP_FINISHED_S, TTL_S, RedisTurnEvents
from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.ids import StepId, TurnId
from pantheon_core.ports.turn_events import TurnEvents

TURN = TurnId("turn-1")
GUARD_S = 3.0  # only so a broken adapter fails instead of hanging; never a timing assertion


def event(seq: int, *, turn: TurnId = TURN, terminal: bool = False) -> TurnEvent:
    if terminal:
        return TurnEvent(EventType.TURN_COMPLETED, seq, turn, datetime.now(UTC),
                         {"status": "completed", "credits": "0.01"})
    return TurnEvent(EventType.STEP_DELTA, seq, turn, datetime.now(UTC),
                     {"text": f"word {seq} — ünïcode"}, StepId("step-1"))


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def events(request: pytest.FixtureRequest) -> AsyncIterator[TurnEvents]:
    if request.param == "memory":
        yield InProcessTurnEvents()
        return
    url, prefix = request.getfixturevalue("redis_keyspace")
    adapter = RedisTurnEvents.from_url(url, prefix=prefix)
    try:
        yield adapter
    finally:
        await adapter.aclose()


async def publish(events: TurnEvents, *seqs: int, terminal_at: int | None = None) -> None:
    for seq in seqs:
        await events.publish(event(seq, terminal=seq == terminal_at))


async def collect(events: TurnEvents, turn: TurnId = TURN, *, after: int = 0,
                  wait_s: float = 0.0) -> list[TurnEvent]:
    with anyio.fail_after(GUARD_S + wait_s):
        return [e async for e in events.subscribe(turn, after=after, wait_s=wait_s)]


def seqs(received: list[TurnEvent]) -> list[int]:
    return [e.seq for e in received]


async def test_replays_everything_from_zero_exactly_as_published(events: TurnEvents) -> None:
    sent = [event(1), event(2), event(3, terminal=True)]
    for e in sent:
        await events.publish(e)

    assert await collect(events, wait_s=1.0) == sent


@pytest.mark.parametrize("after", [1, 4, 6])
async def test_replays_from_any_middle_seq(events: TurnEvents, after: int) -> None:
    await publish(events, *range(1, 8), terminal_at=7)

    assert seqs(await collect(events, after=after, wait_s=1.0)) == list(range(after + 1, 8))


async def test_tails_live_events_then_ends_after_the_terminal_one(events: TurnEvents) -> None:
    await publish(events, 1)
    received: list[TurnEvent] = []

    async def subscriber() -> None:
        received.extend(await collect(events, after=1, wait_s=2.0))

    async with anyio.create_task_group() as group:
        group.start_soon(subscriber)
        for seq in range(2, 12):
            await anyio.sleep(0.005)
            await publish(events, seq, terminal_at=11)

    assert seqs(received) == list(range(2, 12))
    assert received[-1].is_terminal


async def test_two_subscribers_see_identical_sequences(events: TurnEvents) -> None:
    await publish(events, 1)
    results: dict[str, list[TurnEvent]] = {}

    async def subscriber(name: str, after: int) -> None:
        results[name] = await collect(events, after=after, wait_s=2.0)

    async with anyio.create_task_group() as group:
        group.start_soon(subscriber, "a", 0)
        group.start_soon(subscriber, "b", 0)
        for seq in range(2, 9):
            await anyio.sleep(0.005)
            await publish(events, seq, terminal_at=8)

    assert seqs(results["a"]) == list(range(1, 9))
    assert results["a"] == results["b"]


async def test_returns_after_wait_s_without_a_new_event(events: TurnEvents) -> None:
    await publish(events, 1, 2)

    assert seqs(await collect(events, after=0, wait_s=0.05)) == [1, 2]
    assert await collect(events, after=2, wait_s=0.05) == []


async def test_without_waiting_returns_after_the_backlog(events: TurnEvents) -> None:
    await publish(events, 1, 2, 3)

    assert seqs(await collect(events, after=1, wait_s=0.0)) == [2, 3]


async def test_an_unknown_turn_is_waited_for_then_given_up(events: TurnEvents) -> None:
    with anyio.fail_after(2.0):
        received = [e async for e in events.subscribe(TurnId("nope"), after=0, wait_s=0.1)]
        assert [e async for e in events.subscribe(TurnId("nope"), after=0, wait_s=0)] == []

    assert received == []


async def test_a_subscriber_ahead_of_the_turn_gets_its_first_events(events: TurnEvents) -> None:
    """A client may connect before the turn's runner has published anything."""
    received: list[TurnEvent] = []

    async def listen() -> None:
        async for event in events.subscribe(TURN, after=0, wait_s=2.0):
            received.append(event)

    async with anyio.create_task_group() as group:
        group.start_soon(listen)
        await anyio.sleep(0.05)
        await publish(events, 1, 2)
        await anyio.sleep(0.05)
        await publish(events, 3, terminal_at=3)
    assert seqs(received) == [1, 2, 3]


async def test_duplicates_are_dropped(events: TurnEvents) -> None:
    await publish(events, 1, 2, 2, 1, 3)

    assert seqs(await collect(events)) == [1, 2, 3]


async def test_never_skips_over_a_gap(events: TurnEvents) -> None:
    await publish(events, 1, 2, 5)

    assert await collect(events, after=0, wait_s=0.05) == []
    assert seqs(await collect(events, after=4, wait_s=0.05)) == [5]


async def test_turns_do_not_mix(events: TurnEvents) -> None:
    other = TurnId("turn-2")
    await publish(events, 1, 2)
    await events.publish(event(1, turn=other))

    assert seqs(await collect(events, other)) == [1]
    assert seqs(await collect(events)) == [1, 2]


async def test_cancel_flag_is_per_turn_and_cleared_by_the_terminal_event(
        events: TurnEvents) -> None:
    await publish(events, 1)
    assert not await events.cancel_requested(TURN)

    await events.request_cancel(TURN)

    assert await events.cancel_requested(TURN)
    assert not await events.cancel_requested(TurnId("turn-2"))
    await publish(events, 2, terminal_at=2)
    assert not await events.cancel_requested(TURN)


@pytest.mark.redis
async def test_a_client_reconnecting_to_another_process_gets_the_full_sequence(
        redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    runner, server = (RedisTurnEvents.from_url(url, prefix=prefix),
                      RedisTurnEvents.from_url(url, prefix=prefix))
    try:
        await publish(runner, 1, 2, 3)
        first = await collect(server, after=0, wait_s=0.0)  # then the client disconnects
        received: list[TurnEvent] = []

        async def reconnected() -> None:
            received.extend(await collect(server, after=first[-1].seq, wait_s=2.0))

        async with anyio.create_task_group() as group:
            group.start_soon(reconnected)
            for seq in range(4, 10):
                await anyio.sleep(0.005)
                await publish(runner, seq, terminal_at=9)

        await runner.request_cancel(TurnId("turn-2"))
        assert await server.cancel_requested(TurnId("turn-2"))
    finally:
        await runner.aclose()
        await server.aclose()

    assert seqs(first + received) == list(range(1, 10))


@pytest.mark.redis
async def test_streams_expire_an_hour_after_the_last_event_and_soon_after_the_end(
        redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    adapter = RedisTurnEvents.from_url(url, prefix=prefix)
    raw = redis.asyncio.Redis.from_url(url)
    key = f"{prefix}turn:{TURN}:events"
    try:
        await publish(adapter, 1)
        running_ttl = await raw.ttl(key)
        await publish(adapter, 2, terminal_at=2)
        finished_ttl = await raw.ttl(key)
    finally:
        await adapter.aclose()
        await raw.aclose()

    assert KEEP_FINISHED_S < running_ttl <= TTL_S
    assert 0 < finished_ttl <= KEEP_FINISHED_S


async def test_a_subscriber_cancelled_while_waiting_leaves_the_adapter_usable(
        events: TurnEvents) -> None:
    await publish(events, 1)
    with anyio.move_on_after(0.05):  # a client that disconnects mid-wait
        await collect(events, after=1, wait_s=10.0)

    await publish(events, 2, terminal_at=2)

    assert seqs(await collect(events, after=0, wait_s=1.0)) == [1, 2]
