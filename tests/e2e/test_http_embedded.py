"""The real app with real adapters: lifespan, migrations, database, outbox mailer.

One flow per feature, end to end: sign in by magic link, build a room of agents,
switch its mode; then restart the app on the same data. It runs on the embedded
default (a SQLite file under the data directory, migrated at start) and, when
``PANTHEON_TEST_POSTGRES_URL`` is set, on a throwaway PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from pantheon_adapters.bootstrap import Container, Settings
from pantheon_http.app import create_app
from tests.e2e.conftest import BASE_URL, assert_error
from tests.services import throwaway_postgres


def _settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    """Embedded defaults, or ``database_url`` migrated at start; never the caller's env."""
    return Settings(data_dir=tmp_path, public_url=BASE_URL, database_url=database_url,
                    auto_migrate=None if database_url is None else True, redis_url=None,
                    mail_backend="outbox", supabase_jwt_secret=None, supabase_jwks_url=None)


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "embedded":
        yield _settings(tmp_path)
    else:
        with throwaway_postgres() as url:
            yield _settings(tmp_path, url)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run (startup before, shutdown after)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


async def _sign_in(client: httpx.AsyncClient, container: Container, email: str) -> None:
    assert (await client.post("/api/v1/auth/magic-link", json={"email": email})).status_code == 202
    link = container.latest_login_link(email)
    assert link is not None and link.startswith(f"{BASE_URL}/api/v1/auth/verify?token=")
    parts = urlsplit(link)
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200 and "Sign in to Pantheon" in page.text
    token = parts.query.removeprefix("token=")
    verified = await client.post("/api/v1/auth/verify", data={"token": token},
                                 headers={"Accept": "text/html"})
    assert verified.status_code == 303, verified.text
    again = await client.post("/api/v1/auth/verify", json={"token": token})
    assert_error(again, 401, "magic_link_used")


async def test_sign_in_room_agents_and_mode_end_to_end(settings: Settings) -> None:
    app = create_app(settings)
    async with running(app) as client:
        container: Container = app.state.container
        assert (await client.get("/readyz")).json() == {"status": "ready",
                                                        "checks": {"database": "ok",
                                                                   "storage": "ok"}}
        await _sign_in(client, container, "ada@example.com")
        me = (await client.get("/api/v1/me")).json()
        assert me["email"] == "ada@example.com" and me["roles"] == []

        room = (await client.post("/api/v1/rooms", json={"name": "Launch"})).json()
        agents = f"/api/v1/rooms/{room['id']}/agents"
        ana = await client.post(agents, json={"name": "Ana", "model_alias": "deepseek",
                                              "tools": {"web_search": True}})
        ben = await client.post(agents, json={"name": "Ben", "model_alias": "qwen",
                                              "role_prompt": "Devil's advocate."})
        assert (ana.status_code, ben.status_code) == (201, 201)
        duplicate = await client.post(agents, json={"name": "ANA", "model_alias": "qwen"})
        assert_error(duplicate, 409, "duplicate_agent_name")
        too_long = await client.post(agents, json={"name": "Cy", "model_alias": "qwen",
                                                   "role_prompt": "x" * 4001})
        assert_error(too_long, 422, "role_prompt_too_long")
        order = [ben.json()["id"], ana.json()["id"]]
        reordered = await client.put(f"{agents}/order", json={"agent_ids": order})
        assert [a["name"] for a in reordered.json()["agents"]] == ["Ben", "Ana"]

        switched = await client.put(f"/api/v1/rooms/{room['id']}/mode", json={"mode": "manual"})
        assert switched.json()["mode_note"] == "manual applies on next send"
        assert_error(await client.put(f"/api/v1/rooms/{room['id']}/mode",
                                      json={"mode": "freestyle"}), 422, "invalid_mode")
        shown = (await client.get(f"/api/v1/rooms/{room['id']}")).json()
        assert (shown["current_mode"], shown["pending_mode"]) == ("roundtable", "manual")
        assert [(a["name"], a["handle"], a["position"]) for a in shown["agents"]] == [
            ("Ben", "@Ben", 0), ("Ana", "@Ana", 1)]

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=BASE_URL) as intruder:
            await _sign_in(intruder, container, "eve@example.com")
            assert_error(await intruder.get(f"/api/v1/rooms/{room['id']}"), 404,
                         "room_not_found")
            assert_error(await intruder.delete(f"{agents}/{ana.json()['id']}"), 404,
                         "room_not_found")
        session = client.cookies["pantheon_session"]
    if settings.is_embedded_database:
        assert (settings.data_dir / "pantheon.db").is_file()

    # A restart on the same data keeps the session, the room and its agents.
    restarted = create_app(settings)
    async with running(restarted) as client:
        client.cookies.set("pantheon_session", session)
        again = (await client.get(f"/api/v1/rooms/{room['id']}")).json()
        assert again == shown
        assert (await client.post("/api/v1/auth/logout")).status_code == 204
        replay = await client.get("/api/v1/me", headers={"Cookie": f"pantheon_session={session}"})
        assert_error(replay, 401, "session_expired")
    assert restarted.state.container is None  # released at shutdown


async def test_sign_in_link_allowances_come_from_the_settings(tmp_path: Path) -> None:
    """PANTHEON_SIGNIN_LINKS_PER_CLIENT / _PER_EMAIL reach the sign-in rate limits."""
    settings = _settings(tmp_path).model_copy(update={"signin_links_per_client": 2,
                                                      "signin_links_per_email": 1})
    async with running(create_app(settings)) as client:
        magic = "/api/v1/auth/magic-link"
        first = await client.post(magic, json={"email": "ada@example.com"})
        same_address = await client.post(magic, json={"email": "ada@example.com"})
        other = await client.post(magic, json={"email": "bob@example.com"})
        third_address = await client.post(magic, json={"email": "cy@example.com"})
    assert first.status_code == 202
    assert_error(same_address, 429, "rate_limited")
    assert other.status_code == 202
    assert_error(third_address, 429, "rate_limited")  # the client's 2 links are spent
    assert int(third_address.headers["retry-after"]) > 0
