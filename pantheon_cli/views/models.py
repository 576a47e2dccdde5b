"""The model catalogue: aliases, provider model ids, prices and credit multipliers."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.pricing import PricingVersion


class ModelView(TypedDict):
    alias: str
    provider_model_id: str
    input_usd_per_mtok: str
    cached_usd_per_mtok: str
    output_usd_per_mtok: str
    credit_multiplier: str
    billed_multiplier: str  # never below the pricing version's floor
    context_window: int


class CatalogView(TypedDict):
    pricing_version: str
    multiplier_floor: str
    tool_credits: dict[str, str]
    manager_model: str
    llm_backend: str
    metadata: dict[str, str]
    models: list[ModelView]


def plain(value: Decimal) -> str:
    """``0.130000`` as ``0.13``, ``1.0000`` as ``1``: prices without trailing zeros."""
    return format(value.normalize(), "f")


def catalog_data(pricing: PricingVersion, *, manager: ModelAlias,
                 llm_backend: str) -> CatalogView:
    order = {alias: i for i, alias in enumerate(ModelAlias)}
    models = [
        ModelView(alias=price.alias.value, provider_model_id=price.provider_model_id,
                  input_usd_per_mtok=plain(price.input_usd_per_mtok),
                  cached_usd_per_mtok=plain(price.cached_usd_per_mtok),
                  output_usd_per_mtok=plain(price.output_usd_per_mtok),
                  credit_multiplier=plain(price.credit_multiplier),
                  billed_multiplier=plain(pricing.billed_multiplier(price.credit_multiplier)),
                  context_window=price.context_window)
        for price in sorted(pricing.models.values(), key=lambda p: order.get(p.alias, 99))
    ]
    return CatalogView(
        pricing_version=pricing.version, multiplier_floor=plain(pricing.multiplier_floor),
        tool_credits={tool: plain(credits) for tool, credits in pricing.tool_credits.items()},
        manager_model=manager.value, llm_backend=llm_backend, metadata=dict(pricing.metadata),
        models=models,
    )


def multiplier_cell(model: ModelView) -> Text:
    """``0.6``, or ``0.4→0.5`` when the floor lifts what is billed."""
    text = Text(model["credit_multiplier"])
    if model["billed_multiplier"] != model["credit_multiplier"]:
        text.append(f"→{model['billed_multiplier']}", style="yellow")
    return text


def tokens_cell(count: int) -> str:
    """``131k``, ``1.0M``: context windows at a glance."""
    return f"{count / 1_000_000:.1f}M" if count >= 1_000_000 else f"{count // 1000}k"


def catalog_table(catalog: CatalogView) -> RenderableType:
    tools = ", ".join(f"{tool} {credits}" for tool, credits in catalog["tool_credits"].items())
    table = Table(
        title=f"Models · pricing version {catalog['pricing_version']} · "
              f"orchestrator manager: {catalog['manager_model']}",
        title_justify="left",
        caption=f"Prices in $ per million tokens. Credits = output-equivalent tokens / 10 000 "
                f"× max(multiplier, floor {catalog['multiplier_floor']}); a→b: billed at b. "
                f"Tool calls: {tools or 'free'} credits each. "
                f"LLM backend in use: {catalog['llm_backend']}.",
        caption_justify="left",
    )
    table.add_column("Alias", style="bold cyan", no_wrap=True)
    table.add_column("Provider model", overflow="fold")
    table.add_column("In", justify="right")
    table.add_column("Cached", justify="right")
    table.add_column("Out", justify="right")
    table.add_column("Credit ×", justify="right", no_wrap=True)
    table.add_column("Context", justify="right")
    for model in catalog["models"]:
        table.add_row(model["alias"], model["provider_model_id"], model["input_usd_per_mtok"],
                      model["cached_usd_per_mtok"], model["output_usd_per_mtok"],
                      multiplier_cell(model), tokens_cell(model["context_window"]))
    return table
