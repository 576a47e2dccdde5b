"""GET /api/v1/auth/dev/outbox/latest: the development outbox's newest sign-in link, for the
web app's sign-in screen — only on a local development server whose mail goes to the outbox,
asked from the same machine; 404 ``not_found`` (as for any path not served) anywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from pantheon_adapters.bootstrap import Container, Settings
from pantheon_adapters.mail.outbox import OutboxMailer
from pantheon_http.app import create_app
from pantheon_http.routers.dev_outbox import dev_outbox_enabled
from tests.e2e.conftest import assert_error
from tests.fakes import fake_app

LATEST = "/api/v1/auth/dev/outbox/latest"
LOCAL = "http://127.0.0.1:8000"
SECRET = "s" * 32


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": tmp_path, "public_url": LOCAL, "mail_backend": "outbox",
                              "database_url": None, "redis_url": None, "env": "development",
                              **overrides}
    return Settings(**values)


def _app(tmp_path: Path, **overrides: Any) -> FastAPI:
    """The real routers over in-memory fakes, mailing into a real outbox directory."""
    outbox = OutboxMailer(tmp_path / "outbox")
    fake = fake_app(mailer=outbox)
    settings = _settings(tmp_path, **overrides)
    return create_app(container=fake.container(settings, latest_login_link=outbox.latest_link))


@asynccontextmanager
async def _client(app: FastAPI, client: tuple[str, int] = ("127.0.0.1", 50000),
                  base_url: str = LOCAL) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
        yield http


async def _request_link(http: httpx.AsyncClient, email: str) -> None:
    sent = await http.post("/api/v1/auth/magic-link", json={"email": email})
    assert sent.status_code == 202, sent.text


async def test_the_newest_link_for_the_address(tmp_path: Path) -> None:
    async with _client(_app(tmp_path)) as http:
        await _request_link(http, "ada@example.com")
        await _request_link(http, "bob@example.com")
        first = (await http.get(LATEST, params={"email": "ada@example.com"})).json()
        await _request_link(http, "ada@example.com")
        answer = await http.get(LATEST, params={"email": "ADA@example.com"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["email"] == "ada@example.com"
        assert body["link"].startswith(f"{LOCAL}/api/v1/auth/verify?token=")
        assert body["link"] != first["link"]  # the newest one

        # The link signs in (once).
        token = urlsplit(body["link"]).query.removeprefix("token=")
        verified = await http.post("/api/v1/auth/verify", json={"token": token})
        assert verified.status_code == 200, verified.text
        assert verified.json()["user"]["email"] == "ada@example.com"


async def test_no_link_for_that_address(tmp_path: Path) -> None:
    async with _client(_app(tmp_path)) as http:
        await _request_link(http, "ada@example.com")
        missing = await http.get(LATEST, params={"email": "eve@example.com"})
        assert_error(missing, 404, "link_not_found")


async def test_the_email_is_required(tmp_path: Path) -> None:
    async with _client(_app(tmp_path)) as http:
        assert (await http.get(LATEST)).status_code == 422


@pytest.mark.parametrize("overrides", [
    pytest.param({"env": "production", "secret_key": SECRET, "allow_insecure_http": True},
                 id="production"),
    pytest.param({"mail_backend": "smtp", "smtp_host": "mail.example.com"}, id="smtp-mailer"),
    pytest.param({"public_url": "https://pantheon.example.com"}, id="public-url-not-local"),
])
async def test_not_served_outside_local_development(tmp_path: Path,
                                                    overrides: dict[str, Any]) -> None:
    async with _client(_app(tmp_path, **overrides)) as http:
        await _request_link(http, "ada@example.com")
        error = assert_error(await http.get(LATEST, params={"email": "ada@example.com"}),
                             404, "not_found")
        assert error["message"] == f"Nothing is served at {LATEST}."


async def test_not_served_to_another_machine(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with _client(app) as local, _client(app, client=("203.0.113.7", 40000)) as remote:
        await _request_link(local, "ada@example.com")
        assert (await local.get(LATEST, params={"email": "ada@example.com"})).status_code == 200
        assert_error(await remote.get(LATEST, params={"email": "ada@example.com"}),
                     404, "not_found")


@pytest.mark.parametrize(("public_url", "client", "enabled"), [
    ("http://127.0.0.1:8000", "127.0.0.1", True),
    ("http://localhost:3000", "::1", True),
    ("http://[::1]:8000", "127.0.0.2", True),
    ("http://app.localhost", "127.0.0.1", True),
    ("http://192.168.1.20:8000", "127.0.0.1", False),
    ("http://127.0.0.1:8000", "192.168.1.30", False),
    ("http://127.0.0.1:8000", "unknown", False),
    ("http://localhost.example.com", "127.0.0.1", False),
])
def test_only_local_servers_asked_locally(tmp_path: Path, public_url: str, client: str,
                                          enabled: bool) -> None:
    assert dev_outbox_enabled(_settings(tmp_path, public_url=public_url), client) is enabled


async def test_on_the_embedded_default(tmp_path: Path) -> None:
    """The real composition root: SQLite, migrations, the outbox mailer it wires itself."""
    app = create_app(_settings(tmp_path, supabase_jwt_secret=None, supabase_jwks_url=None))
    async with app.router.lifespan_context(app), _client(app) as http:
        container: Container = app.state.container
        await _request_link(http, "grace@example.com")
        answer = await http.get(LATEST, params={"email": "grace@example.com"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["link"] == container.latest_login_link("grace@example.com")
        assert answer.json()["link"].startswith(f"{LOCAL}/api/v1/auth/verify?token=")
