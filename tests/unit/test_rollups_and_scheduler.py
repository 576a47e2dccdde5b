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


async def test_totals_are_exact_before_and_after_rolling_up_for_random_ranges() -> None:
    app, calls = seeded_app()
    today = NOW.date()
    rng = random.Random(3)
    ranges = [(today - timedelta(days=rng.randint(1, 45)), today + timedelta(days=1))
              for _ in range(5)]
    ranges += [(today - timedelta(days=30), today - timedelta(days=rng.randint(1, 20)))
               for _ in range(5)]
    for start, end in ranges:  # nothing rolled yet: all raw
        assert await totals(app, start, end) == expected(calls, start, end)
    result = await app.uc.rollup_usage(Actor.operator())
    assert result.watermark == today
    assert app.store.settings[WATERMARK_KEY] == today.isoformat()
    for start, end in ranges:  # rolled days + today's raw events
        assert await totals(app, start, end) == expected(calls, start, end)
    late = a_call("user-9", "qwen", NOW - timedelta(minutes=5), credits="1.5", cost="0.01",
                  prompt=10, completion=10)
    app.store.calls.append(late)  # today's new usage counts at once, before any rollup
    assert (await totals(app, today, today + timedelta(days=1)))[("user-9", "qwen")] == \
        Decimal("1.5")


async def test_the_rollup_is_idempotent_and_incremental() -> None:
    app, calls = seeded_app(11)
    first = await app.uc.rollup_usage(Actor.operator())
    again = await app.uc.rollup_usage(Actor.operator())  # from the day before the watermark
    assert again.start == NOW.date() - timedelta(days=1)
    assert again.watermark == first.watermark
    start = NOW.date() - timedelta(days=40)
    assert await totals(app, start, NOW.date()) == expected(calls, start, NOW.date())


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
