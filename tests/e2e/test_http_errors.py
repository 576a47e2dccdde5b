"""One error shape, one status table, and a request id on every response."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pantheon_core.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PantheonError,
    PaymentRequired,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from pantheon_core.ports.mailer import MailMessage
from pantheon_http.app import MAX_BODY_BYTES, create_app
from pantheon_http.request_id import current_request_id
from tests.e2e.conftest import BASE_URL, Json, assert_error, make_settings
from tests.fakes import fake_app

logger = logging.getLogger("pantheon.tests.e2e")


@pytest.fixture
def raising_api(api: FastAPI) -> FastAPI:
    """The app plus test-only routes that fail in chosen ways."""

    async def boom() -> None:
        logger.info("about to fail")
        raise RuntimeError("kaboom")

    async def core_error(kind: str) -> None:
        errors: dict[str, PantheonError] = {
            "invalid": InvalidInput("bad", code="bad_thing"),
            "missing": NotFound("none", code="thing_not_found"),
            "conflict": Conflict("clash", code="clash"),
            "gone": Gone("gone", code="gone_thing"),
            "unauthenticated": Unauthenticated("who?"),
            "forbidden": Forbidden("no", code="owner_required"),
            "payment": PaymentRequired("empty", code="insufficient_credits"),
            "limited": RateLimited("slow down", retry_after_s=7),
            "unavailable": Unavailable("down", code="mail_unavailable"),
            "uncategorised": PantheonError("odd", code="odd"),
        }
        raise errors[kind]

    api.add_api_route("/test/boom", boom)
    api.add_api_route("/test/error/{kind}", core_error)
    return api


@pytest.fixture
async def raw(raising_api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=raising_api)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid", 422, "bad_thing"),
        ("missing", 404, "thing_not_found"),
        ("conflict", 409, "clash"),
        ("gone", 410, "gone_thing"),
        ("unauthenticated", 401, "not_authenticated"),
        ("forbidden", 403, "owner_required"),
        ("payment", 402, "insufficient_credits"),
        ("limited", 429, "rate_limited"),
        ("unavailable", 503, "mail_unavailable"),
        ("uncategorised", 500, "odd"),
    ],
)
async def test_core_error_categories_map_to_statuses(raw: httpx.AsyncClient, kind: str,
                                                     status: int, code: str) -> None:
    response = await raw.get(f"/test/error/{kind}")
    assert_error(response, status, code)
    assert ("retry-after" in response.headers) == (kind == "limited")


async def test_unhandled_exception_is_a_logged_500(raw: httpx.AsyncClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = await raw.get("/test/boom", headers={"X-Request-ID": "trace-500"})
    error = assert_error(response, 500, "internal_error")
    assert response.headers["x-request-id"] == "trace-500"
    assert error["details"] == {"request_id": "trace-500"}
    assert "kaboom" not in response.text
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert failures[0].request_id == "trace-500"  # type: ignore[attr-defined]
    before = next(r for r in caplog.records if r.getMessage() == "about to fail")
    assert before.request_id == "trace-500"  # type: ignore[attr-defined]
    access = [r for r in caplog.records if r.name == "pantheon.http.access"]
    assert [r.status for r in access] == [500]  # type: ignore[attr-defined]


async def test_user_mistakes_are_never_logged_as_errors(
    alice: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await alice.post("/api/v1/rooms", json={"name": ""})
        await alice.post("/api/v1/rooms", content=b"{",
                         headers={"content-type": "application/json"})
        await alice.get("/api/v1/rooms/nope")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_unknown_route_is_404_not_found(client: httpx.AsyncClient) -> None:
    for path in ("/nope", "/api/v1/nope", "/api/v2/rooms"):
        assert_error(await client.get(path), 404, "not_found")


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    error = assert_error(response, 405, "method_not_allowed")
    assert error["details"] == {"allowed": ["GET"]}
    assert response.headers["allow"] == "GET"
    assert_error(await client.patch("/api/v1/me"), 405, "method_not_allowed")


async def test_non_json_body_is_415(alice: httpx.AsyncClient) -> None:
    response = await alice.post("/api/v1/rooms", content=b"name=R",
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "unsupported_media_type")


async def test_invalid_utf8_json_is_malformed(alice: httpx.AsyncClient) -> None:
    response = await alice.post("/api/v1/rooms", content=b'{"name": "\xff"}',
                                headers={"content-type": "application/json"})
    assert_error(response, 400, "malformed_json")


async def test_validation_errors_name_every_field(alice: httpx.AsyncClient) -> None:
    response = await alice.post("/api/v1/rooms", json={"name": 1, "description": 2})
    error = assert_error(response, 422, "validation_error")
    fields = [(e["location"], e["field"]) for e in error["details"]["errors"]]
    assert fields == [("body", "name"), ("body", "description")]
    assert "name: Input should be a valid string" in str(error["message"])


async def test_oversized_bodies_are_413(alice: httpx.AsyncClient) -> None:
    big = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    declared = await alice.post("/api/v1/rooms", content=big,
                                headers={"content-type": "application/json"})
    assert_error(declared, 413, "request_too_large")

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    streamed = await alice.post("/api/v1/rooms", content=stream(),
                                headers={"content-type": "application/json"})
    assert_error(streamed, 413, "request_too_large")
    assert (await alice.get("/api/v1/rooms")).json() == {"rooms": []}


async def test_unavailable_dependency_is_503(tmp_path: Path) -> None:
    class DownMailer:
        async def send(self, message: MailMessage) -> None:
            raise Unavailable("Mail is down.", code="mail_unavailable")

    container = fake_app(mailer=DownMailer()).container(make_settings(tmp_path))
    transport = httpx.ASGITransport(app=create_app(container=container))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post("/api/v1/auth/magic-link", json={"email": "a@example.com"})
    assert_error(response, 503, "mail_unavailable")


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/healthz", {}),
        ("GET", "/api/v1/me", {}),
        ("GET", "/nope", {}),
        ("DELETE", "/healthz", {}),
        ("POST", "/api/v1/auth/magic-link", {"json": {"email": "nope"}}),
        ("POST", "/api/v1/auth/magic-link", {"content": b"{", "headers":
                                              {"content-type": "application/json"}}),
        ("GET", "/api/v1/auth/verify?token=abc", {}),
        ("GET", "/api/openapi.json", {}),
    ],
)
async def test_every_response_has_a_request_id(client: httpx.AsyncClient, method: str, path: str,
                                               kwargs: Json) -> None:
    response = await client.request(method, path, **kwargs)
    assert len(response.headers["x-request-id"]) == 32


async def test_request_ids_are_unique(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("incoming", ["abc-123", "7f3c9a1e.trace:1", "A" * 128])
async def test_a_sane_incoming_request_id_is_reused(client: httpx.AsyncClient,
                                                    incoming: str) -> None:
    response = await client.get("/api/v1/me", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", ["", "has space", "A" * 129, "<script>", "-leading", "ü"])
async def test_an_odd_incoming_request_id_is_replaced(client: httpx.AsyncClient,
                                                      incoming: str) -> None:
    response = await client.get("/healthz", headers=[(b"X-Request-ID", incoming.encode())])
    assert response.headers["x-request-id"] != incoming
    assert len(response.headers["x-request-id"]) == 32


async def test_one_access_line_per_request(client: httpx.AsyncClient,
                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pantheon.http.access"):
        response = await client.get("/api/v1/auth/verify", params={"token": "s3cret-token"},
                                    headers={"X-Request-ID": "req-1"})
    lines = [r for r in caplog.records if r.name == "pantheon.http.access"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status) == (  # type: ignore[attr-defined]
        "GET", "/api/v1/auth/verify", response.status_code)
    assert line.request_id == "req-1"  # type: ignore[attr-defined]
    assert isinstance(line.duration_ms, float)  # type: ignore[attr-defined]
    message = line.getMessage()
    assert "request_id=req-1" in message and "status=200" in message
    assert "s3cret-token" not in message  # query strings (sign-in tokens) are never logged


def test_no_request_id_outside_a_request() -> None:
    assert current_request_id() == "-"


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/v1/rooms", b'{"name": "nul\\u0000byte"}'),
        ("/api/v1/rooms", b'{"name": "half a pair \\ud800"}'),
        ("/api/v1/rooms", b'{"name": "R", "description": "\\udfff"}'),
        ("/api/v1/auth/tokens", b'{"name": "\\u0000"}'),
    ],
)
async def test_unstorable_text_is_refused_as_input(alice: httpx.AsyncClient, path: str,
                                                   raw: bytes) -> None:
    """JSON can spell text no database stores (NUL, lone surrogates): a 422, never a 500."""
    response = await alice.post(path, content=raw, headers={"content-type": "application/json"})
    error = assert_error(response, 422, "validation_error")
    assert "NUL characters or unpaired surrogates" in str(error["message"])
    assert (await alice.get("/api/v1/rooms")).json() == {"rooms": []}


async def test_unstorable_email_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/magic-link", content=b'{"email": "a\\u0000@b.io"}',
                                 headers={"content-type": "application/json"})
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize("path", ["/api/v1/rooms/%00", "/api/v1/rooms/a%0Ab/agents",
                                  "/api/v1/rooms/" + "x" * 101])
async def test_control_characters_in_ids_are_refused(alice: httpx.AsyncClient,
                                                     path: str) -> None:
    error = assert_error(await alice.get(path), 422, "validation_error")
    assert error["details"]["errors"][0]["location"] == "path"


async def test_access_line_cannot_be_split_by_the_path(client: httpx.AsyncClient,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pantheon.http.access"):
        await client.get("/nope%0Aforged=1 x")
    (line,) = [r for r in caplog.records if r.name == "pantheon.http.access"]
    assert "\n" not in line.getMessage()
    assert 'path="/nope\\nforged=1 x"' in line.getMessage()
