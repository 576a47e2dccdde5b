"""The contract of the admin repositories, run on the fake, SQLite and PostgreSQL: usage
rollups, the audit log, the user search and a user's running turns.

Rollups are checked against sums computed here, in Python, from the raw usage rows: by every
combination of dimensions, over day ranges and whole months, across UTC day, week, month and
year boundaries, with timestamps given in other time zones (on PostgreSQL the session's time
zone is set far from UTC, so nothing may depend on it). On the real databases the audit log
refuses UPDATE and DELETE, and migration 0005 carries earlier audit records over.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from pantheon_adapters.sql import migrate
from pantheon_adapters.sql.coltypes import UTCDateTime
from pantheon_adapters.sql.database import Database
from pantheon_adapters.sql.urls import sync_url
from pantheon_core.domain.audit import AuditEvent, AuditOutcome
from pantheon_core.domain.rollups import DIMENSIONS, UsageTotals
from pantheon_core.domain.turns import TurnStatus
from pantheon_core.domain.usage import CallStatus, LlmCall
from pantheon_core.domain.users import User, UserStatus
from pantheon_core.ids import CallId, StepId, TurnId, UserId, new_id
from tests.integration.contract import T0, Factory, a_room, a_turn, a_user, seed

PARIS = timezone(timedelta(hours=1))
NEW_YORK = timezone(timedelta(hours=-5))
KIRITIMATI = timezone(timedelta(hours=14))
MODELS = ("llama", "premium", "qwen")
USERS = sorted(UserId(new_id()) for _ in range(4))
BY_EVERYTHING = [list(combo) for n in range(len(DIMENSIONS) + 1)
                 for combo in itertools.combinations(DIMENSIONS, n)]

# Rows right at the edges of UTC days, weeks (Sunday 1 February 2026 / Monday 2 February),
# months and years, some given in other time zones.
EDGES = (
    datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
    datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),  # Saturday
    datetime(2026, 2, 1, 0, 0, tzinfo=UTC),  # Sunday
    datetime(2026, 2, 1, 23, 59, 59, 999000, tzinfo=UTC),  # Sunday
    datetime(2026, 2, 2, 0, 0, tzinfo=UTC),  # Monday
    datetime(2026, 2, 2, 0, 30, tzinfo=PARIS),  # Sunday 23:30 UTC
    datetime(2026, 2, 1, 13, 0, tzinfo=KIRITIMATI),  # Saturday 23:00 UTC
    datetime(2026, 2, 28, 20, 0, tzinfo=NEW_YORK),  # 1 March 01:00 UTC
    datetime(2026, 3, 1, 0, 30, tzinfo=PARIS),  # 28 February 23:30 UTC
)
FIRST, LAST = datetime(2025, 12, 27, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def a_call(user: UserId, model: str, at: datetime, *, status: CallStatus = CallStatus.OK,
           prompt: int = 1000, cached: int = 0, completion: int = 100,
           cost: Decimal | str = "0.00012345", credits: Decimal | str = "0.012345") -> LlmCall:
    return LlmCall(id=CallId(new_id()), user_id=user, room_id=None, direct_session_id=None,
                   turn_id=TurnId(new_id()), step_id=StepId(new_id()), agent_id=None,
                   provider="openrouter", model=f"vendor/{model}", prompt_tokens=prompt,
                   completion_tokens=completion, cached_tokens=cached,
                   total_tokens=prompt + completion, provider_cost_usd=Decimal(cost),
                   credits_burned=Decimal(credits), latency_ms=120, status=status,
                   pricing_version="2026-11", request_id=new_id(), created_at=at,
                   model_alias=model)


def usage(seed_value: int = 2026, count: int = 160) -> list[LlmCall]:
    """Random calls between ``FIRST`` and ``LAST`` plus the edge rows: failed and cancelled
    calls, cached tokens, dollars to 8 places and credits to 6."""
    rng = random.Random(seed_value)
    span = int((LAST - FIRST).total_seconds())
    instants = [FIRST + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
                for _ in range(count)]
    calls = []
    for at in [*instants, *EDGES]:
        prompt = rng.randrange(0, 60_000)
        calls.append(a_call(
            rng.choice(USERS), rng.choice(MODELS), at.astimezone(rng.choice(
                (UTC, PARIS, NEW_YORK, KIRITIMATI))) if at.tzinfo is UTC else at,
            status=rng.choice((CallStatus.OK, CallStatus.OK, CallStatus.OK, CallStatus.ERROR,
                               CallStatus.CANCELLED)),
            prompt=prompt, cached=rng.randrange(prompt + 1) if rng.random() < 0.5 else 0,
            completion=rng.randrange(0, 8000),
            cost=Decimal(rng.randrange(10**9)).scaleb(-8),
            credits=Decimal(rng.randrange(10**8)).scaleb(-6)))
    return calls


def utc_day(call: LlmCall) -> date:
    return call.created_at.astimezone(UTC).date()


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def summed(calls: Sequence[LlmCall], by: Sequence[str]) -> list[UsageTotals]:
    """The expected totals of ``calls`` grouped by ``by``, by group key."""
    groups: dict[tuple[UserId | None, str | None, date | None], UsageTotals] = {}
    for call in calls:
        day = utc_day(call)
        bucket = day if "day" in by else day.replace(day=1) if "month" in by else None
        key = (call.user_id if "user" in by else None,
               call.model_alias if "model" in by else None, bucket)
        known = groups.get(key, UsageTotals(*key))
        groups[key] = replace(
            known, calls=known.calls + 1,
            failed_calls=known.failed_calls + (call.status is not CallStatus.OK),
            prompt_tokens=known.prompt_tokens + call.prompt_tokens,
            cached_tokens=known.cached_tokens + call.cached_tokens,
            completion_tokens=known.completion_tokens + call.completion_tokens,
            provider_cost_usd=known.provider_cost_usd + call.provider_cost_usd,
            credits=known.credits + call.credits_burned)
    return [groups[key] for key in sorted(groups, key=lambda k: tuple(
        (v is None, v) for v in k))]  # type: ignore[arg-type]


def on_days(calls: Sequence[LlmCall], start: date, end: date,
            user: UserId | None = None) -> list[LlmCall]:
    return [c for c in calls if start <= utc_day(c) < end and user in (None, c.user_id)]


def by_key(rows: Sequence[UsageTotals]) -> list[UsageTotals]:
    return sorted(rows, key=lambda t: tuple((v is None, v) for v in t.key()))  # type: ignore


async def recorded(uow: Factory, calls: Sequence[LlmCall]) -> None:
    async with uow() as work:
        for call in calls:
            await work.usage.add(call)
        await work.commit()


async def rebuilt(uow: Factory, start: date, end: date) -> tuple[int, int]:
    async with uow() as work:
        days = await work.rollups.rebuild_days(start, end)
        months = await work.rollups.rebuild_months(start, end)
        await work.commit()
    return days, months


def rows_written(calls: Sequence[LlmCall], start: date, end: date) -> int:
    """The daily rollup rows of ``[start, end)``: one per day, user and model."""
    return len({(utc_day(c), c.user_id, c.model_alias) for c in on_days(calls, start, end)})


@pytest.fixture
async def far_from_utc(uow: Factory, is_fake: bool) -> AsyncIterator[None]:
    """On PostgreSQL, every session of the test database runs at UTC+14: the SQL must not
    depend on the session's time zone."""
    database = getattr(uow, "__self__", None)
    if is_fake or not isinstance(database, Database) or database.url.get_backend_name() \
            != "postgresql":
        yield
        return
    async with database.engine.connect() as connection:
        name = (await connection.execute(text("SELECT current_database()"))).scalar_one()
        await connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO "
                                      "'Pacific/Kiritimati'"))
        await connection.commit()
    await database.engine.dispose()
    async with database.engine.connect() as connection:
        zone = (await connection.execute(text("SHOW timezone"))).scalar_one()
    assert zone == "Pacific/Kiritimati"
    yield


