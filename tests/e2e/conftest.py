"""HTTP tests: the real app and routers over core use cases wired to in-memory fakes.

A prebuilt ``Container`` is handed to ``create_app``, so no lifespan (and no database)
is involved; ``test_http_embedded.py`` runs the real lifespan on embedded SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pantheon_adapters.bootstrap import Settings
from pantheon_core.actor import Actor
from pantheon_http.app import create_app
from tests.fakes import FakeApp, fake_app

BASE_URL = "http://testserver"
ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]
Json = dict[str, Any]


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path, "public_url": BASE_URL, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


def make_api(fake: FakeApp, settings: Settings) -> FastAPI:
    return create_app(container=fake.container(settings))


@pytest.fixture
def fake() -> FakeApp:
    return fake_app()


@pytest.fixture
def api(fake: FakeApp, tmp_path: Path) -> FastAPI:
    return make_api(fake, make_settings(tmp_path))


@pytest.fixture
async def clients(api: FastAPI) -> AsyncIterator[ClientFactory]:
    """Makes clients of ``api``, each with its own cookie jar (one per simulated browser)."""
    async with AsyncExitStack() as stack:

        async def make(**kwargs: object) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=api)
            client = httpx.AsyncClient(transport=transport, base_url=BASE_URL,
                                       **kwargs)  # type: ignore[arg-type]
            return await stack.enter_async_context(client)

        yield make


@pytest.fixture
async def client(clients: ClientFactory) -> httpx.AsyncClient:
    """An anonymous client."""
    return await clients()


async def sign_in(client: httpx.AsyncClient, fake: FakeApp, email: str) -> Json:
    """The whole magic-link flow over HTTP; leaves the session cookie in ``client``."""
    sent = await client.post("/api/v1/auth/magic-link", json={"email": email})
    assert sent.status_code == 202, sent.text
    token = fake.mailer.last_link_token()
    verified = await client.post("/api/v1/auth/verify", json={"token": token})
    assert verified.status_code == 200, verified.text
    body: Json = verified.json()
    return body


@pytest.fixture
async def alice(clients: ClientFactory, fake: FakeApp) -> httpx.AsyncClient:
    """A signed-in browser (cookie session) for alice@example.com."""
    client = await clients()
    await sign_in(client, fake, "alice@example.com")
    return client


@pytest.fixture
async def bob(clients: ClientFactory, fake: FakeApp) -> httpx.AsyncClient:
    """A second, unrelated signed-in user."""
    client = await clients()
    await sign_in(client, fake, "bob@example.com")
    return client


def assert_error(response: httpx.Response, status: int, code: str) -> Json:
    """The response is the one error shape, with this status and code; returns the error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: Json = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert response.headers.get("x-request-id")
    return error


async def actor_of(fake: FakeApp, email: str) -> Actor:
    """The core actor for a user, for driving use cases that have no endpoint yet."""
    return await fake.uc.act_as(Actor.operator(), email)
