from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateLimit:
    limit: int
    window_s: int


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_s: int = 0


class RateLimiter(Protocol):
    """Counts hits per key in a sliding window.

    ``hit`` records one attempt and says whether it is within ``rule``; a refused
    attempt is not counted, and ``retry_after_s`` says when the next one would pass.
    """

    async def hit(self, key: str, rule: RateLimit) -> RateDecision: ...
