"""The engine on the real OpenRouter adapter, against a fake OpenRouter on 127.0.0.1.

Provider faults end every turn with metadata (completed, partial or failed), never a
hang, and every attempt — retried or not — is one usage row (AT-008).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from decimal import Decimal

import pytest

from pantheon_adapters.llm.openai_compatible import OpenAICompatibleChatModel
from pantheon_core.actor import Actor
from tests.fake_tools import FakeWebSearch
from tests.fakes import FAST_ENGINE, FakeApp, fake_app
from tests.integration.fake_openrouter import (
    FakeOpenRouter,
    dropped_reply,
    http_error_reply,
    hung_reply,
    mid_stream_error_reply,
    serving,
    text_reply,
    tool_calls_reply,
)
from tests.unit.engine_helpers import room_of, run_turn


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenRouter]:
    with serving(FakeOpenRouter()) as fake:
        yield fake


@pytest.fixture
async def app(provider: FakeOpenRouter) -> AsyncIterator[FakeApp]:
    provider.reset()
    chat = OpenAICompatibleChatModel(provider.base_url, api_key="sk-test", openrouter=True,
                                     app_title="Pantheon", app_url="http://127.0.0.1:8000",
                                     read_s=0.3, connect_s=1.0)
    yield fake_app(chat=chat, engine=replace(FAST_ENGINE, first_token_timeout_s=1.0))
    await chat.aclose()


async def test_at_008_a_429_then_success_is_two_rows_and_one_answer(
        app: FakeApp, provider: FakeOpenRouter) -> None:
    actor, room = await room_of(app, "Scout")
    provider.script(http_error_reply(429, "slow down", retry_after="0"),
                    text_reply(["Hello", " world"], prompt_tokens=12_000, completion_tokens=800,
                               cached_tokens=2_000, cost=0.0021, keepalives=2))
    view = await run_turn(app, actor, room.id, "Hi")
    rows = list(app.store.calls)
    assert [(r.status.value, r.error_code) for r in rows] == [("error", "rate_limited"),
                                                             ("ok", None)]
    ok = rows[1]
    assert (ok.prompt_tokens, ok.cached_tokens, ok.completion_tokens) == (12_000, 2_000, 800)
    assert ok.provider == "openrouter" and ok.provider_cost_usd == Decimal("0.0021")
    assert ok.credits_burned == Decimal("0.27")  # OE 4 500 -> 0.45 credits x qwen's 0.6
    assert view.turn.status.value == "completed"
    assert view.timeline.to_dict()["steps"][0]["content"] == "Hello world"
    sent = provider.requests[-1]
    assert sent.headers["x-title"] == "Pantheon"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body["model"] == "qwen/qwen3-235b-a22b-2507" and sent.body["stream"] is True


@pytest.mark.parametrize(("reply", "code"), [
    (http_error_reply(402, "no credits"), "insufficient_provider_credits"),
    (mid_stream_error_reply(["par", "tial"]), "provider_stream_error"),
    (dropped_reply(["cut", " off"]), "provider_disconnected"),
])
async def test_faults_after_or_without_retry_fail_the_step_with_its_reason(
        app: FakeApp, provider: FakeOpenRouter, reply: object, code: str) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    provider.script(reply, text_reply(["fine"]))  # the second agent still answers
    view = await run_turn(app, actor, room.id, "Hi")
    steps = view.timeline.to_dict()["steps"]
    assert [s["status"] for s in steps] == ["failed", "ok"]
    assert steps[0]["error"]["code"] == code
    assert view.turn.status.value == "partial"
    assert len(app.store.calls) == 2


async def test_a_hung_provider_ends_the_turn_failed_after_bounded_retries(
        app: FakeApp, provider: FakeOpenRouter) -> None:
    actor, room = await room_of(app, "Scout")
    provider.script(hung_reply(5), hung_reply(5), hung_reply(5))
    view = await run_turn(app, actor, room.id, "Hi")
    assert view.turn.status.value == "failed"
    assert view.turn.error_code == "provider_timeout"
    assert [r.error_code for r in app.store.calls] == ["provider_timeout"] * 3


async def test_tool_rounds_on_the_wire(provider: FakeOpenRouter) -> None:
    """The permitted tool is offered in OpenAI's format, a call streamed in fragments runs,
    and its result goes back as a ``tool`` message tied to the call id; a call to a tool
    the agent lacks is refused without running."""
    search = FakeWebSearch()
    chat = OpenAICompatibleChatModel(provider.base_url, api_key="sk-test", openrouter=True,
                                     read_s=1.0, connect_s=1.0)
    app = fake_app(chat=chat, search=search, engine=replace(FAST_ENGINE,
                                                            first_token_timeout_s=1.0))
    try:
        provider.reset()
        actor = await app.uc.act_as(Actor.operator(), "ana@example.com")
        room = await app.uc.create_room(actor, name="Lab", mode="roundtable")
        await app.uc.add_agent(actor, room.id, name="Scout", model_alias="qwen",
                               web_search=True)
        provider.script(
            tool_calls_reply([("call_a", "web_search", '{"query": "pantheon news"}'),
                              ("call_b", "read_file", '{"file_id": "x"}')]),
            text_reply(["Found", " it."]))
        view = await run_turn(app, actor, room.id, "What is new?")
    finally:
        await chat.aclose()
    first, second = provider.requests[-2].body, provider.requests[-1].body
    assert [t["function"]["name"] for t in first["tools"]] == ["web_search"]
    assert first["tools"][0]["type"] == "function"
    assistant = second["messages"][-3]
    assert assistant["role"] == "assistant"
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_a", "call_b"]
    results = second["messages"][-2:]
    assert [(m["role"], m["tool_call_id"]) for m in results] == [("tool", "call_a"),
                                                                ("tool", "call_b")]
    assert "https://example.com/1" in results[0]["content"]
    assert results[1]["content"].startswith("Refused:")
    assert search.queries == ["pantheon news"]
    step = view.timeline.to_dict()["steps"][0]
    assert step["content"] == "Found it."
    assert [(c["tool"], c["status"]) for c in step["tool_calls"]] == [
        ("web_search", "allowed"), ("read_file", "denied")]
    assert len(app.store.calls) == 2  # one usage row per LLM call, tool rounds included
