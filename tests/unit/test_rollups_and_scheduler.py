"""The rollup job's watermark (rolled days + raw recent days = exact totals) and the scheduler
(each periodic job fires once per interval, however many processes tick)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pantheon_core.actor import Actor, Role
from pantheon_core.domain.jobs import PERIODIC_JOBS, ROLLUP_USAGE
from pantheon_core.domain.usage import CallStatus, LlmCall
from pantheon_core.errors import Forbidden
from pantheon_core.ids import CallId, StepId, TurnId, UserId, new_id
from pantheon_core.usecases.analytics import WATERMARK_KEY
from tests.fakes import FakeApp, FakeClock, fake_app

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


class Collecting:
    def __init__(self) -> None:
        self.enqueued: list[str] = []

    async def enqueue(self, name: str, payload: dict[str, str]) -> str:
        self.enqueued.append(name)
        return str(len(self.enqueued))


def a_call(user: str, alias: str, at: datetime, *, credits: str, cost: str, prompt: int,
           completion: int, status: CallStatus = CallStatus.OK) -> LlmCall:
    return LlmCall(id=CallId(new_id()), user_id=UserId(user), room_id=None,
                   direct_session_id=None, turn_id=TurnId(new_id()), step_id=StepId(new_id()),
                   agent_id=None, provider="fake", model=alias, prompt_tokens=prompt,
                   completion_tokens=completion, cached_tokens=0,
                   total_tokens=prompt + completion, provider_cost_usd=Decimal(cost),
                   credits_burned=Decimal(credits), latency_ms=5, status=status,
                   pricing_version="2026-11-v1", request_id=new_id(), created_at=at,
                   model_alias=alias)


def seeded_app(seed: int = 7) -> tuple[FakeApp, list[LlmCall]]:
    app = fake_app()
    app.clock.now = lambda: NOW  # type: ignore[method-assign]
    rng = random.Random(seed)
    calls = [a_call(f"user-{rng.randint(1, 6)}", rng.choice(["qwen", "llama", "premium"]),
                    NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 40)),
                    credits=f"0.{rng.randint(1, 999999):06d}",
                    cost=f"0.0000{rng.randint(1, 9999):04d}", prompt=rng.randint(1, 9000),
                    completion=rng.randint(0, 900),
                    status=CallStatus.ERROR if rng.random() < 0.1 else CallStatus.OK)
             for _ in range(400)]
    app.store.calls.extend(calls)
    return app, calls


def expected(calls: list[LlmCall], start: date, end: date) -> dict[tuple[str, str], Decimal]:
    sums: dict[tuple[str, str], Decimal] = {}
    for c in calls:
        if start <= c.created_at.date() < end:
            key = (c.user_id, c.model_alias)
            sums[key] = sums.get(key, Decimal(0)) + c.credits_burned
    return sums


async def totals(app: FakeApp, start: date, end: date) -> dict[tuple[str, str], Decimal]:
    report = await app.uc.admin_usage(Actor.operator(), start=start, end=end)
    return {(r.totals.user_id or "", r.totals.model_alias or ""): r.totals.credits
            for r in report.rows}


def exact(calls: list[LlmCall], start: date, end: date) -> dict[tuple[str, str], Decimal]:
    return expected(calls, start, end)


async def assert_exact(app: FakeApp, ranges: list[tuple[date, date]]) -> None:
    for start, end in ranges:
        assert await totals(app, start, end) == exact(app.store.calls, start, end), (start, end)


def some_ranges(today: date, seed: int = 3) -> list[tuple[date, date]]:
    rng = random.Random(seed)
    ranges = [(today - timedelta(days=rng.randint(1, 45)), today + timedelta(days=1))
              for _ in range(5)]
    ranges += [(today - timedelta(days=30), today - timedelta(days=rng.randint(1, 20)))
               for _ in range(5)]
    return [*ranges, (today, today + timedelta(days=1)),
            (today - timedelta(days=1), today)]


async def test_totals_are_exact_before_and_after_rolling_up_for_random_ranges() -> None:
    app, _ = seeded_app()
    today = NOW.date()
    ranges = some_ranges(today)
    await assert_exact(app, ranges)  # nothing rolled yet: all raw
    result = await app.uc.rollup_usage(Actor.operator())
    assert result.watermark is not None and result.start == min(c.created_at.date()
                                                                for c in app.store.calls)
    assert app.store.settings[WATERMARK_KEY] == result.watermark.isoformat()
    assert sum(r.calls for r in app.store.rollups_daily.values()) == len(app.store.calls)
    await assert_exact(app, ranges)  # everything rolled up
    late = a_call("user-9", "qwen", NOW - timedelta(seconds=5), credits="1.5", cost="0.01",
                  prompt=10, completion=10)
    app.store.calls.append(late)  # new usage counts at once, before any rollup
    assert (await totals(app, today, today + timedelta(days=1)))[("user-9", "qwen")] == \
        Decimal("1.5")


async def test_later_runs_add_only_the_new_events_and_stay_exact() -> None:
    app, _ = seeded_app(11)
    first = await app.uc.rollup_usage(Actor.operator())
    assert first.watermark is not None
    again = await app.uc.rollup_usage(Actor.operator())  # nothing new to roll: a no-op
    assert (again.watermark, again.daily_rows) == (first.watermark, 0)
    rng = random.Random(2)
    now = NOW
    for minute in range(1, 4):
        now = NOW + timedelta(minutes=minute)
        app.clock.now = lambda at=now: at  # type: ignore[method-assign]
        app.store.calls.extend(
            a_call(f"user-{rng.randint(1, 8)}", rng.choice(["qwen", "llama"]),
                   now - timedelta(seconds=rng.randint(0, 59)), credits="0.25",
                   cost="0.001", prompt=100, completion=10) for _ in range(30))
        await assert_exact(app, some_ranges(now.date(), seed=minute))  # 30 not rolled yet
        before = first.watermark
        first = await app.uc.rollup_usage(Actor.operator())
        assert first.added_from == before and first.watermark is not None
        assert before is not None and first.watermark > before
        assert first.start == first.end  # added to, no day recomputed
        await assert_exact(app, some_ranges(now.date(), seed=minute))
        # the rollups now hold every event, each once
        assert sum(r.calls for r in app.store.rollups_daily.values()) == len(app.store.calls)
        monthly = sum((row.credits for row in app.store.rollups_monthly.values()), Decimal(0))
        assert monthly == sum((c.credits_burned for c in app.store.calls), Decimal(0))


async def test_an_event_written_late_or_back_dated_counts_at_once_and_rolls_up_next() -> None:
    app, _ = seeded_app(13)
    await app.uc.rollup_usage(Actor.operator())
    old_day = NOW - timedelta(days=20, hours=3)
    app.store.calls.append(a_call("user-4", "llama", old_day, credits="7", cost="0.5",
                                  prompt=5, completion=5))
    ranges = [*some_ranges(NOW.date()), (old_day.date(), old_day.date() + timedelta(days=1))]
    await assert_exact(app, ranges)  # read from the raw events recorded since W
    result = await app.uc.rollup_usage(Actor.operator())
    assert result.daily_rows == 1  # added to the rollup of its own (old) day
    assert app.store.rollups_daily[(old_day.date(), UserId("user-4"), "llama")].credits >= 7
    await assert_exact(app, ranges)
    report = await app.uc.admin_active_users(Actor.operator(), day=old_day.date())
    assert report.dau == len({c.user_id for c in app.store.calls
                              if c.created_at.date() == old_day.date()})


async def test_an_explicit_range_is_recomputed_up_to_the_watermark() -> None:
    app, _ = seeded_app(17)
    first = await app.uc.rollup_usage(Actor.operator())
    app.store.rollups_daily.clear()  # as if lost: a rebuild over the range restores them
    app.store.rollups_monthly.clear()
    app.store.activity.clear()
    start = NOW.date() - timedelta(days=45)
    rebuilt = await app.uc.rollup_usage(Actor.operator(), start=start,
                                        end=NOW.date() + timedelta(days=1))
    assert rebuilt.watermark == first.watermark  # an explicit range never moves it
    await assert_exact(app, some_ranges(NOW.date()))
    again = await app.uc.rollup_usage(Actor.operator(), start=start,
                                      end=NOW.date() + timedelta(days=1))
    assert again.daily_rows == rebuilt.daily_rows  # idempotent
    await assert_exact(app, some_ranges(NOW.date(), seed=9))


async def test_a_reader_never_counts_a_rollup_that_commits_during_its_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = seeded_app(19)
    await app.uc.rollup_usage(Actor.operator())
    later = NOW + timedelta(minutes=5)
    app.store.calls.append(a_call("user-2", "qwen", NOW - timedelta(seconds=1), credits="3",
                                  cost="0.1", prompt=1, completion=1))
    from tests import fakes
    original = fakes._Rollups.totals
    moved: list[bool] = []

    async def totals_then_a_rollup_commits(self: fakes._Rollups, *args: object,
                                           **kwargs: object) -> object:
        if not moved:  # after the reader took W, the job adds [W, W') and moves W
            moved.append(True)
            app.clock.now = lambda: later  # type: ignore[method-assign]
            await app.uc.rollup_usage(Actor.operator())
        return await original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fakes._Rollups, "totals", totals_then_a_rollup_commits)
    today = NOW.date()
    assert await totals(app, today - timedelta(days=10), today + timedelta(days=1)) == \
        exact(app.store.calls, today - timedelta(days=10), today + timedelta(days=1))
    assert moved


async def test_active_users_match_distinct_users() -> None:
    app, calls = seeded_app(5)
    await app.uc.rollup_usage(Actor.operator())
    report = await app.uc.admin_active_users(Actor.operator())
    today = NOW.date()

    def distinct(days: int) -> int:
        return len({c.user_id for c in calls
                    if today - timedelta(days=days - 1) <= c.created_at.date() <= today})

    assert (report.dau, report.wau, report.mau) == (distinct(1), distinct(7), distinct(30))
    daily = dict(report.daily)
    for day, count in daily.items():
        assert count == len({c.user_id for c in calls if c.created_at.date() == day})


async def test_rollup_needs_an_owner() -> None:
    app, _ = seeded_app()
    analyst = Actor(user_id=UserId("a1"), roles=frozenset({Role.ANALYST}))
    with pytest.raises(Forbidden):
        await app.uc.rollup_usage(analyst)


async def test_the_scheduler_fires_each_job_once_per_interval_across_processes() -> None:
    jobs = Collecting()
    app = fake_app(jobs=jobs)
    clock: FakeClock = app.clock
    fired = await app.uc.tick_scheduler()
    assert sorted(fired) == sorted(name for name, _ in PERIODIC_JOBS)
    # a second "process" ticking at the same moment fires nothing
    assert await app.uc.tick_scheduler() == []
    clock.advance(seconds=301)
    assert ROLLUP_USAGE in await app.uc.tick_scheduler()
    assert jobs.enqueued.count(ROLLUP_USAGE) == 2
    assert await app.uc.tick_scheduler() == []


async def test_without_a_queue_nothing_is_scheduled() -> None:
    app = fake_app()
    assert await app.uc.tick_scheduler() == []
