"""AT-011 over HTTP: ``/api/v1/admin/…`` — controls (owners), reads (owners and analysts),
403 for everyone else, the audit log (with the request id and the client address), suspension
of a user mid-turn, analytics as JSON and CSV, and the rollup job."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from pantheon_core.actor import Actor
from pantheon_core.domain.audit import AuditOutcome
from pantheon_core.domain.turns import TurnStatus
from pantheon_core.domain.usage import CallStatus
from pantheon_core.ports.chat_model import ProviderError
from pantheon_core.usecases.catalog import UseCases
from tests.e2e.conftest import ClientFactory, Json, assert_error, chat_room, sign_in
from tests.fake_chat import Reply
from tests.fakes import FakeApp
from tests.unit.test_at_011_admin import MODELS, expected, state, usage_row

OWNER, ANALYST, USER, TARGET = ("boss@example.com", "ana@example.com", "joe@example.com",
                                "tim@example.com")
ADMIN = "/api/v1/admin"
CLIENT = "127.0.0.1"  # httpx's ASGI transport calls from here


@dataclass(frozen=True)
class People:
    owner: httpx.AsyncClient
    analyst: httpx.AsyncClient
    user: httpx.AsyncClient
    target: httpx.AsyncClient


@pytest.fixture
async def people(clients: ClientFactory, fake: FakeApp) -> People:
    op = Actor.operator()
    await fake.uc.set_role(op, OWNER, "owner", granted=True)
    await fake.uc.set_role(op, ANALYST, "analyst", granted=True)
    signed = []
    for email in (OWNER, ANALYST, USER, TARGET):
        client = await clients()
        await sign_in(client, fake, email)
        signed.append(client)
    return People(*signed)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# --- every admin write: the owner succeeds, the analyst and the end user are refused -------

Setup = Callable[[UseCases], Awaitable[object]]


async def _none(uc: UseCases) -> None:
    return None


def _op(call: Callable[[UseCases, Actor], Awaitable[object]]) -> Setup:
    return lambda uc: call(uc, Actor.operator())


U = f"{ADMIN}/users/{TARGET}"
# name: (setup by the operator, method, path, body, audited action, audited target)
WRITES: dict[str, tuple[Setup, str, str, Json | None, str, str]] = {
    "cap_set": (_none, "PUT", f"{U}/cap", {"credits": "500"}, "admin.cap.set", TARGET),
    "cap_clear": (_op(lambda uc, a: uc.admin_set_cap(a, TARGET, "40")), "DELETE", f"{U}/cap",
                  None, "admin.cap.clear", TARGET),
    "suspend": (_none, "POST", f"{U}/suspend", {"reason": "abuse report"},
                "admin.user.suspend", TARGET),
    "reactivate": (_op(lambda uc, a: uc.admin_set_user_status(
        a, TARGET, suspended=True, reason="set up")), "POST", f"{U}/reactivate",
        {"reason": "resolved"}, "admin.user.reactivate", TARGET),
    "policy_allow": (_none, "PUT", f"{U}/models", {"allow": ["qwen", "llama"]},
                     "admin.models.set", TARGET),
    "policy_deny": (_none, "PUT", f"{U}/models", {"deny": ["premium"]}, "admin.models.set",
                    TARGET),
    "policy_clear": (_op(lambda uc, a: uc.admin_set_model_policy(a, TARGET, allow=["qwen"])),
                     "PUT", f"{U}/models", {"clear": True}, "admin.models.set", TARGET),
    "manager_model": (_none, "PUT", f"{ADMIN}/manager-model", {"model_alias": "qwen"},
                      "admin.manager_model.set", "manager_model"),
    "grant": (_none, "POST", f"{U}/grants", {"credits": "25", "reason": "goodwill"},
              "billing.grant", TARGET),
    "rollup": (_none, "POST", f"{ADMIN}/rollup", {}, "admin.rollup", "usage_rollups"),
}


async def _write(client: httpx.AsyncClient, name: str, request_id: str) -> httpx.Response:
    _, method, path, body, _, _ = WRITES[name]
    return await client.request(method, path, json=body, headers={"X-Request-ID": request_id})


@pytest.mark.parametrize("name", list(WRITES))
async def test_at_011_owner_write_is_audited_with_request_id_and_client(
        people: People, fake: FakeApp, name: str) -> None:
    setup, _, _, _, action, target = WRITES[name]
    await setup(fake.uc)
    fake.clock.advance(seconds=1)  # so the audit log's newest event is this write's
    before = state(fake)
    audited = len(fake.store.audit_events)

    response = await _write(people.owner, name, f"req-{name}")

    assert response.status_code in (200, 201), response.text
    assert response.headers["x-request-id"] == f"req-{name}"
    assert state(fake) != before
    [event] = fake.store.audit_events[audited:]
    assert (event.actor_label, event.role, event.action, event.target, event.outcome) == (
        OWNER, "owner", action, target, AuditOutcome.OK)
    assert event.before and event.after and event.before != event.after
    assert (event.request_id, event.client) == (f"req-{name}", CLIENT)
    [shown] = ok(await people.analyst.get(f"{ADMIN}/audit", params={"limit": 1}))["events"]
    assert shown["id"] == event.id and shown["request_id"] == f"req-{name}"
    assert (shown["actor"], shown["role"], shown["client"]) == (OWNER, "owner", CLIENT)
    assert shown["before"] == dict(event.before) and shown["after"] == dict(event.after)


@pytest.mark.parametrize("name", list(WRITES))
async def test_at_011_analyst_write_is_403_changes_nothing_and_is_audited(
        people: People, fake: FakeApp, name: str) -> None:
    setup, _, _, _, action, target = WRITES[name]
    await setup(fake.uc)
    before = state(fake)
    audited = len(fake.store.audit_events)

    assert_error(await _write(people.analyst, name, "req-refused"), 403, "owner_required")

    assert state(fake) == before
    [event] = fake.store.audit_events[audited:]
    assert (event.actor_label, event.role, event.action, event.target, event.outcome) == (
        ANALYST, "analyst", action, target, AuditOutcome.REFUSED)
    assert (event.request_id, event.client) == ("req-refused", CLIENT)
    refused = ok(await people.owner.get(f"{ADMIN}/audit", params={"outcome": "refused"}))
    assert [e["id"] for e in refused["events"]] == [event.id]


@pytest.mark.parametrize("name", list(WRITES))
async def test_at_011_end_user_write_is_403_and_changes_nothing(
        people: People, fake: FakeApp, name: str) -> None:
    setup = WRITES[name][0]
    await setup(fake.uc)
    before = state(fake)
    assert_error(await _write(people.user, name, "req-user"), 403, "owner_required")
    assert state(fake) == before


async def test_rollup_ranges(people: People) -> None:
    result = ok(await people.owner.post(f"{ADMIN}/rollup"))  # the first run: everything
    assert result["to"] == "2026-11-26" and result["watermark"] is not None
    again = ok(await people.owner.post(f"{ADMIN}/rollup"))  # then only what is new
    assert (again["from"], again["to"]) == (None, None)
    assert again["watermark"] >= result["watermark"]
    ranged = ok(await people.owner.post(f"{ADMIN}/rollup", json={"from": "2026-10-01",
                                                                  "to": "2026-10-31"}))
    assert (ranged["from"], ranged["to"]) == ("2026-10-01", "2026-10-31")
    assert_error(await people.owner.post(f"{ADMIN}/rollup", json={"from": "2026-11-02",
                                                                  "to": "2026-11-01"}),
                 422, "invalid_range")


READS = ["/users", f"/users/{TARGET}", "/usage", "/costs", "/active", "/top", "/audit",
         "/jobs"]


@pytest.mark.parametrize("path", READS)
async def test_at_011_reads_are_for_owners_and_analysts(people: People, path: str) -> None:
    for client in (people.owner, people.analyst):
        ok(await client.get(ADMIN + path))
    assert_error(await people.user.get(ADMIN + path), 403, "admin_required")


async def test_admin_routes_need_credentials(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"{ADMIN}/users"), 401, "not_authenticated")
    assert_error(await client.put(f"{ADMIN}/manager-model", json={"model_alias": "qwen"}),
                 401, "not_authenticated")


# --- users and their controls ---------------------------------------------------------------


async def test_users_list_search_filter_and_page(people: People, fake: FakeApp) -> None:
    page = ok(await people.analyst.get(f"{ADMIN}/users", params={"limit": 2}))
    assert [u["email"] for u in page["users"]] == [ANALYST, OWNER]
    assert page["next_after"] == OWNER
    rest = ok(await people.analyst.get(f"{ADMIN}/users", params={"after": OWNER}))
    assert [u["email"] for u in rest["users"]] == [USER, TARGET] and rest["next_after"] is None
    found = ok(await people.analyst.get(f"{ADMIN}/users", params={"search": "TIM@"}))
    assert [u["email"] for u in found["users"]] == [TARGET]

    await fake.uc.admin_set_user_status(Actor.operator(), TARGET, suspended=True,
                                        reason="testing")
    suspended = ok(await people.analyst.get(f"{ADMIN}/users", params={"status": "suspended"}))
    assert [(u["email"], u["status"]) for u in suspended["users"]] == [(TARGET, "suspended")]
    assert_error(await people.analyst.get(f"{ADMIN}/users", params={"status": "gone"}), 422,
                 "validation_error")


async def test_one_user_and_controls_in_the_answer(people: People) -> None:
    shown = ok(await people.analyst.get(f"{ADMIN}/users/{OWNER}"))
    assert shown["roles"] == ["owner"] and shown["status"] == "active"
    assert shown["monthly_cap"] is None and shown["model_policy"] is None
    assert shown["balances"]["available"] == "100.000000"

    capped = ok(await people.owner.put(f"{U}/cap", json={"credits": "12.5"}))
    assert capped["monthly_cap"] == "12.500000"
    narrowed = ok(await people.owner.put(f"{U}/models", json={"deny": ["premium", "qwen"]}))
    assert narrowed["models"] == narrowed["model_policy"] == ["deepseek", "gpt_oss", "llama"]
    granted = ok(await people.owner.post(f"{U}/grants", json={"credits": "5",
                                                              "reason": "goodwill"}), 201)
    assert (granted["kind"], granted["amount"]) == ("grant", "5.000000")
    assert ok(await people.analyst.get(U))["balances"]["topup"] == "105.000000"
    chosen = ok(await people.owner.put(f"{ADMIN}/manager-model", json={"model_alias": "llama"}))
    assert chosen == {"manager_model": "llama"}
    assert ok(await people.user.get("/api/v1/models"))["manager_model"] == "llama"


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("GET", f"{ADMIN}/users/ghost@example.com", None, 404, "user_not_found"),
    ("PUT", f"{U}/cap", {"credits": "lots"}, 422, "invalid_credits"),
    ("PUT", f"{U}/cap", {"credits": "-1"}, 422, "invalid_credits"),
    ("PUT", f"{U}/cap", {"credits": 500}, 422, "validation_error"),
    ("POST", f"{U}/suspend", {"reason": "x"}, 422, "reason_required"),
    ("POST", f"{U}/suspend", {}, 422, "validation_error"),
    ("POST", f"{ADMIN}/users/{OWNER}/suspend", {"reason": "oops me"}, 409,
     "cannot_suspend_self"),
    ("PUT", f"{U}/models", {"allow": ["qwen"], "clear": True}, 422, "validation_error"),
    ("PUT", f"{U}/models", {"allow": ["gpt-9"]}, 422, "unknown_model_alias"),
    ("PUT", f"{ADMIN}/manager-model", {"model_alias": "gpt-9"}, 422, "unknown_model_alias"),
    ("POST", f"{U}/grants", {"credits": "5", "reason": ""}, 422, "reason_required"),
])
async def test_bad_admin_input_is_a_typed_error(people: People, fake: FakeApp, method: str,
                                                path: str, body: Json | None, status: int,
                                                code: str) -> None:
    before = state(fake)
    assert_error(await people.owner.request(method, path, json=body), status, code)
    assert state(fake) == before


# --- suspension -----------------------------------------------------------------------------


async def test_at_011_suspension_is_immediate_cancels_the_turn_and_reactivation_restores(
        people: People, fake: FakeApp) -> None:
    token = ok(await people.target.post("/api/v1/auth/tokens", json={"name": "ci"}), 201)
    bearer = {"Authorization": f"Bearer {token['secret']}"}
    room = await chat_room(people.target, "Ana")
    fake.chat.queue("worker", Reply(" ".join(["word"] * 50), chunk_delay_s=0.02))
    sent = ok(await people.target.post(f"/api/v1/rooms/{room['id']}/messages",
                                       json={"content": "Think slowly"}), 202)
    turn_id = sent["turn"]["id"]
    assert ok(await people.analyst.get(U))["running_turns"] == 1

    suspended = ok(await people.owner.post(f"{U}/suspend", json={"reason": "abuse report"}))
    assert suspended["status"] == "suspended"
    for request in (people.target.get("/api/v1/rooms"),
                    people.target.get("/api/v1/rooms", headers=bearer),
                    people.target.get(f"/api/v1/turns/{turn_id}", headers=bearer)):
        assert_error(await request, 403, "account_suspended")
    await fake.settle()
    assert fake.store.turns[turn_id].status is TurnStatus.CANCELLED
    [event] = ok(await people.owner.get(f"{ADMIN}/audit",
                                        params={"action": "admin.user.suspend"}))["events"]
    assert event["after"]["cancelled_turns"] == [turn_id] and event["reason"] == "abuse report"

    ok(await people.owner.post(f"{U}/reactivate", json={"reason": "resolved"}))
    rooms = ok(await people.target.get("/api/v1/rooms"))["rooms"]
    assert [r["id"] for r in rooms] == [room["id"]]
    turn = ok(await people.target.get(f"/api/v1/turns/{turn_id}", headers=bearer))
    assert turn["turn"]["status"] == "cancelled"


# --- analytics ------------------------------------------------------------------------------

TODAY = date(2026, 11, 26)  # the fake clock's


def as_sums(report: Json) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(r["user_id"], r["model_alias"]): (
        r["calls"], r["failed_calls"], r["prompt_tokens"], r["cached_tokens"],
        r["completion_tokens"], Decimal(r["credits"]), Decimal(r["provider_cost_usd"]))
        for r in report["rows"]}


def parse_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def some_usage(people: People, fake: FakeApp, rng: random.Random) -> None:
    """Real turns (one call failing) and older rows spread over the last 75 days."""
    room = await chat_room(people.target, "Ana", "Ben")
    fake.chat.queue("worker", Reply("fine"), Reply("oops", error=ProviderError(
        "down", code="provider_unavailable", retryable=False)))
    ok(await people.target.post(f"/api/v1/rooms/{room['id']}/messages",
                                json={"content": "Go"}), 202)
    await fake.settle()
    assert any(c.status is not CallStatus.OK for c in fake.store.calls)
    users = [u.id for u in fake.store.users.values()]
    now = fake.clock.now()
    for _ in range(200):
        at = now - timedelta(seconds=rng.randint(0, 75 * 86_400))
        fake.store.calls.append(usage_row(rng.choice(users), rng.choice(MODELS), at, rng))


async def test_at_011_usage_equals_the_raw_rows_in_json_and_csv(people: People,
                                                                fake: FakeApp) -> None:
    rng = random.Random(42)
    await some_usage(people, fake, rng)
    ranges = [(TODAY, TODAY), (TODAY.replace(day=1), TODAY)]
    for _ in range(8):
        first = TODAY - timedelta(days=rng.randint(0, 80))
        ranges.append((first, min(TODAY, first + timedelta(days=rng.randint(0, 50)))))

    async def check() -> None:
        for first, last in ranges:
            params = {"from": first.isoformat(), "to": last.isoformat(), "by": "user,model"}
            report = ok(await people.analyst.get(f"{ADMIN}/usage", params=params))
            assert (report["from"], report["to"]) == (first.isoformat(), last.isoformat())
            assert as_sums(report) == expected(fake, first, last + timedelta(days=1))
            assert report["totals"]["calls"] == sum(r["calls"] for r in report["rows"])
            rows = parse_csv(await people.analyst.get(f"{ADMIN}/usage",
                                                      params={**params, "format": "csv"}))
            assert rows == [{k: "" if v is None else str(v) for k, v in r.items()
                             if k != "day"} for r in report["rows"]]

    await check()
    ok(await people.owner.post(f"{ADMIN}/rollup"))
    assert fake.store.rollups_daily
    fake.clock.advance(minutes=5)
    fake.store.calls.append(usage_row(fake.store.calls[0].user_id, "qwen", fake.clock.now(),
                                      rng))
    await check()  # today still exact: read raw after the watermark


async def test_usage_defaults_groupings_and_bad_ranges(people: People, fake: FakeApp) -> None:
    await some_usage(people, fake, random.Random(1))
    default = ok(await people.owner.get(f"{ADMIN}/usage"))
    assert (default["from"], default["to"], default["by"]) == ("2026-11-01", "2026-11-26",
                                                               ["user", "model"])
    by_day = ok(await people.owner.get(f"{ADMIN}/usage", params={"by": "day"}))
    spent = [Decimal(r["credits"]) for r in by_day["rows"]]
    assert spent == sorted(spent, reverse=True) and all(r["user_id"] is None and r["day"]
                                                        for r in by_day["rows"])
    assert by_day["totals"] == default["totals"]
    by_month = parse_csv(await people.owner.get(f"{ADMIN}/usage", params={
        "by": "model,month", "from": "2026-09-01"}, headers={"Accept": "text/csv"}))
    assert set(by_month[0]) >= {"model_alias", "day", "credits"}
    assert {r["day"] for r in by_month} <= {"2026-09-01", "2026-10-01", "2026-11-01"}
    assert default["groups"] == len(default["rows"]) and default["offset"] == 0
    page = ok(await people.owner.get(f"{ADMIN}/usage", params={"limit": 2, "offset": 1}))
    assert page["rows"] == default["rows"][1:3] and page["totals"] == default["totals"]
    assert (page["groups"], page["offset"]) == (default["groups"], 1)
    for params, code in [({"by": "week"}, "invalid_grouping"),
                         ({"by": "day,month"}, "invalid_grouping"),
                         ({"limit": 0}, "invalid_limit"), ({"offset": -1}, "invalid_offset"),
                         ({"from": "2026-11-20", "to": "2026-11-19"}, "invalid_range"),
                         ({"from": "yesterday"}, "validation_error")]:
        assert_error(await people.owner.get(f"{ADMIN}/usage", params=params), 422, code)


async def test_at_011_costs_active_and_top(people: People, fake: FakeApp) -> None:
    await some_usage(people, fake, random.Random(9))
    first = TODAY - timedelta(days=29)
    sums = expected(fake, first, TODAY + timedelta(days=1))
    costs = ok(await people.analyst.get(f"{ADMIN}/costs", params={"from": first.isoformat()}))
    assert Decimal(costs["credits"]) == sum((v[5] for v in sums.values()), Decimal(0))
    assert Decimal(costs["provider_cost_usd"]) == sum((v[6] for v in sums.values()),
                                                      Decimal(0))
    assert Decimal(costs["internal_cost_usd"]) == (Decimal(costs["credits"])
                                                   * Decimal(costs["credit_value_usd"]))
    series = parse_csv(await people.analyst.get(f"{ADMIN}/costs", params={
        "from": first.isoformat(), "format": "csv"}))
    assert series == costs["series"]

    def distinct(low: date, high: date) -> int:
        return len({c.user_id for c in fake.store.calls if low <= c.created_at.date() <= high})

    active = ok(await people.analyst.get(f"{ADMIN}/active"))
    assert (active["dau"], active["wau"], active["mau"]) == (
        distinct(TODAY, TODAY), distinct(TODAY - timedelta(days=6), TODAY),
        distinct(TODAY - timedelta(days=29), TODAY))
    active_rows = parse_csv(await people.analyst.get(f"{ADMIN}/active?format=csv"))
    assert [r for r in active_rows if r["bucket"] == "day"] == [
        {"bucket": "day", "start": p["start"], "users": str(p["users"])}
        for p in active["daily"]]

    top = ok(await people.analyst.get(f"{ADMIN}/top", params={
        "of": "users", "by": "cost", "from": first.isoformat(), "limit": 3}))
    per_user: dict[str, Decimal] = {}
    for (user, _), values in sums.items():
        per_user[user] = per_user.get(user, Decimal(0)) + values[5]
    ranking = sorted(per_user.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(r["rank"], r["user_id"], Decimal(r["credits"])) for r in top["rows"]] == [
        (i, user, amount) for i, (user, amount) in enumerate(ranking, start=1)]
    models = ok(await people.analyst.get(f"{ADMIN}/top", params={"of": "models",
                                                                 "by": "tokens"}))
    tokens = [r["tokens"] for r in models["rows"]]
    assert tokens == sorted(tokens, reverse=True) and all(r["model_alias"] for r in
                                                          models["rows"])
    top_csv = parse_csv(await people.analyst.get(f"{ADMIN}/top", params={
        "of": "models", "by": "tokens", "format": "csv"}))
    assert [(r["rank"], r["model_alias"], r["tokens"]) for r in top_csv] == [
        (str(r["rank"]), r["model_alias"], str(r["tokens"])) for r in models["rows"]]


async def test_job_runs_are_listed(people: People, fake: FakeApp) -> None:
    assert ok(await people.analyst.get(f"{ADMIN}/jobs")) == []
    assert_error(await people.analyst.get(f"{ADMIN}/jobs", params={"name": "nope"}), 422,
                 "unknown_job")


# --- the audit log: filters and paging ------------------------------------------------------


async def test_at_011_audit_filters_and_cursor_paging(people: People, fake: FakeApp) -> None:
    emails = [f"p{i}@example.com" for i in range(5)]
    for i, email in enumerate(emails):
        await fake.uc.act_as(Actor.operator(), email)
        fake.clock.advance(minutes=1)
        ok(await people.owner.put(f"{ADMIN}/users/{email}/cap", json={"credits": str(i + 1)}))
        if i % 2 == 0:  # some events share a timestamp: the cursor must not skip them
            ok(await people.owner.delete(f"{ADMIN}/users/{email}/cap"))
    assert_error(await people.analyst.put(f"{ADMIN}/users/{emails[0]}/cap",
                                          json={"credits": "9"}), 403, "owner_required")
    everything = ok(await people.analyst.get(f"{ADMIN}/audit"))["events"]
    # nine cap changes and refusals, after the fixture's two role grants (the log also has
    # the fixture's sign-ins: auth.sign_in)
    assert len([e for e in everything if e["action"].startswith("admin.cap")]) == 9
    admin_writes = [e for e in everything if e["action"].startswith("admin.")]
    assert [e["action"] for e in admin_writes[-2:]] == ["admin.role.grant"] * 2
    keys = [(e["created_at"], e["id"]) for e in everything]
    assert keys == sorted(keys, reverse=True)

    paged: list[Json] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = ok(await people.analyst.get(f"{ADMIN}/audit", params=params))
        paged += page["events"]
        if page["next"] is None:
            break
        params = {"limit": 2, **page["next"]}
    assert [e["id"] for e in paged] == [e["id"] for e in everything]

    async def ids(**filters: str) -> list[str]:
        events = ok(await people.analyst.get(f"{ADMIN}/audit", params=filters))["events"]
        return [e["id"] for e in events]

    def where(test: Callable[[Json], bool]) -> list[str]:
        return [e["id"] for e in everything if test(e)]

    assert await ids(action="admin.cap.clear") == where(lambda e: e["action"] ==
                                                        "admin.cap.clear")
    assert await ids(action="admin.") == where(lambda e: e["action"].startswith("admin."))
    assert await ids(target=emails[2].upper()) == where(lambda e: e["target"] == emails[2])
    assert await ids(actor=ANALYST, action="admin.") == await ids(outcome="refused") == where(
        lambda e: e["outcome"] == "refused")
    assert await ids(actor=OWNER, outcome="ok") == where(
        lambda e: e["outcome"] == "ok" and e["actor"] == OWNER)
    middle = everything[4]["created_at"]
    assert await ids(since=middle) == where(lambda e: e["created_at"] >= middle)
    assert await ids(until=middle) == where(lambda e: e["created_at"] < middle)
    assert await ids(since="2026-11-26", until="2026-11-27") == where(lambda e: True)

    assert_error(await people.analyst.get(f"{ADMIN}/audit", params={"before_id": "x"}), 422,
                 "invalid_cursor")
    assert_error(await people.analyst.get(f"{ADMIN}/audit", params={"outcome": "maybe"}), 422,
                 "validation_error")
    assert_error(await people.analyst.get(f"{ADMIN}/audit", params={"limit": 0}), 422,
                 "validation_error")
