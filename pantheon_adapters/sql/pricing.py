"""Pricing versions and their model prices: data, seeded by a migration (FR-BILL-003)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select

from pantheon_adapters.sql.tables import model_pricing, pricing_versions
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.agents import ModelAlias
from pantheon_core.domain.pricing import ModelPrice, PricingVersion


def _price(row: Row[Any]) -> ModelPrice:
    return ModelPrice(alias=ModelAlias(row.alias), provider_model_id=row.provider_model_id,
                      input_usd_per_mtok=Decimal(row.input_usd_per_mtok),
                      cached_usd_per_mtok=Decimal(row.cached_usd_per_mtok),
                      output_usd_per_mtok=Decimal(row.output_usd_per_mtok),
                      credit_multiplier=Decimal(row.credit_multiplier),
                      context_window=row.context_window)


def _version(row: Row[Any], prices: list[ModelPrice]) -> PricingVersion:
    fields = row._mapping
    return PricingVersion(
        version=fields["version"], multiplier_floor=Decimal(fields["multiplier_floor"]),
        fresh_weight=Decimal(fields["fresh_weight"]),
        cached_weight=Decimal(fields["cached_weight"]),
        output_weight=Decimal(fields["output_weight"]),
        oe_per_credit=Decimal(fields["oe_per_credit"]),
        tool_credits={tool: Decimal(str(credits))
                      for tool, credits in fields["tool_credits"].items()},
        models={price.alias: price for price in prices},
        metadata={str(key): str(value) for key, value in fields["metadata"].items()},
    )


class SqlPricingRepository:
    """``PricingRepository`` over ``pricing_versions`` and ``model_pricing``.

    ``current`` is the one version flagged ``is_current`` (a unique partial index allows
    no second one), with its model prices, every number an exact ``Decimal``. Tool
    credits are stored as decimal strings in JSON, so they are exact too. With no current
    version (migrations not run) it raises ``LookupError``.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def current(self) -> PricingVersion:
        row = await self._tx.first(select(pricing_versions)
                                   .where(pricing_versions.c.is_current))
        if row is None:
            raise LookupError("No pricing version is current: run the database migrations.")
        return await self._with_prices(row)

    async def get(self, version: str) -> PricingVersion | None:
        row = await self._tx.first(select(pricing_versions)
                                   .where(pricing_versions.c.version == version))
        return None if row is None else await self._with_prices(row)

    async def _with_prices(self, row: Row[Any]) -> PricingVersion:
        prices = await self._tx.rows(
            select(model_pricing)
            .where(model_pricing.c.pricing_version == row._mapping["version"])
            .order_by(model_pricing.c.alias)
        )
        return _version(row, [_price(price) for price in prices])
