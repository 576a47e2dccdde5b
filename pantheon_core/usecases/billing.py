"""Wallets, usage and buying credits (FR-BILL-*, FR-PLAN-*): what the billing page and the
``pantheon billing`` commands call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from pantheon_core.actor import Actor
from pantheon_core.domain.agents import ModelAlias, parse_alias
from pantheon_core.domain.plans import PLANS, Plan, allowed_models
from pantheon_core.domain.pricing import PricingVersion
from pantheon_core.domain.usage import CallStatus, LlmCall, UsageRow
from pantheon_core.domain.wallets import (
    Bucket,
    LedgerEntry,
    Wallet,
    credits,
    grant,
    open_holds,
    release,
)
from pantheon_core.errors import InvalidInput, Unavailable, not_found
from pantheon_core.ids import UserId, new_id
from pantheon_core.ports.payments import Payments
from pantheon_core.usecases.audit_log import record, require_owner
from pantheon_core.usecases.deps import UseCase
from pantheon_core.usecases.ledger import (
    apply,
    month_start,
    next_month,
    open_wallet,
    read_wallet,
)

MAX_PAGE = 200
MAX_QUOTE_TOKENS = 100_000_000


@dataclass(frozen=True, slots=True)
class WalletView:
    wallet: Wallet
    plan: Plan | None
    models: tuple[str, ...]
    burned_this_month: Decimal
    reserved: Decimal = Decimal(0)  # held by calls in progress (already out of the balances)


@dataclass(frozen=True, slots=True)
class Quote:
    pricing_version: str
    model_alias: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int | None
    output_equivalent: Decimal
    model_multiplier: Decimal
    billed_multiplier: Decimal
    tool_credits: Decimal
    credits: Decimal


@dataclass(frozen=True, slots=True)
class Offer:
    """What can be bought: plans and top-up packs, and whether checkout works here."""

    plans: tuple[Plan, ...]
    topups: tuple[tuple[str, Decimal], ...]
    payments_enabled: bool


class _Billing(UseCase):
    def _payments(self) -> Payments:
        if self.deps.payments is None:
            raise Unavailable("Payments are not configured on this server; an owner can grant "
                              "credits with `pantheon billing grant`.",
                              code="payments_not_configured")
        return self.deps.payments


class GetWallet(_Billing):
    async def __call__(self, actor: Actor) -> WalletView:
        user_id = actor.require_user()
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            wallet = await read_wallet(uow, self.deps, user_id)
            start = month_start(now)
            burned, reserved = await uow.ledger.burned_and_held(
                user_id, start=start, end=next_month(start),
                held_since=now - self._hold_lookback())
            await uow.commit()  # a first look creates the wallet (and its welcome grant)
        plan = PLANS.get(wallet.plan_id) if wallet.plan_id else None
        models = tuple(sorted(m.value for m in allowed_models(wallet.plan_id,
                                                              wallet.allowed_models)))
        return WalletView(wallet=wallet, plan=plan, models=models, burned_this_month=burned,
                          reserved=reserved)

    def _hold_lookback(self) -> timedelta:
        """How far back open holds are looked for: a hold lives as long as one call, and the
        sweep releases any older than the reservation TTL, so a day (or 4 TTLs) holds them all
        while keeping the scan to the user's recent entries."""
        return max(timedelta(days=1), 4 * timedelta(seconds=self.deps.billing.reservation_ttl_s))


class ListLedger(_Billing):
    async def __call__(self, actor: Actor, *, limit: int = 50,
                       before: tuple[datetime, str] | None = None) -> Sequence[LedgerEntry]:
        """Newest first; pass the last entry's ``(created_at, id)`` as ``before`` for the next
        page."""
        user_id = actor.require_user()
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", code="invalid_limit")
        async with self.deps.uow() as uow:
            return await uow.ledger.list_for_user(user_id, limit=limit, before=before)


class UsageReport(_Billing):
    """The actor's LLM usage in ``[start, end)``, by model alias or by UTC day."""

    async def __call__(self, actor: Actor, *, by: Literal["model", "day"] = "model",
                       start: datetime | None = None,
                       end: datetime | None = None) -> Sequence[UsageRow]:
        user_id = actor.require_user()
        if by not in ("model", "day"):
            raise InvalidInput("Group usage by 'model' or 'day'.", code="invalid_grouping")
        end = end or self.deps.clock.now() + timedelta(seconds=1)
        start = start or month_start(self.deps.clock.now())
        if start >= end:
            raise InvalidInput("The start must be before the end.", code="invalid_range")
        async with self.deps.uow() as uow:
            return await uow.usage.sums_for_user(user_id, start, end, by=by)


