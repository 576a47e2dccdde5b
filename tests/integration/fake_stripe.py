"""A fake Stripe API on 127.0.0.1, and signed webhook events made with the SDK's own signer.

The server speaks Stripe's wire format for the two calls Pantheon makes:

- ``POST /v1/checkout/sessions``: a form-encoded body with nested keys
  (``line_items[0][price]``, ``metadata[user_id]``, ``subscription_data[metadata][plan_id]``)
  answered with a ``checkout.session`` object (``id`` ``cs_test_…``, ``url``
  ``https://checkout.stripe.test/c/pay/cs_test_…``, ``mode``, ``customer``, ``metadata``, …);
- ``POST /v1/billing_portal/sessions``: answered with a ``billing_portal.session``.

Bodies are decoded into nested dicts and lists as Stripe reads them; values stay the strings
that went over the wire (``quantity`` is ``"1"``). Every answer carries a ``Request-Id``.
Failures use Stripe's error shape ``{"error": {"type", "code", "message", "param", …}}``.
In tests::

    with serving(FakeStripe(api_key=KEY)) as fake:
        fake.script(card_declined())          # the next call fails; later ones succeed
        ...                                   # point the adapter at fake.base_url
        fake.requests[0].body["line_items"][0]["price"]

Each request takes the next scripted :class:`Reply` if there is one, else the fake answers
like Stripe would (including Stripe's 400s for missing or conflicting parameters, and a 401
for a key other than ``api_key`` when one is set).

Webhooks: :func:`signed_event` builds an event envelope around a ``data.object`` and signs
it with ``stripe.WebhookSignature.generate_signature_header``; :func:`sign` re-signs any
bytes (a redelivery, a tampered body). The ``…`` builders below make realistic
``data.object`` shapes for the six event types Pantheon processes. Stripe moved some fields
in API version 2025-03-31.basil (``invoice.subscription`` → ``invoice.parent.
subscription_details.subscription``, line ``price`` → ``pricing.price_details.price``,
``subscription.current_period_*`` → ``items.data[].current_period_*``, ``charge.invoice``
removed); ``shape="both"`` (the default) carries the old and new locations, ``"current"``
or ``"legacy"`` only one, to test that a consumer copes with what an endpoint pinned to
either version receives.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

import anyio
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.local_server import Received, serve_in_thread

Shape = Literal["both", "current", "legacy"]
EVENT_API_VERSION = "2025-03-31.basil"
DAY = 86_400
MONTH = 30 * DAY

CHECKOUT_COMPLETED = "checkout.session.completed"
INVOICE_PAID = "invoice.paid"
INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
SUBSCRIPTION_UPDATED = "customer.subscription.updated"
SUBSCRIPTION_DELETED = "customer.subscription.deleted"
CHARGE_REFUNDED = "charge.refunded"
PROCESSED_KINDS = (CHECKOUT_COMPLETED, INVOICE_PAID, INVOICE_PAYMENT_FAILED,
                   SUBSCRIPTION_UPDATED, SUBSCRIPTION_DELETED, CHARGE_REFUNDED)


def new_id(prefix: str) -> str:
    """A Stripe-looking id: ``new_id("cs_test")`` → ``cs_test_a1b2…``."""
    return f"{prefix}_{secrets.token_hex(12)}"


# --- the API server --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer; ``delay_s`` holds back even the status line (a hung Stripe)."""

    status: int = 200
    body: bytes | Mapping[str, Any] = b""  # a mapping is sent as JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def stripe_error(status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None,
                 decline_code: str | None = None, should_retry: bool | None = None) -> Reply:
    """An error in Stripe's JSON shape. ``should_retry`` sets ``Stripe-Should-Retry``."""
    error: dict[str, Any] = {"type": type, "message": message}
    if code is not None:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param is not None:
        error["param"] = param
    if decline_code is not None:
        error["decline_code"] = decline_code
    headers = {} if should_retry is None else {
        "Stripe-Should-Retry": "true" if should_retry else "false"}
    return Reply(status=status, body={"error": error}, headers=headers)


def card_declined() -> Reply:
    return stripe_error(402, "Your card was declined.", type="card_error", code="card_declined",
                        decline_code="generic_decline")


