"""Days and instants at the edges of the calendar are typed 422s, never 500s.

Found by the resilience suite's Schemathesis run (``tests/resilience/test_schemathesis.py``):
``to=9999-12-31`` made the admin reports add a day past ``date.max``, ``day=0001-01-01``
made the active-users series start before ``date.min``, and an instant such as
``9999-12-31T23:59:59-05:00`` overflowed when turned into UTC (audit, ledger, timeline and
direct history cursors). Report days now lie in ``1970-01-01``..``9999-01-01``
(``invalid_date``); an instant whose UTC time leaves the calendar is a ``validation_error``.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import httpx
import pytest

from pantheon_core.actor import Actor
from pantheon_core.errors import InvalidInput
from tests.e2e.conftest import ClientFactory, assert_error, sign_in
from tests.fakes import FakeApp

OWNER = "boss@example.com"
LATE, EARLY = quote("9999-12-31T23:59:59-05:00"), quote("0001-01-01T00:00:00+05:00")


@pytest.fixture
async def owner(clients: ClientFactory, fake: FakeApp) -> httpx.AsyncClient:
    await fake.uc.set_role(Actor.operator(), OWNER, "owner", granted=True)
    client = await clients()
    await sign_in(client, fake, OWNER)
    return client


@pytest.mark.parametrize("query", [
    "usage?to=9999-12-31", "usage?from=0001-01-01", "costs?to=9999-12-31",
    "top?to=9999-12-31", "active?day=9999-12-31", "active?day=0001-01-01",
    "active?from=0001-01-01",
])
async def test_report_days_outside_the_calendar_are_invalid_dates(
        owner: httpx.AsyncClient, query: str) -> None:
    error = assert_error(await owner.get(f"/api/v1/admin/{query}"), 422, "invalid_date")
    assert error["details"]["first"] == "1970-01-01"


@pytest.mark.parametrize("body", [{"to": "9999-12-31"},
                                  {"from": "9999-12-30", "to": "9999-12-31"},
                                  {"from": "0001-01-01", "to": "0001-01-01"}])
async def test_a_rollup_of_days_outside_the_calendar_is_refused(
        owner: httpx.AsyncClient, body: dict[str, str]) -> None:
    assert_error(await owner.post("/api/v1/admin/rollup", json=body), 422, "invalid_date")


@pytest.mark.parametrize("instant", [LATE, EARLY], ids=["late", "early"])
@pytest.mark.parametrize("path", [
    "/api/v1/admin/audit?since={}", "/api/v1/admin/audit?until={}",
    "/api/v1/admin/audit?before_at={}&before_id=x",
    "/api/v1/billing/ledger?before_at={}&before_id=x",
    "/api/v1/rooms/{room}/timeline?before={}", "/api/v1/direct-sessions/{direct}/history?before={}",
], ids=["audit-since", "audit-until", "audit-cursor", "ledger-cursor", "timeline", "history"])
async def test_instants_that_leave_the_calendar_in_utc_are_validation_errors(
        owner: httpx.AsyncClient, path: str, instant: str) -> None:
    room = (await owner.post("/api/v1/rooms", json={"name": "Edge"})).json()
    direct = await owner.post("/api/v1/direct-sessions",
                              json={"agent": {"name": "Solo", "model_alias": "qwen"}})
    assert direct.status_code == 201, direct.text
    url = path.replace("{room}", room["id"]).replace("{direct}", direct.json()["id"])
    assert_error(await owner.get(url.format(instant)), 422, "validation_error")


async def test_the_use_cases_check_report_days_too(fake: FakeApp) -> None:
    """The CLI reaches the same use cases without the HTTP layer's checks."""
    operator = Actor.operator()
    for call in (fake.uc.admin_active_users(operator, day=date.max),
                 fake.uc.admin_active_users(operator, day=date.min),
                 fake.uc.admin_costs(operator, start=date(2026, 1, 1), end=date.max),
                 fake.uc.rollup_usage(operator, start=date.min, end=date(2026, 1, 1))):
        with pytest.raises(InvalidInput) as raised:
            await call
        assert raised.value.code == "invalid_date"
