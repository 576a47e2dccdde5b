"""Wallets, the ledger, usage, quotes and buying credits, as the API shows them
(FR-BILL-*, FR-PLAN-*). Every amount of credits or money is an exact decimal string."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from pantheon_core.domain.plans import Plan
from pantheon_core.domain.usage import UsageRow
from pantheon_core.domain.wallets import LedgerEntry, credits
from pantheon_core.usecases.billing import Offer, Quote, WalletView
from pantheon_http.schemas.base import RequestModel

CREDITS = "Credits as an exact decimal string, e.g. `\"0.450000\"`."


def _exact(value: Decimal) -> str:
    """An exact decimal in plain digits: ``0.00000000``, never ``0E-8``."""
    return format(value, "f")


def _credits(value: Decimal) -> str:
    """Credits always at their 6 places: ``0.450000``, ``495.000000``."""
    return _exact(credits(value))


class BucketBalancesOut(BaseModel):
    plan: str = Field(description=f"Plan credits of the current period. {CREDITS}")
    topup: str = Field(description=f"Top-up credits; they do not expire. {CREDITS}")
    available: str = Field(description=f"Plan plus top-up; spent plan first. {CREDITS}")


class BalancesOut(BucketBalancesOut):
    reserved: str = Field(description="Held by model calls in progress: already taken out of "
                                      "the buckets above, given back (less what the call "
                                      f"burns) when the call ends. {CREDITS}")


class PlanRef(BaseModel):
    id: str = Field(examples=["pro"])
    name: str = Field(examples=["Pro"])
    monthly_credits: str = Field(description=CREDITS)


class WalletOut(BaseModel):
    balances: BalancesOut
    plan: PlanRef | None = Field(description="The subscribed plan, or null.")
    period_end: datetime | None = Field(description="When the plan credits expire.")
    subscription_status: str | None = Field(examples=["active", "past_due", "canceled"])
    monthly_cap: str | None = Field(description="An admin's cap on credits burned per "
                                                "calendar month, or null.")
    models: list[str] = Field(description="The model aliases this wallet may use.")
    burned_this_month: str = Field(description=f"Burned since the 1st (UTC). {CREDITS}")

    @classmethod
    def of(cls, view: WalletView) -> WalletOut:
        wallet, plan = view.wallet, view.plan
        return cls(
            balances=BalancesOut(plan=_credits(wallet.plan_balance),
                                 topup=_credits(wallet.topup_balance),
                                 available=_credits(wallet.available),
                                 reserved=_credits(view.reserved)),
            plan=None if plan is None else PlanRef(
                id=plan.id, name=plan.name, monthly_credits=_credits(plan.monthly_credits)),
            period_end=wallet.period_end, subscription_status=wallet.subscription_status,
            monthly_cap=None if wallet.monthly_cap is None else _credits(wallet.monthly_cap),
            models=list(view.models), burned_this_month=_credits(view.burned_this_month))


class LedgerEntryOut(BaseModel):
    id: str
    kind: str = Field(description="`grant`, `expire`, `reserve`, `release`, `burn`, "
                                  "`adjust` or `refund`.")
    bucket: str = Field(description="`plan` or `topup`.")
    amount: str = Field(description=f"Signed: + adds to the bucket, - takes from it. {CREDITS}")
    created_at: datetime
    reference: str = Field(description="What it is for: a call, an invoice, a checkout…")
    reservation_id: str | None
    note: str

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerEntryOut:
        return cls(id=entry.id, kind=entry.kind.value, bucket=entry.bucket.value,
                   amount=_credits(entry.amount), created_at=entry.created_at,
                   reference=entry.reference, reservation_id=entry.reservation_id,
                   note=entry.note)


class LedgerCursor(BaseModel):
    """Pass both as ``before_at`` and ``before_id`` for the next (older) page."""

    before_at: datetime
    before_id: str


class LedgerPageOut(BaseModel):
    entries: list[LedgerEntryOut] = Field(description="Newest first.")
    next: LedgerCursor | None = Field(description="The next page's cursor; null on the last.")

    @classmethod
    def of(cls, entries: Sequence[LedgerEntry], *, limit: int) -> LedgerPageOut:
        last = entries[-1] if len(entries) >= limit else None
        return cls(entries=[LedgerEntryOut.of(e) for e in entries],
                   next=None if last is None else LedgerCursor(before_at=last.created_at,
                                                               before_id=last.id))


class UsageTotals(BaseModel):
    calls: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    tokens: int = Field(description="Prompt plus completion tokens.")
    credits: str = Field(description=CREDITS)
    provider_cost_usd: str = Field(description="What the provider charged, in US dollars.")


class UsageRowOut(UsageTotals):
    key: str = Field(description="The model alias, or the UTC day (YYYY-MM-DD).",
                     examples=["deepseek", "2026-11-26"])


class UsageOut(BaseModel):
    by: Literal["model", "day"]
    start: datetime | None = Field(alias="from", description="As asked; null: the 1st of "
                                                             "this month (UTC).")
    end: datetime | None = Field(alias="to", description="As asked (exclusive); null: now.")
    rows: list[UsageRowOut]
    totals: UsageTotals

    @classmethod
    def of(cls, rows: Sequence[UsageRow], *, by: Literal["model", "day"],
           start: datetime | None, end: datetime | None) -> UsageOut:
        total = UsageRow("total", sum(r.calls for r in rows),
                         sum(r.prompt_tokens for r in rows),
                         sum(r.completion_tokens for r in rows),
                         sum(r.cached_tokens for r in rows),
                         sum((r.credits for r in rows), Decimal(0)),
                         sum((r.provider_cost_usd for r in rows), Decimal(0)))
        return cls.model_validate({"by": by, "from": start, "to": end,
                                   "rows": [UsageRowOut(key=r.key, **_totals(r)) for r in rows],
                                   "totals": UsageTotals(**_totals(total))})


def _totals(row: UsageRow) -> dict[str, Any]:
    return {"calls": row.calls, "prompt_tokens": row.prompt_tokens,
            "cached_tokens": row.cached_tokens, "completion_tokens": row.completion_tokens,
            "tokens": row.prompt_tokens + row.completion_tokens,
            "credits": _credits(row.credits),
            "provider_cost_usd": _exact(row.provider_cost_usd)}


class PlanOut(PlanRef):
    models: list[str] = Field(description="The plan's model allowlist.")
    price_usd: str = Field(description="Per month, in US dollars.")
    purchasable: bool = Field(description="Whether checkout can sell it on this server.")

    @classmethod
    def of(cls, plan: Plan, *, purchasable: bool) -> PlanOut:
        return cls(id=plan.id, name=plan.name, monthly_credits=_credits(plan.monthly_credits),
                   models=[m.value for m in plan.models], price_usd=_exact(plan.price_usd),
                   purchasable=purchasable)


class TopUpOut(BaseModel):
    id: str = Field(examples=["small"])
    credits: str = Field(description=CREDITS)


class OfferOut(BaseModel):
    plans: list[PlanOut]
    topups: list[TopUpOut] = Field(description="Top-up packs on sale.")
    payments_enabled: bool = Field(description="False: checkout answers 503 "
                                               "`payments_not_configured`.")

    @classmethod
    def of(cls, offer: Offer, *, priced: set[str]) -> OfferOut:
        return cls(plans=[PlanOut.of(p, purchasable=offer.payments_enabled and p.id in priced)
                          for p in offer.plans],
                   topups=[TopUpOut(id=pack, credits=_credits(c)) for pack, c in offer.topups],
                   payments_enabled=offer.payments_enabled)


class CheckoutIn(RequestModel):
    """Exactly one of the two."""

    plan_id: str | None = Field(None, max_length=100, examples=["pro"],
                                description="Subscribe to this plan.")
    pack_id: str | None = Field(None, max_length=100, examples=["small"],
                                description="Buy this top-up pack once.")

    @model_validator(mode="after")
    def _exactly_one(self) -> CheckoutIn:
        if (self.plan_id is None) == (self.pack_id is None):
            raise ValueError("Send exactly one of plan_id and pack_id")
        return self


class RedirectOut(BaseModel):
    url: str = Field(description="Send the browser here (Stripe's hosted page).",
                     examples=["https://checkout.stripe.com/c/pay/cs_test_…"])


class QuoteOut(BaseModel):
    """The credit engine's answer for one hypothetical call (DESIGN §5)."""

    pricing_version: str
    model_alias: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int | None = Field(description="Null: not reported, so 0 (FR-BILL-006).")
    output_equivalent: str = Field(description="fresh×0.35 + cached×0.10 + completion.")
    model_multiplier: str
    billed_multiplier: str = Field(description="max(model multiplier, the version's floor).")
    tool_credits: str = Field(description=CREDITS)
    credits: str = Field(description=CREDITS)

    @classmethod
    def of(cls, quote: Quote) -> QuoteOut:
        return cls(pricing_version=quote.pricing_version, model_alias=quote.model_alias,
                   prompt_tokens=quote.prompt_tokens,
                   completion_tokens=quote.completion_tokens, cached_tokens=quote.cached_tokens,
                   output_equivalent=_exact(quote.output_equivalent),
                   model_multiplier=_exact(quote.model_multiplier),
                   billed_multiplier=_exact(quote.billed_multiplier),
                   tool_credits=_credits(quote.tool_credits), credits=_credits(quote.credits))


class WebhookAck(BaseModel):
    received: bool = True
    outcome: str = Field(examples=["processed"], description=(
        "`processed`, `duplicate` (this event id was processed before; nothing changed) or "
        "`ignored` (a type Pantheon does not act on)."))
