"""``Payments`` through Stripe: hosted Checkout, the Billing Portal and signed webhooks.

Uses the official SDK (``stripe`` ≥ 11; written against 16.x) the async way: a
:class:`stripe.StripeClient` whose HTTP client is :class:`stripe.HTTPXClient` (an
``httpx.AsyncClient`` underneath), and ``client.v1.<service>.create_async``. Nothing blocks
the event loop; ``verify`` is pure computation (HMAC-SHA256 over the raw body) and needs no
network.

How the SDK reports a failed call (all subclasses of ``stripe.StripeError``)::

    HTTP 400/404  -> InvalidRequestError     (bad parameter, unknown price or customer)
    HTTP 401      -> AuthenticationError     (wrong, revoked or test/live-mixed key)
    HTTP 402      -> CardError
    HTTP 403      -> PermissionError         (a restricted key without this permission)
    HTTP 429      -> RateLimitError
    other / 5xx   -> APIError                (also: a body that is not JSON)
    network       -> APIConnectionError      (timeouts, refused connections, TLS)

Every one becomes ``Unavailable(code="payments_unavailable")`` with Stripe's own message
and, in ``details``, the HTTP status, Stripe's error type/code and request id. 5xx, 409 and
network failures are retried by the SDK (``max_network_retries``, with an idempotency key,
so a retried create never makes two sessions).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import anyio
import httpx
import stripe

from pantheon_core.errors import InvalidInput, Unavailable
from pantheon_core.ports.payments import CheckoutMode, PaymentEvent

WEBHOOK_TOLERANCE_S = 300
_MAX_MESSAGE_CHARS = 300


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client, handing httpx the already-encoded form body as ``content=``
    (httpx deprecates ``data=<str>``, which the SDK passes, with a warning per request)."""

    def _get_request_args_kwargs(self, method: str, url: str, headers: Mapping[str, str],
                                 post_data: Any) -> Any:
        args, kwargs = super()._get_request_args_kwargs(
            method, url, headers, post_data)
        if isinstance(kwargs, dict) and isinstance(kwargs.get("data"), str | bytes):
            kwargs["content"] = kwargs.pop("data")
        return args, kwargs


