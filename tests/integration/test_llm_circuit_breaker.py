"""The LLM circuit breaker: its state machine, and the engine on the real OpenRouter adapter
behind it, against a fake OpenRouter answering 500s or hanging.

A provider outage ends turns with ``turn_failed`` and its reason at once once the circuit is
open: no request reaches the provider, and each attempt is still exactly one usage row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from pantheon_adapters.llm.circuit_breaker import (
    BreakerChatModel,
    BreakerState,
    CircuitBreaker,
)
from pantheon_adapters.llm.openai_compatible import OpenAICompatibleChatModel
from pantheon_core.domain.events import EventType
from pantheon_core.ports.chat_model import ChatMessage, ChatRequest, ProviderError, TextDelta
from pantheon_core.usecases.catalog import UseCases
from tests.fake_chat import FakeChatModel, Reply
from tests.fakes import FAST_ENGINE, FakeApp, FakeClock, fake_app
from tests.integration.fake_openrouter import (
    FakeOpenRouter,
    http_error_reply,
    hung_reply,
    serving,
    text_reply,
)
from tests.unit.engine_helpers import all_events, room_of, run_turn

FAILURES = 3
COOLDOWN_S = 30.0
FIRST_TOKEN_S = 0.3
ENGINE = replace(FAST_ENGINE, max_attempts=3, first_token_timeout_s=FIRST_TOKEN_S + 2.0)


# --- the state machine --------------------------------------------------------------------


def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("openrouter", clock, failures=FAILURES, cooldown_s=COOLDOWN_S)


def test_failures_in_a_row_open_it_and_a_success_resets_the_count() -> None:
    b = breaker(FakeClock())
    for _ in range(FAILURES - 1):
        assert b.admit() is False
        b.failed()
    b.succeeded()
    for _ in range(FAILURES - 1):
        b.failed()
    states = [b.state]
    b.failed()
    states.append(b.state)
    assert states == [BreakerState.CLOSED, BreakerState.OPEN]


def test_open_it_fails_fast_saying_when_it_will_try_again() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(FAILURES):
        b.failed()
    clock.advance(seconds=10)
    with pytest.raises(ProviderError) as fast:
        b.admit()
    assert (fast.value.code, fast.value.retryable) == ("provider_unavailable", False)
    assert fast.value.retry_after_s == pytest.approx(20.0)
    assert "circuit open" in fast.value.message and "20 s" in fast.value.message


def test_after_the_cooldown_one_probe_goes_through_and_decides() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(FAILURES):
        b.failed()
    clock.advance(seconds=COOLDOWN_S)
    assert b.admit() is True  # the probe
    with pytest.raises(ProviderError):
        b.admit()  # others wait for the probe
    b.failed()  # the probe failed: open for a new cool-down
    assert b.state is BreakerState.OPEN
    clock.advance(seconds=COOLDOWN_S - 1)
    with pytest.raises(ProviderError):
        b.admit()
    clock.advance(seconds=1)
    assert b.admit() is True
    b.succeeded()
    assert (b.state, b.failed_in_a_row) == (BreakerState.CLOSED, 0)
    assert b.admit() is False


def test_an_abandoned_probe_lets_the_next_call_probe() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(FAILURES):
        b.failed()
    clock.advance(seconds=COOLDOWN_S)
    assert b.admit() is True
    b.abandoned(probe=True)
    assert b.admit() is True


# --- the wrapper around a chat model --------------------------------------------------------


def request() -> ChatRequest:
    return ChatRequest(model="m", messages=(ChatMessage("user", "hi"),), purpose="worker")


async def drain(chat: BreakerChatModel) -> str:
    return "".join([c.text async for c in chat.stream(request()) if isinstance(c, TextDelta)])


@pytest.mark.parametrize(("error", "counts"), [
    (ProviderError("5xx", code="provider_error", retryable=True), True),
    (ProviderError("cut", code="provider_disconnected", retryable=True), True),
    (ProviderError("slow down", code="rate_limited", retryable=True), False),
    (ProviderError("bad request", code="provider_rejected", retryable=False), False),
], ids=["5xx", "dropped", "429", "4xx"])
async def test_only_the_providers_own_trouble_counts(error: ProviderError, counts: bool) -> None:
    inner = FakeChatModel()
    chat = BreakerChatModel(inner, breaker(FakeClock()))
    inner.queue("worker", Reply(text="part", error=error))
    with pytest.raises(ProviderError):
        await drain(chat)
    assert chat.breaker.failed_in_a_row == (1 if counts else 0)


async def test_nothing_within_the_first_token_deadline_is_a_counted_timeout() -> None:
    inner = FakeChatModel()
    chat = BreakerChatModel(inner, breaker(FakeClock()), first_token_timeout_s=0.05)
    inner.queue("worker", Reply(hang=True))
    with pytest.raises(ProviderError) as timed_out:
        await drain(chat)
    assert (timed_out.value.code, timed_out.value.retryable) == ("provider_timeout", True)
    assert chat.breaker.failed_in_a_row == 1
    assert inner.active == 0  # the hung stream was closed


async def test_a_consumer_that_stops_early_neither_fails_nor_succeeds() -> None:
    inner = FakeChatModel()
    chat = BreakerChatModel(inner, breaker(FakeClock()))
    chat.breaker.failed()
    inner.queue("worker", Reply(text="a b c"))
    stream = chat.stream(request())
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()  # type: ignore[attr-defined]
    assert chat.breaker.failed_in_a_row == 1


# --- turns against a fake OpenRouter ------------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenRouter]:
    with serving(FakeOpenRouter()) as fake:  # nothing scripted: every call answers HTTP 500
        yield fake


@pytest.fixture
async def app(provider: FakeOpenRouter) -> AsyncIterator[FakeApp]:
    provider.reset()
    inner = OpenAICompatibleChatModel(provider.base_url, api_key="sk-test", openrouter=True,
                                      read_s=2.0, connect_s=1.0)
    plain = fake_app(engine=ENGINE)
    chat = BreakerChatModel(inner, breaker(plain.clock), first_token_timeout_s=FIRST_TOKEN_S)
    yield replace(plain, uc=UseCases.build(replace(plain.uc.send_to_room.deps, chat=chat)))
    await inner.aclose()


def breaker_of(app: FakeApp) -> CircuitBreaker:
    chat = app.uc.send_to_room.deps.chat
    assert isinstance(chat, BreakerChatModel)
    return chat.breaker


async def test_a_provider_answering_500s_opens_the_circuit_and_turns_then_fail_fast(
        app: FakeApp, provider: FakeOpenRouter) -> None:
    actor, room = await room_of(app, "Scout", "Critic", "Judge")
    first = await run_turn(app, actor, room.id, "Hi")
    # Scout's three attempts open the circuit; Critic and Judge then fail without a request.
    assert len(provider.requests) == FAILURES
    assert breaker_of(app).state is BreakerState.OPEN
    assert [c.error_code for c in app.store.calls] == (
        ["provider_error"] * FAILURES + ["provider_unavailable"] * 2)
    assert first.turn.status.value == "failed"

    second = await run_turn(app, actor, room.id, "Again")

    assert len(provider.requests) == FAILURES  # nothing more reached the provider
    assert second.turn.status.value == "failed"
    assert second.turn.error_code == "provider_unavailable"
    assert "circuit open" in (second.turn.error_message or "")
    calls = [c for c in app.store.calls if c.turn_id == second.turn.id]
    assert [(c.attempt, c.error_code) for c in calls] == [(1, "provider_unavailable")] * 3
    events = await all_events(app, actor, second.turn.id)
    assert events[-1].type is EventType.TURN_FAILED
    assert events[-1].data["error"]["code"] == "provider_unavailable"
    failed_steps = [e for e in events if e.type is EventType.STEP_COMPLETED]
    assert [e.data["error"]["code"] for e in failed_steps] == ["provider_unavailable"] * 3


async def test_a_hanging_provider_opens_the_circuit_too(app: FakeApp,
                                                        provider: FakeOpenRouter) -> None:
    actor, room = await room_of(app, "Scout")
    provider.script(*(hung_reply(5) for _ in range(FAILURES)))
    first = await run_turn(app, actor, room.id, "Hi")
    assert first.turn.error_code == "provider_timeout"
    assert [c.error_code for c in app.store.calls] == ["provider_timeout"] * FAILURES
    assert breaker_of(app).state is BreakerState.OPEN

    second = await run_turn(app, actor, room.id, "Again")

    assert second.turn.error_code == "provider_unavailable"
    assert len(provider.requests) == FAILURES
    assert len(app.store.calls) == FAILURES + 1  # one row per attempt, the fast one too


async def test_after_the_cooldown_a_successful_probe_closes_it(app: FakeApp,
                                                               provider: FakeOpenRouter) -> None:
    actor, room = await room_of(app, "Scout")
    await run_turn(app, actor, room.id, "Hi")  # three 500s: open
    app.clock.advance(seconds=COOLDOWN_S)
    provider.script(text_reply(["Back", " again"]))

    view = await run_turn(app, actor, room.id, "Still there?")

    assert view.turn.status.value == "completed"
    assert view.timeline.to_dict()["steps"][0]["content"] == "Back again"
    assert breaker_of(app).state is BreakerState.CLOSED


async def test_throttling_429s_do_not_open_it(app: FakeApp, provider: FakeOpenRouter) -> None:
    actor, room = await room_of(app, "Scout")
    provider.script(*(http_error_reply(429, "slow down", retry_after="0")
                      for _ in range(2 * FAILURES)))
    for _ in range(2):
        view = await run_turn(app, actor, room.id, "Hi")
        assert view.turn.error_code == "rate_limited"
    assert breaker_of(app).state is BreakerState.CLOSED
    assert len(provider.requests) == 2 * FAILURES
