"""The model catalogue and its prices, as the API shows them (FR-AGENT-003, FR-BILL-003)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.pricing import ModelPrice, PricingVersion

_USD = "US dollars per million tokens, as an exact decimal string."


class ModelOut(BaseModel):
    alias: ModelAlias
    provider_model_id: str = Field(examples=["deepseek/deepseek-chat-v3.1"])
    input_usd_per_mtok: str = Field(description=_USD)
    cached_usd_per_mtok: str = Field(description=_USD)
    output_usd_per_mtok: str = Field(description=_USD)
    credit_multiplier: str = Field(description="Before the version's floor applies.")
    context_window: int = Field(description="In tokens.")

    @classmethod
    def of(cls, price: ModelPrice) -> ModelOut:
        return cls(alias=price.alias, provider_model_id=price.provider_model_id,
                   input_usd_per_mtok=str(price.input_usd_per_mtok),
                   cached_usd_per_mtok=str(price.cached_usd_per_mtok),
                   output_usd_per_mtok=str(price.output_usd_per_mtok),
                   credit_multiplier=str(price.credit_multiplier),
                   context_window=price.context_window)


class CreditWeights(BaseModel):
    """``credits = (fresh*fresh + cached*cached + completion*output) / oe_per_credit
    * max(credit_multiplier, multiplier_floor)``."""

    fresh: str
    cached: str
    output: str
    oe_per_credit: str


class ModelsOut(BaseModel):
    pricing_version: str = Field(examples=["2026-11-v1"])
    multiplier_floor: str
    weights: CreditWeights
    tool_credits: dict[str, str] = Field(description="Credits per tool call, by tool.")
    cached_tokens_policy: str | None = Field(
        description="What happens when a provider does not report cached tokens.")
    manager_model: ModelAlias = Field(description="The orchestrator's manager model.")
    models: list[ModelOut]

    @classmethod
    def of(cls, pricing: PricingVersion, manager: ModelAlias) -> ModelsOut:
        return cls(pricing_version=pricing.version, multiplier_floor=str(pricing.multiplier_floor),
                   weights=CreditWeights(fresh=str(pricing.fresh_weight),
                                         cached=str(pricing.cached_weight),
                                         output=str(pricing.output_weight),
                                         oe_per_credit=str(pricing.oe_per_credit)),
                   tool_credits={tool: str(c) for tool, c in pricing.tool_credits.items()},
                   cached_tokens_policy=pricing.metadata.get("cached_tokens_policy"),
                   manager_model=manager,
                   models=[ModelOut.of(pricing.models[a]) for a in ModelAlias
                           if a in pricing.models])
