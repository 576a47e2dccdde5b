"""Admin analytics (FR-ADMIN-002), served from rollups — plus the raw events not rolled up
yet — never by scanning every raw event.

Every usage event is stamped by the database with the instant it was *recorded* (written),
whatever its ``created_at``. The rollups hold every event recorded before the watermark ``W``
(the ``rollups.rolled_until`` setting, an instant on that clock). Analytics over a range of days
read the rollups of those days and the raw events of those days recorded from W on — a bounded
scan of the most recent rows, through the ``recorded_at`` index: about one rollup interval plus
the rollup lag of usage. So totals are exact for any range at any moment: today, the current
minute, and an event written late or back-dated to an old day included.

The rollup job moves W to the database's now less the rollup lag (``AnalyticsPolicy``: 30 s,
so that a write still committing is not skipped) in one transaction with what it adds: the
events recorded in ``[W, new W)``, added to the daily and monthly rollups and the daily
activity of their days — work proportional to the new usage, not to the size of a day or of
the history. The first run, and an explicit range (``admin rollup --from --to``), recompute
days from the raw events instead (replace, not add: idempotent, safe to re-run over any
range), up to W.

The watermark's setting row doubles as the lock (a compare-and-swap opens each rollup
transaction), and a reader re-reads W after its queries and starts again if it moved, so no
reader counts an event twice or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal, TypeVar

from pantheon_core.actor import Actor
from pantheon_core.domain.rollups import DIMENSIONS, UsagePage, UsageTotals
from pantheon_core.errors import Conflict, InvalidInput
from pantheon_core.ids import UserId
from pantheon_core.ports.unit_of_work import UnitOfWork
from pantheon_core.usecases.audit_log import record, require_owner
from pantheon_core.usecases.deps import UseCase

WATERMARK_KEY = "rollups.rolled_until"
MAX_RANGE_DAYS = 3660
TOP_LIMIT = 100
PAGE_LIMIT = 100_000
READ_ATTEMPTS = 5
ONE_DAY = timedelta(days=1)
# The days reports and rollups take: no usage predates the Unix epoch, and the last is far
# enough from ``date.max`` that the ranges' and buckets' arithmetic (a day, a week, a month
# on) never leaves the calendar.
FIRST_REPORT_DAY = date(1970, 1, 1)
LAST_REPORT_DAY = date(9999, 1, 1)

T = TypeVar("T")


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def month_floor(day: date) -> date:
    return day.replace(day=1)


def check_report_days(*days: date | None) -> None:
    """``invalid_date`` for a day outside ``FIRST_REPORT_DAY``..``LAST_REPORT_DAY`` (a range's
    exclusive end may be the day after the last)."""
    for day in days:
        if day is not None and not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY + ONE_DAY:
            raise InvalidInput(
                f"Days must be between {FIRST_REPORT_DAY} and {LAST_REPORT_DAY}.",
                code="invalid_date", details={"day": day.isoformat(),
                                              "first": FIRST_REPORT_DAY.isoformat(),
                                              "last": LAST_REPORT_DAY.isoformat()})


def _check_range(start: date, end: date) -> None:
    check_report_days(start, end)
    if start >= end:
        raise InvalidInput("The start must be before the end.", code="invalid_range")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(f"A range is at most {MAX_RANGE_DAYS} days.", code="invalid_range")


async def watermark(uow: UnitOfWork) -> datetime | None:
    raw = await uow.settings.get(WATERMARK_KEY)
    if not raw:
        return None
    try:
        mark = datetime.fromisoformat(raw)
    except ValueError:  # not an instant: treat as never rolled (the next run rebuilds)
        return None
    return mark.replace(tzinfo=UTC) if mark.tzinfo is None else mark.astimezone(UTC)


def _iso(mark: datetime | None) -> str | None:
    return None if mark is None else mark.isoformat()


async def consistent_read(uow: UnitOfWork,
                          read: Callable[[datetime | None], Awaitable[T]]) -> T:
    """``read(W)`` with W unchanged from before to after it (else again, with the new W): a
    rollup committing in between would otherwise be counted twice or not at all."""
    mark = await watermark(uow)
    for _ in range(READ_ATTEMPTS):
        result = await read(mark)
        after = await watermark(uow)
        if after == mark:
            return result
        mark = after
    raise Conflict("The usage rollups kept moving; try again.", code="rollup_in_progress")


async def usage_page(uow: UnitOfWork, start: date, end: date, *, by: Sequence[str],
                     order_by: str = "credits", limit: int | None = None,
                     offset: int = 0) -> UsagePage:
    """Exact sums over ``[start, end)``, the rollups and the events recorded since merged in
    the store, at one watermark (re-read if a rollup commits meanwhile)."""
    return await consistent_read(uow, lambda mark: uow.rollups.usage(
        start, end, by=by, watermark=mark, order_by=order_by, limit=limit, offset=offset))


@dataclass(frozen=True, slots=True)
class UsageReportRow:
    totals: UsageTotals
    email: str | None = None


@dataclass(frozen=True, slots=True)
class AdminUsage:
    start: date
    end: date
    by: tuple[str, ...]
    rows: Sequence[UsageReportRow]  # by credits, most first; ``[offset, offset + limit)``
    total: UsageTotals  # of every group, not only this page's
    groups: int = 0  # how many rows there are in all
    offset: int = 0


class _Analytics(UseCase):
    async def _emails(self, uow: UnitOfWork, rows: Sequence[UsageTotals]) -> dict[str, str]:
        wanted = {r.user_id for r in rows if r.user_id is not None}
        return {user.id: user.email for user in await uow.users.get_many(wanted)} if wanted \
            else {}


class AdminUsageReport(_Analytics):
    """Tokens, credits and provider cost over ``[start, end)``, grouped by any of
    user, model, day, month (FR-ADMIN-002: per-user per-model tokens and cost)."""

    async def __call__(self, actor: Actor, *, start: date, end: date,
                       by: Sequence[str] = ("user", "model"), limit: int | None = None,
                       offset: int = 0) -> AdminUsage:
        actor.require_admin_read()
        _check_range(start, end)
        dims = tuple(dict.fromkeys(by))
        if not dims or any(d not in DIMENSIONS for d in dims) or {"day", "month"} <= set(dims):
            raise InvalidInput(f"Group by one or more of {', '.join(DIMENSIONS)} (not both day "
                               "and month).", code="invalid_grouping")
        if limit is not None and not 1 <= limit <= PAGE_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT}.",
                               code="invalid_limit")
        if offset < 0:
            raise InvalidInput("offset must be 0 or more.", code="invalid_offset")
        async with self.deps.uow() as uow:
            page = await usage_page(uow, start, end, by=dims, limit=limit, offset=offset)
            emails = await self._emails(uow, page.rows) if "user" in dims else {}
        return AdminUsage(start=start, end=end, by=dims, total=page.total, groups=page.groups,
                          offset=offset,
                          rows=[UsageReportRow(r, emails.get(r.user_id or ""))
                                for r in page.rows])


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
            days = (await usage_page(uow, start, end, by=("day",), order_by="key")).rows
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
        check_report_days(day, start)
        last = day or self.deps.clock.now().astimezone(UTC).date()
        first = start or last - timedelta(days=29)
        _check_range(first, last + timedelta(days=1))
        end = last + timedelta(days=1)
        async with self.deps.uow() as uow:
            return await consistent_read(uow, lambda mark: self._read(uow, mark, first, end))

    async def _read(self, uow: UnitOfWork, mark: datetime | None, first: date,
                    end: date) -> ActiveUsers:
        earliest = min(first, end - timedelta(days=30))
        # The events not rolled up yet, once: their (day, user) pairs serve every count below.
        tail = list(await uow.rollups.raw_activity(at_midnight(earliest), at_midnight(end),
                                                   recorded_from=mark))

        async def distinct(since: date) -> int:
            users = set(await uow.rollups.active_users(since, end)) if mark is not None \
                else set()
            return len(users | {user for day, user in tail if day >= since})

        dau = await distinct(end - timedelta(days=1))
        wau = await distinct(end - timedelta(days=7))
        mau = await distinct(end - timedelta(days=30))
        series = {bucket: await self._series(uow, mark, first, end, bucket, tail)
                  for bucket in ("day", "week", "month")}
        return ActiveUsers(day=end - timedelta(days=1), dau=dau, wau=wau, mau=mau,
                           daily=series["day"], weekly=series["week"],
                           monthly=series["month"])

    async def _series(self, uow: UnitOfWork, mark: datetime | None, start: date, end: date,
                      bucket: str, tail: list[tuple[date, UserId]]) -> list[tuple[date, int]]:
        counts: dict[date, int] = {}
        if mark is not None:
            counts.update(dict(await uow.rollups.active_counts(start, end, bucket)))
        # A bucket with events not rolled up yet is counted again as the union of its rolled
        # users and theirs (a user active on both sides of the watermark counts once).
        late: dict[date, set[UserId]] = {}
        for day, user in tail:
            if start <= day < end:
                late.setdefault(_bucket_start(day, bucket), set()).add(user)
        for first, users in late.items():
            since, until = max(first, start), min(_next_bucket(first, bucket), end)
            rolled = set(await uow.rollups.active_users(since, until)) if mark is not None \
                else set()
            counts[first] = len(rolled | users)
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
            top = (await usage_page(uow, start, end, by=(dim,), limit=limit,
                                    order_by="credits" if by == "cost" else "tokens")).rows
            emails = await self._emails(uow, top) if dim == "user" else {}
        return [UsageReportRow(r, emails.get(r.user_id or "")) for r in top]


@dataclass(frozen=True, slots=True)
class RollupResult:
    start: date  # the days recomputed whole, ``[start, end)`` (empty when only added to)
    end: date
    daily_rows: int
    monthly_rows: int
    watermark: datetime | None  # the rollups hold every event recorded before it
    added_from: datetime | None = None  # the events added: recorded in [added_from, watermark)


class RollupUsage(UseCase):
    """The rollup job (see the module's docstring). With no range: the first run recomputes
    every day from the oldest event and sets W; later runs add the events recorded since.
    With a range (owners, the operator): recompute its days from the raw events, up to W.
    Owners, the operator, and the worker (no actor, no audit)."""

    async def __call__(self, actor: Actor | None = None, *, start: date | None = None,
                       end: date | None = None,
                       progress: Callable[[date, date], object] | None = None) -> RollupResult:
        if actor is not None:
            await require_owner(self.deps, actor, "admin.rollup", "usage_rollups")
        check_report_days(start, end)
        async with self.deps.uow() as uow:
            raw_mark = await uow.settings.get(WATERMARK_KEY)
            mark = await watermark(uow)
            target = await uow.rollups.ingest_mark(
                lag=timedelta(seconds=self.deps.analytics.rollup_lag_s))
            oldest = await uow.rollups.first_event_day()
        if start is None and end is None and mark is not None:
            result = await self._advance(raw_mark, mark, target)
        else:
            today = self.deps.clock.now().astimezone(UTC).date()
            first = start or oldest or today
            last = end or max(today, target.date()) + timedelta(days=1)
            _check_range(first, last)
            # The first run sets W when it covers every event: all the days from the oldest.
            sets_mark = mark is None and (oldest is None or first <= oldest) and end is None
            result = await self._rebuild(raw_mark, mark if mark is not None else target,
                                         first, last, sets_mark, progress)
        if actor is not None:
            async with self.deps.uow() as uow:
                await record(uow, self.deps, actor, "admin.rollup", "usage_rollups",
                             before={"watermark": _iso(mark)},
                             after={"from": result.start.isoformat(),
                                    "to": result.end.isoformat(),
                                    "added_from": _iso(result.added_from),
                                    "daily_rows": result.daily_rows,
                                    "monthly_rows": result.monthly_rows,
                                    "watermark": _iso(result.watermark)})
                await uow.commit()
        return result

    async def _advance(self, raw_mark: str | None, mark: datetime,
                       target: datetime) -> RollupResult:
        """Add the events recorded in ``[W, target)`` and move W to ``target``: one
        transaction, opened by the swap of W."""
        day = target.date()
        if target <= mark:
            return RollupResult(start=day, end=day, daily_rows=0, monthly_rows=0,
                                watermark=mark)
        async with self.deps.uow() as uow:
            if not await uow.settings.swap(WATERMARK_KEY, raw_mark, target.isoformat(),
                                           now=self.deps.clock.now()):
                raise Conflict("Another rollup moved the watermark first.",
                               code="rollup_in_progress")
            daily = await uow.rollups.add_events(mark, target)
            await uow.commit()
        return RollupResult(start=day, end=day, daily_rows=daily, monthly_rows=0,
                            watermark=target, added_from=mark)

    async def _rebuild(self, raw_mark: str | None, until: datetime, first: date, last: date,
                       sets_mark: bool,
                       progress: Callable[[date, date], object] | None) -> RollupResult:
        """Recompute ``[first, last)`` from the events recorded before ``until`` (W, or the
        first run's target), a month per transaction; the first run then sets W."""
        daily = 0
        day = first
        while day < last:  # a month per transaction keeps each one short
            stop = min(_next_bucket(day.replace(day=1), "month"), last)
            async with self.deps.uow() as uow:
                await self._hold(uow, raw_mark)
                daily += await uow.rollups.rebuild_days(day, stop, recorded_before=until)
                await uow.commit()
            if progress is not None:
                progress(day, stop)
            day = stop
        async with self.deps.uow() as uow:
            if sets_mark:
                if not await uow.settings.swap(WATERMARK_KEY, raw_mark, until.isoformat(),
                                               now=self.deps.clock.now()):
                    raise Conflict("Another rollup moved the watermark first.",
                                   code="rollup_in_progress")
            else:
                await self._hold(uow, raw_mark)
            monthly = await uow.rollups.rebuild_months(month_floor(first), last)
            await uow.commit()
        mark = until if sets_mark or raw_mark is not None else None
        return RollupResult(start=first, end=last, daily_rows=daily, monthly_rows=monthly,
                            watermark=mark)

    async def _hold(self, uow: UnitOfWork, raw_mark: str | None) -> None:
        """Lock W for this transaction (a swap to itself), or fail if it moved since."""
        if raw_mark is None:
            return  # nothing reads the rollups before the first run sets W
        if not await uow.settings.swap(WATERMARK_KEY, raw_mark, raw_mark,
                                       now=self.deps.clock.now()):
            raise Conflict("The watermark moved while rebuilding; run the rollup again.",
                           code="rollup_in_progress")