# --- rollups -------------------------------------------------------------------------

RANGES = (
    (date(2025, 12, 1), date(2026, 4, 1)),  # whole months: the monthly table
    (date(2026, 1, 1), date(2026, 3, 1)),
    (date(2026, 2, 1), date(2026, 3, 1)),
    (date(2026, 1, 15), date(2026, 2, 20)),  # days
    (date(2025, 12, 31), date(2026, 1, 2)),
    (date(2026, 2, 1), date(2026, 2, 2)),
    (date(2026, 3, 1), date(2026, 3, 2)),
    (date(2026, 5, 1), date(2026, 6, 1)),  # nothing there
)


async def test_rollups_equal_the_sums_of_the_raw_rows_by_every_grouping(
        uow: Factory, far_from_utc: None) -> None:
    calls = usage()
    await recorded(uow, calls)
    start, end = date(2025, 12, 1), date(2026, 4, 1)
    days, months = await rebuilt(uow, start, end)
    assert days == rows_written(calls, start, end)
    assert months == len({(utc_day(c).replace(day=1), c.user_id, c.model_alias)
                          for c in calls})
    async with uow() as work:
        for (first, stop), by in itertools.product(RANGES, BY_EVERYTHING):
            chosen = on_days(calls, first, stop)
            assert list(await work.rollups.totals(first, stop, by=by)) == summed(chosen, by), \
                (first, stop, by)
            raw = await work.rollups.raw_totals(midnight(first), midnight(stop), by=by)
            assert by_key(raw) == summed(chosen, by), (first, stop, by)
        for user, by in itertools.product(USERS[:2], (["model"], ["day"], ["month"], [])):
            for first, stop in RANGES[:4]:
                mine = on_days(calls, first, stop, user)
                assert list(await work.rollups.totals(first, stop, by=by, user_id=user)) \
                    == summed(mine, by)
                assert by_key(await work.rollups.raw_totals(
                    midnight(first), midnight(stop), by=by, user_id=user)) == summed(mine, by)
        assert await work.rollups.totals(date(2026, 5, 1), date(2026, 6, 1), by=[]) == []
        everything = await work.rollups.totals(start, end, by=[])
    [total] = everything
    assert total.credits == sum((c.credits_burned for c in calls), Decimal(0))
    assert total.provider_cost_usd == sum((c.provider_cost_usd for c in calls), Decimal(0))
    assert isinstance(total.credits, Decimal) and isinstance(total.prompt_tokens, int)
    assert total.failed_calls == sum(c.status is not CallStatus.OK for c in calls) > 0
    assert total.cached_tokens > 0


