"""Stripe's webhook (FR-BILL-004/005, AT-010): no credentials, the signature is one.

The raw body is verified as it arrived (parsing it first would break the signature), and
each event id is processed once however often Stripe delivers it. Stripe's conventions
decide the statuses: 2xx means "delivered, stop"; anything else is retried for days.

- 200 ``{"received": true, "outcome"}``: ``processed``, ``duplicate`` or ``ignored``.
- 400 ``invalid_signature``: a bad, missing or stale (over 300 s) signature; nothing changed
  but the audit log, which records the refusal (``webhook.signature``).
  (Signed file links answer the same code with 403; here 400 is what Stripe expects.)
- 429 ``too_many_bad_signatures`` (with ``Retry-After``): this address sent too many bad
  signatures lately; refused without verifying, audited once per window.
- 503 ``payments_not_configured`` / ``payment_event_unmatched``: try again later.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from pantheon_core.errors import InvalidInput
from pantheon_http.auth import Caller
from pantheon_http.deps import UseCasesDep
from pantheon_http.errors import error_response
from pantheon_http.schemas.base import ErrorResponse, error_responses
from pantheon_http.schemas.billing import WebhookAck

MAX_WEBHOOK_BYTES = 1024 * 1024  # Stripe events are a few KiB; the app's body cap is the same

logger = logging.getLogger("pantheon.http.webhooks")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("/stripe", summary="Receive a Stripe event", response_model=WebhookAck,
             responses={400: {"model": ErrorResponse,
                              "description": "A bad or stale signature (`invalid_signature`)."},
                        429: {"model": ErrorResponse,
                              "description": "Too many bad signatures from this address "
                                             "(`too_many_bad_signatures`); see the "
                                             "`Retry-After` header."},
                        **error_responses(503)})
async def stripe_webhook(
    request: Request, use_cases: UseCasesDep, caller: Caller,
    stripe_signature: Annotated[str, Header(alias="Stripe-Signature", max_length=4096)] = "",
) -> WebhookAck | JSONResponse:
    """Send the event exactly as Stripe signed it, with its `Stripe-Signature` header."""
    payload = await request.body()
    if len(payload) > MAX_WEBHOOK_BYTES:
        return error_response(413, "request_too_large",
                              f"Request bodies are at most {MAX_WEBHOOK_BYTES} bytes.",
                              {"max_bytes": MAX_WEBHOOK_BYTES})
    try:
        outcome = await use_cases.handle_payment_event(payload, stripe_signature, caller=caller)
    except InvalidInput as exc:
        if exc.code != "invalid_signature":
            raise
        logger.warning("Refused a Stripe webhook: %s (%s)", exc.message,
                       exc.details.get("reason", "?"))
        return error_response(400, exc.code, exc.message, exc.details)
    return WebhookAck(outcome=outcome)
