"""Credits and billing over HTTP (FR-BILL-*, FR-PLAN-*, AT-010): the wallet after a send,
the ledger's cursor, usage, plans, checkout against a fake Stripe on 127.0.0.1, the signed
webhook, and sends refused with 402/403 before anything runs."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pantheon_adapters.payments.stripe import StripePayments
from pantheon_core.domain.wallets import EntryKind
from pantheon_core.ids import UserId
from pantheon_core.usecases.deps import BillingPolicy, TopUpPack
from tests.e2e.conftest import (
    BASE_URL,
    Json,
    assert_error,
    chat_room,
    make_api,
    make_settings,
    sign_in,
)
from tests.fakes import FakeApp, fake_app
from tests.integration.fake_stripe import (
    INVOICE_PAID,
    FakeStripe,
    invoice_paid,
    serving,
    sign,
    signed_event,
)

BILLING = "/api/v1/billing"
WEBHOOK = "/api/v1/webhooks/stripe"
KEY = "sk_test_pantheon_e2e_key_0001"
WHSEC = "whsec_test_pantheon_e2e_secret"
POLICY = BillingPolicy(plan_prices={"starter": "price_starter", "pro": "price_pro"},
                       topups=(TopUpPack("small", Decimal(500), "price_small"),))
DAY_S = 86_400


async def _json(client: httpx.AsyncClient, path: str, **params: object) -> Json:
    response = await client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def _user_id(client: httpx.AsyncClient) -> UserId:
    return UserId((await _json(client, "/api/v1/me"))["id"])


async def _sent_turn(client: httpx.AsyncClient, fake: FakeApp, room: Json, content: str) -> Json:
    """Send, let the turn finish, and return its snapshot."""
    fake.clock.advance(seconds=1)
    sent = await client.post(f"/api/v1/rooms/{room['id']}/messages", json={"content": content})
    assert sent.status_code == 202, sent.text
    await fake.settle()
    return await _json(client, f"/api/v1/turns/{sent.json()['turn']['id']}")


# --- the wallet, the ledger and usage ---------------------------------------------------------


async def test_a_new_wallet_has_the_welcome_credits(alice: httpx.AsyncClient) -> None:
    wallet = await _json(alice, f"{BILLING}/wallet")
    assert wallet == {
        "balances": {"plan": "0.000000", "topup": "100.000000", "available": "100.000000",
                     "reserved": "0.000000"},
        "plan": None, "period_end": None, "subscription_status": None, "monthly_cap": None,
        "models": ["deepseek", "gpt_oss", "llama", "premium", "qwen"],
        "burned_this_month": "0.000000"}


async def test_the_wallet_after_a_send_is_the_welcome_less_the_turns_credits(
        alice: httpx.AsyncClient, fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    snapshot = await _sent_turn(alice, fake, room, "Plan the launch")

    turn_credits = Decimal(snapshot["turn"]["credits"])
    steps = snapshot["timeline"]["steps"]
    assert len(steps) == 2 and all(Decimal(s["credits"]) > 0 for s in steps)
    assert turn_credits == sum(Decimal(s["credits"]) for s in steps) > 0
    wallet = await _json(alice, f"{BILLING}/wallet")
    assert Decimal(wallet["balances"]["available"]) == Decimal(100) - turn_credits
    assert Decimal(wallet["balances"]["topup"]) == Decimal(100) - turn_credits
    assert Decimal(wallet["burned_this_month"]) == turn_credits

    entries = (await _json(alice, f"{BILLING}/ledger", limit=200))["entries"]
    burns = [e for e in entries if e["kind"] == "burn"]
    assert len(burns) == 2
    assert -sum(Decimal(e["amount"]) for e in burns) == turn_credits
    assert [(e["kind"], e["amount"]) for e in entries if e["note"] == "welcome credits"] == [
        ("grant", "100.000000")]
    assert sum(Decimal(e["amount"]) for e in entries) == Decimal(wallet["balances"]["available"])


async def test_the_ledger_pages_back_with_its_cursor(alice: httpx.AsyncClient,
                                                     fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben", "Cy")
    await _sent_turn(alice, fake, room, "One")  # entries of one turn share their time
    await _sent_turn(alice, fake, room, "Two")
    everything = (await _json(alice, f"{BILLING}/ledger", limit=200))["entries"]
    assert len(everything) > 7

    paged: list[Json] = []
    params: dict[str, object] = {"limit": 3}
    while True:
        page = await _json(alice, f"{BILLING}/ledger", **params)
        assert len(page["entries"]) <= 3
        paged.extend(page["entries"])
        if page["next"] is None:
            break
        assert set(page["next"]) == {"before_at", "before_id"}
        params = {"limit": 3, **page["next"]}
    assert [e["id"] for e in paged] == [e["id"] for e in everything]
    assert set(paged[0]) == {"id", "kind", "bucket", "amount", "created_at", "reference",
                             "reservation_id", "note"}


@pytest.mark.parametrize(("params", "code"), [
    ({"before_id": "x"}, "invalid_cursor"),
    ({"before_at": "2026-11-26T12:00:00Z"}, "invalid_cursor"),
    ({"limit": 0}, "validation_error"),
    ({"limit": 201}, "validation_error"),
    ({"before_at": "yesterday", "before_id": "x"}, "validation_error"),
])
async def test_bad_ledger_queries_are_422(alice: httpx.AsyncClient, params: Json,
                                          code: str) -> None:
    assert_error(await alice.get(f"{BILLING}/ledger", params=params), 422, code)


async def test_usage_by_model_and_by_day(alice: httpx.AsyncClient, fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana", "Ben")
    added = await alice.post(f"/api/v1/rooms/{room['id']}/agents",
                             json={"name": "Cy", "model_alias": "deepseek"})
    assert added.status_code == 201, added.text
    first = await _sent_turn(alice, fake, room, "One")
    second = await _sent_turn(alice, fake, room, "Two")
    spent = Decimal(first["turn"]["credits"]) + Decimal(second["turn"]["credits"])

    by_model = await _json(alice, f"{BILLING}/usage")
    assert by_model["by"] == "model" and by_model["from"] is None and by_model["to"] is None
    rows = {r["key"]: r for r in by_model["rows"]}
    assert set(rows) == {"deepseek", "qwen"}
    assert (rows["qwen"]["calls"], rows["deepseek"]["calls"]) == (4, 2)
    assert rows["qwen"]["tokens"] == rows["qwen"]["prompt_tokens"] + rows["qwen"][
        "completion_tokens"] > 0
    totals = by_model["totals"]
    assert totals["calls"] == 6 and Decimal(totals["credits"]) == spent
    assert Decimal(totals["provider_cost_usd"]) == sum(
        Decimal(r["provider_cost_usd"]) for r in by_model["rows"])

    by_day = await _json(alice, f"{BILLING}/usage", by="day")
    assert [(r["key"], r["calls"]) for r in by_day["rows"]] == [("2026-11-26", 6)]
    assert by_day["totals"] == totals

    earlier = await _json(alice, f"{BILLING}/usage", **{"from": "2026-10-01",
                                                        "to": "2026-11-01"})
    assert earlier["rows"] == [] and earlier["totals"]["calls"] == 0
    assert earlier["from"] == "2026-10-01T00:00:00Z" and earlier["to"] == "2026-11-01T00:00:00Z"
    day = await _json(alice, f"{BILLING}/usage", by="day", **{"from": "2026-11-26",
                                                               "to": "2026-11-27"})
    assert day["totals"] == totals


@pytest.mark.parametrize(("params", "code"), [
    ({"by": "week"}, "validation_error"),
    ({"from": "2026-11-27", "to": "2026-11-26"}, "invalid_range"),
    ({"from": "soon"}, "validation_error"),
])
async def test_bad_usage_queries_are_422(alice: httpx.AsyncClient, params: Json,
                                         code: str) -> None:
    assert_error(await alice.get(f"{BILLING}/usage", params=params), 422, code)


async def test_the_quote_is_design_sections_formula(alice: httpx.AsyncClient) -> None:
    quote = await _json(alice, f"{BILLING}/quote", model="deepseek", prompt_tokens=12000,
                        cached_tokens=2000, completion_tokens=800)
    assert Decimal(quote["credits"]) == Decimal("0.45")
    assert Decimal(quote["output_equivalent"]) == 4500
    assert quote["pricing_version"] and quote["cached_tokens"] == 2000
    floored = await _json(alice, f"{BILLING}/quote", model="llama", prompt_tokens=12000,
                          cached_tokens=2000, completion_tokens=800)
    assert (Decimal(floored["model_multiplier"]), Decimal(floored["billed_multiplier"]),
            Decimal(floored["credits"])) == (Decimal("0.4"), Decimal("0.5"), Decimal("0.225"))
    missing = await _json(alice, f"{BILLING}/quote", model="deepseek", prompt_tokens=12000,
                          completion_tokens=800)
    assert missing["cached_tokens"] is None and Decimal(missing["credits"]) == Decimal("0.5")
    searching = await _json(alice, f"{BILLING}/quote", model="deepseek", prompt_tokens=12000,
                            completion_tokens=800, web_searches=2)
    assert Decimal(searching["credits"]) == Decimal("0.5") + Decimal(searching["tool_credits"])
    assert Decimal(searching["tool_credits"]) > 0

    assert_error(await alice.get(f"{BILLING}/quote", params={
        "model": "gpt-9", "prompt_tokens": 1, "completion_tokens": 1}), 422,
        "unknown_model_alias")
    assert_error(await alice.get(f"{BILLING}/quote", params={
        "model": "qwen", "prompt_tokens": 10, "cached_tokens": 11, "completion_tokens": 1}),
        422, "invalid_tokens")
    assert_error(await alice.get(f"{BILLING}/quote", params={
        "model": "qwen", "prompt_tokens": 1, "completion_tokens": 1,
        "pricing_version": "1999-v0"}), 404, "pricing_version_not_found")


# --- plans and checkout without Stripe --------------------------------------------------------


async def test_plans_without_stripe(alice: httpx.AsyncClient) -> None:
    offer = await _json(alice, f"{BILLING}/plans")
    assert offer["payments_enabled"] is False and offer["topups"] == []
    assert [(p["id"], p["name"], p["monthly_credits"], p["purchasable"])
            for p in offer["plans"]] == [("starter", "Starter", "495.000000", False),
                                         ("pro", "Pro", "1980.000000", False),
                                         ("power", "Power", "4180.000000", False)]
    starter, pro = offer["plans"][0], offer["plans"][1]
    assert "premium" not in starter["models"] and "premium" in pro["models"]


async def test_checkout_and_portal_without_stripe_are_503(alice: httpx.AsyncClient) -> None:
    assert_error(await alice.post(f"{BILLING}/checkout", json={"plan_id": "pro"}), 503,
                 "payments_not_configured")
    assert_error(await alice.post(f"{BILLING}/portal"), 503, "payments_not_configured")


@pytest.mark.parametrize("body", [{}, {"plan_id": "pro", "pack_id": "small"}, {"plan_id": 3}])
async def test_checkout_wants_exactly_one_of_plan_and_pack(alice: httpx.AsyncClient,
                                                          body: Json) -> None:
    assert_error(await alice.post(f"{BILLING}/checkout", json=body), 422, "validation_error")


# --- with Stripe: a fake Stripe API on 127.0.0.1 and signed webhooks --------------------------


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[FakeStripe]:
    with serving(FakeStripe(api_key=KEY)) as server:
        yield server


@pytest.fixture
async def paid(stripe_server: FakeStripe) -> AsyncIterator[FakeApp]:
    """The fakes, with the real Stripe adapter pointed at the fake Stripe."""
    stripe_server.reset()
    payments = StripePayments(KEY, WHSEC, api_base=stripe_server.base_url, timeout_s=5)
    yield fake_app(payments=payments, billing=POLICY)
    await payments.aclose()


@pytest.fixture
async def paid_clients(paid: FakeApp, tmp_path: Path
                       ) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(alice signed in, an anonymous client for Stripe's deliveries) on the paid app."""
    api = make_api(paid, make_settings(tmp_path))
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as ana, \
            httpx.AsyncClient(transport=transport, base_url=BASE_URL) as stripe:
        await sign_in(ana, paid, "alice@example.com")
        yield ana, stripe


