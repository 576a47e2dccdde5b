"""A sliding-window rate limiter shared by every process, in Redis sorted sets."""

from __future__ import annotations

import math
import uuid

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pantheon_adapters.redis_options import LUA_NOW, RedisTimeouts
from pantheon_core.errors import Unavailable
from pantheon_core.ports.clock import Clock
from pantheon_core.ports.rate_limiter import RateDecision, RateLimit

DEFAULT_PREFIX = "pantheon:rl:"

# KEYS[1] the key. ARGV: now in ms ("" = the Redis server's clock), window in ms, limit, member.
# Returns {allowed (1/0), ms until the oldest counted hit leaves the window}.
_SLIDING_WINDOW = LUA_NOW + """
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return {0, window}
end
return {0, tonumber(oldest[2]) + window - now}
"""


class RedisRateLimiter:
    """Sliding-window ``RateLimiter`` in Redis, shared by every API instance.

    Same rules as the in-process limiter: a hit counts while it is younger than the
    window; a refused hit is not counted; ``retry_after_s`` is the whole seconds until
    the oldest counted hit leaves the window, at least 1. Each check is one atomic Lua
    script over a sorted set ``prefix + key`` whose TTL is the window, so idle keys vanish.
    Time is the Redis server's clock (one clock for all instances) unless a ``clock``
    is given. Redis failures become ``Unavailable`` (``rate_limiter_unavailable``), and so
    does a check not answered within ``total_timeout_s``.
    """

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX,
                 clock: Clock | None = None, total_timeout_s: float | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._total_timeout_s = total_timeout_s or RedisTimeouts().total_s
        self._script = client.register_script(_SLIDING_WINDOW)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX, clock: Clock | None = None,
                 timeouts: RedisTimeouts | None = None) -> RedisRateLimiter:
        timeouts = timeouts or RedisTimeouts()
        client = Redis.from_url(url, **timeouts.async_options())
        return cls(client, prefix=prefix, clock=clock, total_timeout_s=timeouts.total_s)

    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        if rule.limit <= 0:
            return RateDecision(allowed=False, retry_after_s=max(1, rule.window_s))
        now_ms = "" if self._clock is None else str(int(self._clock.now().timestamp() * 1000))
        args = [now_ms, str(rule.window_s * 1000), str(rule.limit), uuid.uuid4().hex]
        try:
            with anyio.fail_after(self._total_timeout_s):
                allowed, wait_ms = await self._script(keys=[self._prefix + key], args=args)
        except (RedisError, TimeoutError) as exc:
            raise Unavailable(f"The rate limiter's Redis is unreachable "
                              f"({exc or 'no answer in time'}).",
                              code="rate_limiter_unavailable") from exc
        if int(allowed):
            return RateDecision(allowed=True)
        return RateDecision(allowed=False, retry_after_s=max(1, math.ceil(int(wait_ms) / 1000)))

    async def ping(self) -> None:
        await self._client.ping()

    async def aclose(self) -> None:
        await self._client.aclose()
