"""Timeouts and a retry budget shared by every Redis client the adapters open.

redis-py's own default retries a command that hit a connection error or a timeout ten
times; with a 3 s socket timeout a Redis that stopped answering would hold each caller for
half a minute. Every client here gets a bounded connect timeout, a bounded command timeout
(blocking reads are bounded by their caller instead) and ``retries`` quick retries.
redis is imported only when a client is configured (bootstrap imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 0.5
HEALTH_CHECK_INTERVAL_S = 30

# The opening of our Lua scripts: ``now`` in ms from ARGV[1], or ("" given) the Redis
# server's clock, so every process counts time on one clock.
LUA_NOW = """
local now = tonumber(ARGV[1])
if not now then
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""


@dataclass(frozen=True, slots=True)
class RedisTimeouts:
    connect_s: float = 3.0
    command_s: float = 3.0
    retries: int = 1

    @property
    def total_s(self) -> float:
        """A whole call, its retries included: redis-py retries the connection handshake and
        the command each on their own, so without this bound a silent server could hold a
        caller for ``(1 + retries)²`` timeouts."""
        return (self.connect_s + self.command_s) * (1 + self.retries)

    def async_options(self, *, blocking: bool = False) -> dict[str, Any]:
        """Keyword arguments for ``redis.asyncio.Redis.from_url``. ``blocking``: no socket
        timeout (XREAD BLOCK waits on purpose); the caller bounds each command itself."""
        from redis.asyncio.retry import Retry as AsyncRetry

        return {"socket_connect_timeout": self.connect_s,
                "socket_timeout": None if blocking else self.command_s,
                "retry": AsyncRetry(_backoff(), self.retries),
                "health_check_interval": HEALTH_CHECK_INTERVAL_S}

    def sync_options(self, *, command_s: float | None = None) -> dict[str, Any]:
        """Keyword arguments for ``redis.Redis.from_url`` (``command_s`` overrides the
        command timeout, for a client whose commands legitimately wait longer)."""
        from redis.retry import Retry

        return {"socket_connect_timeout": self.connect_s,
                "socket_timeout": command_s if command_s is not None else self.command_s,
                "retry": Retry(_backoff(), self.retries),
                "health_check_interval": HEALTH_CHECK_INTERVAL_S}


def _backoff() -> Any:
    from redis.backoff import ExponentialWithJitterBackoff

    return ExponentialWithJitterBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S)
