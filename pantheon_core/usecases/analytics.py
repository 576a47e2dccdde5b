"""Admin analytics (FR-ADMIN-002), served from rollups — plus the raw events of the days not
rolled yet — never by scanning every raw event.

The rollup job rebuilds the daily rollups from the day before its watermark up to today, then
the monthly ones, and moves the watermark (the ``rollups.rolled_through`` setting) to today:
days before it are final in the rollups; it and later days are read from the raw events (a
bounded scan of the most recent rows). So totals are exact for any range, today included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from pantheon_core.actor import Actor
from pantheon_core.domain.rollups import DIMENSIONS, UsageTotals, merge
from pantheon_core.errors import InvalidInput
from pantheon_core.ids import UserId
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.audit_log import record, require_owner
from pantheon_core.usecases.deps import UseCase

WATERMARK_KEY = "rollups.rolled_through"
MAX_RANGE_DAYS = 3660
TOP_LIMIT = 100


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def month_floor(day: date) -> date:
    return day.replace(day=1)


def _check_range(start: date, end: date) -> None:
    if start >= end:
        raise InvalidInput("The start must be before the end.", code="invalid_range")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(f"A range is at most {MAX_RANGE_DAYS} days.", code="invalid_range")


async def watermark(uow: UnitOfWork) -> date | None:
    raw = await uow.settings.get(WATERMARK_KEY)
    return date.fromisoformat(raw) if raw else None


async def usage_totals(uow: UnitOfWork, start: date, end: date, *, by: Sequence[str],
                       user_id: UserId | None = None) -> list[UsageTotals]:
    """Exact totals over ``[start, end)``: rollups before the watermark, raw events after."""
    rolled_to = await watermark(uow) or start
    parts: list[list[UsageTotals]] = []
    if start < min(end, rolled_to):
        parts.append(list(await uow.rollups.totals(start, min(end, rolled_to), by=by,
                                                   user_id=user_id)))
    raw_from = max(start, rolled_to)
    if raw_from < end:
        parts.append(list(await uow.rollups.raw_totals(at_midnight(raw_from), at_midnight(end),
                                                       by=by, user_id=user_id)))
    return merge(*parts)


async def active_user_ids(uow: UnitOfWork, start: date, end: date) -> set[UserId]:
    rolled_to = await watermark(uow) or start
    users: set[UserId] = set()
    if start < min(end, rolled_to):
        users |= set(await uow.rollups.active_users(start, min(end, rolled_to)))
    raw_from = max(start, rolled_to)
    if raw_from < end:
        users |= set(await uow.rollups.raw_active_users(at_midnight(raw_from),
                                                        at_midnight(end)))
    return users


@dataclass(frozen=True, slots=True)
class UsageReportRow:
    totals: UsageTotals
    email: str | None = None


@dataclass(frozen=True, slots=True)
class AdminUsage:
    start: date
    end: date
    by: tuple[str, ...]
    rows: Sequence[UsageReportRow]
    total: UsageTotals


class _Analytics(UseCase):
    async def _emails(self, uow: UnitOfWork, rows: Sequence[UsageTotals]) -> dict[str, str]:
        emails: dict[str, str] = {}
        for user_id in {r.user_id for r in rows if r.user_id is not None}:
            user = await uow.users.get(user_id)
            if user is not None:
                emails[user_id] = user.email
        return emails


class AdminUsageReport(_Analytics):
    """Tokens, credits and provider cost over ``[start, end)``, grouped by any of
    user, model, day, month (FR-ADMIN-002: per-user per-model tokens and cost)."""

    async def __call__(self, actor: Actor, *, start: date, end: date,
                       by: Sequence[str] = ("user", "model")) -> AdminUsage:
        actor.require_admin_read()
        _check_range(start, end)
        dims = tuple(dict.fromkeys(by))
        if not dims or any(d not in DIMENSIONS for d in dims) or {"day", "month"} <= set(dims):
            raise InvalidInput(f"Group by one or more of {', '.join(DIMENSIONS)} (not both day "
                               "and month).", code="invalid_grouping")
        async with self.deps.uow() as uow:
            rows = await usage_totals(uow, start, end, by=dims)
            emails = await self._emails(uow, rows) if "user" in dims else {}
        rows.sort(key=lambda r: (-r.credits, str(r.user_id or ""), r.model_alias or "",
                                 r.day or date.min))
        total = UsageTotals()
        for row in rows:
            total = total.plus(row)
        return AdminUsage(start=start, end=end, by=dims, total=total,
                          rows=[UsageReportRow(r, emails.get(r.user_id or "")) for r in rows])


@dataclass(frozen=True, slots=True)
class CostPoint:
    day: date
    provider_cost_usd: Decimal
    credits: Decimal
    internal_cost_usd: Decimal

    @property
    def margin_usd(self) -> Decimal:
        return self.internal_cost_usd - self.provider_cost_usd


@dataclass(frozen=True, slots=True)
class CostSummary:
    start: date
    end: date
    credit_value_usd: Decimal
    provider_cost_usd: Decimal
    credits: Decimal
    internal_cost_usd: Decimal
    series: Sequence[CostPoint]

    @property
    def margin_usd(self) -> Decimal:
        return self.internal_cost_usd - self.provider_cost_usd

    @property
    def margin_ratio(self) -> Decimal | None:
        if self.internal_cost_usd == 0:
            return None
        return (self.margin_usd / self.internal_cost_usd).quantize(Decimal("0.0001"))


class CostReport(_Analytics):
    """Provider cost vs internal cost (credits × the configured value of a credit), the margin,
    and the daily series."""

    async def __call__(self, actor: Actor, *, start: date, end: date) -> CostSummary:
        actor.require_admin_read()
        _check_range(start, end)
        value = self.deps.billing.credit_value_usd
        async with self.deps.uow() as uow:
            days = sorted(await usage_totals(uow, start, end, by=("day",)),
                          key=lambda r: r.day or date.min)
        series = [CostPoint(r.day or start, r.provider_cost_usd, r.credits, r.credits * value)
                  for r in days]
        cost = sum((p.provider_cost_usd for p in series), Decimal(0))
        burned = sum((p.credits for p in series), Decimal(0))
        return CostSummary(start=start, end=end, credit_value_usd=value,
                           provider_cost_usd=cost, credits=burned,
                           internal_cost_usd=burned * value, series=series)


@dataclass(frozen=True, slots=True)
class ActiveUsers:
    day: date  # the last day counted
    dau: int
    wau: int  # the 7 days ending on ``day``
    mau: int  # the 30 days ending on ``day``
    daily: Sequence[tuple[date, int]]
    weekly: Sequence[tuple[date, int]]
    monthly: Sequence[tuple[date, int]]


class ActiveUsersReport(_Analytics):
    """DAU, WAU and MAU on ``day`` (default today, UTC), and their series since ``start``
    (default 30 days before): distinct users with at least one LLM call."""

    async def __call__(self, actor: Actor, *, day: date | None = None,
                       start: date | None = None) -> ActiveUsers:
        actor.require_admin_read()
        last = day or self.deps.clock.now().astimezone(UTC).date()
        first = start or last - timedelta(days=29)
        _check_range(first, last + timedelta(days=1))
        end = last + timedelta(days=1)
        async with self.deps.uow() as uow:
            dau = len(await active_user_ids(uow, last, end))
            wau = len(await active_user_ids(uow, end - timedelta(days=7), end))
            mau = len(await active_user_ids(uow, end - timedelta(days=30), end))
            series = {bucket: await self._series(uow, first, end, bucket)
                      for bucket in ("day", "week", "month")}
        return ActiveUsers(day=last, dau=dau, wau=wau, mau=mau, daily=series["day"],
                           weekly=series["week"], monthly=series["month"])

    async def _series(self, uow: UnitOfWork, start: date, end: date,
                      bucket: str) -> list[tuple[date, int]]:
        rolled_to = await watermark(uow) or start
        counts: dict[date, int] = {}
        if start < min(end, rolled_to):
            counts.update(dict(await uow.rollups.active_counts(start, min(end, rolled_to),
                                                               bucket)))
        raw_from = max(start, rolled_to)
        if raw_from < end:
            # The buckets that reach past the watermark are recounted whole, exactly.
            first_bucket = _bucket_start(raw_from, bucket)
            day = first_bucket
            while day < end:
                following = _next_bucket(day, bucket)
                users = await active_user_ids(uow, max(day, start), min(following, end))
                if users:
                    counts[day] = len(users)
                else:
                    counts.pop(day, None)
                day = following
        return sorted(counts.items())


def _bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_bucket(day: date, bucket: str) -> date:
    if bucket == "week":
        return day + timedelta(days=7)
    if bucket == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


class TopReport(_Analytics):
    """The top users or models by cost (credits) or by tokens over ``[start, end)``."""

    async def __call__(self, actor: Actor, *, of: Literal["users", "models"],
                       by: Literal["cost", "tokens"], start: date, end: date,
                       limit: int = 10) -> Sequence[UsageReportRow]:
        actor.require_admin_read()
        _check_range(start, end)
        if of not in ("users", "models") or by not in ("cost", "tokens"):
            raise InvalidInput("Top users or models, by cost or tokens.", code="invalid_top")
        if not 1 <= limit <= TOP_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {TOP_LIMIT}.",
                               code="invalid_limit")
        dim = "user" if of == "users" else "model"
        async with self.deps.uow() as uow:
            rows = await usage_totals(uow, start, end, by=(dim,))
            key: Callable[[UsageTotals], tuple[Decimal | int, str]] = (
                (lambda r: (-r.credits, str(r.user_id or r.model_alias))) if by == "cost" else
                (lambda r: (-r.tokens, str(r.user_id or r.model_alias))))
            top = sorted(rows, key=key)[:limit]
            emails = await self._emails(uow, top) if dim == "user" else {}
        return [UsageReportRow(r, emails.get(r.user_id or "")) for r in top]


@dataclass(frozen=True, slots=True)
class RollupResult:
    start: date
    end: date
    daily_rows: int
    monthly_rows: int
    watermark: date | None


class RollupUsage(UseCase):
    """The rollup job: rebuild the daily rollups of ``[start, end)`` (default: from the day
    before the watermark through today), then their months, and move the watermark to today.
    Idempotent; rebuilds any range from the raw events. Admins, the operator and the worker."""

    async def __call__(self, actor: Actor | None = None, *, start: date | None = None,
                       end: date | None = None,
                       progress: Callable[[date, date], object] | None = None) -> RollupResult:
        if actor is not None:
            await require_owner(self.deps, actor, "admin.rollup", "usage_rollups")
        today = self.deps.clock.now().astimezone(UTC).date()
        async with self.deps.uow() as uow:
            rolled_to = await watermark(uow)
            oldest = await self._oldest_day(uow, today)
        first = start or (rolled_to - timedelta(days=1) if rolled_to else oldest)
        last = end or today + timedelta(days=1)
        _check_range(first, last)
        daily = 0
        day = first
        while day < last:  # a month per transaction keeps each one short
            stop = min(_next_bucket(day.replace(day=1), "month"), last)
            async with self.deps.uow() as uow:
                daily += await uow.rollups.rebuild_days(day, stop)
                await uow.commit()
            if progress is not None:
                progress(day, stop)
            day = stop
        # Days before the watermark are final in the rollups: extend it over what was just
        # rebuilt when that joins up with it (or starts at the oldest data), never past today.
        contiguous = first <= rolled_to if rolled_to is not None else first <= oldest
        mark = rolled_to
        if contiguous:
            mark = max(rolled_to or first, min(last, today))
        async with self.deps.uow() as uow:
            monthly = await uow.rollups.rebuild_months(month_floor(first), last)
            if mark is not None and mark != rolled_to:
                await uow.settings.put(WATERMARK_KEY, mark.isoformat(), now=self.deps.clock.now())
            if actor is not None:
                await record(uow, self.deps, actor, "admin.rollup", "usage_rollups",
                             before={"watermark": rolled_to.isoformat() if rolled_to else None},
                             after={"from": first.isoformat(), "to": last.isoformat(),
                                    "daily_rows": daily, "monthly_rows": monthly,
                                    "watermark": mark.isoformat() if mark else None})
            await uow.commit()
        return RollupResult(start=first, end=last, daily_rows=daily, monthly_rows=monthly,
                            watermark=mark)

    async def _oldest_day(self, uow: UnitOfWork, today: date) -> date:
        return await uow.rollups.first_event_day() or today
