"""Failed sign-ins and bad webhook signatures are throttled per client address, over HTTP.

The real app over the fakes, with the in-memory rate limiter on the fake clock and a limit
of 3 in 15 minutes: bearer tokens, session cookies and magic links share one count per
address; the failure that reaches it is answered 429 (with ``Retry-After``) and so is every
sign-in from that address for a window, a right one too; other addresses, successes and
validly signed webhooks are unaffected; the address is the one a trusted proxy forwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pantheon_adapters.limits.memory import MemoryRateLimiter
from pantheon_adapters.payments.stripe import StripePayments
from pantheon_core.domain.audit import AuditEvent
from pantheon_core.domain.credentials import hash_secret
from pantheon_core.ports.rate_limiter import RateLimit
from pantheon_core.usecases.catalog import UseCases
from pantheon_core.usecases.deps import AuthPolicy, BillingPolicy
from pantheon_http.session_cookie import SESSION_COOKIE
from tests.e2e.conftest import BASE_URL, Json, assert_error, make_api, make_settings, served
from tests.e2e.conftest import sign_in as sign_in_over_http
from tests.fakes import FakeApp, fake_app
from tests.integration.fake_stripe import signed_event

LIMIT, WINDOW_S = 3, 900
ME = "/api/v1/me"
VERIFY = "/api/v1/auth/verify"
WEBHOOK = "/api/v1/webhooks/stripe"
WHSEC = "whsec_throttle"
EVE, ADA_HOME = "203.0.113.66", "198.51.100.7"
Clients = Callable[[str], httpx.AsyncClient]


@pytest.fixture
async def throttled(tmp_path: Path) -> AsyncIterator[tuple[FakeApp, FastAPI]]:
    payments = StripePayments("sk_test_x", WHSEC, api_base="http://127.0.0.1:9", timeout_s=1)
    base = fake_app(payments=payments)
    deps = replace(base.uc.verify_magic_link.deps, limiter=MemoryRateLimiter(base.clock),
                   auth=AuthPolicy(failed_signins_per_client=RateLimit(LIMIT, WINDOW_S)),
                   billing=BillingPolicy(bad_signatures_per_client=RateLimit(LIMIT, WINDOW_S)))
    app = replace(base, uc=UseCases.build(deps))
    yield app, make_api(app, make_settings(tmp_path))
    await payments.aclose()


@pytest.fixture
async def fake(throttled: tuple[FakeApp, FastAPI]) -> FakeApp:
    return throttled[0]


@pytest.fixture
async def from_address(throttled: tuple[FakeApp, FastAPI]) -> AsyncIterator[Clients]:
    """Clients of the app calling from a given address (each with its own cookie jar)."""
    made: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=throttled[1], client=(address, 50_000))
        made.append(httpx.AsyncClient(transport=transport, base_url=BASE_URL))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()


async def api_token(fake: FakeApp, client: httpx.AsyncClient, email: str) -> str:
    await sign_in_over_http(client, fake, email)
    created = await client.post("/api/v1/auth/tokens", json={"name": "ci"})
    assert created.status_code == 201, created.text
    secret: str = created.json()["secret"]
    return secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def lock_out(client: httpx.AsyncClient) -> Json:
    """Wrong bearer tokens up to the limit; the last one is answered 429."""
    for n in range(LIMIT - 1):
        assert_error(await client.get(ME, headers=bearer(f"pan_guess{n}")), 401, "invalid_token")
    return assert_refused(await client.get(ME, headers=bearer("pan_guess")), WINDOW_S)


def assert_refused(response: httpx.Response, retry_after_s: int,
                   code: str = "too_many_failed_signins") -> Json:
    error = assert_error(response, 429, code)
    assert response.headers["Retry-After"] == str(retry_after_s)
    assert error["details"] == {"limit": LIMIT, "window_s": WINDOW_S,
                                "retry_after_s": retry_after_s}
    return error


def refusals(fake: FakeApp, code: str = "too_many_failed_signins") -> list[AuditEvent]:
    return [e for e in fake.store.audit_events if e.reason.startswith(f"{code}:")]


async def test_a_right_token_is_refused_while_over_the_limit_then_let_in_again(
        fake: FakeApp, from_address: Clients) -> None:
    eve, home = from_address(EVE), from_address(ADA_HOME)
    token = await api_token(fake, home, "ada@example.com")
    error = await lock_out(eve)
    assert error["message"] == ("Too many failed sign-ins from your address (3 within 15 "
                                "minutes); try again in 900 s.")
    fake.clock.advance(seconds=60)
    assert_refused(await eve.get(ME, headers=bearer(token)), WINDOW_S - 60)
    assert (await home.get(ME, headers=bearer(token))).status_code == 200  # another address
    # no credential at all is not a sign-in: the usual 401
    assert_error(await eve.get(ME), 401, "not_authenticated")
    fake.clock.advance(seconds=WINDOW_S - 60)
    assert (await eve.get(ME, headers=bearer(token))).json()["email"] == "ada@example.com"


async def test_successes_do_not_count(fake: FakeApp, from_address: Clients) -> None:
    home = from_address(ADA_HOME)
    token = await api_token(fake, home, "ada@example.com")
    for _ in range(5 * LIMIT):
        assert (await home.get(ME, headers=bearer(token))).status_code == 200
        assert (await home.get(ME)).status_code == 200  # the session cookie
    for n in range(LIMIT - 1):  # the whole allowance is still there
        assert_error(await home.get(ME, headers=bearer(f"pan_typo{n}")), 401, "invalid_token")
    assert (await home.get(ME, headers=bearer(token))).status_code == 200


async def test_session_cookies_and_magic_links_share_the_count(
        fake: FakeApp, from_address: Clients) -> None:
    eve = from_address(EVE)
    session = await sign_in_over_http(from_address(ADA_HOME), fake, "ada@example.com")
    assert session
    assert_error(await eve.get(ME, headers={"Cookie": f"{SESSION_COOKIE}=pss_guess"}), 401,
                 "session_expired")
    assert_error(await eve.get(ME, headers=bearer("not-a-pantheon-token")), 401,
                 "invalid_token")
    assert_error(await eve.post(VERIFY, json={"token": "guess"}), 429,
                 "too_many_failed_signins")
    # a real link is refused unspent, as JSON and as the confirmation page's form post
    await eve.post("/api/v1/auth/magic-link", json={"email": "eve@example.com"})
    link = fake.mailer.last_link_token()
    assert_refused(await eve.post(VERIFY, json={"token": link}), WINDOW_S)
    page = await eve.post(VERIFY, data={"token": link}, headers={"Accept": "text/html"})
    assert page.status_code == 429 and page.headers["Retry-After"] == str(WINDOW_S)
    assert "too_many_failed_signins" in page.text and "try again in 900 s" in page.text
    [unspent] = [s for s in fake.store.links.values() if s.token_hash == hash_secret(link)]
    assert unspent.used_at is None


async def test_the_refusal_is_audited_once_per_window(fake: FakeApp,
                                                      from_address: Clients) -> None:
    eve = from_address(EVE)
    await lock_out(eve)
    for _ in range(30):
        assert (await eve.get(ME, headers=bearer("pan_flood"))).status_code == 429
    [refusal] = refusals(fake)
    assert (refusal.action, refusal.target, refusal.outcome.value, refusal.client) == (
        "auth.sign_in", EVE, "refused", EVE)
    assert refusal.request_id
    fake.clock.advance(seconds=WINDOW_S)
    await lock_out(eve)
    assert len(refusals(fake)) == 2


async def test_bad_webhook_signatures_are_throttled_and_valid_ones_are_not(
        fake: FakeApp, from_address: Clients) -> None:
    stranger, stripe = from_address(EVE), from_address("54.187.174.169")
    payload, signature = signed_event("customer.created", {"id": "cus_1"}, secret=WHSEC)
    forged, forged_signature = signed_event("customer.created", {"id": "cus_2"},
                                            secret="whsec_guess")

    async def deliver(client: httpx.AsyncClient, body: bytes, sig: str) -> httpx.Response:
        return await client.post(WEBHOOK, content=body, headers={"Stripe-Signature": sig})

    for _ in range(3 * LIMIT):  # Stripe's own deliveries never count
        assert (await deliver(stripe, payload, signature)).status_code == 200
    for _ in range(LIMIT - 1):
        assert_error(await deliver(stranger, forged, forged_signature), 400,
                     "invalid_signature")
    assert_refused(await deliver(stranger, forged, forged_signature), WINDOW_S,
                   "too_many_bad_signatures")
    for _ in range(10):  # refused unverified, a valid signature too, and not audited again
        assert_refused(await deliver(stranger, payload, signature), WINDOW_S,
                       "too_many_bad_signatures")
    assert (await deliver(stripe, payload, signature)).json() == {
        "received": True, "outcome": "duplicate"}
    hooks = [e.reason.split(":")[0] for e in fake.store.audit_events
             if e.action == "webhook.signature"]
    assert hooks == ["invalid_signature"] * (LIMIT - 1) + ["too_many_bad_signatures"]
    assert refusals(fake, "too_many_bad_signatures")[0].client == EVE
    fake.clock.advance(seconds=WINDOW_S)
    assert_error(await deliver(stranger, forged, forged_signature), 400, "invalid_signature")


async def test_the_address_is_the_one_a_trusted_proxy_forwards(
        throttled: tuple[FakeApp, FastAPI], fake: FakeApp) -> None:
    """Behind a trusted proxy (uvicorn's proxy headers, as ``pantheon serve`` runs it) each
    forwarded client has its own count; the proxy's own address is not locked out."""
    _, app = throttled
    async with served(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as url, \
            httpx.AsyncClient(base_url=url) as proxy:
        token = await api_token(fake, proxy, "ada@example.com")
        proxy.cookies.clear()
        eve = {"X-Forwarded-For": EVE}
        for n in range(LIMIT - 1):
            assert_error(await proxy.get(ME, headers={**eve, **bearer(f"pan_{n}")}), 401,
                         "invalid_token")
        assert_refused(await proxy.get(ME, headers={**eve, **bearer("pan_x")}), WINDOW_S)
        assert_refused(await proxy.get(ME, headers={**eve, **bearer(token)}), WINDOW_S)
        ada = {"X-Forwarded-For": ADA_HOME, **bearer(token)}
        assert (await proxy.get(ME, headers=ada)).status_code == 200
        assert (await proxy.get(ME, headers=bearer(token))).status_code == 200
    assert [e.client for e in refusals(fake)] == [EVE]
