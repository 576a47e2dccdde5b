"""The Stripe ``Payments`` adapter against a fake Stripe on 127.0.0.1; webhook verification
with payloads signed by the SDK's own signer; the settings and bootstrap wiring."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pantheon_adapters.bootstrap import Settings, billing_policy, build_container
from pantheon_adapters.payments.stripe import WEBHOOK_TOLERANCE_S, StripePayments
from pantheon_core.errors import InvalidInput, Unavailable
from pantheon_core.ports.payments import PaymentEvent, Payments
from pantheon_core.usecases.deps import TopUpPack
from tests.fakes import FakeMailer
from tests.integration.fake_stripe import (
    CHARGE_REFUNDED,
    CHECKOUT_COMPLETED,
    INVOICE_PAID,
    INVOICE_PAYMENT_FAILED,
    PROCESSED_KINDS,
    SUBSCRIPTION_DELETED,
    SUBSCRIPTION_UPDATED,
    FakeStripe,
    Reply,
    api_error,
    card_declined,
    charge_refunded,
    checkout_session_completed,
    decode_form,
    hung_reply,
    invalid_api_key,
    invoice_paid,
    invoice_payment_failed,
    malformed_reply,
    no_such_price,
    rate_limited,
    serving,
    sign,
    signed_event,
    stripe_error,
    subscription_deleted,
    subscription_updated,
)

KEY = "sk_test_pantheon_fake_key_0001"
WHSEC = "whsec_test_pantheon_signing_secret"
SUCCESS = "https://pantheon.example/billing?checkout=success"
CANCEL = "https://pantheon.example/billing?checkout=cancelled"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeStripe]:
    with serving(FakeStripe(api_key=KEY)) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeStripe) -> FakeStripe:
    server.reset()
    return server


@pytest.fixture
async def payments(fake: FakeStripe) -> Any:
    adapter = StripePayments(KEY, WHSEC, api_base=fake.base_url, timeout_s=5)
    yield adapter
    await adapter.aclose()


def offline(**options: Any) -> StripePayments:
    """An adapter for ``verify`` only: nothing is ever sent."""
    return StripePayments(KEY, WHSEC, api_base="http://127.0.0.1:9", **options)


async def subscribe(payments: StripePayments, **overrides: Any) -> str:
    options: dict[str, Any] = {
        "mode": "subscription", "price_id": "price_pro_monthly", "quantity": 1,
        "customer_id": None, "email": "ada@example.com", "success_url": SUCCESS,
        "cancel_url": CANCEL, "metadata": {"user_id": "usr_1", "plan_id": "pro"}}
    options.update(overrides)
    return await payments.checkout(**options)


def test_the_adapter_is_a_payments_port() -> None:
    adapter: Payments = offline()
    assert isinstance(adapter, StripePayments)


# --- checkout and portal ---------------------------------------------------------------------


async def test_a_subscription_checkout_sends_stripes_parameters(
        fake: FakeStripe, payments: StripePayments) -> None:
    url = await subscribe(payments, customer_id="cus_known")

    [received] = fake.requests
    assert received.path == "/v1/checkout/sessions"
    assert received.headers["authorization"] == f"Bearer {KEY}"
    assert received.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert received.headers.get("idempotency-key")  # so an SDK retry never makes two sessions
    body = received.body
    assert body["mode"] == "subscription"
    assert body["line_items"] == [{"price": "price_pro_monthly", "quantity": "1"}]
    assert (body["success_url"], body["cancel_url"]) == (SUCCESS, CANCEL)
    assert body["metadata"] == {"user_id": "usr_1", "plan_id": "pro"}
    assert body["subscription_data"] == {"metadata": {"user_id": "usr_1", "plan_id": "pro"}}
    assert body["client_reference_id"] == "usr_1"
    assert body["customer"] == "cus_known"
    assert "customer_email" not in body and "customer_creation" not in body
    assert "payment_intent_data" not in body
    [session] = fake.checkout_sessions.values()
    assert url == session["url"] and url.startswith("https://checkout.stripe.test/c/pay/cs_test_")
    assert session["customer"] == "cus_known" and session["mode"] == "subscription"


async def test_a_top_up_checkout_is_a_payment_with_the_email_prefilled(
        fake: FakeStripe, payments: StripePayments) -> None:
    url = await payments.checkout(
        mode="payment", price_id="price_pack_500", quantity=2, customer_id=None,
        email="ada@example.com", success_url=SUCCESS, cancel_url=CANCEL,
        metadata={"user_id": "usr_1", "pack_id": "small"})

    body = fake.requests[0].body
    assert body["mode"] == "payment"
    assert body["line_items"] == [{"price": "price_pack_500", "quantity": "2"}]
    assert body["customer_email"] == "ada@example.com" and "customer" not in body
    assert body["customer_creation"] == "always"  # so the portal works for top-up buyers
    assert body["metadata"] == {"user_id": "usr_1", "pack_id": "small"}
    assert body["payment_intent_data"] == {"metadata": {"user_id": "usr_1", "pack_id": "small"}}
    assert "subscription_data" not in body
    assert url.startswith("https://checkout.stripe.test/")


async def test_without_a_user_id_no_client_reference_is_sent(
        fake: FakeStripe, payments: StripePayments) -> None:
    await subscribe(payments, metadata={"plan_id": "starter"})
    assert "client_reference_id" not in fake.requests[0].body


async def test_the_portal_opens_for_a_customer(fake: FakeStripe,
                                               payments: StripePayments) -> None:
    url = await payments.portal(customer_id="cus_known",
                                return_url="https://pantheon.example/billing")

    [received] = fake.requests
    assert received.path == "/v1/billing_portal/sessions"
    assert received.body == {"customer": "cus_known",
                             "return_url": "https://pantheon.example/billing"}
    [session] = fake.portal_sessions.values()
    assert url == session["url"] and url.startswith("https://billing.stripe.test/p/session/")


@pytest.mark.parametrize(("reply", "status", "said"), [
    (card_declined(), 402, "Your card was declined."),
    (no_such_price("price_gone"), 400, "No such price: 'price_gone'"),
    (rate_limited(), 429, "Request rate limit exceeded"),
    (api_error(), 500, "An unknown error occurred"),
    (stripe_error(403, "The provided key does not have the required permissions.",
                  type="invalid_request_error"), 403, "required permissions"),
])
async def test_stripe_errors_are_payments_unavailable(
        fake: FakeStripe, payments: StripePayments, reply: Reply, status: int,
        said: str) -> None:
    fake.script(reply)
    with pytest.raises(Unavailable) as caught:
        await subscribe(payments)
    error = caught.value
    assert error.code == "payments_unavailable"
    assert said in error.message
    assert error.details["status"] == status and error.details["provider"] == "stripe"
    assert error.details["request_id"].startswith("req_")
    assert len(fake.requests) == 1  # not retried: Stripe said so, or a 4xx


async def test_a_rejected_key_says_to_check_the_key(fake: FakeStripe) -> None:
    wrong = StripePayments("sk_test_not_the_right_one_9999", WHSEC, api_base=fake.base_url)
    try:
        with pytest.raises(Unavailable) as caught:
            await wrong.portal(customer_id="cus_1", return_url="https://x.example")
    finally:
        await wrong.aclose()
    error = caught.value
    assert error.code == "payments_unavailable" and error.details["status"] == 401
    assert "PANTHEON_STRIPE_SECRET_KEY" in error.message
    assert "Invalid API Key provided" in error.message
    assert "sk_test_not_the_right_one_9999" not in error.message  # Stripe masks it


async def test_a_scripted_auth_error_is_mapped_the_same(fake: FakeStripe,
                                                        payments: StripePayments) -> None:
    fake.script(invalid_api_key())
    with pytest.raises(Unavailable, match="PANTHEON_STRIPE_SECRET_KEY"):
        await subscribe(payments)


async def test_fake_stripe_rejects_what_stripe_rejects(fake: FakeStripe,
                                                       payments: StripePayments) -> None:
    with pytest.raises(Unavailable) as caught:
        await payments.portal(customer_id="", return_url="https://x.example")
    assert caught.value.details["stripe_code"] == "parameter_missing"
    assert "Missing required param: customer." in caught.value.message


async def test_a_retryable_failure_is_retried_with_the_same_idempotency_key(
        fake: FakeStripe, payments: StripePayments) -> None:
    fake.script(stripe_error(503, "Service unavailable", type="api_error"))
    url = await subscribe(payments)
    assert url.startswith("https://checkout.stripe.test/")
    first, second = fake.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


async def test_an_unreachable_stripe_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = StripePayments(KEY, WHSEC, api_base=f"http://127.0.0.1:{port}",
                             max_network_retries=0)
    try:
        with pytest.raises(Unavailable, match="Could not reach Stripe") as caught:
            await subscribe(adapter)
    finally:
        await adapter.aclose()
    assert caught.value.code == "payments_unavailable"


async def test_a_hung_stripe_times_out(fake: FakeStripe) -> None:
    adapter = StripePayments(KEY, WHSEC, api_base=fake.base_url, timeout_s=0.3,
                             max_network_retries=0)
    fake.script(hung_reply(3))
    started = time.monotonic()
    try:
        with pytest.raises(Unavailable, match="Could not reach Stripe"):
            await subscribe(adapter)
    finally:
        await adapter.aclose()
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("reply", [
    malformed_reply(),
    Reply(body={"id": "cs_test_nourl", "object": "checkout.session", "url": None}),
])
async def test_a_broken_answer_is_unavailable(fake: FakeStripe, payments: StripePayments,
                                              reply: Reply) -> None:
    fake.script(reply)
    with pytest.raises(Unavailable) as caught:
        await subscribe(payments)
    assert caught.value.code == "payments_unavailable"


def test_the_fake_decodes_stripes_nested_form_keys() -> None:
    body = ("mode=subscription&line_items[0][price]=p1&line_items[0][quantity]=1"
            "&line_items[1][price]=p2&metadata[user_id]=u&subscription_data[metadata][a]=b"
            "&empty=")
    assert decode_form(body) == {
        "mode": "subscription", "line_items": [{"price": "p1", "quantity": "1"},
                                               {"price": "p2"}],
        "metadata": {"user_id": "u"}, "subscription_data": {"metadata": {"a": "b"}},
        "empty": ""}


# --- webhooks --------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    CHECKOUT_COMPLETED: lambda: checkout_session_completed(
        user_id="usr_1", plan_id="pro", customer="cus_1", subscription="sub_1"),
    INVOICE_PAID: lambda: invoice_paid(subscription="sub_1", customer="cus_1",
                                       price_id="price_pro", billing_reason="subscription_create"),
    INVOICE_PAYMENT_FAILED: lambda: invoice_payment_failed(
        subscription="sub_1", customer="cus_1", price_id="price_pro"),
    SUBSCRIPTION_UPDATED: lambda: subscription_updated(
        subscription_id="sub_1", customer="cus_1", price_id="price_power",
        metadata={"user_id": "usr_1", "plan_id": "pro"}),
    SUBSCRIPTION_DELETED: lambda: subscription_deleted(
        subscription_id="sub_1", customer="cus_1", price_id="price_pro"),
    CHARGE_REFUNDED: lambda: charge_refunded(amount=500, payment_intent="pi_1",
                                             metadata={"user_id": "usr_1", "pack_id": "small"}),
}


def _only_plain(value: Any) -> None:
    assert type(value) in (dict, list, str, int, float, bool, type(None)), type(value)
    if isinstance(value, dict):
        for item in value.values():
            _only_plain(item)
    elif isinstance(value, list):
        for item in value:
            _only_plain(item)


@pytest.mark.parametrize("kind", PROCESSED_KINDS)
def test_a_good_signature_gives_the_event_with_plain_data(kind: str) -> None:
    data_object = BUILDERS[kind]()
    payload, header = signed_event(kind, data_object, secret=WHSEC, event_id="evt_1",
                                   timestamp=int(time.time()) - 5)

    event = offline().verify(payload, header)

    assert isinstance(event, PaymentEvent)
    assert (event.id, event.kind) == ("evt_1", kind)
    assert event.created == json.loads(payload)["created"]
    assert type(event.data) is dict
    _only_plain(event.data)
    assert event.data == json.loads(json.dumps(data_object))


def test_the_event_builders_have_stripes_shapes() -> None:
    checkout = checkout_session_completed(user_id="usr_1", mode="payment", pack_id="small",
                                          amount_total=500)
    assert checkout["metadata"] == {"user_id": "usr_1", "pack_id": "small"}
    assert checkout["payment_intent"].startswith("pi_") and checkout["subscription"] is None
    assert checkout["client_reference_id"] == "usr_1" and checkout["amount_total"] == 500

    paid = invoice_paid(subscription="sub_1", customer="cus_1", price_id="price_pro",
                        period_start=1_000, period_end=2_000)
    line = paid["lines"]["data"][0]
    assert paid["id"].startswith("in_") and paid["billing_reason"] == "subscription_cycle"
    assert line["period"] == {"start": 1_000, "end": 2_000}
    assert paid["subscription"] == "sub_1" and line["price"]["id"] == "price_pro"
    assert paid["parent"]["subscription_details"]["subscription"] == "sub_1"
    assert line["pricing"]["price_details"]["price"] == "price_pro"

    current = invoice_paid(subscription="sub_1", customer="cus_1", price_id="price_pro",
                           shape="current")
    assert "subscription" not in current and "price" not in current["lines"]["data"][0]
    legacy = subscription_updated(subscription_id="sub_1", customer="cus_1",
                                  price_id="price_pro", shape="legacy")
    assert "current_period_end" in legacy
    assert "current_period_end" not in legacy["items"]["data"][0]
    deleted = subscription_deleted(subscription_id="sub_1", customer="cus_1",
                                   price_id="price_pro")
    assert deleted["status"] == "canceled" and deleted["ended_at"]
    refund = charge_refunded(amount=500, amount_refunded=200, payment_intent="pi_1")
    assert refund["refunded"] is False and refund["amount_refunded"] == 200


def test_a_redelivery_is_the_same_event() -> None:
    payload, header = signed_event(INVOICE_PAID, BUILDERS[INVOICE_PAID](), secret=WHSEC)
    later = sign(payload, secret=WHSEC, timestamp=int(time.time()) + 60)
    adapter = offline()
    assert adapter.verify(payload, header) == adapter.verify(payload, later)


def _rejected(payload: bytes, header: str, *, secret: str = WHSEC) -> InvalidInput:
    adapter = StripePayments(KEY, secret, api_base="http://127.0.0.1:9")
    with pytest.raises(InvalidInput) as caught:
        adapter.verify(payload, header)
    assert caught.value.code == "invalid_signature"
    return caught.value


def test_a_tampered_body_is_rejected() -> None:
    payload, header = signed_event(CHECKOUT_COMPLETED, BUILDERS[CHECKOUT_COMPLETED](),
                                   secret=WHSEC)
    tampered = payload.replace(b'"usr_1"', b'"usr_2"')
    assert tampered != payload
    error = _rejected(tampered, header)
    assert error.details["reason"] == "signature_mismatch"
    assert "PANTHEON_STRIPE_WEBHOOK_SECRET" in error.message


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    payload, header = signed_event(CHARGE_REFUNDED, BUILDERS[CHARGE_REFUNDED](),
                                   secret="whsec_someone_else")
    assert _rejected(payload, header).details["reason"] == "signature_mismatch"


def test_a_stale_signature_is_rejected_and_a_recent_one_accepted() -> None:
    now = int(time.time())
    stale = now - WEBHOOK_TOLERANCE_S - 30
    payload, header = signed_event(INVOICE_PAID, BUILDERS[INVOICE_PAID](), secret=WHSEC,
                                   timestamp=stale)
    error = _rejected(payload, header)
    assert error.details == {"reason": "timestamp_outside_tolerance", "timestamp": stale,
                             "tolerance_s": 300}
    assert "300 s" in error.message

    payload, header = signed_event(INVOICE_PAID, BUILDERS[INVOICE_PAID](), secret=WHSEC,
                                   timestamp=now - WEBHOOK_TOLERANCE_S + 30)
    assert offline().verify(payload, header).kind == INVOICE_PAID


@pytest.mark.parametrize(("header", "reason"), [
    ("", "missing_header"),
    ("   ", "missing_header"),
    ("garbage", "malformed_header"),
    ("t=yesterday,v1=abcdef", "malformed_header"),
    ("v1=abcdef", "malformed_header"),
    # ids of their own: a test id must not change with the second it was collected in
    # (pytest -n collects once per process and refuses to run if the ids differ)
    pytest.param(f"t={int(time.time())}", "malformed_header", id="t=now-malformed_header"),
    pytest.param(f"t={int(time.time())},v0=abcdef", "malformed_header",
                 id="t=now,v0=abcdef-malformed_header"),
])
def test_a_malformed_header_is_rejected(header: str, reason: str) -> None:
    payload, _ = signed_event(INVOICE_PAID, BUILDERS[INVOICE_PAID](), secret=WHSEC)
    assert _rejected(payload, header).details["reason"] == reason


@pytest.mark.parametrize("payload", [
    b"this is not json",
    b'{"id": "evt_1", "type": "invoice.paid"',
    b"\xff\xfe not utf-8",
    b'{"hello": "world"}',
    b"[1, 2]",
    b"null",
    b'{"id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1, "data": {}}',
])
def test_a_signed_body_that_is_not_an_event_is_rejected(payload: bytes) -> None:
    header = (sign(payload, secret=WHSEC) if payload.isascii()
              else f"t={int(time.time())},v1=00")  # the SDK's signer needs text
    assert _rejected(payload, header).details["reason"] == "malformed_payload"


def test_a_thin_event_notification_is_not_a_webhook_event() -> None:
    payload = json.dumps({"id": "evt_thin", "object": "v2.core.event",
                          "type": "v1.billing.meter.error_report_triggered",
                          "created": "2026-01-01T00:00:00Z"}).encode()
    assert _rejected(payload, sign(payload, secret=WHSEC)).details["reason"] == (
        "malformed_payload")


# --- settings and bootstrap ------------------------------------------------------------------


def test_stripe_is_off_without_a_key_and_needs_a_webhook_secret_with_one(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.stripe_secret_key is None and settings.stripe_topups == []
    assert settings.welcome_credits == Decimal(100)
    with pytest.raises(ValidationError, match="PANTHEON_STRIPE_WEBHOOK_SECRET is required"):
        Settings(data_dir=tmp_path, stripe_secret_key=KEY)
    with pytest.raises(ValidationError, match="publishable key"):
        Settings(data_dir=tmp_path, stripe_secret_key="pk_test_123", stripe_webhook_secret=WHSEC)


def test_the_billing_policy_comes_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTHEON_STRIPE_TOPUPS", json.dumps([
        {"id": "small", "credits": "500", "price_id": "price_small"},
        {"id": "large", "credits": 2500.5, "price_id": "price_large"}]))
    monkeypatch.setenv("PANTHEON_STRIPE_PRICE_STARTER", "price_starter")
    monkeypatch.setenv("PANTHEON_STRIPE_PRICE_POWER", "price_power")
    monkeypatch.setenv("PANTHEON_WELCOME_CREDITS", "25.5")
    monkeypatch.setenv("PANTHEON_BILLING_CANCEL_URL", "https://elsewhere.example/cancel")
    settings = Settings(data_dir=tmp_path, public_url="https://pantheon.example/")

    policy = billing_policy(settings)

    assert policy.topups == (TopUpPack("small", Decimal(500), "price_small"),
                             TopUpPack("large", Decimal("2500.5"), "price_large"))
    assert dict(policy.plan_prices) == {"starter": "price_starter", "power": "price_power"}
    assert policy.welcome_credits == Decimal("25.5")
    assert policy.success_url == "https://pantheon.example/billing?checkout=success"
    assert policy.cancel_url == "https://elsewhere.example/cancel"
    assert policy.portal_return_url == "https://pantheon.example/billing"


@pytest.mark.parametrize("topups", [
    '[{"id": "a", "credits": 10, "price_id": "p"}, {"id": "a", "credits": 20, "price_id": "q"}]',
    '[{"id": "a", "credits": 0, "price_id": "p"}]',
    '[{"id": "a", "credits": 10}]',
    "not json",
])
def test_bad_top_up_settings_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         topups: str) -> None:
    monkeypatch.setenv("PANTHEON_STRIPE_TOPUPS", topups)
    with pytest.raises((ValidationError, ValueError)):
        Settings(data_dir=tmp_path)


async def test_the_container_has_no_payments_without_a_key(tmp_path: Path) -> None:
    container = await build_container(Settings(data_dir=tmp_path, jobs_in_process=False),
                                      mailer=FakeMailer())
    try:
        deps = container.use_cases.run_job.deps
        assert deps.payments is None
        assert deps.billing.success_url == "http://127.0.0.1:8000/billing?checkout=success"
    finally:
        await container.aclose()


async def test_the_container_wires_stripe_from_settings(tmp_path: Path,
                                                        fake: FakeStripe) -> None:
    settings = Settings(data_dir=tmp_path, jobs_in_process=False, stripe_secret_key=KEY,
                        stripe_webhook_secret=WHSEC, stripe_api_base=fake.base_url,
                        stripe_price_pro="price_pro")
    container = await build_container(settings, mailer=FakeMailer())
    try:
        deps = container.use_cases.run_job.deps
        assert isinstance(deps.payments, StripePayments)
        assert dict(deps.billing.plan_prices) == {"pro": "price_pro"}
        url = await deps.payments.portal(customer_id="cus_1", return_url="https://x.example")
        assert url.startswith("https://billing.stripe.test/")
        payload, header = signed_event(INVOICE_PAID, BUILDERS[INVOICE_PAID](), secret=WHSEC)
        assert deps.payments.verify(payload, header).kind == INVOICE_PAID
    finally:
        await container.aclose()


async def test_a_given_payments_adapter_is_used_as_is(tmp_path: Path) -> None:
    given = offline()
    settings = Settings(data_dir=tmp_path, jobs_in_process=False, stripe_secret_key=KEY,
                        stripe_webhook_secret=WHSEC)
    container = await build_container(settings, mailer=FakeMailer(), payments=given)
    try:
        assert container.use_cases.run_job.deps.payments is given
    finally:
        await container.aclose()
        await given.aclose()