async def test_the_edges_of_utc_days_land_on_the_right_day(uow: Factory,
                                                           far_from_utc: None) -> None:
    user = USERS[0]
    calls = [a_call(user, "qwen", at, credits=str(n + 1)) for n, at in enumerate(EDGES)]
    await recorded(uow, calls)
    await rebuilt(uow, date(2025, 12, 1), date(2026, 4, 1))
    async with uow() as work:
        days = await work.rollups.totals(date(2025, 12, 1), date(2026, 4, 1), by=["day"])
        months = await work.rollups.totals(date(2025, 12, 1), date(2026, 4, 1), by=["month"])
        raw_days = await work.rollups.raw_totals(midnight(date(2025, 12, 1)),
                                                 midnight(date(2026, 4, 1)), by=["day"])
    expected = {date(2025, 12, 31): 1, date(2026, 1, 1): 1, date(2026, 1, 31): 2,
                date(2026, 2, 1): 3, date(2026, 2, 2): 1, date(2026, 2, 28): 1,
                date(2026, 3, 1): 1}
    assert {t.day: t.calls for t in days} == expected
    assert {t.day: t.calls for t in raw_days} == expected
    assert {t.day: t.calls for t in months} == {date(2025, 12, 1): 1, date(2026, 1, 1): 3,
                                                date(2026, 2, 1): 5, date(2026, 3, 1): 1}
    assert [t.credits for t in days if t.day == date(2026, 2, 1)] == [Decimal(4 + 5 + 7)]


async def test_a_sub_day_raw_range_counts_exact_instants(uow: Factory,
                                                         far_from_utc: None) -> None:
    calls = usage(7, count=60)
    await recorded(uow, calls)
    start = datetime(2026, 2, 2, 0, 0, tzinfo=PARIS)  # 1 February 23:00 UTC
    end = datetime(2026, 2, 2, 0, 30, 0, 1, tzinfo=PARIS)
    inside = [c for c in calls if start <= c.created_at < end]
    assert len(inside) == 1  # the edge row at 00:30 Paris
    async with uow() as work:
        for by in BY_EVERYTHING:
            assert by_key(await work.rollups.raw_totals(start, end, by=by)) \
                == summed(inside, by)
        assert await work.rollups.raw_active_users(start, end) == [inside[0].user_id]
        assert await work.rollups.raw_totals(end, end, by=["user"]) == []


async def test_rebuilding_is_idempotent_and_picks_up_late_rows(uow: Factory,
                                                               far_from_utc: None) -> None:
    calls = usage(11, count=80)
    await recorded(uow, calls)
    start, end = date(2025, 12, 1), date(2026, 4, 1)
    first = await rebuilt(uow, start, end)
    async with uow() as work:
        before = await work.rollups.totals(start, end, by=["user", "model", "day"])
    assert await rebuilt(uow, start, end) == first
    assert await rebuilt(uow, start, end) == first
    async with uow() as work:
        assert await work.rollups.totals(start, end, by=["user", "model", "day"]) == before
        assert await work.rollups.totals(start, end, by=["user", "model"]) \
            == summed(calls, ["user", "model"])

    late = a_call(USERS[3], "premium", datetime(2026, 2, 10, 23, 59, 59, tzinfo=UTC),
                  status=CallStatus.ERROR, cached=500, credits="0.000001", cost="0.00000001")
    await recorded(uow, [late])
    async with uow() as work:  # not rolled yet
        assert await work.rollups.totals(start, end, by=["user", "model", "day"]) == before
        assert await work.rollups.raw_totals(midnight(start), midnight(end), by=[]) \
            == summed([*calls, late], [])
        # rolled but not committed: nothing changes
        await work.rollups.rebuild_days(date(2026, 2, 10), date(2026, 2, 11))
    async with uow() as work:
        assert await work.rollups.totals(start, end, by=["user", "model", "day"]) == before
        written = await work.rollups.rebuild_days(date(2026, 2, 10), date(2026, 2, 11))
        await work.commit()
    assert written == rows_written([*calls, late], date(2026, 2, 10), date(2026, 2, 11))
    everything = [*calls, late]
    async with uow() as work:
        by_day = await work.rollups.totals(start, date(2026, 3, 31), by=["user", "model", "day"])
        assert by_day == summed(on_days(everything, start, date(2026, 3, 31)),
                                ["user", "model", "day"])
        # The monthly table still has February without the late row until it is rebuilt.
        assert await work.rollups.totals(start, end, by=["user", "model"]) \
            == summed(calls, ["user", "model"])
        assert await work.rollups.rebuild_months(date(2026, 2, 1), date(2026, 3, 1)) \
            == len({(c.user_id, c.model_alias) for c in everything
                    if utc_day(c).replace(day=1) == date(2026, 2, 1)})
        await work.commit()
    async with uow() as work:
        assert await work.rollups.totals(start, end, by=["user", "model"]) \
            == summed(everything, ["user", "model"])
        assert await work.rollups.rebuild_months(date(2026, 2, 2), date(2026, 3, 1)) == 0


