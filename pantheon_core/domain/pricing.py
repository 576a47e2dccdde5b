"""Credits from token usage (FR-BILL-003, FR-BILL-006), exact and versioned.

    fresh             = prompt_tokens - cached_tokens    (cached = 0 when the provider omits it)
    OE                = fresh * 0.35 + cached * 0.10 + completion_tokens
    billed_multiplier = max(model.credit_multiplier, version.multiplier_floor)
    credits           = OE / 10_000 * billed_multiplier  (+ tool credits per call)

``Decimal`` throughout; each call's credits are rounded once, to 6 places, half-up.
The weights, the floor and the tool prices are data of a pricing version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from pantheon_core.domain.agents import ModelAlias

CREDIT_PLACES = Decimal("0.000001")
MISSING_CACHED_TOKENS_POLICY = (
    "When the provider does not report cached_tokens, cached_tokens = 0 and every prompt "
    "token is billed as fresh (FR-BILL-006)."
)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """How one model alias is priced in one pricing version."""

    alias: ModelAlias
    provider_model_id: str
    input_usd_per_mtok: Decimal
    cached_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    credit_multiplier: Decimal
    context_window: int


@dataclass(frozen=True, slots=True)
class PricingVersion:
    version: str
    multiplier_floor: Decimal = Decimal("0.5")
    fresh_weight: Decimal = Decimal("0.35")
    cached_weight: Decimal = Decimal("0.10")
    output_weight: Decimal = Decimal("1")
    oe_per_credit: Decimal = Decimal("10000")
    tool_credits: Mapping[str, Decimal] = field(default_factory=dict)
    models: Mapping[ModelAlias, ModelPrice] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)

    def price_of(self, alias: ModelAlias) -> ModelPrice:
        return self.models[alias]

    def billed_multiplier(self, model_multiplier: Decimal) -> Decimal:
        return max(model_multiplier, self.multiplier_floor)

    def output_equivalent(self, prompt_tokens: int, completion_tokens: int,
                          cached_tokens: int | None) -> Decimal:
        cached = min(max(cached_tokens or 0, 0), max(prompt_tokens, 0))
        fresh = max(prompt_tokens, 0) - cached
        return (Decimal(fresh) * self.fresh_weight + Decimal(cached) * self.cached_weight
                + Decimal(max(completion_tokens, 0)) * self.output_weight)

    def credits(self, *, prompt_tokens: int, completion_tokens: int, cached_tokens: int | None,
                model_multiplier: Decimal, tool_calls: Mapping[str, int] | None = None) -> Decimal:
        """The credits one call burns, rounded once to 6 places, half-up."""
        oe = self.output_equivalent(prompt_tokens, completion_tokens, cached_tokens)
        total = oe / self.oe_per_credit * self.billed_multiplier(model_multiplier)
        for tool, count in (tool_calls or {}).items():
            total += self.tool_credits.get(tool, Decimal(0)) * count
        return total.quantize(CREDIT_PLACES, rounding=ROUND_HALF_UP)

    def provider_cost(self, alias: ModelAlias, *, prompt_tokens: int, completion_tokens: int,
                      cached_tokens: int | None) -> Decimal:
        """What the provider would charge by list price, when it does not report a cost."""
        price = self.models[alias]
        cached = min(cached_tokens or 0, prompt_tokens)
        usd = (Decimal(prompt_tokens - cached) * price.input_usd_per_mtok
               + Decimal(cached) * price.cached_usd_per_mtok
               + Decimal(completion_tokens) * price.output_usd_per_mtok) / Decimal(1_000_000)
        return usd.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)