def _invoice(fake: FakeApp, user_id: str, *, price_id: str = "price_starter",
             customer: str = "cus_alice") -> Json:
    start = int(fake.clock.now().timestamp())
    return invoice_paid(subscription="sub_alice", customer=customer, price_id=price_id,
                        period_start=start, period_end=start + 30 * DAY_S,
                        billing_reason="subscription_create",
                        subscription_metadata={"user_id": user_id})


async def _deliver(stripe: httpx.AsyncClient, payload: bytes, signature: str | None
                   ) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await stripe.post(WEBHOOK, content=payload, headers=headers)


async def test_plans_with_stripe(paid_clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
                                 ) -> None:
    ana, _ = paid_clients
    offer = await _json(ana, f"{BILLING}/plans")
    assert offer["payments_enabled"] is True
    assert offer["topups"] == [{"id": "small", "credits": "500.000000"}]
    assert {p["id"]: p["purchasable"] for p in offer["plans"]} == {
        "starter": True, "pro": True, "power": False}


async def test_checkout_returns_stripes_url_and_sends_our_metadata(
        paid_clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
        stripe_server: FakeStripe) -> None:
    ana, _ = paid_clients
    user_id = await _user_id(ana)

    response = await ana.post(f"{BILLING}/checkout", json={"plan_id": "pro"})
    assert response.status_code == 200, response.text
    [session] = stripe_server.checkout_sessions.values()
    assert response.json() == {"url": session["url"]}
    body = stripe_server.requests[0].body
    assert body["mode"] == "subscription"
    assert body["line_items"] == [{"price": "price_pro", "quantity": "1"}]
    assert body["metadata"] == {"user_id": user_id, "plan_id": "pro"}
    assert body["customer_email"] == "alice@example.com"

    pack = await ana.post(f"{BILLING}/checkout", json={"pack_id": "small"})
    assert pack.status_code == 200, pack.text
    body = stripe_server.requests[1].body
    assert body["mode"] == "payment"
    assert body["line_items"] == [{"price": "price_small", "quantity": "1"}]
    assert body["metadata"] == {"user_id": user_id, "pack_id": "small", "credits": "500"}

    assert_error(await ana.post(f"{BILLING}/checkout", json={"plan_id": "power"}), 404,
                 "plan_not_found")
    assert_error(await ana.post(f"{BILLING}/checkout", json={"pack_id": "huge"}), 404,
                 "topup_pack_not_found")
    assert len(stripe_server.requests) == 2