async def test_the_recording_clock_splits_rolled_from_not_rolled_yet(
        uow: Factory, is_fake: bool, far_from_utc: None) -> None:
    """Events are selected by when they were recorded, whatever their ``created_at``: what a
    rebuild up to a mark holds, plus what was recorded from it on, is everything, once; adding
    the next interval moves it into the rollups of the events' own days and months."""
    early = usage(23, count=60)
    await recorded(uow, early)
    async with uow() as work:
        mark = await work.rollups.ingest_mark(lag=timedelta(0))
        assert mark.tzinfo is not None
    await anyio.sleep(0.01)  # the recording clock moves on (SQLite stamps milliseconds)
    late = usage(29, count=40)  # written later, dated across the same days (back-dated)
    await recorded(uow, late)
    await anyio.sleep(0.01)
    start, end = date(2025, 12, 1), date(2026, 4, 1)
    everything = [*early, *late]
    async with uow() as work:
        later = await work.rollups.ingest_mark(lag=timedelta(0))
        assert later > mark
        if not is_fake:  # the fake's writes are instant: it has no lag
            assert await work.rollups.ingest_mark(lag=timedelta(hours=1)) \
                < later - timedelta(minutes=59)
        days = await work.rollups.rebuild_days(start, end, recorded_before=mark)
        await work.rollups.rebuild_months(start, end)
        await work.commit()
    assert days == rows_written(early, start, end)
    async with uow() as work:
        for by in (["user", "model"], ["day"], ["month", "model"], []):
            assert list(await work.rollups.totals(start, end, by=by)) == summed(early, by)
            tail = await work.rollups.raw_totals(midnight(start), midnight(end), by=by,
                                                 recorded_from=mark)
            assert by_key(tail) == summed(late, by), by
        pairs = await work.rollups.raw_activity(midnight(start), midnight(end),
                                                recorded_from=mark)
        assert list(pairs) == sorted({(utc_day(c), c.user_id) for c in late})
        assert await work.rollups.raw_activity(midnight(start), midnight(end),
                                               recorded_from=later) == []
    async with uow() as work:
        added = await work.rollups.add_events(mark, later)
        await work.commit()
    assert added == rows_written(late, start, end)
    async with uow() as work:
        for by in (["user", "model", "day"], ["month", "model"], ["user"], []):
            for first, stop in RANGES:
                assert list(await work.rollups.totals(first, stop, by=by)) \
                    == summed(on_days(everything, first, stop), by), (first, stop, by)
        assert sorted(await work.rollups.active_users(start, end)) \
            == sorted({c.user_id for c in everything})
        assert await work.rollups.raw_totals(midnight(start), midnight(end), by=[],
                                             recorded_from=later) == []
        assert await work.rollups.add_events(later, later) == 0


def ranked(rows: list[UsageTotals], order_by: str) -> list[UsageTotals]:
    """``rows`` (in group key order) as ``usage`` orders them."""
    if order_by == "key":
        return rows
    rank = {"credits": lambda t: t.credits, "cost": lambda t: t.provider_cost_usd,
            "tokens": lambda t: t.tokens}[order_by]
    return sorted(rows, key=rank, reverse=True)  # stable: ties stay in key order


async def test_usage_merges_rollups_and_the_tail_orders_and_pages_in_the_store(
        uow: Factory, far_from_utc: None) -> None:
    early = usage(31, count=70)
    await recorded(uow, early)
    async with uow() as work:
        mark = await work.rollups.ingest_mark(lag=timedelta(0))
    await anyio.sleep(0.01)
    late = usage(37, count=50)
    await recorded(uow, late)
    start, end = date(2025, 12, 1), date(2026, 4, 1)
    async with uow() as work:
        await work.rollups.rebuild_days(start, end, recorded_before=mark)
        await work.rollups.rebuild_months(start, end)
        await work.commit()
    everything = [*early, *late]
    async with uow() as work:
        for (first, stop), by, order_by in itertools.product(
                # ... and days, then whole months, then days (three rollup sources)
                [*RANGES[:5], (date(2025, 12, 20), date(2026, 3, 2)),
                 (date(2026, 1, 1), date(2026, 2, 27)), (date(2025, 12, 30), date(2026, 3, 1))],
                (["user", "model"], ["model", "day"], ["month"], ["user"], []),
                ("credits", "cost", "tokens", "key")):
            chosen = on_days(everything, first, stop)
            want = ranked(summed(chosen, by), order_by)
            whole = await work.rollups.usage(first, stop, by=by, watermark=mark,
                                             order_by=order_by)
            assert list(whole.rows) == want, (first, stop, by, order_by)
            assert whole.groups == len(want)
            assert whole.total == (summed(chosen, [])[0] if chosen else UsageTotals())
            page = await work.rollups.usage(first, stop, by=by, watermark=mark,
                                            order_by=order_by, limit=3, offset=2)
            assert list(page.rows) == want[2:5]
            assert (page.groups, page.total) == (whole.groups, whole.total)
        # nothing rolled up yet: everything from the raw events
        raw = await work.rollups.usage(start, end, by=["user", "model"], watermark=None)
        assert list(raw.rows) == ranked(summed(everything, ["user", "model"]), "credits")
        mine = await work.rollups.usage(start, end, by=["model"], watermark=mark,
                                        user_id=USERS[1])
        assert list(mine.rows) == ranked(summed(on_days(everything, start, end, USERS[1]),
                                                ["model"]), "credits")
        past = await work.rollups.usage(start, end, by=["user"], watermark=mark, limit=5,
                                        offset=1000)
        assert past.rows == [] and past.groups == len(USERS)
        assert past.total.calls == len(everything)
        empty = await work.rollups.usage(date(2026, 5, 1), date(2026, 6, 1), by=[],
                                         watermark=mark)
        assert (list(empty.rows), empty.groups) == ([], 0)


