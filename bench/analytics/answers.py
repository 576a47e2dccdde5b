"""One comparable form for the answers of both sides, and their totals for the report.

An :class:`Answer` holds everything the caller gets (every row with every sum, e-mails,
series), so ``pantheon == peer`` is a row-by-row cross-check, not just equal totals.
Money is compared as ``Decimal`` (exact on both sides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

PAGE = 100  # rows of the per-user per-model table a dashboard page shows


@dataclass(frozen=True)
class Range:
    label: str
    start: date
    end: date  # exclusive


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    user: str | None = None
    model: str | None = None
    day: date | None = None
    sums: Sequence[Any] = ()  # calls, failed, prompt, cached, completion, cost, credits
    email: str | None = None

    def key(self) -> tuple[Any, ...]:
        calls, failed, prompt, cached, completion, cost, credits = self.sums
        return (self.user, self.model, self.day, int(calls), int(failed), int(prompt),
                int(cached), int(completion), Decimal(cost), Decimal(credits), self.email)


@dataclass(frozen=True)
class Answer:
    value: tuple[Any, ...]
    summary: dict[str, Any] = field(default_factory=dict, compare=False)


def _totals(rows: Sequence[Row]) -> dict[str, Any]:
    keys = [row.key() for row in rows]
    return {"rows": len(keys),
            "calls": sum(k[3] for k in keys), "failed_calls": sum(k[4] for k in keys),
            "tokens": sum(k[5] + k[7] for k in keys),
            "cached_tokens": sum(k[6] for k in keys),
            "provider_cost_usd": str(sum((k[8] for k in keys), Decimal(0))),
            "credits": str(sum((k[9] for k in keys), Decimal(0)))}


def usage(rows: Sequence[Row]) -> Answer:
    """Grouped usage: the order is part of the answer (both sort by credits, then keys)."""
    return Answer(tuple(row.key() for row in rows), _totals(rows))


def top(rows: Sequence[Row]) -> Answer:
    summary = _totals(rows)
    summary["first"] = rows[0].user or rows[0].model if rows else None
    return Answer(tuple(row.key() for row in rows), summary)


def costs(series: Sequence[tuple[date, Any, Any]]) -> Answer:
    points = tuple((day, Decimal(cost), Decimal(credits)) for day, cost, credits in series)
    return Answer(points, {"days": len(points),
                           "provider_cost_usd": str(sum((p[1] for p in points), Decimal(0))),
                           "credits": str(sum((p[2] for p in points), Decimal(0)))})


def active(*, day: date, dau: int, wau: int, mau: int, daily: Sequence[tuple[date, int]],
           weekly: Sequence[tuple[date, int]], monthly: Sequence[tuple[date, int]]) -> Answer:
    value = (day, dau, wau, mau, tuple(daily), tuple(weekly), tuple(monthly))
    return Answer(value, {"dau": dau, "wau": wau, "mau": mau, "days": len(daily),
                          "weeks": len(weekly), "months": len(monthly)})


def difference(ours: Answer, theirs: Answer) -> str | None:
    """None when equal, else a short description of the first difference."""
    if ours.value == theirs.value:
        return None
    a, b = ours.value, theirs.value
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} items"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return f"item {i}: {x!r} vs {y!r}"[:400]
    return "different"
