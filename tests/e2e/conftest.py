"""HTTP tests: the real app and routers over core use cases wired to in-memory fakes.

A prebuilt ``Container`` is handed to ``create_app``, so no lifespan (and no database)
is involved; ``test_http_embedded.py`` runs the real lifespan on embedded SQLite.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from pantheon_adapters.bootstrap import Settings
from pantheon_core.actor import Actor
from pantheon_core.ports.blob_store import BlobStore
from pantheon_core.ports.documents import DocumentParser
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import FilePolicy
from pantheon_http.app import create_app
from pantheon_http.session_cookie import SESSION_COOKIE
from tests.fakes import FakeApp, fake_app

BASE_URL = "http://testserver"
ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]
Json = dict[str, Any]


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path, "public_url": BASE_URL, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


def with_files(fake: FakeApp, blobs: BlobStore, *, documents: DocumentParser | None = None,
               policy: FilePolicy | None = None) -> FakeApp:
    """``fake`` with file storage (and a document parser) wired in: the same fakes, its use
    cases rebuilt with ``blobs``. No job queue, so a file is parsed as its upload finishes.
    Signed links point at the test server unless ``policy`` says otherwise."""
    deps = replace(fake.uc.request_upload.deps, blobs=blobs, documents=documents,
                   files=policy or FilePolicy(url_base=f"{BASE_URL}/api/v1"))
    return replace(fake, uc=UseCases.build(deps))


def make_api(fake: FakeApp, settings: Settings) -> FastAPI:
    return create_app(container=fake.container(settings))


@pytest.fixture
def fake() -> FakeApp:
    return fake_app()


class _Warm:
    """The app the ``api`` fixture reuses in this test process, and its shape when made."""

    app: FastAPI | None = None
    shape: tuple[int, ...] = ()


def _shape(app: FastAPI) -> tuple[int, ...]:
    return (len(app.router.routes), len(app.user_middleware), len(app.exception_handlers),
            len(app.dependency_overrides))


@pytest.fixture
def api(fake: FakeApp, tmp_path: Path) -> FastAPI:
    """``create_app`` over this test's fake container.

    FastAPI works out each route's dependencies and models the first time a request reaches
    it, per app: ~75 ms of a typical test here, against ~1 ms for every later request. So
    the routing of one app is reused from test to test, and everything ``create_app`` made
    for this test (its state, holding this container, and its lifespan) replaces the
    reused app's. A test that changed the app's routes or middleware (``add_api_route``)
    is not reused after: the next test starts on its own fresh app."""
    fresh = make_api(fake, make_settings(tmp_path))
    warm = _Warm.app
    if warm is None or _shape(warm) != _Warm.shape:
        _Warm.app, _Warm.shape = fresh, _shape(fresh)
        return fresh
    warm.state = fresh.state
    warm.router.lifespan_context = fresh.router.lifespan_context
    return warm


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


# --- Chat and streaming over HTTP (test_http_turns / _direct / _streaming) -----------------


@dataclass(frozen=True)
class Frame:
    """One SSE frame: an event (``id``, ``event``, ``data``) or a comment (keep-alive)."""

    id: str | None = None
    event: str | None = None
    data: Json | None = None
    comment: str | None = None


def sse_frame(lines: list[str]) -> Frame:
    fields: dict[str, str] = {}
    comment = None
    for line in lines:
        if line.startswith(":"):
            comment = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        fields[name] = fields.get(name, "") + value.removeprefix(" ")
    data = json.loads(fields["data"]) if "data" in fields else None
    return Frame(id=fields.get("id"), event=fields.get("event"), data=data, comment=comment)


def parse_sse(text: str) -> list[Frame]:
    """Every frame of a whole SSE body, keep-alive comments included."""
    return [sse_frame(block.split("\n")) for block in text.split("\n\n") if block.strip()]


def sse_events(text: str) -> list[Json]:
    """The events of a whole SSE body (``data`` of each event frame), in order."""
    return [f.data for f in parse_sse(text) if f.data is not None and f.comment is None]


async def live_frames(response: httpx.Response) -> AsyncIterator[Frame]:
    """SSE frames as they arrive on a streamed response."""
    lines: list[str] = []
    async for line in response.aiter_lines():
        if line:
            lines.append(line)
        elif lines:
            yield sse_frame(lines)
            lines = []


async def chat_room(client: httpx.AsyncClient, *agents: str, mode: str = "roundtable") -> Json:
    """A room with agents (all on ``qwen``) made over HTTP; returns the room."""
    response = await client.post("/api/v1/rooms", json={"name": "Lab", "mode": mode})
    assert response.status_code == 201, response.text
    room: Json = response.json()
    for name in agents:
        added = await client.post(f"/api/v1/rooms/{room['id']}/agents",
                                  json={"name": name, "model_alias": "qwen"})
        assert added.status_code == 201, added.text
    return room


async def until(predicate: Callable[[], bool], *, timeout_s: float = 5.0) -> None:
    """Poll until ``predicate()`` holds (for state another task is changing)."""
    with anyio.fail_after(timeout_s):
        for _ in itertools.count():
            if predicate():
                return
            await anyio.sleep(0.005)


@asynccontextmanager
async def served(app: FastAPI, **config_overrides: Any) -> AsyncIterator[str]:
    """``app`` on a real socket (uvicorn on 127.0.0.1, in this event loop), for tests that
    need bytes as they are sent: ``httpx.ASGITransport`` buffers whole responses.
    ``config_overrides`` are more ``uvicorn.Config`` options (e.g. proxy headers)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_config=None, log_level="warning",
                            timeout_graceful_shutdown=1, **config_overrides)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await until(lambda: server.started)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def live_alice(api: FastAPI, alice: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """alice's session, against ``api`` served by uvicorn on 127.0.0.1."""
    cookie = alice.cookies[SESSION_COOKIE]
    async with served(api) as url, httpx.AsyncClient(
        base_url=url, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, timeout=10
    ) as client:
        yield client
