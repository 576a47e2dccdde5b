"""A turn's events over HTTP: SSE and NDJSON, resuming, keep-alives, live order (FR-RT-*).

Tests that need bytes as they are sent (live order, a client leaving mid-turn) run
the app under uvicorn on 127.0.0.1 (``live_alice``): ``httpx.ASGITransport``
delivers a response only once it is complete.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from pantheon_core.domain.events import EventType, TurnEvent
from pantheon_core.errors import Unavailable
from pantheon_core.ids import TurnId
from pantheon_http.streaming import StreamFormat, TurnEventStream
from tests.e2e.conftest import (
    Json,
    assert_error,
    chat_room,
    live_frames,
    parse_sse,
    sse_events,
)
from tests.fake_chat import Reply
from tests.fakes import FakeApp

SSE = {"Accept": "text/event-stream"}
NDJSON = {"Accept": "application/x-ndjson"}
EVENT_KEYS = {"type", "seq", "turn_id", "step_id", "ts", "data"}
T = TypeVar("T")
_TS = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _messages(room: Json) -> str:
    return f"/api/v1/rooms/{room['id']}/messages"


def _ndjson(text: str) -> list[Json]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def _finished_turn(alice: httpx.AsyncClient, fake: FakeApp) -> tuple[str, list[Json]]:
    """A completed two-agent roundtable turn and its whole event sequence."""
    room = await chat_room(alice, "Ana", "Ben")
    sent = await alice.post(_messages(room), json={"content": "Plan the launch"})
    assert sent.status_code == 202, sent.text
    await fake.settle()
    turn_id = sent.json()["turn"]["id"]
    events = sse_events((await alice.get(f"/api/v1/turns/{turn_id}/events")).text)
    return turn_id, events


async def test_a_send_streams_its_turn_as_sse(alice: httpx.AsyncClient) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    response = await alice.post(_messages(room), json={"content": "Hi all"}, headers=SSE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    turn_id = response.headers["x-turn-id"]
    assert response.headers["content-location"] == f"/api/v1/turns/{turn_id}"
    assert response.text.startswith("id: 1\nevent: turn_started\ndata: {")

    frames = parse_sse(response.text)
    assert [f.id for f in frames] == [str(i) for i in range(1, len(frames) + 1)]
    for frame in frames:
        assert frame.data is not None and set(frame.data) == EVENT_KEYS
        assert frame.event == frame.data["type"] and frame.id == str(frame.data["seq"])
        assert frame.data["turn_id"] == turn_id
    kinds = [f.event for f in frames]
    assert kinds[0] == "turn_started" and kinds[-1] == "turn_completed"
    assert kinds.count("step_started") == kinds.count("step_completed") == 2


async def test_ndjson_is_the_same_events_one_per_line(alice: httpx.AsyncClient,
                                                      fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    response = await alice.post(_messages(room), json={"content": "Hi"}, headers=NDJSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.split("\n")
    assert lines[-1] == "" and all(lines[:-1])
    streamed = _ndjson(response.text)
    assert streamed[-1]["type"] == "turn_completed"
    as_sse = await alice.get(f"/api/v1/turns/{streamed[0]['turn_id']}/events")
    assert sse_events(as_sse.text) == streamed


@pytest.mark.parametrize(("accept", "expected"), [
    (None, StreamFormat.SSE),
    ("*/*", StreamFormat.SSE),
    ("application/json", StreamFormat.SSE),
    ("application/x-ndjson", StreamFormat.NDJSON),
    ("text/event-stream;q=0.5, application/x-ndjson", StreamFormat.NDJSON),
    ("application/x-ndjson;q=0.2, text/event-stream;q=0.9", StreamFormat.SSE),
])
async def test_the_events_endpoint_negotiates_its_format(
    alice: httpx.AsyncClient, fake: FakeApp, accept: str | None, expected: StreamFormat
) -> None:
    turn_id, events = await _finished_turn(alice, fake)
    headers = {"Accept": accept} if accept else {}
    response = await alice.get(f"/api/v1/turns/{turn_id}/events", headers=headers)
    assert response.headers["content-type"].split(";")[0] == expected.value
    parsed = sse_events(response.text) if expected is StreamFormat.SSE else _ndjson(response.text)
    assert parsed == events


async def test_resuming_from_any_point_gives_exactly_the_missed_events(
    alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    turn_id, events = await _finished_turn(alice, fake)
    url = f"/api/v1/turns/{turn_id}/events"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for seen in sorted({0, 1, 2, 5, len(events) // 2, len(events) - 1, len(events)}):
        by_header = await alice.get(url, headers={"Last-Event-ID": str(seen)})
        assert sse_events(by_header.text) == events[seen:], seen
        by_query = await alice.get(url, params={"after": seen}, headers=NDJSON)
        assert _ndjson(by_query.text) == events[seen:], seen
    # Both given: the further point wins, whichever carries it.
    both = await alice.get(url, params={"after": 3}, headers={"Last-Event-ID": "7"})
    assert sse_events(both.text) == events[7:]
    both = await alice.get(url, params={"after": 7}, headers={"Last-Event-ID": "3"})
    assert sse_events(both.text) == events[7:]


@pytest.mark.parametrize(("params", "headers", "code"), [
    ({}, {"Last-Event-ID": "seven"}, "invalid_last_event_id"),
    ({}, {"Last-Event-ID": "-2"}, "invalid_last_event_id"),
    ({"after": -1}, {}, "validation_error"),
    ({"after": "x"}, {}, "validation_error"),
])
async def test_bad_resume_points_are_json_errors(alice: httpx.AsyncClient, fake: FakeApp,
                                                 params: Json, headers: dict[str, str],
                                                 code: str) -> None:
    turn_id, _ = await _finished_turn(alice, fake)
    response = await alice.get(f"/api/v1/turns/{turn_id}/events", params=params,
                               headers={**SSE, **headers})
    assert_error(response, 422, code)


async def test_silence_is_broken_by_keep_alives(alice: httpx.AsyncClient, api: FastAPI,
                                                fake: FakeApp) -> None:
    api.state.stream_keepalive_s = 0.02
    room = await chat_room(alice, "Ana")
    fake.chat.queue("worker", Reply("slow start", first_delay_s=0.15))
    response = await alice.post(_messages(room), json={"content": "Hi"}, headers=SSE)
    frames = parse_sse(response.text)
    assert any(f.comment == "keep-alive" and f.data is None for f in frames)
    assert [f.data["type"] for f in frames if f.data][-1] == "turn_completed"

    fake.chat.queue("worker", Reply("slow start", first_delay_s=0.15))
    response = await alice.post(_messages(room), json={"content": "Again"}, headers=NDJSON)
    assert "\n\n" in response.text  # an empty line: NDJSON's keep-alive
    assert _ndjson(response.text)[-1]["type"] == "turn_completed"


@pytest.mark.parametrize(("setup", "content", "status", "code"), [
    ("manual", "no tags here", 422, "no_valid_tags"),
    ("empty", "Hi", 422, "room_has_no_agents"),
    ("roundtable", "   ", 422, "empty_message"),
    ("unknown", "Hi", 404, "room_not_found"),
])
@pytest.mark.parametrize("accept", [SSE, NDJSON])
async def test_a_refused_send_is_a_json_error_not_a_stream(
    alice: httpx.AsyncClient, fake: FakeApp, setup: str, content: str, status: int, code: str,
    accept: dict[str, str]
) -> None:
    if setup == "unknown":
        url = "/api/v1/rooms/no-such-room/messages"
    else:
        room = await chat_room(alice, *([] if setup == "empty" else ["Ana"]),
                               mode="manual" if setup == "manual" else "roundtable")
        url = _messages(room)
    response = await alice.post(url, json={"content": content}, headers=accept)
    assert response.headers["content-type"] == "application/json"
    assert_error(response, status, code)
    assert fake.store.turns == {} and fake.chat.requests == []


async def test_another_users_turn_cannot_be_streamed(alice: httpx.AsyncClient,
                                                     bob: httpx.AsyncClient,
                                                     fake: FakeApp) -> None:
    turn_id, _ = await _finished_turn(alice, fake)
    response = await bob.get(f"/api/v1/turns/{turn_id}/events", headers=SSE)
    assert response.headers["content-type"] == "application/json"
    assert_error(response, 404, "turn_not_found")


async def test_a_stream_that_cannot_go_on_ends_with_an_error_frame() -> None:
    """Mid-stream, a status code is already sent: the error is the last frame instead."""

    async def failing() -> AsyncIterator[TurnEvent]:
        for seq in (1, 2):
            yield TurnEvent(EventType.STEP_DELTA, seq, TurnId("t"), _TS, {"text": "x"})
        raise Unavailable("The event fan-out is down.", code="events_unavailable")

    async def endpoint(request: Request) -> TurnEventStream:
        fmt = StreamFormat(request.query_params["fmt"])
        return TurnEventStream(failing(), fmt)

    app = Starlette(routes=[Route("/events", endpoint)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as client:
        sse = await client.get("/events", params={"fmt": StreamFormat.SSE.value})
        frames = parse_sse(sse.text)
        assert [f.id for f in frames] == ["1", "2", None]
        assert frames[-1].event == "error"
        assert frames[-1].data == {"error": {"code": "events_unavailable", "details": {},
                                             "message": "The event fan-out is down."}}
        ndjson = await client.get("/events", params={"fmt": StreamFormat.NDJSON.value})
        assert _ndjson(ndjson.text)[-1]["error"]["code"] == "events_unavailable"


# --- live: under uvicorn, bytes as they are sent ------------------------------------------


async def test_at_004_roundtable_steps_stream_live_one_after_another(
    alice: httpx.AsyncClient, live_alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    """The client has Ana's step_completed before Ben's step_started, and receives Ben's
    text while Ben is still generating (the turn is running, the model call open)."""
    room = await chat_room(alice, "Ana", "Ben")
    fake.chat.queue("worker", Reply("one two three", chunk_delay_s=0.02),
                    Reply("four five six seven eight", chunk_delay_s=0.05))
    seen: list[tuple[str, str | None]] = []
    live_at_bens_first_delta: tuple[int, str] | None = None
    names: dict[str, str] = {}
    async with live_alice.stream("POST", _messages(room), json={"content": "Go"},
                                 headers=SSE) as response:
        assert response.status_code == 200
        turn_id = response.headers["x-turn-id"]
        async for frame in live_frames(response):
            assert frame.data is not None
            step = frame.data["step_id"]
            if frame.event == "step_started":
                names[step] = frame.data["data"]["agent_name"]
            who = names.get(step) if step else None
            if frame.event == "step_delta" and who == "Ben" and live_at_bens_first_delta is None:
                live_at_bens_first_delta = (fake.chat.active,
                                            fake.store.turns[TurnId(turn_id)].status.value)
            seen.append((str(frame.event), who))
    assert live_at_bens_first_delta == (1, "running")
    order = [s for s in seen if s[0] in {"step_started", "step_completed"}]
    assert order == [("step_started", "Ana"), ("step_completed", "Ana"),
                     ("step_started", "Ben"), ("step_completed", "Ben")]
    bens = [i for i, s in enumerate(seen) if s[1] == "Ben"]
    assert seen[bens[-1]] == ("step_completed", "Ben") and len(bens) >= 4
    assert seen[-1] == ("turn_completed", None)


async def test_a_client_that_leaves_mid_turn_finds_it_completed(
    alice: httpx.AsyncClient, live_alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    fake.chat.queue("worker", Reply("a b c d e f", chunk_delay_s=0.03),
                    Reply("g h i j", chunk_delay_s=0.03))
    async with live_alice.stream("POST", _messages(room), json={"content": "Go"},
                                 headers=SSE) as response:
        turn_id = response.headers["x-turn-id"]
        got = [frame async for frame in _first(live_frames(response), 3)]
    assert [f.event for f in got] == ["turn_started", "step_started", "step_delta"]
    assert fake.store.turns[TurnId(turn_id)].status.value == "running"  # left mid-turn

    await fake.settle()
    snapshot = (await alice.get(f"/api/v1/turns/{turn_id}")).json()
    assert snapshot["turn"]["status"] == "completed"
    steps = snapshot["timeline"]["steps"]
    assert [(s["agent_name"], s["status"], s["content"]) for s in steps] == [
        ("Ana", "ok", "a b c d e f"), ("Ben", "ok", "g h i j")]
    assert snapshot["timeline"]["last_seq"] == snapshot["turn"]["last_seq"]


async def test_reconnecting_with_last_event_id_mid_turn_gives_the_uninterrupted_sequence(
    alice: httpx.AsyncClient, live_alice: httpx.AsyncClient, fake: FakeApp
) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    fake.chat.queue("worker", Reply("a b c d e f g h", chunk_delay_s=0.02),
                    Reply("i j k l m n", chunk_delay_s=0.05))
    received: list[Json] = []
    async with live_alice.stream("POST", _messages(room), json={"content": "Go"},
                                 headers=SSE) as response:
        turn_id = response.headers["x-turn-id"]
        received += [f.data async for f in _first(live_frames(response), 4) if f.data]
    url = f"/api/v1/turns/{turn_id}/events"
    for take in (3, 5, 4):  # leave and come back, three times, while the turn runs
        last = received[-1]["seq"]
        async with live_alice.stream("GET", url, headers={**SSE,
                                                         "Last-Event-ID": str(last)}) as resp:
            received += [f.data async for f in _first(live_frames(resp), take) if f.data]
    assert fake.store.turns[TurnId(turn_id)].status.value == "running"
    async with live_alice.stream("GET", url, params={"after": received[-1]["seq"]},
                                 headers=NDJSON) as rest:
        received += [json.loads(line) async for line in rest.aiter_lines() if line]

    await fake.settle()
    uninterrupted = sse_events((await alice.get(url)).text)
    assert received == uninterrupted
    assert received[-1]["type"] == "turn_completed"


async def _first(items: AsyncIterator[T], count: int) -> AsyncIterator[T]:
    """The first ``count`` items of an async iterator (then stop reading it)."""
    taken = 0
    async for item in items:
        yield item
        taken += 1
        if taken == count:
            return
