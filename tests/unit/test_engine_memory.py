"""Conversation memory, the manager model setting, and the prompt contracts."""

from __future__ import annotations

import pytest

from pantheon_core.actor import Actor
from pantheon_core.errors import Forbidden
from pantheon_core.usecases.deps import EnginePolicy
from tests.fake_chat import Reply
from tests.fakes import FAST_ENGINE, FakeApp, fake_app
from tests.unit.engine_helpers import room_of, run_turn
from tests.unit.helpers import sign_up


async def test_later_turns_remember_earlier_ones_in_the_same_session(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    app.chat.queue("worker", Reply("The capital is Paris."))
    await run_turn(app, actor, room.id, "Capital of France?")
    await run_turn(app, actor, room.id, "And its population?")
    text = " ".join(m.content for m in app.chat.requests[-1].messages)
    assert "Capital of France?" in text and "The capital is Paris." in text


async def test_a_new_session_starts_with_fresh_memory(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    await run_turn(app, actor, room.id, "Remember the word zebra")
    app.clock.advance(seconds=1)
    session = await app.uc.start_room_session(actor, room.id, title="Fresh")
    await run_turn(app, actor, room.id, "What word?")
    text = " ".join(m.content for m in app.chat.requests[-1].messages)
    assert "zebra" not in text
    sessions = await app.uc.list_room_sessions(actor, room.id)
    assert (sessions[0].title, sessions[0].id) == ("Fresh", session.id)
    page = await app.uc.list_timeline(actor, room_id=room.id)
    assert [e.turn.message for e in page.entries] == ["What word?"]


async def test_old_turns_fold_into_a_stored_summary_metered_like_any_call() -> None:
    from dataclasses import replace

    app = fake_app(engine=replace(FAST_ENGINE, memory_budget_tokens=120))
    actor, room = await room_of(app, "Scout")
    for i in range(4):
        app.chat.queue("worker", Reply(f"answer {i} " + "words " * 60))
        await run_turn(app, actor, room.id, f"question {i}")
    assert "summary" in app.chat.purposes()
    session = next(iter(app.store.room_sessions.values()))
    assert session.memory.summary and session.memory.summary_through is not None
    summary_rows = [c for c in app.store.calls if c.purpose == "summary"]
    assert summary_rows and all(r.step_id for r in summary_rows)
    last = app.chat.requests[-1]
    assert any(m.content.startswith("Summary of the earlier conversation:")
               for m in last.messages)


async def test_the_manager_model_is_deepseek_unless_an_owner_changes_it(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", mode="orchestrator")
    pricing = app.store.pricing
    await run_turn(app, actor, room.id, "Go")
    assert app.chat.requests[0].model == pricing.price_of("deepseek").provider_model_id  # type: ignore[arg-type]
    await app.uc.set_role(Actor.operator(), "boss@example.com", "owner", granted=True)
    boss = await sign_up(app, "boss@example.com")
    with pytest.raises(Forbidden):
        await app.uc.set_manager_model(actor, "qwen")
    assert (await app.uc.set_manager_model(boss, "premium")).value == "premium"
    await run_turn(app, actor, room.id, "Again")
    plan_requests = [r for r in app.chat.requests if r.purpose == "plan"]
    assert plan_requests[-1].model == pricing.price_of("premium").provider_model_id  # type: ignore[arg-type]


def test_engine_policy_defaults_are_sane() -> None:
    policy = EnginePolicy()
    assert policy.first_token_timeout_s < policy.call_timeout_s
    assert policy.max_attempts >= 2
