"""NFR-SEC-005 end to end: security-sensitive operations made over HTTP (and the CLI) are in
the audit log with the request id and the client address, and owners and analysts see them
through the admin audit API and ``pantheon admin audit``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pantheon_adapters.payments.stripe import StripePayments
from pantheon_core.actor import Actor
from tests.e2e.conftest import (
    BASE_URL,
    ClientFactory,
    Json,
    assert_error,
    make_api,
    make_settings,
    sign_in,
)
from tests.e2e.test_cli import Driver, isolated_driver
from tests.fakes import FakeApp, fake_app
from tests.integration.fake_stripe import INVOICE_PAID, invoice_paid, signed_event

AUDIT = "/api/v1/admin/audit"
OWNER = "boss@example.com"
CLIENT = "127.0.0.1"  # httpx's ASGI transport calls from here


async def _audit(owner: httpx.AsyncClient, **filters: str) -> list[Json]:
    response = await owner.get(AUDIT, params=filters)
    assert response.status_code == 200, response.text
    events: list[Json] = response.json()["events"]
    return events


@pytest.fixture
async def owner(clients: ClientFactory, fake: FakeApp) -> httpx.AsyncClient:
    await fake.uc.set_role(Actor.operator(), OWNER, "owner", granted=True)
    client = await clients()
    await sign_in(client, fake, OWNER)
    return client


async def test_sign_ins_and_their_failures_are_in_the_admin_audit_log(
        owner: httpx.AsyncClient, client: httpx.AsyncClient, fake: FakeApp) -> None:
    await client.post("/api/v1/auth/magic-link", json={"email": "ada@example.com"})
    token = fake.mailer.last_link_token()
    fake.clock.advance(seconds=1)  # one event a second: the log's order is theirs
    signed_in = await client.post("/api/v1/auth/verify", json={"token": token},
                                  headers={"X-Request-ID": "req-sign-in"})
    assert signed_in.status_code == 200
    fake.clock.advance(seconds=1)
    assert_error(await client.post("/api/v1/auth/verify", json={"token": token},
                                   headers={"X-Request-ID": "req-replay"}),
                 401, "magic_link_used")
    fake.clock.advance(seconds=1)
    assert_error(await client.post("/api/v1/auth/verify", data={"token": "forged"}),
                 401, "magic_link_invalid")

    sign_ins = await _audit(owner, action="auth.sign_in")
    newest = [(e["target"], e["outcome"], e["request_id"]) for e in sign_ins[:3]]
    assert newest[:2] == [("unknown link", "refused", sign_ins[0]["request_id"]),
                          ("ada@example.com", "refused", "req-replay")]
    assert newest[2] == ("ada@example.com", "ok", "req-sign-in")
    assert sign_ins[1]["reason"].startswith("magic_link_used: ")
    assert all(e["client"] == CLIENT for e in sign_ins)
    assert sign_ins[2]["actor"] == "ada@example.com" and sign_ins[2]["role"] == "user"
    refused = await _audit(owner, outcome="refused")
    assert [e["id"] for e in refused] == [e["id"] for e in sign_ins[:2]]
    # the owner's own sign-in, in their role
    assert (sign_ins[-1]["actor"], sign_ins[-1]["role"]) == (OWNER, "owner")


async def test_sign_out_and_tokens_are_in_a_users_trail(owner: httpx.AsyncClient,
                                                        alice: httpx.AsyncClient,
                                                        fake: FakeApp) -> None:
    fake.clock.advance(seconds=1)
    created = await alice.post("/api/v1/auth/tokens", json={"name": "ci"},
                               headers={"X-Request-ID": "req-token"})
    token = created.json()
    fake.clock.advance(seconds=1)
    revoked = await alice.delete(f"/api/v1/auth/tokens/{token['token']['id']}")
    assert revoked.status_code == 200
    fake.clock.advance(seconds=1)
    assert (await alice.post("/api/v1/auth/logout")).status_code == 204

    trail = await _audit(owner, target="alice@example.com")
    assert [e["action"] for e in trail] == ["auth.sign_out", "auth.token.revoke",
                                            "auth.token.create", "auth.sign_in"]
    create = trail[2]
    assert create["request_id"] == "req-token" and create["client"] == CLIENT
    assert create["after"]["name"] == "ci" and create["after"]["hint"] == token["token"]["hint"]
    assert token["secret"] not in str(trail)


@pytest.fixture
async def stripe_app(tmp_path: Path) -> AsyncIterator[tuple[FakeApp, httpx.AsyncClient]]:
    """The real Stripe adapter (signatures are checked offline) over the fakes."""
    payments = StripePayments("sk_test_x", "whsec_audit", api_base="http://127.0.0.1:9",
                              timeout_s=1)
    app = fake_app(payments=payments)
    api = make_api(app, make_settings(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api),
                                 base_url=BASE_URL) as client:
        yield app, client
    await payments.aclose()


async def test_refused_webhook_signatures_are_audited(
        stripe_app: tuple[FakeApp, httpx.AsyncClient]) -> None:
    app, http = stripe_app
    invoice = invoice_paid(subscription="sub_1", customer="cus_1", price_id="price_x")
    forged, signature = signed_event(INVOICE_PAID, invoice, secret="whsec_other")
    response = await http.post("/api/v1/webhooks/stripe", content=forged,
                               headers={"Stripe-Signature": signature,
                                        "X-Request-ID": "req-hook"})
    assert_error(response, 400, "invalid_signature")
    [event] = app.store.audit_events
    assert (event.action, event.target, event.outcome.value) == (
        "webhook.signature", "stripe", "refused")
    assert (event.reason, event.request_id, event.client) == (
        "invalid_signature: signature_mismatch", "req-hook", CLIENT)
    assert not app.store.payment_events


def test_the_cli_shows_role_changes_and_token_events(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cli: Driver = isolated_driver(tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "200")  # the table's action column unwrapped
    cli.ok("admin", "grant", OWNER, "--role", "owner", user=None)
    issued = cli.json("auth", "token", "create", "--name", "laptop", user=OWNER)
    cli.ok("auth", "token", "revoke", issued["token"]["id"], user=OWNER)
    roles = cli.json("admin", "audit", "--action", "admin.role", user=OWNER)
    assert [(e["action"], e["target"], e["actor"], e["client"]) for e in roles] == [
        ("admin.role.grant", OWNER, "operator", "cli")]
    tokens = cli.json("admin", "audit", "--action", "auth.token", user=OWNER)
    assert [(e["action"], e["actor"]) for e in tokens] == [
        ("auth.token.revoke", OWNER), ("auth.token.create", OWNER)]
    table = cli.ok("admin", "audit", user=OWNER).stdout
    assert "auth.token.create" in table and "admin.role.grant" in table
