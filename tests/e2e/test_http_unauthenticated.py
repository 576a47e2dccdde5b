"""FR-AUTH-002: every endpoint but sign-in and health answers 401 without credentials.

The route table is read from the app's own OpenAPI document, so an endpoint added
later is covered without touching this file.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import assert_error, make_api, make_settings
from tests.fakes import FakeApp, fake_app

PUBLIC = {
    ("POST", "/api/v1/auth/magic-link"),
    ("GET", "/api/v1/auth/verify"),
    ("POST", "/api/v1/auth/verify"),
    ("POST", "/api/v1/auth/logout"),  # ends a session if there is one; idempotent
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("PUT", "/api/v1/uploads/{token}"),  # signed URLs: the signature is the credential
    ("GET", "/api/v1/downloads/{token}"),
    ("POST", "/api/v1/webhooks/stripe"),  # Stripe's deliveries: the signature is the credential
    # Signing in on a local development server (404 anywhere else: test_http_dev_outbox.py)
    ("GET", "/api/v1/auth/dev/outbox/latest"),
}


def _operations() -> list[tuple[str, str]]:
    schema = make_api(fake_app(), make_settings(Path("/nonexistent"))).openapi()
    return sorted((method.upper(), path) for path, ops in schema["paths"].items()
                  for method in ops)


PROTECTED = [op for op in _operations() if op not in PUBLIC]


def _concrete(path: str) -> str:
    """Fill every ``{param}`` with an id that exists nowhere."""
    parts = path.split("/")
    return "/".join(str(uuid.uuid4()) if p.startswith("{") else p for p in parts)


def test_the_route_table_is_walked() -> None:
    paths = {path for _, path in PROTECTED}
    assert {"/api/v1/me", "/api/v1/rooms", "/api/v1/rooms/{room_id}/mode",
            "/api/v1/rooms/{room_id}/agents/{agent_id}", "/api/v1/auth/tokens"} <= paths
    assert {"/api/v1/rooms/{room_id}/messages", "/api/v1/rooms/{room_id}/sessions",
            "/api/v1/rooms/{room_id}/timeline", "/api/v1/turns/{turn_id}",
            "/api/v1/turns/{turn_id}/events", "/api/v1/turns/{turn_id}/cancel",
            "/api/v1/direct-sessions", "/api/v1/direct-sessions/{session_id}/messages",
            "/api/v1/direct-sessions/{session_id}/history", "/api/v1/models",
            "/api/v1/billing/wallet", "/api/v1/billing/ledger", "/api/v1/billing/usage",
            "/api/v1/billing/plans", "/api/v1/billing/checkout", "/api/v1/billing/portal",
            "/api/v1/billing/quote"} <= paths
    assert len(PROTECTED) >= 30
    assert all(path.startswith("/api/v1/") for path in paths)


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_protected_endpoint_without_credentials_is_401(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    body = {"name": "x", "mode": "manual", "model_alias": "qwen", "agent_ids": []}
    kwargs = {} if method in {"GET", "DELETE"} else {"json": body}
    response = await client.request(method, _concrete(path), **kwargs)  # type: ignore[arg-type]
    assert_error(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_protected_endpoint_with_bad_credentials_is_401(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    bad_token = await client.request(method, _concrete(path),
                                     headers={"Authorization": "Bearer pan_not-a-real-token"})
    assert_error(bad_token, 401, "invalid_token")
    bad_cookie = await client.request(method, _concrete(path),
                                      headers={"Cookie": "pantheon_session=pss_forged"})
    assert_error(bad_cookie, 401, "session_expired")


async def test_credentials_are_checked_before_the_body(client: httpx.AsyncClient) -> None:
    """Without credentials, an invalid body still answers 401: nothing is revealed."""
    response = await client.post("/api/v1/rooms", json={"name": 42})
    assert_error(response, 401, "not_authenticated")


async def test_other_authorization_schemes_are_not_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me", headers={"Authorization": "Basic YTpi"})
    assert_error(response, 401, "not_authenticated")


async def test_a_jwt_without_a_configured_identity_provider_is_refused(
    client: httpx.AsyncClient, fake: FakeApp
) -> None:
    response = await client.get("/api/v1/me", headers={"Authorization": "Bearer eyJ.x.y"})
    assert_error(response, 401, "invalid_token")
