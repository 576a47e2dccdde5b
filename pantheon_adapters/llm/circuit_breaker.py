"""A circuit breaker per LLM provider: a provider outage fails turns fast, not slowly.

::

    closed ──(failures in a row reach the threshold)──▶ open
    open ──(cool-down over)──▶ half-open
    half-open ──(the probe call succeeds)──▶ closed
    half-open ──(the probe call fails)──▶ open (a new cool-down)

- closed: calls go through; a failure adds one to the count, a success resets it.
- open: calls fail at once, without touching the network, with
  ``ProviderError(code="provider_unavailable", retryable=False)`` saying when the provider
  will be tried again (``retry_after_s``). The engine records that attempt like any other
  (one usage row) and does not retry it, so a step fails in milliseconds, not minutes.
- half-open: one call goes through as a probe; others fail fast until it has ended. A
  probe abandoned by its caller (a cancelled turn) lets the next call probe.

What counts as a failure: the provider's own trouble — 5xx, timeouts (including nothing
streamed within the first-token deadline), refused connections, dropped streams, overload
errors mid-stream (every retryable :class:`ProviderError` but ``rate_limited``). Not: 429
(the provider is up and throttling; the engine honours its Retry-After), a request the
provider rejected (4xx: it answered), or a call its consumer stopped.

One breaker guards one provider (the process's chat model); each process keeps its own.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum

import anyio

from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    ChatModel,
    ChatRequest,
    ProviderError,
)
from pantheon_core.ports.clock import Clock


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def is_outage(error: ProviderError) -> bool:
    """Whether a failed call says the provider itself is in trouble (see the module doc)."""
    return error.retryable and error.code != "rate_limited"


@dataclass
class CircuitBreaker:
    """The state machine, driven by ``clock``: ``failures`` in a row open it for
    ``cooldown_s`` seconds."""

    provider: str
    clock: Clock
    failures: int = 5
    cooldown_s: float = 30.0
    state: BreakerState = field(default=BreakerState.CLOSED, init=False)
    failed_in_a_row: int = field(default=0, init=False)
    _open_until: float = field(default=0.0, init=False, repr=False)
    _probing: bool = field(default=False, init=False, repr=False)

    def admit(self) -> bool:
        """Let one call through (True when it is the half-open probe), or raise the
        fast failure while the circuit is open."""
        now = self._now()
        if self.state is BreakerState.OPEN and now >= self._open_until:
            self.state, self._probing = BreakerState.HALF_OPEN, False
        if self.state is BreakerState.CLOSED:
            return False
        if self.state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        raise self._fast_failure(now)

    def succeeded(self) -> None:
        self.state, self.failed_in_a_row, self._probing = BreakerState.CLOSED, 0, False

    def failed(self) -> None:
        self.failed_in_a_row += 1
        if self.state is BreakerState.HALF_OPEN or self.failed_in_a_row >= self.failures:
            self.state, self._probing = BreakerState.OPEN, False
            self._open_until = self._now() + self.cooldown_s

    def abandoned(self, *, probe: bool) -> None:
        """A call ended without an outcome (its consumer stopped): a probe may be retried."""
        if probe and self.state is BreakerState.HALF_OPEN:
            self._probing = False

    def _fast_failure(self, now: float) -> ProviderError:
        wait = max(0.0, self._open_until - now)
        return ProviderError(
            f"{self.provider} is unavailable: {self.failed_in_a_row} calls in a row failed, "
            f"so calls to it are paused (circuit open); it will be tried again in "
            f"{math.ceil(wait)} s.",
            code="provider_unavailable", retryable=False, retry_after_s=wait)

    def _now(self) -> float:
        return self.clock.now().timestamp()


class BreakerChatModel:
    """A ``ChatModel`` that guards ``inner`` with a :class:`CircuitBreaker`.

    It also enforces the first-token deadline itself (``first_token_timeout_s``: nothing
    streamed by then is a retryable ``provider_timeout``), so that a provider that hangs is
    counted as failing; the engine's own deadline is the backstop and is set a little longer.
    """

    def __init__(self, inner: ChatModel, breaker: CircuitBreaker, *,
                 first_token_timeout_s: float | None = None) -> None:
        self._inner = inner
        self.breaker = breaker
        self._first_token_timeout_s = first_token_timeout_s

    @property
    def provider(self) -> str:
        return self._inner.provider

    def model_label(self, model: str) -> str:
        return self._inner.model_label(model)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        probe = self.breaker.admit()
        finished: bool | None = None  # True: it worked; False: the provider failed
        chunks = self._inner.stream(request)
        try:
            first = True
            while (chunk := await self._next(chunks, first=first)) is not None:
                first = False
                if isinstance(chunk, CallFinished):
                    finished = True
                yield chunk
            finished = bool(finished)  # an end without usage is the provider's fault
        except ProviderError as exc:
            finished = not is_outage(exc)
            raise
        finally:
            await _close(chunks)
            if finished is None:
                self.breaker.abandoned(probe=probe)
            elif finished:
                self.breaker.succeeded()
            else:
                self.breaker.failed()

    async def _next(self, chunks: AsyncIterator[ChatChunk], *, first: bool) -> ChatChunk | None:
        limit = self._first_token_timeout_s
        if not first or limit is None:
            return await anext(chunks, None)
        try:
            with anyio.fail_after(limit):
                return await anext(chunks, None)
        except TimeoutError:
            raise ProviderError(f"{self.provider} sent nothing within {limit:g} s.",
                                code="provider_timeout", retryable=True) from None


async def _close(chunks: AsyncIterator[ChatChunk]) -> None:
    close = getattr(chunks, "aclose", None)
    if close is not None:
        with anyio.CancelScope(shield=True):
            await close()
