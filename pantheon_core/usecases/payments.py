"""Stripe webhooks (FR-BILL-004/005, AT-010): each event id is processed exactly once, in the
same transaction as its effects, whatever the number, concurrency and order of deliveries.

- The event id is claimed first (``payment_events``); a second delivery finds it claimed and
  changes nothing. If the effects fail, the claim rolls back with them and Stripe retries.
- Grants are also keyed by what was paid for — ``invoice:<id>`` for a period's plan credits,
  ``checkout:<id>`` for a top-up pack — so no two events can grant for one payment.
- Order does not matter: an invoice for a period that is over, or older than the wallet's
  current period, grants nothing; a user is found from the metadata Pantheon put on the
  checkout (and Stripe copies onto the subscription and payment), or from the customer id.
  An event that cannot be matched to a user yet is refused (503), so Stripe delivers it again;
  so is the refund of a top-up whose checkout event has not been applied yet.
- A delivery whose signature does not verify changes nothing and is audited as a refused
  ``webhook.signature`` (with the sender's address and the request id).
- The bad signature that reaches ``BillingPolicy.bad_signatures_per_client`` (the 30th from
  one address within 10 minutes) is answered 429 ``too_many_bad_signatures`` with
  ``Retry-After``, and so is every delivery from that address for the next 10 minutes,
  unverified; audited once per window (``throttle.py``). Signatures that verify never count.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pantheon_core.actor import Actor
from pantheon_core.domain.plans import PLANS, Plan
from pantheon_core.domain.wallets import (
    Bucket,
    EntryKind,
    Wallet,
    credits,
    grant,
    refund,
    start_period,
)
from pantheon_core.errors import InvalidInput, Unavailable
from pantheon_core.ids import UserId
from pantheon_core.ports.payments import PaymentEvent, Payments
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.audit_log import record_refusal
from pantheon_core.usecases.deps import Deps, UseCase
from pantheon_core.usecases.ledger import apply, open_wallet
from pantheon_core.usecases.throttle import FailureThrottle, Refusal

logger = logging.getLogger("pantheon.payments")

Handler = Callable[["HandlePaymentEvent", UnitOfWork, PaymentEvent], Awaitable[str]]
WEBHOOK_SIGNATURE = "webhook.signature"  # the audit action of a refused webhook signature
TOO_MANY_BAD_SIGNATURES = "too_many_bad_signatures"


class HandlePaymentEvent(UseCase):
    """Verify and apply one webhook delivery; returns ``processed``, ``duplicate`` or
    ``ignored`` (a type Pantheon does not act on)."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(deps)
        self._bad_signatures = FailureThrottle(
            deps, name="webhook:bad-signature", rule=deps.billing.bad_signatures_per_client,
            refusal=Refusal(code=TOO_MANY_BAD_SIGNATURES, what="bad webhook signatures",
                            action=WEBHOOK_SIGNATURE, target="stripe"))

    async def __call__(self, payload: bytes, signature: str, *,
                       caller: Actor | None = None) -> str:
        caller = caller or Actor.anonymous()
        self._bad_signatures.check(caller)  # a client past its bad signatures: unverified
        payments = self._payments()
        try:
            event = payments.verify(payload, signature)  # invalid_signature: nothing happens
        except InvalidInput as exc:
            if exc.code == "invalid_signature":  # audited (NFR-SEC-005), with who sent it
                await self._bad_signatures.failed(caller)  # past the limit: 429 instead
                reason = exc.details.get("reason") or exc.message
                await record_refusal(self.deps, caller, WEBHOOK_SIGNATURE, "stripe",
                                     reason=f"invalid_signature: {reason}")
            raise
        handler = HANDLERS.get(event.kind)
        async with self.deps.uow() as uow:
            if not await uow.payment_events.claim(event.id, kind=event.kind,
                                                  now=self.deps.clock.now()):
                return "duplicate"
            outcome = "ignored" if handler is None else await handler(self, uow, event)
            await uow.commit()
        logger.info("Stripe event %s (%s): %s", event.id, event.kind, outcome)
        return outcome

    def _payments(self) -> Payments:
        if self.deps.payments is None:
            raise Unavailable("Payments are not configured on this server.",
                              code="payments_not_configured")
        return self.deps.payments

    def plan_for_price(self, price_id: str | None) -> Plan | None:
        for plan_id, configured in self.deps.billing.plan_prices.items():
            if configured == price_id and plan_id in PLANS:
                return PLANS[plan_id]
        return None

    async def wallet_for(self, uow: UnitOfWork, obj: Mapping[str, Any]) -> Wallet:
        """The (locked) wallet of the user an object belongs to, or 503 to be retried."""
        user_id = _metadata_user(obj)
        if user_id is not None and await uow.users.get(UserId(user_id)) is not None:
            wallet = await open_wallet(uow, self.deps, UserId(user_id))
        else:
            customer = _str(obj.get("customer"))
            found = await uow.wallets.find_by_customer(customer) if customer else None
            if found is None:
                raise Unavailable("This payment event does not match a user yet; it will be "
                                  "delivered again.", code="payment_event_unmatched")
            wallet = await open_wallet(uow, self.deps, found.user_id)
        customer = _str(obj.get("customer"))
        if customer and wallet.stripe_customer_id is None:
            wallet = replace(wallet, stripe_customer_id=customer)
            await uow.wallets.update(wallet)
        return wallet


