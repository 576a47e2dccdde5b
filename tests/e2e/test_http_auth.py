"""Magic-link sign-in, sessions, logout and API tokens over HTTP (FR-AUTH-001..002)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from pantheon_core.domain.users import UserStatus
from pantheon_core.errors import Unauthenticated
from pantheon_core.ports.identity import ExternalIdentity
from pantheon_core.ports.rate_limiter import RateDecision, RateLimit
from tests.e2e.conftest import (
    BASE_URL,
    ClientFactory,
    Json,
    assert_error,
    make_api,
    make_settings,
    sign_in,
)
from tests.fakes import FakeApp, fake_app

MAGIC = "/api/v1/auth/magic-link"
VERIFY = "/api/v1/auth/verify"
HTML = {"Accept": "text/html,application/xhtml+xml"}


def _link_path(fake: FakeApp) -> str:
    """The e-mailed link, as a path on this server."""
    link = fake.mailer.sent[-1].link
    assert link is not None
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def test_full_magic_link_flow(client: httpx.AsyncClient, fake: FakeApp) -> None:
    sent = await client.post(MAGIC, json={"email": "Ada@Example.com"})
    assert sent.status_code == 202
    assert sent.json()["status"] == "sent" and "15 minutes" in sent.json()["message"]
    assert fake.mailer.sent[-1].to == "ada@example.com"

    page = await client.get(_link_path(fake))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Sign in to Pantheon" in page.text
    form_token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert form_token is not None and form_token.group(1) == fake.mailer.last_link_token()

    verified = await client.post(VERIFY, json={"token": form_token.group(1)})
    assert verified.status_code == 200
    assert verified.json()["user"]["email"] == "ada@example.com"
    assert verified.json()["expires_at"] == "2026-12-26T12:00:00Z"
    assert "pantheon_session" in client.cookies

    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json() == {**verified.json()["user"], "roles": []}


async def test_opening_the_link_does_not_spend_it(client: httpx.AsyncClient,
                                                  fake: FakeApp) -> None:
    """Mail scanners prefetch links: GET only shows the confirmation page."""
    await client.post(MAGIC, json={"email": "ada@example.com"})
    for _ in range(3):
        assert (await client.get(_link_path(fake))).status_code == 200
    verified = await client.post(VERIFY, json={"token": fake.mailer.last_link_token()})
    assert verified.status_code == 200


async def test_confirmation_page_is_self_contained(client: httpx.AsyncClient,
                                                   fake: FakeApp) -> None:
    await client.post(MAGIC, json={"email": "ada@example.com"})
    page = await client.get(_link_path(fake))
    assert '<form method="post" action="verify">' in page.text
    assert '<button type="submit">Sign in to Pantheon</button>' in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    # The token stays in the page: at most the origin is sent on (and the Origin header of
    # the form post is not blanked, which the CSRF check would refuse).
    assert page.headers["referrer-policy"] == "strict-origin"
    assert page.headers["cache-control"] == "no-store"


async def test_confirmation_page_escapes_the_token(client: httpx.AsyncClient) -> None:
    page = await client.get(VERIFY, params={"token": '"><script>alert(1)</script>'})
    assert "<script>" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text


async def test_form_post_signs_in_and_redirects_to_the_app(client: httpx.AsyncClient,
                                                           fake: FakeApp) -> None:
    await client.post(MAGIC, json={"email": "ada@example.com"})
    response = await client.post(VERIFY, data={"token": fake.mailer.last_link_token()},
                                 headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert (await client.get("/api/v1/me")).json()["email"] == "ada@example.com"


async def test_form_post_of_a_spent_link_shows_a_page(client: httpx.AsyncClient,
                                                      fake: FakeApp) -> None:
    await client.post(MAGIC, json={"email": "ada@example.com"})
    token = fake.mailer.last_link_token()
    await client.post(VERIFY, data={"token": token}, headers=HTML)
    again = await client.post(VERIFY, data={"token": token}, headers=HTML)
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("text/html")
    assert "already used" in again.text and "magic_link_used" in again.text


async def test_link_is_single_use(client: httpx.AsyncClient, fake: FakeApp) -> None:
    await client.post(MAGIC, json={"email": "ada@example.com"})
    token = fake.mailer.last_link_token()
    assert (await client.post(VERIFY, json={"token": token})).status_code == 200
    assert_error(await client.post(VERIFY, json={"token": token}), 401, "magic_link_used")


async def test_link_expires_after_15_minutes(client: httpx.AsyncClient, fake: FakeApp) -> None:
    await client.post(MAGIC, json={"email": "ada@example.com"})
    fake.clock.advance(minutes=16)
    response = await client.post(VERIFY, json={"token": fake.mailer.last_link_token()})
    assert_error(response, 401, "magic_link_expired")
    assert "pantheon_session" not in client.cookies


@pytest.mark.parametrize("body", [{"token": "nope"}, {"token": ""}])
async def test_unknown_token_is_refused(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    assert_error(await client.post(VERIFY, json=body), 401, "magic_link_invalid")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": b"{nope", "headers": {"content-type": "application/json"}}, 400,
         "malformed_json"),
        ({"json": {"token": 5}}, 422, "validation_error"),
        ({"json": {}}, 422, "validation_error"),
        ({"content": b"token", "headers": {"content-type": "text/plain"}}, 415,
         "unsupported_media_type"),
    ],
)
async def test_bad_verify_bodies_are_typed_errors(client: httpx.AsyncClient, kwargs: Json,
                                                  status: int, code: str) -> None:
    assert_error(await client.post(VERIFY, **kwargs), status, code)


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "x" * 300 + "@example.com"])
async def test_invalid_email_is_422(client: httpx.AsyncClient, fake: FakeApp, email: str) -> None:
    assert_error(await client.post(MAGIC, json={"email": email}), 422, "invalid_email")
    assert fake.mailer.sent == []


class RefusingLimiter:
    def __init__(self) -> None:
        self.keys: list[str] = []

    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        self.keys.append(key)
        return RateDecision(allowed=False, retry_after_s=42)


async def test_rate_limited_link_requests_are_429_with_retry_after(tmp_path: Path) -> None:
    limiter = RefusingLimiter()
    fake = fake_app(limiter=limiter)
    transport = httpx.ASGITransport(app=make_api(fake, make_settings(tmp_path)),
                                    client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.post(MAGIC, json={"email": "ada@example.com"})
    error = assert_error(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "42"
    assert error["details"] == {"retry_after_s": 42}
    assert fake.mailer.sent == []
    assert limiter.keys == ["magic:email:ada@example.com"]


class CountingLimiter:
    """Allows everything, remembering the keys it was asked about."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def hit(self, key: str, rule: RateLimit) -> RateDecision:
        self.keys.append(key)
        return RateDecision(allowed=True)