class QuoteCall(_Billing):
    """The credit engine's answer for a hypothetical call (AT-009), in any pricing version."""

    async def __call__(self, *, model_alias: str, prompt_tokens: int, completion_tokens: int,
                       cached_tokens: int | None = None, pricing_version: str | None = None,
                       tool_calls: dict[str, int] | None = None) -> Quote:
        alias = parse_alias(model_alias)
        for name, value in (("prompt_tokens", prompt_tokens),
                            ("completion_tokens", completion_tokens),
                            ("cached_tokens", cached_tokens or 0)):
            if not 0 <= value <= MAX_QUOTE_TOKENS:
                raise InvalidInput(f"{name} must be between 0 and {MAX_QUOTE_TOKENS}.",
                                   code="invalid_tokens", details={"field": name})
        if cached_tokens is not None and cached_tokens > prompt_tokens:
            raise InvalidInput("cached_tokens cannot exceed prompt_tokens.",
                               code="invalid_tokens", details={"field": "cached_tokens"})
        async with self.deps.uow() as uow:
            pricing = (await uow.pricing.get(pricing_version) if pricing_version
                       else await uow.pricing.current())
        if pricing is None:
            raise not_found("pricing_version", str(pricing_version))
        price = pricing.price_of(alias)
        tools = {name: count for name, count in (tool_calls or {}).items() if count}
        unknown = sorted(set(tools) - set(pricing.tool_credits))
        if unknown:
            raise InvalidInput(f"Unknown tool(s): {', '.join(unknown)}.", code="unknown_tool")
        tool_credits = sum((pricing.tool_credits[t] * n for t, n in tools.items()), Decimal(0))
        return Quote(
            pricing_version=pricing.version, model_alias=alias.value,
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            output_equivalent=pricing.output_equivalent(prompt_tokens, completion_tokens,
                                                        cached_tokens),
            model_multiplier=price.credit_multiplier,
            billed_multiplier=pricing.billed_multiplier(price.credit_multiplier),
            tool_credits=tool_credits,
            credits=pricing.credits(prompt_tokens=prompt_tokens,
                                    completion_tokens=completion_tokens,
                                    cached_tokens=cached_tokens,
                                    model_multiplier=price.credit_multiplier,
                                    tool_calls=tools))


class GrantCredits(_Billing):
    """An owner (or the local operator) grants top-up credits to a user; audited."""

    async def __call__(self, actor: Actor, email: str, amount: Decimal | str, *,
                       reason: str, key: str | None = None) -> LedgerEntry:
        await require_owner(self.deps, actor, "billing.grant", email)
        note = " ".join((reason or "").split())
        if not 3 <= len(note) <= 500:
            raise InvalidInput("Give a reason (3 to 500 characters); it is audited.",
                               code="reason_required")
        try:
            value = credits(amount)
        except ArithmeticError:
            raise InvalidInput(f"{amount!r} is not a number of credits.",
                               code="invalid_credits") from None
        now = self.deps.clock.now()
        async with self.deps.uow() as uow:
            user = await uow.users.get_by_email(email.strip().lower())
            if user is None:
                raise not_found("user", email)
            wallet = await open_wallet(uow, self.deps, user.id)
            change = grant(wallet, Bucket.TOPUP, value, key=key or f"grant:{new_id()}",
                           now=now, note=note, actor_id=actor.user_id)
            await apply(uow, change)
            await record(uow, self.deps, actor, "billing.grant", user.email,
                         before={"topup_balance": str(wallet.topup_balance)},
                         after={"topup_balance": str(change.wallet.topup_balance),
                                "credits": str(value), "entry": change.entries[0].id},
                         reason=note)
            await uow.commit()
        return change.entries[0]


class ListOffer(_Billing):
    async def __call__(self) -> Offer:
        billing = self.deps.billing
        return Offer(plans=tuple(PLANS.values()),
                     topups=tuple((p.id, p.credits) for p in billing.topups),
                     payments_enabled=self.deps.payments is not None)


