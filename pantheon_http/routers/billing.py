"""Credits and billing (FR-BILL-*, FR-PLAN-*): the wallet, its ledger, usage, quotes, plans,
and the hand-off to Stripe's hosted checkout and portal.

Everything here is the signed-in user's own; an owner grants credits with the CLI
(``pantheon billing grant``). Without Stripe configured, checkout and the portal answer
503 ``payments_not_configured`` and the rest works as usual.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from pantheon_core.errors import InvalidInput
from pantheon_core.usecases.billing import MAX_PAGE, MAX_QUOTE_TOKENS
from pantheon_http.auth import CurrentActor
from pantheon_http.deps import UseCasesDep
from pantheon_http.params import as_utc
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.billing import (
    CheckoutIn,
    LedgerPageOut,
    OfferOut,
    QuoteOut,
    RedirectOut,
    UsageOut,
    WalletOut,
)

router = APIRouter(prefix="/billing", tags=["billing"], responses=error_responses(401))


Instant = Annotated[datetime | None, AfterValidator(as_utc)]
Tokens = Annotated[int, Query(ge=0, le=MAX_QUOTE_TOKENS)]
_ID = r"^[^\x00-\x1f\x7f]+$"


@router.get("/wallet", summary="Your wallet: balances, plan, cap and models")
async def get_wallet(actor: CurrentActor, use_cases: UseCasesDep) -> WalletOut:
    """A first look opens the wallet (with its welcome credits)."""
    return WalletOut.of(await use_cases.get_wallet(actor))


@router.get("/ledger", summary="Your credit transactions, newest first",
            responses=error_responses(422))
async def list_ledger(
    actor: CurrentActor, use_cases: UseCasesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    before_at: Annotated[Instant, Query(description="The `next.before_at` of a page.")] = None,
    before_id: Annotated[str | None, Query(max_length=100, pattern=_ID,
                                           description="The `next.before_id` of a page.")] = None,
) -> LedgerPageOut:
    """Page back with both halves of `next`; one without the other is 422 `invalid_cursor`."""
    if (before_at is None) != (before_id is None):
        raise InvalidInput("Pass both before_at and before_id (a page's `next`), or neither.",
                           code="invalid_cursor")
    before = None if before_at is None or before_id is None else (before_at, before_id)
    entries = await use_cases.list_ledger(actor, limit=limit, before=before)
    return LedgerPageOut.of(entries, limit=limit)


@router.get("/usage", summary="Your LLM usage by model or by day",
            responses=error_responses(422))
async def usage_report(
    actor: CurrentActor, use_cases: UseCasesDep,
    by: Literal["model", "day"] = "model",
    start: Annotated[Instant, Query(alias="from", description="Inclusive; default the 1st "
                                                              "of this month (UTC).")] = None,
    end: Annotated[Instant, Query(alias="to", description="Exclusive; default now.")] = None,
) -> UsageOut:
    """Calls, tokens, credits and provider cost per model alias or UTC day, with totals.
    A date without a time is midnight UTC."""
    rows = await use_cases.usage_report(actor, by=by, start=start, end=end)
    return UsageOut.of(rows, by=by, start=start, end=end)


@router.get("/plans", summary="Plans and top-up packs on sale")
async def list_offer(actor: CurrentActor, use_cases: UseCasesDep) -> OfferOut:
    offer = await use_cases.list_offer()
    priced = set(use_cases.start_checkout.deps.billing.plan_prices)
    return OfferOut.of(offer, priced=priced)


@router.post("/checkout", summary="Start a Stripe checkout for a plan or a top-up pack",
             responses=error_responses(404, 422, 503))
async def start_checkout(body: CheckoutIn, actor: CurrentActor,
                         use_cases: UseCasesDep) -> RedirectOut:
    """Credits arrive with Stripe's webhook once the payment clears. 404 `plan_not_found`
    / `topup_pack_not_found`; 503 `payments_not_configured` without Stripe."""
    url = await use_cases.start_checkout(actor, plan_id=body.plan_id, pack_id=body.pack_id)
    return RedirectOut(url=url)


@router.post("/portal", summary="Open Stripe's billing portal",
             responses=error_responses(422, 503))
async def open_portal(actor: CurrentActor, use_cases: UseCasesDep) -> RedirectOut:
    """Manage or cancel the subscription; 422 `no_billing_account` before any payment."""
    return RedirectOut(url=await use_cases.open_portal(actor))


@router.get("/quote", summary="What a call would cost, in credits",
            responses=error_responses(404, 422))
async def quote_call(
    actor: CurrentActor, use_cases: UseCasesDep,
    model: Annotated[str, Query(max_length=40, pattern=_ID, description="A model alias.")],
    prompt_tokens: Tokens, completion_tokens: Tokens,
    cached_tokens: Annotated[int | None, Query(ge=0, le=MAX_QUOTE_TOKENS, description=(
        "Omit when the provider does not report it: every prompt token is fresh."))] = None,
    pricing_version: Annotated[str | None, Query(max_length=100, pattern=_ID)] = None,
    web_searches: Annotated[int, Query(ge=0, le=1000)] = 0,
    file_reads: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> QuoteOut:
    """The formula of DESIGN §5 in the current (or the given) pricing version."""
    quote = await use_cases.quote_call(
        model_alias=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
        cached_tokens=cached_tokens, pricing_version=pricing_version,
        tool_calls={"web_search": web_searches, "read_file": file_reads})
    return QuoteOut.of(quote)
