"""AT-011: admin controls, the audit log and analytics, on the use cases over fakes.

Owners write, analysts read, end users get 403 — and every write, and every refused write,
is in the audit log with who, in what role, what, on what, before/after, the request id and
the client address. Analytics equal sums over the raw usage rows, for any range, before and
after the rollup job has run.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from pantheon_core.actor import Actor
from pantheon_core.domain.audit import AuditOutcome
from pantheon_core.domain.turns import TurnStatus
from pantheon_core.domain.usage import CallStatus, LlmCall
from pantheon_core.domain.users import UserStatus
from pantheon_core.errors import Conflict, Forbidden
from pantheon_core.ids import CallId, StepId, TurnId, UserId, new_id
from pantheon_core.ports.chat_model import ProviderError
from pantheon_core.usecases.catalog import UseCases
from tests.fake_chat import Reply
from tests.fakes import FakeApp, fake_app
from tests.unit.helpers import room_with_agents, sign_up

OWNER, ANALYST, USER, TARGET = ("boss@example.com", "ana@example.com", "joe@example.com",
                                "tim@example.com")
REQUEST_ID, CLIENT = "req-at-011", "203.0.113.9"
Write = Callable[[UseCases, Actor], Awaitable[object]]


@dataclass(frozen=True)
class Cast:
    owner: Actor
    analyst: Actor
    user: Actor


async def cast(app: FakeApp) -> Cast:
    """An owner, an analyst and an end user (tagged as HTTP tags them), and the target."""
    op = Actor.operator()
    await app.uc.set_role(op, OWNER, "owner", granted=True)
    await app.uc.set_role(op, ANALYST, "analyst", granted=True)
    await sign_up(app, TARGET)
    tagged = [(await sign_up(app, e)).via(request_id=REQUEST_ID, client=CLIENT)
              for e in (OWNER, ANALYST, USER)]
    return Cast(*tagged)


def state(app: FakeApp) -> dict[str, Any]:
    """Everything but the audit log, to prove that a refusal changed nothing."""
    return copy.deepcopy({k: v for k, v in vars(app.store).items() if k != "audit_events"})


# --- every admin write: the owner succeeds, the analyst and the end user are refused -------


async def _no_setup(uc: UseCases) -> None:
    return None


async def _capped(uc: UseCases) -> None:
    await uc.admin_set_cap(Actor.operator(), TARGET, "40")


async def _suspended(uc: UseCases) -> None:
    await uc.admin_set_user_status(Actor.operator(), TARGET, suspended=True, reason="set up")


async def _policy(uc: UseCases) -> None:
    await uc.admin_set_model_policy(Actor.operator(), TARGET, allow=["qwen"])


WRITES: dict[str, tuple[Callable[[UseCases], Awaitable[None]], Write, str, str]] = {
    # name: (setup by the operator, the write, audited action, audited target)
    "cap_set": (_no_setup, lambda uc, a: uc.admin_set_cap(a, TARGET, "500"),
                "admin.cap.set", TARGET),
    "cap_clear": (_capped, lambda uc, a: uc.admin_set_cap(a, TARGET, None),
                  "admin.cap.clear", TARGET),
    "suspend": (_no_setup, lambda uc, a: uc.admin_set_user_status(
        a, TARGET, suspended=True, reason="abuse report"), "admin.user.suspend", TARGET),
    "reactivate": (_suspended, lambda uc, a: uc.admin_set_user_status(
        a, TARGET, suspended=False, reason="resolved"), "admin.user.reactivate", TARGET),
    "policy_allow": (_no_setup, lambda uc, a: uc.admin_set_model_policy(
        a, TARGET, allow=["qwen", "llama"]), "admin.models.set", TARGET),
    "policy_deny": (_no_setup, lambda uc, a: uc.admin_set_model_policy(
        a, TARGET, deny=["premium"]), "admin.models.set", TARGET),
    "policy_clear": (_policy, lambda uc, a: uc.admin_set_model_policy(a, TARGET, clear=True),
                     "admin.models.set", TARGET),
    "manager_model": (_no_setup, lambda uc, a: uc.set_manager_model(a, "qwen"),
                      "admin.manager_model.set", "manager_model"),
    "grant": (_no_setup, lambda uc, a: uc.grant_credits(a, TARGET, "25", reason="goodwill"),
              "billing.grant", TARGET),
    "rollup": (_no_setup, lambda uc, a: uc.rollup_usage(a), "admin.rollup", "usage_rollups"),
}


@pytest.mark.parametrize("name", list(WRITES))
async def test_at_011_owner_write_is_audited(app: FakeApp, name: str) -> None:
    setup, write, action, target = WRITES[name]
    people = await cast(app)
    await setup(app.uc)
    before = state(app)
    audited = len(app.store.audit_events)

    await write(app.uc, people.owner)

    assert state(app) != before
    [event] = app.store.audit_events[audited:]
    assert (event.actor_id, event.actor_label, event.role) == (
        people.owner.user_id, OWNER, "owner")
    assert (event.action, event.target, event.outcome) == (action, target, AuditOutcome.OK)
    assert event.before and event.after and event.before != event.after
    assert (event.request_id, event.client) == (REQUEST_ID, CLIENT)


@pytest.mark.parametrize("name", list(WRITES))
@pytest.mark.parametrize("who", ["analyst", "user"])
async def test_at_011_refused_write_changes_nothing_and_is_audited(app: FakeApp, name: str,
                                                                   who: str) -> None:
    setup, write, action, target = WRITES[name]
    people = await cast(app)
    await setup(app.uc)
    before = state(app)
    audited = len(app.store.audit_events)
    actor = getattr(people, who)

    with pytest.raises(Forbidden) as refused:
        await write(app.uc, actor)

    assert refused.value.code == "owner_required"
    assert state(app) == before
    [event] = app.store.audit_events[audited:]
    assert (event.action, event.target, event.outcome) == (action, target,
                                                           AuditOutcome.REFUSED)
    assert (event.actor_id, event.role) == (actor.user_id, who)
    assert (event.before, event.after) == ({}, {})
    assert (event.request_id, event.client) == (REQUEST_ID, CLIENT)


async def test_at_011_the_worker_rolls_up_without_an_actor_or_an_audit_event(
        app: FakeApp) -> None:
    result = await app.uc.rollup_usage()
    assert result.watermark is not None
    assert app.store.audit_events == []


async def test_at_011_reads_are_for_owners_and_analysts(app: FakeApp) -> None:
    people = await cast(app)
    today = app.clock.now().date()
    for actor in (people.owner, people.analyst):
        assert TARGET in [s.user.email for s in await app.uc.admin_list_users(actor)]
        assert (await app.uc.admin_get_user(actor, TARGET)).user.email == TARGET
        await app.uc.admin_usage(actor, start=today, end=today + timedelta(days=1))
        await app.uc.admin_list_audit(actor)
    reads: list[Callable[[], Awaitable[object]]] = [
        lambda: app.uc.admin_list_users(people.user),
        lambda: app.uc.admin_get_user(people.user, TARGET),
        lambda: app.uc.admin_usage(people.user, start=today, end=today + timedelta(days=1)),
        lambda: app.uc.admin_costs(people.user, start=today, end=today + timedelta(days=1)),
        lambda: app.uc.admin_active_users(people.user),
        lambda: app.uc.admin_list_audit(people.user),
    ]
    for read in reads:
        with pytest.raises(Forbidden) as refused:
            await read()
        assert refused.value.code == "admin_required"


# --- suspension -----------------------------------------------------------------------------


async def test_at_011_suspension_cancels_the_running_turn_and_blocks_then_restores(
        app: FakeApp) -> None:
    people = await cast(app)
    tim = await sign_up(app, TARGET)
    secret = (await app.uc.create_api_token(tim, name="ci")).secret
    room = await room_with_agents(app, tim, "Ana")
    app.chat.queue("worker", Reply(" ".join(["word"] * 40), chunk_delay_s=0.02))
    turn = await app.uc.send_to_room(tim, room.id, "Think slowly")
    assert app.store.turns[turn.id].status is TurnStatus.RUNNING

    summary = await app.uc.admin_set_user_status(people.owner, TARGET, suspended=True,
                                                 reason="abuse report")
    await app.settle()

    assert summary.user.status is UserStatus.SUSPENDED
    assert app.store.turns[turn.id].status is TurnStatus.CANCELLED
    [event] = [e for e in app.store.audit_events if e.action == "admin.user.suspend"]
    assert event.after["cancelled_turns"] == [turn.id] and event.reason == "abuse report"
    attempts: list[Callable[[], Awaitable[Actor]]] = [
        lambda: app.uc.authenticate_api_token(secret),
        lambda: app.uc.act_as(Actor.operator(), TARGET)]
    for attempt in attempts:
        with pytest.raises(Forbidden) as refused:
            await attempt()
        assert refused.value.code == "account_suspended"

    await app.uc.admin_set_user_status(people.owner, TARGET, suspended=False, reason="cleared")
    again = await app.uc.authenticate_api_token(secret)
    assert again.user_id == tim.user_id
    assert [r.id for r in await app.uc.list_rooms(again)] == [room.id]  # data kept
    assert app.store.turns[turn.id].status is TurnStatus.CANCELLED


async def test_at_011_an_owner_cannot_suspend_themselves(app: FakeApp) -> None:
    people = await cast(app)
    with pytest.raises(Conflict) as refused:
        await app.uc.admin_set_user_status(people.owner, OWNER, suspended=True, reason="oops")
    assert refused.value.code == "cannot_suspend_self"
    assert app.store.users[people.owner.require_user()].status is UserStatus.ACTIVE


# --- analytics: equal to sums over the raw rows ---------------------------------------------

MODELS = ("qwen", "llama", "deepseek", "premium")


def usage_row(user_id: UserId, alias: str, at: datetime, rng: random.Random) -> LlmCall:
    prompt, cached, completion = rng.randint(0, 5000), rng.randint(0, 500), rng.randint(0, 900)
    failed = rng.random() < 0.2
    return LlmCall(
        id=CallId(new_id()), user_id=user_id, room_id=None, direct_session_id=None,
        turn_id=TurnId(new_id()), step_id=StepId(new_id()), agent_id=None, provider="fake",
        model=alias, prompt_tokens=prompt, completion_tokens=0 if failed else completion,
        cached_tokens=min(cached, prompt), total_tokens=prompt + completion,
        provider_cost_usd=Decimal(rng.randint(0, 10**6)) / Decimal(10**8),
        credits_burned=Decimal(0) if failed else Decimal(rng.randint(1, 10**6)) / 10**6,
        latency_ms=10, status=CallStatus.ERROR if failed else CallStatus.OK,
        pricing_version="2026-11-v1", request_id="r", created_at=at, model_alias=alias)


async def seeded_usage(app: FakeApp, rng: random.Random, *, users: int = 6,
                       rows: int = 300) -> list[UserId]:
    ids = [(await sign_up(app, f"u{i}@example.com")).require_user() for i in range(users)]
    now = app.clock.now()
    for _ in range(rows):
        at = now - timedelta(seconds=rng.randint(0, 75 * 86_400))
        app.store.calls.append(usage_row(rng.choice(ids), rng.choice(MODELS), at, rng))
    return ids


def expected(app: FakeApp, start: date, end: date) -> dict[tuple[str, str], tuple[Any, ...]]:
    """``(user, model) -> (calls, failed, prompt, cached, completion, credits, cost)``."""
    sums: dict[tuple[str, str], list[Any]] = {}
    low, high = (datetime.combine(d, datetime.min.time(), UTC) for d in (start, end))
    for c in app.store.calls:
        if low <= c.created_at < high:
            row = sums.setdefault((c.user_id, c.model_alias), [0, 0, 0, 0, 0, Decimal(0),
                                                               Decimal(0)])
            for i, v in enumerate((1, int(c.status is not CallStatus.OK), c.prompt_tokens,
                                   c.cached_tokens, c.completion_tokens, c.credits_burned,
                                   c.provider_cost_usd)):
                row[i] += v
    return {k: tuple(v) for k, v in sums.items()}


async def reported(app: FakeApp, actor: Actor, start: date,
                   end: date) -> dict[tuple[str, str], tuple[Any, ...]]:
    usage = await app.uc.admin_usage(actor, start=start, end=end, by=("user", "model"))
    found: dict[tuple[str, str], tuple[Any, ...]] = {}
    for row in usage.rows:
        t = row.totals
        assert t.user_id is not None and t.model_alias is not None
        found[(t.user_id, t.model_alias)] = (t.calls, t.failed_calls, t.prompt_tokens,
                                             t.cached_tokens, t.completion_tokens, t.credits,
                                             t.provider_cost_usd)
    return found


def random_ranges(rng: random.Random, today: date, n: int = 12) -> list[tuple[date, date]]:
    ranges = [(today, today + timedelta(days=1)), (today.replace(day=1), today +
                                                    timedelta(days=1))]
    for _ in range(n):
        first = today - timedelta(days=rng.randint(0, 80))
        last = min(today, first + timedelta(days=rng.randint(0, 60)))
        ranges.append((first, last + timedelta(days=1)))
    return ranges


@pytest.mark.parametrize("seed", [11, 2026])
async def test_at_011_usage_equals_the_raw_rows_before_and_after_the_rollup(
        app: FakeApp, seed: int) -> None:
    rng = random.Random(seed)
    people = await cast(app)
    await seeded_usage(app, rng)
    today = app.clock.now().date()
    ranges = random_ranges(rng, today)
    for first, stop in ranges:
        assert await reported(app, people.analyst, first, stop) == expected(app, first, stop)

    result = await app.uc.rollup_usage(people.owner)
    assert result.watermark is not None and app.store.rollups_daily

    # Today keeps counting after the rollup: new rows are read raw until the next run.
    ids = [u.id for u in app.store.users.values()]
    for _ in range(20):
        at = app.clock.now() - timedelta(seconds=rng.randint(0, 3600))
        app.store.calls.append(usage_row(rng.choice(ids), rng.choice(MODELS), at, rng))
    for first, stop in ranges:
        assert await reported(app, people.analyst, first, stop) == expected(app, first, stop)
    usage = await app.uc.admin_usage(people.owner, start=today - timedelta(days=80),
                                     end=today + timedelta(days=1))
    assert usage.total.calls == len(app.store.calls)
    assert usage.total.credits == sum((c.credits_burned for c in app.store.calls), Decimal(0))


async def test_at_011_usage_counts_real_turns_and_failed_calls(app: FakeApp) -> None:
    people = await cast(app)
    tim = await sign_up(app, TARGET)
    room = await room_with_agents(app, tim, "Ana", "Ben")
    app.chat.queue("worker", Reply("fine"), Reply("oops", error=ProviderError(
        "down", code="provider_unavailable", retryable=False)))
    await app.uc.send_to_room(tim, room.id, "Go")
    await app.settle()
    today = app.clock.now().date()
    stop = today + timedelta(days=1)
    [row] = (await app.uc.admin_usage(people.owner, start=today, end=stop)).rows
    assert row.email == TARGET and row.totals.calls == len(app.store.calls) >= 2
    assert row.totals.failed_calls == len([c for c in app.store.calls
                                           if c.status is not CallStatus.OK]) >= 1
    assert await reported(app, people.owner, today, stop) == expected(app, today, stop)


@pytest.mark.parametrize("rolled", [False, True])
async def test_at_011_active_users_are_distinct_users_with_calls(app: FakeApp,
                                                                 rolled: bool) -> None:
    rng = random.Random(7)
    people = await cast(app)
    await seeded_usage(app, rng, users=9, rows=120)
    if rolled:
        await app.uc.rollup_usage(people.owner)
    today = app.clock.now().date()

    def distinct(first: date, last: date) -> int:
        return len({c.user_id for c in app.store.calls
                    if first <= c.created_at.date() <= last})

    for day in (today, today - timedelta(days=3), today - timedelta(days=40)):
        active = await app.uc.admin_active_users(people.analyst, day=day)
        assert (active.dau, active.wau, active.mau) == (
            distinct(day, day), distinct(day - timedelta(days=6), day),
            distinct(day - timedelta(days=29), day))
        assert dict(active.daily) == {d: n for d in (day - timedelta(days=i)
                                                      for i in range(30))
                                      if (n := distinct(d, d))}


async def test_at_011_top_users_and_models_are_ranked(app: FakeApp) -> None:
    rng = random.Random(5)
    people = await cast(app)
    await seeded_usage(app, rng)
    today = app.clock.now().date()
    first, stop = today - timedelta(days=30), today + timedelta(days=1)
    sums = expected(app, first, stop)

    def ranked(index: int, of: int) -> list[tuple[str, Any]]:
        per: dict[str, Any] = {}
        for key, values in sums.items():
            amount = values[5] if of == 5 else values[2] + values[4]
            per[key[index]] = per.get(key[index], 0) + amount
        return sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))

    by_cost = await app.uc.admin_top(people.analyst, of="users", by="cost", start=first,
                                     end=stop, limit=3)
    assert [(r.totals.user_id, r.totals.credits) for r in by_cost] == ranked(0, 5)[:3]
    assert all(r.email for r in by_cost)
    by_tokens = await app.uc.admin_top(people.analyst, of="models", by="tokens", start=first,
                                       end=stop, limit=10)
    assert [(r.totals.model_alias, r.totals.tokens) for r in by_tokens] == ranked(1, 0)


async def test_at_011_costs_compare_provider_and_internal_cost(app: FakeApp) -> None:
    people = await cast(app)
    await seeded_usage(app, random.Random(3), rows=80)
    today = app.clock.now().date()
    first, stop = today - timedelta(days=20), today + timedelta(days=1)
    sums = expected(app, first, stop).values()
    costs = await app.uc.admin_costs(people.analyst, start=first, end=stop)
    assert costs.credits == sum((v[5] for v in sums), Decimal(0))
    assert costs.provider_cost_usd == sum((v[6] for v in sums), Decimal(0))
    assert costs.internal_cost_usd == costs.credits * costs.credit_value_usd
    assert sum((p.credits for p in costs.series), Decimal(0)) == costs.credits


async def test_at_011_role_changes_are_audited_and_refused_for_analysts() -> None:
    app = fake_app()
    await app.uc.act_as(Actor.operator(), "boss@example.com")
    await app.uc.set_role(Actor.operator(), "boss@example.com", "owner", granted=True)
    await app.uc.set_role(Actor.operator(), "ann@example.com", "analyst", granted=True)
    analyst = await app.uc.act_as(Actor.operator(), "ann@example.com")
    with pytest.raises(Forbidden):
        await app.uc.set_role(analyst, "eve@example.com", "owner", granted=True)
    events = [(e.action, e.target, e.outcome.value) for e in app.store.audit_events]
    assert events == [("admin.role.grant", "boss@example.com", "ok"),
                      ("admin.role.grant", "ann@example.com", "ok"),
                      ("admin.role.grant", "eve@example.com", "refused")]
    first = app.store.audit_events[0]
    assert (dict(first.before), dict(first.after)) == ({"roles": []}, {"roles": ["owner"]})