async def test_link_requests_are_limited_per_client_ip(tmp_path: Path) -> None:
    limiter = CountingLimiter()
    transport = httpx.ASGITransport(app=make_api(fake_app(limiter=limiter),
                                                 make_settings(tmp_path)),
                                    client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        await client.post(MAGIC, json={"email": "ada@example.com"})
    assert "magic:client:203.0.113.9" in limiter.keys


async def test_session_cookie_attributes(client: httpx.AsyncClient, fake: FakeApp) -> None:
    await client.post(MAGIC, json={"email": "ada@example.com"})
    response = await client.post(VERIFY, json={"token": fake.mailer.last_link_token()})
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("pantheon_session=pss_")
    for attribute in ("HttpOnly", "Max-Age=2592000", "Path=/", "SameSite=lax"):
        assert attribute in cookie
    assert "Secure" not in cookie


async def test_cookie_is_secure_on_https_deployments(tmp_path: Path) -> None:
    fake = fake_app()
    settings = make_settings(tmp_path, public_url="https://pantheon.example.com",
                             session_ttl_days=7)
    transport = httpx.ASGITransport(app=make_api(fake, settings))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        await client.post(MAGIC, json={"email": "ada@example.com"})
        response = await client.post(VERIFY, json={"token": fake.mailer.last_link_token()})
    assert "Secure" in response.headers["set-cookie"]
    assert "Max-Age=604800" in response.headers["set-cookie"]


async def test_logout_ends_the_session(alice: httpx.AsyncClient) -> None:
    session = alice.cookies["pantheon_session"]
    response = await alice.post("/api/v1/auth/logout")
    assert response.status_code == 204 and response.content == b""
    assert 'pantheon_session=""' in response.headers["set-cookie"]
    assert "pantheon_session" not in alice.cookies
    replayed = await alice.get("/api/v1/me", headers={"Cookie": f"pantheon_session={session}"})
    assert_error(replayed, 401, "session_expired")
    assert (await alice.post("/api/v1/auth/logout")).status_code == 204  # again: still fine


async def test_session_ends_when_it_expires(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    fake.clock.advance(days=31)
    assert_error(await alice.get("/api/v1/me"), 401, "session_expired")


async def test_suspended_user_is_403(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    user = next(iter(fake.store.users.values()))
    fake.store.users[user.id] = replace(user, status=UserStatus.SUSPENDED)
    assert_error(await alice.get("/api/v1/me"), 403, "account_suspended")


async def test_api_token_lifecycle(alice: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    created = await alice.post("/api/v1/auth/tokens", json={"name": "nightly export"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    token = created.json()["token"]
    assert secret.startswith("pan_")
    assert token["status"] == "active" and token["hint"].endswith(secret[-4:])
    assert secret not in str(token)

    listed = await alice.get("/api/v1/auth/tokens")
    assert [t["id"] for t in listed.json()["tokens"]] == [token["id"]]
    assert "secret" not in listed.json()["tokens"][0]

    bearer = {"Authorization": f"Bearer {secret}"}
    me = await client.get("/api/v1/me", headers=bearer)  # an anonymous client, token only
    assert me.status_code == 200 and me.json()["email"] == "alice@example.com"
    rooms = await client.post("/api/v1/rooms", json={"name": "Scripted"}, headers=bearer)
    assert rooms.status_code == 201

    revoked = await alice.delete(f"/api/v1/auth/tokens/{token['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_error(await client.get("/api/v1/me", headers=bearer), 401, "invalid_token")
    listed = await alice.get("/api/v1/auth/tokens")
    assert listed.json()["tokens"][0]["status"] == "revoked"


async def test_api_token_expiry(alice: httpx.AsyncClient, client: httpx.AsyncClient,
                                fake: FakeApp) -> None:
    created = await alice.post("/api/v1/auth/tokens", json={"name": "ci", "expires_in_days": 1})
    bearer = {"Authorization": f"Bearer {created.json()['secret']}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    fake.clock.advance(days=2)
    assert_error(await client.get("/api/v1/me", headers=bearer), 401, "invalid_token")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": ""}, 422, "invalid_token_name"),
        ({"name": "x", "expires_in_days": 0}, 422, "invalid_token_lifetime"),
        ({"name": "x", "expires_in_days": "7"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ],
)
async def test_bad_token_requests(alice: httpx.AsyncClient, body: Json, status: int,
                                  code: str) -> None:
    assert_error(await alice.post("/api/v1/auth/tokens", json=body), status, code)


async def test_users_cannot_see_or_revoke_each_others_tokens(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    created = await alice.post("/api/v1/auth/tokens", json={"name": "mine"})
    token_id = created.json()["token"]["id"]
    assert (await bob.get("/api/v1/auth/tokens")).json() == {"tokens": []}
    assert_error(await bob.delete(f"/api/v1/auth/tokens/{token_id}"), 404, "token_not_found")
    bearer = {"Authorization": f"Bearer {created.json()['secret']}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200


class FakeIdentity:
    """Accepts exactly one token, as a Supabase verifier would accept a signed JWT."""

    async def verify(self, token: str) -> ExternalIdentity:
        if token != "eyJ.good.jwt":
            raise Unauthenticated("Bad signature.", code="invalid_token")
        return ExternalIdentity(provider="supabase", subject="sub-1", email="Sam@Example.com")


async def test_supabase_jwt_bearer_maps_to_a_local_user(tmp_path: Path) -> None:
    fake = fake_app(identity=FakeIdentity())
    transport = httpx.ASGITransport(app=make_api(fake, make_settings(tmp_path)))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        me = await client.get("/api/v1/me", headers={"Authorization": "Bearer eyJ.good.jwt"})
        bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer eyJ.bad.jwt"})
    assert me.status_code == 200 and me.json()["email"] == "sam@example.com"
    assert_error(bad, 401, "invalid_token")


async def test_bearer_wins_over_the_cookie(alice: httpx.AsyncClient) -> None:
    """A credential that is present is never skipped in favour of another one."""
    response = await alice.get("/api/v1/me", headers={"Authorization": "Bearer pan_revoked"})
    assert_error(response, 401, "invalid_token")


async def test_sign_in_helper_creates_distinct_users(clients: ClientFactory,
                                                     fake: FakeApp) -> None:
    first, second = await clients(), await clients()
    a = await sign_in(first, fake, "one@example.com")
    b = await sign_in(second, fake, "two@example.com")
    assert a["user"] != b["user"]
    assert (await first.get("/api/v1/me")).json()["email"] == "one@example.com"