async def test_at_010_a_signed_invoice_delivered_five_times_grants_the_plan_once(
        paid: FakeApp, paid_clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
        stripe_server: FakeStripe) -> None:
    ana, stripe = paid_clients
    user_id = await _user_id(ana)
    payload, signature = signed_event(INVOICE_PAID, _invoice(paid, user_id), secret=WHSEC)

    outcomes = []
    for _ in range(5):
        response = await _deliver(stripe, payload, signature)
        assert response.status_code == 200, response.text
        assert response.json()["received"] is True
        outcomes.append(response.json()["outcome"])
    assert outcomes == ["processed"] + ["duplicate"] * 4

    wallet = await _json(ana, f"{BILLING}/wallet")
    assert wallet["plan"] == {"id": "starter", "name": "Starter", "monthly_credits": "495.000000"}
    assert Decimal(wallet["balances"]["plan"]) == 495
    assert Decimal(wallet["balances"]["available"]) == 595
    assert wallet["subscription_status"] == "active" and wallet["period_end"]
    assert "premium" not in wallet["models"]
    grants = [e for e in paid.store.ledger if e.kind is EntryKind.GRANT
              and e.idempotency_key.startswith("invoice:")]
    assert len(grants) == 1 and grants[0].amount == 495

    portal = await ana.post(f"{BILLING}/portal")  # the invoice named the Stripe customer
    assert portal.status_code == 200, portal.text
    [session] = stripe_server.portal_sessions.values()
    assert portal.json() == {"url": session["url"]} and session["customer"] == "cus_alice"