async def _checkout_completed(case: HandlePaymentEvent, uow: UnitOfWork,
                              event: PaymentEvent) -> str:
    session = event.data
    wallet = await case.wallet_for(uow, session)
    now = case.deps.clock.now()
    if session.get("mode") == "subscription":
        subscription = _str(session.get("subscription"))
        if subscription:
            await uow.wallets.update(replace(wallet, subscription_id=subscription))
        return "processed"  # the period's credits come with invoice.paid
    if session.get("payment_status") not in (None, "paid", "no_payment_required"):
        return "ignored"  # an asynchronous payment that has not cleared yet
    key = f"checkout:{session.get('id')}"
    if await uow.ledger.has_key(key):
        return "processed"
    amount = _pack_credits(case, session.get("metadata") or {})
    if amount is None:
        return "ignored"
    reference = _str(session.get("payment_intent")) or str(session.get("id"))
    await apply(uow, grant(wallet, Bucket.TOPUP, amount, key=key, now=now,
                           reference=reference, note="top-up"))
    return "processed"


async def _invoice_paid(case: HandlePaymentEvent, uow: UnitOfWork, event: PaymentEvent) -> str:
    invoice = event.data
    line = _first_line(invoice)
    plan = case.plan_for_price(_line_price(line)) or PLANS.get(
        str((_metadata(invoice) or {}).get("plan_id", "")))
    if plan is None:
        return "ignored"  # not a plan subscription invoice
    wallet = await case.wallet_for(uow, invoice)
    now = case.deps.clock.now()
    key = f"invoice:{invoice.get('id')}"
    period_end = _timestamp((line.get("period") or {}).get("end"))
    subscription = _str(invoice.get("subscription")) or _str(
        ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription"))
    wallet = replace(wallet, subscription_id=subscription or wallet.subscription_id,
                     subscription_status="active")
    await uow.wallets.update(wallet)
    if await uow.ledger.has_key(key) or period_end is None or period_end <= now or (
            wallet.period_end is not None and period_end <= wallet.period_end):
        return "processed"  # already granted, or for a period that is over or superseded
    await apply(uow, start_period(wallet, plan_id=plan.id, amount=plan.monthly_credits,
                                  period_end=period_end, key=key, now=now,
                                  reference=str(invoice.get("id"))))
    return "processed"


async def _invoice_failed(case: HandlePaymentEvent, uow: UnitOfWork,
                          event: PaymentEvent) -> str:
    wallet = await case.wallet_for(uow, event.data)
    await uow.wallets.update(replace(wallet, subscription_status="past_due"))
    return "processed"


async def _subscription_changed(case: HandlePaymentEvent, uow: UnitOfWork,
                                event: PaymentEvent) -> str:
    subscription = event.data
    wallet = await case.wallet_for(uow, subscription)
    status = _str(subscription.get("status")) or "unknown"
    if event.kind == "customer.subscription.deleted" or status in ("canceled", "unpaid",
                                                                   "incomplete_expired"):
        # plan credits already granted stay until their period ends
        wallet = replace(wallet, subscription_status="canceled" if status == "unknown"
                         else status, plan_id=None)
    else:
        items = ((subscription.get("items") or {}).get("data") or [{}])
        plan = case.plan_for_price(_line_price(items[0] if items else {}))
        wallet = replace(wallet, subscription_status=status,
                         subscription_id=_str(subscription.get("id")) or wallet.subscription_id,
                         plan_id=plan.id if plan is not None and status in (
                             "active", "trialing", "past_due") else wallet.plan_id)
    await uow.wallets.update(wallet)
    return "processed"


async def _charge_refunded(case: HandlePaymentEvent, uow: UnitOfWork,
                           event: PaymentEvent) -> str:
    charge = event.data
    amount, refunded = int(charge.get("amount") or 0), int(charge.get("amount_refunded") or 0)
    if amount <= 0 or refunded <= 0:
        return "ignored"
    wallet = await case.wallet_for(uow, charge)
    if charge.get("invoice"):
        plan = PLANS.get(wallet.plan_id or "")
        granted, bucket = (plan.monthly_credits if plan else Decimal(0)), Bucket.PLAN
    else:
        granted = _pack_credits(case, charge.get("metadata") or {}) or Decimal(0)
        bucket = Bucket.TOPUP
        intent = _str(charge.get("payment_intent"))
        if granted > 0 and intent and not await _granted(uow, wallet.user_id, intent):
            # the top-up's checkout event has not been applied yet: taking the refund now
            # would take other credits and the pack would still be granted later
            raise Unavailable("This refund's top-up is not recorded yet; it will be "
                              "delivered again.", code="payment_event_unmatched")
    charge_id = str(charge.get("id"))
    due = credits(granted * Decimal(refunded) / Decimal(amount))
    past = await uow.ledger.list_for_user(wallet.user_id, limit=200, kinds=[EntryKind.REFUND])
    already = sum((Decimal(e.note.removeprefix("refund of ")) for e in past
                   if e.reference == charge_id and e.note.startswith("refund of ")), Decimal(0))
    if due - already <= 0:
        return "processed"
    await apply(uow, refund(wallet, due - already, key=f"refund:{charge_id}:{refunded}",
                            now=case.deps.clock.now(), reference=charge_id, bucket=bucket))
    return "processed"


async def _granted(uow: UnitOfWork, user_id: UserId, reference: str) -> bool:
    """Whether the user's ledger holds a grant for ``reference`` (a payment intent)."""
    before = None
    while True:
        page = await uow.ledger.list_for_user(user_id, limit=200, before=before,
                                              kinds=[EntryKind.GRANT])
        if any(e.reference == reference for e in page):
            return True
        if len(page) < 200:
            return False
        before = (page[-1].created_at, page[-1].id)


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "charge.refunded": _charge_refunded,
}


