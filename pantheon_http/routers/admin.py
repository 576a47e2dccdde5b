"""Admin (FR-ADMIN-*): users and their controls (credit caps, suspension, model policies,
top-up grants), the orchestrator's manager model, analytics from the rollups, the audit log,
the rollup job and job runs.

Core decides who may: owners write, analysts read, anyone else gets 403 (``owner_required``
/ ``admin_required``); every write and every refused write is audited with the request id
and the client address. Days are UTC dates; a range's ``to`` is included and defaults to
today, its ``from`` to the first of ``to``'s month. Each analytics table is also CSV, with
``?format=csv`` or ``Accept: text/csv``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import AfterValidator

from pantheon_core.errors import InvalidInput
from pantheon_core.ports.clock import Clock
from pantheon_core.usecases.admin import MAX_LIST
from pantheon_core.usecases.analytics import TOP_LIMIT, check_report_days
from pantheon_core.usecases.jobs import MAX_LIST_LIMIT
from pantheon_http.auth import CurrentActor
from pantheon_http.deps import ContainerDep, UseCasesDep
from pantheon_http.params import as_utc
from pantheon_http.schemas.admin import (
    ActiveOut,
    AdminUsageOut,
    AuditPageOut,
    CapIn,
    CostsOut,
    CsvTable,
    GrantIn,
    JobRunOut,
    ManagerModelIn,
    ManagerModelOut,
    ModelPolicyIn,
    ReasonIn,
    RollupIn,
    RollupOut,
    TopOut,
    UserAdminOut,
    UsersPageOut,
)
from pantheon_http.schemas.base import error_responses
from pantheon_http.schemas.billing import LedgerEntryOut

router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(401, 403))

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}},
              "description": "JSON, or CSV with `?format=csv` or `Accept: text/csv`."}}


EmailPath = Annotated[str, Path(description="The user's e-mail address.", max_length=254,
                                pattern=_PRINTABLE)]
Text = Annotated[str | None, Query(max_length=254, pattern=_PRINTABLE)]
Instant = Annotated[datetime | None, AfterValidator(as_utc)]
FromQuery = Annotated[date | None, Query(alias="from", description="The first UTC day "
                                                                   "(YYYY-MM-DD).")]
ToQuery = Annotated[date | None, Query(alias="to", description="The last UTC day, included; "
                                                               "default today.")]


async def wants_csv(
    output: Annotated[Literal["json", "csv"] | None, Query(
        alias="format", description="`csv` for a header row and one row per line.")] = None,
    accept: Annotated[str | None, Header(description="`text/csv` also asks for CSV.")] = None,
) -> bool:
    """``?format=`` decides; without it, an ``Accept`` naming ``text/csv``."""
    if output is not None:
        return output == "csv"
    return accept is not None and "text/csv" in accept


CsvWanted = Annotated[bool, Depends(wants_csv)]


class _Table(Protocol):
    def csv(self) -> CsvTable: ...


T = TypeVar("T", bound=_Table)


def _negotiated(report: T, as_csv: bool, name: str) -> T | Response:
    if not as_csv:
        return report
    columns, rows = report.csv()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _days(clock: Clock, start: date | None, end: date | None) -> tuple[date, date]:
    """``[start, end)`` from an inclusive ``to`` (default today, UTC) and a ``from``
    (default the first of that month)."""
    check_report_days(start, end)
    last = end or clock.now().astimezone(UTC).date()
    return start or last.replace(day=1), last + timedelta(days=1)


# --- users and their controls ---------------------------------------------------------------


@router.get("/users", summary="Users, with their wallets and controls",
            responses=error_responses(422))
async def admin_list_users(
    actor: CurrentActor, use_cases: UseCasesDep,
    search: Annotated[Text, Query(description="Part of an e-mail or display name.")] = None,
    status: Literal["active", "suspended"] | None = None,
    after: Annotated[Text, Query(description="A page's `next_after`.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
) -> UsersPageOut:
    """By e-mail; owners and analysts."""
    found = await use_cases.admin_list_users(actor, search=search, status=status, after=after,
                                             limit=limit)
    return UsersPageOut.of(found, limit=limit)


@router.get("/users/{email}", summary="One user, with wallet, controls and running turns",
            responses=error_responses(404))
async def admin_get_user(email: EmailPath, actor: CurrentActor,
                         use_cases: UseCasesDep) -> UserAdminOut:
    return UserAdminOut.of(await use_cases.admin_get_user(actor, email))


@router.put("/users/{email}/cap", summary="Set a user's monthly credit cap",
            responses=error_responses(404, 422))
async def admin_set_cap(email: EmailPath, body: CapIn, actor: CurrentActor,
                        use_cases: UseCasesDep) -> UserAdminOut:
    """Sends that would burn past it answer 402 `credit_cap_reached`. Audited."""
    return UserAdminOut.of(await use_cases.admin_set_cap(actor, email, body.credits))


@router.delete("/users/{email}/cap", summary="Clear a user's monthly credit cap",
               responses=error_responses(404))
async def admin_clear_cap(email: EmailPath, actor: CurrentActor,
                          use_cases: UseCasesDep) -> UserAdminOut:
    return UserAdminOut.of(await use_cases.admin_set_cap(actor, email, None))


@router.post("/users/{email}/suspend", summary="Suspend a user",
             responses=error_responses(404, 409, 422))
async def admin_suspend_user(email: EmailPath, body: ReasonIn, actor: CurrentActor,
                             use_cases: UseCasesDep) -> UserAdminOut:
    """Their running turns are cancelled and their next call answers 403
    `account_suspended`; their data is kept. Audited with the reason."""
    return UserAdminOut.of(await use_cases.admin_set_user_status(
        actor, email, suspended=True, reason=body.reason))


@router.post("/users/{email}/reactivate", summary="Reactivate a suspended user",
             responses=error_responses(404, 422))
async def admin_reactivate_user(email: EmailPath, body: ReasonIn, actor: CurrentActor,
                                use_cases: UseCasesDep) -> UserAdminOut:
    return UserAdminOut.of(await use_cases.admin_set_user_status(
        actor, email, suspended=False, reason=body.reason))


@router.put("/users/{email}/models", summary="Set a user's model access policy",
            responses=error_responses(404, 422))
async def admin_set_model_policy(email: EmailPath, body: ModelPolicyIn, actor: CurrentActor,
                                 use_cases: UseCasesDep) -> UserAdminOut:
    """`allow` exactly these aliases, `deny` some of the plan's, or `clear` the policy."""
    return UserAdminOut.of(await use_cases.admin_set_model_policy(
        actor, email, allow=body.allow or (), deny=body.deny or (), clear=body.clear))


