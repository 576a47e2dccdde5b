"""Credits and payments on the real SQL adapter, on SQLite and PostgreSQL (DESIGN §5,
FR-BILL-*, AT-010): webhooks applied once whatever the concurrency and order of deliveries,
no overdraft when many turns share a small wallet, reconciliation that finds tampering, and
the sweep of holds left by a crashed call.

The unit tests prove these rules on the fake unit of work; here they meet real
transactions, row locks, unique constraints and triggers.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from pantheon_adapters.payments.stripe import WEBHOOK_TOLERANCE_S, StripePayments
from pantheon_adapters.sql.tables import (
    credit_transactions,
    llm_call_events,
    payment_events,
    wallets,
)
from pantheon_core.actor import Actor
from pantheon_core.domain.turns import Turn
from pantheon_core.domain.wallets import Bucket, EntryKind, grant, open_holds
from pantheon_core.engine.charging import CreditMeter
from pantheon_core.errors import InvalidInput, PaymentRequired, Unavailable
from pantheon_core.ids import UserId
from pantheon_core.ports.chat_model import Usage
from pantheon_core.usecases.deps import BillingPolicy
from pantheon_core.usecases.ledger import apply, open_wallet
from tests.fake_chat import Reply
from tests.integration.billing_helpers import (
    POLICY,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    BillingApp,
    assert_wallet_is_its_ledger,
    billing_app,
    count_rows,
    ledger_of,
    usage_of,
    wallet_of,
)
from tests.integration.fake_stripe import (
    CHARGE_REFUNDED,
    CHECKOUT_COMPLETED,
    INVOICE_PAID,
    MONTH,
    SUBSCRIPTION_UPDATED,
    charge_refunded,
    checkout_session_completed,
    invoice_paid,
    new_id,
    signed_event,
    subscription_updated,
)

PRO_CREDITS = Decimal(1980)
PACK_CREDITS = Decimal(500)


@pytest.fixture
async def stripe_app(database_url: str) -> AsyncIterator[BillingApp]:
    """Use cases with the real Stripe adapter: verifying a webhook needs no network, so its
    API address is a port nothing listens on."""
    payments = StripePayments(STRIPE_KEY, WEBHOOK_SECRET, api_base="http://127.0.0.1:9")
    try:
        async with billing_app(database_url, payments=payments) as app:
            yield app
    finally:
        await payments.aclose()


# --- AT-010: webhooks -----------------------------------------------------------------------


async def test_at_010_one_invoice_delivered_20_times_concurrently_grants_once(
        stripe_app: BillingApp) -> None:
    app = stripe_app
    user = (await app.uc.act_as(Actor.operator(), "ana@example.com")).require_user()
    invoice = invoice_paid(subscription=new_id("sub"), customer=new_id("cus"),
                           price_id="price_pro", billing_reason="subscription_create",
                           subscription_metadata={"user_id": user, "plan_id": "pro"})
    payload, signature = signed_event(INVOICE_PAID, invoice, secret=WEBHOOK_SECRET)
    outcomes: list[str] = []

    async def deliver() -> None:  # each delivery is its own request, its own unit of work
        outcomes.append(await app.uc.handle_payment_event(payload, signature))

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(deliver)

    assert Counter(outcomes) == {"processed": 1, "duplicate": 19}
    wallet = await assert_wallet_is_its_ledger(app, user)
    assert (wallet.plan_id, wallet.plan_balance) == ("pro", PRO_CREDITS)
    assert wallet.topup_balance == POLICY.welcome_credits
    grants = [e for e in await ledger_of(app, user) if e.kind is EntryKind.GRANT
              and e.bucket is Bucket.PLAN]
    assert [e.idempotency_key for e in grants] == [f"invoice:{invoice['id']}"]
    assert await count_rows(app, payment_events) == 1


def _lifecycle(user: str) -> tuple[list[tuple[str, bytes, str]], datetime]:
    """One user's events, each signed once: ``(event id, payload, signature)``, and the end
    of the later period paid. A Pro
    subscription bought at checkout, its first and second periods paid, the subscription
    updated, a 500-credit top-up bought and refunded in full."""
    customer, subscription, intent = new_id("cus"), new_id("sub"), new_id("pi")
    now = int(time.time())
    meta = {"user_id": user, "plan_id": "pro"}
    pack = {"user_id": user, "pack_id": "pack_500", "credits": "500"}
    objects: list[tuple[str, dict[str, Any]]] = [
        (CHECKOUT_COMPLETED, checkout_session_completed(
            user_id=user, mode="subscription", plan_id="pro", customer=customer,
            subscription=subscription)),
        (INVOICE_PAID, invoice_paid(
            subscription=subscription, customer=customer, price_id="price_pro",
            period_start=now, period_end=now + MONTH, billing_reason="subscription_create",
            subscription_metadata=meta)),
        (SUBSCRIPTION_UPDATED, subscription_updated(
            subscription_id=subscription, customer=customer, price_id="price_pro",
            metadata=meta)),
        (INVOICE_PAID, invoice_paid(
            subscription=subscription, customer=customer, price_id="price_pro",
            period_start=now + MONTH, period_end=now + 2 * MONTH,
            billing_reason="subscription_cycle", subscription_metadata=meta)),
        (CHARGE_REFUNDED, charge_refunded(amount=4900, payment_intent=intent,
                                          customer=customer, metadata=pack)),
        (CHECKOUT_COMPLETED, checkout_session_completed(
            user_id=user, mode="payment", pack_id="pack_500", customer=customer,
            payment_intent=intent, amount_total=4900, metadata={"credits": "500"})),
    ]
    events = []
    for kind, obj in objects:
        event_id = new_id("evt")
        payload, signature = signed_event(kind, obj, secret=WEBHOOK_SECRET, event_id=event_id)
        events.append((event_id, payload, signature))
    return events, datetime.fromtimestamp(now + 2 * MONTH, tz=UTC)


async def _deliver_like_stripe(app: BillingApp,
                               deliveries: list[tuple[str, bytes, str]]
                               ) -> tuple[Counter[str], int]:
    """Deliver in the given order; a delivery answered 503 (``Unavailable``: the event does
    not match anything yet) is delivered again later, as Stripe retries. Returns each
    event id's non-duplicate outcomes, and how many deliveries were refused."""
    queue = list(deliveries)
    applied: Counter[str] = Counter()
    retries = 0
    while queue:
        event_id, payload, signature = queue.pop(0)
        try:
            outcome = await app.uc.handle_payment_event(payload, signature)
        except Unavailable as exc:
            codes = {exc.code}
            retries += 1
            assert codes == {"payment_event_unmatched"} and retries <= 50, \
                "an event was refused for good"
            queue.append((event_id, payload, signature))
            continue
        if outcome != "duplicate":
            applied[event_id] += 1
    return applied, retries


