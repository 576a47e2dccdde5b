"""Chat on the embedded defaults: the real lifespan, SQLite and the ``offline`` model.

What a newcomer gets from ``pantheon serve`` with no configuration: every mode and
direct chat stream over HTTP; a restart finds what was said; shutting down lets a
running turn finish rather than leaving it ``running``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from pantheon_adapters.bootstrap import Container, Settings
from pantheon_http.app import create_app
from tests.e2e.conftest import BASE_URL, Json, sse_events

SSE = {"Accept": "text/event-stream"}


def _settings(tmp_path: Path, *, word_delay_ms: int) -> Settings:
    """Embedded defaults, never the caller's environment."""
    return Settings(data_dir=tmp_path, public_url=BASE_URL, database_url=None, redis_url=None,
                    mail_backend="outbox", supabase_jwt_secret=None, supabase_jwks_url=None,
                    openrouter_api_key=None, llm_base_url=None,
                    offline_word_delay_ms=word_delay_ms)


@asynccontextmanager
async def running(app: FastAPI, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, and a client signed in as ``email``."""
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, timeout=30
    ) as client:
        container: Container = app.state.container
        assert (await client.post("/api/v1/auth/magic-link", json={"email": email})).is_success
        link = container.latest_login_link(email)
        assert link is not None
        token = link.rsplit("token=", 1)[1]
        assert (await client.post("/api/v1/auth/verify", json={"token": token})).is_success
        yield client


async def _stream(client: httpx.AsyncClient, url: str, content: str) -> list[Json]:
    response = await client.post(url, json={"content": content}, headers=SSE)
    assert response.status_code == 200, response.text
    return sse_events(response.text)


def _steps(events: list[Json]) -> list[tuple[str, str]]:
    return [(e["data"]["kind"], e["data"]["agent_name"]) for e in events
            if e["type"] == "step_started"]


async def test_every_mode_and_direct_chat_stream_on_the_embedded_defaults(
    tmp_path: Path
) -> None:
    settings = _settings(tmp_path, word_delay_ms=0)
    async with running(create_app(settings), "ada@example.com") as client:
        room = (await client.post("/api/v1/rooms", json={"name": "Launch"})).json()
        for name in ("Ana", "Ben"):
            await client.post(f"/api/v1/rooms/{room['id']}/agents",
                              json={"name": name, "model_alias": "qwen"})
        messages = f"/api/v1/rooms/{room['id']}/messages"

        roundtable = await _stream(client, messages, "Plan the launch")
        assert _steps(roundtable) == [("worker", "Ana"), ("worker", "Ben")]
        assert roundtable[-1]["type"] == "turn_completed"
        assert [e["seq"] for e in roundtable] == list(range(1, len(roundtable) + 1))

        await client.put(f"/api/v1/rooms/{room['id']}/mode", json={"mode": "orchestrator"})
        orchestrated = await _stream(client, messages, "Plan it again")
        plan_step, *workers, synthesis = _steps(orchestrated)
        assert (plan_step, synthesis) == (("plan", "Manager"), ("synthesis", "Manager"))
        assert workers and set(workers) <= {("worker", "Ana"), ("worker", "Ben")}
        plan = next(e for e in orchestrated if e["type"] == "step_completed")
        assert plan["data"]["data"]["plan_fallback"] is None

        await client.put(f"/api/v1/rooms/{room['id']}/mode", json={"mode": "manual"})
        manual = await _stream(client, messages, "@ben and only you")
        assert _steps(manual) == [("worker", "Ben")]

        direct = (await client.post("/api/v1/direct-sessions",
                                    json={"room_id": room["id"], "agent_id": "Ana"})).json()
        chat = await _stream(client, f"/api/v1/direct-sessions/{direct['id']}/messages", "Hi")
        assert _steps(chat) == [("direct", "Ana")]
        assert chat[-1]["type"] == "turn_completed"

        turn_id = manual[0]["turn_id"]
        resumed = await client.get(f"/api/v1/turns/{turn_id}/events",
                                   headers={"Last-Event-ID": "2"})
        assert sse_events(resumed.text) == manual[2:]
        timeline = (await client.get(f"/api/v1/rooms/{room['id']}/timeline")).json()
        assert [len(e["messages"]) for e in timeline["entries"]] == [3, 3 + len(workers), 2]
        step = timeline["entries"][0]["messages"][1]
        assert "offline" in (step["provider"] + step["model"]).lower()
        url = f"/api/v1/rooms/{room['id']}/timeline"
        newest = (await client.get(url, params={"limit": 2})).json()
        older = (await client.get(url, params={"limit": 2,
                                               "before": newest["next_before"]})).json()
        paged = [e["turn"]["id"] for page in (older, newest) for e in page["entries"]]
        assert paged == [e["turn"]["id"] for e in timeline["entries"]]
        assert older["next_before"] is None

    # A restart on the same data serves the same snapshot.
    async with running(create_app(settings), "ada@example.com") as client:
        snapshot = (await client.get(f"/api/v1/turns/{turn_id}")).json()
        assert snapshot["turn"]["status"] == "completed"
        assert sse_events((await client.get(f"/api/v1/turns/{turn_id}/events")).text) == manual


async def test_shutdown_lets_a_running_turn_finish(tmp_path: Path) -> None:
    settings = _settings(tmp_path, word_delay_ms=5)
    app = create_app(settings)
    async with running(app, "ada@example.com") as client:
        room = (await client.post("/api/v1/rooms", json={"name": "Launch"})).json()
        await client.post(f"/api/v1/rooms/{room['id']}/agents",
                          json={"name": "Ana", "model_alias": "qwen"})
        sent = await client.post(f"/api/v1/rooms/{room['id']}/messages",
                                 json={"content": "Take your time"})
        turn_id = sent.json()["turn"]["id"]
        assert app.state.container.tasks.running == 1  # still running as we shut down
    assert app.state.container is None

    async with running(create_app(settings), "ada@example.com") as client:
        snapshot = (await client.get(f"/api/v1/turns/{turn_id}")).json()
        assert snapshot["turn"]["status"] == "completed"
        assert snapshot["timeline"]["steps"][0]["status"] == "ok"
        events = sse_events((await client.get(f"/api/v1/turns/{turn_id}/events")).text)
        assert events[-1]["type"] == "turn_completed"
