"""Turn limits (NFR-PERF-003): running turns per user, a global cap, a per-user send rate.

Core use cases with the in-memory slot leases and rate limiter on the fake clock. A refused
send changes nothing: no turn, no message, no session touched, no slot, no rate hit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import anyio
import pytest

from pantheon_adapters.limits.memory import MemoryRateLimiter
from pantheon_adapters.limits.memory_slots import MemorySlotLeases
from pantheon_core.actor import Actor
from pantheon_core.domain.rooms import Room
from pantheon_core.errors import PantheonError, RateLimited, Unavailable
from pantheon_core.ids import TurnId
from pantheon_core.ports.chat_model import ProviderError
from pantheon_core.ports.rate_limiter import RateLimit
from pantheon_core.ports.slot_leases import SlotPool
from pantheon_core.usecases.admission import GLOBAL_POOL, user_pool
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import TurnLimits
from tests.fake_chat import Reply
from tests.fakes import FAST_ENGINE, FakeApp, FakeUnitOfWork, fake_app
from tests.unit.helpers import room_with_agents, sign_up

# Turns here hang until cancelled: the engine must not time them out first.
PATIENT = replace(FAST_ENGINE, first_token_timeout_s=60.0, call_timeout_s=120.0)
HANG = Reply(hang=True)


class CountingSlots(MemorySlotLeases):
    """The in-memory leases, counting renewals (to wait for one)."""

    renewals = 0

    async def renew(self, holder: str, keys: Sequence[str], *, ttl_s: float) -> None:
        await super().renew(holder, keys, ttl_s=ttl_s)
        self.renewals += 1


def limited(**limits: Any) -> tuple[FakeApp, CountingSlots]:
    app = fake_app(engine=PATIENT)
    slots = CountingSlots(app.clock)
    deps = replace(app.uc.send_to_room.deps, limiter=MemoryRateLimiter(app.clock), slots=slots,
                   turn_limits=TurnLimits(**limits))
    return replace(app, uc=UseCases.build(deps)), slots


async def until(check: Callable[[], Any]) -> None:
    """Wait (a few seconds at most) until ``check()`` (awaited if need be) is true."""
    with anyio.fail_after(5):
        while True:
            value = check()
            if hasattr(value, "__await__"):
                value = await value
            if value:
                return
            await anyio.sleep(0.005)


async def running(slots: MemorySlotLeases, actor: Actor) -> tuple[int, int]:
    assert actor.user_id is not None
    return await slots.in_use(user_pool(actor.user_id)), await slots.in_use(GLOBAL_POOL)


async def user_with_room(app: FakeApp, email: str = "ana@example.com",
                         mode: str = "roundtable") -> tuple[Actor, Room]:
    actor = await sign_up(app, email)
    return actor, await room_with_agents(app, actor, "Scout", mode=mode)


def state(app: FakeApp) -> tuple[Any, ...]:
    """What a refused send must leave as it was."""
    s = app.store
    return (dict(s.turns), dict(s.rooms), dict(s.room_sessions), dict(s.direct_sessions),
            list(s.calls), list(s.ledger), dict(s.events))


async def cancel_all(app: FakeApp, *actors: Actor) -> None:
    for actor in actors:
        for turn in list(app.store.turns.values()):
            if turn.user_id == actor.user_id and not turn.is_finished:
                await app.uc.cancel_turn(actor, turn.id)
    await app.settle()


async def test_a_user_runs_at_most_the_limit_then_429_too_many_running_turns() -> None:
    app, slots = limited(running_per_user=2)
    ana, room = await user_with_room(app)
    app.chat.queue("worker", HANG, HANG)
    first = await app.uc.send_to_room(ana, room.id, "one")
    await app.uc.send_to_room(ana, room.id, "two")
    before = state(app)

    with pytest.raises(RateLimited) as refused:
        await app.uc.send_to_room(ana, room.id, "three")

    assert refused.value.code == "too_many_running_turns"
    assert refused.value.retry_after_s == 5
    assert refused.value.details == {"limit": 2, "running": 2, "retry_after_s": 5}
    assert state(app) == before
    assert await running(slots, ana) == (2, 2)
    await app.uc.cancel_turn(ana, first.id)  # one ends: its slot is free again
    await until(lambda: app.store.turns[first.id].is_finished)
    assert await running(slots, ana) == (1, 1)
    third = await app.uc.send_to_room(ana, room.id, "three")
    assert third.id in app.store.turns
    await cancel_all(app, ana)
    assert await running(slots, ana) == (0, 0)


async def test_one_users_running_turns_do_not_hold_back_another() -> None:
    app, slots = limited(running_per_user=1)
    ana, room = await user_with_room(app)
    bo, bo_room = await user_with_room(app, "bo@example.com")
    app.chat.queue("worker", HANG, HANG)
    await app.uc.send_to_room(ana, room.id, "one")
    await app.uc.send_to_room(bo, bo_room.id, "one")
    assert await running(slots, ana) == (1, 2)
    await cancel_all(app, ana, bo)
    assert await running(slots, bo) == (0, 0)


async def test_beyond_the_global_cap_sends_are_503_server_busy() -> None:
    app, slots = limited(running_per_user=2, running_total=2, retry_after_s=7)
    ana, room = await user_with_room(app)
    bo, bo_room = await user_with_room(app, "bo@example.com")
    app.chat.queue("worker", HANG, HANG)
    await app.uc.send_to_room(ana, room.id, "one")
    await app.uc.send_to_room(ana, room.id, "two")
    before = state(app)

    with pytest.raises(Unavailable) as refused:
        await app.uc.send_to_room(bo, bo_room.id, "hello")

    assert refused.value.code == "server_busy"
    assert refused.value.retry_after_s == 7
    assert refused.value.details == {"limit": 2, "running": 2, "retry_after_s": 7}
    assert state(app) == before
    assert await running(slots, bo) == (0, 2)
    await cancel_all(app, ana)


async def test_a_global_cap_of_zero_starts_no_turn_at_all() -> None:
    app, slots = limited(running_total=0)
    ana, room = await user_with_room(app)
    with pytest.raises(Unavailable) as refused:
        await app.uc.send_to_room(ana, room.id, "hello")
    assert refused.value.code == "server_busy"
    assert "not starting new turns" in refused.value.message
    assert app.store.turns == {}
    assert await running(slots, ana) == (0, 0)


async def test_sends_beyond_the_rate_are_429_rate_limited_until_the_window_moves() -> None:
    app, slots = limited(sends_per_user=RateLimit(limit=3, window_s=60))
    ana, room = await user_with_room(app)
    for n in range(3):
        await app.uc.send_to_room(ana, room.id, f"message {n}")
        await app.settle()
        app.clock.advance(seconds=10)
    before = state(app)

    with pytest.raises(RateLimited) as refused:
        await app.uc.send_to_room(ana, room.id, "one too many")

    assert refused.value.code == "rate_limited"
    assert refused.value.details == {"limit": 3, "window_s": 60, "retry_after_s": 30}
    assert "at most 3 messages every 60 s" in refused.value.message
    assert state(app) == before
    assert await running(slots, ana) == (0, 0)  # the refused send holds no slot
    app.clock.advance(seconds=30)  # the first send (t=0) leaves the window
    await app.uc.send_to_room(ana, room.id, "again")
    await app.settle()
    assert len(app.store.turns) == 4


async def test_sends_refused_for_another_reason_take_no_slot_and_no_rate_hit() -> None:
    app, slots = limited(sends_per_user=RateLimit(limit=1, window_s=60))
    ana, room = await user_with_room(app, mode="manual")
    for _ in range(3):
        with pytest.raises(PantheonError) as refused:
            await app.uc.send_to_room(ana, room.id, "nobody is tagged")
        assert refused.value.code == "no_valid_tags"
    assert await running(slots, ana) == (0, 0)
    await app.uc.send_to_room(ana, room.id, "@Scout go")  # the one send of the window
    await app.settle()
    assert len(app.store.turns) == 1


async def test_a_send_refused_for_running_turns_does_not_count_against_the_rate() -> None:
    app, slots = limited(running_per_user=1, sends_per_user=RateLimit(limit=2, window_s=60))
    ana, room = await user_with_room(app)
    app.chat.queue("worker", HANG)
    first = await app.uc.send_to_room(ana, room.id, "one")
    for _ in range(3):
        with pytest.raises(RateLimited) as refused:
            await app.uc.send_to_room(ana, room.id, "two")
        assert refused.value.code == "too_many_running_turns"
    await cancel_all(app, ana)
    assert app.store.turns[first.id].status.value == "cancelled"
    await app.uc.send_to_room(ana, room.id, "two")  # the window's second send
    await app.settle()
    with pytest.raises(RateLimited) as refused:
        await app.uc.send_to_room(ana, room.id, "three")
    assert refused.value.code == "rate_limited"
    assert await running(slots, ana) == (0, 0)  # and the rate refusal gave its slots back


async def test_direct_sends_share_the_users_running_limit() -> None:
    app, slots = limited(running_per_user=1)
    ana, room = await user_with_room(app)
    session = await app.uc.create_direct_session(ana, name="Solo", model_alias="qwen")
    app.chat.queue("direct", HANG)
    await app.uc.send_direct(ana, session.id, "hi")
    before = state(app)

    with pytest.raises(RateLimited) as direct:
        await app.uc.send_direct(ana, session.id, "again")
    with pytest.raises(RateLimited) as in_room:
        await app.uc.send_to_room(ana, room.id, "and here")

    assert direct.value.code == in_room.value.code == "too_many_running_turns"
    assert state(app) == before
    await cancel_all(app, ana)
    assert await running(slots, ana) == (0, 0)
    await app.uc.send_direct(ana, session.id, "now")
    await app.settle()
    assert await running(slots, ana) == (0, 0)


@pytest.mark.parametrize("mode", ["manual", "roundtable", "orchestrator"])
async def test_every_room_mode_is_limited(mode: str) -> None:
    app, _ = limited(running_per_user=1)
    ana, room = await user_with_room(app, mode=mode)
    app.chat.queue("*", HANG)
    await app.uc.send_to_room(ana, room.id, "@Scout go")
    with pytest.raises(RateLimited) as refused:
        await app.uc.send_to_room(ana, room.id, "@Scout again")
    assert refused.value.code == "too_many_running_turns"
    await cancel_all(app, ana)


def _fails(code: str) -> Reply:
    return Reply(error=ProviderError("no", code=code, retryable=False))


@pytest.mark.parametrize(("replies", "agents", "status"), [
    ((), ("Scout",), "completed"),
    ((Reply(text="fine"), _fails("provider_rejected")), ("Scout", "Critic"), "partial"),
    ((_fails("provider_rejected"),), ("Scout",), "failed"),
], ids=["completed", "partial", "failed"])
async def test_a_turn_that_ends_gives_its_slots_back(replies: tuple[Reply, ...],
                                                      agents: tuple[str, ...],
                                                      status: str) -> None:
    app, slots = limited()
    ana = await sign_up(app, "ana@example.com")
    room = await room_with_agents(app, ana, *agents, mode="roundtable")
    app.chat.queue("worker", *replies)
    turn = await app.uc.send_to_room(ana, room.id, "go")
    assert await running(slots, ana) == (1, 1)
    await app.settle()
    assert app.store.turns[turn.id].status.value == status
    assert await running(slots, ana) == (0, 0)
    assert slots.tracked_pools() == 0


async def test_a_cancelled_turn_gives_its_slots_back() -> None:
    app, slots = limited()
    ana, room = await user_with_room(app)
    app.chat.queue("worker", HANG)
    turn = await app.uc.send_to_room(ana, room.id, "go")
    await app.uc.cancel_turn(ana, turn.id)
    await app.settle()
    assert app.store.turns[turn.id].status.value == "cancelled"
    assert await running(slots, ana) == (0, 0)


async def test_a_turn_interrupted_by_shutdown_gives_its_slots_back() -> None:
    app, slots = limited()
    ana, room = await user_with_room(app)
    app.chat.queue("worker", HANG)
    turn = await app.uc.send_to_room(ana, room.id, "go")
    await until(lambda: app.chat.active == 1)
    await app.tasks.aclose(grace_s=0)  # the process stops: running turns are cancelled
    finished = app.store.turns[turn.id]
    assert (finished.status.value, finished.error_code) == ("failed", "interrupted")
    assert await running(slots, ana) == (0, 0)


async def test_sweeping_an_orphaned_turn_gives_its_slots_back() -> None:
    app, slots = limited()
    ana, room = await user_with_room(app)
    # A turn whose process died: begun, its slots taken, nobody running it.
    turn = await app.uc.begin_turn(ana, room.id, "go")
    assert ana.user_id is not None
    pools = (SlotPool(user_pool(ana.user_id), 2), SlotPool(GLOBAL_POOL, 100))
    assert (await slots.acquire(turn.id, pools, ttl_s=600)).granted
    app.clock.advance(seconds=PATIENT.stale_after_s + 1)
    assert await app.uc.sweep_interrupted_turns() == 1
    assert await running(slots, ana) == (0, 0)


async def test_the_slots_of_a_process_that_died_free_themselves_after_the_ttl() -> None:
    app, slots = limited(running_per_user=1, lease_ttl_s=30)
    ana, room = await user_with_room(app)
    assert ana.user_id is not None
    await slots.acquire(TurnId("ghost"), (SlotPool(user_pool(ana.user_id), 1),), ttl_s=30)
    with pytest.raises(RateLimited):
        await app.uc.send_to_room(ana, room.id, "go")
    app.clock.advance(seconds=30)
    await app.uc.send_to_room(ana, room.id, "go")
    await app.settle()
    assert len(app.store.turns) == 1


async def test_a_running_turn_keeps_its_slot_renewed_past_the_ttl() -> None:
    app, slots = limited(running_per_user=1, lease_ttl_s=3)
    ana, room = await user_with_room(app)
    app.chat.queue("worker", HANG)
    await app.uc.send_to_room(ana, room.id, "go")
    for _ in range(4):  # 4 x 2.5 s of fake time: long expired, had it not been renewed
        await renewed(slots)
        app.clock.advance(seconds=2.5)
    assert await running(slots, ana) == (1, 1)
    with pytest.raises(RateLimited):
        await app.uc.send_to_room(ana, room.id, "again")
    await cancel_all(app, ana)
    assert await running(slots, ana) == (0, 0)


async def renewed(slots: CountingSlots) -> None:
    seen = slots.renewals
    await until(lambda: slots.renewals > seen)


class _CommitFails(FakeUnitOfWork):
    async def commit(self) -> None:
        raise Unavailable("The database went away.", code="database_unavailable")


async def test_a_send_whose_commit_fails_gives_its_slots_back() -> None:
    app, slots = limited()
    ana, room = await user_with_room(app)
    deps = app.uc.send_to_room.deps
    broken = UseCases.build(replace(deps, uow=lambda: _CommitFails(app.store)))
    with pytest.raises(Unavailable):
        await broken.send_to_room(ana, room.id, "go")
    assert app.store.turns == {}
    assert await running(slots, ana) == (0, 0)


async def test_the_store_of_slots_being_down_refuses_the_send_and_changes_nothing() -> None:
    class Down(MemorySlotLeases):
        async def acquire(self, *args: Any, **kwargs: Any) -> Any:
            raise Unavailable("Redis is down.", code="turn_limits_unavailable")

    app = fake_app()
    deps = replace(app.uc.send_to_room.deps, slots=Down(app.clock))
    app = replace(app, uc=UseCases.build(deps))
    ana, room = await user_with_room(app)
    with pytest.raises(Unavailable) as refused:
        await app.uc.send_to_room(ana, room.id, "go")
    assert refused.value.code == "turn_limits_unavailable"
    assert app.store.turns == {}


def test_limits_default_to_two_running_per_user_and_twenty_sends_a_minute() -> None:
    limits = TurnLimits()
    assert (limits.running_per_user, limits.sends_per_user) == (2, RateLimit(20, 60))
    assert limits.lease_ttl_s > FAST_ENGINE.heartbeat_interval_s
    assert timedelta(seconds=limits.lease_ttl_s) >= timedelta(seconds=30)