@router.post("/users/{email}/grants", summary="Grant top-up credits to a user",
             status_code=201, responses=error_responses(404, 422))
async def admin_grant_credits(email: EmailPath, body: GrantIn, actor: CurrentActor,
                              use_cases: UseCasesDep) -> LedgerEntryOut:
    """The ledger entry of the grant. Audited with the reason."""
    return LedgerEntryOut.of(await use_cases.grant_credits(actor, email, body.credits,
                                                           reason=body.reason))


@router.put("/manager-model", summary="Choose the orchestrator's manager model",
            responses=error_responses(422))
async def set_manager_model(body: ManagerModelIn, actor: CurrentActor,
                            use_cases: UseCasesDep) -> ManagerModelOut:
    """For every room's next orchestrator turn; running turns keep theirs. Audited."""
    chosen = await use_cases.set_manager_model(actor, body.model_alias)
    return ManagerModelOut(manager_model=chosen.value)


# --- analytics ------------------------------------------------------------------------------


@router.get("/usage", summary="Tokens, credits and provider cost, grouped",
            response_model=AdminUsageOut, responses={**_CSV, **error_responses(422)})
async def admin_usage(
    actor: CurrentActor, use_cases: UseCasesDep, container: ContainerDep, as_csv: CsvWanted,
    start: FromQuery = None, end: ToQuery = None,
    by: Annotated[str, Query(max_length=40, description="Any of user, model, day, month, "
                                                        "comma-separated.")] = "user,model",
    limit: Annotated[int | None, Query(description="At most this many rows (a page; "
                                       "default: all). The totals cover every row.")] = None,
    offset: Annotated[int, Query(description="Skip this many rows first.")] = 0,
) -> AdminUsageOut | Response:
    """Per user and model by default (FR-ADMIN-002); exact for any range, today included.
    Rows are ordered by credits, most first; ``groups`` says how many there are in all."""
    first, stop = _days(container.clock, start, end)
    usage = await use_cases.admin_usage(actor, start=first, end=stop,
                                        by=[d.strip() for d in by.split(",") if d.strip()],
                                        limit=limit, offset=offset)
    return _negotiated(AdminUsageOut.of(usage), as_csv, "usage")


@router.get("/costs", summary="Provider cost vs internal cost, and the margin",
            response_model=CostsOut, responses={**_CSV, **error_responses(422)})
