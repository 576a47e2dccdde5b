"""In-process slot leases (the embedded default): one process counts its own running turns."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pantheon_core.ports.clock import Clock
from pantheon_core.ports.slot_leases import SlotGrant, SlotPool


class MemorySlotLeases:
    """``SlotLeases`` in a dict of pools, each ``holder -> expires_at``, driven by the clock.

    Expired leases are dropped whenever their pool is touched, and an empty pool is
    forgotten, so memory stays bounded by the live leases. Safe to share between asyncio
    tasks and threads (one lock, never held across an await).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._pools: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    async def acquire(self, holder: str, pools: Sequence[SlotPool], *,
                      ttl_s: float) -> SlotGrant:
        now = self._now()
        with self._lock:
            for pool in pools:
                leases = self._live(pool.key, now)
                if holder not in leases and len(leases) >= pool.limit:
                    self._forget_if_empty(pool.key)
                    return SlotGrant(granted=False, full=pool, in_use=len(leases))
            for pool in pools:
                self._pools.setdefault(pool.key, {})[holder] = now + ttl_s
        return SlotGrant(granted=True)

    async def renew(self, holder: str, keys: Sequence[str], *, ttl_s: float) -> None:
        now = self._now()
        with self._lock:
            for key in keys:
                self._live(key, now)
                self._pools.setdefault(key, {})[holder] = now + ttl_s

    async def release(self, holder: str, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._pools.get(key, {}).pop(holder, None)
                self._forget_if_empty(key)

    async def in_use(self, key: str) -> int:
        now = self._now()
        with self._lock:
            count = len(self._live(key, now))
            self._forget_if_empty(key)
            return count

    def tracked_pools(self) -> int:
        """How many pools hold leases (for tests and diagnostics)."""
        with self._lock:
            return len(self._pools)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _live(self, key: str, now: float) -> dict[str, float]:
        leases = self._pools.get(key, {})
        for holder in [h for h, expires in leases.items() if expires <= now]:
            del leases[holder]
        return leases

    def _forget_if_empty(self, key: str) -> None:
        if not self._pools.get(key, True):
            del self._pools[key]