async def test_concurrent_rebuilds_of_one_range_both_succeed(uow: Factory,
                                                             is_fake: bool) -> None:
    if is_fake:
        pytest.skip("the fake has no concurrency control: each unit works on a private copy")
    calls = usage(19, count=60)
    await recorded(uow, calls)
    start, end = date(2025, 12, 1), date(2026, 4, 1)
    written: list[tuple[int, int]] = []

    async def rebuild() -> None:
        async with uow() as work:
            days = await work.rollups.rebuild_days(start, end)
            await anyio.sleep(0.05)  # the other one deletes and inserts meanwhile
            months = await work.rollups.rebuild_months(start, end)
            await work.commit()
        written.append((days, months))

    async with anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(rebuild)
    assert len(written) == 2
    async with uow() as work:
        for by in (["user", "model", "day"], ["user", "model", "month"], ["user"]):
            assert await work.rollups.totals(start, end, by=by) == summed(calls, by)
        assert await work.rollups.active_users(start, end) == sorted({c.user_id for c in calls})


async def test_monthly_rollups_are_the_sums_of_the_daily_ones(uow: Factory,
                                                              far_from_utc: None) -> None:
    calls = usage(13, count=100)
    await recorded(uow, calls)
    await rebuilt(uow, date(2025, 12, 1), date(2026, 4, 1))
    async with uow() as work:
        months = await work.rollups.totals(date(2025, 12, 1), date(2026, 4, 1),
                                           by=["user", "model", "month"])
        days = await work.rollups.totals(date(2025, 12, 1), date(2026, 4, 1),
                                         by=["user", "model", "day"])
        # A range that is not whole months reads the daily table, even grouped by month.
        from_days = await work.rollups.totals(date(2025, 12, 1), date(2026, 3, 31),
                                              by=["user", "model", "month"])
    by_month: dict[tuple[UserId | None, str | None, date | None], UsageTotals] = {}
    for row in days:
        assert row.day is not None
        key = (row.user_id, row.model_alias, row.day.replace(day=1))
        known = by_month.get(key)
        by_month[key] = replace(row, day=key[2]) if known is None else known.plus(row)
    assert months == by_key(list(by_month.values()))
    assert from_days == summed(on_days(calls, date(2025, 12, 1), date(2026, 3, 31)),
                               ["user", "model", "month"])


async def test_the_first_event_day_is_the_utc_day_of_the_oldest_row(uow: Factory) -> None:
    async with uow() as work:
        assert await work.rollups.first_event_day() is None
    await recorded(uow, [a_call(USERS[0], "qwen", datetime(2026, 2, 3, tzinfo=UTC)),
                         a_call(USERS[1], "qwen", datetime(2026, 2, 2, 0, 30, tzinfo=PARIS)),
                         a_call(USERS[1], "qwen", datetime(2026, 2, 2, 5, tzinfo=UTC))])
    async with uow() as work:
        assert await work.rollups.first_event_day() == date(2026, 2, 1)


async def test_rebuilding_some_months_from_mid_month_bounds(uow: Factory) -> None:
    """``rebuild_months`` covers the months whose first day is in ``[start, end)``."""
    calls = [a_call(USERS[0], "qwen", datetime(2026, m, 10, tzinfo=UTC)) for m in (1, 2, 3)]
    await recorded(uow, calls)
    async with uow() as work:
        await work.rollups.rebuild_days(date(2026, 1, 1), date(2026, 4, 1))
        assert await work.rollups.rebuild_months(date(2026, 1, 15), date(2026, 3, 2)) == 2
        await work.commit()
    async with uow() as work:
        months = await work.rollups.totals(date(2026, 1, 1), date(2026, 4, 1), by=["month"])
    assert [t.day for t in months] == [date(2026, 2, 1), date(2026, 3, 1)]


async def test_active_users_and_counts_per_day_week_and_month(uow: Factory,
                                                              far_from_utc: None) -> None:
    calls = usage(17, count=70)
    await recorded(uow, calls)
    await rebuilt(uow, date(2025, 12, 1), date(2026, 4, 1))
    buckets = {"day": lambda d: d, "week": week_of, "month": lambda d: d.replace(day=1)}
    async with uow() as work:
        for first, stop in RANGES:
            chosen = on_days(calls, first, stop)
            assert await work.rollups.active_users(first, stop) \
                == sorted({c.user_id for c in chosen})
            assert await work.rollups.raw_active_users(midnight(first), midnight(stop)) \
                == sorted({c.user_id for c in chosen})
            for bucket, of in buckets.items():
                expected: dict[date, set[UserId]] = {}
                for call in chosen:
                    expected.setdefault(of(utc_day(call)), set()).add(call.user_id)
                assert await work.rollups.active_counts(first, stop, bucket) == sorted(
                    (key, len(users)) for key, users in expected.items()), (first, stop, bucket)


