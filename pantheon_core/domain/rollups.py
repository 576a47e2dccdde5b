"""Usage rollups (FR-ADMIN-002): what analytics read instead of raw usage events.

``usage_rollups_daily`` holds one row per (UTC day, user, model alias): calls, failed calls,
prompt / cached / completion tokens, provider cost and credits. ``usage_rollups_monthly`` is the
same per calendar month. A rollup of a day is recomputed from that day's raw events, so the job
is idempotent and can rebuild any range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from pantheon_core.ids import UserId

Dimension = str  # "user" | "model" | "day" | "month"
DIMENSIONS = ("user", "model", "day", "month")
ORDERS = ("credits", "cost", "tokens", "key")  # descending (ties by key), or by key only


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Sums over some usage, grouped by the dimensions asked for (others are None)."""

    user_id: UserId | None = None
    model_alias: str | None = None
    day: date | None = None  # the first day of the bucket (day or month)
    calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    provider_cost_usd: Decimal = Decimal(0)
    credits: Decimal = Decimal(0)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def key(self) -> tuple[str | None, str | None, date | None]:
        return (self.user_id, self.model_alias, self.day)

    def plus(self, other: UsageTotals) -> UsageTotals:
        return replace(self, calls=self.calls + other.calls,
                       failed_calls=self.failed_calls + other.failed_calls,
                       prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                       cached_tokens=self.cached_tokens + other.cached_tokens,
                       completion_tokens=self.completion_tokens + other.completion_tokens,
                       provider_cost_usd=self.provider_cost_usd + other.provider_cost_usd,
                       credits=self.credits + other.credits)


def merge(*parts: list[UsageTotals]) -> list[UsageTotals]:
    """Totals from disjoint ranges added up per group key."""
    merged: dict[tuple[str | None, str | None, date | None], UsageTotals] = {}
    for part in parts:
        for row in part:
            known = merged.get(row.key())
            merged[row.key()] = row if known is None else known.plus(row)
    return list(merged.values())


@dataclass(frozen=True, slots=True)
class UsagePage:
    """Some of the groups of a grouped usage query, in order, with the count and the sums of
    all of them."""

    rows: Sequence[UsageTotals]
    groups: int = 0
    total: UsageTotals = field(default_factory=UsageTotals)
