"""AT-010 on fakes: a payment event delivered many times, and events in any order, grant once.
(The same against SQLite and PostgreSQL, concurrently and with real signatures, is in
``tests/integration/test_billing_sql.py``.)"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from pantheon_core.actor import Actor
from pantheon_core.domain.wallets import EntryKind
from pantheon_core.errors import InvalidInput, Unavailable
from pantheon_core.ports.payments import PaymentEvent
from pantheon_core.usecases.deps import BillingPolicy, TopUpPack
from tests.fakes import FakeApp, fake_app

POLICY = BillingPolicy(plan_prices={"starter": "price_starter", "pro": "price_pro"},
                       topups=(TopUpPack("pack_500", Decimal(500), "price_pack_500"),))


class FakePayments:
    """Our own port's fake: a payload is genuine when signed ``good``."""

    def __init__(self) -> None:
        self.checkouts: list[dict[str, Any]] = []

    async def checkout(self, **kwargs: Any) -> str:
        self.checkouts.append(kwargs)
        return f"https://checkout.test/{len(self.checkouts)}"

    async def portal(self, *, customer_id: str, return_url: str) -> str:
        return f"https://portal.test/{customer_id}"

    def verify(self, payload: bytes, signature: str) -> PaymentEvent:
        if signature != "good":
            raise InvalidInput("Bad signature.", code="invalid_signature")
        raw = json.loads(payload)
        return PaymentEvent(id=raw["id"], kind=raw["type"], created=raw["created"],
                            data=raw["data"]["object"])


_ids = itertools.count(1)


