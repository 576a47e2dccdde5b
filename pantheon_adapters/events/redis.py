"""Turn events in Redis Streams, so any API process can serve any turn's stream."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TypeVar

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pantheon_adapters.redis_options import RedisTimeouts
from pantheon_core.domain.events import TurnEvent
from pantheon_core.errors import Unavailable
from pantheon_core.ids import TurnId

DEFAULT_PREFIX = "pantheon:"
MAXLEN = 100_000
TTL_S = 3600
KEEP_FINISHED_S = 600
CANCEL_TTL_S = 3600
PAGE = 500
T = TypeVar("T")

# KEYS[1] the turn's stream, KEYS[2] its cancel flag.
# ARGV: seq, event JSON, maxlen, ttl, 1 if terminal else 0, ttl after a terminal event.
# The entry id is "<seq>-0", so a reader seeks straight to any seq. Like the in-process
# buffer: a seq at or below the last one is a duplicate and is dropped; a gap means what
# the stream holds is no longer a prefix of the turn, so it starts over.
_PUBLISH = """
local seq = tonumber(ARGV[1])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if top then
  local last = tonumber(string.match(top[1], '^(%d+)'))
  if seq <= last then return 0 end
  if seq ~= last + 1 then redis.call('DEL', KEYS[1]) end
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], ARGV[1] .. '-0', 'e', ARGV[2])
if ARGV[5] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('DEL', KEYS[2])
else
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return 1
"""

Entry = tuple[Any, dict[Any, Any]]


def _decode(entry: Entry) -> TurnEvent:
    fields = entry[1]
    return TurnEvent.from_dict(json.loads(fields[b"e"] if b"e" in fields else fields["e"]))


def _read_entries(reply: Any) -> list[Entry]:
    """The entries of a one-stream XREAD reply, in RESP2 or RESP3 shape."""
    if not reply:
        return []
    if isinstance(reply, dict):  # RESP3: {key: [[entry, ...]]}
        return [entry for batch in next(iter(reply.values())) for entry in batch]
    return list(reply[0][1])  # RESP2: [[key, [entry, ...]]]


def _unavailable(exc: RedisError) -> Unavailable:
    return Unavailable(f"The turn events' Redis is unreachable ({exc}).",
                       code="turn_events_unavailable")


class RedisTurnEvents:
    """``TurnEvents`` shared by every process through one Redis Stream per turn.

    - ``publish`` appends the event as entry ``<seq>-0`` of ``{prefix}turn:{id}:events``
      (approximately capped at ``MAXLEN`` entries), atomically with the same duplicate and
      gap rules as the in-process buffer. The stream expires an hour after its last
      event, or ``KEEP_FINISHED_S`` after a terminal one. Seq order is the single
      publisher's (the turn's runner); the stream id is only the readers' position.
    - ``subscribe`` reads the backlog with XRANGE from ``after + 1`` then tails with
      XREAD BLOCK; it yields only consecutive seqs and returns at a gap, after a
      terminal event, after ``wait_s`` without a new event, and at once for a turn
      the stream does not know.
    - The cancel flag is a key with a TTL, cleared by the terminal event.
    Redis failures become ``Unavailable`` (``turn_events_unavailable``), and so does a
    command unanswered within the command timeout (a blocking read: plus its wait).
    """

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX,
                 command_timeout_s: float = 3.0) -> None:
        self._client = client
        self._prefix = prefix
        self._command_timeout_s = command_timeout_s
        self._publish = client.register_script(_PUBLISH)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX,
                 timeouts: RedisTimeouts | None = None) -> RedisTurnEvents:
        # No socket timeout: XREAD BLOCK legitimately waits up to a subscriber's wait_s.
        # Every command is bounded here instead (``_within``).
        timeouts = timeouts or RedisTimeouts()
        client = Redis.from_url(url, **timeouts.async_options(blocking=True))
        return cls(client, prefix=prefix, command_timeout_s=timeouts.command_s)

    async def _within(self, call: Awaitable[T], *, waiting_s: float = 0.0) -> T:
        """Await one command for at most the command timeout (plus what it waits on purpose)."""
        try:
            with anyio.fail_after(self._command_timeout_s + waiting_s):
                return await call
        except TimeoutError as exc:
            raise Unavailable(f"The turn events' Redis did not answer within "
                              f"{self._command_timeout_s + waiting_s:g} s.",
                              code="turn_events_unavailable") from exc

    def _stream(self, turn_id: str) -> str:
        return f"{self._prefix}turn:{turn_id}:events"

    def _cancel(self, turn_id: str) -> str:
        return f"{self._prefix}turn:{turn_id}:cancel"

    async def publish(self, event: TurnEvent) -> None:
        body = json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))
        args: list[str | int] = [event.seq, body, MAXLEN, TTL_S, int(event.is_terminal),
                                 KEEP_FINISHED_S]
        try:
            await self._within(self._publish(
                keys=[self._stream(event.turn_id), self._cancel(event.turn_id)], args=args))
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def subscribe(self, turn_id: TurnId, *, after: int,
                        wait_s: float) -> AsyncIterator[TurnEvent]:
        key, cursor = self._stream(turn_id), _Cursor(after)
        try:
            while True:
                found: Any = await self._within(self._client.xrange(
                    key, min=f"{cursor.last + 1}-0", count=PAGE))
                page: list[Entry] = list(found or [])
                for event in cursor.take(page):
                    yield event
                if cursor.done or len(page) < PAGE:
                    break
            if cursor.done:
                return
            # An unknown stream is waited for too: the turn may be about to publish.
            block_ms = max(1, math.ceil(wait_s * 1000))
            while wait_s > 0:
                entries = _read_entries(await self._within(self._client.xread(
                    {key: f"{cursor.last}-0"}, count=PAGE, block=block_ms),
                    waiting_s=block_ms / 1000))
                if not entries:
                    return
                for event in cursor.take(entries):
                    yield event
                if cursor.done:
                    return
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def request_cancel(self, turn_id: TurnId) -> None:
        try:
            await self._within(self._client.set(self._cancel(turn_id), b"1", ex=CANCEL_TTL_S))
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def cancel_requested(self, turn_id: TurnId) -> bool:
        try:
            return bool(await self._within(self._client.exists(self._cancel(turn_id))))
        except RedisError as exc:
            raise _unavailable(exc) from exc

    async def ping(self) -> None:
        await self._client.ping()

    async def aclose(self) -> None:
        await self._client.aclose()


class _Cursor:
    """A subscriber's position: accepts only the next seq, and stops at a gap or the end."""

    def __init__(self, after: int) -> None:
        self.last = after
        self.done = False

    def take(self, entries: Sequence[Entry]) -> list[TurnEvent]:
        taken: list[TurnEvent] = []
        for entry in entries:
            event = _decode(entry)
            if event.seq <= self.last:
                continue
            if event.seq != self.last + 1:
                self.done = True  # a gap: the stream no longer holds what comes next
                break
            taken.append(event)
            self.last = event.seq
            if event.is_terminal:
                self.done = True
                break
        return taken