def invalid_api_key(key: str = "sk_test_wrong") -> Reply:
    return stripe_error(401, f"Invalid API Key provided: {_masked(key)}")


def no_such_price(price_id: str) -> Reply:
    return stripe_error(400, f"No such price: '{price_id}'", code="resource_missing",
                        param="line_items[0][price]")


def api_error(status: int = 500) -> Reply:
    """A Stripe-side failure the SDK will not retry (``Stripe-Should-Retry: false``)."""
    return stripe_error(status, "An unknown error occurred", type="api_error",
                        should_retry=False)


def rate_limited() -> Reply:
    return stripe_error(429, "Request rate limit exceeded. Learn more about rate limits here "
                        "https://stripe.com/docs/rate-limits.", code="rate_limit")


def malformed_reply() -> Reply:
    return Reply(body=b'{"id": "cs_test_x", "url": ')


def hung_reply(seconds: float) -> Reply:
    return Reply(body={"id": new_id("cs_test"), "object": "checkout.session",
                       "url": "https://checkout.stripe.test/late"}, delay_s=seconds)


def decode_form(body: bytes | str) -> dict[str, Any]:
    """Stripe's form encoding back into nested data: ``a[b][0][c]=v`` →
    ``{"a": {"b": [{"c": "v"}]}}``; values stay strings."""
    text = body.decode() if isinstance(body, bytes) else body
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + ([p.rstrip("]") for p in rest.split("[")] if rest else [])
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _masked(key: str) -> str:
    prefix = key[:8] if key.startswith(("sk_", "rk_")) else key[:3]
    return f"{prefix}{'*' * 20}{key[-4:]}"