class StartCheckout(_Billing):
    """A hosted checkout for a plan (subscription) or a top-up pack (one payment)."""

    async def __call__(self, actor: Actor, *, plan_id: str | None = None,
                       pack_id: str | None = None) -> str:
        user_id = actor.require_user()
        payments, billing = self._payments(), self.deps.billing
        if (plan_id is None) == (pack_id is None):
            raise InvalidInput("Choose a plan or a top-up pack, exactly one.",
                               code="invalid_checkout")
        metadata: dict[str, str] = {"user_id": user_id}
        if plan_id is not None:
            if plan_id not in PLANS or plan_id not in billing.plan_prices:
                raise not_found("plan", plan_id)
            mode: Literal["subscription", "payment"] = "subscription"
            price_id = billing.plan_prices[plan_id]
            metadata["plan_id"] = plan_id
        else:
            pack = next((p for p in billing.topups if p.id == pack_id), None)
            if pack is None:
                raise not_found("topup_pack", str(pack_id))
            mode, price_id = "payment", pack.price_id
            metadata |= {"pack_id": pack.id, "credits": str(pack.credits)}
        async with self.deps.uow() as uow:
            wallet = await open_wallet(uow, self.deps, user_id)
            user = await uow.users.get(user_id)
            await uow.commit()
        return await payments.checkout(
            mode=mode, price_id=price_id, quantity=1, customer_id=wallet.stripe_customer_id,
            email=user.email if user else (actor.email or ""),
            success_url=billing.success_url, cancel_url=billing.cancel_url, metadata=metadata)


class OpenPortal(_Billing):
    async def __call__(self, actor: Actor) -> str:
        user_id = actor.require_user()
        payments = self._payments()
        async with self.deps.uow() as uow:
            wallet = await uow.wallets.get(user_id)
        if wallet is None or wallet.stripe_customer_id is None:
            raise InvalidInput("There is no subscription or payment to manage yet.",
                               code="no_billing_account")
        return await payments.portal(customer_id=wallet.stripe_customer_id,
                                     return_url=self.deps.billing.portal_return_url)


class SweepReservations(UseCase):
    """Release holds left by processes that died mid-call (older than the policy's TTL).
    Returns how many reservations were released. Safe to run anywhere, any time."""

    async def __call__(self) -> int:
        now = self.deps.clock.now()
        bound = now - timedelta(seconds=self.deps.billing.reservation_ttl_s)
        async with self.deps.uow() as uow:
            stale = await uow.ledger.open_reservations(older_than=bound)
        by_user: dict[UserId, set[str]] = defaultdict(set)
        for entry in stale:
            if entry.reservation_id is not None:
                by_user[entry.user_id].add(entry.reservation_id)
        released = 0
        for user_id, reservation_ids in by_user.items():
            async with self.deps.uow() as uow:
                wallet = await open_wallet(uow, self.deps, user_id)
                for reservation_id in sorted(reservation_ids):
                    entries = await uow.ledger.reservation(reservation_id)
                    holds = open_holds(entries).get(reservation_id, [])
                    if holds:
                        wallet = await apply(uow, release(wallet, holds, now=now,
                                                          note="released by the sweep"))
                        released += 1
                await uow.commit()
        return released


class ExpirePlanCredits(UseCase):
    """Plan-period rollover: expire the plan credits of every wallet whose period has ended
    (they would expire at their next use anyway; this keeps balances honest for reports).
    Returns how many wallets changed."""

    async def __call__(self) -> int:
        now, changed = self.deps.clock.now(), 0
        after: UserId | None = None
        while True:
            async with self.deps.uow() as uow:
                wallets = await uow.wallets.list_all(after=after)
            for wallet in wallets:
                if wallet.period_end is not None and wallet.period_end <= now \
                        and wallet.plan_balance > 0:
                    async with self.deps.uow() as uow:
                        await open_wallet(uow, self.deps, wallet.user_id)  # expires them
                        await uow.commit()
                    changed += 1
            if len(wallets) < 500:
                return changed
            after = wallets[-1].user_id


@dataclass
class Discrepancy:
    kind: str  # usage_credits | wallet_balance | provider_cost
    ref: str
    expected: str
    found: str
    note: str = ""


@dataclass
class ReconcileReport:
    usage_rows: int = 0
    wallets: int = 0
    provider_checked: int = 0  # rows compared with the provider's own record
    provider_missing: int = 0  # rows the provider had no record of (yet)
    discrepancies: list[Discrepancy] = field(default_factory=list)


