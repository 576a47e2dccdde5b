"""Usage rollups (FR-ADMIN-002): daily and monthly sums of ``llm_call_events``, and who was
active on which day, computed and read entirely in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Row,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from pantheon_adapters.sql.coltypes import utc_day
from pantheon_adapters.sql.tables import (
    llm_call_events,
    usage_rollups_daily,
    usage_rollups_monthly,
    user_activity_daily,
)
from pantheon_adapters.sql.tx import Tx
from pantheon_core.domain.rollups import DIMENSIONS, ORDERS, UsagePage, UsageTotals
from pantheon_core.domain.usage import CallStatus
from pantheon_core.ids import UserId

BUCKETS = ("day", "week", "month")
# What migration 0006 stamps ``recorded_at`` with on SQLite.
SQLITE_NOW: ColumnElement[str] = literal_column(
    "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'", String())
SUM_COLUMNS = ("calls", "failed_calls", "prompt_tokens", "cached_tokens", "completion_tokens",
               "provider_cost_usd", "credits")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _month_ceiling(day: date) -> date:
    """``day`` if it is the first of a month, else the first of the next month."""
    if day.day == 1:
        return day
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _dimensions(by: Sequence[str]) -> frozenset[str]:
    unknown = set(by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"Unknown grouping {sorted(unknown)}: use {', '.join(DIMENSIONS)}.")
    return frozenset(by)


@dataclass(frozen=True)
class _Source:
    """What one table offers a grouped query: its keys, its sums, and its range filter."""

    user_id: ColumnElement[Any]
    model_alias: ColumnElement[Any]
    day: ColumnElement[Any] | None  # None: the table has no day (monthly rollups)
    month: ColumnElement[Any]
    sums: dict[str, ColumnElement[Any]]
    where: tuple[ColumnElement[bool], ...]


class SqlRollupRepository:
    """``RollupRepository`` over ``usage_rollups_daily``, ``usage_rollups_monthly``,
    ``user_activity_daily`` and ``llm_call_events``.

    No row passes through Python on a rebuild: each is a ``DELETE`` of the range and an
    ``INSERT … SELECT … GROUP BY`` (an upsert, so that two rebuilds of one range racing on
    PostgreSQL both succeed) in the unit of work's transaction (commit to publish it), so it
    scales with the database, not with this process.

    The UTC day of a timestamp is ``CAST(timezone('UTC', created_at) AS DATE)`` on
    PostgreSQL (that is ``(created_at AT TIME ZONE 'UTC')::date``, whatever the session's
    time zone) and ``date(created_at)`` on SQLite, which stores UTC timestamps as naive ISO
    text (see ``UTCDateTime``). The month and ISO week (Monday) of a day are
    ``date_trunc('month' | 'week', day::timestamp)::date`` on PostgreSQL and
    ``date(day, 'start of month')`` / ``date(day, 'weekday 0', '-6 days')`` on SQLite.
    Sums are exact: money is ``NUMERIC`` on PostgreSQL and integer units on SQLite
    (``ExactDecimal``), summed as such.

    Group keys and ``active_users`` sort by code point on both databases.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._pg = tx.dialect == "postgresql"

    # --- SQL expressions that differ per dialect (constants inlined, so that the same
    # --- expression in SELECT and GROUP BY is the same text for PostgreSQL) ------------

    def _utc_day(self, at: ColumnElement[Any]) -> ColumnElement[Any]:
        return utc_day(at, self._tx.dialect)

    def _utc_month(self, at: ColumnElement[Any]) -> ColumnElement[Any]:
        if self._pg:
            return cast(func.date_trunc(literal_column("'month'"),
                                        func.timezone(literal_column("'UTC'"), at)), Date)
        return func.date(at, literal_column("'start of month'"), type_=Date)

    def _bucket_of(self, day: ColumnElement[Any], bucket: str) -> ColumnElement[Any]:
        if bucket == "day":
            return day
        if self._pg:
            return cast(func.date_trunc(literal_column(f"'{bucket}'"), cast(day, DateTime)),
                        Date)
        if bucket == "month":
            return func.date(day, literal_column("'start of month'"), type_=Date)
        # The next Sunday (the day itself on a Sunday), then back to its Monday.
        return func.date(day, literal_column("'weekday 0'"), literal_column("'-6 days'"),
                         type_=Date)

    def _key(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """A string key ordered by code point (as Python orders), whatever the collation."""
        return column.collate("C") if self._pg else column

    # --- rebuilds --------------------------------------------------------------------

    async def ingest_mark(self, *, lag: timedelta) -> datetime:
        if self._pg:
            now: datetime = (await self._tx.rows(select(func.clock_timestamp())))[0][0]
        else:  # the same text the column's default writes, read as UTC
            text = (await self._tx.rows(select(SQLITE_NOW)))[0][0]
            now = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return now.astimezone(UTC) - lag

    async def rebuild_days(self, start: date, end: date, *,
                           recorded_before: datetime | None = None) -> int:
        """Returns the daily rollup rows written (not counting the activity rows, which are
        derived from them)."""
        daily, activity = usage_rollups_daily, user_activity_daily
        await self._tx.execute(delete(daily).where(daily.c.day >= start, daily.c.day < end))
        await self._tx.execute(delete(activity).where(activity.c.day >= start,
                                                      activity.c.day < end))
        raw = llm_call_events
        window = [raw.c.created_at >= _midnight(start), raw.c.created_at < _midnight(end)]
        if recorded_before is not None:
            window.append(raw.c.recorded_at < recorded_before)
        written = await self._tx.execute(self._replace(
            daily, ["day", "user_id", "model_alias"], SUM_COLUMNS,
            self._raw_sums(window, by_month=False)))
        active = (
            select(daily.c.day, daily.c.user_id, func.sum(daily.c.calls),
                   func.sum(daily.c.credits))
            .where(daily.c.day >= start, daily.c.day < end)
            .group_by(daily.c.day, daily.c.user_id)
        )
        await self._tx.execute(self._replace(activity, ["day", "user_id"],
                                             ("calls", "credits"), active))
        return written.rowcount

    async def add_events(self, recorded_from: datetime, recorded_before: datetime) -> int:
        daily, monthly, activity = usage_rollups_daily, usage_rollups_monthly, user_activity_daily
        if recorded_from >= recorded_before:
            return 0
        raw = llm_call_events
        window = [raw.c.recorded_at >= recorded_from, raw.c.recorded_at < recorded_before]
        written = await self._tx.execute(self._add(
            daily, ["day", "user_id", "model_alias"], SUM_COLUMNS,
            self._raw_sums(window, by_month=False)))
        await self._tx.execute(self._add(
            monthly, ["month", "user_id", "model_alias"], SUM_COLUMNS,
            self._raw_sums(window, by_month=True)))
        day = self._utc_day(raw.c.created_at)
        await self._tx.execute(self._add(
            activity, ["day", "user_id"], ("calls", "credits"),
            select(day, raw.c.user_id, func.count(), func.sum(raw.c.credits_burned))
            .where(*window).group_by(day, raw.c.user_id)))
        return written.rowcount

    def _raw_sums(self, window: list[ColumnElement[bool]], *, by_month: bool) -> Select[Any]:
        """Per (UTC day or month, user, model alias): the sums of ``SUM_COLUMNS`` over the
        events in ``window``."""
        raw = llm_call_events
        bucket = (self._utc_month if by_month else self._utc_day)(raw.c.created_at)
        sums = self._raw_source_sums()
        return (select(bucket, raw.c.user_id, raw.c.model_alias,
                       *(sums[name] for name in SUM_COLUMNS))
                .where(*window).group_by(bucket, raw.c.user_id, raw.c.model_alias))

    async def first_event_day(self) -> date | None:
        raw = llm_call_events
        oldest = (await self._tx.rows(select(func.min(raw.c.created_at))))[0][0]
        return None if oldest is None else oldest.astimezone(UTC).date()

    async def rebuild_months(self, start: date, end: date) -> int:
        first, stop = _month_ceiling(start), _month_ceiling(end)
        daily, monthly = usage_rollups_daily, usage_rollups_monthly
        await self._tx.execute(delete(monthly).where(monthly.c.month >= first,
                                                     monthly.c.month < stop))
        if first >= stop:
            return 0
        month = self._bucket_of(daily.c.day, "month")
        rolled = (
            select(month, daily.c.user_id, daily.c.model_alias,
                   *(func.sum(daily.c[name]) for name in SUM_COLUMNS))
            .where(daily.c.day >= first, daily.c.day < stop)
            .group_by(month, daily.c.user_id, daily.c.model_alias)
        )
        written = await self._tx.execute(self._replace(
            monthly, ["month", "user_id", "model_alias"], SUM_COLUMNS, rolled))
        return written.rowcount

    # --- reads -----------------------------------------------------------------------

    async def usage(self, start: date, end: date, *, by: Sequence[str],
                    watermark: datetime | None, user_id: UserId | None = None,
                    order_by: str = "credits", limit: int | None = None,
                    offset: int = 0) -> UsagePage:
        """One statement: each source grouped on its own, ``UNION ALL``, grouped again; the
        count and the sums of every group ride on each row as window aggregates."""
        dims = _dimensions(by)
        if order_by not in ORDERS:
            raise ValueError(f"Unknown order {order_by!r}: use {', '.join(ORDERS)}.")
        sources = [*(self._rolled_sources(start, end, dims) if watermark is not None else []),
                   self._raw_source(_midnight(start), _midnight(end), watermark)]
        parts = [self._grouped_query(source, dims, user_id=user_id) for source in sources]
        merged = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("parts")
        keys: dict[str, ColumnElement[Any]] = {
            name: merged.c[name] for name in self._group_keys(sources[-1], dims)}
        sums: dict[str, ColumnElement[Any]] = {name: func.sum(merged.c[name])
                                               for name in SUM_COLUMNS}
        query: Select[Any] = select(*(key.label(name) for name, key in keys.items()),
                       *(total.label(name) for name, total in sums.items()),
                       func.count().over().label("groups"),
                       *(func.sum(total).over().label(f"all_{name}")
                         for name, total in sums.items()))
        query = query.group_by(*keys.values()) if keys else query.having(func.count() > 0)
        query = self._ordered(query, sums, keys, order_by, limit)
        if offset:
            query = query.offset(offset)
        rows = await self._tx.rows(query)
        if not rows:
            if offset and limit != 0:  # past the end: the count and sums of all, still
                whole = await self.usage(start, end, by=by, watermark=watermark,
                                         user_id=user_id, order_by=order_by, limit=1)
                return UsagePage(rows=[], groups=whole.groups, total=whole.total)
            return UsagePage(rows=[])
        first = rows[0]._mapping
        total = UsageTotals(
            calls=int(first["all_calls"]), failed_calls=int(first["all_failed_calls"]),
            prompt_tokens=int(first["all_prompt_tokens"]),
            cached_tokens=int(first["all_cached_tokens"]),
            completion_tokens=int(first["all_completion_tokens"]),
            provider_cost_usd=Decimal(first["all_provider_cost_usd"]),
            credits=Decimal(first["all_credits"]))
        return UsagePage(rows=[self._totals(row, keys) for row in rows],
                         groups=int(first["groups"]), total=total)

    def _rolled_sources(self, start: date, end: date, dims: frozenset[str]) -> list[_Source]:
        """The whole months inside ``[start, end)`` from the monthly table (a row per user and
        model, not per day), the days around them from the daily one — unless by day."""
        middle, last = _month_ceiling(start), end.replace(day=1)
        if "day" in dims or middle >= last:
            return [self._rolled_source(start, end, dims)]
        return [self._rolled_source(first, stop, dims)
                for first, stop in ((start, middle), (middle, last), (last, end))
                if first < stop]

    def _rolled_source(self, start: date, end: date, dims: frozenset[str]) -> _Source:
        if start.day == 1 and end.day == 1 and "day" not in dims:
            monthly = usage_rollups_monthly
            return _Source(
                user_id=monthly.c.user_id, model_alias=monthly.c.model_alias, day=None,
                month=monthly.c.month,
                sums={name: func.sum(monthly.c[name]) for name in SUM_COLUMNS},
                where=(monthly.c.month >= start, monthly.c.month < end))
        daily = usage_rollups_daily
        return _Source(
            user_id=daily.c.user_id, model_alias=daily.c.model_alias, day=daily.c.day,
            month=self._bucket_of(daily.c.day, "month"),
            sums={name: func.sum(daily.c[name]) for name in SUM_COLUMNS},
            where=(daily.c.day >= start, daily.c.day < end))

    def _raw_source(self, start: datetime, end: datetime,
                    recorded_from: datetime | None) -> _Source:
        raw = llm_call_events
        return _Source(
            user_id=raw.c.user_id, model_alias=raw.c.model_alias,
            day=self._utc_day(raw.c.created_at), month=self._utc_month(raw.c.created_at),
            sums=self._raw_source_sums(), where=self._recent(start, end, recorded_from))

    @staticmethod
    def _raw_source_sums() -> dict[str, ColumnElement[Any]]:
        """``SUM_COLUMNS`` as aggregates of ``llm_call_events``."""
        raw = llm_call_events
        failed = case((raw.c.status != CallStatus.OK.value, 1), else_=0)
        return {"calls": func.count(), "failed_calls": func.sum(failed),
                "prompt_tokens": func.sum(raw.c.prompt_tokens),
                "cached_tokens": func.sum(raw.c.cached_tokens),
                "completion_tokens": func.sum(raw.c.completion_tokens),
                "provider_cost_usd": func.sum(raw.c.provider_cost_usd),
                "credits": func.sum(raw.c.credits_burned)}

    async def totals(self, start: date, end: date, *, by: Sequence[str],
                     user_id: UserId | None = None, order_by: str | None = None,
                     limit: int | None = None) -> Sequence[UsageTotals]:
        dims = _dimensions(by)
        return await self._grouped(self._rolled_source(start, end, dims), dims,
                                   user_id=user_id, order_by=order_by, limit=limit)

    async def raw_totals(self, start: datetime, end: datetime, *, by: Sequence[str],
                         user_id: UserId | None = None,
                         recorded_from: datetime | None = None) -> Sequence[UsageTotals]:
        return await self._grouped(self._raw_source(start, end, recorded_from),
                                   _dimensions(by), user_id=user_id, order_by=None,
                                   limit=None)

    async def active_users(self, start: date, end: date) -> Sequence[UserId]:
        activity = user_activity_daily
        return await self._distinct_users(
            select(activity.c.user_id).where(activity.c.day >= start, activity.c.day < end))

    async def raw_active_users(self, start: datetime, end: datetime) -> Sequence[UserId]:
        raw = llm_call_events
        return await self._distinct_users(
            select(raw.c.user_id).where(raw.c.created_at >= start, raw.c.created_at < end))

    async def raw_activity(self, start: datetime, end: datetime, *,
                           recorded_from: datetime | None = None
                           ) -> Sequence[tuple[date, UserId]]:
        raw = llm_call_events
        day = self._utc_day(raw.c.created_at)
        pairs = (select(day.label("day"), raw.c.user_id)
                 .where(*self._recent(start, end, recorded_from))
                 .distinct().subquery())
        rows = await self._tx.rows(select(pairs.c.day, pairs.c.user_id)
                                   .order_by(pairs.c.day, self._key(pairs.c.user_id)))
        return [(row.day, UserId(row.user_id)) for row in rows]

    async def active_counts(self, start: date, end: date,
                            bucket: str) -> Sequence[tuple[date, int]]:
        if bucket not in BUCKETS:
            raise ValueError(f"Unknown bucket {bucket!r}: use {', '.join(BUCKETS)}.")
        activity = user_activity_daily
        key = self._bucket_of(activity.c.day, bucket)
        rows = await self._tx.rows(
            select(key.label("bucket"), func.count(activity.c.user_id.distinct()).label("users"))
            .where(activity.c.day >= start, activity.c.day < end)
            .group_by(key).order_by(key))
        return [(row.bucket, int(row.users)) for row in rows]

    # --- shared ----------------------------------------------------------------------

    def _replace(self, table: Table, keys: list[str], values: Sequence[str],
                 rows: Select[Any]) -> Executable:
        """``INSERT INTO table SELECT rows``, the rows replacing any of the same key: the range
        was emptied first, so that only happens when a concurrent rebuild of the same range
        committed in between (on SQLite writers take turns, so never), and the values are
        the same. Its ``rowcount`` is the rows written."""
        insert = self._tx.insert(table).from_select([*keys, *values], rows)
        return insert.on_conflict_do_update(
            index_elements=keys, set_={name: insert.excluded[name] for name in values},
        ).execution_options(preserve_rowcount=True)

    @staticmethod
    def _recent(start: datetime, end: datetime,
                recorded_from: datetime | None) -> tuple[ColumnElement[bool], ...]:
        raw = llm_call_events
        window = (raw.c.created_at >= start, raw.c.created_at < end)
        return window if recorded_from is None else (*window,
                                                     raw.c.recorded_at >= recorded_from)

    def _add(self, table: Table, keys: list[str], values: Sequence[str],
             rows: Select[Any]) -> Executable:
        """``INSERT INTO table SELECT rows``, adding the values into any row of the same key."""
        insert = self._tx.insert(table).from_select([*keys, *values], rows)
        return insert.on_conflict_do_update(
            index_elements=keys,
            set_={name: table.c[name] + insert.excluded[name] for name in values},
        ).execution_options(preserve_rowcount=True)

    async def _distinct_users(self, query: Select[Any]) -> Sequence[UserId]:
        users = query.distinct().subquery()
        rows = await self._tx.rows(select(users.c.user_id)
                                   .order_by(self._key(users.c.user_id)))
        return [UserId(row.user_id) for row in rows]

    def _group_keys(self, source: _Source, dims: frozenset[str]) -> dict[str,
                                                                      ColumnElement[Any]]:
        keys: dict[str, ColumnElement[Any]] = {}
        if "user" in dims:
            keys["user_id"] = source.user_id
        if "model" in dims:
            keys["model_alias"] = source.model_alias
        if "day" in dims and source.day is not None:
            keys["day"] = source.day  # a day grouping makes a month grouping moot
        elif "day" in dims or "month" in dims:
            keys["day"] = source.month
        return keys

    def _grouped_query(self, source: _Source, dims: frozenset[str], *,
                       user_id: UserId | None) -> Select[Any]:
        keys = self._group_keys(source, dims)
        query = (select(*(key.label(name) for name, key in keys.items()),
                        *(total.label(name) for name, total in source.sums.items()))
                 .where(and_(*source.where)))
        if user_id is not None:
            query = query.where(source.user_id == user_id)
        # Without groups, no usage must give no row (as it does with groups), not NULL sums.
        return query.group_by(*keys.values()) if keys else query.having(func.count() > 0)

    async def _grouped(self, source: _Source, dims: frozenset[str], *,
                       user_id: UserId | None, order_by: str | None,
                       limit: int | None) -> list[UsageTotals]:
        if order_by is not None and order_by not in ORDERS:
            raise ValueError(f"Unknown order {order_by!r}: use {', '.join(ORDERS)}.")
        keys = self._group_keys(source, dims)
        query = self._grouped_query(source, dims, user_id=user_id)
        query = self._ordered(query, source.sums, keys, order_by or "key", limit)
        return [self._totals(row, keys) for row in await self._tx.rows(query)]

    def _ordered(self, query: Select[Any], sums: dict[str, ColumnElement[Any]],
                 keys: dict[str, ColumnElement[Any]], order_by: str,
                 limit: int | None) -> Select[Any]:
        """``order_by`` descending (``key``: none), ties by the group key in code-point
        order; at most ``limit`` rows."""
        ranking = {"credits": sums["credits"], "cost": sums["provider_cost_usd"],
                   "tokens": sums["prompt_tokens"] + sums["completion_tokens"]}
        ordering: list[ColumnElement[Any]] = [] if order_by == "key" else [
            ranking[order_by].desc()]
        ordering += [key if name == "day" else self._key(key) for name, key in keys.items()]
        if ordering:
            query = query.order_by(*ordering)
        return query if limit is None else query.limit(limit)

    @staticmethod
    def _totals(row: Row[Any], keys: dict[str, ColumnElement[Any]]) -> UsageTotals:
        values = row._mapping
        return UsageTotals(
            user_id=UserId(values["user_id"]) if "user_id" in keys else None,
            model_alias=values["model_alias"] if "model_alias" in keys else None,
            day=values["day"] if "day" in keys else None,
            calls=int(values["calls"]), failed_calls=int(values["failed_calls"]),
            prompt_tokens=int(values["prompt_tokens"]),
            cached_tokens=int(values["cached_tokens"]),
            completion_tokens=int(values["completion_tokens"]),
            provider_cost_usd=Decimal(values["provider_cost_usd"]),
            credits=Decimal(values["credits"]))
