"""The contract of the conversation repositories, run on the fake, SQLite and PostgreSQL.

Turns (every field, conversations, liveness), steps, events, usage, sessions, pricing
and app settings. Money must come back exactly: ``Decimal`` in, the same ``Decimal`` out.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.domain.modes import TurnMode
from pantheon_core.domain.rooms import Room
from pantheon_core.domain.sessions import DirectSession, Memory, RoomSession
from pantheon_core.domain.steps import MANAGER_NAME, Step, StepKind, StepStatus, StepUsage
from pantheon_core.domain.turns import AgentSnapshot, Turn, TurnStatus
from pantheon_core.domain.usage import CallStatus, LlmCall, UsageRow
from pantheon_core.domain.users import User
from pantheon_core.errors import Conflict
from pantheon_core.ids import (
    CallId,
    DirectSessionId,
    RoomSessionId,
    StepId,
    TurnId,
    new_id,
)
from tests.integration.contract import T0, Factory, a_room, a_turn, a_user, an_agent, seed
from tests.pricing_seed import SEED_PRICING

SMALL, LARGE = Decimal("0.000035"), Decimal("12345.678901")


def a_room_session(room: Room, at: datetime = T0, title: str = "Session") -> RoomSession:
    return RoomSession(id=RoomSessionId(new_id()), room_id=room.id, user_id=room.owner_id,
                       title=title, created_at=at, updated_at=at)


def a_direct_session(user: User, agent: AgentSnapshot, at: datetime = T0) -> DirectSession:
    return DirectSession(id=DirectSessionId(new_id()), user_id=user.id, agent=agent,
                         title=f"Chat with {agent.name}", created_at=at, updated_at=at)


def a_step(turn: Turn, index: int, *, agent: AgentSnapshot | None = None) -> Step:
    return Step(id=StepId(new_id()), turn_id=turn.id, index=index,
                kind=StepKind.WORKER if agent else StepKind.PLAN,
                agent_id=agent.agent_id if agent else None,
                agent_name=agent.name if agent else MANAGER_NAME,
                model_alias=agent.model_alias if agent else ModelAlias.DEEPSEEK,
                model="qwen/qwen3-235b-a22b-2507", provider="openrouter",
                status=StepStatus.RUNNING, started_at=T0 + timedelta(seconds=index))


def an_event(turn: Turn, seq: int, kind: EventType = EventType.STEP_DELTA, *,
             step_id: StepId | None = None, **data: object) -> TurnEvent:
    return TurnEvent(type=kind, seq=seq, turn_id=turn.id, ts=T0 + timedelta(milliseconds=seq),
                     data=data, step_id=step_id)


def a_call(turn: Turn, step_id: StepId, *, at: datetime = T0, attempt: int = 1) -> LlmCall:
    return LlmCall(id=CallId(new_id()), user_id=turn.user_id, room_id=turn.room_id,
                   direct_session_id=turn.direct_session_id, turn_id=turn.id, step_id=step_id,
                   agent_id=turn.roster[0].agent_id if turn.roster else None,
                   provider="openrouter", model="qwen/qwen3-235b-a22b-2507",
                   prompt_tokens=12_000, completion_tokens=800, cached_tokens=2_000,
                   total_tokens=12_800, provider_cost_usd=Decimal("0.00204000"),
                   credits_burned=Decimal("0.45"), latency_ms=1_234, status=CallStatus.OK,
                   pricing_version="2026-11-v1", request_id="req-1", created_at=at,
                   attempt=attempt, model_alias="qwen", generation_id="gen-123")


async def a_room_with_session(uow: Factory) -> tuple[User, Room, RoomSession]:
    owner = a_user()
    room = a_room(owner)
    session = a_room_session(room)
    await seed(uow, owner, rooms=(room,))
    async with uow() as work:
        await work.sessions.add_room_session(session)
        await work.commit()
    return owner, room, session


async def stored(uow: Factory, *turns: Turn) -> None:
    async with uow() as work:
        for turn in turns:
            await work.turns.add(turn)
        await work.commit()


# --- turns ---------------------------------------------------------------------------


async def test_a_turn_round_trips_every_field(uow: Factory) -> None:
    owner, room, session = await a_room_with_session(uow)
    agent = AgentSnapshot.of(an_agent(room, "Ana", 0))
    direct = a_direct_session(owner, agent)
    async with uow() as work:
        await work.sessions.add_direct_session(direct)
        await work.commit()
    in_room = replace(a_turn(room, [an_agent(room, "Bo", 0)]), session_id=session.id,
                      mode=TurnMode.ORCHESTRATOR, status=TurnStatus.PARTIAL,
                      finished_at=T0 + timedelta(seconds=30), last_seq=42, credits=LARGE,
                      error_code="step_failed", error_message="Bo: provider unavailable ✗",
                      heartbeat_at=T0 + timedelta(seconds=29),
                      cancel_requested_at=T0 + timedelta(seconds=20))
    one_to_one = Turn(id=TurnId(new_id()), user_id=owner.id, mode=TurnMode.DIRECT,
                      status=TurnStatus.RUNNING, message="Hi", roster=(agent,),
                      selected=(agent.agent_id,), created_at=T0, direct_session_id=direct.id,
                      credits=SMALL)
    await stored(uow, in_room, one_to_one)
    async with uow() as work:
        assert await work.turns.get(in_room.id) == in_room
        assert await work.turns.get(one_to_one.id, for_update=True) == one_to_one
        assert await work.turns.get(TurnId(new_id()), for_update=True) is None
        done = one_to_one.finished(TurnStatus.COMPLETED, T0 + timedelta(seconds=5),
                                   credits=Decimal("0.45"), last_seq=9)
        await work.turns.update(done)
        await work.commit()
    async with uow() as work:
        loaded = await work.turns.get(one_to_one.id)
    assert loaded == done and loaded is not None
    assert loaded.room_id is None and loaded.mode is TurnMode.DIRECT
    assert isinstance(loaded.credits, Decimal)


async def test_touch_sets_only_the_cursor_and_heartbeat(uow: Factory) -> None:
    _, room, session = await a_room_with_session(uow)
    turn = replace(a_turn(room, []), session_id=session.id)
    await stored(uow, turn)
    cancelled_at = T0 + timedelta(seconds=3)
    async with uow() as canceller:
        await canceller.turns.update(replace(turn, cancel_requested_at=cancelled_at))
        await canceller.commit()
    async with uow() as work:
        touched = await work.turns.touch(turn.id, last_seq=7, heartbeat_at=T0 + timedelta(
            seconds=4))
        assert await work.turns.touch(TurnId(new_id()), last_seq=1, heartbeat_at=T0) is None
        await work.commit()
    expected = replace(turn, last_seq=7, heartbeat_at=T0 + timedelta(seconds=4),
                       cancel_requested_at=cancelled_at)
    assert touched == expected
    async with uow() as work:
        assert await work.turns.get(turn.id) == expected


async def test_conversation_turns_page_newest_first_between_bounds(uow: Factory) -> None:
    owner, room, session = await a_room_with_session(uow)
    other = a_room_session(room, title="Other")
    direct = a_direct_session(owner, AgentSnapshot.of(an_agent(room, "Ana", 0)))
    async with uow() as work:
        await work.sessions.add_room_session(other)
        await work.sessions.add_direct_session(direct)
        await work.commit()
    turns = [replace(a_turn(room, [], T0 + timedelta(minutes=i)), session_id=session.id)
             for i in range(5)]
    elsewhere = replace(a_turn(room, [], T0 + timedelta(minutes=2)), session_id=other.id)
    one_to_one = replace(a_turn(room, [], T0), room_id=None, session_id=None,
                         direct_session_id=direct.id, mode=TurnMode.DIRECT)
    await stored(uow, *turns, elsewhere, one_to_one)
    newest_first = turns[::-1]
    async with uow() as work:
        listed = work.turns.list_for_conversation
        assert await listed(session_id=session.id, limit=10) == newest_first
        first_page = await listed(session_id=session.id, limit=2)
        assert first_page == newest_first[:2]
        assert await listed(session_id=session.id, limit=2,
                            before=first_page[-1].created_at) == newest_first[2:4]
        assert await listed(session_id=session.id, limit=10, after=turns[1].created_at,
                            before=turns[4].created_at) == [turns[3], turns[2]]
        assert await listed(session_id=other.id, limit=10) == [elsewhere]
        assert await listed(direct_session_id=direct.id, limit=10) == [one_to_one]
        assert await listed(session_id=RoomSessionId(new_id()), limit=10) == []
        with pytest.raises(ValueError, match="session"):
            await listed(limit=10)


async def test_stale_turns_are_running_ones_with_an_old_heartbeat_or_none(
        uow: Factory) -> None:
    _, room, session = await a_room_with_session(uow)
    bound = T0 + timedelta(minutes=10)

    def turn(created: int, heartbeat: int | None, status: TurnStatus = TurnStatus.RUNNING,
             ) -> Turn:
        return replace(a_turn(room, [], T0 + timedelta(minutes=created)), session_id=session.id,
                       status=status, heartbeat_at=None if heartbeat is None
                       else T0 + timedelta(minutes=heartbeat))

    quiet, never_beat = turn(1, 5), turn(0, None)
    fresh, young, finished = turn(2, 11), turn(10, None), turn(0, 1, TurnStatus.COMPLETED)
    await stored(uow, quiet, never_beat, fresh, young, finished)
    async with uow() as work:
        assert await work.turns.list_stale(heartbeat_before=bound) == [never_beat, quiet]
        assert await work.turns.list_stale(heartbeat_before=T0) == []


async def test_turn_locks_serialise_concurrent_read_modify_writes(uow: Factory,
                                                                  is_fake: bool) -> None:
    if is_fake:
        pytest.skip("the fake has no concurrency control: each unit works on a private copy")
    _, room, session = await a_room_with_session(uow)
    turn = replace(a_turn(room, []), session_id=session.id)
    await stored(uow, turn)

    async def bump() -> None:
        async with uow() as work:
            locked = await work.turns.get(turn.id, for_update=True)
            assert locked is not None
            await asyncio.sleep(0.05)  # hold the lock while the other one asks for it
            await work.turns.update(replace(locked, last_seq=locked.last_seq + 1))
            await work.commit()

    await asyncio.gather(bump(), bump())
    async with uow() as work:
        loaded = await work.turns.get(turn.id)
    assert loaded is not None and loaded.last_seq == 2


# --- steps ---------------------------------------------------------------------------


async def test_steps_round_trip_and_list_by_turn_then_index(uow: Factory) -> None:
    _, room, session = await a_room_with_session(uow)
    ana, bo = AgentSnapshot.of(an_agent(room, "Ana", 0)), AgentSnapshot.of(an_agent(room, "Bo", 1))
    first = replace(a_turn(room, []), session_id=session.id)
    second = replace(a_turn(room, [], T0 + timedelta(minutes=1)), session_id=session.id)
    await stored(uow, first, second)
    plan = replace(a_step(first, 0), instruction=None, data={"plan": {"steps": [1, 2]}})
    worker = replace(a_step(first, 1, agent=ana), instruction="Find sources ✓")
    later = a_step(second, 0, agent=bo)
    async with uow() as work:
        for step in (later, worker, plan):
            await work.steps.add(step)
        await work.commit()
    usage = StepUsage(calls=2, prompt_tokens=12_000, completion_tokens=800, cached_tokens=2_000,
                      credits=SMALL, provider_cost_usd=Decimal("1234567890.12345678"))
    worker = worker.completed(T0 + timedelta(seconds=9), content="Found 3 “sources”.",
                              usage=usage, data={"tool_calls": [{"tool": "web_search"}]})
    failed = later.failed(T0 + timedelta(minutes=2), content="partial", usage=StepUsage(),
                          code="provider_unavailable", message="503 from provider")
    async with uow() as work:
        await work.steps.update(worker)
        await work.steps.update(failed)
        await work.commit()
    async with uow() as work:
        assert await work.steps.list_for_turns([first.id, second.id]) == [plan, worker, failed]
        assert await work.steps.list_for_turns([second.id, first.id]) == [failed, plan, worker]
        assert await work.steps.list_for_turns([TurnId(new_id())]) == []
        assert await work.steps.list_for_turns([]) == []


async def test_a_taken_step_index_is_conflict_duplicate_step(uow: Factory) -> None:
    _, room, session = await a_room_with_session(uow)
    turn = replace(a_turn(room, []), session_id=session.id)
    await stored(uow, turn)
    async with uow() as work:
        await work.steps.add(a_step(turn, 0))
        with pytest.raises(Conflict) as caught:
            await work.steps.add(a_step(turn, 0))
        assert caught.value.code == "duplicate_step"
        await work.steps.add(a_step(turn, 1))  # the unit of work survives the conflict
        await work.commit()
    async with uow() as work:
        assert [s.index for s in await work.steps.list_for_turns([turn.id])] == [0, 1]


# --- events --------------------------------------------------------------------------


async def test_events_append_in_batches_and_replay_after_a_seq(uow: Factory) -> None:
    _, room, session = await a_room_with_session(uow)
    turn, other = (replace(a_turn(room, []), session_id=session.id) for _ in range(2))
    await stored(uow, turn, other)
    step_id = StepId(new_id())
    events = [an_event(turn, 1, EventType.TURN_STARTED, mode="roundtable",
                       roster=[{"name": "Ana"}]),
              an_event(turn, 2, EventType.STEP_STARTED, step_id=step_id, agent="Ana"),
              *(an_event(turn, seq, step_id=step_id, text=f"wörd {seq} ") for seq in range(3, 8)),
              an_event(turn, 8, EventType.STEP_COMPLETED, step_id=step_id, status="ok",
                       usage={"credits": "0.45"})]
    async with uow() as work:
        await work.events.append(events[:2])
        await work.events.append(events[2:])
        await work.events.append([an_event(other, 1, EventType.TURN_STARTED)])
        await work.events.append([])
        await work.commit()
    async with uow() as work:
        assert await work.events.list_after(turn.id, after=0) == events
        assert await work.events.list_after(turn.id, after=5) == events[5:]
        assert await work.events.list_after(turn.id, after=2, limit=3) == events[2:5]
        assert await work.events.list_after(turn.id, after=8) == []
        replayed = await work.events.list_after(turn.id, after=0)
    assert [e.to_dict() for e in replayed] == [e.to_dict() for e in events]


async def test_a_stored_seq_is_conflict_and_its_batch_is_not_stored(uow: Factory) -> None:
    _, room, session = await a_room_with_session(uow)
    turn, other = (replace(a_turn(room, []), session_id=session.id) for _ in range(2))
    await stored(uow, turn, other)
    async with uow() as work:
        await work.events.append([an_event(turn, 1), an_event(turn, 2)])
        await work.commit()
    async with uow() as work:
        with pytest.raises(Conflict) as caught:
            await work.events.append([an_event(turn, 3), an_event(turn, 2)])
        assert caught.value.code == "duplicate_event"
        with pytest.raises(Conflict):
            await work.events.append([an_event(turn, 4), an_event(turn, 4)])
        await work.events.append([an_event(other, 1), an_event(other, 2)])  # still usable
        await work.commit()
    async with uow() as work:
        assert [e.seq for e in await work.events.list_after(turn.id, after=0)] == [1, 2]
        assert [e.seq for e in await work.events.list_after(other.id, after=0)] == [1, 2]


# --- usage ---------------------------------------------------------------------------


async def test_usage_rows_keep_every_field_and_list_by_time(uow: Factory) -> None:
    _, room, session = await a_room_with_session(uow)
    turn = replace(a_turn(room, [an_agent(room, "Ana", 0)]), session_id=session.id)
    await stored(uow, turn)
    step_id = StepId(new_id())
    retried = replace(a_call(turn, step_id, at=T0 + timedelta(seconds=1)),
                      status=CallStatus.ERROR, error_code="provider_unavailable",
                      completion_tokens=0, cached_tokens=0, cached_tokens_reported=False,
                      total_tokens=12_000, credits_burned=Decimal(0), generation_id=None,
                      provider_cost_usd=Decimal(0), purpose="plan")
    ok = replace(a_call(turn, step_id, at=T0 + timedelta(seconds=1), attempt=2),
                 credits_burned=SMALL, provider_cost_usd=Decimal("0.00000001"))
    first = replace(a_call(turn, step_id), credits_burned=LARGE, agent_id=None,
                    purpose="synthesis", request_id="r" * 128, generation_id="g" * 255)
    async with uow() as work:
        for call in (ok, retried, first):
            await work.usage.add(call)
        await work.commit()
    async with uow() as work:
        assert await work.usage.list_for_turn(turn.id) == [first, retried, ok]
        assert await work.usage.list_for_turn(TurnId(new_id())) == []


async def test_usage_rows_outlive_what_they_describe(uow: Factory) -> None:
    """A usage row is a financial record: it holds ids, not references."""
    owner = a_user()
    await seed(uow, owner)
    gone = Turn(id=TurnId(new_id()), user_id=owner.id, mode=TurnMode.DIRECT,
                status=TurnStatus.FAILED, message="x", roster=(), selected=(), created_at=T0,
                direct_session_id=DirectSessionId(new_id()))
    call = a_call(gone, StepId(new_id()))
    async with uow() as work:
        await work.usage.add(call)
        await work.commit()
    async with uow() as work:
        assert await work.usage.list_for_turn(gone.id) == [call]


async def usage_of(uow: Factory, *calls: LlmCall) -> None:
    async with uow() as work:
        for call in calls:
            await work.usage.add(call)
        await work.commit()


def a_call_of(user: User, *, at: datetime = T0, alias: str = "qwen",
              model: str = "qwen/qwen3-235b-a22b-2507", tokens: tuple[int, int, int] = (
                  1_000, 100, 10), credits: Decimal = Decimal("0.45"),
              cost: Decimal = Decimal("0.00204000")) -> LlmCall:
    """A call of ``user`` (its turn need not be stored): prompt, completion, cached tokens."""
    turn = Turn(id=TurnId(new_id()), user_id=user.id, mode=TurnMode.DIRECT,
                status=TurnStatus.COMPLETED, message="x", roster=(), selected=(),
                created_at=at, direct_session_id=DirectSessionId(new_id()))
    prompt, completion, cached = tokens
    return replace(a_call(turn, StepId(new_id()), at=at), model_alias=alias, model=model,
                   prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached,
                   total_tokens=prompt + completion, credits_burned=credits,
                   provider_cost_usd=cost)


async def test_usage_sums_per_model_fall_back_to_the_model_without_an_alias(
        uow: Factory) -> None:
    ada, bob = a_user(), a_user("bob@example.com")
    await seed(uow, ada, bob)
    end = T0 + timedelta(days=1)
    await usage_of(
        uow,
        a_call_of(ada, at=T0, alias="qwen", tokens=(1_000, 100, 10)),
        a_call_of(ada, at=T0 + timedelta(hours=1), alias="qwen", tokens=(2_000, 200, 20),
                  credits=Decimal("1.5"), cost=Decimal("0.1")),
        a_call_of(ada, at=T0 + timedelta(hours=2), alias="deepseek", model="deepseek/v3",
                  tokens=(5, 6, 0), credits=Decimal("0.000001"), cost=Decimal("0.00000001")),
        a_call_of(ada, at=T0, alias="", model="openai/gpt-x", tokens=(7, 8, 1),
                  credits=Decimal(0), cost=Decimal("0.5")),
        a_call_of(ada, at=T0, alias="", model="openai/gpt-x", tokens=(1, 1, 1)),
        a_call_of(ada, at=T0 - timedelta(microseconds=1), alias="before"),  # out: < start
        a_call_of(ada, at=end, alias="at-end"),  # out: the end is exclusive
        a_call_of(bob, at=T0, alias="qwen"),  # out: another user
    )
    async with uow() as work:
        rows = await work.usage.sums_for_user(ada.id, T0, end, by="model")
        assert await work.usage.sums_for_user(bob.id, end, end + timedelta(days=1),
                                              by="model") == []
    assert rows == [
        UsageRow("deepseek", 1, 5, 6, 0, Decimal("0.000001"), Decimal("0.00000001")),
        UsageRow("openai/gpt-x", 2, 8, 9, 2, Decimal("0.45"), Decimal("0.50204")),
        UsageRow("qwen", 2, 3_000, 300, 30, Decimal("1.95"), Decimal("0.10204")),
    ]


async def test_usage_sums_per_utc_day_split_at_utc_midnight(uow: Factory) -> None:
    ada, bob = a_user(), a_user("bob@example.com")
    await seed(uow, ada, bob)
    midnight = datetime(2026, 11, 27, tzinfo=UTC)
    paris = timezone(timedelta(hours=2))
    await usage_of(
        uow,
        a_call_of(ada, at=midnight - timedelta(microseconds=1)),
        # 00:30 in UTC+2 is 22:30 UTC the day before
        a_call_of(ada, at=datetime(2026, 11, 27, 0, 30, tzinfo=paris), alias="deepseek"),
        a_call_of(ada, at=midnight, credits=Decimal("2")),
        a_call_of(ada, at=midnight + timedelta(hours=23, minutes=59)),
        a_call_of(ada, at=midnight + timedelta(days=1)),  # out: the end is exclusive
        a_call_of(bob, at=midnight),  # out: another user
    )
    async with uow() as work:
        rows = await work.usage.sums_for_user(ada.id, midnight - timedelta(days=1),
                                              midnight + timedelta(days=1), by="day")
    assert [(r.key, r.calls, r.credits) for r in rows] == [
        ("2026-11-26", 2, Decimal("0.90")), ("2026-11-27", 2, Decimal("2.45"))]


async def test_usage_sums_are_exact_decimals(uow: Factory) -> None:
    ada = a_user()
    await seed(uow, ada)
    amounts = [SMALL, LARGE, Decimal("-0.000001"), Decimal("0.1"), Decimal("0.2")]
    costs = [Decimal("0.00000001"), Decimal("0.1"), Decimal("0.2"), Decimal("1234567.89012345"),
             Decimal(0)]
    await usage_of(uow, *(a_call_of(ada, at=T0 + timedelta(seconds=i), credits=amount,
                                    cost=cost)
                          for i, (amount, cost) in enumerate(zip(amounts, costs, strict=True))))
    async with uow() as work:
        for by in ("model", "day"):
            [row] = await work.usage.sums_for_user(ada.id, T0, T0 + timedelta(hours=1), by=by)
            assert isinstance(row.credits, Decimal) and isinstance(row.provider_cost_usd, Decimal)
            assert row.credits == sum(amounts) == Decimal("12345.978935")
            assert row.provider_cost_usd == sum(costs) == Decimal("1234568.19012346")
            assert row.calls == 5


# --- sessions ------------------------------------------------------------------------


async def test_room_sessions_newest_first_with_their_memory(uow: Factory) -> None:
    owner, room, first = await a_room_with_session(uow)
    other_room = a_room(owner, "Other")
    await seed(uow, rooms=(other_room,))
    second, third = (a_room_session(room, T0 + timedelta(hours=h)) for h in (1, 2))
    async with uow() as work:
        assert await work.sessions.latest_room_session(other_room.id) is None
        for session in (third, second, a_room_session(other_room, T0 + timedelta(hours=5))):
            await work.sessions.add_room_session(session)
        await work.commit()
    remembered = first.with_memory(Memory().folded("Ada asked about “Rome”; Ana cited 3 sources.",
                                                   T0 + timedelta(minutes=30)),
                                   T0 + timedelta(hours=3))
    async with uow() as work:
        assert await work.sessions.get_room_session(first.id) == first
        assert await work.sessions.get_room_session(RoomSessionId(new_id())) is None
        assert await work.sessions.latest_room_session(room.id) == third
        assert await work.sessions.list_room_sessions(room.id, limit=2) == [third, second]
        await work.sessions.update_room_session(remembered)
        await work.commit()
    async with uow() as work:
        assert await work.sessions.get_room_session(first.id) == remembered
        assert await work.sessions.list_room_sessions(room.id, limit=5) == [third, second,
                                                                             remembered]


async def test_direct_sessions_most_recently_updated_first_without_deleted(
        uow: Factory) -> None:
    owner, stranger = a_user(), a_user("eve@example.com")
    room = a_room(owner)
    await seed(uow, owner, stranger, rooms=(room,))
    source = an_agent(room, "Ana", 3)
    agent = replace(AgentSnapshot.of(source), role_prompt="Ünïcödé \"role\" ✓")
    from_room = replace(a_direct_session(owner, agent), source_agent_id=source.id)
    fresh = a_direct_session(owner, AgentSnapshot.of(an_agent(room, "Bo", 0)),
                             T0 + timedelta(hours=1))
    deleted = replace(a_direct_session(owner, agent), deleted_at=T0 + timedelta(hours=2))
    theirs = a_direct_session(stranger, agent)
    async with uow() as work:
        for session in (from_room, fresh, deleted, theirs):
            await work.sessions.add_direct_session(session)
        await work.commit()
    async with uow() as work:
        assert await work.sessions.get_direct_session(from_room.id) == from_room
        assert await work.sessions.get_direct_session(deleted.id) == deleted
        assert await work.sessions.get_direct_session(DirectSessionId(new_id())) is None
        assert await work.sessions.list_direct_sessions(owner.id) == [fresh, from_room]
        from_room = from_room.with_memory(Memory("Summary", T0), T0 + timedelta(hours=3))
        await work.sessions.update_direct_session(from_room)
        await work.commit()
    async with uow() as work:
        assert await work.sessions.list_direct_sessions(owner.id) == [from_room, fresh]
        assert await work.sessions.list_direct_sessions(stranger.id) == [theirs]
        loaded = await work.sessions.get_direct_session(from_room.id)
    assert loaded is not None and loaded.agent == agent and loaded.source_agent_id == source.id


# --- pricing and settings ------------------------------------------------------------


async def test_the_current_pricing_is_the_seeded_version_exactly(uow: Factory) -> None:
    async with uow() as work:
        pricing = await work.pricing.current()
    assert pricing == SEED_PRICING
    for alias, price in SEED_PRICING.models.items():
        for field in ("input_usd_per_mtok", "cached_usd_per_mtok", "output_usd_per_mtok",
                      "credit_multiplier"):
            assert isinstance(getattr(pricing.models[alias], field), Decimal)
            assert getattr(pricing.models[alias], field) == getattr(price, field), field
    assert pricing.tool_credits == {"web_search": Decimal("0.5"), "read_file": Decimal("0.1")}
    # DESIGN.md §5: prompt 12 000, cached 2 000, completion 800 at multiplier 1.0 -> 0.45.
    deepseek = pricing.price_of(ModelAlias.DEEPSEEK).credit_multiplier
    assert pricing.credits(prompt_tokens=12_000, completion_tokens=800, cached_tokens=2_000,
                           model_multiplier=deepseek) == Decimal("0.45")


async def test_app_settings_are_upserted(uow: Factory) -> None:
    async with uow() as work:
        assert await work.settings.get("orchestrator_manager_model") is None
        await work.settings.put("orchestrator_manager_model", "deepseek", now=T0)
        await work.settings.put("other", "kept", now=T0)
        await work.commit()
    async with uow() as work:
        assert await work.settings.get("orchestrator_manager_model") == "deepseek"
        await work.settings.put("orchestrator_manager_model", "premium",
                                now=T0 + timedelta(minutes=1))
        await work.commit()
    async with uow() as work:
        assert await work.settings.get("orchestrator_manager_model") == "premium"
        assert await work.settings.get("other") == "kept"


# --- values --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [SMALL, LARGE, Decimal("-0.000001"), Decimal(0),
                                    Decimal("9999999999.999999")])
async def test_credits_round_trip_exactly(uow: Factory, amount: Decimal) -> None:
    _, room, session = await a_room_with_session(uow)
    turn = replace(a_turn(room, []), session_id=session.id, credits=amount)
    step = replace(a_step(turn, 0), usage=StepUsage(credits=amount, provider_cost_usd=amount))
    call = replace(a_call(turn, step.id), credits_burned=amount, provider_cost_usd=amount)
    await stored(uow, turn)
    async with uow() as work:
        await work.steps.add(step)
        await work.usage.add(call)
        await work.commit()
    async with uow() as work:
        loaded = await work.turns.get(turn.id)
        [loaded_step] = await work.steps.list_for_turns([turn.id])
        [loaded_call] = await work.usage.list_for_turn(turn.id)
    assert loaded is not None
    for value in (loaded.credits, loaded_step.usage.credits, loaded_step.usage.provider_cost_usd,
                  loaded_call.credits_burned, loaded_call.provider_cost_usd):
        assert isinstance(value, Decimal)
        assert value == amount
        assert str(value.normalize()) == str(amount.normalize())