async def test_weeks_start_on_monday_and_sundays_close_them(uow: Factory,
                                                            far_from_utc: None) -> None:
    ann, bob, cy = USERS[:3]
    calls = [
        a_call(ann, "qwen", datetime(2026, 1, 26, 0, 0, tzinfo=UTC)),  # Monday
        a_call(bob, "qwen", datetime(2026, 2, 1, 23, 59, 59, tzinfo=UTC)),  # Sunday
        a_call(cy, "qwen", datetime(2026, 2, 2, 0, 30, tzinfo=PARIS)),  # Sunday in UTC
        a_call(cy, "qwen", datetime(2026, 2, 2, 0, 0, tzinfo=UTC)),  # Monday
        a_call(ann, "llama", datetime(2026, 2, 8, 12, 0, tzinfo=UTC)),  # Sunday
        a_call(ann, "qwen", datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),  # Sunday, 1 March
        a_call(bob, "qwen", datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),  # Monday
    ]
    await recorded(uow, calls)
    await rebuilt(uow, date(2026, 1, 1), date(2026, 4, 1))
    async with uow() as work:
        weeks = await work.rollups.active_counts(date(2026, 1, 1), date(2026, 4, 1), "week")
        days = await work.rollups.active_counts(date(2026, 2, 1), date(2026, 2, 3), "day")
        # A range starting mid-week keeps the week's Monday as its bucket.
        midweek = await work.rollups.active_counts(date(2026, 1, 28), date(2026, 2, 2),
                                                   "week")
        months = await work.rollups.active_counts(date(2026, 1, 1), date(2026, 4, 1),
                                                  "month")
        with pytest.raises(ValueError, match="year"):
            await work.rollups.active_counts(date(2026, 1, 1), date(2026, 4, 1), "year")
    assert weeks == [(date(2026, 1, 26), 3), (date(2026, 2, 2), 2), (date(2026, 2, 23), 1),
                     (date(2026, 3, 2), 1)]
    assert days == [(date(2026, 2, 1), 2), (date(2026, 2, 2), 1)]
    assert midweek == [(date(2026, 1, 26), 2)]
    assert months == [(date(2026, 1, 1), 1), (date(2026, 2, 1), 3), (date(2026, 3, 1), 2)]


async def test_totals_order_by_credits_cost_or_tokens_with_ties_by_key(uow: Factory) -> None:
    a, b, c, d = USERS
    at = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
    calls = [a_call(a, "qwen", at, credits="2.000001", cost="0.5", prompt=60, completion=40),
             a_call(b, "qwen", at, credits="1.000001", cost="0.30000001", prompt=100,
                    completion=100),
             a_call(b, "llama", at, credits="1", cost="0.4", prompt=50, completion=50),
             a_call(c, "premium", at, credits="1", cost="0.70000001", prompt=300,
                    completion=0),
             a_call(d, "qwen", at, credits="3", cost="0.1", prompt=0, completion=100)]
    await recorded(uow, calls)
    await rebuilt(uow, date(2026, 2, 1), date(2026, 3, 1))
    for first, stop in ((date(2026, 2, 10), date(2026, 2, 11)),  # daily
                        (date(2026, 2, 1), date(2026, 3, 1))):  # monthly
        async with uow() as work:
            totals = work.rollups.totals

            def users(found: Sequence[UsageTotals]) -> list[UserId | None]:
                return [t.user_id for t in found]

            by_user = partial(totals, first, stop, by=["user"])
            assert users(await by_user(order_by="credits")) == [d, a, b, c]  # a, b tie
            assert users(await by_user(order_by="cost")) == [b, c, a, d]  # b and c tie
            assert users(await by_user(order_by="tokens")) == [b, c, a, d]  # b, c and a, d
            assert users(await by_user(order_by="credits", limit=2)) == [d, a]
            assert users(await by_user(order_by="tokens", limit=1)) == [b]
            models = await totals(first, stop, by=["model"], order_by="credits", limit=2)
            assert [(t.model_alias, t.credits) for t in models] == [
                ("qwen", Decimal("6.000002")), ("llama", Decimal(1))]
            # Without an order the key decides; a limit still applies.
            assert [t.model_alias for t in await totals(first, stop, by=["model"],
                                                        limit=2)] == ["llama", "premium"]
            pairs = await totals(first, stop, by=["user", "model"], order_by="tokens")
            assert [(t.user_id, t.model_alias) for t in pairs] == [
                (c, "premium"), (b, "qwen"), (a, "qwen"), (b, "llama"), (d, "qwen")]
            with pytest.raises(ValueError, match="calls"):
                await totals(first, stop, by=["user"], order_by="calls")
            with pytest.raises(ValueError, match="week"):
                await totals(first, stop, by=["week"])


# --- the audit log ---------------------------------------------------------------------


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def an_event(action: str, target: str, *, at: datetime, actor_id: str | None = "owner-1",
             label: str = "ada@example.com", role: str = "owner",
             **extra: object) -> AuditEvent:
    return AuditEvent(id=new_id(), created_at=at, actor_id=actor_id, actor_label=label,
                      role=role, action=action, target=target, **extra)  # type: ignore[arg-type]