def _str(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])  # an expanded object
    return None


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Pantheon's metadata, wherever Stripe put it on this object."""
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    line = _first_line(obj)
    for candidate in (obj.get("metadata"), obj.get("subscription_details", {}) and
                      (obj.get("subscription_details") or {}).get("metadata"),
                      parent.get("metadata"), line.get("metadata")):
        if isinstance(candidate, Mapping) and candidate.get("user_id"):
            return candidate
    return None


def _metadata_user(obj: Mapping[str, Any]) -> str | None:
    found = _metadata(obj)
    user = (found or {}).get("user_id") or obj.get("client_reference_id")
    return str(user) if user else None


def _first_line(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    lines = (obj.get("lines") or {}).get("data") or []
    return lines[0] if lines and isinstance(lines[0], Mapping) else {}


def _line_price(line: Mapping[str, Any]) -> str | None:
    price = line.get("price")
    if isinstance(price, Mapping):
        return _str(price.get("id"))
    details = ((line.get("pricing") or {}).get("price_details") or {}).get("price")
    return _str(details) or _str(price)


def _timestamp(value: object) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if isinstance(value, int | float) \
        else None


def _pack_credits(case: HandlePaymentEvent, metadata: Mapping[str, Any]) -> Decimal | None:
    pack = next((p for p in case.deps.billing.topups if p.id == metadata.get("pack_id")), None)
    if pack is not None:
        return pack.credits
    return None
