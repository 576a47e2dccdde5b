"""Direct (1:1) chat over HTTP (FR-DIRECT-001..003): its own agent copy, memory and history."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.conftest import Json, assert_error, chat_room, sse_events
from tests.fakes import FakeApp

DIRECT = "/api/v1/direct-sessions"
SESSION_FIELDS = {"id", "title", "agent", "source_agent_id", "created_at", "updated_at",
                  "deleted_at", "restorable_until"}


async def _create(client: httpx.AsyncClient, body: Json) -> Json:
    response = await client.post(DIRECT, json=body)
    assert response.status_code == 201, response.text
    session: Json = response.json()
    return session


async def _send(client: httpx.AsyncClient, fake: FakeApp, session: Json, content: str,
                **kwargs: object) -> httpx.Response:
    fake.clock.advance(seconds=1)
    return await client.post(f"{DIRECT}/{session['id']}/messages", json={"content": content},
                             **kwargs)  # type: ignore[arg-type]


async def test_a_session_from_a_room_agent_keeps_its_own_copy(alice: httpx.AsyncClient) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    ana = (await alice.get(f"/api/v1/rooms/{room['id']}/agents/ana")).json()
    session = await _create(alice, {"room_id": room["id"], "agent_id": "ANA"})
    assert set(session) == SESSION_FIELDS
    assert session["title"] == "Chat with Ana" and session["source_agent_id"] == ana["id"]
    assert session["agent"] == {"id": ana["id"], "name": "Ana", "handle": "@Ana",
                                "model_alias": "qwen", "role_prompt": "",
                                "tools": {"web_search": False, "files": False}}

    await alice.patch(f"/api/v1/rooms/{room['id']}/agents/ana",
                      json={"model_alias": "premium", "role_prompt": "Changed"})
    again = (await alice.get(f"{DIRECT}/{session['id']}")).json()
    assert again == session


async def test_a_session_from_a_fresh_agent_definition(alice: httpx.AsyncClient) -> None:
    session = await _create(alice, {
        "title": "  Tax  questions ",
        "agent": {"name": "Tess", "model_alias": "deepseek", "role_prompt": "A tax adviser.",
                  "tools": {"web_search": True}}})
    assert session["title"] == "Tax questions" and session["source_agent_id"] is None
    agent = session["agent"]
    assert (agent["name"], agent["model_alias"], agent["role_prompt"]) == (
        "Tess", "deepseek", "A tax adviser.")
    assert agent["tools"] == {"web_search": True, "files": False}


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 422, "agent_required"),
    ({"room_id": "x"}, 422, "agent_required"),
    ({"agent": {"name": "Tess", "model_alias": "gpt-9"}}, 422, "unknown_model_alias"),
    ({"agent": {"name": "", "model_alias": "qwen"}}, 422, "invalid_agent_name"),
    ({"agent": {"name": "Tess"}}, 422, "validation_error"),
    ({"agent": {"name": "Tess", "model_alias": "qwen"}, "title": "t" * 121}, 422,
     "invalid_title"),
    ({"room_id": "no-such-room", "agent_id": "Ana"}, 404, "room_not_found"),
    ({"room_id": "{room}", "agent_id": "Nobody"}, 404, "agent_not_found"),
])
async def test_bad_session_definitions_are_typed_errors(alice: httpx.AsyncClient, body: Json,
                                                        status: int, code: str) -> None:
    room = await chat_room(alice, "Ana")
    if body.get("room_id") == "{room}":
        body = {**body, "room_id": room["id"]}
    assert_error(await alice.post(DIRECT, json=body), status, code)
    assert (await alice.get(DIRECT)).json() == {"sessions": []}


async def test_chatting_answers_202_then_the_history_has_every_message(
    alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    session = await _create(alice, {"agent": {"name": "Tess", "model_alias": "qwen"}})
    sent = await _send(alice, fake, session, "First question")
    assert sent.status_code == 202
    turn = sent.json()["turn"]
    assert (turn["mode"], turn["direct_session_id"], turn["room_id"]) == (
        "direct", session["id"], None)
    assert sent.json()["stream_url"] == f"/api/v1/turns/{turn['id']}/events"
    await fake.settle()
    second = await _send(alice, fake, session, "Follow-up")
    await fake.settle()

    history = (await alice.get(f"{DIRECT}/{session['id']}/history")).json()
    assert history["next_before"] is None
    assert [e["turn"]["id"] for e in history["entries"]] == [turn["id"],
                                                             second.json()["turn"]["id"]]
    user, step = history["entries"][0]["messages"]
    assert (user["type"], user["content"], user["mode"]) == ("user", "First question", "direct")
    assert (step["kind"], step["mode"], step["agent_name"], step["status"]) == (
        "direct", "direct", "Tess", "ok")
    # Its memory: the follow-up's prompt carries the first exchange.
    follow_up = fake.chat.requests[-1]
    assert any("First question" in m.content for m in follow_up.messages)

    paged = (await alice.get(f"{DIRECT}/{session['id']}/history", params={"limit": 1})).json()
    assert len(paged["entries"]) == 1 and paged["next_before"] is not None


async def test_chatting_streams_as_sse_or_ndjson(alice: httpx.AsyncClient,
                                                 fake: FakeApp) -> None:
    session = await _create(alice, {"agent": {"name": "Tess", "model_alias": "qwen"}})
    sse = await _send(alice, fake, session, "Hi", headers={"Accept": "text/event-stream"})
    events = sse_events(sse.text)
    assert events[0]["type"] == "turn_started" and events[0]["data"]["mode"] == "direct"
    started = [e["data"] for e in events if e["type"] == "step_started"]
    assert [(s["kind"], s["agent_name"]) for s in started] == [("direct", "Tess")]
    assert events[-1]["type"] == "turn_completed"

    ndjson = await _send(alice, fake, session, "Again",
                         headers={"Accept": "application/x-ndjson"})
    lines = [json.loads(line) for line in ndjson.text.splitlines() if line]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    assert lines[-1]["type"] == "turn_completed"


async def test_direct_memory_is_separate_from_rooms(alice: httpx.AsyncClient,
                                                    fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    fake.clock.advance(seconds=1)
    await alice.post(f"/api/v1/rooms/{room['id']}/messages", json={"content": "Room secret"})
    await fake.settle()
    session = await _create(alice, {"room_id": room["id"], "agent_id": "Ana"})
    await _send(alice, fake, session, "Direct question")
    await fake.settle()

    direct_request = fake.chat.requests[-1]
    assert not any("Room secret" in m.content for m in direct_request.messages)
    history = (await alice.get(f"{DIRECT}/{session['id']}/history")).json()
    assert [e["turn"]["message"] for e in history["entries"]] == ["Direct question"]
    timeline = (await alice.get(f"/api/v1/rooms/{room['id']}/timeline")).json()
    assert [e["turn"]["message"] for e in timeline["entries"]] == ["Room secret"]


async def test_list_and_read_sessions(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    assert (await alice.get(DIRECT)).json() == {"sessions": []}
    older = await _create(alice, {"agent": {"name": "Tess", "model_alias": "qwen"}})
    fake.clock.advance(minutes=1)
    newer = await _create(alice, {"agent": {"name": "Ugo", "model_alias": "llama"}})
    listed = (await alice.get(DIRECT)).json()["sessions"]
    assert [s["id"] for s in listed] == [newer["id"], older["id"]]
    fake.clock.advance(minutes=1)
    await _send(alice, fake, older, "Bump")  # activity moves a chat to the top
    await fake.settle()
    assert [s["id"] for s in (await alice.get(DIRECT)).json()["sessions"]] == [older["id"],
                                                                               newer["id"]]
    assert (await alice.get(f"{DIRECT}/{newer['id']}")).json() == newer


async def test_another_users_direct_sessions_are_not_found(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, fake: FakeApp
) -> None:
    session = await _create(alice, {"agent": {"name": "Tess", "model_alias": "qwen"}})
    sid = session["id"]
    for method, url, body in [
        ("get", f"{DIRECT}/{sid}", None),
        ("post", f"{DIRECT}/{sid}/messages", {"content": "hi"}),
        ("get", f"{DIRECT}/{sid}/history", None),
    ]:
        assert_error(await bob.request(method, url, json=body), 404, "direct_session_not_found")
    assert (await bob.get(DIRECT)).json() == {"sessions": []}
    room = await chat_room(alice, "Ana")
    assert_error(await bob.post(DIRECT, json={"room_id": room["id"], "agent_id": "Ana"}),
                 404, "room_not_found")
    assert fake.store.turns == {}