async def test_audit_events_round_trip_and_filter(uow: Factory) -> None:
    cap = an_event("admin.cap.set", "bob@example.com", at=T0.astimezone(PARIS),
                   label="Ada@Example.com", before={"monthly_cap": None},
                   after={"monthly_cap": "10.000000"}, request_id="req-1",
                   client="203.0.113.7")
    grant = an_event("billing.grant", "Bob@Example.com", at=seconds(1), actor_id=None,
                     label="operator", role="operator",
                     before={"topup_balance": "0.000000"},
                     after={"credits": "25.5",
                            "nested": {"list": [1, "two ✓", None], "ok": True}},
                     reason="support ticket ✓", client="cli")
    refused = an_event("admin.user.suspend", "dan@example.com", at=seconds(1),
                       actor_id="analyst-1", label="cy@example.com", role="analyst",
                       outcome=AuditOutcome.REFUSED, reason="owner_required",
                       request_id="req-2")
    tie = sorted((grant, refused), key=lambda e: e.id, reverse=True)  # same time: by id
    suspend = an_event("admin.user.suspend", "bob@example.com", at=seconds(2),
                       before={"status": "active"}, after={"status": "suspended"})
    note = an_event("admins.note", "x", at=seconds(3))
    async with uow() as work:
        for event in (suspend, cap, note, refused, grant):
            await work.audit.add(event)
        await work.commit()
    async with uow() as work:
        await work.audit.add(an_event("admin.dropped", "x", at=seconds(4)))  # no commit
    newest = [note, suspend, *tie, cap]
    async with uow() as work:
        log = work.audit.list
        assert await log() == newest
        stored = {e.id: e for e in await log()}
        assert stored[grant.id].after == grant.after
        assert stored[grant.id].outcome is AuditOutcome.OK
        assert stored[refused.id].outcome is AuditOutcome.REFUSED
        assert stored[cap.id].created_at == T0
        assert stored[cap.id].created_at.utcoffset() is not None
        assert stored[cap.id].before == {"monthly_cap": None}
        # actor: id, or label case-insensitively
        assert await log(actor="owner-1") == [note, suspend, cap]
        assert await log(actor="ADA@example.COM") == [note, suspend, cap]
        assert await log(actor="operator") == [grant]
        assert await log(actor="analyst-1") == [refused]
        assert await log(actor="nobody") == []
        # action: a prefix, case-sensitive, wildcards matching themselves
        assert await log(action="admin.") == [suspend, refused, cap]
        assert await log(action="admin") == [note, suspend, refused, cap]
        assert await log(action="admin.user.suspend") == [suspend, refused]
        assert await log(action="billing.grant") == [grant]
        assert await log(action="billing_") == []
        assert await log(action="admin%") == []
        assert await log(action="ADMIN.") == []
        # target: exact, case-insensitive
        assert await log(target="BOB@example.com") == [suspend, grant, cap]
        assert await log(target="bob@") == []
        assert await log(outcome="refused") == [refused]
        assert await log(outcome="ok") == [note, suspend, grant, cap]
        # since inclusive, until exclusive
        assert await log(since=seconds(1)) == [note, suspend, *tie]
        assert await log(until=seconds(1)) == [cap]
        assert await log(since=seconds(1), until=seconds(3)) == [suspend, *tie]
        assert await log(since=seconds(1).astimezone(NEW_YORK), until=seconds(2)) == tie
        assert await log(action="admin.", target="bob@example.com", actor="owner-1",
                         outcome="ok", since=T0, until=seconds(10)) == [suspend, cap]
        # pages: (created_at, id) cursor, strictly before
        pages, cursor = [], None
        while page := await log(limit=2, before=cursor):
            pages.append(page)
            cursor = (page[-1].created_at, page[-1].id)
        assert pages == [newest[0:2], newest[2:4], newest[4:]]
        assert await log(before=(tie[0].created_at, tie[0].id)) == [tie[1], cap]
        assert await log(before=(seconds(1), "")) == [cap]
        assert await log(action="admin.", limit=1, before=(seconds(2), suspend.id)) == [refused]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET reason = 'edited'",
    "UPDATE audit_events SET target = 'x' WHERE action = 'admin.cap.set'",
    "DELETE FROM audit_events",
    "DELETE FROM audit_events WHERE action = 'admin.cap.set'",
])
async def test_the_audit_log_refuses_updates_and_deletes(uow: Factory, is_fake: bool,
                                                         statement: str) -> None:
    if is_fake:
        pytest.skip("the fake has no SQL: this is about the database itself")
    database = getattr(uow, "__self__", None)
    assert isinstance(database, Database)
    event = an_event("admin.cap.set", "bob@example.com", at=T0)
    async with uow() as work:
        await work.audit.add(event)
        await work.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.engine.begin() as connection:
            await connection.execute(text(statement))
    if database.url.get_backend_name() == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            async with database.engine.begin() as connection:
                await connection.execute(text("TRUNCATE audit_events"))
    async with uow() as work:
        assert await work.audit.list() == [event]


# --- users and running turns -----------------------------------------------------------


