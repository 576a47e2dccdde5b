"""The three room modes and direct chat, run by the engine on fakes (AT-003..005)."""

from __future__ import annotations

import json

import pytest

from pantheon_core.domain.events import EventType
from pantheon_core.engine.prompts import NO_CHATTER_RULE
from pantheon_core.errors import InvalidInput
from pantheon_core.ports.chat_model import ProviderError
from tests.fake_chat import Reply
from tests.fakes import FakeApp
from tests.unit.engine_helpers import all_events, kinds, room_of, run_turn


async def test_at_003_manual_mode_rejects_untagged_send_and_bills_nothing(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic", mode="manual")
    with pytest.raises(InvalidInput) as err:
        await app.uc.send_to_room(actor, room.id, "what do you all think?")
    assert err.value.code == "no_valid_tags"
    assert err.value.details["valid_handles"] == ["@Scout", "@Critic"]
    await app.settle()
    assert app.store.turns == {} and app.chat.requests == []
    assert app.store.calls == []


async def test_manual_runs_only_the_tagged_agents_in_tag_order(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic", "Writer", mode="manual")
    view = await run_turn(app, actor, room.id, "@writer draft it, @scout check it")
    assert [s["agent_name"] for s in view.timeline.to_dict()["steps"]] == ["Writer", "Scout"]
    assert view.turn.status.value == "completed"


async def test_at_004_roundtable_streams_each_agent_step_independently(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    app.chat.queue("worker", Reply("one two three four", chunk_delay_s=0.02),
                   Reply("five six seven eight", chunk_delay_s=0.02))
    turn = await app.uc.send_to_room(actor, room.id, "Compare")
    stream = await app.uc.stream_turn_events(actor, turn.id)
    seen: list[tuple[str, str | None, int]] = []
    async for event in stream:
        seen.append((event.type.value, event.step_id, app.chat.active))
    steps = [s for t, s, _ in seen if t == "step_started"]
    first_done = [i for i, (t, s, _) in enumerate(seen) if t == "step_completed" and s == steps[0]]
    second_start = [i for i, (t, s, _) in enumerate(seen)
                    if t == "step_started" and s == steps[1]]
    assert first_done[0] < second_start[0]
    # agent 2's deltas arrive while its model call is still open (streamed, not buffered)
    assert any(t == "step_delta" and s == steps[1] and active == 1 for t, s, active in seen)
    assert seen[-1][0] == "turn_completed"


async def test_roundtable_agents_see_earlier_answers_and_the_rules(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic")
    app.chat.queue("worker", Reply("Scout says hi"), Reply("Critic replies"))
    await run_turn(app, actor, room.id, "Plan a trip")
    first, second = app.chat.requests
    assert "Scout says hi" not in " ".join(m.content for m in first.messages)
    assert "### Scout\nScout says hi" in " ".join(m.content for m in second.messages)
    for request in (first, second):
        system = request.messages[0].content
        assert NO_CHATTER_RULE in system
        assert "Agents in this room, in order:" in system and "- Scout" in system


async def test_a_failed_roundtable_step_does_not_stop_the_others(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic", "Writer")
    app.chat.queue("worker", Reply("ok"),
                   Reply(error=ProviderError("nope", code="provider_rejected", retryable=False)),
                   Reply("fine"))
    view = await run_turn(app, actor, room.id, "Go")
    steps = view.timeline.to_dict()["steps"]
    assert [s["status"] for s in steps] == ["ok", "failed", "ok"]
    assert steps[1]["error"] == {"code": "provider_rejected", "message": "nope"}
    assert view.turn.status.value == "partial"
    assert view.timeline.outcome["failed_steps"] == [steps[1]["step_id"]]


async def test_when_every_step_fails_the_turn_fails_with_reasons(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    app.chat.queue("worker", Reply(error=ProviderError("402", code="insufficient_provider_credits",
                                                       retryable=False)))
    view = await run_turn(app, actor, room.id, "Go")
    assert view.turn.status.value == "failed"
    assert view.turn.error_code == "insufficient_provider_credits"
    events = await all_events(app, actor, view.turn.id)
    assert events[-1].type is EventType.TURN_FAILED
    assert events[-1].data["error"]["code"] == "insufficient_provider_credits"


async def test_at_005_orchestrator_runs_plan_workers_in_plan_order_then_synthesis(
        app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic", "Writer", mode="orchestrator")
    ids = {a.name: a.id for a in await app.uc.list_agents(actor, room.id)}
    plan = json.dumps({"steps": [{"agent_id": ids["Writer"], "instruction": "write"},
                                 {"agent_id": ids["Scout"], "instruction": "check"}],
                       "synthesis_brief": "short"})
    app.chat.queue("plan", Reply(plan))
    view = await run_turn(app, actor, room.id, "Draft a memo")
    steps = view.timeline.to_dict()["steps"]
    assert [(s["kind"], s["agent_name"]) for s in steps] == [
        ("plan", "Manager"), ("worker", "Writer"), ("worker", "Scout"), ("synthesis", "Manager")]
    assert steps[1]["instruction"] == "write"
    assert steps[0]["data"]["plan_fallback"] is None
    assert app.chat.purposes() == ["plan", "worker", "worker", "synthesis"]
    assert app.chat.requests[0].json_output is True
    assert view.turn.status.value == "completed"


async def test_at_005_an_invalid_plan_is_repaired_once(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout", "Critic", mode="orchestrator")
    app.chat.queue("plan", Reply('{"steps": [{"agent_id": "nobody", "instruction": "x"}]}'))
    view = await run_turn(app, actor, room.id, "Go")
    repair = app.chat.requests[1]
    assert repair.purpose == "plan"
    assert "'nobody' is not in the roster" in repair.messages[-1].content
    plan_step = view.timeline.to_dict()["steps"][0]
    assert plan_step["data"]["plan_fallback"] is None
    assert [s["kind"] for s in view.timeline.to_dict()["steps"]] == [
        "plan", "worker", "worker", "synthesis"]


@pytest.mark.parametrize("second", [Reply("not json"), Reply('{"steps": []}'),
                                    Reply(error=ProviderError("down", code="provider_unavailable",
                                                              retryable=False))])
async def test_at_005_a_plan_still_invalid_falls_back_visibly(app: FakeApp, second: Reply) -> None:
    actor, room = await room_of(app, "Scout", "Critic", mode="orchestrator")
    await app.uc.reorder_agents(actor, room.id, ["Critic", "Scout"])
    app.chat.queue("plan", Reply("```json\n{\"steps\": 3}\n```"), second)
    view = await run_turn(app, actor, room.id, "Go")
    steps = view.timeline.to_dict()["steps"]
    fallback = steps[0]["data"]["plan_fallback"]
    assert fallback is not None and fallback["reason"]
    assert steps[0]["content"].startswith("Plan fallback")
    assert [(s["kind"], s["agent_name"]) for s in steps[1:]] == [
        ("worker", "Critic"), ("worker", "Scout"), ("synthesis", "Manager")]
    assert view.turn.status.value in {"completed", "partial"}


async def test_direct_chat_has_its_own_memory(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    await run_turn(app, actor, room.id, "Room secret: blue")
    session = await app.uc.create_direct_session(actor, room_id=room.id, agent_ref="scout")
    app.chat.queue("direct", Reply("Hello there"))
    first = await app.uc.send_direct(actor, session.id, "Hi")
    await app.settle()
    app.clock.advance(seconds=1)
    await app.uc.send_direct(actor, session.id, "Again")
    await app.settle()
    view = await app.uc.get_turn(actor, first.id)
    assert [s["kind"] for s in view.timeline.to_dict()["steps"]] == ["direct"]
    last = app.chat.requests[-1]
    text = " ".join(m.content for m in last.messages)
    assert "Hello there" in text and "Hi" in text
    assert "blue" not in text
    assert NO_CHATTER_RULE in last.messages[0].content


async def test_fresh_direct_agent_definitions_are_validated(app: FakeApp) -> None:
    actor, _ = await room_of(app)
    with pytest.raises(InvalidInput) as err:
        await app.uc.create_direct_session(actor, name="Bot", model_alias="gpt9")
    assert err.value.code == "unknown_model_alias"
    session = await app.uc.create_direct_session(actor, name="Bot", model_alias="llama")
    assert session.agent.name == "Bot" and session.title == "Chat with Bot"
    assert [s.id for s in await app.uc.list_direct_sessions(actor)] == [session.id]


async def test_kinds_of_the_event_stream(app: FakeApp) -> None:
    actor, room = await room_of(app, "Scout")
    view = await run_turn(app, actor, room.id, "Go")
    events = await all_events(app, actor, view.turn.id)
    assert kinds(events)[:2] == ["turn_started", "step_started"]
    assert kinds(events)[-2:] == ["step_completed", "turn_completed"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
