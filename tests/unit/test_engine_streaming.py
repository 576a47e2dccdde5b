"""Replay, snapshots, cancellation and orphan sweeps (FR-RT-004)."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from pantheon_core.domain.events import fold
from pantheon_core.errors import Conflict, NotFound
from tests.fake_chat import Reply
from tests.fakes import FakeApp
from tests.unit.engine_helpers import all_events, kinds, room_of, run_turn


async def test_resuming_from_any_seq_gives_exactly_the_missed_events(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    view = await run_turn(app, actor, room.id, "Go")
    full = await all_events(app, actor, view.turn.id)
    for after in range(len(full)):
        tail = await all_events(app, actor, view.turn.id, after=after)
        assert tail == full[after:]
        assert fold(view.turn.id, full[:after] + tail).to_dict() == view.timeline.to_dict()


async def test_a_live_subscriber_and_a_late_one_see_the_same_sequence(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    app.chat.queue("worker", Reply("a b c d e f", chunk_delay_s=0.01),
                   Reply("g h i j", chunk_delay_s=0.01))
    turn = await app.uc.send_to_room(actor, room.id, "Go")
    live = await all_events(app, actor, turn.id)
    await app.settle()
    late = await all_events(app, actor, turn.id)
    assert live == late
    snapshot = await app.uc.get_turn(actor, turn.id)
    assert snapshot.timeline.last_seq == live[-1].seq
    assert [s["content"] for s in snapshot.timeline.to_dict()["steps"]] == [
        "a b c d e f", "g h i j"]


async def test_the_snapshot_of_a_running_turn_has_content_so_far(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    app.chat.queue("worker", Reply("one two three four five six", chunk_delay_s=0.05))
    turn = await app.uc.send_to_room(actor, room.id, "Go")
    stream = await app.uc.stream_turn_events(actor, turn.id)
    async for event in stream:
        if event.type.value == "step_delta" and "three" in event.data["text"]:
            break
    snapshot = await app.uc.get_turn(actor, turn.id)
    step = snapshot.timeline.to_dict()["steps"][0]
    assert snapshot.timeline.status == "running" and step["status"] == "running"
    assert step["content"].startswith("one two three")
    await app.settle()


async def test_cancel_stops_a_running_turn_and_keeps_finished_steps(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    app.chat.queue("worker", Reply("done"), Reply("slow " * 50, chunk_delay_s=0.05))
    turn = await app.uc.send_to_room(actor, room.id, "Go")
    stream = await app.uc.stream_turn_events(actor, turn.id)
    events = []
    async for event in stream:
        events.append(event)
        if event.type.value == "step_delta" and len(events) > 6:
            await app.uc.cancel_turn(actor, turn.id)
    await app.settle()
    view = await app.uc.get_turn(actor, turn.id)
    assert view.turn.status.value == "cancelled"
    assert events[-1].type.value == "turn_failed"
    assert events[-1].data["error"]["code"] == "cancelled"
    steps = view.timeline.to_dict()["steps"]
    assert [s["status"] for s in steps] == ["ok", "failed"]
    assert steps[1]["error"]["code"] == "cancelled"
    assert sorted(r.status.value for r in app.store.calls) == ["cancelled", "ok"]


async def test_cancelling_a_finished_turn_is_a_conflict(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    view = await run_turn(app, actor, room.id, "Go")
    with pytest.raises(Conflict) as err:
        await app.uc.cancel_turn(actor, view.turn.id)
    assert err.value.code == "turn_not_running"


async def test_orphaned_running_turns_are_failed_as_interrupted(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    turn = await app.uc.begin_turn(actor, room.id, "Go")  # started, never run: an orphan
    assert await app.uc.sweep_interrupted_turns() == 0  # its heartbeat is fresh
    app.clock.advance(minutes=5)
    assert await app.uc.sweep_interrupted_turns() == 1
    view = await app.uc.get_turn(actor, turn.id)
    assert view.turn.status.value == "failed" and view.turn.error_code == "interrupted"
    events = await all_events(app, actor, turn.id)
    assert kinds(events) == ["turn_failed"]
    assert await app.uc.sweep_interrupted_turns(stale_after=timedelta(seconds=1)) == 0


async def test_a_follower_of_an_orphaned_turn_ends_it_instead_of_waiting(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    turn = await app.uc.begin_turn(actor, room.id, "Go")  # nobody will ever run it
    app.clock.advance(minutes=5)
    events = await all_events(app, actor, turn.id)
    assert kinds(events) == ["turn_failed"]
    assert events[0].data["error"]["code"] == "interrupted"


async def test_a_cancelled_step_keeps_the_text_it_streamed(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    app.chat.queue("worker", Reply("alpha beta " + "slow " * 40, chunk_delay_s=0.03))
    turn = await app.uc.send_to_room(actor, room.id, "Go")
    async for event in await app.uc.stream_turn_events(actor, turn.id):
        if event.type.value == "step_delta" and "beta" in event.data["text"]:
            await app.uc.cancel_turn(actor, turn.id)
    await app.settle()
    step = (await app.uc.get_turn(actor, turn.id)).timeline.to_dict()["steps"][0]
    assert step["status"] == "failed" and step["content"].startswith("alpha beta")


async def test_cancel_is_noticed_between_heartbeats() -> None:
    """With a production-like heartbeat (minutes), the live cancel flag still stops the turn."""
    from dataclasses import replace as with_

    from tests.fakes import FAST_ENGINE, fake_app

    app = fake_app(engine=with_(FAST_ENGINE, heartbeat_interval_s=600))
    actor, room = await room_of(app, "Scout")
    app.chat.queue("worker", Reply("tick " * 200, chunk_delay_s=0.02))
    turn = await app.uc.send_to_room(actor, room.id, "Go")
    seen = 0
    with anyio.fail_after(3):
        async for _event in await app.uc.stream_turn_events(actor, turn.id):
            seen += 1
            if seen == 5:
                await app.uc.cancel_turn(actor, turn.id)
    await app.settle()
    assert (await app.uc.get_turn(actor, turn.id)).turn.status.value == "cancelled"


async def test_a_turn_whose_database_is_busy_at_first_is_loaded_again_and_runs(
        app: FakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full connection pool under load answers Unavailable for a moment: the new turn is
    loaded again rather than left running without events."""
    from contextlib import asynccontextmanager
    from dataclasses import replace

    from pantheon_core.engine import runner as runner_module
    from pantheon_core.engine.runner import TurnRunner
    from pantheon_core.errors import Unavailable
    from pantheon_core.usecases.turns import BeginTurn

    monkeypatch.setattr(runner_module, "PREPARE_RETRY_DELAYS_S", (0.0, 0.0, 0.0))
    actor, room = await room_of(app, "Scout")
    deps = app.uc.send_to_room.deps
    turn = await BeginTurn(deps).__call__(actor, room.id, "Plan it")
    refusals = iter(range(2))

    @asynccontextmanager
    async def busy_at_first():  # type: ignore[no-untyped-def]
        if next(refusals, None) is not None:
            raise Unavailable("The database is not answering right now.",
                              code="database_unavailable")
        async with deps.uow() as uow:
            yield uow

    await TurnRunner(replace(deps, uow=busy_at_first)).run(turn)
    events = await all_events(app, actor, turn.id)
    assert kinds(events)[0] == "turn_started" and kinds(events)[-1] == "turn_completed"
    assert next(refusals, None) is None  # both refusals were met