async def test_at_010_events_in_any_order_and_repeated_end_in_the_same_wallet(
        stripe_app: BillingApp) -> None:
    app = stripe_app
    orders: list[tuple[str, list[int]]] = [("as listed", [0, 1, 2, 3, 4, 5]),
                                           ("reversed", [5, 4, 3, 2, 1, 0])]
    for seed in range(6):
        shuffled = list(range(6))
        random.Random(seed).shuffle(shuffled)
        orders.append((f"seed {seed}", shuffled))
    finals = {}
    for number, (label, order) in enumerate(orders):
        user = (await app.uc.act_as(Actor.operator(), f"buyer{number}@example.com")
                ).require_user()
        events, period_two_end = _lifecycle(user)
        rng = random.Random(1000 + number)
        deliveries = [events[i] for i in order]
        for again in rng.sample(events, 3):  # redeliveries, anywhere after the first
            first = deliveries.index(again)
            deliveries.insert(rng.randint(first + 1, len(deliveries)), again)

        applied, refused = await _deliver_like_stripe(app, deliveries)
        if label == "as listed":  # the refund came before its top-up: it waits for it
            assert refused >= 1

        assert applied == Counter({event_id: 1 for event_id, _, _ in events}), label
        wallet = await assert_wallet_is_its_ledger(app, user)
        assert wallet.stripe_customer_id is not None and wallet.subscription_id is not None
        finals[label] = (wallet.plan_balance, wallet.topup_balance, wallet.plan_id,
                         wallet.subscription_status)
        assert wallet.period_end == period_two_end, label  # the later period stands
    expected = finals["as listed"]
    assert {label: final for label, final in finals.items() if final != expected} == {}, \
        f"expected {expected} for every order"
    # 1 980 for the current period; 100 welcome + 500 bought - 500 refunded
    assert expected == (PRO_CREDITS, POLICY.welcome_credits, "pro", "active")
    assert await count_rows(app, payment_events) == 6 * len(orders)