async def test_users_are_searched_by_email_or_name_and_paged_by_email(uow: Factory) -> None:
    ann = replace(a_user("ann@example.com"), display_name="Ann Archer")
    bob = replace(a_user("bob@example.com"), display_name="Bobby Tables")
    carol = a_user("carol@sample.org").with_status(UserStatus.SUSPENDED)
    dan = replace(a_user("dan_x@example.com"), display_name="Dan 100%")
    eve = replace(a_user("eve@sample.org"), display_name="Eve EXAMPLE")
    await seed(uow, eve, carol, dan, bob, ann)
    everyone = [ann, bob, carol, dan, eve]

    def emails(found: Sequence[User]) -> list[str]:
        return [u.email for u in found]

    async with uow() as work:
        search = work.users.search
        assert list(await search()) == everyone
        assert emails(await search("")) == emails(everyone)
        assert emails(await search("EXAMPLE")) == ["ann@example.com", "bob@example.com",
                                                   "dan_x@example.com", "eve@sample.org"]
        assert emails(await search("bobby")) == ["bob@example.com"]
        assert emails(await search("SAMPLE.org")) == ["carol@sample.org", "eve@sample.org"]
        assert emails(await search("%")) == ["dan_x@example.com"]
        assert emails(await search("_")) == ["dan_x@example.com"]
        assert emails(await search("n_x")) == ["dan_x@example.com"]
        assert emails(await search("a%e")) == []
        assert emails(await search("nobody")) == []
        assert emails(await search(status="suspended")) == ["carol@sample.org"]
        assert emails(await search("example", status="active")) == [
            "ann@example.com", "bob@example.com", "dan_x@example.com", "eve@sample.org"]
        assert emails(await search(after_email="bob@example.com")) == [
            "carol@sample.org", "dan_x@example.com", "eve@sample.org"]
        assert emails(await search(after_email="b", limit=2)) == ["bob@example.com",
                                                                  "carol@sample.org"]
        assert emails(await search("example", after_email="dan_x@example.com")) == [
            "eve@sample.org"]
        assert emails(await search(limit=1)) == ["ann@example.com"]
        assert emails(await search(after_email="eve@sample.org")) == []


async def test_running_turns_of_a_user_oldest_first(uow: Factory) -> None:
    ada, bob = a_user("ada@example.com"), a_user("bob@example.com")
    mine, theirs = a_room(ada), a_room(bob)
    await seed(uow, ada, bob, rooms=(mine, theirs))
    later = a_turn(mine, [], at=seconds(20))
    early = a_turn(mine, [], at=seconds(5))
    tie_a, tie_b = sorted((a_turn(mine, [], at=seconds(10)), a_turn(mine, [], at=seconds(10))),
                          key=lambda t: t.id)
    done = replace(a_turn(mine, [], at=seconds(1)), status=TurnStatus.COMPLETED,
                   finished_at=seconds(2))
    failed = replace(a_turn(mine, [], at=seconds(3)), status=TurnStatus.FAILED,
                     finished_at=seconds(4))
    other = a_turn(theirs, [], at=seconds(0))
    async with uow() as work:
        for turn in (later, done, tie_b, other, early, failed, tie_a):
            await work.turns.add(turn)
        await work.commit()
    async with uow() as work:
        assert await work.turns.list_running_for_user(ada.id) == [early, tie_a, tie_b, later]
        assert await work.turns.list_running_for_user(bob.id) == [other]
        assert await work.turns.list_running_for_user(UserId(new_id())) == []
        await work.turns.update(replace(early, status=TurnStatus.CANCELLED,
                                        finished_at=seconds(30)))
        assert await work.turns.list_running_for_user(ada.id) == [tie_a, tie_b, later]


# --- migration 0005 ------------------------------------------------------------------

OLD_AUDIT = sa.table(
    "audit_events", sa.column("id", sa.String()), sa.column("actor_id", sa.String()),
    sa.column("actor_label", sa.String()), sa.column("action", sa.String()),
    sa.column("target", sa.String()), sa.column("details", sa.JSON()),
    sa.column("created_at", UTCDateTime()))


def _sync(url: str, *statements: Executable) -> list[Any]:
    """Run ``statements`` in one transaction; the rows they return."""
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            found: list[Any] = []
            for statement in statements:
                result = connection.execute(statement)
                if result.returns_rows:
                    found.extend(result.all())
            return found
    finally:
        engine.dispose()


async def test_migration_0005_carries_earlier_audit_records_over_and_back(
        database_url: str) -> None:
    await anyio.to_thread.run_sync(migrate.upgrade, database_url, "0004")
    grant = {"credits": "25.500000", "reason": "Support gesture", "entry": "e-1"}
    _sync(database_url, OLD_AUDIT.insert().values([
        {"id": "a1", "actor_id": None, "actor_label": "operator", "action": "billing.grant",
         "target": "ann@example.com", "details": grant, "created_at": T0},
        {"id": "a2", "actor_id": "u-owner", "actor_label": "bob@example.com",
         "action": "billing.grant", "target": "ann@example.com", "details": {},
         "created_at": seconds(1)},
    ]))
    await anyio.to_thread.run_sync(migrate.upgrade, database_url, "head")
    database = Database(database_url)
    try:
        async with database.unit_of_work() as work:
            owner, operator = await work.audit.list()
    finally:
        await database.dispose()
    assert operator == AuditEvent(id="a1", created_at=T0, actor_id=None,
                                  actor_label="operator", role="operator",
                                  action="billing.grant", target="ann@example.com",
                                  after=grant, reason="Support gesture")
    assert owner == AuditEvent(id="a2", created_at=seconds(1), actor_id="u-owner",
                               actor_label="bob@example.com", role="owner",
                               action="billing.grant", target="ann@example.com")
    with pytest.raises(DBAPIError, match="append-only"):
        _sync(database_url, text("DELETE FROM audit_events"))
    await anyio.to_thread.run_sync(migrate.downgrade, database_url, "0004")
    rows = _sync(database_url, sa.select(OLD_AUDIT.c.id, OLD_AUDIT.c.details)
                 .order_by(OLD_AUDIT.c.id))
    assert [tuple(row) for row in rows] == [("a1", grant), ("a2", {})]
    _sync(database_url, text("DELETE FROM audit_events WHERE id = 'a2'"))  # no trigger now
    await anyio.to_thread.run_sync(migrate.upgrade, database_url, "head")
