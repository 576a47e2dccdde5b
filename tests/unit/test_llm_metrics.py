"""LLM calls counted by model alias and outcome, through the ChatModel decorator (NFR-OBS-003)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from pantheon_adapters.observability.chat_metrics import MeasuredChatModel
from pantheon_adapters.observability.metrics import Metrics
from pantheon_core.ports.chat_model import (
    CallFinished,
    ChatMessage,
    ChatRequest,
    ProviderError,
)
from tests.fake_chat import FakeChatModel, Reply
from tests.fakes import fake_app
from tests.unit.helpers import room_with_agents, sign_up


def _calls(registry: CollectorRegistry, alias: str, status: str) -> float:
    value = registry.get_sample_value("pantheon_llm_calls_total",
                                      {"model_alias": alias, "status": status})
    return value or 0.0


def _durations(registry: CollectorRegistry, alias: str, status: str) -> float:
    value = registry.get_sample_value("pantheon_llm_call_duration_seconds_count",
                                      {"model_alias": alias, "status": status})
    return value or 0.0


def _request(alias: str = "qwen") -> ChatRequest:
    return ChatRequest(model="qwen/qwen-2.5", messages=(ChatMessage("user", "hi"),),
                       purpose="worker", model_alias=alias)


async def test_a_finished_call_counts_as_ok_with_its_duration() -> None:
    metrics, inner = Metrics(), FakeChatModel()
    chat = MeasuredChatModel(inner, metrics)
    chunks = [chunk async for chunk in chat.stream(_request())]
    assert isinstance(chunks[-1], CallFinished)
    assert _calls(metrics.registry, "qwen", "ok") == 1
    assert _durations(metrics.registry, "qwen", "ok") == 1
    assert chat.provider == "fake" and chat.model_label("m") == "m"


async def test_a_provider_failure_counts_under_its_code() -> None:
    metrics, inner = Metrics(), FakeChatModel()
    inner.queue("*", Reply(text="partial", error=ProviderError(
        "busy", code="rate_limited", retryable=True, status=429)))
    chat = MeasuredChatModel(inner, metrics)
    received: list[object] = []

    async def consume() -> None:
        async for chunk in chat.stream(_request("llama")):
            received.append(chunk)

    with pytest.raises(ProviderError, match="busy"):  # the engine still sees it
        await consume()
    assert received and _calls(metrics.registry, "llama", "rate_limited") == 1
    assert _calls(metrics.registry, "llama", "ok") == 0


async def test_a_call_the_engine_stops_reading_counts_as_cancelled_and_closes_the_provider(
) -> None:
    metrics, inner = Metrics(), FakeChatModel()
    inner.queue("*", Reply(text="many words that keep coming"))
    chat = MeasuredChatModel(inner, metrics)
    stream = chat.stream(_request())
    await anext(stream)
    assert inner.active == 1
    await stream.aclose()  # type: ignore[attr-defined]
    assert inner.active == 0, "the provider's stream must be closed with ours"
    assert _calls(metrics.registry, "qwen", "cancelled") == 1


async def test_calls_of_a_turn_are_labelled_with_their_agents_model_alias() -> None:
    metrics = Metrics()
    app = fake_app(chat=MeasuredChatModel(FakeChatModel(), metrics))
    actor = await sign_up(app, "ada@example.com")
    room = await room_with_agents(app, actor, "Ana", "Bo", mode="roundtable")
    await app.uc.send_to_room(actor, room.id, "Compare the options.")
    await app.settle()
    assert _calls(metrics.registry, "qwen", "ok") == 2
    assert _calls(metrics.registry, "unknown", "ok") == 0
