"""An in-process sliding-window rate limiter, driven by the injected clock."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

from pantheon_core.ports.clock import Clock
from pantheon_core.ports.rate_limiter import RateDecision, RateLimit

SWEEP_EVERY = 1024  # hits between sweeps that drop keys nobody has hit for a whole window


@dataclass(slots=True)
class _Window:
    window_s: float
    hits: deque[float] = field(default_factory=deque)

    def expire(self, now: float) -> None:
        while self.hits and self.hits[0] <= now - self.window_s:
            self.hits.popleft()


class MemoryRateLimiter:
    """Sliding-window ``RateLimiter`` for one process (the embedded default).

    - A hit at time *t* counts against its key while ``t > now - window``.
    - A hit is allowed when fewer than ``limit`` hits are in the window, and then counted;
      a refused hit is not counted.
    - ``retry_after_s`` is the whole seconds until the oldest counted hit leaves the
      window, at least 1.
    - Memory stays bounded: a key whose hits have all expired is dropped, on its next hit
      or by a periodic sweep.
    - Safe to share between asyncio tasks and threads (one lock, never held across an await).
    """

    def __init__(self, clock: Clock, *, sweep_every: int = SWEEP_EVERY) -> None:
        self._clock = clock
        self._sweep_every = max(1, sweep_every)
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._hits_since_sweep = 0

    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        now = self._clock.now().timestamp()
        with self._lock:
            self._maybe_sweep(now)
            return self._hit(key, rule, now)

    def tracked_keys(self) -> int:
        """How many keys currently hold hits (for tests and diagnostics)."""
        with self._lock:
            return len(self._windows)

    def _hit(self, key: str, rule: RateLimit, now: float) -> RateDecision:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(window_s=rule.window_s)
        window.window_s = rule.window_s
        window.expire(now)
        if rule.limit <= 0:
            self._drop_if_empty(key, window)
            return RateDecision(allowed=False, retry_after_s=max(1, rule.window_s))
        if len(window.hits) >= rule.limit:
            wait = window.hits[0] + rule.window_s - now
            return RateDecision(allowed=False, retry_after_s=max(1, math.ceil(wait)))
        window.hits.append(now)
        return RateDecision(allowed=True)

    def _drop_if_empty(self, key: str, window: _Window) -> None:
        if not window.hits:
            del self._windows[key]

    def _maybe_sweep(self, now: float) -> None:
        self._hits_since_sweep += 1
        if self._hits_since_sweep < self._sweep_every:
            return
        self._hits_since_sweep = 0
        for key, window in list(self._windows.items()):
            window.expire(now)
            self._drop_if_empty(key, window)