class StripePayments:
    """The ``Payments`` port on Stripe. ``api_base`` points the SDK elsewhere (a test
    server, a proxy). ``connect_timeout_s`` bounds connecting and ``timeout_s`` each read of
    an attempt; ``total_timeout_s`` a whole call, the SDK's retries and their waits included
    (beyond it: ``payments_unavailable``). Call :meth:`aclose` at the end."""

    def __init__(self, secret_key: str, webhook_secret: str, *, api_base: str | None = None,
                 timeout_s: float = 20.0, connect_timeout_s: float = 5.0,
                 max_network_retries: int = 2, total_timeout_s: float = 45.0) -> None:
        if not secret_key:
            raise ValueError("A Stripe secret key is required (PANTHEON_STRIPE_SECRET_KEY).")
        if not webhook_secret:
            raise ValueError("A Stripe webhook signing secret is required "
                             "(PANTHEON_STRIPE_WEBHOOK_SECRET).")
        self._webhook_secret = webhook_secret
        self._total_timeout_s = total_timeout_s
        self._http = _HTTPXClient(timeout=httpx.Timeout(timeout_s,
                                                        connect=min(connect_timeout_s, timeout_s)))
        self._client = stripe.StripeClient(secret_key,
                                           base_addresses={"api": api_base.rstrip("/")}
                                           if api_base else None,
                                           http_client=self._http,
                                           max_network_retries=max_network_retries)

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK

    # --- outgoing calls ---------------------------------------------------------------------

    async def checkout(self, *, mode: CheckoutMode, price_id: str, quantity: int,
                       customer_id: str | None, email: str, success_url: str, cancel_url: str,
                       metadata: Mapping[str, str]) -> str:
        meta = {str(key): str(value) for key, value in metadata.items()}
        params: dict[str, Any] = {
            "mode": mode,
            "line_items": [{"price": price_id, "quantity": quantity}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": meta,
        }
        if meta.get("user_id"):
            params["client_reference_id"] = meta["user_id"]
        if customer_id:
            params["customer"] = customer_id
        elif email:
            params["customer_email"] = email
        if mode == "subscription":
            params["subscription_data"] = {"metadata": meta}
        else:
            # the charge (and so a later ``charge.refunded``) carries the payment intent's
            # metadata; a customer is always made, so the portal works for top-up buyers too
            params["payment_intent_data"] = {"metadata": meta}
            if not customer_id:
                params["customer_creation"] = "always"
        try:
            with self._deadline("create a Checkout Session"):
                session = await self._client.v1.checkout.sessions.create_async(
                    cast(Any, params))
        except stripe.StripeError as exc:
            raise _unavailable(exc, "create a Checkout Session") from exc
        return _url_of(session, "Checkout Session")

    async def portal(self, *, customer_id: str, return_url: str) -> str:
        try:
            with self._deadline("create a Billing Portal session"):
                session = await self._client.v1.billing_portal.sessions.create_async(
                    {"customer": customer_id, "return_url": return_url})
        except stripe.StripeError as exc:
            raise _unavailable(exc, "create a Billing Portal session") from exc
        return _url_of(session, "Billing Portal session")

    @contextmanager
    def _deadline(self, action: str) -> Iterator[None]:
        """Bound a whole call, retries included; past it, ``payments_unavailable``."""
        try:
            with anyio.fail_after(self._total_timeout_s):
                yield
        except TimeoutError as exc:
            raise Unavailable(f"Stripe did not answer within {self._total_timeout_s:g} s; "
                              f"could not {action}.", code="payments_unavailable",
                              details={"provider": "stripe", "reason": "timeout"}) from exc

    # --- incoming webhooks ------------------------------------------------------------------

    def verify(self, payload: bytes, signature: str) -> PaymentEvent:
        """The event in ``payload`` if ``signature`` (the ``Stripe-Signature`` header) signs
        it with the webhook secret within :data:`WEBHOOK_TOLERANCE_S`; else
        ``InvalidInput(code="invalid_signature")`` saying which check failed."""
        try:
            self._client.construct_event(payload, signature, self._webhook_secret,
                                         tolerance=WEBHOOK_TOLERANCE_S)
        except stripe.SignatureVerificationError as exc:
            raise self._signature_error(payload, signature, exc) from None
        except (ValueError, TypeError, AttributeError) as exc:
            # not UTF-8, not JSON, JSON but not an object, or a thin (v2) event notification
            raise _invalid("The webhook body is not a Stripe event in JSON.",
                           "malformed_payload", error=str(exc)[:_MAX_MESSAGE_CHARS]) from None
        # The signed body itself is the plain JSON wanted: no StripeObjects, no conversions.
        raw = json.loads(payload)
        if not isinstance(raw, dict):
            raw = {}
        data = raw.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        event_id, kind, created = raw.get("id"), raw.get("type"), raw.get("created")
        if not (isinstance(event_id, str) and event_id and isinstance(kind, str) and kind
                and isinstance(created, int) and isinstance(obj, dict)):
            raise _invalid("The webhook body is signed but is not a complete Stripe event "
                           "(id, type, created and data.object are required).",
                           "malformed_payload")
        return PaymentEvent(id=event_id, kind=kind, created=created, data=obj)

    def _signature_error(self, payload: bytes, header: str,
                         exc: stripe.SignatureVerificationError) -> InvalidInput:
        if not header or not header.strip():
            return _invalid("The Stripe-Signature header is missing.", "missing_header")
        timestamp = _header_timestamp(header)
        if timestamp is None or "v1=" not in header:
            return _invalid("The Stripe-Signature header is malformed: expected "
                            "'t=<unix time>,v1=<hex signature>'.", "malformed_header")
        try:  # the same check without the clock: does the signature itself hold?
            stripe.WebhookSignature.verify_header(payload, header, self._webhook_secret,
                                                  tolerance=None)
        except stripe.SignatureVerificationError:
            return _invalid("The Stripe-Signature does not match this body and the "
                            "configured webhook secret (PANTHEON_STRIPE_WEBHOOK_SECRET).",
                            "signature_mismatch")
        except ValueError:
            pass
        else:
            return _invalid(f"The Stripe-Signature timestamp {timestamp} is more than "
                            f"{WEBHOOK_TOLERANCE_S} s old: a stale or replayed delivery.",
                            "timestamp_outside_tolerance", timestamp=timestamp,
                            tolerance_s=WEBHOOK_TOLERANCE_S)
        return _invalid(f"The Stripe-Signature could not be verified: {exc.user_message}",
                        "signature_mismatch")


def _header_timestamp(header: str) -> int | None:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _invalid(message: str, reason: str, **details: Any) -> InvalidInput:
    return InvalidInput(message, code="invalid_signature", details={"reason": reason, **details})


def _url_of(session: Any, what: str) -> str:
    url = getattr(session, "url", None)
    if not isinstance(url, str) or not url:
        raise Unavailable(f"Stripe created a {what} without a URL.", code="payments_unavailable",
                          details={"provider": "stripe", "id": getattr(session, "id", None)})
    return url


def _unavailable(exc: stripe.StripeError, action: str) -> Unavailable:
    said = (exc.user_message or type(exc).__name__)[:_MAX_MESSAGE_CHARS]
    error = exc.error
    details: dict[str, Any] = {
        "provider": "stripe",
        "status": exc.http_status,
        "stripe_type": getattr(error, "type", None),
        "stripe_code": exc.code or getattr(error, "code", None),
        "request_id": exc.request_id,
    }
    details = {key: value for key, value in details.items() if value is not None}
    if isinstance(exc, stripe.AuthenticationError):
        message = (f"Stripe rejected the API key: {said} "
                   "Check PANTHEON_STRIPE_SECRET_KEY (a secret key, sk_… or rk_…, of the "
                   "right mode: test or live).")
    elif isinstance(exc, stripe.PermissionError):
        message = (f"The Stripe key may not {action}: {said} "
                   "Give the restricted key this permission or use a secret key.")
    elif isinstance(exc, stripe.APIConnectionError):
        message = f"Could not reach Stripe to {action}: {said}"
    elif isinstance(exc, stripe.RateLimitError):
        message = f"Stripe is rate limiting requests; could not {action}: {said}"
    else:
        message = f"Stripe could not {action}: {said}"
    return Unavailable(message, code="payments_unavailable", details=details)
