"""Refusing a client that keeps failing a check of a secret (NFR-SEC-005 hardening): failed
sign-ins, bad webhook signatures.

- Only failures count, per client address, in a sliding window on the ``RateLimiter`` port
  (so with Redis every process shares one count). A success never reaches the limiter.
- The failure that reaches the limit is answered 429 (with ``Retry-After``) instead, and the
  client is refused for a whole window from then: every attempt, *before* its secret is
  checked, so a right guess is refused too. Then the earlier failures have all left the
  window and the client starts afresh. So one process checks at most ``limit`` secrets of a
  client per window.
- That a client is refused is remembered in the process, so ``check`` costs no I/O and a
  refused attempt no limiter call. Another process learns it from the shared count at the
  client's first failure there (which it has checked: one more per process at most).
- The refusal is audited once per client and window (deduplicated on the limiter too, so
  across processes), not per attempt: a flood of guesses cannot flood the audit log.
- A limiter that cannot be reached loses the count, not the answer: the failure is answered
  as it would have been, and a warning is logged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from pantheon_core.actor import Actor
from pantheon_core.errors import RateLimited, Unavailable
from pantheon_core.ports.rate_limiter import RateLimit
from pantheon_core.usecases.audit_log import record_refusal
from pantheon_core.usecases.deps import Deps

logger = logging.getLogger("pantheon.throttle")

MAX_REMEMBERED = 10_000  # refused clients one process remembers; the limiter keeps the rest
UNKNOWN_CLIENT = "unknown"


@dataclass(frozen=True, slots=True)
class Refusal:
    """How one throttle says no: its error ``code``, ``what`` is counted (for the message),
    and the audit ``action`` and ``target`` of its refusal (``None``: the client address)."""

    code: str
    what: str
    action: str
    target: str | None = None


class FailureThrottle:
    """Failures per client in ``rule``'s window, counted under ``name`` on the limiter."""

    def __init__(self, deps: Deps, *, name: str, rule: RateLimit, refusal: Refusal) -> None:
        self._deps = deps
        self._name = name
        self._rule = rule
        self._refusal = refusal
        self._refused_until: dict[str, float] = {}  # client -> timestamp

    def check(self, caller: Actor) -> None:
        """``RateLimited`` if this process knows the caller's client to be refused."""
        client = caller.client or UNKNOWN_CLIENT
        until = self._refused_until.get(client)
        if until is None:
            return
        wait = until - self._now()
        if wait <= 0:
            self._refused_until.pop(client, None)
            return
        raise self._error(math.ceil(wait))

    async def failed(self, caller: Actor) -> None:
        """Count one failure of the caller's client; at the limit, refuse it for a window
        (remembered here), audit that (once per window) and raise ``RateLimited``."""
        client = caller.client or UNKNOWN_CLIENT
        window_s = self._rule.window_s
        # the limiter lets limit - 1 through: the failure that reaches the limit is refused
        before_limit = RateLimit(limit=self._rule.limit - 1, window_s=window_s)
        try:
            decision = await self._deps.limiter.hit(f"{self._name}:{client}", before_limit)
        except Unavailable as exc:
            logger.warning("Not counting one of the %s from %s: %s", self._refusal.what,
                           client, exc.message)
            return
        if decision.allowed:
            return
        self._remember(client, window_s)
        error = self._error(window_s)
        if await self._first_in_window(client):
            await record_refusal(self._deps, caller, self._refusal.action,
                                 self._refusal.target or client,
                                 reason=f"{error.code}: {error.message}")
        raise error

    async def _first_in_window(self, client: str) -> bool:
        once = RateLimit(limit=1, window_s=self._rule.window_s)
        try:
            decision = await self._deps.limiter.hit(f"{self._name}:audited:{client}", once)
        except Unavailable:
            return True  # rather one entry too many than a refusal nobody sees
        return decision.allowed

    def _remember(self, client: str, retry_after_s: int) -> None:
        now = self._now()
        if len(self._refused_until) >= MAX_REMEMBERED:
            self._refused_until = {c: t for c, t in self._refused_until.items() if t > now}
            while len(self._refused_until) >= MAX_REMEMBERED:  # the oldest go first
                del self._refused_until[next(iter(self._refused_until))]
        self._refused_until[client] = now + retry_after_s

    def _error(self, retry_after_s: int) -> RateLimited:
        rule = self._rule
        return RateLimited(
            f"Too many {self._refusal.what} from your address ({rule.limit} within "
            f"{_span(rule.window_s)}); try again in {retry_after_s} s.",
            code=self._refusal.code, retry_after_s=retry_after_s,
            details={"limit": rule.limit, "window_s": rule.window_s})

    def _now(self) -> float:
        return self._deps.clock.now().timestamp()


def _span(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} s"
