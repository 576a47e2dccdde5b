"""The ``Payments`` port: Stripe (or nothing) behind one small interface (FR-BILL-004/005)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

CheckoutMode = Literal["subscription", "payment"]


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified webhook event, reduced to what billing needs.

    ``data`` is the event's ``data.object`` as plain JSON. ``kind`` is the provider's type,
    e.g. ``checkout.session.completed``, ``invoice.paid``, ``invoice.payment_failed``,
    ``customer.subscription.updated``, ``customer.subscription.deleted``, ``charge.refunded``.
    """

    id: str
    kind: str
    created: int
    data: Mapping[str, Any] = field(default_factory=dict)


class Payments(Protocol):
    """Contract:

    - ``checkout`` creates a hosted Checkout Session and returns its URL: ``mode="subscription"``
      for a plan (``price_id`` of that plan), ``mode="payment"`` for a top-up pack. ``metadata``
      is copied onto the session (and, for subscriptions, the subscription) so webhooks can tie
      payments back to the user. ``customer_id`` reuses a known customer; else the e-mail is
      prefilled.
    - ``portal`` creates a Billing Portal session for an existing customer and returns its URL.
    - ``verify`` checks the ``Stripe-Signature`` header against the raw body (tolerance 300 s)
      and returns the event; a bad or stale signature raises
      ``InvalidInput(code="invalid_signature")`` and nothing else happens.
    - Provider failures raise ``Unavailable(code="payments_unavailable")``.
    """

    async def checkout(self, *, mode: CheckoutMode, price_id: str, quantity: int,
                       customer_id: str | None, email: str, success_url: str, cancel_url: str,
                       metadata: Mapping[str, str]) -> str: ...

    async def portal(self, *, customer_id: str, return_url: str) -> str: ...

    def verify(self, payload: bytes, signature: str) -> PaymentEvent: ...
