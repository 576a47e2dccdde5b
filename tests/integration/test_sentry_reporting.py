"""Error reports reach Sentry when a DSN is set, tagged and scrubbed (NFR-OBS-001).

The real SDK, configured by the app, posts to a fake ingestion endpoint on 127.0.0.1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from pantheon_adapters.observability.sentry import close_sentry, init_sentry, scrub_text
from pantheon_adapters.settings import Settings
from pantheon_core import correlation
from pantheon_http.app import create_app
from pantheon_http.auth import CurrentActor
from tests.e2e.conftest import BASE_URL, make_settings, sign_in
from tests.fakes import fake_app
from tests.integration.fake_sentry import FakeSentry, fake_sentry

API_TOKEN = "pan_" + "T0kenValue" * 4
LINK_TOKEN = "MagicLinkSecret" + "x" * 20
QUERY_SECRET = "QuerySecret" + "y" * 20
HEADER_SECRET = "HeaderSecret" + "z" * 20


@pytest.fixture
def sentry() -> Iterator[FakeSentry]:
    with fake_sentry() as server:
        try:
            yield server
        finally:
            close_sentry()


def _exception_types(event: dict[str, Any]) -> list[str]:
    return [value["type"] for value in event.get("exception", {}).get("values", [])]


def _boom_app(settings: Settings) -> tuple[FastAPI, Any]:
    fake = fake_app()
    app = create_app(container=fake.container(settings))  # sets up Sentry from settings

    async def boom(actor: CurrentActor) -> None:
        raise RuntimeError(f"exploded with {API_TOKEN} after GET "
                           f"https://pantheon.example/api/v1/auth/verify?token={LINK_TOKEN}")

    app.add_api_route("/api/v1/boom", boom, methods=["GET"])
    return app, fake


async def test_an_unhandled_error_is_reported_tagged_and_without_secrets(
        sentry: FakeSentry, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sentry_dsn=sentry.dsn(), sentry_environment="staging",
                             sentry_release="pantheon@1.2.3")
    app, fake = _boom_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        me = await sign_in(client, fake, "ada@example.com")
        response = await client.get(f"/api/v1/boom?token={QUERY_SECRET}",
                                    headers={"X-Api-Key": HEADER_SECRET})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    session = client.cookies.get("pantheon_session") or ""
    assert session.startswith("pss_")

    [event] = [e for e in sentry.wait_for_events(1) if "RuntimeError" in _exception_types(e)]
    tags = event["tags"]
    assert tags["request_id"] == response.headers["x-request-id"]
    assert tags["user_id"] == me["user"]["id"]
    assert tags["service"] == "api"
    assert event["environment"] == "staging" and event["release"] == "pantheon@1.2.3"
    [exception] = event["exception"]["values"]
    assert exception["value"].startswith("exploded with pan_[Filtered] after GET "
                                         "https://pantheon.example/api/v1/auth/verify?")

    raw = sentry.raw().decode("utf-8", "replace")
    for secret in (API_TOKEN, LINK_TOKEN, QUERY_SECRET, HEADER_SECRET, session):
        assert secret not in raw, f"{secret[:12]}… reached Sentry"
    request = event.get("request", {})
    assert "cookies" not in request and "query_string" not in request and "data" not in request
    assert "?" not in request.get("url", "")


async def test_an_authorization_header_never_reaches_sentry(sentry: FakeSentry,
                                                            tmp_path: Path) -> None:
    app, _ = _boom_app(make_settings(tmp_path, sentry_dsn=sentry.dsn()))

    async def open_boom() -> None:
        raise LookupError("no such thing")

    app.add_api_route("/api/v1/open-boom", open_boom, methods=["GET"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/api/v1/open-boom",
                                    headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status_code == 500
    [event] = [e for e in sentry.wait_for_events(1) if "LookupError" in _exception_types(e)]
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    assert "user_id" not in event["tags"]
    assert API_TOKEN not in sentry.raw().decode("utf-8", "replace")
    headers = event.get("request", {}).get("headers", {})
    assert headers.get("authorization", headers.get("Authorization", "[Filtered]")) == \
        "[Filtered]"


async def test_errors_logged_in_a_turn_or_job_carry_their_ids(sentry: FakeSentry,
                                                              tmp_path: Path) -> None:
    assert init_sentry(make_settings(tmp_path, sentry_dsn=sentry.dsn()), service="worker")
    log = logging.getLogger("pantheon.test.sentry")
    with correlation.bound(turn_id="turn-7", user_id="user-7"):
        try:
            raise ValueError("a step crashed")
        except ValueError:
            log.exception("turn turn-7 crashed")
    with correlation.bound(job="rollup_usage", message_id="msg-7"):
        log.error("Job rollup_usage failed on its last attempt", exc_info=KeyError("k"))
    events = sentry.wait_for_events(2)
    by_type = {_exception_types(e)[0]: e["tags"] for e in events}
    assert by_type["ValueError"]["turn_id"] == "turn-7"
    assert by_type["ValueError"]["user_id"] == "user-7"
    assert by_type["KeyError"]["job"] == "rollup_usage"
    assert by_type["KeyError"]["message_id"] == "msg-7"
    assert {tags["service"] for tags in by_type.values()} == {"worker"}


def test_without_a_dsn_nothing_is_set_up(tmp_path: Path) -> None:
    assert init_sentry(make_settings(tmp_path), service="api") is False


@pytest.mark.parametrize(("text", "expected"), [
    ("token pan_abcdefghijklmnop used", "token pan_[Filtered] used"),
    ("session pss_abcdefghijklmnop", "session pss_[Filtered]"),
    ("GET /api/v1/auth/verify?token=abc123&next=/x", "GET /api/v1/auth/verify?token=[Filtered]"
                                                     "&next=/x"),
    ("see https://h.example/a/b?x=1&y=2 now", "see https://h.example/a/b?[Filtered] now"),
    ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [Filtered]"),
    ("nothing secret here", "nothing secret here"),
], ids=["api-token", "session", "token-param", "url-query", "bearer", "plain"])
def test_secrets_in_text_are_masked(text: str, expected: str) -> None:
    assert scrub_text(text) == expected