async def admin_costs(actor: CurrentActor, use_cases: UseCasesDep, container: ContainerDep,
                      as_csv: CsvWanted, start: FromQuery = None,
                      end: ToQuery = None) -> CostsOut | Response:
    """Internal cost is credits × the configured value of a credit; the CSV is the daily
    series."""
    first, stop = _days(container.clock, start, end)
    summary = await use_cases.admin_costs(actor, start=first, end=stop)
    return _negotiated(CostsOut.of(summary), as_csv, "costs")


@router.get("/active", summary="Daily, weekly and monthly active users",
            response_model=ActiveOut, responses={**_CSV, **error_responses(422)})
async def admin_active_users(
    actor: CurrentActor, use_cases: UseCasesDep, as_csv: CsvWanted,
    day: Annotated[date | None, Query(description="The last day counted; default "
                                                  "today.")] = None,
    start: Annotated[date | None, Query(alias="from", description="Where the series start; "
                                                                  "default 29 days "
                                                                  "before.")] = None,
) -> ActiveOut | Response:
    """DAU, WAU (7 days) and MAU (30 days) ending on `day`, and their series; the CSV is the
    series (`bucket`, `start`, `users`)."""
    active = await use_cases.admin_active_users(actor, day=day, start=start)
    return _negotiated(ActiveOut.of(active), as_csv, "active-users")


@router.get("/top", summary="The top users or models by cost or tokens",
            response_model=TopOut, responses={**_CSV, **error_responses(422)})
async def admin_top(
    actor: CurrentActor, use_cases: UseCasesDep, container: ContainerDep, as_csv: CsvWanted,
    of: Literal["users", "models"] = "users", by: Literal["cost", "tokens"] = "cost",
    start: FromQuery = None, end: ToQuery = None,
    limit: Annotated[int, Query(ge=1, le=TOP_LIMIT)] = 10,
) -> TopOut | Response:
    first, stop = _days(container.clock, start, end)
    rows = await use_cases.admin_top(actor, of=of, by=by, start=first, end=stop, limit=limit)
    return _negotiated(TopOut.of_rows(rows, of=of, by=by, start=first, end=stop), as_csv,
                       f"top-{of}")


@router.post("/rollup", summary="Run the usage rollup job now",
             responses=error_responses(422))
async def rollup_usage(actor: CurrentActor, use_cases: UseCasesDep,
                       body: RollupIn | None = None) -> RollupOut:
    """Rebuilds the daily and monthly rollups of the range (default: since the last run)
    from the raw events; safe to repeat. Owners only."""
    body = body or RollupIn()
    check_report_days(body.start, body.end)
    end = None if body.end is None else body.end + timedelta(days=1)
    return RollupOut.of(await use_cases.rollup_usage(actor, start=body.start, end=end))


# --- the audit log and job runs -------------------------------------------------------------


@router.get("/audit", summary="The audit log of admin actions, newest first",
            responses=error_responses(422))
async def admin_list_audit(
    actor: CurrentActor, use_cases: UseCasesDep,
    actor_ref: Annotated[Text, Query(alias="actor", description="An actor's e-mail or "
                                                                "id.")] = None,
    action: Annotated[Text, Query(description="An action, or its prefix "
                                              "(`admin.`).")] = None,
    target: Annotated[Text, Query(description="E.g. the user's e-mail.")] = None,
    outcome: Literal["ok", "refused"] | None = None,
    since: Annotated[Instant, Query(description="Inclusive.")] = None,
    until: Annotated[Instant, Query(description="Exclusive.")] = None,
    before_at: Annotated[Instant, Query(description="The `next.before_at` of a page.")] = None,
    before_id: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE,
                                           description="The `next.before_id` of a page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
) -> AuditPageOut:
    """Page back with both halves of `next`; one without the other is 422 `invalid_cursor`."""
    if (before_at is None) != (before_id is None):
        raise InvalidInput("Pass both before_at and before_id (a page's `next`), or neither.",
                           code="invalid_cursor")
    before = None if before_at is None or before_id is None else (before_at, before_id)
    events = await use_cases.admin_list_audit(
        actor, actor_ref=actor_ref, action=action, target=target, outcome=outcome,
        since=since, until=until, before=before, limit=limit)
    return AuditPageOut.of(events, limit=limit)


@router.get("/jobs", summary="Recent background job runs, newest first",
            responses=error_responses(422))
async def list_job_runs(
    actor: CurrentActor, use_cases: UseCasesDep,
    name: Annotated[Text, Query(description="A job, e.g. `rollup_usage`.")] = None,
    status: Annotated[Text, Query(description="running, succeeded, retrying, failed or "
                                              "abandoned.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 50,
) -> list[JobRunOut]:
    runs = await use_cases.list_job_runs(actor, name=name, status=status, limit=limit)
    return [JobRunOut.of(run) for run in runs]