async def test_bad_and_stale_signatures_are_400_and_change_nothing(
        paid: FakeApp, paid_clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
    ana, stripe = paid_clients
    user_id = await _user_id(ana)
    before = (await _json(ana, f"{BILLING}/wallet"))["balances"]
    invoice = _invoice(paid, user_id)

    forged, forged_signature = signed_event(INVOICE_PAID, invoice, secret="whsec_other")
    error = assert_error(await _deliver(stripe, forged, forged_signature), 400,
                         "invalid_signature")
    assert error["details"]["reason"] == "signature_mismatch"

    payload, signature = signed_event(INVOICE_PAID, invoice, secret=WHSEC)
    tampered = payload.replace(b"price_starter", b"price_pro")
    assert_error(await _deliver(stripe, tampered, signature), 400, "invalid_signature")
    missing = assert_error(await _deliver(stripe, payload, None), 400, "invalid_signature")
    assert missing["details"]["reason"] == "missing_header"

    stale_at = int(time.time()) - 301
    stale, stale_signature = signed_event(INVOICE_PAID, invoice, secret=WHSEC,
                                          timestamp=stale_at)
    error = assert_error(await _deliver(stripe, stale, stale_signature), 400,
                         "invalid_signature")
    assert error["details"]["reason"] == "timestamp_outside_tolerance"
    resigned = sign(stale, secret=WHSEC)  # the same bytes, signed now: accepted
    assert (await _deliver(stripe, stale, resigned)).json()["outcome"] == "processed"

    assert paid.store.payment_events.keys() == {_event_id(stale)}
    after = (await _json(ana, f"{BILLING}/wallet"))["balances"]
    assert Decimal(after["plan"]) - Decimal(before["plan"]) == 495  # only the resigned one


def _event_id(payload: bytes) -> str:
    event_id: str = json.loads(payload)["id"]
    return event_id


async def test_an_unmatched_event_is_503_so_stripe_retries(
        paid: FakeApp, paid_clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
    _, stripe = paid_clients
    invoice = _invoice(paid, "usr_nobody", customer="cus_unknown")
    payload, signature = signed_event(INVOICE_PAID, invoice, secret=WHSEC)
    assert_error(await _deliver(stripe, payload, signature), 503, "payment_event_unmatched")
    assert paid.store.payment_events == {}  # the claim rolled back: a retry can succeed


async def test_the_webhook_without_stripe_configured_is_503(client: httpx.AsyncClient) -> None:
    payload, signature = signed_event(INVOICE_PAID, invoice_paid(
        subscription="sub_1", customer="cus_1", price_id="price_starter"), secret=WHSEC)
    assert_error(await _deliver(client, payload, signature), 503, "payments_not_configured")


async def test_an_oversized_webhook_body_is_413(
        paid_clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
    _, stripe = paid_clients
    response = await _deliver(stripe, b"{" + b" " * (1024 * 1024) + b"}", "t=1,v1=00")
    assert_error(response, 413, "request_too_large")


# --- sends refused before anything runs: 402 and 403 -----------------------------------------


async def test_a_send_with_an_empty_wallet_is_402_and_creates_no_turn(tmp_path: Path) -> None:
    broke = fake_app(billing=BillingPolicy(welcome_credits=Decimal(0)))
    api = make_api(broke, make_settings(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api),
                                 base_url=BASE_URL) as ana:
        await sign_in(ana, broke, "ana@example.com")
        room = await chat_room(ana, "Ana")
        url = f"/api/v1/rooms/{room['id']}/messages"
        error = assert_error(await ana.post(url, json={"content": "Hi"}), 402,
                             "insufficient_credits")
        assert Decimal(error["details"]["available"]) == 0
        streamed = await ana.post(url, json={"content": "Hi"},
                                  headers={"Accept": "text/event-stream"})
        assert_error(streamed, 402, "insufficient_credits")
        assert streamed.headers["content-type"].startswith("application/json")

        direct = await ana.post("/api/v1/direct-sessions", json={
            "agent": {"name": "Tess", "model_alias": "qwen"}})
        assert direct.status_code == 201, direct.text
        assert_error(await ana.post(f"/api/v1/direct-sessions/{direct.json()['id']}/messages",
                                    json={"content": "Hi"}), 402, "insufficient_credits")
        assert broke.store.turns == {} and broke.store.calls == []
        assert (await _json(ana, f"{BILLING}/wallet"))["balances"]["available"] == "0.000000"


async def test_a_send_past_the_monthly_cap_is_402(alice: httpx.AsyncClient,
                                                  fake: FakeApp) -> None:
    room = await chat_room(alice, "Ana")
    await _sent_turn(alice, fake, room, "First")
    user_id = await _user_id(alice)
    fake.store.wallets[user_id] = replace(fake.store.wallets[user_id],
                                          monthly_cap=Decimal("0.000001"))
    turns = len(fake.store.turns)
    error = assert_error(await alice.post(f"/api/v1/rooms/{room['id']}/messages",
                                          json={"content": "More"}), 402, "credit_cap_reached")
    assert error["details"]["cap"] == "0.000001"
    assert len(fake.store.turns) == turns
    assert (await _json(alice, f"{BILLING}/wallet"))["monthly_cap"] == "0.000001"


async def test_a_premium_agent_on_the_starter_plan_is_403(
        paid: FakeApp, paid_clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
    ana, stripe = paid_clients
    payload, signature = signed_event(INVOICE_PAID, _invoice(paid, await _user_id(ana)),
                                      secret=WHSEC)
    assert (await _deliver(stripe, payload, signature)).status_code == 200
    room = await chat_room(ana, "Ana")
    added = await ana.post(f"/api/v1/rooms/{room['id']}/agents",
                           json={"name": "Max", "model_alias": "premium"})
    assert added.status_code == 201, added.text

    for accept in ("application/json", "text/event-stream"):
        response = await ana.post(f"/api/v1/rooms/{room['id']}/messages",
                                  json={"content": "Hi all"}, headers={"Accept": accept})
        error = assert_error(response, 403, "model_not_allowed")
        assert error["details"]["models"] == ["premium"]
        assert "premium" not in error["details"]["allowed"]
    direct = await ana.post("/api/v1/direct-sessions", json={
        "agent": {"name": "Max", "model_alias": "premium"}})
    assert_error(await ana.post(f"/api/v1/direct-sessions/{direct.json()['id']}/messages",
                                json={"content": "Hi"}), 403, "model_not_allowed")
    assert paid.store.turns == {}

    paid.clock.advance(seconds=1)
    removed = await ana.delete(f"/api/v1/rooms/{room['id']}/agents/max")
    assert removed.status_code in (200, 204), removed.text
    allowed = await ana.post(f"/api/v1/rooms/{room['id']}/messages",
                             json={"content": "Hi Ana"})
    assert allowed.status_code == 202, allowed.text
    await paid.settle()
