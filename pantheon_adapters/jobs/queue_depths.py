"""How many jobs wait in each queue, for ``pantheon_queue_depth{queue, state}`` (NFR-OBS-003).

States: ``ready`` (waiting for a worker), ``delayed`` (waiting out a retry's backoff) and
``dead`` (out of retries). Read at scrape time, off the event loop:

- Redis (Dramatiq's layout): ``<namespace>:<queue>`` and ``<namespace>:<queue>.DQ`` are
  lists of message ids, ``<namespace>:<queue>.XQ`` a sorted set; one pipelined round trip,
  on a client of its own whose short timeouts keep a hung Redis from stalling a scrape;
- in memory (``StubBroker``): the sizes of its queues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import redis
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from pantheon_adapters.observability.metrics import QueueDepths

__all__ = ["QueueDepths", "RedisQueueDepths", "StubQueueDepths"]

SCRAPE_TIMEOUT_S: Final = 2.0


class RedisQueueDepths:
    """Queue depths of a Redis broker."""

    def __init__(self, url: str, namespace: str, queues: Sequence[str]) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=SCRAPE_TIMEOUT_S,
                                            socket_timeout=SCRAPE_TIMEOUT_S)
        self._namespace = namespace
        self._queues = tuple(queues)

    def __call__(self) -> Mapping[tuple[str, str], int]:
        pipe = self._client.pipeline(transaction=False)
        for queue in self._queues:
            key = f"{self._namespace}:{queue}"
            pipe.llen(key)
            pipe.llen(f"{key}.DQ")
            pipe.zcard(f"{key}.XQ")
        counts = iter(pipe.execute())
        return {(queue, state): int(next(counts))
                for queue in self._queues for state in ("ready", "delayed", "dead")}

    def close(self) -> None:
        self._client.close()


class StubQueueDepths:
    """Queue depths of the in-memory broker of the embedded default."""

    def __init__(self, broker: StubBroker, queues: Sequence[str]) -> None:
        self._broker = broker
        self._queues = tuple(queues)

    def __call__(self) -> Mapping[tuple[str, str], int]:
        depths: dict[tuple[str, str], int] = {}
        for queue in self._queues:
            ready, delayed = self._broker.queues.get(queue), self._broker.queues.get(
                dq_name(queue))
            depths[(queue, "ready")] = ready.qsize() if ready is not None else 0
            depths[(queue, "delayed")] = delayed.qsize() if delayed is not None else 0
            depths[(queue, "dead")] = sum(
                len(self._broker.dead_letters_by_queue.get(name, ()))
                for name in (queue, dq_name(queue)))
        return depths