async def test_at_010_bad_signature_and_stale_timestamp_change_nothing(
        stripe_app: BillingApp) -> None:
    app = stripe_app
    user = (await app.uc.act_as(Actor.operator(), "eve@example.com")).require_user()
    invoice = invoice_paid(subscription=new_id("sub"), customer=new_id("cus"),
                           price_id="price_pro", subscription_metadata={"user_id": user})
    forged, forged_signature = signed_event(INVOICE_PAID, invoice, secret="whsec_not_ours")
    stale, stale_signature = signed_event(
        INVOICE_PAID, invoice, secret=WEBHOOK_SECRET,
        timestamp=int(time.time()) - WEBHOOK_TOLERANCE_S - 60)
    good, good_signature = signed_event(INVOICE_PAID, invoice, secret=WEBHOOK_SECRET)
    tampered = good.replace(b'"price_pro"', b'"price_starter"', 1)
    assert tampered != good

    reasons = []
    for payload, signature in ((forged, forged_signature), (stale, stale_signature),
                               (tampered, good_signature), (good, "")):
        with pytest.raises(InvalidInput) as refused:
            await app.uc.handle_payment_event(payload, signature)
        assert refused.value.code == "invalid_signature"
        reasons.append(refused.value.details["reason"])

    assert reasons == ["signature_mismatch", "timestamp_outside_tolerance",
                       "signature_mismatch", "missing_header"]
    assert await count_rows(app, payment_events) == 0
    assert await count_rows(app, credit_transactions) == 0
    assert await count_rows(app, wallets) == 0


# --- no overdraft -----------------------------------------------------------------------------

CALL_USAGE = Usage(prompt_tokens=1000, completion_tokens=500, cached_tokens=None)
CALL_CREDITS = Decimal("0.085")  # (1000 * 0.35 + 500) / 10 000, deepseek's multiplier 1.0


async def test_50_concurrent_turns_never_overdraw_a_small_wallet(database_url: str) -> None:
    granted = Decimal(1)  # about 11 calls' worth; each call holds its upper bound first
    async with billing_app(database_url,
                           billing=BillingPolicy(welcome_credits=granted)) as app:
        ada = await app.uc.act_as(Actor.operator(), "ada@example.com")
        user = ada.require_user()
        rooms = []
        for i in range(50):
            room = await app.uc.create_room(ada, name=f"Room {i}")
            await app.uc.add_agent(ada, room.id, name="Ana", model_alias="deepseek")
            rooms.append(room)
        app.chat.queue("*", *(Reply("paid answer", usage=CALL_USAGE) for _ in range(100)))

        sent = await asyncio.gather(*(app.uc.send_to_room(ada, room.id, "Go")
                                      for room in rooms), return_exceptions=True)
        await app.tasks.wait_idle()

        refused = [s for s in sent if not isinstance(s, Turn)]
        for error in refused:
            assert isinstance(error, PaymentRequired), error
            assert error.code == "insufficient_credits"
        turns = [s for s in sent if isinstance(s, Turn)]
        outcomes: Counter[str] = Counter()
        for turn in turns:
            view = await app.uc.get_turn(ada, turn.id)
            status, code = view.turn.status.value, view.turn.error_code
            assert (status, code) in (("completed", None), ("failed", "insufficient_credits")), \
                (status, code)
            outcomes[status] += 1

        wallet = await assert_wallet_is_its_ledger(app, user)
        entries = await ledger_of(app, user)
        assert open_holds(entries) == {}  # every hold was settled
        calls = await usage_of(app, user)
        assert {c.credits_burned for c in calls} == {CALL_CREDITS}
        burned_by_call: dict[str, Decimal] = defaultdict(Decimal)
        for entry in entries:
            if entry.kind is EntryKind.BURN:
                burned_by_call[entry.reference] -= entry.amount
        assert set(burned_by_call) == {c.id for c in calls}  # every burn names its usage row
        assert all(burned_by_call[c.id] == c.credits_burned for c in calls)
        burned = sum(burned_by_call.values(), Decimal(0))
        grants = sum((e.amount for e in entries if e.kind is EntryKind.GRANT), Decimal(0))
        assert grants == granted
        assert burned <= granted and wallet.available == granted - burned
        assert outcomes["completed"] == len(calls) <= granted // CALL_CREDITS
        assert outcomes["completed"] >= 1
        assert outcomes["failed"] + len(refused) == 50 - outcomes["completed"] > 0


