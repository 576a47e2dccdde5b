"""The ``SlotLeases`` contract, run against the in-process and the Redis leases.

Both take the test's FakeClock, so leases expire when the test moves time; one Redis test
uses the server's own clock with a short TTL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from pantheon_adapters.limits.memory_slots import MemorySlotLeases
from pantheon_adapters.limits.redis_slots import RedisSlotLeases
from pantheon_core.errors import Unavailable
from pantheon_core.ports.slot_leases import SlotGrant, SlotLeases, SlotPool
from tests.fakes import FakeClock

USER = SlotPool("user:ana", 2)
ALL = SlotPool("all", 3)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def leases(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[SlotLeases]:
    if request.param == "memory":
        yield MemorySlotLeases(clock)
        return
    url, prefix = request.getfixturevalue("redis_keyspace")
    redis_leases = RedisSlotLeases.from_url(url, prefix=prefix, clock=clock)
    try:
        yield redis_leases
    finally:
        await redis_leases.aclose()


async def test_grants_up_to_the_limit_then_names_the_full_pool(leases: SlotLeases) -> None:
    assert (await leases.acquire("t1", [USER, ALL], ttl_s=60)).granted
    assert (await leases.acquire("t2", [USER, ALL], ttl_s=60)).granted
    refused = await leases.acquire("t3", [USER, ALL], ttl_s=60)
    assert refused == SlotGrant(granted=False, full=USER, in_use=2)
    assert (await leases.in_use("user:ana"), await leases.in_use("all")) == (2, 2)


async def test_a_refusal_takes_nothing_in_any_pool(leases: SlotLeases) -> None:
    other = SlotPool("user:bo", 2)
    for turn in ("a", "b", "c"):
        assert (await leases.acquire(turn, [SlotPool(f"user:{turn}", 2), ALL], ttl_s=60)).granted
    refused = await leases.acquire("d", [other, ALL], ttl_s=60)
    assert refused == SlotGrant(granted=False, full=ALL, in_use=3)
    assert await leases.in_use("user:bo") == 0  # the free pool was not taken either


async def test_a_holder_is_counted_once(leases: SlotLeases) -> None:
    for _ in range(3):
        assert (await leases.acquire("t1", [USER], ttl_s=60)).granted
    assert await leases.in_use("user:ana") == 1


async def test_release_frees_the_slot_and_is_idempotent(leases: SlotLeases) -> None:
    await leases.acquire("t1", [USER, ALL], ttl_s=60)
    await leases.acquire("t2", [USER, ALL], ttl_s=60)
    await leases.release("t1", ["user:ana", "all"])
    await leases.release("t1", ["user:ana", "all"])
    await leases.release("never-held", ["user:ana", "nowhere"])
    assert (await leases.in_use("user:ana"), await leases.in_use("all")) == (1, 1)
    assert (await leases.acquire("t3", [USER, ALL], ttl_s=60)).granted


async def test_leases_expire_after_their_ttl(leases: SlotLeases, clock: FakeClock) -> None:
    await leases.acquire("t1", [USER], ttl_s=30)
    clock.advance(seconds=10)
    await leases.acquire("t2", [USER], ttl_s=30)
    clock.advance(seconds=20)  # t1 expires now (t=30), t2 at t=40
    assert await leases.in_use("user:ana") == 1
    assert (await leases.acquire("t3", [USER], ttl_s=30)).granted
    clock.advance(seconds=10)
    assert await leases.in_use("user:ana") == 1  # only t3


async def test_renew_extends_a_lease(leases: SlotLeases, clock: FakeClock) -> None:
    await leases.acquire("t1", [USER, ALL], ttl_s=30)
    for _ in range(5):
        clock.advance(seconds=20)
        await leases.renew("t1", ["user:ana", "all"], ttl_s=30)
    assert (await leases.in_use("user:ana"), await leases.in_use("all")) == (1, 1)
    clock.advance(seconds=30)
    assert await leases.in_use("user:ana") == 0


async def test_renew_retakes_an_expired_lease_even_beyond_the_limit(
        leases: SlotLeases, clock: FakeClock) -> None:
    small = SlotPool("user:ana", 1)
    await leases.acquire("t1", [small], ttl_s=10)
    clock.advance(seconds=10)  # t1 expired (its process stalled) ...
    assert (await leases.acquire("t2", [small], ttl_s=10)).granted  # ... and t2 took the slot
    await leases.renew("t1", ["user:ana"], ttl_s=10)  # t1 still runs: it is counted again
    assert await leases.in_use("user:ana") == 2


async def test_a_limit_of_zero_grants_nothing(leases: SlotLeases) -> None:
    assert await leases.acquire("t1", [SlotPool("drained", 0)], ttl_s=60) == SlotGrant(
        granted=False, full=SlotPool("drained", 0), in_use=0)


async def test_racing_acquires_never_exceed_the_limit(leases: SlotLeases) -> None:
    grants = await asyncio.gather(*(leases.acquire(f"t{i}", [USER, ALL], ttl_s=60)
                                    for i in range(20)))
    assert sum(g.granted for g in grants) == 2
    assert await leases.in_use("user:ana") == 2


def test_memory_forgets_empty_pools(clock: FakeClock) -> None:
    leases = MemorySlotLeases(clock)

    async def scenario() -> None:
        await leases.acquire("t1", [USER, ALL], ttl_s=5)
        await leases.acquire("t2", [SlotPool("user:bo", 1)], ttl_s=5)
        await leases.release("t1", ["user:ana", "all"])
        clock.advance(seconds=5)
        assert await leases.in_use("user:bo") == 0

    asyncio.run(scenario())
    assert leases.tracked_pools() == 0


@pytest.mark.redis
async def test_redis_pools_expire_with_their_last_lease(redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    leases = RedisSlotLeases.from_url(url, prefix=prefix)  # the server's clock
    raw = redis.Redis.from_url(url)
    try:
        await leases.acquire("t1", [USER], ttl_s=60)
        ttl_ms = raw.pttl(prefix + "user:ana")
        assert 0 < ttl_ms <= 60_000
        await leases.acquire("t2", [SlotPool("user:ana", 2)], ttl_s=0.05)
        assert raw.pttl(prefix + "user:ana") > 50  # a short lease does not cut the key short
        await asyncio.sleep(0.1)
        assert await leases.in_use("user:ana") == 1  # t2 expired on the server's clock
    finally:
        raw.close()
        await leases.aclose()


async def test_redis_unreachable_is_unavailable() -> None:
    leases = RedisSlotLeases.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(Unavailable) as failed:
            await leases.acquire("t1", [USER], ttl_s=60)
        assert failed.value.code == "turn_limits_unavailable"
        with pytest.raises(Unavailable):
            await leases.release("t1", ["user:ana"])
    finally:
        await leases.aclose()