def event(kind: str, obj: Mapping[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps({"id": event_id or f"evt_{next(_ids)}", "type": kind,
                       "created": 1_790_000_000, "data": {"object": obj}}).encode()


async def setup() -> tuple[FakeApp, Actor]:
    app = fake_app(payments=FakePayments(), billing=POLICY)
    actor = await app.uc.act_as(Actor.operator(), "ana@example.com")
    await app.uc.get_wallet(actor)
    return app, actor


def invoice(app: FakeApp, actor: Actor, invoice_id: str, *, days: int = 30,
            price: str = "price_pro") -> dict[str, Any]:
    now = int(app.clock.now().timestamp())
    return {"id": invoice_id, "object": "invoice", "customer": "cus_1",
            "subscription": "sub_1", "billing_reason": "subscription_cycle",
            "subscription_details": {"metadata": {"user_id": actor.require_user()}},
            "lines": {"data": [{"price": {"id": price},
                                "period": {"start": now, "end": now + days * 86400}}]}}


async def test_at_010_one_invoice_delivered_many_times_grants_once() -> None:
    app, actor = await setup()
    payload = event("invoice.paid", invoice(app, actor, "in_1"), "evt_same")
    outcomes = [await app.uc.handle_payment_event(payload, "good") for _ in range(5)]
    assert outcomes == ["processed"] + ["duplicate"] * 4
    view = await app.uc.get_wallet(actor)
    assert view.wallet.plan_balance == Decimal(1980) and view.wallet.plan_id == "pro"
    grants = [e for e in app.store.ledger if e.kind is EntryKind.GRANT
              and e.idempotency_key == "invoice:in_1"]
    assert len(grants) == 1


async def test_at_010_two_events_for_one_invoice_grant_once() -> None:
    app, actor = await setup()
    body = invoice(app, actor, "in_2")
    await app.uc.handle_payment_event(event("invoice.paid", body), "good")
    await app.uc.handle_payment_event(event("invoice.paid", body), "good")  # another event id
    assert (await app.uc.get_wallet(actor)).wallet.plan_balance == Decimal(1980)


async def test_at_010_out_of_order_periods_never_go_backwards() -> None:
    app, actor = await setup()
    old = invoice(app, actor, "in_old", days=10)
    new = invoice(app, actor, "in_new", days=40)
    await app.uc.handle_payment_event(event("invoice.paid", new), "good")
    await app.uc.handle_payment_event(event("invoice.paid", old), "good")  # late, superseded
    view = await app.uc.get_wallet(actor)
    assert view.wallet.plan_balance == Decimal(1980)
    assert view.wallet.period_end is not None
    assert view.wallet.period_end - app.clock.now() > timedelta(days=39)


async def test_at_010_top_up_checkout_grants_the_pack_once() -> None:
    app, actor = await setup()
    session = {"id": "cs_1", "object": "checkout.session", "mode": "payment",
               "payment_status": "paid", "customer": "cus_9", "payment_intent": "pi_1",
               "metadata": {"user_id": actor.require_user(), "pack_id": "pack_500"}}
    for _ in range(3):
        await app.uc.handle_payment_event(event("checkout.session.completed", session), "good")
    view = await app.uc.get_wallet(actor)
    assert view.wallet.topup_balance == Decimal(600)  # 100 welcome + 500
    assert view.wallet.stripe_customer_id == "cus_9"


async def test_at_010_refund_takes_back_the_pack() -> None:
    app, actor = await setup()
    session = {"id": "cs_2", "mode": "payment", "payment_status": "paid", "customer": "cus_2",
               "metadata": {"user_id": actor.require_user(), "pack_id": "pack_500"}}
    await app.uc.handle_payment_event(event("checkout.session.completed", session), "good")
    charge = {"id": "ch_1", "object": "charge", "amount": 2000, "amount_refunded": 1000,
              "customer": "cus_2", "metadata": {"user_id": actor.require_user(),
                                                "pack_id": "pack_500"}}
    payload = event("charge.refunded", charge)
    await app.uc.handle_payment_event(payload, "good")
    await app.uc.handle_payment_event(payload, "good")
    assert (await app.uc.get_wallet(actor)).wallet.topup_balance == Decimal(350)
    full = {**charge, "amount_refunded": 2000}
    await app.uc.handle_payment_event(event("charge.refunded", full), "good")
    assert (await app.uc.get_wallet(actor)).wallet.topup_balance == Decimal(100)


async def test_at_010_subscription_lifecycle() -> None:
    app, actor = await setup()
    user = actor.require_user()
    sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
           "metadata": {"user_id": user}, "items": {"data": [{"price": {"id": "price_starter"}}]}}
    await app.uc.handle_payment_event(event("customer.subscription.updated", sub), "good")
    assert (await app.uc.get_wallet(actor)).wallet.plan_id == "starter"
    await app.uc.handle_payment_event(event("invoice.payment_failed",
                                            {"id": "in_9", "customer": "cus_1"}), "good")
    assert (await app.uc.get_wallet(actor)).wallet.subscription_status == "past_due"
    await app.uc.handle_payment_event(event("customer.subscription.deleted",
                                            {**sub, "status": "canceled"}), "good")
    view = await app.uc.get_wallet(actor)
    assert view.wallet.plan_id is None and view.wallet.subscription_status == "canceled"


async def test_at_010_bad_signatures_change_nothing() -> None:
    app, actor = await setup()
    payload = event("invoice.paid", invoice(app, actor, "in_3"))
    with pytest.raises(InvalidInput) as caught:
        await app.uc.handle_payment_event(payload, "forged")
    assert caught.value.code == "invalid_signature"
    assert (await app.uc.get_wallet(actor)).wallet.plan_balance == 0
    assert await app.uc.handle_payment_event(payload, "good") == "processed"


async def test_at_010_an_unmatched_event_is_retried_not_swallowed() -> None:
    app, _ = await setup()
    orphan = {"id": "in_x", "customer": "cus_unknown",
              "lines": {"data": [{"price": {"id": "price_pro"}, "period": {"end": 2_000_000_000}}]}}
    payload = event("invoice.paid", orphan, "evt_orphan")
    with pytest.raises(Unavailable) as caught:
        await app.uc.handle_payment_event(payload, "good")
    assert caught.value.code == "payment_event_unmatched"
    assert "evt_orphan" not in app.store.payment_events  # type: ignore[attr-defined]


async def test_checkout_without_payments_is_503() -> None:
    app = fake_app()
    actor = await app.uc.act_as(Actor.operator(), "ana@example.com")
    with pytest.raises(Unavailable) as caught:
        await app.uc.start_checkout(actor, plan_id="pro")
    assert caught.value.code == "payments_not_configured"


async def test_checkout_sends_our_metadata() -> None:
    app, actor = await setup()
    url = await app.uc.start_checkout(actor, plan_id="pro")
    assert url.startswith("https://checkout.test/")
    [sent] = app.uc.start_checkout.deps.payments.checkouts  # type: ignore[union-attr]
    assert sent["mode"] == "subscription" and sent["price_id"] == "price_pro"
    assert sent["metadata"] == {"user_id": actor.require_user(), "plan_id": "pro"}
    await app.uc.start_checkout(actor, pack_id="pack_500")
    assert app.uc.start_checkout.deps.payments.checkouts[-1]["mode"] == "payment"  # type: ignore[union-attr]
