"""The ``RateLimiter`` contract, run against the in-process and the Redis limiter.

Both take the test's FakeClock, so the contract tests drive time instead of sleeping;
one Redis test uses the server's own clock with a one-second window.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from pantheon_adapters.limits.memory import MemoryRateLimiter
from pantheon_adapters.limits.redis import RedisRateLimiter
from pantheon_core.errors import Unavailable
from pantheon_core.ports.rate_limiter import RateLimit, RateLimiter
from tests.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter(clock)
        return
    url, prefix = request.getfixturevalue("redis_keyspace")
    redis_limiter = RedisRateLimiter.from_url(url, prefix=prefix, clock=clock)
    try:
        yield redis_limiter
    finally:
        await redis_limiter.aclose()


async def test_allows_up_to_the_limit_then_says_when_to_retry(limiter: RateLimiter,
                                                              clock: FakeClock) -> None:
    rule = RateLimit(limit=3, window_s=60)
    outcomes = []
    for _ in range(3):
        outcomes.append((await limiter.hit("k", rule)).allowed)
        clock.advance(seconds=10)
    refused = await limiter.hit("k", rule)

    assert outcomes == [True, True, True]
    assert not refused.allowed
    assert refused.retry_after_s == 30  # the first hit (t=0) leaves the window at t=60


async def test_window_slides_hit_by_hit(limiter: RateLimiter, clock: FakeClock) -> None:
    rule = RateLimit(limit=2, window_s=10)
    assert (await limiter.hit("k", rule)).allowed  # t=0
    clock.advance(seconds=9)
    assert (await limiter.hit("k", rule)).allowed  # t=9
    clock.advance(seconds=1)
    assert (await limiter.hit("k", rule)).allowed  # t=10: the t=0 hit has left
    clock.advance(seconds=1)
    refused = await limiter.hit("k", rule)  # t=11: hits at 9 and 10 still count
    assert (refused.allowed, refused.retry_after_s) == (False, 8)


async def test_refused_hits_are_not_counted(limiter: RateLimiter, clock: FakeClock) -> None:
    rule = RateLimit(limit=1, window_s=10)
    assert (await limiter.hit("k", rule)).allowed
    for _ in range(9):
        clock.advance(seconds=1)
        assert not (await limiter.hit("k", rule)).allowed
    clock.advance(seconds=1)
    assert (await limiter.hit("k", rule)).allowed


async def test_retry_after_is_at_least_one_second(limiter: RateLimiter, clock: FakeClock) -> None:
    rule = RateLimit(limit=1, window_s=10)
    await limiter.hit("k", rule)
    clock.advance(seconds=9.9)
    refused = await limiter.hit("k", rule)
    assert (refused.allowed, refused.retry_after_s) == (False, 1)


async def test_keys_are_counted_separately(limiter: RateLimiter) -> None:
    rule = RateLimit(limit=1, window_s=60)
    assert (await limiter.hit("magic:email:a@example.com", rule)).allowed
    assert (await limiter.hit("magic:email:b@example.com", rule)).allowed
    assert not (await limiter.hit("magic:email:a@example.com", rule)).allowed


async def test_concurrent_hits_never_exceed_the_limit(limiter: RateLimiter) -> None:
    rule = RateLimit(limit=5, window_s=60)
    decisions = await asyncio.gather(*(limiter.hit("k", rule) for _ in range(20)))
    assert sum(d.allowed for d in decisions) == 5


async def test_a_zero_limit_refuses_everything(limiter: RateLimiter) -> None:
    decision = await limiter.hit("k", RateLimit(limit=0, window_s=30))
    assert (decision.allowed, decision.retry_after_s) == (False, 30)


async def test_memory_limiter_forgets_idle_keys(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(clock, sweep_every=1)
    rule = RateLimit(limit=1, window_s=60)
    for n in range(100):
        await limiter.hit(f"client:{n}", rule)
    assert limiter.tracked_keys() == 100
    clock.advance(seconds=61)
    await limiter.hit("client:new", rule)
    assert limiter.tracked_keys() == 1


@pytest.mark.redis
async def test_redis_keys_are_prefixed_and_expire(redis_keyspace: tuple[str, str]) -> None:
    url, prefix = redis_keyspace
    limiter = RedisRateLimiter.from_url(url, prefix=prefix)
    rule = RateLimit(limit=1, window_s=1)
    try:
        assert (await limiter.hit("k", rule)).allowed
        refused = await limiter.hit("k", rule)
        client = redis.Redis.from_url(url)
        ttl_ms = client.pttl(prefix + "k")
        client.close()
        await asyncio.sleep(1.05)
        again = await limiter.hit("k", rule)
    finally:
        await limiter.aclose()
    assert (refused.allowed, refused.retry_after_s) == (False, 1)
    assert 0 < ttl_ms <= 1000
    assert again.allowed  # the server's clock moved the window on


async def test_unreachable_redis_is_unavailable() -> None:
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(Unavailable) as caught:
            await limiter.hit("k", RateLimit(limit=1, window_s=1))
    finally:
        await limiter.aclose()
    assert caught.value.code == "rate_limiter_unavailable"