class Reconcile(UseCase):
    """Recompute every usage row's credits from its tokens and pricing version, check every
    wallet against the sum of its ledger, and — with provider stats configured (an
    OpenRouter key) — compare each OpenRouter row's recorded cost with OpenRouter's own
    generation record. Admins and the operator only.

    ``progress(done, total_hint)`` is called as batches complete.
    """

    async def __call__(self, actor: Actor, *, start: datetime | None = None,
                       end: datetime | None = None,
                       progress: object | None = None) -> ReconcileReport:
        actor.require_admin_read()
        report = ReconcileReport()
        start = start or datetime(1970, 1, 1, tzinfo=self.deps.clock.now().tzinfo)
        end = end or self.deps.clock.now() + timedelta(seconds=1)
        tick = progress if callable(progress) else None
        after: tuple[datetime, str] | None = None
        versions: dict[str, PricingVersion | None] = {}
        async with self.deps.uow() as uow:
            while True:
                batch = await uow.usage.list_between(start, end, after=after, limit=1000)
                for call in batch:
                    report.usage_rows += 1
                    if call.pricing_version not in versions:
                        versions[call.pricing_version] = await uow.pricing.get(
                            call.pricing_version)
                    pricing = versions[call.pricing_version]
                    expected = _recompute(call, pricing)
                    if expected is None:
                        report.discrepancies.append(Discrepancy(
                            "usage_credits", call.id, "a known pricing version",
                            call.pricing_version, "unknown pricing version or model"))
                    elif expected != call.credits_burned:
                        report.discrepancies.append(Discrepancy(
                            "usage_credits", call.id, str(expected), str(call.credits_burned),
                            f"{call.model_alias} {call.prompt_tokens}/{call.cached_tokens}/"
                            f"{call.completion_tokens} tokens, {call.pricing_version}"))
                    await self._compare_cost(call, report)
                if tick is not None:
                    tick("usage", report.usage_rows)
                if len(batch) < 1000:
                    break
                after = (batch[-1].created_at, batch[-1].id)
            wallet_after: UserId | None = None
            while True:
                wallets = await uow.wallets.list_all(after=wallet_after)
                for wallet in wallets:
                    report.wallets += 1
                    entries = await uow.ledger.all_for_user(wallet.user_id)
                    plan = sum((e.amount for e in entries if e.bucket is Bucket.PLAN),
                               Decimal(0))
                    topup = sum((e.amount for e in entries if e.bucket is Bucket.TOPUP),
                                Decimal(0))
                    if (plan, topup) != (wallet.plan_balance, wallet.topup_balance):
                        report.discrepancies.append(Discrepancy(
                            "wallet_balance", wallet.user_id, f"plan {plan}, topup {topup}",
                            f"plan {wallet.plan_balance}, topup {wallet.topup_balance}",
                            "the wallet does not equal the sum of its ledger"))
                    if plan < 0 or topup < 0:
                        report.discrepancies.append(Discrepancy(
                            "wallet_balance", wallet.user_id, "no bucket below zero",
                            f"plan {plan}, topup {topup}", "overdrawn"))
                if tick is not None:
                    tick("wallets", report.wallets)
                if len(wallets) < 500:
                    break
                wallet_after = wallets[-1].user_id
        return report


    async def _compare_cost(self, call: LlmCall, report: ReconcileReport) -> None:
        stats_port = self.deps.provider_stats
        if stats_port is None or call.provider != "openrouter" or not call.generation_id \
                or call.status is not CallStatus.OK:
            return
        stats = await stats_port.generation(call.generation_id)
        if stats is None:
            report.provider_missing += 1
            return
        report.provider_checked += 1
        if abs(stats.total_cost_usd - call.provider_cost_usd) > COST_TOLERANCE_USD:
            report.discrepancies.append(Discrepancy(
                "provider_cost", call.id, str(stats.total_cost_usd), str(call.provider_cost_usd),
                f"OpenRouter generation {call.generation_id}"))


COST_TOLERANCE_USD = Decimal("0.00000001")


def _recompute(call: LlmCall, pricing: PricingVersion | None) -> Decimal | None:
    """The credits ``call`` should have burned, or None when its pricing is unknown."""
    if pricing is None:
        return None
    try:
        price = pricing.price_of(ModelAlias(call.model_alias))
    except (KeyError, ValueError):
        return None
    return pricing.credits(prompt_tokens=call.prompt_tokens,
                           completion_tokens=call.completion_tokens,
                           cached_tokens=call.cached_tokens if call.cached_tokens_reported
                           else None, model_multiplier=price.credit_multiplier)

