"""Slot leases shared by every process, as Redis sorted sets scored by expiry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pantheon_adapters.redis_options import LUA_NOW, RedisTimeouts
from pantheon_core.errors import Unavailable
from pantheon_core.ports.clock import Clock
from pantheon_core.ports.slot_leases import SlotGrant, SlotPool

# The braces are a Redis Cluster hash tag: every pool lands in one slot, so one script may
# touch several pools atomically.
DEFAULT_PREFIX = "pantheon:{slots}:"

# Each script takes "now" in ms as ARGV[1] ("" = the Redis server's clock).
_NOW = LUA_NOW

# The key lives at least as long as its longest lease.
_KEEP_KEY = """
local function keep(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
"""

# KEYS: the pools. ARGV: now, ttl ms, holder, then each pool's limit.
# Returns {1, 0, 0} when granted, else {0, index of the full pool, its live leases}.
_ACQUIRE = _NOW + _KEEP_KEY + """
local ttl = tonumber(ARGV[2])
local holder = ARGV[3]
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, holder) then
    local held = redis.call('ZCARD', key)
    if held >= tonumber(ARGV[3 + i]) then return {0, i, held} end
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, holder)
  keep(key, ttl)
end
return {1, 0, 0}
"""

# KEYS: the pools. ARGV: now, ttl ms, holder.
_RENEW = _NOW + _KEEP_KEY + """
local ttl = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  redis.call('ZADD', key, now + ttl, ARGV[3])
  keep(key, ttl)
end
return 1
"""

# KEYS[1]: the pool. ARGV: now.
_IN_USE = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""


class RedisSlotLeases:
    """``SlotLeases`` in Redis, shared by every API instance and CLI process.

    A pool is a sorted set ``prefix + key`` of holders scored by when their lease expires;
    acquiring drops the expired ones, then checks and takes every pool in one Lua script.
    Each key expires with its longest lease, so an abandoned pool vanishes on its own.
    Time is the Redis server's clock (one clock for all instances) unless a ``clock`` is
    given. Redis failures become ``Unavailable`` (``turn_limits_unavailable``), and so does
    a call not answered within ``total_timeout_s``.
    """

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX,
                 clock: Clock | None = None, total_timeout_s: float | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._total_timeout_s = total_timeout_s or RedisTimeouts().total_s
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._in_use = client.register_script(_IN_USE)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX, clock: Clock | None = None,
                 timeouts: RedisTimeouts | None = None) -> RedisSlotLeases:
        timeouts = timeouts or RedisTimeouts()
        client = Redis.from_url(url, **timeouts.async_options())
        return cls(client, prefix=prefix, clock=clock, total_timeout_s=timeouts.total_s)

    async def acquire(self, holder: str, pools: Sequence[SlotPool], *,
                      ttl_s: float) -> SlotGrant:
        if not pools:
            return SlotGrant(granted=True)
        args = [self._now_ms(), _ms(ttl_s), holder, *(str(p.limit) for p in pools)]
        with self._bounded():
            granted, index, held = await self._acquire(keys=self._keys(p.key for p in pools),
                                                       args=args)
        if int(granted):
            return SlotGrant(granted=True)
        return SlotGrant(granted=False, full=pools[int(index) - 1], in_use=int(held))

    async def renew(self, holder: str, keys: Sequence[str], *, ttl_s: float) -> None:
        if not keys:
            return
        with self._bounded():
            await self._renew(keys=self._keys(keys), args=[self._now_ms(), _ms(ttl_s), holder])

    async def release(self, holder: str, keys: Sequence[str]) -> None:
        if not keys:
            return
        with self._bounded():
            async with self._client.pipeline(transaction=True) as pipe:
                for key in self._keys(keys):
                    pipe.zrem(key, holder)
                await pipe.execute()

    async def in_use(self, key: str) -> int:
        with self._bounded():
            count = await self._in_use(keys=self._keys([key]), args=[self._now_ms()])
        return int(count)

    async def ping(self) -> None:
        await self._client.ping()

    async def aclose(self) -> None:
        await self._client.aclose()

    @contextmanager
    def _bounded(self) -> Iterator[None]:
        """One call within the total budget; Redis failures and timeouts as ``Unavailable``."""
        try:
            with anyio.fail_after(self._total_timeout_s):
                yield
        except (RedisError, TimeoutError) as exc:
            raise _unavailable(exc) from exc

    def _keys(self, keys: Iterable[str]) -> list[str]:
        return [self._prefix + key for key in keys]

    def _now_ms(self) -> str:
        return "" if self._clock is None else str(int(self._clock.now().timestamp() * 1000))


def _ms(seconds: float) -> str:
    return str(max(1, int(seconds * 1000)))


def _unavailable(exc: RedisError | TimeoutError) -> Unavailable:
    return Unavailable(f"The turn limits' Redis is unreachable ({exc or 'no answer in time'}).",
                       code="turn_limits_unavailable")