class FakeStripe:
    """The fake's handle: scripted replies (first in, first out), the requests received,
    and the sessions it created (by id)."""

    def __init__(self, *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.base_url = ""
        self.requests: list[Received] = []
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self._script: deque[Reply] = deque()
        self.app = Starlette(routes=[
            Route("/v1/checkout/sessions", self._checkout, methods=["POST"]),
            Route("/v1/billing_portal/sessions", self._portal, methods=["POST"]),
            Route("/{path:path}", self._unknown, methods=["GET", "POST", "DELETE"]),
        ])

    def script(self, *replies: Reply) -> None:
        self._script.extend(replies)

    def reset(self) -> None:
        self.requests.clear()
        self._script.clear()
        self.checkout_sessions.clear()
        self.portal_sessions.clear()

    # --- routes ---

    async def _checkout(self, request: Request) -> Response:
        return await self._answer(request, self._create_checkout)

    async def _portal(self, request: Request) -> Response:
        return await self._answer(request, self._create_portal)

    async def _unknown(self, request: Request) -> Response:
        return _send(stripe_error(
            404, f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/."))

    async def _answer(self, request: Request, create: Any) -> Response:
        body = decode_form(await request.body())
        self.requests.append(Received(request.url.path, dict(request.headers), body))
        reply = self._script.popleft() if self._script else None
        if reply is None:
            reply = self._authenticate(request) or create(body)
        if reply.delay_s and not await _pause_unless_gone(request, reply.delay_s):
            return Response(status_code=499)
        return _send(reply)

    def _authenticate(self, request: Request) -> Reply | None:
        if self.api_key is None:
            return None
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            return stripe_error(401, "You did not provide an API key. You need to provide your "
                                "API key in the Authorization header, using Bearer auth.")
        return None if key == self.api_key else invalid_api_key(key)

    def _create_checkout(self, body: dict[str, Any]) -> Reply:
        mode = body.get("mode")
        if mode not in ("payment", "subscription", "setup"):
            return _param_error("mode", "Missing required param: mode." if mode is None
                                else "Invalid mode: must be one of payment, setup, or "
                                "subscription")
        if mode != "setup" and not body.get("line_items"):
            return _param_error("line_items",
                                f"`line_items` is required in `{mode}` mode.")
        for index, item in enumerate(body.get("line_items") or []):
            if not isinstance(item, dict) or not item.get("price"):
                return _param_error(f"line_items[{index}][price]",
                                    f"Missing required param: line_items[{index}][price].")
        if not body.get("success_url"):
            return _param_error("success_url", "Missing required param: success_url.")
        if body.get("customer") and body.get("customer_email"):
            return _param_error("customer_email", "You may only specify one of these "
                                "parameters: customer, customer_email.")
        if mode != "subscription" and "subscription_data" in body:
            return _param_error("subscription_data", "You can not pass `subscription_data` in "
                                f"`{mode}` mode.")
        if mode != "payment" and "payment_intent_data" in body:
            return _param_error("payment_intent_data", "You can not pass "
                                f"`payment_intent_data` in `{mode}` mode.")
        if "customer_creation" in body and (mode != "payment" or body.get("customer")):
            return _param_error("customer_creation", "`customer_creation` can only be used in "
                                "`payment` mode, without `customer`.")
        session_id = new_id("cs_test")
        now = int(time.time())
        session = {
            "id": session_id, "object": "checkout.session",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "mode": mode, "status": "open", "payment_status": "unpaid",
            "customer": body.get("customer"),
            "customer_email": body.get("customer_email"),
            "customer_creation": body.get("customer_creation"),
            "client_reference_id": body.get("client_reference_id"),
            "metadata": body.get("metadata") or {},
            "success_url": body["success_url"], "cancel_url": body.get("cancel_url"),
            "subscription": None, "payment_intent": None, "invoice": None,
            "amount_subtotal": None, "amount_total": None, "currency": None,
            "created": now, "expires_at": now + DAY, "livemode": False,
        }
        self.checkout_sessions[session_id] = session
        return Reply(body=session)

    def _create_portal(self, body: dict[str, Any]) -> Reply:
        customer = body.get("customer")
        if not customer:
            return _param_error("customer", "Missing required param: customer.")
        session_id = new_id("bps")
        session = {
            "id": session_id, "object": "billing_portal.session",
            "url": f"https://billing.stripe.test/p/session/test_{session_id[4:]}",
            "customer": customer, "return_url": body.get("return_url"),
            "configuration": "bpc_fake_default", "created": int(time.time()),
            "flow": None, "livemode": False, "locale": None, "on_behalf_of": None,
        }
        self.portal_sessions[session_id] = session
        return Reply(body=session)


def _param_error(param: str, message: str) -> Reply:
    return stripe_error(400, message, code="parameter_missing" if "Missing" in message
                        else "parameter_invalid", param=param)


def _send(reply: Reply) -> Response:
    content = reply.body
    if isinstance(content, Mapping):
        content = json.dumps(content).encode()
    headers = {"Request-Id": new_id("req"), "Stripe-Version": EVENT_API_VERSION,
               **reply.headers}
    return Response(content, reply.status, headers, "application/json")


async def _pause_unless_gone(request: Request, seconds: float) -> bool:
    """Sleep before answering; False as soon as the client has hung up."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if await request.is_disconnected():
            return False
        await anyio.sleep(min(left, 0.02))
    return True


@contextmanager
def serving(fake: FakeStripe, *, host: str = "127.0.0.1") -> Iterator[FakeStripe]:
    """Run ``fake`` with uvicorn in a background thread on a free port; sets ``base_url``."""
    with serve_in_thread(fake.app, name="fake-stripe", host=host) as base_url:
        fake.base_url = base_url
        yield fake


# --- webhook events --------------------------------------------------------------------------


def event_envelope(kind: str, data_object: Mapping[str, Any], *, event_id: str | None = None,
                   created: int | None = None,
                   previous_attributes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A Stripe (snapshot) event around ``data_object``, as a webhook delivers it."""
    data: dict[str, Any] = {"object": dict(data_object)}
    if previous_attributes is not None:
        data["previous_attributes"] = dict(previous_attributes)
    return {
        "id": event_id or new_id("evt"), "object": "event", "api_version": EVENT_API_VERSION,
        "created": int(time.time()) if created is None else created, "data": data,
        "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None}, "type": kind,
    }


def sign(payload: bytes, *, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``, made by the SDK's own signer."""
    return str(stripe.WebhookSignature.generate_signature_header(
        payload.decode("utf-8"), secret, timestamp))


def signed_event(kind: str, data_object: Mapping[str, Any], *, secret: str,
                 event_id: str | None = None, timestamp: int | None = None,
                 created: int | None = None,
                 previous_attributes: Mapping[str, Any] | None = None) -> tuple[bytes, str]:
    """``(payload, Stripe-Signature header)`` for one delivery of an event. ``timestamp`` is
    the signing time (default now); the event's ``created`` defaults to it."""
    when = int(time.time()) if timestamp is None else timestamp
    envelope = event_envelope(kind, data_object, event_id=event_id,
                              created=when if created is None else created,
                              previous_attributes=previous_attributes)
    payload = json.dumps(envelope).encode()
    return payload, sign(payload, secret=secret, timestamp=when)


def _metadata(user_id: str | None, extra: Mapping[str, str] | None, **known: str | None
              ) -> dict[str, str]:
    meta = {"user_id": user_id} if user_id else {}
    meta.update({key: value for key, value in known.items() if value is not None})
    meta.update(extra or {})
    return meta


def checkout_session_completed(
        *, user_id: str, mode: Literal["subscription", "payment"] = "subscription",
        plan_id: str | None = None, pack_id: str | None = None, customer: str | None = None,
        subscription: str | None = None, payment_intent: str | None = None,
        invoice: str | None = None, amount_total: int = 2900, currency: str = "usd",
        email: str = "buyer@example.com", session_id: str | None = None,
        metadata: Mapping[str, str] | None = None, payment_status: str = "paid",
        created: int | None = None) -> dict[str, Any]:
    """A completed hosted Checkout Session. ``subscription`` mode gets a ``sub_…`` and an
    ``in_…``; ``payment`` mode (a top-up) a ``pi_…``. Metadata holds ``user_id`` and
    ``plan_id`` / ``pack_id`` as the adapter sets them."""
    now = int(time.time()) if created is None else created
    sid = session_id or new_id("cs_test")
    subscribing = mode == "subscription"
    return {
        "id": sid, "object": "checkout.session", "mode": mode,
        "status": "complete", "payment_status": payment_status,
        "amount_subtotal": amount_total, "amount_total": amount_total, "currency": currency,
        "client_reference_id": user_id,
        "customer": customer or new_id("cus"),
        "customer_creation": None if subscribing else "always",
        "customer_details": {"email": email, "name": None, "address": None, "phone": None,
                             "tax_exempt": "none", "tax_ids": []},
        "customer_email": email,
        "metadata": _metadata(user_id, metadata, plan_id=plan_id, pack_id=pack_id),
        "subscription": (subscription or new_id("sub")) if subscribing else None,
        "invoice": (invoice or new_id("in")) if subscribing else None,
        "payment_intent": None if subscribing else (payment_intent or new_id("pi")),
        "success_url": "http://127.0.0.1:8000/billing?checkout=success",
        "cancel_url": "http://127.0.0.1:8000/billing?checkout=cancelled",
        "url": None, "created": now - 60, "expires_at": now - 60 + DAY, "livemode": False,
    }


def _price(price_id: str, amount: int, currency: str) -> dict[str, Any]:
    return {"id": price_id, "object": "price", "active": True, "currency": currency,
            "product": "prod_" + price_id.removeprefix("price_")[:14], "type": "recurring",
            "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
            "unit_amount": amount, "unit_amount_decimal": str(amount), "livemode": False,
            "metadata": {}, "lookup_key": None, "nickname": None}


def _invoice(*, status: str, subscription: str, customer: str, price_id: str,
             period_start: int | None, period_end: int | None, billing_reason: str,
             invoice_id: str | None, amount: int, amount_paid: int, currency: str,
             subscription_metadata: Mapping[str, str] | None, attempt_count: int,
             next_payment_attempt: int | None, shape: Shape) -> dict[str, Any]:
    start = int(time.time()) if period_start is None else period_start
    end = start + MONTH if period_end is None else period_end
    iid = invoice_id or new_id("in")
    item = new_id("si")
    meta = dict(subscription_metadata or {})
    price = _price(price_id, amount, currency)
    line: dict[str, Any] = {
        "id": new_id("il"), "object": "line_item", "amount": amount, "currency": currency,
        "description": f"1 × Pantheon (at {amount / 100:.2f} {currency.upper()} / month)",
        "discountable": True, "invoice": iid, "livemode": False, "metadata": meta,
        "period": {"start": start, "end": end}, "quantity": 1,
    }
    # an invoice's own period is the one *before* the line's service period (a known trap):
    # for a first invoice both are the creation time
    first = billing_reason == "subscription_create"
    invoice: dict[str, Any] = {
        "id": iid, "object": "invoice", "status": status, "billing_reason": billing_reason,
        "collection_method": "charge_automatically", "customer": customer,
        "customer_email": "buyer@example.com", "currency": currency,
        "amount_due": amount, "amount_paid": amount_paid,
        "amount_remaining": amount - amount_paid, "subtotal": amount, "total": amount,
        "attempt_count": attempt_count, "attempted": attempt_count > 0,
        "next_payment_attempt": next_payment_attempt,
        "created": start, "period_start": start if first else start - MONTH,
        "period_end": start, "number": f"PANTH-{secrets.randbelow(10_000):04d}",
        "hosted_invoice_url": f"https://invoice.stripe.test/i/{iid}",
        "lines": {"object": "list", "data": [line], "has_more": False, "total_count": 1,
                  "url": f"/v1/invoices/{iid}/lines"},
        "metadata": {}, "livemode": False,
        "status_transitions": {"finalized_at": start,
                               "paid_at": start if status == "paid" else None,
                               "marked_uncollectible_at": None, "voided_at": None},
    }
    if shape in ("both", "current"):
        invoice["parent"] = {"type": "subscription_details", "quote_details": None,
                             "subscription_details": {"subscription": subscription,
                                                      "metadata": meta}}
        line["parent"] = {"type": "subscription_item_details", "invoice_item_details": None,
                          "subscription_item_details": {
                              "subscription": subscription, "subscription_item": item,
                              "invoice_item": None, "proration": False,
                              "proration_details": {"credited_items": None}}}
        line["pricing"] = {"type": "price_details", "unit_amount_decimal": str(amount),
                           "price_details": {"price": price_id, "product": price["product"]}}
    if shape in ("both", "legacy"):
        paid = status == "paid"
        invoice.update({"subscription": subscription, "paid": paid,
                        "charge": new_id("ch") if paid else None,
                        "payment_intent": new_id("pi"),
                        "subscription_details": {"metadata": meta}})
        line.update({"type": "subscription", "subscription": subscription,
                     "subscription_item": item, "proration": False, "price": price,
                     "plan": None})
    return invoice


def invoice_paid(*, subscription: str, customer: str, price_id: str,
                 period_start: int | None = None, period_end: int | None = None,
                 billing_reason: str = "subscription_cycle", invoice_id: str | None = None,
                 amount_paid: int = 2900, currency: str = "usd",
                 subscription_metadata: Mapping[str, str] | None = None,
                 shape: Shape = "both") -> dict[str, Any]:
    """A paid subscription invoice (``billing_reason``: ``subscription_create`` for the first,
    ``subscription_cycle`` for renewals, ``subscription_update`` for a plan change). The
    service period is ``lines.data[0].period`` (default: now → now + 30 days)."""
    return _invoice(status="paid", subscription=subscription, customer=customer,
                    price_id=price_id, period_start=period_start, period_end=period_end,
                    billing_reason=billing_reason, invoice_id=invoice_id, amount=amount_paid,
                    amount_paid=amount_paid, currency=currency,
                    subscription_metadata=subscription_metadata, attempt_count=1,
                    next_payment_attempt=None, shape=shape)


def invoice_payment_failed(*, subscription: str, customer: str, price_id: str,
                           period_start: int | None = None, period_end: int | None = None,
                           billing_reason: str = "subscription_cycle",
                           invoice_id: str | None = None, amount_due: int = 2900,
                           currency: str = "usd",
                           subscription_metadata: Mapping[str, str] | None = None,
                           attempt_count: int = 1, next_payment_attempt: int | None = None,
                           shape: Shape = "both") -> dict[str, Any]:
    """An open subscription invoice whose charge failed (Stripe will retry at
    ``next_payment_attempt``, default in 3 days)."""
    retry = int(time.time()) + 3 * DAY if next_payment_attempt is None else next_payment_attempt
    return _invoice(status="open", subscription=subscription, customer=customer,
                    price_id=price_id, period_start=period_start, period_end=period_end,
                    billing_reason=billing_reason, invoice_id=invoice_id, amount=amount_due,
                    amount_paid=0, currency=currency,
                    subscription_metadata=subscription_metadata, attempt_count=attempt_count,
                    next_payment_attempt=retry, shape=shape)


def subscription_object(*, subscription_id: str, customer: str, price_id: str,
                        status: str = "active", current_period_start: int | None = None,
                        current_period_end: int | None = None,
                        metadata: Mapping[str, str] | None = None,
                        cancel_at_period_end: bool = False, canceled_at: int | None = None,
                        ended_at: int | None = None, amount: int = 2900, currency: str = "usd",
                        shape: Shape = "both") -> dict[str, Any]:
    """A Subscription with one item (the plan's price). ``status``: ``active``,
    ``past_due``, ``unpaid``, ``canceled``, ``incomplete``, ``trialing``, …"""
    start = int(time.time()) if current_period_start is None else current_period_start
    end = start + MONTH if current_period_end is None else current_period_end
    item: dict[str, Any] = {
        "id": new_id("si"), "object": "subscription_item", "created": start,
        "metadata": {}, "price": _price(price_id, amount, currency), "quantity": 1,
        "subscription": subscription_id,
    }
    subscription: dict[str, Any] = {
        "id": subscription_id, "object": "subscription", "customer": customer,
        "status": status, "cancel_at_period_end": cancel_at_period_end, "cancel_at": (
            end if cancel_at_period_end else None),
        "canceled_at": canceled_at, "ended_at": ended_at, "created": start,
        "start_date": start, "billing_cycle_anchor": start, "currency": currency,
        "collection_method": "charge_automatically", "latest_invoice": new_id("in"),
        "items": {"object": "list", "data": [item], "has_more": False, "total_count": 1,
                  "url": f"/v1/subscription_items?subscription={subscription_id}"},
        "metadata": dict(metadata or {}), "livemode": False,
    }
    if shape in ("both", "current"):
        item.update({"current_period_start": start, "current_period_end": end})
    if shape in ("both", "legacy"):
        subscription.update({"current_period_start": start, "current_period_end": end})
    return subscription


def subscription_updated(**fields: Any) -> dict[str, Any]:
    """``customer.subscription.updated``'s object: :func:`subscription_object`'s fields."""
    return subscription_object(**fields)


def subscription_deleted(**fields: Any) -> dict[str, Any]:
    """``customer.subscription.deleted``'s object: a subscription that has ended now."""
    now = int(time.time())
    fields.setdefault("canceled_at", now)
    fields.setdefault("ended_at", now)
    return subscription_object(**{"status": "canceled", **fields})


def charge_refunded(*, amount: int, payment_intent: str, amount_refunded: int | None = None,
                    customer: str | None = None, invoice: str | None = None,
                    metadata: Mapping[str, str] | None = None, charge_id: str | None = None,
                    currency: str = "usd", shape: Shape = "both") -> dict[str, Any]:
    """A charge refunded in full (default) or in part. ``metadata`` is what the payment
    intent carried (the adapter copies the checkout metadata there for top-ups);
    ``invoice`` exists only in the legacy shape."""
    refunded = amount if amount_refunded is None else amount_refunded
    cid = charge_id or new_id("ch")
    now = int(time.time())
    charge: dict[str, Any] = {
        "id": cid, "object": "charge", "amount": amount, "amount_captured": amount,
        "amount_refunded": refunded, "refunded": refunded >= amount, "captured": True,
        "paid": True, "status": "succeeded", "currency": currency, "customer": customer,
        "payment_intent": payment_intent, "payment_method": new_id("pm"),
        "balance_transaction": new_id("txn"), "created": now - DAY, "description": None,
        "metadata": dict(metadata or {}), "livemode": False, "disputed": False,
        "receipt_url": f"https://pay.stripe.test/receipts/{cid}",
    }
    if shape in ("both", "legacy"):
        charge["invoice"] = invoice
    return charge