async def test_a_turn_whose_database_never_answers_is_left_for_the_sweep(
        app: FakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from pantheon_core.engine import runner as runner_module
    from pantheon_core.engine.runner import TurnRunner
    from pantheon_core.errors import Unavailable
    from pantheon_core.usecases.turns import BeginTurn

    monkeypatch.setattr(runner_module, "PREPARE_RETRY_DELAYS_S", (0.0, 0.0))
    actor, room = await room_of(app, "Scout")
    deps = app.uc.send_to_room.deps
    turn = await BeginTurn(deps).__call__(actor, room.id, "Plan it")

    def down():  # type: ignore[no-untyped-def]
        raise Unavailable("The database is not answering.", code="database_unavailable")

    with pytest.raises(Unavailable):
        await TurnRunner(replace(deps, uow=down)).run(turn)
    assert (await app.uc.get_turn(actor, turn.id)).turn.status.value == "running"


async def test_the_senders_stream_of_a_new_turn_is_the_durable_sequence(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    app.chat.queue("worker", Reply("a b c d", chunk_delay_s=0.01), Reply("e f", chunk_delay_s=0.01))
    turn = await app.uc.send_to_room(actor, room.id, "Go")
    live = [event async for event in app.uc.stream_turn_events.of_new_turn(actor, turn)]
    await app.settle()
    assert live == await all_events(app, actor, turn.id)
    assert live[-1].is_terminal


async def test_only_the_sender_may_stream_a_new_turn_that_way(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    other, _ = await room_of(app, email="bo@example.com")
    turn = await app.uc.send_to_room(actor, room.id, "Go")
    with pytest.raises(NotFound):
        app.uc.stream_turn_events.of_new_turn(other, turn)
    await app.settle()
