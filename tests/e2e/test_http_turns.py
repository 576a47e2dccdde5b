"""Sending to rooms, turns and timelines over HTTP (AT-001..003, AT-005, AT-008, FR-RT-004)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from pantheon_core.actor import Role
from pantheon_core.domain.turns import TurnStatus
from pantheon_core.ids import TurnId
from pantheon_core.ports.chat_model import ProviderError
from tests.e2e.conftest import (
    Json,
    actor_of,
    assert_error,
    chat_room,
    sse_events,
    until,
)
from tests.fake_chat import Reply
from tests.fakes import FakeApp

SSE = {"Accept": "text/event-stream"}
TURN_FIELDS = {"id", "room_id", "session_id", "direct_session_id", "mode", "status", "message",
               "created_at", "finished_at", "credits", "error", "last_seq", "cancel_requested_at"}
STEP_FIELDS = {"type", "turn_id", "step_id", "index", "kind", "agent_name", "agent_id",
               "model_alias", "model", "provider", "mode", "status", "content", "credits",
               "usage", "error", "instruction", "data", "started_at", "finished_at"}


async def _send(client: httpx.AsyncClient, fake: FakeApp, room: Json, content: str,
                **extra: object) -> Json:
    """Send (202), with the fake clock moved on so turns have distinct times."""
    fake.clock.advance(seconds=1)
    response = await client.post(f"/api/v1/rooms/{room['id']}/messages",
                                 json={"content": content, **extra})
    assert response.status_code == 202, response.text
    body: Json = response.json()
    return body


async def _snapshot(client: httpx.AsyncClient, turn_id: str) -> Json:
    response = await client.get(f"/api/v1/turns/{turn_id}")
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def _room(client: httpx.AsyncClient, room: Json) -> Json:
    body: Json = (await client.get(f"/api/v1/rooms/{room['id']}")).json()
    return body


async def test_a_send_answers_202_with_the_turn_and_its_links(alice: httpx.AsyncClient,
                                                              fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    response = await alice.post(f"/api/v1/rooms/{room['id']}/messages",
                                json={"content": "  Plan the launch  "})
    assert response.status_code == 202
    body = response.json()
    turn = body["turn"]
    assert set(turn) == TURN_FIELDS
    assert (turn["room_id"], turn["mode"], turn["status"]) == (room["id"], "roundtable",
                                                               "running")
    assert turn["message"] == "Plan the launch" and turn["direct_session_id"] is None
    assert body["stream_url"] == f"/api/v1/turns/{turn['id']}/events"
    assert body["snapshot_url"] == response.headers["location"] == f"/api/v1/turns/{turn['id']}"

    await fake.settle()
    snapshot = await _snapshot(alice, turn["id"])
    assert set(snapshot) == {"turn", "timeline"}
    done = snapshot["turn"]
    assert done["status"] == "completed" and done["finished_at"] is not None
    assert done["error"] is None and done["session_id"] == turn["session_id"]
    timeline = snapshot["timeline"]
    assert timeline["turn_id"] == turn["id"] and timeline["status"] == "completed"
    assert timeline["last_seq"] == done["last_seq"] > 0
    assert timeline["mode"] == "roundtable"
    assert [a["name"] for a in timeline["roster"]] == ["Ana", "Ben"]
    steps = timeline["steps"]
    assert [(s["agent_name"], s["kind"], s["model_alias"], s["status"]) for s in steps] == [
        ("Ana", "worker", "qwen", "ok"), ("Ben", "worker", "qwen", "ok")]
    assert all(s["content"] and s["usage"]["calls"] == 1 for s in steps)
    assert Decimal(done["credits"]) == sum(Decimal(s["credits"]) for s in steps) > 0
    assert timeline["outcome"]["status"] == "completed"


async def test_the_snapshot_of_a_running_turn_has_the_content_so_far(
    alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    room = await chat_room(alice, "Ana")
    fake.chat.queue("worker", Reply("one two three four five six", chunk_delay_s=0.03))
    turn = (await _send(alice, fake, room, "Hi"))["turn"]
    await until(lambda: any(e.type.value == "step_delta" for e in fake.store.events.values()))
    running = await _snapshot(alice, turn["id"])
    assert running["turn"]["status"] == running["timeline"]["status"] == "running"
    step = running["timeline"]["steps"][0]
    assert step["status"] == "running"
    assert "one two three four five six".startswith(step["content"]) and step["content"]
    assert running["timeline"]["last_seq"] >= 3

    await fake.settle()
    done = await _snapshot(alice, turn["id"])
    assert done["timeline"]["steps"][0]["content"] == "one two three four five six"


async def test_at_001_mode_switches_apply_at_the_next_send_never_to_a_running_turn(
    alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    switched = await alice.put(f"/api/v1/rooms/{room['id']}/mode", json={"mode": "orchestrator"})
    assert switched.json()["pending_mode"] == "orchestrator"
    fake.chat.queue("worker", Reply("slow answer here", chunk_delay_s=0.03))
    first = (await _send(alice, fake, room, "Plan the launch"))["turn"]
    assert first["mode"] == "orchestrator"
    after_send = await _room(alice, room)
    assert (after_send["current_mode"], after_send["pending_mode"]) == ("orchestrator", None)

    # Switch while the orchestrator turn is still running: the turn keeps its mode.
    assert fake.store.turns[TurnId(first["id"])].status is TurnStatus.RUNNING
    await alice.put(f"/api/v1/rooms/{room['id']}/mode", json={"mode": "manual"})
    assert (await _room(alice, room))["pending_mode"] == "manual"
    await fake.settle()
    snapshot = await _snapshot(alice, first["id"])
    assert snapshot["turn"]["mode"] == snapshot["timeline"]["mode"] == "orchestrator"
    assert [s["kind"] for s in snapshot["timeline"]["steps"]] == [
        "plan", "worker", "worker", "synthesis"]
    assert {s["mode"] for s in snapshot["timeline"]["steps"]} == {"orchestrator"}

    second = (await _send(alice, fake, room, "@ben your view?"))["turn"]
    assert second["mode"] == "manual"
    await fake.settle()
    steps = (await _snapshot(alice, second["id"]))["timeline"]["steps"]
    assert [(s["agent_name"], s["mode"]) for s in steps] == [("Ben", "manual")]
    final = await _room(alice, room)
    assert (final["current_mode"], final["pending_mode"]) == ("manual", None)


async def test_at_002_roster_changes_apply_at_the_next_send(alice: httpx.AsyncClient,
                                                            fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    agents = f"/api/v1/rooms/{room['id']}/agents"
    first = (await _send(alice, fake, room, "Round one"))["turn"]
    await fake.settle()
    await alice.post(agents, json={"name": "Cy", "model_alias": "llama"})
    assert (await alice.delete(f"{agents}/ana")).status_code == 204
    second = (await _send(alice, fake, room, "Round two"))["turn"]
    await fake.settle()

    def roster(events: list[Json]) -> list[str]:
        return [a["name"] for a in events[0]["data"]["roster"]]

    first_events = sse_events((await alice.get(f"/api/v1/turns/{first['id']}/events")).text)
    second_events = sse_events((await alice.get(f"/api/v1/turns/{second['id']}/events")).text)
    assert roster(first_events) == ["Ana", "Ben"]
    assert roster(second_events) == ["Ben", "Cy"]

    timeline = (await alice.get(f"/api/v1/rooms/{room['id']}/timeline")).json()
    speakers = [[m.get("agent_name", "user") for m in e["messages"]] for e in timeline["entries"]]
    assert speakers == [["user", "Ana", "Ben"], ["user", "Ben", "Cy"]]
    cy = timeline["entries"][1]["messages"][2]
    assert (cy["model_alias"], cy["model"]) == ("llama", "meta-llama/llama-3.3-70b-instruct")


@pytest.mark.parametrize("content", ["hello everyone", "@Nobody are you there?", "mail a@ana.io"])
async def test_at_003_manual_mode_rejects_an_untagged_send(alice: httpx.AsyncClient,
                                                           fake: FakeApp, content: str) -> None:
    room = await chat_room(alice, "Ana", "Ben", mode="manual")
    await alice.put(f"/api/v1/rooms/{room['id']}/mode", json={"mode": "manual"})
    before = await _room(alice, room)
    for headers in ({}, SSE):
        response = await alice.post(f"/api/v1/rooms/{room['id']}/messages",
                                    json={"content": content}, headers=headers)
        error = assert_error(response, 422, "no_valid_tags")
        assert error["details"] == {"valid_handles": ["@Ana", "@Ben"]}
        assert "@Ana" in error["message"] and "@Ben" in error["message"]
    timeline = (await alice.get(f"/api/v1/rooms/{room['id']}/timeline")).json()
    assert timeline == {"entries": [], "next_before": None}
    assert fake.store.turns == {} and fake.store.calls == [] and fake.chat.requests == []
    assert await _room(alice, room) == before  # not even the pending mode was consumed


async def test_at_005_orchestrator_plans_runs_workers_then_synthesizes(
    alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    room = await chat_room(alice, "Ana", "Ben", mode="orchestrator")
    response = await alice.post(f"/api/v1/rooms/{room['id']}/messages",
                                json={"content": "Plan the launch"}, headers=SSE)
    events = sse_events(response.text)
    started = [e["data"] for e in events if e["type"] == "step_started"]
    assert [(s["kind"], s["agent_name"]) for s in started] == [
        ("plan", "Manager"), ("worker", "Ana"), ("worker", "Ben"), ("synthesis", "Manager")]
    assert {s["model_alias"] for s in started if s["agent_name"] == "Manager"} == {"deepseek"}
    assert [s["instruction"] for s in started[1:3]] == ["Help as Ana.", "Help as Ben."]
    completed = [e["data"] for e in events if e["type"] == "step_completed"]
    assert [c["status"] for c in completed] == ["ok"] * 4
    plan = completed[0]["data"]
    assert plan["plan_fallback"] is None and len(plan["plan"]["steps"]) == 2
    assert completed[3]["content"].startswith("synthesis answer")
    assert events[-1]["type"] == "turn_completed"
    assert fake.chat.purposes() == ["plan", "worker", "worker", "synthesis"]


async def test_at_005_an_invalid_plan_falls_back_visibly(alice: httpx.AsyncClient,
                                                         fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben", mode="orchestrator")
    fake.chat.queue("plan", Reply("not json at all"), Reply('{"steps": [{"agent_id": "ghost"}]}'))
    response = await alice.post(f"/api/v1/rooms/{room['id']}/messages",
                                json={"content": "Plan the launch"}, headers=SSE)
    events = sse_events(response.text)
    completed = [e["data"] for e in events if e["type"] == "step_completed"]
    fallback = completed[0]["data"]["plan_fallback"]
    assert fallback is not None and fallback["reason"] and fallback["errors"]
    assert completed[0]["content"].startswith("Plan fallback")
    started = [e["data"] for e in events if e["type"] == "step_started"]
    assert [(s["kind"], s["agent_name"]) for s in started] == [
        ("plan", "Manager"), ("worker", "Ana"), ("worker", "Ben"), ("synthesis", "Manager")]
    assert events[-1]["type"] == "turn_completed"
    assert fake.chat.purposes() == ["plan", "plan", "worker", "worker", "synthesis"]

    timeline = (await alice.get(f"/api/v1/rooms/{room['id']}/timeline")).json()
    plan_message = timeline["entries"][0]["messages"][1]
    assert (plan_message["kind"], plan_message["agent_name"]) == ("plan", "Manager")
    assert plan_message["data"]["plan_fallback"] == fallback
    assert plan_message["usage"]["calls"] == 2  # the plan and its repair, both metered


async def test_at_008_usage_rows_equal_calls_including_retries_and_failures(
    alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    fake.chat.queue("worker",
                    Reply(error=ProviderError("busy", code="rate_limited", retryable=True,
                                              status=429, retry_after_s=0.01)),
                    Reply("Ana answers"),
                    Reply(error=ProviderError("no credit", code="payment_required",
                                              retryable=False, status=402)))
    turn = (await _send(alice, fake, room, "Go"))["turn"]
    await fake.settle()
    rows = list(fake.store.calls)
    assert len(rows) == len(fake.chat.requests) == 3
    assert [(r.status.value, r.attempt, r.error_code) for r in rows] == [
        ("error", 1, "rate_limited"), ("ok", 2, None), ("error", 1, "payment_required")]

    snapshot = await _snapshot(alice, turn["id"])
    assert snapshot["turn"]["status"] == "partial"
    steps = snapshot["timeline"]["steps"]
    assert [(s["agent_name"], s["status"], s["usage"]["calls"]) for s in steps] == [
        ("Ana", "ok", 2), ("Ben", "failed", 1)]
    assert steps[1]["error"]["code"] == "payment_required"
    for step in steps:
        mine = [r for r in rows if r.step_id == step["step_id"]]
        assert len(mine) == step["usage"]["calls"]
        assert sum(r.prompt_tokens for r in mine) == step["usage"]["prompt_tokens"]
        assert Decimal(step["credits"]) == sum((r.credits_burned for r in mine), Decimal(0))
    assert Decimal(snapshot["turn"]["credits"]) == sum((r.credits_burned for r in rows),
                                                       Decimal(0))
    timeline = (await alice.get(f"/api/v1/rooms/{room['id']}/timeline")).json()
    messages = timeline["entries"][0]["messages"]
    assert [(m.get("status"), m.get("credits")) for m in messages[1:]] == [
        (s["status"], s["credits"]) for s in steps]


async def test_cancel_a_running_turn(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    fake.chat.queue("worker", Reply("a b c d e f g h i j", chunk_delay_s=0.03))
    turn = (await _send(alice, fake, room, "Go"))["turn"]
    cancelled = await alice.post(f"/api/v1/turns/{turn['id']}/cancel")
    assert cancelled.status_code == 202
    assert set(cancelled.json()) == TURN_FIELDS
    assert cancelled.json()["cancel_requested_at"] is not None
    await fake.settle()

    snapshot = await _snapshot(alice, turn["id"])
    assert snapshot["turn"]["status"] == "cancelled"
    assert snapshot["turn"]["error"]["code"] == "cancelled"
    events = sse_events((await alice.get(f"/api/v1/turns/{turn['id']}/events")).text)
    assert events[-1]["type"] == "turn_failed"
    assert events[-1]["data"]["error"]["code"] == "cancelled"
    assert "Ben" not in {e["data"].get("agent_name") for e in events}

    again = await alice.post(f"/api/v1/turns/{turn['id']}/cancel")
    error = assert_error(again, 409, "turn_not_running")
    assert error["details"] == {"status": "cancelled"}


async def test_sessions_hold_separate_timelines(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    sessions_url = f"/api/v1/rooms/{room['id']}/sessions"
    assert (await alice.get(sessions_url)).json() == {"sessions": []}
    first = (await _send(alice, fake, room, "In the first session"))["turn"]
    fake.clock.advance(seconds=1)
    created = await alice.post(sessions_url, json={"title": "  Fresh   start "})
    assert created.status_code == 201
    fresh = created.json()
    assert set(fresh) == {"id", "room_id", "title", "created_at", "updated_at"}
    assert (fresh["room_id"], fresh["title"]) == (room["id"], "Fresh start")
    fake.clock.advance(seconds=1)
    untitled = await alice.post(sessions_url)
    assert untitled.status_code == 201 and untitled.json()["title"].startswith("Session of ")

    second = (await _send(alice, fake, room, "In the fresh one", session_id=fresh["id"]))["turn"]
    await fake.settle()
    assert second["session_id"] == fresh["id"] != first["session_id"]
    listed = (await alice.get(sessions_url)).json()["sessions"]
    assert [s["id"] for s in listed][1:] == [fresh["id"], first["session_id"]]

    def turns(page: Json) -> list[str]:
        return [e["turn"]["id"] for e in page["entries"]]

    timeline = f"/api/v1/rooms/{room['id']}/timeline"
    by_session = (await alice.get(timeline, params={"session_id": fresh["id"]})).json()
    assert turns(by_session) == [second["id"]]
    old = (await alice.get(timeline, params={"session_id": first["session_id"]})).json()
    assert turns(old) == [first["id"]]
    latest = (await alice.get(timeline)).json()  # the newest session: the untitled one
    assert turns(latest) == []

    other = await chat_room(alice, "Zed")
    assert_error(await alice.get(f"/api/v1/rooms/{other['id']}/timeline",
                                 params={"session_id": fresh["id"]}), 404, "session_not_found")
    assert_error(await alice.post(f"/api/v1/rooms/{other['id']}/messages",
                                  json={"content": "x", "session_id": fresh["id"]}),
                 404, "session_not_found")
    assert_error(await alice.post(sessions_url, json={"title": "t" * 121}), 422, "invalid_title")


async def test_the_timeline_pages_back_in_time(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    sent = [(await _send(alice, fake, room, f"Message {i}"))["turn"]["id"] for i in range(5)]
    await fake.settle()
    url = f"/api/v1/rooms/{room['id']}/timeline"
    pages: list[list[str]] = []
    params: dict[str, object] = {"limit": 2}
    while True:
        page = (await alice.get(url, params=params)).json()
        pages.append([e["turn"]["id"] for e in page["entries"]])
        if page["next_before"] is None:
            break
        params = {"limit": 2, "before": page["next_before"]}
    assert pages == [sent[3:5], sent[1:3], sent[0:1]]

    entry = (await alice.get(url, params={"limit": 1})).json()["entries"][0]
    user, *steps = entry["messages"]
    assert user == {"type": "user", "turn_id": sent[4], "mode": "roundtable",
                    "content": "Message 4", "created_at": entry["turn"]["created_at"]}
    assert all(set(s) == STEP_FIELDS and s["type"] == "step" for s in steps)
    assert [(s["agent_name"], s["kind"], s["mode"], s["model_alias"], s["status"])
            for s in steps] == [("Ana", "worker", "roundtable", "qwen", "ok"),
                                ("Ben", "worker", "roundtable", "qwen", "ok")]
    assert steps[0]["usage"]["calls"] == 1 and Decimal(steps[0]["credits"]) > 0

    naive = (await alice.get(url, params={"before": "2026-11-26T12:00:03"})).json()
    assert [e["turn"]["id"] for e in naive["entries"]] == sent[:2]


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"before": "yesterday"}, "before"),
    ({"session_id": "\x01"}, "session_id"),
])
async def test_bad_timeline_queries_are_422(alice: httpx.AsyncClient, params: Json,
                                            field: str) -> None:
    room = await chat_room(alice, "Ana")
    response = await alice.get(f"/api/v1/rooms/{room['id']}/timeline", params=params)
    error = assert_error(response, 422, "validation_error")
    assert error["details"]["errors"][0]["field"] == field


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"content": 5}, 422, "validation_error"),
    ({}, 422, "validation_error"),
    ({"content": "x" * 32_001}, 422, "message_too_long"),
    ({"content": "hi", "session_id": "nope"}, 404, "session_not_found"),
])
async def test_bad_sends_are_typed_errors(alice: httpx.AsyncClient, fake: FakeApp, body: Json,
                                          status: int, code: str) -> None:
    room = await chat_room(alice, "Ana")
    response = await alice.post(f"/api/v1/rooms/{room['id']}/messages", json=body)
    assert_error(response, status, code)
    assert fake.store.turns == {}


async def test_another_users_turns_rooms_and_sessions_are_not_found(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, fake: FakeApp
) -> None:
    room = await chat_room(alice, "Ana")
    turn = (await _send(alice, fake, room, "Secret plans"))["turn"]
    await fake.settle()
    rid, tid = room["id"], turn["id"]
    for method, url, body, code in [
        ("get", f"/api/v1/turns/{tid}", None, "turn_not_found"),
        ("get", f"/api/v1/turns/{tid}/events", None, "turn_not_found"),
        ("post", f"/api/v1/turns/{tid}/cancel", None, "turn_not_found"),
        ("post", f"/api/v1/rooms/{rid}/messages", {"content": "hi"}, "room_not_found"),
        ("get", f"/api/v1/rooms/{rid}/sessions", None, "room_not_found"),
        ("post", f"/api/v1/rooms/{rid}/sessions", {}, "room_not_found"),
        ("get", f"/api/v1/rooms/{rid}/timeline", None, "room_not_found"),
    ]:
        error = assert_error(await bob.request(method, url, json=body), 404, code)
        assert "Secret" not in str(error)
    assert len(fake.store.turns) == 1 and len(fake.store.room_sessions) == 1


async def test_models_lists_aliases_prices_and_the_manager(alice: httpx.AsyncClient,
                                                           fake: FakeApp) -> None:
    body = (await alice.get("/api/v1/models")).json()
    assert body["pricing_version"] == "2026-11-v1"
    assert body["multiplier_floor"] == "0.5"
    assert body["weights"] == {"fresh": "0.35", "cached": "0.10", "output": "1",
                               "oe_per_credit": "10000"}
    assert body["tool_credits"] == {"web_search": "0.5", "read_file": "0.1"}
    assert "cached_tokens" in body["cached_tokens_policy"]
    assert body["manager_model"] == "deepseek"
    assert [m["alias"] for m in body["models"]] == ["llama", "qwen", "deepseek", "gpt_oss",
                                                    "premium"]
    deepseek = body["models"][2]
    assert deepseek == {"alias": "deepseek", "provider_model_id": "deepseek/deepseek-chat-v3.1",
                        "input_usd_per_mtok": "0.25", "cached_usd_per_mtok": "0.06",
                        "output_usd_per_mtok": "1.00", "credit_multiplier": "1.0",
                        "context_window": 163_840}

    alice_id = (await actor_of(fake, "alice@example.com")).user_id
    fake.store.roles.add((alice_id, Role.OWNER))  # an admin chooses the manager model
    await fake.uc.set_manager_model(await actor_of(fake, "alice@example.com"), "qwen")
    assert (await alice.get("/api/v1/models")).json()["manager_model"] == "qwen"


async def test_start_up_sweeps_turns_orphaned_by_a_dead_process(
    alice: httpx.AsyncClient, api: FastAPI, fake: FakeApp
) -> None:
    """A turn left running (its process died: no heartbeat) ends as interrupted."""
    room = await chat_room(alice, "Ana")
    orphan = await fake.uc.begin_turn(await actor_of(fake, "alice@example.com"), room["id"],
                                      "Hello?")  # recorded, but no engine ever runs it
    fake.clock.advance(minutes=5)
    async with api.router.lifespan_context(api):
        await until(lambda: fake.store.turns[orphan.id].status is not TurnStatus.RUNNING)
    snapshot = await _snapshot(alice, orphan.id)
    assert snapshot["turn"]["status"] == "failed"
    assert snapshot["turn"]["error"]["code"] == "interrupted"
    events = sse_events((await alice.get(f"/api/v1/turns/{orphan.id}/events")).text)
    assert [e["type"] for e in events] == ["turn_failed"]


async def test_stopping_the_process_ends_running_turns_as_interrupted(
    alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    """Shutdown gives running turns a grace period, then cancels them: each still ends
    with a terminal event, so no stream is left hanging."""
    room = await chat_room(alice, "Ana", "Ben")
    fake.chat.queue("worker", Reply(" ".join("word" for _ in range(50)), chunk_delay_s=0.02))
    turn = (await _send(alice, fake, room, "Go"))["turn"]
    await until(lambda: fake.chat.active == 1)
    await fake.tasks.aclose(grace_s=0.05)

    snapshot = await _snapshot(alice, turn["id"])
    assert snapshot["turn"]["status"] == "failed"
    assert snapshot["turn"]["error"]["code"] == "interrupted"
    assert [s["status"] for s in snapshot["timeline"]["steps"]] == ["failed"]
    events = sse_events((await alice.get(f"/api/v1/turns/{turn['id']}/events")).text)
    assert events[-1]["type"] == "turn_failed"
    assert events[-1]["data"]["error"]["code"] == "interrupted"