# --- reconciliation -------------------------------------------------------------------------


async def test_reconcile_finds_tampered_usage_and_wallets_and_the_ledger_refuses_updates(
        database_url: str) -> None:
    async with billing_app(database_url) as app:
        ada = await app.uc.act_as(Actor.operator(), "ada@example.com")
        user = ada.require_user()
        room = await app.uc.create_room(ada, name="Research")
        for name, alias in (("Ana", "deepseek"), ("Bo", "qwen")):
            await app.uc.add_agent(ada, room.id, name=name, model_alias=alias)
        for question in ("One?", "Two?", "Three?"):
            await app.uc.send_to_room(ada, room.id, question)
            await app.tasks.wait_idle()
        calls = await usage_of(app, user)
        assert len(calls) == 6 and all(c.credits_burned > 0 for c in calls)

        clean = await app.uc.reconcile(Actor.operator())
        assert clean.discrepancies == []
        assert (clean.usage_rows, clean.wallets) == (6, 1)

        target = calls[2]
        async with app.database.engine.begin() as connection:
            await connection.execute(update(llm_call_events)
                                     .where(llm_call_events.c.id == target.id)
                                     .values(credits_burned=Decimal("0.000001")))
        report = await app.uc.reconcile(Actor.operator())
        assert [(d.kind, d.ref, d.expected, d.found) for d in report.discrepancies] == [
            ("usage_credits", target.id, str(target.credits_burned), "0.000001")]

        before = await wallet_of(app, user)
        async with app.database.engine.begin() as connection:
            await connection.execute(update(wallets).where(wallets.c.user_id == user)
                                     .values(topup_balance=before.topup_balance + 5))
        report = await app.uc.reconcile(Actor.operator())
        assert sorted((d.kind, d.ref) for d in report.discrepancies) == [
            ("usage_credits", target.id), ("wallet_balance", user)]

        entries = await ledger_of(app, user)
        for statement in (update(credit_transactions).values(amount=Decimal(1000)),
                          delete(credit_transactions)):
            with pytest.raises(DBAPIError, match="append-only"):
                async with app.database.engine.begin() as connection:
                    await connection.execute(statement)
        assert await ledger_of(app, user) == entries


# --- the sweep --------------------------------------------------------------------------------


async def test_a_crashed_calls_hold_is_swept_once_after_the_ttl(database_url: str) -> None:
    async with billing_app(database_url) as app:
        user = (await app.uc.act_as(Actor.operator(), "ada@example.com")).require_user()
        async with app.database.unit_of_work() as uow:  # plan credits too: a hold spans both
            wallet = await open_wallet(uow, app.deps, UserId(user))
            await apply(uow, grant(wallet, Bucket.PLAN, Decimal(2), key="test:plan",
                                   now=app.clock.now()))
            await uow.commit()
        start = await assert_wallet_is_its_ledger(app, user)
        assert (start.plan_balance, start.topup_balance) == (Decimal(2), Decimal(100))

        reservation = await CreditMeter(app.deps, UserId(user)).hold(Decimal(5),
                                                                     reference="crashed")
        held = await assert_wallet_is_its_ledger(app, user)  # ... and the process died
        assert (held.plan_balance, held.topup_balance) == (Decimal(0), Decimal(97))

        ttl = app.deps.billing.reservation_ttl_s
        assert await app.uc.sweep_reservations() == 0
        app.clock.advance(seconds=ttl - 1)
        assert await app.uc.sweep_reservations() == 0
        app.clock.advance(seconds=2)
        swept = await asyncio.gather(app.uc.sweep_reservations(), app.uc.sweep_reservations())
        assert sorted(swept) == [0, 1]
        assert await app.uc.sweep_reservations() == 0

        entries = await ledger_of(app, user)
        releases = [e for e in entries if e.kind is EntryKind.RELEASE]
        assert sorted((e.bucket.value, e.amount) for e in releases) == [
            ("plan", Decimal(2)), ("topup", Decimal(3))]
        assert {e.reservation_id for e in releases} == {reservation}
        assert open_holds(entries) == {}
        after = await assert_wallet_is_its_ledger(app, user)
        assert (after.plan_balance, after.topup_balance) == (Decimal(2), Decimal(100))
