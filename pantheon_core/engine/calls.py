"""One LLM call as the engine makes it: attempts, deadlines, retries and metering.

- Each attempt is one ``ChatModel.stream`` call and one :class:`LlmCall` record,
  whatever its outcome (AT-008).
- Retries happen only for retryable failures and only before any text has streamed
  (a half-streamed answer is never silently restarted); backoff is exponential with
  full jitter, and a provider's ``Retry-After`` is honoured (capped).
- Deadlines: the first chunk within ``first_token_timeout_s``, the whole attempt within
  ``call_timeout_s``. Missing either is a retryable timeout.
- Credits are computed per attempt from the usage reported, with the pricing version.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import anyio

from pantheon_core.domain.pricing import ModelPrice, PricingVersion
from pantheon_core.domain.usage import CallStatus, LlmCall
from pantheon_core.engine.charging import CreditMeter
from pantheon_core.engine.context import estimate_tokens
from pantheon_core.ids import (
    AgentId,
    CallId,
    DirectSessionId,
    RoomId,
    StepId,
    TurnId,
    UserId,
    new_id,
)
from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatChunk,
    ChatModel,
    ChatRequest,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolCallsReady,
    Usage,
)
from pantheon_core.ports.clock import Clock
from pantheon_core.usecases.deps import EnginePolicy

OnDelta = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CallScope:
    """Who and what a call is for: copied onto every usage record."""

    user_id: UserId
    turn_id: TurnId
    step_id: StepId
    agent_id: AgentId | None
    room_id: RoomId | None
    direct_session_id: DirectSessionId | None


@dataclass
class CallResult:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    error: ProviderError | None = None
    model: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


class ModelCaller:
    def __init__(self, chat: ChatModel, clock: Clock, policy: EnginePolicy,
                 meter: CreditMeter | None = None) -> None:
        self.chat = chat
        self.clock = clock
        self.policy = policy
        self.meter = meter  # None: nothing is charged (and no usage row is written)

    async def call(self, request: ChatRequest, *, scope: CallScope, price: ModelPrice,
                   pricing: PricingVersion, sink: list[LlmCall],
                   on_delta: OnDelta | None = None) -> CallResult:
        """Make the call, retrying as the policy allows; every attempt's usage record is
        appended to ``sink`` (and, with a meter, stored and charged as the attempt ends).
        Never raises ProviderError; cancellation propagates after the attempt in flight is
        recorded; ``insufficient_credits`` propagates when the wallet cannot hold the next
        attempt's upper bound (no attempt, no row)."""
        result = CallResult(model=request.model)
        for attempt in range(1, self.policy.max_attempts + 1):
            streamed = await self._attempt(request, attempt, scope, price, pricing, on_delta,
                                           result, sink)
            error = result.error
            if error is None or streamed or not error.retryable \
                    or attempt == self.policy.max_attempts:
                return result
            await anyio.sleep(self._backoff(attempt, error.retry_after_s))
            result.error = None
        return result

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.policy.retry_after_cap_s)
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # full jitter

    async def _attempt(self, request: ChatRequest, attempt: int, scope: CallScope,
                       price: ModelPrice, pricing: PricingVersion, on_delta: OnDelta | None,
                       result: CallResult, sink: list[LlmCall]) -> bool:
        """One attempt; returns whether any text streamed. Fills ``result``."""
        request_id = new_id()
        attempt_request = replace(request, request_id=request_id)
        hold = None
        if self.meter is not None:
            hold = await self.meter.hold_for_call(attempt_request, price, pricing)
        started = time.monotonic()
        parts: list[str] = []
        finished: CallFinished | None = None
        status = CallStatus.ERROR
        try:
            finished = await self._consume(attempt_request, parts, result, on_delta)
            status = CallStatus.OK
        except ProviderError as exc:
            result.error = exc
        except TimeoutError:
            result.error = ProviderError(
                "The model did not answer in time." if not parts else
                "The model stopped streaming before finishing.",
                code="provider_timeout", retryable=True)
        except anyio.get_cancelled_exc_class():
            status = CallStatus.CANCELLED
            raise
        finally:
            result.text += "".join(parts)
            error = result.error if status is CallStatus.ERROR else None
            source = finished or error  # whoever reported usage for this attempt
            model = (finished.model if finished else None) or request.model
            if finished is not None:
                result.model = model
            usage = source.usage if source else Usage()
            if _unreported(usage) and (status is CallStatus.OK or parts):
                usage = estimated_usage(request, "".join(parts), result.tool_calls)
            record = self._record(
                request=request, request_id=request_id, attempt=attempt, scope=scope,
                price=price, pricing=pricing, usage=usage,
                status=status, latency_ms=int((time.monotonic() - started) * 1000),
                model=model, generation_id=source.generation_id if source else None,
                error_code=error.code if error else (
                    "cancelled" if status is CallStatus.CANCELLED else None),
            )
            sink.append(record)
            if self.meter is not None:
                with anyio.CancelScope(shield=True):
                    await self.meter.settle_call(hold, record)
        return bool(parts)

    async def _consume(self, request: ChatRequest, parts: list[str], result: CallResult,
                       on_delta: OnDelta | None) -> CallFinished:
        stream = self.chat.stream(request)
        try:
            with anyio.fail_after(self.policy.call_timeout_s):
                with anyio.fail_after(self.policy.first_token_timeout_s):
                    chunk = await anext(stream, None)
                while chunk is not None:
                    if isinstance(chunk, TextDelta) and chunk.text:
                        parts.append(chunk.text)
                        if on_delta is not None:
                            await on_delta(chunk.text)
                    elif isinstance(chunk, ToolCallsReady):
                        result.tool_calls = chunk.calls
                    elif isinstance(chunk, CallFinished):
                        return chunk
                    chunk = await anext(stream, None)
        finally:
            await _close(stream)
        raise ProviderError("The provider ended the stream without reporting usage.",
                            code="provider_disconnected", retryable=True)

    def _record(self, *, request: ChatRequest, request_id: str, attempt: int, scope: CallScope,
                price: ModelPrice, pricing: PricingVersion, usage: Usage, status: CallStatus,
                latency_ms: int, model: str, generation_id: str | None,
                error_code: str | None) -> LlmCall:
        cached = usage.cached_tokens or 0
        credits = pricing.credits(prompt_tokens=usage.prompt_tokens,
                                  completion_tokens=usage.completion_tokens,
                                  cached_tokens=usage.cached_tokens,
                                  model_multiplier=price.credit_multiplier)
        cost = usage.cost_usd if usage.cost_usd is not None else pricing.provider_cost(
            price.alias, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, cached_tokens=usage.cached_tokens)
        return LlmCall(
            id=CallId(new_id()), user_id=scope.user_id, room_id=scope.room_id,
            direct_session_id=scope.direct_session_id, turn_id=scope.turn_id,
            step_id=scope.step_id, agent_id=scope.agent_id, provider=self.chat.provider,
            model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, cached_tokens=cached,
            total_tokens=usage.prompt_tokens + usage.completion_tokens,
            provider_cost_usd=Decimal(cost), credits_burned=credits, latency_ms=latency_ms,
            status=status, pricing_version=pricing.version, request_id=request_id,
            created_at=self.clock.now(), purpose=request.purpose, attempt=attempt,
            model_alias=price.alias.value, cached_tokens_reported=usage.cached_tokens is not None,
            generation_id=generation_id, error_code=error_code,
        )


def _unreported(usage: Usage) -> bool:
    return usage.prompt_tokens == 0 and usage.completion_tokens == 0


def estimated_usage(request: ChatRequest, text: str, tool_calls: Sequence[ToolCall]) -> Usage:
    """Tokens worked out from characters (as the context budget does) for an attempt the
    provider answered without reporting usage: the model did read the prompt and did write
    the text, so the attempt is charged for them rather than free. No cost is claimed
    (``cost_usd`` None: the pricing table's)."""
    prompt = sum(estimate_tokens(m.content) for m in request.messages)
    written = estimate_tokens(text) + sum(estimate_tokens(c.name + c.arguments)
                                          for c in tool_calls)
    return Usage(prompt_tokens=prompt, completion_tokens=written)


async def _close(stream: AsyncIterator[ChatChunk]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        with anyio.CancelScope(shield=True):
            await close()
