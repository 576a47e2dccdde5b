"""Turn limits over HTTP: 429 ``too_many_running_turns`` / ``rate_limited`` and 503
``server_busy``, each with ``Retry-After`` and the limit in the error's details, for room
sends and direct chat; a refused send is a plain JSON error even when a stream was asked for.
"""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from pantheon_adapters.limits.memory import MemoryRateLimiter
from pantheon_adapters.limits.memory_slots import MemorySlotLeases
from pantheon_core.ports.rate_limiter import RateLimit
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import TurnLimits
from tests.e2e.conftest import ClientFactory, Json, assert_error, chat_room, sign_in
from tests.fake_chat import Reply
from tests.fakes import FAST_ENGINE, FakeApp, fake_app

PATIENT = replace(FAST_ENGINE, first_token_timeout_s=60.0, call_timeout_s=120.0)
LIMITS = TurnLimits(running_per_user=1, running_total=2,
                    sends_per_user=RateLimit(limit=3, window_s=60), retry_after_s=4)
SSE = {"Accept": "text/event-stream"}


@pytest.fixture
def fake() -> FakeApp:
    """The fake app with the in-memory turn limits of ``LIMITS`` (turns hang when told to)."""
    app = fake_app(engine=PATIENT)
    deps = replace(app.uc.send_to_room.deps, limiter=MemoryRateLimiter(app.clock),
                   slots=MemorySlotLeases(app.clock), turn_limits=LIMITS)
    return replace(app, uc=UseCases.build(deps))


async def send(client: httpx.AsyncClient, room: Json, content: str = "hello",
               **headers: str) -> httpx.Response:
    return await client.post(f"/api/v1/rooms/{room['id']}/messages", json={"content": content},
                             headers=headers)


async def cancel_running(fake: FakeApp, *clients: httpx.AsyncClient) -> None:
    """Each client cancels its running turns (others' answer 404); then all have ended."""
    for turn in list(fake.store.turns.values()):
        for client in clients:
            if not turn.is_finished:
                await client.post(f"/api/v1/turns/{turn.id}/cancel")
    await fake.settle()


async def test_a_second_running_turn_is_429_with_retry_after(alice: httpx.AsyncClient,
                                                             fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    fake.chat.queue("worker", Reply(hang=True))
    assert (await send(alice, room)).status_code == 202
    turns = dict(fake.store.turns)

    refused = await send(alice, room, "again")

    error = assert_error(refused, 429, "too_many_running_turns")
    assert refused.headers["retry-after"] == "4"
    assert error["details"] == {"limit": 1, "running": 1, "retry_after_s": 4}
    assert fake.store.turns == turns
    await cancel_running(fake, alice)
    assert (await send(alice, room, "now")).status_code == 202
    await fake.settle()


async def test_a_refused_streaming_send_is_a_plain_json_error(alice: httpx.AsyncClient,
                                                              fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    fake.chat.queue("worker", Reply(hang=True))
    assert (await send(alice, room)).status_code == 202
    refused = await send(alice, room, "again", **SSE)
    assert refused.headers["content-type"].startswith("application/json")
    assert_error(refused, 429, "too_many_running_turns")
    await cancel_running(fake, alice)


async def test_sending_faster_than_the_rate_is_429_rate_limited(alice: httpx.AsyncClient,
                                                                fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    for n in range(3):
        assert (await send(alice, room, f"message {n}")).status_code == 202
        await fake.settle()
        fake.clock.advance(seconds=5)

    refused = await send(alice, room, "one too many")

    error = assert_error(refused, 429, "rate_limited")
    assert error["details"] == {"limit": 3, "window_s": 60, "retry_after_s": 45}
    assert refused.headers["retry-after"] == "45"
    assert len(fake.store.turns) == 3


async def test_beyond_the_global_cap_sends_are_503_server_busy(
        clients: ClientFactory, alice: httpx.AsyncClient, bob: httpx.AsyncClient,
        fake: FakeApp) -> None:
    carol = await clients()
    await sign_in(carol, fake, "carol@example.com")
    rooms = [await chat_room(client, "Ana") for client in (alice, bob, carol)]
    fake.chat.queue("worker", Reply(hang=True), Reply(hang=True))
    assert (await send(alice, rooms[0])).status_code == 202
    assert (await send(bob, rooms[1])).status_code == 202

    refused = await send(carol, rooms[2])

    error = assert_error(refused, 503, "server_busy")
    assert refused.headers["retry-after"] == "4"
    assert error["details"] == {"limit": 2, "running": 2, "retry_after_s": 4}
    await cancel_running(fake, alice, bob)
    assert (await send(carol, rooms[2])).status_code == 202
    await fake.settle()


async def test_direct_chat_is_limited_too(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    created = await alice.post("/api/v1/direct-sessions",
                               json={"agent": {"name": "Solo", "model_alias": "qwen"}})
    assert created.status_code == 201, created.text
    url = f"/api/v1/direct-sessions/{created.json()['id']}/messages"
    fake.chat.queue("direct", Reply(hang=True))
    assert (await alice.post(url, json={"content": "hi"})).status_code == 202

    refused = await alice.post(url, json={"content": "again"})

    assert_error(refused, 429, "too_many_running_turns")
    assert refused.headers["retry-after"] == "4"
    await cancel_running(fake, alice)


async def test_the_send_routes_document_429_and_503(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    for path in ("/api/v1/rooms/{room_id}/messages",
                 "/api/v1/direct-sessions/{session_id}/messages"):
        assert {"429", "503"} <= set(paths[path]["post"]["responses"]), path
