"""The pricing version migration 0002 seeds, built in Python.

The fake unit of work serves it as the current version, and a migration test asserts
the database holds exactly these numbers, so the fake and the real store agree.
"""

from __future__ import annotations

from decimal import Decimal

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.pricing import MISSING_CACHED_TOKENS_POLICY, ModelPrice, PricingVersion


def _price(alias: ModelAlias, model_id: str, fresh: str, cached: str, output: str,
           multiplier: str, window: int) -> ModelPrice:
    return ModelPrice(alias=alias, provider_model_id=model_id,
                      input_usd_per_mtok=Decimal(fresh), cached_usd_per_mtok=Decimal(cached),
                      output_usd_per_mtok=Decimal(output),
                      credit_multiplier=Decimal(multiplier), context_window=window)


SEED_MODELS = (
    _price(ModelAlias.LLAMA, "meta-llama/llama-3.3-70b-instruct", "0.13", "0.13", "0.40", "0.4",
           131_072),
    _price(ModelAlias.QWEN, "qwen/qwen3-235b-a22b-2507", "0.13", "0.13", "0.60", "0.6", 262_144),
    _price(ModelAlias.DEEPSEEK, "deepseek/deepseek-chat-v3.1", "0.25", "0.06", "1.00", "1.0",
           163_840),
    _price(ModelAlias.GPT_OSS, "openai/gpt-oss-120b", "0.09", "0.09", "0.45", "0.5", 131_072),
    _price(ModelAlias.PREMIUM, "google/gemini-2.5-pro", "1.25", "0.31", "10.00", "6.0",
           1_048_576),
)

SEED_PRICING = PricingVersion(
    version="2026-11-v1",
    multiplier_floor=Decimal("0.5"),
    fresh_weight=Decimal("0.35"),
    cached_weight=Decimal("0.10"),
    output_weight=Decimal("1"),
    oe_per_credit=Decimal("10000"),
    tool_credits={"web_search": Decimal("0.5"), "read_file": Decimal("0.1")},
    models={price.alias: price for price in SEED_MODELS},
    metadata={"cached_tokens_policy": MISSING_CACHED_TOKENS_POLICY,
              "source": "OpenRouter list prices, 2026-11"},
)
